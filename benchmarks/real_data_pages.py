"""What members of a real ratings dataset would see: ml-latest-small (610 members, 9,742 films).

    .venv/bin/python benchmarks/real_data_pages.py [--db /tmp/ml.duckdb]   # ingests the shared copy if --db is new

Counts, over every member and every film with at least 50 ratings (the engine `limelight home` builds,
default model EASE): how much of "More like this" and "Because You Watched" is films rated 3 times or
fewer, how concentrated the top-10 lists are, how often a film with no release date is in them, whether
a "Top 10 this week" row is shown and holds films the member already rated, and how many reasons on
the pages and top-10 lists name a film the member last rated below 3 stars. Run it with older code on
PYTHONPATH to compare (`git worktree add /tmp/old <commit>`).
"""

from __future__ import annotations

import argparse
import collections
import os
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=Path("/tmp/limelight-ml-latest-small.duckdb"))
    args = parser.parse_args()
    from limelight.personalize.engine import PersonalizationEngine
    from limelight.spine.loaders import load_paths
    from limelight.spine.store import Store

    shared = Path(os.environ.get("LIMELIGHT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    if not args.db.exists():
        with Store(args.db) as store:
            store.ingest(load_paths([shared / "movielens" / "ml-latest-small"]))
    started = time.perf_counter()
    with Store(args.db, read_only=True) as store:
        engine = PersonalizationEngine.from_store(store)
        built = time.perf_counter() - started
        # Read here from the ratings themselves, not through the engine under test.
        low = store.query("""SELECT member_id, title_id FROM ratings WHERE scale = 'stars'
                             GROUP BY member_id, title_id HAVING arg_max(rating, rated_at) < 3""")
    panned = set(zip(low["member_id"].astype(str), low["title_id"].astype(str), strict=True))
    cat, views = engine.catalog, engine.views_
    rare = views <= 3
    famous = np.flatnonzero(views >= 50)
    similar_rare = [np.mean([rare[cat.index_of(s.title_id)] for s in engine.similar(str(cat.axis_ids[i]), k=10)])
                    for i in famous]
    byw = byw_rare = top10_rows = top10_rated = 0
    lists: collections.Counter[str] = collections.Counter()
    undated = reasons = reasons_panned = 0
    for member in engine.histories.member_ids:
        view = engine.view(member)
        page = engine.home(member, max_rows=20, per_row=12)
        named = [b for row in page.rows for i in row.items for b in i.because]
        named += [b for r in engine.recommend(member, k=10) for b in r.because]
        reasons += len(named)
        reasons_panned += sum((member, b) in panned for b in named)
        for row in page.rows:
            if row.row_kind == "because_you_watched":
                byw += len(row.items)
                byw_rare += sum(rare[cat.index_of(i.title_id)] for i in row.items)
            if row.row_kind == "top10":
                top10_rows += 1
                top10_rated += sum(view.seen[cat.index_of(i.title_id)] for i in row.items)
        top = [r.title_id for r in engine.recommend(member, k=10)]
        lists.update(top)
        undated += any(np.isnan(cat.release_day[cat.index_of(t)]) for t in top)
    n = len(engine.histories.member_ids)
    head = sum(c for _, c in lists.most_common(10))
    print(f"engine built in {built:.1f} s; {len(famous)} films with 50+ ratings, {n} members")
    print(f"More like this (top 10) of films with 50+ ratings: {np.mean(similar_rare):.1%} of items rated 3 times "
          f"or fewer; lists at least half such: {np.mean(np.array(similar_rare) >= 0.5):.1%}")
    print(f"Because You Watched rows: {byw_rare / max(byw, 1):.1%} of {byw} items rated 3 times or fewer")
    print(f"top-10 lists: {len(lists)} distinct films ({len(lists) / cat.n_titles:.1%} of the catalog); the 10 most "
          f"listed fill {head / (10 * n):.1%} of slots ({', '.join(f'{cat.names[cat.index_of(t)]} {c}' for t, c in lists.most_common(3))}); "
          f"lists holding a film with no release date: {undated}")
    print(f"titles named as reasons (page items and top 10s): {reasons}; of them rated below 3 stars by the member: "
          f"{reasons_panned} ({reasons_panned / max(reasons, 1):.1%}); member-film pairs rated below 3: {len(panned)}")
    print(f"'Top 10 this week' rows shown: {top10_rows} of {n} pages; items in them the member already rated: {top10_rated}")


if __name__ == "__main__":
    main()
