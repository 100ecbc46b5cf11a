"""Design choices (inrichtingskeuzes): design histories -> treatment timing per dimension.

Modules:

* ``dimensions``  catalogue of design dimensions (Dimension, DIMENSIONS, describe_dimensions) and
  validate_designs (every unknown dimension or value reported at once)
* ``treatments``  derive_treatment (one dimension -> cohorts, switches, 0/1 path), compare_categories
* ``timing``      TreatmentTiming (absorbing(), switching(), cohort_sizes())
* ``mergers``     merged_municipalities (which designs the herindelingen design rule combined)
* ``co_adoption`` co_adoption (per pair of designs: adopted within +-k years of each other?)
"""
from __future__ import annotations

from effectmeting.designs.co_adoption import co_adoption
from effectmeting.designs.dimensions import (
    BASIC_FUNCTIONS, DIMENSIONS, DesignError, DesignValidationError, Dimension, catalogue, describe_dimensions,
    get_dimension, validate_designs,
)
from effectmeting.designs.mergers import merged_municipalities
from effectmeting.designs.timing import TreatmentTiming
from effectmeting.designs.treatments import GAP_POLICIES, compare_categories, derive_treatment

__all__ = [
    "BASIC_FUNCTIONS", "DIMENSIONS", "GAP_POLICIES", "DesignError", "DesignValidationError", "Dimension",
    "TreatmentTiming", "catalogue", "co_adoption", "compare_categories", "derive_treatment", "describe_dimensions",
    "get_dimension", "merged_municipalities", "validate_designs",
]
