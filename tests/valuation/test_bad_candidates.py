"""`forecast slate|backtest --candidates` and `forecast --window-end` refuse bad input in one sentence (exit 2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from cli_runner import bad_file, run_cli
from limelight.errors import DataError, InputError
from limelight.valuation.features import normalize_candidates, read_candidates

HEADER = "title,kind,release_date,runtime_minutes,available_globally\n"
GOOD = "Title A: Season 1,show,2024-08-01,300,yes\nTitle B,film,2024-09-12,110,no\n"


def _text(body: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    return bad_file("cands.csv", body, encoding)


_folder = bad_file("cands.csv", None)


CASES = [
    pytest.param(
        _text(HEADER + GOOD + "Title B,film,2024-10-01,95,yes\n"),
        "cands.csv, row 4, column 'title': title 'Title B' is listed twice: give each candidate once",
        id="duplicate-title",
    ),
    pytest.param(
        _text(HEADER + GOOD + "Title C,film,9999-12-31,95,yes\n"),
        "cands.csv, row 4, column 'release_date': release_date must be between 1990-01-01 and 2100-12-31, got '9999-12-31'",
        id="release-far-future",
    ),
    pytest.param(
        _text(HEADER + GOOD + "Title C,film,2024-10-01,1e12,yes\n"),
        "cands.csv, row 4, column 'runtime_minutes': runtime_minutes must be between 1 and 100,000 minutes, got '1e12'",
        id="runtime-huge",
    ),
    pytest.param(_text(""), "cands.csv: the file is empty", id="empty"),
    pytest.param(_text(HEADER), "cands.csv: has no rows of candidates (only a header)", id="header-only"),
    pytest.param(_folder, "--candidates must be a CSV or Parquet file of candidates, got the folder", id="folder"),
    pytest.param(
        _text(HEADER + "Caf\xe9,film,2024-09-12,110,no\n", "latin-1"),
        "cands.csv: is not utf-8 text",
        id="latin-1",
    ),
    pytest.param(
        _text(HEADER + GOOD + "Title C,film,2024-10-01,95,yes,extra,more\n"),
        "cands.csv, row 4: has 7 fields where the header has 5",
        id="ragged-long-row",
    ),
    pytest.param(
        _text(HEADER + GOOD + "Title C,film,2024-10-01,abc,yes\n"),
        "cands.csv, row 4, column 'runtime_minutes': runtime_minutes must be a number of minutes, got 'abc'",
        id="runtime-abc",
    ),
    pytest.param(
        _text(HEADER + GOOD + "Title C,film,2024-10-01,inf,yes\n"),
        "cands.csv, row 4, column 'runtime_minutes': runtime_minutes must be between 1 and 100,000 minutes, got 'inf'",
        id="runtime-inf",
    ),
    pytest.param(
        _text(HEADER + "Title C,movie,2024-10-01,90,yes\n"),
        "cands.csv, row 2, column 'kind': kind must be 'film' or 'show', got 'movie'",
        id="kind",
    ),
    pytest.param(
        _text(HEADER + GOOD + ",film,2024-10-01,90,yes\n"),
        "cands.csv, row 4, column 'title': title must not be empty",
        id="blank-title",
    ),
    pytest.param(
        _text(HEADER + GOOD + "Title C,film,2024-13-45,90,yes\n"),
        "cands.csv, row 4, column 'release_date': release_date must be a date",
        id="release-date",
    ),
    pytest.param(
        _text(HEADER + GOOD + "Title C,film,2024-10-01,90,maybe\n"),
        "cands.csv, row 4, column 'available_globally'",
        id="available-globally",
    ),
    pytest.param(lambda folder: folder / "nope.csv", "--candidates: the candidates file", id="missing"),
]


@pytest.mark.parametrize(("make", "message"), CASES)
@pytest.mark.parametrize("command", ["slate", "backtest"])
def test_bad_candidates_file_is_one_sentence_and_exit_code_2(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    make: Callable[[Path], Path],
    message: str,
    command: str,
) -> None:
    path = make(tmp_path)
    # the candidates are read before any report: the history need not exist for the refusal
    history = str(tmp_path / "history.xlsx")
    extra = (
        ["--period", "2024-07-01:2024-12-31", "--out", str(tmp_path / "out.csv")]
        if command == "backtest"
        else []
    )
    code, _, err = run_cli(
        capsys, "forecast", command, "--candidates", str(path), "--history", history, *extra
    )
    assert code == 2, err
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_duplicated_header_columns_are_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "cands.csv"
    path.write_text("title,kind,release_date,runtime_minutes,kind\nTitle A,show,2024-08-01,300,film\n")
    code, _, err = run_cli(
        capsys, "forecast", "slate", "--candidates", str(path), "--history", str(tmp_path / "h.xlsx")
    )
    assert code == 2, err
    assert "cands.csv" in err and "kind" in err and len(err.strip().splitlines()) == 1


def test_a_bad_fee_in_the_slate_is_named_by_row(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "cands.csv"
    path.write_text(
        HEADER.strip()
        + ",fee\n"
        + "Title A,show,2024-08-01,300,yes,1000000\nTitle B,film,2024-09-12,110,no,1e400\n"
    )
    code, _, err = run_cli(
        capsys, "forecast", "slate", "--candidates", str(path), "--history", str(tmp_path / "h.xlsx")
    )
    assert code == 2, err
    assert (
        "cands.csv, row 3, column 'fee': fee must be an amount below 1,000,000,000,000,000, got '1e400'"
        in err
    )


@pytest.mark.parametrize("value", ["notadate", "2025-13-45", "31/12/2025"])
def test_window_end_must_be_a_date(capsys: pytest.CaptureFixture[str], tmp_path: Path, value: str) -> None:
    code, _, err = run_cli(
        capsys, "forecast", "--title", "X", "--kind", "film", "--release-date", "2025-01-01",
        "--window-end", value, "--history", str(tmp_path / "h.xlsx"),
    )  # fmt: skip
    assert code == 2
    assert err.strip() == f"error: --window-end must be a date YYYY-MM-DD, got '{value}'"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--runtime-minutes", "inf", "--runtime-minutes must be a positive number, got inf"),
        ("--runtime-minutes", "nan", "--runtime-minutes must be a positive number, got nan"),
        ("--fee", "1e400", "--fee must be an amount below 1,000,000,000,000,000, got '1e400'"),
        ("--domestic-share", "nan", "--domestic-share must be between 0 and 1, got nan"),
    ],
)
def test_single_forecast_options_are_checked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, option: str, value: str, message: str
) -> None:
    code, _, err = run_cli(
        capsys, "forecast", "--title", "X", "--kind", "film", "--release-date", "2025-01-01",
        option, value, "--history", str(tmp_path / "h.xlsx"),
    )  # fmt: skip
    assert code == 2 and message in err


def test_read_candidates_keeps_file_rows_and_frames_keep_positions(tmp_path: Path) -> None:
    path = tmp_path / "cands.csv"
    path.write_text(HEADER + GOOD)
    frame = read_candidates(path)
    assert list(frame.index) == [2, 3]
    normalized = normalize_candidates(frame)
    assert normalized["runtime_minutes"].tolist() == [300.0, 110.0]
    assert normalized["available_globally"].tolist() == [1.0, 0.0]
    # a frame that came from no file (the API) names the candidate's position
    with pytest.raises(
        InputError, match="candidate runtime_minutes must be between 1 and 100,000 minutes, got inf in row 2"
    ):
        normalize_candidates(
            pd.DataFrame(
                [
                    {"title": "A", "kind": "film", "release_date": "2024-01-01", "runtime_minutes": 90},
                    {
                        "title": "B",
                        "kind": "film",
                        "release_date": "2024-01-01",
                        "runtime_minutes": float("inf"),
                    },
                ]
            )
        )
    with pytest.raises(InputError, match="candidate list is empty"):
        normalize_candidates(pd.DataFrame(columns=["title", "kind", "release_date"]))
    with pytest.raises(
        DataError, match=r"cands\.csv, row 3, column 'release_date': release_date must fall before"
    ):
        normalize_candidates(frame, window_end=pd.Timestamp("2024-08-31"))
