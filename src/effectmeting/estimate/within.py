"""Absorbing fixed effects: the within transformation on arrays.

``demean`` sweeps out one or more sets of fixed effects from the columns of a matrix by
alternating projections (the method of fixest/pyfixest/reghdfe for more than one factor).
Works on plain numpy arrays of integer group codes so that any back end (pandas, Arrow,
DuckDB) can feed it.  Each sweep is a weighted ``np.bincount`` per factor: O(n * k) per
iteration, no per-row Python loops.
"""
from __future__ import annotations

import numpy as np


def factorize(values) -> tuple[np.ndarray, int]:
    """Integer codes 0..G-1 for any 1-d array-like (NA is not allowed here)."""
    import pandas as pd

    codes, uniques = pd.factorize(np.asarray(values), sort=False)
    if (codes < 0).any():
        raise ValueError("fixed-effect variable contains missing values")
    return codes.astype(np.int64), len(uniques)


def demean(
    matrix: np.ndarray,
    group_codes: list[np.ndarray],
    weights: np.ndarray | None = None,
    *,
    tol: float = 1e-10,
    max_iter: int = 10_000,
) -> np.ndarray:
    """Return ``matrix`` with the (weighted) means of every factor in ``group_codes`` swept out.

    ``matrix`` is (n, k) float; ``group_codes`` a list of int arrays of length n with codes
    0..G-1.  With one factor the result is exact after one sweep; with more, iterate until
    the largest change is below ``tol`` times the column scale.
    """
    x = np.array(matrix, dtype=float, copy=True)
    if x.ndim == 1:
        x = x[:, None]
    if not group_codes:
        return x
    n, k = x.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    sizes = [np.bincount(codes, weights=w) for codes in group_codes]
    scale = np.maximum(np.abs(x).max(axis=0), 1.0)

    def sweep(x: np.ndarray) -> float:
        largest = 0.0
        for codes, size in zip(group_codes, sizes):
            means = np.empty((size.shape[0], k))
            for j in range(k):
                means[:, j] = np.bincount(codes, weights=w * x[:, j], minlength=size.shape[0])
            means /= size[:, None]
            x -= means[codes]
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
