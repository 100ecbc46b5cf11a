"""imputation_did's untreated-model options (issue 16): a choice of fixed effects (``fe=``, Stata
``did_imputation``'s ``fe()``), unit- and period-specific controls (``unitcontrols`` /
``timecontrols``) and clusters above the unit.

References:
* R did2s on df_het (tests/fixtures/r_did2s_df_het.json, MIT): its static ATT with first stage
  ``~ 0 | state + year`` is the imputation overall ATT with ``fe=["state", "year"]`` (Gardner's and
  BJS's point estimates coincide); 1e-8 relative.
* A dense textbook implementation of BJS (2024) written here (numpy pseudo-inverse of the
  dummy design, the Theorem-3 v weights and auxiliary residuals, leave-one-out of appendix A.9),
  first checked against diff-diff's ImputationDiD with unit and period effects, then used for the
  designs diff-diff does not offer (state effects, unit-specific trends, period-specific slopes,
  state clusters); 1e-8 relative.
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
from effectmeting.errors import OptionError

FIXTURE = json.loads((Path(__file__).parents[2] / "fixtures" / "r_did2s_df_het.json").read_text())
KEYS = {"outcome": "dep_var", "unit": "unit", "time": "year", "cohort": "g"}


@pytest.fixture(scope="module")
def df_het() -> pd.DataFrame:
    spec = importlib.util.find_spec("pyfixest")  # the wheel ships df_het; not imported
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("pyfixest (which ships df_het) is not installed")
    return pd.read_csv(Path(list(spec.submodule_search_locations)[0]) / "did" / "data" / "df_het.csv")


@pytest.fixture(scope="module")
def small(df_het) -> pd.DataFrame:
    data = df_het[df_het["unit"] <= 60].copy()
    data["x"] = np.random.default_rng(5).normal(size=len(data))
    return data


def _dummies(values: pd.Series) -> np.ndarray:
    return pd.get_dummies(values.astype(str)).to_numpy(dtype=float)


def dense_bjs(data: pd.DataFrame, columns: list[np.ndarray], cluster: str, leave_one_out: bool):
    """Overall ATT and its Theorem-3 SE from the dense untreated design ``columns`` (full dummy
    sets; the pseudo-inverse takes care of the redundant ones)."""
    z = np.column_stack(columns)
    treated = ((data["g"] > 0) & (data["year"] >= data["g"])).to_numpy()
    z0, z1, y = z[~treated], z[treated], data["dep_var"].to_numpy()
    gram_inverse = np.linalg.pinv(z0.T @ z0)
    coefficients = gram_inverse @ z0.T @ y[~treated]
    tau = y[treated] - z1 @ coefficients
    v1 = np.full(treated.sum(), 1.0 / treated.sum())
    v0 = -z0 @ gram_inverse @ z1.T @ v1
    residual0 = y[~treated] - z0 @ coefficients
    cells = pd.Series(data["g"].to_numpy()[treated] * 1000 + (data["year"] - data["g"]).to_numpy()[treated])
    frame = pd.DataFrame({"cell": cells, "v2": v1 ** 2, "v2tau": v1 ** 2 * tau})
    sums = frame.groupby("cell")[["v2", "v2tau"]].transform("sum")
    residual1 = tau - sums["v2tau"] / sums["v2"]
    if leave_one_out:
        residual1 = residual1 / (1 - frame["v2"] / sums["v2"])
    clusters = pd.concat([pd.Series(v0 * residual0, index=data[cluster].to_numpy()[~treated]),
                          pd.Series(v1 * residual1.to_numpy(), index=data[cluster].to_numpy()[treated])])
    return float(v1 @ tau), float(np.sqrt((clusters.groupby(level=0).sum() ** 2).sum()))


def test_dense_reference_matches_diff_diff(small):
    diff_diff = pytest.importorskip("diff_diff")
    estimate, std_error = dense_bjs(small, [_dummies(small["unit"]), _dummies(small["year"])], "unit", False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = diff_diff.ImputationDiD().fit(small, outcome="dep_var", unit="unit", time="year", first_treat="g")
    assert estimate == pytest.approx(peer.overall_att, rel=1e-8)
    assert std_error == pytest.approx(peer.overall_se, rel=1e-6)


def test_state_effects_reproduce_r_did2s_point_estimate(df_het):
    fit = em.imputation_did(df_het, **KEYS, fe=["state", "year"], cluster="state")
    assert fit.estimate == pytest.approx(FIXTURE["unweighted"]["model1"]["estimate"], rel=1e-8)
    assert "state" in str(fit.glance()["fe"].iloc[0])


@pytest.mark.parametrize("leave_one_out", [False, True])
@pytest.mark.parametrize("design", ["state", "region_year", "unit_trends", "year_slopes"])
def test_options_match_the_dense_reference(small, design, leave_one_out):
    unit, year = _dummies(small["unit"]), _dummies(small["year"])
    if design == "state":
        options = {"fe": ["state", "year"], "cluster": "state"}
        columns, cluster = [_dummies(small["state"]), year], "state"
    elif design == "region_year":  # region-specific year effects, fixest's "a^b"
        region = (small["state"] % 3).astype(str)
        options = {"fe": ["unit", "region^year"], "cluster": "state"}
        columns, cluster = [unit, _dummies(region + "_" + small["year"].astype(str))], "state"
        small = small.assign(region=region)
    elif design == "unit_trends":
        options = {"unit_controls": ["year"]}
        # the same span with the trend centred: raw years (~2000) make the dense pseudo-inverse lose
        # digits (4e-6), the sparse LU does not
        columns, cluster = [unit, year, unit * (small["year"].to_numpy() - 2005.0)[:, None]], "unit"
    else:
        options = {"time_controls": ["x"], "cluster": "state"}
        columns, cluster = [unit, year, year * small["x"].to_numpy()[:, None]], "state"
    fit = em.imputation_did(small, **KEYS, leave_one_out=leave_one_out, **options)
    estimate, std_error = dense_bjs(small, columns, cluster, leave_one_out)
    assert fit.estimate == pytest.approx(estimate, rel=1e-8)
    assert fit.std_error == pytest.approx(std_error, rel=1e-8)


def test_state_effects_impute_units_treated_throughout(df_het):
    """With state effects a unit treated in every period still has an imputable untreated outcome
    (its state's level comes from other units); with unit effects it is refused."""
    late = df_het[df_het["year"] >= 2001]  # cohort 2000 is treated in every remaining year
    fit = em.imputation_did(late, **KEYS, fe=["state", "year"], cluster="state")
    assert np.isfinite(fit.estimate) and (fit.treatment_effects["cohort"] == 2000).any()
    with pytest.raises(em.IdentificationError, match="treated in every observed period"):
        em.imputation_did(late, **KEYS)


def test_option_refusals(small):
    with pytest.raises(OptionError, match="'county'.*not in the data") as caught:
        em.imputation_did(small, **KEYS, fe=["county", "year"])
    assert caught.value.reason == "unknown_column"
    with pytest.raises(em.InputError, match=r"not unique.*fe=\['state', 'year'\]") as caught:
        em.imputation_did(small, **{**KEYS, "unit": "state"})
    assert caught.value.reason == "duplicate_rows"
    with pytest.raises(OptionError, match="control 'trend' is not in the data"):
        em.imputation_did(small, **KEYS, unit_controls=["trend"])
    with pytest.raises(OptionError, match="pretrends= needs exactly two fixed effects"):
        em.imputation_did(small, **KEYS, unit_controls=["year"], pretrends=2)
    fit = em.imputation_did(small, **KEYS, fe=["state", "year"], cluster="state", pretrends=2)
    assert fit.tidy()["event_time"].min() == -2
