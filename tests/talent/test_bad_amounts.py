"""Money from users (options, the --residuals file, the --titles catalog) is refused in one sentence, never a
decimal.InvalidOperation traceback."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from cli_runner import bad_file, run_cli
from limelight.errors import InputError
from limelight.talent.bonus import MAX_SUPPLIED_AMOUNT, money
from limelight.talent.residuals import read_residual_inputs
from limelight.talent.views import views

BONUS = (
    "talent",
    "bonus",
    "--guild",
    "sag-aftra",
    "--domestic-hours",
    "1000000",
    "--domestic-subscribers",
    "80000000",
)
WHATIF = (
    "talent", "whatif", "--guild", "sag-aftra", "--domestic-hours", "1000000", "--runtime-minutes", "100",
    "--domestic-subscribers", "80000000", "--fixed-residual", "100", "--viewing-share", "0.1",
)  # fmt: skip
BELOW = "must be an amount below 1,000,000,000,000,000"
AT_MOST = "must be at most 1,000,000,000"  # MAX_SUPPLIED_AMOUNT: every fixed residual and earnings figure


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (*BONUS, "--runtime-minutes", "100", "--fixed-residual", "1e400"),
            f"fixed residual {AT_MOST}, got '1e400'",
        ),
        (
            (*BONUS, "--runtime-minutes", "100", "--fixed-residual", "1e30"),
            f"fixed residual {AT_MOST}, got '1e30'",
        ),
        (
            (*BONUS, "--runtime-minutes", "100", "--fixed-residual", "nan"),
            "fixed residual must be a non-negative amount",
        ),
        (
            (*BONUS, "--runtime-minutes", "nan", "--fixed-residual", "100"),
            "runtime minutes must be a positive number, got nan",
        ),
        (("talent", "health", "--earnings", "1e400", "--year", "2025"), f"earnings {AT_MOST}, got '1e400'"),
        (
            (*WHATIF, "--revenue-per-subscriber", "1e400", "--revenue-share", "0.02"),
            f"revenue per subscriber {BELOW}",
        ),
        ((*WHATIF, "--fee-per-subscriber", "1e400"), f"fee per subscriber {BELOW}"),
    ],
)
def test_amount_options_are_one_sentence(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, _, err = run_cli(capsys, *args)
    assert code == 2, err
    assert message in err and len(err.strip().splitlines()) == 1


def test_money_and_views_refuse_nan_and_overflow_as_input_errors() -> None:
    with pytest.raises(InputError, match="finite"):
        money("nan")
    with pytest.raises(InputError, match="to round to the cent, got 1e400"):
        money("1e400")
    with pytest.raises(InputError, match=r"must be a number like 12345\.67, got 'abc'"):
        money("abc")
    with pytest.raises(InputError, match="runtime minutes must be a positive number"):
        views(100, Decimal("NaN"))
    with pytest.raises(InputError, match="hours must be a finite number"):
        views(float("nan"), 100)
    assert money("1e20") == Decimal("100000000000000000000.00")


def _write(body: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    return bad_file("residuals.csv", body, encoding)


_folder = bad_file("residuals.csv", None)


HEADER = "guild,title_id,amount\n"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_write(""), "residuals.csv: the file is empty"),
        (_folder, "--residuals must be a CSV or Parquet file of fixed residuals, got the folder"),
        (lambda folder: folder / "nope.csv", "does not exist"),
        (_write(HEADER + "sag-aftra,t\xe9,5\n", "latin-1"), "residuals.csv: is not utf-8 text"),
        (_write(HEADER + "sag-aftra,t1,5,7\n"), "residuals.csv, row 2: has 4 fields where the header has 3"),
        (
            _write(HEADER + "wga,t0,1\nsag-aftra,t1,1e400\n"),
            f"residuals.csv, row 3, column 'amount': amount {AT_MOST}, got '1e400'",
        ),
        (
            _write(HEADER + "wga,t0,1\nsag-aftra,t1,inf\n"),
            f"residuals.csv, row 3, column 'amount': amount {AT_MOST}, got 'inf'",
        ),
        (  # the CLI options and the API refuse a trillion-dollar residual: the file did not (it took up to 1e15)
            _write(HEADER + "wga,t0,1000000000\nsag-aftra,t1,1e12\n"),
            f"residuals.csv, row 3, column 'amount': amount {AT_MOST}, got '1e12'",
        ),
        (
            _write(HEADER + "sag-aftra,t1,1000000000.01\n"),
            f"residuals.csv, row 2, column 'amount': amount {AT_MOST}, got '1000000000.01'",
        ),
        (
            _write(HEADER + "wga,t0,1\nsag-aftra,t1,nan\n"),
            "residuals.csv, row 3, column 'amount': 'nan' is not an amount",
        ),
        (
            _write(HEADER + "sag-aftra,t1,-5\n"),
            "residuals.csv, row 2, column 'amount': amount must be at least 0",
        ),
        (_write(HEADER + "sag-aftra,t1,\n"), "residuals.csv, row 2, column 'amount': '' is not an amount"),
        (_write(HEADER + "sag,t1,5\n"), "residuals.csv, row 2, column 'guild': guild must be one of"),
        (
            _write("guild,title_id\nwga,t1\n"),
            "residuals.csv, row 1, column 'amount': required column is missing",
        ),
        (_write(HEADER.strip() + ",rates_as_of\nwga,t1,5,last year\n"), "row 2, column 'rates_as_of'"),
    ],
)
def test_statement_residuals_file_is_refused_in_one_sentence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    path = make(tmp_path)
    # the residuals are read before the spine: a missing --db is not reached
    code, _, err = run_cli(
        capsys,
        "talent",
        "statement",
        "--person",
        "p1",
        "--residuals",
        str(path),
        "--db",
        str(tmp_path / "none.duckdb"),
    )
    assert code == 2, err
    assert message in err and len(err.strip().splitlines()) == 1


def test_the_residuals_file_takes_the_limit_itself(tmp_path: Path) -> None:
    path = tmp_path / "residuals.csv"
    path.write_text(HEADER + f"sag-aftra,t1,{MAX_SUPPLIED_AMOUNT:f}\n")
    assert read_residual_inputs(path).rows["amount"].tolist() == ["1000000000"]


def test_a_forecast_fixed_residual_has_the_same_limit() -> None:
    """The valuation's guild bonuses ran a 1e12 fixed residual through the talent engine that the talent
    CLI and API refuse."""
    from limelight.valuation.decisions import guild_bonuses

    with pytest.raises(InputError, match=f"fixed residual {AT_MOST}, got '1e12'"):
        guild_bonuses(
            title="x", release_date="2024-03-01", window_end="2024-05-30", runtime_minutes=100.0,
            hours=(1.0, 2.0, 3.0), fixed_residual="1e12", domestic_share=0.3, domestic_subscribers=76_000_000,
        )


def test_residuals_file_keeps_its_amounts_exactly(tmp_path: Path) -> None:
    path = tmp_path / "residuals.csv"
    path.write_text(
        "guild,title_id,person_id,amount,rates_as_of\nSAG-AFTRA, t1 ,,1234.56,\nwga,t2,p9,10,2024-01-01\n"
    )
    inputs = read_residual_inputs(path)
    assert len(inputs) == 2
    assert inputs.rows["guild"].tolist() == ["sag-aftra", "wga"]
    assert inputs.rows["amount"].tolist() == ["1234.56", "10"]
    assert pd.isna(inputs.rows["person_id"].iloc[0]) and inputs.rows["person_id"].iloc[1] == "p9"


def test_titles_catalog_that_is_a_folder_or_empty_is_one_sentence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from limelight.errors import DataError
    from limelight.talent.report import read_catalog

    (tmp_path / "titles.csv").mkdir()
    with pytest.raises(InputError, match="--titles must be a CSV or Parquet file of titles catalog, got the folder"):
        read_catalog(tmp_path / "titles.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match=r"empty\.csv: the file is empty"):
        read_catalog(tmp_path / "empty.csv")
