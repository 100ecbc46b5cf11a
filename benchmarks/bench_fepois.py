"""Benchmark: Poisson TWFE ``count ~ d + x1 | unit + year`` clustered by unit (``fepois``).

Default 20,000 units x 10 years (200,000 rows), an unbalanced panel (5 % of rows removed, so the
weighted two-way demeaning of every IRLS step takes the general path).  Times the best of
``--repeat`` warm calls of effectmeting.fepois and pyfixest.fepois (vcov CRV1 by unit), checks that
the estimates agree first, and prints seconds, IRLS iterations and the ratio ours/pyfixest.
Usage: ``python benchmarks/bench_fepois.py [--units 20000] [--years 10] [--repeat 2]``
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

FORMULA = "count ~ d + x1 | unit + year"


def make_panel(units: int, years: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(units), years)
    year = np.tile(np.arange(2010, 2010 + years), units)
    unit_effect = rng.normal(scale=0.5, size=units)[unit]
    year_effect = rng.normal(scale=0.2, size=years)[year - 2010]
    first_year = rng.integers(2012, 2010 + years + 3, size=units)[unit]
    d = (year >= first_year).astype(float)
    x1 = rng.normal(size=unit.size)
    mean = np.exp(1.0 + 0.2 * d + 0.3 * x1 + unit_effect + year_effect)
    frame = pd.DataFrame({"unit": unit, "year": year, "d": d, "x1": x1, "count": rng.poisson(mean).astype(float)})
    return frame.sample(frac=0.95, random_state=seed).sort_index()


def best_time(function, repeat: int) -> tuple[float, object]:
    function()  # warm-up call, not timed
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import pyfixest as pf

    from effectmeting.estimate.fixest.fepois import fepois

    data = make_panel(args.units, args.years)
    print(f"Poisson TWFE {FORMULA}, cluster by unit; {len(data):,} rows ({args.units:,} units x {args.years} years)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours_seconds, ours = best_time(lambda: fepois(FORMULA, data, vcov={"cluster": "unit"}), args.repeat)
        theirs_seconds, theirs = best_time(lambda: pf.fepois(FORMULA, data, vcov={"CRV1": "unit"}), args.repeat)
    np.testing.assert_allclose(ours.coef.to_numpy(), theirs.coef().to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.se.to_numpy(), theirs.se().to_numpy(), rtol=1e-4)
    print(f"  effectmeting {ours_seconds:8.3f} s ({ours.iterations} IRLS iterations)")
    print(f"  pyfixest     {theirs_seconds:8.3f} s")
    print(f"ratio ours/pyfixest: {ours_seconds / theirs_seconds:.3f}")


if __name__ == "__main__":
    main()
