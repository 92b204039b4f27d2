"""Training publishes a version; the running service swaps to it with no failed request; rollback returns."""

from __future__ import annotations

import threading
import time

from limelight.service.training import train_and_publish


def _wait_for_version(client, version: int | None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get("/health").json()["model_version"] == version:
            return
        time.sleep(0.05)
    raise AssertionError(f"the service did not swap to version {version}")


def test_new_versions_are_swapped_in_under_load_and_rollback_returns(client, auth) -> None:
    state = client.app.state.limelight
    published: list[int] = []

    def publish_twice() -> None:
        for _ in range(2):
            store = state.reader()
            try:
                published.append(train_and_publish(store, state.registry, "ease", evaluate=False).version)
            finally:
                store.close()

    worker = threading.Thread(target=publish_twice)
    worker.start()
    statuses: list[int] = []
    seen_versions: list[object] = []

    def serving() -> object:
        return state.slot.version.version if state.slot.version else None

    # Requests keep flowing until the last published version is the one serving them: the swap happens
    # under load (before, the loop could end first and the swap come after it, unseen).
    deadline = time.monotonic() + 60
    while worker.is_alive() or len(statuses) < 50 or not published or serving() != published[-1]:
        assert time.monotonic() < deadline, "the service did not swap to the new version under load"
        r = client.get("/v1/members/m007/recommendations?k=5", headers=auth("service"))
        statuses.append(r.status_code)
        if not seen_versions or seen_versions[-1] != serving():
            seen_versions.append(serving())
    worker.join()
    assert len(seen_versions) >= 2 and seen_versions[-1] == published[-1], seen_versions
    _wait_for_version(client, published[-1])
    for _ in range(50):  # keep asking while the last swap settles
        statuses.append(client.get("/v1/members/m007/home", headers=auth("service")).status_code)
    assert set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    assert len(published) == 2 and published[1] == published[0] + 1

    models = client.get("/v1/models", headers=auth("admin")).json()
    assert models["current"] == published[1] and models["serving"] == published[1]
    rolled = client.post("/v1/models/rollback", headers=auth("admin")).json()
    assert rolled["current"] == published[0] and rolled["serving"] == published[0]
    assert client.get("/v1/members/m007/recommendations", headers=auth("service")).status_code == 200
    assert "limelight_model_swaps_total" in client.get("/metrics").text


def test_training_from_the_api_reports_progress_and_serves_the_new_version(client, auth) -> None:
    before = client.get("/v1/models", headers=auth("admin")).json()
    started = client.post(
        "/v1/models/train", json={"model": "ease", "params": {"regularization": 50}}, headers=auth("admin")
    )
    assert started.status_code == 202 and started.json()["state"] == "running"
    again = client.post("/v1/models/train", json={}, headers=auth("admin"))
    assert again.status_code in (202, 409)  # 409 while the first job runs
    deadline = time.monotonic() + 60
    status = started.json()
    while status["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
        status = client.get("/v1/models/training", headers=auth("analyst")).json()
    assert status["state"] == "done", status
    # ISO 8601 like every other time in the API (epoch seconds before)
    assert status["started_at"] <= status["finished_at"] and status["finished_at"][:2] == "20", status
    after = client.get("/v1/models", headers=auth("admin")).json()
    assert status["version"] > max(v["version"] for v in before["versions"])
    newest = next(v for v in after["versions"] if v["version"] == status["version"])
    assert newest["metrics"]["leave-last-out"]["recall@10"] > 0
    assert newest["params"]["regularization"] == 50  # the request's parameters reached the model
    _wait_for_version(client, after["current"])


def test_training_an_unknown_model_parameter_or_value_is_refused_with_a_sentence_before_it_starts(client, auth) -> None:
    before = client.get("/v1/models/training", headers=auth("admin")).json()
    for body, says in (
        ({"model": "nosuchmodel"}, "nosuchmodel"),
        ({"model": "ease", "params": {"lambda": 1}}, "lambda"),
        ({"model": "ease", "params": {"regularization": "abc"}}, "'regularization' parameter of EASE"),
        ({"model": "auto", "params": {"max_seconds": -1}}, "'max_seconds' parameter of Auto"),
    ):
        refused = client.post("/v1/models/train", json=body, headers=auth("admin"))
        assert refused.status_code in (400, 422) and says in refused.text, refused.text
    assert client.get("/v1/models/training", headers=auth("admin")).json()["started_at"] == before["started_at"]



def test_a_batch_committed_before_a_swaps_snapshot_is_not_folded_in_twice(client, auth) -> None:
    """A batch committed just before the new engine read the store, but folded in just after, was both in
    that engine's snapshot and replayed into it: its seconds counted twice, and a film watched to 55%
    looked finished (service audit). Now each engine knows the last commit its snapshot holds."""
    from limelight.service.events import EventIn, store_events

    state = client.app.state.limelight
    recs = client.get("/v1/members/m013/recommendations?k=5", headers=auth("service")).json()
    film = recs[0]["title_id"]  # unseen by m013; films here run 100 minutes
    event = EventIn(event_id="swap-race-1", member_id="m013", title_id=film, started_at="2026-11-04T10:00:00Z",
                    seconds_viewed=55 * 60)
    ticket = state.committing()
    fresh, _ = store_events(state.con, [event], ticket)  # committed; its fold-in is late
    assert ticket.seq is not None
    state._swap_to(state.slot.version)  # the new engine's snapshot holds the batch
    assert state.slot.snapshot_seq >= ticket.seq
    state.observe(fresh, ticket.seq)  # the late fold-in: already in the engine, not added again
    why = client.get(f"/v1/members/m013/explanations/{film}", headers=auth("service")).json()
    assert why["progress"] is not None and "Resume" in why["progress"], why  # 55%, not 110%


def test_a_page_rendered_while_its_member_is_folded_in_is_not_kept(client, auth) -> None:
    """Pages rendered from the member's old view during a fold-in were cached after the fold had dropped
    the cache, and served until the member's next event (the title just finished still on them)."""
    import pandas as pd

    state = client.app.state.limelight
    engine = state.slot.engine
    film = client.get("/v1/members/m015/recommendations?k=3", headers=auth("service")).json()[0]["title_id"]
    real_observe = engine.observe
    rendered: list[bytes] = []

    def observe_with_a_read_meanwhile(frame):  # a request for the member lands during the fold-in
        rendered.append(state.cache.fetch("recs", "m015", 3, lambda: b"the page from before the fold"))
        return real_observe(frame)

    engine.observe = observe_with_a_read_meanwhile
    try:
        frame = pd.DataFrame({"event_id": ["fold-race-1"], "member_id": ["m015"], "title_id": [film],
                              "started_at": [pd.Timestamp("2026-11-04T11:00:00")], "seconds_viewed": [100 * 60],
                              "device": [None], "country": [None]})
        state.observe(frame, state.commit_seq + 1)
    finally:
        del engine.observe
    assert rendered == [b"the page from before the fold"]
    assert state.cache.peek("recs", "m015", 3) is None  # not kept: the next request renders afresh
    after = client.get("/v1/members/m015/recommendations?k=3", headers=auth("service")).json()
    assert film not in {r["title_id"] for r in after}
