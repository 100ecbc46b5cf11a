"""Tests of the staggered-adoption simulator and of the Monte Carlo script built on it.

References: the true effects are recomputed here from the data-generating formulas in the
simulator's docstring (cohort scale 1.5 .. 0.5, growth 50 % a period), independently of the
simulator's own code; noise-free panels must be recovered exactly by every robust estimator; a
very large panel must bring the CS estimate within a stated tolerance of the truth.
"""
from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from effectmeting.errors import InputError
from effectmeting.estimate.callaway_santanna.att_gt import att_gt
from effectmeting.estimate.staggered.imputation import imputation_did
from effectmeting.estimate.staggered.sun_abraham import sun_abraham
from effectmeting.sources.simulate import simulate_staggered_panel

KEYS = dict(outcome="y", unit="unit", time="time", cohort="cohort")
SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "monte_carlo_staggered.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("monte_carlo_staggered", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


def _hand_effect(cohort: np.ndarray, time: np.ndarray) -> np.ndarray:
    """tau for cohorts (4, 6, 8): c_g = 1.5, 1.0, 0.5 times (1 + 0.5 e), from the docstring."""
    scale = pd.Series({4: 1.5, 6: 1.0, 8: 0.5}).reindex(cohort).to_numpy()
    return scale * (1.0 + 0.5 * (time - cohort))


def test_same_seed_same_panel_other_seed_other_panel():
    first, truth_first = simulate_staggered_panel(60, 8, [3, 5], seed=11)
    again, truth_again = simulate_staggered_panel(60, 8, [3, 5], seed=11)
    other, _ = simulate_staggered_panel(60, 8, [3, 5], seed=12)
    digest = [hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest() for frame in (first, again, other)]
    assert digest[0] == digest[1] != digest[2]
    pd.testing.assert_frame_equal(truth_first["effects"], truth_again["effects"])
    assert list(first.columns) == ["unit", "time", "cohort", "y", "x"]
    assert len(first) == 60 * 8 and not first.duplicated(["unit", "time"]).any()
    # cohort and covariate are constant within unit
    assert (first.groupby("unit")[["cohort", "x"]].nunique() == 1).all().all()


def test_no_effect_gives_zero_truths_and_homogeneous_gives_effect_size():
    _, none = simulate_staggered_panel(200, 8, [3, 5, 7], effect="none", seed=1)
    assert none["att_overall"] == 0 and none["att_overall_population"] == 0
    assert (none["att_by_event_time"] == 0).all() and (none["att_by_event_time_population"] == 0).all()
    assert (none["effects"]["effect"] == 0).all() and len(none["effects"]) > 0
    _, flat = simulate_staggered_panel(200, 8, [3, 5, 7], effect="homogeneous", effect_size=0.7, seed=1)
    assert flat["att_overall"] == pytest.approx(0.7) and flat["att_overall_population"] == pytest.approx(0.7)
    assert np.allclose(flat["att_by_event_time"], 0.7)


def test_truths_match_hand_computation():
    data, truth = simulate_staggered_panel(500, 10, [4, 6, 8], seed=5)
    units = data.groupby("unit")["cohort"].first()
    counts = units.value_counts()
    # CS 'simple' weighting by hand: cells (g, t >= g) weighted by cohort size
    num = den = 0.0
    for g in (4, 6, 8):
        t = np.arange(g, 11)
        num += counts[g] * _hand_effect(np.full(t.size, g), t).sum()
        den += counts[g] * t.size
    assert truth["att_overall"] == pytest.approx(num / den, rel=1e-12)
    # event time 3: cohorts 4 and 6 only (cohort 8 is seen up to e = 2), size-weighted
    e3 = (counts[4] * 1.5 * 2.5 + counts[6] * 1.0 * 2.5) / (counts[4] + counts[6])
    assert truth["att_by_event_time"].loc[3] == pytest.approx(e3, rel=1e-12)
    # population: equal cohort shares 0.25
    e2_population = np.mean([1.5 * 2.0, 1.0 * 2.0, 0.5 * 2.0])
    assert truth["att_by_event_time_population"].loc[2] == pytest.approx(e2_population)
    effects = truth["effects"]
    assert np.allclose(effects["effect"], _hand_effect(effects["cohort"].to_numpy(), effects["time"].to_numpy()))
    assert truth["parallel_trends"] == "unconditional"
    assert truth["cohort_shares_population"] == pytest.approx({0: 0.25, 4: 0.25, 6: 0.25, 8: 0.25})


def test_selection_earlier_adopters_have_higher_levels():
    data, _ = simulate_staggered_panel(4000, 6, [3, 4, 5], seed=2)
    first = data[data["time"] == 1].groupby("cohort")["y"].mean()
    # selection on the unit effect: earliest cohort highest, never treated (0) lowest
    assert first.loc[3] > first.loc[4] > first.loc[5] > first.loc[0]
    shares = data.groupby("unit")["cohort"].first().value_counts(normalize=True)
    assert shares.loc[0] == pytest.approx(0.25, abs=0.03)


def test_noise_free_panel_is_recovered_exactly_by_robust_estimators():
    """Without noise every robust estimator's point estimate equals the sample truth."""
    data, truth = simulate_staggered_panel(120, 9, [3, 5, 7], seed=8, noise_sd=0.0)
    sample_e = truth["att_by_event_time"]
    attgt = att_gt(data, **KEYS, control="never")
    assert attgt.aggregate("simple").estimate == pytest.approx(truth["att_overall"], abs=1e-9)
    dynamic = attgt.aggregate("dynamic").tidy().set_index("event_time")["estimate"]
    assert np.allclose(dynamic.loc[sample_e.index], sample_e, atol=1e-9)
    sa = sun_abraham(data, **KEYS)
    assert sa.estimate == pytest.approx(truth["att_overall"], abs=1e-8)
    imputation = imputation_did(data, **KEYS)
    assert imputation.estimate == pytest.approx(truth["att_overall"], abs=1e-8)
    by_e = imputation.tidy().set_index("event_time")["estimate"]
    assert np.allclose(by_e.loc[sample_e.index], sample_e, atol=1e-8)


def test_large_panel_cs_estimate_close_to_truth():
    """20,000 units: CS SE ~0.017 for the overall ATT; tolerance 0.06 (about 3.5 SE)."""
    data, truth = simulate_staggered_panel(20_000, 10, [4, 6, 8], seed=3)
    result = att_gt(data, **KEYS, control="never")
    assert result.aggregate("simple").estimate == pytest.approx(truth["att_overall_population"], abs=0.06)
    dynamic = result.aggregate("dynamic").tidy().set_index("event_time")["estimate"]
    for e in range(4):
        assert dynamic.loc[e] == pytest.approx(truth["att_by_event_time_population"].loc[e], abs=0.06)
    # with many units the sample truth converges to the population truth
    assert truth["att_overall"] == pytest.approx(truth["att_overall_population"], abs=0.02)


def test_conditional_parallel_trends_need_the_covariate():
    data, truth = simulate_staggered_panel(20_000, 10, [4, 6, 8], seed=3, covariate_trend=0.3)
    assert truth["parallel_trends"] == "conditional on x"
    plain = att_gt(data, **KEYS, control="never").aggregate("simple").estimate
    adjusted = att_gt(data, **KEYS, control="never", covariates=["x"]).aggregate("simple").estimate
    assert abs(plain - truth["att_overall_population"]) > 0.3  # ~0.6 bias without x
    assert adjusted == pytest.approx(truth["att_overall_population"], abs=0.06)


@pytest.mark.parametrize("kwargs, message", [
    (dict(cohorts=[1, 5]), "first period"),
    (dict(cohorts=[5, 12]), "must lie in"),
    (dict(effect="linear"), "effect="),
    (dict(cohort_shares=[0.5, 0.5]), "summing"),
    (dict(never_treated_share=0.0), "never_treated_share"),
])
def test_bad_arguments_are_refused(kwargs, message):
    arguments = dict(n_units=50, n_periods=10, cohorts=[3, 5], seed=1) | kwargs
    with pytest.raises(InputError, match=message):
        simulate_staggered_panel(arguments.pop("n_units"), arguments.pop("n_periods"), arguments.pop("cohorts"),
                                 **arguments)


def test_monte_carlo_script_is_deterministic(tmp_path, capsys):
    script = _load_script()
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    arguments = ["--reps", "3", "--seed", "4", "--n-units", "120"]
    table = script.main(arguments + ["--out", str(first)])
    script.main(arguments + ["--out", str(second)])
    assert first.read_bytes() == second.read_bytes()
    assert list(table.columns) == script.SUMMARY_COLUMNS
    assert len(table) == len(script.ESTIMATORS) * len(script.TARGETS)
    assert (table["n_failed"] == 0).all() and (table["n_reps"] == 3).all()


@pytest.mark.slow
def test_monte_carlo_coverage_of_robust_estimators():
    """200 panels: 95 % intervals of CS, SA and imputation cover their own estimand.

    The overall ATT must be covered in 92.5-97.5 % of panels (MC SE of coverage ~1.5 pp); the
    dynamic effects e = 0..3 are pooled (800 intervals per estimator) for the same band, and TWFE
    must be clearly biased (more than 30 % of the overall truth).
    """
    script = _load_script()
    records = script.run_replications(200, seed=2024)
    table = script.summarise(records).set_index(["estimator", "target"])
    for estimator in ("cs", "sa", "imputation"):
        assert 0.925 <= table.loc[(estimator, "overall"), "coverage"] <= 0.975, estimator
        dynamic = table.loc[[(estimator, f"e{e}") for e in range(4)], "coverage"].mean()
        assert 0.925 <= dynamic <= 0.975, estimator
        assert abs(table.loc[(estimator, "overall"), "bias"]) < 0.05
    twfe = table.loc[("twfe", "overall")]
    assert abs(twfe["bias"]) > 0.3 * twfe["true_value"]
