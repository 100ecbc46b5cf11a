"""Multiple testing across outcomes: Holm (1979) and Romano-Wolf (2005) step-down p-values.

Family: the overall effects of one estimator on every outcome of a study (H0_k: effect_k = 0).

* :func:`holm` — Holm's step-down Bonferroni adjustment (valid under any dependence).
* :func:`romano_wolf` — the step-down procedure of Romano & Wolf (2005, *Econometrica* 73(4),
  Algorithm 4.1) with ``t_k = |estimate_k / se_k|`` and bootstrap null draws
  ``t*_bk = |estimate*_bk - estimate_k| / se_k`` (centred at the estimate, scaled by the
  full-sample SE); it uses the joint dependence of the outcomes, so it is less conservative than
  Holm when outcomes are correlated.  For the ``j``-th largest statistic the p-value is
  ``(1 + #{b : max_{k in S_j} t*_bk >= t_(j)}) / (B + 1)`` with ``S_j`` the outcomes not yet
  rejected; p-values are then made monotone in the order of the statistics and never below the
  unadjusted p-value (an adjusted p-value never claims more than the unadjusted one).

Bootstrap draws come from either

* :func:`multiplier_draws` — the Callaway-Sant'Anna influence functions of every outcome,
  aligned by municipality, multiplied by the *same* Rademacher weight per municipality in a draw
  (so the dependence between outcomes measured on the same municipalities is kept); or
* :func:`cluster_bootstrap_draws` — resampling municipalities with replacement (the same draw
  for every outcome) and re-estimating (any estimator; slow).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from effectmeting.estimate.core.bootstrap import weight_blocks
from effectmeting.progress import progress

#: multiplier-bootstrap draws when no cluster bootstrap is asked for
MULTIPLIER_DRAWS = 999
_BLOCK = 200


def holm(p_values) -> np.ndarray:
    """Holm-adjusted p-values; NaN entries are not part of the family and stay NaN."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = len(finite)
    if m == 0:
        return out
    order = finite[np.argsort(p[finite], kind="mergesort")]
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(stepped)
    return out


def romano_wolf(statistics, draws, p_unadjusted=None) -> np.ndarray:
    """Romano-Wolf step-down adjusted p-values.

    ``statistics``: (K,) observed ``|t_k|``; ``draws``: (B, K) bootstrap null draws of ``|t_k|``
    (rows with a NaN are not used); ``p_unadjusted``: optional (K,) floor (see module docstring).
    Outcomes with a NaN statistic are not part of the family and get NaN.
    """
    t = np.asarray(statistics, dtype=float)
    draws = np.asarray(draws, dtype=float)
    out = np.full(t.shape, np.nan)
    family = np.flatnonzero(np.isfinite(t))
    if len(family) == 0:
        return out
    sub = draws[:, family]
    sub = sub[np.isfinite(sub).all(axis=1)]
    if len(sub) == 0:
        return out
    order = np.argsort(-t[family], kind="mergesort")
    # max over the not-yet-rejected set S_j = order[j:], for every j at once (reverse cumulative max)
    tail_max = np.maximum.accumulate(sub[:, order][:, ::-1], axis=1)[:, ::-1]
    exceed = (tail_max >= t[family][order][None, :]).sum(axis=0)
    p = (1.0 + exceed) / (len(sub) + 1.0)
    p = np.maximum.accumulate(p)
    adjusted = np.empty(len(family))
    adjusted[order] = p
    if p_unadjusted is not None:
        adjusted = np.fmax(adjusted, np.asarray(p_unadjusted, dtype=float)[family])
    out[family] = np.minimum(adjusted, 1.0)
    return out


def multiplier_draws(influence: np.ndarray, n_units, std_errors, reps: int, seed: int) -> np.ndarray:
    """(reps, K) draws ``|sum_i v_i IF_ik / n_k| / se_k`` with one Rademacher ``v_i`` per municipality.

    ``influence``: (N, K) influence functions on the union of municipalities (0 where a
    municipality is not in outcome ``k``'s sample), scaled so ``var(est_k) = sum_i IF_ik^2 / n_k^2``.
    """
    influence = np.asarray(influence, dtype=float)
    scale = np.asarray(n_units, dtype=float) * np.asarray(std_errors, dtype=float)
    draws = np.empty((reps, influence.shape[1]))
    for rows, weights in weight_blocks(influence.shape[0], reps, seed, "rademacher", block=_BLOCK):
        draws[rows] = np.abs(weights @ influence) / scale
    return draws


def align_influence(series: list[pd.Series | None]) -> tuple[np.ndarray, np.ndarray]:
    """Stack per-outcome influence Series (index: municipality) on the union of municipalities.

    Returns ``(matrix (N, K), n_units (K,))``; a missing Series gives a NaN column.
    """
    units = sorted(set().union(*[s.index for s in series if s is not None]))
    matrix = np.zeros((len(units), len(series)))
    counts = np.zeros(len(series))
    for k, s in enumerate(series):
        if s is None:
            matrix[:, k] = np.nan
            continue
        matrix[:, k] = s.reindex(units, fill_value=0.0).to_numpy()
        counts[k] = len(s)
    return matrix, counts


def resample_frame(frame: pd.DataFrame, drawn: np.ndarray) -> pd.DataFrame:
    """Rows of the drawn municipalities (a municipality drawn twice appears twice, as two units
    named by draw position).  ``frame`` is balanced and sorted by municipality, year."""
    units, position = np.unique(frame["municipality"].to_numpy(), return_inverse=True)
    periods = len(frame) // len(units)
    rows_of = np.arange(len(frame)).reshape(len(units), periods)
    index = np.searchsorted(units, drawn)
    present = (index < len(units)) & (units[np.minimum(index, len(units) - 1)] == drawn)
    kept = np.flatnonzero(present)
    out = frame.iloc[rows_of[index[kept]].ravel()].reset_index(drop=True)
    out["municipality"] = np.repeat(kept, periods)
    return out


def cluster_bootstrap_draws(frames: list[pd.DataFrame], estimates, std_errors,
                            estimate: Callable[[int, pd.DataFrame], float], reps: int, seed: int
                            ) -> tuple[np.ndarray, int]:
    """(reps, K) draws ``|est*_bk - est_k| / se_k`` from resampling municipalities jointly.

    One draw of municipalities (with replacement, from the union over outcomes) is applied to
    every outcome's frame; ``estimate(k, frame)`` re-estimates outcome ``k``.  A draw in which an
    estimator refuses (e.g. no never-treated municipality drawn) is NaN; their count is returned.
    """
    from effectmeting.errors import EffectmetingError

    units = np.unique(np.concatenate([f["municipality"].unique() for f in frames]))
    rng = np.random.default_rng(seed)
    draws = np.full((reps, len(frames)), np.nan)
    failed = 0
    estimates = np.asarray(estimates, dtype=float)
    std_errors = np.asarray(std_errors, dtype=float)
    # each draw re-estimates every outcome: a loop over draws, not rows (a bar when the CLI asks)
    for b in progress(range(reps), desc="cluster bootstrap draws", unit="draw"):
        drawn = units[rng.integers(0, len(units), len(units))]
        try:
            values = [estimate(k, resample_frame(f, drawn)) for k, f in enumerate(frames)]
        except (EffectmetingError, np.linalg.LinAlgError, ValueError):
            failed += 1
            continue
        draws[b] = np.abs(np.asarray(values) - estimates) / std_errors
    return draws, failed
