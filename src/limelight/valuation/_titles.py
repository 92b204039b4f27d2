"""What a title's name says before release: franchise, season, limited series, native language.

Netflix's engagement reports write a title as ``English: Season 2 // Native: 시즌 2``. The English part gives
the franchise (the text before the first ':'), the season number and whether it is a limited series;
the native part, when present, gives the script and, for Latin scripts, a rough language guess from the
words the reports use for "season" and from common function words. Everything here is vectorised over
a pandas Series of names.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["franchise_key", "language_of", "parse_titles"]

_SEASON = re.compile(r":\s*(?:Season|Series|Part|Volume|Chapter|Book|Collection)\s*(\d+)\b", re.I)
_LIMITED = re.compile(r":\s*Limited Series\b", re.I)
_INSTALLMENT = re.compile(
    r":\s*(?:Season|Series|Part|Volume|Chapter|Book|Collection|Limited Series)\b.*$", re.I
)
_TRAILING_NUMBER = re.compile(r"(?:\s+(?:\d+|II|III|IV|V|VI|Part \w+))+$", re.I)
_NON_WORD = re.compile(r"[^\w]+")

# Script ranges (first matching wins; kana decides Japanese before Han decides Chinese).
_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("ko", r"[\uac00-\ud7af\u1100-\u11ff]"),
    ("ja", r"[\u3040-\u30ff]"),
    ("zh", r"[\u4e00-\u9fff]"),
    ("th", r"[\u0e00-\u0e7f]"),
    ("ar", r"[\u0600-\u06ff]"),
    ("he", r"[\u0590-\u05ff]"),
    ("ru", r"[\u0400-\u04ff]"),
    ("el", r"[\u0370-\u03ff]"),
    ("hi", r"[\u0900-\u097f]"),
    ("ta", r"[\u0b80-\u0bff]"),
    ("te", r"[\u0c00-\u0c7f]"),
    ("in_other", r"[\u0980-\u0b7f\u0c80-\u0dff]"),
    ("vi", r"[ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđơư]"),
)

# Latin-script languages: the reports' words for "season"/"limited series", telling letters and suffixes,
# and common function words. Each hit scores a point; the best score wins (ties: the order below).
_LATIN: tuple[tuple[str, str], ...] = (
    ("fr", r"\b(?:saison|série limitée|le|les|des|du|et|une|sous|sur|dans|pour|au|aux)\b|[èêàç]|\b[ld]'"),
    (
        "es",
        r"\b(?:temporada|serie limitada|volumen|parte|el|los|las|del|y|una|que|con|por|para|mi|tu|de|la|sin|días)\b|[ñ¿¡]|(?:dad|ción)\b",
    ),
    ("pt", r"\b(?:minissérie|não|você|uma|do|da|dos|das|com|em)\b|[ãõ]|ção\b"),
    # Italian before German: "Miniserie" is both, and a tie goes to the earlier ("Il Gattopardo: Miniserie")
    ("it", r"\b(?:stagione|il|gli|della|di|che|una|nel|per)\b|zione\b"),
    ("de", r"\b(?:staffel|miniserie|der|die|das|und|ein|eine|nicht|im|mit|von)\b|[ßüö]"),
    ("tr", r"\b(?:sezon|mini dizi|koleksiyon|bir|ve)\b|[ğşı]"),
    ("pl", r"\b(?:serial limitowany|miniserial|nie|się)\b|[łąęśźż]"),
    ("nl", r"\b(?:seizoen|het|een|van|niet)\b"),
    ("nordic", r"\b(?:sæson|säsong|sesong|kausi|och|og)\b|[åæø]"),
    ("id", r"\b(?:musim|yang|dan|cinta|di)\b"),
)


def _script_language(native: str) -> str:
    for code, pattern in _SCRIPTS:
        if re.search(pattern, native):
            return code
    lowered = native.lower()
    best, best_score = "latin_other", 0
    for code, pattern in _LATIN:
        score = len(re.findall(pattern, lowered))
        if score > best_score:
            best, best_score = code, score
    return best


@lru_cache(maxsize=262_144)
def language_of(native: str | None) -> str:
    """A rough original language from a native title: 'en' when there is none."""
    if native is None or not isinstance(native, str) or not native.strip():
        return "en"
    return _script_language(native)


@lru_cache(maxsize=262_144)
def franchise_key(name: str) -> str:
    """Normalised franchise: the English title before ':' (or the whole title), sequel numbers dropped."""
    english = name.split(" // ", 1)[0]
    base = english.split(":", 1)[0] if ":" in english else _INSTALLMENT.sub("", english)
    base = _TRAILING_NUMBER.sub("", base.strip())
    base = unicodedata.normalize("NFKC", base).casefold()
    return _NON_WORD.sub(" ", base).strip()


@lru_cache(maxsize=262_144)
def _title_key(name: str) -> str:
    english = name.split(" // ", 1)[0]
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", english).casefold()).strip()


def parse_titles(names: pd.Series, *, keys_only: bool = False) -> pd.DataFrame:
    """One row per name: title_key, franchise, season_number, is_limited, has_installment, language.

    Parsed once per distinct name (the reports repeat titles across windows) and mapped back; the
    per-name parsers are memoised, so a history parsed once is cheap to parse again. `keys_only` gives
    just title_key, franchise and season_number.
    """
    names = names.fillna("").astype(str)
    codes, uniques = pd.factorize(names)
    unique = pd.Series(uniques, dtype="object")
    split = unique.str.split(" // ", n=1)
    english = split.str[0]
    native = split.str[1]
    season = english.str.extract(_SEASON, expand=False)
    if keys_only:
        parsed = pd.DataFrame(
            {
                "title_key": unique.map(_title_key),
                "franchise": unique.map(franchise_key),
                "season_number": pd.to_numeric(season, errors="coerce").astype("float64"),
            }
        )
        out = parsed.iloc[codes].reset_index(drop=True)
        out.index = names.index
        return out
    parsed = pd.DataFrame(
        {
            "title_key": unique.map(_title_key),
            "franchise": unique.map(franchise_key),
            "season_number": pd.to_numeric(season, errors="coerce").astype("float64"),
            "is_limited": english.str.contains(_LIMITED).astype("int8"),
            "has_installment": english.str.contains(_INSTALLMENT).astype("int8"),
            "has_subtitle": english.str.contains(":", regex=False).astype("int8"),
            "language": native.map(language_of),
            "title_words": english.map(lambda t: float(len(str(t).split()))),
        }
    )
    out = parsed.iloc[codes].reset_index(drop=True) if len(codes) else parsed.iloc[:0]
    out.index = names.index
    return out


_COMPANIONS = Path(__file__).with_name("data") / "companion_formats.csv"


@lru_cache(maxsize=1)
def _companion_pattern() -> re.Pattern[str]:
    """The words after a franchise that make a title a companion piece (`data/companion_formats.csv`)."""
    words = pd.read_csv(_COMPANIONS)["words"].astype(str).str.strip()
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words if w) + r")\b")


def linked_franchise(parts: pd.DataFrame, kind: pd.Series) -> pd.Series:
    """The franchise a title may draw history from: none for a film whose name carries no installment
    (no number, no ": subtitle", no season) — a sequel says so, a same-name film is another film. The
    2024 "Spellbound" was linked to the 2011 Korean "Spellbound // 오싹한 연애", "Maria" (2024) to the
    2019 Filipino "Maria". Earlier films keep their franchise, so "Extraction 2" still finds "Extraction".

    Nor for a companion piece named after its franchise (`data/companion_formats.csv`): "Squid Game:
    Fireplace", an hour of crackling logs, was forecast from Squid Game's seasons at 14.7M hours (it
    drew 0.3M) and took them as its comparables."""
    film = kind.reset_index(drop=True).set_axis(parts.index).eq("film")
    unmarked = parts["franchise"].eq(parts["title_key"])
    rest = pd.Series(
        [key[len(f):] if key.startswith(f) else key for key, f in zip(parts["title_key"], parts["franchise"], strict=True)],
        index=parts.index, dtype="object",
    )
    companion = rest.str.contains(_companion_pattern())
    return parts["franchise"].where(~(film & unmarked) & ~companion, "")


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))
