"""Content valuation over HTTP: `POST /v1/forecasts` (analyst/admin) forecasts one candidate title.

Thin: validate, authorize (through `limelight.service.deps`), call `limelight.valuation.pipeline`, return a
typed model. The history is the store's `engagement` table (load reports with `limelight ingest ../shared/data/netflix/engagement`; 404
while it is empty) — except on the synthetic demo world, which has none: there it is Netflix's public
engagement reports from the shared data, named in each answer's `history`. A fitted model per history and window is kept on the app, so only the first request
for a window pays for training. Money travels as strings (exact Decimals).
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from limelight.errors import NotFoundError
from limelight.service.deps import StoreDep, require_access
from limelight.service.errors import ERROR_RESPONSES, ErrorBody
from limelight.talent.bonus import MAX_SUPPLIED_AMOUNT
from limelight.valuation.features import (
    EARLIEST_RELEASE,
    LATEST_RELEASE,
    MAX_RUNTIME_MINUTES,
    MIN_RUNTIME_MINUTES,
)

__all__ = ["history_source", "router"]

router = APIRouter(
    prefix="/v1/forecasts",
    tags=["forecasts"],
    dependencies=[Depends(require_access("forecasts"))],
    responses=ERROR_RESPONSES,
)

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "The store has no engagement reports to learn from."}
}
_EARLIEST, _LATEST = EARLIEST_RELEASE.date(), LATEST_RELEASE.date()  # as the CLI's candidates
_MONEY = r"^\$?[0-9][0-9,]{0,20}(\.[0-9]{1,4})?$"
_lock = threading.Lock()


class ForecastRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Field(min_length=1, max_length=300, description="As the reports write it.")]
    kind: Literal["film", "show"]
    release_date: Annotated[date, Field(ge=_EARLIEST, le=_LATEST)]
    runtime_minutes: Annotated[float | None, Field(ge=MIN_RUNTIME_MINUTES, le=MAX_RUNTIME_MINUTES)] = None
    available_globally: bool = True
    window_end: Annotated[
        date | None,
        Field(ge=_EARLIEST, le=_LATEST, description="Default: the end of the release's half-year."),
    ] = None
    language: Annotated[str | None, Field(max_length=16)] = None
    genres: Annotated[str | None, Field(max_length=500)] = None
    cast: Annotated[str | None, Field(max_length=2000)] = None
    director: Annotated[str | None, Field(max_length=500)] = None
    fee: Annotated[str | None, Field(pattern=_MONEY, description="Licence fee or budget.")] = None
    talent_cost: Annotated[str | None, Field(pattern=_MONEY)] = None
    value_per_hour: Annotated[str | None, Field(pattern=_MONEY)] = None
    fixed_residual: Annotated[
        str | None,
        Field(pattern=_MONEY, description="Adds the guild success bonuses the forecast would trigger."),
    ] = None
    domestic_share: Annotated[float | None, Field(gt=0, le=1)] = None
    domestic_subscribers: Annotated[int | None, Field(gt=0, le=10_000_000_000)] = None
    comparables: Annotated[int, Field(ge=0, le=20)] = 5


class ComparableOut(BaseModel):
    title: str
    kind: str | None
    window: str
    hours_viewed: float
    views: float | None
    reason: str


class ForecastOut(BaseModel):
    title: str
    kind: str
    release_date: str
    window_end: str
    days_in_window: int
    predicted_hours: float | None
    lower_hours: float | None
    upper_hours: float | None
    predicted_views: float | None
    lower_views: float | None
    upper_views: float | None
    runtime_assumed: bool = Field(
        default=False,
        description="No runtime was given: hours are forecast with the median runtime of the kind in the reports, "
        "and views (hours ÷ runtime) are unknown.",
    )
    interval: str
    trained_on_windows_ending: list[str]
    comparables: list[ComparableOut]
    decisions: dict[str, Any] | None = None
    history: str | None = Field(default=None, description="What the forecast learned from, in one sentence.")


def history_source(state: Any) -> Literal["store", "public"] | None:
    """Where forecasts learn from: the spine's `engagement` table; for the synthetic demo world, which has
    none, Netflix's public engagement reports in the shared data (labelled so on every answer); else None."""
    if state.data_counts.get("engagement", 0) > 0:
        return "store"
    if state.synthetic:
        from limelight.valuation.data import default_report_paths

        try:
            default_report_paths()
        except NotFoundError:
            return None
        return "public"
    return None


def _valuator(request: Request, store: Any) -> tuple[Any, str]:
    """The fitted `Valuator` for the current history (kept on the app) and a sentence naming the history."""
    import pandas as pd

    from limelight.valuation.data import default_catalog, default_report_paths, default_top10, load_reports
    from limelight.valuation.pipeline import Valuator

    paths = []
    if store.has_table("engagement") and store.count("engagement") > 0:
        stamp = store.query(
            "SELECT count(*) AS n, max(period_end) AS last, sum(hours_viewed) AS hours FROM engagement"
        ).iloc[0]
        key = f"store:{stamp['n']}:{stamp['last']}:{stamp['hours']}"
        source = f"the spine's engagement table ({int(stamp['n']):,} rows)"
    elif request.app.state.limelight.synthetic:
        # The demo world has no engagement of its own: learn from the real public reports, and say so.
        paths = default_report_paths()
        key = "public:" + "|".join(f"{p.name}:{p.stat().st_size}" for p in paths)
        names = ", ".join(p.stem.rsplit("_", 1)[-1] for p in paths)
        source = (
            f"Netflix's public engagement reports ({names}) from the shared data: the synthetic demo world "
            "has no engagement reports of its own"
        )
    else:
        raise NotFoundError("the store has no engagement reports; load some with `limelight ingest` (e.g. ../shared/data/netflix/engagement) first")
    cache: dict[str, Any] = request.app.state.__dict__.setdefault("valuation_cache", {})
    with _lock:
        valuator = cache.get(key)
        if valuator is None:
            frame = load_reports(paths) if paths else store.query("SELECT * FROM engagement")
            frame["period_end"] = pd.to_datetime(frame["period_end"])
            valuator = Valuator(frame, top10=default_top10(), catalog=default_catalog())
            cache.clear()
            cache[key] = valuator
    return valuator, source


@router.post(
    "", response_model=ForecastOut, summary="Forecast a candidate title's first window", responses=_NOT_FOUND
)
def create_forecast(body: ForecastRequest, request: Request, store: StoreDep) -> ForecastOut:
    """Hours and views in the first reporting window, an 80% interval, comparables and decision figures."""
    import pandas as pd

    from limelight.valuation.data import default_value_per_hour
    from limelight.valuation.decisions import to_money
    from limelight.valuation.pipeline import Decisions

    valuator, source = _valuator(request, store)
    candidate = pd.DataFrame(
        [
            body.model_dump(
                exclude={
                    "fee",
                    "talent_cost",
                    "value_per_hour",
                    "comparables",
                    "fixed_residual",
                    "domestic_share",
                    "domestic_subscribers",
                }
            )
        ]
    )
    candidate = candidate.drop(columns=["window_end"])
    per_hour = to_money(body.value_per_hour, "value_per_hour") if body.value_per_hour else None
    note = None
    if body.talent_cost and per_hour is None:
        per_hour, note = default_value_per_hour(valuator.reports, body.release_date)
    wanted = Decisions(
        fee=to_money(body.fee, "fee") if body.fee else None,
        talent_cost=to_money(body.talent_cost, "talent_cost") if body.talent_cost else None,
        value_per_hour=per_hour,
        fixed_residual=(
            to_money(body.fixed_residual, "fixed_residual", at_most=MAX_SUPPLIED_AMOUNT) if body.fixed_residual else None
        ),
        domestic_share=body.domestic_share,
        domestic_subscribers=body.domestic_subscribers,
    )
    end = pd.Timestamp(body.window_end) if body.window_end else None
    record = valuator.forecast(candidate, window_end=end, comparables=body.comparables, decisions=[wanted])[0]
    if note:
        record.setdefault("decisions", {})["value_per_hour_source"] = note
    if not record.get("decisions"):
        record["decisions"] = None
    return ForecastOut(**record, history=source)
