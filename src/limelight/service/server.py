"""Serve the app with uvicorn (used by `limelight serve` and `limelight.service.run`)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from limelight.errors import ConfigError, InputError

__all__ = ["run"]

log = logging.getLogger(__name__)


def run(
    db_path: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    log_level: str = "warning",
    **overrides: Any,
) -> None:
    """Serve the spine at `db_path` until interrupted.

    DuckDB lets one process write a file, and the service writes (events, keys), so one process
    serves each file: `workers` must be 1. (Within that process, requests are concurrent: the
    event loop serves reads from memory and writes commit on a worker thread.)
    """
    import uvicorn

    from limelight.service.app import create_app

    if not 1 <= port <= 65535:
        raise InputError(f"port must be an int in [1, 65535], got {port}")
    if workers != 1:
        raise ConfigError(
            f"workers must be 1, got {workers}: DuckDB allows one writing process per file and the service "
            "writes events and keys; run one server per spine file (and several behind a balancer on copies "
            "for read-only scale-out)"
        )
    from limelight.service.fastpath import uvicorn_protocol

    app = create_app(db_path, **overrides)
    log.info("serving %s on http://%s:%d", db_path, host, port)
    # The hot reads (cached home/recommendations) are answered in uvicorn's protocol, one write each.
    http: Any = uvicorn_protocol(app.hot_reads) if app.hot_reads is not None else "httptools"
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        loop="uvloop",
        http=http,
        timeout_graceful_shutdown=5,
    )
