"""Guild rule packs: load the TOML files under `talent/packs/`, validate them, answer "which rule applies".

Each pack is one agreement (or the health plan) with its term, its sources (title and URL) and, for every
figure, the source key and a status: `confirmed` (printed in the cited public document), `interpretation`,
`assumption` or `user-supplied` (not public: the user enters it, limelight never invents it). A pack that
breaks any of this fails at load with one sentence naming the file and the field.
"""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from limelight.errors import InputError, RuleError

__all__ = [
    "GUILDS",
    "AgreementPack",
    "Figure",
    "HealthPack",
    "HealthThreshold",
    "PublishedAmount",
    "Source",
    "SuccessBonusRule",
    "WageIncrease",
    "agreement_for",
    "health_pack",
    "load_agreement",
    "load_packs",
    "pack_dir",
]

Status = Literal["confirmed", "interpretation", "assumption", "user-supplied"]
GUILDS: tuple[str, ...] = ("sag-aftra", "wga", "dga")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    title: str = Field(min_length=3)
    publisher: str = Field(min_length=2)
    url: str = Field(pattern=r"^https?://")
    published: date
    note: str = ""
    # True where the maintainers read the page at this URL; False where the URL is recorded from the
    # publisher's site structure and should be re-checked (no network when the pack was written).
    url_checked: bool = False


class Figure(_Strict):
    """One figure of a rule with where it comes from and how sure we are of it."""

    value: Any = None
    status: Status
    source: str
    note: str = ""

    @model_validator(mode="after")
    def _value_unless_supplied(self) -> Figure:
        if self.value is None and self.status != "user-supplied":
            raise ValueError(f"a {self.status} figure needs a value")
        return self

    def decimal(self) -> Decimal:
        return Decimal(str(self.value))


class PublishedAmount(Figure):
    max_runtime_minutes: float | None = None


class WageIncrease(_Strict):
    effective: date
    percent: Decimal = Field(ge=0, le=100)
    status: Status
    source: str
    note: str = ""


class SuccessBonusRule(_Strict):
    name: str
    applies_to: str
    released_on_or_after: Figure
    domestic_countries: Figure
    views_rule: Figure
    window_days: Figure
    later_windows: Figure
    trigger_share: Figure
    subscriber_date_rule: Figure
    bonus_rate: Figure
    recipients_share: Figure
    fund_share: Figure
    fund_name: str = ""
    recipient_billing: Figure
    split_rule: Figure
    fixed_residual: Figure

    @model_validator(mode="after")
    def _shares(self) -> SuccessBonusRule:
        total = self.recipients_share.decimal() + self.fund_share.decimal()
        if total != Decimal(1):
            raise ValueError(f"recipients_share + fund_share must be 1, got {total}")
        for name in ("trigger_share", "bonus_rate"):
            v = getattr(self, name).decimal()
            if not Decimal(0) < v <= Decimal(1):
                raise ValueError(f"{name} must be in (0, 1], got {v}")
        if self.split_rule.value not in ("equal", "episodes_worked"):
            raise ValueError(f"split_rule must be 'equal' or 'episodes_worked', got {self.split_rule.value!r}")
        if self.fixed_residual.status != "user-supplied":
            raise ValueError("fixed_residual must be 'user-supplied': the tier tables are not public")
        if int(self.window_days.value) <= 0:
            raise ValueError(f"window_days must be positive, got {self.window_days.value}")
        return self

    @property
    def released_from(self) -> date:
        v = self.released_on_or_after.value
        return v if isinstance(v, date) else date.fromisoformat(str(v))

    @property
    def countries(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.domestic_countries.value)

    @property
    def billing(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.recipient_billing.value)


class NotPublic(_Strict):
    items: list[str]


class AgreementPack(_Strict):
    id: str
    guild: Literal["sag-aftra", "wga", "dga"]
    name: str
    version: str
    term_start: date
    term_end: date
    roles: list[Literal["performer", "writer", "director"]]
    sources: dict[str, Source]
    success_bonus: SuccessBonusRule | None = None
    published_bonus: dict[str, PublishedAmount] = Field(default_factory=dict)
    published_residuals: dict[str, PublishedAmount] = Field(default_factory=dict)
    wage_increases: list[WageIncrease] = Field(default_factory=list)
    not_public: NotPublic

    @model_validator(mode="after")
    def _consistent(self) -> AgreementPack:
        if self.term_end <= self.term_start:
            raise ValueError(f"term_end must follow term_start, got {self.term_start}..{self.term_end}")
        for where, key in self._source_keys():
            if key not in self.sources:
                raise ValueError(f"{where} cites source '{key}', which is not in [sources]")
        dates = [w.effective for w in self.wage_increases]
        if dates != sorted(dates):
            raise ValueError("wage_increases must be in date order")
        return self

    def _source_keys(self) -> list[tuple[str, str]]:
        keys: list[tuple[str, str]] = []
        if self.success_bonus is not None:
            for name, value in self.success_bonus:
                if isinstance(value, Figure):
                    keys.append((f"success_bonus.{name}", value.source))
        for group in ("published_bonus", "published_residuals"):
            for name, fig in getattr(self, group).items():
                keys.append((f"{group}.{name}", fig.source))
        keys.extend((f"wage_increases[{i}]", w.source) for i, w in enumerate(self.wage_increases))
        return keys

    def in_force(self, on: date) -> bool:
        return self.term_start <= on <= self.term_end

    def minimum_rate_factor(self, on: date) -> Decimal:
        """Compounded minimum-rate increases in effect on `on` (1 before the first)."""
        factor = Decimal(1)
        for w in self.wage_increases:
            if w.effective <= on:
                factor *= Decimal(1) + w.percent / Decimal(100)
        return factor

    def cite(self, key: str) -> str:
        s = self.sources[key]
        check = "" if s.url_checked else " (URL recorded, not re-checked)"
        return f"{s.publisher}, “{s.title}” ({s.published.isoformat()}), {s.url}{check}"

    def published_bonus_for(self, runtime_minutes: float | None) -> tuple[str, PublishedAmount] | None:
        """The published bonus example whose runtime band covers `runtime_minutes` (None if none)."""
        if runtime_minutes is None or not self.published_bonus:
            return None
        bands = sorted(self.published_bonus.items(), key=lambda kv: kv[1].max_runtime_minutes or float("inf"))
        for name, fig in bands:
            if fig.max_runtime_minutes is None or runtime_minutes <= fig.max_runtime_minutes:
                return name, fig
        return None


class HealthThreshold(_Strict):
    covered_earnings: Decimal = Field(gt=0)
    alternative_days: int | None = Field(default=None, gt=0)
    status: Status
    source: str
    note: str = ""


class HealthPack(_Strict):
    id: str
    name: str
    version: str
    base_period: str
    residuals_count: Figure
    sources: dict[str, Source]
    thresholds: dict[int, HealthThreshold]

    @model_validator(mode="after")
    def _cited(self) -> HealthPack:
        for year, t in self.thresholds.items():
            if t.source not in self.sources:
                raise ValueError(f"thresholds.{year} cites source '{t.source}', which is not in [sources]")
        if self.residuals_count.source not in self.sources:
            raise ValueError(f"residuals_count cites source '{self.residuals_count.source}', not in [sources]")
        return self

    def threshold(self, year: int) -> HealthThreshold | None:
        """The year's threshold, or None where the plan has not published one (unknown)."""
        return self.thresholds.get(year)

    def cite(self, key: str) -> str:
        s = self.sources[key]
        check = "" if s.url_checked else " (URL recorded, not re-checked)"
        return f"{s.publisher}, “{s.title}”, {s.url}{check}"


def pack_dir() -> Path:
    return Path(str(resources.files("limelight.talent") / "packs"))


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"rule pack {path.name} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise RuleError(f"rule pack {path} cannot be read: {exc.strerror}") from None


def _validated(model: type[BaseModel], data: dict[str, Any], path: Path) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "pack"
        raise RuleError(f"rule pack {path.name}, field '{where}': {err['msg']}") from None


def load_agreement(path: str | Path) -> AgreementPack:
    """Load and validate one agreement pack file."""
    path = Path(path)
    pack: AgreementPack = _validated(AgreementPack, _read(path), path)
    return pack


def load_health(path: str | Path) -> HealthPack:
    path = Path(path)
    data = _read(path)
    # TOML keys are strings; years are ints.
    try:
        data["thresholds"] = {int(k): v for k, v in data.get("thresholds", {}).items()}
    except ValueError:
        raise RuleError(f"rule pack {path.name}, field 'thresholds': every key must be a year") from None
    pack: HealthPack = _validated(HealthPack, data, path)
    return pack


@lru_cache(maxsize=4)
def load_packs(folder: str | None = None) -> dict[str, AgreementPack]:
    """Every agreement pack in `folder` (default: the packaged ones), keyed by pack id."""
    root = Path(folder) if folder else pack_dir()
    packs: dict[str, AgreementPack] = {}
    for path in sorted(root.glob("*.toml")):
        if _read(path).get("guild") is None:
            continue  # the health pack
        pack = load_agreement(path)
        if pack.id in packs:
            raise RuleError(f"rule pack {path.name}: id '{pack.id}' is used by two packs")
        packs[pack.id] = pack
    if not packs:
        raise RuleError(f"no rule packs found in {root}")
    return packs


@lru_cache(maxsize=4)
def health_pack(folder: str | None = None) -> HealthPack:
    root = Path(folder) if folder else pack_dir()
    return load_health(root / "sag_aftra_health.toml")


def agreement_for(guild: str, on: date | None = None, folder: str | None = None) -> AgreementPack:
    """The pack of `guild` in force on `on` (default: the latest pack of that guild)."""
    key = guild.strip().lower()
    if key not in GUILDS:
        raise InputError(f"guild must be one of {', '.join(GUILDS)}, got '{guild}'")
    candidates = sorted(
        (p for p in load_packs(folder).values() if p.guild == key), key=lambda p: p.term_start
    )
    if not candidates:
        raise InputError(f"there is no rule pack for guild '{guild}'")
    if on is None:
        return candidates[-1]
    for pack in reversed(candidates):
        if pack.term_start <= on:
            return pack
    raise InputError(f"no {guild} rule pack was in force on {on.isoformat()}; the earliest starts {candidates[0].term_start}")
