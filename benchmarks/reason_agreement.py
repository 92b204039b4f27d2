"""Do list reasons agree with `explain`? Share of list items whose "Because you watched X" names the
title `explain` ranks first, and the time to compute lists and explanations.

    .venv/bin/limelight demo --db /tmp/s9/demo.duckdb --events 100000
    .venv/bin/python benchmarks/reason_agreement.py --db /tmp/s9/demo.duckdb [--model als] [--members 300]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--model", default=None, help="a model name (default: the engine's EASE)")
    parser.add_argument("--members", type=int, default=300)
    args = parser.parse_args()

    from limelight.personalize.engine import PersonalizationEngine
    from limelight.personalize.models import make_model  # type: ignore[attr-defined]
    from limelight.spine.store import Store

    with Store(args.db, read_only=True) as store:
        engine = PersonalizationEngine.from_store(store, make_model(args.model) if args.model else None)
    named = agree = 0
    start = time.perf_counter()
    for member in list(engine.histories.member_ids)[: args.members]:
        for item in engine.recommend(member, 10):
            if item.because:
                named += 1
                first = engine.explain(member, item.title_id).because_titles
                agree += bool(first) and first[0].title_id == item.because[0]
    print(f"model {args.model or 'ease (engine default)'}: {named} list items name a title; "
          f"{agree / max(named, 1):.1%} name explain's first title ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
