"""Mult-VAE and RecVAE run the shared contract and learn planted taste (needs PyTorch: marker `deep`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from limelight.errors import InputError
from limelight.personalize.base import Recommender
from limelight.personalize.testing import RecommenderContract, clustered_interactions

pytest.importorskip("torch")
pytestmark = pytest.mark.deep

SMALL = {"hidden": 32, "latent": 8, "epochs": 12, "batch_size": 32, "learning_rate": 5e-3, "seed": 3}


class TestRecVAE(RecommenderContract):
    def make_model(self) -> Recommender:
        from limelight.personalize.models import VAE

        return VAE(variant="recvae", encoder_epochs=2, **SMALL)  # type: ignore[arg-type]


class TestMultVAE(RecommenderContract):
    def make_model(self) -> Recommender:
        from limelight.personalize.models import VAE

        return VAE(variant="multvae", **{**SMALL, "epochs": 30})  # type: ignore[arg-type]


@pytest.mark.parametrize("variant", ["recvae", "multvae"])
def test_vae_beats_popularity_on_planted_taste_for_members_it_never_saw(variant: str) -> None:
    from limelight.personalize.metrics import ranking_metrics
    from limelight.personalize.models import VAE, Popularity

    world = clustered_interactions(n_members=120, per_member=7, seed=5)
    train_rows = np.arange(80)
    new_rows = np.arange(80, 120)  # folded in: never part of training
    train = type(world)(world.matrix[train_rows], world.member_ids[train_rows], world.title_ids)
    history = world.matrix[new_rows].tolil()
    truth = world.matrix[new_rows].tolil() * 0
    for i in range(history.shape[0]):  # hide each newcomer's last two titles of their cluster
        cols = list(history.rows[i])
        for col in cols[-2:]:
            history[i, col] = 0
            truth[i, col] = 1
    history, truth = history.tocsr(), truth.tocsr()
    history.eliminate_zeros()
    epochs = 12 if variant == "recvae" else 30
    vae = VAE(variant=variant, **{**SMALL, "epochs": epochs}).fit(train)  # type: ignore[arg-type]
    popularity = Popularity().fit(train)
    ndcg = {
        name: ranking_metrics(model.recommend(history, 5).titles, truth, 5)["ndcg"].mean()
        for name, model in (("vae", vae), ("popularity", popularity))
    }
    assert ndcg["vae"] > ndcg["popularity"] + 0.1


def test_loaded_vae_scores_new_members_exactly_like_the_trained_one(tmp_path: Path) -> None:
    from limelight.personalize.models import VAE, load_model

    world = clustered_interactions()
    model = VAE(**SMALL).fit(world)  # type: ignore[arg-type]
    loaded = load_model(model.save(tmp_path / "vae.npz"))
    newcomer = model.history_for(["t031", "t033", "t035"])
    np.testing.assert_array_equal(loaded.score(newcomer), model.score(newcomer))
    assert loaded.get_params() == model.get_params()


def test_vae_training_leaves_torch_global_random_state_alone() -> None:
    import torch

    from limelight.personalize.models import VAE

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    VAE(**{**SMALL, "epochs": 1}).fit(clustered_interactions())  # type: ignore[arg-type]
    assert torch.equal(torch.rand(3), expected)


def test_vae_stops_training_when_its_time_budget_is_spent() -> None:
    from limelight.personalize.models import VAE

    model = VAE(**{**SMALL, "epochs": 100_000, "max_seconds": 0.3}).fit(clustered_interactions())  # type: ignore[arg-type]
    assert 1 <= model.epochs_run_ < 100_000


def test_an_unknown_variant_is_refused_in_one_sentence() -> None:
    from limelight.personalize.models import make_model

    with pytest.raises(InputError, match="'variant' parameter of VAE must be one of recvae, multvae"):
        make_model("vae", variant="bivae").fit(clustered_interactions())


def test_auto_tries_the_vae_within_its_budget_and_compares_finalists_on_two_folds() -> None:
    from limelight.personalize.models import Auto
    from limelight.personalize.models.blend import FAMILY_EVALUATIONS, VAE_SECONDS

    model = Auto(k=5, families=["popularity", "vae"], seed=2, validation_folds=2)
    model.set_protocol("random")
    model.fit(clustered_interactions(n_members=60, per_member=8))
    tried = [row for row in model.report_ if row["model"] == "vae"]
    assert 1 <= len(tried) <= FAMILY_EVALUATIONS["vae"]
    assert all(row["params"]["max_seconds"] == VAE_SECONDS for row in tried)
    assert {row["model"] for row in model.folds_} == {"popularity", "vae"}
    assert all(len(row["validation_ndcg"]) == 2 for row in model.folds_)
    assert model.chosen_[0]["model"] == "vae"  # planted taste: the VAE beats popularity on both folds
