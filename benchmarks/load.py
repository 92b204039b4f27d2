"""Load benchmark: wrk on loopback against `limelight serve` on a spine built from MovieLens latest-small.

    .venv/bin/python benchmarks/load.py [--duration 30] [--connections 64] [--threads 1] [--pin 0:1] [--cold]

Builds (once) `benchmarks/.cache/ml-small.duckdb` with `limelight ingest` and a service key, trains
a model, starts the server as a subprocess on a free port (pinned to one CPU with `taskset`, wrk to
the other, so they do not fight over one core), waits until every member's answers are precomputed,
then for each endpoint runs wrk with a Lua script that cycles through every member. Two servers are
measured in the same run: the default (the hot read path, `limelight.service.fastpath`) and the
same server with `LIMELIGHT_FAST_PATH=0` (every request through FastAPI: the previous figures).
`--cold` adds a server with the answer cache off (every request computed by the engine). Records the
load average and the server's CPU time per request (from /proc, which noise on a shared machine
does not inflate the way it inflates latency). Prints a table and writes
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
from typing import Any

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


def start_server(port: int, cache: bool, fast: bool, cpu: str | None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "LIMELIGHT_FAST_PATH": "1" if fast else "0"}
    code = (
        "import sys; from limelight.service import run; "
        f"run({str(DB)!r}, host='127.0.0.1', port={port}, cache_entries={50_000 if cache else 0}, "
        f"precompute={cache}, watch_registry_s=0, "
        "default_rate_per_s=1e6, default_burst=2e6)"
    )
    pin = ["taskset", "-c", cpu] if cpu is not None else []
    proc = subprocess.Popen([*pin, sys.executable, "-c", code], cwd=ROOT, env=env)
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


MODES: dict[str, dict[str, bool]] = {
    "fast path": {"cache": True, "fast": True},
    "FastAPI path": {"cache": True, "fast": False},
    "computed per request": {"cache": False, "fast": False},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--pin", default="0:1", help="SERVER_CPU:WRK_CPU for taskset, or 'none'.")
    parser.add_argument("--cold", action="store_true", help="Also measure with the answer cache off.")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    server_cpu, wrk_cpu = (None, None) if args.pin == "none" else args.pin.split(":")
    if args.pin != "none" and shutil.which("taskset") is None:
        raise SystemExit("taskset is not installed (util-linux); pass --pin none")
    key, members = build_db()
    endpoints = {
        "home": "/v1/members/%s/home",
        "recommendations": "/v1/members/%s/recommendations?k=10",
    }
    modes = [m for m in MODES if args.cold or MODES[m]["cache"]]
    results: list[dict[str, Any]] = []
    for mode in modes:
        port = free_port()
        server = start_server(port, MODES[mode]["cache"], MODES[mode]["fast"], server_cpu)
        try:
            for name, fmt in endpoints.items():
                with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
                    fh.write(LUA % (", ".join(f'"{m}"' for m in members), fmt, key))
                    script = fh.name
                command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
                           "--latency", "-s", script, f"http://127.0.0.1:{port}"]
                pin = ["taskset", "-c", wrk_cpu] if wrk_cpu is not None else []
                load_before = os.getloadavg()[0]
                cpu_before = cpu_seconds(server.pid)
                text = subprocess.run([*pin, *command], capture_output=True, text=True, check=True).stdout
                cpu_used = cpu_seconds(server.pid) - cpu_before
                os.unlink(script)
                row: dict[str, Any] = {"endpoint": name, "mode": mode, **parse_wrk(text),
                       "server_cpu_us_per_request": 0.0,
                       "load_average_1m": [load_before, os.getloadavg()[0]],
                       "command": " ".join([*pin, *command[:-3]]) + " <cycle over all members>",
                       "server_cpu": server_cpu}
                row["server_cpu_us_per_request"] = cpu_used / max(row["requests"], 1.0) * 1e6
                results.append(row)
                print(f"{name:16s} {mode:21s} {row['requests_per_s']:8.0f} req/s  p50 {row['p50_ms']:7.2f} ms  "
                      f"p99 {row['p99_ms']:7.2f} ms  errors {row['errors']:.0f}  "
                      f"server {row['server_cpu_us_per_request']:5.0f} us CPU/req  "
                      f"load {load_before:.1f}", flush=True)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    ratios = {}
    for name in endpoints:
        fast = next(r for r in results if r["endpoint"] == name and r["mode"] == "fast path")
        old = next(r for r in results if r["endpoint"] == name and r["mode"] == "FastAPI path")
        ratios[name] = {
            "requests_per_s": fast["requests_per_s"] / old["requests_per_s"],
            "p50": old["p50_ms"] / fast["p50_ms"],
            "p99": old["p99_ms"] / fast["p99_ms"],
            "server_cpu_per_request": old["server_cpu_us_per_request"] / fast["server_cpu_us_per_request"],
        }
        print(f"{name:16s} fast path vs FastAPI path: {ratios[name]['requests_per_s']:.1f}x req/s, "
              f"p99 {ratios[name]['p99']:.1f}x lower, CPU/request {ratios[name]['server_cpu_per_request']:.1f}x lower")
    payload = {
        "benchmark": "load",
        "machine": f"{platform.machine()} {os.cpu_count()} cores (shared), {platform.python_version()}",
        "pinning": "none" if server_cpu is None else f"server on CPU {server_cpu}, wrk on CPU {wrk_cpu}",
        "db": "MovieLens latest-small via limelight ingest",
        "members": len(members),
        "duration_s": args.duration,
        "connections": args.connections,
        "goal": "p99 < 25 ms, 0 errors",
        "results": results,
        "ratios_fast_over_fastapi": ratios,
    }
    out = ROOT / "benchmarks" / "results" / "load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
