"""The service's settings: one typed object, built once per app and handed to routes by `SettingsDep`."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from limelight.settings import get_settings

__all__ = ["EVENT_ID_PATTERN", "ID_PATTERN", "PERSON_ID_PATTERN", "ROLES", "ServiceConfig"]

# Every role a key can carry. `person` keys are bound to one person_id (their own pay statements).
ROLES: tuple[str, ...] = ("service", "ingest", "analyst", "admin", "person")

# Every id a client names (member, title, person): what the spine stores, and nothing a log, a URL or a
# SQL string could trip on. No "/": these ids are URL path segments (/v1/members/{id}/home), and a member
# created as "x/y" could never be read back — its first page was a 404 "no route", and so was the admin's
# dashboard Home, which opens the first member. An event id is never in a path: it may hold "/".
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"
EVENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,127}$"
# A person's id may be their name as a catalog writes it ("Mike Flanagan", "Lupita Nyong'o", "Zoë Kravitz":
# the Netflix catalog loader keys people so): printable characters but "/" and "\\", no leading or
# trailing space, up to 128. 40,218 of the catalog's 40,948 people could not be addressed before. Left out
# with the ASCII controls: the C1 controls, zero-width and direction marks, line and paragraph separators
# and the byte-order mark — invisible, or able to reorder what a log or a page shows. (Literal characters
# in the class, not \p{..}: Python's `re` checks the same pattern as pydantic's Rust engine.)
_NOT_IN_PERSON_ID = "/\\\\\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
PERSON_ID_PATTERN = (
    f"^[^\\s{_NOT_IN_PERSON_ID}](?:[^{_NOT_IN_PERSON_ID}]{{0,126}}[^\\s{_NOT_IN_PERSON_ID}])?$"
)


class ServiceConfig(BaseModel):
    """How one service process behaves. Built by `create_app(db_path, ...)`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    db_path: Path
    models_dir: Path | None = Field(default=None, description="Model registry folder; default '<db>.models'.")
    max_events_per_batch: int = Field(default=1000, ge=1, le=100_000)
    max_body_bytes: int = Field(
        default=2 * 1024 * 1024, ge=1024, le=1 << 30,
        description="Largest request body accepted (bytes); larger ones get 413 before they are parsed.",
    )
    max_k: int = Field(
        default=100, ge=1, le=10_000, description="Largest page size (k) any list endpoint serves."
    )
    default_rate_per_s: float = Field(
        default=2000.0, gt=0, description="Token-bucket refill per key per second."
    )
    default_burst: float = Field(default=4000.0, gt=0, description="Token-bucket capacity per key.")
    watch_registry_s: float = Field(
        default=1.0, ge=0, description="How often the registry pointer is checked (0 = never)."
    )
    cache_entries: int = Field(
        default=50_000, ge=0, description="Rendered answers kept per process (0 = always compute)."
    )
    cache_bytes: int = Field(
        default=256 * 1024 * 1024, ge=0, description="At most this many bytes of rendered answers per process."
    )
    precompute: bool = Field(
        default=False, description="After each engine load, render every member's home and top-10 in the background."
    )
    load_engine: bool = Field(default=True, description="Build the personalization engine at start-up.")
    metrics_need_key: bool = Field(
        default=False,
        description="GET /metrics only with a key of role service, analyst or admin (it names key ids and the "
        "model version); off by default, for a scraper on a private network.",
    )

    @property
    def registry_dir(self) -> Path:
        return self.models_dir if self.models_dir is not None else get_settings().registry_dir(self.db_path)
