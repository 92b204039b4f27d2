"""What a home page says, counted over a store: similar-title slots holding titles not out yet, Top 10
ranks where a row and `explain` disagree, reasons naming a title above the member's maturity limit, and
titles the member gave a thumbs-down (their latest thumbs rating of the title or any of its episodes)
shown in Continue Watching, in other rows, or named as a reason.

    .venv/bin/limelight demo --db /tmp/s11/fresh.duckdb --events 100000
    .venv/bin/python benchmarks/home_audit_counts.py /tmp/s11/fresh.duckdb [--members 600] [--thumbs-members 400]

Run it with older code on PYTHONPATH to compare (`git worktree add /tmp/old <commit>`;
`PYTHONPATH=/tmp/old/src .venv/bin/python benchmarks/home_audit_counts.py …`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

DOWNS_SQL = """
WITH r AS (
    SELECT r.member_id, coalesce(g.title_id, p.title_id, r.title_id) AS root, r.rating, r.rated_at
    FROM ratings r LEFT JOIN titles t ON t.title_id = r.title_id
    LEFT JOIN titles p ON p.title_id = t.parent_id LEFT JOIN titles g ON g.title_id = p.parent_id
    WHERE r.scale = 'thumbs')
SELECT member_id, root FROM r GROUP BY ALL HAVING arg_max(rating, rated_at) < 0 ORDER BY 1, 2
"""


def page_counts(engine: Any, members: int) -> str:
    cat = engine.catalog
    unreleased = sum(
        not engine.released[cat.index_of(s.title_id)] for t in cat.axis_ids for s in engine.similar(str(t), k=10)
    )
    disagree = above = 0
    for member in list(engine.histories.member_ids)[:members]:
        within = cat.maturity_level <= engine.members.maturity_limit.get(member, 99)
        for row in engine.home(member, max_rows=20, per_row=30).rows:
            above += sum(not within[cat.index_of(b)] for item in row.items for b in item.because)
            if row.row_kind == "top10":
                for item in row.items:
                    rank = int(item.reason.split(" ")[0].lstrip("#"))
                    disagree += engine.explain(member, item.title_id).popularity_rank != rank
    return (f"similar-title slots (top 10 of every title) not released: {unreleased}; Top 10 ranks the row and "
            f"explain disagree on ({members} members): {disagree}; reasons naming a title above the "
            f"member's limit: {above}")


def thumbs_down_counts(engine: Any, downs: Any, members: int) -> str:
    down = set(zip(downs["member_id"], downs["root"], strict=True))
    resume = named = shown = 0
    raters = list(dict.fromkeys(downs["member_id"]))[:members]
    for member in raters:
        for row in engine.home(member, max_rows=20, per_row=30).rows:
            for item in row.items:
                if row.row_kind == "continue_watching":
                    resume += (member, item.title_id) in down
                    continue
                shown += (member, item.title_id) in down
                named += sum((member, b) in down for b in item.because)
    return (f"{len(down):,} (member, title) pairs rated down; over {len(raters)} of their members: Continue "
            f"Watching items rated down {resume}, other items rated down {shown}, reasons naming a title rated "
            f"down {named}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("db", type=Path)
    parser.add_argument("--members", type=int, default=600)
    parser.add_argument("--thumbs-members", type=int, default=400)
    args = parser.parse_args()

    from limelight.personalize.engine import PersonalizationEngine
    from limelight.spine.store import Store

    with Store(args.db, read_only=True) as store:
        engine = PersonalizationEngine.from_store(store)
        downs = store.query(DOWNS_SQL)
    print(page_counts(engine, args.members))
    print(thumbs_down_counts(engine, downs, args.thumbs_members))


if __name__ == "__main__":
    main()
