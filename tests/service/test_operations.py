"""Operating the model registry and keys on a world of its own: damaged versions, publishing without
serving, a registry from another store, the last admin key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from service_world import build_world

from limelight.registry import ModelRegistry
from limelight.service.training import train_and_publish
from limelight.spine.store import Store


@contextmanager
def serving(path: Path, models: Path) -> Iterator[object]:
    from fastapi.testclient import TestClient

    from limelight.service.app import create_app

    with TestClient(create_app(path, models_dir=models)) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def publish(path: Path, registry: ModelRegistry, model: str, **kwargs: object) -> int:
    with Store(path, read_only=True) as store:
        return train_and_publish(store, registry, model, evaluate=False, **kwargs).version  # type: ignore[arg-type]


def test_a_server_whose_current_model_is_damaged_serves_the_last_whole_one_and_says_so(tmp_path: Path) -> None:
    """A damaged current version used to start an untracked default model (or none) while /health said ok."""
    path = tmp_path / "spine.duckdb"
    keys = build_world(path)
    registry = ModelRegistry(tmp_path / "models")
    whole = publish(path, registry, "ease")
    damaged = registry.get(publish(path, registry, "itemknn"))
    model_file = next(p for p in damaged.model_path.rglob("*") if p.is_file())
    model_file.write_bytes(model_file.read_bytes()[:1000])  # half-copied
    with serving(path, tmp_path / "models") as client:
        health = client.get("/health").json()
        assert health["model_version"] == whole and health["status"] == "degraded"
        assert "reports 1 problem(s)" in health["problems"][0] and str(tmp_path) not in str(health)
        models = client.get("/v1/models", headers=bearer(keys["admin"])).json()
        assert models["serving"] == whole and "has changed since it was published" in models["registry_problems"][0]
        assert client.get("/v1/members/m007/recommendations", headers=bearer(keys["service"])).status_code == 200


def test_a_version_published_without_activation_is_served_only_when_an_admin_activates_it(tmp_path: Path) -> None:
    path = tmp_path / "spine.duckdb"
    keys = build_world(path)
    registry = ModelRegistry(tmp_path / "models")
    served = publish(path, registry, "ease")
    candidate = publish(path, registry, "itemknn", activate=False)
    assert registry.current().version == served and candidate == served + 1
    admin = bearer(keys["admin"])
    with serving(path, tmp_path / "models") as client:
        assert client.get("/health").json()["model_version"] == served
        page = client.post("/v1/models/activate", json={"version": candidate}, headers=admin).json()
        assert page["current"] == candidate and page["serving"] == candidate
        analyst = bearer(keys["analyst"])
        assert client.post("/v1/models/activate", json={"version": served}, headers=analyst).status_code == 403
        assert client.post("/v1/models/activate", json={"version": 99}, headers=admin).status_code == 404


def test_a_model_trained_on_another_store_is_flagged_but_a_copy_of_the_store_is_not(tmp_path: Path) -> None:
    """A registry pointed at another store's folder: its titles are another service's. Judged by the titles
    themselves, so a copy of the served store (a second server behind a balancer) is fine."""
    import shutil

    from cli_runner import tiny_movielens_store

    other = tiny_movielens_store(tmp_path / "movielens")
    served = tmp_path / "spine.duckdb"
    keys = build_world(served)
    version = publish(other, ModelRegistry(tmp_path / "models"), "popularity")
    with serving(served, tmp_path / "models") as client:
        assert client.get("/health").json()["status"] == "degraded"
        problems = client.get("/v1/models", headers=bearer(keys["admin"])).json()["registry_problems"]
        assert f"model version {version} knows 2 titles and only 0% of them are in this store" in problems[0]
    publish(served, ModelRegistry(tmp_path / "own"), "ease")
    copy = tmp_path / "copy.duckdb"
    shutil.copy(served, copy)
    with serving(copy, tmp_path / "own") as client:
        assert client.get("/health").json()["status"] == "ok"


def test_the_last_live_admin_key_cannot_revoke_itself_through_the_api(tmp_path: Path) -> None:
    path = tmp_path / "spine.duckdb"
    admin = bearer(build_world(path)["admin"])
    with serving(path, tmp_path / "models") as client:
        # an admin key that has expired is no way back in: it does not count as a live one
        client.post("/v1/keys", json={"role": "admin", "expires_in_days": 1e-9}, headers=admin)
        me = client.get("/v1/me", headers=admin).json()["key_id"]
        refused = client.delete(f"/v1/keys/{me}", headers=admin)
        assert refused.status_code == 409 and "last live admin key" in refused.json()["error"]["message"]
        second = client.post("/v1/keys", json={"role": "admin", "label": "second"}, headers=admin).json()
        assert client.delete(f"/v1/keys/{me}", headers=admin).status_code == 200
        assert client.get("/v1/me", headers=bearer(second["key"])).status_code == 200


def test_a_version_worse_than_the_serving_one_is_published_but_not_served_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "spine.duckdb"
    build_world(path)
    registry = ModelRegistry(tmp_path / "models")
    with Store(path, read_only=True) as store:
        first = train_and_publish(store, registry, "ease")
        worse = train_and_publish(store, registry, "popularity", only_if_not_worse=True)
        assert worse.metrics["leave-last-out"]["ndcg@10"] < first.metrics["leave-last-out"]["ndcg@10_low"]
        assert registry.current().version == first.version and "not activated, worse: nDCG@10" in worse.notes
        again = train_and_publish(store, registry, "ease", only_if_not_worse=True)  # the same model: not worse
        assert registry.current().version == again.version and "activated, not worse: nDCG@10" in again.notes


def test_a_key_made_to_expire_is_refused_from_then_on_cached_or_not(tmp_path: Path) -> None:
    import time

    path = tmp_path / "spine.duckdb"
    admin = bearer(build_world(path)["admin"])
    with serving(path, tmp_path / "models") as client:
        made = client.post("/v1/keys", json={"role": "analyst", "expires_in_days": 1.5 / 86400}, headers=admin).json()
        assert made["expires_at"] is not None
        key = bearer(made["key"])
        assert client.get("/v1/me", headers=key).status_code == 200  # verified once: now in the cache
        time.sleep(1.6)
        refused = client.get("/v1/me", headers=key)
        assert refused.status_code == 401 and "expired at" in refused.json()["error"]["message"]
        listed = {k["key_id"]: k for k in client.get("/v1/keys", headers=admin).json()}
        assert listed[made["key_id"]]["expires_at"] == made["expires_at"]
        too_long = client.post("/v1/keys", json={"role": "analyst", "expires_in_days": 4000}, headers=admin)
        assert too_long.status_code == 422


def test_metrics_can_be_kept_for_keys_of_roles_that_read_them(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from limelight.service.app import create_app

    path = tmp_path / "spine.duckdb"
    keys = build_world(path)
    with TestClient(create_app(path, models_dir=tmp_path / "models", metrics_need_key=True)) as client:
        assert client.get("/metrics").status_code == 401
        refused = client.get("/metrics", headers=bearer(keys["ingest"]))
        assert refused.status_code == 403 and "may not use metrics read" in refused.json()["error"]["message"]
        assert "limelight_model_version" in client.get("/metrics", headers=bearer(keys["service"])).text
    with serving(path, tmp_path / "models") as client:  # the default: a scraper on a private network
        assert client.get("/metrics").status_code == 200


def test_a_keys_last_use_is_kept_without_a_write_per_request_and_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "spine.duckdb"
    keys = build_world(path)
    with serving(path, tmp_path / "models") as client:
        for _ in range(3):
            assert client.get("/v1/me", headers=bearer(keys["analyst"])).status_code == 200
        listed = {k["role"]: k for k in client.get("/v1/keys", headers=bearer(keys["admin"])).json()}
        assert listed["analyst"]["last_used_at"] is not None and listed["ingest"]["last_used_at"] is None
        client.get("/v1/me", headers=bearer(keys["ingest"]))  # used after the list: written at shutdown
    with Store(path, read_only=True) as store:
        used = dict(store.query("SELECT role, last_used_at FROM service_keys").itertuples(index=False))
    import pandas as pd

    assert not pd.isna(used["ingest"]) and pd.isna(used["service"])


def test_why_a_model_failed_to_load_is_told_to_admins_only(tmp_path: Path) -> None:
    path = tmp_path / "spine.duckdb"
    keys = build_world(path)
    registry = ModelRegistry(tmp_path / "models")
    version = registry.get(publish(path, registry, "itemknn"))
    # Its files match their recorded digests (rewritten together), but the model names no model class.
    import json

    from limelight.artifacts import RECOMMENDER_KIND, load_artifact, save_artifact
    from limelight.registry import _file_digests

    model_file = next(p for p in version.model_path.rglob("*.npz"))
    artifact = load_artifact(model_file, RECOMMENDER_KIND)
    save_artifact(model_file, RECOMMENDER_KIND, {**artifact.meta, "class": "os:system"}, dict(artifact.arrays))
    meta_path = version.path / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["files"] = _file_digests(version.model_path)
    meta_path.write_text(json.dumps(meta))
    with serving(path, tmp_path / "models") as client:
        admin = client.get("/v1/models", headers=bearer(keys["admin"])).json()
        analyst = client.get("/v1/models", headers=bearer(keys["analyst"])).json()
    assert "must name a limelight model class, got 'os:system'" in admin["engine_error"]
    assert analyst["engine_error"] == "the model could not be loaded; an admin can see why here"


def test_an_analyst_reads_the_models_page_without_the_servers_paths(tmp_path: Path) -> None:
    path = tmp_path / "spine.duckdb"
    keys = build_world(path)
    registry = ModelRegistry(tmp_path / "models")
    publish(path, registry, "ease")
    damaged = registry.get(publish(path, registry, "itemknn"))
    model_file = next(p for p in damaged.model_path.rglob("*") if p.is_file())
    model_file.write_bytes(model_file.read_bytes()[:1000])
    with serving(path, tmp_path / "models") as client:
        analyst = client.get("/v1/models", headers=bearer(keys["analyst"])).json()
        admin = client.get("/v1/models", headers=bearer(keys["admin"])).json()
        missing = client.post("/v1/models/activate", json={"version": 999}, headers=bearer(keys["admin"])).json()
        lazy = client.post("/v1/models/train", json={"model": "popularity", "evaluate": False,
                                                     "only_if_not_worse": True}, headers=bearer(keys["admin"]))
    assert str(tmp_path) not in str(analyst) and str(tmp_path) in str(admin)
    assert analyst["registry_problems"] == ["1 problem(s) with the registry; an admin can see them here"]
    assert str(tmp_path) not in missing["error"]["message"]
    assert lazy.status_code == 422 and "needs evaluate" in lazy.json()["error"]["message"]
