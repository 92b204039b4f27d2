"""One save/load for fitted models: round trips, a format version, clear errors, and the older files still load."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from limelight.artifacts import (
    FORMAT_VERSION,
    ArtifactError,
    load_artifact,
    npz_path,
    save_artifact,
)
from limelight.errors import DataError, InputError, NotFoundError

KIND = "limelight.tests.Thing"


def test_arrays_sparse_matrices_strings_and_numpy_metadata_round_trip(tmp_path: Path) -> None:
    dense = np.arange(12, dtype=np.float32).reshape(3, 4)
    sparse = sp.random(20, 30, density=0.1, format="csr", random_state=0, dtype=np.float32)
    names = np.asarray(["a", "bé", "c"], dtype=object)
    meta = {"n": np.int64(3), "rate": np.float32(0.5), "flags": np.array([True, False]), "nested": {1: (2, 3)}}
    path = save_artifact(tmp_path / "thing.npz", KIND, meta, {"dense": dense, "sparse": sparse, "names": names})
    got = load_artifact(path, KIND)
    assert (got.kind, got.format_version) == (KIND, FORMAT_VERSION)
    assert got.meta == {"n": 3, "rate": 0.5, "flags": [True, False], "nested": {"1": [2, 3]}}
    assert np.array_equal(got.arrays["dense"], dense) and got.arrays["dense"].dtype == np.float32
    assert sp.issparse(got.arrays["sparse"]) and (got.arrays["sparse"] != sparse).nnz == 0
    assert got.arrays["names"].tolist() == ["a", "bé", "c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thing.npz"]  # no partial file left behind


def test_missing_corrupt_foreign_other_kind_and_newer_files_raise_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        load_artifact(tmp_path / "nope.npz", KIND)
    good = save_artifact(tmp_path / "good.npz", KIND, {}, {"x": np.zeros(3)})
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:40])
    text = tmp_path / "notes.npz"
    text.write_text("not a model", encoding="utf-8")
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, x=np.zeros(2))
    for path in (truncated, text):
        with pytest.raises(ArtifactError, match=re.escape(f"file '{path}' must be a limelight .npz artifact, got an unreadable")):
            load_artifact(path, KIND)
    with pytest.raises(ArtifactError, match=r"an \.npz without a limelight header"):
        load_artifact(foreign, KIND)
    with pytest.raises(ArtifactError, match=r"must hold a limelight.tests.Other, got a limelight.tests.Thing"):
        load_artifact(good, "limelight.tests.Other")
    newer = tmp_path / "newer.npz"
    header = {"artifact": "limelight", "format_version": FORMAT_VERSION + 1, "kind": KIND, "meta": {}}
    np.savez(newer, __artifact__=np.asarray(json.dumps(header)), x=np.zeros(1))
    with pytest.raises(ArtifactError, match=rf"must be artifact format {FORMAT_VERSION} or older, got format"):
        load_artifact(newer, KIND)
    # What the recommenders and the payments model raised before still catches it.
    assert issubclass(ArtifactError, DataError) and issubclass(ArtifactError, InputError)


def test_a_failed_save_leaves_the_previous_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save_artifact(tmp_path / "m.npz", KIND, {"v": 1}, {"x": np.ones(4)})
    before = path.read_bytes()

    def crash(handle: object, **arrays: object) -> None:
        handle.write(b"PK\x03\x04 half a zip")  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        save_artifact(path, KIND, {"v": 2}, {"x": np.zeros(4)})
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def test_npz_paths_keep_or_replace_the_suffix() -> None:
    assert npz_path("m") == Path("m.npz")
    assert npz_path("m.npz") == Path("m.npz")
    assert npz_path("m.model") == Path("m.model.npz")
    assert npz_path("m.model", replace_suffix=True) == Path("m.npz")


def _legacy_recommender_file(model: object, path: Path) -> Path:
    """The recommenders' saver before limelight.artifacts (commit 3a12565), byte layout kept."""
    from limelight.artifacts import jsonable, pack_arrays
    from limelight.personalize.base import SAVE_FORMAT

    arrays, meta = model._get_state()  # type: ignore[attr-defined]
    flat = pack_arrays(arrays)
    flat["title_ids_"] = np.asarray([str(t) for t in model.title_ids_], dtype=str)  # type: ignore[attr-defined]
    document = {"format": SAVE_FORMAT, "model": model.name,  # type: ignore[attr-defined]
                "class": f"{type(model).__module__}:{type(model).__qualname__}",
                "params": jsonable(model.get_params()),  # type: ignore[attr-defined]
                "fitted": jsonable(meta), "saved_at": "2026-11-27T00:00:00+00:00"}  # fmt: skip
    flat["__meta__"] = np.asarray(json.dumps(document))
    with path.open("wb") as handle:
        np.savez(handle, **flat)  # type: ignore[arg-type]
    return path


@pytest.mark.parametrize("name", ["ease", "itemknn"])
def test_recommenders_saved_before_the_module_load_and_score_the_same(name: str, tmp_path: Path) -> None:
    from limelight.personalize.base import Recommender
    from limelight.personalize.models import make_model
    from limelight.personalize.testing import clustered_interactions

    data = clustered_interactions()
    model = make_model(name).fit(data)
    expected = model.score(data.matrix[:6])
    old = Recommender.load(_legacy_recommender_file(model, tmp_path / "old.npz"))
    new = Recommender.load(model.save(tmp_path / "new.model"))
    assert np.allclose(old.score(data.matrix[:6]), expected)
    assert np.allclose(new.score(data.matrix[:6]), expected)
    assert load_artifact(tmp_path / "new.model.npz", "limelight.personalize.Recommender").format_version == 1
    with pytest.raises(InputError, match=r"must hold a limelight\.personalize\.Recommender"):
        Recommender.load(save_artifact(tmp_path / "other.npz", KIND, {}, {}))


def test_a_payments_model_saved_before_the_module_loads_with_the_same_weights(tmp_path: Path) -> None:
    from limelight.payments.model import RetrySuccessModel
    from limelight.payments.simulator import simulate_dunning

    model = RetrySuccessModel(max_iter=50).fit(simulate_dunning(300, seed=4))
    fresh = load_artifact(model.save(tmp_path / "m.npz"), "limelight.payments.RetrySuccessModel")
    header = {"kind": "limelight.payments.RetrySuccessModel", **fresh.meta}  # the old saver's layout
    old = tmp_path / "old.npz"
    np.savez(old, header=np.array(json.dumps(header)), **{f"w__{g}": v for g, v in model.weights_.items()})
    for path in (old, tmp_path / "m.npz"):
        loaded = RetrySuccessModel.load(path)
        assert loaded.intercept_ == model.intercept_ and loaded.space_ == model.space_
        assert all(np.array_equal(loaded.weights_[g], w) for g, w in model.weights_.items())
    with pytest.raises(DataError, match=r"must hold a limelight\.payments\.RetrySuccessModel"):
        RetrySuccessModel.load(save_artifact(tmp_path / "other.npz", KIND, {}, {}))


def test_two_writers_of_one_artifact_never_leave_a_broken_file(tmp_path: Path) -> None:
    """Both used one temporary name: the second writer truncated the first's half-written file, which the
    first then renamed into place (or found gone: FileNotFoundError), and a reader saw a broken zip."""
    import threading

    path = tmp_path / "model.npz"
    errors: list[BaseException] = []

    def write(value: float) -> None:
        try:
            for _ in range(25):
                save_artifact(path, "demo", {"value": value}, {"w": np.full(200_000, value)})
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(v,)) for v in (1.0, 2.0)]
    for t in threads:
        t.start()
    seen = 0
    while any(t.is_alive() for t in threads):
        if path.exists():
            found = load_artifact(path, "demo")
            assert np.all(found.arrays["w"] == found.meta["value"])  # whole, and one writer's
            seen += 1
    for t in threads:
        t.join()
    assert not errors, errors
    assert seen and not list(tmp_path.glob(".*partial"))
