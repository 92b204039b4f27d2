"""A server on a store with no titles yet: clients are told why there is nothing to serve."""

from __future__ import annotations

from pathlib import Path

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
