"""Benchmark: TWFE ``y ~ d + x1 + x2 | unit + year`` clustered by unit.

Default 100,000 units x 10 years (1 M rows).  Times (best of ``--repeat`` warm calls, i.e.
after one untimed call so JIT compilation and caches do not count):

* effectmeting.feols
* pyfixest.feols (vcov CRV1 by unit)
* linearmodels PanelOLS (entity + time effects, clustered by entity)
* a numpy floor: one-pass two-way demeaning of a balanced panel + ``lstsq``, no SEs

Prints seconds and the ratios ours/pyfixest (target <= 0.5) and ours/floor (target <= 5).
Usage: ``python benchmarks/bench_feols.py [--units 100000] [--years 10] [--repeat 2] [--skip-linearmodels]``
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

FORMULA = "y ~ d + x1 + x2 | unit + year"


def make_panel(units: int, years: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(units), years)
    year = np.tile(np.arange(2010, 2010 + years), units)
    unit_effect = rng.normal(size=units)[unit]
    year_effect = rng.normal(size=years)[year - 2010]
    first_year = rng.integers(2012, 2010 + years + 3, size=units)[unit]
    d = (year >= first_year).astype(float)
    x1 = rng.normal(size=unit.size) + 0.3 * unit_effect
    x2 = rng.normal(size=unit.size)
    y = 0.5 * d + x1 - 0.3 * x2 + unit_effect + year_effect + rng.normal(size=unit.size)
    return pd.DataFrame({"unit": unit, "year": year, "d": d, "x1": x1, "x2": x2, "y": y})


def best_time(function, repeat: int) -> tuple[float, object]:
    function()  # warm-up call, not timed
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def numpy_floor(data: pd.DataFrame) -> np.ndarray:
    """Lower bound: exact balanced two-way demeaning by bincount, then least squares."""
    unit = data["unit"].to_numpy()
    year = data["year"].to_numpy() - data["year"].min()
    n_units, n_years = unit.max() + 1, year.max() + 1
    matrix = data[["y", "d", "x1", "x2"]].to_numpy()
    out = np.empty_like(matrix)
    for j in range(matrix.shape[1]):
        column = matrix[:, j]
        unit_mean = np.bincount(unit, weights=column, minlength=n_units) / n_years
        year_mean = np.bincount(year, weights=column, minlength=n_years) / n_units
        out[:, j] = column - unit_mean[unit] - year_mean[year] + unit_mean.mean()
    return np.linalg.lstsq(out[:, 1:], out[:, 0], rcond=None)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-linearmodels", action="store_true")
    args = parser.parse_args()

    import pyfixest as pf

    from effectmeting.estimate.fixest.feols import feols

    data = make_panel(args.units, args.years)
    print(f"TWFE {FORMULA}, cluster by unit; {len(data):,} rows ({args.units:,} units x {args.years} years)")
    timings: dict[str, float] = {}
    timings["effectmeting"], ours = best_time(
        lambda: feols(FORMULA, data, vcov={"cluster": "unit"}), args.repeat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timings["pyfixest"], theirs = best_time(
            lambda: pf.feols(FORMULA, data, vcov={"CRV1": "unit"}), args.repeat)
    timings["numpy floor"], floor = best_time(lambda: numpy_floor(data), args.repeat)
    if not args.skip_linearmodels:
        from linearmodels.panel import PanelOLS

        indexed = data.set_index(["unit", "year"])

        def linearmodels_fit():
            return PanelOLS(indexed["y"], indexed[["d", "x1", "x2"]], entity_effects=True,
                            time_effects=True).fit(cov_type="clustered", cluster_entity=True)

        timings["linearmodels"], _ = best_time(linearmodels_fit, args.repeat)

    # sanity: the estimates agree before the timings mean anything
    np.testing.assert_allclose(ours.coef.to_numpy(), theirs.coef().to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.se.to_numpy(), theirs.se().to_numpy(), rtol=1e-4)
    np.testing.assert_allclose(ours.coef.to_numpy(), floor, rtol=1e-6)
    for name, seconds in timings.items():
        print(f"  {name:<14s} {seconds:8.3f} s")
    print(f"ratio ours/pyfixest   : {timings['effectmeting'] / timings['pyfixest']:.3f}  (target <= 0.5)")
    print(f"ratio ours/numpy floor: {timings['effectmeting'] / timings['numpy floor']:.3f}  (target <= 5)")
    if "linearmodels" in timings:
        print(f"ratio ours/linearmodels: {timings['effectmeting'] / timings['linearmodels']:.3f}")


if __name__ == "__main__":
    main()
