"""Country names and ISO-3166 alpha-2 codes, from the data file `countries.csv` beside this module."""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

import pandas as pd

__all__ = ["country_code", "country_codes", "country_lookup"]

_GLOBAL_WORDS = ("global", "worldwide", "world", "all countries")


@lru_cache(maxsize=1)
def country_lookup() -> dict[str, str]:
    """Lower-cased name, alias or code → ISO-3166 alpha-2 code ('global' for worldwide)."""
    text = resources.files("limelight.spine.loaders").joinpath("countries.csv").read_text(encoding="utf-8")
    lookup: dict[str, str] = {word: "global" for word in _GLOBAL_WORDS}
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    for row in rows:
        code = row["iso2"].strip().upper()
        for name in [code, row["name"], *row["aliases"].split("|")]:
            if name.strip():
                lookup.setdefault(name.strip().lower(), code)
    return lookup


def country_code(value: str) -> str | None:
    """'United Kingdom' / 'gb' / 'Britain (UK)' → 'GB'; None when unknown."""
    return country_lookup().get(value.strip().lower())


def country_codes(values: pd.Series) -> pd.Series:
    """Vectorised `country_code`: unknown or blank → NA (the caller decides whether that is an error)."""
    text = values.astype("string").str.strip().str.lower()
    return text.map(country_lookup(), na_action="ignore").astype("string")
