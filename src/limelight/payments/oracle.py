"""The oracle: an upper bound for the benchmark, never a policy to deploy.

`OraclePolicy` plans exactly like `SmartRetryPolicy` (same gate, budget, costs, member prompts) but scores
candidate times with the simulator's *true* success chances of each failure (its hidden payday, funding
window, outage end, dormancy), which the simulator hands it through `bind_truth` before every decision.
The learned policy never gets them: it sees only logs. The oracle tells how much of the recoverable revenue
any log-trained policy could at best reach in this simulator.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from limelight.errors import NotFittedError
from limelight.payments.charges import FailedCharges
from limelight.payments.policy import SmartRetryPolicy

__all__ = ["ORACLE_EARLY_HOURS", "ORACLE_GRID_DAYS", "OraclePolicy"]

ORACLE_GRID_DAYS: tuple[int, ...] = tuple(range(1, 22))
ORACLE_EARLY_HOURS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 12.0, 16.0)
ORACLE_LOCAL_HOUR = 1.0 / 60.0  # 00:01 local, when pay lands


class _Truth:
    """Holds the simulator's truth for the charges of the current decision."""

    def __init__(self) -> None:
        self.fn: Callable[[np.ndarray], np.ndarray] | None = None

    def predict_grid(self, charges: FailedCharges, times: np.ndarray, processors: np.ndarray) -> np.ndarray:
        if self.fn is None:
            raise NotFittedError("the oracle must be run inside the simulator, which binds the truth")
        prob = self.fn(times)
        if prob.shape != (len(charges), times.shape[1], len(processors)):
            raise NotFittedError(f"the oracle's truth must have shape {times.shape}, got {prob.shape}")
        return prob


class OraclePolicy(SmartRetryPolicy):
    """Backward-induction planner on the simulator's true success chances (benchmark upper bound)."""

    name = "oracle"

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("grid_days", ORACLE_GRID_DAYS)
        kwargs.setdefault("local_hour", ORACLE_LOCAL_HOUR)
        kwargs.setdefault("early_hours", ORACLE_EARLY_HOURS)
        super().__init__(_Truth(), **kwargs)  # type: ignore[arg-type]

    def bind_truth(self, fn: Callable[[np.ndarray], np.ndarray]) -> None:
        """Called by the simulator before each decision with the truth for the charges it passes."""
        assert isinstance(self.model, _Truth)
        self.model.fn = fn
