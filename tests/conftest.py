"""Shared fixtures: where the real public data lives, and a fresh store per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from limelight.settings import shared_data_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data` (or `LIMELIGHT_SHARED_DATA`); tests that need it skip loudly when it is absent."""
    path = shared_data_dir()
    if not path.exists():
        pytest.skip(f"shared data not found at {path}; set LIMELIGHT_SHARED_DATA")
    return path


@pytest.fixture()
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "spine.duckdb"
