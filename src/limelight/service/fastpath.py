"""The hot read path: a member's home page and top-k served from precomputed JSON bytes in plain ASGI.

`GET /v1/members/{member_id}/home` and `GET /v1/members/{member_id}/recommendations?k=N` are the
calls a streaming front end makes on every app open. Their answers are rendered once (at model
load, see `ServiceState._precompute`, or on the first request) and kept in `ResponseCache`; going
through FastAPI's routing, dependency injection and response machinery for bytes we already hold
costs several times the work of the answer itself. `HotReads` answers those requests directly when
every check passes, and the very same checks the FastAPI route makes, in the same order:

1. the path and query are exactly what the route accepts (member id pattern, `k` an int in 1..100);
2. the rendered answer is in the cache and an engine is being served;
3. the `Authorization: Bearer` key verifies against its stored hash (`KeyRing.authenticate`,
   an in-memory lookup refreshed whenever a key is created or revoked);
4. the key's role may read members (`can_access(key, "member.read")`, the one object-level rule);
5. the key's token bucket has a token (`RateLimiter.take`), which is then spent.

When any check does not pass, nothing has been charged yet and the request goes on to the FastAPI
app, which answers it (the 401/403/404/422/429 error, a cache miss rendered by the engine) exactly
as before. Metrics are still counted: the request is labelled with the route's template, like any
other (`limelight_requests_total`, `limelight_request_duration_seconds`). Set `LIMELIGHT_FAST_PATH=0` to send every request through FastAPI (to compare).
"""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

from limelight.errors import AuthError
from limelight.service.deps import can_access
from limelight.service.state import ServiceState

__all__ = ["HotReads", "fast_path_enabled", "uvicorn_protocol"]

log = logging.getLogger(__name__)

_PREFIX = "/v1/members/"
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")  # the route's pattern, less '/' (a path segment)
_DEFAULT_K = 10
_MAX_K = 100
_JSON_HEADERS = (b"content-type", b"application/json")


def fast_path_enabled() -> bool:
    """False when the environment sets `LIMELIGHT_FAST_PATH=0` (every request goes through FastAPI)."""
    return os.environ.get("LIMELIGHT_FAST_PATH", "1").strip().lower() not in ("0", "false", "no", "off")


def _k(query: bytes) -> int | None:
    """`k` from a query string of exactly `k=N` (or nothing: the default); None for anything else."""
    if not query:
        return _DEFAULT_K
    if not query.startswith(b"k=") or len(query) > 5:
        return None
    digits = query[2:]
    if not digits.isdigit():
        return None
    k = int(digits)
    return k if 1 <= k <= _MAX_K else None


class HotReads:
    """Answer cached home and recommendations requests from bytes; `serve` returns False to pass one on.

    `LimelightAPI.__call__` asks it first, before Starlette builds a `Request` or routes anything; it
    counts the requests it answers in the same Prometheus series the metrics middleware uses.
    """

    def __init__(self, state: ServiceState) -> None:
        self.state = state
        metrics = state.metrics
        self._counted = {
            endpoint: (
                metrics.requests.labels("GET", template, "200"),
                metrics.latency.labels("GET", template),
            )
            for endpoint, template in (
                ("home", "/v1/members/{member_id}/home"),
                ("recommendations", "/v1/members/{member_id}/recommendations"),
            )
        }

    def answer(self, scope: dict[str, Any]) -> tuple[str, bytes] | None:
        """(endpoint, body) once every check passed and the token was spent; None to pass it on."""
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith(_PREFIX):
            return None
        try:
            return self._answer(scope)
        except Exception:  # never fail a request here: FastAPI answers it (and logs what is wrong)
            log.exception("fast path failed on %s; passing the request on", scope["path"])
            return None

    def count(self, endpoint: str, started: float) -> None:
        requests, latency = self._counted[endpoint]
        requests.inc()
        latency.observe(time.perf_counter() - started)

    async def serve(self, scope: dict[str, Any], send: Any) -> bool:
        """Send the answer and return True, or return False having sent and spent nothing."""
        started = time.perf_counter()
        found = self.answer(scope)
        if found is None:
            return False
        endpoint, body = found
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", str(len(body)).encode()), _JSON_HEADERS],
            }
        )
        await send({"type": "http.response.body", "body": body})
        self.count(endpoint, started)
        return True

    def _answer(self, scope: dict[str, Any]) -> tuple[str, bytes] | None:
        member, _, endpoint = scope["path"][len(_PREFIX) :].partition("/")
        query: bytes = scope.get("query_string", b"")
        if endpoint == "home":
            if query:
                return None
            kind, variant = "home", None
        elif endpoint == "recommendations":
            k = _k(query)
            if k is None:
                return None
            kind, variant = "recs", k
        else:
            return None
        if not _ID_RE.match(member):
            return None
        state = self.state
        if state.slot.engine is None:
            return None
        body = state.cache.peek(kind, member, variant)
        if body is None:
            return None
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        if header is None:
            return None
        try:
            key = state.keys.authenticate(header)
        except AuthError:
            return None
        if not can_access(key, "member.read"):
            return None
        config = state.config
        rate = key.rate_per_s or config.default_rate_per_s
        burst = max(config.default_burst * rate / config.default_rate_per_s, 1.0)
        if state.limiter.take(key.key_id, rate, burst) > 0:
            return None  # FastAPI answers the 429 (and counts it); nothing was spent here
        state.cache.hits += 1
        return endpoint, body


def uvicorn_protocol(hot: HotReads) -> type[Any]:
    """uvicorn's httptools protocol, answering `hot`'s requests as the request line and headers arrive.

    For a request `hot` answers, the status line, headers and body go out in ONE write, with no
    asyncio task, ASGI cycle or second write; any other request (or one while the client is not
    reading, on a connection that closes, or past uvicorn's concurrency limit) takes uvicorn's
    usual path into the app, which asks `hot` again and then FastAPI.
    """
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

    ok = STATUS_LINE[200]

    class HotHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[misc]
        def _start_asgi_task(self, cycle: Any, app: Any) -> None:
            started = time.perf_counter()
            found = None
            if app is self.app and cycle.keep_alive and not self.flow.write_paused:
                found = hot.answer(cycle.scope)
            if found is None:
                super()._start_asgi_task(cycle, app)
                return
            endpoint, body = found
            content = [ok]
            for name, value in self.server_state.default_headers:
                content.extend((name, b": ", value, b"\r\n"))
            content.append(b"content-length: %d\r\ncontent-type: application/json\r\n\r\n" % len(body))
            content.append(body)
            cycle.response_started = True
            cycle.response_complete = True
            self.transport.write(b"".join(content))
            hot.count(endpoint, started)
            self.on_response_complete()

    return HotHttpToolsProtocol
