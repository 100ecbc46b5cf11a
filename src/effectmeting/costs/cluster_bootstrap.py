"""Vectorised municipality (cluster) bootstrap of the Callaway-Sant'Anna simple ATT without covariates.

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

from dataclasses import dataclass

import numpy as np
import pandas as pd

from effectmeting.estimate.callaway_santanna.timing import comparison_mask, iter_cells, recode_cohorts


@dataclass
class UnitPanel:
    """Units x periods arrays of one or more outcomes, with the cohort recoding of att_gt applied."""

    units: np.ndarray
    periods: np.ndarray
    cohort: np.ndarray               # per unit, 0 = never treated (recoded as att_gt does)
    outcomes: dict[str, np.ndarray]  # name -> units x periods
    notes: list[str]


def unit_panel(frame: pd.DataFrame, columns: list[str], *, unit: str = "municipality", time: str = "year",
               cohort: str = "first_adoption_year", control: str = "never") -> UnitPanel:
    """Reshape a balanced long frame into unit x period arrays (units and periods sorted)."""
    wide = frame.pivot(index=unit, columns=time, values=columns)
    periods = np.array(sorted(frame[time].unique()))
    cohorts = frame.groupby(unit)[cohort].first().reindex(wide.index).to_numpy(float)
    timing = recode_cohorts(cohorts, periods, 0, control, "unit")
    keep = timing.keep
    outcomes = {c: wide[c].to_numpy(float)[keep][:, timing.keep_periods] for c in columns}
    return UnitPanel(units=wide.index.to_numpy()[keep], periods=periods[timing.keep_periods],
                     cohort=timing.cohort[keep], outcomes=outcomes, notes=list(timing.notes))


def simple_att_draws(panel: UnitPanel, outcome: str, weights: np.ndarray, control: str = "never") -> np.ndarray:
    """Simple-aggregated ATT for every row of ``weights`` (``B x n_units`` frequency weights).

    Returns ``B`` estimates; NaN for a draw in which a post-treatment cell has no comparison unit.
    """
    values = panel.outcomes[outcome]
    cohort = panel.cohort
    cohorts = np.unique(cohort[cohort > 0])
    # cohort shares P(G = g) per draw (the common 1/n cancels in the normalised weights)
    share = np.stack([weights[:, cohort == g].sum(axis=1) for g in cohorts], axis=1)
    numerator = np.zeros(len(weights))
    denominator = np.zeros(len(weights))
    for cell in iter_cells(panel.periods, cohorts, control, "varying", 0):  # ~70 cells
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


def multinomial_weights(n_units: int, draws: int, seed: int | None) -> np.ndarray:
    """``draws x n_units`` counts of each unit in a resample of ``n_units`` units with replacement."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_units, np.full(n_units, 1.0 / n_units), size=draws).astype(float)
