"""Dynamic two-way fixed-effects event study with binned endpoints.

``y_it = alpha_i + beta_t + sum_{e != -1} delta_e * 1[t - cohort_i = e] + e_it`` with event time
``e`` restricted to ``window = (low, high)``.  With ``bin_endpoints=True`` every event time below
``low`` is pooled into the ``low`` dummy and every one above ``high`` into the ``high`` dummy
(so the endpoints read "``low`` or earlier" / "``high`` or later"); with ``False`` the rows
outside the window are dropped and the number is reported in ``notes``.  Never-treated units
get no dummies.  Reference event time ``-1``; CR1 cluster-robust standard errors (default by
unit).  Under heterogeneous effects across cohorts these coefficients mix cohorts with
possibly negative weights (Sun & Abraham 2021) -- use :func:`sun_abraham` or
:func:`imputation_did` for a robust event study; this one is the conventional benchmark.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from effectmeting.errors import IdentificationError
from effectmeting.estimate.core.checks import OptionError
from effectmeting.estimate.core.event_study_results import EventStudyResults
from effectmeting.estimate.core.results import check_level
from effectmeting.estimate.staggered.panel import StaggeredData, prepare, subset, twfe_ols


def event_study_twfe(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    window: tuple[int, int] = (-5, 5),
    bin_endpoints: bool = True,
    cluster: str | None = None,
    level: float = 0.95,
) -> EventStudyResults:
    """TWFE event-study coefficients by event time (outcome units), reference ``-1``.

    ``cohort`` is the first treated period (0/NA never treated).  ``window = (low, high)`` with
    ``low <= -2`` and ``high >= 0``.  ``level``: confidence level of the result's intervals.
    """
    level = check_level(level, "event_study_twfe")
    low, high = int(window[0]), int(window[1])
    if not (low <= -2 and high >= 0):
        raise OptionError(f"event_study_twfe: window={window!r} must satisfy low <= -2 and high >= 0 "
                          "(the reference event time is -1), e.g. (-5, 5)")
    panel = prepare(data, outcome=outcome, unit=unit, time=time, cohort=cohort, cluster=cluster, who="event_study_twfe")
    notes = []
    ever = np.isfinite(panel.cohort)
    if not ever.any():
        raise IdentificationError(f"no unit is ever treated (column '{cohort}')", reason="no_treated")
    if panel.treated.all():
        raise IdentificationError(
            f"every unit is treated from the first observed period on (column '{cohort}'): without "
            "untreated observations the period effects and the event-time effects are not separately "
            "identified; add never- or not-yet-treated units")
    if not bin_endpoints:
        event_time = np.where(ever, panel.event_time, np.nan)
        outside = ever & ((event_time < low) | (event_time > high))
        if outside.any():
            notes.append(f"bin_endpoints=False: dropped {int(outside.sum())} rows with event time outside {window}")
            panel = subset(panel, np.flatnonzero(~outside))
    dummies, event_times = event_time_dummies(panel, low, high)
    names = [f"event_time={e}" for e in event_times]
    fit = twfe_ols(panel, dummies, names)  # every event-time dummy is required (refused if collinear)
    coefficients, vcov = fit.coef, fit.vcov
    post = np.array(event_times) >= 0
    # overall: average of the post-period coefficients (equal weights), a summary only
    average = np.where(post, 1.0, 0.0) / max(post.sum(), 1)
    result = EventStudyResults(
        title=f"TWFE event study (window {low}..{high}{', binned endpoints' if bin_endpoints else ''})",
        event_time=event_times, estimates=coefficients, vcov=vcov, nobs=int(panel.y.size), reference=(-1,),
        estimate=float(average @ coefficients), std_error=float(np.sqrt(average @ vcov @ average)),
    )
    result.estimator = "event_study_twfe"
    result.control_group = "never- and not-yet-treated (TWFE)"
    result.level = level
    result.n_clusters = int(np.unique(panel.cluster_codes).size)
    result.options = {"window": f"{low}..{high}", "bin_endpoints": bin_endpoints, "cluster": cluster or unit}
    result.notes.extend(notes)
    result.notes.append(f"CR1 clustered by {cluster or unit}; estimate = mean of post-period coefficients")
    return result


def event_time_dummies(panel: StaggeredData, low: int, high: int) -> tuple[np.ndarray, list[int]]:
    """Dummies ``1[t - cohort = e]`` of the ever-treated rows for the observed event times
    ``low..high`` except -1, the endpoints binned ("low or earlier", "high or later")."""
    ever = np.isfinite(panel.cohort)
    binned = np.clip(np.where(ever, panel.event_time, np.nan), low, high)
    event_times = [e for e in range(low, high + 1) if e != -1 and np.any(binned == e)]
    if not event_times:
        raise IdentificationError("no treated observation falls in the event window")
    return np.column_stack([(binned == e).astype(float) for e in event_times]), event_times
