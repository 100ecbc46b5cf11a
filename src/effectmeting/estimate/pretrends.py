"""Pre-trend diagnostics on an event-study result: a joint Wald test and Rambachan & Roth (2023)
sensitivity bounds.

Both take any :class:`EventStudyResults` (``event_time``, ``estimates``, ``vcov``; reference
event time ``-1`` normalised to zero and absent from the estimates).

What ``honest_did`` implements, exactly
---------------------------------------
Write ``beta = tau + delta`` with ``delta`` the bias from differential trends, ``delta_pre =
beta_pre`` (no anticipation) and ``delta_{-1} = 0``; the target is ``theta = l'tau_post``
(default ``l`` = equal weights on all post periods ``0..H``).

* ``method="relative_magnitudes"`` (Delta^RM(Mbar)): every post-period change
  ``|delta_{t+1} - delta_t|`` (``t >= -1``) is at most ``Mbar`` times the largest pre-period
  change ``max_s |delta_{s+1} - delta_s|`` (through ``delta_{-1} = 0``).  The identified set is
  ``l'beta_post -/+ Mbar * maxchange * sum_s |sum_{t >= s} l_t|``, evaluated at the point
  estimates (Rambachan & Roth Lemma 2.2 collapses to the largest component).  The reported
  interval ``[lb - z*se, ub + z*se]`` (``se`` of ``l'beta_post``) is a *naive* band that ignores
  the sampling error of the pre-period maximum: it is **not** Rambachan & Roth's conditional /
  hybrid (ARP) confidence set, which is not implemented.
* ``method="smoothness"`` (Delta^SD(M)): second differences of ``delta`` are at most ``M`` in
  absolute value.  ``theta`` is estimated by the linear-extrapolation estimator
  ``a'beta`` (post effects minus the pre-trend slope ``beta_{-1} - beta_{-2}`` extended
  linearly), whose worst-case bias over Delta^SD is ``M * sum_j |B_j|``; the identified set is
  ``a'beta -/+ bias`` and the CI is the fixed-length interval ``a'beta -/+ cv * se`` with ``cv``
  the ``1 - alpha`` quantile of ``|N(bias/se, 1)|``.  This is an honest FLCI (valid coverage
  over Delta^SD) for a *fixed* affine estimator; Rambachan & Roth additionally optimise the
  affine weights, so their FLCI is never longer than this one.  Uses only the last two
  pre-period coefficients (``-2`` and the reference ``-1``).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from effectmeting.errors import IdentificationError
from effectmeting.estimate.results import Results
from effectmeting.estimate.staggered_panel import EventStudyResults


class PretrendTestResults(Results):
    """Joint Wald test that every pre-period coefficient is zero (chi-square, ``df`` = count)."""

    title = "Joint pre-trend test (H0: all pre-period coefficients are zero)"

    def __init__(self, statistic: float, df: int, event_times: list[int]) -> None:
        super().__init__()
        self.statistic = float(statistic)
        self.df = int(df)
        self.p_value = float(stats.chi2.sf(statistic, df))
        self.event_times = event_times

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame({"test": ["wald_chi2"], "statistic": [self.statistic], "df": [self.df],
                             "p_value": [self.p_value],
                             "event_times": [",".join(str(e) for e in self.event_times)]})


def pretrend_test(result: EventStudyResults, *, event_times: list[int] | None = None) -> PretrendTestResults:
    """Wald statistic ``b' V^-1 b`` over the pre-period (``event_time < 0``) estimates.

    ``event_times`` restricts the test to a subset of pre-periods.  The reference period is not
    an estimate and is never part of the test.
    """
    chosen = result.event_time < 0 if event_times is None else np.isin(result.event_time, event_times)
    if event_times is not None and any(e >= 0 for e in event_times):
        raise ValueError(f"pre-trend test takes pre-period event times (< 0); got {event_times}")
    if not chosen.any():
        raise IdentificationError("the event-study result has no pre-period coefficients to test")
    b = result.estimates[chosen]
    v = result.vcov[np.ix_(chosen, chosen)]
    statistic = float(b @ np.linalg.solve(v, b))
    return PretrendTestResults(statistic, int(chosen.sum()), result.event_time[chosen].tolist())


class HonestDiDResults(Results):
    """Identified set ``[lower, upper]`` and confidence interval ``[conf_low, conf_high]``
    for ``theta = l'tau_post`` under a Rambachan & Roth restriction."""

    def __init__(self, *, method: str, parameter: float, estimate: float, std_error: float, lower: float,
                 upper: float, conf_low: float, conf_high: float, ci_method: str) -> None:
        super().__init__()
        self.title = f"Rambachan & Roth sensitivity ({method})"
        self.method, self.parameter = method, parameter
        self.estimate, self.std_error = estimate, std_error
        self.lower, self.upper = lower, upper
        self.conf_low, self.conf_high = conf_low, conf_high
        self.ci_method = ci_method

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame({"method": [self.method], "parameter": [self.parameter],
                             "estimate": [self.estimate], "std_error": [self.std_error],
                             "lower": [self.lower], "upper": [self.upper], "conf_low": [self.conf_low],
                             "conf_high": [self.conf_high], "ci_method": [self.ci_method]})


def _split(result: EventStudyResults):
    times = result.event_time
    pre, post = times[times < -1], times[times >= 0]
    if post.size == 0:
        raise IdentificationError("no post-period (event time >= 0) estimates")
    if not np.array_equal(post, np.arange(post.size)) or (pre.size and not np.array_equal(pre, np.arange(-1 - pre.size, -1))):
        raise IdentificationError(f"event times must be contiguous around the reference -1; got {times.tolist()}")
    if -1 in times.tolist():
        raise IdentificationError("honest_did needs an event study normalised at event time -1 (reference), "
                                  "but -1 is estimated here")
    return np.isin(times, pre), np.isin(times, post)


def honest_did(
    result: EventStudyResults,
    *,
    method: Literal["relative_magnitudes", "smoothness"] = "relative_magnitudes",
    mbar: float = 1.0,
    m: float = 0.0,
    weights: np.ndarray | None = None,
    level: float = 0.95,
) -> HonestDiDResults:
    """Rambachan & Roth bounds on ``theta = weights' tau_post`` (see the module docstring for
    what is and is not implemented).  ``mbar`` is used by relative magnitudes, ``m`` (outcome
    units per period squared) by smoothness; ``weights`` default to equal weights on post periods.
    """
    pre, post = _split(result)
    beta = result.estimates
    n_post = int(post.sum())
    l_vec = np.full(n_post, 1.0 / n_post) if weights is None else np.asarray(weights, dtype=float)
    if l_vec.shape != (n_post,):
        raise ValueError(f"weights must have one entry per post period ({n_post})")
    z = stats.norm.ppf(0.5 + level / 2)
    # tail sums S_s = sum_{t >= s} l_t, for s = 0..H
    tails = np.cumsum(l_vec[::-1])[::-1]
    if method == "relative_magnitudes":
        if pre.sum() == 0:
            raise IdentificationError("relative magnitudes need at least one pre-period estimate before -1")
        path = np.append(beta[pre], 0.0)  # delta_{-K}..delta_{-2}, delta_{-1} = 0
        max_change = float(np.max(np.abs(np.diff(path))))
        a = np.zeros(beta.size)
        a[post] = l_vec
        estimate = float(a @ beta)
        half_width = mbar * max_change * float(np.abs(tails).sum())
        ci_method = "naive (identified set +/- z*se; not the RR conditional CI)"
        parameter = mbar
        bias = half_width
        se = float(np.sqrt(a @ result.vcov @ a))
        low, high = estimate - bias - z * se, estimate + bias + z * se
    elif method == "smoothness":
        times = result.event_time
        if -2 not in times.tolist():
            raise IdentificationError("smoothness needs the event time -2 estimate (slope into the reference)")
        # delta_t = (t+1) s + sum_j (t-j+1) eta_j with slope s = delta_{-1} - delta_{-2} = -beta_{-2}
        t_post = np.arange(n_post)
        a = np.zeros(beta.size)
        a[post] = l_vec
        a[times == -2] = float(l_vec @ (t_post + 1))  # minus s * sum_t l_t (t+1), s = -beta_{-2}
        b_coef = np.array([float(l_vec[j:] @ (t_post[j:] - j + 1)) for j in range(n_post)])
        bias = m * float(np.abs(b_coef).sum())
        estimate = float(a @ beta)
        se = float(np.sqrt(a @ result.vcov @ a))
        half_width = bias
        crit = _folded_normal_quantile(bias / se if se > 0 else np.inf, level)
        low, high = estimate - crit * se, estimate + crit * se
        ci_method = "FLCI of the linear-extrapolation estimator (not RR-optimised)"
        parameter = m
        pre_path = np.append(beta[pre], 0.0)
        pre_curvature = float(np.abs(np.diff(pre_path, 2)).max()) if pre_path.size >= 3 else 0.0
        empty_note = pre_curvature > m
    else:
        raise ValueError(f"method must be 'relative_magnitudes' or 'smoothness', got {method!r}")
    out = HonestDiDResults(method=method, parameter=parameter, estimate=estimate, std_error=se,
                           lower=estimate - half_width, upper=estimate + half_width, conf_low=low,
                           conf_high=high, ci_method=ci_method)
    if method == "smoothness" and empty_note:
        out.notes.append(f"the pre-period estimates' largest second difference {pre_curvature:.4g} exceeds "
                         f"M = {m:g}: at the point estimates Delta^SD is violated (identified set empty); "
                         "the interval shown extrapolates the last pre-period slope only")
    return out


def _folded_normal_quantile(bias_ratio: float, level: float) -> float:
    """``c`` with ``P(|N(b, 1)| <= c) = level``."""
    from scipy.optimize import brentq

    if not np.isfinite(bias_ratio):
        return np.inf
    def coverage(c: float) -> float:
        return stats.norm.cdf(c - bias_ratio) - stats.norm.cdf(-c - bias_ratio) - level
    return float(brentq(coverage, 0.0, bias_ratio + 10.0))
