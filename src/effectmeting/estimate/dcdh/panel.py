"""Input checks and the unit x period grid for the de Chaisemartin-D'Haultfoeuille estimator.

The estimator works on a balanced grid: ``G`` units (rows) by ``T`` periods (columns), with the
periods numbered ``0..T-1`` in the order of the distinct values of ``time`` (as
``did_multiplegt_dyn`` does, so a gap in the calendar counts as one period).  Every cell must be
present with a known outcome, treatment and weight: missing cells are refused, never dropped,
because a missing treatment makes the date of the first switch unknowable.

The treatment may be binary or take several (discrete) numeric values.  A unit whose treatment
goes both above and below its baseline ``D_{g,1}`` (a bidirectional switcher) is refused: its
``DID_{g,l}`` mixes effects of opposite signs (see the paper's discussion of "no sign
reversal"; ``did_multiplegt_dyn`` drops such units by default).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from effectmeting.errors import IdentificationError, InputError
from effectmeting.estimate.core.checks import nonnegative_weights, numeric_column, require_frame


@dataclass
class SwitchingPanel:
    """A validated switching-treatment panel on a ``(G, T)`` grid."""

    units: np.ndarray  # (G,) unit labels in grid order
    periods: np.ndarray  # (T,) time values in grid order
    y: np.ndarray  # (G, T) outcome
    d: np.ndarray  # (G, T) treatment (numeric; 0/1 or a few discrete levels)
    w: np.ndarray  # (G, T) cell weights (1 when no weights are given)
    cluster_codes: np.ndarray  # (G,) cluster of each unit
    clustered: bool  # True when a cluster coarser than the unit was asked for
    x: np.ndarray | None = None  # (G, T, k) controls, None without controls

    @property
    def baseline(self) -> np.ndarray:
        """Status-quo treatment ``D_{g,1}``: the treatment in the first period."""
        return self.d[:, 0]

    @property
    def first_switch(self) -> np.ndarray:
        """``F_g``: index of the first period whose treatment differs from the baseline; ``T``
        for units that never switch."""
        changed = self.d != self.baseline[:, None]
        return np.where(changed.any(axis=1), changed.argmax(axis=1), self.d.shape[1])

    @property
    def baseline_codes(self) -> np.ndarray:
        """Index of each unit's baseline treatment among the sorted distinct baselines."""
        return np.unique(self.baseline, return_inverse=True)[1].ravel()

    @property
    def switch_treatment(self) -> np.ndarray:
        """``D_{g,F_g}``: the treatment in the first switched period (the baseline for units
        that never switch)."""
        first = np.minimum(self.first_switch, self.d.shape[1] - 1)
        return np.where(self.first_switch < self.d.shape[1], self.d[np.arange(len(first)), first], self.baseline)

    @property
    def direction(self) -> np.ndarray:
        """``S_g``: +1 for switchers in (treatment rises above the baseline), -1 for switchers
        out (falls below it), 0 for units that never switch."""
        return np.sign(self.switch_treatment - self.baseline).astype(float)


def _refuse_missing(frame: pd.DataFrame, column: str) -> None:
    bad = frame[column].isna().to_numpy()
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise InputError(
            f"column '{column}' has {int(bad.sum())} missing value(s) (first rows {rows}); the "
            "de Chaisemartin-D'Haultfoeuille estimator needs every unit-period cell: impute or "
            "drop those units explicitly before estimating"
        )


def long_differences(values: np.ndarray, lag: int, placebo: bool) -> np.ndarray:
    """``V_t - V_{t-l}`` (effects) or ``V_{t-2l} - V_{t-l}`` (placebos) in column ``t`` of a
    ``(G, T)`` or ``(G, T, k)`` grid; NaN where undefined (the first ``l``, or ``2l``, periods)."""
    n_periods = values.shape[1]
    diff = np.full_like(values, np.nan)
    if placebo:
        if 2 * lag < n_periods:
            diff[:, 2 * lag:] = values[:, : n_periods - 2 * lag] - values[:, lag: n_periods - lag]
    else:
        diff[:, lag:] = values[:, lag:] - values[:, : n_periods - lag]
    return diff


def _complete_frame(data: pd.DataFrame, needed: list[str], unit: str, time: str) -> pd.DataFrame:
    """The needed columns, refused when one is absent, has a missing value, or when a
    ``(unit, time)`` pair repeats."""
    absent = [c for c in needed if c not in data.columns]
    if absent:
        raise InputError(f"columns {absent} not found in the data; available: {list(data.columns)}")
    frame = data[needed].reset_index(drop=True)
    for column in needed:
        _refuse_missing(frame, column)
    duplicated = frame.duplicated([unit, time], keep=False).to_numpy()
    if duplicated.any():
        rows = np.flatnonzero(duplicated)[:5].tolist()
        raise InputError(f"({unit}, {time}) is not unique: rows {rows} repeat a unit-period; aggregate first")
    return frame


def _numeric_values(frame: pd.DataFrame, treatment: str, controls: list[str]
                    ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Treatment and control columns as float arrays; a value that is not a number is refused
    (naming the first bad row) rather than coerced to NaN."""
    d_values = pd.to_numeric(frame[treatment], errors="coerce").to_numpy(dtype=float)
    not_numeric = ~np.isfinite(d_values)
    if not_numeric.any():
        row = int(np.flatnonzero(not_numeric)[0])
        raise IdentificationError(
            f"column '{treatment}' must be a numeric treatment (0/1 or discrete levels); row {row} has "
            f"{frame[treatment].iloc[row]!r}. Recode it to numbers"
        )
    control_values = []
    for column in controls:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(values).all():
            row = int(np.flatnonzero(~np.isfinite(values))[0])
            raise InputError(f"control column '{column}' must be numeric; row {row} has {frame[column].iloc[row]!r}")
        control_values.append(values)
    return d_values, control_values


def _balanced_grid(frame: pd.DataFrame, unit: str, time: str):
    """Row and column of each observation on the ``(G, T)`` grid (units and periods sorted);
    refuses an unbalanced panel (absent cells are never imputed) and a single period.

    Returns ``(unit_codes, units, period_codes, periods)``.
    """
    unit_codes, units = pd.factorize(frame[unit], sort=True)
    period_codes, periods = pd.factorize(frame[time], sort=True)
    n_units, n_periods = len(units), len(periods)
    if len(frame) != n_units * n_periods:
        counts = np.bincount(unit_codes, minlength=n_units)
        short = units[counts < n_periods][:5].tolist()
        raise InputError(
            f"the panel is unbalanced: {n_units * n_periods - len(frame)} of {n_units} x {n_periods} "
            f"unit-period cells are absent (e.g. units {short}); balance it first (harmonise to one "
            "reference year, or drop those units explicitly)"
        )
    if n_periods < 2:
        raise IdentificationError(f"column '{time}' has a single period; at least two are needed")
    return unit_codes, units, period_codes, periods


def _unit_clusters(frame: pd.DataFrame, unit_codes: np.ndarray, units, unit: str,
                   cluster: str | None) -> tuple[np.ndarray, bool]:
    """Cluster code of each unit (grid order) and whether a level coarser than the unit was
    asked for; a cluster that varies within a unit is refused (clusters must nest units)."""
    if cluster is None or cluster == unit:
        return np.arange(len(units)), False
    spread = frame.groupby(unit_codes)[cluster].nunique()
    if (spread > 1).any():
        example = units[int(spread.index[np.flatnonzero(spread.to_numpy() > 1)[0]])]
        raise InputError(
            f"cluster column '{cluster}' varies within unit {example!r}; clusters must nest units"
        )
    first = frame.groupby(unit_codes)[cluster].first().sort_index()
    cluster_codes, _ = pd.factorize(first.to_numpy())
    return cluster_codes, True


def _refuse_bidirectional(d: np.ndarray, units, unit: str, treatment: str) -> None:
    """Refuse units whose treatment goes both above and below its first-period value."""
    above = (d > d[:, :1]).any(axis=1)
    below = (d < d[:, :1]).any(axis=1)
    both = np.flatnonzero(above & below)
    if len(both):
        raise IdentificationError(
            f"{len(both)} unit(s) of '{unit}' have '{treatment}' both above and below their first-period "
            f"value (e.g. {np.asarray(units)[both][:5].tolist()}): their DID_l mixes effects of increases and "
            "decreases with weights of both signs (no sign-reversal guarantee). Drop those units "
            "explicitly before estimating"
        )


def prepare_switching_panel(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treatment: str,
    cluster: str | None = None,
    weights: str | None = None,
    controls: list[str] | None = None,
) -> SwitchingPanel:
    """Check the columns once and pivot them to ``(G, T)`` arrays.

    Refuses missing values, duplicated ``(unit, time)`` rows, absent cells (an unbalanced
    panel), a non-numeric treatment or control, bidirectional switchers, negative weights and a
    cluster that varies within a unit.
    """
    require_frame(data, "dcdh")
    needed = [outcome, unit, time, treatment] + list(controls or ())
    needed += [c for c in (weights, cluster) if c is not None]
    needed = list(dict.fromkeys(needed))
    frame = _complete_frame(data, needed, unit, time)
    time_column = frame[time]
    if not (pd.api.types.is_numeric_dtype(time_column) or pd.api.types.is_datetime64_any_dtype(time_column)):
        # text periods would be ordered as text ("10" before "9"): use their numbers, or refuse
        frame[time] = numeric_column(time_column, "dcdh", what="numeric periods (e.g. years)")
    d_values, control_values = _numeric_values(frame, treatment, list(controls or ()))
    unit_codes, units, period_codes, periods = _balanced_grid(frame, unit, time)

    def grid(values: np.ndarray) -> np.ndarray:
        out = np.empty((len(units), len(periods)), dtype=float)
        out[unit_codes, period_codes] = values
        return out

    w = np.ones(len(frame)) if weights is None else numeric_column(frame[weights], "dcdh")
    if weights is not None:
        nonnegative_weights(w, frame[weights], "dcdh")
    cluster_codes, clustered = _unit_clusters(frame, unit_codes, units, unit, cluster)
    d = grid(d_values)
    _refuse_bidirectional(d, units, unit, treatment)
    x = None
    if controls:
        x = np.stack([grid(values) for values in control_values], axis=2)
    return SwitchingPanel(
        units=np.asarray(units), periods=np.asarray(periods), y=grid(numeric_column(frame[outcome], "dcdh")),
        d=d, w=grid(w), cluster_codes=np.asarray(cluster_codes), clustered=clustered, x=x,
    )
