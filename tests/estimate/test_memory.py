"""Peak memory of feols and att_gt stays within the issue's target of 3x the input data.

tracemalloc sees numpy's and pandas' buffers, so the peak during a call (above what was in use
before it, the returned result included) is compared with ``memory_usage(deep=True)`` of the
input frame.  The full-size measurement is ``benchmarks/bench_memory.py``; here the same
designs are scaled down so the tests stay fast.  The in-place demeaning that makes this
possible is checked against the copying path (same numbers).
"""
from __future__ import annotations

import gc
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest

from effectmeting.estimate.callaway_santanna.att_gt import att_gt
from effectmeting.estimate.fixest.feols import feols
from effectmeting.estimate.core.within import demean

TARGET_RATIO = 3.0


def _peak_ratio(call, data: pd.DataFrame):
    """(peak bytes during ``call()`` above the bytes in use before it) / input bytes, and the result."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = call()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return peak / data.memory_usage(deep=True).sum(), result


def _twfe_panel(units: int, years: int, seed: int = 1) -> pd.DataFrame:
    """The design of benchmarks/bench_feols.py: y ~ d + x1 + x2 | unit + year."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(units), years)
    year = np.tile(np.arange(2010, 2010 + years), units)
    unit_effect = rng.normal(size=units)[unit]
    d = (year >= rng.integers(2012, 2010 + years + 3, size=units)[unit]).astype(float)
    x1 = rng.normal(size=unit.size) + 0.3 * unit_effect
    x2 = rng.normal(size=unit.size)
    y = 0.5 * d + x1 - 0.3 * x2 + unit_effect + rng.normal(size=unit.size)
    return pd.DataFrame({"unit": unit, "year": year, "d": d, "x1": x1, "x2": x2, "y": y})


def test_feols_twfe_peak_memory_is_at_most_three_times_the_input():
    data = _twfe_panel(20_000, 10)
    ratio, result = _peak_ratio(lambda: feols("y ~ d + x1 + x2 | unit + year", data,
                                              vcov={"cluster": "unit"}), data)
    assert ratio <= TARGET_RATIO, f"feols peak memory {ratio:.2f}x the input (target <= 3x)"
    assert result.nobs == len(data)


def test_feols_with_dropped_rows_and_collinear_column_stays_within_target():
    data = _twfe_panel(20_000, 10, seed=2)
    data.loc[data.index[::97], "x1"] = np.nan            # rows dropped for missing values
    data["d2"] = 2.0 * data["d"]                          # collinear: compacted in place
    ratio, result = _peak_ratio(lambda: feols("y ~ d + d2 + x1 + x2 | unit + year", data,
                                              vcov={"cluster": "unit"}), data)
    assert ratio <= TARGET_RATIO, f"feols peak memory {ratio:.2f}x the input (target <= 3x)"
    assert result.dropped_collinear == ["d2"]
    # the compacted view gives the fit without the collinear column
    reference = feols("y ~ d + x1 + x2 | unit + year", data, vcov={"cluster": "unit"})
    np.testing.assert_allclose(result.coef.to_numpy(), reference.coef.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(result.se.to_numpy(), reference.se.to_numpy(), rtol=1e-12)


def test_att_gt_peak_memory_is_at_most_three_times_the_input():
    """The design of benchmarks/bench_att_gt.py (DR, one covariate), 4,000 units x 20 periods."""
    rng = np.random.default_rng(20240101)
    units, periods = 4_000, np.arange(2001, 2021)
    x = rng.normal(size=units)
    cohort = np.where(rng.random(units) < 1 / (1 + np.exp(-x)),
                      rng.choice([2006, 2008, 2010, 2012, 2014], units), 0)
    t = np.tile(periods, units)
    g = np.repeat(cohort, len(periods))
    y = (np.repeat(rng.normal(size=units) + 0.5 * x, len(periods))
         + np.where((g > 0) & (t >= g), 0.1 * (t - g + 1), 0.0) + rng.normal(size=t.size))
    data = pd.DataFrame({"unit": np.repeat(np.arange(units), len(periods)), "year": t,
                         "first_treat": g, "x": np.repeat(x, len(periods)), "y": y})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ratio, result = _peak_ratio(lambda: att_gt(data, outcome="y", unit="unit", time="year",
                                                   cohort="first_treat", covariates=["x"],
                                                   method="dr"), data)
    assert ratio <= TARGET_RATIO, f"att_gt peak memory {ratio:.2f}x the input (target <= 3x)"
    assert result.influence.shape == (units, len(result.tidy()))


@pytest.mark.parametrize("case", ["balanced", "unbalanced", "weighted", "three_factors"])
def test_in_place_demeaning_equals_the_copying_path(case):
    rng = np.random.default_rng(7)
    first, second = np.repeat(np.arange(300), 6), np.tile(np.arange(6), 300)
    groups, weights = [first, second], None
    if case != "balanced":
        keep = rng.random(first.size) > 0.2
        groups = [first[keep], second[keep]]
    if case == "weighted":
        weights = rng.uniform(0.5, 2.0, groups[0].size)
    if case == "three_factors":
        groups.append(groups[0] % 7)
    matrix = np.asfortranarray(rng.normal(size=(groups[0].size, 3)))
    copied = demean(matrix, groups, weights)
    returned = demean(matrix, groups, weights, copy=False)
    assert returned is matrix  # overwritten, not copied
    np.testing.assert_array_equal(returned, copied)
