"""kill -9 during a stream of POST /v1/events: after restart every acknowledged event is there exactly once."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import pytest
from service_world import build_world

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(db: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "limelight.cli.app", "serve", "--db", str(db), "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if json.load(r)["engine"] == "ready":
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.1)
    raise AssertionError("server did not become ready")


def _post(port: int, key: str, events: list[dict]) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/events",
        data=json.dumps({"events": events}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.load(r)


def test_acknowledged_events_survive_kill_9_exactly_once(tmp_path: Path) -> None:
    db = tmp_path / "spine.duckdb"
    keys = build_world(db, n_members=20)
    port = _free_port()
    server = _start(db, port)
    acknowledged: list[str] = []
    attempted: list[str] = []
    try:
        _wait_ready(port, server)
        # While the server owns the file, the CLI refuses to open it, with one sentence.
        cli = subprocess.run([sys.executable, "-m", "limelight.cli.app", "keys", "list", "--db", str(db)],
                             capture_output=True, text=True, timeout=60)
        assert cli.returncode == 2 and "in use" in cli.stderr

        stop = threading.Event()

        sent: dict[str, dict[str, object]] = {}  # every event as first sent: a retry resends it as it was

        def stream() -> None:
            n = 0
            while not stop.is_set():
                batch = [
                    {"event_id": f"fault-{n}-{i}", "member_id": f"m{(n + i) % 20:03d}", "title_id": f"com{i % 10:02d}",
                     "started_at": "2026-11-03T10:00:00Z", "seconds_viewed": 60 + i}
                    for i in range(5)
                ]
                sent.update((e["event_id"], e) for e in batch)
                attempted.extend(e["event_id"] for e in batch)
                try:
                    _post(port, keys["ingest"], batch)
                except (OSError, urllib.error.URLError):
                    return
                acknowledged.extend(e["event_id"] for e in batch)
                n += 1

        writer = threading.Thread(target=stream)
        writer.start()
        while len(acknowledged) < 100:
            assert writer.is_alive() or len(acknowledged) >= 100
            time.sleep(0.01)
        os.kill(server.pid, signal.SIGKILL)  # mid-stream
        server.wait(timeout=10)
        stop.set()
        writer.join(timeout=15)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    # Restart: DuckDB replays its write-ahead log; then resend everything (clients retry unacknowledged batches).
    server = _start(db, port)
    try:
        _wait_ready(port, server)
        before_retry = set(acknowledged)
        ids = sorted(set(attempted) - set(acknowledged))
        if ids:
            retry = [sent[i] for i in ids]  # the in-flight batch may have been committed: same values, no 409
            reply = _post(port, keys["ingest"], retry)
            assert reply["received"] == len(ids)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT event_id, count(*) FROM viewing_events WHERE event_id LIKE 'fault-%' GROUP BY 1").fetchall()
    finally:
        con.close()
    counts = dict(rows)
    assert len(before_retry) >= 100
    missing = [e for e in before_retry if e not in counts]
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {missing[:3]}"
    assert all(c == 1 for c in counts.values())
    assert set(counts) == set(attempted)  # after the retry, every attempted event is there, once
