"""Batch scoring on Spark gives every member the same list as the single-machine path."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from limelight.errors import InputError, NotFittedError
from limelight.personalize.base import Interactions, Recommender
from limelight.scale.spark_scoring import score_all, score_all_local
from limelight.spine.engines import connect
from limelight.spine.pipelines import interactions as interactions_pipeline
from limelight.spine.world import build_demo_world


class CooccurrenceModel(Recommender):
    """A tiny item-item model: scores = history · (XᵀX with a zero diagonal), row-normalised."""

    name = "cooccurrence"

    def fit(self, interactions: Interactions) -> Self:
        x = (interactions.matrix > 0).astype(np.float32)
        gram = np.asarray((x.T @ x).toarray(), dtype=np.float32)
        np.fill_diagonal(gram, 0.0)
        self.weights_ = gram / (gram.sum(axis=1, keepdims=True) + 1.0)
        self.title_ids_ = interactions.title_ids
        return self

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        return np.asarray(history @ self.weights_, dtype=np.float32)


@pytest.fixture(scope="module")
def world_interactions(tmp_path_factory: pytest.TempPathFactory) -> Interactions:
    db = tmp_path_factory.mktemp("scale") / "world.duckdb"
    build_demo_world(db, events=6_000, seed=21, payments=False)
    frame = interactions_pipeline(connect("duckdb", db=db), source="events").to_pandas()
    return Interactions.from_frame(frame, weight_col="weight")


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["member_id", "rank"]).reset_index(drop=True)


def test_the_local_reference_is_recommend_in_long_form(world_interactions: Interactions) -> None:
    model = CooccurrenceModel().fit(world_interactions)
    local = score_all_local(model, world_interactions, k=5)
    assert len(local) == world_interactions.n_members * 5
    recs = model.recommend(world_interactions.matrix, 5)
    first = local[local["member_id"] == world_interactions.member_ids[0]]
    assert first["title_id"].tolist() == list(world_interactions.title_ids[recs.titles[0]])
    assert (first["rank"].to_numpy() == np.arange(1, 6)).all()


def test_scoring_refuses_a_bad_k_and_an_unfitted_model(world_interactions: Interactions) -> None:
    with pytest.raises(InputError, match="k must be an int"):
        score_all_local(CooccurrenceModel().fit(world_interactions), world_interactions, k=0)
    with pytest.raises(NotFittedError):
        score_all_local(CooccurrenceModel(), world_interactions, k=3)


@pytest.mark.spark
def test_spark_scores_every_member_with_the_same_lists_as_one_machine(
    spark: Any, world_interactions: Interactions, tmp_path: Path
) -> None:
    from pyspark import cloudpickle

    # Executors import models by module name; this test module is not importable there.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    tiny = CooccurrenceModel().fit(world_interactions)
    model: Recommender = tiny
    try:  # the real EASE where the models engineer's module is in the tree
        from limelight.personalize.models.ease import EASE

        model = EASE(regularization=50.0).fit(world_interactions)
    except ImportError:
        pass
    local = _sorted(score_all_local(model, world_interactions, k=10))
    distributed = score_all(model, world_interactions, k=10, spark=spark, partitions=3)
    got = _sorted(distributed.toPandas())
    assert got["member_id"].nunique() == world_interactions.n_members
    pd.testing.assert_frame_equal(
        got[["member_id", "title_id", "rank"]], local[["member_id", "title_id", "rank"]], check_dtype=False
    )
    np.testing.assert_allclose(got["score"], local["score"], rtol=1e-6)

    # A long Spark frame of (member_id, title_id, weight) gives the same lists as the matrix, and a
    # model class the executors cannot import travels by value.
    coo = world_interactions.matrix.tocoo()
    long = pd.DataFrame(
        {
            "member_id": world_interactions.member_ids[coo.row].astype(str),
            "title_id": world_interactions.title_ids[coo.col].astype(str),
            "weight": coo.data,
        }
    )
    from_long = _sorted(score_all(tiny, spark.createDataFrame(long), k=10, spark=spark).toPandas())
    local = _sorted(score_all_local(tiny, world_interactions, k=10))
    assert from_long["title_id"].tolist() == local["title_id"].tolist()


@pytest.mark.spark
def test_a_member_with_nearly_every_title_gets_only_unseen_ones_on_both_engines(spark: Any, tmp_path: Path) -> None:
    """Spark's lists used to fill up with the member's own titles at score -inf (330 rows against 295)."""
    from limelight.personalize.batch import recommend_file

    rows = [("all", f"t{j}") for j in range(8)] + [("most", f"t{j}") for j in range(6)]
    rows += [(f"m{i}", f"t{(i + j) % 8}") for i in range(10) for j in range(3)]
    path = tmp_path / "interactions.csv"
    pd.DataFrame(rows, columns=["member_id", "title_id"]).to_csv(path, index=False)
    lists = {}
    for engine in ("duckdb", "spark"):
        recommend_file(path, tmp_path / f"{engine}.csv", model="ease", k=5, engine=engine, spark=spark)
        lists[engine] = pd.read_csv(tmp_path / f"{engine}.csv", dtype={"member_id": str, "title_id": str})
    for engine, frame in lists.items():
        assert np.isfinite(frame["score"]).all(), engine
        assert "all" not in set(frame["member_id"]), engine  # nothing left to recommend
        assert sorted(frame.loc[frame["member_id"] == "most", "title_id"]) == ["t6", "t7"], engine
    pd.testing.assert_frame_equal(
        _sorted(lists["duckdb"])[["member_id", "title_id", "rank"]], _sorted(lists["spark"])[["member_id", "title_id", "rank"]]
    )


def test_a_sequence_model_is_refused_on_spark_before_any_training(tmp_path: Path) -> None:
    from limelight.errors import ConfigError
    from limelight.personalize.batch import recommend_file

    path = tmp_path / "interactions.csv"
    pd.DataFrame({"member_id": ["a", "b"], "title_id": ["x", "y"], "timestamp": [1, 2]}).to_csv(path, index=False)
    with pytest.raises(ConfigError, match="sasrec reads the order they watched in"):
        recommend_file(path, tmp_path / "out.csv", model="sasrec", k=5, engine="spark")
