"""Card-network rules and code mappings, loaded from the data files in `payments/rules/`.

Visa's decline categories, Mastercard's merchant advice codes, the mapping from Stripe's decline codes
to those categories, the gate's limits and the simulator's parameters all live in CSV/TOML files with
their sources. This module reads and validates them once; everything else asks it.
"""

from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from limelight.errors import InputError, RuleError

__all__ = [
    "REASON_GROUPS",
    "NetworkRules",
    "category_of",
    "load_rules",
    "load_toml",
    "lookup_unique",
]

REASON_GROUPS = ("funds", "transient", "generic", "data", "hard")
_ACTIONS = {"never", "update", "wait", "retry"}


def _read_text(name: str) -> str:
    try:
        return resources.files("limelight.payments").joinpath("rules", name).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RuleError(f"rule file 'payments/rules/{name}' must exist, got nothing") from exc


def _read_csv(name: str, required: tuple[str, ...]) -> list[dict[str, str]]:
    rows = list(csv.DictReader(_read_text(name).splitlines()))
    if not rows:
        raise RuleError(f"rule file '{name}' must have rows, got none")
    missing = [c for c in required if c not in rows[0]]
    if missing:
        raise RuleError(f"rule file '{name}' must have columns {', '.join(missing)}, got {list(rows[0])}")
    return rows


def load_toml(name: str) -> dict[str, Any]:
    """A TOML file from `payments/rules/`."""
    try:
        return tomllib.loads(_read_text(name))
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"rule file '{name}' must be valid TOML, got {exc}") from exc


def normalise_code(decline_code: object) -> str:
    """A decline code as the tables write it, whatever case or number form it arrives in.

    Stripe's codes are lower-case (`LOST_CARD` is `lost_card`: looked up as typed, it fell to category 4
    and was retried); network codes are two characters (`4` and `41.0`, as a spreadsheet or a float
    column writes 04 and 41, are `04` and `41`: `4` was retried where `04` never is).
    """
    code = str(decline_code).strip()
    if re.fullmatch(r"\d+\.0+", code):
        code = code.split(".")[0]
    if code.isdigit() and len(code) == 1:
        code = "0" + code
    return code


_MAC = re.compile(r"\d{1,2}")
_NO_MAC = frozenset({"", "nan", "none", "<na>", "null"})


def normalise_mac(code: object) -> str:
    """A Mastercard merchant advice code as the table writes it ("03"), from "3", 3, 3.0 or " 03 "; ""
    when there is none. A float column (Parquet, a spreadsheet export) wrote MAC 03 as "3.0", which
    matched no row of the table: "never retry" and the 24–30 waits were skipped. Anything else is no
    merchant advice code: `InputError` (callers with a file and row check `is_mac` first)."""
    if code is None or (isinstance(code, float) and np.isnan(code)):
        return ""
    text = str(code).strip()
    if text.lower() in _NO_MAC:
        return ""
    if re.fullmatch(r"\d+\.0+", text):
        text = text.split(".")[0]
    if not _MAC.fullmatch(text):
        raise InputError(f"a merchant advice code is one or two digits such as 03 or 24, got '{code}'")
    return text.zfill(2)


def is_mac(code: object) -> bool:
    """Whether `normalise_mac` takes this value (blank included)."""
    try:
        normalise_mac(code)
    except InputError:
        return False
    return True


@dataclass(frozen=True)
class NetworkRules:
    """Everything the gate needs, as lookup tables."""

    visa_category: dict[str, int]  # network response code -> Visa category 1..4
    stripe_map: dict[str, tuple[str, int, str]]  # stripe code -> (network code, category, reason group)
    mac_action: dict[str, str]  # Mastercard MAC -> never | update | wait
    mac_wait_hours: dict[str, float]
    window_days: float
    max_attempts_in_window: int
    never_retry_categories: frozenset[int]
    fix_data_first_categories: frozenset[int]
    unknown_code_category: int
    dunning_window_days: float
    min_gap_hours: float
    brand_caps: tuple[tuple[str, float, int], ...]  # (card brand, window hours, most attempts in it)
    sources: tuple[tuple[str, str], ...]  # (title, url)

    def category(self, decline_code: str | None) -> int:
        """Visa-style category of a processor (Stripe) or network decline code."""
        if decline_code is None or decline_code == "":
            return self.unknown_code_category
        code = normalise_code(decline_code)
        if code.lower() in self.stripe_map:
            return self.stripe_map[code.lower()][1]
        return self.visa_category.get(code.upper(), self.unknown_code_category)

    def reason_group(self, decline_code: str | None) -> str:
        if decline_code is None:
            return "generic"
        code = normalise_code(decline_code)
        if code.lower() in self.stripe_map:
            return self.stripe_map[code.lower()][2]
        cat = self.visa_category.get(code.upper(), self.unknown_code_category)
        return {1: "hard", 2: "funds", 3: "data"}.get(cat, "generic")

    def categories(self, decline_codes: np.ndarray) -> np.ndarray:
        """Vectorised `category` over an array of codes (unique codes are looked up once)."""
        return lookup_unique(decline_codes, lambda u: self.category(u), np.int8)

    def reason_groups(self, decline_codes: np.ndarray) -> np.ndarray:
        return lookup_unique(decline_codes, lambda u: self.reason_group(u), object)


def lookup_unique(values: Any, fn: Any, dtype: Any) -> np.ndarray:
    """`fn` applied to each distinct value (missing values become None), broadcast back: hash-based."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    mapped = [fn(None if (u is None or u != u or str(u) in ("", "None", "nan")) else str(u)) for u in uniques]
    table = np.array([*mapped, fn(None)], dtype=dtype)
    return table[np.where(codes < 0, len(mapped), codes)]


def _parse_float(value: str, name: str, row: int, column: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise RuleError(
            f"rule file '{name}' row {row} column '{column}' must be a number, got '{value}'"
        ) from None


@lru_cache(maxsize=1)
def load_rules() -> NetworkRules:
    """Read and validate the network rule files (cached: they ship with the package)."""
    visa_rows = _read_csv(
        "visa_decline_categories.csv", ("code", "category", "description", "source_title", "source_url")
    )
    visa: dict[str, int] = {}
    sources: set[tuple[str, str]] = set()
    for i, r in enumerate(visa_rows, start=2):
        cat = int(_parse_float(r["category"], "visa_decline_categories.csv", i, "category"))
        if cat not in (1, 2, 3, 4):
            raise RuleError(f"visa_decline_categories.csv row {i} column 'category' must be 1-4, got {cat}")
        if not r["source_url"].startswith("https://"):
            raise RuleError(f"visa_decline_categories.csv row {i} column 'source_url' must be a URL")
        visa[r["code"].strip().upper()] = cat
        sources.add((r["source_title"], r["source_url"]))

    stripe_rows = _read_csv(
        "stripe_decline_code_map.csv", ("stripe_code", "network_code", "visa_category", "reason_group")
    )
    stripe: dict[str, tuple[str, int, str]] = {}
    for i, r in enumerate(stripe_rows, start=2):
        cat = int(_parse_float(r["visa_category"], "stripe_decline_code_map.csv", i, "visa_category"))
        group = r["reason_group"].strip()
        if group not in REASON_GROUPS:
            raise RuleError(
                f"stripe_decline_code_map.csv row {i} column 'reason_group' must be one of "
                f"{', '.join(REASON_GROUPS)}, got '{group}'"
            )
        network = r["network_code"].strip().upper()
        # A mapping may be stricter than Visa's table, never looser.
        visa_cat = visa.get(network)
        if visa_cat == 1 and cat != 1:
            raise RuleError(
                f"stripe_decline_code_map.csv row {i}: '{r['stripe_code']}' maps to Visa code {network} "
                f"(category 1) so its category must be 1, got {cat}"
            )
        stripe[r["stripe_code"].strip()] = (network, cat, group)

    mac_rows = _read_csv(
        "mastercard_merchant_advice_codes.csv", ("code", "meaning", "action", "min_wait_hours", "source_url")
    )
    mac_action: dict[str, str] = {}
    mac_wait: dict[str, float] = {}
    for i, r in enumerate(mac_rows, start=2):
        action = r["action"].strip()
        if action not in _ACTIONS:
            raise RuleError(
                f"mastercard_merchant_advice_codes.csv row {i} column 'action' must be one of "
                f"{', '.join(sorted(_ACTIONS))}, got '{action}'"
            )
        code = r["code"].strip().zfill(2)
        mac_action[code] = action
        wait = r["min_wait_hours"].strip()
        mac_wait[code] = (
            _parse_float(wait, "mastercard_merchant_advice_codes.csv", i, "min_wait_hours") if wait else 0.0
        )
        sources.add((r["source_title"], r["source_url"]))

    gate = load_toml("gate.toml")
    try:
        visa_cfg = gate["visa_excessive_reattempts"]
        mc_cfg = gate["mastercard_excessive_attempts"]
        merchant = gate["merchant"]
        rules = NetworkRules(
            visa_category=visa,
            stripe_map=stripe,
            mac_action=mac_action,
            mac_wait_hours=mac_wait,
            window_days=float(visa_cfg["window_days"]),
            max_attempts_in_window=int(visa_cfg["max_attempts_in_window"]),
            never_retry_categories=frozenset(int(c) for c in visa_cfg["never_retry_categories"]),
            fix_data_first_categories=frozenset(int(c) for c in visa_cfg["fix_data_first_categories"]),
            unknown_code_category=int(visa_cfg["unknown_code_category"]),
            dunning_window_days=float(merchant["dunning_window_days"]),
            min_gap_hours=float(merchant["min_gap_hours"]),
            brand_caps=tuple(
                (str(b).lower(), float(mc_cfg["window_hours"]), int(mc_cfg["max_attempts_in_window"]))
                for b in mc_cfg["brands"]
            ),
            sources=tuple(sorted(sources | {(visa_cfg["source_title"], visa_cfg["source_url"]),
                                            (mc_cfg["source_title"], mc_cfg["source_url"])})),
        )
    except KeyError as exc:
        raise RuleError(f"rule file 'gate.toml' must define {exc.args[0]}, got nothing") from None
    if rules.max_attempts_in_window < 1:
        raise RuleError(f"gate.toml max_attempts_in_window must be >= 1, got {rules.max_attempts_in_window}")
    return rules


def category_of(decline_code: str | None) -> int:
    """Visa-style decline category (1 never, 2 later, 3 fix data, 4 generic) of a decline code."""
    return load_rules().category(decline_code)
