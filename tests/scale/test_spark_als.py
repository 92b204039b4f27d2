"""Spark MLlib ALS returned as limelight's ALS: accuracy on a planted world, fold-in, save/load, scoring, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from limelight.errors import InputError, NotFoundError
from limelight.personalize.base import Interactions, Recommender
from limelight.personalize.metrics import ranking_metrics
from limelight.personalize.models.als import ALS
from limelight.personalize.testing import clustered_frame

pytestmark = pytest.mark.spark

N_CLUSTERS, PER_CLUSTER, FACTORS, ITERATIONS = 6, 12, 16, 5


def _planted_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Members who watch one taste cluster; each member's two latest titles are held out."""
    frame = clustered_frame(n_members=300, n_clusters=N_CLUSTERS, titles_per_cluster=PER_CLUSTER, per_member=7, seed=3)
    frame = frame.sort_values(["member_id", "timestamp"], kind="stable")
    latest = frame.groupby("member_id").cumcount(ascending=False) < 2
    train = frame[~latest].rename(columns={"rating": "weight"})[["member_id", "title_id", "weight"]]
    return train.reset_index(drop=True), frame[latest].reset_index(drop=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    train, test = _planted_split()
    folder = tmp_path_factory.mktemp("spark_als")
    path = folder / "interactions.parquet"
    train.to_parquet(path, index=False)
    return {"train": train, "test": test, "path": path, "interactions": Interactions.from_frame(train)}


@pytest.fixture(scope="module")
def mllib(world: dict[str, Any], spark: Any) -> ALS:
    from limelight.scale.spark_als import train_als_spark

    return train_als_spark(world["path"], spark=spark, factors=FACTORS, iterations=ITERATIONS, seed=7)


def _recall(model: Recommender, interactions: Interactions, test: pd.DataFrame, k: int = 10) -> float:
    names: list[str] = [str(t) for t in model.title_ids_]  # type: ignore[attr-defined]
    titles = pd.Index(names)
    members = pd.Index(interactions.member_ids)
    rows = members.get_indexer(pd.Index(test["member_id"]))
    cols = titles.get_indexer(pd.Index(test["title_id"]))
    truth = sp.csr_matrix(
        (np.ones(len(test), np.float32), (rows, cols)),
        shape=(interactions.n_members, len(titles)),
    )
    recs = model.recommend(interactions.matrix, k).titles
    return float(ranking_metrics(recs, truth, k)["recall"].mean())


def test_mllib_parameters_carry_limelights_confidence_and_regularization() -> None:
    from limelight.scale.spark_als import mllib_parameters

    interactions = Interactions.from_frame(_planted_split()[0])
    model = ALS(factors=FACTORS, regularization=0.02, unobserved_weight=0.25)
    ours = model.implicit_parameters(interactions)
    nnz = interactions.matrix.nnz
    theirs = mllib_parameters(model, interactions.n_members, interactions.n_titles, nnz)
    assert theirs["alpha"] == pytest.approx(ours["alpha"] - 1.0)  # MLlib: 1 + alpha·r; implicit: alpha
    assert theirs["implicit_regularization"] == pytest.approx(ours["regularization"])
    mean_u, mean_i = nnz / interactions.n_members, nnz / interactions.n_titles
    # ALS-WR: a member of mean frequency gets regParam·mean_u, a title regParam·mean_i; their
    # geometric mean is implicit's single λ'
    assert np.sqrt(theirs["regParam"] * mean_u * theirs["regParam"] * mean_i) == pytest.approx(ours["regularization"])


def test_mllib_als_hits_held_out_titles_far_above_popularity_and_close_to_implicit(
    world: dict[str, Any], mllib: ALS
) -> None:
    interactions = world["interactions"]
    implicit_model = ALS(factors=FACTORS, iterations=ITERATIONS, seed=7).fit(interactions)
    assert np.array_equal(mllib.title_ids_, implicit_model.title_ids_)
    assert mllib.title_factors_.shape == (interactions.n_titles, FACTORS)
    popular = interactions.matrix.getnnz(axis=0).astype(np.float32)

    class Popularity(Recommender):
        name = "popularity-check"

        def fit(self, data: Interactions) -> Popularity:
            self.title_ids_ = data.title_ids
            return self

        def score(self, history: sp.csr_matrix) -> np.ndarray:
            return np.tile(popular, (history.shape[0], 1))

    recall_mllib = _recall(mllib, interactions, world["test"])
    recall_implicit = _recall(implicit_model, interactions, world["test"])
    recall_popular = _recall(Popularity().fit(interactions), interactions, world["test"])
    # 10 of 72 titles: popularity hits ~1 in 7 of the held-out titles; taste clusters of 12 make ~0.8 possible
    assert recall_mllib > 3 * recall_popular
    assert recall_mllib > 0.6
    assert abs(recall_mllib - recall_implicit) < 0.1


def test_mllib_model_folds_in_a_new_member_and_round_trips_save_and_load(mllib: ALS, tmp_path: Path) -> None:
    cluster = 2
    taste = [f"t{cluster * PER_CLUSTER + i:03d}" for i in range(4)]
    history = mllib.history_for(taste)
    recs = mllib.recommend(history, 5).titles[0]
    picked = [int(str(mllib.title_ids_[i])[1:]) // PER_CLUSTER for i in recs]
    assert picked.count(cluster) >= 4
    assert not set(np.asarray(mllib.title_ids_)[recs]) & set(taste)
    assert mllib.explain(history, int(recs[0]))  # reasons come from the member's own titles

    loaded = Recommender.load(mllib.save(tmp_path / "mllib-als"))
    assert isinstance(loaded, ALS)
    np.testing.assert_allclose(loaded.score(history), mllib.score(history), rtol=1e-6)


def test_spark_scoring_gives_the_single_machine_lists_for_the_mllib_model(
    world: dict[str, Any], mllib: ALS, spark: Any
) -> None:
    from limelight.scale.spark_scoring import score_all, score_all_local

    local = score_all_local(mllib, world["interactions"], 5)
    got = score_all(mllib, world["train"], 5, spark=spark).toPandas()
    got = got.sort_values(["member_id", "rank"], kind="stable").reset_index(drop=True)
    local = local.sort_values(["member_id", "rank"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(
        got[["member_id", "title_id", "rank"]], local[["member_id", "title_id", "rank"]], check_dtype=False
    )


def test_a_parquet_without_title_id_is_refused_in_one_sentence(tmp_path: Path, spark: Any) -> None:
    from limelight.scale.spark_als import train_als_spark

    path = tmp_path / "bad.parquet"
    pd.DataFrame({"member_id": ["m1", "m2"], "weight": [1.0, 2.0]}).to_parquet(path, index=False)
    with pytest.raises(InputError, match="must have columns member_id and title_id; missing title_id") as caught:
        train_als_spark(path, spark=spark)
    assert "\n" not in str(caught.value)
    with pytest.raises(NotFoundError, match="does not exist"):
        train_als_spark(tmp_path / "nowhere.parquet", spark=spark)
    with pytest.raises(InputError, match="'weight' column"):
        train_als_spark(pd.DataFrame({"member_id": ["m1"], "title_id": ["t1"]}), spark=spark)


def test_recommend_on_spark_trains_als_with_mllib_and_mllib_off_spark_is_refused(tmp_path: Path, spark: Any) -> None:
    from limelight.personalize.batch import recommend_file

    source = tmp_path / "interactions.csv"
    _planted_split()[0].rename(columns={"weight": "rating"}).to_csv(source, index=False)
    out = tmp_path / "top.csv"
    result = recommend_file(
        source, out, k=4, model="als", engine="spark", params={"factors": 8, "iterations": 3}, spark=spark
    )
    assert result.trainer == "mllib"
    written = pd.read_csv(out, dtype={"member_id": str, "title_id": str})
    assert written.groupby("member_id").size().eq(4).all()
    seen = set(zip(*pd.read_csv(source, dtype=str)[["member_id", "title_id"]].to_numpy().T, strict=True))
    assert not seen & set(zip(written["member_id"], written["title_id"], strict=True))
    with pytest.raises(InputError, match="trainer 'mllib' must go with --model als and --engine spark"):
        recommend_file(source, tmp_path / "x.csv", model="als", engine="duckdb", trainer="mllib")


def test_a_parquet_file_trains_and_scores_on_spark_without_gathering_on_the_driver(
    tmp_path: Path, spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import limelight.personalize.batch as batch

    train = _planted_split()[0].rename(columns={"weight": "rating"})
    source = tmp_path / "interactions.parquet"
    train.rename(columns={"member_id": " Member_ID "}).to_parquet(source, index=False)  # names as users write them

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the interactions were read on the driver")

    monkeypatch.setattr(batch, "read_interactions", never)
    out = tmp_path / "top.parquet"
    result = batch.recommend_file(
        source, out, k=4, model="als", engine="spark", params={"factors": 8, "iterations": 3}, spark=spark
    )
    assert result.trainer == "mllib" and result.n_members == train["member_id"].nunique()
    written = pd.read_parquet(out)
    assert written.groupby("member_id").size().eq(4).all()
    assert set(written["member_id"]) == set(train["member_id"])
    seen = set(zip(train["member_id"], train["title_id"], strict=True))
    assert not seen & set(zip(written["member_id"], written["title_id"], strict=True))


def test_a_parquet_file_on_spark_with_bad_rows_is_refused_with_one_sentence(tmp_path: Path, spark: Any) -> None:
    from limelight.errors import DataError
    from limelight.personalize.batch import recommend_file

    train = _planted_split()[0]
    holes = train.astype({"member_id": object}).copy()
    holes.loc[[3, 9], "member_id"] = None
    cases = {"holes.parquet": (holes, "member_id must not be empty, got 2 rows without one"),
             "no_title.parquet": (train.drop(columns="title_id"), "the file must have a 'title_id' column"),
             "empty.parquet": (train.iloc[:0], "at least one interaction row")}
    for name, (frame, phrase) in cases.items():
        frame.to_parquet(tmp_path / name, index=False)
        with pytest.raises(DataError, match=phrase) as caught:
            recommend_file(tmp_path / name, tmp_path / "x.csv", model="als", engine="spark", spark=spark)
        assert name in str(caught.value)


def test_the_spark_path_reads_a_file_as_the_in_process_path_does(tmp_path: Path, spark: Any) -> None:
    """From a Spark-engine audit: a file that is not Parquet was a Java stack, an unfinished Spark write
    was read as complete, MovieLens' own headers were refused and " M1"/"M1 " were three members."""
    from limelight.errors import DataError
    from limelight.personalize.batch import recommend_file

    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"PAR1" + b"x" * 3000)
    with pytest.raises(DataError, match=r"garbage\.parquet: the file must be readable Parquet") as caught:
        recommend_file(garbage, tmp_path / "x.csv", model="als", engine="spark", spark=spark)
    assert "\n" not in str(caught.value)

    unfinished = tmp_path / "unfinished.parquet"
    unfinished.mkdir()
    pd.DataFrame({"member_id": ["m1"], "title_id": ["t1"]}).to_parquet(unfinished / "part-0.parquet")
    (unfinished / "_temporary").mkdir()
    with pytest.raises(DataError, match="unfinished Spark write"):
        recommend_file(unfinished, tmp_path / "x.csv", model="als", engine="spark", spark=spark)

    train = _planted_split()[0]
    movielens = train.rename(columns={"member_id": "userId", "title_id": "movieId"})
    movielens.loc[movielens.index[:5], "userId"] = " " + movielens["userId"].iloc[:5].astype(str) + " "
    movielens.to_parquet(tmp_path / "ml.parquet", index=False)
    lists = {}
    for engine in ("spark", "duckdb"):
        out = tmp_path / f"recs-{engine}.csv"
        recommend_file(tmp_path / "ml.parquet", out, model="als", engine=engine, spark=spark,
                       trainer="mllib" if engine == "spark" else None)
        lists[engine] = pd.read_csv(out)
    assert set(lists["spark"]["member_id"]) == set(lists["duckdb"]["member_id"])  # the same members


@pytest.mark.parametrize(("ids", "shown"), [([[1, 2], [3]], "array<bigint>"), ([True, False], "boolean"),
                                            ([1.0, 2.5], "double")])
def test_a_parquet_id_spark_cannot_name_is_refused_as_the_in_process_reader_refuses_it(
    tmp_path: Path, spark: Any, ids: list[Any], shown: str
) -> None:
    """`--model als --engine spark` on Parquet skipped the type checks: a list id was written out as "[1, 2]"."""
    from limelight.errors import DataError
    from limelight.personalize.batch import recommend_file

    path = tmp_path / "odd.parquet"
    pd.DataFrame({"member_id": ids, "title_id": ["t1", "t2"]}).to_parquet(path, index=False)
    with pytest.raises(DataError, match=f"member_id must hold text or whole numbers, got {shown} values"):
        recommend_file(path, tmp_path / "o.csv", model="als", engine="spark", spark=spark)
    assert not (tmp_path / "o.csv").exists()


def test_an_empty_result_on_spark_keeps_its_column_types(tmp_path: Path, spark: Any) -> None:
    """Every member had seen every title: Spark wrote member_id and title_id as null-typed Parquet columns."""
    import pyarrow.parquet as pq

    from limelight.personalize.batch import recommend_file

    path = tmp_path / "allseen.csv"
    path.write_text("member_id,title_id\nA,T1\nA,T2\nB,T1\nB,T2\n")
    schemas = {}
    for engine in ("duckdb", "spark"):
        out = tmp_path / f"{engine}.parquet"
        recommend_file(path, out, model="ease", engine=engine, spark=spark if engine == "spark" else None)
        schemas[engine] = pq.read_schema(out).remove_metadata()
        assert pq.read_table(out).num_rows == 0
        assert str(schemas[engine].field("member_id").type) == "string", engine
    assert schemas["spark"].equals(schemas["duckdb"]), (schemas["spark"], schemas["duckdb"])  # rank int32 on both
