"""Every protocol keeps held-out interactions out of training and out of the visible history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from limelight.errors import InputError
from limelight.personalize.splits import (
    canonical_frame,
    leave_last_out_split,
    make_split,
    random_by_title_split,
    random_split,
    strong_generalization_split,
    temporal_split,
)
from limelight.personalize.testing import clustered_frame


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return canonical_frame(clustered_frame(n_members=60, per_member=8, titles_per_cluster=12, seed=4))


def _pairs(split, matrix) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    coo = matrix.tocoo()
    return {(split.member_ids[r], split.train.title_ids[c]) for r, c in zip(coo.row, coo.col)}


@pytest.mark.parametrize("protocol", ["random", "random-by-title", "leave-last-out", "strong-generalization", "temporal"])
def test_held_out_pairs_never_appear_in_training_or_history(frame: pd.DataFrame, protocol: str) -> None:
    split = make_split(frame, protocol, seed=1)
    train_coo = split.train.matrix.tocoo()
    train_pairs = {
        (split.train.member_ids[r], split.train.title_ids[c]) for r, c in zip(train_coo.row, train_coo.col)
    }
    truth = _pairs(split, split.truth)
    assert truth
    assert not truth & train_pairs
    assert not truth & _pairs(split, split.history)
    assert split.history.shape == split.truth.shape


def test_random_split_holds_out_a_quarter_of_each_member(frame: pd.DataFrame) -> None:
    split = random_split(frame, test_fraction=0.25, seed=3)
    per_member = frame.groupby("member_id").size()
    held = split.truth.getnnz(axis=1)
    expected = per_member.loc[split.member_ids].to_numpy() - np.round(per_member.loc[split.member_ids] * 0.75)
    assert (held <= expected.to_numpy() if hasattr(expected, "to_numpy") else expected).all()
    assert held.sum() / len(frame) == pytest.approx(0.25, abs=0.05)


def test_random_by_title_split_holds_out_a_quarter_of_each_titles_members(frame: pd.DataFrame) -> None:
    """Microsoft Recommenders' notebook splits per item (`python_stratified_split(filter_by="item")`)."""
    split = random_by_title_split(frame, test_fraction=0.25, seed=3)
    per_title = frame.groupby("title_id").size()
    held = pd.Series(np.asarray(split.truth.sum(axis=0)).ravel(), index=split.train.title_ids)
    trained = pd.Series(split.train.matrix.getnnz(axis=0), index=split.train.title_ids)
    expected_train = np.maximum(np.round(per_title.loc[trained.index] * 0.75), 1)
    assert (trained == expected_train).all()  # each title: round(75%) of its members train, at least one
    assert (held <= per_title.loc[held.index] - expected_train).all()
    assert make_split(frame, "random-by-title", seed=3).truth.nnz == split.truth.nnz


def test_random_split_depends_only_on_the_seed(frame: pd.DataFrame) -> None:
    a, b, c = random_split(frame, seed=5), random_split(frame, seed=5), random_split(frame, seed=6)
    assert (a.truth != b.truth).nnz == 0
    assert (a.truth != c.truth).nnz > 0


def test_leave_last_out_holds_out_each_members_latest_title(frame: pd.DataFrame) -> None:
    split = leave_last_out_split(frame, seed=0)
    assert (split.truth.getnnz(axis=1) == 1).all()
    latest = frame.sort_values("timestamp").groupby("member_id")["title_id"].last()
    for row, member in enumerate(split.member_ids[:10]):
        held = split.train.title_ids[split.truth[row].indices[0]]
        assert held == latest[member]


def test_leave_last_out_on_a_sample_of_members_keeps_the_others_latest_titles_in_training(
    frame: pd.DataFrame,
) -> None:
    everyone = leave_last_out_split(frame, seed=0)
    sample = leave_last_out_split(frame, seed=0, max_members=10)
    assert sample.n_members == 10 and set(sample.member_ids) < set(everyone.member_ids)
    assert sample.train.matrix.nnz == everyone.train.matrix.nnz + everyone.n_members - 10
    latest = frame.sort_values("timestamp").groupby("member_id")["title_id"].last()
    for row, member in enumerate(sample.member_ids):
        assert sample.train.title_ids[sample.truth[row].indices[0]] == latest[member]
    assert leave_last_out_split(frame, seed=0, max_members=10_000).n_members == everyone.n_members
    with pytest.raises(InputError, match="max_members"):
        leave_last_out_split(frame, max_members=0)


def test_temporal_split_trains_only_on_the_past(frame: pd.DataFrame) -> None:
    split = temporal_split(frame, test_fraction=0.3)
    assert split.train.last_at is not None
    train_end = split.train.last_at.data.max()
    cutoff = np.quantile(frame["timestamp"], 0.7)
    assert train_end <= cutoff
    held = frame[frame["timestamp"] > cutoff]
    assert split.truth.nnz <= len(held)


def test_strong_generalization_evaluates_only_members_never_trained_on(frame: pd.DataFrame) -> None:
    split = strong_generalization_split(frame, heldout_members=12, seed=2)
    assert not set(split.member_ids) & set(split.train.member_ids)
    assert len(split.member_ids) <= 12
    shares = split.truth.getnnz(axis=1) / (split.truth.getnnz(axis=1) + split.history.getnnz(axis=1))
    assert shares.mean() == pytest.approx(0.2, abs=0.08)


def test_protocols_needing_time_refuse_frames_without_it() -> None:
    frame = canonical_frame(clustered_frame().drop(columns=["timestamp"]))
    with pytest.raises(InputError, match="must have a timestamp column"):
        make_split(frame, "leave-last-out")
    with pytest.raises(InputError, match="protocol must be one of"):
        make_split(frame, "sampled")


@pytest.mark.parametrize("protocol", ["random", "strong-generalization"])
def test_ratings_reach_training_and_history_while_relevance_stays_binary(frame: pd.DataFrame, protocol: str) -> None:
    split = make_split(frame, protocol, seed=1)
    stars = frame.set_index(["member_id", "title_id"])["rating"]
    coo = split.history.tocoo()
    seen = [stars[(split.member_ids[r], split.train.title_ids[c])] for r, c in zip(coo.row, coo.col)]
    np.testing.assert_allclose(coo.data, seen)  # the history a model folds in carries each rating
    assert len(set(split.train.matrix.data.tolist())) > 1
    assert set(split.truth.data.tolist()) == {1.0}  # a held-out 1-star title is as relevant as a 5-star one


def test_a_frame_without_ratings_gets_strength_one(frame: pd.DataFrame) -> None:
    plain = canonical_frame(clustered_frame(n_members=10).drop(columns="rating"))
    assert set(plain["rating"].tolist()) == {1.0}
    assert frame["rating"].min() == 1.0  # 1–5 stars shift to strengths from 1
