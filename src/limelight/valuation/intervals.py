"""Split-conformal prediction intervals on log hours, calibrated on a later time slice than training.

The forecaster is trained on the earlier reporting windows and scored on the latest one it has; the
absolute residuals of log1p(hours) on that later slice give the interval's half-width (the finite-sample
`ceil((n + 1)(1 - alpha))`-th smallest score of Vovk et al. / Lei et al. 2018). Calibrating on a *later* slice
measures what a forecast one window ahead really misses, including drift between windows — which a
random split of the same windows would hide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from limelight.errors import InputError, NotFittedError

__all__ = ["SplitConformal"]


@dataclass
class SplitConformal:
    """Symmetric split-conformal interval for a point forecast on a log scale.

    `alpha=0.2` gives 80% intervals. `fit(residuals)` learns `half_width_`; `interval(log_pred)` returns
    (lower, upper) on the same log scale.
    """

    alpha: float = 0.2

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise InputError(f"alpha must be in (0, 1), got {self.alpha}")

    def fit(self, residuals: np.ndarray) -> SplitConformal:
        scores = np.abs(np.asarray(residuals, dtype="float64"))
        scores = scores[np.isfinite(scores)]
        n = scores.size
        if n == 0:
            raise InputError("conformal calibration needs at least one residual, got none")
        rank = math.ceil((n + 1) * (1.0 - self.alpha))  # the k-th smallest score
        ordered = np.sort(scores)
        # too few residuals for this coverage: an honest interval is unbounded
        self.half_width_ = float(ordered[rank - 1]) if rank <= n else math.inf
        self.n_calibration_ = int(n)
        return self

    def interval(self, log_prediction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not hasattr(self, "half_width_"):
            raise NotFittedError("SplitConformal must be fitted on calibration residuals before interval()")
        pred = np.asarray(log_prediction, dtype="float64")
        return pred - self.half_width_, pred + self.half_width_
