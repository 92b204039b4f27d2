"""Fixed residuals: the figures the agreements do not publish, entered by the user and marked as such.

A residual input is a row (guild, title_id, person_id or blank, amount, rates_as_of or blank). A row
without a person is the program's fixed residual (the base of the bonus); a row with a person is that
credit's own fixed residual. `rates_as_of` lets a figure quoted at older minimums be carried forward by
the pack's minimum-rate increases (SAG-AFTRA: 7% on 2023-11-09, 4% on 2024-07-01, 3.5% on 2025-07-01).
Where the WGA published a bonus amount for the largest services, it can stand in, labelled as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from limelight.errors import DataError, InputError
from limelight.spine.loaders._common import raise_first, require_columns
from limelight.talent.bonus import MAX_SUPPLIED_AMOUNT, money
from limelight.talent.rules import GUILDS, AgreementPack

__all__ = [
    "ResidualFigure",
    "ResidualInputs",
    "escalate",
    "program_problem",
    "read_residual_inputs",
    "read_user_csv",
]

_COLUMNS = ("guild", "title_id", "person_id", "amount", "rates_as_of")


def escalate(amount: Decimal, pack: AgreementPack, rates_as_of: date, on: date) -> Decimal:
    """Carry an amount quoted at the minimums of `rates_as_of` to those of `on`, rounded to the cent.

    Both ways: a residual quoted at today's rates is carried *back* to the lower minimums of an earlier
    window by the same increases (a statement spans several windows; quoting at current rates is usual).
    """
    return money(amount * pack.minimum_rate_factor(on) / pack.minimum_rate_factor(rates_as_of))


def _part_cents(value: object) -> bool:
    """More than two decimal places ("12.345"); finite numbers only reach here."""
    exponent = Decimal(str(value).strip()).as_tuple().exponent
    return isinstance(exponent, int) and exponent < -2


def program_problem(known: pd.DataFrame, title_id: str, what: str) -> str | None:
    """Why `title_id` is no program the bonus is measured on (`known`: titles indexed by title_id, with
    kind and parent_id), in words naming the program to use instead; None when it is one. `what`: what
    is per program ("fixed residuals", "bonus windows")."""
    if title_id not in known.index:
        return "names no title in the store"
    kind = known.at[title_id, "kind"]
    if kind == "episode":
        return f"is an episode: {what} are per season — use its season '{known.at[title_id, 'parent_id']!s}'"
    if kind == "series":
        seasons = sorted(known.index[(known["parent_id"] == title_id) & (known["kind"] == "season")])
        if not seasons:
            return None  # a series without seasons is itself the program
        shown = ", ".join(f"'{s}'" for s in seasons[:5])
        return f"is a series: {what} are per season ({shown})"
    return None


@dataclass(frozen=True)
class ResidualFigure:
    amount: Decimal
    status: str  # 'user-supplied' or 'published example (largest services)'
    note: str = ""


class ResidualInputs:
    """The user's fixed residuals, looked up by guild, title and (optionally) person."""

    def __init__(self, rows: pd.DataFrame | None = None, origin: str | None = None) -> None:
        self.rows = rows if rows is not None else pd.DataFrame(columns=list(_COLUMNS))
        self.origin = origin  # the file they came from; `rows.index` is then its row numbers
        self._program: dict[tuple[str, str], tuple[Decimal, date | None]] = {}
        self._credit: dict[tuple[str, str, str], tuple[Decimal, date | None]] = {}
        r: Any
        for r in self.rows.itertuples(index=False):
            as_of = None if pd.isna(r.rates_as_of) else pd.Timestamp(r.rates_as_of).date()
            value = (Decimal(str(r.amount)), as_of)
            if pd.isna(r.person_id) or str(r.person_id) == "":
                self._program[(str(r.guild), str(r.title_id))] = value
            else:
                self._credit[(str(r.guild), str(r.title_id), str(r.person_id))] = value

    @classmethod
    def from_mapping(cls, guild: str, amounts: dict[str, Decimal | int | str]) -> ResidualInputs:
        """Program-level amounts for one guild: {title_id: amount}."""
        frame = pd.DataFrame(
            [{"guild": guild, "title_id": t, "person_id": None, "amount": money(a), "rates_as_of": None} for t, a in amounts.items()],
            columns=list(_COLUMNS),
        )
        return cls(frame)

    def __len__(self) -> int:
        return len(self.rows)

    def check_programs(self, titles: pd.DataFrame) -> None:
        """Refuse a row whose title is no program of the store (`titles`: title_id, kind, parent_id).

        A fixed residual is per program — a film, or a season of a series — as the bonus is measured
        per season: a row for a series or an episode would match nothing and the statement would say
        "not supplied" for an amount the user did supply.
        """
        if self.rows.empty:
            return
        known = titles.set_index("title_id")
        for row, title_id in zip(self.rows.index, self.rows["title_id"].astype(str)):
            problem = program_problem(known, title_id, "fixed residuals")
            if problem is None:
                continue
            message = f"title '{title_id}' {problem}"
            if self.origin is not None:
                raise DataError(message, origin=self.origin, row=int(row), column="title_id")
            raise InputError(f"fixed residuals: {message}")

    def program(self, pack: AgreementPack, title_id: str, on: date) -> ResidualFigure | None:
        found = self._program.get((pack.guild, title_id))
        return None if found is None else self._figure(pack, found, on)

    def credit(self, pack: AgreementPack, title_id: str, person_id: str, on: date) -> ResidualFigure | None:
        found = self._credit.get((pack.guild, title_id, person_id))
        return None if found is None else self._figure(pack, found, on)

    def credits_only(self, pack: AgreementPack, title_id: str) -> bool:
        """Per-credit fixed residuals were given for this program, but not the program's own."""
        return (pack.guild, title_id) not in self._program and any(
            g == pack.guild and t == title_id for g, t, _ in self._credit
        )

    @staticmethod
    def _figure(pack: AgreementPack, found: tuple[Decimal, date | None], on: date) -> ResidualFigure:
        amount, as_of = found
        if as_of is None:
            return ResidualFigure(money(amount), "user-supplied")
        way = "escalated" if on >= as_of else "carried back"
        return ResidualFigure(escalate(amount, pack, as_of, on), "user-supplied", f"{way} from minimums of {as_of} to {on}")


def read_user_csv(path: str | Path, what: str, option: str) -> pd.DataFrame:
    """A user's CSV/TSV (or Parquet) through the spine's reader, as text with blanks as "".

    `frame.index` is the row a person sees (header = row 1). A missing file, a folder, an empty, ragged or
    non-UTF-8 file is refused in one sentence naming it.
    """
    from limelight.spine.loaders.tabular import read_user_table

    frame = read_user_table(path, option=option, what=what, allow_empty=True)
    return frame.astype(object).where(frame.notna(), "").astype(str)


def repeated_residuals(frame: pd.DataFrame) -> np.ndarray:
    """Rows (guild, title_id, person_id) that repeat an earlier row's: which of two amounts is meant?
    A silent "last one wins" would pay on a guess. Guild case and surrounding blanks do not matter."""
    key = pd.DataFrame({
        "guild": frame["guild"].astype(str).str.strip().str.lower(),
        "title_id": frame["title_id"].astype(str).str.strip(),
        "person_id": frame["person_id"].fillna("").astype(str).str.strip(),
    })
    return key.duplicated().to_numpy(dtype=bool)


def read_residual_inputs(path: str | Path) -> ResidualInputs:
    """Read a CSV of fixed residuals (columns guild, title_id, amount; optional person_id, rates_as_of).

    Each bad cell is refused naming the file, its row and column: a guild the packs do not cover, an
    amount that is not a finite number from 0 to MAX_SUPPLIED_AMOUNT, a rates_as_of that is not a date.
    """
    path = Path(path)
    origin = path.name
    frame = read_user_csv(path, "fixed residuals", "--residuals")
    require_columns(frame, ("guild", "title_id", "amount"), origin)
    for c in ("person_id", "rates_as_of"):
        if c not in frame.columns:
            frame[c] = ""
    frame = frame.apply(lambda col: col.str.strip())

    def fail(bad: np.ndarray, column: str, message: str) -> None:
        raise_first(bad, frame, column, message, origin)

    guild = frame["guild"].str.lower()
    bad = ~guild.isin(GUILDS).to_numpy(dtype=bool)
    if bad.any():
        fail(bad, "guild", f"guild must be one of {', '.join(GUILDS)}, got '{{value}}'")
    bad = (frame["title_id"] == "").to_numpy(dtype=bool)
    if bad.any():
        fail(bad, "title_id", "title_id must not be blank")
    amount = pd.to_numeric(frame["amount"].where(frame["amount"] != ""), errors="coerce").to_numpy(dtype="float64")
    bad = np.isnan(amount)
    if bad.any():
        fail(bad, "amount", "'{value}' is not an amount")
    bad = amount < 0
    if bad.any():
        fail(bad, "amount", "amount must be at least 0, got '{value}'")
    # The CLI options' and the API's limit: the same residual gets the same answer in a file. Also 'inf'
    # and 1e400 (floats read them as inf); an amount a float rounds down to the limit has part cents.
    bad = amount > float(MAX_SUPPLIED_AMOUNT)
    if bad.any():
        fail(bad, "amount", f"amount must be at most {MAX_SUPPLIED_AMOUNT:,.0f}, got '{{value}}'")
    # Whole cents, as the CLI options and the API take money: 12.345 was rounded to 12.35 here and
    # refused there, and a rounded amount can tip a health-plan total over its threshold.
    bad = np.array([_part_cents(v) for v in frame["amount"]], dtype=bool)
    if bad.any():
        fail(bad, "amount", "amount must be in whole cents, got '{value}'")
    given = (frame["rates_as_of"] != "").to_numpy(dtype=bool)
    dates = pd.to_datetime(frame["rates_as_of"].where(given), format="%Y-%m-%d", errors="coerce")
    bad = given & dates.isna().to_numpy()
    if bad.any():
        fail(bad, "rates_as_of", "rates_as_of must be a date YYYY-MM-DD, got '{value}'")
    frame["guild"] = guild
    bad = repeated_residuals(frame)
    if bad.any():
        fail(bad, "title_id", "a second fixed residual for the same guild, title and person as an earlier row, "
             "got '{value}' again")
    frame["person_id"] = frame["person_id"].replace("", None)
    frame["rates_as_of"] = frame["rates_as_of"].replace("", None)
    return ResidualInputs(frame[list(_COLUMNS)], origin=origin)
