"""Processor routing: which acquirer an attempt goes through.

The choice is a contextual bandit: the success model estimates each processor's approval chance for the
card's context (brand, issuer region, ...), the router takes the processor with the best expected value net
of its fee, explores with probability `epsilon` (the chosen processor's probability is logged as part of the
propensity), and business rules from `rules/processors.toml` (brands a processor does not accept, forced
routes) override the learned choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from limelight.errors import RuleError
from limelight.payments.charges import FailedCharges, load_countries
from limelight.payments.rules import load_toml, lookup_unique

__all__ = ["ProcessorRouter", "load_router"]


@dataclass(frozen=True)
class _Override:
    brands: frozenset[str]
    regions: frozenset[str]
    use: int
    reason: str


class ProcessorRouter:
    """Processors, fees and override rules; vectorised masks and choices over a batch of charges."""

    def __init__(
        self,
        names: list[str],
        fees_usd: list[float],
        accepts: list[frozenset[str]],
        default: str,
        network_fee_usd: float,
        overrides: list[_Override],
    ) -> None:
        if default not in names:
            raise RuleError(f"processors.toml 'default' must be one of {', '.join(names)}, got '{default}'")
        self.names = np.array(names, dtype=object)
        self.fees_usd = np.asarray(fees_usd, dtype=np.float64)
        self.accepts = accepts
        self.default_index = names.index(default)
        self.network_fee_usd = float(network_fee_usd)
        self.overrides = overrides

    def __len__(self) -> int:
        return len(self.names)

    def index_of(self, processors: np.ndarray) -> np.ndarray:
        lookup = {str(n): i for i, n in enumerate(self.names)}
        return lookup_unique(processors, lambda u: lookup.get(str(u), self.default_index), np.int64)

    def attempt_cost_usd(self) -> np.ndarray:
        """Per-attempt cost of each processor: its fee plus the network's authorisation fee."""
        return self.fees_usd + self.network_fee_usd

    def _forced(self, charges: FailedCharges) -> np.ndarray:
        """Processor index forced by an override rule, or -1."""
        n = len(charges)
        forced = np.full(n, -1, dtype=np.int64)
        brand = charges.card_brand.astype(str)
        region = load_countries().region[load_countries().index(charges.issuer_country)].astype(str)
        for rule in self.overrides:
            hit = np.zeros(n, dtype=bool)
            if rule.brands:
                hit |= np.isin(brand, list(rule.brands))
            if rule.regions:
                hit |= np.isin(region, list(rule.regions))
            forced[(forced < 0) & hit] = rule.use
        return forced

    def allowed(self, charges: FailedCharges) -> np.ndarray:
        """(n, P) processors that business rules allow for each charge."""
        brand = charges.card_brand.astype(str)
        mask = np.stack([np.isin(brand, list(acc)) for acc in self.accepts], axis=1)
        forced = self._forced(charges)
        has = forced >= 0
        if has.any():
            mask[has] = False
            mask[np.flatnonzero(has), forced[has]] = True
        none = ~mask.any(axis=1)
        mask[none, self.default_index] = True
        return mask

    def choose(
        self, preferred: np.ndarray, allowed: np.ndarray, rng: np.random.Generator, epsilon: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Take `preferred` (an index per charge) with prob. 1-epsilon, else a uniform allowed processor.

        Returns the chosen index and its probability under this rule (for the logged propensity).
        """
        n = len(preferred)
        k = allowed.sum(axis=1)
        pref = np.where(allowed[np.arange(n), preferred], preferred, np.argmax(allowed, axis=1))
        chosen = pref.copy()
        if epsilon > 0:
            explore = rng.random(n) < epsilon
            # uniform pick among allowed: the j-th allowed processor with j uniform
            u = (rng.random(n) * k).astype(np.int64)
            cum = np.cumsum(allowed, axis=1)
            pick = np.argmax(cum > u[:, None], axis=1)
            chosen = np.where(explore, pick, pref)
        prob = (1.0 - epsilon) * (chosen == pref) + epsilon / np.maximum(k, 1)
        return chosen, prob


@lru_cache(maxsize=1)
def load_router() -> ProcessorRouter:
    cfg = load_toml("processors.toml")
    try:
        procs = cfg["processor"]
        names = [str(p["name"]) for p in procs]
        fees = [float(p["fee_per_attempt_usd"]) for p in procs]
        accepts = [frozenset(str(b).lower() for b in p["accepts_brands"]) for p in procs]
        overrides = []
        for i, o in enumerate(cfg.get("override", []), start=1):
            if o["use"] not in names:
                raise RuleError(
                    f"processors.toml override {i} 'use' must be one of {', '.join(names)}, got '{o['use']}'"
                )
            overrides.append(
                _Override(
                    brands=frozenset(str(b).lower() for b in o.get("when_brand", [])),
                    regions=frozenset(str(r) for r in o.get("when_issuer_region", [])),
                    use=names.index(o["use"]),
                    reason=str(o.get("reason", "")),
                )
            )
        return ProcessorRouter(
            names, fees, accepts, str(cfg["default"]), float(cfg["network_fee_usd"]), overrides
        )
    except KeyError as exc:
        raise RuleError(f"processors.toml must define {exc.args[0]}, got nothing") from None
