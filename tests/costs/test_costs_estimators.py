"""Cost effects and cost per outcome with every estimator (cs, sa, imputation, twfe).

References: the package's own estimators computed inside the tests on the same data --
:func:`effectmeting.sun_abraham`, :func:`effectmeting.imputation_did`,
:func:`effectmeting.event_study_twfe`, :func:`effectmeting.att_gt` -- the static TWFE coefficient
and its CR1 SE from :func:`effectmeting.feols` (itself checked against pyfixest), the algebraic
identity "SA with never-treated controls = CS simple/dynamic ATT without covariates", and a
municipality bootstrap for the cumulative SEs (Monte Carlo tolerance stated per test).
"""
from __future__ import annotations

import copy
import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from effectmeting import att_gt, event_study_twfe, feols, imputation_did, simulate_staggered_panel, sun_abraham
from effectmeting.costs import cost_effect, cost_lines, cost_per_outcome
from effectmeting.costs import estimators as fits_api
from effectmeting.costs.estimators import unit_panel
from effectmeting.estimate.core.bootstrap import resample_counts
from effectmeting.costs.line_fits import ESTIMATORS, cumulative
from effectmeting.costs.lines import DOMAINS
from effectmeting.costs.treatment import estimation_frame
from effectmeting.errors import IdentificationError

ROLE = "role=gives_help"
LINES = [*DOMAINS, "total_social_domain"]
COHORT = "first_adoption_year"


@pytest.fixture(scope="module")
def panel(demo_panel):
    return dataclasses.replace(demo_panel, audit=copy.deepcopy(demo_panel.audit))


@pytest.fixture(scope="module")
def frame(panel):
    """The estimation frame cost_effect uses for the default lines (same municipalities)."""
    return estimation_frame(panel, ROLE, [*LINES, "population_total"], extra=cost_lines(panel, note=False)).data


@pytest.fixture(scope="module")
def effects(panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {est: cost_effect(panel, design=ROLE, estimator=est, horizon=5)
                for est in ("cs", "sa", "imputation", "twfe")}


def _rows(result, line, aggregation):
    table = result.tidy()
    return table[(table["line"] == line) & (table["aggregation"] == aggregation)]


@pytest.mark.parametrize("estimator", ["sa", "imputation"])
def test_line_estimates_equal_package_functions(effects, frame, estimator):
    """Per line: overall and event-time estimates equal sun_abraham / imputation_did (1e-10); with the
    cohort shares held fixed the SEs and the event-time covariance equal theirs too (1e-10)."""
    peer = sun_abraham if estimator == "sa" else imputation_did
    arrays = fits_api.arrays_for(frame, LINES, estimator, "never")
    fixed = fits_api.fit(arrays, LINES, estimator, share_term=False)
    for j, line in enumerate(LINES):
        reference = peer(frame, outcome=line, unit="municipality", time="year", cohort=COHORT)
        overall = _rows(effects[estimator], line, "overall")
        assert overall["estimate"].iloc[0] == pytest.approx(reference.estimate, rel=1e-10, abs=1e-10)
        event = _rows(effects[estimator], line, "event_time")
        assert event["key"].astype(int).tolist() == reference.event_time.tolist()
        np.testing.assert_allclose(event["estimate"], reference.estimates, rtol=1e-10, atol=1e-10)
        phi = fixed.phi_event[:, :, j]
        np.testing.assert_allclose(phi.T @ phi, reference.vcov, rtol=1e-10, atol=1e-12)
        assert np.sqrt(np.sum(fixed.phi_overall[:, j] ** 2)) == pytest.approx(reference.std_error, rel=1e-10)
    # with the estimated shares the SE is at least as large here (the effects differ across cohorts)
    shared = effects[estimator].tidy().query("aggregation == 'overall'")["std_error"].to_numpy()
    assert (shared >= np.sqrt(np.sum(fixed.phi_overall ** 2, axis=0)) * (1 - 1e-12)).all()


def test_sa_equals_cs_without_covariates(effects):
    """Sun-Abraham with never-treated controls and CS (never-treated, no covariates) are the same
    post-period estimator: overall and event times e >= 0 agree to 1e-10."""
    for line in LINES:
        for aggregation in ("overall", "cumulative"):
            sa, cs = _rows(effects["sa"], line, aggregation), _rows(effects["cs"], line, aggregation)
            np.testing.assert_allclose(sa["estimate"].to_numpy(), cs["estimate"].to_numpy(), rtol=1e-10)


def test_twfe_matches_pyfixest_and_event_study(effects, frame):
    data = frame.assign(treated=((frame[COHORT] > 0) & (frame["year"] >= frame[COHORT])).astype(float))
    for line in ("youth", "access"):
        # effectmeting.feols reproduces pyfixest/fixest CR1 (tests/estimate/fixest/test_feols.py);
        # pyfixest itself takes ~4 s to import
        model = feols(f"{line} ~ treated | municipality + year", data, vcov={"cluster": "municipality"}).tidy()
        model = model.set_index("term").loc["treated"]
        overall = _rows(effects["twfe"], line, "overall").iloc[0]
        assert overall["estimate"] == pytest.approx(model["estimate"], rel=1e-10)
        assert overall["std_error"] == pytest.approx(model["std_error"], rel=1e-8)
        event = _rows(effects["twfe"], line, "event_time")
        keys = event["key"].astype(int)
        reference = event_study_twfe(frame, outcome=line, unit="municipality", time="year", cohort=COHORT,
                                     window=(min(keys.min(), -2), keys.max()))
        np.testing.assert_allclose(event["estimate"], reference.estimates, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(event["std_error"], reference.std_errors, rtol=1e-10)
    assert "BIASED" in effects["twfe"].summary()


@pytest.mark.parametrize("estimator", ["cs", "sa", "imputation", "twfe"])
def test_total_line_is_sum_of_lines_with_summed_influence(effects, estimator):
    result = effects[estimator]
    table = {line: part.reset_index(drop=True) for line, part in result.tidy().groupby("line", sort=False)}
    total = table["total_social_domain"]
    assert all(table[d][["aggregation", "key"]].equals(total[["aggregation", "key"]]) for d in DOMAINS)
    parts = sum(table[d]["estimate"] for d in DOMAINS)
    np.testing.assert_allclose(total["estimate"], parts, rtol=1e-10, atol=1e-10)
    # the total's own influence values are the sums of the domains' (linearity), so its SE is the
    # SE of the summed influence values -- covariances between the lines included
    summed = sum(result.influence[d].to_numpy() for d in DOMAINS)
    np.testing.assert_allclose(total["std_error"], np.sqrt((summed ** 2).sum(axis=0)), rtol=1e-10)
    combined = result.combine(list(DOMAINS), name="domains")
    np.testing.assert_allclose(combined["estimate"], total["estimate"], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(combined["std_error"], total["std_error"], rtol=1e-10)
    # the naive SE (lines independent) is wrong: the lines are correlated
    naive = np.sqrt(sum(table[d]["std_error"] ** 2 for d in DOMAINS))
    assert np.max(np.abs(naive / total["std_error"] - 1)) > 0.05


def test_cumulative_rows_are_sums_of_event_times(effects):
    for estimator, result in effects.items():
        influence = result.influence
        for line in ("youth", "access"):
            event = _rows(result, line, "event_time").set_index("key")
            rows = _rows(result, line, "cumulative")
            assert rows["key"].tolist() == ["1", "2", "3", "4", "5"], estimator
            for k, estimate, se in zip(rows["key"].astype(int), rows["estimate"], rows["std_error"]):
                keys = [str(e) for e in range(k)]
                assert estimate == pytest.approx(event.loc[keys, "estimate"].sum(), rel=1e-12)
                phi = influence[line]["event_time"][keys].to_numpy().sum(axis=1)
                assert se == pytest.approx(np.sqrt(np.sum(phi ** 2)), rel=1e-12)


@pytest.fixture(scope="module")
def small():
    """A simulated staggered panel (heterogeneous dynamic effects) with two correlated outcomes."""
    data, _ = simulate_staggered_panel(120, 8, [3, 5, 6], seed=5, never_treated_share=0.3)
    data = data.rename(columns={"unit": "municipality", "time": "year", "cohort": COHORT})
    data[COHORT] = data[COHORT].fillna(0)
    data["z"] = 0.5 * data["y"] + np.random.default_rng(1).normal(size=len(data))
    return data.sort_values(["municipality", "year"]).reset_index(drop=True)


def _resample(data: pd.DataFrame, counts: np.ndarray, periods: int) -> pd.DataFrame:
    """Municipalities drawn ``counts`` times each, every copy a new municipality."""
    pick = np.repeat(np.arange(len(counts)), counts.astype(int))
    rows = (pick[:, None] * periods + np.arange(periods)[None, :]).ravel()
    return data.iloc[rows].assign(municipality=np.repeat(np.arange(len(pick)), periods))


@pytest.mark.parametrize("estimator", ["sa", "imputation", "twfe"])
def test_frequency_weights_equal_resampled_package_estimate(small, estimator):
    """A bootstrap draw as unit frequency weights = the package estimator on the resampled panel (1e-10)."""
    arrays = unit_panel(small, ["y", "z"], cohort=COHORT, control="never")
    counts = resample_counts(len(arrays.units), 2, seed=4)
    for row in counts:
        mine = fits_api.fit(arrays, ["y", "z"], estimator, row, variance=False)
        boot = _resample(small, row, len(arrays.periods))
        for j, outcome in enumerate(("y", "z")):
            if estimator == "sa":
                reference = sun_abraham(boot, outcome=outcome, unit="municipality", time="year", cohort=COHORT)
            elif estimator == "imputation":
                reference = imputation_did(boot, outcome=outcome, unit="municipality", time="year", cohort=COHORT)
            else:
                reference = event_study_twfe(boot, outcome=outcome, unit="municipality", time="year", cohort=COHORT,
                                             window=(int(mine.event_times.min()), int(mine.event_times.max())))
            np.testing.assert_allclose(mine.event[:, j], reference.estimates, rtol=1e-10, atol=1e-10)
            if estimator != "twfe":
                assert mine.overall[j] == pytest.approx(reference.estimate, rel=1e-10)


@pytest.mark.parametrize("estimator", ["sa", "imputation", "twfe"])
def test_cumulative_se_matches_municipality_bootstrap(small, estimator):
    """Analytic SE of the 3-year cumulative effect of y, z and y + z vs the SD of 400 municipality
    bootstrap draws (the draws are the package estimators on resampled panels: previous test).
    MC error of a bootstrap SD with 400 draws is about 3.5%; tolerance 15% (the imputation SE is
    BJS's conservative one: here about 10% above the bootstrap SD)."""
    arrays = unit_panel(small, ["y", "z"], cohort=COHORT, control="never")
    fits = fits_api.fit(arrays, ["y", "z"], estimator)
    _, _, phi = cumulative(fits, 3)
    analytic = np.append(np.sqrt((phi[:, -1, :] ** 2).sum(axis=0)), np.sqrt((phi[:, -1, :].sum(axis=1) ** 2).sum()))
    draws = []
    for row in resample_counts(len(arrays.units), 400, seed=9):
        draw = fits_api.fit(arrays, ["y", "z"], estimator, row, variance=False)
        three = draw.event[(draw.event_times >= 0) & (draw.event_times <= 2)].sum(axis=0)
        draws.append([*three, three.sum()])
    bootstrap = np.std(np.array(draws), axis=0, ddof=1)
    print(estimator, "analytic", analytic.round(4), "bootstrap", bootstrap.round(4))
    np.testing.assert_allclose(analytic, bootstrap, rtol=0.15)


@pytest.mark.slow
@pytest.mark.parametrize("estimator", ["sa", "imputation"])
def test_cumulative_se_matches_brute_force_package_bootstrap(small, estimator):
    """As above with sun_abraham / imputation_did themselves run on 300 resampled panels (~15 s each)."""
    peer = sun_abraham if estimator == "sa" else imputation_did
    arrays = unit_panel(small, ["y", "z"], cohort=COHORT, control="never")
    _, _, phi = cumulative(fits_api.fit(arrays, ["y", "z"], estimator), 3)
    analytic = np.sqrt((phi[:, -1, :] ** 2).sum(axis=0))
    draws = []
    for row in resample_counts(len(arrays.units), 300, seed=2):
        boot = _resample(small, row, len(arrays.periods))
        fits = [peer(boot, outcome=o, unit="municipality", time="year", cohort=COHORT) for o in ("y", "z")]
        draws.append([f.estimates[(f.event_time >= 0) & (f.event_time <= 2)].sum() for f in fits])
    np.testing.assert_allclose(analytic, np.std(np.array(draws), axis=0, ddof=1), rtol=0.15)


@pytest.mark.parametrize("estimator", ["sa", "imputation", "twfe"])
def test_cost_per_outcome_with_estimator(panel, estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = cost_per_outcome(panel, design=ROLE, cost_line="youth", outcome="jeugdhulp_per_1000_youth",
                                  estimator=estimator, n_draws=99, seed=3)
    columns = ["youth", "jeugdhulp_per_1000_youth", "population_0_17", "population_total"]
    frame = estimation_frame(panel, ROLE, columns, extra=cost_lines(panel, note=False)).data
    table = result.tidy().set_index("quantity")
    post = frame[(frame[COHORT] > 2015) & (frame["year"] >= frame[COHORT])]
    share = post["population_0_17"].sum() / post["population_total"].sum()
    arrays = fits_api.arrays_for(frame, columns, estimator, "never")
    point = fits_api.fit(arrays, ["youth", "jeugdhulp_per_1000_youth"], estimator)
    # the package's own estimators as the reference for every estimator (not the cost module's fit)
    if estimator in ("sa", "imputation"):
        peer = sun_abraham if estimator == "sa" else imputation_did
        reference = [peer(frame, outcome=c, unit="municipality", time="year", cohort=COHORT).estimate
                     for c in ("youth", "jeugdhulp_per_1000_youth")]
    else:
        from effectmeting import feols

        treated = frame.assign(treated=((frame[COHORT] > 0) & (frame["year"] >= frame[COHORT])).astype(float))
        reference = [feols(f"{c} ~ treated | municipality + year", treated, vcov={"cluster": "municipality"}
                           ).coef["treated"] for c in ("youth", "jeugdhulp_per_1000_youth")]
    np.testing.assert_allclose(point.overall, reference, rtol=1e-10)
    assert table.loc["cost_effect", "estimate"] == pytest.approx(point.overall[0], rel=1e-10)
    assert table.loc["outcome_effect", "estimate"] == pytest.approx(point.overall[1], rel=1e-10)
    assert result.estimate == pytest.approx(point.overall[0] / (point.overall[1] / 1000 * share), rel=1e-10)
    # municipality bootstrap SE vs analytic SE of the cost effect (99 draws: MC error ~7%; tolerance 30%)
    analytic = np.sqrt(np.sum(point.phi_overall[:, 0] ** 2))
    assert table.loc["cost_effect", "std_error"] == pytest.approx(analytic, rel=0.3)
    # the same resample for numerator and denominator: their draws are correlated like the estimates
    draws = result.draws
    assert len(draws) == 99 and draws[["cost", "outcome"]].notna().all().all()
    assert ESTIMATORS[estimator].split(" (")[0] in " ".join(result.notes)


def test_options_refused_with_allowed_list(panel):
    with pytest.raises(IdentificationError, match=r"\['cs', 'sa', 'imputation', 'twfe'\]"):
        cost_effect(panel, design=ROLE, estimator="did2s")
    with pytest.raises(IdentificationError, match="covariates"):
        cost_effect(panel, design=ROLE, estimator="sa", covariates=["deprivation_index"])
    with pytest.raises(IdentificationError, match="balanced"):
        cost_effect(panel, design=ROLE, estimator="imputation", balanced=True)
    with pytest.raises(IdentificationError, match="never-treated"):
        cost_effect(panel, design=ROLE, estimator="sa", control="notyet")
    with pytest.raises(IdentificationError, match="not available"):
        cost_per_outcome(panel, design=ROLE, cost_line="youth", outcome="jeugdhulp_per_1000_youth",
                         estimator="ols", n_draws=99)
    with pytest.raises(IdentificationError, match="not estimated"):
        cost_effect(panel, design=ROLE, lines=["youth"], estimator="twfe").combine(["access"])


def test_cs_influence_matches_att_gt(effects, frame):
    """cs influence values are R did's influence functions / n: SEs equal aggregate()'s (1e-10)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = att_gt(frame, outcome="youth", unit="municipality", time="year", cohort=COHORT)
    simple = fit.aggregate("simple")
    overall = _rows(effects["cs"], "youth", "overall").iloc[0]
    assert overall["estimate"] == pytest.approx(simple.estimate, rel=1e-12)
    assert overall["std_error"] == pytest.approx(simple.std_error, rel=1e-10)
