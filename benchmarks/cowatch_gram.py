"""Co-watch EASE's Gram matrix on a worst case: every member takes all their titles in one sitting.

    .venv/bin/python benchmarks/cowatch_gram.py [--members 50000 --titles 5000 --per-member 60]

Each member's titles fall within 30 minutes, so with the default 6-minute window every pair of a
member's titles is "close": members × per_member × (per_member − 1) ordered pairs. Prints the pairs,
seconds and pairs per second; writes benchmarks/results/cowatch_gram.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from limelight.personalize.models.cowatch import cowatch_gram


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--titles", type=int, default=5_000)
    parser.add_argument("--per-member", type=int, default=60)
    parser.add_argument("--window-minutes", type=float, default=6.0)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = np.repeat(np.arange(args.members), args.per_member)
    cols = np.concatenate([rng.choice(args.titles, args.per_member, replace=False) for _ in range(args.members)])
    start = np.repeat(rng.integers(0, 10**7, args.members), args.per_member)
    times = 1.6e9 + start + rng.uniform(0, 1800, rows.size)
    last_at = sp.csr_matrix((times, (rows, cols)), shape=(args.members, args.titles))
    began = time.perf_counter()
    cowatch_gram(last_at, args.window_minutes * 60.0)
    seconds = time.perf_counter() - began
    pairs = args.members * args.per_member * (args.per_member - 1)
    result = {
        "command": "python " + " ".join(sys.argv), "interactions": int(rows.size), "titles": args.titles,
        "ordered_pairs": pairs, "seconds": round(seconds, 2), "pairs_per_second": round(pairs / seconds),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results" / "cowatch_gram.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
