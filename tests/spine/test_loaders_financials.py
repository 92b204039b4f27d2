"""Netflix investor workbooks → paid memberships by region and quarter end."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from limelight.errors import DataError
from limelight.spine.loaders.netflix_financials import (
    paid_memberships_near,
    read_financials,
    read_paid_memberships,
)
from limelight.spine.store import Store


@pytest.fixture(scope="session")
def q3_23(shared_data: Path) -> pd.DataFrame:
    return read_paid_memberships(shared_data / "netflix" / "financials" / "Q3-23-Website-Financials.xlsx")


def test_regional_paid_memberships_by_quarter_end_in_members(q3_23: pd.DataFrame) -> None:
    assert list(q3_23.columns) == ["region", "as_of", "paid_memberships", "source"]
    assert set(q3_23["region"]) == {"UCAN", "EMEA", "LATAM", "APAC", "global"}
    ucan = q3_23[q3_23["region"] == "UCAN"].set_index("as_of")["paid_memberships"]
    # The sheet is in thousands: 74,384 → 74,384,000 at 31 March 2021; the year-end column is not doubled.
    assert ucan[pd.Timestamp("2021-03-31")] == 74_384_000
    assert ucan[pd.Timestamp("2023-09-30")] == 77_321_000
    assert ucan.index.is_unique and len(ucan) == 11
    # Netflix reported 247.15M global paid memberships at Q3 2023: the four regions add up to it.
    glob = q3_23[q3_23["region"] == "global"].set_index("as_of")["paid_memberships"]
    assert glob[pd.Timestamp("2023-09-30")] == 247_153_000


def test_nearest_quarter_end_for_a_date(q3_23: pd.DataFrame) -> None:
    assert paid_memberships_near(q3_23, "UCAN", dt.date(2023, 7, 1)) == (dt.date(2023, 6, 30), 75_571_000)
    with pytest.raises(DataError, match="region must be one of"):
        paid_memberships_near(q3_23, "Mars", "2023-07-01")


def test_both_workbooks_ingest_into_subscribers(shared_data: Path, db_path: Path) -> None:
    folder = shared_data / "netflix" / "financials"
    batch = read_financials(folder / "Q4-20-Website-Financials.xlsx") + read_financials(
        folder / "Q3-23-Website-Financials.xlsx"
    )
    with Store(db_path) as store:
        report = store.ingest(batch)
        assert report.inserted == {"subscribers": (12 + 11) * 5}
        first = store.scalar("SELECT min(as_of) FROM subscribers WHERE region = 'APAC'")
        assert first == dt.date(2018, 3, 31)


def test_a_workbook_without_paid_memberships_is_refused(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = "Income Statement"
    book.save(tmp_path / "x.xlsx")
    with pytest.raises(DataError, match="Paid memberships at end of period"):
        read_financials(tmp_path / "x.xlsx")


def test_a_text_figure_names_its_cell(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Regional Information"
    sheet["A1"] = "(in thousands)"
    sheet["C2"], sheet["D2"] = "March 31,", "June 30,"
    sheet["C3"], sheet["D3"] = 2024, 2024
    sheet["A4"] = "Asia-Pacific (APAC)"
    sheet["B5"], sheet["C5"], sheet["D5"] = "Paid memberships at end of period", 50_000, "n/a"
    book.save(tmp_path / "f.xlsx")
    with pytest.raises(DataError, match=r"sheet 'Regional Information', row 5, column 'D \(2024-06-30\)'"):
        read_financials(tmp_path / "f.xlsx")
