"""Minimum detectable effect by placebo simulation on the harmonised demo panel.

References: the normal-theory relations a placebo study must satisfy — under no effect the
rejection rate is about alpha; with an effect of MDE = (z_{1-a/2} + z_power) x SE added, the
rejection rate is about ``power``; the analytic SE agrees with the spread of placebo estimates;
and the MDE shrinks with more adopters.  Monte Carlo tolerances are 3 binomial standard errors.
"""
from __future__ import annotations

import copy
import dataclasses
import warnings

import numpy as np
import pytest
from scipy import stats

from effectmeting.errors import IdentificationError, OptionError
from effectmeting.planning import minimum_detectable_effect

REPS = 50
OUTCOME = "jeugdhulp_per_1000_youth"


@pytest.fixture(scope="module")
def panel(demo_panel):
    """The session's demo panel (conftest) with its own audit log (designs add notes to it)."""
    return dataclasses.replace(demo_panel, audit=copy.deepcopy(demo_panel.audit))


@pytest.fixture(scope="module")
def power_table(panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return minimum_detectable_effect(panel, outcome=OUTCOME, n_adopters=[40, 160], adoption_years="role=gives_help",
                                         n_draws=REPS, seed=3)


def test_columns_and_formula(power_table):
    table = power_table.tidy()
    assert table.columns[:6].tolist() == ["outcome", "n_adopters", "years", "mde", "se", "rejection_rate_at_mde"]
    assert table["years"].tolist() == ["2015-2024", "2015-2024"]
    factor = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    np.testing.assert_allclose(table["mde"], factor * table["se"], rtol=1e-12)
    for n, draws in power_table.draws.items():
        assert len(draws) == REPS
        assert table.set_index("n_adopters").loc[n, "se"] == pytest.approx(draws["std_error"].mean())


def test_mde_decreases_with_adopters(power_table):
    mde = power_table.tidy().set_index("n_adopters")["mde"]
    assert mde.loc[160] < mde.loc[40]
    # SE ~ 1/sqrt(n_adopters) while the never-treated group is large: ratio about 2 (here ~1.8)
    assert 1.3 < mde.loc[40] / mde.loc[160] < 2.6


def test_placebo_rejection_rate_near_alpha_and_power_at_mde(power_table):
    table = power_table.tidy()
    alpha_mc = 3 * np.sqrt(0.05 * 0.95 / REPS)
    power_mc = 3 * np.sqrt(0.8 * 0.2 / REPS)
    assert (table["placebo_rejection_rate"] <= 0.05 + alpha_mc).all()
    assert (abs(table["rejection_rate_at_mde"] - 0.8) <= power_mc).all()
    # the analytic SE agrees with the spread of the placebo estimates (MC error of an SD with 50 draws ~10%)
    ratio = table["placebo_sd"] / table["se"]
    assert ((ratio > 0.7) & (ratio < 1.4)).all()


def test_injected_effect_shifts_estimates_by_mde(power_table):
    """CS is linear in the outcome: adding MDE from adoption on moves every estimate by exactly MDE."""
    table = power_table.tidy().set_index("n_adopters")
    for n, draws in power_table.draws.items():
        np.testing.assert_allclose(draws["estimate_at_mde"] - draws["estimate"], table.loc[n, "mde"], rtol=1e-8)
        np.testing.assert_allclose(draws["std_error_at_mde"], draws["std_error"], rtol=1e-8)


def test_seeded_and_validated(panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = minimum_detectable_effect(panel, outcome=OUTCOME, n_adopters=30, adoption_years=[2018, 2019, 2020],
                                          first_year=2016, last_year=2022, n_draws=10, seed=11)
        # with a progress bar (on stderr): the bar never touches the random draws
        again = minimum_detectable_effect(panel, outcome=OUTCOME, n_adopters=30, adoption_years=[2018, 2019, 2020],
                                          first_year=2016, last_year=2022, n_draws=10, seed=11, progress=True)
    assert first.tidy().equals(again.tidy())
    assert first.tidy()["years"].iloc[0] == "2016-2022"
    with pytest.raises(OptionError, match="outside"):
        minimum_detectable_effect(panel, outcome=OUTCOME, n_adopters=30, adoption_years=[2015], n_draws=10)
    with pytest.raises(OptionError, match="n_adopters"):
        minimum_detectable_effect(panel, outcome=OUTCOME, n_adopters=1000, n_draws=10)
    with pytest.raises(OptionError, match="not a panel column"):
        minimum_detectable_effect(panel, outcome="nope", n_adopters=30, n_draws=10)


@pytest.fixture(scope="module")
def power_by_estimator(panel):
    """The same placebo assignments (same seed) for every estimator: 20 draws, 60 adopters."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {est: minimum_detectable_effect(panel, outcome=OUTCOME, n_adopters=60, adoption_years="role=gives_help",
                                               estimator=est, n_draws=20, seed=5)
                for est in ("cs", "sa", "imputation", "twfe")}


def test_mde_with_every_estimator(power_by_estimator):
    """Formula, exact shift by MDE (all four are linear in the outcome) and placebo calibration per estimator;
    the unbiased estimators give similar MDEs (CS and SA coincide: same post-period estimator)."""
    factor = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    mde = {}
    for est, result in power_by_estimator.items():
        row = result.tidy().iloc[0]
        draws = result.draws[60]
        mde[est] = row["mde"]
        assert row["mde"] == pytest.approx(factor * draws["std_error"].mean(), rel=1e-12)
        np.testing.assert_allclose(draws["estimate_at_mde"] - draws["estimate"], row["mde"], rtol=1e-8)
        # placebo rejection <= alpha + 3 binomial SEs (20 draws); SD of placebo estimates near the SE
        assert row["placebo_rejection_rate"] <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 20)
        assert 0.6 < row["placebo_sd"] / row["se"] < 1.6, est
    print({k: round(v, 3) for k, v in mde.items()})
    # CS simple ATT and SA overall ATT are the same estimate on every draw (never-treated control)
    np.testing.assert_allclose(power_by_estimator["sa"].draws[60]["estimate"],
                               power_by_estimator["cs"].draws[60]["estimate"], rtol=1e-9, atol=1e-9)
    assert 0.7 < mde["imputation"] / mde["cs"] < 1.3
    assert 0.7 < mde["sa"] / mde["cs"] < 1.3
    assert "Sun-Abraham" in power_by_estimator["sa"].summary()


def test_mde_refuses_unknown_estimator(panel):
    with pytest.raises(IdentificationError, match="'cs', 'sa', 'imputation', 'twfe'"):
        minimum_detectable_effect(panel, outcome=OUTCOME, n_adopters=30, estimator="did2s", n_draws=10)
