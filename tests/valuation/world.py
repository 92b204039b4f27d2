"""A small generated history of engagement reports with a known structure, for the valuation engine tests.

Four half-year windows (2023H1 … 2024H2). Each window lists titles released in it (their first window) and
titles released earlier (catalog viewing). Hours grow with runtime, days in the window, global
availability and a title's "appeal"; a later season inherits its previous season's appeal, so the previous
season's first-window hours carry signal, as in the real reports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WINDOWS = (
    (pd.Timestamp("2023-01-01"), pd.Timestamp("2023-06-30")),
    (pd.Timestamp("2023-07-01"), pd.Timestamp("2023-12-31")),
    (pd.Timestamp("2024-01-01"), pd.Timestamp("2024-06-30")),
    (pd.Timestamp("2024-07-01"), pd.Timestamp("2024-12-31")),
)
NATIVE = {"ko": " // 한국어 제목", "es": " // La serie: Temporada", "en": ""}


def generate_reports(seed: int = 3, per_window: int = 90) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    franchises: dict[str, dict[str, object]] = {}
    released: list[dict[str, object]] = []
    for w, (start, end) in enumerate(WINDOWS):
        source = f"report-{start:%Y%m}.xlsx"
        new_titles = []
        for i in range(per_window):
            kind = "show" if rng.random() < 0.55 else "film"
            lang = rng.choice(["en", "ko", "es"], p=[0.6, 0.2, 0.2])
            sequel_of = None
            if kind == "show" and franchises and rng.random() < 0.5:
                sequel_of = rng.choice(sorted(franchises))
            if sequel_of is not None:
                base = franchises[sequel_of]
                season = int(base["season"]) + 1  # type: ignore[call-overload]
                appeal = float(base["appeal"]) + rng.normal(0, 0.3)  # type: ignore[arg-type]
                lang = str(base["lang"])
                name = f"{sequel_of}: Season {season}"
            else:
                appeal = rng.normal(0, 0.5)
                stem = f"Title {w}-{i}"
                season = 1
                name = f"{stem}: Season 1" if kind == "show" else stem
                sequel_of = stem
            name += NATIVE[lang] if lang != "en" else ""
            runtime = float(rng.uniform(300, 600) if kind == "show" else rng.uniform(80, 140))
            release = start + pd.Timedelta(days=int(rng.integers(0, (end - start).days + 1)))
            days = (end - release).days + 1
            glob = bool(rng.random() < 0.75)
            log_hours = (
                14.0
                + 1.2 * appeal
                + 1.0 * np.log(runtime / 100)
                + 0.8 * np.log(days / 90)
                + 1.0 * glob
                + (0.3 if lang == "en" else 0.0)
                + rng.normal(0, 0.35)
            )
            hours = float(np.round(np.exp(log_hours), -5)) or 100_000.0
            title = dict(
                title_name=name,
                kind=kind,
                release_date=release,
                runtime_minutes=runtime,
                available_globally=glob,
                hours_viewed=hours,
                appeal=appeal,
            )
            new_titles.append(title)
            if kind == "show":
                franchises[str(sequel_of)] = {"season": season, "appeal": appeal, "lang": lang}
        for t in new_titles:
            rows.append(
                dict(
                    source=source,
                    sheet="TV" if t["kind"] == "show" else "Film",
                    period_start=start,
                    period_end=end,
                    **{k: v for k, v in t.items() if k != "appeal"},
                )
            )
        for t in released:  # catalog viewing of earlier titles, decaying
            hours = float(np.round(float(t["hours_viewed"]) * 0.3, -5))  # type: ignore[arg-type]
            if hours >= 100_000:
                rows.append(
                    dict(
                        source=source,
                        sheet="TV" if t["kind"] == "show" else "Film",
                        period_start=start,
                        period_end=end,
                        **{k: v for k, v in t.items() if k not in ("appeal", "hours_viewed")},
                        hours_viewed=hours,
                    )
                )
        released.extend(new_titles)
    frame = pd.DataFrame(rows)
    frame["views"] = (frame["hours_viewed"] / (frame["runtime_minutes"] / 60)).round(-5)
    frame["row_number"] = frame.groupby(["source", "sheet"]).cumcount() + 7
    return frame


def write_report_xlsx(frame: pd.DataFrame, folder: object) -> list[object]:
    """Write each window of `frame` as a Netflix-layout workbook (header on row 6, TV and Film sheets)."""
    from pathlib import Path

    from openpyxl import Workbook

    paths = []
    for (start, end), part in frame.groupby(["period_start", "period_end"]):
        wb = Workbook()
        wb.remove(wb.active)
        for sheet, kind in (("TV", "show"), ("Film", "film")):
            ws = wb.create_sheet(sheet)
            ws.cell(row=2, column=2, value="What We Watched: A Netflix Engagement Report")
            ws.cell(row=3, column=2, value=f"Views from {start:%B} to {end:%B %Y}")
            header = ["Title", "Available Globally?", "Release Date", "Hours Viewed", "Runtime", "Views"]
            for j, name in enumerate(header):
                ws.cell(row=6, column=j + 2, value=name)
            rows = part[part["kind"] == kind].sort_values("hours_viewed", ascending=False)
            for i, r in enumerate(rows.itertuples(index=False)):
                minutes = round(float(r.runtime_minutes))
                values = [
                    r.title_name,
                    "Yes" if r.available_globally else "No",
                    pd.Timestamp(r.release_date).strftime("%Y-%m-%d"),
                    int(r.hours_viewed),
                    f"{minutes // 60}:{minutes % 60:02d}",
                    int(r.views),
                ]
                for j, v in enumerate(values):
                    ws.cell(row=7 + i, column=j + 2, value=v)
        half = "Jan-Jun" if pd.Timestamp(start).month == 1 else "Jul-Dec"
        path = (
            Path(str(folder))
            / f"What_We_Watched_A_Netflix_Engagement_Report_{pd.Timestamp(start).year}{half}.xlsx"
        )
        wb.save(path)
        paths.append(path)
    return paths
