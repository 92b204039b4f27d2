"""The published-data report over Netflix's engagement reports (real shared data, parsed once)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from limelight.errors import InputError
from limelight.talent.report import ReportAssumptions, ReportResult, estimate_titles, name_key, write_report


@pytest.fixture(scope="module")
def default_titles(engagement_reports: pd.DataFrame, memberships: pd.DataFrame) -> pd.DataFrame:
    return estimate_titles(engagement_reports, memberships, ReportAssumptions())


@pytest.fixture(scope="module")
def full_report(
    tmp_path_factory: pytest.TempPathFactory, engagement_reports: pd.DataFrame, memberships: pd.DataFrame, catalog: pd.DataFrame
) -> ReportResult:
    out = tmp_path_factory.mktemp("talent-report")
    assumptions = ReportAssumptions(first90_share=0.6, fixed_residual=Decimal("20000"), principal_cast=4)
    return write_report(engagement_reports, memberships, out, assumptions, catalog, top=20)


def _row(titles: pd.DataFrame, name: str, period_start: str) -> pd.Series:
    hit = titles[(titles["title_name"] == name) & (titles["period_start"] == pd.Timestamp(period_start))]
    assert len(hit) == 1, name
    return hit.iloc[0]


def test_name_key_drops_season_suffix_translation_and_punctuation() -> None:
    keys = name_key(pd.Series(["The Glory: Season 1 // 더 글로리: 시즌 1", "Baby Reindeer: Limited Series", "Don't Move", None]))
    assert keys.tolist() == ["the glory", "baby reindeer", "dont move", ""]


def test_damsel_estimate_follows_the_stated_assumptions(default_titles: pd.DataFrame) -> None:
    titles = default_titles
    damsel = _row(titles, "Damsel", "2024-01-01")
    share = 75_571_000 / 238_390_000  # UCAN / global paid memberships, 2023-06-30 (July 1 on or before 2024-03-08)
    assert damsel["domestic_share"] == pytest.approx(share)
    assert damsel["first90_share"] == pytest.approx(0.7)  # released 2024-03-08, more than 90 days left in the half
    assert damsel["domestic_subscribers"] == 75_571_000
    assert damsel["views_90"] == pytest.approx(263_700_000 * share * 0.7 * 60 / 110)
    assert damsel["likely_crossed"] and damsel["release_eligible"] and damsel["bonus_applies"]


def test_fewer_than_90_days_left_counts_all_the_half_years_hours(default_titles: pd.DataFrame) -> None:
    titles = default_titles
    carry_on = _row(titles, "Carry-On", "2024-07-01")  # released 2024-12-13
    assert carry_on["first90_share"] == 1.0
    assert pd.Timestamp(carry_on["subscribers_as_of"]) == pd.Timestamp("2023-09-30")  # latest published quarter


def test_adjusting_the_assumptions_changes_the_verdict(engagement_reports: pd.DataFrame, memberships: pd.DataFrame) -> None:
    low = estimate_titles(engagement_reports, memberships, ReportAssumptions(domestic_share=0.05, domestic_subscribers=90_000_000))
    damsel = _row(low, "Damsel", "2024-01-01")
    assert not damsel["likely_crossed"] and damsel["views_needed"] > 0
    assert damsel["views_90"] == pytest.approx(263_700_000 * 0.05 * 0.7 * 60 / 110)
    assert damsel["trigger_views"] == pytest.approx(18_000_000)


def test_titles_released_before_the_half_year_have_no_first_90_day_estimate(default_titles: pd.DataFrame) -> None:
    titles = default_titles
    wednesday = _row(titles, "Wednesday: Season 1", "2023-01-01")  # released 2022-11-23
    assert pd.isna(wednesday["first90_share"]) and pd.isna(wednesday["views_90"]) and pd.isna(wednesday["likely_crossed"])
    assert not wednesday["bonus_applies"]


def test_a_report_without_runtimes_borrows_them_from_another_report(default_titles: pd.DataFrame) -> None:
    titles = default_titles
    h1 = titles[titles["period_start"] == pd.Timestamp("2023-01-01")]
    assert h1["runtime_borrowed"].sum() > 100
    assert (h1.loc[h1["runtime_borrowed"], "runtime_minutes"] > 0).all()


def test_report_without_financials_or_overrides_is_refused(engagement_reports: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="--financials"):
        estimate_titles(engagement_reports.head(5), None, ReportAssumptions())
    with pytest.raises(InputError, match="first-90-days share"):
        ReportAssumptions(first90_share=1.5)


def test_catalog_join_and_credit_split_sum_to_the_performers_share(full_report: ReportResult, catalog: pd.DataFrame) -> None:
    titles, credits = full_report.titles, full_report.credits
    ginny = _row(titles, "Ginny & Georgia: Season 2", "2023-01-01")
    assert ginny["catalog_matched"] and "Brianne Howey" in ginny["cast"]
    assert set(credits["role"]) == {"performer", "director"}
    paid = titles[titles["bonus_applies"] & titles["catalog_matched"]]
    assert not paid.empty
    for name, start, pool in zip(paid["title_name"], paid["period_start"], paid["sag_performers_share"]):
        mine = credits[
            (credits["title_name"] == name) & (credits["period_start"] == start) & (credits["billing"] == "principal")
        ]
        assert len(mine) <= 4
        if len(mine):
            assert sum(mine["share"]) == pool == Decimal("15000.00")
    on_reports = credits[credits["period_start"].notna()]
    background = on_reports[on_reports["billing"] == "background"]
    assert not background.empty and (background["share"] == Decimal("0.00")).all()
    # Every credit in the catalog is there, matched or not (unmatched ones carry no money).
    assert credits["show_id"].nunique() == catalog["show_id"][catalog["cast"].ne("") | catalog["director"].ne("")].nunique()
    assert credits.loc[credits["period_start"].isna(), "share"].isna().all()


def test_write_report_states_the_assumptions_on_every_page(full_report: ReportResult, engagement_reports: pd.DataFrame) -> None:
    result = full_report
    tmp_path = result.files[0].parent
    pages = sorted(tmp_path.glob("*.html"))
    assert len(pages) == 4  # index + three half-years
    for page in pages:
        text = page.read_text()
        assert "60% of a half-year" in text and "UCAN" in text and "high-budget SVOD" in text
    h1_2024 = (tmp_path / "period-2024-01-2024-06.html").read_text()
    assert "July 1 2023: domestic share 31.7%, domestic subscribers 75,571,000 (published as of 2023-06-30)" in h1_2024
    assert "Damsel" in h1_2024
    csv = pd.read_csv(tmp_path / "titles.csv")
    assert len(csv) == len(engagement_reports)
    assert {"domestic_share", "first90_share", "domestic_subscribers", "views_needed", "director"} <= set(csv.columns)
    assumptions = pd.read_csv(tmp_path / "assumptions.csv")
    assert assumptions["first90_share"].iloc[0] == 0.6
    assert result.summary()["likely_crossed_eligible"] > 0


def test_a_name_match_of_another_year_is_not_the_same_title() -> None:
    """The 2024 live-action "Avatar The Last Airbender: Season 1" was joined to the catalog's 2005 animated
    show of that name, and its voice cast was paid the live-action cast's bonus in credits.csv."""
    from limelight.talent.report import join_catalog

    catalog = pd.DataFrame(
        [("s1", "TV Show", "Avatar: The Last Airbender", "2007", "Zach Tyler"),
         ("s2", "Movie", "The Killer", "2017", "Old Cast"),
         ("s3", "Movie", "Brain on Fire", "2016", "Chloë Grace Moretz"),  # festival 2016, on Netflix 2018
         ("s4", "TV Show", "Bridgerton", "2020", "Phoebe Dynevor"),
         ("s5", "TV Show", "Heartbreak High", "1999", "Abi Tucker")],
        columns=["show_id", "type", "title", "release_year", "cast"],
    ).assign(director=None)
    catalog["kind"] = catalog["type"].map({"Movie": "film", "TV Show": "show"})
    catalog["name_key"] = name_key(catalog["title"])
    titles = pd.DataFrame(
        [("Avatar The Last Airbender: Season 1", "show", "2024-02-22"),
         ("The Killer", "film", "2023-11-10"),
         ("Brain on Fire", "film", "2018-06-22"),
         ("Bridgerton: Season 3", "show", "2024-05-16"),  # a later season of the catalog's show
         ("Heartbreak High: Limited Series", "show", "2022-09-14"),
         ("Heartbreak High", "show", None)],  # no release date: the name decides
        columns=["title_name", "kind", "release_date"],
    )
    titles["release_date"] = pd.to_datetime(titles["release_date"])
    titles["name_key"] = name_key(titles["title_name"])
    joined = join_catalog(titles, catalog)
    assert joined["show_id"].fillna("-").tolist() == ["-", "-", "s3", "s4", "-", "s5"]
    assert joined["catalog_year_mismatch"].tolist() == [True, True, False, False, True, False]


def test_the_live_action_avatar_cast_is_not_the_animated_one(full_report: ReportResult) -> None:
    titles, credits = full_report.titles, full_report.credits
    avatar = titles[titles["title_name"] == "Avatar The Last Airbender: Season 1"]
    assert len(avatar) and not avatar["catalog_matched"].any() and avatar["catalog_year_mismatch"].all()
    on_it = credits[credits["title_name"] == "Avatar The Last Airbender: Season 1"]
    assert on_it.empty  # before: Zach Tyler, Mae Whitman and the other voice actors, each with a share
    assert full_report.summary()["catalog_year_mismatch"] > 100


def _no_base_world() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A March 2024 hit and a 2023 film, with subscriber counts only from 2023-11-01 (the demo world's):
    neither has a July-1 base, so neither trigger can be decided."""
    engagement = pd.DataFrame(
        [("Hit", "2024-01-01", "2024-06-30", "2024-03-08", 110.0, 263_700_000),
         ("Old", "2023-01-01", "2023-06-30", "2023-03-01", 90.0, 1_000_000),
         ("Known", "2024-07-01", "2024-12-31", "2024-08-01", 60.0, 10)],
        columns=["title_name", "period_start", "period_end", "release_date", "runtime_minutes", "hours_viewed"],
    )
    subscribers = pd.DataFrame(
        [("UCAN", "2023-11-01", 80_000_000), ("global", "2023-11-01", 250_000_000)],
        columns=["region", "as_of", "paid_memberships"],
    )
    return engagement, subscribers


def _no(value: object) -> bool:
    """A known no (not NA, which is falsy-looking but unknown)."""
    return not pd.isna(value) and not value


def test_an_unknown_base_leaves_the_trigger_and_the_money_unknown_not_zero() -> None:
    """Damsel on a spine whose subscriber counts start 2023-11-01 (32.97M views, base unknown) showed
    "bonus applies: no" and a SAG-AFTRA bonus of 0.00."""
    engagement, subscribers = _no_base_world()
    titles = estimate_titles(engagement, subscribers, ReportAssumptions(fixed_residual=Decimal("10000")))
    hit, old, known = (_row(titles, n, p) for n, p in (("Hit", "2024-01-01"), ("Old", "2023-01-01"), ("Known", "2024-07-01")))
    assert hit["views_90"] > 0 and pd.isna(hit["domestic_subscribers"]) and hit["release_eligible"]
    assert pd.isna(hit["likely_crossed"]) and pd.isna(hit["bonus_applies"]) and pd.isna(hit["views_needed"])
    assert hit["sag_bonus"] is None and hit["sag_performers_share"] is None and hit["wga_bonus"] is None
    # released before 2024: the bonus cannot apply, whatever the base — a known no and a known 0.00
    assert _no(old["release_eligible"]) and _no(old["bonus_applies"]) and old["sag_bonus"] == Decimal("0.00")
    assert _no(known["likely_crossed"]) and _no(known["bonus_applies"]) and known["sag_bonus"] == Decimal("0.00")


def test_estimate_rows_give_null_for_what_is_unknown() -> None:
    """`GET /v1/talent/estimates` was a 500 (int() of NA in views_needed) on such a spine."""
    from limelight.talent.report import estimate_rows

    engagement, subscribers = _no_base_world()
    rows = {r["title_name"]: r for r in estimate_rows(estimate_titles(engagement, subscribers, ReportAssumptions()), 10)}
    hit = rows["Hit"]
    assert hit["views_90"] > 0 and hit["release_eligible"] is True
    for key in ("domestic_subscribers", "metric", "likely_crossed", "views_needed", "bonus_applies"):
        assert hit[key] is None, key
    assert rows["Old"]["bonus_applies"] is False and rows["Known"]["likely_crossed"] is False


def test_the_report_says_unknown_and_counts_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engagement, subscribers = _no_base_world()
    result = write_report(engagement, subscribers, tmp_path, ReportAssumptions(fixed_residual=Decimal("10000")))
    summary = result.summary()
    assert summary["likely_crossed"] == 0 and summary["likely_crossed_unknown"] == 2
    assert summary["likely_crossed_eligible"] == 0 and summary["bonus_applies_unknown"] == 1
    csv = pd.read_csv(tmp_path / "titles.csv").set_index("title_name")
    assert pd.isna(csv.loc["Hit", "bonus_applies"]) and pd.isna(csv.loc["Hit", "sag_bonus"])
    assert csv.loc["Old", "sag_bonus"] == 0
    page = (tmp_path / "period-2024-01-2024-06.html").read_text()
    assert "nan" not in page and "unknown" in page
    assert "domestic subscribers unknown" in page and "the trigger is unknown for <strong>1</strong>" in page
    index = (tmp_path / "index.html").read_text()
    assert "unknown" in index


def test_html_tables_have_column_headers_money_in_dollars_and_cast_cut_before_escaping(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The cast cell was escaped, then cut at 160 characters: "Bo &am</td>"; money read "15000.01"."""
    from limelight.talent.report import _rows_table

    engagement, subscribers = _no_base_world()
    subscribers = subscribers.assign(as_of="2022-06-30")  # a base for every row
    result = write_report(engagement, subscribers, tmp_path, ReportAssumptions(fixed_residual=Decimal("20000.02")))
    page = (tmp_path / "period-2024-01-2024-06.html").read_text()
    assert "<thead><tr><th scope='col' class='t'>title</th>" in page and "<tbody>" in page
    assert "$15,000.02" in page  # 75% of 20,000.02, half-up
    assert "<thead>" in (tmp_path / "index.html").read_text()
    row = result.titles[result.titles["title_name"] == "Hit"].assign(cast="A" * 158 + " & Co, Cy", director=None)
    cell = _rows_table(row).split("<td class='t'>")[-1]
    assert cell.startswith("A" * 158) and cell.endswith(" &amp;…</td></tr></tbody></table>")


def test_html_says_unknown_for_the_trigger_share_and_views_needed_without_a_base(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The trigger, share-of-base and views-needed cells were blank for a title with no July-1 base, while
    the verdict cells said "unknown"; the CSV keeps them empty (null)."""
    import re

    engagement, subscribers = _no_base_world()
    result = write_report(engagement, subscribers, tmp_path, ReportAssumptions())
    page = (tmp_path / "period-2024-01-2024-06.html").read_text()
    row = next(r for r in page.split("<tr>") if r.startswith("<td class='t'>Hit</td>"))
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    unknown = "<span class='unknown'>unknown</span>"
    # title, released, hours, views, trigger, share of base, likely crossed, views needed, bonus applies, ...
    assert cells[3] != "" and cells[4] == cells[5] == cells[6] == cells[7] == cells[8] == unknown, cells
    csv = pd.read_csv(tmp_path / "titles.csv").set_index("title_name")
    assert pd.isna(csv.loc["Hit", "trigger_views"]) and pd.isna(csv.loc["Hit", "metric"])
    assert pd.isna(csv.loc["Hit", "views_needed"])
    known = result.titles[result.titles["title_name"] == "Known"]
    assert unknown not in (tmp_path / "period-2024-07-2024-12.html").read_text() and len(known) == 1
