"""Talent pay over HTTP: a person's statement (that person's key or an admin), title windows (analyst/admin),
the bonus and health calculators, and the rule packs with their sources.

Thin: parse, authorize (through `limelight.service.deps`), call `limelight.talent`, return typed models.
Money travels as strings (exact Decimals, rounded half-up to the cent).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from limelight.service.deps import OwnPerson, StoreDep, require_access
from limelight.service.errors import ERROR_RESPONSES, ErrorBody
from limelight.talent.bonus import MAX_SUPPLIED_AMOUNT
from limelight.talent.views import MAX_HOURS, MAX_RUNTIME_MINUTES, MIN_RUNTIME_MINUTES

__all__ = ["router"]

router = APIRouter(prefix="/v1/talent", tags=["talent"], responses=ERROR_RESPONSES)

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "No such person, title, or no measured windows."}}
# in any case, as the CLI takes it ("SAG-AFTRA" was a 422 here and fine there)
Guild = Annotated[str, Query(pattern="(?i)^(sag-aftra|wga|dga)$", description="sag-aftra, wga or dga (any case).")]


class StatementLine(BaseModel):
    title: str
    program_id: str
    role: str
    billing: str | None
    guild: str
    pack: str | None
    window: str
    window_start: date
    window_end: date
    hours: float
    views: float | None
    domestic_subscribers: int | None = Field(description="None: no domestic count for the applicable July 1 (unknown).")
    subscribers_as_of: date
    subscribers_source: str
    metric: float | None
    trigger_views: float | None
    eligible: bool | None
    views_needed: int | None
    release_eligible: bool
    program_fixed_residual: str | None = Field(description="Supplied by the user; never invented.")
    fixed_residual_status: str | None
    bonus: str | None
    share: str | None
    credit_fixed_residual: str | None
    pay: str | None
    pay_per_thousand_views: str | None
    window_open: bool = Field(description="The window had not closed on the statement's as-of date: views so far.")
    note: str


class HealthOut(BaseModel):
    plan: str
    year: int
    earnings: str
    threshold: str | None
    eligible: bool | None
    shortfall: str | None = Field(description="None when unknown: no published threshold, or unknown pay in the base period.")
    shortfall_at_most: str | None = Field(
        None, description="With unknown pay in the base period and known earnings short: the gap they leave."
    )
    unknown_earnings_lines: int = Field(0, description="Performer lines in the base period whose pay is unknown.")
    status: str
    source: str
    closing_titles: list[dict[str, Any]] = Field(
        default=[], description="Windows still open whose bonus shares would close the shortfall, likeliest first."
    )
    closing_titles_close_the_gap: bool | None = Field(
        None, description="False when even all of them together fall short; None when there is nothing to close."
    )
    notes: list[str] = []


class StatementOut(BaseModel):
    person_id: str
    person_name: str
    period: dict[str, date]
    total_pay: str | None = Field(
        description="None when no pay is known; else the sum of the known lines — a lower bound when unknown_pay_lines > 0."
    )
    total_bonus: str | None
    total_pay_is_lower_bound: bool = False
    total_bonus_is_lower_bound: bool = False
    unknown_pay_lines: int = Field(0, description="Lines whose pay is unknown (left out of total_pay).")
    unknown_bonus_lines: int = Field(0, description="Lines whose bonus share is unknown (left out of total_bonus).")
    lines: list[StatementLine]
    supplied_figures: list[str]
    assumptions: list[str]
    sources: list[str]
    rounding: str
    health: HealthOut | None = None


class ResidualIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    guild: str = Field(pattern="(?i)^(sag-aftra|wga|dga)$", description="sag-aftra, wga or dga (any case).")
    title_id: str = Field(min_length=1, max_length=128)

    @field_validator("guild")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()
    person_id: str | None = Field(default=None, max_length=128)
    amount: Decimal = Field(ge=0, le=MAX_SUPPLIED_AMOUNT, decimal_places=2)
    rates_as_of: date | None = None


class StatementRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: date | None = None
    end: date | None = None
    as_of: date | None = None
    fixed_residuals: list[ResidualIn] = Field(default_factory=list, max_length=10_000)
    health_year: int | None = Field(default=None, ge=1900, le=2200)
    other_earnings: Decimal = Field(default=Decimal(0), ge=0, le=MAX_SUPPLIED_AMOUNT, decimal_places=2)


class BonusOut(BaseModel):
    guild: str
    pack: str
    views: float
    domestic_subscribers: int
    metric: float
    trigger: float
    eligible: bool
    views_needed: int
    fixed_residual: str | None
    cap: str | None
    bonus: str | None
    performers_share: str | None = Field(description="The recipients' share; `recipients` says who they are.")
    fund_share: str | None
    rounding: str
    recipients: str = Field(description="Who the share goes to under the pack: performers, writers or directors.")


class TitleWindow(BaseModel):
    """A program's bonus window; `guilds` are those whose (identical) trigger the verdict applies to."""

    program_id: str
    title: str
    window: str
    window_start: date
    window_end: date
    hours: float
    views: float | None = Field(description="None: the runtime is unknown, so views cannot be counted.")
    domestic_subscribers: int | None = Field(
        description="None: no domestic subscriber count on or before the applicable July 1 (unknown, not 0)."
    )
    metric: float | None = Field(description="Views ÷ domestic subscribers; None when either is unknown.")
    eligible: bool | None = Field(description="Reached the trigger; None: unknown (never read as no).")
    views_needed: int | None
    release_eligible: bool
    guilds: list[str]


def _clean(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, Decimal):
        return str(v)
    if hasattr(v, "item"):
        return v.item()
    return v


MAX_YEARS_AHEAD = 2  # a statement may look this far ahead of today (the calendar year it ends)


def _within_horizon(**dates: date) -> None:
    """Refuse dates before 1900 or more than MAX_YEARS_AHEAD calendar years ahead.

    Bonus windows are computed up to the latest of them: a date centuries ahead would hold a worker
    for seconds and can say nothing yet, since no view after today exists.
    """
    from limelight.errors import InputError

    horizon = datetime.now(UTC).date().replace(month=1, day=1)
    horizon = horizon.replace(year=horizon.year + MAX_YEARS_AHEAD)
    for name, value in dates.items():
        if not date(1900, 1, 1) <= value < horizon:
            raise InputError(
                f"{name} must lie between 1900-01-01 and {horizon - timedelta(days=1)} "
                f"(at most {MAX_YEARS_AHEAD} years ahead), got {value}"
            )


def _statement(store: Any, person_id: str, req: StatementRequest) -> StatementOut:
    import numpy as np
    import pandas as pd

    from limelight.errors import InputError
    from limelight.talent.residuals import ResidualInputs, repeated_residuals
    from limelight.talent.statements import statement_from_store

    today = req.as_of or datetime.now(UTC).date()
    start = req.start or date(today.year, 1, 1)
    end = req.end or today
    if end < start:
        raise InputError(f"end ({end}) must not be before start ({start})")
    _within_horizon(start=start, end=end, as_of=today)
    rows = pd.DataFrame([r.model_dump() for r in req.fixed_residuals], columns=list(ResidualIn.model_fields))
    repeated = np.flatnonzero(repeated_residuals(rows)) if len(rows) else np.zeros(0, dtype=np.int64)
    if repeated.size:
        i = int(repeated[0])
        raise InputError(f"fixed_residuals[{i}] repeats an earlier row's guild, title and person "
                         f"('{rows['title_id'].iloc[i]}'): give one amount for it")
    if req.other_earnings and req.health_year is None:  # they count only toward a plan year
        raise InputError("other_earnings counts toward the health plan: give health_year too")
    inputs = ResidualInputs(rows)
    st = statement_from_store(store, person_id, start, end, as_of=today, residuals=inputs,  # nothing after as_of
                              health_year=req.health_year, other_earnings=req.other_earnings)
    body = st.as_json()
    body["lines"] = [{k: _clean(v) for k, v in line.items()} for line in body["lines"]]
    return StatementOut.model_validate(body)


@router.get(
    "/people/{person_id}/statement",
    response_model=StatementOut,
    responses=_NOT_FOUND,
    summary="A person's statement (views, trigger, bonus share) — that person's key or an admin",
)
def person_statement_get(
    person_id: OwnPerson,
    store: StoreDep,
    start: Annotated[date | None, Query(description="Period start; default Jan 1 of as_of's year.")] = None,
    end: Annotated[date | None, Query(description="Period end; default as_of.")] = None,
    as_of: Annotated[date | None, Query(description="Measure windows started by this date; default today (UTC).")] = None,
    health_year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
) -> StatementOut:
    return _statement(store, person_id, StatementRequest(start=start, end=end, as_of=as_of, health_year=health_year))


@router.post(
    "/people/{person_id}/statement",
    response_model=StatementOut,
    responses=_NOT_FOUND,
    summary="A person's statement with fixed residuals you supply (marked as supplied)",
)
def person_statement_post(person_id: OwnPerson, store: StoreDep, body: StatementRequest) -> StatementOut:
    return _statement(store, person_id, body)


@router.get(
    "/titles/windows",
    response_model=list[TitleWindow],
    responses=_NOT_FOUND,
    dependencies=[Depends(require_access("talent.aggregate"))],
    summary="Every program's bonus windows: hours, views, share of the domestic base, trigger (analyst/admin)",
)
def title_windows(
    store: StoreDep,
    as_of: Annotated[date | None, Query()] = None,
    title_id: Annotated[str | None, Query(max_length=128, description="Only this program.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[TitleWindow]:
    from limelight.talent.statements import title_windows as compute_windows

    today = as_of or datetime.now(UTC).date()
    _within_horizon(as_of=today)
    if title_id is not None:
        from limelight.errors import InputError, NotFoundError
        from limelight.talent.residuals import program_problem

        known = store.query("SELECT title_id, kind, parent_id FROM titles WHERE title_id = ? OR parent_id = ?",
                            [title_id, title_id]).set_index("title_id")
        problem = program_problem(known, title_id, "bonus windows")
        if problem == "names no title in the store":  # an empty list read as "no windows yet"
            raise NotFoundError(f"title '{title_id}' is not in the spine")
        if problem is not None:  # a series or an episode: its windows are its seasons' (an empty 200 before)
            raise InputError(f"title_id '{title_id}' {problem}")
    frame = compute_windows(store, as_of=today, program_ids=None if title_id is None else [title_id])
    from limelight.talent.rules import load_packs

    guilds: list[str] = sorted({str(p.guild) for p in load_packs().values() if p.success_bonus is not None})
    out: list[TitleWindow] = []
    r: Any
    for r in frame.itertuples(index=False) if not frame.empty else ():
        # A window without a runtime or a base is listed with nulls: left out, it read as no window at all.
        subscribers = _clean(r.domestic_subscribers)
        out.append(
            TitleWindow(
                program_id=str(r.program_id), title=str(r.program_name), window=str(r.window), window_start=r.start,
                window_end=r.end, hours=float(r.hours), views=_clean(r.views),
                # 0 is how views.domestic_subscribers says "no count for that July 1"
                domestic_subscribers=int(subscribers) if subscribers else None, metric=_clean(r.metric),
                eligible=_clean(r.eligible),
                views_needed=None if _clean(r.views_needed) is None else int(r.views_needed),
                release_eligible=bool(r.release_eligible), guilds=guilds,
            )
        )
    # measured windows first, highest share first; those of unknown metric after them
    out.sort(key=lambda w: (w.metric is None, -(w.metric or 0.0), w.program_id, w.window_start))
    return out[:limit]


class EstimateRow(BaseModel):
    title_name: str
    period_start: date
    period_end: date
    release_date: date | None
    hours_viewed: int
    runtime_minutes: float
    domestic_share: float
    first90_share: float
    views_90: float
    domestic_subscribers: float | None = Field(description="None: no published count on or before the July 1.")
    metric: float | None
    likely_crossed: bool | None = Field(description="None: unknown (no domestic base), never read as no.")
    views_needed: int | None
    release_eligible: bool | None
    bonus_applies: bool | None = Field(description="None: unknown; false only where it is known not to apply.")


class EstimatesOut(BaseModel):
    assumptions: list[str] = Field(description="Stated with every answer; each is a query parameter.")
    rows: list[EstimateRow]


@router.get(
    "/estimates",
    response_model=EstimatesOut,
    dependencies=[Depends(require_access("talent.aggregate"))],
    summary="Which published titles likely crossed the bonus trigger, from the spine's engagement rows (analyst/admin)",
)
def estimates(
    store: StoreDep,
    domestic_share: Annotated[float | None, Query(gt=0, le=1, description="Share of hours that are domestic.")] = None,
    first90_share: Annotated[float, Query(gt=0, le=1, description="Share of a half-year's hours in the first 90 days.")] = 0.7,
    domestic_subscribers: Annotated[int | None, Query(ge=1, le=10**10)] = None,
    period_start: Annotated[date | None, Query(description="Only this half-year (its first day).")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> EstimatesOut:
    from limelight.talent.report import (
        ReportAssumptions,
        engagement_from_store,
        estimate_rows,
        estimate_titles,
    )

    assumptions = ReportAssumptions(
        domestic_share=domestic_share, first90_share=first90_share, domestic_subscribers=domestic_subscribers
    )
    engagement, subscribers = engagement_from_store(store)
    if engagement.empty:
        return EstimatesOut(assumptions=assumptions.lines(), rows=[])
    titles = estimate_titles(engagement, subscribers, assumptions)
    rows = [EstimateRow.model_validate(r) for r in estimate_rows(titles, limit, period_start)]
    return EstimatesOut(assumptions=assumptions.lines(), rows=rows)


@router.get(
    "/bonus",
    response_model=BonusOut,
    dependencies=[Depends(require_access("talent.bonus"))],
    summary="The success-bonus calculator: views, metric, trigger, bonus and its split",
)
def bonus(
    guild: Guild,
    domestic_hours: Annotated[float, Query(ge=0, le=MAX_HOURS)],
    runtime_minutes: Annotated[
        float,
        Query(ge=MIN_RUNTIME_MINUTES, le=MAX_RUNTIME_MINUTES, description="At least one minute: shorter runtimes overflow views."),
    ],
    domestic_subscribers: Annotated[int, Query(ge=1, le=10**10)],
    fixed_residual: Annotated[Decimal | None, Query(ge=0, le=MAX_SUPPLIED_AMOUNT, decimal_places=2)] = None,
) -> BonusOut:
    from limelight.talent.bonus import success_bonus
    from limelight.talent.rules import agreement_for

    result = success_bonus(
        agreement_for(guild.lower()), domestic_hours=domestic_hours, runtime_minutes=runtime_minutes,
        domestic_subscribers=domestic_subscribers, fixed_residual=fixed_residual,
    )
    return BonusOut.model_validate(result.as_json())


@router.get(
    "/health",
    response_model=HealthOut,
    dependencies=[Depends(require_access("talent.rules"))],
    summary="SAG-AFTRA Health Plan: threshold, eligible, shortfall",
)
def health(
    earnings: Annotated[Decimal, Query(ge=0, le=MAX_SUPPLIED_AMOUNT, decimal_places=2)],
    year: Annotated[int, Query(ge=1900, le=2200)],
) -> HealthOut:
    from limelight.talent.health import health_status

    return HealthOut.model_validate(health_status(earnings, year).as_json())


@router.get(
    "/packs",
    dependencies=[Depends(require_access("talent.rules"))],
    summary="The rule packs in force: terms, sources, and what is not public",
)
def packs() -> dict[str, Any]:
    from limelight.talent.rules import health_pack, load_packs

    out: dict[str, Any] = {}
    for pid, p in load_packs().items():
        out[pid] = {
            "name": p.name, "term_start": p.term_start.isoformat(), "term_end": p.term_end.isoformat(),
            "success_bonus": p.success_bonus is not None, "sources": [p.cite(k) for k in p.sources],
            "not_public": p.not_public.items,
        }
    hp = health_pack()
    out[hp.id] = {
        "name": hp.name, "thresholds": {str(y): str(t.covered_earnings) for y, t in hp.thresholds.items()},
        "sources": [hp.cite(k) for k in hp.sources],
    }
    return out
