"""Poisson regression with absorbed fixed effects (``fepois``, PPML), fixest-style.

``fepois("children_youth_care ~ team_generalist | municipality + year", data, vcov={"cluster": "municipality"})``

The estimator maximises the Poisson (pseudo-)likelihood ``sum_i w_i (y_i log mu_i - mu_i)`` with
``log mu_i = x_i'b + fixed effects + offset_i`` by iteratively reweighted least squares (IRLS) as
fixest, pyfixest and Stata's ppmlhdfe do: each iteration forms the working outcome
``z = eta - offset + y/mu - 1``, sweeps the fixed effects out of ``z`` and the regressors with weights
``w * mu`` (the package's within transformation, :mod:`effectmeting.estimate.core.within`) and solves
the weighted least-squares problem with the package's one solver
(:func:`effectmeting.estimate.core.solver.solve_within`).  It stops when the relative change of the
deviance, ``|dev - dev_prev| / (0.1 + |dev_prev|)``, falls below ``tol`` (fixest's criterion).

Sample, in order, each step counted on the result: rows with a missing value in a used column are
dropped (``n_dropped_missing``), singleton fixed-effect groups (``n_singletons``, as feols), then
observations in fixed-effect groups whose outcome is zero throughout (``n_separated``, warned with
:class:`~effectmeting.errors.SeparationWarning`: their group effect would be minus infinity; fixest
and pyfixest drop them too).  Collinear regressors are dropped by the solver's rule at the first
iteration (:class:`~effectmeting.errors.CollinearityWarning`).

Covariance from the last iteration's weighted, demeaned regressors (the Poisson Hessian
``X' W X`` with ``W = w * mu``) and scores ``(y - mu) x``, with fixest's default small-sample
corrections (as pyfixest): iid ``(n - 1)/(n - df_k) (X'WX)^-1`` (Poisson variance equals the mean,
no dispersion estimated); ``"hc1"`` ``n/(n - df_k)`` sandwich; CRV1 one- and two-way as feols
(:mod:`effectmeting.estimate.core.covariance`).  Inference is normal (z), as fixest and pyfixest
do for GLMs.
"""
from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
from scipy.special import gammaln, xlogy

from effectmeting.errors import (ConvergenceWarning, FewClustersWarning, FormulaError, IdentificationError,
                                 SeparationWarning)
from effectmeting.estimate.core.checks import (OptionError, nonnegative_weights, numeric_column, require_frame,
                                               row_named, show)
from effectmeting.estimate.core.covariance import VCOV_ESTIMATORS, Covariance, count_parameters
from effectmeting.estimate.core.results import check_level
from effectmeting.estimate.core.solver import LeastSquaresFit, report_dropped, solve_within
from effectmeting.estimate.core.within import factorize
from effectmeting.estimate.fixest.design import check_columns
from effectmeting.estimate.fixest.feols import FEW_CLUSTERS, _design, _parse_vcov, _Sample, _select_rows, _values
from effectmeting.estimate.fixest.fepois_results import FepoisResults
from effectmeting.estimate.fixest.formula import parse_formula

#: fixest's and pyfixest's defaults: relative deviance change and number of IRLS iterations
DEFAULT_TOL = 1e-8
DEFAULT_MAX_ITER = 25
#: a zero outcome fitted below this share of the mean outcome signals separation by the regressors
#: (ppmlhdfe's ``mu_tol`` is 1e-6 in absolute terms; relative here, so the outcome's unit does not matter)
SEPARATION_MU_TOL = 1e-6


def _refuse_negative_outcome(data: pd.DataFrame, outcome: str, formula: str) -> None:
    """Poisson needs ``y >= 0``; refuse negative values on the raw column (before any row is
    dropped), naming the first row and its value."""
    column = data[outcome]
    if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
        return  # the design refuses a non-numeric outcome with a FormulaError
    negative = (column < 0).to_numpy(dtype=bool, na_value=False)
    if negative.any():
        position = int(np.flatnonzero(negative)[0])
        raise OptionError(
            f"fepois: the outcome {outcome!r} in {formula!r} has {int(negative.sum())} negative value(s); "
            f"the {row_named(data.index, position)} has {show(column.iloc[position])}. Poisson regression "
            "models non-negative counts or amounts: use feols for an outcome that can be negative, or "
            "correct those rows", reason="negative_outcome")


def _check_options(tol: float, max_iter: int) -> None:
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 < tol < 1:
        raise OptionError(f"fepois: tol={tol!r} must lie strictly between 0 and 1 (default {DEFAULT_TOL})")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise OptionError(f"fepois: max_iter={max_iter!r} must be a positive integer (default {DEFAULT_MAX_ITER})")


def _drop_separated(sample: _Sample, y: np.ndarray, notes: list[str]) -> tuple[_Sample, np.ndarray, int]:
    """Drop observations in fixed-effect groups whose outcome is zero throughout (any FE factor).

    One pass is enough: removing rows with ``y == 0`` never leaves a group of another factor with
    only zeros.  Returns the new sample, the keep mask on the old sample's rows and the count.
    """
    if not sample.fe_codes:
        return sample, np.ones(len(y), dtype=bool), 0
    positive = y > 0
    separated = np.zeros(len(y), dtype=bool)
    for codes in sample.fe_codes:
        has_positive = np.bincount(codes, weights=positive, minlength=int(codes.max()) + 1) > 0
        separated |= ~has_positive[codes]
    n_separated = int(separated.sum())
    keep = ~separated
    if not n_separated:
        return sample, keep, 0
    positions = np.flatnonzero(keep)
    rows = positions if sample.rows is None else sample.rows[positions]
    fe_codes = [factorize(codes[keep])[0] for codes in sample.fe_codes]
    note = (f"Dropped {n_separated:,} observations in fixed-effect groups whose outcome is zero throughout "
            f"(separation; in {' or '.join(sample.fe_names)}).")
    notes.append(note)
    warnings.warn(f"fepois: {note[0].lower()}{note[1:]}", SeparationWarning, stacklevel=3)
    return dataclasses.replace(sample, rows=rows, n_obs=len(rows), fe_codes=fe_codes), keep, n_separated


def _deviance(y: np.ndarray, mu: np.ndarray, w: np.ndarray | None) -> float:
    """Poisson deviance ``2 sum w (y log(y/mu) - (y - mu))`` (``y log y`` is 0 at ``y = 0``)."""
    terms = xlogy(y, y) - xlogy(y, mu) - (y - mu)
    return float(2.0 * (terms.sum() if w is None else w @ terms))


def _loglik(y: np.ndarray, mu: np.ndarray, w: np.ndarray | None) -> float:
    terms = xlogy(y, mu) - mu - gammaln(y + 1.0)
    return float(terms.sum() if w is None else w @ terms)


@dataclasses.dataclass
class _IrlsFit:
    fit: LeastSquaresFit
    mu: np.ndarray
    eta: np.ndarray
    iterations: int
    converged: bool
    deviance: float
    dropped: list[str]


def _irls(y: np.ndarray, x: np.ndarray, names: list[str], fe_codes: list[np.ndarray], w: np.ndarray | None,
          offset: np.ndarray | None, tol: float, max_iter: int, what: str) -> _IrlsFit:
    """Iteratively reweighted least squares for the Poisson model (ppmlhdfe's and pyfixest's steps).

    ``x`` (n, k) raw regressors (not modified); collinear columns are dropped at the first
    iteration, by the solver's rule on the ``w * mu``-weighted demeaned regressors.
    """
    n = len(y)
    offset_values = np.zeros(n) if offset is None else offset
    mu = (y + y.mean()) / 2.0  # pyfixest's and ppmlhdfe's start: positive even where y == 0
    eta = np.log(mu)
    last = _deviance(y, mu, w)
    kept_columns = list(range(x.shape[1]))
    dropped: list[str] = []
    converged = False
    fit: LeastSquaresFit | None = None
    iteration = 0
    for iteration in range(1, max_iter + 1):
        working = eta - offset_values + y / mu - 1.0
        combined = np.empty((n, 1 + len(kept_columns)), order="F")
        combined[:, 0] = working
        combined[:, 1:] = x[:, kept_columns]
        irls_weights = mu if w is None else w * mu
        fit = solve_within(combined, 1, [names[j] for j in kept_columns], fe_codes, irls_weights, what=what)
        if fit.dropped:
            if iteration > 1:  # the Hessian changed rank between iterations: no stable answer
                raise IdentificationError(
                    f"{what}: regressors {fit.dropped} became collinear during the IRLS iterations "
                    "(separation by a regressor?); drop them or the rows where they predict a zero outcome",
                    reason="collinear")
            dropped = list(fit.dropped)
            kept_columns = [j for j in kept_columns if names[j] in fit.names]
        # eta = z - (working residual); the fit's residual carries sqrt(weight)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            eta = working - fit.resid / np.sqrt(irls_weights) + offset_values
            mu = np.exp(eta)
        if not (np.all(np.isfinite(mu)) and np.all(mu > 0)):
            raise IdentificationError(
                f"{what}: the Poisson iterations diverged at iteration {iteration} (fitted means of 0 or "
                "infinity): a regressor perfectly predicts zero outcomes (separation) or takes extreme values; "
                "check the regressors on rows with a zero outcome", reason="separation")
        deviance = _deviance(y, mu, w)
        criterion = abs(deviance - last) / (0.1 + abs(last))
        last = deviance
        if criterion < tol:
            converged = True
            break
    assert fit is not None  # max_iter >= 1
    return _IrlsFit(fit, mu, eta, iteration, converged, last, dropped)


def _warn_regressor_separation(y: np.ndarray, mu: np.ndarray, index: pd.Index, rows: np.ndarray | None, what: str,
                               notes: list[str]) -> None:
    """Warn when zero outcomes are fitted as (numerically) zero: some regressor separates them, its
    coefficient runs off towards minus infinity and its standard error is meaningless."""
    near_zero = (y == 0) & (mu < SEPARATION_MU_TOL * y.mean())
    if not near_zero.any():
        return
    position = int(np.flatnonzero(near_zero)[0])
    first = row_named(index, position if rows is None else int(rows[position]))
    note = (f"{int(near_zero.sum()):,} zero outcome(s) are fitted as practically zero (first: the {first}): a "
            "regressor, or a combination of regressors, separates them (it is non-zero only where the outcome is "
            "zero); its coefficient diverges and its standard error is meaningless. Drop those rows or that "
            "regressor.")
    notes.append(note)
    warnings.warn(f"{what}: {note}", SeparationWarning, stacklevel=3)


def _poisson_covariance(formula: str, data: pd.DataFrame, sample: _Sample, fit: LeastSquaresFit, vcov_name: str,
                        cluster_columns: list[str]) -> Covariance:
    """The covariance chosen by ``vcov`` (see the module docstring); refuses designs without residual
    degrees of freedom or with a single cluster and warns with fewer than 50 clusters."""
    fe_codes, n_obs = sample.fe_codes, sample.n_obs
    fe_sizes = [int(codes.max()) + 1 for codes in fe_codes]
    df_k = count_parameters(fit.x.shape[1], fe_sizes)
    if df_k >= n_obs:
        raise IdentificationError(
            f"fepois {formula!r}: {n_obs:,} observations do not exceed the {df_k:,} parameters "
            "(regressors + fixed effects); no degrees of freedom are left for standard errors")
    if vcov_name == "iid":  # the Poisson variance is the mean: no dispersion, only fixest's (n-1)/(n-K)
        return Covariance(fit.bread * (n_obs - 1) / (n_obs - df_k), n_obs - df_k, df_k, "iid")
    cluster_codes = [fe_codes[sample.fe_names.index(c)] if c in sample.fe_names
                     else factorize(_values(data, c, sample.rows))[0] for c in cluster_columns]
    for column, codes in zip(cluster_columns, cluster_codes):
        if int(codes.max()) + 1 < 2:
            raise IdentificationError(
                f"fepois {formula!r}: cluster column {column!r} has a single cluster on the {n_obs:,} rows "
                "used; clustered standard errors need at least two (and reliable ones about 50). Cluster by "
                "a finer column or use vcov='hc1'", reason="too_few_clusters")
    covariance = VCOV_ESTIMATORS[vcov_name](fit.x, fit.resid, fit.bread, fe_sizes=fe_sizes, fe_codes=fe_codes,
                                            cluster_codes=cluster_codes)
    if cluster_columns and min(covariance.n_clusters) < FEW_CLUSTERS:
        warnings.warn(
            f"fepois: only {min(covariance.n_clusters)} clusters ({', '.join(cluster_columns)}): cluster-robust "
            "z-tests over-reject with fewer than 50 clusters; read the p-values as optimistic.",
            FewClustersWarning, stacklevel=3)
    return covariance


def fepois(formula: str, data: pd.DataFrame, *, vcov="iid", weights: str | None = None, offset: str | None = None,
           level: float = 0.95, tol: float = DEFAULT_TOL, max_iter: int = DEFAULT_MAX_ITER) -> FepoisResults:
    """Poisson regression (PPML) of ``formula`` on ``data``, absorbing the fixed effects after ``|``.

    The model is ``E[y | x, FE] = exp(x'b + FE + offset)``: a coefficient ``b_j`` is the change in
    the *log* of the expected outcome per unit of ``x_j`` (``exp(b_j) - 1`` the relative change; for a
    0/1 treatment, ``100 (exp(b) - 1)`` percent).  Consistent whenever the conditional mean is right,
    whatever the variance (pseudo-maximum likelihood; the outcome need not be a count, only
    non-negative); with over-dispersed counts use ``vcov="hc1"`` or clustered standard errors, as
    the iid ones assume the variance equals the mean.

    Parameters
    ----------
    formula : the feols grammar, ``"y ~ x1 + a:b + i(var, ref=v) + C(kind) | fe1 + fe2"``; parsed,
        never evaluated.  Without fixed effects an intercept is estimated.  ``y`` must be >= 0.
    data : one row per observation.
    vcov : ``"iid"``, ``"hc1"`` (``"hetero"``), ``{"cluster": "col"}`` or ``{"cluster": ["c1", "c2"]}``;
        fixest's default small-sample corrections (module docstring); normal (z) inference.
    weights : optional column of positive observation weights (the log-likelihood is weighted).
    offset : optional column added to the linear predictor with coefficient 1, on the log scale:
        ``log(population)`` models a rate per resident.
    level : confidence level of the result's intervals, 0 < level < 1.
    tol, max_iter : IRLS stopping rule (relative deviance change, fixest's criterion; at most
        ``max_iter`` weighted least-squares fits).  Not converging warns with
        :class:`~effectmeting.errors.ConvergenceWarning`.

    Returns a :class:`FepoisResults`: ``tidy()``/``summary()``/``etable`` as feols; ``glance()``
    adds ``deviance``, ``loglik``, ``pseudo_r2`` (McFadden, against an intercept-only Poisson model,
    as fixest's ``pr2``; NaN with weights), ``iterations``, ``converged`` and the rows dropped
    (``n_dropped_missing``, ``n_singletons``, ``n_separated``).

    Refused: a negative outcome (``OptionError``, reason ``negative_outcome``, naming the row), an
    outcome that is zero on every row used, non-positive weights, a design with every regressor
    collinear or without degrees of freedom (``IdentificationError``).  Separation caused by
    regressors rather than fixed effects (a dummy whose rows all have ``y == 0``) is not repaired:
    zero outcomes fitted below ``SEPARATION_MU_TOL`` times the mean outcome are warned with
    :class:`~effectmeting.errors.SeparationWarning` (the separating coefficient diverges), and a fit
    whose means under- or overflow is refused (``IdentificationError``, reason ``separation``).
    """
    parsed = parse_formula(formula)
    level = check_level(level, "fepois")
    require_frame(data, "fepois")
    check_columns(parsed, data)
    _check_options(tol, max_iter)
    vcov_name, cluster_columns = _parse_vcov(vcov, "fepois")
    extra = [c for c in [*cluster_columns, weights, offset] if c is not None]
    for column in extra:
        if column not in data.columns:
            raise FormulaError(f"fepois: column {column!r} (vcov/weights/offset) is not in the data")
    if weights is not None:  # text, infinite or negative weights are refused (missing: dropped)
        values = numeric_column(data[weights], "fepois", allow_missing=True)
        nonnegative_weights(values, data[weights], "fepois")
        zero = values == 0
        if zero.any():
            position = int(np.flatnonzero(zero)[0])
            raise OptionError(f"fepois: weights column {weights!r} has {int(zero.sum())} zero value(s), first at "
                              f"the {row_named(data.index, position)}; drop those rows (they do not enter a "
                              "Poisson fit) or give positive weights", reason="zero_weight")
    offset_column = None if offset is None else numeric_column(data[offset], "fepois", allow_missing=True)
    _refuse_negative_outcome(data, parsed.outcome, formula)

    used = list(dict.fromkeys(parsed.columns + extra))
    notes: list[str] = []
    sample = _select_rows(formula, parsed, data, used, notes)
    combined, names, w = _design(parsed, data, sample, weights, "fepois")
    y = combined[:, 0]
    if not (y > 0).any():
        raise IdentificationError(f"fepois {formula!r}: the outcome {parsed.outcome!r} is zero on all "
                                  f"{sample.n_obs:,} rows used; a Poisson model cannot be fitted", reason="separation")
    sample, keep, n_separated = _drop_separated(sample, y, notes)
    if n_separated:
        combined, w = combined[keep], None if w is None else w[keep]
        y = combined[:, 0]
    x = combined[:, 1:]
    offset_values = None
    if offset_column is not None:
        offset_values = offset_column if sample.rows is None else offset_column[sample.rows]

    what = f"fepois({formula!r})"
    irls = _irls(y, x, names, sample.fe_codes, w, offset_values, tol, max_iter, what)
    note = report_dropped(irls.dropped, what)
    if note:
        notes.append(note)
    if not irls.converged:
        message = (f"IRLS stopped after {irls.iterations} iterations without converging (relative deviance "
                   f"change above tol={tol:g}); raise max_iter or check for separation by a regressor.")
        notes.append(message)
        warnings.warn(f"{what}: {message}", ConvergenceWarning, stacklevel=2)
    _warn_regressor_separation(y, irls.mu, data.index, sample.rows, what, notes)
    covariance = _poisson_covariance(formula, data, sample, irls.fit, vcov_name, cluster_columns)

    loglik = _loglik(y, irls.mu, w)
    loglik_null = _loglik(y, np.full_like(y, y.mean()), None) if w is None else np.nan
    index = data.index if sample.rows is None else data.index[sample.rows]
    result = FepoisResults(
        formula=formula, coef=irls.fit.coef, vcov=covariance, names=irls.fit.names, nobs=sample.n_obs,
        fitted=pd.Series(irls.mu, index=index, name="fitted"), outcome=y,
        fixed_effects=sample.fe_names, cluster=cluster_columns, weights=weights, offset=offset,
        n_dropped_missing=sample.n_missing, n_singletons=sample.n_singletons, n_separated=n_separated,
        dropped_collinear=irls.dropped, notes=notes, iterations=irls.iterations, converged=irls.converged,
        deviance=irls.deviance, loglik=loglik, loglik_null=float(loglik_null))
    result.level = level
    return result
