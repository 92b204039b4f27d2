"""The data pipelines every engine needs, written once in Ibis so they run unchanged on DuckDB and Spark.

- `interactions`: one row per member and title with a weight and the latest time, from viewing
  events (watched fraction of runtime, or a count) or from ratings (the latest rating).
- `views_per_window`: hours viewed and views per title in a time window, optionally for some
  countries, with views = hours viewed / runtime in hours, as in published engagement reports.

How titles roll up (stated once, used by both):

- `interactions` rolls episodes and seasons up to their series (the unit a home page shows),
  unless `roll_up="none"`; films and games stay as they are.
- `views_per_window` rolls episodes up to their season, as engagement reports count a season:
  a season's hours are its episodes' hours and its runtime is the sum of its episodes' runtimes.
  Games have no runtime, so their views are NULL.

Every function takes an Ibis backend (see `limelight.spine.engines.connect`) and returns an
unexecuted `ibis.Table`; call `.to_pandas()` / `.to_pyarrow()` / `.to_parquet()` on it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from limelight.errors import InputError
from limelight.spine.engines import MONTH_COLUMN, broadcast_small

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["check_source", "episode_units", "interactions", "series_units", "views_per_window"]

Source = Literal["events", "ratings", "auto"]


def check_source(source: str) -> None:
    """One sentence unless `source` is one of the interactions pipeline's sources."""
    if source not in ("events", "ratings", "auto"):
        raise InputError(f"source must be one of events, ratings, auto, got '{source}'")


class MissingTableError(InputError):
    """The data source has no table of that name."""


# The columns each pipeline reads, checked before a query is built: a missing one was an AttributeError
# from deep inside Ibis (a traceback) on both engines.
_NEEDS: dict[str, tuple[str, ...]] = {
    "titles": ("title_id", "kind", "parent_id", "runtime_minutes"),
    "viewing_events": ("member_id", "title_id", "started_at", "seconds_viewed"),
    "ratings": ("member_id", "title_id", "rating", "rated_at"),
}


def _table(backend: Any, name: str) -> ir.Table:
    # Asking for the table (rather than listing them all first) costs one catalog lookup on Spark.
    try:
        table = backend.table(name)
    except Exception as exc:
        raise MissingTableError(f"the {name} table must exist in the data source, got no table named '{name}'") from exc
    missing = [c for c in _NEEDS.get(name, ()) if c not in table.columns]
    if missing:
        raise InputError(f"the {name} table must have a '{missing[0]}' column, got columns {', '.join(table.columns)}")
    return table


def series_units(titles: ir.Table) -> ir.Table:
    """title_id → unit_id, where episodes and seasons map to their series and the rest to themselves."""
    import ibis

    parent = titles.select(p_id=titles.title_id, p_kind=titles.kind, p_parent=titles.parent_id)
    joined = titles.left_join(parent, titles.parent_id == parent.p_id)
    unit = ibis.cases(
        ((joined.kind == "episode") & (joined.p_kind == "season") & joined.p_parent.notnull(), joined.p_parent),
        ((joined.kind.isin(["episode", "season"])) & joined.parent_id.notnull(), joined.parent_id),
        else_=joined.title_id,
    )
    return joined.select(title_id=joined.title_id, unit_id=unit, runtime_minutes=joined.runtime_minutes)


def episode_units(titles: ir.Table) -> ir.Table:
    """title_id → unit_id, where episodes map to their season (their parent) and the rest to themselves."""
    import ibis

    unit = ibis.ifelse((titles.kind == "episode") & titles.parent_id.notnull(), titles.parent_id, titles.title_id)
    return titles.select(title_id=titles.title_id, unit_id=unit, runtime_minutes=titles.runtime_minutes)


def _has_rows(table: ir.Table) -> bool:
    return bool(table.limit(1).count().execute())


def interactions(
    backend: Any,
    *,
    source: Source = "auto",
    weight: Literal["fraction", "count"] = "fraction",
    cap: float = 1.0,
    roll_up: Literal["series", "none"] = "series",
    ordered: bool = True,
) -> ir.Table:
    """One row per (member_id, title_id) with `weight` and `last_at`, sorted by member then title.

    From viewing events (`source="events"`): each event counts its watched fraction
    (seconds viewed / runtime; 1 when the title has no runtime, as games do), summed per member
    and title and capped at `cap`; or, with `weight="count"`, the number of events.
    `last_at` is the latest `started_at`.
    From ratings (`source="ratings"`): the member's latest rating of the title and its time (of two
    at the same instant, the higher).
    `source="auto"` uses events when there are any, else ratings. `ordered=False` skips the
    final sort (a global sort is a costly shuffle on Spark when the rows go straight to Parquet).
    """
    import ibis

    check_source(source)
    if weight not in ("fraction", "count"):
        raise InputError(f"weight must be one of fraction, count, got '{weight}'")
    if roll_up not in ("series", "none"):
        raise InputError(f"roll_up must be one of series, none, got '{roll_up}'")
    if not cap > 0:
        raise InputError(f"cap must be a number above 0, got {cap}")

    if source == "auto":
        # Only a missing events table means "no events": an unreadable one is the engine's error to
        # report (it was read as "no events", and the ratings quietly stood in for the viewing).
        try:
            events_table = _table(backend, "viewing_events")
        except MissingTableError:
            has_events = False
        else:
            has_events = _has_rows(events_table)
        source = "events" if has_events else "ratings"

    titles = _table(backend, "titles")
    units = series_units(titles) if roll_up == "series" else episode_units(titles).mutate(
        unit_id=ibis._.title_id
    )
    # The title → unit map is catalog-sized; without this Spark estimates the self-join's size as a
    # product and shuffles and sorts every event for a sort-merge join instead of broadcasting it.
    units = broadcast_small(backend, units, "units")
    if source == "ratings":
        ratings = _table(backend, "ratings")
        r = ratings.left_join(units.select("title_id", "unit_id"), "title_id")
        r = r.mutate(unit_id=r.unit_id.fill_null(r.title_id))
        # The latest rating of each (member, unit); two at the same instant (two episodes of a series
        # rated together) → the higher, on every engine (argmax left the tie to the engine's row order).
        latest = ibis.row_number().over(
            group_by=[r.member_id, r.unit_id], order_by=[r.rated_at.desc(), r.rating.desc()]
        )
        r = r.mutate(_latest=latest)
        r = r.filter(r._latest == 0)
        out = r.select(r.member_id, r.unit_id, weight=r.rating.cast("float64"), last_at=r.rated_at)
    else:
        events = _table(backend, "viewing_events")
        e = events.left_join(units, "title_id")
        e = e.mutate(unit_id=e.unit_id.fill_null(e.title_id))
        if weight == "count":
            per_event = ibis.literal(1.0)
        else:
            runtime_seconds = e.runtime_minutes * 60.0
            per_event = ibis.ifelse(
                runtime_seconds.notnull() & (runtime_seconds > 0),
                ibis.least(e.seconds_viewed.cast("float64") / runtime_seconds, ibis.literal(1.0)),
                ibis.literal(1.0),
            )
        e = e.mutate(per_event=per_event)
        out = e.group_by([e.member_id, e.unit_id]).aggregate(
            total=e.per_event.sum(),
            last_at=e.started_at.max(),
        )
        capped = out.total if weight == "count" else ibis.least(out.total, ibis.literal(float(cap)))
        out = out.mutate(weight=capped.cast("float64")).drop("total")
    out = out.rename(title_id="unit_id")
    out = out.select("member_id", "title_id", "weight", "last_at")
    return out.order_by(["member_id", "title_id"]) if ordered else out


def _as_timestamp(value: date | datetime | str, name: str) -> datetime:
    """A naive UTC datetime: naive values are UTC already; an offset ("+09:00", a tz-aware datetime) is
    converted to UTC (it was dropped, or converted to the machine's local time)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            raise InputError(f"{name} must be a date like 2026-01-31, got '{value}'") from None
    return parsed if parsed.tzinfo is None else parsed.astimezone(UTC).replace(tzinfo=None)


def views_per_window(
    backend: Any,
    start: date | datetime | str,
    end: date | datetime | str,
    *,
    countries: list[str] | tuple[str, ...] | None = None,
    ordered: bool = True,
) -> ir.Table:
    """Hours viewed and views per title for events with `start <= started_at < end` (UTC).

    Columns: title_id, hours_viewed, runtime_hours, views (= hours_viewed / runtime_hours),
    sorted by hours viewed, most first (then title_id). Episodes roll up to their season. An
    event's country is where it was watched; `countries` keeps only those (ISO-3166 alpha-2).
    """
    import ibis

    lo, hi = _as_timestamp(start, "start"), _as_timestamp(end, "end")
    if not lo < hi:
        raise InputError(f"end must be after start, got start {lo:%Y-%m-%d %H:%M} and end {hi:%Y-%m-%d %H:%M}")
    titles = _table(backend, "titles")
    events = _table(backend, "viewing_events")
    window = events.filter(
        (events.started_at >= ibis.literal(lo, type="timestamp"))
        & (events.started_at < ibis.literal(hi, type="timestamp"))
    )
    if MONTH_COLUMN in events.columns:
        # Month-partitioned events (`write_world_parquet(partition_by="month")`, or a data lake laid
        # out the same way): the same window said in months, which both engines prune folders by.
        last = hi - timedelta(microseconds=1)
        window = window.filter(window[MONTH_COLUMN].between(f"{lo:%Y-%m}", f"{last:%Y-%m}"))
    if countries is not None:
        if "country" not in events.columns:
            raise InputError(f"a country filter needs a country column in viewing_events, got columns {', '.join(events.columns)}")
        wanted = [str(c).upper() for c in countries]
        if not wanted:
            raise InputError("countries must name at least one country, got an empty list")
        window = window.filter(window.country.isin(wanted))

    # A season's runtime is the sum of its episodes' runtimes; a season row's own runtime is used
    # only when the catalog has none of its episodes.
    units = episode_units(titles.filter(titles.kind != "season"))
    runtimes = units.group_by("unit_id").aggregate(
        runtime_hours=(units.runtime_minutes.sum() / 60.0).cast("float64")
    )
    own = titles.filter(titles.kind == "season").select(
        unit_id=titles.title_id, own_runtime_hours=(titles.runtime_minutes / 60.0).cast("float64")
    )

    # Seconds are summed per title first (an exact integer sum), so only one row per title — not
    # one per event — meets the catalog join; the season roll-up then adds those integer totals.
    per_title = window.group_by("title_id").aggregate(seconds=window.seconds_viewed.cast("int64").sum())
    e = per_title.left_join(episode_units(titles).select("title_id", "unit_id"), "title_id")
    e = e.mutate(unit_id=e.unit_id.fill_null(e.title_id))
    hours = e.group_by("unit_id").aggregate(
        hours_viewed=(e.seconds.sum().cast("float64") / 3600.0),
    )
    joined = hours.left_join(runtimes, "unit_id").left_join(own, "unit_id")
    runtime_hours = ibis.coalesce(joined.runtime_hours, joined.own_runtime_hours)
    out = joined.select(
        title_id=joined.unit_id,
        hours_viewed=joined.hours_viewed,
        runtime_hours=runtime_hours,
        views=ibis.ifelse(runtime_hours > 0, joined.hours_viewed / runtime_hours, ibis.null("float64")),
    )
    return out.order_by([ibis.desc("hours_viewed"), "title_id"]) if ordered else out

