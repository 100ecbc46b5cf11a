"""Absorbing fixed effects: the within transformation on arrays.

``demean`` sweeps out one or more sets of fixed effects from the columns of a matrix by
alternating projections (the method of fixest/pyfixest/reghdfe for more than one factor).
Two factors, the common case (unit + year), are solved exactly without iterating: a
balanced panel in one pass, otherwise by Frisch-Waugh-Lovell on the smaller factor (a small
dense system of size "number of years"); see ``_demean_two_way``.
Works on plain numpy arrays of integer group codes so that any back end (pandas, Arrow,
DuckDB) can feed it.  Each sweep is a weighted ``np.bincount`` per factor and column: O(n * k)
per iteration, no per-row Python loops.

Memory: every path works column by column, in place, so beyond the matrix itself it needs
only a few length-n temporaries (a column's group means broadcast back to the rows).  Pass
``copy=False`` with a Fortran-ordered float64 matrix (contiguous columns) to demean without
any (n, k) copy; ``feols`` does.
"""
from __future__ import annotations

import numpy as np


#: two-way demeaning solves a dense system of this many levels (of the smaller factor) at most
EXACT_TWO_WAY_MAX_LEVELS = 2_000


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (groups with zero total weight)."""
    return np.divide(numerator, denominator, out=np.zeros_like(numerator, dtype=float),
                     where=denominator != 0)


def factorize(values) -> tuple[np.ndarray, int]:
    """Integer codes 0..G-1 (int64) for any 1-d array-like (NA is not allowed here)."""
    import pandas as pd

    codes, uniques = pd.factorize(np.asarray(values), sort=False)
    if (codes < 0).any():
        raise ValueError("fixed-effect variable contains missing values")
    return codes.astype(np.int64, copy=False), len(uniques)


def demean(
    matrix: np.ndarray,
    group_codes: list[np.ndarray],
    weights: np.ndarray | None = None,
    *,
    tol: float = 1e-10,
    max_iter: int = 10_000,
    copy: bool = True,
) -> np.ndarray:
    """Return ``matrix`` with the (weighted) means of every factor in ``group_codes`` swept out.

    ``matrix`` is (n, k) float; ``group_codes`` a list of int arrays of length n with codes
    0..G-1.  One factor: exact after one sweep.  Two factors: exact without iterating (balanced
    panel in one pass; otherwise FWL on the smaller factor if it has at most
    ``EXACT_TWO_WAY_MAX_LEVELS`` levels).  Otherwise iterate until the largest change is
    below ``tol`` times the column scale.  Groups with zero total weight get mean 0.
    ``copy=False`` overwrites ``matrix`` (2-d float64) and returns it; cheapest on a
    Fortran-ordered matrix, whose columns are contiguous.
    """
    if copy or matrix.dtype != np.float64 or matrix.ndim != 2:
        x = np.array(matrix, dtype=float, copy=True, order="F")
    else:
        x = matrix
    if x.ndim == 1:
        x = x.reshape(-1, 1, order="F")
    if not group_codes:
        return x
    n, k = x.shape
    if len(group_codes) == 2:
        first, second = group_codes
        if weights is None and is_balanced(first, second):
            return _demean_balanced(x, first, second)
        if min(int(c.max()) + 1 for c in group_codes) <= EXACT_TWO_WAY_MAX_LEVELS:
            return _demean_two_way(x, first, second, weights)
    w = None if weights is None else np.asarray(weights, dtype=float)
    ones = np.ones(n) if w is None else w
    sizes = [np.bincount(codes, weights=ones) for codes in group_codes]
    del ones
    scale = np.maximum(np.abs(x).max(axis=0), 1.0)

    def sweep(x: np.ndarray) -> float:
        largest = 0.0
        for codes, size in zip(group_codes, sizes):
            means = np.empty((size.shape[0], k))
            for j in range(k):
                column = x[:, j] if w is None else w * x[:, j]
                means[:, j] = np.bincount(codes, weights=column, minlength=size.shape[0])
            means = _safe_divide(means, size[:, None])
            for j in range(k):  # column by column: no (n, k) temporary
                x[:, j] -= means[codes, j]
            largest = max(largest, float((np.abs(means).max(axis=0) / scale).max()))
        return largest

    change = sweep(x)
    if len(group_codes) == 1:
        return x
    for _ in range(max_iter):
        if change < tol:
            return x
        change = sweep(x)
    raise RuntimeError(f"fixed-effect demeaning did not converge in {max_iter} iterations")


def is_balanced(first: np.ndarray, second: np.ndarray) -> bool:
    """True if every (first, second) cell occurs exactly once (a balanced two-way panel)."""
    n_first, n_second = int(first.max()) + 1, int(second.max()) + 1
    if n_first * n_second != len(first):
        return False
    cells = first * n_second
    cells += second
    counts = np.bincount(cells, minlength=n_first * n_second)
    del cells
    return bool((counts == 1).all())


def _demean_balanced(x: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Exact two-way within transformation of a balanced panel in one pass, in place.

    In a balanced panel the two dummy sets are orthogonal after removing the grand mean, so
    ``x - mean_first - mean_second + grand_mean`` is the exact projection (no iterations).
    """
    n_first, n_second = int(first.max()) + 1, int(second.max()) + 1
    for j in range(x.shape[1]):
        column = x[:, j]
        mean_first = np.bincount(first, weights=column, minlength=n_first) / n_second
        mean_second = np.bincount(second, weights=column, minlength=n_second) / n_first
        column -= mean_first[first]
        column -= mean_second[second]
        column += mean_first.mean()
    return x


def _group_mean(column: np.ndarray, codes: np.ndarray, w: np.ndarray | None,
                totals: np.ndarray) -> np.ndarray:
    """(G,) weighted mean of one column within groups (0 for groups of zero weight)."""
    sums = np.bincount(codes, weights=column if w is None else w * column, minlength=totals.shape[0])
    return _safe_divide(sums, totals)


def _demean_two_way(x: np.ndarray, first: np.ndarray, second: np.ndarray,
                    weights: np.ndarray | None) -> np.ndarray:
    """Exact two-way within transformation of any (unbalanced, weighted) panel, in place.

    With ``D_b`` the dummies of the larger factor and ``D_s`` of the smaller one, the residual
    of ``x`` on both is ``M_b x - M_b D_s g`` with ``g`` solving
    ``(D_s' W M_b D_s) g = D_s' W M_b x`` (Frisch-Waugh-Lovell).  The system is (G_s, G_s),
    assembled from the sparse cross-tabulation of the two factors; a pseudo-inverse handles
    its rank deficiency (one per connected component), which does not affect the residual.
    """
    from scipy import sparse

    sizes = (int(first.max()) + 1, int(second.max()) + 1)
    big, small = (first, second) if sizes[0] >= sizes[1] else (second, first)
    n_big, n_small = max(sizes), min(sizes)
    w = None if weights is None else np.asarray(weights, dtype=float)
    ones = np.ones(len(big)) if w is None else w
    total_big = np.bincount(big, weights=ones, minlength=n_big)
    total_small = np.bincount(small, weights=ones, minlength=n_small)
    cross = sparse.csr_matrix((ones, (big, small)), shape=(n_big, n_small))
    inverse_big = sparse.diags(_safe_divide(np.ones(n_big), total_big))
    system = np.diag(total_small) - (cross.T @ inverse_big @ cross).toarray()
    del cross
    pseudo_inverse = np.linalg.pinv(system, rcond=1e-12, hermitian=True)
    # x becomes M_b x column by column; the right-hand side needs all columns before solving
    rhs = np.empty((n_small, x.shape[1]))
    for j in range(x.shape[1]):
        column = x[:, j]
        column -= _group_mean(column, big, w, total_big)[big]
        rhs[:, j] = np.bincount(small, weights=column * ones, minlength=n_small)
    small_effects = pseudo_inverse @ rhs
    for j in range(x.shape[1]):
        fitted = small_effects[small, j]
        fitted -= _group_mean(fitted, big, w, total_big)[big]
        x[:, j] -= fitted
    return x
