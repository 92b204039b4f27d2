"""One error family for limelight.

Every error a user can cause carries one sentence that says what was wrong and where
("X must be Y, got Z"). The CLI turns a `LimelightError` into that sentence and exit code 2;
the service turns it into a JSON body with the stable `code` of its class.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable, Sequence

__all__ = [
    "AuthError",
    "ConfigError",
    "ConflictError",
    "DataError",
    "DownloadError",
    "ForbiddenError",
    "InputError",
    "LimelightError",
    "NotFittedError",
    "NotFoundError",
    "RuleError",
    "StorageError",
    "first_line",
    "require_fields",
    "storage_error",
]


class LimelightError(Exception):
    """Root of every error limelight raises on purpose."""

    code = "limelight_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(LimelightError, ValueError):
    """A parameter or argument has the wrong value."""

    code = "invalid_input"


class DataError(LimelightError, ValueError):
    """A file or a batch of rows is malformed; the message names the file, row and column."""

    code = "invalid_data"

    def __init__(
        self,
        message: str,
        *,
        origin: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        parts = []
        if origin is not None:
            parts.append(str(origin))
        if row is not None:
            parts.append(f"row {row}")
        if column is not None:
            parts.append(f"column '{column}'")
        prefix = ", ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.origin = origin
        self.row = row
        self.column = column


class ConfigError(LimelightError, ValueError):
    """A setting or a rule pack is invalid."""

    code = "invalid_config"


class RuleError(ConfigError):
    """A rule pack (guild agreement, card-network table) fails validation."""

    code = "invalid_rule_pack"


class NotFoundError(LimelightError, LookupError):
    """A member, title, person, model or file does not exist."""

    code = "not_found"


class ConflictError(LimelightError):
    """The request conflicts with the current state (e.g. nothing to roll back to)."""

    code = "conflict"


class NotFittedError(LimelightError, RuntimeError):
    """A model was used before `fit`."""

    code = "not_fitted"


class AuthError(LimelightError, PermissionError):
    """Missing or invalid credentials."""

    code = "unauthorized"


class ForbiddenError(LimelightError, PermissionError):
    """Valid credentials, but the role or object-level rights do not allow this."""

    code = "forbidden"


class DownloadError(LimelightError, OSError):
    """A public dataset could not be fetched from its publisher."""

    code = "download_failed"


class StorageError(LimelightError, OSError):
    """The disk refused a write (full, read-only, no permission); what was being written was not kept."""

    code = "storage_unavailable"


# What the file system says when it refuses a write: the user's to fix, not a bug to trace back.
_REFUSED_WRITES = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}
_REFUSED_TEXT = ("No space left on device", "Disk quota exceeded", "File too large", "Read-only file system",
                 "Permission denied")


def storage_error(exc: BaseException, what: str) -> StorageError | None:
    """`exc` as one sentence about `what` when the disk refused a write (an OSError, or a DuckDB error
    quoting one); None for anything else."""
    if isinstance(exc, OSError) and exc.errno in _REFUSED_WRITES:
        reason = exc.strerror or first_line(exc)
    else:
        text = str(exc)
        reason = next((r for r in _REFUSED_TEXT if r in text), "")
        if not reason:
            return None
    return StorageError(f"{what} cannot be written ({reason}); nothing was changed — free space or fix "
                        "the permissions and run it again")


def require_fields(
    present: Iterable[object], need: Sequence[str], what: str, *, error: type[InputError | DataError] = InputError
) -> None:
    """Refuse a table (a frame, a Parquet schema) that lacks a column it needs, in one sentence.

    "payment attempts must have columns invoice_id, outcome and amount; missing amount (got …)"; for
    files whose row and column a reader knows, `spine.loaders._common.require_columns` says more.
    """
    found = [str(c) for c in present]
    missing = [c for c in need if c not in found]
    if not missing:
        return
    wanted = f"a '{need[0]}' column" if len(need) == 1 else f"columns {', '.join(need[:-1])} and {need[-1]}"
    got = ", ".join(found) or "no columns"
    lacks = "" if len(need) == 1 else f"; missing {', '.join(missing)}"
    raise error(f"{what} must have {wanted}{lacks} (got {got})")


def first_line(exc: BaseException) -> str:
    """The first line of a library's error (DuckDB's, Spark's Java stack), or its class name when empty:
    what a user-facing sentence quotes."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
