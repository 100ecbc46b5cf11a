"""Standard errors of ATT(g,t) and their aggregations from influence functions: analytic (normal
critical value) or multiplier bootstrap (simultaneous sup-t critical value), optionally clustered.

Its own module so that :mod:`.att_gt` and :mod:`.aggregate` both use it without importing each other.
"""
from __future__ import annotations

import numpy as np

from effectmeting.estimate.core.clustering import Clusters
from effectmeting.estimate.core.multiplier_bootstrap import multiplier_bootstrap
from effectmeting.estimate.core.results import critical_value


def standard_errors(influence: np.ndarray, bootstrap: int | None, seed: int | None,
                    tag: int, clusters: Clusters | None = None, level: float = 0.95) -> tuple[np.ndarray, float]:
    """Analytic SEs ``sqrt(mean(IF^2)/n)`` with the normal critical value, or multiplier-bootstrap
    SEs with the sup-t critical value at ``level`` (``tag`` makes separate, reproducible bootstrap streams).
    With ``clusters`` the variance sums influence values within cluster first (CR1, see
    :mod:`.clustering`) and the bootstrap draws one multiplier per cluster."""
    n = influence.shape[0]
    if clusters is not None:
        if bootstrap is None:
            se = np.sqrt(np.diag(clusters.vcov(influence)))
            se = np.where(se <= np.sqrt(np.finfo(float).eps) * 10, np.nan, se)
            return se, critical_value(level)
        influence = clusters.bootstrap_influence(influence)
    elif bootstrap is None:
        # column sums of squares without an n x n_cells temporary (influence ** 2)
        se = np.sqrt(np.einsum("ij,ij->j", influence, influence)) / n
        se = np.where(se <= np.sqrt(np.finfo(float).eps) * 10, np.nan, se)
        return se, critical_value(level)
    stream = None if seed is None else [seed, tag]
    result = multiplier_bootstrap(influence, bootstrap, stream, alpha=1.0 - level)
    return result.std_error, result.crit_value
