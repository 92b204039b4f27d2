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
