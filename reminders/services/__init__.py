"""Reminders and follow-ups: the sweep records, `deliver.send` sends."""
