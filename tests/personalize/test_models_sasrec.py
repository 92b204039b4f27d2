"""SASRec runs the shared contract (needs PyTorch: marker `deep`)."""

from __future__ import annotations

import numpy as np
import pytest

from limelight.personalize.base import Recommender
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
