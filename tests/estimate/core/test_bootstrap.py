"""The one bootstrap-weights module: the draws the estimators used before it existed, and the
weights' defining moments."""
from __future__ import annotations

import numpy as np
import pytest

from effectmeting.errors import OptionError
from effectmeting.estimate.core.bootstrap import (WEIGHT_TYPES, cluster_weights, draw_weights, resample_counts,
                                                  weight_blocks)

_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


@pytest.mark.parametrize("seed", [0, 3, 20240101])
def test_cluster_weights_equal_the_wild_bootstraps_former_rng_choice(seed):
    # the wild cluster bootstrap drew rng.choice(values, size=(G, B)); the module draws indices
    assert np.array_equal(cluster_weights(12, 999, seed, "rademacher"),
                          np.random.default_rng(seed).choice([-1.0, 1.0], size=(12, 999)))
    assert np.array_equal(cluster_weights(7, 50, seed, "webb"),
                          np.random.default_rng(seed).choice(_WEBB, size=(7, 50)))


def test_weight_blocks_equal_the_multiplier_bootstraps_former_draws():
    rng = np.random.default_rng([5, 2])
    former = np.vstack([rng.integers(0, 2, size=(min(100, 250 - s), 30)).astype(np.float64) * 2.0 - 1.0
                        for s in range(0, 250, 100)])
    blocks = list(weight_blocks(30, 250, [5, 2]))
    assert [b[0] for b in blocks] == [slice(0, 100), slice(100, 200), slice(200, 250)]
    assert np.array_equal(np.vstack([b[1] for b in blocks]), former)


def test_resample_counts_are_multinomial_counts_of_n_units():
    counts = resample_counts(40, 25, seed=9)
    assert counts.shape == (25, 40) and (counts.sum(axis=1) == 40).all()
    rng = np.random.default_rng(9)
    assert np.array_equal(counts, rng.multinomial(40, np.full(40, 1 / 40), size=25).astype(float))


def test_rademacher_enumerates_every_sign_vector_when_that_is_no_more_than_asked():
    signs = cluster_weights(4, 16, seed=None)
    assert signs.shape == (4, 16) and len({tuple(c) for c in signs.T}) == 16


@pytest.mark.parametrize("weight_type", WEIGHT_TYPES)
def test_weights_have_mean_zero_and_variance_one(weight_type):
    values = draw_weights(np.random.default_rng(1), (200_000, 1), weight_type)
    assert abs(values.mean()) < 0.01 and abs(values.var() - 1) < 0.01


def test_unknown_weight_type_is_an_option_error():
    with pytest.raises(OptionError, match="weight_type='normal'"):
        cluster_weights(3, 9, 0, "normal")
