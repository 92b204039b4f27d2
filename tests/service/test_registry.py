"""The model registry: versions are immutable folders, the pointer moves atomically, rollback returns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from limelight.errors import ConflictError, NotFoundError
from limelight.registry import ModelRegistry


def _save(text: str):
    def save(folder: Path) -> None:
        (folder / "model.txt").write_text(text)

    return save


def test_publish_list_current_and_rollback(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    assert registry.current() is None and registry.list() == []
    v1 = registry.publish(_save("one"), model_name="ease", data={"members": 3}, metrics={"p": {"recall@10": 0.5}})
    v2 = registry.publish(_save("two"), model_name="itemknn")
    assert [v.version for v in registry.list()] == [1, 2]
    assert registry.current().version == 2 and registry.history() == [1, 2]
    assert (v1.model_path / "model.txt").read_text() == "one"
    meta = json.loads((v1.path / "meta.json").read_text())
    assert meta["data"] == {"members": 3} and meta["metrics"]["p"]["recall@10"] == 0.5 and meta["created_at"]
    assert registry.rollback().version == 1 and registry.current().version == 1
    assert (v2.model_path / "model.txt").read_text() == "two"  # rollback never deletes


def test_rollback_with_no_previous_version_is_a_conflict(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    with pytest.raises(ConflictError, match="no previous model version"):
        registry.rollback()
    registry.publish(_save("one"), model_name="ease")
    with pytest.raises(ConflictError):
        registry.rollback()


def test_a_failed_save_leaves_no_version_and_keeps_the_pointer(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    registry.publish(_save("one"), model_name="ease")

    def broken(folder: Path) -> None:
        (folder / "half.bin").write_bytes(b"x")
        raise OSError("disk full")

    with pytest.raises(OSError):
        registry.publish(broken, model_name="ease")
    assert [v.version for v in registry.list()] == [1] and registry.current().version == 1
    assert not [p for p in registry.versions_dir.iterdir() if p.name.startswith(".")]


def test_activate_unknown_version_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        ModelRegistry(tmp_path / "models").activate(7)


@pytest.mark.parametrize(
    ("file", "text", "says"),
    [
        ("pointer.json", "{not json", "the registry pointer cannot be read as JSON"),
        ("pointer.json", "[1, 2]", "the registry pointer must be a JSON object, got list"),
        ("pointer.json", '{"current": "abc", "history": []}', "must hold a version number"),
        ("versions/0001/meta.json", "", "meta.json cannot be read as JSON"),
        ("versions/0001/meta.json", '{"model_name": "ease"}', "must hold 'version': 1"),
        ("versions/0001/meta.json", b"\xff\xfe{", "cannot be read as JSON"),
    ],
)
def test_a_registry_edited_by_hand_is_refused_with_a_sentence_naming_the_file(
    tmp_path: Path, file: str, text: str | bytes, says: str
) -> None:
    from limelight.errors import DataError

    registry = ModelRegistry(tmp_path / "models")
    registry.publish(_save("one"), model_name="ease")
    target = registry.root / file
    target.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(DataError, match=str(target).replace(".", r"\.")) as info:
        registry.current()
    assert says in str(info.value)


def test_a_rollback_to_a_broken_version_is_refused_and_moves_nothing(tmp_path: Path) -> None:
    """The pointer used to move before the target was checked: a failed rollback left the registry
    pointing at a version that was gone."""
    import shutil

    registry = ModelRegistry(tmp_path / "models")
    for text in ("one", "two", "three"):
        registry.publish(_save(text), model_name="ease")
    (registry.get(2).model_path / "model.txt").write_text("tampered")  # changed since it was published
    before = registry.pointer_path.read_bytes()
    with pytest.raises(ConflictError, match=r"cannot roll back to model version 2: .*model.txt has changed"):
        registry.rollback()
    shutil.rmtree(registry.get(2).path)
    with pytest.raises(ConflictError, match=r"model version 2 does not exist.*unchanged \(still version 3\)"):
        registry.rollback()
    assert registry.pointer_path.read_bytes() == before and registry.current().version == 3
    with pytest.raises(NotFoundError):
        registry.activate(2)
    version, problems = registry.newest_usable()
    assert version.version == 3 and problems == []


def test_the_server_side_fallback_skips_versions_whose_files_are_gone(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    for text in ("one", "two", "three"):
        registry.publish(_save(text), model_name="ease")
    (registry.get(3).model_path / "model.txt").unlink()
    version, problems = registry.newest_usable()
    assert version.version == 2 and len(problems) == 1 and "has no model files" in problems[0]


def test_version_numbers_are_never_reused_and_files_are_readable_by_the_serving_user(tmp_path: Path) -> None:
    import os
    import shutil
    import stat

    registry = ModelRegistry(tmp_path / "models")
    registry.publish(_save("one"), model_name="ease")
    registry.publish(_save("two"), model_name="ease")
    shutil.rmtree(registry.get(2).path)  # deleted by hand
    (registry.versions_dir / ".staging-killed").mkdir()  # left by a publish that was killed
    old = os.umask(0o022)
    try:
        third = registry.publish(_save("three"), model_name="itemknn")
    finally:
        os.umask(old)
    assert third.version == 3  # not 2 again: "version 2" keeps meaning the model it was
    assert not list(registry.versions_dir.glob(".staging-*"))
    assert stat.S_IMODE(third.path.stat().st_mode) == 0o755
    assert stat.S_IMODE(registry.pointer_path.stat().st_mode) == 0o644
    assert json.loads((third.path / "meta.json").read_text())["files"]["model.txt"]
