"""One way to save fitted things: named arrays in one `.npz` file (never pickled) with a JSON header inside.

The recommenders (`limelight.personalize`) and the payments retry model both persist through here. A file
holds:

- `__artifact__`: JSON `{"artifact": "limelight", "format_version": 1, "kind": ..., "saved_at": ..., "meta": {...}}`;
  `kind` says what the file holds ("limelight.payments.RetrySuccessModel"), `meta` is the caller's JSON;
- the arrays under their own names; a scipy sparse matrix `x` as `x::csr_data/indices/indptr/shape`; arrays of
  Python objects are stored as strings.

Writing goes to a temporary file that replaces the target only when complete, so a crash never leaves half
a model. Reading checks the container before the caller sees anything: a file that is missing raises
`ArtifactNotFoundError`; one that is not an npz, or an npz without a limelight header, or of another kind,
or from a newer format raises `ArtifactError`, with one sentence naming the file. Files written before this
module (recommenders: a `__meta__` document; payments: a `header` with a `kind`) still load, as format 0.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from limelight.errors import DataError, InputError, NotFoundError, first_line

__all__ = [
    "FORMAT_VERSION",
    "Artifact",
    "ArtifactError",
    "ArtifactNotFoundError",
    "fsync_folder",
    "jsonable",
    "load_artifact",
    "npz_path",
    "save_artifact",
]

FORMAT_VERSION = 1
_HEADER = "__artifact__"
_LEGACY_RECOMMENDER = "__meta__"  # personalize before this module: the whole document under this key
_LEGACY_HEADER = "header"  # payments before this module: {"kind": ..., "version": 1, ...}
RECOMMENDER_KIND = "limelight.personalize.Recommender"


class ArtifactError(DataError, InputError):
    """A file that is not a readable limelight artifact of the kind asked for.

    Both a `DataError` (what the payments model raised) and an `InputError` (what the recommenders raised),
    so existing callers keep catching it.
    """


class ArtifactNotFoundError(NotFoundError, InputError):
    """The artifact file does not exist (a `NotFoundError`, and an `InputError` as payments raised)."""


@dataclass(frozen=True)
class Artifact:
    """What `load_artifact` read: the kind, the caller's JSON metadata, the arrays, the container version."""

    kind: str
    meta: dict[str, Any]
    arrays: dict[str, Any]
    format_version: int


def npz_path(path: str | Path, *, replace_suffix: bool = False) -> Path:
    """`path` ending in `.npz`: 'm' → 'm.npz'; 'm.bin' → 'm.bin.npz' (or 'm.npz' with `replace_suffix`)."""
    path = Path(path)
    if path.suffix == ".npz":
        return path
    if replace_suffix or not path.suffix:
        return path.with_suffix(".npz")
    return path.with_suffix(path.suffix + ".npz")


def jsonable(value: Any) -> Any:
    """`value` with numpy scalars and arrays turned into JSON numbers and lists (dict keys as strings)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def pack_arrays(arrays: dict[str, Any]) -> dict[str, np.ndarray]:
    """Flatten arrays for `np.savez`: sparse matrices into their CSR parts, object arrays into strings."""
    flat: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        if name.startswith("__") or "::" in name:
            raise ValueError(f"array name must not start with '__' or hold '::', got '{name}'")
        if sp.issparse(value):
            csr = sp.csr_matrix(value)
            flat[f"{name}::csr_data"] = csr.data
            flat[f"{name}::csr_indices"] = csr.indices
            flat[f"{name}::csr_indptr"] = csr.indptr
            flat[f"{name}::csr_shape"] = np.asarray(csr.shape, dtype=np.int64)
        else:
            array = np.asarray(value)
            flat[name] = array.astype(str) if array.dtype == object else array
    return flat


def unpack_arrays(flat: dict[str, np.ndarray]) -> dict[str, Any]:
    """The inverse of `pack_arrays`."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if "::csr_" not in key:
            out[key] = value
        elif key.endswith("::csr_data"):
            name = key.split("::")[0]
            shape = tuple(int(x) for x in flat[f"{name}::csr_shape"])
            out[name] = sp.csr_matrix((value, flat[f"{name}::csr_indices"], flat[f"{name}::csr_indptr"]), shape=shape)
    return out


def save_artifact(path: str | Path, kind: str, meta: dict[str, Any], arrays: dict[str, Any]) -> Path:
    """Write `arrays` and `meta` (made JSON-able) to `path` atomically; returns `path`."""
    path = Path(path)
    flat = pack_arrays(arrays)
    header = {
        "artifact": "limelight",
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "meta": jsonable(meta),
    }
    flat[_HEADER] = np.asarray(json.dumps(header))
    path.parent.mkdir(parents=True, exist_ok=True)
    # A temporary file of our own (two writers of one path each write theirs, and the last rename wins
    # whole), on disk before the rename (a power cut leaves the old file or the new one, never half).
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    partial = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **flat)  # type: ignore[arg-type]
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(partial, 0o644)  # mkstemp makes it private; a model file is read by the service's user
        os.replace(partial, path)
        fsync_folder(path.parent)
    finally:
        partial.unlink(missing_ok=True)
    return path


def fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX: the directory entry is only on disk after this)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            if not hasattr(npz, "files"):
                raise ValueError("a bare array, not an npz archive")
            return {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        # numpy's own text for a pickled array advises loading it "unsafely": not advice to pass on
        why = "it holds pickled Python objects, which are never loaded" if "allow_pickle" in str(exc) else first_line(exc)
        raise ArtifactError(f"file '{path}' must be a limelight .npz artifact, got an unreadable file ({why})") from None


def _header(path: Path, stored: dict[str, np.ndarray]) -> tuple[str, dict[str, Any], int]:
    try:
        if _HEADER in stored:
            header = json.loads(str(stored.pop(_HEADER)))
            if not isinstance(header, dict) or header.get("artifact") != "limelight":
                raise ValueError("not a limelight header")
            return str(header["kind"]), dict(header["meta"]), int(header["format_version"])
        if _LEGACY_RECOMMENDER in stored:
            return RECOMMENDER_KIND, dict(json.loads(str(stored.pop(_LEGACY_RECOMMENDER)))), 0
        if _LEGACY_HEADER in stored:
            header = json.loads(str(stored.pop(_LEGACY_HEADER)))
            return str(header["kind"]), dict(header), 0
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"file '{path}' must hold a readable limelight header, got a damaged one ({exc})") from None
    raise ArtifactError(f"file '{path}' must be a limelight artifact, got an .npz without a limelight header")


def load_artifact(path: str | Path, kind: str) -> Artifact:
    """Read a file written by `save_artifact` (or by the savers before it) that must hold `kind`."""
    path = Path(path)
    if not path.exists():
        raise ArtifactNotFoundError(f"model file '{path}' does not exist")
    stored = _read(path)
    found, meta, version = _header(path, stored)
    if version > FORMAT_VERSION:
        raise ArtifactError(
            f"file '{path}' must be artifact format {FORMAT_VERSION} or older, got format {version} "
            "(written by a newer limelight)"
        )
    if found != kind:
        raise ArtifactError(f"file '{path}' must hold a {kind}, got a {found}")
    try:
        arrays = unpack_arrays(stored)
    except (KeyError, ValueError, TypeError) as exc:
        raise ArtifactError(f"file '{path}' must hold complete arrays, got a damaged one ({exc})") from None
    return Artifact(found, meta, arrays, version)
