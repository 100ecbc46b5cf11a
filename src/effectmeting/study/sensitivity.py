"""Rambachan-Roth (2023) sensitivity of a study's event studies to violations of parallel trends.

Computed in the study stage so that the report only renders numbers (it never estimates): for each
outcome, the first usable event study (Sun-Abraham, else the TWFE event study: both normalised at
event time -1) restricted to event times from :data:`FIRST_PRE_PERIOD` on goes through
:func:`effectmeting.honest_did` with the relative-magnitudes restriction at each M-bar of
:data:`MBARS`.  Where the analysis is not possible (e.g. no pre-period before -1) the outcome is
listed in ``refused`` with the error's machine-readable ``reason`` (the report translates the code,
never the English message).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from effectmeting.errors import IdentificationError
from effectmeting.estimate.core.event_study_results import EventStudyResults
from effectmeting.estimate.sensitivity.pretrends import honest_did

#: M-bar values of the relative-magnitudes analysis; 1 = post-adoption violations as large as the
#: largest pre-adoption change
MBARS = (0.5, 1.0)  # honest_did takes ~2 s per call: two values keep the study short
#: event-study estimators usable by honest_did (normalised at event time -1), preferred first
SENSITIVITY_ESTIMATORS = ("sa", "twfe")
#: earliest pre-period event time used (as the TWFE event-study window): the distant leads rest on few
#: cohorts, and their noise would set the largest pre-period change the bounds scale with
FIRST_PRE_PERIOD = -5
BOUND_COLUMNS = ["outcome", "mbar", "estimate", "lower", "upper", "conf_low", "conf_high"]


@dataclass
class SensitivityBounds:
    """The relative-magnitudes results of one study.

    ``bounds``: one row per outcome and M-bar, columns :data:`BOUND_COLUMNS` (``lower``/``upper``
    the identified set, ``conf_low``/``conf_high`` the robust 95 % interval, in the outcome's units);
    ``refused``: outcome -> reason code of the refusal (``"no_pre_period"``,
    ``"too_many_post_periods"``, ...); ``messages``: outcome -> the refusal's English message;
    ``estimator``: the estimator whose event study was used (``None`` when none was).
    """

    bounds: pd.DataFrame
    refused: dict[str, str] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    estimator: str | None = None
    mbars: tuple[float, ...] = MBARS


def _event_study(study, outcome: str) -> tuple[str | None, EventStudyResults | None]:
    """The first usable event study of ``outcome`` (estimator code, results restricted to event
    times from :data:`FIRST_PRE_PERIOD` on), or ``(None, None)``."""
    for estimator in SENSITIVITY_ESTIMATORS:
        if estimator == "twfe":
            result = study.aggregates.get((outcome, "twfe"), {}).get("event_study")
        else:
            result = study.results.get((outcome, estimator))
        if result is not None and hasattr(result, "event_time"):
            keep = result.event_time >= FIRST_PRE_PERIOD
            window = EventStudyResults(title=result.title, event_time=result.event_time[keep],
                                       estimates=result.estimates[keep], vcov=result.vcov[np.ix_(keep, keep)],
                                       nobs=result.nobs, reference=result.reference)
            return estimator, window
    return None, None


def sensitivity_bounds(study, mbars: tuple[float, ...] = MBARS) -> SensitivityBounds:
    """Relative-magnitudes bounds per outcome and M-bar of a :class:`DesignEffectStudy`.

    Assumptions as :func:`effectmeting.honest_did`: the event study is normalised at -1 and its
    estimates are asymptotically normal with the reported covariance.
    """
    rows, refused, messages, used = [], {}, {}, None
    for outcome in study.outcomes:
        estimator, result = _event_study(study, outcome)
        if result is None:
            continue
        try:
            tables = [honest_did(result, method="relative_magnitudes", mbar=m).tidy() for m in mbars]
        except (IdentificationError, ValueError) as exc:  # ValueError includes OptionError
            refused[outcome] = getattr(exc, "reason", "other")
            messages[outcome] = str(exc).split(";")[0]
            continue
        used = used or estimator
        for mbar, table in zip(mbars, tables):
            row = table.iloc[0]
            rows.append({"outcome": outcome, "mbar": mbar,
                         **{c: float(row[c]) for c in ("estimate", "lower", "upper", "conf_low", "conf_high")}})
    return SensitivityBounds(pd.DataFrame(rows, columns=BOUND_COLUMNS), refused, messages, used, tuple(mbars))
