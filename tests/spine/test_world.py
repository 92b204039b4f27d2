"""The demo world: one seed, one world; coherent ids and dates; the structure a real service shows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from limelight.errors import InputError
from limelight.spine.store import Rows, Store
from limelight.spine.world import TODAY, build_demo_world, build_world, iter_world, write_world_parquet

N = 8_000


@pytest.fixture(scope="module")
def world() -> dict[str, pd.DataFrame]:
    return build_world(N, seed=11, payments=True)


def test_the_same_seed_gives_the_same_world_and_another_seed_another(world: dict[str, pd.DataFrame]) -> None:
    again = build_world(N, seed=11, payments=False)
    assert set(again) == set(world) - {"cards", "payment_attempts"}
    for name, frame in again.items():
        pd.testing.assert_frame_equal(world[name], frame, obj=name)
    other = build_world(N, seed=12, payments=False)
    assert (
        not other["viewing_events"]["title_id"]
        .astype(str)
        .equals(world["viewing_events"]["title_id"].astype(str))
    )


def test_the_world_has_exactly_the_events_asked_for_and_refuses_silly_sizes(
    world: dict[str, pd.DataFrame],
) -> None:
    assert len(world["viewing_events"]) == N
    assert world["viewing_events"]["event_id"].is_unique
    with pytest.raises(InputError, match="events must be"):
        build_world(10, seed=1)
    with pytest.raises(InputError, match="seed must be"):
        build_world(1_000, seed=-3)


def test_every_id_points_at_something_that_exists(world: dict[str, pd.DataFrame]) -> None:
    titles = world["titles"].set_index("title_id")
    events = world["viewing_events"]
    assert events["member_id"].astype(str).isin(world["members"]["member_id"]).all()
    assert events["title_id"].astype(str).isin(titles.index).all()
    assert world["credits"]["person_id"].isin(world["people"]["person_id"]).all()
    episodes = titles[titles["kind"] == "episode"]
    seasons = titles[titles["kind"] == "season"]
    assert episodes["parent_id"].isin(seasons.index).all()
    assert (titles.loc[seasons["parent_id"], "kind"] == "series").all()
    watched_kinds = set(titles.loc[events["title_id"].astype(str), "kind"])
    assert watched_kinds <= {"film", "episode", "game"}
    assert {"film", "episode", "game"} <= watched_kinds


def test_seasons_come_in_order_a_year_apart_and_few_lie_after_today(world: dict[str, pd.DataFrame]) -> None:
    titles = world["titles"]
    seasons = titles[titles["kind"] == "season"].sort_values(["parent_id", "season_number"])
    released = pd.to_datetime(seasons["release_date"])
    gap = released.groupby(seasons["parent_id"].to_numpy()).diff().dt.days.dropna()
    assert len(gap) > 10 and gap.between(300, 430).all()  # season n+1 300-430 days after season n
    series = titles[titles["kind"] == "series"].set_index("title_id")
    first = released.groupby(seasons["parent_id"].to_numpy()).min()
    assert (pd.to_datetime(series.loc[first.index, "release_date"]) == first).all()
    assert (released > pd.Timestamp("2026-11-01")).mean() < 0.08  # the ~4% 'New on' titles, not a third


def test_a_title_is_only_watched_after_release_where_available_and_within_the_profile_limit(
    world: dict[str, pd.DataFrame],
) -> None:
    titles = world["titles"].set_index("title_id")
    members = world["members"].set_index("member_id")
    e = world["viewing_events"]
    t = titles.loc[e["title_id"].astype(str)]
    released = pd.to_datetime(t["release_date"]).to_numpy()
    assert (e["started_at"].to_numpy() >= released).all()
    assert (e["started_at"] <= pd.Timestamp(TODAY)).all()
    avail = t["available_countries"].to_numpy()
    country = e["country"].astype(str).to_numpy()
    assert all(a is None or c in a for a, c in zip(avail, country, strict=True))
    m = members.loc[e["member_id"].astype(str)]
    signup = pd.to_datetime(m["signup_date"]).to_numpy()
    assert (e["started_at"].to_numpy() >= signup).all()
    cancelled = m["cancelled_at"].to_numpy()
    ok = pd.isna(cancelled) | (e["started_at"].to_numpy() <= cancelled)
    assert ok.all()
    kids = m["maturity_limit"].to_numpy() == "TV-PG"
    assert not np.isin(
        t["maturity_rating"].to_numpy()[kids], ["TV-14", "TV-MA", "PG-13", "R", "T", "M"]
    ).any()


def test_viewing_has_a_long_tail_binges_and_abandoned_titles(world: dict[str, pd.DataFrame]) -> None:
    titles = world["titles"].set_index("title_id")
    e = world["viewing_events"].copy()
    e["title_id"] = e["title_id"].astype(str)
    kind = titles.loc[e["title_id"], "kind"].to_numpy()
    unit = np.where(kind == "episode", titles.loc[e["title_id"], "parent_id"].to_numpy(), e["title_id"])
    shares = pd.Series(unit).value_counts(normalize=True)
    top_decile = shares.iloc[: max(1, len(shares) // 10)].sum()
    assert top_decile > 0.4  # a tenth of the titles draw a large share of the viewing
    # Binges: the next event of the same member is often the next episode of the same season.
    ep = e[kind == "episode"].sort_values(["member_id", "started_at"])
    number = titles.loc[ep["title_id"], "episode_number"].to_numpy(dtype=float)
    season = titles.loc[ep["title_id"], "parent_id"].to_numpy()
    member = ep["member_id"].astype(str).to_numpy()
    next_episode = (member[1:] == member[:-1]) & (season[1:] == season[:-1]) & (number[1:] == number[:-1] + 1)
    assert next_episode.mean() > 0.3
    runtime = titles.loc[e["title_id"], "runtime_minutes"].to_numpy(dtype=float) * 60
    watched = e["seconds_viewed"].to_numpy() / runtime
    film_or_episode = kind != "game"
    assert 0.03 < (watched[film_or_episode] < 0.15).mean() < 0.4  # abandoned after a few minutes
    assert (watched[film_or_episode] > 0.8).mean() > 0.4


def test_the_catalog_members_and_subscribers_cover_the_service(world: dict[str, pd.DataFrame]) -> None:
    titles, members = world["titles"], world["members"]
    assert set(titles["kind"]) == {"film", "series", "season", "episode", "game"}
    assert (pd.to_datetime(titles["release_date"]) > pd.Timestamp(TODAY)).any()  # 'New on' titles
    assert titles["available_countries"].isna().any() and titles["available_countries"].notna().any()
    assert members["country"].nunique() >= 10
    assert members["cancelled_at"].notna().mean() > 0.05
    assert set(world["credits"]["billing"].dropna()) == {"principal", "background"}
    series_credits = world["credits"][world["credits"]["title_id"].str.startswith("S")]
    assert series_credits["episodes_worked"].notna().all() and (series_credits["episodes_worked"] >= 1).all()
    subs = world["subscribers"]
    today = subs[(subs["region"] == "global") & (subs["as_of"] == TODAY)]["paid_memberships"].iloc[0]
    signup = pd.to_datetime(members["signup_date"])
    active = (signup <= pd.Timestamp(TODAY)) & ~(members["cancelled_at"] <= pd.Timestamp(TODAY))
    assert today == active.sum()
    regions = subs[subs["as_of"] == TODAY].set_index("region")["paid_memberships"]
    assert regions[["UCAN", "EMEA", "LATAM", "APAC"]].sum() == regions["global"]
    assert (world["titles"]["source"] == "demo").all() and (members["source"] == "demo").all()


def test_every_month_start_counts_the_members_of_that_midnight(world: dict[str, pd.DataFrame]) -> None:
    from limelight.spine.world.subscribers import build_subscribers

    members = world["members"]
    subs = build_subscribers(members)
    globe = subs[subs["region"] == "global"].set_index("as_of")["paid_memberships"]
    assert min(globe.index) <= pd.Timestamp("2023-07-01").date()  # the first success-bonus base
    signup = pd.to_datetime(members["signup_date"])
    cancelled = pd.to_datetime(members["cancelled_at"])
    for day in list(globe.index)[::7]:
        at = pd.Timestamp(day)
        assert globe[day] == ((signup <= at) & ~(cancelled <= at)).sum(), day
    # A member who cancels at 10:00 on a month's first day was a member at its midnight.
    one = members.iloc[:1].assign(signup_date=pd.Timestamp("2024-01-15"), cancelled_at=pd.Timestamp("2024-05-01 10:00"))
    counted = build_subscribers(one).query("region == 'global'").set_index("as_of")["paid_memberships"]
    assert counted[pd.Timestamp("2024-05-01").date()] == 1 and counted[pd.Timestamp("2024-06-01").date()] == 0


def test_nobody_watches_or_rates_after_cancelling_or_after_today() -> None:
    world = build_world(200_000, seed=7, payments=False)  # big enough for binges that cross a cancellation
    end = pd.to_datetime(world["members"].set_index("member_id")["cancelled_at"]).fillna(pd.Timestamp(TODAY))
    for table, column in (("viewing_events", "started_at"), ("ratings", "rated_at")):
        rows = world[table]
        assert (pd.to_datetime(rows[column]).to_numpy() <= end.loc[rows["member_id"].astype(str)].to_numpy()).all(), table
        if table == "viewing_events":
            assert (pd.to_datetime(rows[column]).to_numpy() < end.loc[rows["member_id"].astype(str)].to_numpy()).all()


def test_payment_attempts_come_from_the_simulator_with_the_spine_columns(
    world: dict[str, pd.DataFrame],
) -> None:
    pytest.importorskip("limelight.payments.simulator")
    attempts = world["payment_attempts"]
    assert len(attempts) > 0
    assert attempts["member_id"].isin(world["members"]["member_id"]).all()
    assert set(attempts["outcome"]) == {"succeeded", "failed"}
    assert attempts.loc[attempts["outcome"] == "failed", "decline_code"].notna().all()


def test_the_validating_ingest_accepts_a_small_world_so_the_fast_path_skips_nothing_it_would_catch(
    tmp_path: Path,
) -> None:
    small = build_world(3_000, seed=5, payments=True)
    with Store(tmp_path / "checked.duckdb") as store:
        report = store.ingest([Rows(name, frame, f"demo:{name}") for name, frame in small.items()])
    assert report.inserted["viewing_events"] == 3_000


def test_build_demo_world_writes_the_store_once_and_says_it_is_synthetic(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    seen: list[tuple[str, int, int]] = []
    summary = build_demo_world(
        db, events=4_000, seed=3, payments=False, progress=lambda s, d, t: seen.append((s, d, t))
    )
    assert summary["synthetic"] is True and "synthetic" in summary["note"]
    assert summary["counts"]["viewing_events"] == 4_000
    assert summary["top_titles"] and summary["top_titles"][0]["hours"] >= summary["top_titles"][-1]["hours"]
    assert seen[-1] == ("viewing events", 4_000, 4_000)
    again = build_demo_world(db, events=4_000, seed=3, payments=False)
    assert sum(again["counts"].values()) == 0
    with Store(db, read_only=True) as store:
        info = store.info()
    assert info["viewing_events"] == 4_000 and info["synthetic"] is True


def test_the_parquet_world_is_the_in_memory_world_written_in_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import limelight.spine.world.build as world_build  # where the chunk size is read

    monkeypatch.setattr(world_build, "EVENTS_PER_CHUNK", 1_500)
    expected = build_world(4_000, seed=9, payments=False)["viewing_events"]
    parts = [f for name, f in iter_world(4_000, seed=9, payments=False) if name == "viewing_events"]
    assert [len(p) for p in parts] == [1_500, 1_500, 1_000]
    summary = write_world_parquet(tmp_path / "pq", events=4_000, seed=9, payments=False)
    assert summary["counts"]["viewing_events"] == 4_000
    assert len(list((tmp_path / "pq" / "viewing_events").glob("*.parquet"))) == 3
    # Each part is sorted by time (the log's layout); event ids number the events as generated.
    back = pd.read_parquet(tmp_path / "pq" / "viewing_events").sort_values("event_id", ignore_index=True)
    assert back["event_id"].tolist() == expected["event_id"].tolist()
    assert back["title_id"].tolist() == expected["title_id"].astype(str).tolist()
    assert (back["started_at"].to_numpy() == expected["started_at"].to_numpy()).all()
