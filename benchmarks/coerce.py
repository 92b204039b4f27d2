"""Schema coercion (`limelight.spine.validate.coerce_rows`) of the SYNTHETIC demo world, this checkout
against the version of `validate.py` at an earlier commit, interleaved in one run (the machine is shared:
compare the ratio of medians, not the seconds), and checked to give identical frames.

    .venv/bin/python benchmarks/coerce.py --events 2000000 --baseline 140414a --repeats 3

Prints one line and writes `benchmarks/results/coerce.json`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import pandas as pd

from limelight.spine import validate
from limelight.spine.schema import table
from limelight.spine.world import iter_world

ROOT = Path(__file__).resolve().parents[1]


def baseline_module(commit: str, folder: Path) -> ModuleType:
    source = subprocess.run(
        ["git", "show", f"{commit}:src/limelight/spine/validate.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = folder / "validate_baseline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("validate_baseline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["validate_baseline"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--baseline", default="140414a", help="commit whose validate.py is the peer")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    parts = list(iter_world(args.events, seed=7, payments=False))
    with tempfile.TemporaryDirectory() as tmp:
        engines = {"baseline": baseline_module(args.baseline, Path(tmp)), "this checkout": validate}
        seconds: dict[str, list[float]] = {name: [] for name in engines}
        for repeat in range(args.repeats):
            frames: dict[str, list[pd.DataFrame]] = {}
            for name, module in engines.items():
                start = time.perf_counter()
                frames[name] = [module.coerce_rows(module.Rows(t, f, origin=t), table(t)) for t, f in parts]
                seconds[name].append(time.perf_counter() - start)
            if repeat == 0:
                for a, b in zip(frames["baseline"], frames["this checkout"], strict=True):
                    pd.testing.assert_frame_equal(a, b)
    medians = {name: statistics.median(v) for name, v in seconds.items()}
    result = {
        "events": args.events,
        "baseline": args.baseline,
        "seconds": seconds,
        "median_seconds": medians,
        "speedup": medians["baseline"] / medians["this checkout"],
        "load_1min": os.getloadavg()[0],
        "identical": True,
    }
    print(
        f"{args.events:,} events: baseline {medians['baseline']:.2f} s, this checkout {medians['this checkout']:.2f} s "
        f"(median of {args.repeats}), {result['speedup']:.2f}x, identical frames, load {result['load_1min']:.1f}"
    )
    out = ROOT / "benchmarks" / "results" / "coerce.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
