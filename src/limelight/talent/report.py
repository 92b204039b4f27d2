"""The published-data report: which titles in Netflix's engagement reports likely crossed the bonus trigger.

Netflix publishes global hours per half-year, not domestic hours in a title's first 90 days. The report
bridges the gap with three stated, adjustable assumptions, printed on every page and in every CSV row:

1. domestic share of hours - default: UCAN's share of paid memberships at the applicable July 1
   (from the published regional figures), a proxy for the share of viewing in the US and Canada;
2. share of a half-year's hours inside the first 90 days - default 0.7 for titles released in the
   half-year with more than 90 days left in it; 1.0 when fewer than 90 days remain (all its hours in
   the report then fall inside the window, and viewing after the half-year is not seen: a lower bound);
3. the domestic (UCAN) paid memberships at the July 1 on or before release - the latest published
   quarter end on or before that date (a stale figure is flagged by its as-of date).

Everything is vectorised over the ~66,000 rows of the four reports. Titles released before a report's
half-year have no first-90-day estimate from that report. Whether a title is a high-budget SVOD program
(and so covered at all) is not public: the report says whether its viewing would cross the trigger.
"""

from __future__ import annotations

import html
import logging
import math
import re
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from limelight.errors import DataError, InputError
from limelight.talent.bonus import money, split_cents
from limelight.talent.rules import AgreementPack, agreement_for

__all__ = [
    "ReportAssumptions",
    "ReportResult",
    "build_report",
    "catalog_credits",
    "credit_rows",
    "engagement_from_store",
    "estimate_rows",
    "estimate_titles",
    "name_key",
    "read_catalog",
    "write_report",
]

log = logging.getLogger(__name__)

_SUFFIX = re.compile(
    r":\s*(season|series|part|volume|vol\.|book|chapter|limited series|miniseries|collection)\b.*$", re.IGNORECASE
)
_PUNCT = re.compile(r"[^\w\s]")


def _key(name: object) -> str:
    if not isinstance(name, str):
        return ""
    n = _SUFFIX.sub("", name.split(" // ", 1)[0])
    return " ".join(_PUNCT.sub("", n.lower()).split())


def name_key(names: pd.Series) -> pd.Series:
    """A matching key: the English title before ' // ', without ': Season N' and punctuation, lowercased."""
    return pd.Series([_key(n) for n in names.to_numpy(dtype=object)], index=names.index, dtype=object)


@dataclass(frozen=True)
class ReportAssumptions:
    """The report's adjustable assumptions. None means 'derive from the published financials'."""

    domestic_share: float | None = None
    first90_share: float = 0.7
    domestic_subscribers: int | None = None
    fixed_residual: Decimal | None = None  # applied to every title; not public, user-supplied
    principal_cast: int | None = None  # first N listed cast count as principal performers; None = all

    def __post_init__(self) -> None:
        if self.domestic_share is not None and not 0 < self.domestic_share <= 1:
            raise InputError(f"domestic share must be in (0, 1], got {self.domestic_share}")
        if not 0 < self.first90_share <= 1:
            raise InputError(f"first-90-days share must be in (0, 1], got {self.first90_share}")
        if self.domestic_subscribers is not None and self.domestic_subscribers <= 0:
            raise InputError(f"domestic subscribers must be positive, got {self.domestic_subscribers}")
        if self.fixed_residual is not None and money(self.fixed_residual) < 0:
            raise InputError(f"fixed residual must be at least 0, got {self.fixed_residual}")
        if self.principal_cast is not None and self.principal_cast < 1:
            raise InputError(f"principal cast must be at least 1, got {self.principal_cast}")

    def lines(self) -> list[str]:
        """The assumptions as sentences, for every page."""
        ds = (
            f"{self.domestic_share:.1%} of each title's hours are domestic (US and Canada) (user-set)"
            if self.domestic_share is not None
            else "domestic (US and Canada) share of hours = UCAN's share of Netflix paid memberships at the applicable July 1 (published regional figures)"
        )
        subs = (
            f"domestic subscribers: {self.domestic_subscribers:,} (user-set)"
            if self.domestic_subscribers is not None
            else "domestic subscribers: UCAN paid memberships at the latest published quarter end on or before the July 1 that applies"
        )
        fixed = (
            f"fixed residual per program: ${money(self.fixed_residual):,} (user-supplied; the tier tables are not public)"
            if self.fixed_residual is not None
            else "fixed residual: not supplied (not public), so money is not estimated"
        )
        cast = (
            f"the first {self.principal_cast} listed cast members are principal performers"
            if self.principal_cast
            else "every listed cast member is a principal performer (the catalog gives no billing)"
        )
        return [
            ds,
            f"{self.first90_share:.0%} of a half-year's hours fall in the first 90 days for a title released in that half-year "
            "with more than 90 days left in it (all of them when fewer remain: a lower bound, later viewing is not seen)",
            subs,
            fixed,
            cast + "; the performers' share is split equally among them",
            "the reports cannot say which titles are high-budget SVOD programs: 'likely crossed' means the viewing would cross the trigger",
        ]


def _july1(release: pd.Series) -> pd.Series:
    year = release.dt.year
    before = (release.dt.month < 7).astype("int64")
    return pd.to_datetime(pd.DataFrame({"year": year - before, "month": 7, "day": 1}), errors="coerce")


def _asof(series_dates: pd.Series, table: pd.DataFrame, value: str) -> tuple[np.ndarray, np.ndarray]:
    """For each date, the latest table row on or before it: (value, as_of); NaN/NaT where none."""
    table = table.sort_values("as_of")
    keys = table["as_of"].to_numpy(dtype="datetime64[ns]")
    vals = table[value].to_numpy(dtype="float64")
    q = series_dates.to_numpy(dtype="datetime64[ns]")
    idx = np.searchsorted(keys, q, side="right") - 1
    ok = (idx >= 0) & ~np.isnat(q)
    out = np.full(len(q), np.nan)
    when = np.full(len(q), np.datetime64("NaT"), dtype="datetime64[ns]")
    out[ok] = vals[idx[ok]]
    when[ok] = keys[idx[ok]]
    return out, when


def estimate_titles(
    engagement: pd.DataFrame,
    memberships: pd.DataFrame | None,
    assumptions: ReportAssumptions,
    pack: AgreementPack | None = None,
) -> pd.DataFrame:
    """Per report row: first-90-day domestic views estimate, metric, trigger, views needed, money if supplied."""
    pack = pack or agreement_for("sag-aftra")
    rule = pack.success_bonus
    assert rule is not None
    needed_cols = ("title_name", "release_date", "hours_viewed", "period_start", "period_end", "runtime_minutes")
    missing = [c for c in needed_cols if c not in engagement.columns]
    if missing:
        raise DataError(f"engagement rows lack column '{missing[0]}'")
    df = engagement.reset_index(drop=True).copy()
    df["release_date"] = pd.to_datetime(df["release_date"], errors="coerce")
    df["period_start"] = pd.to_datetime(df["period_start"])
    df["period_end"] = pd.to_datetime(df["period_end"])
    # A report without runtimes (2023 Jan-Jun) borrows the title's runtime from another report.
    runtime = df["runtime_minutes"].astype("float64")
    df["runtime_minutes"] = runtime.fillna(runtime.groupby(df["title_name"]).transform("max"))
    df["runtime_borrowed"] = runtime.isna() & df["runtime_minutes"].notna()
    df["name_key"] = name_key(df["title_name"])

    released_in = (df["release_date"] >= df["period_start"]) & (df["release_date"] <= df["period_end"])
    days_left = (df["period_end"] - df["release_date"]).dt.days + 1
    share90 = np.where(days_left <= 90, 1.0, assumptions.first90_share)
    df["first90_share"] = np.where(released_in, share90, np.nan)
    df["july1"] = _july1(df["release_date"])

    if assumptions.domestic_subscribers is not None:
        df["domestic_subscribers"] = float(assumptions.domestic_subscribers)
        df["subscribers_as_of"] = pd.NaT
    elif memberships is not None and not memberships.empty:
        m = memberships.copy()
        m["as_of"] = pd.to_datetime(m["as_of"])
        ucan = m[m["region"] == "UCAN"]
        subs, when = _asof(df["july1"], ucan, "paid_memberships")
        df["domestic_subscribers"] = subs
        df["subscribers_as_of"] = when
    else:
        raise InputError("give the published financials (--financials) or a domestic subscriber count (--domestic-subscribers)")

    if assumptions.domestic_share is not None:
        df["domestic_share"] = assumptions.domestic_share
    else:
        if memberships is None or memberships.empty:
            raise InputError("give the published financials (--financials) or a domestic share of hours (--domestic-share)")
        m = memberships.copy()
        m["as_of"] = pd.to_datetime(m["as_of"])
        wide = m.pivot_table(index="as_of", columns="region", values="paid_memberships", aggfunc="last").reset_index()
        if "UCAN" not in wide.columns:
            raise InputError("the membership figures have no UCAN region; give a domestic share of hours (--domestic-share)")
        if "global" not in wide.columns:
            wide["global"] = wide[[c for c in ("UCAN", "EMEA", "LATAM", "APAC") if c in wide.columns]].sum(axis=1)
        wide["share"] = wide["UCAN"] / wide["global"]
        share, _ = _asof(df["july1"].fillna(df["period_start"]), wide.dropna(subset=["share"]), "share")
        # Before the first published quarter, use the earliest published share.
        df["domestic_share"] = np.where(np.isnan(share), float(wide["share"].dropna().iloc[0]), share)

    hours = df["hours_viewed"].astype("float64")
    df["domestic_hours_90"] = hours * df["domestic_share"] * df["first90_share"]
    with np.errstate(divide="ignore", invalid="ignore"):
        df["views_90"] = np.where(df["runtime_minutes"] > 0, df["domestic_hours_90"] * 60.0 / df["runtime_minutes"], np.nan)
        trig = float(rule.trigger_share.decimal())
        df["trigger_views"] = trig * df["domestic_subscribers"]
        df["metric"] = df["views_90"] / df["domestic_subscribers"]
    measurable = df["views_90"].notna() & df["domestic_subscribers"].notna()
    df["likely_crossed"] = pd.array(np.where(measurable, df["metric"] >= trig, pd.NA), dtype="boolean")  # type: ignore[call-overload]
    need = np.ceil(np.maximum(df["trigger_views"] - df["views_90"], 0.0))
    df["views_needed"] = pd.array(np.where(measurable, need, np.nan), dtype="Float64").astype("Int64")
    released = df["release_date"].notna().to_numpy()
    eligible = (df["release_date"] >= pd.Timestamp(rule.released_from)).to_numpy()
    df["release_eligible"] = pd.array(np.where(released, eligible, pd.NA), dtype="boolean")  # type: ignore[call-overload]
    # Kleene logic: a trigger not known (no base for the July 1) leaves the bonus unknown, but a release
    # before the cutoff is a known no whatever the base — never a "no" for what is not known.
    df["bonus_applies"] = df["likely_crossed"] & df["release_eligible"]

    df["fixed_residual"] = None
    df["sag_bonus"] = None
    df["sag_performers_share"] = None
    df["sag_fund_share"] = None
    df["wga_bonus"] = None
    df["dga_bonus"] = None
    if assumptions.fixed_residual is not None:
        fixed = money(assumptions.fixed_residual)
        sag = agreement_for("sag-aftra").success_bonus
        wga = agreement_for("wga").success_bonus
        dga = agreement_for("dga").success_bonus
        assert sag is not None and wga is not None and dga is not None
        sag_bonus = money(fixed * sag.bonus_rate.decimal())
        sag_perf = money(sag_bonus * sag.recipients_share.decimal())
        wga_bonus = money(fixed * wga.bonus_rate.decimal())
        dga_bonus = money(fixed * dga.bonus_rate.decimal())  # since the DGA's 2024 modification
        zero = Decimal("0.00")
        applies = df["bonus_applies"].fillna(False).to_numpy(dtype=bool)
        unknown = df["bonus_applies"].isna().to_numpy()
        df["fixed_residual"] = fixed

        def amounts(paid: Decimal) -> np.ndarray:
            """The amount where the bonus applies, 0.00 where it does not, None where that is unknown."""
            return np.where(unknown, None, np.where(applies, paid, zero))  # type: ignore[call-overload,no-any-return]

        df["sag_bonus"] = amounts(sag_bonus)
        df["sag_performers_share"] = amounts(sag_perf)
        df["sag_fund_share"] = amounts(sag_bonus - sag_perf)
        df["wga_bonus"] = amounts(wga_bonus)
        df["dga_bonus"] = amounts(dga_bonus)
    return df


def read_catalog(path: str | Path) -> pd.DataFrame:
    """The Netflix titles catalog (show_id, type, title, director, cast, release_year), as strings."""
    from limelight.talent.residuals import read_user_csv

    path = Path(path)
    cat = read_user_csv(path, "titles catalog", "--titles")
    for col in ("type", "title", "director", "cast"):
        if col not in cat.columns:
            raise DataError(
                f"missing column '{col}' (need type, title, director, cast)", origin=path.name, row=1, column=col
            )
    cat = cat.reset_index(drop=True)
    cat["kind"] = cat["type"].map({"Movie": "film", "TV Show": "show"})
    cat["name_key"] = name_key(cat["title"])
    return cat


# How far a catalog film's release year may sit from the report's release date and still be the same film:
# a festival film reaches Netflix a year or two later (Brain on Fire: 2016, on Netflix 2018), never before.
_FILM_YEARS_BEFORE, _FILM_YEARS_AFTER = 2, 1
_SEASON = re.compile(r":\s*(?:season|series|part|volume|temporada|saison|staffel)\s+(\d+)\b", re.IGNORECASE)


def _season_number(names: pd.Series) -> np.ndarray:
    """Season (or part) number in a report title ("…: Season 3" → 3; "…: Limited Series" → 1); NaN if none."""
    found = names.astype(str).str.extract(_SEASON, expand=False).astype("float64")
    limited = names.astype(str).str.contains(r":\s*limited series\b", case=False, regex=True)
    return np.where(limited & found.isna(), 1.0, found.to_numpy())


def _plausible(report_kind: pd.Series, report_year: pd.Series, season: pd.Series, catalog_year: pd.Series) -> np.ndarray:
    """Whether a name match can be the same title, by year (unknown years never rule a match out).

    A film: the catalog's release year from two years before the report's release date to one after. A
    first season (or a limited series): the catalog's year — the year of a show's latest season in the
    titles catalog — not before the report's release year less one; a show whose first season premiered
    in 2024 is not the 2005 animated show of the same name (Avatar: The Last Airbender), whose voice
    cast would otherwise be paid the live-action cast's bonus. Later seasons carry no year test.
    """
    y, c = report_year.to_numpy("float64"), catalog_year.to_numpy("float64")
    known = ~np.isnan(y) & ~np.isnan(c)
    film = (report_kind == "film").to_numpy()
    first = (season == 1).to_numpy()
    with np.errstate(invalid="ignore"):
        film_ok = (c >= y - _FILM_YEARS_BEFORE) & (c <= y + _FILM_YEARS_AFTER)
        first_ok = c >= y - 1
    return ~known | np.where(film, film_ok, np.where(first, first_ok, True))


def join_catalog(titles: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    """Add director, cast and the catalog id where the title's key matches a catalog title that can be the
    same one by year (same kind first, then any kind; the catalog's first such row). `catalog_year_mismatch`
    marks rows whose name matched only titles of other years: unmatched, so no money reaches their cast."""
    cat = catalog[catalog["name_key"] != ""].reset_index(drop=True)
    cat_year = pd.to_numeric(cat["release_year"], errors="coerce") if "release_year" in cat else pd.Series(np.nan, index=cat.index)
    cat = pd.DataFrame({"name_key": cat["name_key"], "catalog_kind": cat["kind"], "show_id": cat["show_id"],
                        "director": cat["director"], "cast": cat["cast"], "catalog_year": cat_year,
                        "catalog_order": np.arange(len(cat))})
    out = titles.drop(columns=["show_id", "director", "cast"], errors="ignore").reset_index(drop=True)
    release = pd.to_datetime(out["release_date"], errors="coerce") if "release_date" in out else pd.Series(pd.NaT, index=out.index)
    left = pd.DataFrame({"report_row": np.arange(len(out)), "name_key": out["name_key"].to_numpy(object),
                         "report_kind": out["kind"].to_numpy(object) if "kind" in out else None,
                         "report_year": release.dt.year.astype("float64").to_numpy(),
                         "season": _season_number(out["title_name"]) if "title_name" in out else np.nan})
    pairs = left.merge(cat, on="name_key", how="inner")
    ok = _plausible(pairs["report_kind"], pairs["report_year"], pairs["season"], pairs["catalog_year"])
    named = np.zeros(len(out), dtype=bool)
    named[pairs["report_row"].to_numpy(np.int64)] = True
    pairs = pairs[ok].assign(other_kind=lambda f: (f["catalog_kind"] != f["report_kind"]).astype(int))
    best = pairs.sort_values(["report_row", "other_kind", "catalog_order"]).drop_duplicates("report_row")
    best = best.set_index("report_row")[["show_id", "director", "cast"]]
    out = out.join(best)
    out["catalog_matched"] = out["show_id"].notna()
    out["catalog_year_mismatch"] = named & ~out["catalog_matched"].to_numpy()
    return out


def _split_names(s: pd.Series) -> pd.Series:
    values = s.to_numpy(dtype=object)
    return pd.Series(
        [[x.strip() for x in v.split(",") if x.strip()] if isinstance(v, str) else [] for v in values],
        index=s.index, dtype=object,
    )


def catalog_credits(catalog: pd.DataFrame, principal_cast: int | None = None) -> pd.DataFrame:
    """Every credit in the catalog: listed cast as performers (in listed order), directors."""
    parts = []
    base = catalog[["show_id", "title"]].rename(columns={"title": "catalog_title"})
    for role, col in (("performer", "cast"), ("director", "director")):
        exploded = base.assign(person_name=_split_names(catalog[col])).explode("person_name")
        exploded = exploded[exploded["person_name"].notna()]
        exploded["role"] = role
        exploded["credit_order"] = exploded.groupby(level=0).cumcount() + 1
        parts.append(exploded)
    credits = pd.concat(parts, ignore_index=True)
    perf = (credits["role"] == "performer").to_numpy()
    principal = perf & ((credits["credit_order"] <= principal_cast).to_numpy() if principal_cast else True)
    credits["billing"] = np.where(principal, "principal", np.where(perf, "background", None))  # type: ignore[call-overload]
    return credits


def credit_rows(titles: pd.DataFrame, catalog: pd.DataFrame, assumptions: ReportAssumptions) -> pd.DataFrame:
    """One row per catalog credit and matched report row (a credit on an unmatched title keeps one empty row).

    With a supplied fixed residual, principal performers of a title over the trigger share the performers'
    75% equally (leftover cents to the earliest listed), and pay per thousand views follows.
    """
    cols = ["period_start", "period_end", "title_name", "show_id", "views_90", "metric", "likely_crossed",
            "release_eligible", "bonus_applies", "sag_performers_share"]
    matched = titles.loc[titles["catalog_matched"], cols].reset_index(names="report_row")
    credits = catalog_credits(catalog, assumptions.principal_cast).merge(matched, on="show_id", how="left")
    on_report = credits["report_row"].notna().to_numpy()
    # A credit on no report row gets no bonus from the reports; on a row whose verdict is unknown, unknown.
    applies = credits["bonus_applies"].astype("boolean")
    credits["bonus_applies"] = applies.where(on_report | applies.notna(), False)
    credits["share"] = None
    credits["pay_per_thousand_views"] = None
    if assumptions.fixed_residual is not None:
        zero = Decimal("0.00")
        # 0.00 where known: the bonus does not apply, or the performer is not principal (no share either way)
        known = credits["bonus_applies"].notna().to_numpy() | (credits["billing"] != "principal").to_numpy()
        is_perf = (credits["role"] == "performer").to_numpy() & on_report & known
        shares = np.where(is_perf, zero, None).astype(object)  # type: ignore[call-overload]
        per_k = np.where(is_perf & (credits["views_90"] > 0).to_numpy(), zero, None).astype(object)  # type: ignore[call-overload]
        paid = credits[(credits["billing"] == "principal") & credits["bonus_applies"].fillna(False)]
        for _, group in paid.groupby("report_row", sort=False):
            pool = group["sag_performers_share"].iloc[0]
            views = float(group["views_90"].iloc[0])
            for pos, amount in zip(group.index, split_cents(pool, [1] * len(group))):
                shares[pos] = amount
                per_k[pos] = money(amount * 1000 / Decimal(repr(views))) if views > 0 else None
        credits["share"] = shares
        credits["pay_per_thousand_views"] = per_k
    return credits.drop(columns=["report_row"])


@dataclass
class ReportResult:
    titles: pd.DataFrame
    credits: pd.DataFrame
    assumptions: ReportAssumptions
    files: list[Path]

    def summary(self) -> dict[str, Any]:
        t = self.titles
        return {
            "report_rows": len(t),
            "periods": [
                f"{a:%Y-%m-%d}..{b:%Y-%m-%d}"
                for a, b in t[["period_start", "period_end"]].drop_duplicates().sort_values("period_start").itertuples(index=False)
            ],
            "measurable": int(t["views_90"].notna().sum()),
            "likely_crossed": int(t["likely_crossed"].fillna(False).sum()),
            "likely_crossed_unknown": _trigger_unknown(t),
            "likely_crossed_eligible": int(t["bonus_applies"].fillna(False).sum()),
            "bonus_applies_unknown": _bonus_unknown(t),
            "catalog_matched": int(t["catalog_matched"].sum()) if "catalog_matched" in t else 0,
            "catalog_year_mismatch": int(t["catalog_year_mismatch"].sum()) if "catalog_year_mismatch" in t else 0,
            "credits": len(self.credits),
            "credits_on_report_rows": int(self.credits["period_start"].notna().sum()) if len(self.credits) else 0,
            "assumptions": self.assumptions.lines(),
            "files": [str(f) for f in self.files],
        }


def _trigger_unknown(titles: pd.DataFrame) -> int:
    """Rows with a views estimate whose trigger cannot be decided (no domestic base for their July 1)."""
    return int((titles["views_90"].notna() & titles["likely_crossed"].isna()).sum())


def _bonus_unknown(titles: pd.DataFrame) -> int:
    """Rows with a views estimate whose bonus verdict is unknown (base unknown, released on/after the cutoff)."""
    return int((titles["views_90"].notna() & titles["bonus_applies"].isna()).sum())


_CSV_TITLE_COLUMNS = [
    "period_start", "period_end", "title_name", "kind", "release_date", "runtime_minutes", "runtime_borrowed",
    "hours_viewed", "domestic_share", "first90_share", "domestic_hours_90", "views_90", "july1",
    "domestic_subscribers", "subscribers_as_of", "trigger_views", "metric", "likely_crossed", "views_needed",
    "release_eligible", "bonus_applies", "fixed_residual", "sag_bonus", "sag_performers_share", "sag_fund_share",
    "wga_bonus", "dga_bonus", "show_id", "director", "cast", "catalog_year_mismatch",
]


def build_report(
    engagement: pd.DataFrame,
    memberships: pd.DataFrame | None,
    assumptions: ReportAssumptions,
    catalog: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Titles (with catalog names joined where they match) and catalog credits, without writing files."""
    titles = estimate_titles(engagement, memberships, assumptions)
    if catalog is not None:
        titles = join_catalog(titles, catalog)
        credits = credit_rows(titles, catalog, assumptions)
    else:
        titles = titles.assign(show_id=None, director=None, cast=None, catalog_matched=False, catalog_year_mismatch=False)
        credits = pd.DataFrame()
    return titles, credits


def write_report(
    engagement: pd.DataFrame,
    memberships: pd.DataFrame | None,
    out_dir: str | Path,
    assumptions: ReportAssumptions,
    catalog: pd.DataFrame | None = None,
    top: int = 200,
) -> ReportResult:
    """Write titles.csv, credits.csv, assumptions.csv and HTML pages (index + one per half-year) to `out_dir`."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"the output folder {out} cannot be created: {exc.strerror}") from None
    titles, credits = build_report(engagement, memberships, assumptions, catalog)
    stated = assumptions.lines()
    files = []
    csv_titles = titles[[c for c in _CSV_TITLE_COLUMNS if c in titles.columns]].copy()
    path = out / "titles.csv"
    _write_csv(csv_titles, path)
    files.append(path)
    if not credits.empty:
        path = out / "credits.csv"
        _write_csv(credits, path)
        files.append(path)
    path = out / "assumptions.csv"
    pd.DataFrame({"assumption": stated, **{k: [str(v)] * len(stated) for k, v in asdict(assumptions).items()}}).to_csv(path, index=False)
    files.append(path)
    spans = titles[["period_start", "period_end"]].drop_duplicates().sort_values(["period_start", "period_end"])
    periods = list(spans.itertuples(index=False, name=None))
    pages = []
    for a, b in periods:
        name = f"period-{a:%Y-%m}-{b:%Y-%m}.html"
        part = titles[(titles["period_start"] == a) & (titles["period_end"] == b)]
        path = out / name
        path.write_text(_period_page(part, a, b, stated, top), encoding="utf-8")
        files.append(path)
        pages.append((name, a, b, part))
    path = out / "index.html"
    path.write_text(_index_page(pages, titles, credits, stated), encoding="utf-8")
    files.insert(0, path)
    log.info("wrote %d files to %s", len(files), out)
    return ReportResult(titles, credits, assumptions, files)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV through Arrow (several times faster than pandas for ~200k rows); Decimals written as exact text."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    columns = {}
    for col in frame.columns:
        values = frame[col]
        if values.dtype == object:  # Decimals and mixed values: exact text (Arrow's Decimal inference is slow)
            columns[col] = pa.array(
                [None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in values.to_numpy()],
                type=pa.string(),
            )
        else:
            columns[col] = pa.array(values, from_pandas=True)
    pacsv.write_csv(pa.table(columns), path)


# -- HTML ------------------------------------------------------------------------------------------
_CSS = """body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem;color:#1b1b1b}
table{border-collapse:collapse;font-size:.85rem}td,th{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:right}
td.t,th.t{text-align:left}.assume{background:#fff7e0;border:1px solid #e0c060;padding:.5rem 1rem;margin:1rem 0}
.yes{color:#0a6b0a;font-weight:600}.no{color:#888}.unknown{color:#8a5a00;font-style:italic}"""


def _e(v: Any) -> str:
    return html.escape("" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))


def _assumption_block(stated: list[str]) -> str:
    items = "".join(f"<li>{_e(s)}</li>" for s in stated)
    return (
        '<div class="assume"><strong>Assumptions (adjust with limelight talent report options):</strong>'
        f"<ul>{items}</ul>Estimates from published global half-year hours, not the service's confidential "
        "domestic data. Rules: SAG-AFTRA 2023 TV/Theatrical and WGA 2023 MBA (see docs/talent.md for sources).</div>"
    )


def _page(title: str, body: str, stated: list[str]) -> str:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{_e(title)}</h1>{_assumption_block(stated)}{body}</body></html>"
    )


def _fmt_int(v: Any) -> str:
    try:
        return "" if v is None or pd.isna(v) else f"{float(v):,.0f}"
    except (TypeError, ValueError):
        return ""


_UNKNOWN = "<span class='unknown'>unknown</span>"


def _or_unknown(text: str) -> str:
    """A figure's cell, or "unknown" where it is missing (the base of its July 1 is unknown): a blank next
    to "unknown" verdicts read as a figure left out, not one that cannot be known."""
    return text if text else _UNKNOWN


def _verdict(value: Any) -> str:
    """yes / no, or "unknown" where the verdict cannot be decided (never a blank read as no)."""
    if value is None or value is pd.NA:
        return _UNKNOWN
    return "<span class='yes'>yes</span>" if value else "<span class='no'>no</span>"


def _money_cell(amount: Any, fixed_residual: Any) -> str:
    """Blank when no fixed residual was supplied (the page says money is not estimated); "unknown" when
    one was but the bonus verdict is unknown."""
    if fixed_residual is None:
        return ""
    return _UNKNOWN if amount is None else _e(_usd(amount))


def _usd(amount: Any) -> str:
    """Money as the pages say it everywhere: "$15,000.01" (cents always, thousands separated)."""
    return f"${Decimal(str(amount)):,.2f}"


_CAST_CHARS = 160


def _cut(text: Any, limit: int = _CAST_CHARS) -> str:
    """Cut the plain text, then escape it (cutting escaped text broke entities: "Bo &am"); "…" when cut."""
    if not isinstance(text, str):
        return ""
    return _e(text if len(text) <= limit else text[:limit].rstrip() + "…")


def _head(*columns: tuple[str, bool]) -> str:
    """A header row in <thead>, each cell scope="col" (left-aligned text columns carry class t)."""
    left_class = " class='t'"
    cells = "".join(f"<th scope='col'{left_class if left else ''}>{_e(name)}</th>" for name, left in columns)
    return f"<thead><tr>{cells}</tr></thead>"


def _rows_table(part: pd.DataFrame) -> str:
    head = _head(
        ("title", True), ("released", False), ("hours (global)", False), ("est. domestic views, first 90 days", False),
        ("trigger (views)", False), ("share of base", False), ("likely crossed", False), ("views still needed", False),
        ("bonus applies", False), ("performers' share (USD)", False), ("director", True), ("cast", True),
    )
    body = []
    r: Any
    for r in part.itertuples(index=False):
        mark = _verdict(r.likely_crossed)
        metric = "" if pd.isna(r.metric) else f"{r.metric:.1%}"
        rel = "" if pd.isna(r.release_date) else f"{r.release_date:%Y-%m-%d}"
        cast = _cut(r.cast)
        body.append(
            f"<tr><td class='t'>{_e(r.title_name)}</td><td>{rel}</td><td>{_fmt_int(r.hours_viewed)}</td>"
            f"<td>{_fmt_int(r.views_90)}</td><td>{_or_unknown(_fmt_int(r.trigger_views))}</td><td>{_or_unknown(metric)}</td>"
            f"<td>{mark}</td><td>{_or_unknown(_fmt_int(r.views_needed))}</td><td>{_verdict(r.bonus_applies)}</td>"
            f"<td>{_money_cell(r.sag_performers_share, r.fixed_residual)}</td><td class='t'>{_e(r.director)}</td><td class='t'>{cast}</td></tr>"
        )
    return f"<table>{head}<tbody>{''.join(body)}</tbody></table>"


def _period_page(part: pd.DataFrame, a: Any, b: Any, stated: list[str], top: int) -> str:
    measured = part[part["views_90"].notna()].sort_values(["metric", "views_90"], ascending=False)  # unknown bases: most views first
    crossed = int(measured["likely_crossed"].fillna(False).sum())
    unknown = _trigger_unknown(measured)
    used = (
        measured[["july1", "domestic_share", "domestic_subscribers", "subscribers_as_of"]]
        .drop_duplicates()
        .sort_values("july1")
    )
    items = []
    r: Any
    for r in used.itertuples(index=False):
        if pd.isna(r.july1):
            continue
        published = "" if pd.isna(r.subscribers_as_of) else f" (published as of {pd.Timestamp(r.subscribers_as_of):%Y-%m-%d})"
        subscribers = (
            "domestic subscribers unknown (no published count on or before that July 1)"
            if pd.isna(r.domestic_subscribers) else f"domestic subscribers {r.domestic_subscribers:,.0f}{published}"
        )
        items.append(f"<li>July 1 {pd.Timestamp(r.july1):%Y}: domestic share {r.domestic_share:.1%}, {subscribers}</li>")
    values = "".join(items)
    body = (
        (f"<p>Values used on this page:</p><ul>{values}</ul>" if values else "")
        + f"<p>{len(part):,} titles in the report; {len(measured):,} released in the half-year with a runtime "
        f"(first-90-day estimate possible); <strong>{crossed:,}</strong> likely crossed the 20% trigger"
        + (f"; the trigger is unknown for <strong>{unknown:,}</strong> (no domestic subscriber count for their July 1). "
           if unknown else ". ")
        + f"The {min(top, len(measured))} highest shares of the domestic base are shown; titles.csv has every row.</p>"
        + _rows_table(measured.head(top))
        + "<p><a href='index.html'>all half-years</a></p>"
    )
    return _page(f"Success-bonus estimate, {a:%Y-%m-%d} to {b:%Y-%m-%d}", body, stated)


def _index_page(pages: list[tuple[str, Any, Any, pd.DataFrame]], titles: pd.DataFrame, credits: pd.DataFrame, stated: list[str]) -> str:
    rows = []
    for name, a, b, part in pages:
        measured = int(part["views_90"].notna().sum())
        crossed = int(part["likely_crossed"].fillna(False).sum())
        applies = int(part["bonus_applies"].fillna(False).sum())
        rows.append(
            f"<tr><td class='t'><a href='{_e(name)}'>{a:%Y-%m-%d} to {b:%Y-%m-%d}</a></td><td>{len(part):,}</td>"
            f"<td>{measured:,}</td><td>{crossed:,}</td><td>{_trigger_unknown(part):,}</td><td>{applies:,}</td></tr>"
        )
    matched = int(titles["catalog_matched"].sum()) if "catalog_matched" in titles else 0
    mismatched = int(titles["catalog_year_mismatch"].sum()) if "catalog_year_mismatch" in titles else 0
    body = (
        "<table>"
        + _head(("half-year", True), ("titles", False), ("first-90-day estimate possible", False),
                ("likely crossed", False), ("trigger unknown (no domestic base)", False),
                ("released on/after 2024-01-01 and likely crossed", False))
        + "<tbody>" + "".join(rows) + "</tbody></table>"
        + f"<p>{matched:,} report rows matched a title in the catalog (cast and director joined); "
        f"{mismatched:,} matched only a catalog title of another year by name (another title: left unmatched); "
        f"{len(credits):,} credit rows (every catalog credit; one per matched report row). Files: titles.csv, credits.csv, assumptions.csv.</p>"
    )
    return _page("Netflix engagement reports: which titles likely crossed the success-bonus trigger", body, stated)


def engagement_from_store(store: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The spine's `engagement` rows and `subscribers` rows (for the service and `--db`)."""
    engagement = store.query("SELECT * FROM engagement")
    subscribers = store.query("SELECT region, as_of, paid_memberships FROM subscribers")
    return engagement, subscribers


def estimate_rows(titles: pd.DataFrame, limit: int, period_start: date | None = None) -> list[dict[str, Any]]:
    """The `limit` measurable rows with the highest share of the domestic base, as plain JSON values."""
    rows = titles[titles["views_90"].notna()]
    if period_start is not None:
        rows = rows[rows["period_start"] == pd.Timestamp(period_start)]
    rows = rows.sort_values(["metric", "views_90"], ascending=False).head(limit)
    out = []
    for r in rows.to_dict(orient="records"):
        out.append(
            {
                "title_name": str(r["title_name"]),
                "period_start": pd.Timestamp(r["period_start"]).date(),
                "period_end": pd.Timestamp(r["period_end"]).date(),
                "release_date": None if pd.isna(r["release_date"]) else pd.Timestamp(r["release_date"]).date(),
                "hours_viewed": int(r["hours_viewed"]),
                "runtime_minutes": float(r["runtime_minutes"]),
                "domestic_share": float(r["domestic_share"]),
                "first90_share": float(r["first90_share"]),
                "views_90": float(r["views_90"]),
                # No base for the July 1 (a spine whose counts start later): these are unknown, null.
                "domestic_subscribers": _known(r["domestic_subscribers"], float),
                "metric": _known(r["metric"], float),
                "likely_crossed": _known(r["likely_crossed"], bool),
                "views_needed": _known(r["views_needed"], int),
                "release_eligible": _known(r["release_eligible"], bool),
                "bonus_applies": _known(r["bonus_applies"], bool),
            }
        )
    return out


def _known(value: Any, kind: Any) -> Any:
    """`kind(value)`, or None for NA/NaN/None (unknown)."""
    return None if value is None or pd.isna(value) else kind(value)


def report_as_of(titles: pd.DataFrame) -> date | None:
    """The end of the latest half-year covered (for captions)."""
    if titles.empty:
        return None
    return pd.Timestamp(titles["period_end"].max()).date()
