"""The dashboard in Debian's Chromium (headless, through Playwright): sign in, every page, click through.

Any console error or uncaught page error fails the test.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def base_url(client) -> Iterator[str]:
    import uvicorn

    from limelight.service.app import create_app

    state = client.app.state.limelight
    app = create_app(state.config.db_path, state=state)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser, base_url):
    context = browser.new_context()
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    pg.on("response", lambda r: errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    pg.errors = errors  # type: ignore[attr-defined]
    # generous: on a 2-core CI machine the previous test's training job can still hold both cores
    pg.set_default_timeout(45_000)
    yield pg
    context.close()
    assert not errors, errors


def _sign_in(page, base_url: str, key: str) -> None:
    page.goto(base_url + "/")
    page.fill("#key", key)
    page.click("#signin button")
    page.wait_for_selector("#nav a")


def test_admin_signs_in_opens_every_page_and_clicks_from_a_row_to_a_title(page, base_url, keys) -> None:
    _sign_in(page, base_url, keys["admin"])
    links = page.locator("#nav a").all_inner_texts()
    assert "Home screen" in links and "Models" in links
    assert "admin" in page.inner_text("#who")
    page.wait_for_selector(".row .card")
    rows = page.locator(".row h3").all_inner_texts()
    assert rows
    first = page.locator(".row .card").first
    name = first.locator(".name").inner_text()
    assert first.locator(".reason").inner_text().strip()
    first.click()
    page.wait_for_selector("#title-name")
    assert page.inner_text("#title-name") == name
    assert page.locator(".panel .card").count() > 0  # similar titles
    for label in ("Talent pay", "Payments recovery"):
        if label in links:
            page.click(f"#nav a:has-text('{label}')")
            # wait for this page's heading: the title page's h2 is still there until the route runs
            page.wait_for_selector(f"main h2:has-text('{label.split()[0]}')")
    page.click("#nav a:has-text('Models')")
    page.wait_for_selector("#versions")
    # keyboard and screen-reader basics: the page is marked current, and focus moves to its heading
    assert page.get_attribute("#nav a:has-text('Models')", "aria-current") == "page"
    assert page.locator("#nav a[aria-current]").count() == 1
    page.wait_for_function("document.activeElement && document.activeElement.tagName === 'H2'")
    assert page.get_attribute(".progress", "role") == "progressbar"
    page.click("#train")
    deadline = time.monotonic() + 60
    while not any(word in page.inner_text("#train-step") for word in ("done", "failed")):
        assert time.monotonic() < deadline, page.inner_text("#train-step")
        time.sleep(0.2)
    assert "done" in page.inner_text("#train-step")
    page.click("#nav a >> nth=0")  # away and back: the new version's row names what auto chose
    page.click("#nav a:has-text('Models')")
    page.wait_for_selector("#versions .chosen")
    assert "(" in page.locator("#versions .chosen").last.inner_text()
    # its leave-last-out nDCG@10 with the 95% interval over members beside it
    assert re.search(r"ndcg@10 \d\.\d{3} \(\d\.\d{3}–\d\.\d{3}\)", page.inner_text("#versions"))


def test_a_service_key_browses_no_members_home_screens(page, base_url, keys) -> None:
    """A member's rows are drawn from their viewing history (personal data): the dashboard shows them to admins
    only, as the API does the history itself. A service key still opens title pages."""
    page.goto(base_url + "/#/home?member=m010")
    page.fill("#key", keys["service"])
    page.click("#signin button")
    page.wait_for_selector("main h2:has-text('Nothing to show')")
    assert page.locator("#nav a").count() == 0 and page.locator(".row .card").count() == 0
    page.goto(base_url + "/#/title/thr00")
    page.wait_for_selector("#title-name")


def test_a_deep_link_survives_signing_in_and_signing_out_clears_the_header(page, base_url, keys) -> None:
    page.goto(base_url + "/#/models")
    page.fill("#key", keys["admin"])
    page.click("#signin button")
    page.wait_for_selector("#versions")
    assert page.url.endswith("#/models")
    page.click("#signout")
    page.wait_for_selector("#signin")
    assert page.locator("#nav a").count() == 0 and page.inner_text("#who") == ""
    assert not page.is_visible("#signout")


def test_a_page_whose_data_arrives_late_does_not_replace_the_page_the_reader_moved_to(page, base_url, keys) -> None:
    held = []
    page.route("**/v1/talent/titles/windows*", lambda route: held.append(route))
    _sign_in(page, base_url, keys["admin"])
    page.click("#nav a:has-text('Talent pay')")
    deadline = time.monotonic() + 20
    while not held:  # the talent page is waiting for its data
        assert time.monotonic() < deadline
        page.wait_for_timeout(50)
    page.click("#nav a:has-text('Models')")
    page.wait_for_selector("#versions")
    held[0].continue_()  # the talent data arrives now, after the reader moved on
    page.wait_for_timeout(500)
    assert page.inner_text("main h2") == "Models" and page.locator("#windows").count() == 0


def test_a_finished_training_job_redraws_the_models_page_once_not_in_a_loop(page, base_url, keys, client) -> None:
    """After a rollback the served version differs from the last job's for good; the page used to redraw
    itself back to back (hundreds of requests a second)."""
    job = client.app.state.limelight.training
    saved = dict(vars(job))
    job.state, job.version, job.finished_at, job.step = "done", 987_654, time.time(), "published version 987654"
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "/v1/models" in r.url else None)
    try:
        _sign_in(page, base_url, keys["admin"])
        page.click("#nav a:has-text('Models')")
        page.wait_for_selector("#versions")
        page.wait_for_timeout(2000)
    finally:
        vars(job).update(saved)
    assert len(polls) <= 6, polls  # the page, its poll, one redraw and its poll


def test_the_talent_table_says_no_when_the_release_is_not_covered_even_if_views_crossed(page, base_url, keys) -> None:
    _sign_in(page, base_url, keys["analyst"])
    verdict = "(w) => bonusVerdict(w)"
    assert page.evaluate(verdict, {"eligible": True, "release_eligible": False}).startswith("no")
    assert page.evaluate(verdict, {"eligible": True, "release_eligible": True}) == "yes"
    assert page.evaluate(verdict, {"eligible": None, "release_eligible": True}) == "—"
    # a window of unknown base is listed now: released before the bonus, it is still a known no
    assert page.evaluate(verdict, {"eligible": None, "release_eligible": False}) == "no: released before the bonus took effect"
    page.click("#nav a:has-text('Talent pay')")
    page.wait_for_selector("#windows")
    headers = page.locator("#windows th").all_inner_texts()
    assert "crossed the trigger" in headers and "bonus applies" in headers


def test_a_bad_key_stays_on_the_sign_in_page_with_the_reason(browser, base_url) -> None:
    context = browser.new_context()
    pg = context.new_page()
    pg.goto(base_url + "/")
    pg.wait_for_load_state("networkidle")  # the first routing may redraw the form: fill the one that stays
    pg.fill("#key", "ll_000000000000_wrongwrongwrongwrongwrong")
    pg.click("#signin button")
    # a selector, not wait_for_function: a string predicate that has to poll is evaluated with eval(),
    # which the page's Content-Security-Policy refuses (the test failed whenever the answer was slow)
    pg.wait_for_selector("#signin-error:not(:empty)")
    assert "not valid" in pg.inner_text("#signin-error")
    assert pg.locator("#nav a").count() == 0
    context.close()


@pytest.mark.slow
def test_every_page_on_the_demo_world_shows_its_data_without_console_errors(browser, tmp_path) -> None:
    """The demo world has payments and talent data: their pages draw charts; the banner says it is synthetic."""
    import duckdb
    import uvicorn

    from limelight.cli.app import main
    from limelight.service.app import create_app
    from limelight.service.keys import create_key

    db = tmp_path / "demo.duckdb"
    with pytest.raises(SystemExit) as done:
        main(["demo", "--db", str(db), "--events", "5000"])
    assert done.value.code in (0, None)
    con = duckdb.connect(str(db))
    try:
        admin, _ = create_key(con, "admin")
    finally:
        con.close()
    app = create_app(db, watch_registry_s=0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        context = browser.new_context()
        pg = context.new_page()
        errors: list[str] = []
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.on("response", lambda r: errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
        pg.set_default_timeout(20_000)
        base = f"http://127.0.0.1:{port}"
        _sign_in(pg, base, admin)
        assert pg.is_visible("#banner") and "Synthetic" in pg.inner_text("#banner")
        pg.wait_for_selector(".row .card")
        pg.locator(".row .card").first.click()
        pg.wait_for_selector("#title-name")
        # No engagement data in the demo world: the forecast learns from the public reports and says so.
        pg.wait_for_selector("#forecast-views", timeout=120_000)
        assert pg.inner_text("#forecast-views") not in ("", "—")
        low, high = pg.inner_text("#forecast-interval").split(" – ")
        assert low != "—" and high != "—"
        assert pg.locator("#forecast svg circle").count() == 1  # the interval chart
        assert pg.locator("#comparables tr").count() >= 2  # a header and at least one comparable
        assert "public engagement reports" in pg.inner_text("#forecast-history")
        pg.click("#nav a:has-text('Payments recovery')")
        pg.wait_for_selector("main svg path")
        assert "failed renewals" in pg.inner_text("main")
        pg.wait_for_selector("#at-risk table", timeout=60_000)
        assert pg.locator("#at-risk tr").count() >= 2 and "expected to lapse" in pg.inner_text("#at-risk")
        pg.click("#nav a:has-text('Talent pay')")
        pg.wait_for_selector("main table")
        pg.click("#nav a:has-text('Models')")
        pg.wait_for_selector("#versions")
        context.close()
        assert not errors, errors
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_api_docs_render_without_the_internet(page, base_url) -> None:
    """Swagger UI at /docs loads from the service itself: any request to another host is refused."""
    outside: list[str] = []

    def refuse_outside(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", refuse_outside)
    refused: list[str] = []  # the browser reports what the page's Content-Security-Policy blocked
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    response = page.goto(base_url + "/docs")
    page.wait_for_selector(".opblock-summary-path")  # an operation, rendered from /openapi.json
    assert page.get_by_text("/v1/members/{member_id}/home", exact=True).count() >= 1
    assert not outside, outside
    # Served like the dashboard: no framing, no scripts but its own (the inline one by hash), and a key
    # pasted into "Authorize" is not kept in localStorage after the browser closes.
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self' 'sha256-" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    page.click("button.btn.authorize")
    page.fill(".auth-container input", "ll_pasted.key")
    page.click(".auth-btn-wrapper button.authorize")
    page.wait_for_selector(".auth-btn-wrapper button:has-text('Logout')")
    assert page.evaluate("Object.keys(window.localStorage)") == []
    assert not refused, refused
