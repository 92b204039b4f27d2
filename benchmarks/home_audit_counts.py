"""What a home page says, counted over a store: similar-title slots holding titles not out yet, Top 10
ranks where a row and `explain` disagree, and reasons naming a title above the member's maturity limit.

    .venv/bin/limelight demo --db /tmp/s10/fresh.duckdb --events 100000
    .venv/bin/python benchmarks/home_audit_counts.py /tmp/s10/fresh.duckdb [--members 600]

Run it with older code on PYTHONPATH to compare (`git worktree add /tmp/old <commit>`;
`PYTHONPATH=/tmp/old/src .venv/bin/python benchmarks/home_audit_counts.py …`).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("db", type=Path)
    parser.add_argument("--members", type=int, default=600)
    args = parser.parse_args()

    from limelight.personalize.engine import PersonalizationEngine
    from limelight.spine.store import Store

    with Store(args.db, read_only=True) as store:
        engine = PersonalizationEngine.from_store(store)
    cat = engine.catalog
    unreleased = sum(
        not engine.released[cat.index_of(s.title_id)] for t in cat.axis_ids for s in engine.similar(str(t), k=10)
    )
    disagree = above = 0
    for member in list(engine.histories.member_ids)[: args.members]:
        within = cat.maturity_level <= engine.members.maturity_limit.get(member, 99)
        for row in engine.home(member, max_rows=20, per_row=30).rows:
            above += sum(not within[cat.index_of(b)] for item in row.items for b in item.because)
            if row.row_kind == "top10":
                for item in row.items:
                    rank = int(item.reason.split(" ")[0].lstrip("#"))
                    disagree += engine.explain(member, item.title_id).popularity_rank != rank
    print(f"similar-title slots (top 10 of every title) not released: {unreleased}; Top 10 ranks the row and "
          f"explain disagree on ({args.members} members): {disagree}; reasons naming a title above the "
          f"member's limit: {above}")


if __name__ == "__main__":
    main()
