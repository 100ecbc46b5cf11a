"""Pre-trend diagnostics on an event-study result: a joint Wald test of the pre-period
coefficients, and (re-exported from :mod:`effectmeting.estimate.sensitivity.honest_did`) Rambachan & Roth
(2023) sensitivity analysis.

Both take any :class:`EventStudyResults` (``event_time``, ``estimates``, ``vcov``; reference
event time ``-1`` normalised to zero and absent from the estimates).

* :func:`pretrend_test`: Wald statistic ``b' V^+ b`` over the pre-period estimates (``V^+`` the
  pseudo-inverse), chi-square with ``rank(V)`` degrees of freedom: the number of pre-period
  coefficients when ``V`` has full rank, fewer when an influence-function covariance is singular.
  The one pre-trend test of the package (the study's Callaway-Sant'Anna test uses it too).
* :func:`honest_did` / :func:`honest_did_sensitivity`: relative magnitudes (ARP conditional /
  least-favourable hybrid confidence set, as HonestDiD's default ``"C-LF"``) and smoothness
  (optimal FLCI); see :mod:`effectmeting.estimate.sensitivity.honest_did` for exactly what is implemented.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from effectmeting.errors import IdentificationError, OptionError
from effectmeting.estimate.sensitivity.honest_did import (  # noqa: F401  (re-exported public API)
    HonestDiDResults, HonestDiDSensitivityResults, honest_did, honest_did_sensitivity,
)
from effectmeting.estimate.core.results import Results, chi2_sf
from effectmeting.estimate.core.event_study_results import as_event_study

__all__ = ["PretrendTestResults", "pretrend_test", "HonestDiDResults", "HonestDiDSensitivityResults",
           "honest_did", "honest_did_sensitivity"]


class PretrendTestResults(Results):
    """Joint Wald test that every pre-period coefficient is zero (chi-square, ``df`` = rank of the
    covariance = the number of coefficients when it has full rank).

    ``tidy()`` has one row (term ``pre-period coefficients = 0``): no estimate, standard error or
    interval (NaN), the Wald ``statistic`` and ``p_value``, then ``df`` and ``event_times``.
    """

    title = "Joint pre-trend test (H0: all pre-period coefficients are zero)"
    estimator = "pretrend_test"

    def __init__(self, statistic: float, df: int, event_times: list[int]) -> None:
        super().__init__()
        self.statistic = float(statistic)
        self.df = int(df)
        self.p_value = float(chi2_sf(statistic, df))
        self.event_times = event_times
        self.options = {"test": "wald_chi2", "chi2_df": self.df,
                        "event_times": [int(e) for e in event_times]}

    def _coefficients(self) -> pd.DataFrame:
        return pd.DataFrame({"term": ["pre-period coefficients = 0"], "test": ["wald_chi2"], "estimate": [np.nan],
                             "std_error": [np.nan], "statistic": [self.statistic], "p_value": [self.p_value],
                             "df": [self.df], "event_times": [",".join(str(e) for e in self.event_times)]})

    def _interval(self, table, level: float):
        # a joint test has no interval; ``df`` here is the chi-square df, not a t distribution's
        return np.array([np.nan]), np.array([np.nan])


def pretrend_test(result: Results, *, event_times: list[int] | None = None) -> PretrendTestResults:
    """Wald statistic ``b' V^+ b`` over the pre-period (``event_time < 0``) estimates, chi-square
    with ``rank(V)`` df.

    The pseudo-inverse equals ``V^-1`` (up to rounding) when ``V`` has full rank and keeps the test
    defined when it does not (a covariance from influence functions with more event times than
    independent clusters).  ``event_times`` restricts the test to a subset of pre-periods.  The reference period is not
    an estimate and is never part of the test.  ``result`` may also be
    ``att_gt(...).aggregate("dynamic")`` (see :func:`as_event_study`); other results are refused
    with an :class:`OptionError`.
    """
    result = as_event_study(result, "pretrend_test")
    chosen = result.event_time < 0 if event_times is None else np.isin(result.event_time, event_times)
    if event_times is not None and any(e >= 0 for e in event_times):
        raise OptionError(f"pre-trend test takes pre-period event times (< 0); got {event_times}")
    if not chosen.any():
        raise IdentificationError("the event-study result has no pre-period coefficients to test",
                                  reason="no_pre_period")
    b = result.estimates[chosen]
    v = result.vcov[np.ix_(chosen, chosen)]
    statistic = float(b @ np.linalg.pinv(v) @ b)
    return PretrendTestResults(statistic, int(np.linalg.matrix_rank(v)), result.event_time[chosen].tolist())
