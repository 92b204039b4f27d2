"""The spine's one schema: every table that more than one engine reads.

Declared as data so that the DuckDB DDL, the Parquet/Arrow layout, validation messages and the
docs all come from one place. Timestamps are UTC (stored as naive `TIMESTAMP` in UTC), dates are
`DATE`, money is `DECIMAL(12, 2)`, identifiers are strings so that any source's ids fit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = [
    "ENUMS",
    "RATING_SCALES",
    "SCHEMA",
    "TABLE_ORDER",
    "Column",
    "ForeignKey",
    "Table",
    "ddl",
    "table",
]

# Closed vocabularies. Loaders map source words onto these; the DDL checks them.
ENUMS: dict[str, tuple[str, ...]] = {
    "title_kind": ("film", "series", "season", "episode", "game"),
    "credit_role": ("performer", "writer", "director"),
    "billing": ("principal", "background"),
    "engagement_kind": ("film", "show"),
    "payment_outcome": ("succeeded", "failed"),
    "funding_type": ("credit", "debit", "prepaid", "unknown"),
    "rating_scale": ("stars", "thumbs"),
    "title_match": ("exact", "fuzzy"),
}

# What `ratings.rating` may be on each `ratings.scale`: stars from 0.5 to 5; thumbs -1 (down), 1 (up), 2 (two up).
# (lowest, highest, the only values allowed or None for any number in between)
RATING_SCALES: dict[str, tuple[float, float, tuple[float, ...] | None]] = {
    "stars": (0.5, 5.0, None),
    "thumbs": (-1.0, 2.0, (-1.0, 1.0, 2.0)),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB SQL type
    nullable: bool = True
    enum: str | None = None  # name in ENUMS
    minimum: float | None = None  # inclusive lower bound for numbers
    doc: str = ""
    country: bool = False  # an ISO 3166-1 alpha-2 code: any case in, capitals stored ('us' -> 'US')


@dataclass(frozen=True)
class ForeignKey:
    column: str
    table: str
    ref_column: str


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    doc: str = ""
    # Columns that say which row this is whatever file it came from: a stored row with the same content
    # key under another primary key is the same data loaded again (a report saved under another name).
    content_key: tuple[str, ...] = ()
    column_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_names", tuple(c.name for c in self.columns))

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if not c.nullable)


def _c(name: str, type_: str, nullable: bool = True, **kw: object) -> Column:
    return Column(name, type_, nullable, **kw)  # type: ignore[arg-type]


SCHEMA: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "titles",
            (
                _c("title_id", "VARCHAR", False),
                _c("name", "VARCHAR", False),
                _c("kind", "VARCHAR", False, enum="title_kind"),
                _c("parent_id", "VARCHAR", doc="season → series, episode → season"),
                _c("season_number", "INTEGER", minimum=0),
                _c("episode_number", "INTEGER", minimum=0),
                _c("runtime_minutes", "DOUBLE", minimum=0),
                _c("release_date", "DATE"),
                _c("genres", "VARCHAR[]"),
                _c("original_language", "VARCHAR"),
                _c("country_of_origin", "VARCHAR"),
                _c("maturity_rating", "VARCHAR"),
                _c("available_countries", "VARCHAR[]", doc="ISO-3166 alpha-2; NULL means everywhere"),
                _c("imdb_id", "VARCHAR"),
                _c("tmdb_id", "VARCHAR"),
                _c("source", "VARCHAR", False),
            ),
            ("title_id",),
            doc="Films, series, seasons, episodes and games: everything a member can watch or play.",
        ),
        Table(
            "people",
            (_c("person_id", "VARCHAR", False), _c("name", "VARCHAR", False), _c("source", "VARCHAR", False)),
            ("person_id",),
            doc="Performers, writers and directors.",
        ),
        Table(
            "credits",
            (
                _c("title_id", "VARCHAR", False),
                _c("person_id", "VARCHAR", False),
                _c("role", "VARCHAR", False, enum="credit_role"),
                _c("billing", "VARCHAR", enum="billing"),
                _c("episodes_worked", "INTEGER", minimum=0),
                _c("character", "VARCHAR"),
                _c("credit_order", "INTEGER", minimum=0),
            ),
            ("title_id", "person_id", "role"),
            (ForeignKey("title_id", "titles", "title_id"), ForeignKey("person_id", "people", "person_id")),
        ),
        Table(
            "members",
            (
                _c("member_id", "VARCHAR", False),
                _c("country", "VARCHAR", country=True),
                _c("plan", "VARCHAR"),
                _c("signup_date", "DATE"),
                _c("maturity_limit", "VARCHAR", doc="highest maturity rating the profile may see"),
                _c("cancelled_at", "TIMESTAMP"),
                _c("source", "VARCHAR", False),
            ),
            ("member_id",),
        ),
        Table(
            "viewing_events",
            (
                _c("event_id", "VARCHAR", False),
                _c("member_id", "VARCHAR", False),
                _c("title_id", "VARCHAR", False),
                _c("started_at", "TIMESTAMP", False),
                _c("seconds_viewed", "INTEGER", False, minimum=0),
                _c("device", "VARCHAR"),
                _c("country", "VARCHAR", doc="where it was watched; defaults to the member's country", country=True),
            ),
            ("event_id",),
            (ForeignKey("member_id", "members", "member_id"), ForeignKey("title_id", "titles", "title_id")),
        ),
        Table(
            "ratings",
            (
                _c("member_id", "VARCHAR", False),
                _c("title_id", "VARCHAR", False),
                _c("rating", "DOUBLE", False),
                _c("rated_at", "TIMESTAMP", False),
                _c("scale", "VARCHAR", False, enum="rating_scale"),
            ),
            ("member_id", "title_id", "rated_at"),
            (ForeignKey("member_id", "members", "member_id"), ForeignKey("title_id", "titles", "title_id")),
            doc="Explicit feedback: stars (0.5–5) or thumbs (-1 down, 1 up, 2 two-up).",
        ),
        Table(
            "tags",
            (
                _c("member_id", "VARCHAR", False),
                _c("title_id", "VARCHAR", False),
                _c("tag", "VARCHAR", False),
                _c("tagged_at", "TIMESTAMP", False),
            ),
            ("member_id", "title_id", "tag", "tagged_at"),
            (ForeignKey("member_id", "members", "member_id"), ForeignKey("title_id", "titles", "title_id")),
        ),
        Table(
            "engagement",
            (
                _c("source", "VARCHAR", False, doc="report file name"),
                _c("sheet", "VARCHAR", False),
                _c("row_number", "INTEGER", False, doc="1-based row in the sheet"),
                _c("period_start", "DATE", False),
                _c("period_end", "DATE", False),
                _c("title_name", "VARCHAR", False),
                _c("kind", "VARCHAR", enum="engagement_kind"),
                _c("available_globally", "BOOLEAN"),
                _c("release_date", "DATE"),
                _c("runtime_minutes", "DOUBLE", minimum=0),
                _c("hours_viewed", "BIGINT", False, minimum=0),
                _c("views", "BIGINT", minimum=0),
                _c("title_id", "VARCHAR", doc="catalog title, where the name matched"),
                _c("title_match", "VARCHAR", enum="title_match", doc="how title_id was found; NULL: no match"),
                _c("title_match_score", "DOUBLE", minimum=0, doc="confidence of the match, 0-1"),
            ),
            ("source", "sheet", "row_number"),
            doc="Published engagement aggregates (Netflix 'What We Watched' reports and the like).",
            content_key=("period_start", "period_end", "sheet", "row_number"),
        ),
        Table(
            "top10_weekly",
            (
                _c("week", "DATE", False),
                _c("country", "VARCHAR", False, doc="'global' or ISO-3166 alpha-2"),
                _c("category", "VARCHAR", False),
                _c("weekly_rank", "INTEGER", False, minimum=1),
                _c("show_title", "VARCHAR", False),
                _c("season_title", "VARCHAR"),
                _c("weekly_hours_viewed", "BIGINT", minimum=0),
                _c("runtime_hours", "DOUBLE", minimum=0),
                _c("weekly_views", "BIGINT", minimum=0),
                _c("cumulative_weeks_in_top_10", "INTEGER", minimum=0),
                _c("title_id", "VARCHAR"),
            ),
            ("week", "country", "category", "weekly_rank"),
        ),
        Table(
            "subscribers",
            (
                _c("region", "VARCHAR", False, doc="e.g. UCAN, EMEA, LATAM, APAC, global, or a country"),
                _c("as_of", "DATE", False),
                _c("paid_memberships", "BIGINT", False, minimum=0),
                _c("source", "VARCHAR", False),
            ),
            ("region", "as_of"),
        ),
        Table(
            "cards",
            (
                _c("card_id", "VARCHAR", False),
                _c("member_id", "VARCHAR", False),
                _c(
                    "expires_at",
                    "TIMESTAMP",
                    False,
                    doc="when the card expires (UTC), as the processor's stored card reports it",
                ),
            ),
            ("card_id",),
            (ForeignKey("member_id", "members", "member_id"),),
            doc="Every card a member has had on file; payment_attempts.card_id refers to it.",
        ),
        Table(
            "payment_attempts",
            (
                _c("attempt_id", "VARCHAR", False),
                _c("member_id", "VARCHAR", False),
                _c("invoice_id", "VARCHAR", False),
                _c("card_id", "VARCHAR"),
                _c("amount", "DECIMAL(12,2)", False, minimum=0),
                _c("currency", "VARCHAR", False),
                _c("attempted_at", "TIMESTAMP", False),
                _c("attempt_number", "INTEGER", minimum=1),
                _c("outcome", "VARCHAR", False, enum="payment_outcome"),
                _c("decline_code", "VARCHAR"),
                _c("merchant_advice_code", "VARCHAR"),
                _c("card_brand", "VARCHAR"),
                _c("funding_type", "VARCHAR", enum="funding_type"),
                _c("issuer_country", "VARCHAR", country=True),
                _c("processor", "VARCHAR"),
                _c("policy", "VARCHAR", doc="the policy that chose this attempt"),
                _c("propensity", "DOUBLE", doc="logged probability of the chosen action"),
            ),
            ("attempt_id",),
            (ForeignKey("member_id", "members", "member_id"),),
        ),
    )
}

# Insertion order that satisfies every foreign key.
TABLE_ORDER: tuple[str, ...] = (
    "titles",
    "people",
    "credits",
    "members",
    "viewing_events",
    "ratings",
    "tags",
    "engagement",
    "top10_weekly",
    "subscribers",
    "cards",
    "payment_attempts",
)


def table(name: str) -> Table:
    try:
        return SCHEMA[name]
    except KeyError:
        known = ", ".join(sorted(SCHEMA))
        raise KeyError(f"unknown table '{name}'; the spine has {known}") from None


def _column_ddl(c: Column) -> str:
    parts = [f'"{c.name}" {c.type}']
    if not c.nullable:
        parts.append("NOT NULL")
    if c.enum is not None:
        allowed = ", ".join(f"'{v}'" for v in ENUMS[c.enum])
        parts.append(f'CHECK ("{c.name}" IN ({allowed}))')
    if c.minimum is not None:
        parts.append(f'CHECK ("{c.name}" >= {c.minimum})')
    return " ".join(parts)


def ddl(t: Table, *, primary_key: bool = True) -> str:
    """`CREATE TABLE IF NOT EXISTS` for one table.

    Foreign keys are checked by the store before any write (with the file/row/column of the
    offending value) rather than declared: DuckDB's FK constraints forbid the bulk upserts that
    idempotent ingest needs. `primary_key=False` leaves the key undeclared (the store enforces it
    with set-based checks instead; see `limelight.spine.store`).
    """
    cols = [_column_ddl(c) for c in t.columns]
    if primary_key:
        pk = ", ".join(f'"{k}"' for k in t.primary_key)
        cols.append(f"PRIMARY KEY ({pk})")
    body = ",\n  ".join(cols)
    return f'CREATE TABLE IF NOT EXISTS "{t.name}" (\n  {body}\n)'


def tables() -> Iterator[Table]:
    for name in TABLE_ORDER:
        yield SCHEMA[name]
