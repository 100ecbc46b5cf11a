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
    "EffectmetingError": "effectmeting.errors",
    "feols": "effectmeting.estimate.feols",
    "etable": "effectmeting.estimate.etable",
    "att_gt": "effectmeting.estimate.callaway_santanna",
    "generate_demo": "effectmeting.sources.demo",
    "read_table": "effectmeting.sources.readers",
    "validate": "effectmeting.schema.validate",
    "normalise_municipality_code": "effectmeting.harmonise.codes",
    "Panel": "effectmeting.harmonise.panel",
    "harmonise": "effectmeting.harmonise.pipeline",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'effectmeting' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = sorted(_EXPORTS)
