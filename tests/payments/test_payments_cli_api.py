"""`limelight payments …` and `/v1/payments`: JSON output, one-sentence errors, roles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from cli_runner import run_cli
from limelight.payments.model import RetrySuccessModel

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


_run = run_cli


def test_next_attempt_stops_on_a_hard_decline_and_retries_a_soft_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = str(tmp_path / "none.duckdb")
    code, out, _ = _run(
        capsys,
        "payments",
        "next-attempt",
        "--decline-code",
        "stolen_card",
        "--amount",
        "15.49",
        "--failed-at",
        "2025-03-03T10:00:00",
        "--db",
        db,
        "--json",
    )
    assert code == 0
    body = json.loads(out)
    assert body["decision"] == "stop" and body["reason"] == "gate: category_1_never"
    assert body["ask_member_to_update_card"] is True
    code, out, _ = _run(
        capsys,
        "payments",
        "next-attempt",
        "--decline-code",
        "insufficient_funds",
        "--amount",
        "15.49",
        "--failed-at",
        "2025-03-03T10:00:00",
        "--mac",
        "26",
        "--db",
        db,
        "--json",
    )
    body = json.loads(out)
    assert body["decision"] == "retry" and body["retry_at"] >= "2025-03-05T10:00:00Z"  # MAC 26: wait 2 days


def test_bad_flags_give_one_sentence_and_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(
        capsys, "payments", "next-attempt", "--decline-code", "x", "--amount", "1", "--funding-type", "gold"
    )
    assert code == 2 and "--funding-type must be" in err
    code, _, err = _run(capsys, "payments", "simulate", "--policy", "clever")
    assert code == 2 and "--policy must be smart or fixed" in err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--attempt-number", "3"), "--first-failed-at is needed from attempt 2 on"),
        (("--failed-at", "9999-12-31T00:00:00"), "--failed-at must be between the years 2000 and 2100"),
        (("--failed-at", "0001-01-01T00:00:00"), "--failed-at must be between the years 2000 and 2100"),
        (("--attempt-number", "99999999999999999999"), "--attempt-number must be between 1 and 100"),
        (("--attempt-number", "2", "--first-failed-at", "2025-03-01T00:00:00Z", "--card-attempts-30d", "5000"),
         "--card-attempts-30d must be between 0 and 1000"),
        (("--amount", "nan"), "'amount' must be a finite number of at least 0, got nan"),  # was "negative or missing"
    ],
)
def test_next_attempt_options_are_bounded_as_the_api_bounds_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    base = ("payments", "next-attempt", "--decline-code", "insufficient_funds", "--amount", "15.49",
            "--db", str(tmp_path / "none.duckdb"))
    if "--failed-at" not in args:
        base = (*base, "--failed-at", "2025-03-03T10:00:00Z")
    code, _, err = _run(capsys, *base, *args)
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1, err


def test_simulated_charges_are_in_what_their_currency_can_charge() -> None:
    from limelight.payments.simulator import simulate_dunning

    logs = simulate_dunning(1500, seed=5)
    yen = logs[logs["currency"].isin(["JPY", "KRW"])]["amount"].to_numpy()
    assert len(yen) and (yen == np.round(yen)).all()  # whole yen and won (fractional before)
    cents = logs[~logs["currency"].isin(["JPY", "KRW"])]["amount"].to_numpy()
    assert np.allclose(cents * 100, np.round(cents * 100))


def test_a_mac_typed_as_a_number_is_the_code_and_a_non_code_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base = ("payments", "next-attempt", "--decline-code", "do_not_honor", "--amount", "9.99", "--card-brand",
            "mastercard", "--failed-at", "2025-03-01T08:00:00Z", "--db", str(tmp_path / "none.duckdb"))
    code, out, _ = _run(capsys, *base, "--mac", "3.0", "--json")
    assert code == 0 and json.loads(out)["decision"] == "stop"  # was "retry" the next day
    code, _, err = _run(capsys, *base, "--mac", "X3")
    assert code == 2 and "one or two digits" in err and "'X3'" in err


def test_a_mac_wait_ends_no_earlier_than_the_wait_to_the_second(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = _run(
        capsys, "payments", "next-attempt", "--decline-code", "try_again_later", "--amount", "15.49",
        "--failed-at", "2025-03-03T10:00:00.400Z", "--mac", "24", "--db", str(tmp_path / "none.duckdb"), "--json",
    )  # fmt: skip
    body = json.loads(out)
    assert code == 0 and body["decision"] == "retry" and body["retry_at"] >= "2025-03-03T11:00:01Z"


def test_simulate_train_and_evaluate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, dunning_logs: pd.DataFrame
) -> None:
    code, out, _ = _run(
        capsys, "payments", "simulate", "--policy", "fixed", "--invoices", "400", "--seed", "4", "--json"
    )
    assert code == 0
    body = json.loads(out)
    for key in (
        "recovery_rate",
        "recovered_revenue",
        "attempts",
        "attempts_per_recovery",
        "rule_violations",
        "median_days_to_recovery",
    ):
        assert key in body
    assert body["rule_violations"] == 0 and body["failed_invoices"] == 400
    logs = tmp_path / "logs.parquet"
    dunning_logs.to_parquet(logs)
    model = tmp_path / "model.npz"
    code, out, _ = _run(capsys, "payments", "train", "--logs", str(logs), "--out", str(model), "--json")
    assert code == 0 and json.loads(out)["retries"] > 1000 and model.exists()
    code, out, _ = _run(capsys, "payments", "evaluate", "--logs", str(logs), "--model", str(model), "--json")
    assert code == 0 and {"ips", "snips", "dr"} <= set(json.loads(out))
    code, _, err = _run(capsys, "payments", "train", "--logs", str(tmp_path / "missing.parquet"))
    assert code == 2 and "--logs: the payment attempts file" in err


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory,
    world: tuple[pd.DataFrame, pd.DataFrame],
    members: pd.DataFrame,
    retry_model: RetrySuccessModel,
) -> Iterator[tuple[Any, dict[str, str]]]:
    from fastapi.testclient import TestClient

    from limelight.service import create_app
    from limelight.service.keys import create_key
    from limelight.spine.store import Rows, Store

    path = tmp_path_factory.mktemp("payments-api") / "spine.duckdb"
    with Store(path) as store:
        store.ingest(
            [
                Rows("members", members.assign(source="test"), origin="test:members"),
                Rows("cards", world[1], origin="test:cards"),
                Rows("payment_attempts", world[0], origin="test:payments"),
            ]
        )
    keys: dict[str, str] = {}
    con = duckdb.connect(str(path))
    try:
        for role in ("admin", "analyst", "service", "ingest"):
            keys[role], _ = create_key(con, role, label=f"payments {role}")
    finally:
        con.close()
    app = create_app(path, load_engine=False)
    retry_model.save(app.state.limelight.config.registry_dir / "payments" / "retry_model.npz")
    with TestClient(app) as client:
        yield client, keys


def _h(keys: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys[role]}"}


BODY = {
    "decline_code": "insufficient_funds",
    "amount": 15.49,
    "failed_at": "2025-03-03T10:00:00Z",
    "funding_type": "debit",
    "issuer_country": "US",
}


def test_next_attempt_endpoint_uses_the_registry_model_and_checks_roles(
    api: tuple[Any, dict[str, str]],
) -> None:
    client, keys = api
    for role in ("service", "analyst", "admin"):
        r = client.post("/v1/payments/next-attempt", json=BODY, headers=_h(keys, role))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["policy"] == "smart" and body["decision"] == "retry" and 0 < body["expected_success"] < 1
    assert client.post("/v1/payments/next-attempt", json=BODY, headers=_h(keys, "ingest")).status_code == 403
    assert client.post("/v1/payments/next-attempt", json=BODY).status_code == 401
    r = client.post("/v1/payments/next-attempt", json={**BODY, "amount": -1}, headers=_h(keys, "service"))
    assert r.status_code == 422 and r.json()["error"]["code"]
    # yen and won have no minor unit: 1,043.28 JPY cannot be charged (it was decided on as given)
    r = client.post("/v1/payments/next-attempt", json={**BODY, "currency": "JPY", "amount": 1043.28},
                    headers=_h(keys, "service"))
    assert r.status_code == 422 and "whole units (no minor unit) for JPY" in r.json()["error"]["message"], r.text
    r = client.post("/v1/payments/next-attempt", json={**BODY, "currency": "jpy", "amount": 1043},
                    headers=_h(keys, "service"))
    assert r.status_code == 200, r.json()
    r = client.post(
        "/v1/payments/next-attempt", json={**BODY, "decline_code": "lost_card"}, headers=_h(keys, "service")
    )
    assert r.json()["decision"] == "stop" and r.json()["retry_at"] is None


def test_next_attempt_endpoint_wants_the_first_failure_from_attempt_two_and_reads_codes_in_any_case(
    api: tuple[Any, dict[str, str]],
) -> None:
    client, keys = api
    r = client.post("/v1/payments/next-attempt", json={**BODY, "attempt_number": 4}, headers=_h(keys, "service"))
    assert r.status_code == 422 and "first_failed_at is needed from attempt 2 on" in r.json()["error"]["message"]
    r = client.post("/v1/payments/next-attempt", json={**BODY, "decline_code": "LOST_CARD"}, headers=_h(keys, "service"))
    assert r.status_code == 200 and r.json()["decision"] == "stop" and r.json()["decline_category"] == 1


def test_a_currency_without_a_rate_is_refused_not_priced_as_dollars(
    api: tuple[Any, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    client, keys = api
    r = client.post("/v1/payments/next-attempt", json={**BODY, "currency": "JYP"}, headers=_h(keys, "service"))
    assert r.status_code == 422 and "currency must be one with a rate in countries.csv" in r.json()["error"]["message"]
    assert client.post("/v1/payments/next-attempt", json={**BODY, "currency": "jpy", "amount": 1549},
                       headers=_h(keys, "service")).status_code == 200
    code, _, err = _run(capsys, "payments", "next-attempt", "--decline-code", "insufficient_funds", "--amount", "2000",
                        "--currency", "JYP")
    assert code == 2 and "got 'JYP'" in err


def test_recovery_curves_by_category_for_analysts_only(api: tuple[Any, dict[str, str]]) -> None:
    client, keys = api
    r = client.get("/v1/payments/recovery", headers=_h(keys, "analyst"))
    assert r.status_code == 200, r.text
    body = r.json()
    cats = {c["category"]: c for c in body["curves"]}
    assert "all" in cats and "1" in cats and body["failed_invoices"] > 100
    shares = [p["recovered_share"] for p in cats["all"]["points"]]
    assert shares == sorted(shares) and 0 < shares[-1] < 1
    assert all(p["recovered_share"] == 0 for p in cats["1"]["points"][:1])
    assert client.get("/v1/payments/recovery", headers=_h(keys, "service")).status_code == 403


def test_churn_command_scores_next_month(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, world_logs: pd.DataFrame
) -> None:
    logs = tmp_path / "world.parquet"
    world_logs.to_parquet(logs)
    code, out, _ = _run(
        capsys, "payments", "churn", "--month", "2025-08", "--logs", str(logs), "--top", "3", "--json"
    )
    assert code == 0
    body = json.loads(out)
    assert body["month"] == "2025-08" and len(body["at_risk"]) == 3
    assert {"log_loss", "auc", "base_rate_log_loss"} <= set(body["evaluation"])
    code, _, err = _run(capsys, "payments", "churn", "--month", "August", "--logs", str(logs))
    assert code == 2 and "like 2025-06, got 'August'" in err


def test_churn_command_takes_a_cards_file_and_names_a_bad_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, world: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    attempts, cards = world
    logs, card_file = tmp_path / "world.parquet", tmp_path / "cards.csv"
    attempts.to_parquet(logs)
    cards.to_csv(card_file, index=False)
    args = ("payments", "churn", "--month", "2025-08", "--logs", str(logs), "--top", "2", "--json")
    code, out, _ = _run(capsys, *args, "--cards", str(card_file))
    assert code == 0
    assert len(json.loads(out)["at_risk"]) == 2
    cards.drop(columns=["expires_at"]).to_csv(card_file, index=False)
    code, _, err = _run(capsys, *args, "--cards", str(card_file))
    assert code == 2 and "cards must have columns card_id and expires_at" in err
    bad = cards.astype({"expires_at": object})
    bad.loc[3, "expires_at"] = "soon"
    bad.to_csv(card_file, index=False)
    code, _, err = _run(capsys, *args, "--cards", str(card_file))
    # 'soon' is the 4th card: row 5 of the file (the header is row 1)
    assert code == 2 and "cards.csv, row 5, column 'expires_at': 'soon' is not a date" in err


def test_churn_command_reads_card_expiry_from_the_spines_cards_table(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    world: tuple[pd.DataFrame, pd.DataFrame],
    members: pd.DataFrame,
) -> None:
    from limelight.spine.store import Rows, Store

    attempts, cards = world
    logs, card_file, db = tmp_path / "world.parquet", tmp_path / "cards.csv", tmp_path / "spine.duckdb"
    attempts.to_parquet(logs)
    cards.to_csv(card_file, index=False)
    with Store(db) as store:
        store.ingest(
            [
                Rows("members", members.assign(source="test"), origin="test:members"),
                Rows("cards", cards, origin="test:cards"),
                Rows("payment_attempts", attempts, origin="test:payments"),
            ]
        )
    args = ("payments", "churn", "--month", "2025-08", "--top", "5", "--json")
    code, from_spine, _ = _run(capsys, *args, "--db", str(db))
    assert code == 0
    _, from_files, _ = _run(capsys, *args, "--logs", str(logs), "--cards", str(card_file))
    _, without_cards, _ = _run(capsys, *args, "--logs", str(logs))
    spine_eval, files_eval = json.loads(from_spine)["evaluation"], json.loads(from_files)["evaluation"]
    assert spine_eval["auc"] == pytest.approx(files_eval["auc"], abs=1e-9)
    assert spine_eval["auc"] != pytest.approx(json.loads(without_cards)["evaluation"]["auc"], abs=1e-6)


def test_at_risk_endpoint_lists_members_for_analysts_and_matches_the_cli(
    api: tuple[Any, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    world: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    client, keys = api
    r = client.get("/v1/payments/at-risk", params={"month": "2025-08", "top": 4}, headers=_h(keys, "analyst"))
    assert r.status_code == 200, r.text
    body = r.json()
    risks = [m["risk"] for m in body["at_risk"]]
    assert len(risks) == 4 and risks == sorted(risks, reverse=True) and 0 < risks[-1] < 1
    assert body["evaluation"]["log_loss"] < body["evaluation"]["base_rate_log_loss"]
    logs, card_file = tmp_path / "logs.parquet", tmp_path / "cards.parquet"
    world[0].to_parquet(logs)
    world[1].to_parquet(card_file)
    _, out, _ = _run(capsys, "payments", "churn", "--month", "2025-08", "--logs", str(logs), "--cards", str(card_file),
                     "--top", "4", "--json")  # fmt: skip
    assert [m["member_id"] for m in json.loads(out)["at_risk"]] == [m["member_id"] for m in body["at_risk"]]
    default = client.get("/v1/payments/at-risk", params={"top": 4}, headers=_h(keys, "admin")).json()
    assert default["month"] == "2025-08" and default["at_risk"] == body["at_risk"]  # the last attempt's month
    for role in ("service", "ingest"):
        assert client.get("/v1/payments/at-risk?month=2025-08", headers=_h(keys, role)).status_code == 403
    assert client.get("/v1/payments/at-risk?month=2025-08").status_code == 401
    for bad in ("August", "0000-01", "9999-12"):  # year 0 once reached pandas and answered 500
        r = client.get(f"/v1/payments/at-risk?month={bad}", headers=_h(keys, "analyst"))
        assert r.status_code == 422 and "month" in r.json()["error"]["message"], (bad, r.text)


def test_at_risk_on_a_spine_without_payments_is_not_found(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from cli_runner import empty_store_with_keys
    from limelight.service import create_app

    path = tmp_path / "empty.duckdb"
    key = empty_store_with_keys(path, "analyst")["analyst"]
    with TestClient(create_app(path, load_engine=False)) as client:
        r = client.get("/v1/payments/at-risk?month=2025-08", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 404 and "no payment_attempts" in r.json()["error"]["message"]
