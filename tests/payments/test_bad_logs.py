"""`payments train|evaluate --logs` refuse a malformed attempts log in one sentence naming file, row and column."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from cli_runner import bad_file, run_cli
from limelight.payments.decide import load_attempts
from limelight.payments.model import RetrySuccessModel
from limelight.payments.simulator import simulate_dunning


@pytest.fixture(scope="module")
def logs() -> pd.DataFrame:
    return simulate_dunning(300, seed=3)


@pytest.fixture(scope="module")
def model_file(retry_model: RetrySuccessModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return retry_model.save(tmp_path_factory.mktemp("model") / "retry.npz")


def _set(column: str, row: int, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.astype({column: object})
        out.loc[row, column] = value
        return out

    return change


# (change to the log, what the sentence must say); data row 5 is file row 7 (header = row 1)
BAD_CELLS = [
    pytest.param(lambda f: f.drop(columns=["outcome"]), "row 1, column 'outcome'", id="missing-column"),
    pytest.param(_set("amount", 5, "abc"), "row 7, column 'amount': 'abc' is not a number", id="amount-text"),
    pytest.param(_set("amount", 5, "inf"), "row 7, column 'amount': 'inf' is not a finite number", id="amount-inf"),
    pytest.param(_set("amount", 5, -3), "row 7, column 'amount': amount must be at least 0", id="amount-negative"),
    pytest.param(_set("attempted_at", 5, "yesterday"), "row 7, column 'attempted_at': 'yesterday' is not a date", id="ts"),
    pytest.param(_set("attempted_at", 5, ""), "row 7, column 'attempted_at': must not be blank", id="ts-blank"),
    pytest.param(_set("attempt_number", 5, "two"), "row 7, column 'attempt_number'", id="attempt-text"),
    pytest.param(_set("attempt_number", 5, 1.5), "row 7, column 'attempt_number': attempt_number must be a whole", id="attempt-frac"),
    pytest.param(_set("attempt_number", 5, 0), "row 7, column 'attempt_number'", id="attempt-zero"),
    pytest.param(_set("outcome", 5, "maybe"), "row 7, column 'outcome': outcome must be succeeded or failed", id="outcome"),
    pytest.param(_set("propensity", 5, 2), "row 7, column 'propensity': propensity must be between 0 and 1", id="propensity"),
    pytest.param(_set("invoice_id", 5, ""), "row 7, column 'invoice_id': must not be blank", id="invoice-blank"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "message"), BAD_CELLS)
@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_a_bad_cell_or_column_is_named_with_exit_code_2(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    logs: pd.DataFrame,
    model_file: Path,
    command: str,
    change: Callable[[pd.DataFrame], pd.DataFrame],
    message: str,
) -> None:
    path = tmp_path / "attempts.csv"
    change(logs).to_csv(path, index=False)
    extra = ["--out", str(tmp_path / "m.npz")] if command == "train" else ["--model", str(model_file)]
    code, _, err = run_cli(capsys, "payments", command, "--logs", str(path), *extra)
    assert code == 2, err
    assert err.startswith("error: attempts.csv, ") and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def _write_bytes(data: bytes) -> Callable[[Path], Path]:
    return bad_file("attempts.csv", data)


_folder = bad_file("attempts.csv", None)


HEADER = b"invoice_id,card_id,attempted_at,attempt_number,outcome,decline_code,amount\n"
BAD_FILES = [
    pytest.param(_write_bytes(b""), "attempts.csv: the file is empty", id="empty"),
    pytest.param(_write_bytes(HEADER), "attempts.csv: has no rows of payment attempts", id="header-only"),
    pytest.param(
        _folder, "--logs must be a CSV or Parquet file of payment attempts, got the folder", id="folder"
    ),
    pytest.param(
        _write_bytes(HEADER + "i1,c1,2025-01-01,1,failed,caf\xe9,5\n".encode("latin-1")),
        "attempts.csv: is not utf-8 text",
        id="latin-1",
    ),
    pytest.param(
        _write_bytes(HEADER + b"i1,c1,2025-01-01,1,failed,do_not_honor,5\ni1,c1,2025-01-02,2,failed,x,5,9\n"),
        "attempts.csv, row 3: has 8 fields where the header has 7",
        id="ragged",
    ),
    pytest.param(lambda folder: folder / "missing.csv", "--logs: the payment attempts file", id="missing"),
    pytest.param(
        _write_bytes(HEADER.replace(b"\n", b",amount\n") + b"i1,c1,2025-01-01,1,failed,do_not_honor,5,6\n"),
        "attempts.csv, row 1, column 'amount'",
        id="duplicated-header",
    ),
]


@pytest.mark.parametrize(("make", "message"), BAD_FILES)
def test_a_file_that_is_not_a_log_is_one_sentence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    path = make(tmp_path)
    code, _, err = run_cli(capsys, "payments", "train", "--logs", str(path), "--out", str(tmp_path / "m.npz"))
    assert code == 2, err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_csv_log_trains_like_its_parquet_copy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, logs: pd.DataFrame, model_file: Path
) -> None:
    csv, parquet = tmp_path / "logs.csv", tmp_path / "logs.parquet"
    logs.to_csv(csv, index=False)
    logs.to_parquet(parquet, index=False)
    from_csv, from_parquet = load_attempts(csv), load_attempts(parquet)
    assert list(from_csv.index) == list(range(len(logs)))
    assert from_csv["amount"].tolist() == pytest.approx(from_parquet["amount"].tolist())
    assert (from_csv["attempted_at"].to_numpy() == from_parquet["attempted_at"].to_numpy()).all()
    outputs = []
    for path in (csv, parquet):
        code, out, err = run_cli(
            capsys,
            "payments",
            "train",
            "--logs",
            str(path),
            "--out",
            str(tmp_path / f"{path.suffix}.npz"),
            "--json",
        )
        assert code == 0, err
        outputs.append(json.loads(out))
    assert outputs[0]["retries"] == outputs[1]["retries"]
    assert outputs[0]["retry_success_rate"] == outputs[1]["retry_success_rate"]

    # off-policy estimates need logs where the new policy's choices were sometimes taken: a larger log
    big = simulate_dunning(2000, seed=3)
    big.to_csv(csv, index=False)
    big.to_parquet(parquet, index=False)
    estimates = []
    for path in (csv, parquet):
        code, out, err = run_cli(
            capsys, "payments", "evaluate", "--logs", str(path), "--model", str(model_file), "--json"
        )
        assert code == 0, err
        estimates.append(json.loads(out))
    assert estimates[0] == estimates[1]


def test_churn_logs_need_member_id(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, logs: pd.DataFrame
) -> None:
    path = tmp_path / "attempts.csv"
    logs.drop(columns=["member_id"]).to_csv(path, index=False)
    code, _, err = run_cli(capsys, "payments", "churn", "--month", "2025-02", "--logs", str(path))
    assert code == 2 and "attempts.csv, row 1, column 'member_id'" in err


def test_simulate_refuses_a_negative_seed(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(
        capsys, "payments", "simulate", "--policy", "fixed", "--invoices", "10", "--seed", "-1"
    )
    assert code == 2 and err.strip() == "error: --seed must be >= 0, got -1"
    code, _, err = run_cli(capsys, "payments", "simulate", "--invoices", "10", "--train-invoices", "0")
    assert code == 2 and "--train-invoices must be between 1 and 2000000, got 0" in err
