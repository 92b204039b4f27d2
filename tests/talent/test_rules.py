"""Rule packs load, every figure cites a source, and broken packs fail with one sentence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from limelight.errors import InputError, RuleError
from limelight.talent.rules import agreement_for, health_pack, load_agreement, load_packs, pack_dir


def test_every_packaged_pack_loads_with_its_sources() -> None:
    packs = load_packs()
    assert set(packs) == {"sag-aftra-2023", "wga-2023", "dga-2023"}
    for pack in packs.values():
        assert pack.sources, pack.id
        for source in pack.sources.values():
            assert source.url.startswith("https://")
        # at least one source per pack whose page was actually read, and citations say which were not
        assert any(s.url_checked for s in pack.sources.values()), pack.id
        unchecked = [k for k, s in pack.sources.items() if not s.url_checked]
        for key in unchecked:
            assert pack.cite(key).endswith("(URL recorded, not re-checked)")


def test_sag_aftra_pack_holds_the_published_terms() -> None:
    pack = agreement_for("sag-aftra")
    rule = pack.success_bonus
    assert rule is not None
    assert (pack.term_start, pack.term_end) == (date(2023, 11, 9), date(2026, 6, 30))
    assert rule.released_from == date(2024, 1, 1)
    assert rule.trigger_share.decimal() == Decimal("0.20")
    assert rule.bonus_rate.decimal() == Decimal("1.00")
    assert (rule.recipients_share.decimal(), rule.fund_share.decimal()) == (Decimal("0.75"), Decimal("0.25"))
    assert rule.countries == ("US", "CA")
    assert rule.fixed_residual.status == "user-supplied"
    assert rule.split_rule.status == "assumption"
    assert [(w.effective, w.percent) for w in pack.wage_increases] == [
        (date(2023, 11, 9), Decimal("7")), (date(2024, 7, 1), Decimal("4")), (date(2025, 7, 1), Decimal("3.5"))
    ]


def test_minimum_rate_factor_compounds_the_increases_in_force() -> None:
    pack = agreement_for("sag-aftra")
    assert pack.minimum_rate_factor(date(2023, 11, 8)) == 1
    assert pack.minimum_rate_factor(date(2024, 7, 1)) == Decimal("1.07") * Decimal("1.04")
    assert pack.minimum_rate_factor(date(2026, 1, 1)) == Decimal("1.07") * Decimal("1.04") * Decimal("1.035")


def test_wga_pack_publishes_the_bonus_examples_for_the_largest_services() -> None:
    pack = agreement_for("wga")
    assert pack.success_bonus is not None and pack.success_bonus.bonus_rate.decimal() == Decimal("0.50")
    assert pack.success_bonus.fund_share.decimal() == 0
    amounts = {k: v.decimal() for k, v in pack.published_bonus.items()}
    assert amounts == {"half_hour": 9031, "one_hour": 16415, "feature_over_30m": 40500}
    assert pack.published_bonus_for(30)[0] == "half_hour"  # type: ignore[index]
    assert pack.published_bonus_for(58)[0] == "one_hour"  # type: ignore[index]


def test_dga_pack_has_the_bonus_of_its_2024_modification_and_says_what_is_read_across() -> None:
    pack = agreement_for("dga")
    rule = pack.success_bonus
    assert rule is not None and rule.released_from.isoformat() == "2024-01-01"
    assert rule.bonus_rate.decimal() == Decimal("0.50") and rule.trigger_share.decimal() == Decimal("0.20")
    assert rule.bonus_rate.source == "modification_2024" and rule.views_rule.status == "interpretation"
    assert any("2024 modification" in item for item in pack.not_public.items)
    assert pack.published_residuals["one_hour_first_three_years"].decimal() == 89415


def test_health_pack_knows_2025_and_nothing_else() -> None:
    pack = health_pack()
    t = pack.threshold(2025)
    assert t is not None and t.covered_earnings == Decimal("27540")
    assert pack.threshold(2024) is None and pack.threshold(2027) is None


def test_unknown_guild_is_one_sentence() -> None:
    with pytest.raises(InputError, match="guild must be one of"):
        agreement_for("iatse")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pack.toml"
    path.write_text(text)
    return path


def test_a_pack_citing_a_missing_source_is_refused(tmp_path: Path) -> None:
    text = (pack_dir() / "sag_aftra_2023.toml").read_text().replace('source = "letter"', 'source = "nowhere"')
    with pytest.raises(RuleError, match="cites source 'nowhere'"):
        load_agreement(_write(tmp_path, text))


def test_a_pack_whose_shares_do_not_sum_to_one_is_refused(tmp_path: Path) -> None:
    text = (pack_dir() / "sag_aftra_2023.toml").read_text().replace('value = "0.25"', 'value = "0.30"')
    with pytest.raises(RuleError, match="recipients_share \\+ fund_share must be 1"):
        load_agreement(_write(tmp_path, text))


def test_a_confirmed_figure_without_value_is_refused(tmp_path: Path) -> None:
    text = (pack_dir() / "wga_2023.toml").read_text().replace(
        'trigger_share = { value = "0.20", status = "confirmed"', 'trigger_share = { status = "confirmed"'
    )
    with pytest.raises(RuleError, match="trigger_share"):
        load_agreement(_write(tmp_path, text))


def test_invented_fixed_residual_is_refused(tmp_path: Path) -> None:
    text = (pack_dir() / "wga_2023.toml").read_text().replace(
        'fixed_residual = { status = "user-supplied"', 'fixed_residual = { value = "1000", status = "confirmed"'
    )
    with pytest.raises(RuleError, match="fixed_residual must be 'user-supplied'"):
        load_agreement(_write(tmp_path, text))


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match=r"pack\.toml is not valid TOML"):
        load_agreement(_write(tmp_path, "id = = 3"))
