"""Covariance estimators for (within-transformed) OLS, one function each, chosen by name.

Small-sample corrections follow **fixest's defaults** -- ``ssc(adj = TRUE, fixef.K = "nested",
cluster.adj = TRUE, cluster.df = "min")`` -- which pyfixest reproduces
(``ssc(k_adj=True, k_fixef="nonnested", G_adj=True, G_df="min")``):

* ``df_k`` = regressors kept + fixed-effect levels - (number of FE factors - 1); for clustered
  errors the levels of any FE factor nested in a cluster variable are not counted (one
  per such factor is added back);
* iid:     ``V = RSS / (n - df_k) * (X'X)^-1``, t with ``n - df_k`` df;
* hc1:     ``V = n / (n - df_k) * B M B``, t with ``n - df_k`` df;
* cluster: ``V = G/(G-1) * (n-1)/(n-df_k) * B M B`` with ``G`` the smallest cluster count;
  two-way is Cameron-Gelbach-Miller ``V1 + V2 - V12`` with negative eigenvalues set to zero
  (as fixest does) if the sum is not positive semi-definite; t with ``G - 1`` df.

:func:`cluster_influence` gives the same CR1 covariance as per-cluster influence values.

Inputs are the (weighted, within-transformed) regressors ``x`` (n, k), residuals ``resid``
(n,) and ``bread = (x'x)^-1``; weights are already folded in as ``sqrt(w)`` multipliers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Covariance:
    matrix: np.ndarray
    #: degrees of freedom of the t distribution used for p-values and intervals
    df_t: float
    #: number of parameters used in the small-sample correction (regressors + counted FE)
    df_k: int
    description: str
    n_clusters: tuple[int, ...] = ()


def count_parameters(k: int, fe_sizes: list[int], nested: list[bool] | None = None) -> int:
    """fixest's ``fixef.K = "nested"`` count of estimated parameters (see module docstring)."""
    if not fe_sizes:
        return k
    adjusted = sum(fe_sizes) - (len(fe_sizes) - 1)
    if nested and any(nested):
        adjusted -= sum(size for size, is_nested in zip(fe_sizes, nested) if is_nested)
        adjusted += sum(nested)
    return k + adjusted


def vcov_iid(x, resid, bread, *, fe_sizes, **_) -> Covariance:
    n, k = x.shape
    df_k = count_parameters(k, fe_sizes)
    sigma2 = float(resid @ resid) / (n - df_k)
    return Covariance(bread * sigma2, n - df_k, df_k, "iid")


def vcov_hc1(x, resid, bread, *, fe_sizes, **_) -> Covariance:
    n, k = x.shape
    df_k = count_parameters(k, fe_sizes)
    scores = x * resid[:, None]
    meat = scores.T @ scores
    return Covariance(n / (n - df_k) * (bread @ meat @ bread), n - df_k, df_k, "hc1")


def cluster_scores(scores: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum the (n, k) score matrix within clusters: (G, k), one bincount per column."""
    return np.column_stack([np.bincount(codes, weights=scores[:, j], minlength=n_groups)
                            for j in range(scores.shape[1])])


def cluster_score_sums(x: np.ndarray, resid: np.ndarray, codes: np.ndarray,
                       n_groups: int) -> np.ndarray:
    """``cluster_scores(x * resid[:, None], codes, n_groups)`` without the (n, k) score matrix:
    one length-n product at a time (same numbers, a k-th of the temporary memory)."""
    summed = np.empty((n_groups, x.shape[1]))
    for j in range(x.shape[1]):
        summed[:, j] = np.bincount(codes, weights=x[:, j] * resid, minlength=n_groups)
    return summed


def is_nested(inner: np.ndarray, outer: np.ndarray) -> bool:
    """True if every level of ``inner`` (int codes) lies within one level of ``outer``."""
    first_outer = np.full(inner.max() + 1, -1, dtype=np.int64)
    first_outer[inner] = outer  # any one outer code per inner level
    return bool((first_outer[inner] == outer).all())


def vcov_cluster(x, resid, bread, *, fe_sizes, fe_codes, cluster_codes, **_) -> Covariance:
    """One- or two-way clustered covariance; ``cluster_codes`` is a list of int code arrays."""
    n, k = x.shape
    if len(cluster_codes) == 2:
        first, second = cluster_codes
        pair = first.astype(np.int64) * (second.max() + 1) + second
        intersection = np.unique(pair, return_inverse=True)[1]
        terms = [(first, 1.0), (second, 1.0), (intersection.astype(np.int64), -1.0)]
    elif len(cluster_codes) == 1:
        terms = [(cluster_codes[0], 1.0)]
    else:
        raise ValueError("clustering supports one or two cluster variables")
    counts = [int(codes.max()) + 1 for codes, _ in terms]
    n_clusters = min(counts[: len(cluster_codes)])
    nested = [any(is_nested(fe, codes) for codes, _ in terms) for fe in fe_codes]
    df_k = count_parameters(k, fe_sizes, nested)
    meat = np.zeros((k, k))
    for (codes, sign), count in zip(terms, counts):
        summed = cluster_score_sums(x, resid, codes, count)
        meat += sign * (summed.T @ summed)
    adjustment = n_clusters / (n_clusters - 1) * (n - 1) / (n - df_k)
    matrix = adjustment * (bread @ meat @ bread)
    if len(cluster_codes) == 2:
        matrix = _nearest_psd(matrix)
    description = "cluster" if len(cluster_codes) == 1 else "two-way cluster"
    return Covariance(matrix, n_clusters - 1, df_k, description, tuple(counts[: len(cluster_codes)]))


def cluster_influence(x, resid, bread, *, fe_sizes, fe_codes, cluster_codes, **_) -> np.ndarray:
    """Per-cluster influence values ``phi`` (G, k) of the coefficients, one-way clustering:
    ``phi_g = sqrt(c) (X'X)^-1 sum_{i in g} x_i u_i`` with :func:`vcov_cluster`'s factor ``c``,
    so ``phi' phi`` is the CR1 covariance.  The influence value of a linear combination of
    coefficients (an aggregate, a sum of lines or event times) is the same combination of
    ``phi``, which keeps every covariance; ``costs`` builds its totals on them.
    """
    if len(cluster_codes) != 1:
        raise ValueError("cluster influence values need exactly one cluster variable")
    n, k = x.shape
    codes = cluster_codes[0]
    n_clusters = int(codes.max()) + 1
    nested = [is_nested(fe, codes) for fe in fe_codes]
    df_k = count_parameters(k, fe_sizes, nested)
    adjustment = n_clusters / (n_clusters - 1) * (n - 1) / (n - df_k)
    return np.sqrt(adjustment) * (cluster_score_sums(x, resid, codes, n_clusters) @ bread)


def _nearest_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    if values.min() >= 0:
        return matrix
    return (vectors * np.maximum(values, 0)) @ vectors.T


#: name -> estimator; feols picks one with its ``vcov=`` argument
VCOV_ESTIMATORS = {"iid": vcov_iid, "hc1": vcov_hc1, "hetero": vcov_hc1, "cluster": vcov_cluster}
