"""Format detection (`load_paths`) and public-dataset downloads (`fetch_dataset`), offline."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from limelight.errors import DataError, DownloadError, InputError, NotFoundError
from limelight.spine.loaders import datasets, detect_format, fetch_dataset, load_paths


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_formats_are_detected_by_content_not_by_name(tmp_path: Path, shared_data: Path) -> None:
    ml = tmp_path / "ml"
    write(ml / "ratings.csv", "userId,movieId,rating,timestamp\n1,1,4,0\n")
    assert detect_format(ml) == "movielens"
    assert detect_format(ml / "ratings.csv") == "movielens_file"
    assert detect_format(write(tmp_path / "w.tsv", "week\tcategory\tweekly_rank\tshow_title\n")) == "top10"
    assert detect_format(shared_data / "netflix" / "top10" / "most-popular.tsv") == "most_popular"
    assert detect_format(shared_data / "netflix" / "titles" / "netflix_titles.csv") == "netflix_titles"
    assert detect_format(write(tmp_path / "m.csv", "member_id,country,source\n1,GB,x\n")) == "tabular"
    assert detect_format(write(tmp_path / "x.csv", "a,b\n1,2\n")) is None
    assert detect_format(tmp_path / "notes.md") is None


def test_an_engagement_workbook_with_any_name_and_a_financials_workbook(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Films"
    sheet["B2"] = "Views from January to June 2025"
    sheet.append(["", "Title", "Hours Viewed"])
    sheet.append(["", "A Film", 1_000])
    book.save(tmp_path / "q.xlsx")
    [rows] = load_paths([tmp_path / "q.xlsx"])
    assert rows.table == "engagement" and rows.frame["kind"].tolist() == ["film"]

    book = Workbook()
    sheet = book.active
    sheet["C1"], sheet["C2"] = "March 31,", 2024
    sheet["A3"] = "Latin America (LATAM)"
    sheet["B4"], sheet["C4"] = "Paid memberships at end of period", 50_000
    book.save(tmp_path / "f.xlsx")
    [rows] = load_paths([tmp_path / "f.xlsx"])
    assert rows.table == "subscribers" and rows.frame["region"].tolist() == ["LATAM"]

    book = Workbook()
    book.active["A1"] = "hello"
    book.save(tmp_path / "other.xlsx")
    with pytest.raises(DataError, match=r"other\.xlsx: no sheet looks like a Netflix engagement report"):
        load_paths([tmp_path / "other.xlsx"])


def test_a_folder_skips_files_of_no_known_format_but_not_an_empty_result(tmp_path: Path) -> None:
    write(tmp_path / "mixed" / "members.csv", "member_id,country,source\n1,GB,crm\n")
    write(tmp_path / "mixed" / "arpu.csv", "Year,EMEA\n2020,11.05\n")
    batch = load_paths([tmp_path / "mixed"])
    assert [(r.table, len(r.frame)) for r in batch] == [("members", 1)]
    write(tmp_path / "junk" / "arpu.csv", "Year,EMEA\n2020,11.05\n")
    with pytest.raises(DataError, match="no file of a known format"):
        load_paths([tmp_path / "junk"])
    with pytest.raises(NotFoundError, match="does not exist"):
        load_paths([tmp_path / "nowhere"])


def _zip(path: Path, folder: str, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(f"{folder}/{name}", text)
    return path


def _point(monkeypatch: pytest.MonkeyPatch, name: str, url: str, md5: str | None = None) -> None:
    """Serve dataset `name` from `url`; `md5` pins the checksum (None: read `<url>.md5` as for a latest release)."""
    monkeypatch.setitem(datasets.DATASETS, name, replace(datasets.DATASETS[name], url=url, md5=md5))


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_fetch_downloads_extracts_and_then_uses_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = _zip(
        tmp_path / "ml-latest-small.zip",
        "ml-latest-small",
        {"ratings.csv": "userId,movieId,rating,timestamp\n1,1,4,0\n", "README.txt": "hi"},
    )
    # the publisher's checksum beside the zip, in GroupLens's layout
    write(tmp_path / "ml-latest-small.zip.md5", f"MD5 (ml-latest-small.zip) = {_md5(archive)}\n")
    _point(monkeypatch, "movielens-latest-small", archive.as_uri())
    cache = tmp_path / "cache"
    seen: list[int] = []
    folder = fetch_dataset(
        "movielens-latest-small", cache_dir=cache, progress=lambda done, total: seen.append(done)
    )
    assert folder == cache / "datasets" / "ml-latest-small"
    assert (folder / "ratings.csv").exists() and seen and seen[-1] == archive.stat().st_size
    assert [p.name for p in folder.parent.iterdir()] == ["ml-latest-small"]  # no temporary leftovers
    # Cached: the publisher is not asked again (its address now refuses connections).
    _point(monkeypatch, "movielens-latest-small", "http://127.0.0.1:9/ml-latest-small.zip")
    assert fetch_dataset("movielens-latest-small", cache_dir=cache) == folder


def test_offline_is_a_download_error_and_leaves_no_cache_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _point(monkeypatch, "movielens-100k", "http://127.0.0.1:9/ml-100k.zip", md5=datasets.DATASETS["movielens-100k"].md5)
    with pytest.raises(
        DownloadError, match=r"could not download http://127.0.0.1:9/ml-100k.zip .*check the network"
    ):
        fetch_dataset("movielens-100k", cache_dir=tmp_path)
    assert not (tmp_path / "datasets" / "ml-100k").exists()


def test_a_bad_or_unsafe_archive_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    not_zip = write(tmp_path / "x.zip", "<html>maintenance</html>")
    _point(monkeypatch, "movielens-1m", not_zip.as_uri(), md5=_md5(not_zip))
    with pytest.raises(DownloadError, match="is not a zip archive"):
        fetch_dataset("movielens-1m", cache_dir=tmp_path / "c")
    unsafe = _zip(tmp_path / "evil.zip", "..", {"ratings.dat": "1::1::5::0\n"})
    _point(monkeypatch, "movielens-1m", unsafe.as_uri(), md5=_md5(unsafe))
    with pytest.raises(DownloadError, match="unsafe path"):
        fetch_dataset("movielens-1m", cache_dir=tmp_path / "c")
    assert not (tmp_path / "ratings.dat").exists()


def test_a_download_that_does_not_match_the_publishers_checksum_is_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tampered or truncated zip used to be extracted, cached and never fetched again."""
    good = _zip(tmp_path / "ml-100k.zip", "ml-100k", {"u.data": "1\t1\t4\t0\n"})
    digest = _md5(good)
    tampered = _zip(tmp_path / "tampered.zip", "ml-100k", {"u.data": "1\t1\t1\t0\n"})
    _point(monkeypatch, "movielens-100k", tampered.as_uri(), md5=digest)
    with pytest.raises(DownloadError, match=f"does not match the publisher's checksum .*expected {digest}"):
        fetch_dataset("movielens-100k", cache_dir=tmp_path / "c")
    assert not (tmp_path / "c" / "datasets" / "ml-100k").exists()
    # a latest release: the checksum file beside the zip decides, and a missing one is a download error
    _point(monkeypatch, "movielens-latest-small", tampered.as_uri())
    with pytest.raises(DownloadError, match=r"could not download .*tampered.zip.md5"):
        fetch_dataset("movielens-latest-small", cache_dir=tmp_path / "c")
    write(tmp_path / "tampered.zip.md5", digest + "  ml-latest-small.zip\n")
    with pytest.raises(DownloadError, match="does not match the publisher's checksum"):
        fetch_dataset("movielens-latest-small", cache_dir=tmp_path / "c")
    assert datasets.DATASETS["movielens-100k"].md5 is not None  # the fixed releases are pinned in the code


def test_an_unknown_dataset_lists_the_known_ones() -> None:
    with pytest.raises(
        InputError, match="movielens-latest-small, movielens-100k, movielens-1m, movielens-25m"
    ):
        fetch_dataset("movielens-7m")


def test_a_folder_skips_an_unrelated_workbook(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = "budget"
    (tmp_path / "f").mkdir()
    book.save(tmp_path / "f" / "budget.xlsx")
    write(tmp_path / "f" / "members.csv", "member_id,source\n1,crm\n")
    assert [r.table for r in load_paths([tmp_path / "f"])] == ["members"]


def test_subfolders_are_searched(tmp_path: Path) -> None:
    write(tmp_path / "all" / "crm" / "members.csv", "member_id,source\n1,crm\n")
    write(tmp_path / "all" / "ml" / "ratings.csv", "userId,movieId,rating,timestamp\n1,1,4,0\n")
    write(tmp_path / "all" / "notes" / "x.csv", "a,b\n1,2\n")
    assert sorted(r.table for r in load_paths([tmp_path / "all"])) == ["members", "members", "ratings"]
