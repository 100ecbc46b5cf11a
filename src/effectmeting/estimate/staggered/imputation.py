"""Borusyak, Jaravel & Spiess (2024) imputation estimator for staggered adoption.

1. Fit ``Y_it = alpha_i + beta_t + X_it'gamma + e_it`` by (weighted) least squares on the
   untreated observations only (never treated units and not-yet-treated periods).
2. Impute ``Y_it(0)`` for every treated observation and take ``tau_it = Y_it - Y_it(0)``.
3. Average ``tau_it`` with target weights: overall (every treated observation in the chosen
   horizons) and per horizon ``h = t - cohort``.

Every target is linear in the outcomes, ``sum_it v_it Y_it``; the "v" weights equal the target
weights on treated rows and ``-W0 Z0 (Z0'W0 Z0)^-1 Z1' w`` on untreated rows.  The standard
errors are the conservative clustered variance of Theorem 3,
``sum_c (sum_{it in c} v_it e~_it)^2``, with the auxiliary residuals ``e~`` of the
untreated fit and, on treated rows, ``tau_it - tau~_g`` where ``tau~_g`` is the
``v^2``-weighted mean of ``tau`` in the cohort x horizon cell ``g`` (as Stata
``did_imputation`` and R ``didimputation``).  With ``leave_one_out=True`` (the default, the
refinement of the paper's appendix A.9 / ``did_imputation, leaveout``) each treated residual is
scaled by ``1 / (1 - v_it^2 / sum_g v^2)``, which equals leaving unit ``i`` out of ``tau~_g``.

The fixed effects are solved from sparse normal equations rather than by demeaning, because the
v weights need the same solve ``(Z0'W0 Z0)^-1`` applied to each target; with unit and period
dummies that system has ``units + periods`` columns and a sparse LU does it directly.

Pre-trends (``pretrends=K``) follow the paper's test: on untreated observations only, regress
the outcome on the same effects plus dummies for ``1..K`` periods before adoption, clustered
CR1 standard errors.  Those coefficients are reported at event times ``-K..-1``; their
covariance with the post-period estimates is not estimated and set to zero.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from effectmeting.errors import IdentificationError, OptionError
from effectmeting.estimate.core.event_study_results import EventStudyResults
from effectmeting.estimate.staggered.panel import (
    StaggeredData, prepare, subset, twfe_ols,
)
from effectmeting.estimate.core.within import factorize


class ImputationResults(EventStudyResults):
    """Event-study results of :func:`imputation_did` plus the overall ATT and the
    per-observation effects ``tau`` (a DataFrame with unit, time, cohort, event_time, tau)."""

    treatment_effects: pd.DataFrame
    #: covariance of (overall, horizon_0, horizon_1, ...) from the Theorem-3 variance
    overall_vcov: np.ndarray


def _design(data: StaggeredData, rows: np.ndarray) -> sp.csr_matrix:
    """Unit dummies, period dummies (first period dropped) and covariates for ``rows``."""
    n = rows.size
    units = sp.csr_matrix((np.ones(n), (np.arange(n), data.unit_codes[rows])), shape=(n, data.n_units))
    keep = data.time_codes[rows] > 0
    periods = sp.csr_matrix(
        (np.ones(int(keep.sum())), (np.flatnonzero(keep), data.time_codes[rows][keep] - 1)),
        shape=(n, data.n_times - 1),
    )
    return sp.hstack([units, periods, sp.csr_matrix(data.covariates[rows])], format="csr")


def _check_imputable(data: StaggeredData, untreated: np.ndarray, target_rows: np.ndarray, unit: str, time: str) -> None:
    has_untreated_unit = np.bincount(data.unit_codes[untreated], minlength=data.n_units) > 0
    has_untreated_time = np.bincount(data.time_codes[untreated], minlength=data.n_times) > 0
    bad_unit = ~has_untreated_unit[data.unit_codes[target_rows]]
    if bad_unit.any():
        examples = data.frame[unit].to_numpy()[target_rows[bad_unit]][:5]
        raise IdentificationError(
            f"units {list(dict.fromkeys(examples.tolist()))} are treated in every observed period, so their "
            "untreated level cannot be imputed; drop them or restrict horizons"
        )
    bad_time = ~has_untreated_time[data.time_codes[target_rows]]
    if bad_time.any():
        periods = np.unique(data.time[target_rows[bad_time]])
        raise IdentificationError(
            f"in periods {periods.tolist()} every unit is treated (no never- or not-yet-treated unit), "
            "so the period effect cannot be estimated; restrict the sample to earlier periods"
        )
    if not untreated.any() or data.treated.all():
        raise IdentificationError("all observations are treated: there is nothing to impute from")


def imputation_did(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    covariates: list[str] | None = None,
    horizons: list[int] | None = None,
    pretrends: int | None = None,
    weights: str | None = None,
    cluster: str | None = None,
    leave_one_out: bool = True,
) -> ImputationResults:
    """Borusyak-Jaravel-Spiess imputation estimates: overall ATT and effects by horizon.

    Parameters
    ----------
    data : one row per unit x period (balanced or not).
    outcome, unit, time : column names; ``time`` numeric periods (years).
    cohort : first treated period per unit (same scale as ``time``); 0 or NA = never treated.
    covariates : time-varying controls entering the untreated model linearly.
    horizons : event times ``h >= 0`` to report; default every observed horizon.  The overall
        ATT averages the treated observations in these horizons.
    pretrends : number ``K`` of pre-adoption periods to test (see module docstring).
    weights : column of non-negative observation weights: used in the untreated fit and in the
        target averages (effects are weighted means of ``tau_it``).
    cluster : clustering column; default ``unit``.
    leave_one_out : apply the BJS appendix A.9 leave-out refinement to the variance.

    Returns
    -------
    ImputationResults with ``estimate``/``std_error`` = overall ATT (outcome units) and
    ``tidy()`` by event time.
    """
    panel = prepare(data, outcome=outcome, unit=unit, time=time, cohort=cohort, covariates=covariates,
                    weights=weights, cluster=cluster)
    obs_weight = np.ones(panel.y.size) if panel.weights is None else panel.weights
    event_time = panel.event_time
    treated = panel.treated
    if not treated.any():
        raise IdentificationError(f"no unit is ever treated in the observed periods (column '{cohort}')",
                                  reason="no_treated")
    available = np.unique(event_time[treated]).astype(int)
    if horizons is None:
        horizons = available.tolist()
    horizons = sorted(int(h) for h in horizons)
    if any(h < 0 for h in horizons):
        raise OptionError(f"horizons must be >= 0 (periods since adoption); got {horizons}")
    missing = [h for h in horizons if h not in set(available.tolist())]
    if missing:
        raise IdentificationError(f"horizons {missing} have no treated observations; observed: {available.tolist()}")

    untreated = np.flatnonzero(~treated)
    target_rows = np.flatnonzero(treated & np.isin(event_time, horizons) & (obs_weight > 0))
    _check_imputable(panel, untreated, target_rows, unit, time)

    z0, z1 = _design(panel, untreated), _design(panel, target_rows)
    w0 = obs_weight[untreated]
    gram = (z0.T @ sp.diags(w0) @ z0).tocsc()
    try:
        factor = splu(gram)
    except RuntimeError as exc:  # exactly singular: disconnected panel or collinear covariates
        raise IdentificationError(
            "the untreated model (unit + period effects + covariates) is not identified on the untreated "
            f"observations: {exc}; check for collinear covariates or units/periods linked only by treated rows",
            reason="collinear",
        ) from exc
    coefficients = factor.solve(np.asarray(z0.T @ (w0 * panel.y[untreated])).ravel())
    if not np.all(np.isfinite(coefficients)):
        raise IdentificationError("the untreated model is singular (collinear covariates?)", reason="collinear")
    residual0 = panel.y[untreated] - z0 @ coefficients
    tau = panel.y[target_rows] - z1 @ coefficients

    # Target weights: column 0 = overall, then one column per horizon.
    h_target = event_time[target_rows].astype(int)
    w_target = obs_weight[target_rows]
    columns = [np.ones_like(w_target, dtype=bool)] + [h_target == h for h in horizons]
    v1 = np.column_stack([np.where(c, w_target, 0.0) for c in columns])
    v1 /= v1.sum(axis=0, keepdims=True)
    v0 = -(z0 @ factor.solve(np.asarray(z1.T @ v1))) * w0[:, None]
    estimates = v1.T @ tau

    # Auxiliary model: tau~ per cohort x horizon cell, v^2-weighted, per target.
    cells, n_cells = factorize(panel.cohort[target_rows] * 1e6 + h_target)
    clusters, n_clusters = factorize(panel.cluster_codes)
    psi = np.zeros((n_clusters, v1.shape[1]))
    single_unit_cells = 0
    for k in range(v1.shape[1]):
        v2 = v1[:, k] ** 2
        den = np.bincount(cells, weights=v2, minlength=n_cells)
        num = np.bincount(cells, weights=v2 * tau, minlength=n_cells)
        simple = np.bincount(cells, weights=tau, minlength=n_cells) / np.bincount(cells, minlength=n_cells)
        tau_tilde = np.where(den > 0, num / np.where(den > 0, den, 1.0), simple)
        residual1 = tau - tau_tilde[cells]
        if leave_one_out:
            share = np.where(den[cells] > 0, v2 / np.where(den[cells] > 0, den[cells], 1.0), 0.0)
            alone = share > 1 - 1e-12  # one positive-weight unit in the cell: leave-out undefined
            single_unit_cells += int(alone.sum())
            residual1 = residual1 / np.where(alone, 1.0, 1.0 - share)
        np.add.at(psi[:, k], clusters[untreated], v0[:, k] * residual0)
        np.add.at(psi[:, k], clusters[target_rows], v1[:, k] * residual1)
    vcov = psi.T @ psi

    event_times = list(horizons)
    est = estimates[1:]
    cov = vcov[1:, 1:]
    if pretrends:
        pre_est, pre_cov = _pretrend_coefficients(panel, untreated, int(pretrends))
        event_times = list(range(-int(pretrends), 0)) + event_times
        est = np.concatenate([pre_est, est])
        full = np.zeros((len(event_times), len(event_times)))
        full[: len(pre_est), : len(pre_est)] = pre_cov
        full[len(pre_est):, len(pre_est):] = cov
        cov = full
    result = ImputationResults(
        title="Imputation DiD (Borusyak, Jaravel & Spiess 2024)", event_time=event_times, estimates=est,
        vcov=cov, nobs=int(panel.y.size), estimate=estimates[0], std_error=float(np.sqrt(vcov[0, 0])),
    )
    result.overall_vcov = vcov
    result.treatment_effects = pd.DataFrame({
        unit: panel.frame[unit].to_numpy()[target_rows], time: panel.frame[time].to_numpy()[target_rows],
        "cohort": panel.cohort[target_rows], "event_time": h_target, "tau": tau,
    })
    result.notes.append(
        f"Overall ATT {estimates[0]:.4f} (SE {np.sqrt(vcov[0, 0]):.4f}); conservative Theorem-3 variance, "
        f"clustered by {cluster or unit} ({n_clusters} clusters)"
        + ("; leave-one-out refinement" if leave_one_out else "")
    )
    if single_unit_cells:
        result.notes.append(f"{single_unit_cells} cohort x horizon cell(s) hold one unit: leave-out not applied there")
    if pretrends:
        result.notes.append("Pre-period coefficients come from the untreated-only pre-trend regression "
                            "(their covariance with post-period effects is not estimated)")
    return result


def _pretrend_coefficients(panel: StaggeredData, untreated: np.ndarray, n_leads: int):
    """BJS pre-trend regression on untreated rows: dummies for 1..K periods before adoption."""
    sub = subset(panel, untreated)
    leads = -np.arange(n_leads, 0, -1)  # -K..-1
    x = np.column_stack([(sub.event_time == h).astype(float) for h in leads])
    empty = [int(h) for h, col in zip(leads, x.T) if not col.any()]
    if empty:
        raise IdentificationError(f"pretrends={n_leads}: no untreated observations at event times {empty}")
    names = [f"pre{-h}" for h in leads] + [f"covariate{j}" for j in range(sub.covariates.shape[1])]
    coefficients, vcov, _ = twfe_ols(sub, np.column_stack([x, sub.covariates]), names)
    return coefficients[:n_leads], vcov[:n_leads, :n_leads]
