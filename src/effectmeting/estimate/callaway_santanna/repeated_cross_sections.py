"""ATT(g,t) on repeated cross-sections (``att_gt(..., panel=False)``), as R ``did``.

Every row is its own observation (R ``did`` gives each row an id): influence functions are per
row, and cohort shares in aggregations are row (or weight) shares.  A cell uses the rows of its
cohort and comparison cohorts observed in its current and base periods.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from effectmeting.estimate.core.data import PanelData
from effectmeting.estimate.callaway_santanna.timing import cell_arrays, comparison_mask, iter_cells, recode_cohorts
from effectmeting.estimate.callaway_santanna.drdid_rc import ESTIMATORS_RC


@dataclass
class CrossSections:
    """Rows in array form; ``cohort``/``weights`` per row so aggregation treats rows as units."""

    periods: np.ndarray
    period_index: np.ndarray     # per row, index into periods
    cohort: np.ndarray
    outcome: np.ndarray
    covariates: np.ndarray | None  # rows x k
    weights: np.ndarray
    notes: list[str] = field(default_factory=list)
    cluster_codes: np.ndarray | None = None  # per row, codes of the cluster column (or None)


def prepare_cross_sections(data: PanelData, control: str, anticipation: int) -> CrossSections:
    """Arrays per row after R did's cohort rules (the door, :meth:`PanelData.from_frame`,
    checked the columns)."""
    assert data.cohort is not None  # cohort is a required argument of att_gt
    period_index, periods = data.time_codes, data.periods
    row_cohort = np.nan_to_num(data.cohort, nan=0.0)
    timing = recode_cohorts(row_cohort, periods, anticipation, control, "row")
    keep = timing.keep & timing.keep_periods[period_index]
    new_index = np.cumsum(timing.keep_periods) - 1  # period indices after dropping periods
    covariates = list(data.covariates.values())
    return CrossSections(
        periods=periods[timing.keep_periods],
        period_index=new_index[period_index[keep]],
        cohort=timing.cohort[keep],
        outcome=data.y[keep],
        covariates=np.column_stack(covariates)[keep] if covariates else None,
        weights=data.weights[keep] if data.weights is not None else np.ones(int(keep.sum())),
        notes=list(timing.notes),
        cluster_codes=None if data.cluster_codes is None else data.cluster_codes[keep],
    )


def estimate_cells_rc(data: CrossSections, control: str, method: str, base_period: str,
                      anticipation: int):
    """Every (cohort, period) cell on repeated cross-sections; same outputs as the panel loop."""

    n = len(data.cohort)
    estimator = ESTIMATORS_RC[method]
    cohorts = np.unique(data.cohort[data.cohort > 0])
    cells = list(iter_cells(data.periods, cohorts, control, base_period, anticipation))
    influence = np.zeros((n, len(cells)), order="F")
    kept, skipped = [], []
    for cell in cells:
        if cell.reference:
            kept.append((cell, 0.0))
            continue
        in_periods = (data.period_index == cell.current) | (data.period_index == cell.base)
        treated_rows = data.cohort == cell.cohort
        control_rows = comparison_mask(data.cohort, cell)
        rows = np.flatnonzero(in_periods & (treated_rows | control_rows))
        treated = treated_rows[rows].astype(float)
        post = (data.period_index[rows] == cell.current).astype(float)
        # every 2x2 needs treated and comparison rows in both periods
        if min((treated * post).sum(), (treated * (1 - post)).sum(),
               ((1 - treated) * post).sum(), ((1 - treated) * (1 - post)).sum()) == 0:
            skipped.append(f"({cell.cohort:g}, {data.periods[cell.current]})")
            continue
        design = np.ones((len(rows), 1))
        if data.covariates is not None:
            design = np.hstack([design, data.covariates[rows]])
        att, inf = estimator(data.outcome[rows], post, treated, design, data.weights[rows])
        influence[rows, len(kept)] = (n / len(rows)) * inf
        kept.append((cell, att))
    return cell_arrays(kept, data.periods, influence, skipped)
