"""A disk that refuses a write (full, read-only, over a size limit): one sentence, exit 2, nothing lost.

A full disk used to end `ingest` with DuckDB's traceback (exit 1), `demo` with "cannot rollback - no
transaction is active" (the rollback's error hiding the real one), `train` with `OSError: [Errno 28]`
after all its work, and the API with a 500. The commands here run in a child process whose file-size
limit (`RLIMIT_FSIZE`) refuses the write for real — the kernel's EFBIG, as a full disk's ENOSPC.
"""

from __future__ import annotations

import contextlib
import errno
import json
import resource
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from limelight.errors import StorageError, storage_error
from limelight.service.errors import status_for
from limelight.service.events import EventIn, store_events
from limelight.spine.store import Store

CLI = [sys.executable, "-m", "limelight.cli.app"]


def _limited(command: list[str], max_bytes: int) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return subprocess.run([*CLI, *command], preexec_fn=limit, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("refused") / "spine.duckdb"
    done = subprocess.run([*CLI, "demo", "--db", str(db), "--events", "3000"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return db


def _count(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM viewing_events").fetchone()[0])  # type: ignore[index]


def test_an_ingest_the_disk_refuses_is_one_sentence_and_stores_nothing(world: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(world), read_only=True) as con:
        member = con.execute("SELECT member_id FROM members LIMIT 1").fetchone()[0]  # type: ignore[index]
        title = con.execute("SELECT title_id FROM titles WHERE kind = 'film' LIMIT 1").fetchone()[0]  # type: ignore[index]
    n = 200_000
    events = tmp_path / "events.csv"
    pd.DataFrame({"event_id": [f"big{i}" for i in range(n)], "member_id": member, "title_id": title,
                  "started_at": "2025-01-01 10:00:00", "seconds_viewed": 60}).to_csv(events, index=False)
    before = _count(world)
    done = _limited(["ingest", "--db", str(world), "--table", "viewing_events", str(events)],
                    world.stat().st_size + 100_000)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [f"error: the store {world} cannot be written (File too large); nothing was changed — free "
                     "space or fix the permissions and run it again"]
    assert _count(world) == before
    small = tmp_path / "small.csv"  # once the disk takes writes again, so does the store
    pd.read_csv(events, nrows=5).to_csv(small, index=False)
    done = subprocess.run([*CLI, "ingest", "--db", str(world), "--table", "viewing_events", str(small)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _count(world) == before + 5


def test_a_model_the_disk_refuses_is_one_sentence_and_not_published(world: Path) -> None:
    pointer = world.with_suffix(".models") / "pointer.json"
    before = json.loads(pointer.read_text()) if pointer.exists() else None
    done = _limited(["train", "--db", str(world), "--model", "ease", "--no-evaluate"], 20_000)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot be written (File too large); nothing was changed" in lines[0], lines
    assert (json.loads(pointer.read_text()) if pointer.exists() else None) == before


def test_events_the_disk_refuses_are_a_503_and_the_rollback_does_not_hide_why(tmp_path: Path) -> None:
    """A failed COMMIT has already ended DuckDB's transaction; the ROLLBACK after it raised "no transaction
    is active", and the API answered 500 with that."""
    db = tmp_path / "s.duckdb"
    subprocess.run([*CLI, "demo", "--db", str(db), "--events", "1000"], check=True, capture_output=True)
    with Store(db) as store:
        member = store.query("SELECT member_id FROM members LIMIT 1").iloc[0, 0]
        title = store.query("SELECT title_id FROM titles WHERE kind = 'film' LIMIT 1").iloc[0, 0]
        before = store.count("viewing_events")

        class FullDisk:  # the store's connection, whose COMMIT the disk refuses
            def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
                self.con = con

            def execute(self, sql: str, *args: object) -> object:
                if sql == "COMMIT":
                    self.con.execute("ROLLBACK")  # as DuckDB does when the commit cannot be written
                    raise duckdb.IOException('IO Error: Could not write file "s.duckdb.wal": No space left on device')
                return self.con.execute(sql, *args)

            def __getattr__(self, name: str) -> object:
                return getattr(self.con, name)

        event = EventIn(event_id="e-full", member_id=member, title_id=title, started_at="2025-01-01T10:00:00Z",
                        seconds_viewed=60)
        with pytest.raises(StorageError, match=r"cannot be written \(No space left on device\)") as refused:
            store_events(FullDisk(store.con), [event], lock=contextlib.nullcontext())  # type: ignore[arg-type]
        assert status_for(refused.value) == 503
        assert store.count("viewing_events") == before


def test_a_refused_write_is_told_apart_from_other_errors() -> None:
    full = storage_error(OSError(errno.ENOSPC, "No space left on device", "m.npz"), "'m.npz'")
    assert isinstance(full, StorageError) and str(full).startswith("'m.npz' cannot be written (No space left")
    assert storage_error(OSError(errno.ENOENT, "No such file or directory"), "x") is None
    assert storage_error(ValueError("bad value"), "x") is None
