"""The shared test suite every recommender runs (LensKit/implicit style), shipped with the library.

A model's test module is one class::

    class TestEASE(RecommenderContract):
        def make_model(self) -> Recommender:
            return EASE(regularization=10.0)

Needs pytest (the `test` extra). Data are small generated worlds from `clustered_interactions`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from limelight.errors import InputError, NotFittedError
from limelight.personalize.base import Interactions, Recommender

__all__ = ["RecommenderContract", "clustered_frame", "clustered_interactions"]


def clustered_frame(
    n_members: int = 80, n_clusters: int = 4, titles_per_cluster: int = 10, per_member: int = 6, seed: int = 0
) -> pd.DataFrame:
    """Members who each watch titles of one taste cluster (plus one stray title), with timestamps.

    Member m belongs to cluster m % n_clusters; cluster c holds titles c·T … c·T+T−1. The stray
    title comes first, so the latest titles always show the member's taste.
    """
    rng = np.random.default_rng(seed)
    rows = []
    start = 1_600_000_000
    for member in range(n_members):
        cluster = member % n_clusters
        titles = cluster * titles_per_cluster + rng.choice(titles_per_cluster, size=per_member, replace=False)
        stray = rng.integers(0, n_clusters * titles_per_cluster)
        for step, title in enumerate([int(stray), *titles.tolist()]):
            rows.append((f"m{member:03d}", f"t{title:03d}", float(rng.integers(1, 6)), start + member * 10 + step * 3600))
    return pd.DataFrame(rows, columns=["member_id", "title_id", "rating", "timestamp"])


def clustered_interactions(**kwargs: int) -> Interactions:
    return Interactions.from_frame(clustered_frame(**kwargs), time_col="timestamp")


class RecommenderContract:
    """Behaviour every `Recommender` must have. Subclasses supply `make_model`."""

    #: models that learn member taste (not popularity) must put a member's own cluster first
    learns_preferences: bool = True

    def make_model(self) -> Recommender:
        raise NotImplementedError

    @pytest.fixture(scope="class")
    @classmethod
    def interactions(cls) -> Interactions:
        return clustered_interactions()

    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls, interactions: Interactions) -> Recommender:
        return cls().make_model().fit(interactions)

    # -- fitting ----------------------------------------------------------------------------
    def test_fit_returns_the_model_itself(self, interactions: Interactions) -> None:
        model = self.make_model()
        assert model.fit(interactions) is model
        assert model.is_fitted()
        assert list(model.title_ids_) == list(interactions.title_ids)  # type: ignore[attr-defined]

    def test_every_method_raises_not_fitted_before_fit(self, interactions: Interactions, tmp_path: Path) -> None:
        model = self.make_model()
        with pytest.raises(NotFittedError, match="not fitted"):
            model.recommend(interactions.matrix[:2], 5)
        with pytest.raises(NotFittedError):
            model.score(interactions.matrix[:2])
        with pytest.raises(NotFittedError):
            model.similar_titles(0, 3)
        with pytest.raises(NotFittedError):
            model.explain(interactions.matrix[:1], 0)
        with pytest.raises(NotFittedError):
            model.save(tmp_path / "model.npz")

    # -- scoring ----------------------------------------------------------------------------
    def test_scores_have_one_row_per_history_and_one_column_per_title(
        self, fitted: Recommender, interactions: Interactions
    ) -> None:
        scores = fitted.score(interactions.matrix[:7])
        assert scores.shape == (7, interactions.n_titles)
        assert np.isfinite(scores).all()

    def test_history_with_the_wrong_number_of_titles_is_refused(self, fitted: Recommender) -> None:
        with pytest.raises(InputError, match="must have one column per training title"):
            fitted.score(sp.csr_matrix((1, 3), dtype=np.float32))

    def test_recommendations_leave_out_titles_the_member_has(
        self, fitted: Recommender, interactions: Interactions
    ) -> None:
        history = interactions.matrix
        recs = fitted.recommend(history, 10)
        assert recs.titles.shape == (interactions.n_members, 10)
        for row in range(interactions.n_members):
            seen = set(history[row].indices)
            assert not seen & set(recs.titles[row].tolist())
            assert len(set(recs.titles[row].tolist())) == 10
        assert (np.diff(recs.scores, axis=1) <= 1e-6).all()

    def test_recommendations_favour_the_members_own_taste(
        self, fitted: Recommender, interactions: Interactions
    ) -> None:
        if not self.learns_preferences:
            pytest.skip("this model does not learn individual taste")
        recs = fitted.recommend(interactions.matrix, 3)
        cluster_of_member = np.array([int(m[1:]) % 4 for m in interactions.member_ids])
        cluster_of_title = np.array([int(t[1:]) // 10 for t in interactions.title_ids])
        share = (cluster_of_title[recs.titles] == cluster_of_member[:, None]).mean()
        assert share > 0.6

    def test_same_seed_gives_the_same_recommendations(self, interactions: Interactions) -> None:
        first = self.make_model().fit(interactions).recommend(interactions.matrix, 5)
        second = self.make_model().fit(interactions).recommend(interactions.matrix, 5)
        np.testing.assert_array_equal(first.titles, second.titles)
        np.testing.assert_allclose(first.scores, second.scores, rtol=1e-5, atol=1e-6)

    @pytest.mark.parametrize("k", [0, -5, 10_001, 2.5])
    def test_bad_k_raises_input_error_saying_what_k_must_be(self, fitted: Recommender, k: object) -> None:
        with pytest.raises(InputError, match="'k' parameter of recommend must be an int"):
            fitted.recommend(sp.csr_matrix((1, fitted.n_titles_), dtype=np.float32), k)  # type: ignore[arg-type]

    def test_new_member_without_a_training_row_is_folded_in(
        self, fitted: Recommender, interactions: Interactions
    ) -> None:
        # a newcomer who watched three titles of cluster 2 (titles t020…t029)
        history = fitted.history_for(["t020", "t021", "t022", "not-a-title"])
        assert history.nnz == 3
        recs = fitted.recommend(history, 5)
        assert recs.titles.shape == (1, 5)
        assert not {int(i) for i in history.indices} & set(recs.titles[0].tolist())
        if self.learns_preferences:
            ids = fitted.title_ids_[recs.titles[0, :3]]  # type: ignore[attr-defined]
            assert sum(20 <= int(t[1:]) < 30 for t in ids) >= 2

    # -- similar titles and explanations -----------------------------------------------------
    def test_similar_titles_never_include_the_title_itself(self, fitted: Recommender) -> None:
        similar = fitted.similar_titles(3, 5)
        assert similar.titles.shape[1] == 5
        assert 3 not in similar.titles[0].tolist()
        with pytest.raises(InputError, match="title_index must be"):
            fitted.similar_titles(10_000, 5)

    def test_explanations_name_only_titles_from_the_history(
        self, fitted: Recommender, interactions: Interactions
    ) -> None:
        history = interactions.matrix[:1]
        top = int(fitted.recommend(history, 1).titles[0, 0])
        reasons = fitted.explain(history, top, top=3)
        assert len(reasons) <= 3
        assert {i for i, _ in reasons} <= set(history.indices.tolist())
        assert all(weight > 0 for _, weight in reasons)
        if self.learns_preferences:
            assert reasons, "a taste model must name at least one title behind its top pick"

    def test_explaining_many_titles_at_once_matches_one_at_a_time(
        self, fitted: Recommender, interactions: Interactions
    ) -> None:
        history = interactions.matrix[:1]
        asked = fitted.recommend(history, 5).titles[0]
        together = fitted.explain_many(history, asked, top=3)
        assert len(together) == len(asked)
        for title, found in zip(asked.tolist(), together, strict=True):
            one = fitted.explain(history, title, top=3)
            assert [i for i, _ in found] == [i for i, _ in one]
            np.testing.assert_allclose([w for _, w in found], [w for _, w in one], rtol=1e-5)
        with pytest.raises(InputError, match="title_index must be"):
            fitted.explain_many(history, np.array([0, 10_000]))

    # -- persistence ------------------------------------------------------------------------
    def test_save_and_load_round_trip_gives_equal_scores(
        self, fitted: Recommender, interactions: Interactions, tmp_path: Path
    ) -> None:
        path = fitted.save(tmp_path / "model.npz")
        with np.load(path, allow_pickle=False) as stored:
            assert "__artifact__" in stored.files  # the limelight.artifacts container
        loaded = Recommender.load(path)
        assert type(loaded) is type(fitted)
        assert list(loaded.title_ids_) == list(fitted.title_ids_)  # type: ignore[attr-defined]
        history = interactions.matrix[:10]
        np.testing.assert_allclose(loaded.score(history), fitted.score(history), rtol=1e-5, atol=1e-6)
