"""Views and windows as the 2023 agreements count them.

views = domestic hours streamed ÷ runtime (hours). The bonus looks at the first 90 days after release and
the first 90 days of each later exhibition year, against the service's domestic subscribers as of the
July 1 that applies. This module holds the arithmetic (scalar and vectorised) and the spine queries:
domestic hours per program and window, and the domestic subscriber base on a date.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from limelight.errors import InputError

if TYPE_CHECKING:
    from limelight.spine.store import Store

__all__ = [
    "SubscriberBase",
    "Window",
    "applicable_july1",
    "bonus_windows",
    "domestic_hours",
    "domestic_subscribers",
    "programs",
    "views",
    "views_array",
]

log = logging.getLogger(__name__)


#: bounds on what a user types, the same for the CLI and the API: a runtime under a minute turns a few
#: hours into astronomical views (1e-320 minutes printed "views": Infinity), and no service streams 1e12 hours
MIN_RUNTIME_MINUTES = 1
MAX_RUNTIME_MINUTES = 100_000
MAX_HOURS = 10**12


def views(hours: Decimal | float | int, runtime_minutes: Decimal | float | int) -> Decimal:
    """Views = hours ÷ runtime in hours, exactly in Decimal (e.g. 88.4M hours at 124 min ≈ 42.77M views)."""
    h = Decimal(str(hours))
    if not h.is_finite() or h < 0:  # finiteness first: comparing a Decimal NaN raises
        raise InputError(f"hours must be a finite number of at least 0, got {hours}")
    if h > MAX_HOURS:
        raise InputError(f"hours must be at most {MAX_HOURS:,}, got {hours}")
    return h * Decimal(60) / _runtime(runtime_minutes)


def _runtime(runtime_minutes: Decimal | float | int) -> Decimal:
    m = Decimal(str(runtime_minutes))
    if not m.is_finite() or m <= 0:
        raise InputError(f"runtime minutes must be a positive number, got {runtime_minutes}")
    if not MIN_RUNTIME_MINUTES <= m <= MAX_RUNTIME_MINUTES:
        raise InputError(
            f"runtime minutes must be between {MIN_RUNTIME_MINUTES} and {MAX_RUNTIME_MINUTES:,}, got {runtime_minutes}"
        )
    return m


def views_of_seconds(seconds: int, runtime_minutes: Decimal | float | int) -> Decimal:
    """Views = seconds ÷ (60 × runtime), exactly: a window at the trigger to the second is at the trigger.

    (Through hours, 113,088,000,000 s at 124 min came to 15,199,999.99… views against a 15.2M trigger.)
    """
    if int(seconds) < 0:
        raise InputError(f"seconds viewed must be at least 0, got {seconds}")
    return Decimal(int(seconds)) / (Decimal(60) * _runtime(runtime_minutes))


def views_array(hours: np.ndarray | pd.Series, runtime_minutes: np.ndarray | pd.Series) -> np.ndarray:
    """Vectorised views; NaN where the runtime is missing or not positive."""
    h = np.asarray(hours, dtype="float64")
    m = np.asarray(runtime_minutes, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(m > 0, h * 60.0 / m, np.nan)
    return out


def applicable_july1(on: date) -> date:
    """The July 1 on or before `on`: the subscriber count date for a window starting `on`."""
    july = date(on.year, 7, 1)
    return july if on >= july else date(on.year - 1, 7, 1)


@dataclass(frozen=True)
class Window:
    """One measurement window of a program: the first 90 days of exhibition year `year` (1 = release)."""

    year: int
    start: date
    end: date  # exclusive

    @property
    def label(self) -> str:
        return "first 90 days" if self.year == 1 else f"exhibition year {self.year}, first 90 days"


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def bonus_windows(release: date, through: date, window_days: int = 90) -> list[Window]:
    """Every window that has started by `through`: year k starts on the k-1th anniversary of release."""
    out = []
    k = 1
    while True:
        start = _add_years(release, k - 1)
        if start > through:
            break
        out.append(Window(k, start, start + timedelta(days=window_days)))
        k += 1
    return out


@dataclass(frozen=True)
class SubscriberBase:
    count: int
    as_of: date
    source: str  # where the number came from, shown on statements


def domestic_subscribers(store: Store, on: date, countries: tuple[str, ...] = ("US", "CA")) -> SubscriberBase:
    """The domestic base on `on`: the `subscribers` table (UCAN, or the countries summed), else members.

    The latest `as_of` on or before `on` is used. Without any domestic subscriber rows at all, members of
    those countries who had signed up and not cancelled by `on` are counted (and the statement says so).
    When the table has domestic rows but none by `on`, the count is unknown (0, said in `source`): a
    sample of members set beside paid-membership counts would decide the trigger on another kind of number.
    """
    regions = ["UCAN", *countries]
    placeholders = ", ".join("?" for _ in regions)
    rows = store.query(
        f"""SELECT region, as_of, paid_memberships FROM subscribers
            WHERE region IN ({placeholders}) AND as_of <= ?
            QUALIFY row_number() OVER (PARTITION BY region ORDER BY as_of DESC) = 1""",
        [*regions, on],
    )
    if not rows.empty:
        ucan = rows[rows["region"] == "UCAN"]
        if not ucan.empty:
            r = ucan.iloc[0]
            return SubscriberBase(int(r["paid_memberships"]), pd.Timestamp(r["as_of"]).date(), "subscribers table, region UCAN")
        by_country = rows[rows["region"].isin(countries)]
        as_of = pd.Timestamp(by_country["as_of"].min()).date()
        return SubscriberBase(
            int(by_country["paid_memberships"].sum()), as_of, f"subscribers table, {'+'.join(by_country['region'])}"
        )
    first = store.scalar(f"SELECT min(as_of) FROM subscribers WHERE region IN ({placeholders})", regions)
    if first is not None:
        return SubscriberBase(0, on, f"subscribers table: no domestic count on or before {on} (the first is {first})")
    placeholders = ", ".join("?" for _ in countries)
    count = store.scalar(
        f"""SELECT count(*) FROM members WHERE country IN ({placeholders})
            AND (signup_date IS NULL OR signup_date <= ?)
            AND (cancelled_at IS NULL OR cancelled_at > ?)""",
        [*countries, on, pd.Timestamp(on)],
    )
    return SubscriberBase(int(count or 0), on, "members table (active domestic members)")


def programs(store: Store) -> pd.DataFrame:
    """Programs the bonus is measured on: films, seasons, and series or episodes without a season.

    Returns title_id → program_id for every title (episodes roll up to their season), and per program
    its name, kind, release date and runtime (its own, else the sum of its episodes' when every episode
    has one; NULL — "runtime unknown" on statements — when any is missing).
    """
    return store.query(
        """
        WITH t AS (SELECT title_id, name, kind, parent_id, runtime_minutes, release_date FROM titles),
        mapped AS (
            SELECT t.title_id,
                   CASE WHEN t.kind = 'episode' AND p.title_id IS NOT NULL AND p.kind IN ('season', 'series')
                        THEN p.title_id ELSE t.title_id END AS program_id
            FROM t LEFT JOIN t AS p ON t.parent_id = p.title_id
            WHERE t.kind <> 'game'
        ),
        episode_runtime AS (
            -- a season's runtime is all of its episodes' or unknown: a sum that skips an episode with no
            -- runtime shrinks the divisor and inflates views (2 of 3 hour-long episodes: 2.5 views, not 1.67)
            SELECT m.program_id,
                   CASE WHEN count(*) = count(t.runtime_minutes) THEN sum(t.runtime_minutes) END AS runtime_sum,
                   min(t.release_date) AS first_release
            FROM mapped m JOIN t ON t.title_id = m.title_id
            WHERE m.title_id <> m.program_id GROUP BY m.program_id
        )
        SELECT m.title_id, m.program_id, p.name AS program_name, p.kind AS program_kind,
               coalesce(p.release_date, e.first_release) AS release_date,
               coalesce(p.runtime_minutes, e.runtime_sum) AS runtime_minutes
        FROM mapped m JOIN t AS p ON p.title_id = m.program_id
        LEFT JOIN episode_runtime e ON e.program_id = m.program_id
        """
    )


def domestic_hours(
    store: Store, windows: pd.DataFrame, countries: tuple[str, ...] = ("US", "CA")
) -> pd.DataFrame:
    """Domestic hours per program and window, in one DuckDB join.

    `windows` has program_id, year, start, end (dates; end exclusive) and optionally `count_end` (count
    viewing before it: a statement's as-of date inside the window). Viewing counts as domestic where
    the event's country (else the member's country) is one of `countries`. Returns `windows` plus
    `seconds` (a whole number: the trigger is decided on it, exactly) and `hours` (for display).
    """
    if windows.empty:
        return windows.assign(seconds=pd.Series(dtype="int64"), hours=pd.Series(dtype="float64"))
    con = store.con
    placeholders = ", ".join("?" for _ in countries)
    frame = windows[["program_id", "year", "start"]].copy()
    frame["start"] = pd.to_datetime(frame["start"])
    frame["end"] = pd.to_datetime(windows["count_end" if "count_end" in windows else "end"])
    con.register("_talent_windows", frame)
    try:
        out = con.execute(
            f"""
            WITH prog AS ({_PROGRAM_MAP_SQL}),
            ev AS (
                SELECT prog.program_id, v.started_at, v.seconds_viewed
                FROM viewing_events v
                JOIN prog ON prog.title_id = v.title_id
                LEFT JOIN members m ON m.member_id = v.member_id
                WHERE coalesce(v.country, m.country) IN ({placeholders})
            )
            SELECT w.program_id, w.year, CAST(coalesce(sum(ev.seconds_viewed), 0) AS BIGINT) AS seconds,
                   coalesce(sum(ev.seconds_viewed), 0) / 3600.0 AS hours
            FROM _talent_windows w
            LEFT JOIN ev ON ev.program_id = w.program_id AND ev.started_at >= w.start AND ev.started_at < w."end"
            GROUP BY w.program_id, w.year
            """,
            list(countries),
        ).df()
    finally:
        con.unregister("_talent_windows")
    return windows.merge(out, on=["program_id", "year"], how="left")


_PROGRAM_MAP_SQL = """
    SELECT t.title_id,
           CASE WHEN t.kind = 'episode' AND p.title_id IS NOT NULL AND p.kind IN ('season', 'series')
                THEN p.title_id ELSE t.title_id END AS program_id
    FROM titles t LEFT JOIN titles p ON t.parent_id = p.title_id
"""
