"""As-of features: nothing from a report that ended on or after the release date enters a title's row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from limelight.errors import InputError
from limelight.valuation.features import (
    FEATURE_COLUMNS,
    FeatureBuilder,
    first_window_titles,
    normalize_candidates,
    window_of,
)


def _report(source: str, start: str, end: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["source"] = source
    frame["period_start"] = pd.Timestamp(start)
    frame["period_end"] = pd.Timestamp(end)
    for col, default in (
        ("kind", "show"),
        ("available_globally", True),
        ("runtime_minutes", 400.0),
        ("views", np.nan),
    ):
        if col not in frame.columns:
            frame[col] = default
    return frame


def _two_reports() -> pd.DataFrame:
    first = _report(
        "a.xlsx",
        "2023-07-01",
        "2023-12-31",
        [
            {
                "title_name": "Hearts: Season 1",
                "release_date": pd.Timestamp("2023-09-01"),
                "hours_viewed": 50_000_000,
            }
        ],
    )
    later = _report(
        "b.xlsx",
        "2024-01-01",
        "2024-06-30",
        [
            {
                "title_name": "Hearts: Season 1",
                "release_date": pd.Timestamp("2023-09-01"),
                "hours_viewed": 9_000_000,
            },
            {
                "title_name": "Hearts: Season 2",
                "release_date": pd.Timestamp("2024-03-01"),
                "hours_viewed": 70_000_000,
            },
        ],
    )
    return pd.concat([first, later], ignore_index=True)


def _candidate(title: str, release: str) -> pd.DataFrame:
    return normalize_candidates(
        pd.DataFrame([{"title": title, "kind": "show", "release_date": release, "runtime_minutes": 400}])
    )


def test_previous_season_hours_come_from_its_own_first_window() -> None:
    builder = FeatureBuilder(_two_reports())
    row = builder.transform(_candidate("Hearts: Season 2", "2024-03-01")).iloc[0]
    assert row["prev_season_hours"] == 50_000_000
    assert row["prev_season_days"] == (pd.Timestamp("2023-12-31") - pd.Timestamp("2023-09-01")).days + 1
    # the 2024H1 report ended after this release: its 9M catalog hours for season 1 must not be used
    assert row["prev_season_latest_hours"] == 50_000_000
    assert row["days_in_window"] == (pd.Timestamp("2024-06-30") - pd.Timestamp("2024-03-01")).days + 1


def test_a_report_ending_after_release_changes_no_feature() -> None:
    reports = _two_reports()
    candidate = _candidate("Hearts: Season 2", "2024-03-01")
    before = FeatureBuilder(reports).transform(candidate)
    mutated = reports.copy()
    later = mutated["source"] == "b.xlsx"
    mutated.loc[later, "hours_viewed"] = mutated.loc[later, "hours_viewed"] * 10
    after = FeatureBuilder(mutated).transform(candidate)
    pd.testing.assert_frame_equal(before, after)
    # and the check can fail: mutating the earlier report does change the features
    earlier = reports.copy()
    earlier.loc[earlier["source"] == "a.xlsx", "hours_viewed"] = 1
    changed = FeatureBuilder(earlier).transform(candidate)
    assert changed["prev_season_hours"].iloc[0] != before["prev_season_hours"].iloc[0]


def test_top10_weeks_count_only_before_release() -> None:
    top10 = pd.DataFrame(
        {
            "week": pd.to_datetime(["2024-02-18", "2024-02-25", "2024-03-03"]),
            "franchise": ["hearts", "hearts", "hearts"],
            "weekly_hours_viewed": [10_000_000, 20_000_000, 99_000_000],
        }
    )
    row = (
        FeatureBuilder(_two_reports(), top10=top10)
        .transform(_candidate("Hearts: Season 2", "2024-03-01"))
        .iloc[0]
    )
    assert row["top10_weeks"] == 2
    assert row["top10_max_weekly_hours"] == 20_000_000


def test_first_window_titles_borrow_kind_and_runtime_for_a_report_without_them() -> None:
    old = _report(
        "old.xlsx",
        "2023-01-01",
        "2023-06-30",
        [
            {
                "title_name": "Quiet Film",
                "release_date": pd.Timestamp("2023-02-01"),
                "hours_viewed": 5_000_000,
            },
            {
                "title_name": "Loud: Season 1",
                "release_date": pd.Timestamp("2023-03-01"),
                "hours_viewed": 8_000_000,
            },
        ],
    )
    old["kind"] = None
    old["runtime_minutes"] = np.nan
    new = _report(
        "new.xlsx",
        "2023-07-01",
        "2023-12-31",
        [{"title_name": "Quiet Film", "release_date": pd.Timestamp("2023-02-01"), "hours_viewed": 1_000_000}],
    )
    new["kind"] = "film"
    new["runtime_minutes"] = 95.0
    titles = first_window_titles(pd.concat([old, new], ignore_index=True))
    by_name = titles.set_index("title_name")
    assert len(titles) == 2  # the 2023H2 row is catalog viewing, not a first window
    assert by_name.loc["Quiet Film", "kind"] == "film"
    assert by_name.loc["Quiet Film", "runtime_minutes"] == 95.0
    assert by_name.loc["Loud: Season 1", "kind"] == "show"  # read from the name


def test_feature_frame_has_every_column_in_order(world_reports: pd.DataFrame) -> None:
    titles = first_window_titles(world_reports)
    features = FeatureBuilder(world_reports).transform(titles)
    assert list(features.columns) == list(FEATURE_COLUMNS)
    assert len(features) == len(titles)
    assert features["days_in_window"].between(1, 184).all()


def test_window_of_is_the_half_year() -> None:
    assert window_of(pd.Timestamp("2024-09-26")) == (pd.Timestamp("2024-07-01"), pd.Timestamp("2024-12-31"))
    assert window_of(pd.Timestamp("2024-06-30"))[1] == pd.Timestamp("2024-06-30")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"title": "X", "kind": "movie", "release_date": "2024-01-01"}, "kind must be 'film' or 'show'"),
        ({"title": "X", "kind": "film", "release_date": "soon"}, "release_date must be a date"),
        (
            {"title": "X", "kind": "film", "release_date": "2024-01-01", "runtime_minutes": -5},
            "runtime_minutes",
        ),
        (
            {"title": "X", "kind": "film", "release_date": "2024-01-01", "available_globally": "maybe"},
            "available_globally",
        ),
    ],
)
def test_bad_candidates_raise_one_sentence(row: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        normalize_candidates(pd.DataFrame([row]))


def test_a_new_film_takes_no_history_from_another_film_of_its_name(real_reports: pd.DataFrame) -> None:
    """"Spellbound" (2024) had the 2011 Korean "Spellbound // 오싹한 연애" as its franchise history, and
    "Mission: Cross // 크로스" the Mission: Impossible films (it keeps the Korean "Mission: Possible": the
    same words and language are all a name can tell); a numbered sequel keeps its own."""
    from limelight.valuation.features import FeatureBuilder, normalize_candidates

    candidates = normalize_candidates(pd.DataFrame([
        {"title": "Spellbound", "kind": "film", "release_date": "2024-11-22", "runtime_minutes": 109},
        {"title": "Mission: Cross // 크로스", "kind": "film", "release_date": "2024-08-09", "runtime_minutes": 100},
        {"title": "The Platform 2 // El hoyo 2", "kind": "film", "release_date": "2024-10-04", "runtime_minutes": 99},
    ]))
    features = FeatureBuilder(real_reports).transform(candidates)
    assert features["franchise_titles"].tolist()[:2] == [0.0, 1.0]
    assert features["franchise_titles"].iloc[2] >= 1 and features["franchise_max_hours"].iloc[2] > 0
