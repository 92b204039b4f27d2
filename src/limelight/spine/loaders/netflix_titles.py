"""The Netflix titles catalog (`netflix_titles.csv`, Kaggle, 2021) → titles, people and credits.

Columns: show_id, type, title, director, cast, country, date_added, release_year, rating, duration,
listed_in, description (CRLF line endings; a few descriptions hold line breaks, which keep row
numbers exact through `read_delimited`).

Mapping and assumptions (the catalog says less than the spine can hold):

- `type`: Movie → film, TV Show → series; `title_id` is `show_id` ('s1'); source 'netflix_titles';
- `genres` from `listed_in` (comma-separated Netflix categories, kept as written);
- `country_of_origin` is the first listed country as an ISO-3166 alpha-2 code (name kept when unknown);
- `maturity_rating` from `rating`; three rows carry the runtime there ('74 min') with `duration`
  empty, and are read as a runtime with no rating;
- `release_date` is 1 January of `release_year` (the catalog gives only the year);
- `runtime_minutes` from '90 min'; a series' 'N Seasons' is not a runtime and stays NULL;
- people have no ids in the catalog: a person's id is their name as written, so two people with one
  name are one person, as in the source;
- credits: each director → 'director'; each cast member → 'performer' with `credit_order` their
  place in the list (1 = first); the first three cast members are billed 'principal' and the rest
  have NULL billing (the catalog does not say who is background; position is a proxy, not a fact).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from limelight.errors import DataError
from limelight.spine.loaders._common import blank_mask, make_rows, read_delimited, require_columns
from limelight.spine.loaders.countries import country_codes
from limelight.spine.validate import Rows

__all__ = ["CATALOG_COLUMNS", "PRINCIPAL_CAST", "is_netflix_titles", "read_netflix_titles"]

SOURCE = "netflix_titles"
CATALOG_COLUMNS = ("show_id", "type", "title", "director", "cast", "country", "release_year", "listed_in")
PRINCIPAL_CAST = 3
_KINDS = {"movie": "film", "tv show": "series"}


def is_netflix_titles(columns: set[str]) -> bool:
    return {"show_id", "type", "title", "listed_in"} <= columns


def _split(values: pd.Series) -> pd.Series:
    """'a, b ,c' → ['a', 'b', 'c']; blank → NA."""
    text = values.astype("string").str.strip(" ,")
    return text.str.split(r"\s*,[\s,]*", regex=True).where(~blank_mask(text))


def _people_credits(
    frame: pd.DataFrame, column: str, role: str, origin: str
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    names = pd.DataFrame(
        {
            "title_id": frame["show_id"].to_numpy(),
            "name": _split(frame[column]).to_numpy(),
            "line": frame.index.to_numpy(),
        }
    )
    long = names.explode("name", ignore_index=True)
    long = long[long["name"].notna() & (long["name"].astype("string").str.len() > 0)]
    long = long.assign(name=long["name"].astype("string").str.strip())
    long["credit_order"] = long.groupby("title_id", sort=False).cumcount() + 1
    long = long.drop_duplicates(["title_id", "name"], keep="first")
    credits = pd.DataFrame(
        {
            "title_id": long["title_id"].to_numpy(),
            "person_id": long["name"].to_numpy(),
            "role": role,
            "credit_order": long["credit_order"].to_numpy(),
        }
    )
    if role == "performer":
        principal = credits["credit_order"].to_numpy() <= PRINCIPAL_CAST
        credits["billing"] = pd.Series("principal", index=credits.index, dtype=object).where(principal, None)
    return long, credits, long["line"].to_numpy()


def read_netflix_titles(path: str | Path) -> list[Rows]:
    """Titles, people and credits from the catalog CSV."""
    path = Path(path)
    frame = read_delimited(path)
    require_columns(frame, ("show_id", "type", "title"), path.name)
    for optional in (*CATALOG_COLUMNS, "rating", "duration"):
        if optional not in frame.columns:
            frame[optional] = pd.NA
    lines = frame.index.to_numpy()

    kind_text = frame["type"].astype("string").str.strip().str.lower()
    kind = kind_text.map(_KINDS, na_action="ignore")
    kind = kind.where(kind.notna(), frame["type"])  # unknown words reach the validator, which names them
    rating = frame["rating"].astype("string").str.strip()
    duration = frame["duration"].astype("string").str.strip()
    misplaced = rating.str.fullmatch(r"\d+\s*min").fillna(False) & blank_mask(duration)
    duration = duration.where(~misplaced, rating)
    rating = rating.where(~misplaced)
    # "90 min" for films, "2 Seasons" for shows; anything else is a typo, not a missing runtime
    readable = (
        np.asarray(blank_mask(duration), dtype=bool)
        | duration.str.fullmatch(r"\d+(?:\.\d+)?\s*min", case=False).fillna(False).to_numpy(dtype=bool)
        | duration.str.fullmatch(r"\d+\s+seasons?", case=False).fillna(False).to_numpy(dtype=bool)
    )
    if not readable.all():
        bad = int(np.flatnonzero(~readable)[0])
        raise DataError(f"'{duration.iloc[bad]}' is not a duration (e.g. '90 min' or '2 Seasons')",
                        origin=path.name, row=int(lines[bad]), column="duration")
    minutes = pd.to_numeric(duration.str.extract(r"^(\d+(?:\.\d+)?)\s*min", expand=False, flags=re.IGNORECASE),
                            errors="coerce")
    first_country = _split(frame["country"]).str[0]
    country = country_codes(first_country).fillna(first_country.astype("string"))
    year = frame["release_year"].astype("string").str.strip()
    titles = pd.DataFrame(
        {
            "title_id": frame["show_id"].to_numpy(),
            "name": frame["title"].to_numpy(),
            "kind": kind.to_numpy(),
            "runtime_minutes": minutes.to_numpy(),
            # 'YYYY' → 1 January; anything else reaches the validator as written, which names the row.
            "release_date": year.where(
                ~year.str.fullmatch(r"\d{4}").fillna(False), year + "-01-01"
            ).to_numpy(),
            "genres": _split(frame["listed_in"]).to_numpy(),
            "country_of_origin": country.to_numpy(),
            "maturity_rating": rating.to_numpy(),
            "source": SOURCE,
        }
    )
    title_columns = {
        "title_id": "show_id", "name": "title", "kind": "type", "runtime_minutes": "duration",
        "release_date": "release_year", "genres": "listed_in", "country_of_origin": "country",
        "maturity_rating": "rating",
    }  # fmt: skip
    out = [make_rows("titles", titles, path.name, lines, title_columns)]

    directors, director_credits, director_lines = _people_credits(frame, "director", "director", path.name)
    cast, cast_credits, cast_lines = _people_credits(frame, "cast", "performer", path.name)
    everyone = pd.concat(
        [directors[["name", "line"]].assign(column="director"), cast[["name", "line"]].assign(column="cast")],
        ignore_index=True,
    ).drop_duplicates("name", keep="first")
    people = pd.DataFrame(
        {"person_id": everyone["name"].to_numpy(), "name": everyone["name"].to_numpy(), "source": SOURCE}
    )
    out.append(make_rows("people", people, path.name, everyone["line"].to_numpy(), {"name": "director/cast"}))
    out.append(make_rows("credits", director_credits, path.name, director_lines, {"person_id": "director"}))
    out.append(make_rows("credits", cast_credits, path.name, cast_lines, {"person_id": "cast"}))
    return out
