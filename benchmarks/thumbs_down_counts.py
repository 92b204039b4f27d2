"""How often a home page shows, or names as a reason, a title the member gave a thumbs-down (their latest
thumbs rating of the title or of any of its episodes), over the members who gave one.

    .venv/bin/limelight demo --db /tmp/s11/fresh.duckdb --events 100000
    .venv/bin/python benchmarks/thumbs_down_counts.py /tmp/s11/fresh.duckdb [--members 400]

Run it with older code on PYTHONPATH to compare (`git worktree add /tmp/old <commit>`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

DOWNS_SQL = """
WITH r AS (
    SELECT r.member_id, coalesce(g.title_id, p.title_id, r.title_id) AS root, r.rating, r.rated_at
    FROM ratings r LEFT JOIN titles t ON t.title_id = r.title_id
    LEFT JOIN titles p ON p.title_id = t.parent_id LEFT JOIN titles g ON g.title_id = p.parent_id
    WHERE r.scale = 'thumbs')
SELECT member_id, root FROM r GROUP BY ALL HAVING arg_max(rating, rated_at) < 0 ORDER BY 1, 2
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("db", type=Path)
    parser.add_argument("--members", type=int, default=400)
    args = parser.parse_args()

    from limelight.personalize.engine import PersonalizationEngine
    from limelight.spine.store import Store

    with Store(args.db, read_only=True) as store:
        downs = store.query(DOWNS_SQL)
        engine = PersonalizationEngine.from_store(store)
    down = set(zip(downs["member_id"], downs["root"], strict=True))
    resume = named = shown = 0
    members = list(dict.fromkeys(downs["member_id"]))[: args.members]
    for member in members:
        for row in engine.home(member, max_rows=20, per_row=30).rows:
            for item in row.items:
                if row.row_kind == "continue_watching":
                    resume += (member, item.title_id) in down
                    continue
                shown += (member, item.title_id) in down
                named += sum((member, b) in down for b in item.because)
    print(f"{len(down):,} (member, title) pairs rated down; over {len(members)} of their members: Continue "
          f"Watching items rated down {resume}, other items rated down {shown}, reasons naming a title rated "
          f"down {named}")


if __name__ == "__main__":
    main()
