"""The one design-spec parser (designs/spec.py), used by the study and the cost stages alike."""
from __future__ import annotations

import pytest

from effectmeting.designs.spec import DesignSpec, parse_design
from effectmeting.errors import IdentificationError, OptionError


@pytest.mark.parametrize("text, dimension, value, threshold", [
    ("role=gives_help", "role", "gives_help", None),  # the form both former parsers accepted
    (" role = gives_help ", "role", "gives_help", None),
    ("maturity>=3", "maturity", None, 3.0),  # the score form the cost stage's parser refused
    ("maturity >= 2.5", "maturity", None, 2.5),
])
def test_both_forms_are_parsed(text, dimension, value, threshold):
    spec = parse_design(text)
    assert (spec.dimension, spec.treated_value, spec.threshold) == (dimension, value, threshold)
    assert spec.text == text.strip()
    assert parse_design(spec) is spec  # a parsed spec passes through
    assert spec.treatment_arguments() == {"dimension": dimension, "treated_value": value, "threshold": threshold}


@pytest.mark.parametrize("text", ["role", "role gives_help", "=x", "maturity>=high", "", None, 3])
def test_bad_designs_are_option_errors(text):
    with pytest.raises(OptionError) as caught:
        parse_design(text)
    assert caught.value.reason == "design_syntax"
    assert not isinstance(caught.value, IdentificationError)


def test_study_and_costs_share_the_parser():
    from effectmeting.costs import treatment
    from effectmeting.study import spec

    assert spec.parse_design is parse_design and treatment.parse_design is parse_design
    assert spec.DesignSpec is DesignSpec


def test_cost_estimation_frame_takes_a_score_design(demo_panel):
    """``cost_effect`` could not study ``maturity>=3`` before: its parser took '=' only."""
    from effectmeting.costs.treatment import COHORT, estimation_frame

    frame = estimation_frame(demo_panel, "maturity>=3", ["population_total"])
    cohorts = frame.data.groupby("municipality")[COHORT].first()
    assert len(frame.data) and (cohorts > 0).any() and (cohorts == 0).any()


def test_one_estimator_registry_feeds_every_stage():
    from effectmeting.analysis import config
    from effectmeting.costs import line_fits
    from effectmeting.estimate import registry
    from effectmeting.report import labels, summary
    from effectmeting.study import estimators, spec

    assert spec.ESTIMATORS == config.ESTIMATORS == registry.STUDY_ESTIMATORS == ("twfe", "cs", "sa", "imputation",
                                                                                 "did2s", "dcdh")
    assert spec.ABSORBING == ("twfe", "cs", "sa", "imputation", "did2s")
    assert set(estimators.RUNNERS) | {"dcdh"} == set(registry.ESTIMATORS)
    assert tuple(line_fits.ESTIMATORS) == config.COST_ESTIMATORS == registry.COST_ESTIMATORS
    assert all(line_fits.ESTIMATORS[n] for n in registry.COST_ESTIMATORS)
    assert labels.estimator_label("imputation", "nl") == "Imputatie (Borusyak e.a.)"
    assert summary.ROBUST == ("cs", "sa", "imputation", "did2s", "dcdh")
    assert labels.estimator_label("did2s", "nl") == "Tweetraps-DiD (Gardner)"
    with pytest.raises(OptionError) as caught:
        registry.estimator_info("ols")
    assert caught.value.reason == "unknown_estimator"


def test_one_default_seed():
    import importlib

    import effectmeting
    from effectmeting import defaults

    assert effectmeting.DEFAULT_SEED == defaults.DEFAULT_SEED == 20240101
    for module in ("effectmeting.sources.demo", "effectmeting.analysis.config", "effectmeting.estimate.core.arguments"):
        assert importlib.import_module(module).DEFAULT_SEED is defaults.DEFAULT_SEED
