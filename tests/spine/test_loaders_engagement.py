"""Netflix 'What We Watched' engagement reports: the four real reports and a later layout with other sheet names."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from limelight.cli.app import main
from limelight.errors import DataError
from limelight.spine.loaders.netflix_engagement import read_report, read_report_frame, report_period
from limelight.spine.schema import SCHEMA
from limelight.spine.store import Store

FIRST = "What_We_Watched_A_Netflix_Engagement_Report_2023Jan-Jun.xlsx"
SECOND = "What_We_Watched_A_Netflix_Engagement_Report_2023Jul-Dec.xlsx"


@pytest.fixture(scope="session")
def engagement_db(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four real reports ingested once per session through the real CLI (xlsx parsing is the slow part)."""
    db = tmp_path_factory.mktemp("engagement") / "spine.duckdb"
    with pytest.raises(SystemExit) as exit_info:
        main(["ingest", str(shared_data / "netflix" / "engagement"), "--db", str(db), "--json"])
    assert exit_info.value.code == 0
    return db


@pytest.fixture(scope="session")
def engagement_reports(engagement_db: Path) -> dict[str, pd.DataFrame]:
    with Store(engagement_db, read_only=True) as store:
        frame = store.query("SELECT * FROM engagement ORDER BY source, sheet DESC, row_number")
    return {str(name): part.reset_index(drop=True) for name, part in frame.groupby("source", sort=True)}


def test_ingesting_the_four_reports_gives_65932_rows_and_371_596_900_000_hours(
    engagement_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["info", "--db", str(engagement_db), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["engagement_rows"] == 65_932
    assert summary["engagement_hours"] == 371_596_900_000


def test_each_report_keeps_its_rows_and_the_schema_columns(
    engagement_reports: dict[str, pd.DataFrame],
) -> None:
    assert {name: len(f) for name, f in engagement_reports.items()} == {
        FIRST: 18_214,
        SECOND: 15_994,
        "What_We_Watched_A_Netflix_Engagement_Report_2024Jan-Jun.xlsx": 16_161,
        "What_We_Watched_A_Netflix_Engagement_Report_2024Jul-Dec.xlsx": 15_563,
    }
    for frame in engagement_reports.values():
        assert list(frame.columns) == list(SCHEMA["engagement"].column_names)


def test_first_report_has_one_sheet_without_runtime_views_or_kind(
    engagement_reports: dict[str, pd.DataFrame],
) -> None:
    first = engagement_reports[FIRST]
    assert len(first) == 18_214
    assert set(first["sheet"]) == {"Engagement"}
    assert first["kind"].isna().all()
    assert first["runtime_minutes"].isna().all() and first["views"].isna().all()
    assert (first["period_start"] == pd.Timestamp("2023-01-01")).all()
    assert (first["period_end"] == pd.Timestamp("2023-06-30")).all()
    top = first.iloc[0]
    # Header on sheet row 6, so the first title sits on row 7; its release date is an Excel date.
    assert (top["row_number"], top["title_name"]) == (7, "The Night Agent: Season 1")
    assert top["release_date"] == pd.Timestamp("2023-03-23")
    assert bool(top["available_globally"]) is True
    assert top["hours_viewed"] == 812_100_000


def test_later_reports_split_film_and_show_with_runtime_in_minutes(
    engagement_reports: dict[str, pd.DataFrame],
) -> None:
    second = engagement_reports[SECOND]
    assert second.groupby("sheet")["kind"].first().to_dict() == {"Film": "film", "TV": "show"}
    one_piece = second[second["title_name"] == "ONE PIECE: Season 1"].iloc[0]
    assert one_piece["runtime_minutes"] == 7 * 60 + 34  # '7:34'
    assert one_piece["views"] == 71_600_000
    assert one_piece["release_date"] == pd.Timestamp("2023-08-31")  # a string in this report
    # '*' means Netflix withheld the runtime: missing, not zero, and the row still loads.
    suits = second[second["title_name"] == "Suits (2011): Season 1"].iloc[0]
    assert pd.isna(suits["runtime_minutes"]) and suits["row_number"] == 27
    assert second["views"].notna().all()


def _later_report(
    path: Path, *, heading: str | None, bad_cell: tuple[int, int, object] | None = None
) -> Path:
    """A report in the same family with other sheet names, a cover sheet, header on row 4 and mixed dates."""
    from openpyxl import Workbook

    book = Workbook()
    cover = book.active
    cover.title = "Read me"
    cover["A1"] = "About this report"
    header = ["", "Show Title", "Available Globally?", "Release Date", "Hours Viewed", "Runtime", "Views"]
    data = {
        "Series": [
            ["", "Big Show: Season 1", "Yes", dt.date(2025, 2, 1), 1_000_000, "10:05", 99_200],
            ["", "Small Show: Limited Series", "No", "", 200_000, "*", 100_000],
        ],
        "Movies": [
            ["", "A Film", "No", "2025-03-05", 300_000, "1:30", 200_000],
            ["", "Another Film", "Yes", "March 7, 2025", "1,200,000", "2:00", 600_000],
        ],
    }
    for name, rows in data.items():
        sheet = book.create_sheet(name)
        if heading:
            sheet["B2"] = heading
        sheet.append([])  # row 3 stays empty
        for row_index, row in enumerate([header, *rows], start=4):
            for col_index, value in enumerate(row, start=1):
                if value != "":
                    sheet.cell(row=row_index, column=col_index, value=value)
        if name == "Movies":
            sheet.cell(row=4, column=2, value="Title")  # films keep the plain header word
    if bad_cell is not None:
        row, col, value = bad_cell
        book["Movies"].cell(row=row, column=col, value=value)
    book.save(path)
    return path


def test_later_report_with_other_sheet_names_loads(tmp_path: Path, db_path: Path) -> None:
    path = _later_report(tmp_path / "engagement_2025.xlsx", heading="Views from January to June 2025")
    frame = read_report_frame(path)
    assert len(frame) == 4
    assert frame.groupby("sheet")["kind"].first().to_dict() == {"Movies": "film", "Series": "show"}
    assert frame["row_number"].tolist() == [5, 6, 5, 6]
    assert frame["period_start"].unique().tolist() == [pd.Timestamp("2025-01-01")]
    assert frame["period_end"].unique().tolist() == [pd.Timestamp("2025-06-30")]
    by_title = frame.set_index("title_name")
    assert by_title.loc["Big Show: Season 1", "runtime_minutes"] == 605
    assert by_title.loc["Big Show: Season 1", "release_date"] == pd.Timestamp("2025-02-01")
    assert by_title.loc["Another Film", "release_date"] == pd.Timestamp("2025-03-07")
    assert by_title.loc["Another Film", "hours_viewed"] == 1_200_000
    assert pd.isna(by_title.loc["Small Show: Limited Series", "release_date"])
    with Store(db_path) as store:
        assert store.ingest(read_report(path)).inserted == {"engagement": 4}
        assert store.ingest(read_report(path)).inserted == {
            "engagement": 0
        }  # the same file twice adds nothing


def test_period_comes_from_the_file_name_when_headings_are_silent(tmp_path: Path) -> None:
    path = _later_report(tmp_path / "What_We_Watched_2025Jul-Dec.xlsx", heading=None)
    frame = read_report_frame(path)
    assert frame["period_start"].unique().tolist() == [pd.Timestamp("2025-07-01")]
    assert frame["period_end"].unique().tolist() == [pd.Timestamp("2025-12-31")]


def test_report_without_a_period_is_refused(tmp_path: Path) -> None:
    path = _later_report(tmp_path / "engagement.xlsx", heading=None)
    with pytest.raises(DataError, match="reporting period"):
        read_report(path)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ((6, 5, "lots"), r"sheet 'Movies', row 6, column 'Hours Viewed': 'lots' is not a number"),
        ((5, 4, "someday"), r"sheet 'Movies', row 5, column 'Release Date': 'someday' is not a date"),
        ((5, 6, "ninety"), r"sheet 'Movies', row 5, column 'Runtime': 'ninety' is not a runtime"),
        ((6, 3, "maybe"), r"sheet 'Movies', row 6, column 'Available Globally\?': 'maybe' is not yes/no"),
        ((6, 2, " "), r"sheet 'Movies', row 6, column 'Title': a title is required beside the figures"),
    ],
)
def test_bad_cell_names_sheet_row_and_column(
    tmp_path: Path, cell: tuple[int, int, object], message: str
) -> None:
    path = _later_report(tmp_path / "r.xlsx", heading="Views from January to June 2025", bad_cell=cell)
    with pytest.raises(DataError, match=message):
        read_report(path)


def test_a_workbook_without_an_engagement_header_is_refused(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = "nothing here"
    book.save(tmp_path / "x.xlsx")
    with pytest.raises(DataError, match="no sheet has a header row"):
        read_report(tmp_path / "x.xlsx")


@pytest.mark.parametrize(
    ("name", "headings", "expected"),
    [
        ("What_We_Watched_A_Netflix_Engagement_Report_2024Jul-Dec.xlsx", [], ("2024-07-01", "2024-12-31")),
        ("report_Jan-Jun_2026.xlsx", [], ("2026-01-01", "2026-06-30")),
        ("x.xlsx", ["Hours viewed from July 2025 to June 2026"], ("2025-07-01", "2026-06-30")),
        ("x.xlsx", ["Views from October to March 2026"], ("2025-10-01", "2026-03-31")),
        ("x.xlsx", ["What We Watched"], None),
    ],
)
def test_report_period_reads_file_names_and_headings(
    name: str, headings: list[str], expected: tuple[str, str] | None
) -> None:
    got = report_period(name, headings)
    assert (None if got is None else (got[0].isoformat(), got[1].isoformat())) == expected


def test_one_sheet_with_a_type_column_gets_kind_per_row(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "All titles"
    sheet["B2"] = "Hours viewed from January to June 2026"
    sheet.append(["", "Title", "Type", "Hours Viewed", "Views"])
    sheet.append(["", "A Show: Season 1", "TV", 5_000, 1_000])
    sheet.append(["", "A Movie", "Movie", 3_000, 2_000])
    sheet.append(["", "A Game", "Game", 100, 50])
    book.save(tmp_path / "combined.xlsx")
    frame = read_report_frame(tmp_path / "combined.xlsx")
    assert frame["kind"].tolist()[:2] == ["show", "film"] and pd.isna(frame["kind"].iloc[2])
    assert frame["row_number"].tolist() == [4, 5, 6]


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Hours Viewed", "hours_viewed"),
        ("Views", "views"),
        ("Views (Hours Viewed / Runtime)", "views"),
        ("Runtime", "runtime"),
        ("Premiere Date", "release_date"),
        ("Available Globally?", "available_globally"),
        ("Show Title", "title_name"),
        ("Type", "kind_column"),
        ("Notes", None),
    ],
)
def test_report_headers_are_read_by_their_words(header: str, column: str | None) -> None:
    from limelight.spine.loaders.netflix_engagement import _column_for

    assert _column_for(header) == column
