"""SAG-AFTRA Health Plan earned eligibility: covered earnings against the year's threshold.

Residuals count as covered earnings. The threshold comes from the health pack; for a year the plan has
not published, the answer is "unknown" (no threshold, no eligibility verdict), never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from limelight.errors import InputError
from limelight.talent.bonus import money
from limelight.talent.rules import HealthPack, health_pack

__all__ = ["ClosingTitle", "HealthStatus", "check_plan_year", "closing_titles", "health_status"]


@dataclass(frozen=True)
class ClosingTitle:
    title_id: str
    title: str
    window: str
    potential: Decimal  # what this person would receive if the title crossed the trigger
    views_needed: int


@dataclass(frozen=True)
class HealthStatus:
    year: int
    earnings: Decimal
    threshold: Decimal | None
    eligible: bool | None
    shortfall: Decimal | None
    status: str  # 'confirmed' or 'unknown'
    source: str
    closing: list[ClosingTitle] = field(default_factory=list)
    plan: str = "SAG-AFTRA Health Plan"
    notes: list[str] = field(default_factory=list)
    # Lines of unknown pay in the base period: `earnings` is then what is known, a lower bound. When it
    # falls short, `eligible` and `shortfall` are None and the known gap is `shortfall_at_most`.
    unknown_earnings_lines: int = 0
    shortfall_at_most: Decimal | None = None

    @property
    def closes(self) -> bool | None:
        """Whether the closing titles' bonuses together reach the shortfall (None: nothing to close)."""
        gap = self.shortfall if self.shortfall is not None else self.shortfall_at_most
        if not self.closing or gap is None:
            return None
        return sum((c.potential for c in self.closing), Decimal(0)) >= gap

    def as_json(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "year": self.year,
            "earnings": str(self.earnings),
            "threshold": None if self.threshold is None else str(self.threshold),
            "eligible": self.eligible,
            "shortfall": None if self.shortfall is None else str(self.shortfall),
            "shortfall_at_most": None if self.shortfall_at_most is None else str(self.shortfall_at_most),
            "unknown_earnings_lines": self.unknown_earnings_lines,
            "status": self.status,
            "source": self.source,
            "closing_titles": [
                {"title_id": c.title_id, "title": c.title, "window": c.window, "potential": str(c.potential), "views_needed": c.views_needed}
                for c in self.closing
            ],
            "closing_titles_close_the_gap": self.closes,
            "notes": self.notes,
        }


def check_plan_year(year: int) -> None:
    """A health-plan year is a calendar year between 1900 and 2200 (one sentence otherwise)."""
    if isinstance(year, bool) or not 1900 <= int(year) <= 2200:
        raise InputError(f"year must be a calendar year like 2025, got {year}")


def health_status(earnings: Decimal | int | float | str, year: int, pack: HealthPack | None = None) -> HealthStatus:
    """Earnings toward the year's threshold: eligible or not and the shortfall (unknown if unpublished)."""
    pack = pack or health_pack()
    amount = money(earnings)
    if amount < 0:
        raise InputError(f"earnings must be at least 0, got {earnings}")
    check_plan_year(year)
    t = pack.threshold(int(year))
    if t is None:
        known = ", ".join(str(y) for y in sorted(pack.thresholds))
        return HealthStatus(
            int(year), amount, None, None, None, "unknown",
            f"the plan has not published a threshold for {year} (known: {known})",
        )
    threshold = money(t.covered_earnings)
    shortfall = max(threshold - amount, Decimal("0.00"))
    return HealthStatus(int(year), amount, threshold, amount >= threshold, shortfall, t.status, pack.cite(t.source))


def closing_titles(shortfall: Decimal, candidates: Iterable[ClosingTitle]) -> list[ClosingTitle]:
    """The fewest titles, nearest their trigger first, whose bonuses would close `shortfall`.

    Candidates are windows still open and not yet over the trigger, with a known potential share. Greedy
    in order of views still needed (the likeliest to cross first); if even all of them fall short, all are
    returned and `HealthStatus.closes` says so.
    """
    if shortfall <= 0:
        return []
    chosen: list[ClosingTitle] = []
    total = Decimal(0)
    for c in sorted(candidates, key=lambda c: (c.views_needed, -c.potential, c.title_id)):
        if c.potential <= 0:
            continue
        chosen.append(c)
        total += c.potential
        if total >= shortfall:
            break
    return chosen
