"""One horizon of the de Chaisemartin-D'Haultfoeuille (2024) estimator: the switcher and
control cells, the estimate ``DID_l`` (or placebo ``DID^pl_l``) and its influence function.

Notation (paper, section 3; periods are 0-based here).  ``F_g`` is the first period whose
treatment differs from the baseline ``D_{g,1}``, ``S_g = +1`` for a switch in and ``-1`` for a
switch out.  At horizon ``l`` a switcher is used in the row ``p = F_g - 1 + l``; its controls
are the units with the same baseline that have not switched by ``p`` (``F_g' > p``)::

    DID_{g,l} = Y_{g,p} - Y_{g,F_g-1} - mean_{controls}(Y_{g',p} - Y_{g',F_g-1})
    DID_l     = sum_g S_g w_{g,p} DID_{g,l} / N_l,        N_l = sum of switcher weights

The placebo ``DID^pl_l`` uses ``Y_{F_g-1-l} - Y_{F_g-1}`` in the same rows with the same
controls.  With a binary treatment all switchers of one baseline move in one direction, so the
sign of a cell is ``S = 1 - 2 * baseline``.

Influence function ``U_g = (G / N_l) sum_p a_{g,p} dY_{g,p}`` with
``a = w S (1[switcher] - N^sw_{d,p} / N^ctrl_{d,p} 1[control])`` and ``DID_l = mean_g U_g``.
The variance uses ``did_multiplegt_dyn``'s (v2) conservative version: each ``dY`` is centred on
its cohort mean ``E_hat`` (switchers of the same baseline and switch date; controls of the same
baseline and period; their union if a cohort has a single unit or cluster) and scaled by
``sqrt(n / (n - 1))`` for the cohort's unit (or cluster) count ``n``; then
``Var = sum_clusters (sum_g U^var_g)^2 / G^2``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from effectmeting.estimate.dcdh_panel import SwitchingPanel


@dataclass
class HorizonTerms:
    """Estimate and influence functions of one effect or placebo horizon."""

    horizon: int  # l >= 1
    placebo: bool
    estimate: float  # un-normalised DID_l
    influence: np.ndarray  # (G,) U_g, mean equals the estimate
    influence_var: np.ndarray  # (G,) cohort-centred U^var_g used for the variance
    n_switchers_weighted: float  # N_l
    n_switchers: int  # switching units used
    switch_dose: float  # delta^D_l: mean cumulative |D - D_{g,1}| over the l periods since F_g
    current_dose: float  # mean |D_{g,p} - D_{g,1}| in the row p (average total effect)
    excluded: dict  # reason -> unit indices of switchers left out at this horizon


def _cell_sum(values: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """Column sums per baseline value: shape (2, T)."""
    return np.stack([values[baseline == d].sum(axis=0) for d in (0, 1)])


def _cell_count(flag: np.ndarray, baseline: np.ndarray, cluster_codes: np.ndarray) -> np.ndarray:
    """Number of distinct clusters among flagged cells, per (baseline, period): shape (2, T)."""
    n_periods = flag.shape[1]
    rows, cols = np.nonzero(flag)
    n_clusters = int(cluster_codes.max()) + 1
    keys = (baseline[rows].astype(np.int64) * n_periods + cols) * n_clusters + cluster_codes[rows]
    cells = np.unique(keys) // n_clusters
    return np.bincount(cells, minlength=2 * n_periods).reshape(2, n_periods).astype(float)


def _centring(diff, flag, weight, baseline, cluster_codes):
    """Cohort mean of ``diff`` over flagged cells and the cohort's unit/cluster count, per cell."""
    total_w = _cell_sum(np.where(flag, weight, 0.0), baseline)
    total_y = _cell_sum(np.where(flag, weight * diff, 0.0), baseline)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(total_w > 0, total_y / total_w, 0.0)
    count = _cell_count(flag & (weight > 0), baseline, cluster_codes)
    return mean, count


def horizon_terms(panel: SwitchingPanel, horizon: int, *, placebo: bool) -> HorizonTerms:
    """Estimate and influence functions at horizon ``l = horizon`` (see module docstring)."""
    y = panel.y
    n_units, n_periods = y.shape
    period = np.arange(n_periods)
    baseline = panel.baseline.astype(np.int64)
    first = panel.first_switch
    direction = panel.direction
    weight = panel.w
    lag = horizon

    diff = np.full_like(y, np.nan)
    if placebo:
        if 2 * lag < n_periods:
            diff[:, 2 * lag:] = y[:, : n_periods - 2 * lag] - y[:, lag: n_periods - lag]
    else:
        diff[:, lag:] = y[:, lag:] - y[:, : n_periods - lag]
    valid = ~np.isnan(diff)
    diff = np.where(valid, diff, 0.0)

    target = first - 1 + lag  # row of each switcher at this horizon
    control = (first[:, None] > period[None, :]) & valid
    n_control = _cell_sum(np.where(control, weight, 0.0), baseline)
    at_target = (direction != 0)[:, None] & (period[None, :] == target[:, None])
    has_control = n_control[baseline] > 0
    switcher = at_target & valid & has_control

    # which switchers could not be used, and why (reported, never dropped silently)
    is_switcher = direction != 0
    observed = is_switcher & (target < n_periods)
    has_pre = observed & (first - 1 - lag >= 0) if placebo else observed
    used = switcher.any(axis=1)
    excluded = {
        f"not observed {lag} period(s) after the switch": np.flatnonzero(is_switcher & ~observed),
        "no not-yet-switched control with the same baseline treatment":
            np.flatnonzero(has_pre & ~used),
    }
    if placebo:
        excluded[f"not observed {lag} period(s) before the switch"] = np.flatnonzero(observed & ~has_pre)

    n_switch_cell = _cell_sum(np.where(switcher, weight, 0.0), baseline)
    n_weighted = float(n_switch_cell.sum())
    if n_weighted == 0:
        return HorizonTerms(horizon, placebo, np.nan, np.full(n_units, np.nan), np.full(n_units, np.nan),
                            0.0, 0, np.nan, np.nan, excluded)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(n_control > 0, n_switch_cell / n_control, 0.0)
    sign = (1.0 - 2.0 * baseline)[:, None]
    coefficient = weight * sign * (switcher - ratio[baseline] * control)
    scale = n_units / n_weighted
    influence = scale * (coefficient * diff).sum(axis=1)

    # conservative variance: centre on cohort means, small-cohort fallback to the union
    mean_s, count_s = _centring(diff, switcher, weight, baseline, panel.cluster_codes)
    mean_c, count_c = _centring(diff, control, weight, baseline, panel.cluster_codes)
    mean_u, count_u = _centring(diff, switcher | control, weight, baseline, panel.cluster_codes)

    def centre_and_scale(mean, count):
        own = count >= 2
        union = (count == 1) & (count_u >= 2)
        e_hat = np.where(own, mean, np.where(union, mean_u, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            dof = np.where(own, np.sqrt(count / (count - 1)),
                           np.where(union, np.sqrt(count_u / (count_u - 1)), 1.0))
        return e_hat[baseline], dof[baseline]

    e_s, dof_s = centre_and_scale(mean_s, count_s)
    e_c, dof_c = centre_and_scale(mean_c, count_c)
    e_hat = np.where(switcher, e_s, np.where(control, e_c, 0.0))
    dof = np.where(switcher, dof_s, np.where(control, dof_c, 1.0))
    influence_var = scale * (coefficient * dof * (diff - e_hat)).sum(axis=1)

    changed = np.cumsum(panel.d != panel.baseline[:, None], axis=1)  # periods away from baseline
    switch_w = np.where(switcher, weight, 0.0)
    switch_dose = float((switch_w * changed).sum() / n_weighted)
    current_dose = float((switch_w * (panel.d != panel.baseline[:, None])).sum() / n_weighted)
    return HorizonTerms(
        horizon=horizon, placebo=placebo, estimate=float(influence.mean()), influence=influence,
        influence_var=influence_var, n_switchers_weighted=n_weighted, n_switchers=int(used.sum()),
        switch_dose=switch_dose, current_dose=current_dose, excluded=excluded,
    )


def clustered_variance(influence: np.ndarray, cluster_codes: np.ndarray) -> np.ndarray:
    """``sum_c s_c s_c' / G^2`` with ``s_c`` the cluster sums of the (G, k) influence matrix."""
    influence = np.atleast_2d(influence.T).T
    sums = np.zeros((int(cluster_codes.max()) + 1, influence.shape[1]))
    np.add.at(sums, cluster_codes, influence)
    return sums.T @ sums / influence.shape[0] ** 2
