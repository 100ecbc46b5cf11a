"""Multiplier bootstrap on influence functions (R ``did::mboot``), seeded.

Each draw multiplies every unit's influence-function row by an i.i.d. weight with mean 0 and
variance 1 and averages over units.  R ``did`` draws Rademacher weights (+1/-1 with probability
1/2; see ``did/src/multiplier_bootstrap.cpp``); the Python port ``moderndid`` draws Mammen (1993)
weights.  Both are offered; Rademacher is the default to follow R ``did``.
Standard errors are the bootstrap interquartile range divided by ``qnorm(.75) - qnorm(.25)``
and the simultaneous (sup-t) critical value is the ``1 - alpha`` quantile (type 1, as R) of
``max_j |draw_j / se_j|``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri  # what scipy.stats.norm.ppf evaluates, without its ~0.8 s import

from effectmeting.estimate.core.bootstrap import weight_blocks


@dataclass(frozen=True)
class BootstrapResult:
    std_error: np.ndarray   # per column; NaN for degenerate (all-zero) columns
    crit_value: float       # simultaneous (sup-t) critical value at level 1 - alpha


def _quantile_type1(values: np.ndarray, prob: float, axis: int = 0) -> np.ndarray:
    """R ``quantile(type = 1)``: the inverse of the empirical distribution function."""
    return np.quantile(values, prob, axis=axis, method="inverted_cdf")


def multiplier_bootstrap(influence: np.ndarray, n_draws: int, seed,
                         alpha: float = 0.05, weight_type: str = "rademacher") -> BootstrapResult:
    """Bootstrap standard errors and a sup-t critical value from an ``n x k`` influence matrix.

    ``influence`` must be scaled so that ``var(theta_hat) = mean(influence**2) / n``; weights
    come from :func:`~effectmeting.estimate.core.bootstrap.weight_blocks` (one per row, per draw).
    """
    influence = np.asarray(influence, dtype=float)
    if influence.ndim == 1:
        influence = influence[:, None]
    n, k = influence.shape
    draws = np.empty((n_draws, k))
    for rows, multipliers in weight_blocks(n, n_draws, seed, weight_type):
        draws[rows] = multipliers @ influence / np.sqrt(n)   # = sqrt(n) * mean(v * IF)
    usable = np.sum(draws ** 2, axis=0) > np.sqrt(np.finfo(float).eps) * 10
    spread = (_quantile_type1(draws[:, usable], 0.75) - _quantile_type1(draws[:, usable], 0.25))
    scale = spread / (ndtri(0.75) - ndtri(0.25))
    std_error = np.full(k, np.nan)
    std_error[usable] = scale / np.sqrt(n)
    if usable.any():
        sup_t = np.max(np.abs(draws[:, usable] / scale), axis=1)
        crit = float(_quantile_type1(sup_t, 1.0 - alpha))
    else:
        crit = float("nan")
    return BootstrapResult(std_error=std_error, crit_value=crit)
