"""Design-effect studies: one design choice, several outcomes, several estimators, in one call.

The stage between designs/estimate and report.  Modules:

* ``design_effect`` :func:`design_effect` (the orchestration)
* ``spec``          the request checked at the door, per-outcome estimation frames, :func:`add_terciles`
* ``estimators``    one estimator on one outcome -> rows in the study's tidy shape
* ``subgroups``     effects by a ``by`` column and the chi-square test that they are equal
* ``multiplicity``  Holm and Romano-Wolf adjusted p-values across outcomes
* ``diagnostics``   pre-trend tests and the Bacon decomposition
* ``sensitivity``   Rambachan-Roth bounds of the event studies (the report renders them, never computes)
* ``results``       :class:`DesignEffectStudy`
"""
from __future__ import annotations

from effectmeting.defaults import DEFAULT_SEED
from effectmeting.study.design_effect import design_effect
from effectmeting.study.multiplicity import holm, romano_wolf
from effectmeting.study.results import TIDY_COLUMNS, DesignEffectStudy
from effectmeting.study.sensitivity import SensitivityBounds, sensitivity_bounds
from effectmeting.study.spec import add_terciles, parse_design

__all__ = ["DEFAULT_SEED", "DesignEffectStudy", "SensitivityBounds", "TIDY_COLUMNS", "add_terciles", "design_effect",
           "holm", "parse_design", "romano_wolf", "sensitivity_bounds"]
