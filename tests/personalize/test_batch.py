"""Batch mode: a file in, every member's top-K out, bad files refused with one sentence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from limelight.cli.app import main
from limelight.errors import DataError, NotFoundError
from limelight.personalize.batch import read_interactions, recommend_file
from limelight.personalize.testing import clustered_frame


@pytest.fixture()
def interactions_csv(tmp_path: Path) -> Path:
    path = tmp_path / "interactions.csv"
    clustered_frame(n_members=40).to_csv(path, index=False)
    return path


def _check_lists(frame: pd.DataFrame, source: pd.DataFrame, k: int) -> None:
    assert list(frame.columns) == ["member_id", "title_id", "rank", "score"]
    assert frame.groupby("member_id").size().eq(k).all()
    assert set(frame["member_id"].astype(str)) == set(source["member_id"].astype(str))
    seen = set(zip(source["member_id"].astype(str), source["title_id"].astype(str)))
    assert not seen & set(zip(frame["member_id"].astype(str), frame["title_id"].astype(str)))
    assert frame.groupby("member_id")["rank"].apply(lambda r: list(r) == list(range(1, k + 1))).all()


@pytest.mark.parametrize("model", ["popularity", "itemknn", "ease", "als"])
def test_every_member_gets_k_unseen_titles_in_rank_order(interactions_csv: Path, tmp_path: Path, model: str) -> None:
    out = tmp_path / "recs.csv"
    result = recommend_file(interactions_csv, out, k=4, model=model)
    assert result.n_members == 40 and result.n_rows == 160
    _check_lists(pd.read_csv(out, dtype={"member_id": str, "title_id": str}), pd.read_csv(interactions_csv), 4)


def test_parquet_in_and_out_with_iso_timestamps(tmp_path: Path) -> None:
    frame = clustered_frame(n_members=20)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="s", utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    source = tmp_path / "in.parquet"
    frame.to_parquet(source)
    out = tmp_path / "out.parquet"
    recommend_file(source, out, k=3, model="ease")
    _check_lists(pd.read_parquet(out), frame, 3)


def test_ratings_in_the_file_reach_a_rating_weighted_model_only(interactions_csv: Path, tmp_path: Path) -> None:
    # one row per pair: a pair listed twice would count 2, a strength of its own
    rated = pd.read_csv(interactions_csv).drop_duplicates(["member_id", "title_id"])
    rated_csv, plain_csv = tmp_path / "rated_in.csv", tmp_path / "plain.csv"
    rated.to_csv(rated_csv, index=False)
    rated.drop(columns="rating").to_csv(plain_csv, index=False)
    runs = {}
    for name, source, params in [("rated", rated_csv, {"rating_weight": 0.5}),
                                 ("plain", plain_csv, {"rating_weight": 0.5}),
                                 ("unweighted", rated_csv, {})]:
        recommend_file(source, tmp_path / f"{name}.csv", k=5, model="ease", params=params)
        runs[name] = pd.read_csv(tmp_path / f"{name}.csv")
    assert not runs["rated"]["score"].equals(runs["plain"]["score"])  # the stars moved the scores
    pd.testing.assert_frame_equal(runs["plain"], runs["unweighted"])  # no stars, or no weight: plain EASE


def test_empty_member_id_names_file_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("member_id,title_id,rating\nm1,t1,4\n,t2,5\n")
    with pytest.raises(DataError) as info:
        read_interactions(path)
    assert str(info.value) == f"{path}, row 3, column 'member_id': member_id must not be empty"


def test_bad_rating_and_bad_timestamp_are_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("member_id,title_id,rating,timestamp\nm1,t1,4,1600000000\nm2,t2,five,1600000001\n")
    with pytest.raises(DataError, match=r"row 3, column 'rating': rating must be a number, got 'five'"):
        read_interactions(path)
    path.write_text("member_id,title_id,timestamp\nm1,t1,2024-01-01\nm2,t2,yesterday\n")
    with pytest.raises(DataError, match=r"row 3, column 'timestamp': timestamp must be epoch seconds or an ISO"):
        read_interactions(path)


def test_missing_column_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("user,title_id\nm1,t1\n")
    with pytest.raises(DataError, match="must have a 'member_id' column"):
        read_interactions(path)
    with pytest.raises(NotFoundError, match="does not exist"):
        read_interactions(tmp_path / "nowhere.csv")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        # DuckDB's sniffer read these as one odd column, or refused them with its own class names
        ("ragged.csv", b"member_id,title_id\nm1,t1\nm1,t2,3,99\nm2,t3\n", "row 3: has 4 fields where the header has 2"),
        ("empty.csv", b"", "the file is empty"),
        ("binary.csv", bytes(range(256)) * 4, "is not utf-8 text"),
        ("fake.parquet", b"PAR1 not really", "the file must be readable Parquet ("),
    ],
)
def test_an_unreadable_interactions_file_is_named_with_its_line(tmp_path: Path, name: str, content: bytes,
                                                                 message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        read_interactions(path)
    assert message in str(info.value) and "Error:" not in str(info.value), str(info.value)


def test_a_blank_line_counts_in_the_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("member_id,title_id\nm1,t1\n\nm2,t2,extra\n")
    with pytest.raises(DataError, match="row 4: has 3 fields"):
        read_interactions(path)


def test_cli_bad_file_is_one_sentence_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("member_id,title_id\nm1,\n")
    with pytest.raises(SystemExit) as info:
        main(["recommend", "--interactions", str(path), "--out", str(tmp_path / "o.csv")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "row 2, column 'title_id'" in err and "Traceback" not in err


def _run(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0


def test_cli_recommend_and_evaluate_print_json(
    interactions_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "recs.csv"
    _run(["recommend", "--interactions", str(interactions_csv), "--k", "3", "--out", str(out), "--model",
          "itemknn", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 120 and Path(summary["out"]).exists()
    _run(["evaluate", "--interactions", str(interactions_csv), "--protocol", "leave-last-out", "--model", "ease",
          "--k", "5", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["protocol"] == "leave-last-out"
    assert 0 <= report["metrics"]["ndcg@5"]["low"] <= report["metrics"]["ndcg@5"]["mean"] <= 1


def test_cli_unknown_model_and_protocol_are_refused(
    interactions_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["recommend", "--interactions", str(interactions_csv), "--out", str(tmp_path / "o.csv"), "--model", "bpr"])
    assert info.value.code == 2
    assert "model must be one of" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["evaluate", "--interactions", str(interactions_csv), "--protocol", "sampled"])
    assert info.value.code == 2
    assert "protocol must be one of" in capsys.readouterr().err


def test_cli_params_reach_the_model_and_a_bad_params_is_one_sentence(
    interactions_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(["evaluate", "--interactions", str(interactions_csv), "--model", "ease", "--params",
          '{"regularization": 7.5}', "--json"])
    assert json.loads(capsys.readouterr().out)["details"]["params"]["regularization"] == 7.5
    out = tmp_path / "recs.csv"
    _run(["recommend", "--interactions", str(interactions_csv), "--k", "3", "--out", str(out), "--params",
          '{"max_seconds": 0.001}', "--json"])  # auto with its search cut short still writes every list
    assert json.loads(capsys.readouterr().out)["rows"] == 120
    for bad, says in (("{regularization: 1}", "--params must be a JSON object"), ("[1, 2]", "--params must be a JSON object"),
                      ('{"lambda": 1}', "parameters of model 'ease'"),
                      ('{"regularization": -5}', "'regularization' parameter of EASE")):
        with pytest.raises(SystemExit) as info:
            main(["evaluate", "--interactions", str(interactions_csv), "--model", "ease", "--params", bad])
        err = capsys.readouterr().err
        assert info.value.code == 2 and says in err and "Traceback" not in err


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.parametrize("params", [{}, {"rating_weight": 0.5}], ids=["plain", "rating-weighted"])
def test_spark_engine_writes_the_same_lists_as_duckdb(
    interactions_csv: Path, tmp_path: Path, params: dict[str, float], spark: Any
) -> None:
    # `spark`: skipped, not failed, where Java or pyspark is missing (the command starts its own session)
    local = tmp_path / "local.csv"
    spark = tmp_path / "spark.csv"
    recommend_file(interactions_csv, local, k=5, model="ease", params=params)
    recommend_file(interactions_csv, spark, k=5, model="ease", engine="spark", params=params)
    a = pd.read_csv(local, dtype={"member_id": str, "title_id": str})
    b = pd.read_csv(spark, dtype={"member_id": str, "title_id": str})
    a = a.sort_values(["member_id", "rank"]).reset_index(drop=True)
    b = b.sort_values(["member_id", "rank"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[["member_id", "title_id", "rank"]], b[["member_id", "title_id", "rank"]])
    assert (a["score"] - b["score"]).abs().max() < 1e-5


def test_blocked_factor_top_k_equals_the_full_sort_and_skips_excluded() -> None:
    import numpy as np
    import scipy.sparse as sp

    from limelight.personalize.batch import top_k_from_factors

    rng = np.random.default_rng(0)
    members, titles = rng.normal(size=(53, 6)), rng.normal(size=(40, 6))
    exclude = sp.random(53, 40, density=0.1, random_state=1, format="csr")
    top, scores = top_k_from_factors(members, titles, 5, exclude=exclude, block_size=7)
    full = members @ titles.T
    full[exclude.toarray() > 0] = -np.inf
    np.testing.assert_array_equal(top, np.argsort(-full, axis=1, kind="stable")[:, :5])
    np.testing.assert_allclose(scores, np.take_along_axis(full, top, axis=1), rtol=1e-5)


def test_member_who_has_almost_everything_gets_only_unseen_titles(tmp_path: Path) -> None:
    rows = [("m1", f"t{i}") for i in range(6)] + [("m2", "t0"), ("m2", "t1")]
    path = tmp_path / "few.csv"
    pd.DataFrame(rows, columns=["member_id", "title_id"]).to_csv(path, index=False)
    out = tmp_path / "out.csv"
    recommend_file(path, out, k=5, model="popularity")
    recs = pd.read_csv(out)
    assert recs[recs["member_id"] == "m1"].empty
    assert len(recs[recs["member_id"] == "m2"]) == 4


def test_cli_one_members_list_with_reasons_and_evaluate_on_the_spine(capsys: pytest.CaptureFixture[str]) -> None:
    from home_world import shared_store_path

    from limelight.spine.store import Store

    db = shared_store_path()
    with Store(db, read_only=True) as store:
        member = str(store.query("SELECT min(member_id) AS m FROM viewing_events")["m"].iloc[0])
    _run(["recommend", member, "--db", str(db), "--k", "3", "--json"])
    items = json.loads(capsys.readouterr().out)
    assert len(items) == 3 and all(item["reason"] for item in items)
    _run(["evaluate", "--db", str(db), "--protocol", "random", "--model", "itemknn", "--k", "5", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["n_members"] > 0 and report["metrics"]["ndcg@5"]["mean"] > 0


def test_cli_recommend_defaults_to_auto_and_says_what_it_chose(
    interactions_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "recs.csv"
    _run(["recommend", "--interactions", str(interactions_csv), "--k", "3", "--out", str(out), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 120
    _check_lists(pd.read_csv(out, dtype={"member_id": str, "title_id": str}), pd.read_csv(interactions_csv), 3)
    assert summary["model"] == "auto"
    assert summary["chosen"] and all(choice["weight"] > 0 for choice in summary["chosen"])


def test_an_empty_rating_is_still_an_interaction(tmp_path: Path) -> None:
    frame = clustered_frame(n_members=20).drop_duplicates(["member_id", "title_id"])
    frame["rating"] = frame["rating"].astype(object)
    frame.iloc[0, frame.columns.get_loc("rating")] = None  # member m000's first title, rating left empty
    source = tmp_path / "in.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "out.csv"
    recommend_file(source, out, k=5, model="ease", params={"rating_weight": 0.5})
    recs = pd.read_csv(out, dtype={"member_id": str, "title_id": str})
    _check_lists(recs, frame, 5)  # the empty-rated title counts as seen: never recommended back
    assert frame.iloc[0]["title_id"] not in set(recs.loc[recs["member_id"] == frame.iloc[0]["member_id"], "title_id"])


def test_batch_recommend_takes_its_engine_from_the_settings_when_not_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli_runner import run_cli
    from limelight.settings import get_settings

    path = tmp_path / "i.csv"
    pd.DataFrame({"member_id": ["a", "b"], "title_id": ["x", "y"]}).to_csv(path, index=False)
    monkeypatch.setenv("LIMELIGHT_ENGINE", "flink")
    get_settings.cache_clear()
    try:
        code, _, err = run_cli(capsys, "recommend", "--interactions", str(path), "--out", str(tmp_path / "o.csv"))
    finally:
        monkeypatch.delenv("LIMELIGHT_ENGINE")
        get_settings.cache_clear()
    assert code == 2 and "LIMELIGHT_ENGINE input should be 'duckdb' or 'spark', got 'flink'" in err, err


def test_movielens_own_ratings_file_is_read_as_interactions(tmp_path: Path) -> None:
    """userId,movieId,rating,timestamp — the file a newcomer reaches for first — used to be refused."""
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n2,10,4.0,835355493\n")
    frame = read_interactions(path)
    assert list(frame.columns[:2]) == ["member_id", "title_id"] and len(frame) == 3
    assert frame["member_id"].tolist() == ["1", "1", "2"]


def test_store_interactions_are_one_row_per_pair_in_a_fixed_order(tmp_path: Path) -> None:
    """Unordered, DuckDB's parallel scan gave another row order each run, and a split drawn by row
    position gave another nDCG from the same store."""
    from limelight.personalize.batch import read_store_interactions
    from limelight.spine.world import build_demo_world

    build_demo_world(tmp_path / "w.duckdb", events=2_000, seed=3)
    first = read_store_interactions(tmp_path / "w.duckdb")
    second = read_store_interactions(tmp_path / "w.duckdb")
    pd.testing.assert_frame_equal(first, second)
    assert not first.duplicated(["member_id", "title_id"]).any()
    assert list(zip(first["member_id"], first["title_id"], strict=True)) == sorted(
        zip(first["member_id"], first["title_id"], strict=True))


def test_a_quoted_id_is_its_own_id_not_merged_with_the_unquoted_one(tmp_path: Path) -> None:
    """DuckDB's sniffer took "'" for the quote character: members '1' and 1 became one member."""
    path = tmp_path / "sq.csv"
    path.write_text("member_id,title_id\n'1',x\n1,y\n2,x\n2,z\n3,y\n")
    frame = read_interactions(path)
    assert frame["member_id"].tolist() == ["'1'", "1", "2", "2", "3"]
    out = tmp_path / "o.csv"
    result = recommend_file(path, out, k=3, model="popularity")
    assert result.n_members == 4 and set(pd.read_csv(out, dtype=str)["member_id"]) == {"'1'", "1", "2", "3"}


@pytest.mark.parametrize(("rows", "says"), [
    ("1,a,inf\n", "row 2, column 'rating': rating must be a finite number between -1e\\+09 and 1e\\+09, got 'inf'"),
    ("1,a,1e39\n", "rating must be a finite number"),  # past float32's range
    ("1,a,-3e38\n1,d,3e38\n", "row 2, column 'rating': .* got '-3e38'"),  # in float32's range; the shift overflowed
])
def test_a_non_finite_rating_is_refused_not_an_empty_output(tmp_path: Path, rows: str, says: str) -> None:
    """One inf rating made every strength NaN: "wrote 0 rows", exit 0, and evaluate scored chance."""
    path = tmp_path / "r.csv"
    path.write_text("member_id,title_id,rating\n" + rows + "1,b,3\n2,a,4\n2,c,5\n3,b,2\n3,c,1\n")
    with pytest.raises(DataError, match=says):
        read_interactions(path)


@pytest.mark.parametrize("sep", ["\t", ";", "|"])
def test_other_separators_are_still_detected(tmp_path: Path, sep: str) -> None:
    path = tmp_path / ("r.txt" if sep == "\t" else "r.csv")
    path.write_text(sep.join(["member_id", "title_id", "rating"]) + "\n" + sep.join(["1", "a", "4"]) + "\n"
                    + sep.join(["2", "b", "3"]) + "\n")
    assert read_interactions(path)["title_id"].tolist() == ["a", "b"]


def test_a_far_timestamp_is_refused_not_wrapped(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("member_id,title_id,timestamp\n1,a,100\n1,b,1e20\n")
    with pytest.raises(DataError, match=r"row 3, column 'timestamp': .*milliseconds\?"):
        read_interactions(path)


@pytest.mark.parametrize(("column", "values", "says"), [
    ("member_id", [[1, 2], [3]], "member_id must hold text or whole numbers, got"),
    ("member_id", [True, False], "member_id must hold text or whole numbers, got"),
    ("timestamp", [True, False], "timestamp must hold epoch seconds"),
])
def test_parquet_columns_of_a_type_no_interaction_has_are_refused(
    tmp_path: Path, column: str, values: list[Any], says: str
) -> None:
    frame = pd.DataFrame({"member_id": ["1", "2"], "title_id": ["a", "b"], column: values})
    path = tmp_path / "bad.parquet"
    frame.to_parquet(path)
    with pytest.raises(DataError, match=says):
        read_interactions(path)


def test_a_title_rated_twice_counts_once_at_its_latest_rating(tmp_path: Path) -> None:
    """Summed, a 5 given twice was a strength of 11: the shipped lists were not the evaluated model's."""
    base = "member_id,title_id,rating,timestamp\n" + "".join(
        f"{m},{t},{(m + t) % 5 + 1},{100 + 10 * m + t}\n" for m in range(1, 30) for t in range(8) if (m * t) % 3
    )
    once, twice = tmp_path / "once.csv", tmp_path / "twice.csv"
    once.write_text(base)
    twice.write_text(base + "".join(line + "\n" for line in base.splitlines()[1:6]))
    params = {"rating_weight": 0.4, "regularization": 5.0}
    recommend_file(once, tmp_path / "a.csv", k=3, model="ease", params=params)
    recommend_file(twice, tmp_path / "b.csv", k=3, model="ease", params=params)
    assert pd.read_csv(tmp_path / "a.csv").equals(pd.read_csv(tmp_path / "b.csv"))


def test_a_folder_is_named_as_a_folder(tmp_path: Path) -> None:
    for name in ("dir.csv", "plaindir"):  # (a folder named .parquet is a Spark output, read as one table)
        (tmp_path / name).mkdir()
        with pytest.raises(DataError, match="is a folder, not a file"):
            read_interactions(tmp_path / name)


def test_a_limelight_error_raised_in_a_spark_worker_comes_back_as_itself() -> None:
    from limelight.personalize.batch import _worker_error

    java = RuntimeError("An exception was thrown from the Python worker.\n  File \"batch.py\", line 297\n"
                        "limelight.errors.DataError: the model scored 3 titles as NaN; nothing was written\n"
                        "\tat org.apache.spark.api.python.BasePythonRunner")
    got = _worker_error(java)
    assert isinstance(got, DataError) and str(got) == "the model scored 3 titles as NaN; nothing was written"
    other = RuntimeError("java.lang.OutOfMemoryError")
    assert _worker_error(other) is other
