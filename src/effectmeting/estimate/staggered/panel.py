"""Shared plumbing for the staggered-adoption estimators (imputation, Sun-Abraham, TWFE event
study, Bacon decomposition): input normalisation done once and the unit + period effects
regression (:func:`twfe_ols`, on the package's one solver and covariance module).  The
event-study results class is in :mod:`effectmeting.estimate.core.event_study_results`.

Conventions
-----------
``cohort`` is the first treated period of a unit, on the same scale as ``time`` (e.g. the year
a municipality started its wijkteam).  ``0`` or missing means never treated.  Treatment is
absorbing by construction of a cohort column; a cohort that differs between rows of one unit
is refused, because it means the input describes switching on and off.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from effectmeting.errors import IdentificationError
from effectmeting.estimate.core.data import PanelData, appearance_codes
from effectmeting.estimate.core.covariance import cluster_influence, vcov_cluster
from effectmeting.estimate.core.solver import report_dropped, solve_within
from effectmeting.estimate.core.within import factorize


@dataclass
class StaggeredData:
    """A validated staggered-adoption panel as flat arrays (one entry per row), a view of
    :class:`~effectmeting.estimate.core.data.PanelData` with codes in order of appearance."""

    unit_values: np.ndarray  # unit label of each row, original row order
    time_values: np.ndarray  # period of each row as given (numbers; numeric text converted)
    y: np.ndarray
    time: np.ndarray  # float periods
    cohort: np.ndarray  # float first treated period; np.inf for never treated
    unit_codes: np.ndarray
    n_units: int
    time_codes: np.ndarray
    n_times: int
    cluster_codes: np.ndarray
    covariates: np.ndarray  # (n, p), p may be 0
    weights: np.ndarray | None

    @property
    def event_time(self) -> np.ndarray:
        """Periods since adoption (``time - cohort``); ``-inf`` for never-treated units."""
        return self.time - self.cohort

    @property
    def treated(self) -> np.ndarray:
        return self.time >= self.cohort

    @property
    def never_treated(self) -> np.ndarray:
        return np.isinf(self.cohort)


def prepare(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    covariates: list[str] | None = None,
    weights: str | None = None,
    cluster: str | None = None,
    who: str = "staggered-adoption estimator",
) -> StaggeredData:
    """Check columns and values once, at the door (:meth:`PanelData.from_frame`), and return
    flat arrays.

    Refuses (never drops) rows with a missing outcome, time, unit, covariate, weight or
    cluster, duplicated (unit, time) rows, and cohorts that vary within a unit.  A cohort of ``0``
    always means "never treated", so periods must not be numbered from 0 when a unit can adopt in
    period 0 (use calendar years).
    """
    covariates = [covariates] if isinstance(covariates, str) else list(covariates or [])
    panel = PanelData.from_frame(data, unit=unit, time=time, outcome=outcome, cohort=cohort, weights=weights,
                                 cluster=cluster, covariates=covariates, who=who, constant_within_unit=[cohort])
    # unit and cohort are required arguments, so the door filled their arrays
    assert panel.cohort is not None and panel.unit_codes is not None and panel.unit_values is not None
    cohort_values = np.where(np.isnan(panel.cohort) | (panel.cohort == 0), np.inf, panel.cohort)
    # the regression's sums follow codes in order of appearance (as fixest numbers fixed effects)
    unit_codes, n_units = appearance_codes(panel.unit_codes)
    time_codes, n_times = appearance_codes(panel.time_codes)
    # cluster_codes is None exactly when no cluster column was given
    cluster_codes = unit_codes if panel.cluster_codes is None else appearance_codes(panel.cluster_codes)[0]
    x = (np.column_stack([panel.covariates[c] for c in covariates]) if covariates
         else np.empty((panel.n_rows, 0)))
    return StaggeredData(
        unit_values=panel.unit_values, time_values=panel.time, y=panel.y, time=panel.time_float,
        cohort=cohort_values, unit_codes=unit_codes, n_units=n_units, time_codes=time_codes, n_times=n_times,
        cluster_codes=cluster_codes, covariates=x, weights=panel.weights,
    )


def subset(panel: StaggeredData, rows: np.ndarray) -> StaggeredData:
    """The rows ``rows`` of ``panel`` with unit and period codes renumbered 0..G-1."""
    unit_codes, n_units = factorize(panel.unit_codes[rows])
    time_codes, n_times = factorize(panel.time_codes[rows])
    return StaggeredData(
        unit_values=panel.unit_values[rows], time_values=panel.time_values[rows], y=panel.y[rows],
        time=panel.time[rows], cohort=panel.cohort[rows], unit_codes=unit_codes, n_units=n_units,
        time_codes=time_codes, n_times=n_times, cluster_codes=panel.cluster_codes[rows],
        covariates=panel.covariates[rows], weights=None if panel.weights is None else panel.weights[rows],
    )


@dataclass
class PanelFit:
    """An OLS fit with unit and period effects absorbed (:func:`twfe_ols`).

    ``coef`` (k,) or (k, L) for L outcome columns; ``vcov`` the CR1 clustered covariance (k, k)
    or one per outcome (L, k, k); ``influence`` per-cluster influence values (G, k) or (G, k, L)
    with ``influence' influence = vcov`` (clusters in ``data.cluster_codes`` order);
    ``resid`` on the (demeaned) outcome scale; ``dropped``: collinear regressors left out.
    """

    coef: np.ndarray
    vcov: np.ndarray
    resid: np.ndarray
    names: list[str]
    dropped: list[str]
    influence: np.ndarray | None = None


def twfe_ols(data: StaggeredData, regressors: np.ndarray, names: list[str], *,
             required: list[str] | None = None, outcomes: np.ndarray | None = None,
             influence: bool = False) -> PanelFit:
    """OLS of ``y`` (or the columns of ``outcomes``, (n, L)) on ``regressors`` with unit and
    period effects absorbed and ``data.weights`` as analytic weights, CR1 clustered by
    ``data.cluster_codes`` (:func:`effectmeting.estimate.core.covariance.vcov_cluster`).

    One solver and one collinearity rule (:func:`effectmeting.estimate.core.solver.solve_within`).
    The event-study estimators need every event-time coefficient, so a collinear regressor in
    ``required`` (default: all) is refused with its name (IdentificationError); others (e.g.
    covariates) are dropped, warned about and listed in ``dropped``.  ``influence=True`` adds the
    per-cluster influence values (used by ``costs`` for sums of effects and lines).
    """
    n = len(data.y)
    ys = data.y[:, None] if outcomes is None else np.asarray(outcomes, dtype=float).reshape(n, -1)
    regressors = np.asarray(regressors, dtype=float).reshape(n, -1)
    n_outcomes = ys.shape[1]
    # one Fortran-ordered (n, L + k) matrix, demeaned in place (no second copy)
    combined = np.empty((n, n_outcomes + regressors.shape[1]), order="F")
    combined[:, :n_outcomes] = ys
    combined[:, n_outcomes:] = regressors
    groups = [data.unit_codes, data.time_codes]
    fit = solve_within(combined, 1 if outcomes is None else n_outcomes, names, groups, data.weights,
                       what="the regression on unit and period effects")
    needed = set(names if required is None else required)
    refused = [name for name in fit.dropped if name in needed]
    if refused:
        raise IdentificationError(
            f"regressors are collinear with the unit and period effects or each other and cannot be "
            f"estimated: {refused[:5]} ({len(fit.dropped)} of {len(names)} collinear)", reason="collinear")
    report_dropped(fit.dropped, "unit and period effects regression", stacklevel=4)
    # CR1 with fixest's small-sample convention (unit effects nested in unit clusters not counted)
    options = {"fe_sizes": [data.n_units, data.n_times], "fe_codes": groups, "cluster_codes": [data.cluster_codes]}
    resid = fit.resid if data.weights is None else _unweighted(fit.resid, data.weights)
    if outcomes is None:
        vcov = vcov_cluster(fit.x, fit.resid, fit.bread, **options).matrix
        phi = cluster_influence(fit.x, fit.resid, fit.bread, **options) if influence else None
        return PanelFit(fit.coef, vcov, resid, fit.names, fit.dropped, phi)
    columns = range(n_outcomes)
    scaled = fit.resid.reshape(n, n_outcomes)  # (n, L) also for a single outcome column
    vcov = np.stack([vcov_cluster(fit.x, scaled[:, j], fit.bread, **options).matrix for j in columns])
    phi = (np.stack([cluster_influence(fit.x, scaled[:, j], fit.bread, **options) for j in columns], axis=2)
           if influence else None)
    return PanelFit(fit.coef.reshape(-1, n_outcomes), vcov, resid.reshape(n, n_outcomes), fit.names, fit.dropped, phi)


def _unweighted(resid: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Residuals on the outcome scale from sqrt(weight)-scaled ones (0 on zero-weight rows)."""
    root = np.sqrt(weights) if resid.ndim == 1 else np.sqrt(weights)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = resid / root
    out[~np.isfinite(out)] = 0.0
    return out
