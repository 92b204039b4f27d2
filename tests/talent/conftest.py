"""A tiny world for the talent engine: two 2024 programs and one 2023 film, viewed at home and abroad."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from limelight.spine.store import Store
from limelight.spine.validate import Rows


def _world() -> list[Rows]:
    titles = pd.DataFrame(
        [
            # film released 2024-02-01, 120 minutes
            {"title_id": "f1", "name": "Hit Film", "kind": "film", "parent_id": None, "runtime_minutes": 120.0, "release_date": "2024-02-01"},
            # series → season → two 60-minute episodes, released 2024-03-01
            {"title_id": "s1", "name": "Big Show", "kind": "series", "parent_id": None, "runtime_minutes": None, "release_date": "2024-03-01"},
            {"title_id": "s1s1", "name": "Big Show: Season 1", "kind": "season", "parent_id": "s1", "runtime_minutes": None, "release_date": "2024-03-01"},
            {"title_id": "s1e1", "name": "Pilot", "kind": "episode", "parent_id": "s1s1", "runtime_minutes": 60.0, "release_date": "2024-03-01"},
            {"title_id": "s1e2", "name": "Two", "kind": "episode", "parent_id": "s1s1", "runtime_minutes": 60.0, "release_date": "2024-03-01"},
            # film released before the bonus cutoff
            {"title_id": "f0", "name": "Old Film", "kind": "film", "parent_id": None, "runtime_minutes": 90.0, "release_date": "2023-06-01"},
        ]
    ).assign(source="test")
    people = pd.DataFrame(
        [{"person_id": p, "name": n} for p, n in [("p1", "Ada Lead"), ("p2", "Ben Costar"), ("p3", "Cy Extra"), ("w1", "Wes Writer"), ("d1", "Dee Director"), ("Nia Newcomer", "Nia Newcomer")]]
    ).assign(source="test")
    credits = pd.DataFrame(
        [
            {"title_id": "f1", "person_id": "p1", "role": "performer", "billing": "principal", "credit_order": 1},
            {"title_id": "f1", "person_id": "p2", "role": "performer", "billing": "principal", "credit_order": 2},
            {"title_id": "f1", "person_id": "p3", "role": "performer", "billing": "background", "credit_order": 3},
            {"title_id": "f1", "person_id": "w1", "role": "writer", "billing": None, "credit_order": 1},
            {"title_id": "f1", "person_id": "d1", "role": "director", "billing": None, "credit_order": 1},
            {"title_id": "s1", "person_id": "p1", "role": "performer", "billing": "principal", "credit_order": 1},
            {"title_id": "s1e1", "person_id": "p2", "role": "performer", "billing": "principal", "credit_order": 2},
            {"title_id": "f0", "person_id": "p1", "role": "performer", "billing": "principal", "credit_order": 1},
        ]
    )
    members = pd.DataFrame(
        [{"member_id": f"m{i}", "country": c} for i, c in enumerate(["US"] * 6 + ["CA"] * 2 + ["GB"] * 2)]
    ).assign(source="test")
    events = []
    n = 0

    def watch(member: str, title: str, when: str, hours: float, country: str | None = None) -> None:
        nonlocal n
        n += 1
        events.append({"event_id": f"e{n}", "member_id": member, "title_id": title, "started_at": when,
                       "seconds_viewed": int(hours * 3600), "country": country})

    # Hit Film: 4 domestic members watch it fully in the first 90 days = 4 views of 10 subscribers -> 40%.
    for m in ("m0", "m1", "m2", "m6"):
        watch(m, "f1", "2024-02-10 20:00:00", 2.0)
    watch("m8", "f1", "2024-02-10 20:00:00", 2.0)  # GB: not domestic
    watch("m3", "f1", "2024-06-01 20:00:00", 2.0)  # after day 90: not counted in the first window
    # Big Show: 2 hours total runtime; one domestic member watches both episodes -> 1 view = 10% (< 20%).
    watch("m4", "s1e1", "2024-03-02 20:00:00", 1.0)
    watch("m4", "s1e2", "2024-03-03 20:00:00", 1.0)
    # Old Film: 3 domestic views in its first 90 days, but released before 2024-01-01.
    for m in ("m0", "m1", "m2"):
        watch(m, "f0", "2023-06-05 20:00:00", 1.5)
    subscribers = pd.DataFrame(
        [
            {"region": "UCAN", "as_of": "2023-06-30", "paid_memberships": 10},
            {"region": "EMEA", "as_of": "2023-06-30", "paid_memberships": 5},
        ]
    ).assign(source="test")
    return [
        Rows("titles", titles, "test"),
        Rows("people", people, "test"),
        Rows("credits", credits, "test"),
        Rows("members", members, "test"),
        Rows("viewing_events", pd.DataFrame(events), "test"),
        Rows("subscribers", subscribers, "test"),
    ]


@pytest.fixture(scope="session")
def world_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny world written once per session (engines only read it)."""
    path = tmp_path_factory.mktemp("talent") / "talent.duckdb"
    with Store(path) as store:
        store.ingest(_world())
    return path


@pytest.fixture(scope="session")
def world_store(world_path: Path) -> Iterator[Store]:
    store = Store(world_path, read_only=True)
    yield store
    store.close()


REPORTS = ("2023Jan-Jun", "2024Jan-Jun", "2024Jul-Dec")


@pytest.fixture(scope="session")
def engagement_reports(shared_data: Path) -> pd.DataFrame:
    """Three published engagement reports (the 2023 H1 one has no runtimes), each parsed once per session."""
    from limelight.spine.loaders.netflix_engagement import read_report_frame

    folder = shared_data / "netflix" / "engagement"
    files = [folder / f"What_We_Watched_A_Netflix_Engagement_Report_{r}.xlsx" for r in REPORTS]
    if not all(f.exists() for f in files):
        pytest.skip("the engagement reports are not in the shared data")
    return pd.concat([read_report_frame(f) for f in files], ignore_index=True)


@pytest.fixture(scope="session")
def memberships(shared_data: Path) -> pd.DataFrame:
    from limelight.spine.loaders.netflix_financials import read_paid_memberships

    return read_paid_memberships(shared_data / "netflix" / "financials" / "Q3-23-Website-Financials.xlsx")


@pytest.fixture(scope="session")
def catalog(shared_data: Path) -> pd.DataFrame:
    from limelight.talent.report import read_catalog

    return read_catalog(shared_data / "netflix" / "titles" / "netflix_titles.csv")
