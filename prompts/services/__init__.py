"""Decisions about prompts and plans live here; views and commands call them.

- `workflow`: drafting, submitting, reviewing, publishing and retiring
- `library`: filtering the published library and its per-page figures
- `plans`: building, ordering, copying and attaching session plans
- `transfer`: import and export as JSON or CSV
"""
