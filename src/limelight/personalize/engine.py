"""The personalization engine the CLI and the REST service call: lists, rows, fold-in, explanations.

`PersonalizationEngine.from_store(store)` loads the catalog, members and viewing histories from
the spine, fits (or adopts) a collaborative model, fits a metadata model for titles with few
views, and precomputes each member's top candidates so that a request is a few numpy operations:

* score(member, title) = (1 − w)·CF + w·γ·content, each scaled to the member's best title, with
  w = k / (k + training views of the title), faded by exp(−(age − N)/N) once the title is older than
  the N-day "new" window, and γ = `content_scale` (0.8: a perfect metadata match ranks a little
  below the member's best collaborative pick): a new title reaches members through its genres,
  people and language, collaborative signal takes over as views arrive, and an old title with few
  views is judged by them;
* `observe(events)` folds new viewing events into members' histories (new members on the fly)
  and rescores only those members with the model's `score(history)` — no retraining;
* reads are safe from several threads (state is replaced, never mutated in place, under a lock).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from limelight.errors import InputError, NotFoundError
from limelight.personalize.base import Interactions, Recommender
from limelight.personalize.catalog import (
    Catalog,
    Members,
    TitleCard,
    country_name,
    load_catalog,
    load_members,
    maturity_scale,
)
from limelight.personalize.coldstart import (
    ContentModel,
    PopularityRecommender,
    PopularityScorer,
    content_weight,
)
from limelight.personalize.explain import (
    AttributeContribution,
    TitleContribution,
    TitleExplanation,
    attribute_phrase,
    compose_sentence,
)
from limelight.personalize.foldin import Histories, MemberHistory
from limelight.personalize.rows import (
    HomePage,
    HomeRow,
    MemberView,
    RecommendedTitle,
    RowItem,
    RowSources,
    build_rows,
)
from limelight.spine.store import Store

__all__ = ["HomePage", "HomeRow", "PersonalizationEngine", "RecommendedTitle", "TitleCard", "default_model"]

log = logging.getLogger(__name__)

SERVICE_NAME = "limelight"
# How long a published weekly Top 10 (the spine's `top10_weekly`) stands for "this week": Netflix publishes
# each Tuesday for the week to Sunday, so a list older than two weeks has a newer one it is missing.
TOP10_FRESH_DAYS = 14
# A "Top 10 this week" needs this many distinct viewers in the window, and at least this share of the
# place's members with any history: on MovieLens the last week holds 28 ratings by 7 of 610 people, and a
# film rated once was "#5 in the World this week" on every page.
TOP10_MIN_VIEWERS = 10
TOP10_MIN_SHARE = 0.05


def default_model(seed: int = 0) -> Recommender:
    """EASE from the models package when it is there; otherwise a popularity scorer."""
    try:
        from limelight.personalize.models import make_model  # type: ignore[attr-defined]

        return make_model("ease")  # type: ignore[no-any-return]
    except ImportError:
        pass
    except Exception as exc:  # an unfinished models package must not take the home page down
        log.warning("make_model('ease') failed (%s); trying the EASE class", exc)
    try:
        from limelight.personalize.models.ease import EASE

        return EASE()
    except ImportError:
        log.warning("the EASE model is not available; recommendations use popularity")
        return PopularityRecommender()


class PersonalizationEngine:
    """Recommendations, home rows, fold-in and explanations over one spine (see the module doc)."""

    def __init__(
        self,
        catalog: Catalog,
        members: Members,
        histories: Histories,
        model: Recommender,
        *,
        now: datetime,
        seed: int = 0,
        n_candidates: int = 300,
        content_shrinkage: float = 10.0,
        content_scale: float = 0.8,
        diversity: float = 0.7,
        new_days: int = 90,
        top10_days: int = 7,
        top10_weekly: pd.DataFrame | None = None,
        max_views: int = 4096,
    ) -> None:
        if not 0.0 <= diversity <= 1.0:
            raise InputError(f"diversity must be a number in [0, 1], got {diversity}")
        self.catalog = catalog
        self.members = members
        self.histories = histories
        self.model = model
        self.now = now
        self.seed = seed
        self.diversity = diversity
        self.content_shrinkage = content_shrinkage
        self.content_scale = content_scale
        self._lock = threading.Lock()
        n = catalog.n_titles
        self.n_candidates = max(1, min(n_candidates, n))
        now_s = now.timestamp()

        matrix = histories.matrix()
        self._fit_model(matrix)
        self.content = ContentModel().fit(catalog)
        self.views_ = np.asarray(matrix.sum(axis=0)).ravel()
        viewers = histories.viewers()
        # Metadata speaks for a title while it is too NEW to have been watched. A title out for years with
        # few views has been passed over — that is collaborative signal — so the metadata share fades once
        # the title is older than the "new" window, for a member's picks and between titles alike (when
        # metadata kept its full share between titles, half the "More like this" of films such as Pulp
        # Fiction or The Godfather on MovieLens were genre twins rated once or never). A title with no
        # release date is as old as its first view (counted as new, MovieLens' two films without a year,
        # rated once each, led 40% and 29% of members' top 10s). A title with neither date nor views is
        # new: metadata is all there is to go on.
        on_service = np.where(np.isnan(catalog.release_day), _first_seen_day(viewers, catalog.n_titles),
                              catalog.release_day)
        age_days = now_s / 86400.0 - on_service
        # (the exponent clipped at 0: np.where computes both branches, and a title released long after
        # `now` overflowed exp with a warning even though its weight is 1)
        fresh = np.where(np.isnan(age_days) | (age_days <= new_days), 1.0,
                         np.exp(-np.maximum(age_days - new_days, 0.0) / new_days))
        self.content_weight_ = content_weight(self.views_, content_shrinkage) * fresh

        self.popularity = PopularityScorer.from_viewers(viewers, n, now_seconds=now_s)
        self._pop_cache: dict[str | None, np.ndarray] = {}
        self._top10 = self._build_top10(viewers, now_s, top10_days, top10_weekly)
        self._sentences: dict[tuple[int, int, str | None, bool, str], str] = {}
        day = now_s / 86400.0
        self._today = day
        # a title not out yet is no recommendation (a zero-view title is scored on its metadata alone,
        # which pushed announced titles onto home pages); an unknown release date does not hide a title
        self.released = ~(catalog.release_day > day)
        recent = np.flatnonzero((catalog.release_day <= day) & (catalog.release_day >= day - new_days))
        self.new_titles = recent[np.argsort(-catalog.release_day[recent], kind="stable")]
        self.is_new = np.zeros(n, dtype=bool)
        self.is_new[self.new_titles] = True

        # Candidates for every member with a history, scored in blocks.
        self._member_row = {m: i for i, m in enumerate(histories.member_ids)}
        self._cand_idx, self._cand_score = self._score_all(matrix)
        self._cand_override: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        # The most recently used members' views (tens of KB each): unbounded, precompute kept one for every
        # member — 44 KB a member on the 50k-event demo, 44 GB for a million. Evicted ones are rebuilt on
        # demand (milliseconds).
        self._views: OrderedDict[str, MemberView] = OrderedDict()
        self.max_views = max(1, int(max_views))
        self._generation: dict[str, int] = {}  # bumped by observe, so a view built meanwhile is not cached
        self._neighbours: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._precompute_neighbours()
        self._allowed: dict[tuple[str | None, int], np.ndarray] = {}
        self._nameable: dict[int, np.ndarray] = {}
        self.sources = RowSources(
            catalog=catalog,
            top10=self.top10_of,
            new_titles=self.new_titles,
            popular=self._popular,
            neighbours=self._neighbour_arrays,
            reasons=self._reasons,
            service_name=SERVICE_NAME,
        )

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_store(
        cls,
        store: Store,
        model: Recommender | None = None,
        *,
        now: datetime | None = None,
        seed: int = 0,
        **options: Any,
    ) -> PersonalizationEngine:
        """Load catalog, members and histories from the spine; `model=None` fits the default (EASE)."""
        catalog = load_catalog(store)
        if catalog.n_titles == 0:
            raise NotFoundError(f"the store {store.path} has no titles; ingest a catalog or run 'limelight demo'")
        members = load_members(store)
        histories = Histories.from_store(store, catalog, list(members.country))
        pieces = histories.pieces
        if now is None:
            latest = float(pieces["last_at"].max()) if len(pieces) else float("nan")
            now = datetime.fromtimestamp(latest, UTC) if np.isfinite(latest) else datetime.now(UTC)
        elif now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        top10 = None
        if store.count("top10_weekly"):
            top10 = store.query(
                "SELECT week, country, weekly_rank, title_id FROM top10_weekly WHERE title_id IS NOT NULL"
            )
        return cls(
            catalog,
            members,
            histories,
            model if model is not None else default_model(seed),
            now=now,
            seed=seed,
            top10_weekly=top10,
            **options,
        )

    def _fit_model(self, matrix: sp.csr_matrix) -> None:
        axis = self.catalog.axis_ids
        if not self.model.is_fitted():
            if matrix.nnz == 0:
                log.warning("no viewing events or ratings: recommendations fall back to metadata and recency")
                self.model = PopularityRecommender()
            interactions = Interactions(
                matrix=matrix, member_ids=np.asarray(self.histories.member_ids, dtype=object), title_ids=axis
            )
            self.model.fit(interactions)
        model_ids: np.ndarray = np.array(list(self.model.title_ids_), dtype=object)  # type: ignore[attr-defined]
        if len(model_ids) == len(axis) and np.array_equal(model_ids, axis):
            self._to_model: np.ndarray | None = None
            self._from_model: np.ndarray | None = None
        else:
            # The model knows another title axis: translate columns both ways (unknown titles score 0).
            pos = {t: i for i, t in enumerate(model_ids)}
            self._to_model = np.array([pos.get(t, -1) for t in axis], dtype=np.int64)
            self._from_model = np.array([self.catalog.axis_index.get(str(t), -1) for t in model_ids], dtype=np.int64)
            log.info("model title axis differs from the catalog: %d of %d titles known",
                     int((self._to_model >= 0).sum()), len(axis))

    def _model_history(self, history: sp.csr_matrix) -> sp.csr_matrix:
        if self._to_model is None:
            return history
        coo = history.tocoo()
        cols = self._to_model[coo.col]
        keep = cols >= 0
        n_model = len(self.model.title_ids_)  # type: ignore[attr-defined]
        return sp.csr_matrix((coo.data[keep], (coo.row[keep], cols[keep])), shape=(history.shape[0], n_model))

    def _cf_scores(self, history: sp.csr_matrix) -> np.ndarray:
        raw = np.asarray(self.model.score(self._model_history(history)), dtype=np.float32)
        if self._from_model is None:
            return raw
        out = np.zeros((history.shape[0], self.catalog.n_titles), dtype=np.float32)
        ok = self._from_model >= 0
        out[:, self._from_model[ok]] = raw[:, ok]
        return out

    def blended_scores(self, history: sp.csr_matrix) -> np.ndarray:
        """(rows × titles) scores: CF and metadata, each scaled to the row's best, mixed by the target's
        `content_weight_` (its views, and how new it is on the service)."""
        cf = self._cf_scores(history)
        ct = self.content.score(history)
        cf_max = cf.max(axis=1, keepdims=True)
        cf_top = np.maximum(cf_max, 1e-9)
        ct_top = np.maximum(ct.max(axis=1, keepdims=True), 1e-9)
        w = self.content_weight_.astype(np.float32)
        # A row whose history has no collaborative signal at all (a title nobody has watched yet, a
        # member who has only watched such titles) is metadata alone: mixed by views, its zero CF half
        # would rank the targets by how FEW views they have. (Only then a rows × titles weight matrix.)
        with_cf = cf_max > 0
        if not with_cf.all():
            w = np.where(with_cf, w[None, :], np.float32(1.0))
        return (1.0 - w) * (cf / cf_top) + (w * self.content_scale) * (ct / ct_top)

    def _score_all(self, matrix: sp.csr_matrix, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
        n_members, n = matrix.shape
        k = self.n_candidates
        idx = np.zeros((n_members, k), dtype=np.int32)
        scores = np.zeros((n_members, k), dtype=np.float32)
        for start in range(0, n_members, block):
            rows = matrix[start : start + block]
            s = self.blended_scores(rows)
            coo = rows.tocoo()
            s[coo.row, coo.col] = -np.inf
            top = np.argpartition(-s, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (s.shape[0], 1))
            top_s = np.take_along_axis(s, top, axis=1)
            order = np.argsort(-top_s, axis=1, kind="stable")
            idx[start : start + rows.shape[0]] = np.take_along_axis(top, order, axis=1)
            scores[start : start + rows.shape[0]] = np.take_along_axis(top_s, order, axis=1)
        return idx, scores

    def _build_top10(
        self, viewers: pd.DataFrame, now_s: float, days: int, weekly: pd.DataFrame | None
    ) -> dict[str | None, np.ndarray]:
        """Country → titles ranked by distinct viewers in the last `days` (the spine's Top 10 where present)."""
        out: dict[str | None, np.ndarray] = {}
        recent = viewers[(viewers["last_at"] >= now_s - days * 86400) & (viewers["last_at"] <= now_s + 1)]
        if len(recent) < 10:  # a quiet week: widen to four weeks (still nothing after `now`)
            recent = viewers[(viewers["last_at"] >= now_s - 4 * days * 86400) & (viewers["last_at"] <= now_s + 1)]
        idx = recent["title_idx"].to_numpy(np.int64)
        n = self.catalog.n_titles
        def enough(active: pd.DataFrame, everyone: pd.DataFrame) -> bool:
            need = max(TOP10_MIN_VIEWERS, TOP10_MIN_SHARE * everyone["member_id"].nunique())
            return active["member_id"].nunique() >= need

        if enough(recent, viewers):
            out[None] = _ranked(np.bincount(idx, minlength=n))
        if "country" in recent:
            members_in = viewers["country"].astype(object).fillna("")
            for country, group in recent.groupby(recent["country"].astype(object).fillna("")):
                if country and enough(group, viewers[members_in == country]):
                    out[str(country).upper()] = _ranked(np.bincount(group["title_idx"].to_numpy(np.int64), minlength=n))
        if weekly is not None and len(weekly):
            w = weekly.copy()
            w["idx"] = w["title_id"].astype(str).map(self.catalog.root_of).map(self.catalog.axis_index)
            w = w.dropna(subset=["idx"])
            w["week"] = pd.to_datetime(w["week"])
            # A published list stands for "this week" only while it is recent: a list from years ago would
            # replace the live ranking and still be labelled as this week's.
            now_ts = pd.Timestamp(now_s, unit="s")
            w = w[(w["week"] <= now_ts) & (w["week"] > now_ts - pd.Timedelta(days=TOP10_FRESH_DAYS))]
            for country, group in w.groupby(w["country"].astype(str)):
                latest = group[group["week"] == group["week"].max()].sort_values("weekly_rank")
                ranked = pd.unique(latest["idx"].astype(np.int64).to_numpy())
                key = None if country.lower() == "global" else country.upper()
                out[key] = np.asarray(ranked, dtype=np.int64)
        return out

    # -- per-member state ------------------------------------------------------------------
    def add_member(self, member_id: str, country: str | None, maturity_limit: str | None) -> None:
        """A member who signed up after the load: their country and maturity limit, no history yet (their
        page is what is popular in their country until their first events are folded in)."""
        member_id = str(member_id)
        self.members.country[member_id] = country.upper() if country else None
        self.members.maturity_limit[member_id] = maturity_scale().limit_level(maturity_limit)
        self._views.pop(member_id, None)
        self._generation[member_id] = self._generation.get(member_id, 0) + 1

    def has_member(self, member_id: str) -> bool:
        return str(member_id) in self.members or str(member_id) in self.histories

    def _require_member(self, member_id: str) -> str:
        member_id = str(member_id)
        if not self.has_member(member_id):
            raise NotFoundError(f"member '{member_id}' is not known; ingest them or send their viewing events first")
        return member_id

    def _allowed_mask(self, country: str | None, level: int) -> np.ndarray:
        key = (country, level)
        mask = self._allowed.get(key)
        if mask is None:
            mask = self.catalog.country_mask(country) & (self.catalog.maturity_level <= level) & self.released
            self._allowed[key] = mask
        return mask

    def _nameable_mask(self, level: int) -> np.ndarray:
        """Titles within a maturity limit: what a profile may be told it watched (its limit may have been
        lowered since, or an adult may have watched on a kids' profile)."""
        mask = self._nameable.get(level)
        if mask is None:
            mask = self.catalog.maturity_level <= level
            self._nameable[level] = mask
        return mask

    def _popular(self, country: str | None) -> np.ndarray:
        pop = self._pop_cache.get(country)
        if pop is None:
            pop = self.popularity.for_country(country)
            self._pop_cache[country] = pop
        return pop

    def _candidates(self, member_id: str, history: MemberHistory) -> tuple[np.ndarray, np.ndarray]:
        found = self._cand_override.get(member_id)
        if found is not None:
            return found
        row = self._member_row.get(member_id)
        if row is not None and len(history.titles):
            return self._cand_idx[row].astype(np.int64), self._cand_score[row]
        # No history: what is popular in their country.
        pop = self._popular(self.members.country.get(member_id))
        top = np.argsort(-pop, kind="stable")[: self.n_candidates]
        return top, pop[top].astype(np.float32)

    def view(self, member_id: str) -> MemberView:
        """The member's filters, history and candidates (cached until their next event)."""
        member_id = self._require_member(member_id)
        found = self._views.get(member_id)
        if found is not None:
            with suppress(KeyError):  # evicted by another request meanwhile: still a valid view
                self._views.move_to_end(member_id)
            return found
        generation = self._generation.get(member_id, 0)
        n = self.catalog.n_titles
        history = self.histories.get(member_id) if member_id in self.histories else None
        titles = history.titles if history is not None else np.zeros(0, dtype=np.int64)
        country = self.members.country.get(member_id)
        level = self.members.maturity_limit.get(member_id, maturity_scale().unlimited_level)
        seen = np.zeros(n, dtype=bool)
        seen[titles] = True
        finished = np.zeros(n, dtype=bool)
        disliked = np.zeros(n, dtype=bool)
        if history is not None:
            finished[history.finished] = True
            rated = np.zeros(n, dtype=bool)
            rated[history.rated] = True
            finished |= rated  # a rating says they saw it: the Top 10 row does not offer it back
            disliked[history.disliked] = True
            cand, scores = self._candidates(member_id, history)
            progress = history.progress
            if len(history.disliked):  # a thumbs-down is not something to resume either
                progress = progress[~disliked[progress["root_idx"].to_numpy(np.int64)]]
        else:
            pop = self._popular(country)
            cand = np.argsort(-pop, kind="stable")[: self.n_candidates]
            scores = pop[cand].astype(np.float32)
            progress = pd.DataFrame(columns=["root_idx", "play_id", "state", "fraction", "last_at", "label"])
        nameable = self._nameable_mask(level)
        recent = titles[:50]
        if history is not None and len(history.unliked):
            # Rated below "liked": seen (never offered back) but never a reason, and not their taste.
            nameable = nameable.copy()
            nameable[history.unliked] = False
            recent = recent[~np.isin(recent, history.unliked)]
        genre_profile = self.catalog.genre_matrix[recent].sum(axis=0) if len(recent) else np.zeros(
            self.catalog.genre_matrix.shape[1], dtype=np.float32
        )
        view = MemberView(
            member_id=member_id,
            country=country,
            allowed=self._allowed_mask(country, level),
            nameable=nameable,
            seen=seen,
            finished=finished,
            disliked=disliked,
            rated=rated if history is not None else None,
            recent=titles,
            candidates=cand,
            scores=scores,
            progress=progress,
            genre_profile=genre_profile,
        )
        # the episode to play, checked on its own: the next season may not be out, or not in their country
        view.resumable = [r for r in view.resumable if self.catalog.playable(r[1], country, level, self._today)]
        if self._generation.get(member_id, 0) == generation:  # not if an event arrived meanwhile
            self._views[member_id] = view
            with suppress(KeyError):  # another request may be evicting too
                while len(self._views) > self.max_views:
                    self._views.popitem(last=False)
        return view

    # -- neighbours and reasons ------------------------------------------------------------
    def _neighbour_arrays(self, idx: int, k: int = 60) -> tuple[np.ndarray, np.ndarray]:
        found = self._neighbours.get(idx)
        if found is None or (k > 60 and len(found[0]) < k):
            one = sp.csr_matrix(([1.0], ([0], [idx])), shape=(1, self.catalog.n_titles), dtype=np.float32)
            found = self._top_neighbours(self.blended_scores(one), np.array([idx]), k)[0]
            if k <= 60:
                self._neighbours[idx] = found
        return found

    def _precompute_neighbours(self, k: int = 60, block: int = 512) -> None:
        """Every title's nearest titles (blended CF + metadata), computed in blocks at load."""
        n = self.catalog.n_titles
        for start in range(0, n, block):
            ids = np.arange(start, min(start + block, n))
            rows = sp.csr_matrix(
                (np.ones(len(ids), np.float32), (np.arange(len(ids)), ids)), shape=(len(ids), n)
            )
            scores = self.blended_scores(rows)
            for i, found in zip(ids.tolist(), self._top_neighbours(scores, ids, k), strict=True):
                self._neighbours[i] = found

    @staticmethod
    def _top_neighbours(scores: np.ndarray, ids: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
        n = scores.shape[1]
        k = min(k, n - 1)
        out: list[tuple[np.ndarray, np.ndarray]] = []
        if k <= 0:
            return [(np.zeros(0, np.int64), np.zeros(0))] * len(ids)
        scores = scores.astype(np.float64)
        scores[np.arange(len(ids)), ids] = -np.inf
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        for r in range(len(ids)):
            t = top[r][np.argsort(-scores[r, top[r]], kind="stable")]
            sims = scores[r, t]
            # Only titles clearly related to this one: a shared language alone does not make a neighbour.
            keep = sims >= max(0.2 * float(sims[0]), 1e-6) if t.size else np.zeros(0, bool)
            out.append((t[keep].astype(np.int64), sims[keep]))
        return out

    def _genre_table(self, view: MemberView) -> np.ndarray:
        """Per title, the member's favourite genre among the title's genres (-1: none)."""
        if view.genre_of is None:
            joint = self.catalog.genre_matrix * view.genre_profile[None, :]
            view.genre_of = np.where(joint.max(axis=1) > 0, np.argmax(joint, axis=1), -1).astype(np.int64)
        return view.genre_of

    def _contributors(self, view: MemberView, idx: np.ndarray) -> list[list[tuple[int, float]]]:
        """Per title (catalog axis), the member's history titles that earned it, strongest first.

        The model's own contributions (`Recommender.explain_many`); for a title the model cannot
        score — no views yet — the history titles most alike in metadata. A list item's reason and
        `explain` both read this, so "Because you watched X" names the title `explain` ranks first.
        Cached on the member's view.
        """
        idx = np.asarray(idx, dtype=np.int64)
        cache = view.contributors
        todo = np.unique(idx[[int(i) not in cache for i in idx.tolist()]]) if idx.size else idx
        watched = np.flatnonzero(view.seen)
        if todo.size and watched.size == 0:
            cache.update({int(i): [] for i in todo.tolist()})
        elif todo.size:
            found: dict[int, list[tuple[int, float]]] = {int(i): [] for i in todo.tolist()}
            model_idx = todo if self._to_model is None else self._to_model[todo]
            on_axis = np.flatnonzero(model_idx >= 0)
            if on_axis.size:
                if view.model_history is None:
                    row = sp.csr_matrix((np.ones(watched.size, np.float32), watched, [0, watched.size]),
                                        shape=(1, self.catalog.n_titles))
                    view.model_history = self._model_history(row)
                pairs = self.model.explain_many(view.model_history, model_idx[on_axis], top=3)
                for pos, contributions in zip(on_axis.tolist(), pairs, strict=True):
                    mapped = [(col if self._from_model is None else int(self._from_model[col]), w)
                              for col, w in contributions]
                    found[int(todo[pos])] = [(j, w) for j, w in mapped if j >= 0 and view.nameable[j]]
            # A title whose score is mostly metadata (w_t ≥ 0.5: few views, new) is explained by the history
            # titles most alike in metadata, not by the model's tiny collaborative contributions: naming a
            # title worth +0.0001 of a score that was 91% genre match said something untrue.
            metadata_led = todo[self.content_weight_[todo] >= 0.5]
            for i in metadata_led.tolist():
                found[int(i)] = []
            cold = np.array([i for i, t in found.items() if not t], dtype=np.int64)
            named = watched[view.nameable[watched]]
            if cold.size and named.size:
                sims = self.content.similarity(cold, named)
                for i, alike in zip(cold.tolist(), sims, strict=True):
                    alike = np.where(named == i, 0.0, alike)  # a started title is not its own reason
                    order = np.argsort(-alike, kind="stable")[:2]
                    found[i] = [(int(named[q]), float(alike[q])) for q in order if alike[q] > 0]
            cache.update(found)
        return [cache[int(i)] for i in idx.tolist()]

    def _reasons(self, view: MemberView, idx: np.ndarray) -> list[tuple[str, list[int]]]:
        """Each list item's reason: the history title that earned it most, plus the genre it shares."""
        genre_of = self._genre_table(view)
        top10, place = self.top10_of(view)
        popular_set = set(top10.tolist())
        out = []
        for i, contributions in zip(np.asarray(idx).tolist(), self._contributors(view, idx), strict=True):
            because = [contributions[0][0]] if contributions else []
            g = int(genre_of[i])
            popular = i in popular_set
            verb = self._verb(because, view)
            key = (because[0] if because else -1, g, place if popular else None, bool(self.is_new[i]), verb)
            sentence = self._sentences.get(key)
            if sentence is None:
                attributes: list[AttributeContribution] = []
                if g >= 0:
                    kind, value, phrase = attribute_phrase(f"genre:{self.catalog.genre_names[g]}")
                    attributes.append(AttributeContribution(kind=kind, value=value, phrase=phrase, weight=1.0))
                popular_in = place if popular else None
                sentence = compose_sentence(
                    titles=[str(self.catalog.names[h]) for h in because],
                    attributes=attributes,
                    popular_in=popular_in,
                    new_on_service=bool(self.is_new[i]),
                    verb=verb,
                )
                self._sentences[key] = sentence
            out.append((sentence, because))
        return out

    def _verb(self, titles: list[int], view: MemberView | None = None) -> str:
        """What the member did with these titles: played (games), rated (only rated, never played here:
        MovieLens members rated films, they did not watch them on this service) or watched."""
        if titles and all(self.catalog.kind[t] == "game" for t in titles):
            return "played"
        if titles and view is not None and view.rated is not None and all(view.rated[t] for t in titles):
            return "rated"
        return "watched"

    def _top10_for(self, country: str | None) -> tuple[np.ndarray, str]:
        key = str(country).upper() if country else None
        ranked = self._top10.get(key) if key is not None else None
        if ranked is not None and len(ranked):
            return ranked, country_name(key)
        # no viewing in the member's country (or no country): the service-wide ranking, labelled as such
        return self._top10.get(None, np.zeros(0, np.int64)), "the World"

    def top10_of(self, view: MemberView) -> tuple[np.ndarray, str]:
        """The profile's Top 10 and where it is from: the country's ranking (or the World's) among the titles
        this profile may watch — a kids' profile gets the kids' Top 10 — at most ten, best first.

        The one source of a rank: the Top 10 row hides finished titles without moving the others up,
        and list reasons and `explain` quote the same ranks.
        """
        if view.top10 is None:
            ranked, place = self._top10_for(view.country)
            view.top10 = (ranked[view.allowed[ranked]][:10], place)
        return view.top10

    # -- results ---------------------------------------------------------------------------
    def _item(self, it: RowItem) -> RecommendedTitle:
        cat = self.catalog
        title_id = it.play_id or str(cat.axis_ids[it.idx])
        kind = str(cat.titles.at[title_id, "kind"]) if it.play_id else str(cat.kind[it.idx])
        # Built from typed engine values: skip validation on the hot path.
        return RecommendedTitle.model_construct(
            title_id=title_id,
            name=str(cat.names[it.idx]),
            kind=kind,
            score=round(float(it.score), 6),
            reason=it.reason,
            because=[str(cat.axis_ids[b]) for b in it.because],
            genres=list(cat.genres[it.idx]),
        )

    def recommend(self, member_id: str, k: int = 10) -> list[RecommendedTitle]:
        """The member's top `k` titles they may watch and have not, with reasons."""
        if not 1 <= int(k) <= 1000:
            raise InputError(f"k must be an int in [1, 1000], got {k}")
        view = self.view(member_id)
        keep = view.shown[view.candidates]
        idx = view.candidates[keep][:k]
        scores = view.scores[keep][:k]
        if len(idx) < k:  # pad with what is popular in their country
            pop = self._popular(view.country)
            taken = np.zeros(self.catalog.n_titles, dtype=bool)
            taken[idx] = True
            order = np.argsort(-pop, kind="stable")
            order = order[view.shown[order] & ~taken[order]][: k - len(idx)]
            idx = np.concatenate([idx, order])
            scores = np.concatenate([scores, pop[order].astype(np.float32) * 1e-3])
        reasons = self._reasons(view, idx)
        return [self._item(RowItem(i, float(s), sentence, because))
                for i, s, (sentence, because) in zip(idx.tolist(), scores.tolist(), reasons, strict=True)]

    def similar(self, title_id: str, k: int = 10, member_id: str | None = None) -> list[RecommendedTitle]:
        """Titles most like one title (viewing patterns, or metadata for titles with few views).

        Only titles out now. With `member_id` ("More like this" on a profile), only what that profile may
        play — its country and maturity limit — and not what it has finished; without one, titles of every
        rating, as a catalog page shows them.
        """
        if not 1 <= int(k) <= 1000:
            raise InputError(f"k must be an int in [1, 1000], got {k}")
        idx = self.catalog.index_of(title_id)
        neighbours, sims = self._neighbour_arrays(idx, max(60, k))
        if member_id is None:
            keep = self.released[neighbours]
            watched = False
        else:
            view = self.view(member_id)
            keep = view.allowed[neighbours] & ~view.finished[neighbours] & ~view.disliked[neighbours]
            watched = bool(view.seen[idx])
        neighbours, sims = neighbours[keep][:k], sims[keep][:k]
        name = str(self.catalog.names[idx])
        reason = f"Because you {self._verb([idx], view)} {name}" if watched else f"Like {name}"
        return [self._item(RowItem(int(i), float(s), reason, [idx])) for i, s in zip(neighbours, sims, strict=True)]

    def home(self, member_id: str, *, max_rows: int = 8, per_row: int = 12) -> HomePage:
        """The member's home page: rows in display order, titles never repeated across rows."""
        if not 1 <= int(max_rows) <= 50:
            raise InputError(f"max_rows must be an int in [1, 50], got {max_rows}")
        if not 1 <= int(per_row) <= 100:
            raise InputError(f"per_row must be an int in [1, 100], got {per_row}")
        view = self.view(member_id)
        rows = build_rows(view, self.sources, max_rows=max_rows, per_row=per_row, diversity=self.diversity)
        return HomePage(
            member_id=view.member_id,
            rows=[HomeRow(row_id=r, title=t, row_kind=kind, items=[self._item(it) for it in items])
                  for r, t, kind, items in rows],
            synthetic=self.synthetic,
            generated_at=datetime.now(UTC),
        )

    def explain(self, member_id: str, title_id: str) -> TitleExplanation:
        """Why `title_id` suits `member_id`: the history titles and attributes that earned it."""
        view = self.view(member_id)
        idx = self.catalog.index_of(title_id)
        cat = self.catalog
        history = self.histories.get(view.member_id) if view.member_id in self.histories else None
        n = cat.n_titles
        row = history.row(n) if history is not None else sp.csr_matrix((1, n), dtype=np.float32)
        attributes: list[AttributeContribution] = []
        has_history = row.nnz > 0
        contributions = self._contributors(view, np.array([idx]))[0]
        titles = [TitleContribution(title_id=str(cat.axis_ids[j]), name=str(cat.names[j]), weight=float(w))
                  for j, w in contributions]
        if has_history:
            for token, weight in self.content.shared_tokens(idx, row, top=3):
                kind, value, phrase = attribute_phrase(token)
                if kind == "kind":
                    continue
                attributes.append(AttributeContribution(kind=kind, value=value, phrase=phrase, weight=weight))
        ranked, place = self.top10_of(view)
        hit = np.flatnonzero(ranked == idx)
        rank = int(hit[0]) + 1 if hit.size else None
        popular_in = place if rank else None
        progress = next((label for root, _, label, _ in view.resumable if root == idx), None)
        share = float(1.0 - self.content_weight_[idx]) if has_history else 0.0
        sentence = compose_sentence(
            titles=[t.name for t in titles],
            attributes=attributes,
            popular_in=popular_in,
            new_on_service=bool(self.is_new[idx]),
            progress=progress,
            verb=[self._verb([j], view) for j, _ in contributions[:2]],
        )
        score = None
        hit = np.flatnonzero(view.candidates == idx)
        if hit.size:
            score = float(view.scores[hit[0]])
        return TitleExplanation(
            member_id=view.member_id,
            title_id=str(cat.axis_ids[idx]),
            name=str(cat.names[idx]),
            sentence=sentence,
            because_titles=titles,
            because_attributes=attributes,
            collaborative_share=min(max(share, 0.0), 1.0),
            popular_in=popular_in,
            popularity_rank=rank,
            new_on_service=bool(self.is_new[idx]),
            progress=progress,
            score=score,
        )

    def score_breakdown(self, member_id: str, title_id: str) -> dict[str, float]:
        """The parts of a member's score for a title: scaled CF, scaled metadata, and the metadata weight."""
        view = self.view(member_id)
        idx = self.catalog.index_of(title_id)
        n = self.catalog.n_titles
        history = self.histories.get(view.member_id) if view.member_id in self.histories else None
        row = history.row(n) if history is not None else sp.csr_matrix((1, n), dtype=np.float32)
        cf = self._cf_scores(row)[0]
        ct = self.content.score(row)[0]
        cf_part = float(cf[idx] / max(float(cf.max()), 1e-9))
        ct_part = float(self.content_scale * ct[idx] / max(float(ct.max()), 1e-9))
        w = float(self.content_weight_[idx])
        return {
            "collaborative": cf_part,
            "content": ct_part,
            "content_weight": w,
            "score": (1.0 - w) * cf_part + w * ct_part,
            "views": float(self.views_[idx]),
        }

    def title(self, title_id: str) -> TitleCard:
        return self.catalog.card(title_id)

    @property
    def synthetic(self) -> bool:
        return "demo" in (self.catalog.sources | self.members.sources)

    # -- nearline --------------------------------------------------------------------------
    def observe(self, events: pd.DataFrame) -> int:
        """Fold new viewing events into members' histories (no retraining); returns events applied."""
        with self._lock:
            applied, changed = self.histories.observe(events)
            if not changed:
                return applied
            if "country" in events:
                latest = events.dropna(subset=["country"]).groupby(events["member_id"].astype(str))["country"].last()
            else:
                latest = pd.Series(dtype=object)
            for m in changed:
                if m not in self.members:
                    c = latest.get(m)
                    self.members.country[m] = str(c).upper() if isinstance(c, str) and c else None
                    self.members.maturity_limit[m] = maturity_scale().unlimited_level
            self._rescore(changed)
            for m in changed:
                self._generation[m] = self._generation.get(m, 0) + 1
                self._views.pop(m, None)
            log.info("observe: %d events for %d members", applied, len(changed))
            return applied

    def _rescore(self, member_ids: Sequence[str]) -> None:
        n = self.catalog.n_titles
        rows = sp.vstack([self.histories.get(m).row(n) for m in member_ids]).tocsr()
        scores = self.blended_scores(rows)
        coo = rows.tocoo()
        scores[coo.row, coo.col] = -np.inf
        k = self.n_candidates
        for r, m in enumerate(member_ids):
            s = scores[r]
            top = np.argpartition(-s, k - 1)[:k] if k < n else np.arange(n)
            top = top[np.argsort(-s[top], kind="stable")]
            self._cand_override[m] = (top.astype(np.int64), s[top].astype(np.float32))


def _first_seen_day(viewers: pd.DataFrame, n_titles: int) -> np.ndarray:
    """Per title, the day (since the epoch) of its earliest (member, title) interaction; NaN if none."""
    out = np.full(n_titles, np.nan)
    if len(viewers):
        first = viewers.groupby("title_idx", sort=False)["last_at"].min()
        out[first.index.to_numpy(np.int64)] = first.to_numpy(np.float64) / 86400.0
    return out


def _ranked(counts: np.ndarray) -> np.ndarray:
    nz = np.flatnonzero(counts > 0)
    return nz[np.argsort(-counts[nz], kind="stable")].astype(np.int64)
