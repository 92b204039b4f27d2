"""The ML-100k fetcher rebuilds GroupLens' layout from RecBole's atomic files, and the loader reads it."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from bench_scripts import load_benchmark
from limelight.spine.loaders.movielens import read_movielens


def _fetcher() -> Any:
    return load_benchmark("fetch_ml100k")


def _wheel(path: Path, inter_rows: list[str]) -> Path:
    files = {
        "inter": ["user_id:token\titem_id:token\trating:float\ttimestamp:float", *inter_rows],
        "item": ["item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq",
                 "1\tToy Story\t1995\tAnimation Children's Comedy", "267\tunkonwn\t\tunknown"],
        "user": ["user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token",
                 "196\t49\tM\twriter\t55105", "186\t39\tF\texecutive\t00000"],
    }
    with zipfile.ZipFile(path, "w") as wheel:
        for suffix, lines in files.items():
            wheel.writestr(f"recbole/dataset_example/ml-100k/ml-100k.{suffix}", "\n".join(lines) + "\n")
    return path


def test_layout_is_read_by_the_loader_with_titles_years_and_genres(tmp_path: Path) -> None:
    fetch = _fetcher()
    fetch.PUBLISHED = {"ratings": 2, "members": 2, "titles": 2, "mean_rating": 3.5}
    wheel = _wheel(tmp_path / "recbole.whl", ["196\t1\t3\t881250949", "186\t267\t4\t891717742"])
    found = fetch.write_layout(wheel, tmp_path / "ml-100k")
    assert found == fetch.PUBLISHED
    assert (tmp_path / "ml-100k" / "u.data").read_text().splitlines()[0] == "196\t1\t3\t881250949"

    tables = {rows.table: rows.frame for rows in read_movielens(tmp_path / "ml-100k")}
    titles = tables["titles"].set_index("title_id")
    assert titles.loc["1", "name"] == "Toy Story"
    assert str(titles.loc["1", "release_date"])[:10] == "1995-01-01"
    assert list(titles["genres"].loc["1"]) == ["Animation", "Children's", "Comedy"]
    assert titles.loc["267", "name"] == "unknown"
    assert len(tables["ratings"]) == 2


def test_totals_that_differ_from_the_published_ones_stop_the_fetch(tmp_path: Path) -> None:
    fetch = _fetcher()
    wheel = _wheel(tmp_path / "recbole.whl", ["196\t1\t3\t881250949"])
    with pytest.raises(SystemExit, match="does not match the published totals"):
        fetch.write_layout(wheel, tmp_path / "ml-100k")
