"""Results of the synthetic estimators: the effect, the weights, the twin, the gap and the placebos.

:class:`SyntheticResults` answers the results contract (``tidy`` has one row, the average effect on
the treated over the post-periods) and shows what the estimate is made of:

* ``tidy_weights()``: the donor (unit) weights and, for synthetic DiD, the time weights;
* ``gaps()``: per period the treated unit (mean of the treated units), its synthetic twin and the gap;
* ``placebos()``: the in-space placebo fits (each donor, or set of donors, treated in the treated
  unit's place), with their effect and pre/post RMSPE;
* ``glance()``: the fit diagnostics -- pre-period RMSPE (in outcome units and in units of the noise
  level), post-period RMSPE, their ratio, the placebo p-values;
* ``plot(kind=...)``: unit against twin and the gap (``"both"``), or ``"trajectory"``, ``"gap"``,
  ``"placebo"`` (the treated gap among the placebo gaps), ``"weights"``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from effectmeting.errors import OptionError
from effectmeting.estimate.core.results import OVERALL, Results, new_figure

PLOT_KINDS = ("both", "trajectory", "gap", "placebo", "weights")


class SyntheticResults(Results):
    """Effect of a block adoption on one or a few treated units, against a synthetic twin."""

    #: synthetic control's predictor importance: ``predictor``, ``v`` (None for synthetic DiD)
    v_weights: pd.DataFrame | None = None

    def __init__(self, *, estimator: str, title: str, estimate: float, std_error: float, gaps: pd.DataFrame,
                 unit_weights: pd.DataFrame, time_weights: pd.DataFrame | None, placebos: pd.DataFrame,
                 facts: dict[str, Any], level: float, nobs: int, notes: list[str],
                 placebo_gaps: list[np.ndarray] | None = None) -> None:
        super().__init__()
        self.estimator = estimator
        self.title = title
        self.estimate = float(estimate)
        self.std_error = float(std_error)
        self.level = level
        self.nobs = nobs
        self.control_group = "donor pool (never treated)"
        self._gaps = gaps
        self._unit_weights = unit_weights
        self._time_weights = time_weights
        self._placebos = placebos
        self._placebo_gaps = list(placebo_gaps or [])
        self.facts = facts
        self.notes = notes
        self.options = {}

    # -- the contract ---------------------------------------------------------------------------
    def _coefficients(self) -> pd.DataFrame:
        return pd.DataFrame({"term": [OVERALL], "estimate": [self.estimate], "std_error": [self.std_error]})

    def _overall(self) -> tuple[float, float]:
        return self.estimate, self.std_error

    def glance(self) -> pd.DataFrame:
        """Model facts plus the fit diagnostics (see the module docstring)."""
        row = super().glance()
        for key, value in self.facts.items():
            row[key] = [value]
        return row

    # -- what the estimate is made of -------------------------------------------------------------
    def tidy_weights(self, min_weight: float | None = None) -> pd.DataFrame:
        """Columns ``kind`` (``"unit"`` or ``"time"``), ``unit``, ``period``, ``weight``: every donor's
        weight (largest first) and, for synthetic DiD, every pre-period's; rows with weight at or
        below ``min_weight`` left out (None: keep all, so the weights sum to one per kind)."""
        frames = [self._unit_weights.assign(kind="unit", period=np.nan)]
        if self._time_weights is not None:
            frames.append(self._time_weights.assign(kind="time", unit=None))
        table = pd.concat(frames, ignore_index=True)[["kind", "unit", "period", "weight"]]
        if min_weight is not None:
            table = table[table["weight"] > min_weight]
        return table.reset_index(drop=True)

    def gaps(self) -> pd.DataFrame:
        """Per period: ``period, post`` (after adoption), ``treated``, ``synthetic``, ``gap``."""
        return self._gaps.copy()

    def placebos(self) -> pd.DataFrame:
        """The in-space placebo fits: ``placebo`` (the donor(s) treated instead), ``estimate``,
        ``pre_rmspe``, ``post_rmspe``, ``rmspe_ratio``; empty when there were none."""
        return self._placebos.copy()

    # -- figures ---------------------------------------------------------------------------------
    def plot(self, ax=None, kind: str = "both"):
        """A Figure: ``"both"`` (treated vs twin above, gap below), ``"trajectory"``, ``"gap"``,
        ``"placebo"`` or ``"weights"``.  With ``ax``, one panel is drawn there (``"both"`` draws the
        trajectory)."""
        if kind not in PLOT_KINDS:
            raise OptionError(f"{type(self).__name__}.plot: kind={kind!r} is unknown; use one of "
                              f"{', '.join(PLOT_KINDS)}")
        if kind == "both" and ax is None:
            from matplotlib.figure import Figure

            figure = Figure(figsize=(7, 6.5))
            top, bottom = figure.subplots(2, 1, sharex=True)
            self._draw_trajectory(top)
            self._draw_gap(bottom, placebos=False)
            figure.tight_layout()
            return figure
        figure, ax = new_figure(ax)
        {"both": self._draw_trajectory, "trajectory": self._draw_trajectory,
         "gap": lambda a: self._draw_gap(a, placebos=False), "placebo": lambda a: self._draw_gap(a, placebos=True),
         "weights": self._draw_weights}[kind](ax)
        return figure

    def _adoption(self) -> float:
        gaps = self._gaps
        return float(gaps.loc[gaps["post"], "period"].iloc[0]) - 0.5

    def _draw_trajectory(self, ax) -> None:
        gaps = self._gaps
        ax.plot(gaps["period"], gaps["treated"], color="C0", marker="o", markersize=3,
                label=self.facts.get("treated_label", "treated"))
        ax.plot(gaps["period"], gaps["synthetic"], color="C1", linestyle="--", label="synthetic twin")
        ax.axvline(self._adoption(), color="grey", linewidth=0.8, linestyle=":")
        ax.set_ylabel(str(self.facts.get("outcome", "outcome")))
        ax.legend(frameon=False)
        ax.set_title(self.title)

    def _draw_gap(self, ax, placebos: bool) -> None:
        gaps = self._gaps
        if placebos:
            for path in self._placebo_gaps:
                ax.plot(gaps["period"], path, color="grey", alpha=0.35, linewidth=0.8)
        ax.plot(gaps["period"], gaps["gap"], color="C0", marker="o", markersize=3, label="gap (treated - twin)")
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.axvline(self._adoption(), color="grey", linewidth=0.8, linestyle=":")
        ax.set_xlabel(str(self.facts.get("time", "period")))
        ax.set_ylabel("gap")
        if placebos:
            ax.set_title("Gap of the treated unit (colour) and of the placebo donors (grey)")

    def _draw_weights(self, ax) -> None:
        weights = self.tidy_weights(min_weight=1e-6)
        weights = weights[weights["kind"] == "unit"]
        positions = np.arange(len(weights))[::-1]
        ax.barh(positions, weights["weight"], color="C1")
        ax.set_yticks(positions, [str(u) for u in weights["unit"]])
        ax.set_xlabel("donor weight")
        ax.set_title("What the synthetic twin is made of")
