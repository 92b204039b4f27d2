"""The hot read path: cached home/recommendations served as bytes, with every check FastAPI makes."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HOME = "/v1/members/m010/home"
HOME_TEMPLATE = 'limelight_requests_total{method="GET",route="/v1/members/{member_id}/home",status="200"}'


@pytest.fixture
def spy(client, monkeypatch) -> list[object]:
    """What the fast path decided for each request it was asked about (None = passed on to FastAPI)."""
    hot = client.app.hot_reads
    assert hot is not None, "the fast path is on by default"
    seen: list[object] = []
    real = hot.answer

    def answer(scope):
        found = real(scope)
        seen.append(found)
        return found

    monkeypatch.setattr(hot, "answer", answer)
    return seen


def _count(client, line: str) -> float:
    match = re.search(rf"^{re.escape(line)} (\S+)$", client.get("/metrics").text, re.M)
    return float(match.group(1)) if match else 0.0


def test_a_cached_home_is_served_by_the_fast_path_with_fastapis_exact_bytes(client, auth, spy, monkeypatch) -> None:
    first = client.get(HOME, headers=auth("service"))  # renders (or finds) the answer
    fast = client.get(HOME, headers=auth("service"))
    assert first.status_code == fast.status_code == 200
    assert spy[-1] is not None and spy[-1][0] == "home"
    assert fast.content == first.content and fast.headers["content-type"] == "application/json"
    assert int(fast.headers["content-length"]) == len(fast.content)
    monkeypatch.setattr(client.app, "hot_reads", None)
    slow = client.get(HOME, headers=auth("service"))
    assert slow.content == fast.content and slow.headers["content-type"] == fast.headers["content-type"]


def test_recommendations_fast_path_keys_on_k_and_leaves_bad_k_to_fastapi(client, auth, spy) -> None:
    for _ in range(2):
        five = client.get("/v1/members/m011/recommendations?k=5", headers=auth("service"))
    assert spy[-1] is not None and len(five.json()) == 5
    ten = client.get("/v1/members/m011/recommendations", headers=auth("service"))
    assert len(ten.json()) == 10
    for query in ("k=0", "k=abc", "k=101", "k=5&k=6"):
        r = client.get(f"/v1/members/m011/recommendations?{query}", headers=auth("service"))
        assert spy[-1] is None
        if query == "k=5&k=6":  # a repeated parameter: FastAPI reads the last one, as for any route
            assert r.status_code == 200 and len(r.json()) == 6
        else:
            assert r.status_code == 422, (query, r.status_code)


def test_cached_answers_still_need_a_valid_key_and_the_right_role(client, auth, spy) -> None:
    assert client.get(HOME, headers=auth("service")).status_code == 200
    service = auth("service")["Authorization"]
    tampered = service[:-1] + ("y" if service.endswith("x") else "x")  # a random key may end in "x" already
    for headers, status in (
        ({}, 401),
        ({"Authorization": "Bearer ll_000000000000_AAAAAAAAAAAAAAAAAAAAAAAA"}, 401),
        ({"Authorization": tampered}, 401),
        (auth("analyst"), 403),
        (auth("ingest"), 403),
        (auth("person"), 403),
    ):
        r = client.get(HOME, headers=headers)
        assert r.status_code == status and spy[-1] is None
        assert set(r.json()["error"]) == {"code", "message"}


def test_a_revoked_key_is_refused_on_the_fast_path_at_once(client, auth, spy) -> None:
    created = client.post("/v1/keys", json={"role": "service", "label": "fast"}, headers=auth("admin")).json()
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert client.get(HOME, headers=headers).status_code == 200
    assert client.get(HOME, headers=headers).status_code == 200 and spy[-1] is not None
    assert client.delete(f"/v1/keys/{created['key_id']}", headers=auth("admin")).status_code == 200
    r = client.get(HOME, headers=headers)
    assert r.status_code == 401 and "revoked" in r.json()["error"]["message"] and spy[-1] is None


def test_the_fast_path_spends_the_keys_rate_limit(client, auth, spy) -> None:
    assert client.get(HOME, headers=auth("service")).status_code == 200  # cached
    created = client.post(
        "/v1/keys", json={"role": "service", "label": "slow fast", "rate_per_s": 0.5}, headers=auth("admin")
    ).json()
    headers = {"Authorization": f"Bearer {created['key']}"}
    codes = [client.get(HOME, headers=headers).status_code for _ in range(3)]
    assert codes[0] == 200 and 429 in codes, codes
    limited = client.get(HOME, headers=headers)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1


def test_fast_path_requests_are_counted_in_the_route_metrics(client, auth, spy) -> None:
    client.get(HOME, headers=auth("service"))
    before = _count(client, HOME_TEMPLATE)
    for _ in range(3):
        client.get(HOME, headers=auth("service"))
    assert all(found is not None for found in spy[-3:])
    assert _count(client, HOME_TEMPLATE) == before + 3


def test_fold_in_drops_the_members_cached_answer(client, auth, spy) -> None:
    path = "/v1/members/m014/recommendations?k=3"
    client.get(path, headers=auth("service"))
    top = client.get(path, headers=auth("service")).json()[0]["title_id"]
    assert spy[-1] is not None
    event = {"event_id": "fast-fold", "member_id": "m014", "title_id": top,
             "started_at": "2026-11-03T10:00:00Z", "seconds_viewed": 5400}
    assert client.post("/v1/events", json={"events": [event]}, headers=auth("ingest")).json()["folded_in"] == 1
    after = client.get(path, headers=auth("service")).json()
    assert spy[-1] is None and top not in {r["title_id"] for r in after}


# -- the same path inside uvicorn's protocol (what `limelight serve` runs) -------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, dict[str, str], object]]:
    import uvicorn
    from service_world import build_world

    from limelight.service import create_app
    from limelight.service.fastpath import uvicorn_protocol

    path: Path = tmp_path_factory.mktemp("fastpath") / "spine.duckdb"
    keys = build_world(path, n_members=12)
    app = create_app(path, watch_registry_s=0, precompute=True)
    state = app.state.limelight
    assert app.hot_reads is not None
    deadline = time.monotonic() + 60
    while not state.precompute_done:
        assert time.monotonic() < deadline, "precompute did not finish"
        time.sleep(0.05)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", loop="uvloop",
                            http=uvicorn_protocol(app.hot_reads), access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield port, keys, state
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_served_by_uvicorn_keep_alive_answers_and_errors_are_unchanged(live) -> None:
    port, keys, state = live
    good = {"Authorization": f"Bearer {keys['service']}"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    bodies = []
    for _ in range(3):  # one kept-alive connection
        conn.request("GET", "/v1/members/m003/home", headers=good)
        r = conn.getresponse()
        bodies.append(r.read())
        assert r.status == 200 and r.getheader("content-type") == "application/json"
        assert int(r.getheader("content-length") or -1) == len(bodies[-1]) and r.getheader("date")
    assert bodies[0] == bodies[1] == bodies[2] == state.cache.peek("home", "m003")
    assert json.loads(bodies[0])["member_id"] == "m003"
    conn.request("GET", "/v1/members/m003/recommendations?k=10", headers={"Authorization": f"Bearer {keys['analyst']}"})
    r = conn.getresponse()
    assert r.status == 403 and json.loads(r.read())["error"]["code"] == "forbidden"
    conn.request("GET", "/v1/members/m003/recommendations?k=10", headers=good)
    r = conn.getresponse()
    assert r.status == 200 and len(json.loads(r.read())) == 10
    conn.request("GET", "/v1/members/m003/home", headers={"Authorization": "Bearer nope"})
    r = conn.getresponse()
    assert r.status == 401 and json.loads(r.read())["error"]["code"] == "unauthorized"
    conn.close()
    metrics = urllib_get(port, "/metrics")
    assert re.search(rf"^{re.escape(HOME_TEMPLATE)} ([3-9]|\d\d+)\.0$", metrics, re.M), "fast requests counted"


def test_served_by_uvicorn_pipelined_and_closing_requests_are_answered_in_order(live) -> None:
    port, keys, _ = live
    auth = f"Authorization: Bearer {keys['service']}\r\n".encode()
    one = b"GET /v1/members/m004/home HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n"
    two = b"GET /v1/members/m005/recommendations?k=10 HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n"
    last = b"GET /v1/members/m006/home HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + auth + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(one + two + last)
        data = b""
        while chunk := s.recv(65536):  # the server closes after the third answer
            data += chunk
    assert data.count(b"HTTP/1.1 200 OK\r\n") == 3
    assert data.index(b'"member_id":"m004"') < data.index(b'"member_id":"m006"')


def urllib_get(port: int, path: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def test_served_by_uvicorn_body_limits_and_overlong_keys_hold_on_the_wire(live) -> None:
    """The in-process client checks these without an HTTP parser; here uvicorn's parser reads the bytes."""
    port, keys, state = live
    limit = state.config.max_body_bytes
    headers = {"Authorization": f"Bearer {keys['ingest']}", "Content-Type": "application/json"}
    big = b'{"events": [' + b" " * (limit + 1) + b"]}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/v1/events", body=big, headers=headers)
        r = conn.getresponse()
        body = json.loads(r.read())
        assert r.status == 413 and body["error"]["message"] == (
            f"the request body must be at most {limit:,} bytes, got {len(big):,}")
    finally:
        conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:  # no Content-Length: counted as the chunks arrive
        conn.request("POST", "/v1/events", body=iter([b" " * (limit // 2 + 1)] * 3), headers=headers,
                     encode_chunked=True)
        r = conn.getresponse()
        body = json.loads(r.read())
        assert r.status == 413 and "sent in chunks" in body["error"]["message"], body
    finally:
        conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/v1/members/m003/home",
                     headers={"Authorization": "Bearer" + " " * 300 + keys["service"]})
        r = conn.getresponse()
        body = json.loads(r.read())
        assert r.status == 401 and "at most 256 characters" in body["error"]["message"]
        conn.request("POST", "/v1/events", body=b'{"events": []}', headers=headers)  # the connection still works
        r = conn.getresponse()
        r.read()
        assert r.status == 422
    finally:
        conn.close()
