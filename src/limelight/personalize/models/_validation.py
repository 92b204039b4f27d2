"""`auto`'s own validation split of the training data, shaped like the protocol it is judged by.

Modes (`ValidationSplit.mode`):
- `random`: per member, a random `fraction` of their titles is held out (Microsoft Recommenders'
  stratified split, one level down);
- `titles`: per title, a random `fraction` of its members is held out (the per-title split,
  `random-by-title`, one level down);
- `recent`: per member, their latest `fraction` of titles (at least one) is held out — the
  shape of serving tomorrow from today's data;
- `last`: per member with two or more titles, their latest title is held out — exactly the shape
  of leave-last-out (on the demo world, where leave-last-out NDCG@10 is what the service reports,
  `recent` chose an ALS blend scoring 0.274 and `last` one scoring 0.290, EASE alone 0.289);
- `temporal`: one global cutoff at the (1 − `fraction`) quantile of interaction times; members
  with titles on both sides are validated (falls back to `recent` when fewer than
  `MIN_TEMPORAL_MEMBERS` qualify: too few to choose anything);
- `members`: a `fraction` of members is held out of training entirely and folded in from 80% of
  their titles, scored on the other 20% (strong generalization).
`mode_for(protocol, has_time)` maps an evaluation protocol to a mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from limelight.errors import InputError
from limelight.personalize.base import Interactions

__all__ = ["MIN_TEMPORAL_MEMBERS", "MODES", "ValidationSplit", "mode_for", "validation_split"]

MODES: tuple[str, ...] = ("random", "titles", "recent", "last", "temporal", "members")
MIN_TEMPORAL_MEMBERS = 10
_PROTOCOL_MODES = {
    "random": "random",
    "random-by-title": "titles",
    "leave-last-out": "last",
    "temporal": "temporal",
    "strong-generalization": "members",
}


def mode_for(protocol: str | None, has_time: bool) -> str:
    """The validation mode that imitates `protocol`; with no protocol, `recent` when there are times."""
    if protocol is not None and protocol in _PROTOCOL_MODES:
        mode = _PROTOCOL_MODES[protocol]
        return mode if has_time or mode in ("random", "titles", "members") else "random"
    return "recent" if has_time else "random"


@dataclass
class ValidationSplit:
    """Fit on `train`; score `history` rows (one per validated member) against `truth` rows."""

    mode: str
    train: Interactions
    history: sp.csr_matrix
    truth: sp.csr_matrix
    history_time: sp.csr_matrix | None = None  # the history's latest times, for sequential models


def _rank_within_member(rows: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For entries grouped by `rows`, each entry's 0-based rank by `key` and its member's size."""
    order = np.lexsort((key, rows))
    sorted_rows = rows[order]
    starts = np.r_[0, np.flatnonzero(sorted_rows[1:] != sorted_rows[:-1]) + 1]
    sizes = np.diff(np.r_[starts, len(rows)])
    rank = np.empty(len(rows), dtype=np.int64)
    rank[order] = np.arange(len(rows)) - np.repeat(starts, sizes)
    size = np.empty(len(rows), dtype=np.int64)
    size[order] = np.repeat(sizes, sizes)
    return rank, size


def _subset(interactions: Interactions, keep: np.ndarray, coo: sp.coo_matrix) -> Interactions:
    shape = interactions.matrix.shape
    matrix = sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=shape, dtype=np.float32)
    last_at = None
    if interactions.last_at is not None:
        last = interactions.last_at.tocsr()
        times = np.asarray(last[coo.row[keep], coo.col[keep]]).ravel()
        last_at = sp.csr_matrix((times, (coo.row[keep], coo.col[keep])), shape=shape)
    events = None
    if interactions.events is not None:
        kept_pairs = sp.csr_matrix((np.ones(int(keep.sum()), np.int8), (coo.row[keep], coo.col[keep])), shape=shape)
        ev = interactions.events
        inside = np.asarray(kept_pairs[ev["member_idx"].to_numpy(), ev["title_idx"].to_numpy()]).ravel() > 0
        events = ev[inside].reset_index(drop=True)
    return Interactions(matrix, interactions.member_ids, interactions.title_ids, last_at=last_at, events=events)


def validation_split(
    interactions: Interactions,
    mode: str,
    *,
    fraction: float = 0.2,
    seed: int = 7,
    max_members: int | None = 5000,
) -> ValidationSplit:
    """Split `interactions` for validation in `mode` (see module doc); at most `max_members` are scored."""
    if mode not in MODES:
        raise InputError(f"validation must be one of {', '.join(MODES)} or auto, got {mode!r}")
    rng = np.random.default_rng(seed)
    coo = interactions.matrix.tocoo()
    rows, cols = coo.row.astype(np.int64), coo.col.astype(np.int64)
    times: np.ndarray | None = None
    if interactions.last_at is not None:
        times = np.asarray(interactions.last_at.tocsr()[rows, cols]).ravel()
    if mode in ("recent", "last", "temporal") and times is None:
        mode = "random"
    history_rows: np.ndarray | None = None
    if mode == "temporal":
        assert times is not None
        cutoff = float(np.quantile(times, 1 - fraction))
        held = times > cutoff
        before = np.bincount(rows[~held], minlength=interactions.n_members) > 0
        after = np.bincount(rows[held], minlength=interactions.n_members) > 0
        if int((before & after).sum()) < MIN_TEMPORAL_MEMBERS:
            mode = "recent"
    if mode == "members":
        n_members = interactions.n_members
        n_out = min(max(1, round(n_members * fraction)), n_members - 1)
        if n_out < 1:
            mode = "random"
        else:
            out_members = np.zeros(n_members, dtype=bool)
            out_members[rng.choice(n_members, size=n_out, replace=False)] = True
            outside = out_members[rows]
            rank, size = _rank_within_member(rows, rng.random(len(rows)))
            held = outside & (rank >= np.maximum(np.round(size * 0.8), 1))
            history_mask = outside & ~held
            train_mask = ~outside
            history_rows = np.flatnonzero(out_members & (np.bincount(rows[held], minlength=n_members) > 0))
    if mode == "random":
        rank, size = _rank_within_member(rows, rng.random(len(rows)))
        held = rank >= np.maximum(np.round(size * (1 - fraction)), 1)
    elif mode == "titles":
        rank, size = _rank_within_member(cols, rng.random(len(rows)))  # grouped by title instead
        held = rank >= np.maximum(np.round(size * (1 - fraction)), 1)
    elif mode == "recent":
        assert times is not None
        rank, size = _rank_within_member(rows, times + rng.random(len(rows)) * 1e-3)
        held = (rank >= np.round(size * (1 - fraction))) & (size >= 2)
        held |= (rank == size - 1) & (size >= 2)
    elif mode == "last":
        assert times is not None
        rank, size = _rank_within_member(rows, times + rng.random(len(rows)) * 1e-3)
        held = (rank == size - 1) & (size >= 2)
    if mode != "members":
        train_mask = ~held
        history_mask = train_mask
    shape = interactions.matrix.shape
    train = _subset(interactions, train_mask, coo)
    history_all = sp.csr_matrix(  # with its ratings, as the model will see histories when it serves
        (coo.data[history_mask].astype(np.float32), (rows[history_mask], cols[history_mask])), shape=shape
    )
    truth_all = sp.csr_matrix((np.ones(int(held.sum()), np.float32), (rows[held], cols[held])), shape=shape)
    members = np.flatnonzero((truth_all.getnnz(axis=1) > 0) & (history_all.getnnz(axis=1) > 0))
    if history_rows is not None:
        members = np.intersect1d(members, history_rows)
    if members.size == 0:
        raise InputError("auto's validation split must leave at least one member to score, got none")
    if max_members is not None and members.size > max_members:
        members = np.sort(rng.choice(members, size=max_members, replace=False))
    history_time = None
    if times is not None:
        history_time = sp.csr_matrix(
            (times[history_mask], (rows[history_mask], cols[history_mask])), shape=shape
        )[members]
    return ValidationSplit(mode, train, history_all[members], truth_all[members], history_time)
