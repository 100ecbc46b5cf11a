"""de Chaisemartin-D'Haultfoeuille (2024) estimator for a switching treatment (0/1 or discrete
levels), with and without controls.

References, all computed inside the tests:
* moderndid.did_multiplegt (a Python port of did_multiplegt_dyn) on simulated switching panels
  (0/1 and three-level treatments, with a covariate) and on the Favara & Imbs (2015) data it
  ships (interstate branching binarised, and its 0..4 index as is; house-price growth as a
  control); estimates rel 1e-6, SEs rel 1e-4.  Documented differences of moderndid 0.2 from
  did_multiplegt_dyn (R) or from the paper, each emulated explicitly in the tests below:
  switchers out enter without their sign S_g = -1 (and in one pass with switchers in of the
  same baseline); the average total effect uses differences of cumulative doses; cluster
  counts include a spurious null under clustering; with controls, placebos pair
  Y_{t-2l} - Y_{t-l} with X_t - X_{t-l}, and the variance term for the estimated coefficients
  is a constant for effects and absent for placebos.
* statsmodels WLS/OLS for the control coefficients and their cluster-robust variance (the
  delta-method term of the influence function);
* a brute-force implementation of the paper's formulas (per-cell loops on a tiny panel);
* hand-computed Callaway-Sant'Anna e=0 comparisons with not-yet-treated controls (= DID_M of
  the 2020 AER paper) on an absorbing staggered design.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

from effectmeting.errors import IdentificationError, InputError
from effectmeting.estimate.dcdh import horizon as dcdh_horizon
from effectmeting.estimate.dcdh.estimator import dcdh



def moderndid():
    """The peer, imported only by the tests that use it (validated with moderndid 0.2.0)."""
    return pytest.importorskip("moderndid")


def simulate(seed: int, *, n_units: int = 160, n_periods: int = 8, baselines=(0,), first_min: int = 2,
             absorbing: bool = False) -> pd.DataFrame:
    """A switching panel: a third never switch, the others switch at ``first_min..T-1``
    (0-based) and, unless ``absorbing``, half of those switch back 1-3 periods later."""
    rng = np.random.default_rng(seed)
    baseline = np.asarray(baselines)[np.arange(n_units) % len(baselines)]
    kind = rng.integers(0, 3, n_units)
    first = np.where(kind > 0, rng.integers(first_min, n_periods, n_units), n_periods + 5)
    back = np.where((kind == 2) & ~absorbing, first + rng.integers(1, 4, n_units), n_periods + 5)
    period = np.arange(n_periods)
    switched = (period[None, :] >= first[:, None]) & (period[None, :] < back[:, None])
    d = np.where(switched, 1 - baseline[:, None], baseline[:, None])
    exposure = np.cumsum(d, axis=1)  # dynamic effects: the effect grows with exposure
    y = (rng.normal(size=(n_units, 1)) + 0.3 * period[None, :] + 1.5 * d + 0.2 * exposure
         + rng.normal(size=(n_units, n_periods)))
    return pd.DataFrame({
        "unit": np.repeat(np.arange(n_units), n_periods), "year": np.tile(2015 + period, n_units),
        "d": d.ravel(), "y": y.ravel(), "region": np.repeat(np.arange(n_units) % 12, n_periods),
        "w": rng.uniform(0.5, 2.0, n_units * n_periods),
    })


def peer(data, effects, placebos, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return moderndid().did_multiplegt(data, yname="y", tname="year", idname="unit", dname="d",
                                 effects=effects, placebo=placebos, **options)


def ours(data, effects, placebos, **options):
    return dcdh(data, outcome="y", unit="unit", time="year", treatment="d", effects=effects,
                placebos=placebos, **options)


def by_event_time(result, column):
    table = result.tidy().set_index("event_time")
    effects = table.loc[table.index > 0, column].sort_index().to_numpy()
    placebos = table.loc[table.index < 0, column].sort_index(ascending=False).to_numpy()
    return effects, placebos


def assert_matches(result, reference, sign=1.0, se_rtol=1e-4):
    est_e, est_p = by_event_time(result, "estimate")
    se_e, se_p = by_event_time(result, "std_error")
    np.testing.assert_allclose(est_e, sign * reference.effects.estimates, rtol=1e-6)
    np.testing.assert_allclose(se_e, reference.effects.std_errors, rtol=se_rtol)
    if reference.placebos is not None:
        np.testing.assert_allclose(est_p, sign * reference.placebos.estimates, rtol=1e-6)
        np.testing.assert_allclose(se_p, reference.placebos.std_errors, rtol=se_rtol)


@pytest.fixture(scope="module")
def switching():
    return simulate(11, baselines=(0, 1))


def test_switchers_in_on_and_off_match_moderndid(switching):
    data = switching[switching["unit"] % 2 == 0]  # baseline 0: switch on, some switch off again
    assert_matches(ours(data, 3, 2), peer(data, 3, 2))


def test_switchers_out_match_moderndid_up_to_its_missing_sign(switching):
    # moderndid does not multiply switchers out by S_g = -1 (did_multiplegt_dyn R does:
    # U_minus = -U_Gg in did_multiplegt_main.R), so its estimates have the opposite sign
    data = switching[switching["unit"] % 2 == 1]
    assert_matches(ours(data, 3, 2), peer(data, 3, 2), sign=-1.0)


def test_mixed_directions_aggregate_as_did_multiplegt_dyn(switching):
    # did_multiplegt_dyn: DID_l = (N1 DID_in + N0 DID_out) / (N1 + N0); in and out switchers
    # have different baselines, so their influence functions have disjoint support
    result = ours(switching, 3, 2)
    into = peer(switching[switching["unit"] % 2 == 0], 3, 2)
    out = peer(switching[switching["unit"] % 2 == 1], 3, 2)
    estimates, std_errors = by_event_time(result, "estimate"), by_event_time(result, "std_error")
    for position, part in enumerate(("effects", "placebos")):
        a, b = getattr(into, part), getattr(out, part)
        share_in = a.n_switchers / (a.n_switchers + b.n_switchers)
        share_out = 1.0 - share_in
        np.testing.assert_allclose(estimates[position], share_in * a.estimates - share_out * b.estimates,
                                   rtol=1e-6)
        expected_se = np.sqrt((share_in * a.std_errors) ** 2 + (share_out * b.std_errors) ** 2)
        np.testing.assert_allclose(std_errors[position], expected_se, rtol=1e-4)


def test_cell_weights_match_moderndid(switching):
    data = switching[switching["unit"] % 2 == 0]
    assert_matches(ours(data, 3, 2, weights="w"), peer(data, 3, 2, weightsname="w"))


def test_normalized_effects_match_moderndid(switching):
    data = switching[switching["unit"] % 2 == 0]
    result = ours(data, 3, 2, normalized=True)
    assert_matches(result, peer(data, 3, 2, normalized=True))
    assert (result.horizons["switch_dose"] > 0).all()


def test_cluster_se_differs_from_moderndid_only_by_its_null_count(monkeypatch):
    # moderndid counts clusters per cohort with polars' n_unique(), which also counts the null it
    # gives to non-member rows of the cohort's group: its cohort sizes are one too large for the
    # control and union cohorts, and (its placebo pass groups switchers by baseline and switch
    # date over all their rows) for placebo switcher cohorts.  did_multiplegt_dyn (R) counts
    # uniqueN over members only, as we do.  The SEs differ by ~1-3% here; emulating the extra
    # count in our cohort sizes reproduces moderndid to 1e-4.
    data = simulate(5, baselines=(0,), first_min=3)  # every switcher has 2 pre-periods
    reference = peer(data, 3, 2, cluster="region")
    plain = ours(data, 3, 2, cluster="region")
    assert_matches(plain, reference, se_rtol=0.05)
    with pytest.raises(AssertionError):
        assert_matches(plain, reference)

    original = dcdh_horizon._centring
    calls = itertools.count()

    def with_null_counted(diff, flag, weight, codes, n_codes, cluster_codes):
        # horizon_terms centres in the order switchers, controls, union; effects 1..3 come first
        call = next(calls)
        mean, count = original(diff, flag, weight, codes, n_codes, cluster_codes)
        if call % 3 == 0 and call < 3 * 3:
            return mean, count
        outsiders = np.stack([(~flag[codes == c]).any(axis=0) for c in range(n_codes)])
        return mean, np.where((count > 0) & outsiders, count + 1, count)

    monkeypatch.setattr(dcdh_horizon, "_centring", with_null_counted)
    assert_matches(ours(data, 3, 2, cluster="region"), reference)


def test_average_total_effect_matches_moderndid_when_absorbing():
    # with an absorbing treatment every switcher's dose is 1 in every period, so moderndid's
    # differences of cumulative doses equal did_multiplegt_dyn's per-period doses
    data = simulate(7, baselines=(0,), absorbing=True)
    result, reference = ours(data, 4, 1), peer(data, 4, 1)
    assert_matches(result, reference)
    assert result.estimate == pytest.approx(reference.ate.estimate, rel=1e-6)
    assert result.std_error == pytest.approx(reference.ate.std_error, rel=1e-4)


def test_favara_imbs_binarised_matches_moderndid():
    md = moderndid()
    frame = md.load_favara_imbs()
    frame = frame.to_pandas() if hasattr(frame, "to_pandas") else frame
    frame = frame.assign(branching=(frame["inter_bra"] > 0).astype(int))
    complete = frame.groupby("county")["Dl_vloans_b"].transform(lambda s: s.notna().all() and len(s) == 12)
    data = frame[complete.astype(bool)].reset_index(drop=True)  # 928 balanced counties, 1994-2005
    result = dcdh(data, outcome="Dl_vloans_b", unit="county", time="year", treatment="branching",
                  effects=5, placebos=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = md.did_multiplegt(data, yname="Dl_vloans_b", tname="year", idname="county",
                                      dname="branching", effects=5, placebo=3)
    assert_matches(result, reference)
    assert result.estimate == pytest.approx(reference.ate.estimate, rel=1e-6)
    assert result.std_error == pytest.approx(reference.ate.std_error, rel=1e-4)
    # switchers of 1995 have no period before 1994: left out of placebo -1 and reported
    assert (result.excluded["event_time"] == -1).sum() == (data.groupby("county")["branching"].nth(1) == 1).sum()


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
    for lag, placebo in [(l, False) for l in range(1, effects + 1)] + [(l, True) for l in range(1, placebos + 1)]:
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

            def change(h):
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
    average = (sum(reference[l][0] for l in (1, 2, 3)) / sum(reference[l][3] for l in (1, 2, 3)))
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
    with pytest.raises(IdentificationError, match="numeric"):
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
def with_covariate(seed: int, **options) -> pd.DataFrame:
    """``simulate`` plus a trending covariate ``x`` that moves the outcome (coefficient 0.7)."""
    data = simulate(seed, **options)
    rng = np.random.default_rng(seed + 100)
    data["x"] = rng.normal(size=len(data)) + 0.1 * (data["year"] - 2015) + 0.3 * data["d"]
    data["y"] = data["y"] + 0.7 * data["x"]
    return data


def moderndid_control_variance(fit, coefficient, base, n_weighted):
    """moderndid 0.2's correction for the estimated coefficients: its ``in_brackets`` term is
    only filled on rows where ``in_sum`` is 0, so it reduces to ``-theta`` and the correction
    becomes the same constant ``T * sum_d M_d' theta_d`` for every unit (added to U_g)."""
    per_unit = np.einsum("gt,gti->gi", coefficient, fit.dx) / n_weighted
    gradient = np.zeros_like(fit.theta)
    np.add.at(gradient, base, per_unit)
    return np.full(len(base), fit.dx.shape[1] * float((gradient * fit.theta).sum()))


def test_weighted_controls_match_moderndid(monkeypatch):
    # Point estimates of effects match as they are.  Placebos: moderndid residualises
    # Y_{t-2l} - Y_{t-l} on X_t - X_{t-l} (we use X_{t-2l} - X_{t-l}).  Variance: moderndid
    # adds a constant instead of the delta-method term for effects and nothing for placebos.
    # Each difference is emulated below; the statsmodels test below checks ours.
    data = with_covariate(11, baselines=(0, 1))
    data = data[data["unit"] % 2 == 0]
    reference = peer(data, 3, 2, xformla="~x", weightsname="w")
    plain = ours(data, 3, 2, controls=["x"], weights="w")
    effects, placebos = by_event_time(plain, "estimate")
    np.testing.assert_allclose(effects, reference.effects.estimates, rtol=1e-6)
    assert np.abs(placebos - reference.placebos.estimates).max() > 1e-3  # the X pairing matters
    assert not np.allclose(by_event_time(plain, "std_error")[0], reference.effects.std_errors, rtol=1e-3)
    # without controls the estimates differ: the adjustment is not a no-op
    assert np.abs(by_event_time(ours(data, 3, 2, weights="w"), "estimate")[0] - effects).max() > 1e-2

    from effectmeting.estimate.dcdh import controls as dcdh_controls
    original = dcdh_controls.control_differences
    monkeypatch.setattr(dcdh_controls, "theta_influence", moderndid_control_variance)
    result = ours(data, 3, 0, controls=["x"], weights="w")
    np.testing.assert_allclose(by_event_time(result, "estimate")[0], reference.effects.estimates, rtol=1e-6)
    np.testing.assert_allclose(by_event_time(result, "std_error")[0], reference.effects.std_errors, rtol=1e-4)
    monkeypatch.setattr(dcdh_controls, "theta_influence", lambda fit, coefficient, base, n: np.zeros(len(base)))
    monkeypatch.setattr(dcdh_controls, "control_differences", lambda x, lag, placebo: original(x, lag, False))
    result = ours(data, 1, 2, controls=["x"], weights="w")
    np.testing.assert_allclose(by_event_time(result, "estimate")[1], reference.placebos.estimates, rtol=1e-6)
    np.testing.assert_allclose(by_event_time(result, "std_error")[1], reference.placebos.std_errors, rtol=1e-4)


def test_control_coefficients_equal_statsmodels_wls_on_never_switchers(monkeypatch):
    statsmodels = pytest.importorskip("statsmodels.api")
    from effectmeting.estimate.dcdh import controls as dcdh_controls
    data = with_covariate(12, n_units=60, baselines=(0,)).assign(z=lambda f: np.sin(f["unit"] * f["year"]))
    wide = {c: data.pivot(index="unit", columns="year", values=c).to_numpy() for c in ("y", "x", "z", "w", "d")}
    never = (wide["d"] == 0).all(axis=1)
    lag = 2
    dy = (wide["y"][:, lag:] - wide["y"][:, :-lag])[never].ravel()
    dx = np.column_stack([(wide[c][:, lag:] - wide[c][:, :-lag])[never].ravel() for c in ("x", "z")])
    expected = statsmodels.WLS(dy, dx, weights=wide["w"][:, lag:][never].ravel()).fit().params
    captured = {}
    original = dcdh_controls.residualise

    def capture(*args, **kwargs):
        adjusted, fit = original(*args, **kwargs)
        captured[(kwargs["lag"], kwargs["placebo"])] = fit.theta
        return adjusted, fit

    monkeypatch.setattr(dcdh_controls, "residualise", capture)
    ours(data, 2, 0, controls=["x", "z"], weights="w")
    np.testing.assert_allclose(captured[(2, False)][0], expected, rtol=1e-10)


def test_control_adjustment_is_linear_and_its_variance_term_is_the_ols_sandwich(monkeypatch):
    # DID_l is linear in the outcome, so DID_l(Y - theta X) = DID_l(Y) - theta DID_l(X) with
    # theta the never-switchers' WLS coefficient (statsmodels); the delta-method term of U_g is
    # -DID_l(X) psi_g, whose variance is DID_l(X)^2 times the cluster-robust (by unit, no
    # small-sample factor) variance of theta
    statsmodels = pytest.importorskip("statsmodels.api")
    from effectmeting.estimate.dcdh import controls as dcdh_controls
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

    monkeypatch.setattr(dcdh_controls, "theta_influence", lambda fit, coefficient, base, n: np.zeros(len(base)))
    fixed_theta = ours(data, lag, 0, controls=["x"])
    term = with_controls.influence[:, 1] - fixed_theta.influence[:, 1]
    assert np.abs(term[~never]).max() == 0 and abs(term.mean()) < 1e-12
    assert (term ** 2).sum() / len(term) ** 2 == pytest.approx(did_x ** 2 * theta_variance, rel=1e-9)


def test_favara_imbs_controls_match_moderndid(monkeypatch):
    # county house-price growth Dl_hpi as a control; the same moderndid differences emulated
    # as in test_weighted_controls_match_moderndid
    from effectmeting.estimate.dcdh import controls as dcdh_controls
    md = moderndid()
    data = favara_imbs(["Dl_vloans_b", "Dl_hpi"])  # 901 balanced counties
    options = dict(outcome="Dl_vloans_b", unit="county", time="year", treatment="inter_bra", controls=["Dl_hpi"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = md.did_multiplegt(data, yname="Dl_vloans_b", tname="year", idname="county",
                                      dname="inter_bra", effects=5, placebo=3, xformla="~Dl_hpi")
    plain = dcdh(data, effects=5, placebos=3, **options)
    np.testing.assert_allclose(by_event_time(plain, "estimate")[0], reference.effects.estimates, rtol=1e-6)
    original = dcdh_controls.control_differences
    monkeypatch.setattr(dcdh_controls, "theta_influence", moderndid_control_variance)
    assert_matches(dcdh(data, effects=5, placebos=0, **options), _effects_only(reference))
    monkeypatch.setattr(dcdh_controls, "theta_influence", lambda fit, coefficient, base, n: np.zeros(len(base)))
    monkeypatch.setattr(dcdh_controls, "control_differences", lambda x, lag, placebo: original(x, lag, False))
    result = dcdh(data, effects=1, placebos=3, **options)
    np.testing.assert_allclose(by_event_time(result, "estimate")[1], reference.placebos.estimates, rtol=1e-6)
    np.testing.assert_allclose(by_event_time(result, "std_error")[1], reference.placebos.std_errors, rtol=1e-4)


# -- non-binary treatments -----------------------------------------------------------------
def favara_imbs(complete_columns):
    """moderndid's Favara-Imbs panel restricted to counties with all 12 years of the columns."""
    frame = moderndid().load_favara_imbs()
    frame = frame.to_pandas() if hasattr(frame, "to_pandas") else frame
    complete = frame.groupby("county")[complete_columns].transform(lambda s: s.notna().all() and len(s) == 12)
    return frame[complete.all(axis=1)].reset_index(drop=True)


class _effects_only:
    """A moderndid result seen without its placebos (for ``assert_matches``)."""

    def __init__(self, reference):
        self.effects, self.placebos = reference.effects, None


def simulate_levels(seed: int, *, n_units: int = 180, n_periods: int = 8, baselines=(0, 1),
                    steps=(1, 2)) -> pd.DataFrame:
    """A treatment with levels 0, 1, 2: a third never switch, the others move from their
    baseline by a step drawn from ``steps`` (clipped to 0..2) and half of them return to it
    1-3 periods later; the effect is 1 per level plus 0.2 per level-period of exposure."""
    rng = np.random.default_rng(seed)
    baseline = rng.choice(np.asarray(baselines), n_units)
    kind = rng.integers(0, 3, n_units)
    first = np.where(kind > 0, rng.integers(2, n_periods, n_units), n_periods + 5)
    new = np.clip(baseline + rng.choice(np.asarray(steps), n_units), 0, 2)
    back = np.where(kind == 2, first + rng.integers(1, 4, n_units), n_periods + 5)
    period = np.arange(n_periods)
    on = (period[None, :] >= first[:, None]) & (period[None, :] < back[:, None])
    d = np.where(on, new[:, None], baseline[:, None]).astype(float)
    exposure = np.cumsum(np.abs(d - baseline[:, None]), axis=1)
    y = (rng.normal(size=(n_units, 1)) + (0.3 + 0.2 * baseline[:, None]) * period[None, :] + d + 0.2 * exposure
         + rng.normal(size=(n_units, n_periods)))
    return pd.DataFrame({
        "unit": np.repeat(np.arange(n_units), n_periods), "year": np.tile(2015 + period, n_units),
        "d": d.ravel(), "y": y.ravel(), "w": rng.uniform(0.5, 2.0, n_units * n_periods),
    })


@pytest.mark.parametrize("normalized", [False, True])
def test_three_level_treatment_matches_moderndid(normalized):
    into = simulate_levels(4, baselines=(0, 1), steps=(1, 2))  # 0 -> 1, 0 -> 2, 1 -> 2
    assert set(into["d"]) == {0.0, 1.0, 2.0}
    assert_matches(ours(into, 3, 2, normalized=normalized), peer(into, 3, 2, normalized=normalized))
    out = simulate_levels(5, baselines=(1, 2), steps=(-1, -2))  # 2 -> 1, 2 -> 0, 1 -> 0
    assert_matches(ours(out, 3, 2, normalized=normalized), peer(out, 3, 2, normalized=normalized), sign=-1.0)


def test_weighted_three_level_treatment_matches_moderndid():
    data = simulate_levels(6)
    assert_matches(ours(data, 2, 1, weights="w"), peer(data, 2, 1, weightsname="w"))


def test_switchers_in_and_out_of_one_baseline_combine_as_did_multiplegt_dyn():
    # baseline 1 can move up to 2 or down to 0.  did_multiplegt_dyn (R) runs its core once for
    # switchers in and once for switchers out, each with every not-yet-switched unit of the
    # baseline as control, and averages U^+ and -U^- with N^+ and N^-.  moderndid runs one pass
    # without the sign of switchers out, i.e. it returns N^+ DID^+ - N^- DID^- (over N): our two
    # passes recombined that way must reproduce it (its single pass shares the union cohort
    # across directions; that cohort is used only for singleton cohorts, none here)
    from effectmeting.estimate.dcdh.panel import prepare_switching_panel
    data = simulate_levels(7, baselines=(1,), steps=(-1, 1))
    panel = prepare_switching_panel(data, outcome="y", unit="unit", time="year", treatment="d")
    reference = peer(data, 3, 2)
    result = ours(data, 3, 2)
    for position, (count, placebo) in enumerate(((3, False), (2, True))):
        part = reference.placebos if placebo else reference.effects
        unsigned, signed, variances = [], [], []
        for lag in range(1, count + 1):
            into, out = (dcdh_horizon.side_terms(panel, lag, placebo=placebo, side=side) for side in (1.0, -1.0))
            share = into.n_switchers_weighted / (into.n_switchers_weighted + out.n_switchers_weighted)
            unsigned.append(share * into.estimate - (1 - share) * out.estimate)
            signed.append(share * into.estimate + (1 - share) * out.estimate)
            influence = share * into.influence_var - (1 - share) * out.influence_var
            variances.append(dcdh_horizon.clustered_variance(influence, panel.cluster_codes)[0, 0])
            assert into.n_switchers + out.n_switchers == part.n_switchers[lag - 1]
        np.testing.assert_allclose(unsigned, part.estimates, rtol=1e-6)
        np.testing.assert_allclose(np.sqrt(variances), part.std_errors, rtol=1e-4)
        np.testing.assert_allclose(by_event_time(result, "estimate")[position], signed, rtol=1e-12)


def test_favara_imbs_branching_index_matches_moderndid():
    # inter_bra: interstate branching deregulation index 0..4, never decreasing
    md = moderndid()
    data = favara_imbs(["Dl_vloans_b"])
    assert data["inter_bra"].nunique() == 5
    result = dcdh(data, outcome="Dl_vloans_b", unit="county", time="year", treatment="inter_bra",
                  effects=5, placebos=3, normalized=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = md.did_multiplegt(data, yname="Dl_vloans_b", tname="year", idname="county",
                                      dname="inter_bra", effects=5, placebo=3, normalized=True)
    assert_matches(result, reference)
    assert result.estimate == pytest.approx(reference.ate.estimate, rel=1e-6)
    assert result.std_error == pytest.approx(reference.ate.std_error, rel=1e-4)


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
