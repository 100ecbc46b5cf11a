"""Weights on the simplex: the Frank-Wolfe solver of synthetic DiD and the simplex least squares of
synthetic control.

:func:`simplex_ridge_weights` solves Arkhangelsky et al. (2021), eq. (2.2)/(2.3) (unit and time
weights): ``min_x ||A x - b||^2 / n + zeta^2 ||x||^2`` over ``x >= 0, sum(x) = 1``, optionally
with a free intercept (columns of ``[A, b]`` demeaned first, which profiles the intercept out).
It is Frank-Wolfe with exact line search, stopped when one step lowers the objective by less
than ``min_decrease**2`` -- the algorithm and stopping rule of the paper's reference
implementation (R ``synthdid``), so weights agree with it to the solver's tolerance, not just to
the optimum.  The quadratic is kept in Gram form (``A'A``, ``A'b``), so a step costs O(k).

:func:`simplex_least_squares` solves ``min_w ||A w - b||^2`` over the simplex exactly (an active
set via non-negative least squares on an augmented system), for synthetic control's donor weights
and its nested V search, which call it hundreds of times.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import nnls


def sparsify(weights: np.ndarray) -> np.ndarray:
    """Zero the weights at or below a quarter of the largest and renormalise (the paper's
    sparsification step between two rounds of Frank-Wolfe)."""
    out = np.where(weights <= weights.max() / 4, 0.0, weights)
    return out / out.sum()


def noise_level(control_pre: np.ndarray) -> float:
    """Standard deviation of the control units' year-on-year changes in the pre-period
    (``control_pre``: units x pre-periods): the paper's sigma-hat, the scale of ``zeta``."""
    changes = np.diff(control_pre, axis=1)
    return float(np.std(changes, ddof=1)) if changes.size > 1 else 0.0


def simplex_ridge_weights(matrix: np.ndarray, target: np.ndarray, zeta: float, *, intercept: bool,
                          start: np.ndarray | None = None, min_decrease: float = 1e-3,
                          max_iter: int = 10_000) -> np.ndarray:
    """Frank-Wolfe for ``min ||A x - b||^2 / n + zeta^2 ||x||^2`` on the simplex.

    ``matrix`` is ``A`` (n rows, k columns: the candidates weighted), ``target`` is ``b`` (n).
    ``intercept=True`` demeans every column of ``[A, b]`` over the rows first (a free intercept).
    ``start`` is the first iterate (uniform when None).
    """
    a = np.asarray(matrix, dtype=float)
    b = np.asarray(target, dtype=float)
    if intercept:
        a = a - a.mean(axis=0)
        b = b - b.mean()
    n, k = a.shape
    x = np.full(k, 1.0 / k) if start is None else np.asarray(start, dtype=float).copy()
    eta = n * zeta**2
    gram = a.T @ a
    cross = a.T @ b
    bb = float(b @ b)
    gram_x = gram @ x
    diag = np.diag(gram).tolist()
    cross_list = cross.tolist()
    # x'x, x'A'Ax and b'Ax are updated as scalars: one step costs a handful of O(k) array operations
    xx, xgx, cx = float(x @ x), float(x @ gram_x), float(cross @ x)
    zeta2 = zeta**2
    previous = np.inf
    for iteration in range(max_iter):
        half_grad = gram_x - cross
        half_grad += eta * x
        i = int(half_grad.argmin())
        xi, gxi = float(x[i]), float(gram_x[i])
        dd = 1.0 - 2.0 * xi + xx                         # ||d||^2 for d = e_i - x
        denominator = diag[i] - 2.0 * gxi + xgx + eta * dd   # ||A d||^2 + eta ||d||^2
        if dd > 0 and denominator > 0:
            slope = (gxi - cross_list[i] + eta * xi) - (xgx - cx + eta * xx)   # half-gradient . d
            step = min(1.0, max(0.0, -slope / denominator))
            keep = 1.0 - step
            xx = keep * keep * xx + 2.0 * step * keep * xi + step * step
            xgx = keep * keep * xgx + 2.0 * step * keep * gxi + step * step * diag[i]
            cx = keep * cx + step * cross_list[i]
            x *= keep
            x[i] += step
            gram_x *= keep
            gram_x += step * gram[:, i]
        value = zeta2 * xx + (xgx - 2.0 * cx + bb) / n
        if iteration >= 1 and previous - value <= min_decrease**2:
            break
        previous = value
    return x


def simplex_ridge_weights_many(matrices: Sequence[np.ndarray], targets: Sequence[np.ndarray], zeta: float, *,
                               intercept: bool, starts: Sequence[np.ndarray | None] | None = None,
                               min_decrease: float = 1e-3, max_iter: int = 10_000) -> list[np.ndarray]:
    """:func:`simplex_ridge_weights` for several problems at once (placebo, leave-one-out and bootstrap
    refits): each problem runs its own Frank-Wolfe iterations and stops by its own rule; the problems
    are padded to one shape (zero rows, masked columns) so one step of all costs one set of array
    operations."""
    count = len(matrices)
    if count == 1:  # the scalar loop is several times faster for one problem
        return [simplex_ridge_weights(matrices[0], targets[0], zeta, intercept=intercept,
                                      start=None if starts is None else starts[0], min_decrease=min_decrease,
                                      max_iter=max_iter)]
    shapes = [np.shape(m) for m in matrices]
    n_max = max(s[0] for s in shapes)
    k_max = max(s[1] for s in shapes)
    a = np.zeros((count, n_max, k_max))
    b = np.zeros((count, n_max))
    x = np.zeros((count, k_max))
    valid = np.zeros((count, k_max), dtype=bool)
    rows = np.empty(count)
    for p, (matrix, target) in enumerate(zip(matrices, targets)):
        m = np.asarray(matrix, dtype=float)
        t = np.asarray(target, dtype=float)
        if intercept:
            m = m - m.mean(axis=0)
            t = t - t.mean()
        n, k = m.shape
        a[p, :n, :k], b[p, :n], rows[p] = m, t, n
        valid[p, :k] = True
        start = None if starts is None else starts[p]
        x[p, :k] = np.full(k, 1.0 / k) if start is None else np.asarray(start, dtype=float)
    eta = rows * zeta**2
    gram = np.einsum("pni,pnj->pij", a, a)
    cross = np.einsum("pni,pn->pi", a, b)
    bb = np.einsum("pn,pn->p", b, b)
    gram_x = np.einsum("pij,pj->pi", gram, x)
    diag = np.einsum("pii->pi", gram)
    # x'x, x'A'Ax and b'Ax are carried as scalars per problem: a step costs O(k) per problem
    xx = np.einsum("pi,pi->p", x, x)
    xgx = np.einsum("pi,pi->p", x, gram_x)
    cx = np.einsum("pi,pi->p", cross, x)
    blocked = np.where(valid, 0.0, np.inf)
    problems = np.arange(count)
    running = np.ones(count, dtype=bool)
    previous = np.full(count, np.inf)
    zeta2 = zeta**2
    tolerance = min_decrease**2
    for iteration in range(max_iter):
        half_grad = gram_x - cross + eta[:, None] * x + blocked
        i = half_grad.argmin(axis=1)
        xi = x[problems, i]
        gxi = gram_x[problems, i]
        dii = diag[problems, i]
        ci = cross[problems, i]
        dd = 1.0 - 2.0 * xi + xx                                   # ||d||^2 for d = e_i - x
        denominator = dii - 2.0 * gxi + xgx + eta * dd             # ||A d||^2 + eta ||d||^2
        slope = (gxi - ci + eta * xi) - (xgx - cx + eta * xx)      # half-gradient . d
        movable = running & (dd > 0) & (denominator > 0)
        step = np.divide(-slope, denominator, out=np.zeros(count), where=movable)
        step = np.minimum(np.maximum(step, 0.0), 1.0)
        keep = 1.0 - step
        xx = keep * keep * xx + 2.0 * step * keep * xi + step * step
        xgx = keep * keep * xgx + 2.0 * step * keep * gxi + step * step * dii
        cx = keep * cx + step * ci
        x *= keep[:, None]
        x[problems, i] += step
        gram_x *= keep[:, None]
        gram_x += step[:, None] * gram[problems, :, i]
        value = zeta2 * xx + (xgx - 2.0 * cx + bb) / rows
        if iteration >= 1:
            running &= previous - value > tolerance
            if not running.any():
                break
        previous = value
    return [x[p, : shapes[p][1]].copy() for p in range(count)]


def simplex_least_squares(matrix: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``argmin_w ||A w - b||^2`` over ``w >= 0, sum(w) = 1``, by non-negative least squares with
    the sum constraint as a heavily weighted extra row (then renormalised)."""
    a = np.asarray(matrix, dtype=float)
    b = np.asarray(target, dtype=float)
    k = a.shape[1]
    if k == 1:
        return np.ones(1)
    scale = max(float(np.abs(a).max()), float(np.abs(b).max()), 1.0)
    # the constraint row outweighs any residual by ~1e4; nnls stays well conditioned
    penalty = 1e4 * scale
    augmented = np.vstack([a, np.full((1, k), penalty)])
    rhs = np.append(b, penalty)
    weights, _ = nnls(augmented, rhs, maxiter=50 * k)
    total = weights.sum()
    return weights / total if total > 0 else np.full(k, 1.0 / k)
