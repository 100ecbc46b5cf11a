"""Harmonisation: municipal codes, herindelingen crosswalk, prices, rates and audit log -> Panel.

Modules (import them directly; nothing is imported here so that each stays light):

* ``codes``       normalise_municipality_code
* ``transitions`` load_transitions and the composition of yearly herindelingen
* ``crosswalk``   to_reference_year (map a source table to one reference year's boundaries)
* ``combine``     sum / weighted_mean / design combination rules
* ``prices``      deflate, rebase
* ``rates``       ratio, per_inhabitant, per_1000_inhabitants, per_1000_youth, per_1000_adults
* ``audit``       AuditLog
* ``panel``       Panel, size_class
* ``pipeline``    harmonise (sources.toml -> Panel)

The register of municipalities lives in :mod:`effectmeting.reference.register`.

``effectmeting.harmonise`` is both this package and the public function
``effectmeting.harmonise(sources)``: once any submodule has been imported, Python binds the name
to the package, so the package itself is callable and forwards to
:func:`effectmeting.harmonise.pipeline.harmonise` (``em.harmonise(...)`` works either way).
"""
from __future__ import annotations

import sys
import types
from typing import Any


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from effectmeting.harmonise.pipeline import harmonise

        return harmonise(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
