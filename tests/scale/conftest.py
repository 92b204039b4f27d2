"""Fixtures for scale-out tests: one Spark local session for the whole test run (shared with tests/spine)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One Spark local-mode session (local[2], no UI); reused when tests/spine already started it."""
    import shutil

    if shutil.which("java") is None:
        pytest.skip("Spark tests need Java (openjdk-17-jre-headless); run 'make system-deps'")
    pytest.importorskip("pyspark")
    from limelight.spine.engines import spark_session

    session = spark_session("limelight-tests")
    yield session
    session.stop()
