"""`/v1/talent`: a statement only for that person's key or an admin; aggregates for analyst/admin."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

pytest.importorskip("fastapi")
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


@pytest.fixture(scope="module")
def api(world_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, str]]]:
    import pandas as pd
    from fastapi.testclient import TestClient

    from limelight.service import create_app
    from limelight.service.keys import create_key
    from limelight.spine.store import Store
    from limelight.spine.validate import Rows

    path = tmp_path_factory.mktemp("talent-api") / "spine.duckdb"
    shutil.copy(world_path, path)
    engagement = pd.DataFrame(
        [  # one half-year report: a hit released mid-period and a title released before it
            {"source": "r.xlsx", "sheet": "Film", "row_number": 7, "period_start": "2024-01-01", "period_end": "2024-06-30",
             "title_name": "Hit", "kind": "film", "release_date": "2024-03-01", "runtime_minutes": 120.0, "hours_viewed": 60},
            {"source": "r.xlsx", "sheet": "Film", "row_number": 8, "period_start": "2024-01-01", "period_end": "2024-06-30",
             "title_name": "Old", "kind": "film", "release_date": "2023-03-01", "runtime_minutes": 90.0, "hours_viewed": 900},
            # released before the subscribers table's first count (2023-06-30): no July-1 base, trigger unknown
            {"source": "r0.xlsx", "sheet": "Film", "row_number": 7, "period_start": "2023-01-01", "period_end": "2023-06-30",
             "title_name": "Early", "kind": "film", "release_date": "2023-03-01", "runtime_minutes": 90.0, "hours_viewed": 90},
        ]
    )
    with Store(path) as store:
        store.ingest([Rows("engagement", engagement, "test")])
    keys: dict[str, str] = {}
    con = duckdb.connect(str(path))
    try:
        for role in ("admin", "analyst", "service"):
            keys[role], _ = create_key(con, role, label=f"talent {role}")
        keys["p1"], _ = create_key(con, "person", person_id="p1", label="Ada")
        keys["p2"], _ = create_key(con, "person", person_id="p2", label="Ben")
        # a catalog names people by their name: the id has a space (the API could not address it before)
        keys["n1"], _ = create_key(con, "person", person_id="Nia Newcomer", label="Nia, no credits yet")
    finally:
        con.close()
    app = create_app(path, load_engine=False)
    with TestClient(app) as client:
        yield client, keys


def _h(keys: dict[str, str], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys[who]}"}


PARAMS = {"start": "2024-01-01", "end": "2024-12-31", "as_of": "2024-12-31"}


def test_a_person_sees_their_own_statement(api: tuple[Any, dict[str, str]]) -> None:
    client, keys = api
    r = client.get("/v1/talent/people/p1/statement", params=PARAMS, headers=_h(keys, "p1"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["person_id"] == "p1" and {line["program_id"] for line in body["lines"]} >= {"f1", "s1s1"}


def test_another_persons_key_and_an_analyst_are_refused(api: tuple[Any, dict[str, str]]) -> None:
    client, keys = api
    for who in ("p2", "analyst", "service"):
        r = client.get("/v1/talent/people/p1/statement", params=PARAMS, headers=_h(keys, who))
        assert r.status_code == 403, who
        assert r.json()["error"]["code"] == "forbidden"
    assert client.get("/v1/talent/people/p1/statement", params=PARAMS).status_code == 401


def test_admin_posts_supplied_residuals_and_they_are_marked(api: tuple[Any, dict[str, str]]) -> None:
    client, keys = api
    body = {**PARAMS, "fixed_residuals": [{"guild": "sag-aftra", "title_id": "f1", "amount": "1000.01"}], "health_year": 2025}
    r = client.post("/v1/talent/people/p1/statement", json=body, headers=_h(keys, "admin"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["total_bonus"] == "375.01" and out["health"]["threshold"] == "27540.00"
    assert any("user-supplied" in s for s in out["supplied_figures"])


def test_a_residual_given_twice_or_earnings_without_a_plan_year_are_refused(api: tuple[Any, dict[str, str]]) -> None:
    """The API took the last of two amounts for one title (the CLI refused the same rows), and dropped
    other_earnings without a health_year."""
    client, keys = api
    twice = [{"guild": "SAG-AFTRA", "title_id": "f1", "amount": "100000"},
             {"guild": "sag-aftra", "title_id": " f1", "amount": "5"}]
    r = client.post("/v1/talent/people/p1/statement", json={**PARAMS, "fixed_residuals": twice},
                    headers=_h(keys, "admin"))
    assert r.status_code == 422 and "fixed_residuals[1] repeats an earlier row" in r.json()["error"]["message"]
    r = client.post("/v1/talent/people/p1/statement", json={**PARAMS, "other_earnings": "5000"},
                    headers=_h(keys, "admin"))
    assert r.status_code == 422 and "give health_year too" in r.json()["error"]["message"]


def test_windows_of_an_unknown_title_are_404_not_an_empty_list(api: tuple[Any, dict[str, str]]) -> None:
    client, keys = api
    r = client.get("/v1/talent/titles/windows", params={"as_of": "2024-12-31", "title_id": "NOPE"},
                   headers=_h(keys, "analyst"))
    assert r.status_code == 404 and "'NOPE' is not in the spine" in r.json()["error"]["message"]
    # a series or an episode has no windows of its own: its seasons do (an empty 200 read as "none yet")
    for title_id, says in (("s1", "is a series: bonus windows are per season ('s1s1')"),
                           ("s1e1", "is an episode: bonus windows are per season — use its season 's1s1'")):
        r = client.get("/v1/talent/titles/windows", params={"as_of": "2024-12-31", "title_id": title_id},
                       headers=_h(keys, "analyst"))
        assert r.status_code == 422 and says in r.json()["error"]["message"], r.text


def test_a_person_with_no_credits_yet_gets_an_empty_statement_not_an_error(api: tuple[Any, dict[str, str]]) -> None:
    """Their dashboard page was a red 404 "has no credits in the store", meant for unknown people."""
    client, keys = api
    r = client.get("/v1/talent/people/Nia%20Newcomer/statement", params={**PARAMS, "health_year": 2025},
                   headers=_h(keys, "n1"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["person_name"] == "Nia Newcomer" and body["lines"] == [] and body["total_pay"] is None
    assert body["health"]["shortfall"] == "27540.00"
    assert client.get("/v1/talent/people/Nia%20Newcomer/statement", headers=_h(keys, "p1")).status_code == 403
    bad = client.get("/v1/talent/people/%20p1/statement", headers=_h(keys, "admin"))
    assert bad.status_code == 422 and "no space at either end" in bad.json()["error"]["message"]


def test_unknown_person_is_404_for_admin(api: tuple[Any, dict[str, str]]) -> None:
    client, keys = api
    r = client.get("/v1/talent/people/nobody/statement", params=PARAMS, headers=_h(keys, "admin"))
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    # not "has no credits", which is what a real person without credits is (200, an empty statement)
    message = r.json()["error"]["message"]
    assert message.startswith("no person 'nobody'") and "no credits" not in message


def test_title_windows_are_for_analysts_and_admins(api: tuple[Any, dict[str, str]]) -> None:
    client, keys = api
    r = client.get("/v1/talent/titles/windows", params={"as_of": "2024-12-31"}, headers=_h(keys, "analyst"))
    assert r.status_code == 200, r.text
    rows = {(w["program_id"], w["window"]): w for w in r.json()}
    film = rows[("f1", "first 90 days")]
    assert film["eligible"] is True and film["views"] == pytest.approx(4.0) and film["metric"] == pytest.approx(0.4)
    assert film["guilds"] == ["dga", "sag-aftra", "wga"]  # every pack with the bonus (the DGA's since 2024)
    assert client.get("/v1/talent/titles/windows", headers=_h(keys, "p1")).status_code == 403


def test_title_windows_with_an_unknown_base_are_listed_with_nulls_not_left_out(api: tuple[Any, dict[str, str]]) -> None:
    """Old Film's first window (July 1 2022 applies; the table's first count is 2023-06-30) was silently
    missing from the list: a window with views and no base read as no window at all."""
    client, keys = api
    r = client.get("/v1/talent/titles/windows", params={"as_of": "2024-12-31"}, headers=_h(keys, "analyst"))
    assert r.status_code == 200, r.text
    body = r.json()
    rows = {(w["program_id"], w["window"]): w for w in body}
    old = rows[("f0", "first 90 days")]
    assert old["views"] == pytest.approx(3.0) and old["release_eligible"] is False
    for key in ("domestic_subscribers", "metric", "eligible", "views_needed"):
        assert old[key] is None, key
    # the measured windows come first, highest share of the base first; the unknown ones after them
    metrics = [w["metric"] for w in body]
    known = [m for m in metrics if m is not None]
    assert metrics[: len(known)] == sorted(known, reverse=True) and None in metrics


def test_bonus_and_health_calculators(api: tuple[Any, dict[str, str]]) -> None:
    client, keys = api
    q = {"guild": "sag-aftra", "domestic_hours": 15_200_000, "runtime_minutes": 60, "domestic_subscribers": 76_000_000, "fixed_residual": "100"}
    r = client.get("/v1/talent/bonus", params=q, headers=_h(keys, "analyst"))
    assert r.status_code == 200 and r.json()["eligible"] is True and r.json()["fund_share"] == "25.00"
    bad = client.get("/v1/talent/bonus", params={**q, "runtime_minutes": 0}, headers=_h(keys, "analyst"))
    assert bad.status_code == 422
    upper = client.get("/v1/talent/bonus", params={**q, "guild": "SAG-AFTRA"}, headers=_h(keys, "analyst"))
    assert upper.status_code == 200 and upper.json() == r.json()  # any case, as the CLI takes it
    assert client.get("/v1/talent/bonus", params={**q, "guild": "sag"}, headers=_h(keys, "analyst")).status_code == 422
    h = client.get("/v1/talent/health", params={"earnings": "30000", "year": 2025}, headers=_h(keys, "p2"))
    assert h.status_code == 200 and h.json()["eligible"] is True
    packs = client.get("/v1/talent/packs", headers=_h(keys, "service")).json()
    assert {"sag-aftra-2023", "wga-2023", "dga-2023", "sag-aftra-health"} <= set(packs)


def test_estimates_from_the_spine_state_their_assumptions(api: tuple[Any, dict[str, str]]) -> None:
    client, keys = api
    r = client.get("/v1/talent/estimates", params={"domestic_share": 0.5}, headers=_h(keys, "analyst"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert any("50.0%" in a for a in body["assumptions"])
    assert [row["title_name"] for row in body["rows"]] == ["Hit", "Early"]  # "Old" has no first-90-day estimate
    hit, early = body["rows"]
    # 60 hours × 50% domestic × 70% in the first 90 days ÷ 2 h = 10.5 views of 10 UCAN subscribers
    assert hit["views_90"] == pytest.approx(10.5) and hit["likely_crossed"] and hit["bonus_applies"]
    # no base for July 1 2022: unknown comes back null (this was a 500), and a 2023 release is a known no
    assert early["views_90"] == pytest.approx(21.0) and early["domestic_subscribers"] is None
    assert early["likely_crossed"] is None and early["views_needed"] is None and early["metric"] is None
    assert early["release_eligible"] is False and early["bonus_applies"] is False
    assert client.get("/v1/talent/estimates", headers=_h(keys, "p1")).status_code == 403


@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        ("/v1/talent/people/p1/statement", {**PARAMS, "end": "9999-12-31"}, "end"),
        ("/v1/talent/people/p1/statement", {**PARAMS, "as_of": "2999-01-01"}, "as_of"),
        ("/v1/talent/people/p1/statement", {**PARAMS, "start": "0001-01-01"}, "start"),
        ("/v1/talent/titles/windows", {"as_of": "9999-12-31"}, "as_of"),
    ],
)
def test_dates_centuries_away_are_refused_not_computed(
    api: tuple[Any, dict[str, str]], path: str, params: dict[str, str], named: str
) -> None:
    client, keys = api
    r = client.get(path, params=params, headers=_h(keys, "admin"))
    assert r.status_code == 422 and r.json()["error"]["message"].startswith(f"{named} must lie between"), r.text


def test_a_statement_line_with_an_unknown_base_is_a_valid_answer(world_path: Path, tmp_path: Path) -> None:
    """The line model required a whole subscriber count; an unknown base (0 before) is now null."""
    from datetime import date

    from limelight.service.routes.talent import StatementOut
    from limelight.spine.store import Store
    from limelight.talent.statements import statement_from_store

    copy = tmp_path / "late.duckdb"
    shutil.copy(world_path, copy)
    with Store(copy) as store:
        store.con.execute("UPDATE subscribers SET as_of = DATE '2023-11-01'")
        st = statement_from_store(store, "p1", date(2024, 1, 1), date(2024, 12, 31), as_of=date(2024, 12, 31))
    out = StatementOut.model_validate(st.as_json())
    film = next(line for line in out.lines if line.program_id == "f1")
    assert film.domestic_subscribers is None and film.release_eligible and film.eligible is None
