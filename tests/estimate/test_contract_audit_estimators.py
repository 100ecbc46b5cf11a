"""Acceptance audit of the estimator API contract (issue 3): results family, etable with mixed
models, and refusals with reasons instead of bare numpy/pandas tracebacks.

Numbers already validated against published values live in the estimator tests; here each test
checks one contract promise that used to fail (crash, silent NaN, missing method), against an
independent reference where a number is involved (the same estimator on clean input, a peer
estimator in this package that is numerically identical, or the result's own table).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import effectmeting as em
from effectmeting.errors import EffectmetingError, FewClustersWarning, IdentificationError, InputError, OptionError

md = pytest.importorskip("moderndid")

KEYS = dict(outcome="lemp", unit="countyreal", time="year", cohort="first.treat")
STAGGERED = dict(outcome="y", unit="unit", time="time", cohort="cohort")


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return md.load_mpdta().to_pandas()


@pytest.fixture(scope="module")
def staggered() -> pd.DataFrame:
    data, _ = em.simulate_staggered_panel(60, 8, [2013, 2015, 2017], seed=1, first_period=2010)
    return data


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 120
    frame = pd.DataFrame({"g": np.repeat(np.arange(12), 10), "x": rng.normal(size=n),
                          "year": np.tile(np.arange(10), 12)})
    frame["y"] = 1.0 + 0.5 * frame["x"] + rng.normal(size=n) + 0.3 * frame["g"]
    return frame


# -- feols ------------------------------------------------------------------------------------
def test_feols_option_and_data_errors_are_effectmeting_errors(small):
    with pytest.raises(EffectmetingError, match="vcov='hc3' is unknown"):
        em.feols("y ~ x", small, vcov="hc3")
    with pytest.raises(ValueError):  # OptionError is also a ValueError, for old callers
        em.feols("y ~ x", small, vcov={"cluster": ["g", "year", "x"]})
    with pytest.raises(InputError, match="weights column 'w' has 1 negative value.*index label 5 has -1.0"):
        em.feols("y ~ x", small.assign(w=np.where(small.index == 5, -1.0, 1.0)), weights="w")
    with pytest.raises(InputError, match="must be a pandas DataFrame, got dict"):
        em.feols("y ~ x", small.to_dict())
    with pytest.raises(InputError, match="no rows"):
        em.feols("y ~ x", small.iloc[:0])


def test_feols_refuses_infinite_values_instead_of_returning_nan(small):
    data = small.assign(y=np.where(small.index == 7, np.inf, small["y"]))
    with pytest.raises(InputError, match=r"'y' in 'y ~ x' has 1 infinite value\(s\), first at the row with index label 7"):
        em.feols("y ~ x", data)
    with pytest.raises(InputError, match="'x:year'.*infinite.*index label 3"):
        em.feols("y ~ x:year", small.assign(x=np.where(small.index == 3, -np.inf, small["x"])))


def test_feols_refuses_a_single_cluster_instead_of_dividing_by_zero(small):
    with pytest.raises(IdentificationError, match="cluster column 'one' has a single cluster"):
        em.feols("y ~ x", small.assign(one=1), vcov={"cluster": "one"})


def test_duplicate_term_caret_points_at_the_repeated_term(small):
    with pytest.raises(EffectmetingError) as info:
        em.feols("y ~ x + year + x", small)
    lines = str(info.value).splitlines()
    assert lines[-1].index("^") - 2 == "y ~ x + year + x".rindex("x")


def test_feols_reports_dropped_collinear_and_singletons(small):
    data = pd.concat([small, small.iloc[:1].assign(g=99)], ignore_index=True)
    fit = em.feols("y ~ x + x2 | g", data.assign(x2=2 * data["x"]))
    assert fit.dropped_collinear == ["x2"] and fit.n_singletons == 1 and fit.nobs == len(small)
    assert "Dropped collinear regressors: x2." in fit.summary()
    assert "Dropped 1 singleton" in fit.summary()


# -- att_gt -----------------------------------------------------------------------------------
@pytest.mark.parametrize("column, value, message", [
    ("lemp", "x", "column 'lemp' must hold numbers; row with index label 0 has"),
    ("lpop", "a", "column 'lpop' must hold numbers"),
    ("year", "y2003", "column 'year' must hold numeric periods"),
    ("first.treat", "never", "column 'first.treat' must hold first treated periods"),
])
def test_att_gt_refuses_text_with_column_row_and_value(mpdta, column, value, message):
    data = mpdta.assign(**{column: mpdta[column].astype(str) + value})
    with pytest.raises(InputError, match=message):
        att = em.att_gt(data, **KEYS, covariates=["lpop"])
        del att


def test_att_gt_converts_numeric_text_periods(mpdta):
    """Years stored as text ("2004") give the same ATT(g,t) as integer years (the reference)."""
    reference = em.att_gt(mpdta, **KEYS).tidy()
    as_text = em.att_gt(mpdta.assign(year=mpdta["year"].astype(str),
                                     **{"first.treat": mpdta["first.treat"].astype(str)}), **KEYS).tidy()
    pd.testing.assert_frame_equal(as_text, reference)


def test_att_gt_refuses_infinite_outcome_and_negative_weights(mpdta):
    with pytest.raises(InputError, match="'lemp' has 1 infinite value.*index label 0"):
        em.att_gt(mpdta.assign(lemp=np.where(mpdta.index == 0, np.inf, mpdta["lemp"])), **KEYS)
    with pytest.raises(InputError, match="weights column 'w' has .* negative"):
        em.att_gt(mpdta.assign(w=-1.0), **KEYS, weights="w")


@pytest.mark.parametrize("options, message", [
    (dict(n_draws=0), "n_draws=0"), (dict(n_draws=10.5), "n_draws=10.5"),
    (dict(anticipation=0.5), "anticipation=0.5"), (dict(control="last"), "control='last'"),
])
def test_att_gt_refuses_bad_options(mpdta, options, message):
    with pytest.raises(OptionError, match=message):
        em.att_gt(mpdta, **KEYS, **options)


def test_att_gt_refuses_empty_data_and_cohorts_off_the_time_grid(mpdta):
    with pytest.raises(InputError, match="no rows"):
        em.att_gt(mpdta.iloc[:0], **KEYS)
    data = mpdta.astype({"first.treat": float})
    data.loc[data["first.treat"] == 2006, "first.treat"] = 2005.5  # was reported as cohort 2005
    with pytest.raises(IdentificationError, match=r"cohort value\(s\) \['2005.5'\].*not periods"):
        em.att_gt(data, **KEYS)
    with pytest.raises(IdentificationError, match="negative values"):
        em.att_gt(mpdta.assign(**{"first.treat": -1}), **KEYS)


def test_att_gt_takes_one_covariate_as_a_string(mpdta):
    one = em.att_gt(mpdta, **KEYS, covariates="lpop").aggregate("simple")
    listed = em.att_gt(mpdta, **KEYS, covariates=["lpop"]).aggregate("simple")
    assert one.estimate == listed.estimate and one.std_error == listed.std_error


def test_att_gt_plot_has_one_panel_per_cohort(mpdta):
    result = em.att_gt(mpdta, **KEYS)
    figure = result.plot()
    assert len(figure.axes) == result.tidy()["cohort"].nunique() == 3
    points = figure.axes[0].collections  # error bars of the first cohort (pre + post)
    assert points


# -- event studies: pre-trend test and HonestDiD on the CS dynamic aggregation -----------------
def test_cs_dynamic_aggregation_feeds_pretrend_test_and_honest_did(staggered):
    """With never-treated controls, no covariates and a universal base period, CS event-study
    estimates equal Sun-Abraham's IW estimates (a peer in this package); the converted
    covariance is the influence-function one behind the table's standard errors."""
    dynamic = em.att_gt(staggered, **STAGGERED, base_period="universal").aggregate("dynamic")
    study = dynamic.to_event_study()
    sun_abraham = em.sun_abraham(staggered, **STAGGERED)
    np.testing.assert_array_equal(study.event_time, sun_abraham.event_time)
    np.testing.assert_allclose(study.estimates, sun_abraham.estimates, rtol=1e-8, atol=1e-10)
    assert study.reference == (-1,)
    table = dynamic.tidy().set_index("event_time").drop(index=-1)
    np.testing.assert_allclose(np.sqrt(np.diag(study.vcov)), table["std_error"], rtol=1e-12)

    test = em.pretrend_test(dynamic)
    pre = study.event_time < 0
    expected = study.estimates[pre] @ np.linalg.solve(study.vcov[np.ix_(pre, pre)], study.estimates[pre])
    assert test.statistic == pytest.approx(expected, rel=1e-12) and test.df == int(pre.sum())
    bounds = em.honest_did(dynamic)
    assert bounds.estimate == pytest.approx(dynamic.estimate, rel=1e-12)
    assert bounds.conf_low < bounds.estimate < bounds.conf_high


def test_honest_did_explains_varying_base_period_and_refuses_non_event_studies(staggered):
    varying = em.att_gt(staggered, **STAGGERED).aggregate("dynamic")
    with pytest.raises(IdentificationError, match="base_period='universal'"):
        em.honest_did(varying)
    with pytest.raises(OptionError, match="takes an event-study result.*FeolsResults"):
        em.pretrend_test(em.feols("y ~ x", staggered))


# -- staggered estimators: refusals -------------------------------------------------------------
ESTIMATORS = {
    "sun_abraham": em.sun_abraham, "imputation_did": em.imputation_did, "did2s": em.did2s,
    "event_study_twfe": em.event_study_twfe, "bacon_decomposition": em.bacon_decomposition,
    "att_gt": em.att_gt,
}


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_staggered_estimators_refuse_bad_input_with_reasons(staggered, name):
    estimator = ESTIMATORS[name]
    with pytest.raises(InputError, match="must hold numbers.*index label 0"):
        estimator(staggered.assign(y=staggered["y"].astype(str) + "x"), **STAGGERED)
    with pytest.raises(InputError, match="infinite value.*index label 5"):
        estimator(staggered.assign(y=np.where(staggered.index == 5, np.inf, staggered["y"])), **STAGGERED)
    with pytest.raises(InputError, match="no rows"):
        estimator(staggered.iloc[:0], **STAGGERED)
    with pytest.raises(InputError, match="pandas DataFrame"):
        estimator(staggered.to_dict(), **STAGGERED)
    switching = staggered.copy()
    unit = switching["unit"] == switching.loc[switching["cohort"] > 0, "unit"].iloc[0]
    switching.loc[unit & (switching["time"] > 2016), "cohort"] = 0  # treated, then "never"
    with pytest.raises(IdentificationError, match="varies within unit"):
        estimator(switching, **STAGGERED)


def test_event_study_twfe_refuses_all_treated_from_the_first_period(staggered):
    with pytest.raises(IdentificationError, match="every unit is treated from the first observed period"):
        em.event_study_twfe(staggered.assign(cohort=2010), **STAGGERED)
    with pytest.raises(ValueError, match="window="):
        em.event_study_twfe(staggered, **STAGGERED, window=(0, 3))


def test_dcdh_refuses_text_periods_and_infinite_outcomes(staggered):
    data = staggered.assign(D=(staggered["time"] >= staggered["cohort"].replace(0, 10 ** 6)).astype(int))
    keys = dict(outcome="y", unit="unit", time="time", treatment="D")
    # "9" < "10" as text: text periods would be misordered, so they must be numbers
    with pytest.raises(InputError, match="column 'time' must hold numeric periods.*'y2010'"):
        em.dcdh(data.assign(time="y" + data["time"].astype(str)), **keys)
    as_text = em.dcdh(data.assign(time=data["time"].astype(str)), **keys)
    assert as_text.estimate == em.dcdh(data, **keys).estimate
    with pytest.raises(InputError, match="infinite"):
        em.dcdh(data.assign(y=np.where(data.index == 3, np.inf, data["y"])), **keys)


# -- results family: every result exports; etable takes any mix ---------------------------------
def test_wild_bootstrap_and_randomization_inference_are_results(small):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)  # few clusters: the warning is tested elsewhere
        fit = em.feols("y ~ x", small, vcov={"cluster": "g"})
    wild = em.wild_cluster_bootstrap(fit, "x", n_draws=99, seed=1)
    row = wild.tidy().iloc[0]
    assert row["term"] == "x" and row["p_value"] == wild["p_value"] == wild.p_value
    assert row["estimate"] == pytest.approx(fit.coef["x"], rel=1e-12)
    assert wild.equals(em.wild_cluster_bootstrap(fit, "x", n_draws=99, seed=1))
    for text in (wild.summary(), wild.to_markdown(), wild.to_latex(), wild.to_html()):
        assert "p_value" in text.replace("p\\_value", "p_value")

    frame = pd.DataFrame({"g": np.repeat(np.arange(6), 4), "post": np.tile([0, 0, 1, 1], 6)})
    frame["treated"] = (frame["g"] < 3).astype(int)
    frame["y"] = np.random.default_rng(2).normal(size=len(frame)) + frame["treated"] * frame["post"]
    permutation = em.randomization_inference("y ~ treated + post + treated:post", frame, term="treated:post",
                                             treatment="treated", cluster="g", n_draws="all")
    reference = em.feols("y ~ treated + post + treated:post", frame).coef["treated:post"]
    assert permutation.tidy()["estimate"].iloc[0] == pytest.approx(reference, rel=1e-12)
    assert permutation["permutations"] == 20 and permutation["exact"] == 1.0
    assert "enumerated" in permutation.summary() and "<table" in permutation.to_html()
    with pytest.raises(ValueError, match="n_draws=0"):
        em.randomization_inference("y ~ treated", frame, term="treated", treatment="treated",
                                   cluster="g", n_draws=0)


def test_bacon_plot_and_aggregate_nobs(staggered):
    bacon = em.bacon_decomposition(staggered, **STAGGERED)
    figure = bacon.plot()
    assert len(figure.axes[0].collections) == bacon.tidy()["comparison_type"].nunique()
    result = em.att_gt(staggered, **STAGGERED)
    assert result.aggregate("group").nobs == result.nobs == len(staggered)


def test_etable_puts_mixed_result_types_side_by_side(staggered):
    data = staggered.assign(event_time=np.where(staggered["cohort"] > 0,
                                                staggered["time"] - staggered["cohort"], -1).clip(-3, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        fit = em.feols("y ~ i(event_time, ref=-1) | unit + time", data, vcov={"cluster": "unit"})
    sun_abraham = em.sun_abraham(staggered, **STAGGERED)
    attgt = em.att_gt(staggered, **STAGGERED)
    simple, dynamic = attgt.aggregate("simple"), attgt.aggregate("dynamic")
    bacon = em.bacon_decomposition(staggered, **STAGGERED)
    table = em.etable([fit, sun_abraham, dynamic, simple, bacon, attgt], digits=4)

    def cell(estimate, std_error=None):
        return f"{estimate:.4f}" if std_error is None else f"{estimate:.4f} ({std_error:.4f})"

    feols_row = fit.tidy().set_index("term").loc["event_time::0"]
    assert table.loc["event_time::0", "(1)"] == cell(feols_row["estimate"], feols_row["std_error"])
    sa_row = sun_abraham.tidy().set_index("event_time").loc[0]
    assert table.loc["event_time::0", "(2)"] == cell(sa_row["estimate"], sa_row["std_error"])
    cs_row = dynamic.tidy().set_index("event_time").loc[0]
    assert table.loc["event_time::0", "(3)"] == cell(cs_row["estimate"], cs_row["std_error"])
    assert table.loc["ATT (overall)", "(2)"] == cell(sun_abraham.estimate, sun_abraham.std_error)
    assert table.loc["ATT (overall)", "(4)"] == cell(simple.estimate, simple.std_error)
    assert table.loc["ATT (overall)", "(5)"] == cell(bacon.estimate)  # descriptive: no SE
    first = attgt.tidy().iloc[0]
    assert table.loc[f"cohort::{int(first['cohort'])}, time::{int(first['time'])}", "(6)"] == cell(
        first["estimate"], first["std_error"])
    assert table.loc["Observations", "(4)"] == f"{len(staggered):,}"
    with pytest.raises(InputError, match="PretrendTestResults.*no 'estimate'"):
        em.etable([em.pretrend_test(sun_abraham)])
