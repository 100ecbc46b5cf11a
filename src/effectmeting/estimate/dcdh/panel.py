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
from effectmeting.estimate.core.data import PanelData


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


def _balanced_grid(panel: PanelData, time: str) -> None:
    """Refuse an unbalanced panel (absent cells are never imputed) and a single period; the
    door has already refused repeated ``(unit, time)`` rows, so G x T rows fill the grid."""
    n_units, n_periods = panel.n_units, panel.n_times
    if panel.n_rows != n_units * n_periods:
        assert panel.unit_codes is not None and panel.unit_labels is not None  # dCDH always has a unit column
        counts = np.bincount(panel.unit_codes, minlength=n_units)
        short = panel.unit_labels[counts < n_periods][:5].tolist()
        raise InputError(
            f"the panel is unbalanced: {n_units * n_periods - panel.n_rows} of {n_units} x {n_periods} "
            f"unit-period cells are absent (e.g. units {short}); balance it first (harmonise to one "
            "reference year, or drop those units explicitly)"
        )
    if n_periods < 2:
        raise IdentificationError(f"column '{time}' has a single period; at least two are needed")


def _unit_clusters(panel: PanelData) -> tuple[np.ndarray, bool]:
    """Cluster code of each unit (grid order, numbered in order of appearance) and whether a
    level coarser than the unit was asked for (the door refused clusters that do not nest units)."""
    if panel.cluster_codes is None:
        return np.arange(panel.n_units), False
    assert panel.unit_codes is not None  # dCDH always has a unit column
    per_unit = np.empty(panel.n_units, dtype=np.int64)
    per_unit[panel.unit_codes] = panel.cluster_codes  # constant within unit: any row of a unit will do
    cluster_codes, _ = pd.factorize(per_unit)
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

    The door (:meth:`PanelData.from_frame`) refuses missing values, duplicated ``(unit, time)``
    rows, a non-numeric treatment or control, negative weights and a cluster that varies within
    a unit; here absent cells (an unbalanced panel) and bidirectional switchers are refused.
    """
    cluster_column = cluster if cluster is not None and cluster != unit else None
    panel = PanelData.from_frame(
        data, unit=unit, time=time, outcome=outcome, treatment=treatment, weights=weights,
        cluster=cluster_column, covariates=list(controls or ()), who="dcdh",
        constant_within_unit=[] if cluster_column is None else [cluster_column], datetime_time=True)
    _balanced_grid(panel, time)
    # unit and treatment are required arguments, so the door filled their arrays
    assert panel.unit_labels is not None and panel.unit_codes is not None and panel.treatment is not None
    units, periods, unit_codes = panel.unit_labels, panel.periods, panel.unit_codes

    def grid(values: np.ndarray) -> np.ndarray:
        out = np.empty((len(units), len(periods)), dtype=float)
        out[unit_codes, panel.time_codes] = values
        return out

    cluster_codes, clustered = _unit_clusters(panel)
    d = grid(panel.treatment)
    _refuse_bidirectional(d, units, unit, treatment)
    x = None
    if controls:
        x = np.stack([grid(panel.covariates[c]) for c in controls], axis=2)
    w = np.ones(panel.n_rows) if panel.weights is None else panel.weights  # None exactly when no weights column
    return SwitchingPanel(
        units=np.asarray(units), periods=np.asarray(periods), y=grid(panel.y),
        d=d, w=grid(w), cluster_codes=np.asarray(cluster_codes), clustered=clustered, x=x,
    )
