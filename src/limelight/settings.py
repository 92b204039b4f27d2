"""One settings object for limelight, read from `LIMELIGHT_*` environment variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings", "shared_data_dir"]


class Settings(BaseSettings):
    """Typed, validated settings. Every field can be set as `LIMELIGHT_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="LIMELIGHT_", extra="ignore")

    db: Path = Field(default=Path("limelight.duckdb"), description="The DuckDB file of the spine.")
    cache_dir: Path = Field(
        default=Path.home() / ".cache" / "limelight",
        description="Where downloaded public datasets are cached.",
    )
    models_dir: Path | None = Field(
        default=None, description="Model registry folder; defaults to '<db stem>.models' beside the db."
    )
    engine: Literal["duckdb", "spark"] = Field(default="duckdb", description="Engine for data pipelines.")
    shared_data: Path | None = Field(
        default=None, description="Folder of the shared public data used by tests and benchmarks."
    )
    seed: int = Field(default=7, description="Default seed for the demo world and model training.")

    def registry_dir(self, db: Path | None = None) -> Path:
        if self.models_dir is not None:
            return self.models_dir
        base = Path(db) if db is not None else self.db
        return base.with_suffix(".models")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from `LIMELIGHT_*` environment variables; a bad value is one sentence naming the variable."""
    from pydantic import ValidationError

    from limelight.errors import ConfigError

    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "LIMELIGHT_" + str(first["loc"][0]).upper() if first.get("loc") else "a LIMELIGHT_ setting"
        raise ConfigError(f"{name} {first['msg'][0].lower()}{first['msg'][1:]}, got {first.get('input')!r}") from None


def shared_data_dir() -> Path:
    """`LIMELIGHT_SHARED_DATA`, else `../shared/data` from the project root."""
    env = os.environ.get("LIMELIGHT_SHARED_DATA")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "data"
        if (parent / "pyproject.toml").exists() and candidate.exists():
            return candidate
    return Path.cwd().parent / "shared" / "data"
