"""Top-K metrics against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from limelight.errors import InputError
from limelight.personalize.metrics import (
    catalog_coverage,
    intra_list_diversity,
    novelty,
    ranking_metrics,
    summarize,
)


def _truth(rows: list[list[int]], n_titles: int = 6) -> sp.csr_matrix:
    r = [i for i, row in enumerate(rows) for _ in row]
    c = [t for row in rows for t in row]
    return sp.csr_matrix((np.ones(len(c)), (r, c)), shape=(len(rows), n_titles))


def test_one_hit_at_rank_two_gives_textbook_values() -> None:
    metrics = ranking_metrics(np.array([[0, 1, 2]]), _truth([[1]]), 3)
    assert metrics["ndcg"][0] == pytest.approx(1 / np.log2(3))
    assert metrics["recall"][0] == pytest.approx(1.0)
    assert metrics["precision"][0] == pytest.approx(1 / 3)
    assert metrics["map"][0] == pytest.approx(0.5)


def test_ideal_dcg_uses_at_most_k_relevant_titles() -> None:
    # four relevant, K = 2, both slots hit: a perfect list
    metrics = ranking_metrics(np.array([[0, 1]]), _truth([[0, 1, 2, 3]]), 2)
    assert metrics["ndcg"][0] == pytest.approx(1.0)
    assert metrics["recall"][0] == pytest.approx(0.5)
    strong = ranking_metrics(np.array([[0, 1]]), _truth([[0, 1, 2, 3]]), 2, recall_denominator="min_k")
    assert strong["recall"][0] == pytest.approx(1.0)


def test_members_without_held_out_titles_are_not_averaged_in() -> None:
    metrics = ranking_metrics(np.array([[0, 1], [2, 3]]), _truth([[0], []]), 2)
    assert metrics["ndcg"].shape == (1,)


def test_map_averages_precision_at_each_hit() -> None:
    metrics = ranking_metrics(np.array([[5, 0, 4, 1]]), _truth([[0, 1]]), 4)
    assert metrics["map"][0] == pytest.approx((1 / 2 + 2 / 4) / 2)


def test_k_larger_than_the_lists_is_refused() -> None:
    with pytest.raises(InputError, match="k must be an int"):
        ranking_metrics(np.array([[0, 1]]), _truth([[0]]), 3)


def test_interval_is_a_t_interval_over_members_clipped_to_the_metrics_range() -> None:
    values = np.array([0.0, 1.0, 0.0, 1.0])
    summary = summarize(values)
    half = 3.182446 * values.std(ddof=1) / 2  # t(0.975, 3 degrees of freedom): four members are few
    assert summary.mean == pytest.approx(0.5)
    assert (summary.low, summary.high) == pytest.approx((0.5 - half, 0.5 + half))
    bounded = summarize(np.array([0.0, 1.0, 1.0, 0.5]), bounds=(0.0, 1.0))
    assert (bounded.low, bounded.high) == (0.0, 1.0)  # a t interval of ±0.76 around 0.625, clipped: NDCG stays in [0, 1]
    members = np.tile(values, 250)  # at 1,000 members t is the normal's 1.96 to 3 decimals
    assert summarize(members).high - 0.5 == pytest.approx(1.96 * members.std(ddof=1) / np.sqrt(1000), rel=2e-3)


def test_a_list_that_names_a_title_twice_is_refused() -> None:
    with pytest.raises(InputError, match="each list must name a title at most once"):
        ranking_metrics(np.array([[0, 1], [2, 2]]), _truth([[0], [2]]), 2)


def test_beyond_accuracy_measures() -> None:
    train = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 0, 1, 0], [1, 0, 0, 1], [1, 1, 0, 0]], dtype=np.float32))
    recommended = np.array([[0, 1], [2, 3]])
    assert catalog_coverage(recommended, 4) == pytest.approx(1.0)
    assert catalog_coverage(np.array([[0, 1], [0, 1]]), 4) == pytest.approx(0.5)
    # title 0 is held by everyone (0 bits), title 1 by half (1 bit)
    assert novelty(np.array([[0, 1]]), train)[0] == pytest.approx(0.5)
    # titles 2 and 3 share no member: fully diverse; titles 0 and 1: cosine 2/sqrt(8)
    ild = intra_list_diversity(recommended, train)
    assert sorted(ild) == pytest.approx(sorted([1 - 2 / np.sqrt(8), 1.0]))
