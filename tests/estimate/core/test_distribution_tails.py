"""The normal/t/chi-square quantiles and tails in estimate/core/results.py use scipy.special (scipy.stats
costs ~0.8 s to import); they must equal scipy.stats to the last bit, or the published numbers move."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from effectmeting.estimate.core.results import chi2_sf, critical_value, p_values

LEVELS = [0.5, 0.8, 0.9, 0.95, 0.975, 0.99, 0.999, 1 - 1e-12, 1e-9]
DFS = [None, 0.5, 1, 2, 3, 4.5, 9, 14, 39, 100, 1e6, np.inf]
STATISTICS = np.concatenate([np.linspace(-40, 40, 4001), [0.0, -0.0, 1e-300, np.inf, -np.inf, np.nan]])


def same_bits(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both_nan = np.isnan(a) & np.isnan(b)
    return a.shape == b.shape and bool(np.all(both_nan | ((a == b) & (np.signbit(a) == np.signbit(b)))))


@pytest.mark.parametrize("df", DFS)
def test_critical_value_equals_scipy_stats(df):
    for level in LEVELS:
        q = 0.5 + level / 2
        expected = stats.norm.ppf(q) if df is None else stats.t.ppf(q, df)
        assert same_bits(critical_value(level, df), expected), (level, df)


@pytest.mark.parametrize("df", DFS)
def test_p_values_equal_scipy_stats(df):
    magnitude = np.abs(STATISTICS)
    expected = 2 * (stats.norm.sf(magnitude) if df is None else stats.t.sf(magnitude, df))
    assert same_bits(p_values(STATISTICS, df), expected)
    assert same_bits(p_values(1.7, df), 2 * (stats.norm.sf(1.7) if df is None else stats.t.sf(1.7, df)))


@pytest.mark.parametrize("df", [0, -1, 0.5, 1, 2, 3, 7, 30, 1e6, np.inf, np.nan])
def test_chi2_sf_equals_scipy_stats(df):
    values = STATISTICS * 3
    assert same_bits(chi2_sf(values, df), stats.chi2.sf(values, df))
    for value in [-1e-12, 0.0, 2.5, np.nan]:
        assert same_bits(chi2_sf(value, df), stats.chi2.sf(value, df))
        assert np.ndim(chi2_sf(value, df)) == 0


def test_bootstrap_scale_constant_equals_scipy_stats():
    from scipy.special import ndtri
    assert ndtri(0.75) - ndtri(0.25) == stats.norm.ppf(0.75) - stats.norm.ppf(0.25)
