"""Per-credit lines and per-person statements from the spine.

For every program (film, season, or series/episode without a season) and every bonus window that has
started by `as_of`: domestic hours, views, the domestic base on the applicable July 1, the metric, the
trigger and the views still needed. For every credit on it: the guild's pack, the program's fixed
residual (user-supplied, never invented), the bonus and this credit's share under the pack's split
rule, the credit's own fixed residual where supplied, and pay per thousand views. A statement is one
person's lines whose window starts inside a period, with the figures that were supplied marked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from limelight.errors import InputError, NotFoundError
from limelight.talent.bonus import ROUNDING, money, split_cents, success_bonus
from limelight.talent.health import ClosingTitle, HealthStatus, check_plan_year, closing_titles, health_status
from limelight.talent.residuals import ResidualFigure, ResidualInputs
from limelight.talent.rules import AgreementPack, load_packs
from limelight.talent.views import (
    MAX_RUNTIME_MINUTES,
    MIN_RUNTIME_MINUTES,
    applicable_july1,
    bonus_windows,
    domestic_hours,
    domestic_subscribers,
    programs,
    views_array,
)

if TYPE_CHECKING:
    from limelight.spine.store import Store

__all__ = [
    "ROLE_GUILD",
    "Statement",
    "credit_lines",
    "health_base_period",
    "person_health",
    "person_statement",
    "statement_from_store",
    "title_windows",
]

log = logging.getLogger(__name__)

ROLE_GUILD = {"performer": "sag-aftra", "writer": "wga", "director": "dga"}

# Credits may sit on the program, on one of its episodes, or on the series above its seasons.
_CREDIT_PROGRAMS_SQL = """
WITH prog AS (
    SELECT t.title_id,
           CASE WHEN t.kind = 'episode' AND p.title_id IS NOT NULL AND p.kind IN ('season', 'series')
                THEN p.title_id ELSE t.title_id END AS program_id
    FROM titles t LEFT JOIN titles p ON t.parent_id = p.title_id
),
seasons AS (SELECT title_id AS season_id, parent_id AS series_id FROM titles WHERE kind = 'season' AND parent_id IS NOT NULL),
credit_program AS (
    SELECT c.person_id, c.role, c.billing, c.episodes_worked, c.credit_order,
           CASE WHEN s.season_id IS NOT NULL THEN s.season_id ELSE prog.program_id END AS program_id
    FROM credits c
    JOIN prog ON prog.title_id = c.title_id
    LEFT JOIN seasons s ON s.series_id = c.title_id
)
SELECT cp.program_id, cp.person_id, pe.name AS person_name, cp.role,
       any_value(cp.billing ORDER BY cp.billing = 'principal' DESC) AS billing,
       sum(coalesce(cp.episodes_worked, 1)) AS episodes_worked,
       min(coalesce(cp.credit_order, 1000000)) AS credit_order
FROM credit_program cp JOIN people pe ON pe.person_id = cp.person_id
GROUP BY cp.program_id, cp.person_id, pe.name, cp.role
"""


def _pack_for(packs: dict[str, AgreementPack], guild: str, on: date) -> AgreementPack | None:
    chosen = None
    for p in sorted(packs.values(), key=lambda p: p.term_start):
        if p.guild == guild and p.term_start <= on:
            chosen = p
    if chosen is None:  # released before the pack's term: the pack still names the release cutoff
        same = [p for p in packs.values() if p.guild == guild]
        chosen = min(same, key=lambda p: p.term_start) if same else None
    return chosen


def _window_frame(
    store: Store, through: date, window_days: int, wanted: set[str] | None = None, as_of: date | None = None
) -> pd.DataFrame:
    """Every program window started by `through`. `count_end`: viewing counts up to the window's end or the
    end of `as_of`, whichever comes first — a statement as of 31 December does not count January's views;
    `open`: the window has not closed by `as_of` (its views are views so far)."""
    as_of = as_of or through
    cap = as_of + timedelta(days=1)
    progs = programs(store).drop_duplicates("program_id")
    if wanted is not None:
        progs = progs[progs["program_id"].isin(wanted)]
    rows = []
    p: Any
    for p in progs.itertuples(index=False):
        if pd.isna(p.release_date):
            continue
        release = pd.Timestamp(p.release_date).date()
        for w in bonus_windows(release, through, window_days):
            rows.append(
                {
                    "program_id": p.program_id, "program_name": p.program_name, "program_kind": p.program_kind,
                    "release_date": release, "runtime_minutes": p.runtime_minutes,
                    "year": w.year, "window": w.label, "start": w.start, "end": w.end,
                    "count_end": min(w.end, cap), "open": w.end > cap,
                }
            )
    return pd.DataFrame(rows)


_LINE_COLUMNS = [
    "person_id", "person_name", "role", "billing", "guild", "pack", "program_id", "title", "window", "window_start",
    "window_end", "hours", "views", "domestic_subscribers", "subscribers_as_of", "subscribers_source", "metric",
    "trigger_views", "eligible", "views_needed", "release_eligible", "program_fixed_residual", "fixed_residual_status",
    "bonus", "share", "credit_fixed_residual", "pay", "pay_per_thousand_views", "potential_share", "window_open",
    "note",
]


def credit_lines(
    store: Store,
    residuals: ResidualInputs | None = None,
    *,
    as_of: date,
    packs: dict[str, AgreementPack] | None = None,
    subscribers_override: int | None = None,
    use_published_examples: bool = False,
    person_id: str | None = None,
    program_ids: list[str] | None = None,
) -> pd.DataFrame:
    """One row per credit and window with views, trigger and money (Decimal columns as objects).

    `person_id` keeps only that person's programs (all their co-credits stay, as the split needs them);
    `program_ids` keeps only those programs.
    """
    packs = packs or load_packs()
    residuals = residuals or ResidualInputs()
    residuals.check_programs(store.query("SELECT title_id, kind, parent_id FROM titles"))
    window_days = max(
        (int(p.success_bonus.window_days.value) for p in packs.values() if p.success_bonus is not None), default=90
    )
    credits = store.query(_CREDIT_PROGRAMS_SQL)
    wanted: set[str] | None = None
    if person_id is not None:
        wanted = set(credits.loc[credits["person_id"] == person_id, "program_id"])
        if not wanted:  # not a person with measured windows: no person with credits at all
            raise NotFoundError(f"person '{person_id}' has no credits in the store (ids are the people table's person_id)")
    if program_ids is not None:
        wanted = set(program_ids) if wanted is None else wanted & set(program_ids)
    # Windows after the last viewing event hold no data: measure up to it (bounds a far-future as_of).
    last = store.scalar("SELECT max(started_at) FROM viewing_events")
    through = min(as_of, pd.Timestamp(last).date()) if last is not None else as_of
    windows = _window_frame(store, through, window_days, wanted, as_of=as_of)
    columns = _LINE_COLUMNS
    if windows.empty:
        return pd.DataFrame(columns=columns)
    countries = ("US", "CA")
    windows = domestic_hours(store, windows, countries)
    # Plain tuples per program and role: the window loop must not touch pandas (thousands of windows).
    by_program: dict[str, dict[str, list[Any]]] = {}
    ordered = credits.sort_values(["program_id", "credit_order", "person_id"])
    ordered = ordered.assign(billing=ordered["billing"].astype(object).where(ordered["billing"].notna(), None))
    c: Any
    for c in ordered.itertuples(index=False):
        by_program.setdefault(str(c.program_id), {}).setdefault(str(c.role), []).append(c)
    subscriber_cache: dict[date, Any] = {}
    out: list[dict[str, Any]] = []
    w: Any
    for w in windows.itertuples(index=False):
        people = by_program.get(str(w.program_id))
        if not people:
            continue
        july1 = applicable_july1(w.start)
        if subscribers_override is not None:
            subs_count, subs_as_of, subs_source = subscribers_override, july1, "user-supplied"
        else:
            if july1 not in subscriber_cache:
                subscriber_cache[july1] = domestic_subscribers(store, july1, countries)
            base = subscriber_cache[july1]
            subs_count, subs_as_of, subs_source = base.count, base.as_of, base.source
        runtime = float(w.runtime_minutes) if _countable_runtime(w.runtime_minutes) else None
        for role, group in people.items():
            guild = ROLE_GUILD[role]
            pack = _pack_for(packs, guild, w.release_date)
            out.extend(
                _lines_for(pack, guild, w, group, runtime, subs_count, subs_as_of, subs_source, residuals, use_published_examples)
            )
    frame = pd.DataFrame(out, columns=columns)
    # whole counts or None (unknown): pandas would make the column floats with NaN
    frame["domestic_subscribers"] = pd.Series([line["domestic_subscribers"] for line in out], dtype=object)
    return frame


def title_windows(
    store: Store,
    *,
    as_of: date,
    pack: AgreementPack | None = None,
    program_ids: list[str] | None = None,
    subscribers_override: int | None = None,
) -> pd.DataFrame:
    """Per program and window (no credits): hours, views, base, metric, trigger, views needed — vectorised.

    The trigger and release cutoff are the pack's (default SAG-AFTRA 2023; the WGA's are the same).
    """
    from limelight.talent.rules import agreement_for

    pack = pack or agreement_for("sag-aftra")
    rule = pack.success_bonus
    assert rule is not None
    last = store.scalar("SELECT max(started_at) FROM viewing_events")
    through = min(as_of, pd.Timestamp(last).date()) if last is not None else as_of
    windows = _window_frame(
        store, through, int(rule.window_days.value), None if program_ids is None else set(program_ids), as_of=as_of
    )
    if windows.empty:
        return windows
    windows = domestic_hours(store, windows, rule.countries)
    july1 = windows["start"].map(applicable_july1)
    if subscribers_override is not None:
        windows["domestic_subscribers"] = subscribers_override
    else:
        bases = {d: domestic_subscribers(store, d, rule.countries) for d in sorted(set(july1))}
        windows["domestic_subscribers"] = july1.map(lambda d: bases[d].count)
    runtime = windows["runtime_minutes"].astype("float64")
    subs = windows["domestic_subscribers"].astype("float64")
    windows["views"] = views_array(windows["hours"], runtime)
    with np.errstate(divide="ignore", invalid="ignore"):
        windows["metric"] = np.where(subs > 0, windows["views"] / subs, np.nan)
    measurable = windows["metric"].notna().to_numpy() & runtime.map(_countable_runtime).to_numpy(dtype=bool)
    # The trigger is decided exactly, as a person's statement decides it (`success_bonus` on whole
    # seconds): one window per program and exhibition year, so a few thousand at most.
    decided = [
        success_bonus(pack, domestic_seconds=int(s), runtime_minutes=r, domestic_subscribers=int(n), fixed_residual=None)
        if ok else None
        for s, r, n, ok in zip(windows["seconds"], runtime, subs, measurable)
    ]
    windows["eligible"] = [None if d is None else bool(d.eligible) for d in decided]
    windows["views_needed"] = [np.nan if d is None else float(d.views_needed) for d in decided]
    windows["release_eligible"] = pd.to_datetime(windows["release_date"]) >= pd.Timestamp(rule.released_from)
    return windows


def _countable_runtime(minutes: object) -> bool:
    """A runtime views can be counted with (a catalog's 0 or 0.2 minutes would make views meaningless)."""
    return isinstance(minutes, int | float) and not pd.isna(minutes) and MIN_RUNTIME_MINUTES <= minutes <= MAX_RUNTIME_MINUTES


def _lines_for(
    pack: AgreementPack | None,
    guild: str,
    w: Any,
    group: list[Any],
    runtime: float | None,
    subs_count: int,
    subs_as_of: date,
    subs_source: str,
    residuals: ResidualInputs,
    use_published: bool,
) -> list[dict[str, Any]]:
    hours = float(w.hours or 0.0)
    views = hours * 60.0 / runtime if runtime else None
    rule = pack.success_bonus if pack else None
    # The release date alone decides this; a missing base or runtime leaves the trigger unknown, not it.
    release_ok = rule is not None and w.release_date >= rule.released_from
    base = {
        "guild": guild, "pack": pack.id if pack else None, "program_id": w.program_id, "title": w.program_name,
        "window": w.window, "window_start": w.start, "window_end": w.end, "hours": hours, "views": views,
        # 0 is how views.domestic_subscribers says "no count for that July 1": unknown, not zero people
        "domestic_subscribers": subs_count if subs_count > 0 else None, "subscribers_as_of": subs_as_of,
        "subscribers_source": subs_source,
        "metric": None, "trigger_views": None, "eligible": None, "views_needed": None, "release_eligible": release_ok,
        "program_fixed_residual": None, "fixed_residual_status": None, "bonus": None, "note": "",
    }
    notes = []
    if w.open:
        notes.append(f"window open until {w.end - timedelta(days=1)}: views so far")
    base["window_open"] = bool(w.open)
    if rule is not None and not release_ok:
        notes.append(f"released before {rule.released_from}: the bonus does not apply")
    if rule is None:
        notes.append(f"{pack.name if pack else guild}: no viewership bonus in the public terms")
    elif runtime is None:
        notes.append(
            f"runtime unknown or outside {MIN_RUNTIME_MINUTES}–{MAX_RUNTIME_MINUTES:,} minutes: views cannot be counted"
        )
    elif subs_count <= 0 or pack is None:
        notes.append("no domestic subscriber count for the applicable July 1")
    else:
        fixed: ResidualFigure | None = residuals.program(pack, w.program_id, w.start)
        if fixed is None and use_published and w.program_kind == "film":
            # Only the feature amount fits a whole program; the half-hour/one-hour amounts are per episode.
            band = pack.published_bonus_for(runtime)
            if band is not None and band[0] == "feature_over_30m":
                amount = band[1].decimal() / rule.bonus_rate.decimal()
                fixed = ResidualFigure(
                    money(amount), "published example (largest services, budget over $30M assumed)", band[1].note
                )
        result = success_bonus(
            pack, domestic_seconds=int(w.seconds or 0), runtime_minutes=runtime, domestic_subscribers=subs_count,
            fixed_residual=None if fixed is None else fixed.amount,
        )
        base.update(
            metric=float(result.metric), trigger_views=float(result.trigger), eligible=bool(result.eligible),
            views_needed=result.views_needed, release_eligible=release_ok,
            program_fixed_residual=None if fixed is None else fixed.amount,
            fixed_residual_status=None if fixed is None else fixed.status,
        )
        # Without the program's fixed residual the bonus is unknown — unless it does not apply at all
        # (released before the cutoff), when no residual sizes it and nothing is unknown.
        if fixed is None and release_ok:
            if residuals.credits_only(pack, w.program_id):
                # the bonus is a share of the program's fixed residual; this credit's own is paid, not the base
                notes.append("only per-credit fixed residuals supplied: the bonus is reckoned on the program's "
                             "fixed residual (a row without person_id), so it is unknown")
            else:
                notes.append("fixed residual not supplied (not public): bonus unknown")
        recipients = [c for c in group if (c.billing or "principal") in rule.billing]
        if result.bonus is not None and result.performers_share is not None:
            pool = result.performers_share if release_ok else Decimal("0.00")
            base["bonus"] = result.bonus if release_ok else Decimal("0.00")
            weights = (
                [Decimal(int(c.episodes_worked)) for c in recipients]
                if rule.split_rule.value == "episodes_worked"
                else [Decimal(1)] * len(recipients)
            )
            ids = [c.person_id for c in recipients]
            shares = dict(zip(ids, split_cents(pool, weights)))
            base["_shares"] = shares
            if not result.eligible:
                # What each recipient would receive if the window crossed the trigger (health plan, what-if).
                potential = money(result.cap * rule.recipients_share.decimal()) if release_ok and result.cap else Decimal(0)
                base["_potential"] = dict(zip(ids, split_cents(potential, weights)))
    if rule is not None and not release_ok:
        # Released before the cutoff: every credit's bonus share is a known 0.00, whatever the base, the
        # runtime or the program's fixed residual (which only sizes a bonus that applies). Unknown, it made
        # totals "at least" and the health plan undecided over money known to be nothing.
        base["bonus"] = Decimal("0.00")
        base["_shares"] = {c.person_id: Decimal("0.00") for c in group}
    lines = []
    shares = base.pop("_shares", {})
    potential = base.pop("_potential", {})
    for c in group:
        line = dict(base)
        line.update(person_id=c.person_id, person_name=c.person_name, role=c.role, billing=c.billing)
        share = shares.get(c.person_id)
        if share is None and shares:
            share = Decimal("0.00")  # not a recipient under the pack (e.g. background performer)
        credit_fixed = residuals.credit(pack, w.program_id, c.person_id, w.start) if pack else None
        line["share"] = share
        line["credit_fixed_residual"] = None if credit_fixed is None else credit_fixed.amount
        pay = None
        # A bonus the pack pays whose share is unknown leaves the pay unknown, even with this credit's own
        # residual supplied (that part still counts toward the known lower bound: `known_pay`).
        bonus_unknown = share is None and rule is not None
        if not bonus_unknown and (share is not None or credit_fixed is not None):
            pay = money((share or Decimal(0)) + (credit_fixed.amount if credit_fixed else Decimal(0)))
        line["pay"] = pay
        line["pay_per_thousand_views"] = money(pay * 1000 / Decimal(str(views))) if pay is not None and views else None
        line["potential_share"] = potential.get(c.person_id)
        line["note"] = "; ".join(notes)
        lines.append(line)
    return lines


@dataclass
class Statement:
    person_id: str
    person_name: str
    period_start: date
    period_end: date
    lines: pd.DataFrame
    total_pay: Decimal | None  # None when no line's pay is known; the known sum (a lower bound) otherwise
    total_bonus: Decimal | None
    supplied: list[str]
    assumptions: list[str]
    sources: list[str]
    rounding: str = ROUNDING
    health: HealthStatus | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Lines whose pay (bonus share) is unknown: the totals leave them out, so they are at least the sum.
    unknown_pay_lines: int = 0
    unknown_bonus_lines: int = 0

    def as_json(self) -> dict[str, Any]:
        lines = self.lines.drop(columns=[c for c in self.lines.columns if c.startswith("_")], errors="ignore")
        records = []
        for r in lines.to_dict(orient="records"):
            records.append({k: _jsonable(v) for k, v in r.items()})
        return {
            "person_id": self.person_id,
            "person_name": self.person_name,
            "period": {"start": self.period_start.isoformat(), "end": self.period_end.isoformat()},
            "total_pay": None if self.total_pay is None else str(self.total_pay),
            "total_bonus": None if self.total_bonus is None else str(self.total_bonus),
            "total_pay_is_lower_bound": self.total_pay is not None and self.unknown_pay_lines > 0,
            "total_bonus_is_lower_bound": self.total_bonus is not None and self.unknown_bonus_lines > 0,
            "unknown_pay_lines": self.unknown_pay_lines,
            "unknown_bonus_lines": self.unknown_bonus_lines,
            "lines": records,
            "supplied_figures": self.supplied,
            "assumptions": self.assumptions,
            "sources": self.sources,
            "rounding": self.rounding,
            "health": None if self.health is None else self.health.as_json(),
        }


def _jsonable(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def person_statement(
    lines: pd.DataFrame, person_id: str, start: date, end: date, packs: dict[str, AgreementPack] | None = None
) -> Statement:
    """One person's lines whose window starts in [start, end], with totals and what was supplied."""
    _check_period(start, end)
    packs = packs or load_packs()
    mine = lines[lines["person_id"] == person_id]
    if mine.empty:
        raise NotFoundError(f"person '{person_id}' has no credits with measured windows")
    name = str(mine["person_name"].iloc[0])
    starts = pd.to_datetime(mine["window_start"]).dt.date
    mine = mine[(starts >= start) & (starts <= end)].reset_index(drop=True)
    total_pay, unknown_pay = known_pay(mine)
    bonuses = [s for s in mine["share"] if s is not None]
    total_bonus = money(sum(bonuses, Decimal(0))) if bonuses else None
    rows: list[Any] = list(mine.itertuples(index=False))
    supplied = sorted(
        {
            f"{r.title}: program fixed residual {r.program_fixed_residual} ({r.fixed_residual_status})"
            for r in rows
            if r.program_fixed_residual is not None
        }
        | {
            f"{r.title}: this credit's fixed residual {r.credit_fixed_residual} (user-supplied)"
            for r in rows
            if r.credit_fixed_residual is not None
        }
        | {
            f"domestic subscribers {r.domestic_subscribers:,} for {r.title} (user-supplied)"
            for r in rows
            if r.subscribers_source == "user-supplied"
        }
    )
    used = [packs[p] for p in sorted({str(p) for p in mine["pack"].dropna()}) if p in packs]
    assumptions: list[str] = []
    sources: list[str] = []
    for p in used:
        rule = p.success_bonus
        if rule is not None:
            for fname, fig in rule:
                if getattr(fig, "status", None) in ("assumption", "interpretation"):
                    assumptions.append(f"{p.name}, {fname} ({fig.status}): {fig.value}. {fig.note}".strip())
        sources.extend(p.cite(k) for k in p.sources)
    assumptions.append(
        "a credit without billing counts as principal; a line belongs to the period its window starts in, and "
        "toward the health plan its pay counts when the window closes"
    )
    return Statement(
        person_id, name, start, end, mine, total_pay, total_bonus, supplied, assumptions, sources,
        unknown_pay_lines=unknown_pay, unknown_bonus_lines=len(mine) - len(bonuses),
    )


def known_pay(lines: pd.DataFrame) -> tuple[Decimal | None, int]:
    """The pay of `lines` as far as it is known, and how many lines' pay is not: each line's pay, or for a
    line of unknown pay its own supplied fixed residual (a part known, the bonus share not). None when no
    money on any line is known — never 0.00 for money nobody supplied."""
    parts = [
        pay if pay is not None else own
        for pay, own in zip(lines["pay"], lines["credit_fixed_residual"], strict=True)
        if pay is not None or own is not None
    ]
    unknown = int(sum(pay is None for pay in lines["pay"]))
    return (money(sum(parts, Decimal(0))) if parts else None), unknown


def statement_from_store(
    store: Store,
    person_id: str,
    start: date,
    end: date,
    *,
    as_of: date,
    residuals: ResidualInputs | None = None,
    health_year: int | None = None,
    other_earnings: Decimal | int | str = 0,
    use_published_examples: bool = False,
) -> Statement:
    """A person's statement as of a date — what the CLI and the API both show. Nothing viewed after
    `as_of` counts. A person of the people table with nothing credited or measured yet gets an empty
    statement (their health status still computed from `other_earnings`), not an error: their dashboard
    page was a red "has no credits"; an unknown person is still a `NotFoundError`."""
    _check_period(start, end)  # before any work, and for the empty statement too
    try:
        lines = credit_lines(store, residuals, as_of=as_of, person_id=person_id,
                             use_published_examples=use_published_examples)
        st = person_statement(lines, person_id, start, end)
    except NotFoundError:
        name = store.scalar("SELECT name FROM people WHERE person_id = ?", [person_id])
        if name is None:  # "has no credits" read as a person who exists: say there is no such person
            raise NotFoundError(
                f"no person '{person_id}' in the store (ids are the people table's person_id)"
            ) from None
        st = Statement(person_id, str(name), start, end, pd.DataFrame(columns=_LINE_COLUMNS), None, None, [], [], [])
        if health_year is not None:
            check_plan_year(health_year)
            st.health = health_status(money(other_earnings), health_year)
        return st
    if health_year is not None:
        st.health = person_health(lines, person_id, health_year, other_earnings)
    return st


def _check_period(start: date, end: date) -> None:
    if end < start:
        raise InputError(f"the period end ({end}) must not be before its start ({start})")


def health_base_period(year: int) -> tuple[date, date]:
    """Base earnings period for eligibility starting January 1 of `year`: Oct 1 of year-2 to Sep 30 of year-1."""
    return date(year - 2, 10, 1), date(year - 1, 9, 30)


def person_health(
    lines: pd.DataFrame, person_id: str, year: int, other_earnings: Decimal | int | str = 0
) -> HealthStatus:
    """Covered earnings toward `year`'s threshold: other covered earnings (supplied) plus this person's
    SAG-AFTRA residuals and bonus shares from windows closing in the base period; if short, the titles whose bonus
    would close the gap (nearest their trigger first)."""
    check_plan_year(year)  # before the base period: year 0 has no October of year -2
    start, end = health_base_period(year)
    # Only SAG-AFTRA work counts toward the SAG-AFTRA Health Plan (a writer's WGA pay does not).
    mine = lines[(lines["person_id"] == person_id) & (lines["guild"] == "sag-aftra")]
    notes = []
    if mine.empty:
        notes.append(
            "no performer (SAG-AFTRA) credits here: only the other covered earnings given count. Writers are "
            "covered by the WGA Health Fund and directors by the DGA plans, whose rules are not computed here"
        )
    else:
        ends = (pd.to_datetime(mine["window_end"]) - pd.Timedelta(days=1)).dt.date
        mine = mine[(ends >= start) & (ends <= end)]
    known, unknown = known_pay(mine)
    earned = known if known is not None else Decimal("0.00")
    status = health_status(money(other_earnings) + earned, year)
    if status.shortfall is None or status.shortfall <= 0:  # unknown pay is never negative: reaching it decides
        return replace(status, notes=notes, unknown_earnings_lines=unknown)
    if unknown:
        # Known earnings fall short, but lines of unknown pay may close the gap: no verdict, no certain shortfall.
        notes.append(
            f"{unknown} SAG-AFTRA line{'s' if unknown != 1 else ''} closing in the base period "
            f"{'have' if unknown != 1 else 'has'} unknown pay (no fixed residual supplied, or the trigger cannot "
            f"be measured): eligibility cannot be decided from known earnings ({_known_earnings(status)}; "
            f"short by at most ${status.shortfall:,})"
        )
        status = replace(status, eligible=None, shortfall=None, shortfall_at_most=status.shortfall,
                         unknown_earnings_lines=unknown)
    gap = status.shortfall if status.shortfall is not None else status.shortfall_at_most
    assert gap is not None
    rows: list[Any] = list(mine.itertuples(index=False))
    # Only a window still open can gain views: one that closed below the trigger never pays (the 2024
    # spring window of a season "would close" a 2025 gap on a statement made in December 2024).
    candidates = [
        ClosingTitle(str(r.program_id), str(r.title), str(r.window), r.potential_share, int(r.views_needed))
        for r in rows
        if r.potential_share is not None and r.eligible is False and r.views_needed is not None and r.window_open
    ]
    closing = closing_titles(gap, candidates)
    return replace(status, closing=closing, notes=notes)


def _known_earnings(status: HealthStatus) -> str:
    """The known earnings in words: "$0.00 of $27,540.00" where nothing is known read as a known nothing."""
    if not status.earnings:
        return f"no earnings known toward ${status.threshold:,}"
    return f"${status.earnings:,} of ${status.threshold:,}"
