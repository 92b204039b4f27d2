"""limelight's service: a FastAPI app (REST API + dashboard) over the spine and every engine.

`create_app(db_path)` builds the app; `run(db_path, host, port, workers)` serves it with uvicorn.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from limelight.service.app import LimelightAPI

__all__ = ["create_app", "run"]


def create_app(db_path: str | Path, **overrides: Any) -> LimelightAPI:
    from limelight.service.app import create_app as _create

    return _create(db_path, **overrides)


def run(
    db_path: str | Path, host: str = "127.0.0.1", port: int = 8000, workers: int = 1, **overrides: Any
) -> None:
    from limelight.service.server import run as _run

    _run(db_path, host=host, port=port, workers=workers, **overrides)
