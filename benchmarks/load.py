"""Load benchmark: wrk on loopback against `limelight serve` on a spine built from MovieLens latest-small.

    .venv/bin/python benchmarks/load.py [--duration 30] [--connections 64] [--threads 2]

Builds (once) `benchmarks/.cache/ml-small.duckdb` with `limelight ingest` and a service key, trains
a model, starts the server as a subprocess on a free port, then for each endpoint runs wrk with a
Lua script that cycles through every member (so the per-member answer cache is exercised honestly:
the first request for each member computes, the rest are served from the online tier's cache), and
once more with the cache disabled (every request computed by the engine). Prints a table and writes
benchmarks/results/load.json. Needs `wrk` (apt-get install -y wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache"
DB = CACHE / "ml-small.duckdb"
LIMELIGHT = [sys.executable, "-m", "limelight.cli.app"]

LUA = """
local ids = {%s}
local path_fmt = "%s"
local key = "%s"
local n = 0
request = function()
  n = n + 1
  local id = ids[(n %% #ids) + 1]
  return wrk.format("GET", string.format(path_fmt, id), {["Authorization"] = "Bearer " .. key})
end
"""


def _run(args: list[str]) -> str:
    out = subprocess.run(args, cwd=ROOT, check=True, capture_output=True, text=True)
    return out.stdout


def build_db() -> tuple[str, list[str]]:
    CACHE.mkdir(parents=True, exist_ok=True)
    shared = Path(os.environ.get("LIMELIGHT_SHARED_DATA", ROOT.parent / "shared" / "data"))
    if not DB.exists():
        _run([*LIMELIGHT, "ingest", str(shared / "movielens" / "ml-latest-small"), "--db", str(DB)])
        _run([*LIMELIGHT, "train", "--db", str(DB), "--model", "auto"])
    key = json.loads(_run([*LIMELIGHT, "keys", "create", "--role", "service", "--rate", "1000000",
                           "--db", str(DB), "--json"]))["key"]
    import duckdb

    con = duckdb.connect(str(DB), read_only=True)
    try:
        members = [str(r[0]) for r in con.execute("SELECT member_id FROM members ORDER BY member_id").fetchall()]
    finally:
        con.close()
    return key, members


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, cache: bool) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    code = (
        "import sys; from limelight.service import run; "
        f"run({str(DB)!r}, host='127.0.0.1', port={port}, cache_entries={50_000 if cache else 0}, "
        f"precompute={cache}, "
        "default_rate_per_s=1e6, default_burst=2e6)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                health = json.load(r)
                if health["engine"] == "ready" and (health["precompute_done"] or not cache):
                    print(f"server ready ({health['precomputed_members']} members precomputed)", flush=True)
                    return proc
                time.sleep(0.5)
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not become ready")


def parse_wrk(text: str) -> dict[str, float]:
    def latency_ms(token: str) -> float:
        value, unit = re.match(r"([\d.]+)(us|ms|s)", token).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    out: dict[str, float] = {}
    out["requests_per_s"] = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", text, re.M)
        out[f"p{pct}_ms"] = latency_ms(m.group(1)) if m else float("nan")
    total = re.search(r"(\d+) requests in", text)
    out["requests"] = float(total.group(1)) if total else 0.0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["non_2xx"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    out["socket_errors"] = float(sum(int(x) for x in m.groups())) if m else 0.0
    out["timeouts"] = float(m.group(4)) if m else 0.0
    out["errors"] = out["non_2xx"] + out["socket_errors"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    key, members = build_db()
    endpoints = {
        "home": "/v1/members/%s/home",
        "recommendations": "/v1/members/%s/recommendations?k=10",
    }
    results = []
    for cache in (True, False):
        port = free_port()
        server = start_server(port, cache)
        try:
            for name, fmt in endpoints.items():
                with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
                    fh.write(LUA % (", ".join(f'"{m}"' for m in members), fmt, key))
                    script = fh.name
                command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
                           "--latency", "-s", script, f"http://127.0.0.1:{port}"]
                text = subprocess.run(command, capture_output=True, text=True, check=True).stdout
                os.unlink(script)
                row = {"endpoint": name, "cache": cache, **parse_wrk(text),
                       "command": " ".join(command[:-3]) + " <cycle over all members>"}
                results.append(row)
                print(f"{name:16s} cache={'on ' if cache else 'off'} {row['requests_per_s']:9.0f} req/s  "
                      f"p50 {row['p50_ms']:7.2f} ms  p99 {row['p99_ms']:7.2f} ms  errors {row['errors']:.0f}",
                      flush=True)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    payload = {
        "benchmark": "load",
        "machine": f"{platform.machine()} {os.cpu_count()} cores (shared), {platform.python_version()}",
        "db": "MovieLens latest-small via limelight ingest",
        "members": len(members),
        "duration_s": args.duration,
        "connections": args.connections,
        "results": results,
    }
    out = ROOT / "benchmarks" / "results" / "load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
