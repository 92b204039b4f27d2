"""Event intake on the service's write path: store a batch (DuckDB transaction, duplicate and conflict
checks) and fold it into the members' histories and candidates, per batch, medians over batches.

    .venv/bin/limelight demo --db /tmp/s9/demo.duckdb --events 100000
    .venv/bin/python benchmarks/event_intake.py --db /tmp/s9/demo.duckdb [--batch 20] [--batches 40]

Works on a copy of `--db` (the store is not changed). Each event names a random member and title of
the demo world, so a batch of 20 touches about 20 members.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--batches", type=int, default=40)
    args = parser.parse_args()

    from limelight.service.app import create_app
    from limelight.service.events import EventBatch, store_events

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "intake.duckdb"
        shutil.copyfile(args.db, db)
        state = create_app(db).state.limelight
        con = state.con
        members = [r[0] for r in con.execute("SELECT member_id FROM members ORDER BY member_id").fetchall()]
        titles = [r[0] for r in con.execute(
            "SELECT title_id FROM titles WHERE kind IN ('film', 'episode') ORDER BY title_id").fetchall()]
        last = con.execute("SELECT max(started_at) FROM viewing_events").fetchall()[0][0]
        rng = np.random.default_rng(7)
        state.observe(state.con.execute("SELECT * FROM viewing_events LIMIT 0").df())  # load the engine first
        stored, folded = [], []
        for _ in range(args.batches):
            events = [dict(event_id=str(uuid.uuid4()), member_id=str(rng.choice(members)),
                           title_id=str(rng.choice(titles)), started_at=last.isoformat(), seconds_viewed=600)
                      for _ in range(args.batch)]
            batch = EventBatch(events=events).events
            t = time.perf_counter()
            fresh, _ = store_events(state.con, batch, state.write_lock)
            stored.append(time.perf_counter() - t)
            t = time.perf_counter()
            state.observe(fresh)
            folded.append(time.perf_counter() - t)
        state.close()
    s, f = np.median(stored) * 1e3, np.median(folded) * 1e3
    print(f"batch of {args.batch}: store {s:.1f} ms, fold-in {f:.1f} ms (medians of {args.batches}); "
          f"{args.batch / ((s + f) / 1e3):,.0f} events/s one batch at a time")


if __name__ == "__main__":
    main()
