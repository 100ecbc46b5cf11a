"""The one weighted least-squares solver of the package, with absorbed fixed effects.

Every linear estimator solves ``Y = X b + FE + e`` through this module:
:func:`~effectmeting.estimate.fixest.feols.feols`, the staggered-adoption regressions
(Sun-Abraham, TWFE event study, Bacon, the imputation pre-trend test; via
:func:`effectmeting.estimate.staggered.panel.twfe_ols`) and the imputation estimator's
untreated fit (:class:`DummyNormalEquations`).

Steps of :func:`solve_within`:

1. sweep the fixed effects out of the outcome(s) and regressors
   (:func:`effectmeting.estimate.core.within.demean`, in place);
2. scale rows by ``sqrt(weight)`` (weighted least squares as OLS on scaled rows);
3. **one collinearity rule** (:func:`independent_columns`): in formula order, a regressor is
   dropped when its squared residual norm after projecting on the regressors kept before it is
   below ``COLLINEARITY_TOLERANCE`` (1e-10) times its own squared norm (fixest's check); the
   dropped names are returned on the fit, and :func:`report_dropped` warns about them;
4. ``b = (X'X)^-1 X'y`` for every outcome column (several outcomes share one design and one
   inverse), residuals on the transformed scale.

The covariance of the coefficients is computed from the fit's transformed ``x`` and ``resid``
by :mod:`effectmeting.estimate.core.covariance` (iid, HC1, CR1 one- and two-way, per-cluster
influence values).

Estimators that need (X'WX)^-1 applied to other right-hand sides than X'Wy -- the imputation
estimator's "v" weights -- keep the fixed effects as explicit sparse dummies instead of sweeping
them out: :class:`DummyNormalEquations` factorises the sparse normal equations once (LU) and
solves for any right-hand side.  Its regressors beyond the dummies pass the same collinearity
rule on their within-transformed values first (:func:`collinear_within`).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from effectmeting.errors import CollinearityWarning, IdentificationError
from effectmeting.estimate.core.within import demean

#: a regressor whose squared residual norm (on the regressors before it) falls below this share
#: of its squared norm is collinear and dropped (as fixest's ``collin.tol``)
COLLINEARITY_TOLERANCE = 1e-10


def independent_columns(gram: np.ndarray, tolerance: float = COLLINEARITY_TOLERANCE) -> list[int]:
    """Indices of columns kept by a sequential (in formula order) rank check on X'X.

    A column is dropped when its squared residual norm after projecting on the columns kept
    before it is below ``tolerance`` times its own squared norm -- as fixest's Cholesky check.
    A column of zeros (e.g. absorbed by the fixed effects) is always dropped.
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


@dataclass
class LeastSquaresFit:
    """A solved (weighted, within-transformed) least-squares problem.

    ``x`` (n, k) and ``y`` ((n,) or (n, L)) are the demeaned, sqrt(weight)-scaled regressors
    (kept columns only) and outcome(s); ``resid`` is ``y - x @ coef`` on that scale, ``coef``
    (k,) or (k, L), ``bread = (x'x)^-1``.  ``names`` are the kept regressors, ``dropped`` the
    collinear ones (in formula order).  ``x`` and ``y`` may be views into the caller's matrix.
    """

    coef: np.ndarray
    bread: np.ndarray
    x: np.ndarray
    y: np.ndarray
    resid: np.ndarray
    names: list[str]
    dropped: list[str] = field(default_factory=list)
    fe_codes: list[np.ndarray] = field(default_factory=list)

    @property
    def fe_sizes(self) -> list[int]:
        """Number of levels of each absorbed fixed-effect factor."""
        return [int(codes.max()) + 1 for codes in self.fe_codes]


def solve_within(combined: np.ndarray, n_outcomes: int, names: list[str], fe_codes: list[np.ndarray],
                 weights: np.ndarray | None = None, *, what: str = "the regression") -> LeastSquaresFit:
    """Solve OLS/WLS of the first ``n_outcomes`` columns of ``combined`` on the others.

    ``combined``: (n, L + k) float64, Fortran order; it is demeaned, weighted and (for collinear
    columns) compacted **in place**, and the fit keeps views into it (no (n, k) copy).
    ``names``: the k regressor names; ``fe_codes``: int code arrays of the absorbed factors;
    ``weights``: analytic weights (n,) or None.  Collinear regressors are dropped by
    :func:`independent_columns` and listed in ``dropped`` (no warning here: callers decide,
    see :func:`report_dropped`); if every regressor is collinear, IdentificationError naming ``what``.
    With one outcome, ``y``, ``coef`` and ``resid`` are 1-d.
    """
    if fe_codes:
        combined = demean(combined, fe_codes, weights, copy=False)  # in place for a float64 F-array
    if weights is not None:
        root_w = np.sqrt(weights)
        for j in range(combined.shape[1]):  # column by column: no (n, k) temporary
            combined[:, j] *= root_w
        del root_w
    y = combined[:, 0] if n_outcomes == 1 else combined[:, :n_outcomes]
    x = combined[:, n_outcomes:]
    gram = x.T @ x
    kept = independent_columns(gram)
    dropped = [names[j] for j in range(len(names)) if j not in kept]
    if not kept:
        raise IdentificationError(f"every regressor in {what} is collinear with the fixed effects "
                                  f"(or zero): {', '.join(names[:10])}; nothing can be estimated", reason="collinear")
    if dropped:
        # move the kept columns to the front in place (kept is increasing, so no column is
        # overwritten before it is moved) and use a view instead of an (n, k) copy
        for position, j in enumerate(kept):
            if position != j:
                combined[:, n_outcomes + position] = combined[:, n_outcomes + j]
        x = combined[:, n_outcomes:n_outcomes + len(kept)]
    bread = np.linalg.inv(gram[np.ix_(kept, kept)])
    if n_outcomes == 1:
        coef = bread @ (x.T @ y)
        resid = x @ coef
        np.subtract(y, resid, out=resid)
    else:  # one outcome column at a time: the same products (and digits) as a single outcome
        coef = np.column_stack([bread @ (x.T @ y[:, j]) for j in range(n_outcomes)])
        resid = np.empty_like(y)
        for j in range(n_outcomes):
            np.subtract(y[:, j], x @ coef[:, j], out=resid[:, j])
    return LeastSquaresFit(coef=coef, bread=bread, x=x, y=y, resid=resid,
                           names=[names[j] for j in kept], dropped=dropped, fe_codes=list(fe_codes))


def least_squares(y: np.ndarray, x: np.ndarray, names: list[str], fe_codes: list[np.ndarray],
                  weights: np.ndarray | None = None, *, what: str = "the regression") -> LeastSquaresFit:
    """:func:`solve_within` on copies of ``y`` ((n,) or (n, L) outcomes) and ``x`` ((n, k))."""
    y = np.asarray(y, dtype=float)
    n = y.shape[0]
    outcomes = y.reshape(n, -1)
    regressors = np.asarray(x, dtype=float).reshape(n, -1)
    combined = np.empty((n, outcomes.shape[1] + regressors.shape[1]), order="F")
    combined[:, :outcomes.shape[1]] = outcomes
    combined[:, outcomes.shape[1]:] = regressors
    return solve_within(combined, 1 if y.ndim == 1 else outcomes.shape[1], names, fe_codes, weights, what=what)


def report_dropped(dropped: list[str], what: str, stacklevel: int = 3) -> str | None:
    """Warn (:class:`CollinearityWarning`) that ``dropped`` regressors were collinear; returns the
    note, or None."""
    if not dropped:
        return None
    note = f"Dropped collinear regressors: {', '.join(dropped)}."
    warnings.warn(f"{what}: {note[0].lower()}{note[1:]}", CollinearityWarning, stacklevel=stacklevel)
    return note


def collinear_within(x: np.ndarray, fe_codes: list[np.ndarray], weights: np.ndarray | None = None) -> list[int]:
    """Indices of the columns of ``x`` that :func:`solve_within` would drop (fixed effects absorbed)."""
    if x.shape[1] == 0:
        return []
    scaled = demean(x, fe_codes, weights, copy=True)
    if weights is not None:
        scaled *= np.sqrt(weights)[:, None]
    kept = independent_columns(scaled.T @ scaled)
    return [j for j in range(x.shape[1]) if j not in kept]


class DummyNormalEquations:
    """Weighted least squares with explicit (sparse) dummy columns: ``(Z'WZ) b = Z'W y``.

    ``z`` (n, p) sparse design with full column rank on its rows (the caller drops one dummy per
    extra factor and collinear regressors, see :func:`collinear_within`), ``weights`` (n,).  The
    normal equations are factorised once by a sparse LU, so :meth:`solve` applies
    ``(Z'WZ)^-1`` to any right-hand side -- the imputation estimator needs it for its targets.
    """

    def __init__(self, z: sp.csr_matrix, weights: np.ndarray, *, what: str = "the regression") -> None:
        self.z, self.weights = z, weights
        gram = (z.T @ sp.diags(weights) @ z).tocsc()
        try:
            self._factor = splu(gram)
        except RuntimeError as exc:  # exactly singular: disconnected panel or collinear covariates
            raise IdentificationError(
                f"{what} is not identified: {exc}; check for collinear covariates or units/periods "
                "linked only by excluded rows") from exc

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """``(Z'WZ)^-1 rhs`` for a (p,) or (p, m) right-hand side."""
        return self._factor.solve(rhs)

    def fit(self, y: np.ndarray) -> np.ndarray:
        """Coefficients for outcome(s) ``y`` ((n,) or (n, L)); refuses a singular system."""
        weights = self.weights if y.ndim == 1 else self.weights[:, None]
        coefficients = self.solve(np.asarray(self.z.T @ (weights * y)))
        if not np.all(np.isfinite(coefficients)):
            raise IdentificationError("the least-squares system is singular (collinear covariates?)")
        return coefficients
