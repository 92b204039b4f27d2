"""Issuer-local time with summer time (IANA zones in `rules/countries.csv`), checked against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd

from limelight.payments.charges import from_hours, load_countries, local_calendar, to_hours


def _random_instants(n: int, seed: int) -> np.ndarray:
    lo = float(to_hours([pd.Timestamp("2000-01-01")])[0])
    hi = float(to_hours([pd.Timestamp("2040-01-01")])[0])
    return np.random.default_rng(seed).uniform(lo, hi, n)


def test_offsets_match_the_iana_database_in_every_zone_of_the_table() -> None:
    countries = load_countries()
    hours = _random_instants(4000, 1)
    for row, zone in enumerate(countries.time_zone):
        got = countries.offsets(np.full(len(hours), row), hours)
        utc = from_hours(np.floor(hours * 3600) / 3600).tz_localize("UTC")
        want = (utc.tz_convert(str(zone)).tz_localize(None) - utc.tz_localize(None)) / pd.Timedelta(hours=1)
        assert np.array_equal(got, want.to_numpy()), zone


def test_summer_time_moves_the_local_day_and_hour() -> None:
    countries = load_countries()
    us, au, jp = countries.index(np.array(["US", "AU", "JP"], dtype=object))
    # 04:30 UTC on 1 August is 00:30 in New York (summer), 14:30 in Sydney (winter), 13:30 in Tokyo;
    # 04:30 UTC on 1 February is 23:30 the day before in New York and 15:30 in Sydney (summer)
    times = to_hours([pd.Timestamp("2025-08-01 04:30"), pd.Timestamp("2025-02-01 04:30")])
    rows = np.array([us, au, jp])[:, None]
    cal = local_calendar(np.broadcast_to(times, (3, 2)), countries.offsets(rows, times[None, :]))
    assert cal["hour"].tolist() == [[0.5, 23.5], [14.5, 15.5], [13.5, 13.5]]
    assert cal["dom"].tolist() == [[1, 31], [1, 1], [1, 1]]


def test_local_wall_clock_round_trips_except_in_the_repeated_autumn_hour() -> None:
    countries = load_countries()
    hours = np.floor(_random_instants(20000, 2) * 60) / 60  # whole minutes
    rows = np.random.default_rng(3).integers(0, len(countries.time_zone), len(hours))
    back = countries.to_utc(rows, countries.to_local(rows, hours))
    off = back != hours
    # only instants whose wall time the autumn change repeats may map to the other instant, an hour away
    assert np.all(np.abs(back[off] - hours[off]) == 1.0)
    r, h, b = rows[off], hours[off], back[off]
    assert np.array_equal(countries.to_local(r, b), countries.to_local(r, h))  # the same wall time
    assert np.all(countries.offsets(r, b) != countries.offsets(r, h))  # on either side of the change
    assert off.mean() < 0.001


def test_non_finite_times_have_no_offset() -> None:
    countries = load_countries()
    got = countries.offsets(np.array([0, 1]), np.array([np.inf, np.nan]))
    assert got.tolist() == [0.0, 0.0]
