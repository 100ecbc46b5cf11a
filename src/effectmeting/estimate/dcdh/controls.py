"""Covariate adjustment of the de Chaisemartin-D'Haultfoeuille estimator (``controls=[...]``).

Assumption (paper, section on covariates): conditional on the baseline treatment ``d``, the
status-quo outcome of switchers and controls would have evolved in parallel once the part
explained linearly by the evolution of the controls, ``theta_d' (X_t - X_{t-l})``, is taken out.

Implementation, per horizon ``l`` and baseline level ``d`` (as moderndid 0.2,
``moderndid.didinter.controls``):

* ``theta_{d,l}``: weighted least squares, without intercept, of the outcome's long difference
  ``Y_t - Y_{t-l}`` on the controls' long differences ``X_t - X_{t-l}`` over the cells of
  *never-switchers* with baseline ``d`` (cell weights ``w``).  did_multiplegt_dyn (R/Stata)
  instead regresses first differences on first differences with time effects over
  not-yet-switched cells; the two agree in expectation when the controls' effect is linear and
  constant, not numerically.
* every outcome difference of a unit with baseline ``d`` (switcher or control) is replaced by
  ``dY - theta_{d,l}' dX`` and the estimator of :mod:`dcdh_horizon` is applied to it.
* placebos use ``Y_{t-2l} - Y_{t-l}`` and, here, the matching ``X_{t-2l} - X_{t-l}`` (moderndid
  0.2 pairs them with ``X_t - X_{t-l}``; tests/estimate/dcdh/test_dcdh_moderndid.py recomputes that).
* influence function: the estimated ``theta`` adds ``-M_d' psi_g`` to ``U_g`` of every
  never-switcher ``g`` of baseline ``d`` with ``M_d = (1/N_l) sum_{g in d, t} a_{g,t} dX_{g,t}``
  (``a``: the horizon's cell coefficients) and ``psi_g = H_d^{-1} sum_t w dX (dY - dX' theta)``,
  ``H_d = sum w dX dX' / G``: the delta method for a two-step estimator.  moderndid 0.2 adds a
  term that is constant across units instead (recomputed in test_dcdh_moderndid.py).

Refused (IdentificationError): a baseline level with switchers but fewer than ``k + 1``
never-switcher cells or fewer than two never-switchers, and collinear control differences.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from effectmeting.errors import IdentificationError
from effectmeting.estimate.dcdh.panel import long_differences


@dataclass
class ControlFit:
    """Coefficients of the controls at one horizon and what the variance needs."""

    theta: np.ndarray  # (L, k) per baseline level, 0 where not estimated
    dx: np.ndarray  # (G, T, k) control differences, 0 where undefined
    psi: np.ndarray  # (G, k) influence of theta_{d} (non-zero for the never-switchers used)


def residualise(diff: np.ndarray, valid: np.ndarray, x: np.ndarray, weight: np.ndarray,
                base: np.ndarray, never: np.ndarray, needed: np.ndarray, *, lag: int, placebo: bool,
                levels: np.ndarray, names: list[str]) -> tuple[np.ndarray, ControlFit]:
    """Estimate ``theta_{d,l}`` on never-switchers and remove ``theta' dX`` from ``diff``.

    ``diff``/``valid``: the outcome differences (0 where invalid) and where they exist;
    ``base``: baseline level code per unit; ``never``: units that never switch; ``needed``:
    the level codes that have switchers at this horizon (their theta must be estimable).
    """
    n_units, _, k = x.shape
    # X_t - X_{t-l} (effects) or X_{t-2l} - X_{t-l} (placebos), NaN where undefined
    dx = long_differences(x, lag, placebo)
    ok = valid & ~np.isnan(dx).any(axis=2)
    dx = np.where(ok[:, :, None], dx, 0.0)
    n_levels = len(levels)
    theta = np.zeros((n_levels, k))
    psi = np.zeros((n_units, k))
    kind = "placebo" if placebo else "effect"
    for level in range(n_levels):  # a few baseline levels, not units
        members = never & (base == level)
        sample = members[:, None] & ok
        if level not in needed:
            continue
        if sample.sum() < k + 1 or members.sum() < 2:
            raise IdentificationError(
                f"controls {names}: at {kind} horizon {lag}, baseline treatment {levels[level]!r} has "
                f"{int(members.sum())} never-switcher(s) with {int(sample.sum())} usable differences; at "
                f"least 2 units and {k + 1} differences are needed to estimate the controls' coefficients. "
                "Drop the controls, or ask for fewer horizons"
            )
        w = np.where(sample, weight, 0.0)
        hessian = np.einsum("gt,gti,gtj->ij", w, dx, dx)
        if np.linalg.matrix_rank(hessian) < k:
            raise IdentificationError(
                f"controls {names}: their {'placebo ' if placebo else ''}differences over {lag} period(s) are "
                f"collinear among never-switchers with baseline treatment {levels[level]!r}; drop one",
                reason="collinear",
            )
        score = np.einsum("gt,gti,gt->i", w, dx, diff)
        theta[level] = np.linalg.solve(hessian, score)
        residual = diff - dx @ theta[level]
        unit_score = np.einsum("gt,gti,gt->gi", w, dx, residual)
        psi[members] = unit_score[members] @ np.linalg.inv(hessian / n_units).T
    adjusted = diff - np.einsum("gti,gi->gt", dx, theta[base])
    adjusted = np.where(valid, adjusted, 0.0)
    return adjusted, ControlFit(theta=theta, dx=dx, psi=psi)


def theta_influence(fit: ControlFit, coefficient: np.ndarray, base: np.ndarray, n_weighted: float) -> np.ndarray:
    """``(G,)`` term ``-M_{D_g1}' psi_g`` that estimating ``theta`` adds to ``U_g`` (already on
    the scale of ``U``, whose mean is the estimate)."""
    n_levels = fit.theta.shape[0]
    per_unit = np.einsum("gt,gti->gi", coefficient, fit.dx) / n_weighted  # (G, k)
    gradient = np.zeros((n_levels, per_unit.shape[1]))
    np.add.at(gradient, base, per_unit)  # M_d
    return -(fit.psi * gradient[base]).sum(axis=1)
