"""Shared fixtures: where the real public data lives, and a fresh store per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One Spark local-mode session (local[2], no UI) for every Spark test in the run; skipped without Java."""
    import shutil

    if shutil.which("java") is None:
        pytest.skip("Spark tests need Java (openjdk-17-jre-headless); run 'make system-deps'")
    pytest.importorskip("pyspark")
    from limelight.spine.engines import spark_session

    session = spark_session("limelight-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def tiny_store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding members 1 and 2 and titles 10 and 20, ingested once through the CLI."""
    from cli_runner import tiny_movielens_store

    return tiny_movielens_store(tmp_path_factory.mktemp("tiny-ml"))


@pytest.fixture()
def tiny_store(tiny_store_template: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny store for one test (tests check it is left unchanged byte for byte)."""
    import shutil

    db = tmp_path / "spine.duckdb"
    shutil.copyfile(tiny_store_template, db)
    return db

