"""Bootstrap weights, drawn in one place from one seeded generator.

Every resampling of the package draws its weights here:

* multiplier / wild weights, i.i.d. with mean 0 and variance 1 (:func:`draw_weights`):
  ``"rademacher"`` (+1/-1 with probability 1/2; R ``did``, ``boottest``), ``"mammen"``
  (Mammen 1993 two-point; ``moderndid``), ``"webb"`` (Webb 2014 six-point: +-sqrt(1.5), +-1,
  +-sqrt(0.5), each 1/6; better than Rademacher with few clusters);
* per unit, in blocks of draws (:func:`weight_blocks`): the Callaway-Sant'Anna multiplier
  bootstrap and the Romano-Wolf multiplier draws of the study;
* per cluster, all draws at once (:func:`cluster_weights`): the wild cluster bootstrap, with
  full enumeration of the ``2**G`` Rademacher sign vectors when that is no more than asked;
* resampling counts (:func:`resample_counts`): how often each unit appears in a draw of ``n``
  units with replacement (frequency weights of the municipality bootstrap of ``costs``).

Reproducibility: the same seed gives the same weights as the code they came from.  Rademacher
and Webb weights are drawn as ``rng.integers(0, k)`` indices, which is exactly what
``rng.choice(values, size)`` did in the wild bootstrap (numpy's ``Generator.choice`` without
``p`` draws ``integers(0, k, dtype=int64)``; ``tests/estimate/core/test_bootstrap.py`` checks it).
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

from effectmeting.errors import OptionError

#: accepted ``weight_type`` values
WEIGHT_TYPES = ("rademacher", "mammen", "webb")
_RADEMACHER = np.array([-1.0, 1.0])
_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
#: draws per block of :func:`weight_blocks`, so memory stays O(block x n_units)
BLOCK = 100


def check_weight_type(weight_type: str, who: str = "bootstrap", allowed: tuple[str, ...] = WEIGHT_TYPES) -> str:
    """``weight_type`` if it is one of ``allowed``, else an :class:`OptionError` naming them."""
    if weight_type not in allowed:
        raise OptionError(f"{who}: weight_type={weight_type!r} is unknown; use one of "
                          + ", ".join(repr(a) for a in allowed))
    return weight_type


def draw_weights(rng: np.random.Generator, shape: tuple[int, int], weight_type: str = "rademacher") -> np.ndarray:
    """``shape`` i.i.d. weights with mean 0 and variance 1 from ``rng`` (see the module docstring)."""
    if weight_type == "rademacher":
        return _RADEMACHER[rng.integers(0, 2, size=shape)]
    if weight_type == "mammen":
        root5 = np.sqrt(5.0)
        low, high = (1.0 - root5) / 2.0, (1.0 + root5) / 2.0
        prob_low = (root5 + 1.0) / (2.0 * root5)
        return np.where(rng.random(shape) < prob_low, low, high)
    if weight_type == "webb":
        return _WEBB[rng.integers(0, 6, size=shape)]
    check_weight_type(weight_type)
    raise AssertionError("unreachable")  # pragma: no cover


def weight_blocks(n_units: int, n_draws: int, seed, weight_type: str = "rademacher",
                  block: int = BLOCK) -> Iterator[tuple[slice, np.ndarray]]:
    """``(rows, weights)`` per block: ``weights`` is ``(rows.stop - rows.start) x n_units``, one
    weight per unit and draw, all blocks from one generator seeded with ``seed`` (an int or a
    sequence such as ``[seed, stream]``)."""
    check_weight_type(weight_type)
    rng = np.random.default_rng(seed)
    for start in range(0, n_draws, block):
        stop = min(start + block, n_draws)
        yield slice(start, stop), draw_weights(rng, (stop - start, n_units), weight_type)


def cluster_weights(n_clusters: int, n_draws: int, seed, weight_type: str = "rademacher",
                    *, enumerate_signs: bool = True) -> np.ndarray:
    """``(n_clusters, draws)`` weights, one per cluster and draw.  Rademacher with
    ``enumerate_signs`` and ``2**n_clusters <= n_draws``: all ``2**G`` sign vectors (exact,
    no randomness), else ``n_draws`` draws."""
    check_weight_type(weight_type)
    if weight_type == "rademacher" and enumerate_signs and 2 ** n_clusters <= n_draws:
        return np.array(list(itertools.product([-1.0, 1.0], repeat=n_clusters))).T
    return draw_weights(np.random.default_rng(seed), (n_clusters, n_draws), weight_type)


def resample_counts(n_units: int, n_draws: int, seed) -> np.ndarray:
    """``n_draws x n_units`` counts of each unit in a resample of ``n_units`` units with
    replacement (the frequency weights of a unit bootstrap)."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_units, np.full(n_units, 1.0 / n_units), size=n_draws).astype(float)
