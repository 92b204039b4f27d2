"""Netflix Top 10 TSVs: global and by country (real files), and most-popular.tsv read as a frame."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from limelight.errors import DataError
from limelight.spine.loaders import load_paths, read_most_popular, read_top10
from limelight.spine.store import Store


@pytest.fixture(scope="session")
def top10_folder(shared_data: Path) -> Path:
    return shared_data / "netflix" / "top10"


def test_global_weeks_load_with_hours_views_and_runtime(top10_folder: Path) -> None:
    [rows] = read_top10(top10_folder / "all-weeks-global.tsv")
    frame = rows.frame
    assert len(frame) == 10_560 and set(frame["country"]) == {"global"}
    first = frame.iloc[0]
    assert (first["week"], first["category"], first["weekly_rank"]) == ("2026-07-19", "Films (English)", 1)
    assert first["show_title"] == "Shipwrecked: Nightmare at Sea" and pd.isna(first["season_title"])  # 'N/A'
    assert (first["weekly_hours_viewed"], first["runtime_hours"], first["weekly_views"]) == (
        16_600_000,
        1.5,
        11_100_000,
    )
    assert rows.line_numbers[0] == 2 and rows.frame.attrs["source_columns"]["runtime_hours"] == "runtime"


def test_both_files_ingest_and_countries_are_iso_codes(top10_folder: Path, db_path: Path) -> None:
    batch = load_paths([top10_folder])  # the folder: most-popular.tsv fits no table and is skipped
    assert [r.origin for r in batch] == ["all-weeks-countries_upto_2022-02-27.tsv", "all-weeks-global.tsv"]
    with Store(db_path) as store:
        assert store.ingest(batch).inserted == {"top10_weekly": 65_800 + 10_560}
        countries = store.query("SELECT DISTINCT country FROM top10_weekly")["country"]
        assert len(countries) == 95 and {"global", "GB", "KR", "US", "RE"} <= set(countries)
        # Hours and views are not published per country.
        assert store.scalar("SELECT count(weekly_hours_viewed) FROM top10_weekly WHERE country = 'GB'") == 0


def test_country_names_map_to_codes_when_the_code_column_is_absent(tmp_path: Path) -> None:
    path = tmp_path / "weeks.tsv"
    path.write_text(
        "country_name\tweek\tcategory\tweekly_rank\tshow_title\tseason_title\tcumulative_weeks_in_top_10\n"
        "United Kingdom\t2022-02-27\tFilms\t1\tRestless\tN/A\t1\n"
        "South Korea\t2022-02-27\tTV\t1\tJuvenile Justice\tJuvenile Justice: Season 1\t1\n"
        "Narnia\t2022-02-27\tTV\t2\tX\tN/A\t1\n",
        encoding="utf-8",
    )
    with pytest.raises(
        DataError, match=r"weeks.tsv, row 4, column 'country_name': 'Narnia' is not a known country"
    ):
        read_top10(path)
    path.write_text("\n".join(path.read_text(encoding="utf-8").splitlines()[:3]) + "\n", encoding="utf-8")
    assert read_top10(path)[0].frame["country"].tolist() == ["GB", "KR"]


def test_a_bad_rank_names_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "g.tsv"
    path.write_text(
        "week\tcategory\tweekly_rank\tshow_title\n2024-01-07\tTV (English)\tfirst\tX\n", encoding="utf-8"
    )
    with pytest.raises(DataError, match=r"g.tsv, row 2, column 'weekly_rank': 'first' is not a number"):
        read_top10(path)


def test_most_popular_named_on_its_own_is_refused_not_skipped(top10_folder: Path) -> None:
    from limelight.errors import DataError

    with pytest.raises(DataError, match=r"most-popular\.tsv: Netflix's all-time most-popular lists have no week"):
        load_paths([top10_folder / "most-popular.tsv"])


def test_most_popular_is_a_frame(top10_folder: Path) -> None:
    frame = read_most_popular(top10_folder / "most-popular.tsv")
    assert len(frame) == 40
    top = frame.iloc[0]
    assert (top["show_title"], top["hours_viewed_first_91_days"], top["views_first_91_days"]) == (
        "KPop Demon Hunters",
        541_800_000,
        325_100_000,
    )
