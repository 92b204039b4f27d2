"""Match published engagement names ("The Crown: Season 5 // …") to catalog titles.

Engagement reports name titles; the catalog has ids. Matching is conservative, because a wrong link is
worse than none (valuation and reports read `title_id` as a fact):

1. **exact**: the normalised name equals a catalog title's normalised name, of a compatible kind (a
   report's film → a catalog film; a show → a series, or its season when the catalog holds season rows;
   unknown kind → either). A show's name loses its installment suffix first ("Wednesday: Season 1" →
   "wednesday", season 1). A film whose release year is known on both sides and differs by more than one
   is another film. When several catalog titles share the name, the one whose year is within one of the
   report's wins; then the only one from a Netflix source; otherwise the row stays unmatched (ambiguous).
   Confidence 1.0 when the years confirm it, `EXACT_UNCONFIRMED_SCORE` when one side has no year.
2. **fuzzy**, only for names with no exact candidate at all, and only when *confirmed*: the report gives
   the kind and both sides give release years within one. Two ways: the same letters with other spacing
   ("Pui Pui Molcar"/"PUIPUI MOLCAR", confidence `SPACING_SCORE`), or one letter apart in a name of at
   least `NEAR_MIN_LENGTH` characters with the same numbers ("Life in Colour …"/"Life in Color …";
   confidence = DuckDB's `jaro_winkler_similarity`, at least `FUZZY_MIN_SCORE`, and `FUZZY_MARGIN` above
   the runner-up). Unconfirmed look-alikes were mostly other titles on the real reports ("Perfect
   Strangers" → the 2007 "Perfect Stranger", "Blood Line" → "Bloodline"), hence the confirmation.
   (rapidfuzz is not installed here; DuckDB's string functions do the scoring.)

Normalised: the English part before " // ", accents folded, lower case, "&" → "and", a MovieLens-style
trailing "(1995)" taken as the year, punctuation → spaces, spaces collapsed. Vectorised over the frames
(pandas string kernels and DuckDB); no Python loop per name.
"""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pandas as pd

__all__ = [
    "EXACT_UNCONFIRMED_SCORE",
    "FUZZY_MARGIN",
    "FUZZY_MIN_SCORE",
    "NEAR_MIN_LENGTH",
    "SPACING_SCORE",
    "link_engagement_titles",
    "match_titles",
    "normalise_names",
]

log = logging.getLogger(__name__)

EXACT_UNCONFIRMED_SCORE = 0.9  # the same name, but no release year on one side to confirm it
SPACING_SCORE = 0.97  # the same letters with other spacing or punctuation
NEAR_MIN_LENGTH = 15  # one letter apart only counts in names at least this long
FUZZY_MIN_SCORE = 0.95
FUZZY_MARGIN = 0.02
# Numbers in a name, Arabic or Roman ("Part II"): a sequel is another title.
_NUMBERS = "regexp_extract_all(name, '\\b(\\d+|ii|iii|iv|vi|vii|viii|ix)\\b')"

# RE2 patterns (DuckDB's regex engine): an installment suffix, a MovieLens-style trailing year.
_INSTALLMENT = (
    r"(?i)\s*:\s*(?:(?:season|series|part|volume|vol\.?|chapter|book|collection)\s*(\d+)|limited series)\b.*$"
)
_TRAILING_YEAR = r"\s*\((\d{4})\)\s*$"


def _normalise_sql(expr: str) -> str:
    """SQL for the comparable form of a name: accents folded, lower case, '&' → 'and', punctuation → spaces."""
    text = f"lower(strip_accents({expr}))"
    text = f"replace(regexp_replace({text}, '[’''`]', '', 'g'), '&', ' and ')"
    text = f"regexp_replace({text}, '[^\\p{{L}}\\p{{N}}]+', ' ', 'g')"
    return f"trim({text})"


def normalise_names(names: pd.Series) -> pd.Series:
    """Comparable form of title names (see the module doc); NA stays NA."""
    frame = pd.DataFrame({"name": names.astype("string").to_numpy()})
    with duckdb.connect() as con:
        con.register("names_in", frame)
        english = _normalise_sql("split_part(name, ' // ', 1)")
        out = con.execute(f"SELECT {english} AS n FROM names_in").df()
    return pd.Series(out["n"].to_numpy(), index=names.index, dtype="string")


def _release_years(frame: pd.DataFrame) -> pd.Series:
    if "release_date" not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="Int64")
    return pd.to_datetime(frame["release_date"], errors="coerce").dt.year.astype("Int64")


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        return frame[name].astype("string")
    return pd.Series(pd.NA, index=frame.index, dtype="string")


def _reports_side(con: duckdb.DuckDBPyConnection, names: pd.DataFrame) -> None:
    """Register `r_in`: row, name (without installment and year), kind ('show' for installments), season, year."""
    raw = pd.DataFrame(
        {
            "row": np.arange(len(names), dtype=np.int64),
            "title_name": names["title_name"].astype("string").to_numpy(),
            "kind": _column(names, "kind").to_numpy(),
            "year": _release_years(names).to_numpy(),
        }
    )
    con.register("r_raw", raw)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE r_in AS
        WITH b AS (SELECT row, kind, year, trim(split_part(title_name, ' // ', 1)) AS english FROM r_raw),
        s AS (SELECT *, regexp_matches(english, '{_INSTALLMENT}') AND coalesce(kind, 'show') = 'show' AS is_show
              FROM b),
        t AS (SELECT row, kind, year, is_show,
                     CASE WHEN is_show THEN regexp_extract(english, '{_INSTALLMENT}', 1) END AS season_text,
                     CASE WHEN is_show THEN regexp_replace(english, '{_INSTALLMENT}', '') ELSE english END AS base
              FROM s)
        SELECT row,
               {_normalise_sql(f"regexp_replace(base, '{_TRAILING_YEAR}', '')")} AS name,
               CASE WHEN is_show THEN 'show' ELSE kind END AS kind,
               TRY_CAST(nullif(season_text, '') AS INTEGER) AS season,
               coalesce(year, TRY_CAST(nullif(regexp_extract(base, '{_TRAILING_YEAR}', 1), '') AS INTEGER)) AS year
        FROM t
        """
    )
    con.unregister("r_raw")


def _catalog_side(con: duckdb.DuckDBPyConnection, catalog: pd.DataFrame) -> None:
    """Register `c_in`: title_id, name, kind, year, netflix (from a Netflix source)."""
    raw = pd.DataFrame(
        {
            "title_id": catalog["title_id"].astype("string").to_numpy(),
            "name": catalog["name"].astype("string").to_numpy(),
            "kind": catalog["kind"].astype("string").to_numpy(),
            "year": _release_years(catalog).to_numpy(),
            "source": _column(catalog, "source").to_numpy(),
        }
    )
    con.register("c_raw", raw)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE c_in AS
        SELECT title_id, {_normalise_sql(f"regexp_replace(name, '{_TRAILING_YEAR}', '')")} AS name, kind,
               coalesce(year, TRY_CAST(nullif(regexp_extract(name, '{_TRAILING_YEAR}', 1), '') AS INTEGER)) AS year,
               coalesce(starts_with(lower(source), 'netflix'), false) AS netflix
        FROM c_raw
        """
    )
    con.unregister("c_raw")


# A film whose release year is known on both sides and differs by more than one is another film
# ('True Grit (2010)' is not the 1969 'True Grit'). Series are not held to it: the catalog's year for a
# series is its latest season's, the report's is the season's own.
_DIFFERENT_YEARS = "coalesce(c.kind = 'film' AND abs(r.year - c.year) > 1, false)"

# A fuzzy candidate must be confirmed: the report gives the kind, and both sides give release years
# within one of each other (without it, 'Perfect Strangers' found the 2007 'Perfect Stranger').
_CONFIRMED = "(r.kind IS NOT NULL AND abs(r.year - c.year) <= 1)"

_COMPATIBLE = """(
    (r.kind = 'film' AND c.kind = 'film')
    OR (r.kind = 'show' AND c.kind = 'series')
    OR (r.kind IS NULL AND c.kind IN ('film', 'series'))
)"""


def match_titles(names: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    """For each row of `names` (title_name, and kind/release_date when known), the catalog title it names.

    `catalog` has title_id, name, kind (and release_date, source, parent_id, season_number when known).
    Returns a frame on `names`' index with `title_id`, `title_match` ('exact' or 'fuzzy') and
    `title_match_score` (1.0 for exact, the similarity for fuzzy), all NA where nothing matched.
    """
    out = pd.DataFrame(
        {
            "title_id": pd.Series(pd.NA, index=names.index, dtype="string"),
            "title_match": pd.Series(pd.NA, index=names.index, dtype="string"),
            "title_match_score": pd.Series(np.nan, index=names.index, dtype="float64"),
        }
    )
    if names.empty or catalog.empty:
        return out
    seasons = catalog[catalog["kind"].astype("string") == "season"] if "parent_id" in catalog else catalog.iloc[:0]
    with duckdb.connect() as con:
        _reports_side(con, names)
        _catalog_side(con, catalog)
        reports = con.execute("SELECT row, season FROM r_in ORDER BY row").df()
        exact = con.execute(
            f"""
            WITH cand AS (
                SELECT r.row, c.title_id, c.netflix,
                       coalesce(abs(r.year - c.year) <= 1, false) AS same_year
                FROM r_in r JOIN c_in c ON r.name = c.name AND {_COMPATIBLE}
                WHERE r.name <> '' AND NOT {_DIFFERENT_YEARS}
            ),
            ranked AS (
                SELECT row, title_id, same_year,
                       count(*) OVER (PARTITION BY row) AS n,
                       count(*) FILTER (WHERE same_year) OVER (PARTITION BY row) AS n_year,
                       count(*) FILTER (WHERE same_year AND netflix) OVER (PARTITION BY row) AS n_year_nf,
                       count(*) FILTER (WHERE netflix) OVER (PARTITION BY row) AS n_nf,
                       netflix
                FROM cand
            )
            SELECT row, title_id, CASE WHEN same_year THEN 1.0 ELSE {EXACT_UNCONFIRMED_SCORE} END AS score
            FROM ranked
            WHERE n = 1
               OR (n_year = 1 AND same_year)
               OR (n_year > 1 AND n_year_nf = 1 AND same_year AND netflix)
               OR (n_year = 0 AND n_nf = 1 AND netflix)
            """
        ).df()
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE r_rest AS
            SELECT * FROM r_in r WHERE length(r.name) >= 4 AND NOT EXISTS (
                SELECT 1 FROM c_in c WHERE r.name = c.name AND {_COMPATIBLE} AND NOT {_DIFFERENT_YEARS})
            """
        )
        fuzzy = con.execute(
            f"""
            WITH rk AS (SELECT *, replace(name, ' ', '') AS compact, {_NUMBERS} AS numbers FROM r_rest),
            ck AS (SELECT *, replace(name, ' ', '') AS compact, {_NUMBERS} AS numbers FROM c_in
                   WHERE length(name) >= 4),
            spaced AS (  -- 'spider man' and 'spiderman': the same letters, other spacing
                SELECT r.row, c.title_id, {SPACING_SCORE} AS score
                FROM rk r JOIN ck c ON r.compact = c.compact AND {_COMPATIBLE}
                WHERE {_CONFIRMED}
            ),
            near AS (  -- one letter apart in a long name ('colour'/'color'), never a number apart
                SELECT r.row, c.title_id, jaro_winkler_similarity(r.name, c.name) AS score
                FROM rk r JOIN ck c ON left(r.compact, 4) = left(c.compact, 4) AND {_COMPATIBLE}
                WHERE r.numbers = c.numbers AND length(r.name) >= {NEAR_MIN_LENGTH}
                  AND abs(length(r.name) - length(c.name)) <= 1
                  AND levenshtein(r.name, c.name) <= 1
                  AND {_CONFIRMED}
            ),
            cand AS (SELECT * FROM spaced UNION ALL SELECT * FROM near),
            best AS (SELECT row, title_id, max(score) AS score FROM cand GROUP BY ALL),
            ranked AS (
                SELECT row, title_id, score,
                       row_number() OVER (PARTITION BY row ORDER BY score DESC, title_id) AS place,
                       lead(score) OVER (PARTITION BY row ORDER BY score DESC, title_id) AS runner_up
                FROM best
            )
            SELECT row, title_id, score FROM ranked
            WHERE place = 1 AND score >= {FUZZY_MIN_SCORE}
              AND (runner_up IS NULL OR score - runner_up >= {FUZZY_MARGIN})
            """
        ).df()
    index = names.index.to_numpy()
    if len(exact):
        at = index[exact["row"].to_numpy()]
        out.loc[at, "title_id"] = exact["title_id"].to_numpy()
        out.loc[at, "title_match"] = "exact"
        out.loc[at, "title_match_score"] = exact["score"].astype("float64").to_numpy()
    if len(fuzzy):
        at = index[fuzzy["row"].to_numpy()]
        out.loc[at, "title_id"] = fuzzy["title_id"].to_numpy()
        out.loc[at, "title_match"] = "fuzzy"
        out.loc[at, "title_match_score"] = fuzzy["score"].round(4).to_numpy()
    if len(seasons):
        _to_seasons(out, reports, seasons)
    return out


def _to_seasons(out: pd.DataFrame, reports: pd.DataFrame, seasons: pd.DataFrame) -> None:
    """Where the catalog holds season rows, a show's installment points at its season, not the series."""
    by_parent = seasons.dropna(subset=["parent_id", "season_number"])
    lookup = {
        (str(p), int(n)): str(t)
        for p, n, t in zip(by_parent["parent_id"], by_parent["season_number"], by_parent["title_id"], strict=True)
    }
    season = pd.Series(reports["season"].to_numpy(), index=out.index)
    has = out["title_id"].notna() & season.notna()
    if not has.any():
        return
    keys = zip(out.loc[has, "title_id"].astype(str), season[has].astype(int), strict=True)
    found = pd.Series([lookup.get(k) for k in keys], index=out.index[has], dtype="string")
    found = found.dropna()
    out.loc[found.index, "title_id"] = found.to_numpy()


def link_engagement_titles(con: duckdb.DuckDBPyConnection) -> int:
    """Set `title_id`, `title_match`, `title_match_score` on the store's unmatched engagement rows.

    Runs on the caller's connection (inside its transaction when there is one); rows already matched
    keep their link, rows with no match keep NULLs. Returns how many rows were newly matched.
    """
    catalog = con.execute(
        "SELECT title_id, name, kind, release_date, source, parent_id, season_number FROM titles "
        "WHERE kind IN ('film', 'series', 'season')"
    ).df()
    if catalog.empty:
        return 0
    names = con.execute(
        "SELECT source, sheet, row_number, title_name, kind, release_date FROM engagement WHERE title_id IS NULL"
    ).df()
    if names.empty:
        return 0
    matched = match_titles(names, catalog)
    hits = names.join(matched)[matched["title_id"].notna()]
    if hits.empty:
        return 0
    con.register("_title_links", hits[["source", "sheet", "row_number", "title_id", "title_match", "title_match_score"]])
    try:
        con.execute(
            """
            UPDATE engagement e SET title_id = l.title_id, title_match = l.title_match,
                                    title_match_score = l.title_match_score
            FROM _title_links l
            WHERE e.source = l.source AND e.sheet = l.sheet AND e.row_number = l.row_number
            """
        )
    finally:
        con.unregister("_title_links")
    log.info("linked %d engagement rows to catalog titles", len(hits))
    return len(hits)
