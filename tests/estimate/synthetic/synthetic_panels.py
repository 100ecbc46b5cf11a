"""Panels of the synthetic-estimator tests: California Proposition 99 (the fixture) and small simulated
block-adoption panels."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "california_prop99.csv"
PROP99 = {"outcome": "PacksPerCapita", "unit": "State", "time": "Year", "treatment": "treated"}


def prop99() -> pd.DataFrame:
    """Packs per capita, 39 states x 1970-2000; California treated from 1989 (source and licence in the file)."""
    return pd.read_csv(FIXTURE, sep=";", comment="#")


def block_panel(n_units: int = 18, n_treated: int = 3, first: int = 2010, last: int = 2021, adoption: int = 2017,
                effect: float = 1.5, seed: int = 5) -> pd.DataFrame:
    """Units with their own level and trend plus noise; the last ``n_treated`` gain ``effect`` from ``adoption``.
    A covariate ``x`` (a unit-level size with noise) rides along for synthetic control's predictors."""
    rng = np.random.default_rng(seed)
    level, trend, size = rng.normal(0, 2, n_units), rng.normal(0, 0.3, n_units), rng.normal(5, 1, n_units)
    rows = []
    for i in range(n_units):
        for year in range(first, last + 1):
            treated = i >= n_units - n_treated and year >= adoption
            y = (10 + level[i] + trend[i] * (year - first) + 0.5 * np.sin(year + i) + rng.normal(0, 0.5)
                 + (effect if treated else 0.0))
            rows.append((f"u{i:02d}", year, y, int(treated), int(i >= n_units - n_treated),
                         size[i] + rng.normal(0, 0.1)))
    return pd.DataFrame(rows, columns=["unit", "year", "y", "d", "ever", "x"])
