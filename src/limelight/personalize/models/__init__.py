"""The recommender models and a factory that builds one by name.

`make_model("ease", regularization=300)` → an unfitted `EASE`. Names: see `MODEL_NAMES`.
"""

from __future__ import annotations

from typing import Any

from limelight.errors import InputError
from limelight.personalize.base import Recommender
from limelight.personalize.models.als import ALS
from limelight.personalize.models.blend import Auto, Blend
from limelight.personalize.models.cowatch import CoWatchEASE
from limelight.personalize.models.ease import EASE
from limelight.personalize.models.itemknn import ItemKNN
from limelight.personalize.models.popularity import Popularity, Trending
from limelight.personalize.models.rp3beta import RP3Beta
from limelight.personalize.models.sasrec import SASRec
from limelight.personalize.models.vae import VAE

__all__ = [
    "ALS",
    "EASE",
    "MODEL_NAMES",
    "VAE",
    "Auto",
    "Blend",
    "CoWatchEASE",
    "ItemKNN",
    "Popularity",
    "RP3Beta",
    "SASRec",
    "Trending",
    "load_model",
    "make_model",
]

_MODELS: dict[str, type[Recommender]] = {
    "popularity": Popularity,
    "trending": Trending,
    "itemknn": ItemKNN,
    "rp3beta": RP3Beta,
    "ease": EASE,
    "cowatch": CoWatchEASE,
    "als": ALS,
    "sasrec": SASRec,
    "vae": VAE,
    "auto": Auto,
}
MODEL_NAMES: tuple[str, ...] = tuple(_MODELS)


def make_model(name: str, **params: Any) -> Recommender:
    """An unfitted model by name; unknown names or parameters, or values out of range, raise `InputError`."""
    try:
        model_cls = _MODELS[name]
    except KeyError:
        raise InputError(f"model must be one of {', '.join(MODEL_NAMES)}, got {name!r}") from None
    try:
        model = model_cls(**params)
    except TypeError as exc:
        raise InputError(f"the parameters of model '{name}' must be valid keyword arguments, got {params}") from exc
    model.check_params()  # a value out of range is refused now, before anyone starts a fit
    return model


def load_model(path: Any) -> Recommender:
    """Read any model written by `Recommender.save`."""
    return Recommender.load(path)
