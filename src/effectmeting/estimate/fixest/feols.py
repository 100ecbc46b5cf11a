"""OLS with absorbed fixed effects (``feols``), fixest-style.

``feols("y ~ x1 + a:b + i(event_time, ref=-1) | unit + year", data, vcov={"cluster": "unit"})``

Steps, each visible in the result: drop rows with missing values in any used column
(counted in ``n_dropped_missing``), drop singleton fixed-effect groups iteratively like fixest
(``n_singletons``), sweep out the fixed effects, drop collinear regressors (``dropped_collinear``, warned) and solve
(the package's one solver, :func:`effectmeting.estimate.core.solver.solve_within`), and compute the covariance chosen by
``vcov`` (:mod:`effectmeting.estimate.core.covariance`, fixest's default small-sample corrections).

Memory (issue target: peak at most 3x the input data; ``benchmarks/bench_memory.py``): the
input frame is never copied.  Used rows are tracked as integer positions, the outcome and
regressors are written straight into one Fortran-ordered float64 (n, 1 + k) matrix, which is
demeaned, weighted and (for collinear columns) compacted in place; the result keeps views
into it.  The TWFE benchmark peaks at about 1.4x its input.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from effectmeting.errors import FewClustersWarning, FormulaError, IdentificationError, InputError
from effectmeting.estimate.core.checks import (OptionError, nonnegative_weights, numeric_column, require_frame,
                                               row_named)
from effectmeting.estimate.fixest.design import check_columns, design_matrix
from effectmeting.estimate.fixest.feols_results import FeolsResults, fit_statistics, total_sum_of_squares
from effectmeting.estimate.fixest.formula import parse_formula
from effectmeting.estimate.core.covariance import VCOV_ESTIMATORS, Covariance, count_parameters
from effectmeting.estimate.core.results import check_level
from effectmeting.estimate.core.solver import report_dropped, solve_within
from effectmeting.estimate.core.within import factorize

#: below this many clusters, cluster-robust t-tests over-reject; we point at the bootstrap
FEW_CLUSTERS = 50


@dataclass
class TransformedData:
    """The within-transformed, sqrt(weight)-scaled arrays the estimate was computed from.

    Kept on the result so the wild bootstrap and randomization inference can reuse them.
    ``y`` and ``x`` are views into one Fortran-ordered (n, 1 + k) matrix (read-only use).
    """

    y: np.ndarray
    x: np.ndarray  # kept (non-collinear) columns only
    cluster_codes: list[np.ndarray]
    fe_codes: list[np.ndarray]
    fe_sizes: list[int]


def _parse_vcov(vcov, who: str = "feols") -> tuple[str, list[str]]:
    if isinstance(vcov, str):
        name = vcov.lower()
        if name not in ("iid", "hc1", "hetero"):
            raise OptionError(f"{who}: vcov={vcov!r} is unknown; use 'iid', 'hc1', "
                              "{'cluster': 'column'} or {'cluster': ['c1', 'c2']}")
        return name, []
    if isinstance(vcov, dict) and set(vcov) == {"cluster"}:
        columns = vcov["cluster"]
        columns = [columns] if isinstance(columns, str) else list(columns)
        if not 1 <= len(columns) <= 2 or not all(isinstance(c, str) for c in columns):
            raise OptionError(f"{who}: vcov={vcov!r}: {{'cluster': ...}} takes one or two column "
                              "names, e.g. {'cluster': 'municipality'} or {'cluster': ['c1', 'c2']}")
        return "cluster", columns
    raise OptionError(f"{who}: vcov={vcov!r} is unknown; use 'iid', 'hc1', {{'cluster': 'column'}} "
                      "or {'cluster': ['c1', 'c2']}")


def _missing_rows(data: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Boolean mask of rows with a missing value in any of ``columns`` (one column at a time,
    so no copy of the frame is made)."""
    missing = np.zeros(len(data), dtype=bool)
    for column in columns:
        missing |= data[column].isna().to_numpy()
    return missing


def _values(data: pd.DataFrame, column: str, rows: np.ndarray | None) -> np.ndarray:
    """The values of one column at positions ``rows`` (all rows if None; then usually a view)."""
    values = data[column].to_numpy()
    return values if rows is None else values[rows]


def _drop_singletons(fe_codes: list[np.ndarray]) -> np.ndarray:
    """Boolean mask of rows kept after iteratively removing singleton FE groups (fixest)."""
    keep = np.ones(len(fe_codes[0]), dtype=bool)
    while True:
        removed = False
        for codes in fe_codes:
            counts = np.bincount(codes[keep], minlength=codes.max() + 1)
            singleton = keep & (counts[codes] == 1)
            if singleton.any():
                keep &= ~singleton
                removed = True
        if not removed or len(fe_codes) == 1:
            return keep


@dataclass
class _Sample:
    """Which observations are used: ``rows`` are positions into ``data`` (None = all rows, so
    that column reads stay views), with the fixed-effect codes on those rows."""

    rows: np.ndarray | None
    n_obs: int
    n_missing: int
    n_singletons: int
    fe_names: list[str]
    fe_codes: list[np.ndarray]


def _select_rows(formula: str, parsed, data: pd.DataFrame, used: list[str], notes: list[str]) -> _Sample:
    """Drop rows with a missing value in any used column, then singleton fixed-effect groups
    (they are fitted perfectly and only inflate the degrees of freedom); counted in ``notes``.

    Memory: the frame is never copied.  ``rows`` (positions into ``data``, None = all) says
    which observations are used; columns are read one at a time straight into the arrays.
    """
    missing = _missing_rows(data, used)
    n_missing = int(missing.sum())
    rows = np.flatnonzero(~missing) if n_missing else None
    del missing
    if n_missing:
        counts = {c: int(data[c].isna().sum()) for c in used}
        detail = ", ".join(f"{c}: {v}" for c, v in counts.items() if v)
        notes.append(f"Dropped {n_missing:,} rows with missing values ({detail}).")
    if rows is not None and len(rows) == 0:
        raise IdentificationError(f"no observations left for {formula!r}: every row has a missing value "
                                  f"({detail}); check these columns")

    fe_names = [name for name, _ in parsed.fixed_effects]
    fe_codes = [factorize(_values(data, name, rows))[0] for name in fe_names]
    n_singletons = 0
    if fe_codes:
        keep = _drop_singletons(fe_codes)
        n_singletons = int((~keep).sum())
        if n_singletons:
            rows = np.flatnonzero(keep) if rows is None else rows[keep]
            fe_codes = [factorize(codes[keep])[0] for codes in fe_codes]
            notes.append(f"Dropped {n_singletons:,} singleton observations (fixed-effect groups "
                         f"of size one in {' or '.join(fe_names)}).")
        del keep
    n_obs = len(data) if rows is None else len(rows)
    if n_obs == 0:
        raise IdentificationError(f"no observations left for {formula!r} after dropping "
                                  "missing values and singletons")
    return _Sample(rows, n_obs, n_missing, n_singletons, fe_names, fe_codes)


def _refuse_infinite(formula: str, combined: np.ndarray, names: list[str], outcome: str,
                     data: pd.DataFrame, rows: np.ndarray | None, who: str = "feols") -> None:
    """Refuse an infinite outcome or regressor value (it would turn every estimate into NaN),
    naming the term and the first row; one column at a time (no (n, k) temporary)."""
    for j, name in enumerate([outcome, *names]):
        infinite = np.isinf(combined[:, j])
        if infinite.any():
            position = int(np.flatnonzero(infinite)[0])
            first = row_named(data.index, position if rows is None else int(rows[position]))
            raise InputError(f"{who}: {name!r} in {formula!r} has {int(infinite.sum())} infinite "
                             f"value(s), first at the {first}; drop or correct those rows "
                             "(a division by zero upstream?) before estimating")


def _design(parsed, data: pd.DataFrame, sample: _Sample, weights: str | None, who: str = "feols"
            ) -> tuple[np.ndarray, list[str], np.ndarray | None]:
    """The (n, 1 + k) Fortran-ordered matrix of outcome (column 0) and regressors on the used
    rows, its regressor names and the weights on those rows (None without weights)."""
    rows = sample.rows
    combined, names = design_matrix(parsed, data, rows)
    _refuse_infinite(parsed.text, combined, names, parsed.outcome, data, rows, who)
    w = None
    if weights is not None:
        w = data[weights].to_numpy(dtype=float)
        w = w if rows is None else w[rows]
    return combined, names, w


def _covariance(formula: str, data: pd.DataFrame, sample: _Sample, x_t: np.ndarray, resid_t: np.ndarray,
                bread: np.ndarray, vcov_name: str, cluster_columns: list[str]
                ) -> tuple[Covariance, list[np.ndarray], list[int]]:
    """The covariance chosen by ``vcov``, after checking that residual degrees of freedom are
    left; warns with few clusters.  Returns ``(covariance, cluster_codes, fe_sizes)``."""
    fe_codes, fe_names, n_obs = sample.fe_codes, sample.fe_names, sample.n_obs
    n_kept = x_t.shape[1]
    fe_sizes = [int(codes.max()) + 1 for codes in fe_codes]
    if count_parameters(n_kept, fe_sizes) >= n_obs:
        raise IdentificationError(
            f"{formula!r}: {n_obs:,} observations do not exceed the "
            f"{count_parameters(n_kept, fe_sizes):,} parameters (regressors + fixed effects); "
            "no residual degrees of freedom are left for standard errors")
    # a cluster column that is also a fixed effect is already factorized
    cluster_codes = [fe_codes[fe_names.index(c)] if c in fe_names
                     else factorize(_values(data, c, sample.rows))[0]
                     for c in cluster_columns]
    for column, codes in zip(cluster_columns, cluster_codes):
        if int(codes.max()) + 1 < 2:
            raise IdentificationError(
                f"{formula!r}: cluster column {column!r} has a single cluster on the "
                f"{n_obs:,} rows used; clustered standard errors need at least two (and "
                "reliable ones about 50). Cluster by a finer column or use vcov='hc1'", reason="too_few_clusters")
    covariance = VCOV_ESTIMATORS[vcov_name](x_t, resid_t, bread, fe_sizes=fe_sizes,
                                            fe_codes=fe_codes, cluster_codes=cluster_codes)
    if cluster_columns and min(covariance.n_clusters) < FEW_CLUSTERS:
        warnings.warn(
            f"only {min(covariance.n_clusters)} clusters ({', '.join(cluster_columns)}): "
            "cluster-robust t-tests over-reject with fewer than 50 clusters; use "
            "effectmeting.estimate.fixest.wild_bootstrap.wild_cluster_bootstrap for the p-value.",
            FewClustersWarning, stacklevel=3)
    return covariance, cluster_codes, fe_sizes


def _original_scale_residual(resid_t: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Residuals on the outcome's scale: undo the sqrt(weight) scaling, in place (the
    transformed residual is not kept, so its memory is reused); zero-weight rows get 0."""
    resid = resid_t
    if w is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            resid /= np.sqrt(w)
    resid[~np.isfinite(resid)] = 0.0
    return resid


def feols(formula: str, data: pd.DataFrame, *, vcov="iid", weights: str | None = None,
          level: float = 0.95) -> FeolsResults:
    """Estimate ``formula`` by OLS on ``data``, absorbing the fixed effects after ``|``.

    Parameters
    ----------
    formula : ``"y ~ x1 + x2 + a:b + i(var, ref=v) + C(kind) | fe1 + fe2"``; ``0``/``- 1`` drops
        the intercept (there is none with fixed effects).  Parsed, never evaluated.
        ``i(var, ref=v)`` gives one dummy ``var::level`` per level except ``v``; ``i(var)`` and
        ``C(var)`` drop their first (sorted) level when an intercept or fixed effects are
        present (as pyfixest); ``i(var, x)`` / ``i(var, x, ref=v)`` give ``var::level:x``, the
        numeric column ``x`` times each dummy of ``var`` (every level unless ``ref=``, as
        pyfixest); ``a:b`` multiplies numeric columns.
    data : one row per observation; columns named in the formula.
    vcov : ``"iid"``, ``"hc1"``, ``{"cluster": "col"}`` or ``{"cluster": ["c1", "c2"]}``;
        small-sample corrections as fixest's defaults (see :mod:`.inference`).
    weights : optional column of non-negative analytic weights (WLS).
    level : confidence level of the result's intervals (``tidy()``, ``summary()``), 0 < level < 1.

    Rows with a missing value in any used column (outcome, regressors, fixed effects, cluster
    and weight columns) are dropped and counted in ``n_dropped_missing``; singleton FE groups
    are dropped (``n_singletons``); collinear regressors are dropped (``dropped_collinear``).
    A FewClustersWarning points at :func:`wild_cluster_bootstrap` with fewer than 50 clusters.
    Fit statistics (R², adjusted R², within R² and within adjusted R², as fixest/pyfixest) are in
    ``fit_stats``, ``glance()``, ``summary()`` and :func:`etable`; see :func:`fit_statistics`.
    """
    parsed = parse_formula(formula)
    level = check_level(level, "feols")
    require_frame(data, "feols")
    check_columns(parsed, data)
    vcov_name, cluster_columns = _parse_vcov(vcov)
    extra = [c for c in [*cluster_columns, weights] if c is not None]
    for column in extra:
        if column not in data.columns:
            raise FormulaError(f"column {column!r} (vcov/weights) is not in the data")
    if weights is not None:  # text, infinite or negative weights are refused (missing: dropped)
        nonnegative_weights(numeric_column(data[weights], "feols", allow_missing=True),
                            data[weights], "feols")
    used = list(dict.fromkeys(parsed.columns + extra))
    notes: list[str] = []
    sample = _select_rows(formula, parsed, data, used, notes)
    combined, names, w = _design(parsed, data, sample, weights)
    total = total_sum_of_squares(combined[:, 0], w)  # before the outcome is demeaned in place
    # demeaned, weighted and compacted in place (memory: no second (n, k) matrix)
    fit = solve_within(combined, 1, names, sample.fe_codes, w, what=repr(formula))
    note = report_dropped(fit.dropped, f"feols({formula!r})")
    if note:
        notes.append(note)
    y_t, x_t, names, dropped, bread, beta, resid_t = (fit.y, fit.x, fit.names, fit.dropped, fit.bread,
                                                       fit.coef, fit.resid)
    covariance, cluster_codes, fe_sizes = _covariance(formula, data, sample, x_t, resid_t, bread,
                                                      vcov_name, cluster_columns)
    fit_stats = fit_statistics(ssr=float(resid_t @ resid_t), total=total,
                               within_total=float(y_t @ y_t) if sample.fe_codes else None,
                               n=sample.n_obs, k=x_t.shape[1], fe_sizes=fe_sizes)
    resid = _original_scale_residual(resid_t, w)  # in place: the sum of squares above comes first
    index = data.index if sample.rows is None else data.index[sample.rows]
    result = FeolsResults(
        formula=formula, coef=beta, vcov=covariance, names=names, nobs=sample.n_obs,
        resid=pd.Series(resid, index=index, name="resid", copy=False),
        fixed_effects=sample.fe_names, cluster=cluster_columns, weights=weights,
        n_dropped_missing=sample.n_missing, n_singletons=sample.n_singletons,
        dropped_collinear=dropped, notes=notes,
        transformed=TransformedData(y_t, x_t, cluster_codes, sample.fe_codes, fe_sizes),
    )
    result.level = level
    result.fit_stats = fit_stats
    return result
