"""The synthetic DiD family's estimate on outcome matrices (Arkhangelsky et al. 2021, Algorithm 1).

:func:`fit_panels` computes the paper's three estimators (its Table 1): synthetic DiD (unit weights
with a free intercept and the ``zeta`` ridge, time weights with an intercept), synthetic control
(unit weights without intercept and a negligible ridge, no time weights) and DiD (uniform weights).
It takes several panels at once, because the variance algorithms re-run it on placebo,
leave-one-out and bootstrap panels (with the regularisation of the original fit, as the paper does).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from effectmeting.estimate.synthetic.weights import simplex_ridge_weights_many, sparsify

METHODS = ("sdid", "sc", "did")
#: iterations of the first Frank-Wolfe round, before sparsification (the paper's implementation)
FIRST_ROUND_ITERATIONS = 100
MAX_ITERATIONS = 10_000


@dataclass(frozen=True)
class Tuning:
    """Regularisation and stopping rule, fixed by the original fit and reused by every refit."""

    method: str
    zeta_omega: float
    zeta_lambda: float
    min_decrease: float


@dataclass(frozen=True)
class WeightedFit:
    estimate: float
    unit_weights: np.ndarray   # one per donor (rows 0..n_donors-1)
    time_weights: np.ndarray   # one per pre-period; zeros for synthetic control


def _two_rounds(matrices, targets, zeta: float, intercept: bool, starts, min_decrease: float) -> list[np.ndarray]:
    first = simplex_ridge_weights_many(matrices, targets, zeta, intercept=intercept, starts=starts,
                                       min_decrease=min_decrease, max_iter=FIRST_ROUND_ITERATIONS)
    return simplex_ridge_weights_many(matrices, targets, zeta, intercept=intercept,
                                      starts=[sparsify(w) for w in first], min_decrease=min_decrease,
                                      max_iter=MAX_ITERATIONS)


def fit_panels(outcomes: Sequence[np.ndarray], n_donors: Sequence[int], n_pre: int, tuning: Tuning,
               start_units: Sequence[np.ndarray | None] | None = None,
               start_times: Sequence[np.ndarray | None] | None = None) -> list[WeightedFit]:
    """Weights and effect on each outcome matrix (units x periods: its ``n_donors`` donors first,
    then its treated units; the first ``n_pre`` periods before adoption).  ``start_units`` /
    ``start_times`` are the first Frank-Wolfe iterates (warm starts of refits)."""
    count = len(outcomes)
    if tuning.method == "did":
        omegas = [np.full(n0, 1.0 / n0) for n0 in n_donors]
        lams = [np.full(n_pre, 1.0 / n_pre)] * count
    else:
        if tuning.method == "sdid":
            # time weights: pre-periods whose donor outcomes (plus an intercept) reproduce the donors' post mean
            lams = _two_rounds([y[:n0, :n_pre] for y, n0 in zip(outcomes, n_donors)],
                               [y[:n0, n_pre:].mean(axis=1) for y, n0 in zip(outcomes, n_donors)],
                               tuning.zeta_lambda, True, start_times, tuning.min_decrease)
        else:
            lams = [np.zeros(n_pre)] * count
        # unit weights: donors whose pre-period path matches the treated mean (SDID: up to a level)
        omegas = _two_rounds([y[:n0, :n_pre].T for y, n0 in zip(outcomes, n_donors)],
                             [y[n0:, :n_pre].mean(axis=0) for y, n0 in zip(outcomes, n_donors)],
                             tuning.zeta_omega, tuning.method == "sdid", start_units, tuning.min_decrease)
    return [WeightedFit(effect(y, n0, n_pre, omega, lam), omega, lam)
            for y, n0, omega, lam in zip(outcomes, n_donors, omegas, lams)]


def effect(outcome: np.ndarray, n_donors: int, n_pre: int, omega: np.ndarray, lam: np.ndarray) -> float:
    """``(treated - omega'donors)`` averaged over the post-periods minus its ``lam``-weighted pre-period level."""
    difference = outcome[n_donors:].mean(axis=0) - omega @ outcome[:n_donors]
    return float(difference[n_pre:].mean() - lam @ difference[:n_pre])


def gap_path(outcome: np.ndarray, n_donors: int, n_pre: int, omega: np.ndarray, lam: np.ndarray):
    """Per period: the treated mean, its synthetic twin (``omega``-weighted donors shifted by the
    ``lam``-weighted pre-period difference) and the gap between them; the gap's post mean is the effect."""
    treated = outcome[n_donors:].mean(axis=0)
    twin = omega @ outcome[:n_donors]
    twin = twin + lam @ (treated[:n_pre] - twin[:n_pre])
    return treated, twin, treated - twin


def rmspe(gap: np.ndarray) -> float:
    """Root mean squared gap (NaN for no periods)."""
    return float(np.sqrt(np.mean(np.square(gap)))) if gap.size else float("nan")


def normalise(weights: np.ndarray) -> np.ndarray:
    """``weights`` scaled to sum to one; uniform when they sum to zero (a warm start that lost its mass)."""
    total = weights.sum()
    return weights / total if total > 0 else np.full(len(weights), 1.0 / len(weights))
