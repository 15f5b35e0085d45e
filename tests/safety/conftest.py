from __future__ import annotations

from typing import Any

import pytest

from safety import filters


@pytest.fixture(autouse=True)
def _fresh_word_rules() -> Any:
    """Compiled word rules never leak between tests."""
    filters.invalidate()
    yield
    filters.invalidate()


@pytest.fixture
def resources(db: None) -> int:
    from safety.seed import load_care_resources

    return load_care_resources()
