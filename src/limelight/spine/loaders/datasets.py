"""Public datasets fetched from their publishers on demand and cached under `Settings.cache_dir`.

Only MovieLens is downloadable (GroupLens publishes zips at files.grouplens.org; research use,
cite Harper & Konstan 2015). A dataset already in the cache is never fetched again. No network →
`DownloadError` with one sentence saying what to do instead.

Every download is checked against the publisher's MD5 before anything is cached: pinned for the fixed
releases (100k, 1M, 25M: the checksums GroupLens publishes beside each zip), read from `<zip>.md5` for
ml-latest-small, which GroupLens regenerates now and then. A truncated or altered download is refused.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from limelight.errors import DownloadError, InputError
from limelight.settings import get_settings

__all__ = ["DATASETS", "Dataset", "dataset_path", "fetch_dataset"]

log = logging.getLogger(__name__)

_GROUPLENS = "https://files.grouplens.org/datasets/movielens"


@dataclass(frozen=True)
class Dataset:
    name: str
    url: str
    folder: str  # the folder the zip extracts to
    marker: str  # a file that exists once extraction finished
    licence: str
    md5: str | None = None  # the publisher's checksum of a fixed release; None: read it from `<url>.md5`


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset("movielens-latest-small", f"{_GROUPLENS}/ml-latest-small.zip", "ml-latest-small", "ratings.csv",
                "GroupLens research licence (non-commercial); cite Harper & Konstan 2015"),
        Dataset("movielens-100k", f"{_GROUPLENS}/ml-100k.zip", "ml-100k", "u.data",
                "GroupLens research licence (non-commercial); cite Harper & Konstan 2015",
                "0e33842e24a9c977be4e0107933c0723"),
        Dataset("movielens-1m", f"{_GROUPLENS}/ml-1m.zip", "ml-1m", "ratings.dat",
                "GroupLens research licence (non-commercial); cite Harper & Konstan 2015",
                "c4d9eecfca2ab87c1945afe126590906"),
        Dataset("movielens-25m", f"{_GROUPLENS}/ml-25m.zip", "ml-25m", "ratings.csv",
                "GroupLens research licence (non-commercial); cite Harper & Konstan 2015",
                "6b51fb2759a8657d3bfcbfc42b592ada"),
    )
}  # fmt: skip


def _dataset(name: str) -> Dataset:
    if name not in DATASETS:
        raise InputError(f"--dataset must be one of {', '.join(DATASETS)}, got '{name}'")
    return DATASETS[name]


def dataset_path(name: str, cache_dir: Path | None = None) -> Path:
    """Where `name` lives once fetched (whether or not it is there yet)."""
    data = _dataset(name)
    return Path(cache_dir or get_settings().cache_dir) / "datasets" / data.folder


def _download(url: str, target: Path, progress: Callable[[int, int | None], None] | None) -> str:
    """Stream `url` into `target`; returns the MD5 of what was written."""
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with urllib.request.urlopen(url, timeout=30) as response, target.open("wb") as out:
            total = response.headers.get("Content-Length")
            size = int(total) if total and total.isdigit() else None
            done = 0
            while chunk := response.read(1 << 20):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, size)
    except (urllib.error.URLError, OSError, TimeoutError, ValueError) as exc:
        raise _network_error(url, exc) from None
    return digest.hexdigest()


def _network_error(url: str, exc: BaseException) -> DownloadError:
    reason = getattr(exc, "reason", None) or exc
    return DownloadError(
        f"could not download {url} ({reason}); check the network connection, or download the zip "
        f"yourself, unzip it and run 'limelight ingest FOLDER'"
    )


def _published_md5(data: Dataset) -> str:
    """The checksum the publisher states for the archive: pinned, or its `<zip>.md5` file (which reads
    `MD5 (ml-latest-small.zip) = <hex>` or just the hex)."""
    if data.md5 is not None:
        return data.md5
    url = f"{data.url}.md5"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            text = response.read(4096).decode("ascii", errors="replace")
    except (urllib.error.URLError, OSError, TimeoutError, ValueError) as exc:
        raise _network_error(url, exc) from None
    found = re.search(r"\b[0-9a-fA-F]{32}\b", text)
    if found is None:
        raise DownloadError(f"the publisher's checksum file {url} holds no MD5; try again later")
    return found.group(0).lower()


def _extract(archive: Path, into: Path, url: str) -> None:
    try:
        with zipfile.ZipFile(archive) as book:
            for member in book.namelist():
                # Refuse absolute paths and '..' (zip-slip) before extracting anything.
                if member.startswith(("/", "\\")) or ".." in Path(member).parts:
                    raise DownloadError(f"the archive from {url} holds an unsafe path '{member}'")
            book.extractall(into)
    except zipfile.BadZipFile:
        raise DownloadError(f"the file from {url} is not a zip archive; try again later") from None


def fetch_dataset(
    name: str,
    *,
    cache_dir: Path | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """The folder of a public dataset, downloaded from its publisher and extracted on first use."""
    data = _dataset(name)
    target = dataset_path(name, cache_dir)
    if (target / data.marker).exists():
        log.info("using cached %s at %s", name, target)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("downloading %s from %s (%s)", name, data.url, data.licence)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{data.folder}-") as tmp:
        archive = Path(tmp) / "download.zip"
        expected = _published_md5(data)
        got = _download(data.url, archive, progress)
        if got != expected:
            raise DownloadError(
                f"the file from {data.url} does not match the publisher's checksum (MD5 {got}, expected "
                f"{expected}): the download was cut short or altered; nothing was cached, try again"
            )
        unpacked = Path(tmp) / "unpacked"
        _extract(archive, unpacked, data.url)
        found = [p.parent for p in unpacked.rglob(data.marker)]
        if not found:
            raise DownloadError(
                f"the archive from {data.url} has no {data.marker}; the publisher's layout changed"
            )
        if target.exists():
            shutil.rmtree(target)  # a half-finished earlier attempt
        found[0].rename(target)  # same file system: atomic, so a cache entry is whole or absent
    return target
