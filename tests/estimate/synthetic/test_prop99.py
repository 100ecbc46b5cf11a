"""California Proposition 99 against Arkhangelsky, Athey, Hirshberg, Imbens & Wager (2021, AER), Table 1.

Published (packs per capita, placebo standard errors in brackets): SDID -15.6 (8.4), SC -19.6 (9.9),
DiD -27.3 (17.7).  Estimates are checked to half a unit of the last published digit (0.05).

The paper's standard errors come from 200 random placebo draws; ``synthetic_did`` uses every donor
once (38 placebos, no seed), the quantity those draws sample.  The check: the published standard
error lies within the central 99% of standard errors of 200 draws taken from our 38 placebo
estimates (the draws' own sampling spread, computed here), and our per-donor placebo estimates
equal diff-diff's (a peer implementation of the same Algorithm 4) to 1e-6.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import effectmeting as em
from synthetic_panels import PROP99, prop99

TABLE_1 = {"sdid": (-15.6, 8.4), "sc": (-19.6, 9.9), "did": (-27.3, 17.7)}


@pytest.fixture(scope="module")
def data():
    return prop99()


@pytest.mark.parametrize("method", ["sdid", "sc", "did"])
def test_table_1_estimates(data, method):
    fit = em.synthetic_did(data, **PROP99, method=method, se_method=None)
    assert abs(fit.estimate - TABLE_1[method][0]) <= 0.05 + 1e-9
    weights = fit.tidy_weights()
    assert weights.groupby("kind")["weight"].sum().to_numpy() == pytest.approx(1.0, abs=1e-12)
    assert (weights["weight"] >= 0).all()


def test_sdid_weights_equal_diff_diff(data):
    dd = pytest.importorskip("diff_diff")
    frame = data.assign(ever=(data["State"] == "California").astype(int))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = dd.SyntheticDiD(variance_method="placebo", n_bootstrap=2, seed=1).fit(
            frame, outcome="PacksPerCapita", treatment="ever", unit="State", time="Year",
            post_periods=list(range(1989, 2001)))
    ours = em.synthetic_did(data, **PROP99, se_method=None)
    assert ours.estimate == pytest.approx(peer.att, abs=1e-8)
    mine = ours.tidy_weights()
    unit = mine[mine["kind"] == "unit"].set_index("unit")["weight"]
    theirs = peer.get_unit_weights_df().set_index("unit")["weight"]
    assert np.abs(unit.reindex(theirs.index).to_numpy() - theirs.to_numpy()).max() < 1e-8
    time = mine[mine["kind"] == "time"].set_index("period")["weight"]
    theirs_time = peer.get_time_weights_df().set_index("period")["weight"]
    assert np.abs(time.reindex(theirs_time.index).to_numpy() - theirs_time.to_numpy()).max() < 1e-8


def _diff_diff_synthetic_control(data):
    dd = pytest.importorskip("diff_diff")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dd.SyntheticControl(v_method="custom", custom_v=np.ones(19), standardize="none").fit(
            data.assign(D=data["treated"]), outcome="PacksPerCapita", treatment="D", unit="State", time="Year")


def test_synthetic_control_equals_diff_diff(data):
    """ADH synthetic control on every pre-period outcome (V then plays no role: equal V on the raw
    outcomes in diff-diff): effect and donor weights equal diff-diff's SyntheticControl."""
    peer = _diff_diff_synthetic_control(data)
    ours = em.synthetic_control(data, **PROP99)
    assert ours.estimate == pytest.approx(peer.att, abs=1e-6)
    weights = ours.tidy_weights().set_index("unit")["weight"]
    for unit, weight in peer.donor_weights.items():
        assert weights[unit] == pytest.approx(weight, abs=1e-6)
    # the published SC (-19.6) is synthdid's ridge-stopped Frank-Wolfe version (synthetic_did(method="sc"));
    # the exact simplex least squares lands 0.11 away, far inside the paper's standard error of 9.9
    assert abs(ours.estimate - TABLE_1["sc"][0]) < 0.15


@pytest.mark.slow
def test_synthetic_control_placebo_test_equals_diff_diff(data):
    """ADH's in-space placebo test (California moved into each placebo's donor pool): every placebo's
    post/pre RMSPE ratio and the rank p-value (3/39) equal diff-diff's."""
    peer = _diff_diff_synthetic_control(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer.in_space_placebo()
    placebo = peer.get_placebo_df()
    ours = em.synthetic_control(data, **PROP99)
    facts = ours.glance().iloc[0]
    assert facts["rmspe_ratio"] == pytest.approx(peer.rmspe_ratio, rel=1e-6)
    assert facts["rmspe_ratio_p_value"] == pytest.approx(peer.placebo_p_value, abs=1e-12)
    assert facts["rmspe_ratio_p_value"] == pytest.approx(3 / 39)
    theirs = placebo[placebo["status"] == "placebo"].set_index("unit")["rmspe_ratio"]
    mine = ours.placebos().set_index("placebo")["rmspe_ratio"]
    assert np.abs(mine.reindex(theirs.index).to_numpy() - theirs.to_numpy()).max() < 1e-5


@pytest.mark.slow
@pytest.mark.parametrize("method", ["sdid", "sc", "did"])
def test_table_1_placebo_standard_errors(data, method):
    fit = em.synthetic_did(data, **PROP99, method=method)
    placebos = fit.placebos()["estimate"].to_numpy()
    assert len(placebos) == 38
    assert fit.std_error == pytest.approx(placebos.std(), rel=1e-12)
    rng = np.random.default_rng(99)
    draws = rng.choice(placebos, size=(20_000, 200), replace=True)
    sampled = draws.std(axis=1)
    low, high = np.quantile(sampled, [0.005, 0.995])
    assert low <= TABLE_1[method][1] <= high


@pytest.mark.slow
def test_sdid_placebo_estimates_equal_diff_diff(data):
    dd = pytest.importorskip("diff_diff")
    frame = data.assign(ever=(data["State"] == "California").astype(int))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = dd.SyntheticDiD(variance_method="placebo", n_bootstrap=200, seed=1).fit(
            frame, outcome="PacksPerCapita", treatment="ever", unit="State", time="Year",
            post_periods=list(range(1989, 2001)))
    ours = np.sort(em.synthetic_did(data, **PROP99).placebos()["estimate"].to_numpy())
    theirs = np.unique(np.round(np.asarray(peer.variance_effects), 6))
    # every one of diff-diff's 200 random draws is one of our 38 placebos
    assert all(np.abs(ours - value).min() < 1e-6 for value in theirs)
