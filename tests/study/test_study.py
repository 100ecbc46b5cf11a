"""design_effect: the study API, checked against the demo's planted truth and independent references.

The demo (seed 20240101) comes from the session fixtures of tests/conftest.py.  References:
* the planted effects in ``truth.json`` (sources/demo_model.py) for coverage of the intervals;
* statsmodels ``multipletests(method="holm")`` for Holm;
* textbook formulas (two-group z^2, Cochran's Q) for the subgroup equality test;
* a small simulation for the family-wise error rate of Romano-Wolf;
* the estimators' own results (att_gt, dcdh, feols) for the rows the study reports.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from effectmeting.errors import IdentificationError, OptionError
from effectmeting.estimate.callaway_santanna.att_gt import att_gt
from effectmeting.sources import demo_model
from effectmeting.study import TIDY_COLUMNS, add_terciles, design_effect, holm, romano_wolf
from effectmeting.study.multiplicity import (
    align_influence, multiplier_draws, resample_frame,
)
from effectmeting.study.subgroups import equality_test

DESIGN = "role=gives_help"


@pytest.fixture(scope="module")
def demo(demo_result, demo_panel):
    """(panel, truth of role=gives_help) of the demo with the documented seed (design_effect
    never modifies the panel, so the shared session panel is safe to use)."""
    truth = json.loads(Path(demo_result["truth"]).read_text(encoding="utf-8"))["designs"][DESIGN]["outcomes"]
    return demo_panel, truth


def moved_by_other_designs() -> set[str]:
    """Panel columns that a *different* planted design moves.  Their adoption years are correlated
    with role=gives_help's (truth.json's ``caution``), so a one-design analysis attributes part of
    that other effect to role: their zero truth is not what any of these estimators recovers."""
    other = {variable for treatment, lines in demo_model.EFFECTS.items() if treatment != ("role", "gives_help")
             for variable in lines}
    return {demo_model._rate_name(v) for v in other}


@pytest.fixture(scope="module")
def study_all(demo):
    """cs, sa, imputation, twfe on every outcome and cost line truth.json covers.

    switchers='first_adoption' because truth.json's ATT takes first adoption as absorbing and
    counts switchers with their actual (zero) effect after switching back."""
    panel, truth = demo
    return design_effect(panel, design=DESIGN, outcomes=sorted(truth), estimator=["cs", "sa", "imputation", "twfe"],
                         switchers="first_adoption", multiplicity="both")


def truth_value(truth: dict, outcome: str, aggregation: str, key: str):
    entry = truth[outcome]
    if aggregation == "overall":
        return entry["att"]
    if aggregation == "event_time":
        return entry["by_event_time"].get(key)
    if aggregation == "cohort":
        return entry["by_cohort"].get(key)
    return None


# -- validation on the demo (the "done when") ------------------------------------------
def test_intervals_cover_the_planted_truth(demo, study_all):
    _, truth = demo
    excluded = moved_by_other_designs()
    assert excluded == {"wmo_per_1000_adults", "cost_6_6_per_inhabitant", "cost_6_71_per_inhabitant"}
    table = study_all.tidy()
    table = table[table["estimator"].isin(["cs", "sa", "imputation"])
                  & table["aggregation"].isin(["overall", "event_time"]) & ~table["outcome"].isin(excluded)]
    target = [truth_value(truth, o, a, k) for o, a, k in zip(table["outcome"], table["aggregation"], table["key"])]
    table = table.assign(truth=target).dropna(subset=["truth"])
    covered = (table["conf_low"] <= table["truth"]) & (table["truth"] <= table["conf_high"])
    n, hits = len(table), int(covered.sum())
    # 13 outcomes x 3 estimators x (overall + event times with a truth): several hundred intervals
    assert n > 500
    assert hits / n >= 0.90, f"only {hits} of {n} 95% intervals ({hits / n:.1%}) contain the planted truth"
    # every estimator's overall effect on every outcome with a planted effect is recovered
    overall = table[(table["aggregation"] == "overall")]
    planted = overall[overall["truth"] != 0]
    assert len(planted) == 18
    miss = planted[~covered.loc[planted.index]]
    assert len(miss) <= 2, f"overall intervals missing a planted effect:\n{miss}"


def test_default_exclude_switchers_covers_its_own_truth(demo):
    """With the default ``switchers="exclude"`` the estimand is the ATT of adopters that never
    switched back: truth.json's ``excluding_switchers`` (same 90 % floor as above)."""
    panel, truth = demo
    outcomes = sorted(set(truth) - moved_by_other_designs())
    study = design_effect(panel, design=DESIGN, outcomes=outcomes, estimator=["cs", "sa", "imputation"])
    table = study.tidy()
    table = table[table["aggregation"].isin(["overall", "event_time"])]
    own = {o: truth[o]["excluding_switchers"] for o in outcomes}
    target = [truth_value(own, o, a, k) for o, a, k in zip(table["outcome"], table["aggregation"], table["key"])]
    table = table.assign(truth=target).dropna(subset=["truth"])
    covered = (table["conf_low"] <= table["truth"]) & (table["truth"] <= table["conf_high"])
    assert len(table) > 400
    assert covered.mean() >= 0.90, f"{covered.mean():.1%} of {len(table)} intervals contain the truth"
    # the two estimands differ where switchers lost the effect: the test is not vacuous
    jeugdhulp = truth["jeugdhulp_per_1000_youth"]
    assert jeugdhulp["excluding_switchers"]["att"] > jeugdhulp["att"]


def test_twfe_is_biased_where_effects_are_heterogeneous(demo, study_all):
    """Planted effects grow with event time and shrink with cohort: static TWFE's forbidden
    comparisons pull it towards zero; CS is close to the truth."""
    _, truth = demo
    table = study_all.tidy()
    overall = table[table["aggregation"] == "overall"].set_index(["outcome", "estimator"])
    planted = [o for o in study_all.outcomes if truth[o]["att"] != 0]
    assert len(planted) == 6
    for outcome in planted:
        true = truth[outcome]["att"]
        twfe, cs = overall.loc[(outcome, "twfe")], overall.loc[(outcome, "cs")]
        outside = not cs["conf_low"] <= twfe["estimate"] <= cs["conf_high"]
        further = abs(twfe["estimate"] - true) > abs(cs["estimate"] - true) + 2 * cs["std_error"]
        assert outside and further, (f"{outcome}: truth {true:.3f}, TWFE {twfe['estimate']:.3f}, CS "
                                     f"{cs['estimate']:.3f} [{cs['conf_low']:.3f}, {cs['conf_high']:.3f}]")
    # and the Bacon decomposition says why: a sizeable weight on already-treated controls
    weights = study_all.diagnostics[planted[0]]["bacon"].by_type().set_index("comparison_type")["weight"]
    assert weights["Later vs Earlier Treated"] > 0.2


# -- the rows reproduce the underlying estimators ------------------------------------------------
def test_tidy_contract_and_rows_match_estimators(demo):
    panel, _ = demo
    outcomes = ["jeugdhulp_per_1000_youth", "cost_6_72_per_inhabitant"]
    study = design_effect(panel, design=DESIGN, outcomes=outcomes, estimator=["dcdh", "cs", "twfe"])
    table = study.estimates()
    assert list(table.columns) == TIDY_COLUMNS
    assert set(table["aggregation"]) == {"overall", "event_time", "cohort", "time"}
    assert list(dict.fromkeys(table["estimator"])) == ["twfe", "cs", "dcdh"]
    pd.testing.assert_frame_equal(table, study.estimates())
    # tidy() is the results contract over the same rows: term, the keys, the contract columns, n_units
    contract = study.tidy()
    assert list(contract.columns) == ["term", "design", "outcome", "estimator", "aggregation", "key", "estimate",
                                      "std_error", "statistic", "p_value", "conf_low", "conf_high", "n_units"]
    pd.testing.assert_frame_equal(contract[TIDY_COLUMNS], table)
    assert contract["term"].is_unique
    wider = study.tidy(level=0.99)
    assert (wider["conf_high"] - wider["conf_low"] >= contract["conf_high"] - contract["conf_low"] - 1e-12).all()
    assert table["key"].map(type).eq(str).all() and (table.loc[table["aggregation"] == "overall", "key"] == "").all()
    # switchers left out of absorbing estimators, counted in the notes; dcdh keeps them
    assert len(study.excluded) == 8 and any("8 municipalities switched back" in n for n in study.notes)
    cs = table[(table["outcome"] == outcomes[1]) & (table["estimator"] == "cs")]
    dcdh = table[(table["outcome"] == outcomes[1]) & (table["estimator"] == "dcdh")]
    assert cs["n_units"].iloc[0] == 334 and dcdh["n_units"].iloc[0] == 342
    # CS overall = att_gt(...).aggregate("simple") on the same frame, computed here independently
    frame, _ = study.timing.absorbing(treated_at_start="exclude")
    data = panel.data.merge(frame, on=["municipality", "year"])
    reference = att_gt(data, outcome=outcomes[1], unit="municipality", time="year",
                       cohort="first_adoption_year").aggregate("simple")
    row = cs[cs["aggregation"] == "overall"].iloc[0]
    assert row["estimate"] == pytest.approx(reference.estimate, abs=1e-10)
    assert row["std_error"] == pytest.approx(reference.std_error, abs=1e-10)
    assert row["p_value"] == pytest.approx(2 * stats.norm.sf(abs(reference.estimate / reference.std_error)))
    # dCDH: DID_l is placed at event time l - 1 (0 = first treated year)
    raw = study.results[(outcomes[1], "dcdh")].tidy().set_index("event_time")
    mapped = dcdh[dcdh["aggregation"] == "event_time"].set_index("key")
    assert mapped.loc["0", "estimate"] == pytest.approx(raw.loc[1, "estimate"])
    assert mapped.loc["-2", "estimate"] == pytest.approx(raw.loc[-1, "estimate"])
    # TWFE overall is the fixest-style feols coefficient on `treated`
    twfe = study.results[(outcomes[1], "twfe")]
    assert table[(table["outcome"] == outcomes[1]) & (table["estimator"] == "twfe")
                 & (table["aggregation"] == "overall")]["estimate"].iloc[0] == pytest.approx(twfe.coef["treated"])
    assert "Overall effects" in study.summary()
    figure = study.plot(outcomes[0])
    assert len(figure.axes) >= 1


# -- multiplicity ------------------------------------------------------------------------------
def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(3)
    for size in (1, 2, 5, 16):
        p = rng.uniform(0, 0.2, size)
        np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1], rtol=1e-12)
    p = np.array([0.01, np.nan, 0.04, 0.03])
    expected = multipletests(p[[0, 2, 3]], method="holm")[1]
    np.testing.assert_allclose(holm(p)[[0, 2, 3]], expected)
    assert np.isnan(holm(p)[1])


def test_study_holm_and_romano_wolf_properties(study_all):
    adjusted = study_all.adjusted
    for _estimator, part in adjusted.groupby("estimator"):
        from statsmodels.stats.multitest import multipletests

        np.testing.assert_allclose(part["p_holm"], multipletests(part["p_value"], method="holm")[1])
    cs = adjusted[adjusted["estimator"] == "cs"]
    assert cs["p_romano_wolf"].notna().all()
    assert (cs["p_romano_wolf"] >= cs["p_value"] - 1e-15).all()
    # monotone: a larger |t| never gets a larger adjusted p-value
    order = np.argsort(-np.abs(cs["estimate"] / cs["std_error"]).to_numpy())
    assert np.all(np.diff(cs["p_romano_wolf"].to_numpy()[order]) >= 0)
    # less conservative than Holm is allowed, never below the unadjusted p-value
    assert adjusted.loc[adjusted["estimator"] != "cs", "p_romano_wolf"].isna().all()


def test_romano_wolf_controls_familywise_error_on_independent_nulls():
    """300 studies of 5 independent null outcomes on 150 municipalities: Romano-Wolf (multiplier
    bootstrap on the influence functions, as design_effect uses) rejects any true null in about
    5 % of studies; unadjusted tests reject in about 1 - 0.95^5 = 23 %."""
    rng = np.random.default_rng(11)
    studies, n, k = 300, 150, 5
    any_rw = any_naive = 0
    for s in range(studies):
        values = rng.normal(size=(n, k))
        estimate = values.mean(axis=0)
        influence = values - estimate                       # IF of a mean; var = sum(IF^2) / n^2
        std_error = np.sqrt((influence ** 2).sum(axis=0)) / n
        p = 2 * stats.norm.sf(np.abs(estimate / std_error))
        draws = multiplier_draws(influence, np.full(k, n), std_error, 199, seed=s)
        adjusted = romano_wolf(np.abs(estimate / std_error), draws, p)
        assert np.all(adjusted >= p)
        any_rw += bool((adjusted < 0.05).any())
        any_naive += bool((p < 0.05).any())
    fwer, naive = any_rw / studies, any_naive / studies
    bound = 0.05 + 3 * np.sqrt(0.05 * 0.95 / studies)
    assert fwer <= bound, f"Romano-Wolf FWER {fwer:.3f} above {bound:.3f}"
    assert naive > 0.15, f"unadjusted FWER {naive:.3f}: the simulation has no power to show a difference"


def test_multiplier_draws_reproduce_the_analytic_standard_error():
    rng = np.random.default_rng(5)
    influence = rng.normal(size=(300, 2)) * [1.0, 3.0]
    se = np.sqrt((influence ** 2).sum(axis=0)) / 300
    draws = multiplier_draws(influence, [300, 300], se, 4000, seed=1)
    np.testing.assert_allclose((draws ** 2).mean(axis=0), 1.0, atol=0.07)
    # alignment on the union of municipalities pads zeros and keeps each outcome's n
    a = pd.Series([1.0, -1.0], index=["GM1", "GM2"])
    b = pd.Series([2.0, 0.5, -2.5], index=["GM2", "GM3", "GM1"])
    matrix, counts = align_influence([a, b])
    np.testing.assert_array_equal(matrix, [[1.0, -2.5], [-1.0, 2.0], [0.0, 0.5]])
    np.testing.assert_array_equal(counts, [2, 3])


def test_resample_frame_keeps_duplicates_as_separate_units():
    frame = pd.DataFrame({"municipality": np.repeat(["A", "B", "C"], 2), "year": [1, 2] * 3,
                          "y": np.arange(6.0)})
    out = resample_frame(frame, np.array(["C", "A", "C", "Z"]))
    assert out["municipality"].tolist() == [0, 0, 1, 1, 2, 2]
    assert out["y"].tolist() == [4.0, 5.0, 0.0, 1.0, 4.0, 5.0]


def test_cluster_bootstrap_romano_wolf_is_seeded(demo):
    panel, _ = demo
    kwargs = dict(design=DESIGN, outcomes=["cost_6_2_per_inhabitant", "cost_6_3_per_inhabitant"],
                  estimator="twfe", multiplicity="romano_wolf", n_draws=29, seed=7)
    first = design_effect(panel, **kwargs).adjusted
    second = design_effect(panel, **kwargs).adjusted
    pd.testing.assert_frame_equal(first, second)
    rw = first.set_index("outcome")["p_romano_wolf"]
    assert rw["cost_6_2_per_inhabitant"] == pytest.approx(1 / 30)      # |t| ~ 50: never exceeded
    assert rw["cost_6_3_per_inhabitant"] >= first.set_index("outcome")["p_value"]["cost_6_3_per_inhabitant"]


# -- subgroups ----------------------------------------------------------------------------------
def test_equality_test_matches_textbook_formulas():
    b, v = np.array([1.0, 2.5]), np.array([0.25, 0.5])
    statistic, df, p = equality_test(b, v)
    assert df == 1 and statistic == pytest.approx((2.5 - 1.0) ** 2 / 0.75)
    b, v = np.array([1.0, 2.5, -0.3, 0.8]), np.array([0.2, 0.5, 0.3, 0.1])
    weights = 1 / v
    cochran_q = float(np.sum(weights * (b - np.sum(weights * b) / weights.sum()) ** 2))
    statistic, df, p = equality_test(b, v)
    assert df == 3 and statistic == pytest.approx(cochran_q) and p == pytest.approx(stats.chi2.sf(cochran_q, 3))


def test_subgroups_by_size_class(demo):
    panel, _ = demo
    study = design_effect(panel, design=DESIGN, outcomes=["cost_6_72_per_inhabitant"], estimator="cs",
                          by="size_class")
    estimates = study.subgroups["estimates"].set_index("value")
    assert estimates.index.tolist() == ["<10k", "10k-20k", "20k-50k", "50k-100k", "100k+"]
    # large municipalities all adopt: no never-treated comparison -> reported, not dropped
    for value in ("50k-100k", "100k+"):
        assert not estimates.loc[value, "estimable"]
        assert "no never-treated" in estimates.loc[value, "reason"]
    assert "wild cluster bootstrap" in estimates.loc["<10k", "reason"]
    # each subgroup estimate equals CS on that subgroup's municipalities only
    members = panel.data.loc[panel.data["year"] == panel.data["year"].min()].set_index("municipality")["size_class"]
    frame, _ = study.timing.absorbing(treated_at_start="exclude")
    data = panel.data.merge(frame, on=["municipality", "year"])
    part = data[data["municipality"].map(members) == "20k-50k"]
    reference = att_gt(part, outcome="cost_6_72_per_inhabitant", unit="municipality", time="year",
                       cohort="first_adoption_year").aggregate("simple")
    assert estimates.loc["20k-50k", "estimate"] == pytest.approx(reference.estimate, abs=1e-10)
    test = study.subgroups["tests"].iloc[0]
    usable = estimates[estimates["estimable"]]
    assert test["df"] == 2 and test["statistic"] == pytest.approx(
        equality_test(usable["estimate"], usable["std_error"] ** 2)[0])
    rows = study.tidy()
    assert (rows["aggregation"] == "subgroup").sum() == 5


def test_add_terciles(demo):
    panel, _ = demo
    out = add_terciles(panel, "deprivation_index")
    first = out.data[out.data["year"] == 2015].set_index("municipality")
    low, high = np.quantile(first["deprivation_index"], [1 / 3, 2 / 3])
    expected = np.where(first["deprivation_index"] <= low, "low",
                        np.where(first["deprivation_index"] <= high, "middle", "high"))
    np.testing.assert_array_equal(first["deprivation_index_tercile"].astype(str).to_numpy(), expected)
    # constant within municipality; the input panel is not modified
    assert out.data.groupby("municipality")["deprivation_index_tercile"].nunique().max() == 1
    assert "deprivation_index_tercile" not in panel.data.columns


# -- refusals -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message, error", [
    (dict(design="colour=blue"), "dimensions present: expertise", IdentificationError),
    (dict(design="role=hands_off"), "values observed: gives_help, triage_only", IdentificationError),
    (dict(design="role gives_help"), "dimension=value", OptionError),
    (dict(outcomes=["happiness"]), "allowed: population_total", OptionError),
    (dict(estimator="ols"), "use any of twfe, cs, sa, imputation, did2s, dcdh", OptionError),
    (dict(control="everyone"), "control='everyone'", OptionError),
    (dict(by="deprivation_index"), "add_terciles", OptionError),
    (dict(by="urbanity"), "by_year", OptionError),
    (dict(multiplicity="bonferroni"), "multiplicity", OptionError),
])
def test_refusals_name_the_allowed_values(demo, kwargs, message, error):
    """Bad options are OptionErrors (ValueErrors); a design the panel cannot identify is not."""
    panel, _ = demo
    arguments = dict(design=DESIGN, outcomes=["jeugdhulp_per_1000_youth"]) | kwargs
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        design_effect(panel, **arguments)


def test_refuses_control_never_without_never_treated(demo):
    import dataclasses

    panel, _ = demo
    timing_units = design_effect(panel, design=DESIGN, outcomes=["cost_6_2_per_inhabitant"],
                                 estimator="twfe").timing.units
    never = timing_units.loc[timing_units["first_adoption_year"] == 0, "municipality"]
    adopters_only = dataclasses.replace(panel, data=panel.data[~panel.data["municipality"].isin(never)],
                                        designs=panel.designs[~panel.designs["municipality"].isin(never)])
    with pytest.raises(IdentificationError, match="no never-treated comparison group.*control='notyet'"):
        design_effect(adopters_only, design=DESIGN, outcomes=["cost_6_2_per_inhabitant"])
    study = design_effect(adopters_only, design=DESIGN, outcomes=["cost_6_2_per_inhabitant"], control="notyet")
    assert np.isfinite(study.tidy()["estimate"].iloc[0])


def _pretrend_dynamic():
    """A staggered panel (300 units, 8 periods) and its CS dynamic aggregation."""
    from effectmeting.sources.simulate import simulate_staggered_panel

    frame, _ = simulate_staggered_panel(300, 8, [4, 5, 6], seed=3)
    frame = frame.sort_values(["unit", "time"], ignore_index=True)
    return frame, att_gt(frame, outcome="y", unit="unit", time="time", cohort="cohort").aggregate("dynamic")


def _pre_period_covariance(dynamic):
    """Pre-period rows of the dynamic aggregation and their covariance from the influence functions."""
    table = dynamic.tidy()
    pre = (table["event_time"] < 0).to_numpy()
    influence = dynamic.key_influence[:, pre]
    return table, pre, influence.T @ influence / influence.shape[0] ** 2


def test_cs_pretrend_wald_uses_the_event_time_aggregates():
    """The CS pre-trend Wald test uses the dynamic aggregation's pre-period event times with the
    covariance from their influence functions (checked against a brute-force bootstrap in the slow
    test below).  With one pre-period event time the statistic is the squared t-statistic (1e-10)."""
    from effectmeting.study.diagnostics import cs_pretrend_wald

    frame, dynamic = _pretrend_dynamic()
    table, pre, analytic = _pre_period_covariance(dynamic)
    found = cs_pretrend_wald(dynamic)
    b = table["estimate"].to_numpy()[pre]
    assert found["df"] == int(pre.sum())
    np.testing.assert_allclose(found["statistic"], b @ np.linalg.solve(analytic, b), rtol=1e-8)

    single = att_gt(frame, outcome="y", unit="unit", time="time", cohort="cohort").aggregate("dynamic", min_e=-1)
    row = single.tidy().query("event_time == -1").iloc[0]
    found = cs_pretrend_wald(single)
    assert found["df"] == 1
    np.testing.assert_allclose(found["statistic"], (row["estimate"] / row["std_error"]) ** 2, rtol=1e-10)


@pytest.mark.slow
def test_cs_pretrend_covariance_matches_a_brute_force_bootstrap():
    """Reference for the pre-trend test's covariance (the off-diagonal terms are what the test adds
    to the validated standard errors): a bootstrap that resamples units and re-runs att_gt, 300
    fits; correlations within 0.15, variances within 20 % (Monte Carlo error of 300 draws: about
    8 % on a variance, 0.06 on a correlation).  Slow: 300 att_gt fits."""
    frame, dynamic = _pretrend_dynamic()
    table, pre, analytic = _pre_period_covariance(dynamic)
    n_units, n_periods = frame["unit"].nunique(), frame["time"].nunique()
    rng = np.random.default_rng(11)
    draws = []
    for _ in range(300):
        chosen = rng.integers(0, n_units, n_units)  # balanced panel: unit i holds rows i*T .. i*T+T-1
        rows = (chosen[:, None] * n_periods + np.arange(n_periods)).ravel()
        boot = frame.iloc[rows].assign(unit=np.repeat(np.arange(n_units), n_periods))
        again = att_gt(boot, outcome="y", unit="unit", time="time", cohort="cohort").aggregate("dynamic").tidy()
        draws.append(again.set_index("event_time").loc[table["event_time"][pre], "estimate"].to_numpy())
    brute = np.cov(np.array(draws), rowvar=False)
    np.testing.assert_allclose(np.diag(analytic), np.diag(brute), rtol=0.2)
    scale = np.sqrt(np.outer(np.diag(analytic), np.diag(analytic)))
    np.testing.assert_allclose(analytic / scale, brute / np.sqrt(np.outer(np.diag(brute), np.diag(brute))),
                               atol=0.15)


def test_study_reports_the_municipalities_the_merger_rule_affected(demo):
    """design_effect lists, in ``.merged`` and in a note, the study municipalities whose design
    history the herindelingen rule combined (the demo writes early years under the old codes, so
    e.g. Groningen GM0014 = GM0009 + GM0014 + GM0017 is one of them)."""
    from effectmeting.designs import merged_municipalities

    panel, _ = demo
    study = design_effect(panel, design=DESIGN, outcomes=["jeugdhulp_per_1000_youth"], estimator="cs")
    expected = merged_municipalities(panel)
    expected = expected[expected["municipality"].isin(study.timing.units["municipality"])]
    assert len(study.merged) == len(expected) > 10
    assert "GM0014" in set(study.merged["municipality"])
    note = next(n for n in study.notes if "herindelingen design rule" in n)
    assert f"{len(expected)} municipalities" in note and "GM0014" in note


def test_twfe_with_few_municipalities_uses_the_wild_cluster_bootstrap():
    """Below 50 municipalities the static TWFE p-value and interval are the WCR wild bootstrap's
    (equal to wild_cluster_bootstrap on the same fit, 1e-12), with a note and no warning."""
    import warnings

    from effectmeting.estimate.fixest.feols import feols
    from effectmeting.estimate.fixest.wild_bootstrap import wild_cluster_bootstrap
    from effectmeting.sources.simulate import simulate_staggered_panel
    from effectmeting.study.estimators import COHORT, TIME, UNIT, WILD_DRAWS, run_twfe

    panel, _ = simulate_staggered_panel(40, 8, [4, 6], seed=5)
    frame = panel.rename(columns={"unit": UNIT, "time": TIME, "cohort": COHORT, "y": "outcome"})
    frame["treated"] = ((frame[COHORT] > 0) & (frame[TIME] >= frame[COHORT])).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = run_twfe(frame, "outcome", control="never", covariates=[])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = feols("outcome ~ treated | municipality + year", frame, vcov={"cluster": UNIT})
    wild = wild_cluster_bootstrap(fit, "treated", n_draws=WILD_DRAWS, weight_type="webb", seed=0)
    overall = run.rows.query("aggregation == 'overall'").iloc[0]
    np.testing.assert_allclose([overall["p_value"], overall["conf_low"], overall["conf_high"]],
                               [max(wild["p_value"], 1 / wild["draws"]), wild["conf_low"], wild["conf_high"]],
                               rtol=1e-12)
    assert overall["conf_low"] != fit.tidy().set_index("term").loc["treated", "conf_low"]
    assert overall["conf_low"] < overall["estimate"] < overall["conf_high"]
    assert overall["p_value"] >= 1 / WILD_DRAWS
    assert any("wild cluster bootstrap" in note for note in run.notes)
    assert not any("G-1 df" in note for note in run.notes)
    # the study's seed reaches the bootstrap: another seed, another (Webb) draw set
    other = run_twfe(frame, "outcome", control="never", covariates=[], seed=7).rows.query("aggregation == 'overall'")
    assert other["conf_low"].iloc[0] != overall["conf_low"]


def test_did2s_in_the_study_is_the_estimator_and_coincides_with_imputation(demo):
    """design_effect(estimator="did2s") reports did2s's own static ATT and event study (computed here
    on the same frame), and the study names it as coinciding with the imputation overall ATT."""
    from effectmeting.estimate.staggered.did2s import did2s

    panel, _ = demo
    outcome = "jeugdhulp_per_1000_youth"
    study = design_effect(panel, design=DESIGN, outcomes=[outcome], estimator=["imputation", "did2s"])
    table = study.estimates()
    frame, _ = study.timing.absorbing(treated_at_start="exclude")
    data = panel.data.merge(frame, on=["municipality", "year"])
    gaps = data.loc[data[outcome].isna(), "municipality"]  # the study leaves out incomplete series
    data = data[~data["municipality"].isin(gaps)]
    reference = did2s(data, outcome=outcome, unit="municipality", time="year", cohort="first_adoption_year",
                      event_study=True)
    rows = table[table["estimator"] == "did2s"]
    overall = rows[rows["aggregation"] == "overall"].iloc[0]
    assert overall["estimate"] == pytest.approx(reference.estimate, abs=1e-10)
    assert overall["std_error"] == pytest.approx(reference.std_error, abs=1e-10)
    events = rows[rows["aggregation"] == "event_time"].set_index("key")
    expected = reference.tidy().set_index("event_time")
    np.testing.assert_allclose(events.loc[[str(e) for e in expected.index], "estimate"], expected["estimate"],
                               atol=1e-10)
    assert set(study.coinciding["estimator"]) == {"did2s"}
    assert set(study.coinciding["same_as"]) == {"imputation"}
