"""The demo world: one seeded, coherent, synthetic streaming service, so every engine has data offline.

Everything here is invented and labelled so: every row that carries a source says `source='demo'`.
The world has a catalog (films; series → seasons → episodes; games) with runtimes, genres,
original languages, countries of origin, maturity ratings, availability by country and release
dates (a few after the world's "today", for 'New on' rows); people and credits (principal and
background performers, writers, directors, episodes worked); members in eleven countries with
plans, signup dates, maturity limits and cancellations; and viewing events with structure a real
service shows:

- long-tail popularity (Pareto-distributed title appeal),
- taste clusters (each member belongs to one; each cluster prefers some genres and languages,
  and countries lean towards different clusters),
- release-date decay (a title, or a series' newest season, is watched most in its first months),
- binge sessions (consecutive episodes of one season, back to back),
- abandoned titles (a few minutes viewed, more often for weak titles),
- devices (each member has a main device) and the country where the viewing happened
  (members travel a little; a title unavailable there is not watched there),

plus thumbs ratings that follow what was finished or abandoned, subscriber counts by country,
region and month computed from the member base, and, when `limelight.payments.simulator` is
present, the monthly renewals' payment attempts with their decline codes.

Same `seed` and `n_events` → the same world, whichever way it is consumed (`build_world` in
memory, `iter_world` in chunks, `build_demo_world` into the store, `write_world_parquet` to
Parquet): events are generated in fixed chunks of `EVENTS_PER_CHUNK`, each from its own seeded
stream. All of it is vectorised numpy; nothing loops over events.

Modules: `common` (clock, countries, genres, sizes), `catalog`, `members`, `viewing` (events and
ratings), `subscribers` (and payments), `build` (in memory, in chunks, into the store), `parquet`.
"""

from limelight.spine.world.build import build_demo_world, build_world, iter_world
from limelight.spine.world.catalog import Catalog
from limelight.spine.world.common import (
    COUNTRIES,
    EVENTS_PER_CHUNK,
    PAYMENTS_MAX_MEMBERS,
    TODAY,
    ProgressCallback,
    WorldSize,
    world_size,
)
from limelight.spine.world.parquet import ROW_GROUP_ROWS, TIME_ORDER, write_world_parquet

__all__ = [
    "COUNTRIES",
    "EVENTS_PER_CHUNK",
    "PAYMENTS_MAX_MEMBERS",
    "ROW_GROUP_ROWS",
    "TIME_ORDER",
    "TODAY",
    "Catalog",
    "ProgressCallback",
    "WorldSize",
    "build_demo_world",
    "build_world",
    "iter_world",
    "world_size",
    "write_world_parquet",
]
