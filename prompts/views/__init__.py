"""Thin views: parse the request, call a service, pick a template."""
