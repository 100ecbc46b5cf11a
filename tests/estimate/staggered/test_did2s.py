"""Gardner's two-stage DiD against R did2s's published output on df_het and pyfixest's did2s
computed in the test.

* R did2s (tests/fixtures/r_did2s_df_het.json: numbers R wrote, stored in pyfixest's repository,
  MIT; the README's static 2.152215 (0.047607)): static ATT and event study, unweighted and
  weighted, with and without a first-stage covariate, first stage ``~ 0 | state + year``,
  clustered by state.  Tolerance: 1e-8 relative (the R numbers have 16 digits); 5e-7 absolute
  for the README's 6-decimal values.
* pyfixest ``did2s`` (a separate implementation of the same GMM variance) on a smaller panel with
  unit and period effects, clustered by unit: 1e-8 relative (1e-6 with a covariate, which pyfixest
  demeans iteratively).
df_het itself is read from the pyfixest wheel (pyfixest/did/data/df_het.csv, MIT; the R did2s
package's data), so the test needs no network.
"""
from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import effectmeting as em
from effectmeting.errors import IdentificationError, OptionError

FIXTURE = json.loads((Path(__file__).parents[2] / "fixtures" / "r_did2s_df_het.json").read_text())
KEYS = {"outcome": "dep_var", "unit": "unit", "time": "year", "cohort": "g"}
R_SPEC = {**KEYS, "fe": ["state", "year"], "cluster": "state"}


@pytest.fixture(scope="module")
def df_het() -> pd.DataFrame:
    spec = importlib.util.find_spec("pyfixest")  # locate the wheel's data without importing pyfixest
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("pyfixest (which ships df_het) is not installed")
    data = pd.read_csv(Path(list(spec.submodule_search_locations)[0]) / "did" / "data" / "df_het.csv")
    # the covariate and weights of the R runs (see the fixture's source)
    data["X"] = np.random.default_rng(12345).normal(size=len(data))
    data["weights"] = np.random.default_rng(1243).uniform(0, 10, size=len(data))
    return data


def test_matches_r_did2s_static_readme_and_event_study(df_het):
    fit = em.did2s(df_het, **R_SPEC, event_study=True)
    r = FIXTURE["unweighted"]["model1"]  # the static ATT rides along with the event study
    assert fit.estimate == pytest.approx(r["estimate"], rel=1e-8)
    assert fit.std_error == pytest.approx(r["std_error"], rel=1e-8)
    assert fit.estimate == pytest.approx(FIXTURE["readme_static"]["estimate"], abs=5e-7)
    assert fit.std_error == pytest.approx(FIXTURE["readme_static"]["std_error"], abs=5e-7)
    r = pd.DataFrame(FIXTURE["unweighted"]["model2"]).set_index("event_time")
    table = fit.tidy().set_index("event_time")
    assert table.index.tolist() == r.index.tolist()  # -20..20 without the reference -1
    np.testing.assert_allclose(table["estimate"], r["estimate"], rtol=1e-8)
    np.testing.assert_allclose(table["std_error"], r["std_error"], rtol=1e-8)
    assert fit.n_clusters == 40


def test_weighted_event_study_with_covariate_matches_r_did2s(df_het):
    fit = em.did2s(df_het, **R_SPEC, event_study=True, weights="weights", covariates=["X"])
    r = pd.DataFrame(FIXTURE["weighted"]["model3"]).set_index("event_time")
    table = fit.tidy().set_index("event_time")
    np.testing.assert_allclose(table["estimate"], r["estimate"], rtol=1e-8)
    np.testing.assert_allclose(table["std_error"], r["std_error"], rtol=1e-8)


def test_weighted_static_matches_r_did2s(df_het):
    fit = em.did2s(df_het, **R_SPEC, weights="weights")
    r = FIXTURE["weighted"]["model1"]
    assert fit.estimate == pytest.approx(r["estimate"], rel=1e-8)
    assert fit.std_error == pytest.approx(r["std_error"], rel=1e-8)
    assert fit.tidy()["term"].tolist() == ["treated"]


@pytest.fixture(scope="module")
def small(df_het) -> pd.DataFrame:
    data = df_het[df_het["unit"] <= 120].copy()
    data["D"] = data["treat"].astype(int)
    # never-treated rows join the reference event time, as in our second stage
    data["rel"] = np.where(data["g"] > 0, data["year"] - data["g"], -1).astype(int)
    return data


def _pyfixest(data, second_stage, first_stage="~ 0 | unit + year", cluster="unit"):
    pf = pytest.importorskip("pyfixest")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.did2s(data, yname="dep_var", first_stage=first_stage, second_stage=second_stage,
                       treatment="D", cluster=cluster)
    return fit.coef().to_numpy(), fit.se().to_numpy()


def test_matches_pyfixest_with_unit_effects(small):
    static = em.did2s(small, **KEYS)
    coef, se = _pyfixest(small, "~ D")
    assert static.estimate == pytest.approx(coef[0], rel=1e-8)
    assert static.std_error == pytest.approx(se[0], rel=1e-8)

    dynamic = em.did2s(small, **KEYS, event_study=True, covariates=["X"])
    coef, se = _pyfixest(small, "~ i(rel, ref=-1)", first_stage="~ X | unit + year")
    # pyfixest's first stage with a covariate demeans iteratively (its own tolerance): 1e-6
    np.testing.assert_allclose(dynamic.estimates, coef, rtol=1e-6)
    np.testing.assert_allclose(dynamic.std_errors, se, rtol=1e-6)


def test_static_equals_imputation_overall_att(small):
    gardner = em.did2s(small, **KEYS)
    imputation = em.imputation_did(small, **KEYS)
    assert gardner.estimate == pytest.approx(imputation.estimate, rel=1e-10)


def test_refusals_name_the_column_and_level(small):
    with pytest.raises(OptionError, match="'region'.*not in the data") as caught:
        em.did2s(small, **KEYS, fe=["region", "year"])
    assert caught.value.reason == "unknown_column"
    late = small[small["year"] >= 2005]  # cohort 2000 is treated in every remaining year
    with pytest.raises(IdentificationError, match="fixed effect 'unit' has level") as caught:
        em.did2s(late, **KEYS)
    assert caught.value.reason == "not_imputable"
    with pytest.raises(IdentificationError, match="no unit is ever treated"):
        em.did2s(small.assign(g=0), **KEYS)
    with pytest.raises(OptionError, match="event_study"):
        em.did2s(small, **KEYS, event_study="yes")
