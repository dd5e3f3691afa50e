"""Shared fixtures: a clean environment for every test.

Fixture sections are owned by area; add yours in your own test module unless it is
shared across areas.
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No TCBOT_* or X_* variable from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("TCBOT_", "X_")) and name != "TCBOT_TEST_POSTGRES_URL":
            monkeypatch.delenv(name, raising=False)
