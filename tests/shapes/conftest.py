"""The shapes page's AppTests read every tab in one run."""

import pytest


@pytest.fixture(autouse=True)
def _every_tab(every_tab):
    """See `tests.conftest.every_tab`."""
