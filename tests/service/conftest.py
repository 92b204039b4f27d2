"""One generated world and one app per session: the service tests share them (test budget)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from service_world import build_world


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("filterwarnings", "ignore:Using `httpx` with `starlette.testclient`")


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("service") / "spine.duckdb"
    return path, build_world(path)


@pytest.fixture(scope="session")
def keys(world: tuple[Path, dict[str, str]]) -> dict[str, str]:
    return world[1]


@pytest.fixture(scope="session")
def client(world: tuple[Path, dict[str, str]]) -> Iterator[object]:
    from fastapi.testclient import TestClient

    from limelight.service import create_app

    app = create_app(world[0], watch_registry_s=0.1, max_events_per_batch=50)
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def auth(keys: dict[str, str]) -> Callable[[str], dict[str, str]]:
    def _headers(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {keys[role]}"}

    return _headers
