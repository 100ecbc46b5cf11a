"""de Chaisemartin-D'Haultfoeuille (2024) estimator for a switching treatment (0/1 or discrete
levels), with and without controls: the paper's formulas, refusals and coverage.

References, all computed inside the tests (the comparisons with moderndid's did_multiplegt,
stored as a fixture, are in test_dcdh_moderndid.py):
* statsmodels WLS/OLS for the control coefficients and their cluster-robust variance (the
  delta-method term of the influence function);
* a brute-force implementation of the paper's formulas (per-cell loops on a tiny panel);
* hand-computed Callaway-Sant'Anna e=0 comparisons with not-yet-treated controls (= DID_M of
  the 2020 AER paper) on an absorbing staggered design.

No published did_multiplegt_dyn (R/Stata) output exists for a configuration this estimator
accepts (balanced panel without missing values): the package's README, help files and
vignettes print results on the unbalanced Favara-Imbs panel or on Stata-simulated data
that is not reproducible here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dcdh_panels import simulate, with_covariate

from effectmeting.errors import IdentificationError, InputError
from effectmeting.estimate.dcdh.estimator import dcdh


def ours(data, effects, placebos, **options):
    return dcdh(data, outcome="y", unit="unit", time="year", treatment="d", effects=effects,
                placebos=placebos, **options)


@pytest.fixture(scope="module")
def switching():
    return simulate(11, baselines=(0, 1))


# -- brute force, straight from the paper: loops over switchers and their control cells -------
def paper_reference(frame: pd.DataFrame, effects: int, placebos: int):
    periods = sorted(frame["year"].unique())
    cell = frame.set_index(["unit", "year"])
    Y, D, W = cell["y"].to_dict(), cell["d"].to_dict(), cell["w"].to_dict()
    units = sorted(frame["unit"].unique())
    base = {g: D[g, periods[0]] for g in units}
    first = {}
    for g in units:
        moved = [k for k, t in enumerate(periods) if D[g, t] != base[g]]
        first[g] = moved[0] if moved else len(periods)
    out = {}
    for lag, placebo in [(h, False) for h in range(1, effects + 1)] + [(h, True) for h in range(1, placebos + 1)]:
        num = den = dose = current = 0.0
        for g in units:
            k = first[g] - 1 + lag
            if first[g] == len(periods) or k >= len(periods) or (placebo and first[g] - 1 - lag < 0):
                continue
            controls = [h for h in units if base[h] == base[g] and first[h] > k]
            if not controls:
                continue
            t, ref = periods[k], periods[first[g] - 1]
            start = periods[first[g] - 1 - lag] if placebo else t

            def change(h, start=start, ref=ref):
                return Y[h, start] - Y[h, ref]

            control_mean = sum(W[h, t] * change(h) for h in controls) / sum(W[h, t] for h in controls)
            sign = 1.0 if base[g] == 0 else -1.0
            num += W[g, t] * sign * (change(g) - control_mean)
            den += W[g, t]
            dose += W[g, t] * sum(D[g, periods[first[g] + j]] != base[g] for j in range(lag))
            current += W[g, t] * (D[g, t] != base[g])
        out[(-lag if placebo else lag)] = (num, den, dose, current)
    return out


def test_point_estimates_equal_paper_formulas_on_tiny_panel():
    data = simulate(3, n_units=14, n_periods=6, baselines=(0, 1), first_min=1)
    reference = paper_reference(data, effects=3, placebos=2)
    result = ours(data, 3, 2, weights="w")
    normalized = ours(data, 3, 2, weights="w", normalized=True)
    table = result.tidy().set_index("event_time")["estimate"]
    table_n = normalized.tidy().set_index("event_time")["estimate"]
    for event_time, (num, den, dose, _) in reference.items():
        assert table[event_time] == pytest.approx(num / den, rel=1e-9)
        assert table_n[event_time] == pytest.approx(num / dose, rel=1e-9)
    average = (sum(reference[h][0] for h in (1, 2, 3)) / sum(reference[h][3] for h in (1, 2, 3)))
    assert result.estimate == pytest.approx(average, rel=1e-9)


def test_did1_equals_not_yet_treated_instantaneous_comparisons_when_absorbing():
    data = simulate(9, n_units=90, n_periods=7, baselines=(0,), absorbing=True)
    always = simulate(10, n_units=6, n_periods=7, baselines=(1,), absorbing=True)
    always = always[always.groupby("unit")["d"].transform("min") == 1].assign(unit=lambda f: f["unit"] + 1000)
    data = pd.concat([data, always], ignore_index=True)  # always-treated units must not matter
    result = ours(data, 1, 0)

    # by hand: CS ATT(g, g) with not-yet-treated controls, averaged with cohort sizes (DID_M, 2020)
    first = data[data["d"] == 1].groupby("unit")["year"].min()
    start = data["year"].min()
    cohort = data["unit"].map(first).fillna(np.inf)
    wide = data.pivot(index="unit", columns="year", values="y")
    cohort_of = cohort.groupby(data["unit"]).first()
    atts, sizes = [], []
    for g in sorted(first[first > start].unique()):
        change = wide[g] - wide[g - 1]
        treated = cohort_of == g
        not_yet = cohort_of > g
        atts.append(change[treated].mean() - change[not_yet].mean())
        sizes.append(treated.sum())
    expected = np.average(atts, weights=sizes)
    assert result.tidy().set_index("event_time").loc[1, "estimate"] == pytest.approx(expected, rel=1e-9)


# -- refusals and reporting ----------------------------------------------------------------
def test_refuses_bidirectional_switchers_and_non_numeric_treatment():
    data = simulate(1, n_units=20, baselines=(1,))
    data.loc[(data["unit"] == 4) & (data["year"] == 2022), "d"] = 2  # unit 4 goes below and above 1
    data.loc[(data["unit"] == 4) & (data["year"] == 2021), "d"] = 0
    with pytest.raises(IdentificationError, match="both above and below"):
        ours(data, 1, 0)
    with pytest.raises(InputError, match="numeric treatment.*index label 3 has .yes."):
        ours(data.assign(d=data["d"].astype(str).where(data.index != 3, "yes")), 1, 0)


def test_refuses_panel_without_switchers():
    data = simulate(1, n_units=20).assign(d=0)
    with pytest.raises(IdentificationError, match="no switchers"):
        ours(data, 1, 0)


def test_reports_switchers_without_controls_and_refuses_empty_horizon():
    # no never-switchers: cohorts switch in 2017 and 2019 (periods 2 and 4 of 0..5)
    rows = []
    for unit, first_year in enumerate([2017] * 4 + [2019] * 4):
        for year in range(2015, 2021):
            rows.append((unit, year, int(year >= first_year), unit * 0.1 + year * 0.5 + (year >= first_year)))
    data = pd.DataFrame(rows, columns=["unit", "year", "d", "y"])
    result = ours(data, 2, 0)
    dropped = result.excluded[result.excluded["reason"].str.startswith("no not-yet-switched")]
    # horizon 1: the 2019 cohort has no control in 2019; horizon 2: the 2017 cohort is compared
    # with the 2019 cohort in 2018, the 2019 cohort would need 2020 controls
    assert sorted(dropped.loc[dropped["event_time"] == 1, "unit"]) == [4, 5, 6, 7]
    assert sorted(dropped.loc[dropped["event_time"] == 2, "unit"]) == [4, 5, 6, 7]
    assert any("not used" in note for note in result.notes)
    assert result.tidy().set_index("event_time").loc[1, "estimate"] == pytest.approx(1.0)
    with pytest.raises(IdentificationError, match="horizon 3"):
        ours(data, 3, 0)


def test_refuses_unbalanced_panel_missing_values_and_controls():
    data = simulate(2, n_units=20)
    with pytest.raises(InputError, match="unbalanced"):
        ours(data.iloc[1:], 1, 0)
    with pytest.raises(InputError, match="missing"):
        ours(data.assign(y=data["y"].where(data.index != 3)), 1, 0)


def test_results_interface(switching):
    result = ours(switching, 2, 2)
    table = result.tidy()
    assert list(table.columns) == ["term", "event_time", "estimate", "std_error", "statistic", "p_value",
                                   "conf_low", "conf_high"]
    assert list(table["event_time"]) == [-2, -1, 1, 2]
    assert np.isfinite(result.estimate) and result.std_error > 0
    assert "Average total effect" in result.summary()
    assert np.allclose(np.sqrt(np.diag(result.vcov)), table["std_error"])
    np.testing.assert_allclose(result.influence.mean(axis=0), table["estimate"], rtol=1e-10)
    import matplotlib

    matplotlib.use("Agg")
    figure = result.plot()
    assert figure.axes[0].get_xlabel().startswith("event time")


@pytest.mark.slow
def test_monte_carlo_coverage_of_influence_function_intervals():
    # fixed switching paths, fresh unit effects and noise: the estimand is the estimator applied
    # to the treatment-effect part of the outcome alone (controls keep their status quo, so it is 0)
    design = simulate(21, n_units=200, n_periods=8, baselines=(0, 1))
    rng = np.random.default_rng(22)
    wide_d = design.pivot(index="unit", columns="year", values="d").to_numpy()
    baseline = wide_d[:, :1]
    effect = 1.5 * (wide_d - baseline) + 0.2 * np.cumsum(wide_d - baseline, axis=1)
    truth_frame = design.assign(y=effect.ravel())
    truth = ours(truth_frame, 3, 2).tidy().set_index("event_time")["estimate"]
    truth_average = ours(truth_frame, 3, 2).estimate
    assert np.allclose(truth.loc[[-2, -1]], 0.0)
    covered, covered_average, reps = 0, 0, 300
    for _ in range(reps):
        noise = rng.normal(size=(200, 1)) + rng.normal(size=(200, 8)) + 0.3 * np.arange(8)
        table = ours(design.assign(y=(effect + noise).ravel()), 3, 2)
        tidy = table.tidy().set_index("event_time")
        covered = covered + ((tidy["conf_low"] <= truth) & (truth <= tidy["conf_high"])).to_numpy()
        low, high = table.estimate - 1.96 * table.std_error, table.estimate + 1.96 * table.std_error
        covered_average += low <= truth_average <= high
    coverage = covered / reps
    # the variance estimator is conservative (cohort-demeaned), so coverage may exceed 95 %
    assert np.all(coverage >= 0.92) and np.all(coverage <= 0.995), coverage
    assert 0.92 <= covered_average / reps <= 0.995


# -- controls ------------------------------------------------------------------------------
def residualised(data, thetas: dict[str, float]) -> pd.DataFrame:
    """``data`` with the outcome ``y - sum_k theta_k x_k`` (coefficients held fixed)."""
    return data.assign(y=data["y"] - sum(theta * data[name] for name, theta in thetas.items()))


def test_control_coefficients_equal_statsmodels_wls_on_never_switchers():
    # with theta_l the never-switchers' WLS coefficients (statsmodels), every switcher's
    # influence function with controls equals the one without controls on Y - theta_l' X (only
    # never-switchers carry the term for estimating theta): with switchers' own X differences,
    # this pins theta_l down at each horizon
    statsmodels = pytest.importorskip("statsmodels.api")
    data = with_covariate(12, n_units=60, baselines=(0,)).assign(z=lambda f: np.sin(f["unit"] * f["year"]))
    wide = {c: data.pivot(index="unit", columns="year", values=c).to_numpy() for c in ("y", "x", "z", "w", "d")}
    never = (wide["d"] == 0).all(axis=1)
    with_controls = ours(data, 2, 0, controls=["x", "z"], weights="w")
    for lag in (1, 2):
        dy = (wide["y"][:, lag:] - wide["y"][:, :-lag])[never].ravel()
        dx = np.column_stack([(wide[c][:, lag:] - wide[c][:, :-lag])[never].ravel() for c in ("x", "z")])
        theta = statsmodels.WLS(dy, dx, weights=wide["w"][:, lag:][never].ravel()).fit().params
        fixed = ours(residualised(data, dict(zip(("x", "z"), theta))), 2, 0, weights="w")
        np.testing.assert_allclose(with_controls.influence[~never, lag - 1], fixed.influence[~never, lag - 1],
                                   rtol=1e-10, atol=1e-12)
        estimates = [r.tidy().set_index("event_time").loc[lag, "estimate"] for r in (with_controls, fixed)]
        assert estimates[0] == pytest.approx(estimates[1], rel=1e-10)


def test_control_adjustment_is_linear_and_its_variance_term_is_the_ols_sandwich():
    # DID_l is linear in the outcome, so DID_l(Y - theta X) = DID_l(Y) - theta DID_l(X) with
    # theta the never-switchers' WLS coefficient (statsmodels); the delta-method term of U_g is
    # -DID_l(X) psi_g, whose variance is DID_l(X)^2 times the cluster-robust (by unit, no
    # small-sample factor) variance of theta.  The term is what the influence function with
    # controls adds to the one with theta held fixed (no controls, outcome Y - theta X).
    statsmodels = pytest.importorskip("statsmodels.api")
    data = with_covariate(13, n_units=60, n_periods=6, baselines=(0,))
    lag = 2
    wide = {c: data.pivot(index="unit", columns="year", values=c).to_numpy() for c in ("y", "x", "d")}
    never = (wide["d"] == 0).all(axis=1)
    dy = (wide["y"][:, lag:] - wide["y"][:, :-lag])[never].ravel()
    dx = (wide["x"][:, lag:] - wide["x"][:, :-lag])[never].ravel()
    groups = np.repeat(np.flatnonzero(never), wide["y"].shape[1] - lag)
    fit = statsmodels.OLS(dy, dx[:, None]).fit(cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False})
    theta, theta_variance = fit.params[0], fit.cov_params()[0, 0]

    def horizon_2(result, column="estimate"):
        return result.tidy().set_index("event_time").loc[lag, column]

    with_controls = ours(data, lag, 0, controls=["x"])
    did_x = horizon_2(ours(data.assign(y=data["x"]), lag, 0))
    assert horizon_2(with_controls) == pytest.approx(horizon_2(ours(data, lag, 0)) - theta * did_x, rel=1e-9)

    fixed_theta = ours(residualised(data, {"x": theta}), lag, 0)
    term = with_controls.influence[:, 1] - fixed_theta.influence[:, 1]
    assert np.abs(term[~never]).max() < 1e-12 and abs(term.mean()) < 1e-12
    assert (term ** 2).sum() / len(term) ** 2 == pytest.approx(did_x ** 2 * theta_variance, rel=1e-9)


def test_refuses_controls_that_cannot_be_estimated():
    data = with_covariate(14, n_units=40, baselines=(0,))
    with pytest.raises(IdentificationError, match="collinear"):
        ours(data.assign(x2=2 * data["x"] + 1), 1, 0, controls=["x", "x2"])
    # baseline 1 has switchers but no never-switcher to estimate its coefficients on
    mixed = with_covariate(15, n_units=60, baselines=(0, 1))
    base = mixed.groupby("unit")["d"].transform("first")
    switches = mixed.groupby("unit")["d"].transform("nunique") > 1
    mixed = mixed[(base == 0) | switches]
    with pytest.raises(IdentificationError, match="never-switcher"):
        ours(mixed, 1, 0, controls=["x"])
    with pytest.raises(InputError, match="missing"):
        ours(data.assign(x=data["x"].where(data.index != 7)), 1, 0, controls=["x"])


def test_monte_carlo_coverage_with_controls():
    """The shipped SE with controls (including the estimated-coefficient term and its covariance
    with the main term) against Monte Carlo: fixed switching paths and covariate, fresh unit
    effects and noise; the outcome moves with the covariate (0.7), which is correlated with the
    treatment.  The estimand is the estimator applied to the treatment-effect part plus the exact
    covariate part (its coefficient is then recovered exactly).  200 draws: coverage MC SE 1.5 pp."""
    design = with_covariate(31, n_units=200, n_periods=8, baselines=(0, 1))
    rng = np.random.default_rng(32)
    wide_d = design.pivot(index="unit", columns="year", values="d").to_numpy()
    baseline = wide_d[:, :1]
    effect = 1.5 * (wide_d - baseline) + 0.2 * np.cumsum(wide_d - baseline, axis=1)
    covariate = 0.7 * design.pivot(index="unit", columns="year", values="x").to_numpy()
    exact = design.assign(y=(effect + covariate).ravel())
    truth = ours(exact, 3, 0, controls=["x"]).tidy().set_index("event_time")["estimate"]
    covered, ratio, reps = 0, [], 200
    estimates = []
    for _ in range(reps):
        noise = rng.normal(size=(200, 1)) + rng.normal(size=(200, 8)) + 0.3 * np.arange(8)
        tidy = ours(design.assign(y=(effect + covariate + noise).ravel()), 3, 0, controls=["x"]).tidy()
        tidy = tidy.set_index("event_time")
        covered = covered + ((tidy["conf_low"] <= truth) & (truth <= tidy["conf_high"])).to_numpy()
        estimates.append(tidy["estimate"].to_numpy())
        ratio.append(tidy["std_error"].to_numpy())
    coverage = covered / reps
    assert np.all(coverage >= 0.91) and np.all(coverage <= 0.995), coverage
    # mean SE against the Monte Carlo SD of the estimates (conservative variance: SE may run high)
    sd = np.std(np.array(estimates), axis=0, ddof=1)
    assert np.all(np.mean(ratio, axis=0) / sd > 0.85) and np.all(np.mean(ratio, axis=0) / sd < 1.3)
