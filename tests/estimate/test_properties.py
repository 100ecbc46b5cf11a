"""Properties every estimator must have, whatever its implementation (tests that survive refactoring).

* adding a constant to the outcome leaves every effect and standard error unchanged (the unit
  fixed effects, or the differences of CS/dCDH, absorb it);
* scaling the outcome by ``c`` scales estimates and standard errors by ``c`` (|c| for the SEs);
* the order of rows, and the labels of units, do not matter;
* mapping a harmonised table to the reference year it is already on changes nothing
  (the crosswalk is idempotent), and the audit adds up.

Tolerances: 1e-9 relative (1e-10 absolute for estimates that are zero by construction), far
below any reported digit and far above floating-point reordering noise.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import effectmeting as em

KEYS = dict(outcome="y", unit="unit", time="time", cohort="cohort")
SHIFT, SCALE = 123.456, -3.5


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    data, _ = em.simulate_staggered_panel(90, 7, [3, 5], seed=11)
    data["D"] = ((data["cohort"] > 0) & (data["time"] >= data["cohort"])).astype(int)
    data["x_t"] = data["x"] * data["time"]
    return data


def _estimators():
    """name -> function(data) returning a results object with tidy() estimate/std_error columns."""
    def quiet(fit):
        def run(data):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return fit(data)
        return run

    return {
        "feols": quiet(lambda d: em.feols("y ~ x_t | unit + time", d, vcov={"cluster": "unit"})),
        "att_gt": quiet(lambda d: em.att_gt(d, **KEYS)),
        "att_gt_simple": quiet(lambda d: em.att_gt(d, **KEYS).aggregate("simple")),
        "att_gt_dynamic_notyet": quiet(lambda d: em.att_gt(d, control="notyet", **KEYS).aggregate("dynamic")),
        "sun_abraham": quiet(lambda d: em.sun_abraham(d, **KEYS)),
        "imputation_did": quiet(lambda d: em.imputation_did(d, **KEYS)),
        "did2s": quiet(lambda d: em.did2s(d, **KEYS, event_study=True)),
        "event_study_twfe": quiet(lambda d: em.event_study_twfe(d, **KEYS)),
        "dcdh": quiet(lambda d: em.dcdh(d, outcome="y", unit="unit", time="time", treatment="D",
                                       effects=2, placebos=1)),
        # one adoption period: the never-treated and the cohort-5 units (jackknife: no random draws)
        "synthetic_did": quiet(lambda d: em.synthetic_did(d[d["cohort"].isin([0, 5])], outcome="y", unit="unit",
                                                          time="time", treatment="D", se_method="jackknife",
                                                          max_pre_rmspe=None)),
    }


ESTIMATORS = _estimators()


def _numbers(result) -> tuple[np.ndarray, np.ndarray]:
    table = result.tidy()
    return table["estimate"].to_numpy(dtype=float), table["std_error"].to_numpy(dtype=float)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_adding_a_constant_to_the_outcome_changes_nothing(panel, name):
    fit = ESTIMATORS[name]
    estimate, std_error = _numbers(fit(panel))
    shifted_estimate, shifted_se = _numbers(fit(panel.assign(y=panel["y"] + SHIFT)))
    np.testing.assert_allclose(shifted_estimate, estimate, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(shifted_se, std_error, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_scaling_the_outcome_scales_estimates_and_standard_errors(panel, name):
    fit = ESTIMATORS[name]
    estimate, std_error = _numbers(fit(panel))
    scaled_estimate, scaled_se = _numbers(fit(panel.assign(y=panel["y"] * SCALE)))
    np.testing.assert_allclose(scaled_estimate, SCALE * estimate, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(scaled_se, abs(SCALE) * std_error, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_row_order_and_unit_labels_do_not_matter(panel, name):
    fit = ESTIMATORS[name]
    estimate, std_error = _numbers(fit(panel))
    rng = np.random.default_rng(5)
    shuffled = panel.sample(frac=1.0, random_state=rng).reset_index(drop=True)
    # new unit labels in another order: 1000 - unit reverses the units' sort order
    relabelled = shuffled.assign(unit=1000 - shuffled["unit"])
    other_estimate, other_se = _numbers(fit(relabelled))
    np.testing.assert_allclose(other_estimate, estimate, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(other_se, std_error, rtol=1e-9, atol=1e-10)


# -- harmonisation --------------------------------------------------------------------------
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n_rows=st.integers(1, 60))
def test_crosswalk_is_idempotent_on_data_already_on_the_reference_year(seed, n_rows):
    """Data of the reference year's municipalities mapped to that same year come back unchanged."""
    from effectmeting.reference.register import codes_valid_in

    rng = np.random.default_rng(seed)
    codes = codes_valid_in(2023)["code"].to_numpy()
    chosen = rng.choice(codes, size=min(n_rows, len(codes)), replace=False)
    frame = pd.DataFrame({
        "municipality": chosen,
        "year": 2023,
        "population_total": rng.integers(1_000, 900_000, size=len(chosen)).astype("float64"),
        "population_0_17": rng.integers(100, 200_000, size=len(chosen)).astype("float64"),
    })
    audit = em.AuditLog()
    once = em.to_reference_year(frame, table="population", reference_year=2023, audit=audit)
    twice = em.to_reference_year(once, table="population", reference_year=2023)
    for result in (once, twice):
        ordered = result.sort_values("municipality").reset_index(drop=True)
        expected = frame.sort_values("municipality").reset_index(drop=True)
        pd.testing.assert_frame_equal(ordered[expected.columns], expected, check_dtype=False)
    assert float(once["population_total"].sum()) == float(frame["population_total"].sum())
