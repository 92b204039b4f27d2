"""Run the real `limelight` entry point in-process and capture its exit code, stdout and stderr."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from limelight.cli.app import main


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`run_cli` with the arguments as one list, after dropping whatever was printed before."""
    capsys.readouterr()
    return run_cli(capsys, *argv)


def digest(path: Path) -> str:
    """The file's SHA-256: 'the store is unchanged' means this is unchanged."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def tiny_movielens_store(folder: Path) -> Path:
    """A store holding members 1 and 2 and titles 10 and 20, ingested through the CLI from a tiny MovieLens folder."""
    write(folder / "movies.csv", "movieId,title,genres\n10,Heat (1995),Crime\n20,Up (2009),Animation\n")
    write(folder / "ratings.csv", "userId,movieId,rating,timestamp\n1,10,4.0,964982703\n2,20,3.5,964982704\n")
    db = folder / "spine.duckdb"
    try:
        main(["ingest", str(folder), "--db", str(db)])
    except SystemExit as exc:
        assert not exc.code, f"ingest of the tiny MovieLens folder exited {exc.code}"
    return db


def bad_file(name: str, body: str | bytes | None, encoding: str = "utf-8") -> Callable[[Path], Path]:
    """A maker of one user file `name` in a folder: `body` as text (in `encoding`) or bytes, or a folder
    of that name when `body` is None — for parametrised tests of what a reader refuses."""

    def make(folder: Path) -> Path:
        path = folder / name
        if body is None:
            path.mkdir()
        else:
            path.write_bytes(body if isinstance(body, bytes) else body.encode(encoding))
        return path

    return make


def empty_store_with_keys(path: Path, *roles: str) -> dict[str, str]:
    """A store with the schema and nothing else, and one service key per role (what a first run holds)."""
    import duckdb

    from limelight.service.keys import create_key
    from limelight.spine.store import Store

    Store(path).close()
    con = duckdb.connect(str(path))
    try:
        return {role: create_key(con, role, label=f"empty store {role}")[0] for role in roles}
    finally:
        con.close()
