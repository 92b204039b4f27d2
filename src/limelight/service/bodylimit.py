"""Refuse a request body over the service's limit before anything parses it.

FastAPI reads and validates a whole JSON body before a route can look at its size: a 40 MB batch of
events was parsed on the event loop for seconds (every other request waiting behind it) before the
route's count check answered 413. This middleware answers 413 from the `Content-Length` header alone
when it is over the limit, and otherwise reads the body itself, counting, so a chunked body without a
length stops at the limit too; the body it read is handed on unchanged.
"""

from __future__ import annotations

from typing import Any

from limelight.service.errors import error_response

__all__ = ["BodyLimit"]

_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyLimit:
    """Pure ASGI: 413 for a request whose body is over `max_bytes`."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _refuse(self, got: str) -> Any:
        return error_response(
            413, "payload_too_large", f"the request body must be at most {self.max_bytes:,} bytes, got {got}"
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope.get("headers", ()) if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(f"{int(declared):,}")(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                replay = [message]
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(f"more than that (a body sent in chunks, {size:,} bytes so far)")(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                replay = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]
                break

        async def replayed() -> dict[str, Any]:
            return replay.pop(0) if replay else await receive()

        await self.app(scope, replayed, send)
