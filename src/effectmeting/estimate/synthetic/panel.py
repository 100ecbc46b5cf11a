"""A case-study panel: the long frame checked once and reshaped to one outcome matrix.

:func:`case_study_panel` takes one row per unit and period with a 0/1 ``treatment`` column (1 for a
treated unit in its treated periods) and returns :class:`CaseStudyPanel`: the outcome as a units x
periods matrix with the donors (never treated) first and the treated units last, the periods
before and after adoption, and optional predictor columns as matrices of the same shape.

What the synthetic estimators cannot use is refused here, naming the unit, period and what to do:

* every check of :meth:`~effectmeting.estimate.core.data.PanelData.from_frame` (columns, missing
  values, text, repeated unit-periods);
* a treatment that is not 0/1 (:class:`InputError`, ``not_binary``);
* no treated unit or no donor (:class:`IdentificationError`, ``no_treated_unit`` / ``no_donors``);
* treated units that adopt in different periods, or switch back (``staggered_adoption``,
  ``not_absorbing``): the estimators here take one adoption period (block adoption);
* a treated unit or a donor without a row in every period (:class:`InputError`, ``missing_years``:
  a synthetic twin is a weighted sum of whole histories, and nothing is imputed or dropped
  silently);
* fewer than ``min_pre_periods`` periods before adoption (:class:`IdentificationError`,
  ``short_pre_period``) or none after it (``no_post_period``).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from effectmeting.errors import IdentificationError, InputError, OptionError
from effectmeting.estimate.core.checks import show
from effectmeting.estimate.core.data import PanelData

#: default minimum number of pre-adoption periods (see :func:`case_study_panel`)
MIN_PRE_PERIODS = 4


@dataclass(frozen=True, eq=False)
class CaseStudyPanel:
    """The outcome as a units x periods matrix: donors first (rows ``0..n_donors-1``), treated
    units last; periods ascending, the first ``n_pre`` before adoption."""

    outcome: np.ndarray
    units: np.ndarray           # unit labels in row order
    periods: np.ndarray         # period labels in column order
    n_donors: int
    n_pre: int
    names: dict[str, str]
    predictors: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_treated(self) -> int:
        return len(self.units) - self.n_donors

    @property
    def n_post(self) -> int:
        return len(self.periods) - self.n_pre

    @property
    def adoption_period(self):
        return self.periods[self.n_pre]

    @property
    def donors(self) -> np.ndarray:
        return self.units[: self.n_donors]

    @property
    def treated(self) -> np.ndarray:
        return self.units[self.n_donors:]


def check_min_pre_periods(min_pre_periods: object, who: str) -> int:
    if isinstance(min_pre_periods, bool) or not isinstance(min_pre_periods, (int, np.integer)) or min_pre_periods < 2:
        raise OptionError(f"{who}: min_pre_periods={min_pre_periods!r} must be an integer >= 2 "
                          "(the noise level and any pre-period fit need two periods)")
    return int(min_pre_periods)


def case_study_panel(data: pd.DataFrame, *, outcome: str, unit: str, time: str, treatment: str,
                     predictors: Sequence[str] = (), min_pre_periods: int = MIN_PRE_PERIODS,
                     who: str = "synthetic_did") -> CaseStudyPanel:
    """Check ``data`` and reshape it (see the module docstring for every refusal).

    ``treatment`` is 1 for a treated unit in its treated periods and 0 otherwise; a unit with a 1
    anywhere is treated, the others are donors.  All treated units must switch on in the same
    period and stay treated.
    """
    min_pre = check_min_pre_periods(min_pre_periods, who)
    predictors = [predictors] if isinstance(predictors, str) else list(predictors)
    panel = PanelData.from_frame(data, unit=unit, time=time, outcome=outcome, treatment=treatment,
                                 covariates=predictors, who=who)
    assert panel.unit_codes is not None and panel.unit_labels is not None and panel.treatment is not None
    d = panel.treatment
    bad = ~np.isin(d, (0.0, 1.0))
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise InputError(f"{who}: column {treatment!r} must be 0/1 (1 = treated unit in a treated period); "
                         f"{panel.row(position)} has {show(data[treatment].iloc[position])}", reason="not_binary")
    n_units, n_times = panel.n_units, panel.n_times
    observed = np.zeros((n_units, n_times), dtype=bool)
    observed[panel.unit_codes, panel.time_codes] = True
    grid_d = np.zeros((n_units, n_times))
    grid_d[panel.unit_codes, panel.time_codes] = d
    ever = grid_d.max(axis=1) > 0
    if not ever.any():
        raise IdentificationError(f"{who}: no unit has {treatment!r} = 1; mark the treated unit's treated "
                                  "periods with 1", reason="no_treated_unit")
    if ever.all():
        raise IdentificationError(f"{who}: every unit is treated at some point; a synthetic twin needs donor "
                                  "units that are never treated", reason="no_donors")
    labels, periods = panel.unit_labels, panel.periods
    # treated units: first treated period, absorbing, one common period
    first: dict[int, int] = {}
    for code in np.flatnonzero(ever).tolist():
        treated_periods = np.flatnonzero(grid_d[code] > 0)
        start = int(treated_periods[0])
        later = np.arange(start, n_times)
        later = later[observed[code, later]]
        if (grid_d[code, later] == 0).any():
            back = int(later[grid_d[code, later] == 0][0])
            raise IdentificationError(
                f"{who}: unit {show(labels[code])} is treated from {show(periods[start])} but untreated again in "
                f"{show(periods[back])}; the synthetic estimators need an absorbing treatment (recode to the "
                "first adoption, or use dcdh for switching treatments)", reason="not_absorbing")
        first[code] = start
    starts = sorted(set(first.values()))
    if len(starts) > 1:
        by_start = {show(periods[s]): [show(labels[c]) for c, v in first.items() if v == s][:3] for s in starts}
        raise IdentificationError(
            f"{who}: treated units adopt in different periods {by_start}; synthetic control and synthetic DiD "
            "here take one adoption period (block adoption). Estimate each adoption period separately, or use "
            "a staggered estimator (att_gt, imputation_did)", reason="staggered_adoption")
    n_pre = int(starts[0])
    missing_units = np.flatnonzero(~observed.all(axis=1))
    if len(missing_units):
        missing = int(missing_units[0])
        absent = [show(p) for p in periods[~observed[missing]]]
        role = "treated unit" if ever[missing] else "donor"
        others = len(missing_units) - 1
        raise InputError(
            f"{who}: {role} {show(labels[missing])} has no row for period(s) {', '.join(absent[:10])} (column {time!r})"
            + (f"; {others} other unit(s) also miss periods" if others else "")
            + ". A synthetic twin is a weighted sum of whole histories: complete the panel, or remove incomplete "
            "donors (or the periods) explicitly before estimating", reason="missing_years")
    if n_pre < min_pre:
        treated = [show(label) for label in labels[ever]][:3]
        raise IdentificationError(
            f"{who}: treated unit(s) {', '.join(treated)} adopt in {show(periods[n_pre])} with {n_pre} period(s) "
            f"before it; at least min_pre_periods={min_pre} are needed to fit a synthetic twin (and to see how "
            "well it fits). Use data that start earlier", reason="short_pre_period")
    if n_pre == n_times:  # pragma: no cover - a treated unit has a treated period, so n_pre < n_times
        raise IdentificationError(f"{who}: no period after adoption", reason="no_post_period")
    order = np.concatenate([np.flatnonzero(~ever), np.flatnonzero(ever)])

    def grid(values: np.ndarray) -> np.ndarray:
        out = np.empty((n_units, n_times))
        out[panel.unit_codes, panel.time_codes] = values
        return out[order]

    return CaseStudyPanel(
        outcome=grid(panel.y), units=labels[order], periods=periods, n_donors=int((~ever).sum()), n_pre=n_pre,
        names={"outcome": outcome, "unit": unit, "time": time, "treatment": treatment},
        predictors={name: grid(panel.covariates[name]) for name in predictors})
