"""Imputation (Borusyak, Jaravel & Spiess 2024) effects of several cost lines with cluster influence values.

A documented re-derivation of :func:`effectmeting.estimate.staggered.imputation.imputation_did` (no
covariates, every horizon, clustered by municipality, leave-one-out refinement) on a balanced
units x periods array, for all cost lines at once and with unit frequency weights:

1. unit + year effects fitted by weighted least squares on the untreated cells (sparse normal
   equations, one LU factorisation shared by all lines);
2. ``tau_it = Y_it - Y_it(0)`` on treated cells; targets: overall (every treated cell) and one
   per horizon ``h = t - cohort``; every target is ``sum_it v_it Y_it`` with the "v" weights of
   ``imputation_did`` (the same for every line);
3. Theorem-3 influence values per municipality ``sum_t v_it e~_it`` with the auxiliary
   residuals ``e~`` (untreated residuals; ``tau - tau~`` per cohort x horizon cell, leave-one-out).

Because ``v`` does not depend on the outcome and ``tau~`` is linear in ``tau``, the influence
values of a sum of lines are the sums of the lines' values; the cells are cohort x horizon, so
the influence values of a sum of horizons are the sums of the horizons' values as well.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from effectmeting.costs.line_fits import LineFits
from effectmeting.errors import IdentificationError


def _indicator(codes: np.ndarray, size: int) -> sp.csr_matrix:
    return sp.csr_matrix((np.ones(len(codes)), (np.arange(len(codes)), codes)), shape=(len(codes), size))


def imputation_fit(cohort: np.ndarray, periods: np.ndarray, values: np.ndarray, lines: list[str],
                   units: np.ndarray, weights: np.ndarray | None = None, variance: bool = True,
                   share_term: bool = True) -> LineFits:
    """Overall and per-horizon imputation effects of ``values`` (n x T x L); ``cohort`` 0 = never treated.

    ``share_term``: add the influence of the estimated cohort x horizon cell shares in the target
    weights, ``sum_{c of unit i} (V_c / N_c)(tau_c - theta)`` (V_c: target weight of cell c, N_c
    its units, tau_c its mean effect): Theorem 3 is conditional on the realised adoption timing,
    a municipality bootstrap is not.  False gives ``imputation_did``'s SEs.
    """
    weights = np.ones(len(cohort)) if weights is None else np.asarray(weights, float)
    keep = weights > 0  # a municipality absent from a bootstrap draw has no unit effect to fit
    cohort, values, weights, units = cohort[keep], values[keep], weights[keep], units[keep]
    n, n_periods, n_lines = values.shape
    unit_code = np.repeat(np.arange(n), n_periods)
    period_code = np.tile(np.arange(n_periods), n)
    start = np.where(cohort > 0, cohort, np.inf)
    horizon_all = np.tile(periods, n) - np.repeat(start, n_periods)
    treated = horizon_all >= 0
    untreated, target = np.flatnonzero(~treated), np.flatnonzero(treated)
    if len(target) == 0:
        raise IdentificationError("imputation: no treated municipality-year to estimate an effect for")
    y = values.reshape(n * n_periods, n_lines)
    row_weight = np.repeat(weights, n_periods)

    def design(rows: np.ndarray) -> sp.csr_matrix:
        later = period_code[rows] > 0  # period 0 dropped: collinear with the unit effects
        periods_part = sp.csr_matrix((np.ones(int(later.sum())), (np.flatnonzero(later), period_code[rows][later] - 1)),
                                     shape=(len(rows), n_periods - 1))
        return sp.hstack([_indicator(unit_code[rows], n), periods_part], format="csr")

    z0, z1 = design(untreated), design(target)
    w0 = row_weight[untreated]
    if (np.bincount(unit_code[untreated], minlength=n) == 0).any() or \
            (np.bincount(period_code[untreated], minlength=n_periods) == 0).any():
        raise IdentificationError("imputation: a municipality or year has no untreated observation, so its "
                                  "untreated level cannot be imputed")
    factor = splu((z0.T @ sp.diags(w0) @ z0).tocsc())
    coefficients = factor.solve(np.asarray(z0.T @ (w0[:, None] * y[untreated])))
    residual0 = y[untreated] - z0 @ coefficients
    tau = y[target] - z1 @ coefficients
    horizon = horizon_all[target].astype(int)
    horizons = np.unique(horizon)
    w_target = row_weight[target]
    v1 = np.column_stack([w_target] + [np.where(horizon == h, w_target, 0.0) for h in horizons])
    v1 /= v1.sum(axis=0, keepdims=True)
    estimates = v1.T @ tau  # (1 + H, L)
    phi = None
    if variance:
        v0 = -(z0 @ factor.solve(np.asarray(z1.T @ v1))) * w0[:, None]
        cell_key = np.repeat(cohort, n_periods)[target] * 1e6 + horizon
        phi = _influence(v0, v1, residual0, tau, unit_code[untreated], unit_code[target], cell_key, n)
        if share_term:
            phi = phi + _share_influence(v1, tau, estimates, unit_code[target], cell_key, n)
    return LineFits(lines=list(lines), units=units, overall=estimates[0], event_times=horizons.astype(int),
                    event=estimates[1:], phi_overall=None if phi is None else phi[:, 0, :],
                    phi_event=None if phi is None else phi[:, 1:, :])


def _influence(v0, v1, residual0, tau, unit0, unit1, cell_key, n_units) -> np.ndarray:
    """Theorem-3 cluster sums (n_units, targets, lines) with leave-one-out cell means (as imputation_did)."""
    cells = np.unique(cell_key, return_inverse=True)[1]
    members = _indicator(cells, int(cells.max()) + 1)  # rows x cells
    size = np.asarray(members.sum(axis=0)).ravel()
    sum_units0, sum_units1 = _indicator(unit0, n_units).T, _indicator(unit1, n_units).T
    simple = (members.T @ tau) / size[:, None]
    out = np.zeros((n_units, v1.shape[1], tau.shape[1]))
    for k in range(v1.shape[1]):  # one pass per target (overall + horizons, about ten)
        v2 = v1[:, k] ** 2
        den = members.T @ v2
        num = members.T @ (v2[:, None] * tau)
        safe = np.where(den > 0, den, 1.0)
        tilde = np.where(den[:, None] > 0, num / safe[:, None], simple)
        residual1 = tau - tilde[cells]
        share = np.where(den[cells] > 0, v2 / safe[cells], 0.0)
        alone = share > 1 - 1e-12  # one unit with weight in the cell: leave-out undefined (as imputation_did)
        residual1 = residual1 / np.where(alone, 1.0, 1.0 - share)[:, None]
        out[:, k, :] = sum_units0 @ (v0[:, k, None] * residual0) + sum_units1 @ (v1[:, k, None] * residual1)
    return out


def _share_influence(v1, tau, estimates, unit1, cell_key, n_units) -> np.ndarray:
    """Influence (n_units, targets, lines) of the estimated cell shares in the target weights.

    Target k is ``sum_c V_kc taubar_c`` with ``V_kc`` proportional to the cell's units ``N_c``
    (one treated row per unit and cell); ``d/d unit i = sum_{c of i} V_kc / N_c (taubar_c - theta_k)``.
    """
    cells = np.unique(cell_key, return_inverse=True)[1]
    members = _indicator(cells, int(cells.max()) + 1)
    size = np.asarray(members.sum(axis=0)).ravel()
    cell_mass = np.asarray(members.T @ v1)                        # cells x targets (V_kc)
    cell_mean = np.asarray(members.T @ tau) / size[:, None]       # cells x lines (taubar_c)
    per_unit_cell = (members.multiply(1.0 / size[None, :])).tocsr()  # row r: 1/N_c of its cell
    unit_rows = _indicator(unit1, n_units).T.tocsr()              # units x target rows
    share = unit_rows @ per_unit_cell                              # units x cells: 1{i in c} / N_c
    deviation = cell_mean[:, None, :] - estimates[None, :, :]      # cells x targets x lines
    weighted = cell_mass[:, :, None] * deviation
    return np.asarray(np.einsum("ic,ckl->ikl", share.toarray(), weighted))
