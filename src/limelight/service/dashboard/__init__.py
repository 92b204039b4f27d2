"""The dashboard: one HTML shell, local JS/CSS (no CDN), pages drawn from the API with the user's key."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["mount_dashboard"]

_HERE = Path(str(resources.files("limelight.service.dashboard")))


# The page runs only its own script: an injected <script> or onerror= would find the key in sessionStorage.
# No framing (clickjacking); the favicon is a data: URL.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def mount_dashboard(app: FastAPI) -> None:
    """Serve `/` (the single-page shell) and `/static/*` (its scripts, styles and icons)."""
    shell = (_HERE / "templates" / "index.html").read_text(encoding="utf-8")
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    async def dashboard() -> HTMLResponse:
        return HTMLResponse(shell, headers={"Cache-Control": "no-cache", **SECURITY_HEADERS})
