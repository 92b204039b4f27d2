"""Versioned model artifacts: publish, list, current, rollback.

A registry is a folder (by default `<db>.models/` beside the spine's file):

    versions/0001/            one folder per published version, never changed after publish
        model/                what the model's `save(path)` wrote
        meta.json             what data, what metrics, when, which model and parameters
    pointer.json              {"current": 3, "history": [1, 2, 3]} — the activation history

Every change is atomic: a version folder is written under a temporary name and renamed into
place, and `pointer.json` is replaced with `os.replace` after an fsync, under an exclusive file
lock. A reader therefore sees the old pointer or the new one, never half of either — which lets
the service poll the pointer and swap models while `limelight train` or `models rollback` run in
another process.
"""

from __future__ import annotations

import builtins
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from limelight.artifacts import fsync_folder
from limelight.errors import ConflictError, DataError, InputError, NotFoundError, first_line, storage_error

__all__ = ["ModelRegistry", "ModelVersion"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelVersion:
    """One published model: its number, folder and metadata."""

    version: int
    path: Path
    model_name: str
    created_at: str
    data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    notes: str = ""

    @property
    def model_path(self) -> Path:
        return self.path / "model"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["path"] = str(self.path)
        return out


def _umask() -> int:
    """The process's umask, read without changing it (setting it to read it back would, for a moment,
    give files another thread creates meanwhile wider modes); the set-and-restore way where /proc is absent."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _readable_by_others(path: Path, mode: int) -> None:
    """mkstemp/mkdtemp make owner-only files; a registry is read by the serving user, who may be
    another one than the trainer: give the modes the process's umask allows, as open() would."""
    os.chmod(path, mode & ~_umask())


def _fsync_tree(folder: Path) -> None:
    """Every file under `folder`, then each folder, on disk: a version is renamed into place only
    once its bytes are (a power cut must not leave a published version of empty files)."""
    for child in sorted(folder.rglob("*")):
        if child.is_file():
            fd = os.open(child, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    for sub in [folder, *sorted(p for p in folder.rglob("*") if p.is_dir())]:
        fsync_folder(sub)


def _file_digests(folder: Path) -> dict[str, str]:
    """sha256 of every file under a version's model folder, by relative path."""
    out = {}
    for child in sorted(folder.rglob("*")):
        if child.is_file():
            h = hashlib.sha256()
            with child.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            out[str(child.relative_to(folder))] = h.hexdigest()
    return out


def _fsync_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    _readable_by_others(Path(tmp), 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_folder(path.parent)


def _is_version(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _read_json(path: Path, what: str) -> dict[str, Any]:
    """A registry JSON file as a dict, or a `DataError` naming the file (edited by hand, half-copied)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{what} cannot be read as JSON ({exc})", origin=str(path)) from None
    if not isinstance(document, dict):
        raise DataError(f"{what} must be a JSON object, got {type(document).__name__}", origin=str(path))
    return document


class ModelRegistry:
    """A folder of versioned model artifacts with an atomic `current` pointer."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def versions_dir(self) -> Path:
        return self.root / "versions"

    @property
    def pointer_path(self) -> Path:
        return self.root / "pointer.json"

    # -- reading ----------------------------------------------------------------------------
    def _pointer(self) -> dict[str, Any]:
        if not self.pointer_path.exists():
            return {"current": None, "history": [], "last_version": 0}
        pointer = _read_json(self.pointer_path, "the registry pointer")
        current, history = pointer.get("current"), pointer.get("history", [])
        last = pointer.get("last_version", 0)
        if not (current is None or _is_version(current)) or not (
            isinstance(history, list) and all(_is_version(v) for v in history)
        ):
            raise DataError(
                "the registry pointer must hold a version number as 'current' and a list of them as "
                f"'history', got current={current!r}",
                origin=str(self.pointer_path),
            )
        last = last if isinstance(last, int) and not isinstance(last, bool) and last >= 0 else 0
        return {"current": current, "history": list(history), "last_version": max([last, *history], default=0)}

    def pointer_stamp(self) -> tuple[int, int] | None:
        """A cheap fingerprint of the pointer (inode, mtime) so a poller notices changes."""
        try:
            st = self.pointer_path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def get(self, version: int) -> ModelVersion:
        folder = self.versions_dir / f"{int(version):04d}"
        meta_path = folder / "meta.json"
        if not meta_path.exists():
            raise NotFoundError(f"model version {version} does not exist in the registry")
        meta = _read_json(meta_path, "a model version's meta.json")
        if meta.get("version") != int(version):
            raise DataError(f"must hold 'version': {int(version)}, got {meta.get('version')!r}", origin=str(meta_path))
        return ModelVersion(
            version=int(meta["version"]),
            path=folder,
            model_name=str(meta.get("model_name", "unknown")),
            created_at=str(meta.get("created_at", "")),
            data=dict(meta.get("data", {})),
            metrics=dict(meta.get("metrics", {})),
            params=dict(meta.get("params", {})),
            notes=str(meta.get("notes", "")),
        )

    def verify(self, version: int) -> ModelVersion:
        """The version, if its files are all there and unchanged since it was published (its meta.json
        records their sha256; versions from before that are checked for a model file only); else a
        `DataError` saying what is wrong with it."""
        found = self.get(version)
        if not found.model_path.is_dir() or not any(p.is_file() for p in found.model_path.rglob("*")):
            raise DataError(f"model version {version} has no model files", origin=str(found.model_path))
        recorded = _read_json(found.path / "meta.json", "a model version's meta.json").get("files")
        if isinstance(recorded, dict):
            actual = _file_digests(found.model_path)
            for name, digest in recorded.items():
                if actual.get(name) != digest:
                    what = "is missing" if name not in actual else "has changed since it was published"
                    raise DataError(f"model version {version}'s file {name} {what}", origin=str(found.model_path))
        return found

    def list(self) -> builtins.list[ModelVersion]:
        if not self.versions_dir.exists():
            return []
        out = []
        for child in sorted(self.versions_dir.iterdir()):
            if child.is_dir() and child.name.isdigit() and (child / "meta.json").exists():
                out.append(self.get(int(child.name)))
        return out

    def newest_usable(self) -> tuple[ModelVersion | None, builtins.list[str]]:
        """The current version if it verifies, else the most recent earlier one in the history that
        does, with a sentence for each version passed over (what a server should load and report)."""
        problems: builtins.list[str] = []
        try:
            pointer = self._pointer()
        except DataError as exc:
            return None, [first_line(exc)]
        for number in reversed(pointer["history"]):
            try:
                return self.verify(int(number)), problems
            except (NotFoundError, DataError) as exc:
                problems.append(first_line(exc))
        return None, problems

    def is_current(self, version: int) -> bool:
        """Whether `version` is the one the pointer names (a publish may leave it unserved)."""
        return self._pointer()["current"] == int(version)

    def current(self) -> ModelVersion | None:
        number = self._pointer()["current"]
        return None if number is None else self.get(int(number))

    def history(self) -> builtins.list[int]:
        return [int(v) for v in self._pointer()["history"]]

    # -- writing ----------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        if self.root.exists() and not self.root.is_dir():
            raise InputError(f"the model registry {self.root} is a file, not a folder; give a folder's path")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"the model registry {self.root} cannot be created ({exc.strerror or exc})") from None
        try:
            fh = open(self.root / ".lock", "a+")  # noqa: SIM115 - closed below, after the lock is released
        except OSError as exc:
            raise storage_error(exc, f"the model registry {self.root}") or exc from None
        with fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def check_writable(self) -> None:
        """Refuse now, in one sentence, a registry that cannot take a new version (read-only, or not a
        folder): a publish would find out only after the training it follows."""
        with self._locked():
            probe = self.root / f".probe-{os.getpid()}"
            try:
                probe.write_bytes(b"")
            except OSError as exc:
                raise storage_error(exc, f"the model registry {self.root}") or exc from None
            finally:
                probe.unlink(missing_ok=True)

    def publish(
        self,
        save: Callable[[Path], None],
        *,
        model_name: str,
        data: dict[str, Any] | None = None,
        metrics: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        notes: str = "",
        activate: bool = True,
    ) -> ModelVersion:
        """Write a new version with `save(model_folder)`, then (by default) make it current."""
        if not model_name:
            raise InputError("model_name must be a non-empty string, got ''")
        with self._locked():
            self.versions_dir.mkdir(parents=True, exist_ok=True)
            for stale in self.versions_dir.glob(".staging-*"):  # left by a publish that was killed: the lock is ours
                shutil.rmtree(stale, ignore_errors=True)
            existing = [int(p.name) for p in self.versions_dir.iterdir() if p.name.isdigit()]
            pointer = self._pointer()
            # never reuse a number, even of a deleted version: a rollback to "4" must mean one model
            number = max([*existing, pointer["last_version"]], default=0) + 1
            staging = Path(tempfile.mkdtemp(dir=self.versions_dir, prefix=".staging-"))
            _readable_by_others(staging, 0o777)
            try:
                (staging / "model").mkdir()
                save(staging / "model")
                meta = {
                    "version": number,
                    "model_name": model_name,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "data": data or {},
                    "metrics": metrics or {},
                    "params": params or {},
                    "notes": notes,
                    "files": _file_digests(staging / "model"),
                }
                (staging / "meta.json").write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
                _fsync_tree(staging)
                os.rename(staging, self.versions_dir / f"{number:04d}")
                fsync_folder(self.versions_dir)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            pointer["last_version"] = number
            if activate:
                pointer["history"].append(number)
                pointer["current"] = number
            _fsync_write(self.pointer_path, json.dumps(pointer))
        log.info("published model version %d (%s)", number, model_name)
        return self.get(number)

    def activate(self, version: int) -> ModelVersion:
        """Make an existing version current (recorded in the history, so rollback undoes it)."""
        with self._locked():
            target = self.verify(version)  # before the pointer moves: a broken version never becomes current
            pointer = self._pointer()
            if pointer["current"] != target.version:
                pointer["history"].append(target.version)
                pointer["current"] = target.version
                _fsync_write(self.pointer_path, json.dumps(pointer))
        return target

    def rollback(self) -> ModelVersion:
        """Return to the version that was current before this one."""
        with self._locked():
            pointer = self._pointer()
            history = pointer["history"]
            if len(history) < 2:
                raise ConflictError(
                    "there is no previous model version to roll back to"
                    + (
                        f" (only version {history[-1]} was ever current)"
                        if history
                        else " (the registry is empty)"
                    )
                )
            number = int(history[-2])
            try:
                self.verify(number)
            except (NotFoundError, DataError) as exc:
                raise ConflictError(f"cannot roll back to model version {number}: {first_line(exc)}; "
                                    f"the registry is unchanged (still version {history[-1]})") from exc
            history.pop()
            pointer["current"] = number
            _fsync_write(self.pointer_path, json.dumps(pointer))
        log.info("rolled back to model version %d", number)
        return self.get(number)
