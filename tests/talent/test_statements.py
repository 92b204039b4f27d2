"""Per-credit lines and per-person statements on a tiny world (see conftest.py for what it holds)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from limelight.errors import DataError, InputError, NotFoundError
from limelight.spine.store import Store
from limelight.talent.residuals import ResidualInputs, escalate, read_residual_inputs
from limelight.talent.rules import agreement_for
from limelight.talent.statements import credit_lines, health_base_period, person_health, person_statement
from limelight.talent.views import domestic_subscribers

AS_OF = date(2024, 12, 31)


def _line(lines: pd.DataFrame, person: str, program: str, year: int = 1) -> pd.Series:
    label = "first 90 days" if year == 1 else f"exhibition year {year}, first 90 days"
    hit = lines[(lines["person_id"] == person) & (lines["program_id"] == program) & (lines["window"] == label)]
    assert len(hit) == 1, hit
    return hit.iloc[0]


def test_views_count_only_domestic_hours_inside_the_window(world_store: Store) -> None:
    lines = credit_lines(world_store, as_of=AS_OF)
    film = _line(lines, "p1", "f1")
    assert film["hours"] == pytest.approx(8.0)  # 4 domestic viewings; GB and day-121 viewing excluded
    assert film["views"] == pytest.approx(4.0)
    assert film["domestic_subscribers"] == 10 and film["subscribers_source"] == "subscribers table, region UCAN"
    assert film["metric"] == pytest.approx(0.4) and film["eligible"] and film["views_needed"] == 0


def test_episodes_roll_up_to_their_season_and_series_credits_reach_it(world_store: Store) -> None:
    lines = credit_lines(world_store, as_of=AS_OF)
    season = _line(lines, "p1", "s1s1")  # p1 is credited on the series, p2 on an episode
    assert season["views"] == pytest.approx(1.0)  # 2 hours over a 120-minute season
    assert season["metric"] == pytest.approx(0.1) and not season["eligible"] and season["views_needed"] == 1
    assert set(lines.loc[lines["program_id"] == "s1s1", "person_id"]) == {"p1", "p2"}


def test_supplied_residual_gives_the_split_among_principal_performers(world_store: Store) -> None:
    inputs = ResidualInputs.from_mapping("sag-aftra", {"f1": "1000.01"})
    lines = credit_lines(world_store, inputs, as_of=AS_OF)
    p1, p2, p3 = (_line(lines, p, "f1") for p in ("p1", "p2", "p3"))
    assert p1["bonus"] == Decimal("1000.01")
    # 75% of 1000.01 = 750.01 (half-up); equal shares, the odd cent to the earliest credit.
    assert (p1["share"], p2["share"], p3["share"]) == (Decimal("375.01"), Decimal("375.00"), Decimal("0.00"))
    assert p1["fixed_residual_status"] == "user-supplied"
    assert p1["pay_per_thousand_views"] == Decimal("93752.50")  # 375.01 per 4 views


def test_without_a_supplied_residual_the_money_is_unknown_not_invented(world_store: Store) -> None:
    lines = credit_lines(world_store, as_of=AS_OF)
    film = _line(lines, "p1", "f1")
    assert film["bonus"] is None and film["share"] is None and film["pay"] is None
    assert "not supplied" in film["note"]
    writer = _line(lines, "w1", "f1")
    assert writer["guild"] == "wga" and writer["pack"] == "wga-2023" and writer["eligible"]
    director = _line(lines, "d1", "f1")  # the DGA's bonus since its 2024 modification: same trigger as the WGA's
    assert director["guild"] == "dga" and director["eligible"] == writer["eligible"]
    assert director["bonus"] is None and "not supplied" in director["note"]


def test_a_title_released_before_2024_gets_no_bonus_even_over_the_trigger(world_store: Store) -> None:
    inputs = ResidualInputs.from_mapping("sag-aftra", {"f0": "800"})
    lines = credit_lines(world_store, inputs, as_of=AS_OF, subscribers_override=10)
    old = _line(lines, "p1", "f0")
    assert old["eligible"] and not old["release_eligible"] and old["bonus"] == 0
    assert _line(lines, "p1", "f0", year=2)["window_start"] == date(2024, 6, 1)
    # without the override its first window (July 1 2022 applies) predates the table's first count: unknown
    unknown = _line(credit_lines(world_store, inputs, as_of=AS_OF), "p1", "f0")
    assert unknown["eligible"] is None and "no domestic subscriber count" in unknown["note"]
    assert "no domestic count on or before 2022-07-01" in unknown["subscribers_source"]


def test_statement_covers_windows_starting_in_the_period_and_marks_supplied_figures(world_store: Store) -> None:
    inputs = ResidualInputs.from_mapping("sag-aftra", {"f1": "1000.01", "s1s1": "500"})
    lines = credit_lines(world_store, inputs, as_of=AS_OF)
    st = person_statement(lines, "p1", date(2024, 1, 1), date(2024, 3, 31))
    assert set(st.lines["program_id"]) == {"f1", "s1s1"}
    assert st.total_pay == Decimal("375.01") and st.total_bonus == Decimal("375.01")
    assert any("1000.01 (user-supplied)" in s for s in st.supplied)
    assert any("split_rule (assumption)" in a for a in st.assumptions)
    assert any("sagaftra.org" in s for s in st.sources)
    body = st.as_json()
    assert body["lines"][0]["window_start"].startswith("2024-")


def test_statement_for_unknown_person_or_reversed_period_is_refused(world_store: Store) -> None:
    lines = credit_lines(world_store, as_of=AS_OF)
    with pytest.raises(NotFoundError, match="nobody"):
        person_statement(lines, "nobody", date(2024, 1, 1), date(2024, 12, 31))
    with pytest.raises(InputError, match="must not be before"):
        person_statement(lines, "p1", date(2024, 12, 31), date(2024, 1, 1))


def test_health_counts_bonus_shares_and_names_the_title_that_would_close_the_gap(world_store: Store) -> None:
    # every program p1 worked on, so each line's pay is known (Old Film's: a 2023 release, 0.00)
    inputs = ResidualInputs.from_mapping("sag-aftra", {"f1": "1000.01", "s1s1": "500", "f0": "800"})
    mid_window = date(2024, 4, 15)  # Big Show: Season 1's first 90 days run to 2024-05-29
    lines = credit_lines(world_store, inputs, as_of=mid_window)
    assert health_base_period(2025) == (date(2023, 10, 1), date(2024, 9, 30))
    status = person_health(lines, "p1", 2025, other_earnings="27000")
    assert status.earnings == Decimal("27375.01") and status.shortfall == Decimal("164.99") and not status.eligible
    assert [c.title_id for c in status.closing] == ["s1s1"] and status.closes
    assert status.closing[0].potential == Decimal("187.50") and status.closing[0].views_needed == 1
    short = person_health(lines, "p1", 2025, other_earnings="20000")
    assert [c.title_id for c in short.closing] == ["s1s1"] and short.closes is False  # $187.50 of $7,164.99
    assert short.as_json()["closing_titles_close_the_gap"] is False
    # once the window has closed below the trigger it can never pay: it closes nothing
    closed = person_health(credit_lines(world_store, inputs, as_of=AS_OF), "p1", 2025, other_earnings="27000")
    assert closed.shortfall == Decimal("164.99") and closed.closing == [] and closed.closes is None
    unknown = person_health(lines, "p1", 2031)
    assert unknown.status == "unknown" and unknown.threshold is None and unknown.eligible is None


def test_subscriber_override_and_members_fallback(world_store: Store) -> None:
    lines = credit_lines(world_store, as_of=AS_OF, subscribers_override=40)
    film = _line(lines, "p1", "f1")
    assert film["domestic_subscribers"] == 40 and not film["eligible"] and film["views_needed"] == 4
    # the table has a domestic count, but none by then: unknown, not a sample of members beside paid counts
    base = domestic_subscribers(world_store, date(2020, 1, 1))
    assert base.count == 0 and "no domestic count on or before 2020-01-01" in base.source


def test_without_any_subscriber_counts_active_domestic_members_are_counted(world_path: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "no_subscribers.duckdb"
    shutil.copy(world_path, copy)
    with Store(copy) as store:
        store.con.execute("DELETE FROM subscribers")
        base = domestic_subscribers(store, date(2024, 3, 1))
    assert base.count == 8 and base.source.startswith("members table")


def test_escalation_applies_the_minimum_rate_increases() -> None:
    pack = agreement_for("sag-aftra")
    assert escalate(Decimal("1000"), pack, date(2023, 1, 1), date(2024, 8, 1)) == Decimal("1112.80")
    # quoted at 2025 minimums, carried back to a 2024 window by the same increases (4% on 2024-07-01 undone)
    back = escalate(Decimal("1112.80"), pack, date(2024, 8, 1), date(2023, 1, 1))
    assert back == Decimal("1000.00")


def test_residuals_csv_is_read_and_bad_rows_are_named(tmp_path: Path, world_store: Store) -> None:
    good = tmp_path / "res.csv"
    good.write_text("guild,title_id,person_id,amount,rates_as_of\nsag-aftra,f1,,1000,2023-01-01\nsag-aftra,f1,p1,250.5,\n")
    inputs = read_residual_inputs(good)
    lines = credit_lines(world_store, inputs, as_of=AS_OF)
    p1 = _line(lines, "p1", "f1")
    assert p1["program_fixed_residual"] == Decimal("1070.00")  # escalated by the 7% of 2023-11-09
    assert p1["credit_fixed_residual"] == Decimal("250.50")
    assert p1["pay"] == Decimal("250.50") + p1["share"]
    bad = tmp_path / "bad.csv"
    bad.write_text("guild,title_id,amount\nsag-aftra,f1,12x\n")
    with pytest.raises(DataError, match="row 2, column 'amount'"):
        read_residual_inputs(bad)
    with pytest.raises(DataError, match="guild must be one of"):
        (tmp_path / "g.csv").write_text("guild,title_id,amount\nequity,f1,1\n")
        read_residual_inputs(tmp_path / "g.csv")
    # the CLI and the API refuse part-cents; the file rounded 12.345 to 12.35
    (tmp_path / "c.csv").write_text("guild,title_id,amount\nsag-aftra,f1,12.30\nsag-aftra,s1s1,12.345\n")
    with pytest.raises(DataError, match=r"row 3, column 'amount': amount must be in whole cents, got '12\.345'"):
        read_residual_inputs(tmp_path / "c.csv")


@pytest.mark.parametrize(
    ("rows", "says"),
    [
        ("sag-aftra,f1,,1000\nsag-aftra,f1,,2000\n", "res.csv, row 3, column 'title_id': a second fixed residual"),
        ("sag-aftra,s1,,1000\n", "res.csv, row 2, column 'title_id': title 's1' is a series: fixed residuals are per season ('s1s1')"),
        ("sag-aftra,f1,,5\nsag-aftra,s1e2,,1000\n", "res.csv, row 3, column 'title_id': title 's1e2' is an episode: fixed residuals are per season — use its season 's1s1'"),
        ("wga,nope,,1000\n", "res.csv, row 2, column 'title_id': title 'nope' names no title in the store"),
    ],
)
def test_a_residual_that_would_match_nothing_or_twice_is_refused_naming_its_row(
    tmp_path: Path, world_store: Store, rows: str, says: str
) -> None:
    path = tmp_path / "res.csv"
    path.write_text("guild,title_id,person_id,amount\n" + rows)
    with pytest.raises(DataError) as caught:
        credit_lines(world_store, read_residual_inputs(path), as_of=AS_OF)
    assert str(caught.value).startswith(says)


def test_a_residual_quoted_at_later_rates_is_carried_back_to_earlier_windows(tmp_path: Path, world_store: Store) -> None:
    path = tmp_path / "res.csv"
    path.write_text("guild,title_id,amount,rates_as_of\nsag-aftra,f1,1070,2024-06-30\n")
    line = _line(credit_lines(world_store, read_residual_inputs(path), as_of=AS_OF), "p1", "f1")
    assert line["program_fixed_residual"] == Decimal("1070.00")  # no increase between 2024-02 and 2024-06-30
    path.write_text("guild,title_id,amount,rates_as_of\nsag-aftra,f1,1112.80,2025-01-01\n")
    line = _line(credit_lines(world_store, read_residual_inputs(path), as_of=AS_OF), "p1", "f1")
    assert line["program_fixed_residual"] == Decimal("1070.00")  # the 4% of 2024-07-01 undone


def test_published_wga_feature_amount_stands_in_only_when_asked_and_is_labelled(world_store: Store) -> None:
    plain = _line(credit_lines(world_store, as_of=AS_OF), "w1", "f1")
    assert plain["bonus"] is None
    lines = credit_lines(world_store, as_of=AS_OF, use_published_examples=True)
    writer = _line(lines, "w1", "f1")
    assert writer["bonus"] == Decimal("40500.00") and writer["share"] == Decimal("40500.00")
    assert writer["fixed_residual_status"].startswith("published example")
    assert _line(lines, "p1", "f1")["bonus"] is None  # SAG-AFTRA publishes no amounts: still unknown


def test_only_sag_aftra_pay_counts_toward_the_health_plan(world_store: Store) -> None:
    lines = credit_lines(world_store, as_of=AS_OF, use_published_examples=True)  # w1 earns a WGA bonus
    assert _line(lines, "w1", "f1")["pay"] == Decimal("40500.00")
    status = person_health(lines, "w1", 2025)
    assert status.earnings == 0 and status.shortfall == Decimal("27540.00")


def test_statement_totals_are_unknown_when_nothing_was_supplied(world_store: Store) -> None:
    lines = credit_lines(world_store, as_of=AS_OF)
    st = person_statement(lines, "p2", date(2024, 1, 1), date(2024, 12, 31))
    assert st.total_pay is None and st.total_bonus is None and st.supplied == []
    assert st.as_json()["total_pay"] is None
    # p1 also has a 2023 film: its line is a known 0.00, so the total is a lower bound over the other two
    st = person_statement(lines, "p1", date(2024, 1, 1), date(2024, 12, 31))
    assert st.total_pay == Decimal("0.00") and st.unknown_pay_lines == 2 and st.as_json()["total_pay_is_lower_bound"]


def test_title_windows_match_the_credit_lines_without_any_credit(world_store: Store) -> None:
    from limelight.talent.statements import title_windows

    w = title_windows(world_store, as_of=AS_OF).set_index(["program_id", "year"])
    assert w.loc[("f1", 1), "views"] == pytest.approx(4.0) and w.loc[("f1", 1), "eligible"]
    assert w.loc[("s1s1", 1), "metric"] == pytest.approx(0.1) and w.loc[("s1s1", 1), "views_needed"] == 1
    assert not w.loc[("f0", 1), "release_eligible"]


def test_a_season_with_an_episode_of_unknown_runtime_has_no_views(
    world_path: Path, world_store: Store, tmp_path: Path
) -> None:
    """The season's runtime summed only the episodes that had one: two of three hour-long episodes made a
    120-minute season, and 5 hours counted as 2.5 views (25%, "reached") instead of 1.67 (16.7%)."""
    import shutil

    copy = tmp_path / "gap.duckdb"
    shutil.copy(world_path, copy)
    with Store(copy) as store:
        store.con.execute("""INSERT INTO titles (title_id, name, kind, parent_id, season_number, episode_number,
                             runtime_minutes, release_date, source)
                             VALUES ('s1e3', 'Three', 'episode', 's1s1', 1, 3, NULL, DATE '2024-03-01', 'test')""")
        lines = credit_lines(store, as_of=AS_OF)
        season = _line(lines, "p1", "s1s1")
        assert pd.isna(season["views"]) and season["eligible"] is None and "runtime unknown" in season["note"]
        from limelight.talent.statements import title_windows

        w = title_windows(store, as_of=AS_OF).set_index(["program_id", "year"])
        assert w.loc[("s1s1", 1), "eligible"] is None and pd.isna(w.loc[("s1s1", 1), "views"])
    assert _line(credit_lines(world_store, as_of=AS_OF), "p1", "s1s1")["views"] == pytest.approx(1.0)


def test_a_statement_counts_no_viewing_after_its_as_of_date_and_marks_open_windows(world_store: Store) -> None:
    """Hit Film's window runs 2024-02-01 to 2024-04-30; as of 2024-02-05 nobody had watched it yet (the
    four domestic viewings are on 2024-02-10). Views after the as-of date used to count."""
    early = _line(credit_lines(world_store, as_of=date(2024, 2, 5)), "p1", "f1")
    assert early["hours"] == 0 and not early["eligible"] and early["window_open"] and "views so far" in early["note"]
    later = _line(credit_lines(world_store, as_of=date(2024, 2, 10)), "p1", "f1")
    assert later["hours"] == pytest.approx(8.0) and later["eligible"] and later["window_open"]
    done = _line(credit_lines(world_store, as_of=AS_OF), "p1", "f1")
    assert not done["window_open"] and "views so far" not in done["note"]


def test_a_writer_is_told_the_performers_plan_is_not_theirs(world_store: Store) -> None:
    status = person_health(credit_lines(world_store, as_of=AS_OF), "w1", 2025, other_earnings="30000")
    assert status.plan == "SAG-AFTRA Health Plan" and any("WGA Health Fund" in n for n in status.notes)
    performer = person_health(credit_lines(world_store, as_of=AS_OF), "p1", 2025).notes
    assert not any("WGA Health Fund" in n for n in performer)  # (its note: pay unknown, undecided)


def test_per_credit_residuals_alone_say_the_programs_is_missing(world_store: Store) -> None:
    """Per-credit rows only: the note said "fixed residual not supplied", which the user had supplied."""
    inputs = ResidualInputs(pd.DataFrame({"guild": ["sag-aftra"], "title_id": ["f1"], "person_id": ["p1"],
                                          "amount": ["5000"], "rates_as_of": [None]}))
    line = _line(credit_lines(world_store, inputs, as_of=AS_OF), "p1", "f1")
    assert line["pay"] is None and line["bonus"] is None  # the bonus share is unknown, so the pay is
    assert line["credit_fixed_residual"] == Decimal("5000.00")
    assert "only per-credit fixed residuals supplied" in line["note"] and "not supplied (not public)" not in line["note"]


def test_a_credits_own_residual_beside_an_unknown_bonus_share_is_a_lower_bound_not_the_pay(world_store: Store) -> None:
    """Code review: per-credit residuals only, and Hit Film over its trigger: the pay was the residual alone,
    the total exact ("bonus shares $0.00") and the health plan short by 440 — over a bonus nobody knew."""
    from limelight.cli.talent import _totals_line

    inputs = ResidualInputs(pd.DataFrame({"guild": ["sag-aftra", "sag-aftra"], "title_id": ["f1", "s1s1"],
                                          "person_id": ["p1", "p1"], "amount": ["5000", "100"],
                                          "rates_as_of": [None, None]}))
    lines = credit_lines(world_store, inputs, as_of=AS_OF)
    st = person_statement(lines, "p1", date(2024, 1, 1), date(2024, 12, 31))
    body = st.as_json()
    assert body["total_pay_is_lower_bound"] is True and st.unknown_pay_lines >= 1
    assert st.total_pay is not None and st.total_pay >= Decimal("5000.00")  # the residuals supplied still count
    assert "at least" in _totals_line(st) and "bonus shares $0.00" not in _totals_line(st)
    status = person_health(lines, "p1", 2025, other_earnings="22000")
    assert status.eligible is None and status.shortfall is None  # the unknown bonus could close the gap


def _late_counts(world_path: Path, tmp_path: Path) -> Path:
    """The tiny world with its subscriber counts first published 2023-11-01 (as the demo world's are):
    no base for July 1 2023, which 2024's first-half releases use."""
    import shutil

    copy = tmp_path / "late.duckdb"
    shutil.copy(world_path, copy)
    with Store(copy) as store:
        store.con.execute("UPDATE subscribers SET as_of = DATE '2023-11-01'")
    return copy


def test_a_2024_release_without_a_base_is_release_eligible_and_its_base_unknown(world_path: Path, tmp_path: Path) -> None:
    """F00091 (released 2024-04-08, no domestic count for July 1 2023) said release_eligible false: the
    release date alone decides that, and the missing base is unknown, not 0 subscribers."""
    with Store(_late_counts(world_path, tmp_path), read_only=True) as store:
        lines = credit_lines(store, as_of=AS_OF)
    film = _line(lines, "p1", "f1")
    assert film["release_eligible"] and film["eligible"] is None and film["domestic_subscribers"] is None
    assert "no domestic subscriber count" in film["note"] and "no domestic count on or before 2023-07-01" in film["subscribers_source"]
    old = _line(lines, "p1", "f0")  # released 2023-06-01: not eligible, whatever the base
    assert not old["release_eligible"] and old["domestic_subscribers"] is None


def test_a_total_over_lines_of_unknown_pay_is_a_lower_bound_and_says_how_many(world_store: Store) -> None:
    """A residual for one program of many: 2 lines known, the rest unknown, and the total read
    "$0.00"-like as if complete. It is "at least" the known sum, with the count of unknown lines."""
    inputs = ResidualInputs.from_mapping("sag-aftra", {"s1s1": "500"})  # Big Show only: Hit Film unknown
    st = person_statement(credit_lines(world_store, inputs, as_of=AS_OF), "p1", date(2024, 1, 1), date(2024, 12, 31))
    unknown = int(st.lines["pay"].isna().sum())
    assert st.total_pay == Decimal("0.00") and unknown >= 1 and st.unknown_pay_lines == unknown
    body = st.as_json()
    assert body["total_pay"] == "0.00" and body["total_pay_is_lower_bound"] is True
    assert body["unknown_pay_lines"] == unknown and body["unknown_bonus_lines"] == int(st.lines["share"].isna().sum())
    every = ResidualInputs.from_mapping("sag-aftra", {"s1s1": "500", "f1": "1000.01", "f0": "800"})
    full = person_statement(credit_lines(world_store, every, as_of=AS_OF), "p1", date(2024, 1, 1), date(2024, 12, 31))
    assert full.unknown_pay_lines == 0 and full.as_json()["total_pay_is_lower_bound"] is False


def test_health_with_unknown_pay_in_the_base_period_is_undecided_not_short(world_store: Store) -> None:
    """With no residuals the plan showed earnings 0.00 and a shortfall of 27,540 as if certain."""
    status = person_health(credit_lines(world_store, as_of=AS_OF), "p1", 2025)
    assert status.eligible is None and status.shortfall is None and status.unknown_earnings_lines >= 1
    assert status.shortfall_at_most == Decimal("27540.00") and status.threshold == Decimal("27540.00")
    assert any("cannot be decided from known earnings" in n for n in status.notes)
    body = status.as_json()
    assert body["eligible"] is None and body["shortfall"] is None and body["shortfall_at_most"] == "27540.00"
    # known earnings that reach the threshold decide it, whatever the unknown lines hold (pay is never negative)
    rich = person_health(credit_lines(world_store, as_of=AS_OF), "p1", 2025, other_earnings="30000")
    assert rich.eligible is True and rich.shortfall == 0


def test_a_title_released_before_the_bonus_pays_a_known_zero_share_without_any_residual(world_store: Store) -> None:
    """Old Film (2023) with no residual supplied had share and pay None and counted as unknown, although
    the bonus does not apply to it: its share is 0.00 whatever the base or the fixed residual. Pay on a
    line is the bonus share plus this credit's own fixed residual where supplied (as on every line)."""
    lines = credit_lines(world_store, as_of=AS_OF)
    for year in (1, 2):  # year 1: no July-1 base (trigger unknown); year 2: the base is known
        old = _line(lines, "p1", "f0", year=year)
        assert not old["release_eligible"]
        assert old["bonus"] == Decimal("0.00") and old["share"] == Decimal("0.00") and old["pay"] == Decimal("0.00")
        assert "bonus unknown" not in old["note"] and "the bonus does not apply" in old["note"]
    assert _line(lines, "p1", "f1")["pay"] is None  # a 2024 release without a residual is still unknown
    own = ResidualInputs(pd.DataFrame([{"guild": "sag-aftra", "title_id": "f0", "person_id": "p1", "amount": "75.50",
                                        "rates_as_of": None}]))
    assert _line(credit_lines(world_store, own, as_of=AS_OF), "p1", "f0")["pay"] == Decimal("75.50")


def test_lines_of_a_title_released_before_the_bonus_leave_totals_and_health_decided(world_store: Store) -> None:
    """Residuals for both 2024 programs: the 2023 film's lines made the total "at least" and the health
    plan undecided, for a bonus known to be 0."""
    inputs = ResidualInputs.from_mapping("sag-aftra", {"s1s1": "500", "f1": "1000.01"})
    lines = credit_lines(world_store, inputs, as_of=AS_OF)
    st = person_statement(lines, "p1", date(2023, 1, 1), date(2024, 12, 31))
    assert (st.lines["program_id"] == "f0").sum() == 2
    assert st.unknown_pay_lines == 0 and st.unknown_bonus_lines == 0
    assert st.as_json()["total_pay_is_lower_bound"] is False
    status = person_health(lines, "p1", 2025)
    assert status.unknown_earnings_lines == 0 and status.eligible is False and status.shortfall is not None
