"""API keys: created once and printed once, stored only as a salted SHA-256 hash, revocable.

A key reads `ll_<key_id>_<secret>`. The key id is public (it names the key in logs, metrics and
`keys list`); the secret never leaves the creator. The table stores `sha256(key_id ":" secret)`,
so the id acts as a per-key salt, and verification compares digests in constant time.

Keys live in the spine's DuckDB file (table `service_keys`). DuckDB allows one writing process, so
`limelight keys create` opens the file itself when the server is down; while the server runs, admins
create and revoke keys through `POST /v1/keys` and `DELETE /v1/keys/{key_id}` (the server owns the file).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb

from limelight.errors import AuthError, ConflictError, InputError, NotFoundError
from limelight.service.config import PERSON_ID_PATTERN, ROLES

__all__ = ["KEY_ID_PATTERN", "MAX_KEY_DAYS", "MAX_RATE_PER_S", "ApiKey", "KeyRing", "create_key", "ensure_key_table", "list_keys", "revoke_key"]

# A key's public id: 12 hex digits (secrets.token_hex(6)), the part between "ll_" and the secret.
_KEY_ID = r"[0-9a-f]{12}"
KEY_ID_PATTERN = "^" + _KEY_ID + "$"
_KEY_RE = re.compile(r"^ll_(" + _KEY_ID + r")_([A-Za-z0-9_-]{20,64})$")

KEY_TABLE_DDL = """
CREATE TABLE IF NOT EXISTS service_keys (
  key_id VARCHAR PRIMARY KEY,
  key_hash VARCHAR NOT NULL,
  role VARCHAR NOT NULL,
  person_id VARCHAR,
  label VARCHAR,
  rate_per_s DOUBLE,
  created_at TIMESTAMP NOT NULL,
  revoked_at TIMESTAMP,
  expires_at TIMESTAMP,
  last_used_at TIMESTAMP
)
"""
MAX_KEY_DAYS = 3650  # a key that should outlive ten years is a key nobody rotates


@dataclass(frozen=True)
class ApiKey:
    """Who is calling: the key's id, its role and, for `person` keys, the person it belongs to."""

    key_id: str
    role: str
    person_id: str | None = None
    label: str | None = None
    rate_per_s: float | None = None
    created_at: datetime | None = None
    revoked_at: datetime | None = None
    expires_at: datetime | None = None  # naive UTC; None: never
    last_used_at: datetime | None = None  # naive UTC, to the minute (kept in memory, written on list and at shutdown)

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def expired(self, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC).replace(tzinfo=None)
        return self.expires_at is not None and now >= self.expires_at


def _digest(key_id: str, secret: str) -> str:
    return hashlib.sha256(f"{key_id}:{secret}".encode()).hexdigest()


def ensure_key_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(KEY_TABLE_DDL)
    # stores made before keys could expire
    con.execute("ALTER TABLE service_keys ADD COLUMN IF NOT EXISTS expires_at TIMESTAMP")
    con.execute("ALTER TABLE service_keys ADD COLUMN IF NOT EXISTS last_used_at TIMESTAMP")


def _has_key_table(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether keys were ever made here: reading them must not write the table into the file."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'service_keys' AND schema_name = 'main'"
    ).fetchone()
    return bool(found and found[0])


_PERSON_ID = re.compile(PERSON_ID_PATTERN)  # a person id as the spine stores it: a name is one
MAX_RATE_PER_S = 1e6
MIN_RATE_PER_S = 0.001  # one request in about 17 minutes: below that a key is dead on arrival


def create_key(
    con: duckdb.DuckDBPyConnection,
    role: str,
    *,
    person_id: str | None = None,
    label: str | None = None,
    rate_per_s: float | None = None,
    expires_in_days: float | None = None,
) -> tuple[str, ApiKey]:
    """Make a new key; returns (the full key, shown once; its record). Only the hash is stored.
    `expires_in_days`: refused from then on, as if revoked (rotate keys without a revocation step)."""
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}, got '{role}'")
    if role == "person" and not person_id:
        raise InputError("a key with role 'person' must name its person_id (--person-id)")
    if role != "person" and person_id:
        raise InputError(f"person_id is only for keys with role 'person', got role '{role}'")
    if person_id is not None and not _PERSON_ID.fullmatch(person_id):  # `$` of match() passes "Bob\n"
        raise InputError(
            f"person_id must be 1 to 128 characters without / or \\ and no space at either end, got {person_id!r}"
        )
    if rate_per_s is not None and not MIN_RATE_PER_S <= rate_per_s <= MAX_RATE_PER_S:
        raise InputError(f"rate_per_s must be a number from {MIN_RATE_PER_S:g} to {MAX_RATE_PER_S:g}, got {rate_per_s}")
    if expires_in_days is not None and not 0 < expires_in_days <= MAX_KEY_DAYS:
        raise InputError(f"expires_in_days must be a number > 0 and at most {MAX_KEY_DAYS}, got {expires_in_days}")
    if person_id is not None and not _is_person(con, person_id):
        # a key for nobody would open nobody's statement today and a stranger's once that id is ingested
        raise InputError(f"person_id must name a person in the spine's people table, got {person_id!r}")
    ensure_key_table(con)
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(24)
    now = datetime.now(UTC).replace(tzinfo=None)
    expires = None if expires_in_days is None else now + timedelta(days=float(expires_in_days))
    con.execute(
        "INSERT INTO service_keys (key_id, key_hash, role, person_id, label, rate_per_s, created_at, revoked_at, "
        "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
        [key_id, _digest(key_id, secret), role, person_id, label, rate_per_s, now, expires],
    )
    record = ApiKey(key_id, role, person_id, label, rate_per_s, now, None, expires)
    return f"ll_{key_id}_{secret}", record


def _is_person(con: duckdb.DuckDBPyConnection, person_id: str) -> bool:
    has_people = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'people' AND table_schema = 'main'"
    ).fetchone()
    if not has_people or not has_people[0]:
        return False
    found = con.execute("SELECT count(*) FROM people WHERE person_id = ?", [person_id]).fetchone()
    return bool(found and found[0])


def revoke_key(con: duckdb.DuckDBPyConnection, key_id: str, *, keep_an_admin: bool = False) -> ApiKey:
    """Revoke a key (at once: the service reloads its key ring). `keep_an_admin` (the API's way)
    refuses to revoke the last live admin key, which would lock every admin out until someone with
    the server's files makes a new one (`limelight keys create`, which is how the CLI can still do it)."""
    if not _has_key_table(con):
        raise NotFoundError(f"key '{key_id}' does not exist (no key was ever made in this store)")
    rows = con.execute("SELECT role, revoked_at FROM service_keys WHERE key_id = ?", [key_id]).fetchall()
    if not rows:
        raise NotFoundError(f"key '{key_id}' does not exist")
    role, revoked_at = rows[0]
    now = datetime.now(UTC).replace(tzinfo=None)
    if keep_an_admin and role == "admin" and revoked_at is None:
        live = con.execute(
            "SELECT count(*) FROM service_keys WHERE role = 'admin' AND revoked_at IS NULL "
            "AND (expires_at IS NULL OR expires_at > ?)", [now]
        ).fetchall()
        if int(live[0][0]) <= 1:
            raise ConflictError(f"key '{key_id}' is the last live admin key; create another admin key first")
    con.execute(
        "UPDATE service_keys SET revoked_at = coalesce(revoked_at, ?) WHERE key_id = ?", [now, key_id]
    )
    return next(k for k in list_keys(con) if k.key_id == key_id)


def list_keys(con: duckdb.DuckDBPyConnection) -> list[ApiKey]:
    if not _has_key_table(con):
        return []
    rows = con.execute(
        "SELECT key_id, role, person_id, label, rate_per_s, created_at, revoked_at, expires_at, last_used_at "
        "FROM service_keys ORDER BY created_at, key_id"
    ).fetchall()
    return [ApiKey(*row) for row in rows]


def _hashes(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    ensure_key_table(con)
    return dict(con.execute("SELECT key_id, key_hash FROM service_keys").fetchall())


#: longer than any well-formed "Bearer ll_<id>_<secret>" header with room for stray spaces
MAX_AUTHORIZATION_CHARS = 256


def _bearer_token(authorization: str | None) -> str:
    """The key in an `Authorization: Bearer <key>` header, or the `AuthError` saying what is wrong."""
    if not authorization:
        raise AuthError("this endpoint needs an API key: send 'Authorization: Bearer <key>'")
    if len(authorization) > MAX_AUTHORIZATION_CHARS:
        raise AuthError(f"the Authorization header must read 'Bearer <key>' (at most {MAX_AUTHORIZATION_CHARS} characters)")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header must read 'Bearer <key>'")
    return token.strip()


class KeyRing:
    """The server's in-memory view of the keys table, refreshed whenever the server changes it."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._last_used: dict[str, datetime] = {}
        self.reload()

    # Tokens already verified against their stored hash -> the active key (only successes are kept,
    # so unknown tokens cannot grow it); emptied whenever the keys table changes (create, revoke).
    VERIFIED_MAX = 10_000

    def reload(self) -> None:
        self.flush_last_used()
        self._keys = {k.key_id: k for k in list_keys(self._con)}
        self._hash = _hashes(self._con)
        self._verified: dict[str, ApiKey] = {}

    def note_use(self, key: ApiKey) -> None:
        """When a key was last used, to the minute, in memory (no write on the request path)."""
        self._last_used[key.key_id] = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)

    def flush_last_used(self) -> None:
        """Write the remembered last uses into the keys table (on listing keys, on changes, at shutdown)
        — which keys nobody uses any more is what an operator asks before revoking."""
        pending, self._last_used = self._last_used, {}
        if pending and _has_key_table(self._con):
            self._con.executemany(
                "UPDATE service_keys SET last_used_at = greatest(coalesce(last_used_at, ?), ?) WHERE key_id = ?",
                [[at, at, key_id] for key_id, at in pending.items()],
            )

    def authenticate(self, authorization: str | None) -> ApiKey:
        """The key named by an `Authorization: Bearer ll_...` header, or `AuthError`."""
        token = _bearer_token(authorization)
        verified = self._verified  # this generation: a reload() meanwhile discards what we add
        known = verified.get(token)
        if known is not None:
            if known.expired():  # the cache holds it past its end: refuse it like any other expired key
                raise AuthError(f"the API key '{known.key_id}' expired at {known.expires_at:%Y-%m-%d %H:%M} UTC")
            self.note_use(known)
            return known
        record = self._verify(token)
        self.note_use(record)
        # cached by the well-formed token alone (at most 80 characters): padding a header differently
        # each time cannot grow the cache
        if len(verified) < self.VERIFIED_MAX:
            verified[token] = record
        return record

    def _verify(self, token: str) -> ApiKey:
        match = _KEY_RE.match(token)
        key_id, secret = (match.group(1), match.group(2)) if match else ("", "")
        stored = self._hash.get(key_id)
        # Compare even when the id is unknown so a miss costs the same as a wrong secret.
        expected = stored if stored is not None else _digest("000000000000", "x" * 32)
        ok = hmac.compare_digest(expected, _digest(key_id, secret)) and stored is not None
        record = self._keys.get(key_id)
        if not ok or record is None:
            raise AuthError("the API key is not valid")
        if not record.active:
            raise AuthError(f"the API key '{key_id}' was revoked")
        if record.expired():
            raise AuthError(f"the API key '{key_id}' expired at {record.expires_at:%Y-%m-%d %H:%M} UTC")
        return record
