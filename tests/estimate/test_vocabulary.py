"""One vocabulary of argument names across the public API (issue 11, item 6; docs/api_vocabulary.md).

Every public function that resamples takes ``n_draws`` and ``seed`` (``None`` = DEFAULT_SEED, so a
default call is reproducible); the old names still work with a DeprecationWarning and give the same
numbers; every function that produces an interval takes ``level``.
"""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest

import effectmeting as em
from effectmeting.defaults import DEFAULT_SEED
from effectmeting.errors import OptionError

STAGGERED = {"outcome": "y", "unit": "unit", "time": "time", "cohort": "cohort"}
#: public function -> its deprecated argument names (old -> new)
RESAMPLING = {
    "att_gt": {"bootstrap": "n_draws"},
    "wild_cluster_bootstrap": {"B": "n_draws", "weights": "weight_type"},
    "randomization_inference": {"permutations": "n_draws"},
    "honest_did": {"lf_simulations": "n_draws"},
    "honest_did_sensitivity": {"lf_simulations": "n_draws"},
    "minimum_detectable_effect": {"reps": "n_draws"},
    "cost_per_outcome": {"bootstrap": "n_draws"},
    "design_effect": {"bootstrap": "n_draws"},
}
#: public functions whose result carries confidence intervals
WITH_INTERVALS = ["feols", "panel_model", "att_gt", "aggregate", "sun_abraham", "imputation_did", "did2s",
                  "event_study_twfe", "dcdh",
                  "honest_did", "honest_did_sensitivity", "wild_cluster_bootstrap", "cost_effect",
                  "cost_per_outcome"]
OLD_NAMES = {"bootstrap", "B", "permutations", "reps", "lf_simulations", "iterations", "draws"}


def _public_functions():
    for name in sorted(em._EXPORTS):
        value = getattr(em, name)
        if inspect.isfunction(value):
            yield name, value


def test_no_public_function_uses_an_old_name_for_a_count():
    for name, function in _public_functions():
        assert not OLD_NAMES & set(inspect.signature(function).parameters), name


@pytest.mark.parametrize("name", sorted(RESAMPLING))
def test_resampling_functions_take_n_draws_and_seed_none(name):
    function = getattr(em, name)
    parameters = inspect.signature(function).parameters
    if name != "honest_did_sensitivity":  # passes n_draws and seed on to honest_did
        assert "n_draws" in parameters and parameters["seed"].default is None
    assert function.__renamed_arguments__ == RESAMPLING[name]


def test_every_seed_default_is_reproducible():
    """``seed`` defaults to None (= DEFAULT_SEED); the demo generator's default is DEFAULT_SEED itself
    and the simulator asks for a seed; the manifest only records one."""
    for name, function in _public_functions():
        seed = inspect.signature(function).parameters.get("seed")
        if seed is None or name == "write_manifest":
            continue
        assert seed.default in (None, DEFAULT_SEED, inspect.Parameter.empty), name


@pytest.mark.parametrize("name", WITH_INTERVALS)
def test_functions_with_intervals_take_level(name):
    level = inspect.signature(getattr(em, name)).parameters["level"]
    assert level.default in (0.95, None)  # aggregate: None = the att_gt result's level


# -- behaviour on a small simulated panel -------------------------------------------------------

@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    data, _ = em.simulate_staggered_panel(40, 8, [2013, 2015], seed=3, first_period=2010)
    ever = data["cohort"] > 0
    return data.assign(treated=(ever & (data["time"] >= data["cohort"])).astype(float), ever=ever.astype(float),
                       region=data["unit"] % 10)


@pytest.fixture(scope="module")
def calls(panel):
    """name -> (function, fixed keyword arguments, small n_draws)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = em.feols("y ~ treated | unit + time", panel, vcov={"cluster": "region"})
        event_study = em.sun_abraham(panel, **STAGGERED)
    return {
        "att_gt": (lambda **k: em.att_gt(panel, **STAGGERED, **k), 49),
        "wild_cluster_bootstrap": (lambda **k: em.wild_cluster_bootstrap(fit, "treated", **k), 99),
        "randomization_inference": (lambda **k: em.randomization_inference(
            "y ~ ever", panel, term="ever", treatment="ever", cluster="unit", **k), 19),
        "honest_did": (lambda **k: em.honest_did(event_study, mbar=0.5, grid_points=40, **k), 300),
    }


def _numbers(result) -> pd.DataFrame:
    return result.tidy().select_dtypes("number")


@pytest.mark.parametrize("name", ["att_gt", "wild_cluster_bootstrap", "randomization_inference", "honest_did"])
def test_seed_none_is_the_default_seed_and_old_names_warn(calls, name):
    call, n_draws = calls[name]
    old = next(iter(RESAMPLING[name]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.EffectmetingWarning)
        warnings.simplefilter("error", DeprecationWarning)
        default = _numbers(call(n_draws=n_draws))
        pd.testing.assert_frame_equal(default, _numbers(call(n_draws=n_draws)))
        pd.testing.assert_frame_equal(default, _numbers(call(n_draws=n_draws, seed=None)))
        pd.testing.assert_frame_equal(default, _numbers(call(n_draws=n_draws, seed=DEFAULT_SEED)))
    with pytest.warns(DeprecationWarning, match=f"{old}= is deprecated.*use n_draws="):
        renamed = _numbers(call(**{old: n_draws}))
    pd.testing.assert_frame_equal(default, renamed)
    with pytest.raises(OptionError, match=f"give n_draws= only; {old}="):
        call(n_draws=n_draws, **{old: n_draws})


def test_att_gt_n_draws_none_keeps_meaning_analytic_standard_errors(panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analytic = em.att_gt(panel, **STAGGERED)
        assert analytic.n_draws is None and analytic.glance().iloc[0]["n_draws"] is None
        with pytest.warns(DeprecationWarning):
            renamed = em.att_gt(panel, **STAGGERED, bootstrap=None)
    np.testing.assert_array_equal(analytic.std_error, renamed.std_error)


def test_wild_weights_is_weight_type(calls):
    call, n_draws = calls["wild_cluster_bootstrap"]
    new = call(n_draws=n_draws, weight_type="webb", seed=4)
    with pytest.warns(DeprecationWarning, match="weights= is deprecated.*weight_type="):
        old = call(n_draws=n_draws, weights="webb", seed=4)
    assert new.equals(old)


@pytest.mark.parametrize("name", ["feols", "sun_abraham", "imputation_did", "event_study_twfe", "att_gt"])
def test_level_sets_the_intervals_of_tidy(panel, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "feols":
            def fit(**k):
                return em.feols("y ~ treated | unit + time", panel, vcov={"cluster": "unit"}, **k)
        else:
            def fit(**k):
                return getattr(em, name)(panel, **STAGGERED, **k)
        at_90, default = fit(level=0.9), fit()
    assert at_90.level == 0.9 and default.level == 0.95
    pd.testing.assert_frame_equal(at_90.tidy(), default.tidy(level=0.9))
    with pytest.raises(OptionError, match="level=95"):
        fit(level=95)


# -- the functions on the demo panel (harmonised once per session) -------------------------------

DESIGN = "role=gives_help"
OUTCOME = "jeugdhulp_per_1000_youth"


def test_demo_panel_functions_take_n_draws_seed_none_and_old_names(demo_panel):
    checks = {
        "cost_per_outcome": (lambda **k: em.cost_per_outcome(demo_panel, design=DESIGN, cost_line="youth",
                                                             outcome=OUTCOME, **k).tidy(), 99),
        "minimum_detectable_effect": (lambda **k: em.minimum_detectable_effect(
            demo_panel, outcome=OUTCOME, n_adopters=30, estimator="twfe", first_year=2018, last_year=2022,
            **k).tidy(), 10),
        "design_effect": (lambda **k: em.design_effect(
            demo_panel, design=DESIGN, outcomes=["cost_6_2_per_inhabitant", "cost_6_3_per_inhabitant"],
            estimator="twfe", multiplicity="romano_wolf", **k).adjusted, 19),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.EffectmetingWarning)
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        for name, (call, n_draws) in checks.items():
            old = next(iter(RESAMPLING[name]))
            default = call(n_draws=n_draws)
            pd.testing.assert_frame_equal(default, call(n_draws=n_draws, seed=DEFAULT_SEED), obj=name)
            with pytest.warns(DeprecationWarning, match=f"{old}= is deprecated"):
                pd.testing.assert_frame_equal(default, call(**{old: n_draws}), obj=name)
