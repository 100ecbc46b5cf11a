"""Vectorised unit (cluster) bootstrap of the Callaway-Sant'Anna simple ATT without covariates.

Resampling municipalities with replacement is the same as giving each municipality an integer
frequency weight (a multinomial count).  Without covariates the doubly-robust ATT(g,t) of a cell
is a difference of weighted means of outcome changes (cohort minus comparison units), and the
"simple" aggregate weights post-treatment cells by cohort shares.  All of that is matrix algebra
in the weights, so ``B`` bootstrap draws cost a few ``B x n`` matrix products per cell instead
of ``B`` calls of :func:`~effectmeting.estimate.callaway_santanna.att_gt.att_gt`.

With weights all equal to one the result equals ``att_gt(...).aggregate("simple").estimate``
(same cohort recoding, cells and base periods via :mod:`effectmeting.estimate.callaway_santanna.timing`).
"""
from __future__ import annotations

import numpy as np

from effectmeting.estimate.callaway_santanna.timing import comparison_mask, iter_cells


def simple_att_draws(values: np.ndarray, cohort: np.ndarray, periods: np.ndarray, weights: np.ndarray,
                     control: str = "never") -> np.ndarray:
    """Simple-aggregated ATT for every row of ``weights`` (``B x n_units`` frequency weights).

    ``values``: units x periods outcome of a balanced panel; ``cohort`` per unit, already recoded
    as att_gt does (0 = never treated; :func:`~.timing.recode_cohorts`); ``periods`` sorted.
    Returns ``B`` estimates; NaN for a draw in which a post-treatment cell has no comparison unit.
    """
    cohorts = np.unique(cohort[cohort > 0])
    # cohort shares P(G = g) per draw (the common 1/n cancels in the normalised weights)
    share = np.stack([weights[:, cohort == g].sum(axis=1) for g in cohorts], axis=1)
    numerator = np.zeros(len(weights))
    denominator = np.zeros(len(weights))
    for cell in iter_cells(periods, cohorts, control, "varying", 0):  # ~70 cells
        if not cell.post or cell.reference:
            continue
        change = values[:, cell.current] - values[:, cell.base]
        treated = cohort == cell.cohort
        controls = comparison_mask(cohort, cell)
        w_treated, w_control = weights[:, treated], weights[:, controls]
        with np.errstate(invalid="ignore", divide="ignore"):
            att = (w_treated @ change[treated]) / w_treated.sum(axis=1) \
                - (w_control @ change[controls]) / w_control.sum(axis=1)
        g_share = share[:, np.searchsorted(cohorts, cell.cohort)]
        # a cohort absent from a draw has share 0: its cells drop out of the average
        numerator += np.where(g_share > 0, g_share * att, 0.0)
        denominator += g_share
    return numerator / denominator
