"""Borusyak-Jaravel-Spiess imputation estimator against peers computed in the test:
diff-diff's ImputationDiD (point estimates and the Theorem-3 conservative SEs, with and without
the leave-one-out refinement), pyfixest's did2s (Gardner two-stage = the same point estimate),
pyfixest feols for the pre-trend regression and statsmodels WLS for weighted imputation."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from effectmeting.errors import IdentificationError
from effectmeting.estimate.staggered.imputation import imputation_did

diff_diff = pytest.importorskip("diff_diff")
pf = pytest.importorskip("pyfixest")


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    data = diff_diff.generate_staggered_data(n_units=120, seed=3)
    rng = np.random.default_rng(7)
    data["x"] = rng.normal(size=len(data)) + 0.1 * data["period"]
    data["outcome"] = data["outcome"] + 0.5 * data["x"]
    data["w"] = rng.uniform(0.5, 2.0, size=data["unit"].nunique())[data["unit"]]
    return data


def _diff_diff(panel, covariates=None, leave_one_out=False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = diff_diff.ImputationDiD(leave_one_out=leave_one_out).fit(
            panel, outcome="outcome", unit="unit", time="period", first_treat="first_treat",
            covariates=covariates)
        events = fit.aggregate("event_study").to_dataframe()
    return fit, events[~events["is_reference"]].set_index("event_time")


@pytest.mark.parametrize("leave_one_out", [False, True])
@pytest.mark.parametrize("covariates", [None, ["x"]])
def test_matches_diff_diff(panel, leave_one_out, covariates):
    ours = imputation_did(panel, outcome="outcome", unit="unit", time="period", cohort="first_treat",
                          covariates=covariates, leave_one_out=leave_one_out)
    fit, events = _diff_diff(panel, covariates, leave_one_out)
    assert ours.estimate == pytest.approx(fit.overall_att, rel=1e-6)
    assert ours.std_error == pytest.approx(fit.overall_se, rel=1e-4)
    table = ours.tidy().set_index("event_time")
    np.testing.assert_allclose(table["estimate"], events.loc[table.index, "att"], rtol=1e-6)
    np.testing.assert_allclose(table["std_error"], events.loc[table.index, "se"], rtol=1e-4)


def test_leave_one_out_is_larger(panel):
    plain = imputation_did(panel, outcome="outcome", unit="unit", time="period", cohort="first_treat",
                           leave_one_out=False)
    loo = imputation_did(panel, outcome="outcome", unit="unit", time="period", cohort="first_treat")
    assert loo.std_error > plain.std_error  # BJS Prop. A8 direction at unit clustering
    assert (loo.std_errors >= plain.std_errors).all()


def test_point_estimate_equals_gardner_did2s(panel):
    ours = imputation_did(panel, outcome="outcome", unit="unit", time="period", cohort="first_treat")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = panel.assign(treat=(panel["first_treat"].gt(0) & panel["period"].ge(panel["first_treat"])).astype(int))
        fit = pf.did2s(data, yname="outcome", first_stage="~ 0 | unit + period", second_stage="~ treat",
                       treatment="treat", cluster="unit")
    assert ours.estimate == pytest.approx(float(fit.coef().iloc[0]), rel=1e-6)


def test_pretrend_coefficients_match_untreated_regression(panel):
    ours = imputation_did(panel, outcome="outcome", unit="unit", time="period", cohort="first_treat",
                          pretrends=3)
    untreated = panel[(panel["first_treat"] == 0) | (panel["period"] < panel["first_treat"])].copy()
    rel = np.where(untreated["first_treat"] > 0, untreated["period"] - untreated["first_treat"], 99)
    for k in (1, 2, 3):
        untreated[f"pre{k}"] = (rel == -k).astype(float)
    fit = pf.feols("outcome ~ pre3 + pre2 + pre1 | unit + period", data=untreated, vcov={"CRV1": "unit"})
    table = ours.tidy().set_index("event_time")
    np.testing.assert_allclose(table.loc[[-3, -2, -1], "estimate"], fit.coef().to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(table.loc[[-3, -2, -1], "std_error"], fit.se().to_numpy(), rtol=1e-4)


def test_weighted_imputation_matches_wls_by_hand(panel):
    import statsmodels.formula.api as smf

    ours = imputation_did(panel, outcome="outcome", unit="unit", time="period", cohort="first_treat",
                          weights="w")
    untreated = panel[(panel["first_treat"] == 0) | (panel["period"] < panel["first_treat"])]
    treated = panel[(panel["first_treat"] > 0) & (panel["period"] >= panel["first_treat"])]
    fit = smf.wls("outcome ~ C(unit) + C(period)", data=untreated, weights=untreated["w"]).fit()
    tau = treated["outcome"] - fit.predict(treated)
    expected = np.average(tau, weights=treated["w"])
    assert ours.estimate == pytest.approx(expected, rel=1e-6)
    h2 = treated["period"] - treated["first_treat"] == 2
    horizon2 = ours.tidy().set_index("event_time").loc[2, "estimate"]
    assert horizon2 == pytest.approx(np.average(tau[h2], weights=treated["w"][h2]), rel=1e-6)


def test_refuses_always_treated_units(panel):
    data = panel.copy()
    data.loc[data["unit"] == 0, "first_treat"] = -1  # adopted before the first observed period
    with pytest.raises(IdentificationError, match="treated in every observed period"):
        imputation_did(data, outcome="outcome", unit="unit", time="period", cohort="first_treat")


def test_refuses_periods_without_untreated_units(panel):
    data = panel.copy()
    data.loc[data["first_treat"] == 0, "first_treat"] = data["period"].max()
    with pytest.raises(IdentificationError, match="every unit is treated"):
        imputation_did(data, outcome="outcome", unit="unit", time="period", cohort="first_treat")


def test_refuses_cohort_varying_within_unit(panel):
    data = panel.copy()
    data.loc[(data["unit"] == 0) & (data["period"] == 0), "first_treat"] = 3
    with pytest.raises(IdentificationError, match="varies within unit"):
        imputation_did(data, outcome="outcome", unit="unit", time="period", cohort="first_treat")


def test_plot_returns_figure(panel):
    import matplotlib

    matplotlib.use("Agg")
    result = imputation_did(panel, outcome="outcome", unit="unit", time="period", cohort="first_treat",
                            pretrends=2)
    figure = result.plot()
    assert figure.axes[0].get_xlabel().startswith("event time")
    assert list(result.tidy().columns) == ["term", "event_time", "estimate", "std_error", "statistic", "p_value",
                                           "conf_low", "conf_high"]


def test_coarser_clusters_match_diff_diff(panel):
    data = panel.assign(region=panel["unit"] % 15)
    ours = imputation_did(data, outcome="outcome", unit="unit", time="period", cohort="first_treat",
                          cluster="region", leave_one_out=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = diff_diff.ImputationDiD(cluster="region").fit(data, outcome="outcome", unit="unit",
                                                            time="period", first_treat="first_treat")
    assert ours.estimate == pytest.approx(fit.overall_att, rel=1e-6)
    assert ours.std_error == pytest.approx(fit.overall_se, rel=1e-4)


def test_horizons_restrict_overall_average(panel):
    ours = imputation_did(panel, outcome="outcome", unit="unit", time="period", cohort="first_treat",
                          horizons=[0, 1])
    tau = ours.treatment_effects
    assert set(tau["event_time"]) == {0, 1}
    assert ours.estimate == pytest.approx(tau["tau"].mean(), rel=1e-12)
    with pytest.raises(IdentificationError, match="no treated observations"):
        imputation_did(panel, outcome="outcome", unit="unit", time="period", cohort="first_treat",
                       horizons=[40])
