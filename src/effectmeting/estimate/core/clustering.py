"""Cluster-robust variances from influence functions (``att_gt(..., cluster="municipality")``).

Why: with person-level data the treatment (a municipality's team design) is assigned per
municipality, so residents of one municipality share shocks and their influence-function values
are correlated.  Clustering by unit (person) would then understate the standard errors; the
variance must sum influence values within municipality first (Liang & Zeger 1986).

Convention (stated so it can be tested): CR1 on the influence function, as diff-diff 3.x
``CallawaySantAnna(cluster=...)`` (its ``SurveyDesign(psu=cluster)``)::

    V = G / (G - 1) * sum_c (S_c - mean(S))^2 / n^2,   S_c = sum_{i in c} IF_i

with ``IF`` scaled so that the unclustered variance is ``sum_i IF_i^2 / n^2`` (R ``did``).  The
multiplier bootstrap draws one weight per cluster and multiplies the cluster sums ``S_c`` (R
``did``'s ``clustervars`` multiplies cluster *means*; both agree when clusters are equally
large, and sums are the Liang-Zeger variance when they are not).

The influence matrices themselves stay per unit (the cohort-share terms of the aggregations are
per unit); only the variance collapses them, through a sparse G x n indicator, so no second
n x k array is made.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from effectmeting.errors import IdentificationError


@dataclass(frozen=True)
class Clusters:
    """Cluster membership of the rows of an influence matrix."""

    name: str              # the data column the clusters come from
    codes: np.ndarray      # per influence row, cluster index 0..count-1
    count: int             # number of clusters G

    def sums(self, influence: np.ndarray) -> np.ndarray:
        """Cluster sums ``S`` (G x k) of an n x k (or length-n) influence array."""
        matrix = influence[:, None] if influence.ndim == 1 else influence
        indicator = sparse.csr_matrix(
            (np.ones(len(self.codes)), (self.codes, np.arange(len(self.codes)))),
            shape=(self.count, len(self.codes)))
        return np.asarray(indicator @ matrix)

    def vcov(self, influence: np.ndarray) -> np.ndarray:
        """CR1 covariance (k x k) of the estimates whose n x k influence is given."""
        n = influence.shape[0]
        centred = self.sums(influence)
        centred = centred - centred.mean(axis=0)
        return (self.count / (self.count - 1)) * (centred.T @ centred) / n ** 2

    def bootstrap_influence(self, influence: np.ndarray) -> np.ndarray:
        """Cluster sums rescaled to the multiplier bootstrap's convention (``var = mean(X^2)/G``
        with G rows), so one weight per cluster gives ``var = sum_c S_c^2 / n^2``."""
        return self.sums(influence) * (self.count / influence.shape[0])

    def note(self) -> str:
        return (f"clustered by {self.name!r} ({self.count} clusters; CR1 on the influence "
                "function, as diff-diff)")


def clusters_from_codes(name: str, codes: np.ndarray, *, estimator: str) -> Clusters:
    """Renumber codes 0..G-1 (after rows were dropped) and refuse fewer than two clusters."""
    codes, uniques = pd.factorize(codes, sort=True)
    if len(uniques) < 2:
        raise IdentificationError(
            f"{estimator}: cluster={name!r} leaves {len(uniques)} cluster; a clustered variance "
            "needs at least two clusters (and, to be reliable, dozens).", reason="too_few_clusters")
    return Clusters(name=name, codes=codes.astype(np.intp), count=len(uniques))
