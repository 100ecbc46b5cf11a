"""OLS with absorbed fixed effects (``feols``), fixest-style.

``feols("y ~ x1 + a:b + i(event_time, ref=-1) | unit + year", data, vcov={"cluster": "unit"})``

Steps, each visible in the result: drop rows with missing values in any used column
(counted in ``n_dropped_missing``), drop singleton fixed-effect groups iteratively like fixest
(``n_singletons``), sweep out the fixed effects (:func:`effectmeting.estimate.within.demean`),
drop collinear regressors (``dropped_collinear``), solve, and compute the covariance chosen by
``vcov`` (:mod:`effectmeting.estimate.inference`, fixest's default small-sample corrections).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from effectmeting.errors import FormulaError, IdentificationError
from effectmeting.estimate.design import build_design, check_columns
from effectmeting.estimate.feols_results import FeolsResults
from effectmeting.estimate.formula import parse_formula
from effectmeting.estimate.inference import VCOV_ESTIMATORS, count_parameters
from effectmeting.estimate.within import demean, factorize

#: below this many clusters, cluster-robust t-tests over-reject; we point at the bootstrap
FEW_CLUSTERS = 50
COLLINEARITY_TOLERANCE = 1e-10


@dataclass
class TransformedData:
    """The within-transformed, sqrt(weight)-scaled arrays the estimate was computed from.

    Kept on the result so the wild bootstrap and randomization inference can reuse them.
    """

    y: np.ndarray
    x: np.ndarray  # kept (non-collinear) columns only
    cluster_codes: list[np.ndarray]
    fe_codes: list[np.ndarray]
    fe_sizes: list[int]


def _parse_vcov(vcov) -> tuple[str, list[str]]:
    if isinstance(vcov, str):
        name = vcov.lower()
        if name not in ("iid", "hc1", "hetero"):
            raise ValueError(f"vcov={vcov!r} is unknown; use 'iid', 'hc1' or {{'cluster': 'column'}}")
        return name, []
    if isinstance(vcov, dict) and set(vcov) == {"cluster"}:
        columns = vcov["cluster"]
        columns = [columns] if isinstance(columns, str) else list(columns)
        if not 1 <= len(columns) <= 2:
            raise ValueError("vcov={'cluster': ...} takes one or two column names")
        return "cluster", columns
    raise ValueError(f"vcov={vcov!r} is unknown; use 'iid', 'hc1' or {{'cluster': 'column'}}")


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


def _independent_columns(gram: np.ndarray, tolerance: float) -> list[int]:
    """Indices of columns kept by a sequential (in formula order) rank check on X'X.

    A column is dropped when its squared residual norm after projecting on the columns kept
    before it is below ``tolerance`` times its own squared norm -- as fixest's Cholesky check.
    """
    kept: list[int] = []
    for j in range(gram.shape[0]):
        norm = gram[j, j]
        if norm <= 0:
            continue
        if kept:
            block = gram[np.ix_(kept, kept)]
            cross = gram[kept, j]
            residual = norm - cross @ np.linalg.solve(block, cross)
        else:
            residual = norm
        if residual > tolerance * norm:
            kept.append(j)
    return kept


def feols(formula: str, data: pd.DataFrame, *, vcov="iid", weights: str | None = None) -> FeolsResults:
    """Estimate ``formula`` by OLS on ``data``, absorbing the fixed effects after ``|``.

    Parameters
    ----------
    formula : ``"y ~ x1 + x2 + a:b + i(var, ref=v) + C(kind) | fe1 + fe2"``; ``0``/``- 1`` drops
        the intercept (there is none with fixed effects).  Parsed, never evaluated.
        ``i(var, ref=v)`` gives one dummy ``var::level`` per level except ``v``; ``i(var)`` and
        ``C(var)`` drop their first (sorted) level when an intercept or fixed effects are
        present (as pyfixest); ``a:b`` multiplies numeric columns.
    data : one row per observation; columns named in the formula.
    vcov : ``"iid"``, ``"hc1"``, ``{"cluster": "col"}`` or ``{"cluster": ["c1", "c2"]}``;
        small-sample corrections as fixest's defaults (see :mod:`.inference`).
    weights : optional column of non-negative analytic weights (WLS).

    Rows with a missing value in any used column (outcome, regressors, fixed effects, cluster
    and weight columns) are dropped and counted in ``n_dropped_missing``; singleton FE groups
    are dropped (``n_singletons``); collinear regressors are dropped (``dropped_collinear``).
    A UserWarning points at :func:`wild_cluster_bootstrap` with fewer than 50 clusters.
    """
    parsed = parse_formula(formula)
    check_columns(parsed, data)
    vcov_name, cluster_columns = _parse_vcov(vcov)
    extra = [c for c in [*cluster_columns, weights] if c is not None]
    for column in extra:
        if column not in data.columns:
            raise FormulaError(f"column {column!r} (vcov/weights) is not in the data")
    used = list(dict.fromkeys(parsed.columns + extra))
    missing = data[used].isna().any(axis=1).to_numpy()
    frame = data.loc[~missing, used] if missing.any() else data[used]
    notes: list[str] = []
    if missing.any():
        counts = data[used].isna().sum()
        detail = ", ".join(f"{c}: {int(v)}" for c, v in counts.items() if v)
        notes.append(f"Dropped {int(missing.sum()):,} rows with missing values ({detail}).")

    fe_names = [name for name, _ in parsed.fixed_effects]
    fe_codes = [factorize(frame[name].to_numpy())[0] for name in fe_names]
    n_singletons = 0
    if fe_codes:
        keep = _drop_singletons(fe_codes)
        n_singletons = int((~keep).sum())
        if n_singletons:
            frame = frame.loc[keep]
            fe_codes = [factorize(codes[keep])[0] for codes in fe_codes]
            notes.append(f"Dropped {n_singletons:,} singleton observations (fixed-effect groups "
                         f"of size one in {' or '.join(fe_names)}).")
    if len(frame) == 0:
        raise IdentificationError(f"no observations left for {formula!r} after dropping "
                                  "missing values and singletons")

    y, x, names = build_design(parsed, frame)
    w = None
    if weights is not None:
        w = frame[weights].to_numpy(dtype=float)
        if (w < 0).any():
            raise ValueError(f"weights column {weights!r} has negative values")
    combined = demean(np.column_stack([y, x]), fe_codes, w) if fe_codes else np.column_stack([y, x])
    if w is not None:
        combined *= np.sqrt(w)[:, None]
    y_t, x_t = combined[:, 0], combined[:, 1:]

    gram = x_t.T @ x_t
    kept = _independent_columns(gram, COLLINEARITY_TOLERANCE)
    dropped = [names[j] for j in range(len(names)) if j not in kept]
    if dropped:
        notes.append(f"Dropped collinear regressors: {', '.join(dropped)}.")
    if not kept:
        raise IdentificationError(f"every regressor in {formula!r} is collinear with the "
                                  "fixed effects; nothing can be estimated")
    x_t = x_t[:, kept]
    names = [names[j] for j in kept]
    bread = np.linalg.inv(gram[np.ix_(kept, kept)])
    beta = bread @ (x_t.T @ y_t)
    resid_t = y_t - x_t @ beta

    fe_sizes = [int(codes.max()) + 1 for codes in fe_codes]
    if count_parameters(len(kept), fe_sizes) >= len(frame):
        raise IdentificationError(
            f"{formula!r}: {len(frame):,} observations do not exceed the "
            f"{count_parameters(len(kept), fe_sizes):,} parameters (regressors + fixed effects); "
            "no residual degrees of freedom are left for standard errors")
    # a cluster column that is also a fixed effect is already factorized
    cluster_codes = [fe_codes[fe_names.index(c)] if c in fe_names else factorize(frame[c].to_numpy())[0]
                     for c in cluster_columns]
    covariance = VCOV_ESTIMATORS[vcov_name](x_t, resid_t, bread, fe_sizes=fe_sizes,
                                            fe_codes=fe_codes, cluster_codes=cluster_codes)
    if cluster_columns and min(covariance.n_clusters) < FEW_CLUSTERS:
        warnings.warn(
            f"only {min(covariance.n_clusters)} clusters ({', '.join(cluster_columns)}): "
            "cluster-robust t-tests over-reject with fewer than 50 clusters; use "
            "effectmeting.estimate.wild_bootstrap.wild_cluster_bootstrap for the p-value.",
            UserWarning, stacklevel=2)
    resid = resid_t / np.sqrt(w) if w is not None else resid_t
    resid = np.where(np.isfinite(resid), resid, 0.0)
    return FeolsResults(
        formula=formula, coef=beta, vcov=covariance, names=names, nobs=len(frame),
        resid=pd.Series(resid, index=frame.index, name="resid"),
        fixed_effects=fe_names, cluster=cluster_columns, weights=weights,
        n_dropped_missing=int(missing.sum()), n_singletons=n_singletons,
        dropped_collinear=dropped, notes=notes,
        transformed=TransformedData(y_t, x_t, cluster_codes, fe_codes, fe_sizes),
    )
