"""Valuation fixtures: one generated history per session, and each real report parsed at most once."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from limelight.valuation.model import GradientBoostedForecaster, ValuationModel
from world import generate_reports


def small_model() -> ValuationModel:
    """A quick forecaster for tests (few trees, one seed)."""
    return ValuationModel(GradientBoostedForecaster(n_estimators=60, n_seeds=1))


@pytest.fixture(scope="session")
def world_reports() -> pd.DataFrame:
    return generate_reports()


@pytest.fixture(scope="session")
def report_paths(shared_data: Path) -> list[Path]:
    paths = sorted((shared_data / "netflix" / "engagement").glob("*.xlsx"))
    if len(paths) < 4:
        pytest.skip("the four Netflix engagement reports are not in the shared data")
    return paths


@pytest.fixture(scope="session")
def report_cache(report_paths: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Parse each real report once; later readers (library and CLI) hit this Parquet cache."""
    from limelight.valuation.data import load_reports

    folder = tmp_path_factory.mktemp("cache") / "valuation"
    load_reports(report_paths, cache_dir=folder)
    return folder


@pytest.fixture(scope="session")
def real_reports(report_paths: list[Path], report_cache: Path) -> pd.DataFrame:
    from limelight.valuation.data import load_reports

    return load_reports(report_paths, cache_dir=report_cache)


@pytest.fixture()
def cache_env(report_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point `LIMELIGHT_CACHE_DIR` at the session's report cache (for CLI tests)."""
    from limelight.settings import get_settings

    monkeypatch.setenv("LIMELIGHT_CACHE_DIR", str(report_cache.parent))
    get_settings.cache_clear()
    yield report_cache
    get_settings.cache_clear()
