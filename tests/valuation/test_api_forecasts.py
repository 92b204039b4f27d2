"""`POST /v1/forecasts`: analysts and admins get a forecast from the store's engagement table."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pandas as pd
import pytest

from limelight.spine.store import Rows, Store


@pytest.fixture(scope="module")
def api(
    world_reports: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[object, dict[str, str]]]:
    from fastapi.testclient import TestClient

    from limelight.service import create_app
    from limelight.service.keys import create_key

    path = tmp_path_factory.mktemp("api") / "spine.duckdb"
    frame = world_reports.drop(columns=[]).copy()
    frame["release_date"] = pd.to_datetime(frame["release_date"]).dt.date
    frame["period_start"] = frame["period_start"].dt.date
    frame["period_end"] = frame["period_end"].dt.date
    frame["hours_viewed"] = frame["hours_viewed"].astype("int64")
    frame["views"] = frame["views"].astype("int64")
    with Store(path) as store:
        store.ingest([Rows("engagement", frame, origin="test:engagement")])
    con = duckdb.connect(str(path))
    try:
        keys = {role: create_key(con, role, label=role)[0] for role in ("analyst", "service", "admin")}
    finally:
        con.close()
    app = create_app(path)
    with TestClient(app) as client:
        yield client, keys


def _post(api: tuple[object, dict[str, str]], role: str, body: dict[str, object]) -> object:
    client, keys = api
    return client.post("/v1/forecasts", json=body, headers={"Authorization": f"Bearer {keys[role]}"})  # type: ignore[attr-defined]


BODY = {"title": "Title 2-3: Season 2", "kind": "show", "release_date": "2025-02-14", "runtime_minutes": 420,
        "fee": "12000000"}  # fmt: skip


def test_analyst_gets_forecast_interval_and_comparables(api: tuple[object, dict[str, str]]) -> None:
    response = _post(api, "analyst", BODY)
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    out = response.json()  # type: ignore[attr-defined]
    assert out["lower_hours"] <= out["predicted_hours"] <= out["upper_hours"]
    assert len(out["comparables"]) == 5
    assert out["decisions"]["cost_per_view"]["fee"] == "12000000"


def test_service_role_is_forbidden(api: tuple[object, dict[str, str]]) -> None:
    assert _post(api, "service", BODY).status_code == 403  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "change",
    [{"kind": "movie"}, {"release_date": "soon"}, {"runtime_minutes": -1}, {"runtime_minutes": 0.5}, {"fee": "lots"},
     {"extra": 1}, {"language": "zzzz"}],
)
def test_bad_body_is_422(api: tuple[object, dict[str, str]], change: dict[str, object]) -> None:
    assert _post(api, "analyst", {**BODY, **change}).status_code == 422  # type: ignore[attr-defined]


def test_a_language_is_read_in_any_case(api: tuple[object, dict[str, str]]) -> None:
    """'KO' used to be an unknown code, forecast as "latin_other" instead of Korean."""
    lower = _post(api, "analyst", {**BODY, "language": "ko"}).json()  # type: ignore[attr-defined]
    upper = _post(api, "analyst", {**BODY, "language": " KO "}).json()  # type: ignore[attr-defined]
    assert upper["predicted_hours"] == lower["predicted_hours"]


def test_a_release_before_any_report_is_a_clear_client_error(api: tuple[object, dict[str, str]]) -> None:
    response = _post(api, "analyst", {**BODY, "release_date": "2022-03-01"})
    assert response.status_code == 422, response.status_code  # type: ignore[attr-defined]
    assert "engagement report" in response.json()["error"]["message"]  # type: ignore[attr-defined]


def test_generated_bodies_never_get_a_server_error_or_an_undocumented_status(
    api: tuple[object, dict[str, str]],
) -> None:
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

    client, keys = api
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)  # type: ignore[attr-defined]
    operation = schema["/v1/forecasts"]["POST"]

    @given(case=operation.as_strategy())
    @settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {keys['analyst']}"}
        case.call_and_validate(
            checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
        )

    check()

