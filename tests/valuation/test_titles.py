"""What a title's name says: franchise, season, limited series, language."""

from __future__ import annotations

import pandas as pd
import pytest

from limelight.valuation._titles import franchise_key, language_of, parse_titles


def test_parse_titles_reads_season_franchise_and_limited_series() -> None:
    names = pd.Series(
        [
            "Squid Game: Season 2 // 오징어 게임: 시즌 2",
            "Baby Reindeer: Limited Series",
            "Leave the World Behind",
            "Lupin: Part 3",
        ]
    )
    parts = parse_titles(names)
    assert parts["franchise"].tolist() == ["squid game", "baby reindeer", "leave the world behind", "lupin"]
    assert parts["season_number"].iloc[0] == 2
    assert parts["season_number"].iloc[3] == 3
    assert pd.isna(parts["season_number"].iloc[2])
    assert parts["is_limited"].tolist() == [0, 1, 0, 0]
    assert parts["has_installment"].tolist() == [1, 1, 0, 1]
    assert parts["language"].tolist() == ["ko", "en", "en", "en"]


@pytest.mark.parametrize(
    ("native", "language"),
    [
        ("더 글로리: 시즌 1", "ko"),
        ("僕のヒーローアカデミア: シーズン5", "ja"),
        ("步步驚心", "zh"),
        ("लैला: सीज़न 1", "hi"),
        ("ชีช้ำกะหล่ำพลอย", "th"),
        ("Люксембург, Люксембург", "ru"),
        ("La sociedad de la nieve", "es"),
        ("Liebes Kind: Miniserie", "de"),
        ("Sous la Seine", "fr"),
        ("Il processo: Stagione 1", "it"),
        ("Skruk: Sæson 2", "nordic"),
        (None, "en"),
    ],
)
def test_language_of_native_title(native: str | None, language: str) -> None:
    assert language_of(native) == language


def test_franchise_key_drops_sequel_numbers_and_case() -> None:
    assert franchise_key("Enola Holmes 2") == franchise_key("ENOLA HOLMES")
    assert franchise_key("Chef's Table: Noodles: Season 1") == "chef s table"
