"""Package-wide defaults, defined once (bottom layer: imports nothing of the package).

``DEFAULT_SEED`` seeds the demo data and every bootstrap of a study when the caller passes
``seed=None``: results are reproducible by default, and one number changes them all.
"""
from __future__ import annotations

#: seed of the demo data and of every resampling when ``seed=None``
DEFAULT_SEED = 20240101
