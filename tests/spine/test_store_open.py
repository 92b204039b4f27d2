"""Opening a store: a missing path, a folder, an empty or foreign file and a store held by another process are
each one sentence and exit code 2 from every command, and nothing is created or changed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_runner import digest, run
from limelight.errors import ConflictError, InputError, NotFoundError
from limelight.spine.store import Store, connect


def one_sentence(err: str) -> bool:
    return len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.fixture(autouse=True)
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve` must refuse before it starts a server: starting one fails the test instead of hanging it."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the server was started")

    monkeypatch.setattr("limelight.service.run", refuse)


@pytest.fixture()
def store(tiny_store: Path) -> Path:
    return tiny_store


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "store.duckdb").mkdir()
    return tmp_path / "store.duckdb"


def _empty(tmp_path: Path) -> Path:
    (tmp_path / "store.duckdb").write_bytes(b"")
    return tmp_path / "store.duckdb"


def _foreign(tmp_path: Path) -> Path:
    (tmp_path / "store.duckdb").write_text("member_id,source\n1,crm\n")
    return tmp_path / "store.duckdb"


BAD_FILES = {
    "folder": (_folder, "is a folder, not a DuckDB file"),
    "empty": (_empty, "is an empty (0-byte) file, not a DuckDB database"),
    "foreign": (_foreign, "is not a DuckDB database file"),
}
COMMANDS = {
    "info": ["info"],
    "export": ["export", "OUT"],
    "ingest": ["ingest", "INPUT"],
    "train": ["train"],
    "keys-list": ["keys", "list"],
    "keys-create": ["keys", "create", "--role", "admin"],
    "serve": ["serve"],
    "recommend": ["recommend", "1"],
}


def _argv(command: list[str], tmp_path: Path, db: Path) -> list[str]:
    members = tmp_path / "input" / "members.csv"
    members.parent.mkdir(exist_ok=True)
    members.write_text("member_id,source\n7,crm\n")
    subs = {"OUT": str(tmp_path / "out"), "INPUT": str(members)}
    return [subs.get(a, a) for a in command] + ["--db", str(db)]


def _state(path: Path) -> object:
    if path.is_dir():
        return sorted(p.name for p in path.iterdir())
    return digest(path)


@pytest.mark.parametrize("kind", list(BAD_FILES))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_folder_an_empty_file_or_a_foreign_file_as_db_is_one_sentence_from_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, kind: str
) -> None:
    make, says = BAD_FILES[kind]
    db = make(tmp_path)
    before = _state(db)
    code, _, err = run(_argv(COMMANDS[command], tmp_path, db), capsys)
    assert code == 2, err
    assert f"the store {db} {says}" in err and one_sentence(err), err
    assert "in use by another process" not in err  # only a real lock conflict says so
    assert _state(db) == before
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["serve", "info", "train", "keys-list"])
def test_a_missing_store_is_refused_and_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    db = tmp_path / "nonexistent.duckdb"
    code, _, err = run(_argv(COMMANDS[command], tmp_path, db), capsys)
    assert code == 2, err
    assert f"the store {db} does not exist" in err and one_sentence(err)
    assert not db.exists()


def test_serve_names_what_to_run_first_for_a_missing_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["serve", "--db", str(tmp_path / "none.duckdb")], capsys)
    assert code == 2 and "run 'limelight demo' or 'limelight ingest' first" in err and one_sentence(err)


@pytest.fixture()
def held(store: Path) -> Iterator[tuple[Path, int]]:
    """The store held open for writing by another process, as a running `limelight serve` holds it."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time, duckdb; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(300)",
         str(store)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        yield store, holder.pid
    finally:
        holder.terminate()
        holder.wait(timeout=30)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_store_held_by_another_process_is_one_sentence_from_every_command(
    held: tuple[Path, int], tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    db, pid = held
    before = _state(db)
    code, _, err = run(_argv(COMMANDS[command], tmp_path, db), capsys)
    assert code == 2, err
    assert f"the store {db} is in use by another process (PID {pid})" in err and one_sentence(err), err
    assert _state(db) == before


def test_connect_is_the_one_guarded_open(held: tuple[Path, int], tmp_path: Path) -> None:
    db, pid = held
    with pytest.raises(ConflictError, match=rf"in use by another process \(PID {pid}\); stop it"):
        connect(db, read_only=True)
    with pytest.raises(ConflictError, match=r"; use the API instead$"):
        connect(db, when_locked="use the API instead")
    with pytest.raises(InputError, match="is a folder"):
        Store(_folder(tmp_path)).count("titles")
    with pytest.raises(NotFoundError, match="does not exist"):
        connect(tmp_path / "absent.duckdb", read_only=True)
    assert not (tmp_path / "absent.duckdb").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match=r"cannot be created: its folder .*file cannot be made"):
        connect(tmp_path / "file" / "spine.duckdb")
