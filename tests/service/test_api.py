"""The REST API: keys and roles, object-level access, errors as JSON, limits, idempotent events, metrics."""

from __future__ import annotations

import pytest

EVENT = {
    "event_id": "api-1",
    "member_id": "m002",
    "title_id": "dra07",
    "started_at": "2026-11-02T10:00:00+01:00",
    "seconds_viewed": 5400,
}


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return body["error"]


def test_health_needs_no_key_and_reports_a_ready_engine(client) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["engine"] == "ready"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"},
     {"Authorization": "Bearer ll_000000000000_AAAAAAAAAAAAAAAAAAAAAAAA"}],
)
def test_v1_without_a_valid_key_is_401_with_a_json_error(client, headers) -> None:
    response = client.get("/v1/members/m001/home", headers=headers)
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"


def test_home_rows_each_item_has_a_reason(client, auth) -> None:
    page = client.get("/v1/members/m001/home", headers=auth("service")).json()
    assert page["member_id"] == "m001" and page["rows"]
    items = [item for row in page["rows"] for item in row["items"]]
    assert items and all(item["reason"] for item in items)


def test_recommendations_respect_k_and_exclude_what_the_member_watched(client, auth) -> None:
    recs = client.get("/v1/members/m004/recommendations?k=4", headers=auth("service")).json()
    assert len(recs) == 4
    history = client.get("/v1/members/m004/history", headers=auth("admin")).json()
    watched = {e["title_id"] for e in history["events"]}
    assert watched and not watched & {r["title_id"] for r in recs}


def test_unknown_member_is_404_and_unknown_title_is_404(client, auth) -> None:
    r = client.get("/v1/members/nobody/recommendations", headers=auth("service"))
    assert r.status_code == 404 and _error(r)["code"] == "not_found"
    r = client.get("/v1/titles/no-such-title/similar", headers=auth("service"))
    assert r.status_code == 404 and "no-such-title" in _error(r)["message"]


@pytest.mark.parametrize("query", ["k=0", "k=101", "k=abc", "k=1.5"])
def test_bad_page_size_is_422_naming_the_parameter(client, auth, query) -> None:
    r = client.get(f"/v1/members/m001/recommendations?{query}", headers=auth("service"))
    assert r.status_code == 422
    error = _error(r)
    assert error["code"] == "invalid_input" and "k" in error["message"]


def test_title_card_and_similar_titles(client, auth) -> None:
    card = client.get("/v1/titles/thr01", headers=auth("analyst")).json()
    assert card["name"] == "Thriller Film 1" and card["credits"]
    similar = client.get("/v1/titles/thr01/similar?k=3", headers=auth("service")).json()
    assert len(similar) == 3 and "thr01" not in {s["title_id"] for s in similar}

    # "More like this" on a profile: what it may play; reading a member's view needs a member-reading role
    mine = client.get("/v1/titles/thr01/similar?k=3&member_id=m001", headers=auth("service"))
    assert mine.status_code == 200 and len(mine.json()) <= 3
    assert client.get("/v1/titles/thr01/similar?member_id=m001", headers=auth("analyst")).status_code == 403
    assert client.get("/v1/titles/thr01/similar", headers=auth("analyst")).status_code == 200
    assert client.get("/v1/titles/thr01/similar?member_id=nobody", headers=auth("service")).status_code == 404


def test_an_explanation_is_of_the_member_and_title_asked_about(client, auth) -> None:
    """No test requested this route: swapping its member and title went unnoticed."""
    recs = client.get("/v1/members/m004/recommendations?k=3", headers=auth("service")).json()
    title = recs[0]["title_id"]
    r = client.get(f"/v1/members/m004/explanations/{title}", headers=auth("service"))
    assert r.status_code == 200
    why = r.json()
    assert (why["member_id"], why["title_id"]) == ("m004", title) and why["sentence"]
    # the titles that earned it are the member's own history, as in the list's reason
    history = {e["title_id"] for e in client.get("/v1/members/m004/history", headers=auth("admin")).json()["events"]}
    assert {t["title_id"] for t in why["because_titles"]} <= history | {b for b in recs[0]["because"]}
    assert client.get(f"/v1/members/m004/explanations/{title}", headers=auth("analyst")).status_code == 403
    missing = client.get("/v1/members/m004/explanations/no-such-title", headers=auth("service"))
    assert missing.status_code == 404 and _error(missing)["code"] == "not_found"
    assert client.get(f"/v1/members/nobody/explanations/{title}", headers=auth("service")).status_code == 404


@pytest.mark.parametrize(
    ("role", "path", "allowed"),
    [
        ("analyst", "/v1/members/m001/home", False),
        ("ingest", "/v1/members/m001/recommendations", False),
        ("person", "/v1/titles/thr01", False),
        ("service", "/v1/members/m001/history", False),
        ("analyst", "/v1/members/m001/history", False),
        ("admin", "/v1/members/m001/history", True),
        ("service", "/v1/keys", False),
        ("admin", "/v1/keys", True),
        ("service", "/v1/models", False),
        ("analyst", "/v1/models", True),
    ],
)
def test_roles_decide_what_a_key_sees(client, auth, role, path, allowed) -> None:
    r = client.get(path, headers=auth(role))
    if allowed:
        assert r.status_code == 200
    else:
        assert r.status_code == 403 and _error(r)["code"] == "forbidden"


def test_me_lists_what_the_key_may_do(client, auth) -> None:
    me = client.get("/v1/me", headers=auth("person")).json()
    assert me["role"] == "person" and me["person_id"] == "p1"
    assert "member.read" not in me["allowed"] and "person.statement" in me["allowed"]


def test_rate_limit_answers_429_with_retry_after(client, auth) -> None:
    codes = [client.get("/v1/titles/thr02", headers=auth("slow")) for _ in range(3)]
    assert codes[0].status_code == 200
    limited = [r for r in codes if r.status_code == 429]
    assert limited, [r.status_code for r in codes]
    assert int(limited[0].headers["Retry-After"]) >= 1 and _error(limited[0])["code"] == "rate_limited"


def test_events_are_idempotent_by_event_id(client, auth) -> None:
    batch = {"events": [EVENT, {**EVENT, "event_id": "api-2", "title_id": "dra08"}]}
    first = client.post("/v1/events", json=batch, headers=auth("ingest"))
    assert first.status_code == 200 and first.json()["stored"] == 2
    again = client.post("/v1/events", json=batch, headers=auth("ingest"))
    assert again.json() == {"received": 2, "stored": 0, "duplicates": 2, "folded_in": 0}
    history = client.get("/v1/members/m002/history?limit=500", headers=auth("admin")).json()
    ids = [e["event_id"] for e in history["events"]]
    assert ids.count("api-1") == 1 and ids.count("api-2") == 1
    stored = next(e for e in history["events"] if e["event_id"] == "api-1")
    assert stored["started_at"].startswith("2026-11-02T09:00:00")  # +01:00 stored as UTC


def test_repeated_event_id_in_one_batch_is_stored_once(client, auth) -> None:
    batch = {"events": [{**EVENT, "event_id": "api-dup"}, {**EVENT, "event_id": "api-dup"}]}
    body = client.post("/v1/events", json=batch, headers=auth("ingest")).json()
    assert body["stored"] == 1 and body["duplicates"] == 1


def test_an_event_id_reused_for_another_event_is_409_and_stores_nothing(client, auth) -> None:
    first = {**EVENT, "event_id": "api-reuse"}
    assert client.post("/v1/events", json={"events": [first]}, headers=auth("ingest")).json()["stored"] == 1
    other = {**first, "seconds_viewed": 60}
    fresh = {**EVENT, "event_id": "api-reuse-fresh"}
    r = client.post("/v1/events", json={"events": [fresh, other]}, headers=auth("ingest"))
    assert r.status_code == 409 and _error(r)["code"] == "conflict"
    assert _error(r)["message"].startswith("events[1].event_id 'api-reuse' was stored already with other values")
    twice = {**fresh, "event_id": "api-twice"}
    r = client.post("/v1/events", json={"events": [twice, twice, {**other, "event_id": "api-twice"}]},
                    headers=auth("ingest"))
    assert r.status_code == 409  # an exact repeat is a resend; the third row is another event under the id
    assert _error(r)["message"].startswith("events[2].event_id 'api-twice' was used earlier in this batch with other values")
    history = client.get("/v1/members/m002/history?limit=500", headers=auth("admin")).json()
    ids = [e["event_id"] for e in history["events"]]
    assert "api-reuse-fresh" not in ids and "api-twice" not in ids  # the whole batch was refused
    assert next(e for e in history["events"] if e["event_id"] == "api-reuse")["seconds_viewed"] == 5400


def test_events_fold_in_changes_the_members_recommendations(client, auth) -> None:
    before = client.get("/v1/members/m005/recommendations?k=3", headers=auth("service")).json()
    top = before[0]["title_id"]
    event = {**EVENT, "event_id": "api-fold", "member_id": "m005", "title_id": top}
    body = client.post("/v1/events", json={"events": [event]}, headers=auth("ingest")).json()
    assert body["folded_in"] == 1
    after = client.get("/v1/members/m005/recommendations?k=3", headers=auth("service")).json()
    assert top not in {r["title_id"] for r in after}


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"title_id": "nope"}, 422, "invalid_data"),
        ({"seconds_viewed": -1}, 422, "invalid_input"),
        ({"started_at": "yesterday"}, 422, "invalid_input"),
        ({"role": "admin"}, 422, "invalid_input"),  # no mass assignment: unknown fields are refused
    ],
)
def test_bad_events_are_refused_whole_with_422(client, auth, change, status, code) -> None:
    good = {**EVENT, "event_id": f"api-bad-{status}-{code}-{len(change)}"}
    r = client.post("/v1/events", json={"events": [good, {**EVENT, "event_id": "api-bad2", **change}]},
                    headers=auth("ingest"))
    assert r.status_code == status and _error(r)["code"] == code
    history = client.get("/v1/members/m002/history?limit=500", headers=auth("admin")).json()
    assert good["event_id"] not in {e["event_id"] for e in history["events"]}


def test_batch_over_the_limit_is_413_and_malformed_json_is_422(client, auth) -> None:
    events = [{**EVENT, "event_id": f"big-{i}"} for i in range(51)]
    r = client.post("/v1/events", json={"events": events}, headers=auth("ingest"))
    assert r.status_code == 413 and _error(r)["code"] == "payload_too_large"
    r = client.post("/v1/events", content=b"{oops", headers={**auth("ingest"), "content-type": "application/json"})
    assert r.status_code == 422 and "JSON" in _error(r)["message"]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "says"),
    [
        (b"", "application/json", 422, "the request body is required"),
        (b"null", "application/json", 422, "the request body must be a JSON object, got null"),
        (b"[]", "application/json", 422, "the request body must be a JSON object, got list"),
        (b'{"events": []}', "text/plain", 422, "content-type: application/json"),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400, "could not be read as JSON"),
    ],
)
def test_bodies_that_are_not_an_event_batch_get_a_sentence_about_the_body(
    client, auth, content, content_type, status, says
) -> None:
    r = client.post("/v1/events", content=content, headers={**auth("ingest"), "content-type": content_type})
    assert r.status_code == status and says in _error(r)["message"], r.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"seconds_viewed": "10"}, "seconds_viewed"),  # strings and booleans are client bugs, not numbers
        ({"seconds_viewed": True}, "seconds_viewed"),
        ({"started_at": "2199-01-01T00:00:00Z"}, "started_at"),  # the future would skew every window
    ],
)
def test_events_with_lax_types_or_from_the_future_are_refused(client, auth, change, field) -> None:
    event = {**EVENT, "event_id": f"api-lax-{field}-{len(str(change))}", **change}
    r = client.post("/v1/events", json={"events": [event]}, headers=auth("ingest"))
    assert r.status_code == 422 and _error(r)["message"].startswith(f"events.0.{field}"), r.text
    assert "value error" not in _error(r)["message"].lower()


def test_service_key_may_not_post_events(client, auth) -> None:
    r = client.post("/v1/events", json={"events": [EVENT]}, headers=auth("service"))
    assert r.status_code == 403


def test_keys_api_creates_a_working_key_and_revocation_takes_effect(client, auth) -> None:
    created = client.post("/v1/keys", json={"role": "service", "label": "temp"}, headers=auth("admin"))
    assert created.status_code == 201
    key, key_id = created.json()["key"], created.json()["key_id"]
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/titles/thr01", headers=headers).status_code == 200
    listed = client.get("/v1/keys", headers=auth("admin")).json()
    assert key_id in {k["key_id"] for k in listed} and all("key" not in k for k in listed)
    assert client.delete(f"/v1/keys/{key_id}", headers=auth("admin")).status_code == 200
    r = client.get("/v1/titles/thr01", headers=headers)
    assert r.status_code == 401 and "revoked" in _error(r)["message"]
    assert client.delete("/v1/keys/0123456789ab", headers=auth("admin")).status_code == 404
    long_id = "x" * 5000  # a key id is 12 hex digits: anything else is refused without echoing it back
    r = client.delete(f"/v1/keys/{long_id}", headers=auth("admin"))
    assert r.status_code == 422 and len(r.text) < 500


def test_keys_api_refuses_mass_assignment(client, auth) -> None:
    r = client.post("/v1/keys", json={"role": "service", "key_hash": "x"}, headers=auth("admin"))
    assert r.status_code == 422


def test_unknown_route_and_method_are_json_errors(client) -> None:
    assert _error(client.get("/v2/whatever"))["code"] == "not_found"
    r = client.delete("/health")
    assert r.status_code == 405 and _error(r)["code"] == "method_not_allowed"


def test_metrics_count_requests_per_route_and_events(client, auth) -> None:
    client.get("/v1/titles/thr03", headers=auth("service"))
    text = client.get("/metrics").text
    assert 'route="/v1/titles/{title_id}"' in text
    assert "limelight_request_duration_seconds_bucket" in text
    assert "limelight_events_ingested_total" in text and "limelight_model_version" in text


def test_openapi_documents_every_route(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/members/{member_id}/home", "/v1/events", "/v1/titles/{title_id}/similar", "/health"):
        assert path in paths
    assert client.get("/docs").status_code == 200


def test_the_dashboard_shell_runs_only_its_own_scripts_and_cannot_be_framed(client) -> None:
    policy = client.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy


def test_health_and_me_say_when_the_data_is_the_synthetic_demo_world(tmp_path) -> None:
    from fastapi.testclient import TestClient
    from service_world import build_world

    from limelight.service import create_app

    keys = build_world(tmp_path / "demo.duckdb", n_members=6, source="demo")
    with TestClient(create_app(tmp_path / "demo.duckdb", load_engine=False, watch_registry_s=0)) as c:
        assert c.get("/health").json()["synthetic"] is True
        me = c.get("/v1/me", headers={"Authorization": f"Bearer {keys['analyst']}"}).json()
        assert me["synthetic"] is True and me["data"]["members"] == 6
        # No engagement of its own: forecasts learn from the public reports in the shared data.
        assert me["forecast_history"] == ("public" if "forecasts" in me["routers"] else None)
        # No engine loaded: member endpoints say so with 503, not a 500.
        r = c.get("/v1/members/m001/home", headers={"Authorization": f"Bearer {keys['service']}"})
        assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"


def test_health_is_not_synthetic_for_other_sources(client) -> None:
    assert client.get("/health").json()["synthetic"] is False


def test_forecasts_on_a_real_spine_without_engagement_are_404_and_me_says_none(client, auth) -> None:
    if "forecasts" not in client.app.state.routers:
        pytest.skip("the forecasts router is not present")
    assert client.get("/v1/me", headers=auth("analyst")).json()["forecast_history"] is None
    body = {"title": "Thriller Film 1", "kind": "film", "release_date": "2026-01-01"}
    r = client.post("/v1/forecasts", json=body, headers=auth("analyst"))
    assert r.status_code == 404 and "no engagement reports" in _error(r)["message"]


@pytest.mark.parametrize(
    ("method", "path", "body", "role", "says"),
    [
        ("GET", "/v1/members/-m1/recommendations", None, "admin",
         "path.member_id must be an id of 1 to 128 letters, digits or _ . : @ - starting with a letter or digit, got '-m1'"),
        ("POST", "/v1/events", {"events": [{**EVENT, "event_id": "api-country", "country": "us"}]}, "ingest",
         "events.0.country must be a two-letter country code in capitals, such as US, got 'us'"),
        ("GET", "/v1/payments/at-risk?month=2026-13", None, "analyst",
         "query.month must be a month written YYYY-MM, from 1900-01 to 2999-12, got '2026-13'"),
    ],
)
def test_a_value_off_its_pattern_is_described_in_words_not_as_a_regex(client, auth, method, path, body, role, says) -> None:
    r = client.request(method, path, json=body, headers=auth(role))
    assert r.status_code == 422 and _error(r)["message"] == says, r.text


def test_a_body_over_the_limit_is_refused_before_it_is_parsed(client, auth) -> None:
    limit = client.app.state.limelight.config.max_body_bytes
    big = b'{"events": [' + b" " * (limit + 1) + b"]}"
    r = client.post("/v1/events", content=big, headers={**auth("ingest"), "content-type": "application/json"})
    assert r.status_code == 413 and _error(r)["code"] == "payload_too_large"
    assert _error(r)["message"] == f"the request body must be at most {limit:,} bytes, got {len(big):,}"

    def chunks():  # no Content-Length: the body is counted as it arrives
        for _ in range(3):
            yield b" " * (limit // 2 + 1)

    r = client.post("/v1/events", content=chunks(), headers={**auth("ingest"), "content-type": "application/json"})
    assert r.status_code == 413 and "sent in chunks" in _error(r)["message"], r.text
    # a body under the limit still arrives whole, in chunks or not
    r = client.post("/v1/events", content=iter([b'{"events": [', b"]}"]),
                    headers={**auth("ingest"), "content-type": "application/json"})
    assert r.status_code == 422 and "events" in _error(r)["message"]


def test_padded_authorization_headers_neither_grow_the_key_cache_nor_pass_when_overlong(client, auth, keys) -> None:
    ring = client.app.state.limelight.keys
    client.get("/v1/members/m001/recommendations", headers=auth("service"))
    before = len(ring._verified)
    for pad in range(1, 30):
        r = client.get("/v1/members/m001/recommendations",
                       headers={"Authorization": "Bearer" + " " * pad + keys["service"]})
        assert r.status_code == 200
    assert len(ring._verified) == before
    r = client.get("/v1/members/m001/recommendations", headers={"Authorization": "Bearer" + " " * 300 + keys["service"]})
    assert r.status_code == 401 and "at most 256 characters" in _error(r)["message"]


@pytest.mark.parametrize("started_at", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+01:00"])
def test_a_start_time_past_the_calendar_once_in_utc_is_422_not_500(client, auth, started_at) -> None:
    event = {**EVENT, "event_id": "api-overflow", "started_at": started_at}
    r = client.post("/v1/events", json={"events": [event]}, headers=auth("ingest"))
    assert r.status_code == 422 and _error(r)["message"].startswith("events.0.started_at must be between"), r.text


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("ingest", "/v1/talent/packs", 200),  # public, cited rules: any key
        ("ingest", "/v1/talent/health?earnings=1000&year=2025", 200),
        ("service", "/v1/talent/bonus?guild=wga&domestic_hours=1e6&runtime_minutes=60&domestic_subscribers=1000000", 403),
        ("person", "/v1/talent/bonus?guild=wga&domestic_hours=1e6&runtime_minutes=60&domestic_subscribers=1000000", 200),
    ],
)
def test_every_route_takes_its_roles_from_the_one_access_table(client, auth, role, path, status) -> None:
    assert client.get(path, headers=auth(role)).status_code == status
    actions = client.get("/v1/me", headers=auth(role)).json()["allowed"]
    assert "talent.rules" in actions
    assert ("payments.decide" in actions) == (role == "service")


def test_a_member_who_just_signed_up_gets_a_page_and_can_send_events_at_once(client, auth) -> None:
    """Sign-up needed downtime: events for an unknown member are refused, and the store is the server's."""
    body = {"member_id": "signup-1", "country": "br", "plan": "standard", "maturity_limit": "TV-14"}
    counted = client.get("/v1/me", headers=auth("admin")).json()["data"]
    r = client.post("/v1/members", json=body, headers=auth("ingest"))
    assert r.status_code == 201 and r.json() == {"member_id": "signup-1", "created": True}
    page = client.get("/v1/members/signup-1/home", headers=auth("service"))
    assert page.status_code == 200 and page.json()["rows"]
    engine = client.app.state.limelight.slot.engine
    assert engine.members.country["signup-1"] == "BR"  # what is popular where they live
    again = client.post("/v1/members", json=body, headers=auth("ingest"))
    assert again.status_code == 200 and again.json()["created"] is False
    limit = engine.members.maturity_limit["signup-1"]
    bare = client.post("/v1/members", json={"member_id": "signup-1"}, headers=auth("ingest"))
    # a repeat gives every field: a bare one is another member (and once left the live profile with no
    # maturity limit and no country — a kids' profile then showed R and TV-MA titles)
    assert bare.status_code == 409
    assert engine.members.maturity_limit["signup-1"] == limit and engine.members.country["signup-1"] == "BR"
    clash = client.post("/v1/members", json={**body, "country": "US"}, headers=auth("admin"))
    # the conflict names no stored value: an ingest key may not read members (it could, field by field)
    assert clash.status_code == 409 and "already stored with other values" in _error(clash)["message"]
    for field, guess in (("country", "US"), ("country", "BR"), ("plan", "standard"), ("maturity_limit", "TV-14")):
        probe = client.post("/v1/members", json={"member_id": "signup-1", field: guess}, headers=auth("ingest"))
        assert probe.status_code == 409 and guess not in _error(probe)["message"], (field, guess)
    assert client.post("/v1/members", json=body, headers=auth("service")).status_code == 403
    bad = client.post("/v1/members", json={"member_id": "signup-2", "maturity_limit": "XXX"}, headers=auth("ingest"))
    assert bad.status_code == 422 and "maturity_limit" in _error(bad)["message"]
    film = page.json()["rows"][0]["items"][0]["title_id"]
    event = {"event_id": "signup-1-e1", "member_id": "signup-1", "title_id": film,
             "started_at": "2026-11-04T10:00:00Z", "seconds_viewed": 600}
    posted = client.post("/v1/events", json={"events": [event]}, headers=auth("ingest"))
    assert posted.status_code == 200 and posted.json()["stored"] == 1, posted.text
    # /v1/me counted the store once at start-up: what the dashboard reads must follow the writes
    now = client.get("/v1/me", headers=auth("admin")).json()["data"]
    assert now["members"] == counted["members"] + 1 and now["viewing_events"] == counted["viewing_events"] + 1
    # other roles learn only whether a table has rows, not the size of the member base as it grows
    assert client.get("/v1/me", headers=auth("ingest")).json()["data"]["members"] == 1


def test_ids_that_name_a_path_segment_hold_no_slash_and_errors_read_as_one_sentence(client, auth) -> None:
    """A member created as "x/y" (201) could never be read back: /v1/members/x%2Fy/home was a 404 "no route",
    and so was the admin dashboard's Home, which opens the first member."""
    slash = client.post("/v1/members", json={"member_id": "0/new", "country": "us"}, headers=auth("ingest"))
    assert slash.status_code == 422 and "letters, digits or _ . : @ -" in _error(slash)["message"]
    # an event id is never in a path: it may hold a slash
    page = client.get("/v1/members/m001/home", headers=auth("service")).json()
    film = page["rows"][0]["items"][0]["title_id"]
    event = {"event_id": "batch/7/1", "member_id": "m001", "title_id": film,
             "started_at": "2026-11-04T10:00:00Z", "seconds_viewed": 60}
    assert client.post("/v1/events", json={"events": [event]}, headers=auth("ingest")).status_code == 200
    guild = client.get("/v1/talent/bonus?guild=xx&domestic_hours=1&runtime_minutes=60&domestic_subscribers=10",
                       headers=auth("analyst"))
    assert guild.status_code == 422 and _error(guild)["message"].startswith("query.guild must be sag-aftra, wga or dga")
    limit = client.post("/v1/members", json={"member_id": "kid-2", "maturity_limit": "XX"}, headers=auth("ingest"))
    message = _error(limit)["message"]
    assert message.startswith("maturity_limit must be one of ") and message.count("got") == 1, message
    assert "value error" not in message.lower()
