"""The one least-squares solver (estimate/core/solver.py): several outcomes at once, one
collinearity rule (drop and report; refuse only a coefficient an estimator needs), per-cluster
influence values.  References: feols on each outcome separately (itself checked against pyfixest
in test_feols.py) and the estimators without the redundant regressor."""
from __future__ import annotations

import numpy as np
import pytest

from effectmeting import CollinearityWarning, feols, imputation_did, simulate_staggered_panel, sun_abraham
from effectmeting.estimate.core.covariance import cluster_influence, vcov_cluster
from effectmeting.estimate.core.solver import least_squares
from effectmeting.estimate.core.within import factorize


@pytest.fixture(scope="module")
def staggered():
    data, _ = simulate_staggered_panel(80, 8, [3, 5], seed=3, never_treated_share=0.3)
    rng = np.random.default_rng(2)
    data["x"] = rng.normal(size=len(data))
    data["z"] = 0.5 * data["y"] + rng.normal(size=len(data))
    return data


def test_several_outcomes_equal_one_at_a_time_and_collinear_dropped(staggered):
    data = staggered.assign(x2=2 * staggered["x"])
    unit, year = factorize(data["unit"])[0], factorize(data["time"])[0]
    fit = least_squares(data[["y", "z"]].to_numpy(), data[["x", "x2"]].to_numpy(), ["x", "x2"], [unit, year])
    assert fit.names == ["x"] and fit.dropped == ["x2"]
    for j, outcome in enumerate(("y", "z")):
        with pytest.warns(CollinearityWarning, match="dropped collinear regressors: x2"):
            single = feols(f"{outcome} ~ x + x2 | unit + time", data, vcov={"cluster": "unit"})
        assert single.dropped_collinear == ["x2"]
        assert fit.coef[0, j] == pytest.approx(single.coef["x"], rel=1e-12)
        influence = cluster_influence(fit.x, fit.resid[:, j], fit.bread, fe_sizes=fit.fe_sizes,
                                      fe_codes=fit.fe_codes, cluster_codes=[unit])
        vcov = vcov_cluster(fit.x, fit.resid[:, j], fit.bread, fe_sizes=fit.fe_sizes, fe_codes=fit.fe_codes,
                            cluster_codes=[unit]).matrix
        np.testing.assert_allclose(influence.T @ influence, vcov, rtol=1e-12)
        assert np.sqrt(vcov[0, 0]) == pytest.approx(single.se["x"], rel=1e-12)


def test_collinear_covariate_is_dropped_not_refused(staggered):
    """A redundant covariate changes no estimate: dropped with a warning (was an error)."""
    data = staggered.assign(x2=2 * staggered["x"] + 1)
    options = dict(outcome="y", unit="unit", time="time", cohort="cohort")
    for estimator in (sun_abraham, imputation_did):
        reference = estimator(data, covariates=["x"], **options)
        with pytest.warns(CollinearityWarning, match="collinear"):
            both = estimator(data, covariates=["x", "x2"], **options)
        np.testing.assert_allclose(both.estimates, reference.estimates, rtol=1e-9, atol=1e-12)
        assert both.std_error == pytest.approx(reference.std_error, rel=1e-9)
