"""Panel data at the door: every estimator's input checked once, in one place.

:meth:`PanelData.from_frame` takes a long frame (one row per unit and period, or per person in
repeated cross-sections) and the names of its columns, refuses what no estimator can use and
returns flat arrays: numbers as float64 (views where the column already is float64), unit,
period and cluster codes factorised once.  The estimators' own containers
(:class:`~effectmeting.estimate.staggered.panel.StaggeredData`, the ATT(g,t) unit panel, dCDH's
switching grid) are reshapings of these arrays; none of them reads the raw frame again.

Refusals, in the order they are checked (each names the estimator, the column, the first
offending row by its **index label** -- the label a user sees in ``data.loc`` -- and its value):

* not a DataFrame, no rows (:class:`InputError`); a column that is not in the data
  (:class:`OptionError`, ``reason="unknown_column"``);
* a missing value in any column used (:class:`InputError`, ``reason="missing_value"``); a
  missing cohort means never treated and is allowed;
* text that is not a number and infinite values (:class:`InputError`); numeric text such as
  ``"2015"`` is converted; negative weights (:class:`InputError`);
* a repeated (unit, period) pair when ``unique_cells`` (:class:`InputError`,
  ``reason="duplicate_rows"``);
* a cohort, weight or cluster that changes within a unit when listed in
  ``constant_within_unit`` (:class:`IdentificationError`, ``reason="varies_within_unit"``).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from effectmeting.errors import IdentificationError, InputError, OptionError
from effectmeting.estimate.core.checks import nonnegative_weights, numeric_column, require_frame, row_named, show

#: advice appended when a column that must be constant per unit is not
_CONSTANT_ADVICE = {
    "cohort": "a cohort is the first treated period and must be constant per unit (treatment must be "
              "absorbing). Recode switching units (e.g. to their first adoption) or drop them",
    "weights": "use one weight per unit",
    "cluster": "each unit needs one cluster. For residents who move, assign the municipality of a fixed "
               "moment (e.g. the first year observed) to a new column and cluster on that",
}


@dataclass(frozen=True, eq=False)
class PanelData:
    """Checked columns of a long frame as flat arrays, one entry per row (original row order).

    Codes are 0..G-1 in the **sorted** order of the labels (``unit_labels``, ``periods``,
    ``cluster_labels``); :func:`appearance_codes` renumbers them in order of first appearance.
    ``cohort`` is float with NaN for a missing cohort (never treated, as is 0).  ``time`` is the
    time column as numbers in its own dtype (integer years stay integers; numeric text becomes
    int64 when whole); ``time_float`` the same as float64.
    """

    who: str
    index: pd.Index
    names: dict[str, Any]              # role -> column name(s): unit, time, outcomes, cohort, ...
    time: np.ndarray
    time_codes: np.ndarray
    periods: np.ndarray
    outcomes: dict[str, np.ndarray]
    unit_values: np.ndarray | None = None   # raw unit label of each row
    unit_codes: np.ndarray | None = None
    unit_labels: np.ndarray | None = None
    cohort: np.ndarray | None = None
    treatment: np.ndarray | None = None
    weights: np.ndarray | None = None
    cluster_codes: np.ndarray | None = None
    cluster_labels: np.ndarray | None = None
    covariates: dict[str, np.ndarray] = field(default_factory=dict)
    row_order: np.ndarray | None = None     # row positions sorted by (unit code, period code)

    @property
    def n_rows(self) -> int:
        return len(self.time)

    @property
    def n_units(self) -> int:
        return 0 if self.unit_labels is None else len(self.unit_labels)

    @property
    def n_times(self) -> int:
        return len(self.periods)

    @property
    def y(self) -> np.ndarray:
        """The first outcome column."""
        return next(iter(self.outcomes.values()))

    @property
    def time_float(self) -> np.ndarray:
        return self.time if self.time.dtype == np.float64 else self.time.astype(float)

    @classmethod
    def from_frame(cls, data: Any, *, unit: str | None, time: str, outcome: str | Sequence[str],
                   cohort: str | None = None, treatment: str | None = None, weights: str | None = None,
                   cluster: str | None = None, covariates: Sequence[str] = (), who: str = "att_gt",
                   unique_cells: bool = True, constant_within_unit: Sequence[str] = (),
                   datetime_time: bool = False) -> PanelData:
        """Check ``data`` once and return its columns as arrays (see the module docstring).

        ``unit=None`` (repeated cross-sections) skips the unit codes, the duplicate check and
        the within-unit checks.  ``constant_within_unit`` lists column names (the cohort,
        weights or cluster) that must not change within a unit.  ``datetime_time`` lets a
        datetime period column through unchanged (dCDH orders periods, it does no arithmetic).
        """
        require_frame(data, who)
        outcomes = [outcome] if isinstance(outcome, str) else list(outcome)
        covariates = [covariates] if isinstance(covariates, str) else list(covariates)
        optional = [c for c in (treatment, weights, cluster) if c is not None]
        _require_columns(data, [*outcomes, *([unit] if unit else []), time,
                                *([cohort] if cohort else []), *covariates, *optional], who)
        # one missing-value refusal for every column but the cohort (NA = never treated)
        for column in dict.fromkeys([*outcomes, *([unit] if unit else []), time, *covariates, *optional]):
            refuse_missing(data[column], who)
        number = _numbers(data, who)
        time_values = _time_column(data[time], who, datetime_time)
        time_codes, periods = pd.factorize(time_values, sort=True)
        panel = dict(
            who=who, index=data.index, time=time_values, time_codes=time_codes, periods=np.asarray(periods),
            names=dict(unit=unit, time=time, outcomes=tuple(outcomes), cohort=cohort, treatment=treatment,
                       weights=weights, cluster=cluster, covariates=tuple(covariates)),
            outcomes={c: number(c) for c in outcomes},
            covariates={c: number(c) for c in covariates},
            treatment=None if treatment is None else number(
                treatment, what="a numeric treatment (0/1 or discrete levels)"),
            cohort=None if cohort is None else _cohort_column(data[cohort], who),
        )
        if weights is not None:
            panel["weights"] = number(weights)
            nonnegative_weights(panel["weights"], data[weights], who)
        if cluster is not None:
            panel["cluster_codes"], labels = pd.factorize(data[cluster], sort=True)
            panel["cluster_labels"] = np.asarray(labels)
        if unit is not None:
            unit_codes, labels = pd.factorize(data[unit], sort=True)
            panel.update(unit_values=data[unit].to_numpy(), unit_codes=unit_codes, unit_labels=np.asarray(labels))
            # rows in (unit, period) order, sorted once: duplicates and within-unit changes are
            # neighbours there, and the ATT(g,t) panel reshapes along it
            cells = unit_codes.astype(np.int64) * len(periods) + time_codes
            order = np.argsort(cells, kind="stable")
            panel["row_order"] = order
            if unique_cells:
                _refuse_duplicates(cells, order, data, unit, time, who)
            del cells
            sorted_units = unit_codes[order]
            for column in constant_within_unit:
                values = (panel["cohort"] if column == cohort else panel["weights"] if column == weights
                          else panel["cluster_codes"])
                if column == cohort:
                    values = np.where(np.isnan(values), 0.0, values)  # NA and 0 both mean never treated
                role = "cohort" if column == cohort else "weights" if column == weights else "cluster"
                _refuse_varying(values, order, sorted_units, data, column, unit, who, _CONSTANT_ADVICE[role])
        return cls(**panel)

    def row(self, position: int) -> str:
        """The row at ``position`` as every refusal names it ("row with index label ...")."""
        return row_named(self.index, position)


def appearance_codes(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """``codes`` renumbered 0..G-1 in order of first appearance (int64), and G; the numbering of
    ``pd.factorize(values, sort=False)``, which the regression estimators' sums follow."""
    renumbered, uniques = pd.factorize(codes, sort=False)
    return renumbered.astype(np.int64, copy=False), len(uniques)


def refuse_missing(series: pd.Series, who: str) -> None:
    """Refuse a column with a missing value (nothing is dropped silently)."""
    missing = series.isna().to_numpy()
    if missing.any():
        position = int(np.flatnonzero(missing)[0])
        raise InputError(
            f"{who}: column {series.name!r} has {int(missing.sum())} missing value(s); "
            f"{row_named(series.index, position)} has {show(series.iloc[position])}. Drop or impute them "
            "explicitly before estimating (nothing is dropped silently)", reason="missing_value")


def _require_columns(data: pd.DataFrame, columns: Sequence[str], who: str) -> None:
    absent = [c for c in dict.fromkeys(columns) if c not in data.columns]
    if absent:
        raise OptionError(f"{who}: column(s) {absent} not in the data; available columns: {list(data.columns)}.",
                          reason="unknown_column")


def _numbers(data: pd.DataFrame, who: str):
    def number(column: str, what: str = "numbers") -> np.ndarray:
        return numeric_column(data[column], who, what=what)
    return number


def _time_column(series: pd.Series, who: str, datetime_time: bool) -> np.ndarray:
    """Periods as numbers in the column's own dtype; numeric text (``"2015"``) becomes int64 when
    every value is whole (and is then reported as 2015), otherwise float."""
    if datetime_time and pd.api.types.is_datetime64_any_dtype(series):
        return series.to_numpy()
    values = numeric_column(series, who, what="numeric periods (e.g. years)")
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        raw = series.to_numpy()
        return raw if raw.dtype.kind in "iuf" else values
    return values.astype(np.int64) if np.array_equal(values, np.round(values)) else values


def _cohort_column(series: pd.Series, who: str) -> np.ndarray:
    return numeric_column(series, who, allow_missing=True,
                          what="first treated periods (0 or NA for never treated)")


def _refuse_duplicates(cells: np.ndarray, order: np.ndarray, data: pd.DataFrame, unit: str, time: str,
                       who: str) -> None:
    """Refuse a repeated (unit, period) cell, naming two rows that hold it."""
    sorted_cells = cells[order]
    repeat = sorted_cells[1:] == sorted_cells[:-1]
    if repeat.any():
        step = int(np.flatnonzero(repeat)[0])
        first, second = int(order[step]), int(order[step + 1])
        n_repeated = int(np.isin(cells, sorted_cells[1:][repeat]).sum())
        raise InputError(
            f"{who}: ({unit}, {time}) is not unique: {n_repeated} rows repeat a unit-period; "
            f"{row_named(data.index, first)} and {row_named(data.index, second)} both have "
            f"({show(data[unit].iloc[first])}, {show(data[time].iloc[first])}). Aggregate them first",
            reason="duplicate_rows")


def _refuse_varying(values: np.ndarray, order: np.ndarray, sorted_units: np.ndarray, data: pd.DataFrame,
                    column: str, unit: str, who: str, advice: str) -> None:
    """Refuse ``values`` (one per row) that are not constant within each unit; ``order`` sorts
    the rows by unit, ``sorted_units`` are the unit codes in that order."""
    sorted_values = values[order]
    changes = (sorted_units[1:] == sorted_units[:-1]) & (sorted_values[1:] != sorted_values[:-1])
    if not changes.any():
        return
    offenders = np.unique(sorted_units[1:][changes])
    units = data[unit].to_numpy()
    step = int(np.flatnonzero(changes)[0])
    first_row = int(order[np.searchsorted(sorted_units, sorted_units[step])])
    changed_row = int(order[step + 1])
    examples = [units[order[np.searchsorted(sorted_units, code)]] for code in offenders[:5]]
    series = data[column]
    raise IdentificationError(
        f"{who}: column {column!r} varies within unit for {len(offenders)} unit(s) (e.g. "
        f"{[e.item() if isinstance(e, np.generic) else e for e in examples]}); unit {show(units[first_row])} "
        f"has {show(series.iloc[first_row])} at the {row_named(data.index, first_row)} and "
        f"{show(series.iloc[changed_row])} at the {row_named(data.index, changed_row)}; {advice}.",
        reason="varies_within_unit")
