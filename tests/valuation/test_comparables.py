"""Comparables: the previous season first, with its reason; nothing released later."""

from __future__ import annotations

import pandas as pd

from limelight.valuation.comparables import find_comparables
from limelight.valuation.features import first_window_titles, normalize_candidates


def test_previous_season_is_the_first_comparable(world_reports: pd.DataFrame) -> None:
    titles = first_window_titles(world_reports)
    seasons = titles[titles["title_name"].str.contains(": Season 2")]
    later = seasons[seasons["period_end"] == seasons["period_end"].max()].iloc[0]
    candidate = normalize_candidates(
        pd.DataFrame(
            [
                {
                    "title": later["title_name"],
                    "kind": "show",
                    "release_date": later["release_date"],
                    "runtime_minutes": later["runtime_minutes"],
                }
            ]
        )
    )
    comps = find_comparables(candidate, titles, k=5)[0]
    assert len(comps) == 5
    franchise = later["title_name"].split(":")[0]
    assert comps[0].title.startswith(f"{franchise}: Season 1")
    assert comps[0].reason.startswith("previous season")
    assert all(c.reason for c in comps)
    release = pd.Timestamp(later["release_date"])
    assert all(pd.Timestamp(c.window.split(":")[1]) < release for c in comps)


def test_no_comparable_when_nothing_was_measured_before(world_reports: pd.DataFrame) -> None:
    titles = first_window_titles(world_reports)
    candidate = normalize_candidates(
        pd.DataFrame([{"title": "Early", "kind": "film", "release_date": "2022-05-01"}])
    )
    assert find_comparables(candidate, titles)[0] == []


def test_a_season_released_before_the_reports_is_found_in_a_catalog_window() -> None:
    reports = pd.DataFrame(
        {
            "source": ["a.xlsx", "a.xlsx"],
            "period_start": pd.Timestamp("2023-01-01"),
            "period_end": pd.Timestamp("2023-06-30"),
            "title_name": ["Gloom: Season 1", "Other Film"],
            "kind": ["show", "film"],
            "available_globally": True,
            "release_date": [pd.Timestamp("2022-11-23"), pd.Timestamp("2023-03-01")],
            "runtime_minutes": [400.0, 100.0],
            "hours_viewed": [500_000_000.0, 9_000_000.0],
            "views": [75_000_000.0, 5_400_000.0],
        }
    )
    first = first_window_titles(reports)
    assert first["title_name"].tolist() == ["Other Film"]
    candidate = normalize_candidates(
        pd.DataFrame(
            [
                {
                    "title": "Gloom: Season 2",
                    "kind": "show",
                    "release_date": "2025-08-06",
                    "runtime_minutes": 420,
                }
            ]
        )
    )
    comps = find_comparables(candidate, first, k=2, reports=reports)[0]
    assert comps[0].title == "Gloom: Season 1"
    assert "previous season" in comps[0].reason
    assert "catalog window" in comps[0].reason
    assert find_comparables(candidate, first, k=2)[0][0].title == "Other Film"  # without reports: not found


def test_a_comparable_whose_kind_no_report_gave_is_none_not_nan(real_reports: pd.DataFrame) -> None:
    """Netflix's first report has no film/show split: a title only it lists has no kind. Its NaN reached
    the API's response model and a forecast for a short film answered 500."""
    from limelight.valuation.features import normalize_candidates
    from limelight.valuation.pipeline import Valuator

    candidate = pd.DataFrame([{"title": "X", "kind": "film", "release_date": "2024-09-15", "runtime_minutes": 1}])
    normalize_candidates(candidate)
    result = Valuator(real_reports).forecast(candidate)[0]
    kinds = [c["kind"] for c in result["comparables"]]
    assert all(k is None or k in ("film", "show") for k in kinds), kinds
    assert not any("nan" in c["reason"] for c in result["comparables"])


def test_an_older_shows_earlier_seasons_make_its_top_five(real_reports: pd.DataFrame) -> None:
    """A catalog-window row's days since release (≈1,480 for Season 3) were read as launch timing: the
    penalty outweighed previous season and franchise, and Designated Survivor: Season 4's five comparables
    were baking shows."""
    from limelight.valuation.features import first_window_titles

    candidate = normalize_candidates(pd.DataFrame(
        [{"title": "Designated Survivor: Season 4", "kind": "show", "release_date": "2025-08-01", "runtime_minutes": 450}]))
    comps = find_comparables(candidate, first_window_titles(real_reports), k=5, reports=real_reports)[0]
    assert comps[0].title == "Designated Survivor: Season 3" and comps[0].reason.startswith("previous season")
    assert {c.title for c in comps} >= {f"Designated Survivor: Season {n}" for n in (1, 2, 3)}


def test_a_film_of_the_same_name_is_no_franchise_and_no_language_group_is_a_language(real_reports: pd.DataFrame) -> None:
    """The 2024 "Spellbound" took the 2011 Korean "Spellbound // 오싹한 연애" as "same franchise", and
    "Non Negotiable // No negociable" was "same language (latin_other)" as a German film."""
    from limelight.valuation._titles import linked_franchise, parse_titles
    from limelight.valuation.features import first_window_titles

    names = pd.Series(["Spellbound", "Extraction 2", "Wednesday: Season 2", "Maria"])
    parts = parse_titles(names)
    linked = linked_franchise(parts, pd.Series(["film", "film", "show", "show"]))
    assert linked.tolist() == ["", "extraction", "wednesday", "maria"]
    history = first_window_titles(real_reports)
    candidates = normalize_candidates(pd.DataFrame([
        {"title": "Spellbound", "kind": "film", "release_date": "2024-11-22", "runtime_minutes": 109},
        {"title": "Mission: Cross // 크로스", "kind": "film", "release_date": "2024-08-09", "runtime_minutes": 100},
        {"title": "Somebody Else // Otra persona", "kind": "film", "release_date": "2024-10-01", "runtime_minutes": 100},
    ]))
    found = find_comparables(candidates, history, k=5, reports=real_reports)
    assert not [c for c in found[0] if "franchise" in c.reason], found[0]
    assert not [c for c in found[1] if "Impossible" in c.title]  # a Korean film, not Tom Cruise's franchise
    assert not [c for cs in found for c in cs if "latin_other" in c.reason]


def test_a_companion_piece_is_not_an_installment_of_its_franchise(real_reports: pd.DataFrame) -> None:
    """"Squid Game: Fireplace", an hour of crackling logs, was forecast from Squid Game's seasons (14.7M
    hours; it drew 0.3M) and took them as comparables. The words are in data/companion_formats.csv."""
    from limelight.valuation._titles import linked_franchise, parse_titles
    from limelight.valuation.features import FeatureBuilder, first_window_titles

    names = pd.Series(["Squid Game: Fireplace", "Squid Game: Season 2", "My Little Pony: A New Generation: Sing-Along",
                       "Squid Game: The Challenge", "Fireplace for Your Home: Season 2"])
    linked = linked_franchise(parse_titles(names), pd.Series(["show", "show", "film", "show", "show"]))
    assert linked.tolist() == ["", "squid game", "", "squid game", "fireplace for your home"]
    candidates = normalize_candidates(pd.DataFrame([
        {"title": "Squid Game: Fireplace", "kind": "show", "release_date": "2024-12-13", "runtime_minutes": 60},
        {"title": "Squid Game: Season 2", "kind": "show", "release_date": "2024-12-26", "runtime_minutes": 430},
    ]))
    history = real_reports[pd.to_datetime(real_reports["period_end"]) < pd.Timestamp("2024-07-01")]
    features = FeatureBuilder(history).transform(candidates)
    assert features["franchise_titles"].tolist()[0] == 0 and features["franchise_titles"].tolist()[1] > 0
    found = find_comparables(candidates, first_window_titles(history), k=5, reports=history)
    assert not [c for c in found[0] if "Squid Game" in c.title], found[0]
