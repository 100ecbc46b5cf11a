"""effectmeting: effect research on Dutch municipalities' local social teams.

Data flow (one way): sources -> harmonise -> Panel -> designs / estimate / costs -> report.
Public names are imported lazily so that ``import effectmeting`` stays fast and a stage
never pulls in a later one.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "DEFAULT_SEED": "effectmeting.defaults",
    "EffectmetingError": "effectmeting.errors",
    "InputError": "effectmeting.errors",
    "SchemaValidationError": "effectmeting.errors",
    "HarmonisationError": "effectmeting.errors",
    "IdentificationError": "effectmeting.errors",
    "OptionError": "effectmeting.errors",
    "FormulaError": "effectmeting.errors",
    "AnalysisConfigError": "effectmeting.errors",
    "DesignError": "effectmeting.errors",
    "DesignValidationError": "effectmeting.errors",
    "EffectmetingWarning": "effectmeting.errors",
    "FewClustersWarning": "effectmeting.errors",
    "ImplausibleValueWarning": "effectmeting.errors",
    "DroppedCohortWarning": "effectmeting.errors",
    "UnidentifiedCellWarning": "effectmeting.errors",
    "CollinearityWarning": "effectmeting.errors",
    "SeparationWarning": "effectmeting.errors",
    "ConvergenceWarning": "effectmeting.errors",
    "RenamedArgumentWarning": "effectmeting.errors",
    "feols": "effectmeting.estimate.fixest.feols",
    "fepois": "effectmeting.estimate.fixest.fepois",
    "panel_model": "effectmeting.estimate.panel_models.panel_model",
    "synthetic_control": "effectmeting.estimate.synthetic.synthetic_control",
    "synthetic_did": "effectmeting.estimate.synthetic.synthetic_did",
    "SyntheticResults": "effectmeting.estimate.synthetic.results",
    "etable": "effectmeting.estimate.fixest.etable",
    "att_gt": "effectmeting.estimate.callaway_santanna.att_gt",
    "aggregate": "effectmeting.estimate.callaway_santanna.aggregate",
    "load_schema": "effectmeting.schema.loader",
    "field_properties": "effectmeting.schema.loader",
    "fetch_statline": "effectmeting.sources.cbs",
    "write_manifest": "effectmeting.manifest",
    "read_sources_manifest": "effectmeting.sources.sources_toml",
    "dcdh": "effectmeting.estimate.dcdh.estimator",
    "DcdhResults": "effectmeting.estimate.dcdh.estimator",
    "derive_treatment": "effectmeting.designs.treatments",
    "compare_categories": "effectmeting.designs.treatments",
    "TreatmentTiming": "effectmeting.designs.timing",
    "merged_municipalities": "effectmeting.designs.mergers",
    "co_adoption": "effectmeting.designs.co_adoption",
    "validate_designs": "effectmeting.designs.dimensions",
    "describe_dimensions": "effectmeting.designs.dimensions",
    "Dimension": "effectmeting.designs.dimensions",
    "simulate_staggered_panel": "effectmeting.sources.simulate",
    "cost_lines": "effectmeting.costs.lines",
    "add_cost_line": "effectmeting.costs.lines",
    "cost_effect": "effectmeting.costs.effects",
    "CostEffectResults": "effectmeting.costs.effects",
    "cost_per_outcome": "effectmeting.costs.per_outcome",
    "CostPerOutcomeResults": "effectmeting.costs.per_outcome",
    "minimum_detectable_effect": "effectmeting.planning.power",
    "PowerResults": "effectmeting.planning.power",
    "design_effect": "effectmeting.study.design_effect",
    "DesignEffectStudy": "effectmeting.study.results",
    "add_terciles": "effectmeting.study.spec",
    "run_analysis": "effectmeting.analysis.run",
    "load_analysis": "effectmeting.analysis.config",
    "generate_demo": "effectmeting.sources.demo",
    "read_table": "effectmeting.sources.readers",
    "validate": "effectmeting.schema.validate",
    "normalise_municipality_code": "effectmeting.harmonise.codes",
    "Panel": "effectmeting.harmonise.panel",
    "harmonise": "effectmeting.harmonise.pipeline",
    "AuditLog": "effectmeting.harmonise.audit",
    "to_reference_year": "effectmeting.harmonise.crosswalk",
    "deflate": "effectmeting.harmonise.prices",
    "wild_cluster_bootstrap": "effectmeting.estimate.fixest.wild_bootstrap",
    "randomization_inference": "effectmeting.estimate.fixest.randomization",
    "parse_formula": "effectmeting.estimate.fixest.formula",
    "FeolsResults": "effectmeting.estimate.fixest.feols_results",
    "FepoisResults": "effectmeting.estimate.fixest.fepois_results",
    "PanelModelResults": "effectmeting.estimate.panel_models.results",
    "etable_to_markdown": "effectmeting.estimate.fixest.etable",
    "imputation_did": "effectmeting.estimate.staggered.imputation",
    "did2s": "effectmeting.estimate.staggered.did2s",
    "Did2sResults": "effectmeting.estimate.staggered.did2s",
    "sun_abraham": "effectmeting.estimate.staggered.sun_abraham",
    "event_study_twfe": "effectmeting.estimate.staggered.event_study",
    "bacon_decomposition": "effectmeting.estimate.staggered.bacon",
    "pretrend_test": "effectmeting.estimate.sensitivity.pretrends",
    "honest_did": "effectmeting.estimate.sensitivity.pretrends",
    "honest_did_sensitivity": "effectmeting.estimate.sensitivity.pretrends",
    "aggregate_persons": "effectmeting.scale.aggregate",
    "suppress_small_cells": "effectmeting.scale.disclosure",
    "movers": "effectmeting.scale.movers",
    # readable nl/en names from the report's label registry (for notebooks and own figures)
    "outcome_label": "effectmeting.report.labels",
    "design_label": "effectmeting.report.labels",
    "estimator_label": "effectmeting.report.labels",
    "cost_line_label": "effectmeting.report.labels",
    "unit_label": "effectmeting.report.labels",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'effectmeting' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = sorted(_EXPORTS)
