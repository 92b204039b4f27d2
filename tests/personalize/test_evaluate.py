"""The harness end to end, including the proof that nothing leaks from test into training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from limelight.personalize.base import Interactions
from limelight.personalize.evaluate import chance_precision, evaluate, evaluate_split
from limelight.personalize.models import EASE, ItemKNN
from limelight.personalize.splits import Split, canonical_frame, make_split
from limelight.personalize.testing import clustered_frame


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    # uniform title popularity, so only member-title associations carry signal
    return clustered_frame(n_members=240, n_clusters=8, titles_per_cluster=15, per_member=10, seed=11)


def test_model_trained_on_shuffled_labels_scores_at_chance_and_a_real_model_far_above(frame: pd.DataFrame) -> None:
    split = make_split(canonical_frame(frame), "random", seed=3)
    chance = chance_precision(split, 10)
    real = evaluate_split(split, EASE(regularization=20.0), 10).metrics["precision@10"]
    coo = split.train.matrix.tocoo()
    rng = np.random.default_rng(0)
    shuffled_train = Interactions(
        matrix=type(split.train.matrix)(
            (coo.data, (coo.row, rng.permutation(coo.col))), shape=split.train.matrix.shape
        ),
        member_ids=split.train.member_ids,
        title_ids=split.train.title_ids,
    )
    shuffled_split = Split(split.protocol, shuffled_train, split.member_ids, split.history, split.truth)
    broken = evaluate_split(shuffled_split, EASE(regularization=20.0), 10).metrics["precision@10"]
    assert broken.low <= chance * 1.5
    assert abs(broken.mean - chance) < 3 * (broken.high - broken.mean) + 0.01
    assert real.low > 4 * chance


@pytest.mark.parametrize("protocol", ["random", "leave-last-out", "strong-generalization", "temporal"])
def test_every_protocol_reports_every_metric_with_an_interval(frame: pd.DataFrame, protocol: str) -> None:
    report = evaluate(frame, protocol=protocol, model=ItemKNN(k=20), k=5, seed=1)
    names = {"ndcg@5", "recall@5", "precision@5", "map@5", "catalog_coverage", "novelty", "intra_list_diversity"}
    assert set(report.metrics) == names
    ndcg = report.metrics["ndcg@5"]
    assert 0 <= ndcg.low <= ndcg.mean <= ndcg.high <= 1.0 + 1e-9
    assert ndcg.mean > 0.2  # clusters are easy to learn under every protocol
    assert report.as_dict()["n_members"] == report.n_members > 0


def test_real_movielens_small_random_split_runs_end_to_end(shared_data) -> None:  # type: ignore[no-untyped-def]
    ratings = pd.read_csv(shared_data / "movielens" / "ml-latest-small" / "ratings.csv")
    ratings = ratings[ratings["userId"] <= 150]  # keep it quick
    report = evaluate(ratings, protocol="random", model=ItemKNN(k=50), k=10, member_col="userId",
                      title_col="movieId")
    assert report.n_members == 150
    assert 0.15 < report.metrics["ndcg@10"].mean < 0.7


def test_k_beyond_the_catalog_says_so_in_words_of_the_catalog() -> None:
    from limelight.errors import InputError

    tiny = pd.DataFrame({"member_id": list("aaaabbbbcccc"), "title_id": list("wxyzwxyzwxyz"), "timestamp": range(12)})
    with pytest.raises(InputError, match=r"k must be at most the number of titles in the training data \(\d\), got 10"):
        evaluate(tiny, protocol="random", model="popularity", k=10)


def test_equal_scores_are_ranked_in_title_order_whatever_argpartition_does() -> None:
    from limelight.personalize.base import top_k_rows

    scores = np.array([[1, 3, 3, 3, 0, 3], [-np.inf, -np.inf, -np.inf, 1, -np.inf, 2]], dtype=np.float32)
    titles, best = top_k_rows(scores, 3)
    assert titles.tolist() == [[1, 2, 3], [5, 3, 0]]  # ties at 3 (and the seen titles at −inf): lowest first
    assert best[1].tolist() == [2.0, 1.0, -np.inf]
    flat = np.ones((50, 400), dtype=np.float32)  # a popularity model on a catalog of equals
    assert (top_k_rows(flat, 10)[0] == np.arange(10)).all()
