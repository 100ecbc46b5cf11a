"""Shared plumbing for the staggered-adoption estimators (imputation, Sun-Abraham, TWFE event
study, Bacon decomposition): input normalisation done once, an OLS with absorbed fixed effects,
and a cluster-robust sandwich.  The event-study results class is in
:mod:`effectmeting.estimate.core.event_study_results`.

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

from effectmeting.errors import IdentificationError, InputError
from effectmeting.estimate.core.checks import nonnegative_weights, numeric_column, require_frame
from effectmeting.estimate.core.covariance import vcov_cluster
from effectmeting.estimate.core.within import demean, factorize


@dataclass
class StaggeredData:
    """A validated staggered-adoption panel as flat arrays (one entry per row)."""

    frame: pd.DataFrame  # the used columns, original row order, default RangeIndex
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
) -> StaggeredData:
    """Check columns and values once, at the door, and return flat arrays.

    Refuses (never drops) rows with a missing outcome, time, unit, covariate or weight,
    duplicated (unit, time) rows, and cohorts that vary within a unit.  A cohort of ``0`` always
    means "never treated", so periods must not be numbered from 0 when a unit can adopt in
    period 0 (use calendar years).
    """
    require_frame(data, "staggered-adoption estimator")
    covariates = [covariates] if isinstance(covariates, str) else list(covariates or [])
    needed = [outcome, unit, time, cohort, *covariates]
    needed += [c for c in (weights, cluster) if c is not None and c not in needed]
    missing_columns = [c for c in dict.fromkeys(needed) if c not in data.columns]
    if missing_columns:
        raise InputError(f"columns {missing_columns} not found in the data; available: {list(data.columns)}")
    frame = data[list(dict.fromkeys(needed))].reset_index(drop=True)

    for column in [outcome, unit, time, *covariates, *([weights] if weights else [])]:
        bad = frame[column].isna().to_numpy()
        if bad.any():
            rows = np.flatnonzero(bad)[:5].tolist()
            raise InputError(
                f"column '{column}' has {int(bad.sum())} missing value(s) (first rows {rows}); "
                "drop or impute them explicitly before estimating"
            )
    duplicated = frame.duplicated([unit, time], keep=False).to_numpy()
    if duplicated.any():
        rows = np.flatnonzero(duplicated)[:5].tolist()
        raise InputError(f"({unit}, {time}) is not unique: rows {rows} repeat a unit-period; aggregate first")

    time_values = pd.to_numeric(frame[time], errors="coerce").to_numpy(dtype=float)
    if np.isnan(time_values).any():
        row = int(np.flatnonzero(np.isnan(time_values))[0])
        raise InputError(f"column '{time}' must be numeric periods; row {row} has {frame[time].iloc[row]!r}")
    cohort_values = pd.to_numeric(frame[cohort], errors="coerce").to_numpy(dtype=float)
    non_numeric = np.isnan(cohort_values) & frame[cohort].notna().to_numpy()
    if non_numeric.any():
        row = int(np.flatnonzero(non_numeric)[0])
        raise InputError(f"column '{cohort}' must be a numeric first treated period; row {row} has {frame[cohort].iloc[row]!r}")
    cohort_values = np.where(np.isnan(cohort_values) | (cohort_values == 0), np.inf, cohort_values)

    unit_codes, n_units = factorize(frame[unit].to_numpy())
    spread = pd.Series(cohort_values).groupby(unit_codes).nunique()
    if (spread > 1).any():
        code = int(spread.index[np.flatnonzero(spread.to_numpy() > 1)[0]])
        example = frame[unit].to_numpy()[unit_codes == code][0]
        raise IdentificationError(
            f"column '{cohort}' varies within unit {example!r}: a cohort is the first treated period "
            "and must be constant per unit (non-absorbing treatment is not supported by these estimators)"
        )
    time_codes, n_times = factorize(time_values)
    if cluster is None:
        cluster_codes = unit_codes
    else:
        if frame[cluster].isna().any():
            raise InputError(f"cluster column '{cluster}' has missing values")
        cluster_codes, _ = factorize(frame[cluster].to_numpy())
    who = "staggered-adoption estimator"
    weight_values = None
    if weights is not None:
        weight_values = numeric_column(frame[weights], who)
        nonnegative_weights(weight_values, frame[weights], who)
    # text that is not a number and infinite values are refused with the column and row
    x = (np.column_stack([numeric_column(frame[c], who) for c in covariates]) if covariates
         else np.empty((len(frame), 0)))
    return StaggeredData(
        frame=frame, y=numeric_column(frame[outcome], who), time=time_values, cohort=cohort_values,
        unit_codes=unit_codes, n_units=n_units, time_codes=time_codes, n_times=n_times,
        cluster_codes=cluster_codes, covariates=x, weights=weight_values,
    )


def subset(panel: StaggeredData, rows: np.ndarray) -> StaggeredData:
    """The rows ``rows`` of ``panel`` with unit and period codes renumbered 0..G-1."""
    unit_codes, n_units = factorize(panel.unit_codes[rows])
    time_codes, n_times = factorize(panel.time_codes[rows])
    return StaggeredData(
        frame=panel.frame.iloc[rows].reset_index(drop=True), y=panel.y[rows], time=panel.time[rows],
        cohort=panel.cohort[rows], unit_codes=unit_codes, n_units=n_units, time_codes=time_codes,
        n_times=n_times, cluster_codes=panel.cluster_codes[rows], covariates=panel.covariates[rows],
        weights=None if panel.weights is None else panel.weights[rows],
    )


def twfe_ols(data: StaggeredData, regressors: np.ndarray, names: list[str]):
    """OLS of ``y`` on ``regressors`` with unit and period effects absorbed, CR1 clustered
    (``effectmeting.estimate.core.covariance.vcov_cluster``).

    Returns ``(coefficients, vcov, residuals)``.  Refuses collinear regressors with their names.
    """
    groups = [data.unit_codes, data.time_codes]
    # one Fortran-ordered (n, 1 + k) matrix, demeaned in place (no second copy)
    regressors = np.asarray(regressors, dtype=float).reshape(len(data.y), -1)
    both = np.empty((len(data.y), 1 + regressors.shape[1]), order="F")
    both[:, 0] = data.y
    both[:, 1:] = regressors
    both = demean(both, groups, data.weights, copy=False)  # in place for this float64 F-array
    y_tilde, x_tilde = both[:, 0], both[:, 1:]
    w = np.ones(len(y_tilde)) if data.weights is None else data.weights
    gram = x_tilde.T @ (x_tilde * w[:, None])
    rank = np.linalg.matrix_rank(gram)
    if rank < x_tilde.shape[1]:
        scale = np.sqrt(np.maximum(np.diag(gram), 1e-300))
        dropped = [names[j] for j in np.flatnonzero(np.diag(gram) / scale.max() ** 2 < 1e-12)]
        raise IdentificationError(
            f"regressors are collinear with the unit and period effects or each other "
            f"(rank {rank} of {x_tilde.shape[1]}; e.g. {dropped[:5] or names[:5]})",
            reason="collinear",
        )
    bread = np.linalg.inv(gram)
    coefficients = bread @ (x_tilde.T @ (w * y_tilde))
    residuals = y_tilde - x_tilde @ coefficients
    # CR1 with fixest's small-sample convention (unit effects nested in unit clusters not counted)
    root_w = np.sqrt(w)
    covariance = vcov_cluster(x_tilde * root_w[:, None], residuals * root_w, bread,
                              fe_sizes=[data.n_units, data.n_times], fe_codes=groups,
                              cluster_codes=[data.cluster_codes])
    return coefficients, covariance.matrix, residuals
