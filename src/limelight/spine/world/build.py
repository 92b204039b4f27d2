"""The demo world assembled: in memory, in chunks, or into the spine's store."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from limelight.errors import InputError
from limelight.spine.world.catalog import build_catalog
from limelight.spine.world.common import (
    EVENTS_PER_CHUNK,
    PAYMENTS_MAX_MEMBERS,
    SOURCE,
    TODAY,
    ProgressCallback,
    WorldSize,
    world_size,
)
from limelight.spine.world.members import build_members
from limelight.spine.world.subscribers import _payments, build_subscribers
from limelight.spine.world.viewing import _chunk_events, _flat_cdf

log = logging.getLogger(__name__)

def _streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"seed must be a whole number ≥ 0, got {seed!r}")
    return (
        np.random.default_rng(np.random.SeedSequence([int(seed), 1])),
        np.random.default_rng(np.random.SeedSequence([int(seed), 2])),
    )


def _chunk_rng(seed: int, chunk: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), 3, chunk]))


def iter_world(
    n_events: int = 100_000,
    seed: int = 7,
    *,
    payments: bool | None = None,
    progress: ProgressCallback | None = None,
) -> Iterator[tuple[str, pd.DataFrame]]:
    """The world as (table name, frame) pairs in foreign-key order; events and ratings in chunks.

    Memory stays bounded by the catalog, the member base and one chunk of events.
    """
    if isinstance(n_events, bool) or not isinstance(n_events, int | np.integer):
        raise InputError(f"events must be a whole number, got {n_events!r}")
    size = world_size(int(n_events))
    catalog_rng, member_rng = _streams(seed)
    t0 = time.perf_counter()
    catalog = build_catalog(size, catalog_rng)
    members = build_members(size, member_rng)
    log.info("catalog and members in %.2fs: %s", time.perf_counter() - t0, size)
    yield "titles", catalog.titles
    yield "people", catalog.people
    yield "credits", catalog.credits
    yield "members", members.frame
    flat_cdf = _flat_cdf(catalog.b_weights)
    n_chunks = math.ceil(size.n_events / EVENTS_PER_CHUNK)
    done = 0
    for chunk in range(n_chunks):
        count = min(EVENTS_PER_CHUNK, size.n_events - done)
        events, ratings = _chunk_events(catalog, members, flat_cdf, count, done, _chunk_rng(seed, chunk))
        done += count
        yield "viewing_events", events
        yield "ratings", ratings
        if progress is not None:
            progress("viewing events", done, size.n_events)
    yield "subscribers", build_subscribers(members.frame)
    if payments is None:
        # The simulator walks every member's renewals month by month: seconds for thousands of
        # members, minutes for millions. Large worlds are for scale tests of viewing, not payments.
        payments = size.members <= PAYMENTS_MAX_MEMBERS
        if not payments:
            log.info(
                "no payments for %s members (more than %s); pass payments=True to force",
                size.members,
                PAYMENTS_MAX_MEMBERS,
            )
    if payments:
        attempts, cards = _payments(members.frame, seed)
        yield "cards", cards
        yield "payment_attempts", attempts


def build_world(
    n_events: int = 100_000, seed: int = 7, *, payments: bool | None = None
) -> dict[str, pd.DataFrame]:
    """The whole world in memory: one frame per spine table (events and ratings concatenated)."""
    parts: dict[str, list[pd.DataFrame]] = {}
    for name, frame in iter_world(n_events, seed, payments=payments):
        parts.setdefault(name, []).append(frame)
    out: dict[str, pd.DataFrame] = {}
    for name, frames in parts.items():
        if len(frames) == 1:
            out[name] = frames[0]
        else:
            out[name] = pd.concat(frames, ignore_index=True)
            for col, first in frames[0].items():
                if isinstance(first.dtype, pd.CategoricalDtype):
                    out[name][col] = pd.Categorical(out[name][col], categories=first.cat.categories)
    return out


def _summary(
    counts: dict[str, int], size: WorldSize, seed: int, seconds: float, where: str
) -> dict[str, Any]:
    return {
        "synthetic": True,
        "source": SOURCE,
        "note": "a synthetic demo world: every title, person, member and event is invented",
        "where": where,
        "seed": seed,
        "today": TODAY.isoformat(),
        "events_requested": size.n_events,
        "counts": counts,
        "seconds": round(seconds, 2),
    }


_WORLD_MARK = "limelight demo world:"


def _check_same_world(store: Any, events: int, seed: int) -> None:
    """A store holds one demo world: building it again with the same settings adds nothing, but another
    seed or size would merge a second catalog and cast into the first (event ids collide, so it would
    keep the first world's viewing with two worlds' titles). The settings are kept as the titles
    table's comment; a demo world from before that has none and is taken as the same (then marked)."""
    if not store.scalar("SELECT count(*) FROM titles WHERE source = 'demo'"):
        return
    comment = store.scalar("SELECT comment FROM duckdb_tables() WHERE table_name = 'titles' AND schema_name = 'main'")
    if not comment or not str(comment).startswith(_WORLD_MARK):
        return
    built = str(comment).removeprefix(_WORLD_MARK).strip()
    if built != f"seed={int(seed)} events={int(events)}":
        told = " ".join(f"--{part.replace('=', ' ')}" for part in built.split())
        raise InputError(
            f"the store {store.path} already holds a demo world built with {told}; build this one "
            "into a new --db (a second world would be merged into the first)"
        )


def build_demo_world(
    db_path: str | Path,
    *,
    events: int = 100_000,
    seed: int = 7,
    progress: ProgressCallback | None = None,
    payments: bool | None = None,
) -> dict[str, Any]:
    """Generate the world into the spine's DuckDB file (one transaction) and return a summary.

    Payments are simulated when `payments` is True, or by default for worlds of up to
    `PAYMENTS_MAX_MEMBERS` members. The summary holds counts per table, the countries with most members, the most-watched titles
    and the time taken. Building twice with the same seed and size adds nothing the second time; another
    seed or size into the same store is refused (`_check_same_world`).
    """
    from limelight.spine.store import Store

    size = world_size(events)
    t0 = time.perf_counter()
    counts: dict[str, int] = {}
    with Store(db_path) as store:
        _check_same_world(store, events, seed)
        report = store.bulk_insert(iter_world(events, seed, payments=payments, progress=progress))
        store.con.execute(f"COMMENT ON TABLE titles IS '{_WORLD_MARK} seed={int(seed)} events={int(events)}'")
        for name, n in report.inserted.items():
            counts[name] = n
        summary = _summary(counts, size, seed, time.perf_counter() - t0, str(db_path))
        summary["members_by_country"] = dict(
            store.con.execute(
                "SELECT country, count(*) FROM members WHERE source = 'demo' GROUP BY 1 ORDER BY 2 DESC, 1"
            ).fetchall()
        )
        top = store.query(
            """
            SELECT coalesce(s.title_id, t.title_id) AS title_id, any_value(coalesce(s.name, t.name)) AS name,
                   any_value(coalesce(s.kind, t.kind)) AS kind, round(sum(e.seconds_viewed) / 3600.0, 1) AS hours
            FROM viewing_events e JOIN titles t USING (title_id)
            LEFT JOIN titles se ON t.kind = 'episode' AND se.title_id = t.parent_id
            LEFT JOIN titles s ON s.title_id = se.parent_id
            WHERE t.source = 'demo'
            GROUP BY 1 ORDER BY hours DESC, 1 LIMIT 10
            """
        )
        summary["top_titles"] = top.to_dict("records")
    return summary


