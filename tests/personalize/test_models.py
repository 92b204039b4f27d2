"""Every model runs the shared contract; model-specific behaviour is tested beside it."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from limelight.errors import InputError
from limelight.personalize.base import Interactions, Recommender, binarize, rating_strength
from limelight.personalize.models import (
    ALS,
    EASE,
    MODEL_NAMES,
    Auto,
    Blend,
    CoWatchEASE,
    ItemKNN,
    Popularity,
    RP3Beta,
    Trending,
    make_model,
)
from limelight.personalize.testing import RecommenderContract, clustered_frame, clustered_interactions


class TestPopularity(RecommenderContract):
    learns_preferences = False

    def make_model(self) -> Recommender:
        return Popularity(half_life_days=30)


class TestTrending(RecommenderContract):
    learns_preferences = False

    def make_model(self) -> Recommender:
        return Trending(window_days=1)


class TestItemKNN(RecommenderContract):
    def make_model(self) -> Recommender:
        return ItemKNN(k=8, shrinkage=2.0)


class TestEASE(RecommenderContract):
    def make_model(self) -> Recommender:
        return EASE(regularization=5.0)


class TestEASEPrunedAndDebiased(RecommenderContract):
    def make_model(self) -> Recommender:
        return EASE(regularization=5.0, diagonal_penalty=0.3, min_support=2)


class TestCoWatchEASE(RecommenderContract):
    def make_model(self) -> Recommender:
        return CoWatchEASE(regularization=5.0, window_minutes=120.0)


class TestCoWatchEASEMixedAndPruned(RecommenderContract):
    def make_model(self) -> Recommender:
        return CoWatchEASE(regularization=5.0, window_minutes=30.0, plain_weight=0.5, min_support=2, rating_weight=0.2)


class TestCoWatchDLAE(RecommenderContract):
    def make_model(self) -> Recommender:
        return CoWatchEASE(regularization=5.0, window_minutes=120.0, plain_weight=0.0, dropout=0.5, min_support=2)


class TestRP3Beta(RecommenderContract):
    def make_model(self) -> Recommender:
        return RP3Beta(alpha=1.0, beta=0.3, k=10)


class TestALS(RecommenderContract):
    def make_model(self) -> Recommender:
        return ALS(factors=8, regularization=0.01, iterations=10, seed=3, use_gpu=False)


class TestAuto(RecommenderContract):
    def make_model(self) -> Recommender:
        grid: list[tuple[str, dict[str, Any]]] = [
            ("popularity", {}), ("ease", {"regularization": 5.0}), ("itemknn", {"k": 8})
        ]
        return Auto(k=5, grid=grid, seed=1)


def test_ease_matches_its_closed_form() -> None:
    interactions = clustered_interactions(n_members=30, per_member=4)
    x = (interactions.matrix > 0).astype(np.float64).toarray()
    gram = x.T @ x + 7.0 * np.eye(x.shape[1])
    precision = np.linalg.inv(gram)
    expected = np.eye(x.shape[1]) - precision / np.diag(precision)
    model = EASE(regularization=7.0).fit(interactions)
    np.testing.assert_allclose(model.weights_, expected, atol=1e-4)


def test_ease_explanation_is_exact_contribution_of_each_history_title() -> None:
    interactions = clustered_interactions()
    model = EASE(regularization=5.0).fit(interactions)
    history = interactions.matrix[:1]
    target = int(model.recommend(history, 1).titles[0, 0])
    reasons = model.explain(history, target, top=100)
    positive = [w for w in np.asarray(model.weights_)[history.indices, target] if w > 0]
    assert sum(w for _, w in reasons) == pytest.approx(float(np.sum(positive)), rel=1e-5)


def test_itemknn_keeps_at_most_k_neighbours_per_title() -> None:
    model = ItemKNN(k=3).fit(clustered_interactions())
    neighbours_per_target = np.diff(sp.csc_matrix(model.weights_).indptr)
    assert neighbours_per_target.max() <= 3


def test_itemknn_similarity_is_shrunk_cosine() -> None:
    frame = clustered_frame(n_members=20)
    interactions = Interactions.from_frame(frame)
    x = (interactions.matrix > 0).astype(np.float64).toarray()
    model = ItemKNN(k=100, shrinkage=4.0).fit(interactions)
    i, j = 0, 1
    expected = (x[:, i] @ x[:, j]) / (np.sqrt(x[:, i].sum() * x[:, j].sum()) + 4.0)
    assert float(model.weights_[j, i]) == pytest.approx(expected, rel=1e-5)


def test_als_maps_rendle_parameters_onto_implicit() -> None:
    interactions = clustered_interactions()
    model = ALS(factors=4, regularization=0.01, unobserved_weight=0.25)
    params = model.implicit_parameters(interactions)
    n_members, n_titles = interactions.matrix.shape
    nnz = interactions.matrix.nnz
    member_side = 0.01 * (nnz / n_members + 0.25 * n_titles) / 0.25
    title_side = 0.01 * (nnz / n_titles + 0.25 * n_members) / 0.25
    assert params["alpha"] == pytest.approx(5.0)
    assert params["regularization"] == pytest.approx(np.sqrt(member_side * title_side))


def test_als_fold_in_solves_the_members_least_squares() -> None:
    interactions = clustered_interactions()
    model = ALS(factors=6, iterations=5, use_gpu=False).fit(interactions)
    history = interactions.matrix[:1]
    w = model.member_factors(history)[0].astype(np.float64)
    y = model.title_factors_.astype(np.float64)
    cols = history.indices
    a0 = model.unobserved_weight
    lam = model.implicit_regularization_ * (len(cols) + a0 * y.shape[0]) / (
        model.mean_titles_per_member_ + a0 * y.shape[0]
    )
    # gradient of Σ_i c_i (p_i − w·y_i)² + λ‖w‖² vanishes at the solution
    c = np.ones(y.shape[0])
    c[cols] = model.alpha_
    p = np.zeros(y.shape[0])
    p[cols] = 1.0
    gradient = -2 * (c * (p - y @ w)) @ y + 2 * lam * w
    assert np.abs(gradient).max() < 1e-3


def test_popularity_decays_old_interactions() -> None:
    frame = clustered_frame()
    # title t000 watched long ago by many, t039 recently by few
    day = 86_400
    old = frame.assign(title_id="t000", timestamp=frame["timestamp"] - 400 * day).iloc[:30]
    new = frame.assign(title_id="t039").iloc[:5]
    interactions = Interactions.from_frame(
        pd.concat([frame[~frame["title_id"].isin(["t000", "t039"])], old, new]), time_col="timestamp"
    )
    decayed = Popularity(half_life_days=7).fit(interactions)
    plain = Popularity().fit(interactions)
    position = {t: i for i, t in enumerate(interactions.title_ids)}
    assert plain.title_scores_[position["t000"]] > plain.title_scores_[position["t039"]]
    assert decayed.title_scores_[position["t000"]] < decayed.title_scores_[position["t039"]]


def test_auto_picks_a_learning_model_over_popularity_and_reports_its_validation() -> None:
    model = Auto(k=5, grid=[("popularity", {}), ("ease", {"regularization": 5.0})], seed=2)
    model.fit(clustered_interactions())
    assert any(choice["model"] == "ease" for choice in model.chosen_)
    assert {row["model"] for row in model.report_} >= {"popularity", "ease"}


def test_make_model_knows_every_name_and_refuses_unknown_ones() -> None:
    assert set(MODEL_NAMES) >= {"popularity", "itemknn", "ease", "als", "sasrec", "auto"}
    assert isinstance(make_model("ease", regularization=3.0), EASE)
    with pytest.raises(InputError, match="model must be one of"):
        make_model("bpr")
    with pytest.raises(InputError, match="must be valid keyword arguments"):
        make_model("ease", lam=3)


def test_bad_hyperparameter_is_refused_with_one_sentence() -> None:
    with pytest.raises(InputError, match="'regularization' parameter of EASE must be a number"):
        EASE(regularization=-1).fit(clustered_interactions())


def test_als_reuses_training_members_factors_and_folds_in_changed_histories() -> None:
    interactions = clustered_interactions()
    model = ALS(factors=6, iterations=5, use_gpu=False, seed=3).fit(interactions)
    history = interactions.matrix[:5]
    stored = model.member_factors(history)
    # the stored factors are the exact solve for that history, so both paths agree
    np.testing.assert_allclose(stored, model._fold_in(model._inputs(history)), rtol=1e-5, atol=1e-6)
    assert len(model.member_hashes_) == interactions.n_members
    changed = history.tolil()
    changed[0, int(np.setdiff1d(np.arange(interactions.n_titles), history[0].indices)[0])] = 1.0
    changed = changed.tocsr()
    refreshed = model.member_factors(changed)
    assert not np.allclose(refreshed[0], stored[0])  # a new title was folded in, not the stale factors
    np.testing.assert_allclose(refreshed[1:], stored[1:], rtol=1e-6)


def test_history_hashes_depend_on_the_title_set_only() -> None:
    from limelight.personalize.models.als import history_hashes

    rows = sp.csr_matrix(np.array([[1, 0, 2, 0], [0, 0, 1, 1], [3, 0, 1, 0], [0, 0, 0, 0]], dtype=np.float32))
    keys = history_hashes(rows)
    assert keys[0] == keys[2]  # same titles, other values
    assert len({keys[0], keys[1], keys[3]}) == 3


def test_ease_with_a_diagonal_penalty_and_min_support_matches_its_closed_form() -> None:
    interactions = clustered_interactions(n_members=30, per_member=4)
    x = (interactions.matrix > 0).astype(np.float64).toarray()
    support = x.sum(axis=0)
    kept = np.flatnonzero(support >= 3)
    assert 0 < kept.size < x.shape[1]
    sub = x[:, kept]
    gram = sub.T @ sub
    precision = np.linalg.inv(gram + np.diag(7.0 + 0.5 * np.diag(gram)))
    expected = np.zeros((x.shape[1], x.shape[1]))
    expected[np.ix_(kept, kept)] = np.eye(kept.size) - precision / np.diag(precision)
    model = EASE(regularization=7.0, diagonal_penalty=0.5, min_support=3).fit(interactions)
    np.testing.assert_allclose(model.weights_, expected, atol=1e-4)


def test_ease_with_dropout_is_dlae_whose_off_diagonal_is_the_denoising_closed_form() -> None:
    """DLAE (Steck 2020): B = (G + Λ)⁻¹G, Λ = λI + d/(1−d)·diag(G), no zero-diagonal constraint."""
    interactions = clustered_interactions(n_members=30, per_member=4)
    x = (interactions.matrix > 0).astype(np.float64).toarray()
    gram = x.T @ x
    dropout, lam = 0.4, 6.0
    penalty = np.diag(lam + dropout / (1 - dropout) * np.diag(gram))
    expected = np.linalg.solve(gram + penalty, gram)
    np.fill_diagonal(expected, 0.0)  # a title never recommends itself; unseen titles' scores are unchanged
    model = EASE(regularization=lam, dropout=dropout).fit(interactions)
    np.testing.assert_allclose(model.weights_, expected, atol=1e-4)
    # and it is not EASE with the same penalty: the columns are scaled by Λ, not by 1/diag(P)
    ease = EASE(regularization=lam, diagonal_penalty=dropout / (1 - dropout)).fit(interactions)
    assert not np.allclose(ease.weights_, model.weights_, atol=1e-3)
    with pytest.raises(InputError, match="dropout"):
        EASE(dropout=1.0).fit(interactions)


def test_rp3beta_weights_are_the_popularity_penalised_three_step_walk() -> None:
    interactions = clustered_interactions(n_members=30, per_member=4)
    x = (interactions.matrix > 0).astype(np.float64).toarray()
    alpha, beta = 0.8, 0.4
    per_member, per_title = x.sum(axis=1), x.sum(axis=0)
    safe = np.maximum(per_title, 1)
    walk = ((x / safe) ** alpha).T @ ((x.T / per_member).T ** alpha) / safe[None, :] ** beta
    np.fill_diagonal(walk, 0.0)
    model = RP3Beta(alpha=alpha, beta=beta, k=1000).fit(interactions)
    np.testing.assert_allclose(sp.csr_matrix(model.weights_).toarray(), walk, rtol=1e-4, atol=1e-7)


class TestEASERatingWeighted(RecommenderContract):
    def make_model(self) -> Recommender:
        return EASE(regularization=5.0, rating_weight=0.3)


def _rated_interactions() -> Interactions:
    return Interactions.from_frame(clustered_frame(n_members=30, per_member=4), time_col="timestamp",
                                   weight_col="rating")


def test_ease_with_rating_weights_matches_its_closed_form_on_weighted_inputs() -> None:
    interactions = _rated_interactions()
    ratings = interactions.matrix.toarray().astype(np.float64)
    observed = ratings > 0
    mean, spread = ratings[observed].mean(), ratings[observed].std()
    x = np.where(observed, np.maximum(1 + 0.4 * (ratings - mean) / spread, 0.1), 0.0)
    precision = np.linalg.inv(x.T @ x + 7.0 * np.eye(x.shape[1]))
    expected = np.eye(x.shape[1]) - precision / np.diag(precision)
    model = EASE(regularization=7.0, rating_weight=0.4).fit(interactions)
    np.testing.assert_allclose(model.weights_, expected, atol=1e-4)
    # a history with ratings is weighted the same way when it is scored (fold-in)
    np.testing.assert_allclose(model.score(interactions.matrix[:3]), x[:3] @ expected, atol=1e-4)
    # every rated title is still an interaction: a 1-star rating weighs at least 0.1, never 0
    assert (model._inputs(interactions.matrix).data >= 0.1).all()


def test_ease_rating_weight_changes_nothing_on_plain_interactions_or_plain_histories() -> None:
    counted = clustered_interactions(n_members=30, per_member=4)  # a repeated title counts 2
    plain = dataclasses.replace(counted, matrix=binarize(counted.matrix))
    np.testing.assert_array_equal(
        EASE(regularization=7.0, rating_weight=0.4).fit(plain).weights_, EASE(regularization=7.0).fit(plain).weights_
    )
    model = EASE(regularization=7.0, rating_weight=0.4).fit(_rated_interactions())
    ones = (model.score(sp.csr_matrix((plain.matrix[:5] > 0).astype(np.float32)))).argsort(axis=1)
    binary = ((plain.matrix[:5] > 0).astype(np.float32) @ model.weights_).argsort(axis=1)
    np.testing.assert_array_equal(ones, binary)  # one weight for every title: the same ranking


def test_ease_rating_weights_survive_save_and_load(tmp_path: Any) -> None:
    interactions = _rated_interactions()
    model = EASE(regularization=7.0, rating_weight=0.4).fit(interactions)
    loaded = Recommender.load(model.save(tmp_path / "ease"))
    assert isinstance(loaded, EASE) and loaded.rating_weight == 0.4
    assert (loaded.rating_mean_, loaded.rating_spread_) == pytest.approx((model.rating_mean_, model.rating_spread_))
    np.testing.assert_allclose(loaded.score(interactions.matrix[:4]), model.score(interactions.matrix[:4]), atol=1e-6)


def test_rating_strength_keeps_every_rating_including_zero_and_missing_ones() -> None:
    strength = rating_strength(pd.Series([0.0, 2.5, None, 5.0]))
    np.testing.assert_allclose(strength, [1.0, 3.5, 1.0, 6.0])  # shifted so the lowest is 1; missing = lowest
    assert rating_strength(pd.Series(["x", None])).tolist() == [1.0, 1.0]


class TestALSRatingWeighted(RecommenderContract):
    def make_model(self) -> Recommender:
        return ALS(factors=8, regularization=0.01, iterations=10, seed=3, use_gpu=False, rating_weight=0.5)


def test_als_fold_in_with_ratings_minimises_the_confidence_weighted_loss() -> None:
    interactions = _rated_interactions()
    model = ALS(factors=6, iterations=5, use_gpu=False, seed=3, rating_weight=0.5).fit(interactions)
    ratings = interactions.matrix.toarray().astype(np.float64)
    observed = ratings > 0
    z = (ratings - ratings[observed].mean()) / ratings[observed].std()
    confidence = np.where(observed, model.alpha_ * np.maximum(1 + 0.5 * z, 0.1), 1.0)
    titles = model.title_factors_.astype(np.float64)
    factors = model.member_factors(interactions.matrix).astype(np.float64)
    for member in range(5):  # gradient of Σ_t c_t (p_t − w·h_t)² + λ_u ‖w‖² at the served factors
        lam = model.implicit_regularization_ * (observed[member].sum() + model.unobserved_weight * model.n_titles_) / (
            model.mean_titles_per_member_ + model.unobserved_weight * model.n_titles_
        )
        w = factors[member]
        residual = titles @ w - observed[member]
        gradient = titles.T @ (confidence[member] * residual) + lam * w
        assert np.abs(gradient).max() < 1e-3 * max(1.0, np.abs(titles.T @ (confidence[member] * observed[member])).max())


def test_als_with_ratings_refolds_a_member_whose_ratings_changed() -> None:
    interactions = _rated_interactions()
    model = ALS(factors=6, iterations=5, use_gpu=False, seed=3, rating_weight=0.5).fit(interactions)
    history = interactions.matrix[:3].tocsr()
    stored = model.member_factors(history)
    rerated = history.copy()
    rerated.data[rerated.indptr[0]] = 6.0 - rerated.data[rerated.indptr[0]]  # same titles, another rating
    if rerated.data[rerated.indptr[0]] == history.data[history.indptr[0]]:
        rerated.data[rerated.indptr[0]] += 1.0
    refreshed = model.member_factors(rerated)
    assert not np.allclose(refreshed[0], stored[0])
    np.testing.assert_allclose(refreshed[1:], stored[1:], rtol=1e-6)
    np.testing.assert_allclose(refreshed[0], model._fold_in(model._inputs(rerated[:1]))[0], rtol=1e-5, atol=1e-6)


def test_mllib_trainer_refuses_rating_weights_in_one_sentence() -> None:
    from limelight.scale.spark_als import fit_with_mllib

    frame = clustered_frame(n_members=10)
    with pytest.raises(InputError, match="rating_weight must be 0 for the MLlib trainer"):
        fit_with_mllib(ALS(rating_weight=0.4), frame, spark=None)


class _OrderedProbe(Recommender):
    """A sequential stand-in that scores nothing and keeps the history it was given."""

    name = "probe"
    uses_order = True

    def fit(self, interactions: Interactions) -> Any:
        self.title_ids_ = interactions.title_ids
        return self

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        self.seen_ = history
        return np.zeros(history.shape, dtype=np.float32)


def test_a_blend_with_a_sequential_member_gives_the_others_plain_interactions_not_times() -> None:
    interactions = _rated_interactions()
    ease = EASE(regularization=7.0, rating_weight=0.5)
    blend = Blend([ease, _OrderedProbe()], [0.5, 0.5]).fit(interactions)
    assert blend.uses_order
    times = interactions.last_at.tocsr()[:4]  # what callers pass a model that uses order
    scores = blend.score(times)
    np.testing.assert_array_equal(blend.members[1].seen_.data, times.data)  # it gets times, to the second
    from limelight.personalize.models.blend import _normalise

    expected = _normalise(ease.score((times > 0).astype(np.float32)), times)
    np.testing.assert_allclose(scores, 0.5 * expected, atol=1e-5)  # EASE read "watched", not seconds


def test_als_fold_in_gives_the_same_factors_whatever_the_batch_bounds() -> None:
    interactions = _rated_interactions()
    model = ALS(factors=6, iterations=5, use_gpu=False, seed=3, rating_weight=0.5).fit(interactions)
    rows = model._inputs(interactions.matrix)
    one_by_one = model._fold_in(rows, systems=1)  # one member's system at a time
    np.testing.assert_allclose(one_by_one, model._fold_in(rows, budget=10**9, systems=10**12), rtol=1e-6, atol=1e-7)


def _rewrite_saved(path: Any, edit: Any) -> None:
    """Re-save a model file with its JSON document changed by `edit` (as someone with write access could)."""
    from limelight.artifacts import RECOMMENDER_KIND, load_artifact, save_artifact

    artifact = load_artifact(path, RECOMMENDER_KIND)
    document = dict(artifact.meta)
    edit(document)
    save_artifact(path, RECOMMENDER_KIND, document, dict(artifact.arrays))


def test_a_tampered_model_file_cannot_choose_which_function_runs(tmp_path: Any) -> None:
    interactions = clustered_interactions()
    blend = Blend([Popularity(), EASE(regularization=5.0)], [0.5, 0.5]).fit(interactions)
    path = blend.save(tmp_path / "blend")
    planted = tmp_path / "planted"

    def plant(document: dict[str, Any]) -> None:  # a blend member naming a function, not a model class
        document["fitted"]["blend_members_"][0]["class"] = "limelight.personalize.base:save_artifact"
        document["fitted"]["blend_members_"][0]["params"] = {
            "path": str(planted), "kind": "x", "meta": {}, "arrays": {}}

    _rewrite_saved(path, plant)
    with pytest.raises(InputError, match="must name a limelight model class"):
        Recommender.load(path)
    assert not planted.exists() and not planted.with_suffix(".npz").exists()

    top = EASE(regularization=5.0).fit(interactions).save(tmp_path / "ease")
    _rewrite_saved(top, lambda d: d.update({"class": "limelight.personalize.base:check_number"}))
    with pytest.raises(InputError, match="must name a limelight model class"):
        Recommender.load(top)
    _rewrite_saved(top, lambda d: d.update({"class": "limelight.personalize.models.ease:EASE",
                                            "params": {"regularization": -1.0}}))
    with pytest.raises(InputError, match="regularization"):  # saved parameters pass check_params
        Recommender.load(top)


def test_loading_sets_only_the_attributes_a_model_declares(tmp_path: Any) -> None:
    interactions = clustered_interactions()
    path = EASE(regularization=5.0).fit(interactions).save(tmp_path / "ease")
    _rewrite_saved(path, lambda d: d["fitted"].update({"score": "not a method", "rating_mean_": 2.0}))
    loaded = Recommender.load(path)
    assert callable(loaded.score) and loaded.rating_mean_ == 2.0


def test_als_fitted_for_one_scoring_skips_the_member_cache_and_scores_the_same() -> None:
    """auto's validation fits score a sample once; solving every training member for later reuse was
    half of its time. Folding the scored rows in gives the same factors."""
    interactions = clustered_interactions()
    cached = ALS(factors=8, iterations=5, seed=3, use_gpu=False).fit(interactions)
    once = ALS(factors=8, iterations=5, seed=3, use_gpu=False)
    once._keep_member_factors = False  # type: ignore[attr-defined]
    once.fit(interactions)
    assert hasattr(cached, "member_factors_") and not hasattr(once, "member_factors_")
    rows = interactions.matrix[:20]
    np.testing.assert_allclose(once.score(rows), cached.score(rows), rtol=1e-5, atol=1e-6)
