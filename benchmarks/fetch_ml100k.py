"""MovieLens 100k from the Python package index, for machines that reach PyPI but not grouplens.org.

    .venv/bin/python benchmarks/fetch_ml100k.py            # -> benchmarks/.cache/ml-100k/{u.data,u.item,u.user}

RecBole (https://github.com/RUCAIBox/RecBole, MIT) ships ML-100k in its wheel as "atomic files"
(`recbole/dataset_example/ml-100k/ml-100k.{inter,item,user}`) for its quick start. This script
downloads that one wheel with pip (no dependencies, nothing installed), and writes the GroupLens
ml-100k layout that `limelight ingest` and `benchmarks/accuracy.py --ratings` read:

- `u.data`: the 100,000 ratings exactly as GroupLens publishes them (user, item, rating, timestamp,
  tab-separated) — RecBole keeps every row and every field, in the original order;
- `u.item`: rebuilt from RecBole's item file: title with its year, release date as 1 January of that
  year (GroupLens gives a full date; RecBole keeps only the year), no IMDb URL, the 19 genre flags;
- `u.user`: age, gender, occupation and zip code as published.

The ratings are checked against the published totals (100,000 ratings, 943 members, 1,682 titles,
mean rating 3.52986). MovieLens data are © GroupLens, University of Minnesota, for research use under
their licence (https://files.grouplens.org/datasets/movielens/ml-100k-README.txt); they are cached
under benchmarks/.cache (git-ignored) and never committed. Where grouplens.org is reachable, prefer
`limelight ingest --dataset movielens-100k`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / ".cache" / "ml-100k"
RECBOLE = "recbole==1.2.1"
MEMBER = "recbole/dataset_example/ml-100k/ml-100k.{}"
GENRES = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
          "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
          "War", "Western"]
PUBLISHED = {"ratings": 100_000, "members": 943, "titles": 1_682, "mean_rating": 3.52986}


def _download_wheel(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q",
                    "-d", str(folder), RECBOLE], check=True)
    return next(folder.glob("recbole-*.whl"))


def _atomic(wheel: zipfile.ZipFile, suffix: str) -> pd.DataFrame:
    with wheel.open(MEMBER.format(suffix)) as handle:
        frame = pd.read_csv(handle, sep="\t", dtype=str, keep_default_na=False)
    frame.columns = [c.split(":")[0] for c in frame.columns]
    return frame


def write_layout(wheel_path: Path, out: Path) -> dict[str, float]:
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel_path) as wheel:
        inter, item, user = (_atomic(wheel, s) for s in ("inter", "item", "user"))
    inter[["user_id", "item_id", "rating", "timestamp"]].to_csv(out / "u.data", sep="\t", header=False, index=False)

    # Item 267 has no date in GroupLens' file; RecBole writes the placeholder "unkonwn" there.
    year = item["release_year"].where(item["release_year"].str.fullmatch(r"\d{4}"), None)
    name = item["movie_title"].replace("unkonwn", "unknown")
    title = name.where(year.isna(), name + " (" + year.fillna("") + ")")
    rows = pd.DataFrame({
        "id": item["item_id"], "title": title,
        "release": ("01-Jan-" + year).fillna(""), "video": "", "url": "",
    })
    classes = item["class"].str.split(" ")
    for genre in GENRES:
        rows[genre] = classes.map(lambda names, g=genre: int(g in names)).astype(int)
    # GroupLens' u.item is latin-1; RecBole's file is UTF-8 of the same names.
    (out / "u.item").write_bytes(rows.to_csv(sep="|", header=False, index=False).encode("latin-1", "replace"))
    user[["user_id", "age", "gender", "occupation", "zip_code"]].to_csv(out / "u.user", sep="|", header=False,
                                                                        index=False)
    ratings = inter["rating"].astype(float)
    found = {"ratings": len(inter), "members": inter["user_id"].nunique(), "titles": inter["item_id"].nunique(),
             "mean_rating": round(float(ratings.mean()), 5)}
    if found != PUBLISHED:
        raise SystemExit(f"{wheel_path.name}: ML-100k does not match the published totals: {found} != {PUBLISHED}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        found = write_layout(_download_wheel(Path(tmp)), args.out)
    print(f"{args.out}: {found['ratings']:,} ratings, {found['members']} members, {found['titles']:,} titles, "
          f"mean rating {found['mean_rating']} (matches GroupLens' published totals)")


if __name__ == "__main__":
    main()
