"""The FastAPI app: wires settings, state, error handlers, metrics and routers — nothing else.

Engine routers written by other areas (`limelight.service.routes.forecasts`, `.talent`,
`.payments`) are included when their module exists, so the service runs with whatever engines
have landed.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from limelight.service.bodylimit import BodyLimit
from limelight.service.config import ServiceConfig
from limelight.service.errors import install_error_handlers
from limelight.service.fastpath import HotReads, fast_path_enabled
from limelight.service.metrics import MetricsMiddleware
from limelight.service.state import ServiceState

__all__ = ["ENGINE_ROUTERS", "LimelightAPI", "create_app", "included_routers"]

log = logging.getLogger(__name__)

# Our own routers, always present, then the engines' routers, each included when its module exists.
CORE_ROUTERS: tuple[str, ...] = ("meta", "members", "titles", "events", "admin")
ENGINE_ROUTERS: tuple[str, ...] = ("forecasts", "talent", "payments")

API_DESCRIPTION = """
limelight's REST API: personalization (home rows, recommendations, similar titles), viewing events,
content valuation, talent pay and payment recovery — on one data spine.

Every `/v1` call needs `Authorization: Bearer <key>` (create one with `limelight keys create --role ROLE`).
Every error is `{"error": {"code": "<stable code>", "message": "<one sentence>"}}`.
"""


class LimelightAPI(FastAPI):
    """FastAPI, with the hot read path (`HotReads`) asked first: cached home/recommendations answers
    go out as bytes once the key, role and rate limit pass; every other request is FastAPI's."""

    hot_reads: HotReads | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        hot = self.hot_reads
        if hot is not None and await hot.serve(scope, send):
            return
        await super().__call__(scope, receive, send)


def included_routers(app: FastAPI) -> list[str]:
    return list(app.state.routers)


def create_app(
    db_path: str | Path,
    *,
    config: ServiceConfig | None = None,
    state: ServiceState | None = None,
    **overrides: Any,
) -> LimelightAPI:
    """Build the service for one spine file. Opens the file for writing (one process per file).

    `overrides` are `ServiceConfig` fields (e.g. `max_events_per_batch=100`, `load_engine=False`).
    `state` shares another app's running state (tests): this app then neither starts nor closes it.
    """
    owned = state is None
    if state is None:
        if config is None:
            config = ServiceConfig(db_path=Path(db_path), **overrides)
        state = ServiceState(config)
        state.start_engine()
    live = state

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import asyncio

        if not owned:
            yield
            return
        live.loop = asyncio.get_running_loop()
        try:
            yield
        finally:
            live.loop = None
            live.close()

    app = LimelightAPI(
        title="limelight",
        version=_version(),
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served below from local files: the CDN copy leaves the page blank offline
        redoc_url=None,
        openapi_url="/openapi.json",
        # No persistAuthorization: Swagger would keep a pasted key in localStorage, on disk and for the
        # dashboard's origin, past the browser session (the dashboard keeps its key in sessionStorage).
    )
    app.state.limelight = state
    app.state.routers = []
    install_error_handlers(app)
    for name in CORE_ROUTERS + ENGINE_ROUTERS:
        module_name = f"limelight.service.routes.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                log.info("router %s not present; skipped", name)
                continue
            raise
        app.include_router(module.router)
        app.state.routers.append(name)
    state.routers = list(app.state.routers)
    from limelight.service.dashboard import mount_dashboard

    mount_dashboard(app)
    _mount_api_docs(app)
    app.hot_reads = HotReads(state) if fast_path_enabled() else None
    app.add_middleware(BodyLimit, max_bytes=state.config.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)
    return app


def _mount_api_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the copy `fastapi_offline` ships, so the page works without internet."""
    import fastapi_offline
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    assets = "/docs/assets"
    app.mount(assets, StaticFiles(directory=Path(fastapi_offline.__file__).parent / "static"), name="docs-assets")

    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="limelight API",
        swagger_js_url=f"{assets}/swagger-ui-bundle.js",
        swagger_css_url=f"{assets}/swagger-ui.css",
        swagger_favicon_url=f"{assets}/favicon.png",
        swagger_ui_parameters=app.swagger_ui_parameters,
    )
    headers = {"Cache-Control": "no-cache", **docs_security_headers(bytes(page.body).decode("utf-8"))}

    @app.get("/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return HTMLResponse(page.body, headers=headers)


def docs_security_headers(html: str) -> dict[str, str]:
    """The dashboard's headers for the Swagger page: its one inline script allowed by hash, nothing else.

    Swagger UI sets inline styles, so styles may be inline; scripts, frames and objects may not.
    """
    import base64
    import hashlib
    import re

    from limelight.service.dashboard import SECURITY_HEADERS

    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii") + "'"
        for body in re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    )
    policy = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    return {**SECURITY_HEADERS, "Content-Security-Policy": policy}


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("limelight")
    except Exception:  # pragma: no cover
        return "0"
