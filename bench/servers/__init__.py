"""The baselines the product is measured against, served the same way."""
