"""Schemathesis against the service's own OpenAPI schema: no 5xx, only documented statuses, valid bodies.

One test per router group, so a defect in one engine's router names that router.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from limelight.service.app import create_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Training, rollback and key revocation change shared state; they have their own tests.
SKIP = ("/v1/models/train", "/v1/models/rollback", "/v1/keys/{key_id}")
GROUPS = {
    "core": ("/health", "/metrics", "/v1/me", "/v1/members", "/v1/titles", "/v1/events", "/v1/keys", "/v1/models"),
    "forecasts": ("/v1/forecasts",),
    "talent": ("/v1/talent",),
    "payments": ("/v1/payments",),
}


@pytest.fixture(scope="module")
def operations(client) -> list[object]:
    state = client.app.state.limelight
    app = create_app(state.config.db_path, state=state)  # same state; its lifespan does nothing
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def _check(operation: object, headers: dict[str, str], examples: int) -> None:
    @given(case=operation.as_strategy())  # type: ignore[attr-defined]
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        case.headers = {**(case.headers or {}), **headers}
        case.call_and_validate(checks=CHECKS)

    check()


@pytest.mark.parametrize("group", list(GROUPS))
def test_no_generated_request_gets_a_5xx_or_an_undocumented_answer(client, auth, operations, group) -> None:
    if group != "core" and group not in client.app.state.routers:
        pytest.skip(f"the {group} router is not present")
    chosen = [op for op in operations if op.path.startswith(GROUPS[group]) and op.path not in SKIP]
    assert chosen, f"no operations for {group}"
    for operation in chosen:
        headers = auth("ingest" if operation.path == "/v1/events" else "admin")
        _check(operation, headers, 12 if group == "core" else 8)
