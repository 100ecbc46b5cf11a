"""One horizon of the de Chaisemartin-D'Haultfoeuille (2024) estimator: the switcher and
control cells, the estimate ``DID_l`` (or placebo ``DID^pl_l``) and its influence function.

Notation (paper, section 3; periods are 0-based here).  ``F_g`` is the first period whose
treatment differs from the baseline ``D_{g,1}``, ``S_g = +1`` when ``D_{g,F_g} > D_{g,1}``
(switch in) and ``-1`` when it is below (switch out).  At horizon ``l`` a switcher is used in
the row ``p = F_g - 1 + l``; its controls are the units with the same baseline that have not
switched by ``p`` (``F_g' > p``), whatever direction they switch in later::

    DID_{g,l} = Y_{g,p} - Y_{g,F_g-1} - mean_{controls}(Y_{g',p} - Y_{g',F_g-1})
    DID^s_l   = sum_{g: S_g = s} S_g w_{g,p} DID_{g,l} / N^s_l,   N^s_l = sum of their weights
    DID_l     = (N^+_l DID^+_l + N^-_l DID^-_l) / (N^+_l + N^-_l)

as ``did_multiplegt_dyn`` does (one pass per direction).  The placebo ``DID^pl_l`` uses
``Y_{F_g-1-l} - Y_{F_g-1}`` in the same rows with the same controls.

Influence function of one direction ``U_g = (G / N_l) sum_p a_{g,p} dY_{g,p}`` with
``a = w (S 1[switcher] - (sum of S w over the cell's switchers) / N^ctrl_{d,p} 1[control])``
and ``DID_l = mean_g U_g``.  The variance uses ``did_multiplegt_dyn``'s (v2) conservative
version: each ``dY`` is centred on its cohort mean ``E_hat`` (switchers of the same baseline,
switch date and first switched treatment ``D_{g,F_g}``; controls of the same baseline and
period; their union if a cohort has a single unit or cluster) and scaled by
``sqrt(n / (n - 1))`` for the cohort's unit (or cluster) count ``n``; then
``Var = sum_clusters (sum_g U^var_g)^2 / G^2``.  With controls, ``dY`` is residualised and
``U`` gains the term for the estimated coefficients (:mod:`dcdh_controls`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from effectmeting.estimate.dcdh import controls as dcdh_controls
from effectmeting.estimate.dcdh.panel import SwitchingPanel, long_differences


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


def _cell_sum(values: np.ndarray, codes: np.ndarray, n_codes: int) -> np.ndarray:
    """Column sums per unit group (baseline level or switcher cohort): shape (n_codes, T)."""
    out = np.zeros((n_codes, values.shape[1]))
    np.add.at(out, codes, values)
    return out


def _cell_count(flag: np.ndarray, codes: np.ndarray, n_codes: int, cluster_codes: np.ndarray) -> np.ndarray:
    """Number of distinct clusters among flagged cells, per (group, period): shape (n_codes, T)."""
    n_periods = flag.shape[1]
    n_clusters = int(cluster_codes.max()) + 1
    if n_clusters == len(codes):  # one cluster per unit: a unit is one cell per period
        return _cell_sum(flag.astype(float), codes, n_codes)
    rows, cols = np.nonzero(flag)
    keys = (codes[rows].astype(np.int64) * n_periods + cols) * n_clusters + cluster_codes[rows]
    cells = np.unique(keys) // n_clusters
    return np.bincount(cells, minlength=n_codes * n_periods).reshape(n_codes, n_periods).astype(float)


def _centring(diff, flag, weight, codes, n_codes, cluster_codes):
    """Cohort mean of ``diff`` over flagged cells and the cohort's unit/cluster count, per cell."""
    total_w = _cell_sum(np.where(flag, weight, 0.0), codes, n_codes)
    total_y = _cell_sum(np.where(flag, weight * diff, 0.0), codes, n_codes)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(total_w > 0, total_y / total_w, 0.0)
    count = _cell_count(flag & (weight > 0), codes, n_codes, cluster_codes)
    return mean, count


def horizon_terms(panel: SwitchingPanel, horizon: int, *, placebo: bool,
                  control_names: list[str] | None = None) -> HorizonTerms:
    """Estimate and influence functions at horizon ``l = horizon``: switchers in and switchers
    out are estimated separately (each with all not-yet-switched controls of its baseline) and
    combined with their weights ``N_l^+`` and ``N_l^-``, as ``did_multiplegt_dyn`` does."""
    sides = [side_terms(panel, horizon, placebo=placebo, control_names=control_names, side=side)
             for side in (1.0, -1.0) if (panel.direction == side).any()]
    return _combine(sides)


def _combine(parts: list[HorizonTerms]) -> HorizonTerms:
    """``DID_l = (N^+ DID^+ + N^- DID^-) / (N^+ + N^-)``, likewise for influence and doses."""
    excluded: dict = {}
    for part in parts:
        for reason, idx in part.excluded.items():
            excluded[reason] = np.union1d(excluded.get(reason, np.array([], dtype=int)), idx).astype(int)
    used = [p for p in parts if p.n_switchers_weighted > 0]
    if len(used) < 2:
        part = used[0] if used else parts[0]
        part.excluded = excluded
        return part
    n = np.array([p.n_switchers_weighted for p in used])
    share = n / n.sum()

    def mix(name):
        return sum(s * getattr(p, name) for s, p in zip(share, used))

    return HorizonTerms(
        horizon=used[0].horizon, placebo=used[0].placebo, estimate=float(mix("estimate")),
        influence=mix("influence"), influence_var=mix("influence_var"), n_switchers_weighted=float(n.sum()),
        n_switchers=sum(p.n_switchers for p in used), switch_dose=float(mix("switch_dose")),
        current_dose=float(mix("current_dose")), excluded=excluded,
    )


@dataclass
class _Cells:
    """The (G, T) cells of one direction at one horizon: which are switchers and controls."""

    diff: np.ndarray  # outcome differences, 0 where undefined
    valid: np.ndarray  # where the difference is defined
    direction: np.ndarray  # (G,) S_g for switchers of this side, 0 for everyone else
    target: np.ndarray  # (G,) row F_g - 1 + l of each unit at this horizon
    switcher: np.ndarray  # switcher cells used (a control with the same baseline exists)
    control: np.ndarray  # not-yet-switched cells
    n_control: np.ndarray  # (L, T) summed control weight per baseline level and period


def _cells(panel: SwitchingPanel, lag: int, *, placebo: bool, side: float) -> _Cells:
    """Switcher cells (row ``F_g - 1 + l`` of the ``side`` switchers) and control cells (units
    with the same baseline not switched by that row) with a defined outcome difference."""
    n_periods = panel.y.shape[1]
    period = np.arange(n_periods)
    n_levels = len(np.unique(panel.baseline))
    baseline = panel.baseline_codes
    first = panel.first_switch
    direction = np.where(panel.direction == side, panel.direction, 0.0)

    diff = long_differences(panel.y, lag, placebo)
    valid = ~np.isnan(diff)
    diff = np.where(valid, diff, 0.0)

    target = first - 1 + lag  # row of each switcher at this horizon
    control = (first[:, None] > period[None, :]) & valid
    n_control = _cell_sum(np.where(control, panel.w, 0.0), baseline, n_levels)
    at_target = (direction != 0)[:, None] & (period[None, :] == target[:, None])
    has_control = n_control[baseline] > 0
    switcher = at_target & valid & has_control
    return _Cells(diff, valid, direction, target, switcher, control, n_control)


def _excluded_switchers(panel: SwitchingPanel, cells: _Cells, lag: int, placebo: bool) -> dict:
    """Switchers of this side that cannot be used at this horizon, by reason (reported, never
    dropped silently): reason -> unit indices."""
    n_periods = panel.y.shape[1]
    first = panel.first_switch
    is_switcher = cells.direction != 0
    observed = is_switcher & (cells.target < n_periods)
    has_pre = observed & (first - 1 - lag >= 0) if placebo else observed
    used = cells.switcher.any(axis=1)
    excluded = {
        f"not observed {lag} period(s) after the switch": np.flatnonzero(is_switcher & ~observed),
        "no not-yet-switched control with the same baseline treatment":
            np.flatnonzero(has_pre & ~used),
    }
    if placebo:
        excluded[f"not observed {lag} period(s) before the switch"] = np.flatnonzero(observed & ~has_pre)
    return excluded


def _cell_coefficients(cells: _Cells, weight: np.ndarray, baseline: np.ndarray, n_levels: int) -> np.ndarray:
    """``a_{g,p}`` of the influence function (module docstring).  Switchers in and out of one
    baseline share its controls: a control cell carries the signed switcher weight ``S_g w_g``
    of its (baseline, period) cell, divided by the cell's control weight."""
    signed = _cell_sum(np.where(cells.switcher, weight * cells.direction[:, None], 0.0), baseline, n_levels)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(cells.n_control > 0, signed / cells.n_control, 0.0)
    return weight * (cells.direction[:, None] * cells.switcher - ratio[baseline] * cells.control)


def _variance_influence(panel: SwitchingPanel, cells: _Cells, diff: np.ndarray, coefficient: np.ndarray,
                        scale: float) -> np.ndarray:
    """``U^var_g``: the conservative (did_multiplegt_dyn v2) influence function, each ``dY``
    centred on its cohort mean and scaled by ``sqrt(n / (n - 1))``, with the union of switchers
    and controls of the baseline as fallback for cohorts of a single unit or cluster.

    Switcher cohorts: same baseline, switch date and first switched treatment ``D_{g,F_g}``;
    control cohorts: same baseline and period.
    """
    weight, switcher, control = panel.w, cells.switcher, cells.control
    baseline = panel.baseline_codes
    n_levels = len(np.unique(panel.baseline))
    switch_levels, switch_codes = np.unique(panel.switch_treatment, return_inverse=True)
    cohort = baseline * len(switch_levels) + switch_codes.ravel()
    n_cohorts = n_levels * len(switch_levels)
    cohort_base = np.arange(n_cohorts) // len(switch_levels)
    codes = panel.cluster_codes
    mean_s, count_s = _centring(diff, switcher, weight, cohort, n_cohorts, codes)
    mean_c, count_c = _centring(diff, control, weight, baseline, n_levels, codes)
    mean_u, count_u = _centring(diff, switcher | control, weight, baseline, n_levels, codes)

    def centre_and_scale(mean, count, group, group_base):
        union_mean, union_count = mean_u[group_base], count_u[group_base]
        own = count >= 2
        union = (count == 1) & (union_count >= 2)
        e_hat = np.where(own, mean, np.where(union, union_mean, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            dof = np.where(own, np.sqrt(count / (count - 1)),
                           np.where(union, np.sqrt(union_count / (union_count - 1)), 1.0))
        return e_hat[group], dof[group]

    e_s, dof_s = centre_and_scale(mean_s, count_s, cohort, cohort_base)
    e_c, dof_c = centre_and_scale(mean_c, count_c, baseline, np.arange(n_levels))
    e_hat = np.where(switcher, e_s, np.where(control, e_c, 0.0))
    dof = np.where(switcher, dof_s, np.where(control, dof_c, 1.0))
    return scale * (coefficient * dof * (diff - e_hat)).sum(axis=1)


def _doses(panel: SwitchingPanel, switcher: np.ndarray, n_weighted: float) -> tuple[float, float]:
    """Switchers' mean ``|D - D_{g,1}|`` cumulated over the periods since the switch (``delta^D_l``,
    for normalised effects) and in the row itself (``delta_l``, for the average total effect)."""
    away = np.abs(panel.d - panel.baseline[:, None])
    changed = np.cumsum(away, axis=1)
    switch_w = np.where(switcher, panel.w, 0.0)
    switch_dose = float((switch_w * changed).sum() / n_weighted)
    current_dose = float((switch_w * away).sum() / n_weighted)
    return switch_dose, current_dose


def side_terms(panel: SwitchingPanel, horizon: int, *, placebo: bool, side: float,
               control_names: list[str] | None = None) -> HorizonTerms:
    """``DID_l`` of the switchers with ``S_g = side`` only (see module docstring); with
    ``panel.x`` the outcome differences are first residualised on the controls
    (:mod:`dcdh_controls`)."""
    n_units, n_periods = panel.y.shape
    levels = np.unique(panel.baseline)
    baseline = panel.baseline_codes
    weight = panel.w
    cells = _cells(panel, horizon, placebo=placebo, side=side)
    excluded = _excluded_switchers(panel, cells, horizon, placebo)
    used = cells.switcher.any(axis=1)

    n_weighted = float(np.where(cells.switcher, weight, 0.0).sum())
    if n_weighted == 0:
        return HorizonTerms(horizon, placebo, np.nan, np.full(n_units, np.nan), np.full(n_units, np.nan),
                            0.0, 0, np.nan, np.nan, excluded)
    diff, fit = cells.diff, None
    if panel.x is not None:
        diff, fit = dcdh_controls.residualise(
            diff, cells.valid, panel.x, weight, baseline, panel.first_switch == n_periods,
            np.unique(baseline[used]), lag=horizon, placebo=placebo, levels=levels,
            names=list(control_names or []))

    coefficient = _cell_coefficients(cells, weight, baseline, len(levels))
    scale = n_units / n_weighted
    influence = scale * (coefficient * diff).sum(axis=1)
    estimate = float(influence.mean())
    influence_var = _variance_influence(panel, cells, diff, coefficient, scale)
    if fit is not None:
        extra = dcdh_controls.theta_influence(fit, coefficient, baseline, n_weighted)
        influence, influence_var = influence + extra, influence_var + extra

    switch_dose, current_dose = _doses(panel, cells.switcher, n_weighted)
    return HorizonTerms(
        horizon=horizon, placebo=placebo, estimate=estimate, influence=influence,
        influence_var=influence_var, n_switchers_weighted=n_weighted, n_switchers=int(used.sum()),
        switch_dose=switch_dose, current_dose=current_dose, excluded=excluded,
    )


def clustered_variance(influence: np.ndarray, cluster_codes: np.ndarray) -> np.ndarray:
    """``sum_c s_c s_c' / G^2`` with ``s_c`` the cluster sums of the (G, k) influence matrix."""
    influence = np.atleast_2d(influence.T).T
    sums = np.zeros((int(cluster_codes.max()) + 1, influence.shape[1]))
    np.add.at(sums, cluster_codes, influence)
    return sums.T @ sums / influence.shape[0] ** 2
