"""Fixtures for the verifier tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.verifier.helpers import VECTORS_DIR


@pytest.fixture
def shared_vectors() -> Path:
    """The public conformance vectors folder; skips the test when it is absent."""
    if not VECTORS_DIR.is_dir():
        pytest.skip(f"shared conformance vectors not found at {VECTORS_DIR}")
    return VECTORS_DIR
