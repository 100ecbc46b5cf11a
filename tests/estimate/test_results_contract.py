"""The results contract (issue 11, item 2): every public estimator's result answers ``tidy(level)``,
``conf_int(level)``, ``glance()``, ``summary()`` and ``plot()`` in one shape.

Each estimator runs once on one small simulated staggered panel; the checks are the contract's
promises, with the interval checked against ``estimate +/- z * std_error`` computed here with
scipy (not with the package's own critical value).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import effectmeting as em
from effectmeting.errors import OptionError
from effectmeting.estimate.core.results import TIDY_COLUMNS, Results

STAGGERED = {"outcome": "y", "unit": "unit", "time": "time", "cohort": "cohort"}
#: results whose intervals are estimate +/- (normal or t) critical value x std_error
PLAIN = ["feols", "fepois", "panel_model", "att_gt", "simple", "group", "dynamic", "calendar", "sun_abraham",
         "imputation_did", "did2s", "did2s_static", "event_study_twfe", "dcdh", "synthetic_did", "synthetic_control"]
#: results with intervals of their own (simultaneous bands, test inversion, robust sets) or none
OWN_INTERVALS = ["att_gt_bootstrap", "dynamic_bootstrap", "honest_did", "honest_did_sensitivity",
                 "wild_cluster_bootstrap", "randomization_inference", "bacon_decomposition", "pretrend_test"]


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    data, _ = em.simulate_staggered_panel(40, 8, [2013, 2015], seed=3, first_period=2010)
    ever = data["cohort"] > 0
    return data.assign(treated=(ever & (data["time"] >= data["cohort"])).astype(float), ever=ever.astype(float))


@pytest.fixture(scope="module")
def results(panel) -> dict[str, Results]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = em.feols("y ~ treated | unit + time", panel, vcov={"cluster": "unit"})
        attgt = em.att_gt(panel, **STAGGERED)
        booted = em.att_gt(panel, **STAGGERED, n_draws=199, seed=1)
        sun_abraham = em.sun_abraham(panel, **STAGGERED)
        out = {
            "feols": fit, "att_gt": attgt,
            "fepois": em.fepois("visits ~ treated | unit + time", panel.assign(visits=np.round(np.exp(panel["y"] / 4))),
                                vcov={"cluster": "unit"}),
            "panel_model": em.panel_model("y ~ treated", panel, model="random", unit="unit", time="time",
                                          vcov={"cluster": "unit"}), "att_gt_bootstrap": booted,
            **{kind: attgt.aggregate(kind) for kind in ("simple", "group", "dynamic", "calendar")},
            "dynamic_bootstrap": booted.aggregate("dynamic"),
            "sun_abraham": sun_abraham,
            "imputation_did": em.imputation_did(panel, **STAGGERED, pretrends=2),
            "did2s": em.did2s(panel, **STAGGERED, event_study=True),
            "did2s_static": em.did2s(panel, **STAGGERED),
            "event_study_twfe": em.event_study_twfe(panel, **STAGGERED, window=(-3, 3)),
            "dcdh": em.dcdh(panel, outcome="y", unit="unit", time="time", treatment="treated", effects=2,
                            placebos=1),
            "bacon_decomposition": em.bacon_decomposition(panel, **STAGGERED),
            "pretrend_test": em.pretrend_test(sun_abraham),
            "honest_did": em.honest_did(sun_abraham, mbar=0.5, grid_points=60, n_draws=500),
            "honest_did_sensitivity": em.honest_did_sensitivity(sun_abraham, values=[0.5], grid_points=60,
                                                                n_draws=500),
            "wild_cluster_bootstrap": em.wild_cluster_bootstrap(fit, "treated", n_draws=99, seed=2),
            "randomization_inference": em.randomization_inference("y ~ ever", panel, term="ever", treatment="ever",
                                                                  cluster="unit", n_draws=19),
        }
        # one adoption period: four units of the 2015 cohort against the eleven never-treated
        adopters = sorted(panel.loc[panel["cohort"] == 2015, "unit"].unique())[:4]
        block = panel[(panel["cohort"] == 0) | panel["unit"].isin(adopters)]
        out["synthetic_did"] = em.synthetic_did(block, outcome="y", unit="unit", time="time", treatment="treated",
                                                se_method="jackknife", max_pre_rmspe=None)
        out["synthetic_control"] = em.synthetic_control(block, outcome="y", unit="unit", time="time",
                                                        treatment="treated", n_draws=20, max_pre_rmspe=None)
    return out


def _z(level: float, df) -> float:
    return stats.norm.ppf(0.5 + level / 2) if df is None else stats.t.ppf(0.5 + level / 2, df)


@pytest.mark.parametrize("name", PLAIN + OWN_INTERVALS)
def test_tidy_has_the_contract_columns_with_keys_before_estimate(results, name):
    table = results[name].tidy()
    columns = list(table.columns)
    assert columns[0] == "term" and len(table) > 0
    start = columns.index("estimate")
    assert columns[start:start + 6] == TIDY_COLUMNS[1:]
    keys = columns[1:start]
    expected = {"att_gt": ["cohort", "time"], "group": ["cohort"], "dynamic": ["event_time"],
                "calendar": ["time"], "sun_abraham": ["event_time"], "event_study_twfe": ["event_time"]}
    if name in expected:
        assert keys == expected[name]
    assert table["term"].is_unique


@pytest.mark.parametrize("name", PLAIN)
def test_conf_int_at_any_level_is_estimate_plus_minus_z_se(results, name):
    result = results[name]
    table = result.tidy()
    df = result.df if name in ("feols", "panel_model") else None
    for level in (0.90, 0.95, 0.99):
        bounds = result.conf_int(level)
        assert list(bounds.columns) == ["conf_low", "conf_high"]
        assert list(bounds.index) == list(table["term"])
        z = _z(level, df)
        np.testing.assert_allclose(bounds["conf_low"], table["estimate"] - z * table["std_error"], rtol=1e-12)
        np.testing.assert_allclose(bounds["conf_high"], table["estimate"] + z * table["std_error"], rtol=1e-12)
    np.testing.assert_allclose(result.tidy(0.9)["conf_low"], result.conf_int(0.9)["conf_low"], rtol=0)
    # the statistic and p-value do not depend on the level
    statistic = table["estimate"] / table["std_error"]
    np.testing.assert_allclose(table["statistic"], statistic, rtol=1e-12)
    tail = stats.norm.sf(np.abs(statistic)) if df is None else stats.t.sf(np.abs(statistic), df)
    np.testing.assert_allclose(table["p_value"], 2 * tail, rtol=1e-10)


@pytest.mark.parametrize("name", PLAIN + OWN_INTERVALS)
def test_narrower_at_90_than_at_95(results, name):
    result = results[name]
    at_90, at_95 = result.conf_int(0.90), result.conf_int(0.95)
    width_90 = (at_90["conf_high"] - at_90["conf_low"]).to_numpy()
    width_95 = (at_95["conf_high"] - at_95["conf_low"]).to_numpy()
    finite = np.isfinite(width_95)
    if name in ("bacon_decomposition", "pretrend_test", "randomization_inference"):
        assert not finite.any()  # descriptive decomposition, joint test, permutation test: no interval
        return
    assert finite.any()
    assert np.all(width_90[finite] <= width_95[finite] + 1e-12)
    assert np.any(width_90[finite] < width_95[finite])
    # the result's own level is what tidy() reports
    np.testing.assert_allclose(result.tidy()["conf_low"], at_95["conf_low"].to_numpy(), rtol=1e-12)


def test_bootstrap_bands_keep_their_own_critical_value(results):
    analytic, booted = results["dynamic"], results["dynamic_bootstrap"]
    table = booted.tidy()
    crit = ((table["conf_high"] - table["estimate"]) / table["std_error"]).dropna()
    assert np.allclose(crit, crit.iloc[0]) and crit.iloc[0] > stats.norm.ppf(0.975)  # sup-t band
    wider = booted.conf_int(0.99)
    assert np.all((wider["conf_high"] - wider["conf_low"]).dropna() >
                  (table["conf_high"] - table["conf_low"]).dropna().to_numpy())
    # the overall effect keeps a pointwise interval, as R did
    overall = booted.tidy_overall()
    z = stats.norm.ppf(0.975)
    assert overall["conf_high"].iloc[0] == pytest.approx(booted.estimate + z * booted.std_error, rel=1e-12)
    assert analytic.tidy_overall()["term"].tolist() == ["ATT (overall)"]


@pytest.mark.parametrize("name", ["simple", "dynamic", "sun_abraham", "imputation_did", "did2s", "dcdh"])
def test_tidy_overall_has_the_contract_columns(results, name):
    result = results[name]
    overall = result.tidy_overall(0.9)
    assert list(overall.columns) == TIDY_COLUMNS and len(overall) == 1
    z = stats.norm.ppf(0.95)
    assert overall["conf_low"].iloc[0] == pytest.approx(result.estimate - z * result.std_error, rel=1e-12)


@pytest.mark.parametrize("name", PLAIN + OWN_INTERVALS)
def test_glance_is_one_row_of_model_facts(results, name):
    facts = results[name].glance()
    assert len(facts) == 1
    assert {"estimator", "nobs", "n_clusters", "control_group", "level"} <= set(facts.columns)
    assert facts["estimator"].iloc[0]
    assert isinstance(results[name].summary(), str)
    assert results[name].to_markdown().count("\n") == len(results[name].tidy()) + 2


def test_glance_carries_the_options_used(results, panel):
    facts = results["att_gt"].glance().iloc[0]
    assert facts["nobs"] == len(panel) and facts["n_clusters"] == panel["unit"].nunique()
    assert facts["control_group"] == "never-treated" and facts["method"] == "dr"
    assert results["att_gt_bootstrap"].glance().iloc[0]["n_draws"] == 199
    feols = results["feols"].glance().iloc[0]
    assert feols["fixed_effects"] == "unit, time" and feols["n_clusters"] == str(panel["unit"].nunique())
    assert results["dynamic"].glance().iloc[0]["kind"] == "dynamic"


@pytest.mark.parametrize("name", [n for n in PLAIN + OWN_INTERVALS if n != "pretrend_test"])
def test_plot_returns_a_figure_without_pyplot_state(results, name):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    plt.close("all")
    figure = results[name].plot()
    assert isinstance(figure, Figure)
    assert plt.get_fignums() == []


@pytest.mark.parametrize("name", PLAIN + OWN_INTERVALS)
@pytest.mark.parametrize("level", [0, 1, 1.5, -0.2, True, "0.95"])
def test_level_out_of_range_is_an_option_error_naming_it(results, name, level):
    with pytest.raises(OptionError, match=f"level={level!r}"):
        results[name].conf_int(level)
    with pytest.raises(OptionError, match="level="):
        results[name].tidy(level)


def test_estimators_refuse_a_level_out_of_range(panel):
    with pytest.raises(OptionError, match="att_gt: level=1.2"):
        em.att_gt(panel, **STAGGERED, level=1.2)
    with pytest.raises(OptionError, match="dcdh: level=0"):
        em.dcdh(panel, outcome="y", unit="unit", time="time", treatment="treated", level=0)
    with pytest.raises(OptionError, match="aggregate: level=2"):
        em.att_gt(panel, **STAGGERED).aggregate("dynamic", level=2)


def test_aggregate_honours_level(panel):
    result = em.att_gt(panel, **STAGGERED, level=0.9)
    dynamic = result.aggregate("dynamic")
    assert dynamic.level == 0.9
    table = dynamic.tidy()
    z = stats.norm.ppf(0.95)
    np.testing.assert_allclose(table["conf_low"], table["estimate"] - z * table["std_error"], rtol=1e-12)
    assert dynamic.conf_low == pytest.approx(dynamic.estimate - z * dynamic.std_error, rel=1e-12)
    assert "pointwise 90%" in dynamic.notes[0]


def test_feols_accessors_agree_with_tidy(results):
    fit = results["feols"]
    table = fit.tidy().set_index("term")
    pd.testing.assert_series_equal(fit.coef, table["estimate"], check_names=False)
    pd.testing.assert_series_equal(fit.se, table["std_error"], check_names=False)
    pd.testing.assert_series_equal(fit.pvalue, table["p_value"], check_names=False)
