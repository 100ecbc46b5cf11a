"""Synthetic DiD with several treated units and synthetic control with predictors, against diff-diff
(SyntheticDiD, SyntheticControl) computed here on a simulated block-adoption panel.

Tolerances: deterministic quantities (estimates, weights, the jackknife) to 1e-8; random ones
(bootstrap and random placebo sets, drawn by different generators) to 25%, about three standard
errors of a 200-draw standard error (1/sqrt(2 * 200) = 5% each).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import effectmeting as em
from effectmeting.estimate.synthetic.weights import simplex_ridge_weights, simplex_ridge_weights_many
from synthetic_panels import block_panel

BLOCK = {"outcome": "y", "unit": "unit", "time": "year", "treatment": "d"}
POST = list(range(2017, 2022))


@pytest.fixture(scope="module")
def panel():
    return block_panel()


def _peer_sdid(panel, variance_method: str):
    dd = pytest.importorskip("diff_diff")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dd.SyntheticDiD(variance_method=variance_method, n_bootstrap=200, seed=3).fit(
            panel, outcome="y", treatment="ever", unit="unit", time="year", post_periods=POST)


def test_jackknife_equals_diff_diff(panel):
    peer = _peer_sdid(panel, "jackknife")
    ours = em.synthetic_did(panel, **BLOCK, se_method="jackknife")
    assert ours.estimate == pytest.approx(peer.att, abs=1e-8)
    assert ours.std_error == pytest.approx(peer.se, abs=1e-8)
    facts = ours.glance().iloc[0]
    assert (facts["n_treated"], facts["n_donors"], facts["n_pre"], facts["n_post"]) == (3, 15, 7, 5)


@pytest.mark.slow
@pytest.mark.parametrize("se_method", ["bootstrap", "placebo"])
def test_random_standard_errors_agree_with_diff_diff(panel, se_method):
    peer = _peer_sdid(panel, se_method)
    ours = em.synthetic_did(panel, **BLOCK, se_method=se_method)
    assert ours.std_error == pytest.approx(peer.se, rel=0.25)
    # a different seed gives other draws but the same standard error up to that spread
    again = em.synthetic_did(panel, **BLOCK, se_method=se_method, seed=7)
    assert again.std_error == pytest.approx(ours.std_error, rel=0.25)
    assert em.synthetic_did(panel, **BLOCK, se_method=se_method).std_error == ours.std_error  # seed=None is fixed


def test_synthetic_control_with_predictors_equals_diff_diff(panel):
    """One treated unit, a covariate and three outcome years, V equal on rows standardised by their
    standard deviation across units (diff-diff's custom V with standardize='std')."""
    dd = pytest.importorskip("diff_diff")
    one = panel[(panel["ever"] == 0) | (panel["unit"] == "u17")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = dd.SyntheticControl(v_method="custom", custom_v=np.ones(4), standardize="std").fit(
            one, outcome="y", treatment="d", unit="unit", time="year", predictors=["x"],
            pre_period_outcomes=[2011, 2013, 2016])
    ours = em.synthetic_control(one, **BLOCK, predictors=["x"], outcome_periods=[2011, 2013, 2016], v="equal",
                                max_pre_rmspe=None)
    assert ours.estimate == pytest.approx(peer.att, abs=1e-6)
    weights = ours.tidy_weights().set_index("unit")["weight"]
    for unit, weight in peer.donor_weights.items():
        assert weights[unit] == pytest.approx(weight, abs=1e-6)
    assert list(ours.v_weights["predictor"]) == ["mean x", "y 2011", "y 2013", "y 2016"]


@pytest.mark.slow
def test_nested_v_fits_as_well_as_diff_diff(panel):
    """The nested V search is not unique; both searches should reach the same pre-period MSPE (2%)."""
    dd = pytest.importorskip("diff_diff")
    one = panel[(panel["ever"] == 0) | (panel["unit"] == "u17")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = dd.SyntheticControl(v_method="nested", seed=1).fit(
            one, outcome="y", treatment="d", unit="unit", time="year", predictors=["x"],
            pre_period_outcomes=[2011, 2013, 2016])
    ours = em.synthetic_control(one, **BLOCK, predictors=["x"], outcome_periods=[2011, 2013, 2016],
                                max_pre_rmspe=None)
    our_mspe = ours.glance()["pre_rmspe"].iloc[0] ** 2
    assert our_mspe <= peer.pre_rmspe**2 * 1.02


def test_batched_frank_wolfe_equals_one_at_a_time():
    rng = np.random.default_rng(4)
    matrices = [rng.normal(size=(9, 6 + p % 3)) for p in range(5)]
    targets = [rng.normal(size=9) for _ in range(5)]
    one = [simplex_ridge_weights(m, t, 0.1, intercept=True, min_decrease=1e-6, max_iter=300)
           for m, t in zip(matrices, targets)]
    many = simplex_ridge_weights_many(matrices, targets, 0.1, intercept=True, min_decrease=1e-6, max_iter=300,
                                      use_compiled=False)
    assert max(np.abs(a - b).max() for a, b in zip(one, many)) < 1e-10
    for weights in many:
        assert weights.sum() == pytest.approx(1.0) and (weights >= 0).all()


@pytest.mark.slow
def test_compiled_kernel_equals_array_code():
    pytest.importorskip("numba")
    rng = np.random.default_rng(6)
    matrices = [rng.normal(size=(12, 15)) for _ in range(6)]
    targets = [rng.normal(size=12) for _ in range(6)]
    compiled = simplex_ridge_weights_many(matrices, targets, 1e-3, intercept=True, min_decrease=1e-6)
    arrays = simplex_ridge_weights_many(matrices, targets, 1e-3, intercept=True, min_decrease=1e-6,
                                        use_compiled=False)
    assert max(np.abs(a - b).max() for a, b in zip(compiled, arrays)) < 1e-6
