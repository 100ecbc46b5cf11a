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


def _frank_wolfe_kernel(gram, cross, bb, x, eta, n_rows, zeta2, tolerance, max_iter):  # pragma: no cover - compiled
    """One problem's Frank-Wolfe iterations in scalar loops (compiled by numba when it is installed);
    the same steps, in the same order, as the array code below."""
    k = x.shape[0]
    gram_x = np.zeros(k)
    for r in range(k):
        for c in range(k):
            gram_x[r] += gram[r, c] * x[c]
    xx = 0.0
    xgx = 0.0
    cx = 0.0
    for r in range(k):
        xx += x[r] * x[r]
        xgx += x[r] * gram_x[r]
        cx += cross[r] * x[r]
    previous = np.inf
    for iteration in range(max_iter):
        i = 0
        best = np.inf
        for r in range(k):
            g = gram_x[r] - cross[r] + eta * x[r]
            if g < best:
                best = g
                i = r
        xi = x[i]
        gxi = gram_x[i]
        dd = 1.0 - 2.0 * xi + xx
        denominator = gram[i, i] - 2.0 * gxi + xgx + eta * dd
        if dd > 0 and denominator > 0:
            slope = (gxi - cross[i] + eta * xi) - (xgx - cx + eta * xx)
            step = min(1.0, max(0.0, -slope / denominator))
            keep = 1.0 - step
            xx = keep * keep * xx + 2.0 * step * keep * xi + step * step
            xgx = keep * keep * xgx + 2.0 * step * keep * gxi + step * step * gram[i, i]
            cx = keep * cx + step * cross[i]
            for r in range(k):
                x[r] *= keep
                gram_x[r] = keep * gram_x[r] + step * gram[r, i]
            x[i] += step
        value = zeta2 * xx + (xgx - 2.0 * cx + bb) / n_rows
        if iteration >= 1 and previous - value <= tolerance:
            break
        previous = value
    return x


_COMPILED: dict[str, object] = {}


def compiled_kernel():
    """The kernel compiled by numba (an optional extra: ``pip install effectmeting[fast]``), or None
    when numba is not installed; imported on first use, so a single fit never pays numba's import."""
    if "kernel" not in _COMPILED:
        try:
            from numba import njit
        except ImportError:  # pragma: no cover - depends on the environment
            _COMPILED["kernel"] = None
        else:
            _COMPILED["kernel"] = njit(cache=True)(_frank_wolfe_kernel)
    return _COMPILED["kernel"]


def simplex_ridge_weights_many(matrices: Sequence[np.ndarray], targets: Sequence[np.ndarray], zeta: float, *,
                               intercept: bool, starts: Sequence[np.ndarray | None] | None = None,
                               min_decrease: float = 1e-3, max_iter: int = 10_000,
                               use_compiled: bool = True) -> list[np.ndarray]:
    """:func:`simplex_ridge_weights` for several problems at once (placebo, leave-one-out and bootstrap
    refits): each problem runs its own Frank-Wolfe iterations and stops by its own rule; the problems
    are padded to one shape (zero rows, masked columns) so one step of all costs one set of array
    operations.  With numba installed, several problems run the compiled kernel one by one instead (same steps;
    ``use_compiled=False`` forces the array code, for tests)."""
    count = len(matrices)
    kernel = compiled_kernel() if use_compiled and count > 1 else None
    if kernel is not None:
        return [_solve_compiled(kernel, m, t, zeta, intercept, None if starts is None else starts[p], min_decrease,
                                max_iter) for p, (m, t) in enumerate(zip(matrices, targets))]
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
    """``argmin_w ||A w - b||^2`` over ``w >= 0, sum(w) = 1``, exactly, by one non-negative least squares.

    On the simplex ``A w - b = C w`` with ``C = A - b 1'``.  With the columns of ``C`` scaled to unit
    length (``C = B D^-1``, ``w = D v``, the constraint becomes ``d'v = 1`` with ``d = D 1``), every
    ``u >= 0`` is ``kappa v`` with ``d'v = 1``, and ``||B u||^2 / s^2 + (d'u / m - 1)^2`` is
    ``kappa^2 a + (kappa / m - 1)^2`` with ``a = ||B v||^2 / s^2``; its least value over ``kappa``,
    ``a / (1 + a m^2)``, grows with ``a``.  So the NNLS solution ``u``, rescaled to ``d'u = 1``, is
    the constrained optimum; ``s`` (the size of ``B``'s entries) and ``m = max(d)`` only keep the
    two blocks comparable for the active-set solver.
    """
    a = np.asarray(matrix, dtype=float)
    b = np.asarray(target, dtype=float)
    k = a.shape[1]
    if k == 1:
        return np.ones(1)
    c = a - b[:, None]
    lengths = np.sqrt((c**2).sum(axis=0))
    if (lengths == 0).any():  # a donor equal to the target: it alone is the exact fit
        out = np.zeros(k)
        out[int(np.flatnonzero(lengths == 0)[0])] = 1.0
        return out
    d = 1.0 / lengths
    scaled = c * d
    s = float(np.sqrt(np.mean(scaled**2)))
    system = np.vstack([scaled / s, (d / d.max())[None, :]])
    rhs = np.zeros(system.shape[0])
    rhs[-1] = 1.0
    u, _ = nnls(system, rhs, maxiter=50 * k)
    weights = d * u
    total = weights.sum()
    return weights / total if total > 0 else np.full(k, 1.0 / k)


def _solve_compiled(kernel, matrix, target, zeta: float, intercept: bool, start, min_decrease: float,
                    max_iter: int) -> np.ndarray:
    a = np.asarray(matrix, dtype=float)
    b = np.asarray(target, dtype=float)
    if intercept:
        a = a - a.mean(axis=0)
        b = b - b.mean()
    n, k = a.shape
    x = np.full(k, 1.0 / k) if start is None else np.array(start, dtype=float)
    return kernel(np.ascontiguousarray(a.T @ a), a.T @ b, float(b @ b), x, float(n * zeta**2), float(n),
                            float(zeta**2), float(min_decrease**2), int(max_iter))
