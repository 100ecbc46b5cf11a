"""Panels on which the dCDH estimator is compared with its references.

Shared by ``test_dcdh.py`` and ``tests/fixtures/make_moderndid_dcdh.py`` (which stores
moderndid 0.2's outputs on these panels), so both see the same data.  Every panel is
deterministic: seeded numpy generators, or the Favara & Imbs (2015) data as shipped by the
PyPI package ``moderndid`` (``load_favara_imbs``).
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd


def simulate(seed: int, *, n_units: int = 160, n_periods: int = 8, baselines=(0,), first_min: int = 2,
             absorbing: bool = False) -> pd.DataFrame:
    """A switching panel: a third never switch, the others switch at ``first_min..T-1``
    (0-based) and, unless ``absorbing``, half of those switch back 1-3 periods later."""
    rng = np.random.default_rng(seed)
    baseline = np.asarray(baselines)[np.arange(n_units) % len(baselines)]
    kind = rng.integers(0, 3, n_units)
    first = np.where(kind > 0, rng.integers(first_min, n_periods, n_units), n_periods + 5)
    back = np.where((kind == 2) & ~absorbing, first + rng.integers(1, 4, n_units), n_periods + 5)
    period = np.arange(n_periods)
    switched = (period[None, :] >= first[:, None]) & (period[None, :] < back[:, None])
    d = np.where(switched, 1 - baseline[:, None], baseline[:, None])
    exposure = np.cumsum(d, axis=1)  # dynamic effects: the effect grows with exposure
    y = (rng.normal(size=(n_units, 1)) + 0.3 * period[None, :] + 1.5 * d + 0.2 * exposure
         + rng.normal(size=(n_units, n_periods)))
    return pd.DataFrame({
        "unit": np.repeat(np.arange(n_units), n_periods), "year": np.tile(2015 + period, n_units),
        "d": d.ravel(), "y": y.ravel(), "region": np.repeat(np.arange(n_units) % 12, n_periods),
        "w": rng.uniform(0.5, 2.0, n_units * n_periods),
    })


def with_covariate(seed: int, **options) -> pd.DataFrame:
    """``simulate`` plus a trending covariate ``x`` that moves the outcome (coefficient 0.7)."""
    data = simulate(seed, **options)
    rng = np.random.default_rng(seed + 100)
    data["x"] = rng.normal(size=len(data)) + 0.1 * (data["year"] - 2015) + 0.3 * data["d"]
    data["y"] = data["y"] + 0.7 * data["x"]
    return data


def simulate_levels(seed: int, *, n_units: int = 180, n_periods: int = 8, baselines=(0, 1),
                    steps=(1, 2)) -> pd.DataFrame:
    """A treatment with levels 0, 1, 2: a third never switch, the others move from their
    baseline by a step drawn from ``steps`` (clipped to 0..2) and half of them return to it
    1-3 periods later; the effect is 1 per level plus 0.2 per level-period of exposure."""
    rng = np.random.default_rng(seed)
    baseline = rng.choice(np.asarray(baselines), n_units)
    kind = rng.integers(0, 3, n_units)
    first = np.where(kind > 0, rng.integers(2, n_periods, n_units), n_periods + 5)
    new = np.clip(baseline + rng.choice(np.asarray(steps), n_units), 0, 2)
    back = np.where(kind == 2, first + rng.integers(1, 4, n_units), n_periods + 5)
    period = np.arange(n_periods)
    on = (period[None, :] >= first[:, None]) & (period[None, :] < back[:, None])
    d = np.where(on, new[:, None], baseline[:, None]).astype(float)
    exposure = np.cumsum(np.abs(d - baseline[:, None]), axis=1)
    y = (rng.normal(size=(n_units, 1)) + (0.3 + 0.2 * baseline[:, None]) * period[None, :] + d + 0.2 * exposure
         + rng.normal(size=(n_units, n_periods)))
    return pd.DataFrame({
        "unit": np.repeat(np.arange(n_units), n_periods), "year": np.tile(2015 + period, n_units),
        "d": d.ravel(), "y": y.ravel(), "w": rng.uniform(0.5, 2.0, n_units * n_periods),
    })


def favara_imbs(complete_columns: list[str]) -> pd.DataFrame:
    """moderndid's Favara-Imbs county panel (1994-2005) restricted to counties observed in all
    12 years with no missing value in ``complete_columns``; ``branching`` is ``inter_bra > 0``."""
    import moderndid

    frame = moderndid.load_favara_imbs()
    frame = frame.to_pandas() if hasattr(frame, "to_pandas") else frame
    complete = frame.groupby("county")[complete_columns].transform(lambda s: s.notna().all() and len(s) == 12)
    frame = frame[complete.all(axis=1)].reset_index(drop=True)
    return frame.assign(branching=(frame["inter_bra"] > 0).astype(int))


def fingerprint(data: pd.DataFrame, columns: list[str]) -> str:
    """SHA-256 of ``columns`` (sorted rows, 12 significant digits): the fixture records it so a
    test notices when its panel is no longer the one the reference was computed on."""
    frame = data[columns].sort_values(columns[:2]).reset_index(drop=True)
    text = frame.to_csv(index=False, float_format="%.12g", lineterminator="\n")
    return hashlib.sha256(text.encode()).hexdigest()


def panel(name: str) -> tuple[pd.DataFrame, dict]:
    """The panel ``name`` and its column roles (outcome, unit, time, treatment): the one
    registry the tests and the fixture script both read."""
    simulated = {"outcome": "y", "unit": "unit", "time": "year", "treatment": "d"}
    favara = {"outcome": "Dl_vloans_b", "unit": "county", "time": "year"}
    builders = {
        "switching_in": lambda: simulate(11, baselines=(0, 1)).query("unit % 2 == 0"),
        "switching_out": lambda: simulate(11, baselines=(0, 1)).query("unit % 2 == 1"),
        "cluster_region": lambda: simulate(5, baselines=(0,), first_min=3),
        "absorbing": lambda: simulate(7, baselines=(0,), absorbing=True),
        "controls_weighted": lambda: with_covariate(11, baselines=(0, 1)).query("unit % 2 == 0"),
        "levels_into": lambda: simulate_levels(4, baselines=(0, 1), steps=(1, 2)),
        "levels_out": lambda: simulate_levels(5, baselines=(1, 2), steps=(-1, -2)),
        "levels_weighted": lambda: simulate_levels(6),
        "levels_both_ways": lambda: simulate_levels(7, baselines=(1,), steps=(-1, 1)),
        "favara_imbs": lambda: favara_imbs(["Dl_vloans_b"]),
        "favara_imbs_hpi": lambda: favara_imbs(["Dl_vloans_b", "Dl_hpi"]),
    }
    roles = dict(favara, treatment="inter_bra") if name.startswith("favara") else simulated
    return builders[name]().reset_index(drop=True), roles
