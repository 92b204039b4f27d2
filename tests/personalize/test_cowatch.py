"""Co-watch EASE: the time-weighted Gram matrix, and what it learns that plain co-occurrence cannot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from limelight.errors import InputError
from limelight.personalize.base import Interactions
from limelight.personalize.models import EASE, CoWatchEASE, make_model
from limelight.personalize.models.cowatch import CUTOFF_WINDOWS, cowatch_gram


def _brute_force(last_at: sp.csr_matrix, window: float, strengths: sp.csr_matrix | None = None) -> np.ndarray:
    """Every pair of every member's titles, one at a time (the definition, for small data only)."""
    n = last_at.shape[1]
    gram = np.zeros((n, n))
    for m in range(last_at.shape[0]):
        row = last_at[m]
        titles, times = row.indices, row.data.astype(float)
        weight = np.ones(len(titles)) if strengths is None else np.asarray(strengths[m, titles].todense()).ravel()
        for a in range(len(titles)):
            gram[titles[a], titles[a]] += weight[a] ** 2
            for b in range(len(titles)):
                gap = abs(times[a] - times[b])
                if a != b and gap <= CUTOFF_WINDOWS * window:
                    gram[titles[a], titles[b]] += np.exp(-gap / window) * weight[a] * weight[b]
    return gram


@pytest.mark.parametrize("flush_every", [10, 20_000_000], ids=["many-flushes", "one-flush"])
def test_the_gram_matrix_is_the_kernel_sum_over_each_members_pairs(
    monkeypatch: pytest.MonkeyPatch, flush_every: int
) -> None:
    from limelight.personalize.models import cowatch

    monkeypatch.setattr(cowatch, "PAIRS_PER_FLUSH", flush_every)
    rng = np.random.default_rng(3)
    n_members, n_titles = 40, 25
    rows, cols, times = [], [], []
    for m in range(n_members):
        titles = rng.choice(n_titles, size=rng.integers(1, 12), replace=False)
        start = 1_600_000_000 + rng.integers(0, 10**6)
        rows += [m] * len(titles)
        cols += titles.tolist()
        times += (start + np.cumsum(rng.exponential(1800, len(titles)))).astype(np.int64).tolist()
    last_at = sp.csr_matrix((np.array(times, dtype=np.float64), (rows, cols)), shape=(n_members, n_titles))
    got = cowatch_gram(last_at, 600.0)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, _brute_force(last_at, 600.0), rtol=1e-5, atol=1e-6)
    strengths = last_at.copy()
    strengths.data = rng.uniform(0.5, 2.0, strengths.nnz)  # e.g. rating-weighted interactions
    np.testing.assert_allclose(cowatch_gram(last_at, 600.0, strengths), _brute_force(last_at, 600.0, strengths),
                               rtol=1e-5, atol=1e-5)
    with pytest.raises(InputError, match="same members × titles pattern"):
        cowatch_gram(last_at, 600.0, sp.csr_matrix(last_at.shape))


def _sittings() -> Interactions:
    """Half the members watch A then B the same evening; the other half watch A, then C a year later.

    B and C share A equally often, so plain co-occurrence cannot tell them apart; the sitting can.
    """
    rows = []
    for m in range(60):
        t0 = 1_600_000_000 + m * 86_400
        follower = "B" if m % 2 == 0 else "C"
        later = 600 if follower == "B" else 365 * 86_400
        rows += [(f"m{m}", "A", t0), (f"m{m}", follower, t0 + later), (f"m{m}", f"filler{m % 7}", t0 + 30 * 86_400)]
    frame = pd.DataFrame(rows, columns=["member_id", "title_id", "timestamp"])
    return Interactions.from_frame(frame, time_col="timestamp")


def test_titles_taken_in_one_sitting_are_closer_neighbours_than_titles_a_year_apart() -> None:
    data = _sittings()
    index = {t: i for i, t in enumerate(data.title_ids)}
    def scores(model: EASE) -> np.ndarray:
        model.fit(data)
        return model.score(model.history_for(["A"]))[0]

    plain = scores(EASE(regularization=1.0))
    pure = scores(CoWatchEASE(regularization=1.0, window_minutes=30.0, plain_weight=0.0))
    mixed = scores(CoWatchEASE(regularization=1.0, window_minutes=30.0))  # the default adds co-occurrence
    assert plain[index["B"]] == pytest.approx(plain[index["C"]], rel=1e-4)  # co-occurrence alone: a tie
    assert pure[index["B"]] > 2 * pure[index["C"]]
    assert mixed[index["B"]] > 1.2 * mixed[index["C"]] > 0


def test_without_timestamps_it_is_plain_ease_and_min_support_leaves_rare_titles_out() -> None:
    data = _sittings()
    untimed = Interactions(data.matrix, data.member_ids, data.title_ids)
    np.testing.assert_allclose(CoWatchEASE(regularization=3.0).fit(untimed).weights_,
                               EASE(regularization=3.0).fit(untimed).weights_, rtol=1e-4, atol=1e-6)
    pruned = CoWatchEASE(regularization=3.0, min_support=20).fit(data)
    rare = [i for i, t in enumerate(data.title_ids) if str(t).startswith("filler")]
    assert not pruned.weights_[rare].any() and not pruned.weights_[:, rare].any()
    with pytest.raises(InputError, match="min_support of CoWatchEASE must leave at least one title"):
        CoWatchEASE(min_support=10_000).fit(data)


@pytest.mark.parametrize(("param", "value"), [("window_minutes", 0), ("plain_weight", -1), ("regularization", "x")])
def test_bad_parameters_are_refused_before_a_fit(param: str, value: object) -> None:
    with pytest.raises(InputError, match=f"'{param}' parameter of CoWatchEASE"):
        make_model("cowatch", **{param: value})


def test_rating_weighted_co_watch_reads_ratings_as_strengths_and_survives_a_save(tmp_path) -> None:
    from limelight.personalize.base import Recommender
    from limelight.personalize.testing import clustered_frame

    rated = Interactions.from_frame(clustered_frame(), time_col="timestamp", weight_col="rating")
    plain = CoWatchEASE(regularization=5.0, window_minutes=120.0).fit(rated)
    weighted = CoWatchEASE(regularization=5.0, window_minutes=120.0, rating_weight=0.3).fit(rated)
    assert weighted._rated and not np.allclose(weighted.weights_, plain.weights_)
    history = rated.matrix[:5]
    loaded = Recommender.load(weighted.save(tmp_path / "cowatch"))
    np.testing.assert_allclose(loaded.score(history), weighted.score(history), rtol=1e-6)


def test_fits_inside_reuse_grams_share_one_gram_per_window_and_match_fits_outside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Auto's search fits co-watch at many λ and dropout values per window: the close pairs are found once."""
    from limelight.personalize.models import cowatch

    data = _sittings()
    calls: list[float] = []
    real = cowatch.cowatch_gram

    def counted(times: sp.csr_matrix, window: float, strengths: sp.csr_matrix | None = None) -> np.ndarray:
        calls.append(window)
        return real(times, window, strengths)

    monkeypatch.setattr(cowatch, "cowatch_gram", counted)
    settings = [{"regularization": 1.0}, {"regularization": 5.0}, {"regularization": 5.0, "dropout": 0.3},
                {"regularization": 1.0, "window_minutes": 60.0}, {"regularization": 2.0}]
    outside = [CoWatchEASE(plain_weight=0.0, **s).fit(data).weights_ for s in settings]
    assert len(calls) == len(settings)
    calls.clear()
    with cowatch.reuse_grams():
        inside = [CoWatchEASE(plain_weight=0.0, **s).fit(data).weights_ for s in settings]
    assert sorted(calls) == [6.0 * 60, 60.0 * 60]  # one per window; EASE's in-place inverse spoiled no copy
    for a, b in zip(outside, inside, strict=True):
        np.testing.assert_array_equal(a, b)
    calls.clear()
    CoWatchEASE(plain_weight=0.0).fit(data)  # after the block, nothing is kept
    assert len(calls) == 1 and getattr(cowatch._reuse, "grams", None) is None
