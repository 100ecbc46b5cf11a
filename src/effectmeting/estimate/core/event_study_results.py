"""Results by event time (periods since adoption) shared by every estimator family.

Sun-Abraham, the imputation estimator, the TWFE event study, dCDH and the dynamic
aggregation of ``att_gt`` all return (or convert to) :class:`EventStudyResults`, so that the
pre-trend test, HonestDiD and the plots take any of them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from effectmeting.errors import OptionError
from effectmeting.estimate.core.results import Results, check_level, key_terms, new_figure


def as_event_study(result, who: str) -> EventStudyResults:
    """``result`` as an :class:`EventStudyResults` (event times, estimates, covariance).

    Event-study results pass through; an ``att_gt(...).aggregate("dynamic")`` result is
    converted with its influence-function covariance (:meth:`AggregateResults.to_event_study`).
    Anything else is refused naming the estimators that produce event studies.
    """
    if isinstance(result, EventStudyResults):
        return result
    convert = getattr(result, "to_event_study", None)
    if convert is not None:
        return convert()
    raise OptionError(
        f"{who} takes an event-study result (sun_abraham, imputation_did, event_study_twfe, dcdh or "
        f"att_gt(...).aggregate('dynamic')); got {type(result).__name__}", reason="not_event_study")


class EventStudyResults(Results):
    """Dynamic effects by event time (periods since adoption) with their covariance.

    ``event_time``, ``estimates`` and ``vcov`` are aligned; ``reference`` lists event times
    normalised to zero (plotted as a marker, not estimated).  ``estimate``/``std_error`` hold
    an overall post-period effect where the estimator defines one.
    """

    def __init__(self, *, title: str, event_time, estimates, vcov, nobs: int | None,
                 reference: tuple[int, ...] = (), estimate: float = np.nan, std_error: float = np.nan,
                 level: float = 0.95) -> None:
        super().__init__()
        self.title = title
        self.event_time = np.asarray(event_time, dtype=int)
        self.estimates = np.asarray(estimates, dtype=float)
        self.vcov = np.asarray(vcov, dtype=float)
        self.std_errors = np.sqrt(np.clip(np.diag(self.vcov), 0, None)) if self.vcov.size else np.array([])
        self.nobs = nobs
        self.reference = tuple(int(r) for r in reference)
        self.estimate = float(estimate)
        self.std_error = float(std_error)
        self.level = check_level(level, title)

    def _coefficients(self) -> pd.DataFrame:
        table = pd.DataFrame({"event_time": self.event_time})
        table.insert(0, "term", key_terms(table, ["event_time"]))
        return table.assign(estimate=self.estimates, std_error=self.std_errors)

    def _overall(self) -> tuple[float, float] | None:
        return (self.estimate, self.std_error) if np.isfinite(self.estimate) else None

    #: where the dotted line between pre- and post-adoption periods is drawn, and the plot's labels;
    #: subclasses with another event-time convention (dCDH: 1 = first switched period) override them.
    adoption_line: float = -0.5
    event_time_label: str = "event time (periods since adoption)"
    reference_label: str = "reference period"
    effect_label: str = "effect"

    def plot(self, ax=None):
        """Point estimates with confidence bars by event time, a zero line and the reference
        period(s) as open markers.  Returns the matplotlib Figure."""
        table = self.tidy()
        figure, ax = new_figure(ax)
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.axvline(self.adoption_line, color="grey", linewidth=0.8, linestyle=":")
        ax.errorbar(table["event_time"], table["estimate"],
                    yerr=[table["estimate"] - table["conf_low"], table["conf_high"] - table["estimate"]],
                    fmt="o", color="C0", capsize=3, label=f"estimate, {self.level:.0%} CI")
        if self.reference:
            ax.plot(list(self.reference), [0.0] * len(self.reference), "o", mfc="white", color="C0",
                    label=self.reference_label)
        ax.set_xlabel(self.event_time_label)
        ax.set_ylabel(self.effect_label)
        ax.set_title(self.title)
        ax.legend(loc="best", frameon=False)
        return figure
