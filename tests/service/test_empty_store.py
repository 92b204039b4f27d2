"""A server on a store with no titles yet: clients are told why there is nothing to serve."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_runner import empty_store_with_keys


def test_an_empty_store_says_it_has_no_titles_not_that_a_model_failed(tmp_path: Path) -> None:
    """It answered "could not load its model", and an admin saw "could not load model version None"."""
    from fastapi.testclient import TestClient

    from limelight.service import create_app

    path = tmp_path / "empty.duckdb"
    keys = empty_store_with_keys(path, "service", "admin")
    service, admin = keys["service"], keys["admin"]
    with TestClient(create_app(path, watch_registry_s=0)) as client:
        r = client.get("/v1/titles/x/similar", headers={"Authorization": f"Bearer {service}"})
        assert r.status_code == 503, r.text
        assert "the store has no titles yet" in r.json()["error"]["message"]
        models = client.get("/v1/models", headers={"Authorization": f"Bearer {admin}"}).json()
        assert "version None" not in str(models), models
        assert "the default model (none published)" in str(models), models


def test_a_refused_member_write_does_not_show_the_servers_file_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events said "the store cannot be written"; members named the server's file."""
    from fastapi.testclient import TestClient

    from limelight.errors import StorageError
    from limelight.service import create_app
    from limelight.spine.store import Store

    path = tmp_path / "secret-place.duckdb"
    keys = empty_store_with_keys(path, "ingest")

    def full_disk(self: Store, rows: object, **kwargs: object) -> None:
        raise StorageError(f"the store {self.path} cannot be written (File too large); nothing was changed")

    monkeypatch.setattr(Store, "ingest", full_disk)
    with TestClient(create_app(path, load_engine=False)) as client:
        r = client.post("/v1/members", json={"member_id": "new-1", "country": "us"},
                        headers={"Authorization": f"Bearer {keys['ingest']}"})
    assert r.status_code == 503 and "File too large" in r.json()["error"]["message"]
    assert "secret-place" not in r.text
