"""SASRec runs the shared contract (needs PyTorch: marker `deep`)."""

from __future__ import annotations

import numpy as np
import pytest

from limelight.personalize.base import Interactions, Recommender
from limelight.personalize.testing import RecommenderContract, clustered_interactions

pytest.importorskip("torch")
pytestmark = pytest.mark.deep


class TestSASRec(RecommenderContract):
    def make_model(self) -> Recommender:
        from limelight.personalize.models import SASRec

        return SASRec(hidden=16, max_len=8, blocks=1, epochs=20, batch_size=32, learning_rate=5e-3, seed=3)


def test_sasrec_with_sampled_negatives_learns_the_next_title() -> None:
    from limelight.personalize.models import SASRec

    interactions = clustered_interactions()
    model = SASRec(hidden=16, max_len=8, blocks=1, epochs=15, batch_size=16, negatives=16, learning_rate=5e-3, seed=1)
    model.fit(interactions)
    recs = model.recommend(interactions.last_at, 3)
    cluster_of_member = np.array([int(m[1:]) % 4 for m in interactions.member_ids])
    cluster_of_title = np.array([int(t[1:]) // 10 for t in interactions.title_ids])
    assert (cluster_of_title[recs.titles] == cluster_of_member[:, None]).mean() > 0.5


def test_auto_considers_sasrec_only_when_asked_and_there_are_timestamps() -> None:
    from limelight.personalize.models import Auto
    from limelight.personalize.models.blend import search_space

    timed = clustered_interactions()
    untimed = Interactions(timed.matrix, timed.member_ids, timed.title_ids)
    assert "sasrec" not in [f for f, _, _ in search_space(timed)]
    assert "sasrec" in [f for f, _, _ in search_space(timed, ["popularity", "sasrec"])]
    assert "sasrec" not in [f for f, _, _ in search_space(untimed, ["popularity", "sasrec"])]
    model = Auto(k=5, families=["popularity", "sasrec"], seed=1)
    model.set_protocol("leave-last-out")
    model.fit(timed)
    tried = {row["model"] for row in model.report_}
    assert {"popularity", "sasrec"} <= tried
    recs = model.recommend(timed.last_at, 3)  # type: ignore[arg-type]
    assert recs.titles.shape == (timed.n_members, 3)


def test_sasrec_stops_training_when_its_time_budget_is_spent() -> None:
    from limelight.personalize.models import SASRec

    interactions = clustered_interactions()
    model = SASRec(hidden=8, max_len=8, blocks=1, epochs=10_000, batch_size=16, max_seconds=0.5, seed=1)
    model.fit(interactions)  # would take far longer than the test budget without the bound
    assert model.is_fitted()
