"""`limelight keys`, `train` and `models`: keys printed once and stored hashed; train publishes; rollback."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from service_world import build_world

from limelight.cli.app import main


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out = capsys.readouterr()
    return int(exit_info.value.code or 0), out.out, out.err


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "spine.duckdb"
    build_world(path, n_members=30)
    return path


def test_keys_create_prints_the_key_once_and_stores_only_its_hash(small_db: Path, capsys) -> None:
    code, out, _ = _run(["keys", "create", "--role", "analyst", "--db", str(small_db), "--json"], capsys)
    assert code == 0
    created = json.loads(out)
    assert created["key"].startswith(f"ll_{created['key_id']}_")
    con = duckdb.connect(str(small_db))
    try:
        stored = con.execute("SELECT * FROM service_keys WHERE key_id = ?", [created["key_id"]]).fetchall()
    finally:
        con.close()
    # the secret may itself contain "_" (token_urlsafe): take all of it after the "ll_<key_id>_" prefix
    secret = created["key"].removeprefix(f"ll_{created['key_id']}_")
    assert stored and len(secret) >= 32 and secret not in repr(stored)
    code, out, _ = _run(["keys", "list", "--db", str(small_db), "--json"], capsys)
    assert created["key_id"] in out and created["key"] not in out
    code, out, _ = _run(["keys", "revoke", created["key_id"], "--db", str(small_db)], capsys)
    assert code == 0 and "revoked" in out


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--role", "root"], "role must be one of"),
        (["--role", "person"], "person_id"),
        (["--role", "service", "--person-id", "p1"], "only for keys with role 'person'"),
        (["--role", "person", "--person-id", "p/1; drop"], "person_id must be 1 to 128 characters without /"),
        (["--role", "service", "--rate", "inf"], "--rate"),
        (["--role", "service", "--rate", "0"], "--rate"),
    ],
)
def test_keys_create_refuses_bad_roles_with_one_sentence(small_db: Path, capsys, args, phrase) -> None:
    code, _, err = _run(["keys", "create", "--db", str(small_db), *args], capsys)
    assert code == 2 and phrase in err and "Traceback" not in err


def test_train_publishes_versions_and_models_rollback_returns(small_db: Path, capsys) -> None:
    for _ in range(2):
        code, out, err = _run(["train", "--db", str(small_db), "--model", "ease", "--json"], capsys)
        assert code == 0, err
    assert json.loads(out)["version"] == 2
    code, out, _ = _run(["models", "list", "--db", str(small_db), "--json"], capsys)
    listed = json.loads(out)
    assert listed["current"] == 2 and [v["version"] for v in listed["versions"]] == [1, 2]
    judged = listed["versions"][0]["metrics"]["leave-last-out"]  # the harness's protocol, on sampled members
    assert judged["members"] > 0 and 0 <= judged["recall@10"] <= 1
    assert judged["ndcg@10_low"] <= judged["ndcg@10"] <= judged["ndcg@10_high"]
    code, out, _ = _run(["models", "rollback", "--db", str(small_db)], capsys)
    assert code == 0 and "now 1" in out
    code, _, err = _run(["models", "rollback", "--db", str(small_db)], capsys)
    assert code == 2 and "no previous model version" in err


def test_models_activate_serves_any_version_and_refuses_one_whose_files_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "spine.duckdb"
    build_world(db, n_members=20)
    for _ in range(2):
        code, _, err = _run(["train", "--db", str(db), "--model", "popularity", "--no-evaluate"], capsys)
        assert code == 0, err

    def current() -> int:
        _, out, _ = _run(["models", "list", "--db", str(db), "--json"], capsys)
        return int(json.loads(out)["current"])

    code, out, err = _run(["models", "activate", "1", "--db", str(db)], capsys)
    assert code == 0 and "current model version is now 1" in out, err
    assert current() == 1
    model_file = next((tmp_path / "spine.models" / "versions" / "0002").rglob("*.npz"))
    model_file.write_bytes(model_file.read_bytes()[:-10])  # changed on disk after it was published
    code, _, err = _run(["models", "activate", "2", "--db", str(db)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert current() == 1  # nothing moved
    code, _, err = _run(["models", "activate", "9", "--db", str(db)], capsys)
    assert code == 2 and "9" in err and current() == 1


def test_listing_or_revoking_keys_writes_nothing_into_a_store_without_keys(tmp_path: Path, capsys) -> None:
    from limelight.spine.store import open_store

    db = tmp_path / "spine.duckdb"
    with open_store(db) as store:
        store.create_schema()  # an empty spine: its tables and no keys (the connection is lazy)

    def tables() -> set[str]:
        with duckdb.connect(str(db), read_only=True) as con:
            return {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}

    before = tables()
    assert "service_keys" not in before
    code, out, _ = _run(["keys", "list", "--db", str(db), "--json"], capsys)
    assert code == 0 and json.loads(out) == []
    code, _, err = _run(["keys", "revoke", "0123456789ab", "--db", str(db)], capsys)
    assert code == 2 and "does not exist" in err
    assert tables() == before


@pytest.mark.parametrize("args", [["--rate", "0"], ["--max-batch", "-1"], ["--port", "70000"]])
def test_serve_refuses_bad_settings_naming_the_option(small_db: Path, capsys, args: list[str]) -> None:
    code, _, err = _run(["serve", "--db", str(small_db), *args], capsys)
    assert code == 2 and args[0] in err and "Traceback" not in err


def test_train_on_a_missing_store_is_one_sentence(tmp_path: Path, capsys) -> None:
    code, _, err = _run(["train", "--db", str(tmp_path / "none.duckdb")], capsys)
    assert code == 2 and "does not exist" in err


def test_more_than_one_worker_is_refused_with_one_sentence(tmp_path) -> None:
    import pytest

    from limelight.errors import ConfigError
    from limelight.service.server import run

    with pytest.raises(ConfigError, match=r"workers must be 1, got 2: DuckDB allows one writing process"):
        run(tmp_path / "never-opened.duckdb", workers=2)
    assert not (tmp_path / "never-opened.duckdb").exists()


def test_train_auto_records_what_it_chose_in_the_registry(small_db: Path, capsys) -> None:
    code, out, err = _run(["train", "--db", str(small_db), "--json"], capsys)  # the default model: auto
    assert code == 0, err
    code, out, _ = _run(["models", "list", "--db", str(small_db), "--json"], capsys)
    version = json.loads(out)["versions"][-1]
    assert version["model_name"] == "auto"
    chosen = version["params"]["chosen"]
    assert chosen and all(part.split(" ")[1].split("(")[0] in
                          {"popularity", "ease", "als", "rp3beta", "itemknn"} for part in chosen.split(" + "))


def test_train_passes_params_to_the_model_and_records_them(small_db: Path, capsys) -> None:
    code, out, err = _run(["train", "--db", str(small_db), "--model", "ease", "--no-evaluate", "--params",
                           '{"regularization": 50}', "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["params"]["regularization"] == 50
    code, _, err = _run(["train", "--db", str(small_db), "--model", "ease", "--params", "{50}"], capsys)
    assert code == 2 and "--params must be a JSON object" in err


def test_member_commands_use_the_model_serve_would_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`recommend MEMBER`, `home`, `explain`, `similar` fitted EASE afresh each time: another model than the
    API served once one was published (and 34 s a command on ml-latest-small)."""
    from limelight.personalize.engine import PersonalizationEngine
    from limelight.registry import ModelRegistry
    from limelight.service.training import load_model
    from limelight.spine.store import Store

    db = tmp_path / "spine.duckdb"
    build_world(db, n_members=20)
    code, _, err = _run(["train", "--db", str(db), "--model", "popularity", "--no-evaluate"], capsys)
    assert code == 0, err
    version, _ = ModelRegistry(tmp_path / "spine.models").newest_usable()
    assert version is not None and version.model_name == "popularity"
    with Store(db, read_only=True) as store:
        served = PersonalizationEngine.from_store(store, load_model(version))
        fitted = PersonalizationEngine.from_store(store)  # the default, EASE
    member = "m003"
    code, out, err = _run(["recommend", member, "--db", str(db), "--k", "8", "--json"], capsys)
    assert code == 0, err
    listed = [item["title_id"] for item in json.loads(out)]
    assert listed == [r.title_id for r in served.recommend(member, 8)]
    assert listed != [r.title_id for r in fitted.recommend(member, 8)]
    code, out, err = _run(["home", member, "--db", str(db), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["rows"] == served.home(member, max_rows=8, per_row=8).model_dump(mode="json")["rows"]
    # the published version's files changed: the command passes it over as serve does, and says so
    code, _, err = _run(["train", "--db", str(db), "--model", "itemknn", "--no-evaluate"], capsys)
    assert code == 0, err
    newest, _ = ModelRegistry(tmp_path / "spine.models").newest_usable()
    assert newest is not None and newest.version == version.version + 1
    for path in newest.model_path.rglob("*"):
        if path.is_file():
            path.write_bytes(b"tampered")
    code, out, err = _run(["recommend", member, "--db", str(db), "--k", "8", "--json"], capsys)
    assert code == 0, err
    assert [item["title_id"] for item in json.loads(out)] == listed  # the earlier version, popularity
    assert "warning: model registry:" in err and f"model version {newest.version}" in err


def test_a_key_label_with_brackets_lists_as_written(small_db: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """User data in CLI tables is escaped: a label "[/]" was a Rich MarkupError and "[red]ops" printed "ops"."""
    from limelight.cli._common import console

    monkeypatch.setattr(console, "width", 400)  # every column whole
    for label in ("ops [/] team", "[red]ops"):
        code, _, err = _run(["keys", "create", "--role", "analyst", "--db", str(small_db), "--label", label, "--json"], capsys)
        assert code == 0, err
    code, out, err = _run(["keys", "list", "--db", str(small_db)], capsys)
    text = "".join(out.split())
    assert code == 0, err
    assert "ops[/]team" in text and "[red]ops" in text
