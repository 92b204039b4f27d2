"""Benchmark: talent statements over the published data, and (optionally) over the demo world's spine.

1. Published data (the issue's check): statements for every title of all four Netflix engagement reports
   and every credit in the titles catalog: `estimate_titles` + catalog join + `credit_rows` (with a supplied
   fixed residual, so every paid credit gets its split and pay per thousand views). Parsing the xlsx files
   and writing HTML/CSV are timed separately.
2. Peer in the same run: the scalar engine (`success_bonus`, exact Decimal) applied row by row to the same
   report rows, to show what vectorising buys.
3. `--demo-events N`: `credit_lines` (per credit and window, from viewing events) on a demo world of N events.

Prints a table and writes benchmarks/results/talent.json. Run:
    .venv/bin/python benchmarks/talent.py --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from limelight.settings import shared_data_dir


def _median(fn: Any, repeat: int) -> tuple[float, list[float], Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--demo-events", type=int, default=0, help="also time spine statements on a demo world")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/talent.json"))
    args = parser.parse_args()

    from limelight.spine.loaders.netflix_engagement import read_report_frame
    from limelight.spine.loaders.netflix_financials import read_paid_memberships
    from limelight.talent.bonus import success_bonus
    from limelight.talent.report import ReportAssumptions, build_report, read_catalog, write_report
    from limelight.talent.rules import agreement_for

    data = shared_data_dir() / "netflix"
    reports = sorted((data / "engagement").glob("*.xlsx"))
    t = time.perf_counter()
    engagement = pd.concat([read_report_frame(f) for f in reports], ignore_index=True)
    memberships = read_paid_memberships(data / "financials" / "Q3-23-Website-Financials.xlsx")
    catalog = read_catalog(data / "titles" / "netflix_titles.csv")
    parse_s = time.perf_counter() - t

    assumptions = ReportAssumptions(fixed_residual=Decimal("20000"))
    stmt_s, stmt_all, (titles, credits) = _median(
        lambda: build_report(engagement, memberships, assumptions, catalog), args.repeat
    )

    with tempfile.TemporaryDirectory() as tmp:
        write_s, _, _ = _median(lambda: write_report(engagement, memberships, tmp, assumptions, catalog), 1)

    # Peer: every row with a runtime and a subscriber base, its whole half-year's domestic hours against
    # the trigger, once row by row with the exact scalar engine and once vectorised (numpy).
    pack = agreement_for("sag-aftra")
    rows = titles[(titles["runtime_minutes"] > 0) & titles["domestic_subscribers"].notna()]
    dom_hours = (rows["hours_viewed"] * rows["domestic_share"]).to_numpy()
    runtime = rows["runtime_minutes"].to_numpy()
    subs = rows["domestic_subscribers"].to_numpy()

    def scalar() -> int:
        return sum(
            success_bonus(pack, domestic_hours=float(h), runtime_minutes=float(m), domestic_subscribers=int(s),
                          fixed_residual=Decimal("20000")).eligible
            for h, m, s in zip(dom_hours, runtime, subs)
        )

    def vectorised() -> int:
        from limelight.talent.views import views_array

        return int((views_array(dom_hours, runtime) >= 0.2 * subs).sum())

    scalar_s, _, n_scalar_eligible = _median(scalar, 1)
    vector_s, _, n_vector_eligible = _median(vectorised, args.repeat)

    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores visible, Python {platform.python_version()}",
        "load_average": os.getloadavg(),
        "reports": [r.name for r in reports],
        "report_rows": len(titles),
        "catalog_titles": len(catalog),
        "credit_rows": len(credits),
        "credits_on_report_rows": int(credits["period_start"].notna().sum()),
        "parse_s": round(parse_s, 3),
        "statements_s_median": round(stmt_s, 3),
        "statements_s_all": [round(x, 3) for x in stmt_all],
        "write_html_csv_s": round(write_s, 3),
        "end_to_end_s": round(parse_s + stmt_s + write_s, 3),
        "peer_rows": len(rows),
        "peer_scalar_decimal_s": round(scalar_s, 3),
        "peer_vectorised_s": round(vector_s, 4),
        "peer_speedup": round(scalar_s / vector_s, 1) if vector_s else None,
        "peer_agree": n_scalar_eligible == n_vector_eligible,
    }

    if args.demo_events:
        from limelight.spine.store import Store
        from limelight.spine.world import TODAY, build_demo_world
        from limelight.talent.statements import credit_lines, title_windows

        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "demo.duckdb"
            build_demo_world(db, events=args.demo_events, seed=7)
            with Store(db, read_only=True) as store:
                demo_s, _, lines = _median(lambda: credit_lines(store, as_of=TODAY), args.repeat)
                win_s, _, wins = _median(lambda: title_windows(store, as_of=TODAY), args.repeat)
        result.update(
            demo_events=args.demo_events, demo_credit_window_lines=len(lines), demo_statements_s=round(demo_s, 3),
            demo_program_windows=len(wins), demo_title_windows_s=round(win_s, 3),
        )

    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
