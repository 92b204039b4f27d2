"""Home-page rows as a member sees them, de-duplicated, filtered and diversified.

Rows, in display order: Continue Watching, Top Picks, Top 10 in <country>, Because You Watched X,
New on limelight, Games for You, genre rows, and a second Because You Watched. Every row only
shows titles the member may watch (available in their country, maturity at or below their
limit), never a finished title, and never a title an earlier row already showed. Personalised
rows are re-ranked with maximal marginal relevance (MMR): λ·relevance − (1−λ)·max similarity to
the titles already picked, similarity being the cosine of genre vectors (λ = 1: pure relevance).

The engine supplies a `MemberView` (what the member may see and has seen) and a `RowSources`
(precomputed Top 10 lists, new releases, neighbours, reasons); this module only assembles rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from limelight.personalize.catalog import Catalog, genre_phrase

__all__ = [
    "HomePage",
    "HomeRow",
    "MemberView",
    "RecommendedTitle",
    "RowItem",
    "RowSources",
    "build_rows",
    "mmr",
]


class RecommendedTitle(BaseModel):
    """One title in a list or row, with the reason a member reads."""

    title_id: str
    name: str
    kind: str
    score: float
    reason: str
    because: list[str] = Field(default_factory=list, description="ids of the titles that earned it")
    genres: list[str] = Field(default_factory=list)


class HomeRow(BaseModel):
    row_id: str
    title: str
    row_kind: str
    items: list[RecommendedTitle]


class HomePage(BaseModel):
    member_id: str
    rows: list[HomeRow]
    synthetic: bool
    generated_at: datetime


@dataclass
class MemberView:
    """What one member may see and has seen, on the catalog's title axis."""

    member_id: str
    country: str | None
    allowed: np.ndarray  # bool (n,): available in their country and within their maturity limit
    nameable: np.ndarray  # bool (n,): within their maturity limit and not rated below liked — titles a reason may name
    seen: np.ndarray  # bool (n,): in their history (watched or rated; not samples, not thumbs-downs)
    finished: np.ndarray  # bool (n,)
    disliked: np.ndarray  # bool (n,): given a thumbs-down — never shown again, never named
    recent: np.ndarray  # axis idx of history, most recent first
    candidates: np.ndarray  # axis idx, best first (seen titles already excluded)
    scores: np.ndarray  # their blended scores
    progress: pd.DataFrame  # progress_frame rows, most recent first
    genre_profile: np.ndarray  # (n_genres,) taste weights
    rated: np.ndarray | None = None  # bool (n,): rated and never played here (MovieLens): "rated", not "watched"
    resumable: list[tuple[int, str, str, float]] = field(default_factory=list)  # (root, play id, label, fraction)
    # Filled by the engine on first use: per title, the member's favourite genre among the title's
    # genres (-1: none), and the history titles that earned titles already asked about.
    genre_of: np.ndarray | None = None
    contributors: dict[int, list[tuple[int, float]]] = field(default_factory=dict)
    model_history: Any = None  # their history as the model reads it (a 1 × titles CSR row)
    score_of: np.ndarray | None = None  # (n,) blended score of candidates, NaN elsewhere
    top10: tuple[np.ndarray, str] | None = None  # their Top 10 (titles they may watch, best first) and its place

    @property
    def shown(self) -> np.ndarray:
        """Titles a recommendation may show: allowed, not in their history, not given a thumbs-down."""
        return self.allowed & ~self.seen & ~self.disliked

    def __post_init__(self) -> None:
        p = self.progress
        if not self.resumable and len(p):
            p = p[p["state"].isin(["resume", "next"])]
            self.resumable = [
                (int(r), str(play), str(label), float(frac))
                for r, play, label, frac in zip(p["root_idx"], p["play_id"], p["label"], p["fraction"], strict=True)
            ]


@dataclass
class RowItem:
    """An item before it becomes a `RecommendedTitle`: `play_id` differs from the axis title for episodes."""

    idx: int
    score: float
    reason: str
    because: list[int] = field(default_factory=list)
    play_id: str | None = None


@dataclass
class RowSources:
    """Everything the rows need besides the member: shared lists and callbacks into the engine."""

    catalog: Catalog
    top10: Callable[[MemberView], tuple[np.ndarray, str]]  # member → (their Top 10 idx, best first; place name)
    new_titles: np.ndarray  # idx released recently, newest first
    popular: Callable[[str | None], np.ndarray]  # country → popularity score per title
    neighbours: Callable[[int], tuple[np.ndarray, np.ndarray]]  # idx → (similar idx, similarity)
    reasons: Callable[[MemberView, np.ndarray], list[tuple[str, list[int]]]]  # per title: (sentence, because idx)
    service_name: str = "limelight"


def mmr(pool: np.ndarray, relevance: np.ndarray, features: np.ndarray, k: int, lam: float) -> np.ndarray:
    """Maximal marginal relevance: pick `k` of `pool` trading relevance against similarity to picks.

    `relevance` is scaled to [0, 1] within the pool; similarity is the dot product of the rows of
    `features` (L2-normalised genre vectors, so cosine). λ = 1 keeps the relevance order.
    """
    k = min(k, len(pool))
    if k <= 0:
        return pool[:0]
    if lam >= 1.0 or len(pool) <= 1:
        return pool[:k]
    rel = np.asarray(relevance, dtype=np.float64)
    span = rel.max() - rel.min()
    rel = (rel - rel.min()) / span if span > 0 else np.ones_like(rel)
    feats = features[pool]
    sim = feats @ feats.T
    chosen = [int(np.argmax(rel))]
    max_sim = sim[chosen[0]].astype(np.float64).copy()
    available = np.ones(len(pool), dtype=bool)
    available[chosen[0]] = False
    for _ in range(k - 1):
        gain = lam * rel - (1.0 - lam) * max_sim
        gain[~available] = -np.inf
        pick = int(np.argmax(gain))
        chosen.append(pick)
        available[pick] = False
        np.maximum(max_sim, sim[pick], out=max_sim)
    return pool[np.asarray(chosen)]


class _Builder:
    def __init__(self, view: MemberView, src: RowSources, per_row: int, lam: float) -> None:
        self.view = view
        self.src = src
        self.per_row = per_row
        self.lam = lam
        self.used = np.zeros(src.catalog.n_titles, dtype=bool)
        # Recommendable: allowed, never interacted with nor given a thumbs-down (`shown`), not shown yet.
        self.open = view.shown
        self.anchors: set[int] = set()
        self.pool = max(4 * per_row, 48)  # MMR chooses among this many of the best candidates

    def take(self, idx: np.ndarray, *, recommendable: bool = True) -> np.ndarray:
        """Drop titles that may not be shown (or were already shown); keeps order."""
        idx = np.asarray(idx, dtype=np.int64)
        if idx.size == 0:
            return idx
        hidden = self.view.finished[idx] | self.view.disliked[idx]
        ok = self.open[idx] if recommendable else (self.view.allowed[idx] & ~hidden)
        ok &= ~self.used[idx]
        _, first = np.unique(idx, return_index=True)
        unique = np.zeros(idx.size, dtype=bool)
        unique[first] = True
        return idx[ok & unique]

    def mark(self, items: list[RowItem]) -> None:
        for it in items:
            self.used[it.idx] = True

    def items(self, idx: np.ndarray, scores: np.ndarray) -> list[RowItem]:
        reasons = self.src.reasons(self.view, idx)
        return [RowItem(i, float(s), sentence, because)
                for i, s, (sentence, because) in zip(idx.tolist(), scores.tolist(), reasons, strict=True)]

    def candidate_scores(self, idx: np.ndarray) -> np.ndarray:
        """The member's blended score for titles (those outside their candidates get their popularity/1e3)."""
        if self.view.score_of is None:
            score_of = np.full(self.src.catalog.n_titles, np.nan)
            score_of[self.view.candidates] = self.view.scores
            self.view.score_of = score_of
        found = self.view.score_of[idx]
        pop = self.src.popular(self.view.country)[idx] * 1e-3
        return np.where(np.isnan(found), pop, found)

    # -- rows ------------------------------------------------------------------------------
    def continue_watching(self) -> list[RowItem]:
        cat = self.src.catalog
        out = []
        for root, play, label, frac in self.view.resumable:
            if cat.kind[root] == "game" or not self.view.allowed[root] or self.used[root]:
                continue
            out.append(RowItem(root, frac, label, [root], play_id=play))
            self.used[root] = True
            if len(out) >= self.per_row:
                break
        return out

    def top_picks(self) -> list[RowItem]:
        keep = self.open[self.view.candidates] & ~self.used[self.view.candidates]
        pool = self.view.candidates[keep][: self.pool]
        scores = self.view.scores[keep][: self.pool]
        picked = mmr(pool, scores, self.src.catalog.genre_matrix, self.per_row, self.lam)
        lookup = dict(zip(pool.tolist(), scores.tolist(), strict=True))
        items = self.items(picked, np.array([lookup[i] for i in picked.tolist()]))
        self.mark(items)
        return items

    def top10(self) -> tuple[list[RowItem], str]:
        ranked, place = self.src.top10(self.view)
        # Ranks among the titles this profile may watch (a kids' profile gets the kids' Top 10); a finished
        # title is hidden, not skipped over: the others keep the rank the list gives them.
        rank_of = {int(i): r + 1 for r, i in enumerate(ranked.tolist())}
        idx = self.take(ranked, recommendable=False)[: min(10, self.per_row)]
        items = [RowItem(int(i), float(11 - rank_of[int(i)]), f"#{rank_of[int(i)]} in {place} this week") for i in idx]
        self.mark(items)
        return items, place

    def because_you_watched(self) -> tuple[list[RowItem], int | None]:
        for anchor in self.view.recent[:10].tolist():
            if anchor in self.anchors or self.src.catalog.kind[anchor] == "game":  # games have their own row
                continue
            if not self.view.nameable[anchor]:  # above the profile's limit now, or rated low: never named
                continue
            neighbours, sims = self.src.neighbours(anchor)
            keep = self.take(neighbours)
            if keep.size < 3:
                continue
            self.anchors.add(anchor)
            lookup = dict(zip(neighbours.tolist(), sims.tolist(), strict=True))
            picked = mmr(keep, np.array([lookup[i] for i in keep.tolist()]), self.src.catalog.genre_matrix,
                         self.per_row, self.lam)
            name = self.src.catalog.names[anchor]
            verb = "rated" if self.view.rated is not None and self.view.rated[anchor] else "watched"
            items = [RowItem(int(i), float(lookup[int(i)]), f"Because you {verb} {name}", [anchor]) for i in picked]
            self.mark(items)
            return items, anchor
        return [], None

    def new_on_service(self) -> list[RowItem]:
        idx = self.take(self.src.new_titles)
        if idx.size == 0:
            return []
        scores = self.candidate_scores(idx)
        order = np.argsort(-scores, kind="stable")[: self.per_row]
        idx, scores = idx[order], scores[order]
        items = [
            RowItem(i, float(s), sentence if because else f"New on {self.src.service_name}", because)
            for i, s, (sentence, because) in zip(idx.tolist(), scores.tolist(), self.src.reasons(self.view, idx),
                                                 strict=True)
        ]
        self.mark(items)
        return items

    def games(self) -> list[RowItem]:
        cat = self.src.catalog
        is_game = cat.kind == "game"
        if not is_game.any():
            return []
        from_candidates = self.view.candidates[is_game[self.view.candidates]]
        pop = self.src.popular(self.view.country)
        games = np.flatnonzero(is_game)
        popular = games[np.argsort(-pop[games], kind="stable")]
        idx = self.take(np.concatenate([from_candidates, popular]))[: self.per_row]
        items = self.items(idx, self.candidate_scores(idx))
        self.mark(items)
        return items

    def genre_row(self, genre: int) -> list[RowItem]:
        cat = self.src.catalog
        in_genre = cat.genre_matrix[:, genre] > 0
        from_candidates = self.view.candidates[in_genre[self.view.candidates]]
        pop = self.src.popular(self.view.country)
        members_of = np.flatnonzero(in_genre)
        popular = members_of[np.argsort(-pop[members_of], kind="stable")]
        pool = self.take(np.concatenate([from_candidates, popular]))[: self.pool]
        scores = self.candidate_scores(pool)
        picked = mmr(pool, scores, cat.genre_matrix, self.per_row, self.lam)
        items = self.items(picked, self.candidate_scores(picked))
        self.mark(items)
        return items


def _verb_title(view: MemberView, anchor: int) -> str:
    return "Rated" if view.rated is not None and view.rated[anchor] else "Watched"


def build_rows(
    view: MemberView,
    src: RowSources,
    *,
    max_rows: int = 8,
    per_row: int = 12,
    diversity: float = 0.7,
    min_items: int = 3,
) -> list[tuple[str, str, str, list[RowItem]]]:
    """The member's rows as (row_id, title, row_kind, items), in display order, at most `max_rows`."""
    b = _Builder(view, src, per_row, diversity)
    min_items = min(min_items, per_row)
    rows: list[tuple[str, str, str, list[RowItem]]] = []

    def add(row_id: str, title: str, kind: str, items: list[RowItem], least: int = min_items) -> None:
        if len(items) >= least and len(rows) < max_rows:
            rows.append((row_id, title, kind, items))
        elif items:  # a row too short to show gives its titles back to later rows
            for it in items:
                b.used[it.idx] = False

    cat = src.catalog
    add("continue_watching", "Continue Watching", "continue_watching", b.continue_watching(), least=1)
    if view.seen.any():
        add("top_picks", "Top Picks for You", "top_picks", b.top_picks())
    items, place = b.top10()
    add("top10", f"Top 10 in {place} This Week", "top10", items)
    add("new", f"New on {src.service_name}", "new", b.new_on_service())
    items, anchor = b.because_you_watched()
    if anchor is not None:
        add(f"because_{cat.axis_ids[anchor]}", f"Because You {_verb_title(view, anchor)} {cat.names[anchor]}",
            "because_you_watched", items)
    add("games", "Games for You", "games", b.games(), least=1)
    genres = np.argsort(-view.genre_profile, kind="stable")
    taste = [int(g) for g in genres[:3] if view.genre_profile[g] > 0]
    if not taste:  # a member with no history: the catalog's most common genres
        counts = (cat.genre_matrix > 0).sum(axis=0)
        taste = [int(g) for g in np.argsort(-counts, kind="stable")[:3] if counts[g] > 0]
    for pos, g in enumerate(taste):
        name = cat.genre_names[g] if cat.genre_names else ""
        if not name:
            continue
        add(f"genre_{name.lower().replace(' ', '_')}", genre_phrase(name).capitalize(), "genre", b.genre_row(g))
        if pos == 0:
            items, anchor = b.because_you_watched()
            if anchor is not None:
                add(f"because_{cat.axis_ids[anchor]}", f"Because You {_verb_title(view, anchor)} {cat.names[anchor]}",
                    "because_you_watched", items)
    if not view.seen.any():
        add("popular", "Popular on " + src.service_name, "popular", b.top_picks())
    return rows
