"""`auto`: validation shaped like the protocol, coordinate search, and blends kept only when they pay."""

from __future__ import annotations

import dataclasses
import importlib.util
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from limelight.errors import InputError
from limelight.personalize.base import Interactions, binarize
from limelight.personalize.models import Auto
from limelight.personalize.models._validation import mode_for, validation_split
from limelight.personalize.models.blend import _coordinate_search, _fit_blend, _Judge, search_space
from limelight.personalize.testing import clustered_frame, clustered_interactions


@pytest.fixture(scope="module")
def interactions() -> Interactions:
    return clustered_interactions(n_members=60, per_member=8)


def test_recent_validation_holds_out_each_members_latest_titles(interactions: Interactions) -> None:
    split = validation_split(interactions, "recent", fraction=0.25, seed=1)
    assert split.mode == "recent"
    assert split.history.shape == split.truth.shape
    last = interactions.last_at.tocsr()  # type: ignore[union-attr]
    rows = [interactions.member_index(m) for m in interactions.member_ids]
    train = split.train.matrix.tocsr()
    scored = 0
    for member in rows:
        held = set(interactions.matrix[member].indices) - set(train[member].indices)
        if not held:
            continue
        scored += 1
        kept = train[member].indices
        newest_kept = max(last[member, t] for t in kept)
        assert min(last[member, t] for t in held) >= newest_kept
    assert scored == split.truth.shape[0]


def test_last_validation_holds_out_exactly_each_members_latest_title(interactions: Interactions) -> None:
    split = validation_split(interactions, "last", seed=1, max_members=None)
    assert split.mode == "last"
    assert (split.truth.getnnz(axis=1) == 1).all()  # one held-out title per validated member
    last = interactions.last_at.tocsr()  # type: ignore[union-attr]
    train = split.train.matrix.tocsr()
    for member in range(interactions.n_members):
        held = set(interactions.matrix[member].indices) - set(train[member].indices)
        assert len(held) == (1 if interactions.matrix[member].nnz >= 2 else 0)
        if held:
            assert last[member, held.pop()] == max(last[member].data)


def test_random_validation_never_puts_a_held_out_title_in_training_or_history(interactions: Interactions) -> None:
    split = validation_split(interactions, "random", fraction=0.3, seed=2)
    assert split.history.multiply(split.truth).nnz == 0
    assert split.train.matrix.nnz + split.truth.nnz <= interactions.matrix.nnz
    assert split.train.last_at is not None and split.train.last_at.nnz == split.train.matrix.nnz


def test_members_validation_keeps_held_out_members_out_of_training(interactions: Interactions) -> None:
    split = validation_split(interactions, "members", fraction=0.25, seed=3)
    trained = set(np.flatnonzero(split.train.matrix.getnnz(axis=1) > 0))
    assert len(trained) == interactions.n_members - round(interactions.n_members * 0.25)
    # every scored history row belongs to a member with no training row
    assert split.history.shape[0] >= 1
    assert split.history.multiply(split.truth).nnz == 0


def test_temporal_validation_uses_one_cutoff_and_falls_back_when_too_few_members_straddle_it(
    interactions: Interactions,
) -> None:
    split = validation_split(interactions, "temporal", fraction=0.2, seed=1)
    assert split.mode == "temporal"  # clustered members are active side by side in time
    last = interactions.last_at.tocsr()  # type: ignore[union-attr]
    train_times = split.train.last_at.data  # type: ignore[union-attr]
    held = sp.csr_matrix(interactions.matrix) - split.train.matrix
    held.eliminate_zeros()
    assert train_times.max() < np.asarray(last[held.nonzero()]).min()
    # members active one after another: a global cutoff leaves almost nobody on both sides
    frame = clustered_frame(n_members=60, per_member=8)
    frame["timestamp"] = frame.index.to_numpy() * 1000.0
    sequential = Interactions.from_frame(frame, time_col="timestamp")
    assert validation_split(sequential, "temporal", seed=1).mode == "recent"


def test_validation_mode_follows_the_protocol_and_the_presence_of_times() -> None:
    assert mode_for("random", True) == "random"
    assert mode_for("random-by-title", False) == "titles"
    assert mode_for("leave-last-out", True) == "last"
    assert mode_for("leave-last-out", False) == "random"
    assert mode_for("temporal", True) == "temporal"
    assert mode_for("strong-generalization", True) == "members"
    assert mode_for(None, True) == "recent"
    assert mode_for(None, False) == "random"
    assert mode_for("temporal", False) == "random"


def test_auto_validates_the_way_the_harness_will_judge_it(interactions: Interactions) -> None:
    grid = [("popularity", {}), ("ease", {"regularization": 5.0})]
    model = Auto(k=5, grid=grid, seed=1)
    model.set_protocol("leave-last-out")
    assert model.fit(interactions).validation_mode_ == "last"
    model.set_protocol("random")
    assert model.fit(interactions).validation_mode_ == "random"
    model.set_protocol("random-by-title")
    assert model.fit(interactions).validation_mode_ == "titles"
    titles = validation_split(interactions, "titles", fraction=0.25, seed=2)
    per_title = interactions.matrix.getnnz(axis=0)
    trained = titles.train.matrix.getnnz(axis=0)
    assert (trained == np.where(per_title > 0, np.maximum(np.round(per_title * 0.75), 1), 0)).all()
    with pytest.raises(InputError, match="validation must be auto or one of"):
        Auto(validation="future", grid=grid).fit(interactions)


def test_coordinate_search_walks_each_ladder_to_the_best_rung() -> None:
    seen: list[dict[str, float]] = []

    def value(params: dict[str, float]) -> float:
        return float(-((np.log10(params["lam"]) - 2.0) ** 2) - (params["p"] - 0.3) ** 2)

    def trial(_family: str, params: dict[str, float]) -> float:
        seen.append(params)
        return value(params)

    ladders = {"lam": [1.0, 10.0, 100.0, 1000.0, 10000.0], "p": [0.0, 0.1, 0.3, 1.0]}
    _coordinate_search("x", {"lam": 10000.0, "p": 0.0}, ladders, trial, budget=20)
    best = max(seen, key=value)
    assert best == {"lam": 100.0, "p": 0.3}
    assert len(seen) < 5 * 4  # fewer fits than the full grid


def test_search_space_is_the_same_rule_for_every_dataset(interactions: Interactions) -> None:
    space = search_space(interactions)
    families = [f for f, _, _ in space]
    # deep models when asked for; co-watch twice, as EASE and as DLAE, competing for one place in the blend
    assert families == ["popularity", "ease", "cowatch", "cowatch", "als", "rp3beta", "itemknn"]
    assert [start.get("dropout", 0.0) > 0 for f, start, _ in space if f == "cowatch"] == [False, True]
    untimed = Interactions(interactions.matrix, interactions.member_ids, interactions.title_ids)
    assert "cowatch" not in [f for f, _, _ in search_space(untimed)]  # no times, no sittings to weigh
    asked = [f for f, _, _ in search_space(interactions, ["ease", "vae"])]
    assert asked == (["ease", "vae"] if importlib.util.find_spec("torch") else ["ease"])
    with pytest.raises(InputError, match="families must be among"):
        search_space(interactions, ["bpr"])


def _judge(n: int = 200, n_titles: int = 30) -> _Judge:
    rng = np.random.default_rng(0)
    truth = sp.csr_matrix((np.ones(n), (np.arange(n), rng.integers(10, n_titles, n))), shape=(n, n_titles))
    history = sp.csr_matrix((np.ones(n), (np.arange(n), np.zeros(n, dtype=int))), shape=(n, n_titles))
    return _Judge(history, truth, 5)


def test_a_blend_of_a_model_with_itself_is_not_kept() -> None:
    judge = _judge()
    rng = np.random.default_rng(1)
    scores = rng.standard_normal((200, 30)).astype(np.float32)
    per = judge.ndcg(scores)
    result = _fit_blend(judge, [("a", per, scores), ("b", per, scores.copy())], seed=0)
    assert result["keep"] is False
    assert result["report"]["out_of_sample_gain"] == pytest.approx(0.0, abs=1e-12)


def test_a_blend_of_complementary_models_is_kept() -> None:
    judge = _judge()
    truth = judge.truth.toarray()
    rng = np.random.default_rng(2)
    first = rng.standard_normal((200, 30)).astype(np.float32)
    second = rng.standard_normal((200, 30)).astype(np.float32)
    # each model knows half of every member's relevant title's signal; together they find it
    first += 1.2 * truth
    second += 1.2 * truth
    result = _fit_blend(judge, [("a", judge.ndcg(first), first), ("b", judge.ndcg(second), second)], seed=0)
    assert result["keep"] is True
    assert result["report"]["out_of_sample_gain"] > result["report"]["gain_standard_error"]


GRID3: list[tuple[str, dict[str, Any]]] = [("popularity", {}), ("ease", {"regularization": 5.0}), ("itemknn", {"k": 10})]


def test_auto_ranks_the_finalists_by_their_mean_over_validation_folds(interactions: Interactions) -> None:
    model = Auto(k=5, grid=GRID3, seed=4, validation_folds=3, blend=False)
    model.set_protocol("random")
    model.fit(interactions)
    assert len(model.folds_) == 3
    first_fold = {row["model"]: row["validation_ndcg"] for row in model.report_}
    for row in model.folds_:
        assert row["seeds"] == [4, 5, 6]
        assert len(row["validation_ndcg"]) == 3
        assert row["validation_ndcg"][0] == pytest.approx(first_fold[row["model"]])
        assert row["mean_validation_ndcg"] == pytest.approx(np.mean(row["validation_ndcg"]))
    assert len({tuple(row["validation_ndcg"]) for row in model.folds_}) == 3  # the folds are different draws
    best = max(model.folds_, key=lambda row: row["mean_validation_ndcg"])
    assert [choice["model"] for choice in model.chosen_] == [best["model"]]
    assert model.chosen_[0]["mean_validation_ndcg"] == pytest.approx(best["mean_validation_ndcg"])


def test_auto_with_the_same_seed_makes_the_same_choice_on_the_same_folds(interactions: Interactions) -> None:
    fits = []
    for _ in range(2):
        model = Auto(k=5, grid=GRID3, seed=9, validation_folds=2)
        model.set_protocol("random")
        fits.append(model.fit(interactions))
    assert fits[0].folds_ == fits[1].folds_
    assert fits[0].chosen_ == fits[1].chosen_
    np.testing.assert_array_equal(fits[0].score(interactions.matrix[:5]), fits[1].score(interactions.matrix[:5]))


def test_validation_split_by_time_has_one_fold(interactions: Interactions) -> None:
    model = Auto(k=5, grid=GRID3, seed=4, validation_folds=3)
    model.set_protocol("leave-last-out")
    model.fit(interactions)
    assert {len(row["validation_ndcg"]) for row in model.folds_} == {1}
    with pytest.raises(InputError, match="'validation_folds' parameter of Auto must be an int"):
        Auto(grid=GRID3, validation_folds=0).fit(interactions)


def test_a_blend_that_loses_out_of_sample_is_not_kept() -> None:
    judge = _judge()
    truth = judge.truth.toarray()
    rng = np.random.default_rng(3)
    good = (rng.standard_normal((200, 30)) + 3.0 * truth).astype(np.float32)
    noise = 3.0 * rng.standard_normal((200, 30)).astype(np.float32)  # knows nothing: any weight on it costs
    result = _fit_blend(judge, [("good", judge.ndcg(good), good), ("noise", judge.ndcg(noise), noise)], seed=0)
    assert result["keep"] is False
    assert result["report"]["in_sample_gain"] < 0


def test_ease_searches_rating_weights_only_when_interactions_carry_ratings() -> None:
    frame = clustered_frame(n_members=40, per_member=6)
    counted = Interactions.from_frame(frame, time_col="timestamp")  # a repeated title counts 2
    plain = dataclasses.replace(counted, matrix=binarize(counted.matrix))
    rated = Interactions.from_frame(frame, time_col="timestamp", weight_col="rating")  # 1–5 stars
    ladders = {f: ladder for f, _, ladder in search_space(plain)}
    assert "rating_weight" not in ladders["ease"]
    ladders = {f: ladder for f, start, ladder in search_space(rated)}
    assert ladders["ease"]["rating_weight"][0] == 0.0  # plain interactions are always a candidate
    start = {f: s for f, s, _ in search_space(rated)}["ease"]
    assert start["rating_weight"] == 0.0


def test_ease_is_left_out_when_its_dense_inverse_would_not_fit(
    interactions: Interactions, monkeypatch: pytest.MonkeyPatch
) -> None:
    import limelight.personalize.models.blend as blend

    assert "ease" in [f for f, _, _ in search_space(interactions)]
    monkeypatch.setattr(blend, "EASE_MAX_TITLES", interactions.n_titles - 1)
    families = [f for f, _, _ in search_space(interactions)]
    assert "ease" not in families and "als" in families  # the others still compete


def test_a_spent_time_budget_keeps_every_familys_starting_point_and_stops_the_search(
    interactions: Interactions,
) -> None:
    model = Auto(k=5, seed=3, validation_folds=3, max_seconds=1e-3)  # spent before the first fit ends
    model.set_protocol("random")
    model.fit(interactions)
    starts: dict[str, dict[str, object]] = {}
    for family, start, _ in search_space(interactions):  # co-watch's second form waits for time left over
        starts.setdefault(family, start)
    tried = [row for row in model.report_ if "params" in row and row["model"] in starts]
    assert sorted(row["model"] for row in tried) == sorted(starts)  # each family once: its starting point
    assert all(row["params"] == starts[row["model"]] for row in tried)
    assert model.report_[-1]["model"] == "time budget" and model.report_[-1]["trials_skipped"] > 0
    assert all(row["seeds"] == [3] for row in model.folds_)  # no further fold started
    assert model.score(interactions.matrix[:3]).shape == (3, interactions.n_titles)


def test_without_a_time_budget_the_search_goes_on_past_the_starting_points(interactions: Interactions) -> None:
    model = Auto(k=5, seed=3, blend=False).fit(interactions)
    assert len([row for row in model.report_ if "params" in row]) > len(search_space(interactions))
    assert not any(row["model"] == "time budget" for row in model.report_)
    with pytest.raises(InputError, match="max_seconds"):
        Auto(max_seconds=0).fit(interactions)
