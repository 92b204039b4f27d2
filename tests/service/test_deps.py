"""The dependencies other routers build on: OwnPerson (pay statements), require_access, StoreDep."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from limelight.service.deps import ApiKey, OwnPerson, StoreDep, can_access, require_access
from limelight.service.errors import install_error_handlers


def test_can_access_lets_a_person_see_only_their_own_statement() -> None:
    me = ApiKey("k1", "person", person_id="p1")
    assert can_access(me, "person.statement", person_id="p1")
    assert not can_access(me, "person.statement", person_id="p2")
    assert can_access(ApiKey("k2", "admin"), "person.statement", person_id="p2")
    assert not can_access(ApiKey("k3", "analyst"), "person.statement", person_id="p1")


@pytest.fixture(scope="module")
def statement_client(client) -> TestClient:
    """A throwaway app on the session's state with a router written the way the talent router is."""
    router = APIRouter()

    @router.get("/v1/talent/people/{person_id}/statement")
    def statement(person_id: OwnPerson, store: StoreDep) -> dict[str, object]:
        return {"person_id": person_id, "titles": int(store.scalar("SELECT count(*) FROM titles"))}

    @router.get("/v1/payments/only-analysts", dependencies=[Depends(require_access("payments"))])
    def analysts() -> dict[str, bool]:
        return {"ok": True}

    app = FastAPI()
    app.state.limelight = client.app.state.limelight
    install_error_handlers(app)
    app.include_router(router)
    return TestClient(app)


@pytest.mark.parametrize(
    ("role", "person", "status"),
    [("person", "p1", 200), ("person", "p2", 403), ("admin", "p2", 200), ("analyst", "p1", 403), ("service", "p1", 403)],
)
def test_pay_statement_is_visible_to_that_person_and_admins_only(statement_client, auth, role, person, status) -> None:
    r = statement_client.get(f"/v1/talent/people/{person}/statement", headers=auth(role))
    assert r.status_code == status
    if status == 200:
        assert r.json() == {"person_id": person, "titles": 30}
    else:
        assert r.json()["error"]["code"] == "forbidden"


def test_require_access_refuses_other_roles_naming_the_ones_it_needs(statement_client, auth) -> None:
    assert statement_client.get("/v1/payments/only-analysts", headers=auth("analyst")).status_code == 200
    r = statement_client.get("/v1/payments/only-analysts", headers=auth("service"))
    assert r.status_code == 403
    assert r.json()["error"]["message"] == "a key with role 'service' may not use payments; it needs role admin or analyst"


def test_create_app_includes_engine_routers_only_when_present(client) -> None:
    from limelight.service.app import ENGINE_ROUTERS

    routers = client.app.state.routers
    for name in ENGINE_ROUTERS:
        present = (Path(__file__).parents[2] / "src/limelight/service/routes" / f"{name}.py").exists()
        assert (name in routers) == present


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("service", 403), ("analyst", 403), ("ingest", 403)])
def test_only_an_admin_may_list_every_member(client, auth, role, status) -> None:
    # A service key reads the home page of a member it is asked about; with the whole list it could
    # walk every member's page, and a page shows what its member watched.
    r = client.get("/v1/members?limit=5", headers=auth(role))
    assert r.status_code == status
    if status == 200:
        assert len(r.json()["member_ids"]) == 5


def test_the_servers_database_cannot_reach_files_or_extensions(client) -> None:
    """Defence in depth behind the placeholders: were some SQL ever injectable, it could not read or
    write a file, attach a database or install an extension, nor switch that back on."""
    import duckdb

    con = client.app.state.limelight.con.cursor()
    for sql in ("SELECT * FROM read_text('/etc/hostname')", "COPY (SELECT 1) TO '/tmp/limelight-copy.csv'",
                "ATTACH '/tmp/limelight-other.duckdb' AS other", "SET enable_external_access = true"):
        with pytest.raises(duckdb.Error):
            con.execute(sql)
    assert con.execute("SELECT count(*) FROM titles").fetchone()[0] > 0  # its own tables as before


def test_a_key_rate_below_the_clis_minimum_is_refused_by_the_api_too(client, auth) -> None:
    """The API made a key of 1e-9 requests/s (dead on arrival) where the CLI's minimum is 0.001."""
    r = client.post("/v1/keys", json={"role": "service", "rate_per_s": 1e-9}, headers=auth("admin"))
    assert r.status_code == 422 and "rate_per_s" in r.json()["error"]["message"]
