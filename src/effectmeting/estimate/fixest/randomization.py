"""Randomization (permutation) inference for a cluster-assigned treatment.

Under the sharp null of no effect for anyone, any reassignment of the treatment across
clusters (keeping the number treated) is as likely as the observed one.  The p-value is the
share of reassignments whose estimate is at least as large in absolute value as the observed
estimate.  With few clusters (the 2x2 designs this is meant for) all ``C(G, G_treated)``
assignments are enumerated and the p-value is exact.
"""
from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd

from effectmeting.errors import FewClustersWarning, IdentificationError
from effectmeting.estimate.core.arguments import renamed_arguments, resolve_seed
from effectmeting.estimate.core.checks import OptionError, require_frame
from effectmeting.estimate.core.hypothesis_test import InferenceResults
from effectmeting.estimate.core.within import factorize


@renamed_arguments(permutations="n_draws")
def randomization_inference(formula: str, data: pd.DataFrame, *, term: str, treatment: str,
                            cluster: str, n_draws: int | str = 999,
                            seed: int | None = None) -> InferenceResults:
    """Permutation p-value for ``term`` when ``treatment`` (0/1) is assigned per ``cluster``.

    ``formula`` is a :func:`feols` formula that uses ``treatment`` (e.g.
    ``"y ~ treated + post + treated:post"`` with ``term="treated:post"``).  ``n_draws`` is
    a number of random reassignments, or ``"all"`` to enumerate; enumeration is also used when
    it needs no more fits than asked (deprecated name: ``permutations``).  ``seed`` seeds the
    reassignments; None means :data:`~effectmeting.defaults.DEFAULT_SEED`.  Returns an :class:`InferenceResults` (``tidy()``,
    ``summary()``, ...; indexable like a Series) with ``estimate``, ``p_value``,
    ``permutations`` (number of assignments used) and ``exact`` (1.0 if enumerated).
    """
    from effectmeting.errors import InputError
    from effectmeting.estimate.fixest.feols import feols

    require_frame(data, "randomization_inference")
    seed = resolve_seed(seed)
    absent = [c for c in (treatment, cluster) if c not in data.columns]
    if absent:
        raise InputError(f"randomization_inference: column(s) {absent} not in the data; "
                         f"available: {list(data.columns)[:20]}")
    if n_draws != "all" and (isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer))
                             or n_draws < 1):
        raise OptionError(f"randomization_inference: n_draws={n_draws!r}; use a positive "
                          "number of random reassignments (e.g. 999) or 'all' to enumerate them")

    codes, n_clusters = factorize(data[cluster].to_numpy())
    values = data[treatment].to_numpy(dtype=float)
    per_cluster = np.full(n_clusters, np.nan)
    per_cluster[codes] = values
    if not np.array_equal(per_cluster[codes], values):
        raise IdentificationError(f"{treatment!r} varies within {cluster!r}; randomization "
                                  "inference here permutes a cluster-level treatment")
    n_treated = int((per_cluster == 1).sum())
    binary = set(np.unique(per_cluster)) <= {0.0, 1.0}
    enumerate_all = binary and (n_draws == "all" or
                                math.comb(n_clusters, n_treated) <= int(n_draws))
    if n_draws == "all" and not binary:
        raise OptionError(f"{treatment!r} must be 0/1 to enumerate assignments")

    def estimate(assignment: np.ndarray) -> float:
        frame = data.copy()
        frame[treatment] = assignment[codes]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FewClustersWarning)
            fit = feols(formula, frame)
        if term not in fit.coef.index:
            raise IdentificationError(f"{term!r} is not estimable under a permuted assignment")
        return float(fit.coef[term])

    observed = estimate(per_cluster)
    if enumerate_all:
        assignments = []
        for treated in itertools.combinations(range(n_clusters), n_treated):
            assignment = np.zeros(n_clusters)
            assignment[list(treated)] = 1.0
            assignments.append(assignment)
    else:
        rng = np.random.default_rng(seed)
        assignments = [per_cluster[rng.permutation(n_clusters)] for _ in range(int(n_draws))]
    draws = np.array([estimate(a) for a in assignments])
    # ties count as extreme (the observed assignment is one of the enumerated ones)
    p_value = float(np.mean(np.abs(draws) >= np.abs(observed) * (1 - 1e-12)))
    values = pd.Series({"estimate": observed, "p_value": p_value,
                        "permutations": len(assignments), "exact": float(enumerate_all)})
    how = (f"all {len(assignments)} assignments enumerated (exact)" if enumerate_all
           else f"{len(assignments)} random reassignments, seed {seed}")
    return InferenceResults(
        f"Randomization inference for {term} ({treatment} permuted across {n_clusters} {cluster} clusters)",
        term, values, notes=[f"Sharp null of no effect; {how}; p-value two-sided (ties count as extreme)."],
        estimator="randomization_inference",
        options={"treatment": treatment, "cluster": cluster, "n_draws": n_draws, "seed": seed})
