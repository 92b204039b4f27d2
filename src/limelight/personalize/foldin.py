"""Members' viewing histories, and folding new viewing events into them without retraining.

The spine's viewing events (and ratings, for sources such as MovieLens that only have ratings)
are aggregated once per (member, title): seconds viewed and the latest time. Episodes roll up to
their series on the recommendable axis. From these pieces come

* each member's history row (the input of a model's `score(history_csr)`: fold-in), and
* their progress per title: resume an unfinished film or episode, start the next episode of a
  series in progress, or finished (hidden from every row).

A title the member gave a thumbs-down (their latest thumbs rating of it or of any of its episodes) is
not part of their history: it is never a positive for a model, never named as a reason, never in
Continue Watching — and never recommended to them again (`MemberHistory.disliked`). A title whose
latest star rating is below `LIKED_STARS` stays in the history (they saw it; it is not offered back)
but is never named as the reason for another title (`MemberHistory.unliked`).

`Histories.observe(events)` adds new events to the members they belong to (creating new members on
the fly) and returns the members whose history changed, so the engine can rescore only those.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from limelight.errors import InputError, require_fields
from limelight.personalize.catalog import Catalog
from limelight.spine.store import Store

__all__ = [
    "FINISHED_FRACTION",
    "LIKED_STARS",
    "STARTED_FRACTION",
    "Histories",
    "MemberHistory",
    "TitleArrays",
    "load_pieces",
    "load_verdicts",
    "progress_frame",
]

log = logging.getLogger(__name__)

# A film or episode counts as finished once this share of its runtime was viewed (credits roll
# before the end), and as started once a member watched more than this share. Less than that, never
# watched through before, is a sample (a trailer's autoplay, a few seconds to see what it is): not part
# of the member's history — it neither hides the title from their rows nor explains other titles.
FINISHED_FRACTION = 0.9
STARTED_FRACTION = 0.02

# The lowest star rating that says "liked it". Netflix's five-star scale read 1 "Hated it", 2 "Didn't
# like it", 3 "Liked it", 4 "Really liked it", 5 "Loved it"; MovieLens's half stars below 3 sit between
# "fairly bad" and "OK". "Because you rated Bio-Dome" under a 1.5-star rating tells a member the
# service did not listen.
LIKED_STARS = 3.0

_PIECE_COLUMNS = ["member_id", "title_id", "seconds", "total_seconds", "passes", "last_at", "country", "events"]

# `seconds` counts the current viewing of a title, `total_seconds` every viewing. A viewing starts again
# once the member has watched the title's whole runtime (pass k covers k to k+1 runtimes in all): a film
# watched through last year and half-watched again tonight resumes at its half, not "finished" at 150%.
# Finishing the last minutes after the 90% mark stays in the first viewing.
_EVENTS_SQL = """
WITH timed AS (
    SELECT v.member_id, v.title_id, v.seconds_viewed, v.started_at, v.country,
           CASE WHEN t.runtime_minutes > 0 THEN floor(coalesce(sum(v.seconds_viewed) OVER (
                    PARTITION BY v.member_id, v.title_id ORDER BY v.started_at, v.event_id
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) / (t.runtime_minutes * 60))
                ELSE 0 END AS pass
    FROM viewing_events v LEFT JOIN titles t USING (title_id)
), passed AS (
    SELECT *, max(pass) OVER (PARTITION BY member_id, title_id) AS last_pass FROM timed
)
SELECT p.member_id, p.title_id, (sum(p.seconds_viewed) FILTER (WHERE p.pass = p.last_pass))::DOUBLE AS seconds,
       sum(p.seconds_viewed)::DOUBLE AS total_seconds, max(p.pass)::BIGINT AS passes,
       epoch(max(p.started_at))::DOUBLE AS last_at,
       coalesce(arg_max(p.country, p.started_at), any_value(m.country)) AS country,
       count(*)::BIGINT AS events
FROM passed p LEFT JOIN members m USING (member_id)
GROUP BY p.member_id, p.title_id
"""

# Ratings count as interactions for members with no viewing events for that title (MovieLens).
_RATINGS_SQL = """
SELECT r.member_id, r.title_id, NULL::DOUBLE AS seconds, NULL::DOUBLE AS total_seconds, 0::BIGINT AS passes,
       epoch(max(r.rated_at))::DOUBLE AS last_at,
       any_value(m.country) AS country, count(*)::BIGINT AS events
FROM ratings r LEFT JOIN members m USING (member_id)
WHERE NOT EXISTS (SELECT 1 FROM viewing_events v WHERE v.member_id = r.member_id AND v.title_id = r.title_id)
GROUP BY r.member_id, r.title_id
"""


# Every thumbs rating (few), and each title's latest star rating where it could make a title unliked:
# below `LIKED_STARS`, or of a series, season or episode (the series' latest verdict may be another of
# its parts' high one: a 1-star episode, then 5 stars for the whole series, is liked).
# Liked star ratings of films are not read: on MovieLens they are almost all of the ratings.
_VERDICTS_SQL = f"""
SELECT member_id, title_id, epoch(rated_at)::DOUBLE AS rated_at, rating, scale
FROM ratings WHERE scale = 'thumbs'
UNION ALL
SELECT r.member_id, r.title_id, epoch(max(r.rated_at))::DOUBLE, arg_max(r.rating, r.rated_at), 'stars'
FROM ratings r LEFT JOIN titles t USING (title_id)
WHERE r.scale = 'stars'
GROUP BY r.member_id, r.title_id
HAVING arg_max(r.rating, r.rated_at) < {LIKED_STARS} OR any_value(t.parent_id) IS NOT NULL
    OR any_value(t.kind) IN ('series', 'season')
"""


def load_verdicts(store: Store) -> pd.DataFrame:
    """Ratings that can set a title aside: member_id, title_id, rated_at (epoch s), rating, scale —
    every thumbs rating (-1 down, 1 up, 2 two up), and each title's latest star rating where it is below
    liked or belongs to a series (whose latest word may come from any of its parts)."""
    if not store.count("ratings"):
        return pd.DataFrame({"member_id": [], "title_id": [], "rated_at": [], "rating": [], "scale": []})
    return store.query(_VERDICTS_SQL)


def load_pieces(store: Store) -> pd.DataFrame:
    """One row per (member, title): seconds viewed (NaN for ratings), latest time (epoch s), country."""
    parts = []
    if store.count("viewing_events"):
        parts.append(store.query(_EVENTS_SQL))
    if store.count("ratings"):
        parts.append(store.query(_RATINGS_SQL))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in _PIECE_COLUMNS})
    frame = pd.concat(parts, ignore_index=True)
    # Plain object columns: dict lookups on Arrow-backed strings are many times slower.
    frame["member_id"] = frame["member_id"].astype(str).astype(object)
    frame["title_id"] = frame["title_id"].astype(str).astype(object)
    frame["country"] = frame["country"].astype(object).where(frame["country"].notna(), None)
    return frame


def _member_of(values: pd.Series, mapping: dict[str, str]) -> np.ndarray:
    """`values.isin(mapping)` without building a list of the mapping's keys on every call."""
    return np.fromiter((v in mapping for v in values.to_numpy(dtype=object)), dtype=bool, count=len(values))


def _next_episode(catalog: Catalog) -> dict[str, str]:
    nxt: dict[str, str] = {}
    for eps in catalog.episodes.values():
        for a, b in itertools.pairwise(eps):
            nxt[a] = b
    return nxt


class TitleArrays:
    """Per-title facts as arrays indexed by a title's position in the catalog, built once per catalog:
    progress reads them for every piece, where dictionary lookups on string ids cost seconds at 1M events."""

    def __init__(self, catalog: Catalog, next_episode: dict[str, str]) -> None:
        ids = catalog.titles.index.to_numpy(dtype=object)
        self.index = pd.Index(ids)
        self.ids = ids
        n = len(ids)
        position = {t: i for i, t in enumerate(ids)}
        self.runtime = np.full(n, np.nan)
        for t, seconds in catalog.runtime_seconds.items():
            if t in position:
                self.runtime[position[t]] = seconds
        self.is_episode = np.zeros(n, dtype=bool)
        self.resume_label = np.full(n, "Resume", dtype=object)  # "Continue Season 2, Episode 4" for episodes
        self.next_label = np.full(n, "Resume", dtype=object)  # "Next: Season 2, Episode 5"
        for t, label in catalog.episode_label.items():
            i = position.get(t)
            if i is not None:
                self.is_episode[i] = True
                self.resume_label[i] = "Continue " + label
                self.next_label[i] = "Next: " + label
        self.next = np.full(n, -1, dtype=np.int64)  # the next episode's position, -1: none
        for a, b in next_episode.items():
            if a in position and b in position:
                self.next[position[a]] = position[b]
        # the recommendation-axis index of each title's root (series for episodes), -1: not on the axis
        self.root_idx = np.array([catalog.axis_index.get(catalog.root_of.get(t, ""), -1) for t in ids], dtype=np.int64)

    def codes(self, title_ids: pd.Series) -> np.ndarray:
        return np.asarray(self.index.get_indexer(title_ids.to_numpy(dtype=object)), dtype=np.int64)

    def runtime_of(self, title_ids: pd.Series) -> np.ndarray:
        """Runtime in seconds per row (NaN: unknown title or runtime)."""
        code = self.codes(title_ids)
        return np.where(code >= 0, self.runtime[np.maximum(code, 0)], np.nan)

    def root_of(self, title_ids: pd.Series) -> np.ndarray:
        """Axis index of each row's root (series for an episode); -1: unknown title or not on the axis."""
        code = self.codes(title_ids)
        return np.where(code >= 0, self.root_idx[np.maximum(code, 0)], -1)


def progress_frame(
    pieces: pd.DataFrame, catalog: Catalog, next_episode: dict[str, str], arrays: TitleArrays | None = None
) -> pd.DataFrame:
    """Per (member, axis title): what to play next and whether it is finished.

    Columns: member_id, root_idx, play_id (the film or episode to play), state
    ('resume' | 'next' | 'finished' | 'watched'), fraction (of play_id already seen), last_at, label.
    `arrays`: the catalog's `TitleArrays` when the caller keeps one (built here otherwise).
    """
    cols = ["member_id", "root_idx", "play_id", "state", "fraction", "last_at", "label"]
    if pieces.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    arrays = arrays if arrays is not None else TitleArrays(catalog, next_episode)
    # The latest piece per (member, title), by numpy lexsort on integer codes (string sorts are slow).
    codes = pd.factorize(pieces["member_id"])[0]
    roots = pieces["root_idx"].to_numpy(np.int64)
    title = arrays.codes(pieces["title_id"])
    order = np.lexsort((pieces["last_at"].to_numpy(np.float64), roots, codes))
    c, r = codes[order], roots[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = (c[1:] != c[:-1]) | (r[1:] != r[:-1])
    latest = order[last]
    latest_title = title[latest]
    known_title = latest_title >= 0
    runtime = np.where(known_title, arrays.runtime[np.maximum(latest_title, 0)], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = pieces["seconds"].to_numpy(np.float64)[latest] / runtime
    is_episode = known_title & arrays.is_episode[np.maximum(latest_title, 0)]
    known = ~np.isnan(fraction)
    started = known & (fraction > STARTED_FRACTION)
    # a viewing barely begun after one watched through: still finished, not a rewatch to resume
    passes = pieces["passes"].fillna(0).to_numpy(np.int64)[latest] if "passes" in pieces else np.zeros(len(latest), np.int64)
    watched_before = passes > 0
    finished_piece = known & ((fraction >= FINISHED_FRACTION) | (watched_before & ~started))
    following = np.where(known_title, arrays.next[np.maximum(latest_title, 0)], -1)
    has_next = following >= 0
    state = np.full(len(latest), "watched", dtype=object)
    state[started & ~finished_piece] = "resume"
    state[finished_piece & is_episode & has_next] = "next"
    state[finished_piece & ~(is_episode & has_next)] = "finished"
    wanted = np.flatnonzero(state == "next")
    if wanted.size:
        # "Next" skips episodes the member already finished (a rewatch of an earlier one must not send
        # them back to an episode they have seen); past the last one, the series is finished. All rows
        # walk at once: a row whose next episode the member finished moves one episode on.
        n = len(arrays.ids)
        episode = (title >= 0) & arrays.is_episode[np.maximum(title, 0)]
        through = pieces["total_seconds"].to_numpy(np.float64) >= FINISHED_FRACTION * np.where(
            title >= 0, arrays.runtime[np.maximum(title, 0)], np.nan
        )
        done = np.unique(codes[episode & through].astype(np.int64) * n + title[episode & through])
        member = codes[latest]
        todo = wanted
        while todo.size and done.size:
            key = member[todo].astype(np.int64) * n + following[todo]
            hit = done[np.minimum(np.searchsorted(done, key), done.size - 1)] == key
            todo = todo[hit]
            following[todo] = arrays.next[following[todo]]
            todo = todo[following[todo] >= 0]
        state[wanted[following[wanted] < 0]] = "finished"
    is_next = state == "next"
    play_code = np.where(is_next, following, latest_title)
    ids = pieces["title_id"].to_numpy(dtype=object)[latest]
    play = np.where(is_next, arrays.ids[np.maximum(play_code, 0)], ids)
    label = np.where(
        is_next, arrays.next_label[np.maximum(play_code, 0)],
        np.where(play_code >= 0, arrays.resume_label[np.maximum(play_code, 0)], "Resume"),
    )
    frac = np.where(is_next, 0.0, np.nan_to_num(fraction, nan=0.0))
    return pd.DataFrame(
        {
            "member_id": pieces["member_id"].to_numpy()[latest],
            "root_idx": roots[latest],
            "play_id": play,
            "state": state,
            "fraction": frac,
            "last_at": pieces["last_at"].to_numpy(np.float64)[latest],
            "label": label,
        }
    )


@dataclass(frozen=True)
class MemberHistory:
    """One member's history on the title axis, most recent first, and their progress."""

    member_id: str
    titles: np.ndarray  # axis indexes, most recent first
    last_at: np.ndarray  # epoch seconds, same order
    progress: pd.DataFrame  # rows of `progress_frame` for this member, most recent first
    pieces: pd.DataFrame = field(repr=False)  # this member's (title_id, seconds, last_at, …) rows
    disliked: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # axis idx given a thumbs-down
    unliked: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # axis idx last rated below liked

    @property
    def finished(self) -> np.ndarray:
        return self.progress.loc[self.progress["state"] == "finished", "root_idx"].to_numpy(np.int64)

    @property
    def rated(self) -> np.ndarray:
        """Axis titles the member rated and never played here (MovieLens): seen, so as done as finished."""
        p = Histories._watched(self.pieces)
        if "seconds" not in p:
            return np.zeros(0, np.int64)
        roots = p["root_idx"].to_numpy(np.int64)
        only_rated = p["seconds"].isna().to_numpy()
        # A series rated as a whole and watched episode by episode was played here: "watched", not "rated"
        # (the demo's "Because You Rated Falling Canyon" headed the rows of a member with 82 viewings of it).
        return np.setdiff1d(roots[only_rated], roots[~only_rated])

    def row(self, n_titles: int) -> sp.csr_matrix:
        data = np.ones(len(self.titles), dtype=np.float32)
        return sp.csr_matrix((data, (np.zeros(len(self.titles), dtype=np.int64), self.titles)), shape=(1, n_titles))


class Histories:
    """All members' histories; cheap per-member access; `observe` folds new events in."""

    def __init__(
        self, catalog: Catalog, pieces: pd.DataFrame, member_ids: list[str], verdicts: pd.DataFrame | None = None
    ) -> None:
        self.catalog = catalog
        self._next = _next_episode(catalog)
        self._title_arrays: TitleArrays | None = None
        self._disliked, self._unliked = self._verdicts(verdicts)
        if "total_seconds" not in pieces:  # pieces made without `load_pieces`: one viewing each
            pieces = pieces.assign(total_seconds=pieces["seconds"], passes=0)
        pieces = self._with_root(pieces)
        self._pieces = _by_member_latest_first(pieces)
        # What to play next, per member and title: built on first use (a home page, Continue Watching),
        # so training and evaluation, which read only the matrix, do not pay for it (2-3 s at 1M events).
        self._progress_frame: pd.DataFrame | None = None
        self._progress_by_member: dict[str, slice] = {}
        self._piece_slices = _slices(self._pieces["member_id"])
        known = set(member_ids) | set(self._piece_slices)
        self.member_ids: list[str] = sorted(known)
        self.member_pos: dict[str, int] = {m: i for i, m in enumerate(self.member_ids)}
        self._cache: dict[str, MemberHistory] = {}

    @classmethod
    def from_store(cls, store: Store, catalog: Catalog, member_ids: list[str]) -> Histories:
        """Every member's history as the spine holds it: viewing, ratings, thumbs-downs and low stars."""
        return cls(catalog, load_pieces(store), member_ids, load_verdicts(store))

    def _verdicts(self, verdicts: pd.DataFrame | None) -> tuple[pd.MultiIndex, dict[str, np.ndarray]]:
        """(member_id, root_idx) whose latest thumbs rating — of the title or any of its episodes — is
        down; and per member, the roots whose latest star rating is below `LIKED_STARS`."""
        empty = pd.MultiIndex.from_arrays([pd.Index([], dtype=object), pd.Index([], dtype=np.int64)])
        if verdicts is None or verdicts.empty:
            return empty, {}
        if "scale" not in verdicts:  # thumbs only (callers that build their own frame)
            verdicts = verdicts.assign(scale="thumbs")
        root = self._arrays().root_of(verdicts["title_id"].astype(str).astype(object))
        frame = pd.DataFrame({"member_id": verdicts["member_id"].astype(str).to_numpy(object), "root_idx": root,
                              "rated_at": verdicts["rated_at"].astype(float).to_numpy(),
                              "rating": verdicts["rating"].astype(float).to_numpy(),
                              "scale": verdicts["scale"].astype(str).to_numpy(object)})[root >= 0]
        # Each scale's latest word per (member, title or series): a later thumbs-up lifts an earlier down.
        latest = frame.sort_values("rated_at", kind="stable").drop_duplicates(
            ["member_id", "root_idx", "scale"], keep="last")
        thumbs, stars = latest[latest["scale"] == "thumbs"], latest[latest["scale"] == "stars"]
        down = thumbs[thumbs["rating"] < 0]
        disliked = empty if down.empty else pd.MultiIndex.from_arrays(
            [down["member_id"].to_numpy(object), down["root_idx"].to_numpy(np.int64)])
        low = stars[stars["rating"] < LIKED_STARS]
        unliked = {str(m): np.unique(g.to_numpy(np.int64)) for m, g in low.groupby("member_id")["root_idx"]}
        return disliked, unliked

    def _all_progress(self) -> pd.DataFrame:
        if self._progress_frame is None:
            frame = _by_member_latest_first(progress_frame(self._pieces, self.catalog, self._next, self._arrays()))
            self._progress_by_member = _slices(frame["member_id"])
            self._progress_frame = frame
        return self._progress_frame

    def _arrays(self) -> TitleArrays:
        if self._title_arrays is None:
            self._title_arrays = TitleArrays(self.catalog, self._next)
        return self._title_arrays

    @staticmethod
    def _watched(pieces: pd.DataFrame) -> pd.DataFrame:
        """The pieces that are part of a history: samples and titles given a thumbs-down left out."""
        out = pieces[~pieces["sample"].to_numpy(bool)] if "sample" in pieces else pieces
        return out[~out["disliked"].to_numpy(bool)] if "disliked" in out else out

    # -- bulk views ------------------------------------------------------------------------
    @property
    def pieces(self) -> pd.DataFrame:
        return self._pieces

    def matrix(self) -> sp.csr_matrix:
        """Members (in `member_ids` order) × axis titles, 1 where the member interacted."""
        p = self._watched(self._pieces).drop_duplicates(["member_id", "root_idx"])
        rows = p["member_id"].map(self.member_pos).to_numpy(np.int64)
        m = sp.csr_matrix(
            (np.ones(len(p), np.float32), (rows, p["root_idx"].to_numpy(np.int64))),
            shape=(len(self.member_ids), self.catalog.n_titles),
        )
        m.sum_duplicates()
        m.data[:] = 1.0
        return m

    def interactions(self) -> pd.DataFrame:
        """What the models train on, one row per (member, axis title) in a history: member_id, title_id (the
        axis id), title_idx, last_at (epoch s). The service's training and `evaluate --db` both read this."""
        viewers = self.viewers()
        title_idx = viewers["title_idx"].to_numpy(np.int64)
        return pd.DataFrame({
            "member_id": viewers["member_id"].astype(str).to_numpy(object),
            "title_id": np.asarray(self.catalog.axis_ids, dtype=object)[title_idx],
            "title_idx": title_idx,
            "last_at": viewers["last_at"].to_numpy(np.float64),
        })

    def viewers(self) -> pd.DataFrame:
        """One row per (member, axis title): title_idx, last_at, country — for popularity."""
        p = self._watched(self._pieces).groupby(["member_id", "root_idx"], sort=False).agg(
            last_at=("last_at", "max"), country=("country", "first")
        )
        return p.reset_index().rename(columns={"root_idx": "title_idx"})

    # -- one member ------------------------------------------------------------------------
    def __contains__(self, member_id: object) -> bool:
        return str(member_id) in self.member_pos

    def get(self, member_id: str) -> MemberHistory:
        found = self._cache.get(member_id)
        if found is not None:
            return found
        sl = self._piece_slices.get(member_id, slice(0, 0))
        pieces = self._pieces.iloc[sl]
        everyone = self._all_progress()
        progress = everyone.iloc[self._progress_by_member.get(member_id, slice(0, 0))]
        history = _history(member_id, pieces, progress, self._unliked.get(member_id, _NONE))
        self._cache[member_id] = history
        return history

    # -- fold-in ---------------------------------------------------------------------------
    def observe(self, events: pd.DataFrame) -> tuple[int, list[str]]:
        """Fold new events in; returns (events applied, members whose history changed)."""
        require_fields(events.columns, ("member_id", "title_id", "started_at", "seconds_viewed"), "events")
        if events.empty:
            return 0, []
        frame = events.copy()
        frame["member_id"] = frame["member_id"].astype(str).astype(object)
        frame["title_id"] = frame["title_id"].astype(str).astype(object)
        known = pd.Series(_member_of(frame["title_id"], self.catalog.root_of), index=frame.index)
        if not known.all():
            log.warning("observe: %d events name titles not in the catalog; skipped", int((~known).sum()))
        frame = frame[known]
        if frame.empty:
            return 0, []
        seconds = pd.to_numeric(frame["seconds_viewed"], errors="coerce")
        if seconds.isna().any() or (seconds < 0).any():
            raise InputError("seconds_viewed must be a number at least 0 in every event")
        started = pd.to_datetime(frame["started_at"], utc=True, errors="coerce", format="mixed")
        if started.isna().any():
            raise InputError("started_at must be a timestamp in every event")
        # seconds since the epoch whatever the unit (pandas 3 keeps microseconds: int64 / 1e9 was 1000x off,
        # so an event folded in looked as if it were from January 1970 and sorted last, not first)
        epoch_s = (started - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
        frame = frame.assign(seconds=seconds.astype(float), last_at=epoch_s.astype(float))
        if "country" not in frame:
            frame["country"] = None
        new = (
            frame.groupby(["member_id", "title_id"], sort=False)
            .agg(seconds=("seconds", "sum"), last_at=("last_at", "max"), country=("country", "last"),
                 events=("seconds", "size"))
            .reset_index()
        )
        new = self._with_root(new)
        # Every changed member at once: one merge with their stored pieces, one progress pass (a loop of
        # pandas calls per member cost ~20 ms each, which capped event intake near 50 events/s).
        changed = [str(m) for m in pd.unique(new["member_id"])]
        held = self._held_pieces(changed)
        merged = self._with_flags(_by_member_latest_first(self._merge_viewing(held, new)))
        progress = _by_member_latest_first(progress_frame(merged, self.catalog, self._next, self._arrays()))
        piece_slices, progress_slices = _slices(merged["member_id"]), _slices(progress["member_id"])
        latest = self._watched(merged).drop_duplicates(["member_id", "root_idx"])  # per member, most recent first
        title_slices = _slices(latest["member_id"])
        roots, last_at = latest["root_idx"].to_numpy(np.int64), latest["last_at"].to_numpy(np.float64)
        for member_id in changed:
            if member_id not in self.member_pos:
                self.member_pos[member_id] = len(self.member_ids)
                self.member_ids.append(member_id)
            titles = title_slices.get(member_id, slice(0, 0))  # only samples so far: no titles
            self._cache[member_id] = MemberHistory(
                member_id=member_id,
                titles=roots[titles],
                last_at=last_at[titles],
                progress=progress.iloc[progress_slices.get(member_id, slice(0, 0))].reset_index(drop=True),
                pieces=(mine := merged.iloc[piece_slices[member_id]].reset_index(drop=True)),
                disliked=_disliked_roots(mine),
                unliked=self._unliked.get(member_id, _NONE),
            )
        return len(frame), changed

    def _held_pieces(self, members: list[str]) -> pd.DataFrame | None:
        """The stored pieces of these members in one frame: those folded in since load from their cached
        history, the rest in one take from the load's pieces (a history built per member cost half of a
        200-event batch, and its progress is not needed here)."""
        parts = [self._cache[m].pieces for m in members if m in self._cache]
        spans = [self._piece_slices[m] for m in members if m not in self._cache and m in self._piece_slices]
        if spans:
            positions = np.concatenate([np.arange(span.start, span.stop) for span in spans])
            parts.append(self._pieces.iloc[positions])
        return pd.concat(parts, ignore_index=True) if parts else None

    def _merge_viewing(self, held: pd.DataFrame | None, new: pd.DataFrame) -> pd.DataFrame:
        """Stored pieces plus a batch's (member, title) sums, by the rule `load_pieces` reads events with:
        the batch starts a new viewing when the member had already watched the whole runtime again."""
        columns = [c for c in (*_PIECE_COLUMNS, "root_idx") if c != "seconds"]
        if held is None or held.empty:
            held = pd.DataFrame({c: pd.Series(dtype=object) for c in ["seconds", *columns]})
        both = held.merge(new[["member_id", "title_id", "root_idx", "seconds", "last_at", "country", "events"]],
                          on=["member_id", "title_id"], how="outer", suffixes=("", "_new"), sort=False)
        arrived = both["seconds_new"].notna().to_numpy()
        added = both["seconds_new"].astype(float).fillna(0.0).to_numpy()
        before = both["total_seconds"].astype(float).fillna(0.0).to_numpy()
        runtime = self._arrays().runtime_of(both["title_id"])
        with np.errstate(invalid="ignore", divide="ignore"):
            pass_now = np.where(runtime > 0, np.floor(before / runtime), 0.0)
        passes = both["passes"].astype(float).fillna(0.0).to_numpy()
        again = arrived & (pass_now > passes)
        current = both["seconds"].astype(float).to_numpy()
        both["seconds"] = np.where(arrived, np.where(again, added, np.nan_to_num(current) + added), current)
        both["total_seconds"] = np.where(arrived, before + added, both["total_seconds"].astype(float).to_numpy())
        both["passes"] = np.where(arrived, np.maximum(passes, pass_now), passes).astype(np.int64)
        both["last_at"] = np.fmax(both["last_at"].astype(float).to_numpy(), both["last_at_new"].astype(float).to_numpy())
        both["country"] = both["country_new"].where(both["country_new"].notna(), both["country"])
        both["events"] = (both["events"].astype(float).fillna(0) + both["events_new"].astype(float).fillna(0)).astype(np.int64)
        both["root_idx"] = both["root_idx"].astype(float).fillna(both["root_idx_new"].astype(float)).astype(np.int64)
        return both[["member_id", "title_id", "root_idx", "seconds", "total_seconds", "passes", "last_at", "country",
                     "events"]]

    def _with_root(self, pieces: pd.DataFrame) -> pd.DataFrame:
        root_idx = self._arrays().root_of(pieces["title_id"])
        keep = root_idx >= 0
        out = pieces[keep].copy()
        out["root_idx"] = root_idx[keep]
        return self._with_flags(out)

    def _with_flags(self, pieces: pd.DataFrame) -> pd.DataFrame:
        """`sample`: less than `STARTED_FRACTION` of a known runtime viewed, in all, never watched through;
        `disliked`: the member's latest thumbs rating of the piece's axis title is down."""
        runtime = self._arrays().runtime_of(pieces["title_id"])
        total = pieces["total_seconds" if "total_seconds" in pieces else "seconds"].astype(float).to_numpy()
        never_through = (pieces["passes"].fillna(0).to_numpy(np.int64) == 0) if "passes" in pieces else True
        pieces["sample"] = ~np.isnan(runtime) & (total < STARTED_FRACTION * np.nan_to_num(runtime)) & never_through
        if len(self._disliked):
            key = pd.MultiIndex.from_arrays([pieces["member_id"].to_numpy(object), pieces["root_idx"].to_numpy(np.int64)])
            pieces["disliked"] = key.isin(self._disliked)
        else:
            pieces["disliked"] = False
        return pieces


def _by_member_latest_first(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows grouped by member (contiguous), most recent first within a member."""
    if frame.empty:
        return frame.reset_index(drop=True)
    codes = pd.factorize(frame["member_id"])[0]
    order = np.lexsort((-frame["last_at"].to_numpy(np.float64), codes))
    return frame.iloc[order].reset_index(drop=True)


def _slices(member_col: pd.Series) -> dict[str, slice]:
    """Member → row slice of a frame sorted by member."""
    if member_col.empty:
        return {}
    values = member_col.to_numpy(dtype=object)
    change = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(values)]])
    return {str(values[s]): slice(int(s), int(e)) for s, e in zip(starts, ends, strict=True)}


_NONE = np.zeros(0, np.int64)


def _disliked_roots(pieces: pd.DataFrame) -> np.ndarray:
    if "disliked" not in pieces:
        return np.zeros(0, np.int64)
    return np.unique(pieces["root_idx"].to_numpy(np.int64)[pieces["disliked"].to_numpy(bool)])


def _history(member_id: str, pieces: pd.DataFrame, progress: pd.DataFrame, unliked: np.ndarray) -> MemberHistory:
    # Most recent first, one entry per axis title; samples and thumbs-downs are not part of it.
    by_root = Histories._watched(pieces).sort_values("last_at", ascending=False, kind="stable").drop_duplicates("root_idx")
    return MemberHistory(
        member_id=member_id,
        titles=by_root["root_idx"].to_numpy(np.int64),
        last_at=by_root["last_at"].to_numpy(np.float64),
        progress=progress.reset_index(drop=True),
        pieces=pieces,
        disliked=_disliked_roots(pieces),
        unliked=unliked,
    )
