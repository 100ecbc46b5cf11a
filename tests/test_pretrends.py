"""Pre-trend Wald test against statsmodels' ``wald_test`` on the same OLS, and the Rambachan &
Roth bounds against hand-derived numbers and diff-diff's HonestDiD internals."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from effectmeting.errors import IdentificationError
from effectmeting.estimate.event_study import event_study_twfe
from effectmeting.estimate.pretrends import honest_did, pretrend_test
from effectmeting.estimate.staggered_panel import EventStudyResults
from effectmeting.estimate.sun_abraham import sun_abraham

diff_diff = pytest.importorskip("diff_diff")


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    data = diff_diff.generate_staggered_data(n_units=60, seed=11)
    # a differential pre-trend for the 2nd cohort so the test has something to find
    late = data["first_treat"] == data["first_treat"][data["first_treat"] > 0].max()
    data.loc[late, "outcome"] += 0.6 * data.loc[late, "period"]
    return data


def test_wald_matches_statsmodels(panel):
    import statsmodels.formula.api as smf

    window = (-3, 2)
    result = event_study_twfe(panel, outcome="outcome", unit="unit", time="period", cohort="first_treat",
                              window=window)
    data = panel.copy()
    rel = (data["period"] - data["first_treat"]).where(data["first_treat"] > 0).clip(*window)
    names = []
    for e in result.event_time:
        name = f"e_m{-e}" if e < 0 else f"e_{e}"
        data[name] = (rel == e).astype(float)
        names.append(name)
    fit = smf.ols("outcome ~ " + " + ".join(names) + " + C(unit) + C(period)", data=data).fit(
        cov_type="cluster", cov_kwds={"groups": data["unit"]})
    np.testing.assert_allclose(result.estimates, fit.params[names].to_numpy(), rtol=1e-6)
    pre = [n for n, e in zip(names, result.event_time) if e < 0]
    reference = fit.wald_test(", ".join(f"{n} = 0" for n in pre), use_f=False, scalar=True)
    ours = pretrend_test(result)
    # Explained difference: statsmodels' CR1 factor counts the unit dummies in k
    # (n - 1)/(n - k_sm), while we follow fixest and do not count unit effects nested in the
    # unit clusters; the Wald statistic scales by the inverse ratio of the two factors.
    n = len(data)
    k_sm = len(fit.params)
    k_ours = len(names) + data["period"].nunique()
    expected = float(reference.statistic) * (n - k_ours) / (n - k_sm)
    assert ours.statistic == pytest.approx(expected, rel=1e-6)
    assert ours.df == len(pre) == int(reference.df_denom)
    assert ours.p_value < 0.05  # the injected pre-trend is detected


def _toy() -> EventStudyResults:
    return EventStudyResults(title="toy", event_time=[-3, -2, 0, 1], estimates=[0.2, -0.1, 1.0, 1.5],
                             vcov=np.diag([0.01, 0.01, 0.04, 0.09]), nobs=100, reference=(-1,))


def test_relative_magnitudes_identified_set_by_hand():
    # delta path -3, -2, -1 = 0.2, -0.1, 0 -> largest pre change |(-0.1) - 0.2| = 0.3.
    # Post changes bounded by Mbar * 0.3; delta_0 in +/-0.3, delta_1 in +/-0.6.
    result = _toy()
    average = honest_did(result, method="relative_magnitudes", mbar=1.0)
    # theta = (tau_0 + tau_1)/2, beta part 1.25, max |l'delta| = 0.3 * (1 + 0.5) = 0.45
    assert (average.lower, average.upper) == pytest.approx((0.80, 1.70), abs=1e-12)
    second = honest_did(result, method="relative_magnitudes", mbar=2.0, weights=np.array([0.0, 1.0]))
    # theta = tau_1 = 1.5 -/+ 2 * 0.3 * 2
    assert (second.lower, second.upper) == pytest.approx((0.30, 2.70), abs=1e-12)
    se = np.sqrt(0.09)
    assert second.conf_low == pytest.approx(0.30 - 1.959963984540054 * se, rel=1e-9)


def test_smoothness_identified_set_by_hand():
    # slope into the reference: delta_{-1} - delta_{-2} = 0.1, extrapolated delta_1 = 0.2;
    # second differences within M: |delta_1 - 0.2| <= M * (2 + 1)
    result = honest_did(_toy(), method="smoothness", m=0.1, weights=np.array([0.0, 1.0]))
    assert result.estimate == pytest.approx(1.3, abs=1e-12)
    assert (result.lower, result.upper) == pytest.approx((1.0, 1.6), abs=1e-12)
    # estimator = beta_1 + 2 beta_{-2}: var = 0.09 + 4 * 0.01
    assert result.std_error == pytest.approx(np.sqrt(0.13), rel=1e-12)
    # pre-period second difference 0 - 2(-0.1) + 0.2 = 0.4 > M: flagged
    assert any("violated" in note for note in result.notes)
    exact = honest_did(_toy(), method="smoothness", m=0.0, weights=np.array([0.0, 1.0]))
    assert (exact.conf_low, exact.conf_high) == pytest.approx(
        (1.3 - 1.959963984540054 * np.sqrt(0.13), 1.3 + 1.959963984540054 * np.sqrt(0.13)), rel=1e-9)


def test_bounds_match_diff_diff_on_sun_abraham(panel):
    from diff_diff.honest_did import (
        _compute_optimal_flci, _construct_constraints_sd, _solve_bounds_lp, _solve_rm_bounds_union,
    )

    result = sun_abraham(panel, outcome="outcome", unit="unit", time="period", cohort="first_treat")
    pre, post = result.event_time < -1, result.event_time >= 0
    beta_pre, beta_post = result.estimates[pre], result.estimates[post]
    l_vec = np.full(post.sum(), 1.0 / post.sum())
    rm = honest_did(result, method="relative_magnitudes", mbar=0.5)
    lb, ub = _solve_rm_bounds_union(beta_pre, beta_post, l_vec, int(pre.sum()), 0.5)
    assert (rm.lower, rm.upper) == pytest.approx((lb, ub), rel=1e-6)
    m = 2.0 * float(np.abs(np.diff(np.append(beta_pre, 0.0), 2)).max())  # feasible for the LP
    sd = honest_did(result, method="smoothness", m=m)
    a, b = _construct_constraints_sd(int(pre.sum()), int(post.sum()), m)
    lb, ub = _solve_bounds_lp(beta_pre, beta_post, l_vec, a, b, int(pre.sum()))
    assert (sd.lower, sd.upper) == pytest.approx((lb, ub), rel=1e-6)
    # RR's optimal FLCI is never longer than ours (ours fixes the affine estimator)
    sigma = result.vcov[np.ix_(pre | post, pre | post)]
    for value in (0.0, m):
        ci_low, ci_high = _compute_optimal_flci(beta_pre, beta_post, sigma, l_vec, int(pre.sum()),
                                                int(post.sum()), value)
        ours = honest_did(result, method="smoothness", m=value)
        assert ours.conf_high - ours.conf_low >= (ci_high - ci_low) - 1e-9


def test_refusals():
    no_pre = EventStudyResults(title="x", event_time=[0, 1], estimates=[1, 2], vcov=np.eye(2), nobs=10)
    with pytest.raises(IdentificationError):
        pretrend_test(no_pre)
    with pytest.raises(IdentificationError):
        honest_did(no_pre, method="relative_magnitudes")
    gap = EventStudyResults(title="x", event_time=[-3, 0], estimates=[1, 2], vcov=np.eye(2), nobs=10)
    with pytest.raises(IdentificationError, match="contiguous"):
        honest_did(gap)
