"""Treatment-timing rules shared by the panel and repeated cross-section ATT(g,t) estimators.

Both follow R ``did`` (``pre_process_did`` and ``compute.att_gt``): which cohorts are usable,
which (cohort, period) cells exist, their base period and their comparison units.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from collections.abc import Iterator

import numpy as np

from effectmeting.errors import DroppedCohortWarning, IdentificationError, UnidentifiedCellWarning


@dataclass(frozen=True)
class Timing:
    cohort: np.ndarray          # recoded cohort per entity (unit or row); 0 = never treated
    keep: np.ndarray            # entities kept (False = treated in the first period)
    keep_periods: np.ndarray    # periods kept (False only without never-treated units)
    notes: list[str]


def recode_cohorts(cohort: np.ndarray, periods: np.ndarray, anticipation: int, control: str,
                   entity: str) -> Timing:
    """Apply R did's cohort rules; ``entity`` ("unit"/"row") only words the messages."""
    notes: list[str] = []
    late = cohort > periods[-1]
    if late.any():
        cohort = np.where(late, 0.0, cohort)
        notes.append(f"{int(late.sum())} {entity}(s) first treated after the last period "
                     f"({periods[-1]}) are used as never treated (as R did).")
    off_grid = (cohort > periods[0]) & ~np.isin(cohort, periods)
    if off_grid.any():
        values = sorted(set(cohort[off_grid].tolist()))
        raise IdentificationError(
            f"att_gt: cohort value(s) {[f'{v:g}' for v in values[:5]]} ({int(off_grid.sum())} "
            f"{entity}(s)) are not periods of the time column ({[f'{p:g}' for p in periods[:10]]}"
            f"{' ...' if len(periods) > 10 else ''}); a cohort is the first treated period on the "
            "time scale: recode it to the first observed period at or after adoption.")
    early = (cohort > 0) & (cohort <= periods[0] + anticipation)
    if early.all():
        raise IdentificationError(
            f"att_gt: all {len(cohort)} {entity}s are treated in the first period ({periods[0]}, "
            f"anticipation={anticipation}); no comparison is possible.",
            reason="all_treated",
        )
    if early.any():
        message = (f"Dropped {int(early.sum())} {entity}(s) already treated in the first period "
                   f"{periods[0]} (cohorts {sorted(set(cohort[early].tolist()))}): they have "
                   "no pre-treatment period (as R did).")
        warnings.warn(message, DroppedCohortWarning, stacklevel=4)
        notes.append(message)
    keep = ~early
    keep_periods = np.ones(len(periods), dtype=bool)
    if not (cohort[keep] == 0).any():
        if control == "never":
            raise IdentificationError(
                "att_gt: control='never' but there are no never-treated units (cohort 0/NA). "
                "Use control='notyet' to compare with not-yet-treated units.",
                reason="no_never_treated",
            )
        # R did: the last cohort serves as comparison only; periods from its start are dropped
        last = cohort[keep].max()
        keep_periods = periods < last - anticipation
        notes.append(f"No never-treated units: periods >= {last - anticipation} dropped and cohort "
                     f"{last:g} used only as not-yet-treated comparison (as R did).")
        cohort = np.where(cohort == last, 0.0, cohort)
    return Timing(cohort=cohort, keep=keep, keep_periods=keep_periods, notes=notes)


@dataclass(frozen=True)
class Cell:
    cohort: float
    current: int                 # period index of t
    base: int                    # period index of the base period
    horizon: float | None        # not-yet-treated: comparison cohorts must start after this
    post: bool
    reference: bool              # universal base period's own cell: ATT = 0 by construction


def iter_cells(periods: np.ndarray, cohorts: np.ndarray, control: str, base_period: str,
               anticipation: int) -> Iterator[Cell]:
    """The (g, t) cells of R ``did::compute.att_gt`` in its order (cohort, then period)."""
    offset = 1 if base_period == "varying" else 0
    for g in cohorts:
        universal_base = int(np.flatnonzero(periods + anticipation < g)[-1])
        for index in range(len(periods) - offset):
            current = index + offset
            base = universal_base if offset == 0 else index
            horizon = (float(periods[max(index, base) + offset] + anticipation)
                       if control == "notyet" else None)
            post = bool(g <= periods[current])
            if post:
                base = universal_base
            yield Cell(cohort=float(g), current=current, base=base, horizon=horizon, post=post,
                       reference=base == current)


def comparison_mask(cohort: np.ndarray, cell: Cell) -> np.ndarray:
    """Never-treated entities, plus (not-yet) cohorts starting after the cell's horizon."""
    if cell.horizon is None:
        return cohort == 0
    return (cohort == 0) | ((cohort > cell.horizon) & (cohort != cell.cohort))


def cell_arrays(kept, periods, influence, skipped):
    """Cell lists -> arrays (cohort, time, att, post, influence) plus notes on skipped cells.

    ``influence`` is Fortran-ordered; its first ``len(kept)`` columns are returned as a view
    (still Fortran-contiguous), not copied: the n x n_cells matrix is the largest array of
    ``att_gt`` and a copy would double it."""
    notes = []
    if skipped:
        message = (f"No comparison units for cell(s) {', '.join(skipped)}; those ATT(g,t) are "
                   "not identified and left out.")
        warnings.warn(message, UnidentifiedCellWarning, stacklevel=4)
        notes.append(message)
    cohort_values = np.array([cell.cohort for cell, _ in kept])
    if np.issubdtype(periods.dtype, np.integer):  # report cohorts in the time column's type
        cohort_values = cohort_values.astype(periods.dtype)
    return (cohort_values, np.array([periods[cell.current] for cell, _ in kept]),
            np.array([att for _, att in kept], dtype=float),
            np.array([cell.post and not cell.reference for cell, _ in kept]),
            influence[:, :len(kept)], notes)
