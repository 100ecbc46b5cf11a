"""Callaway & Sant'Anna (2021) group-time average treatment effects, ATT(g, t).

``att_gt`` follows R ``did::att_gt`` (version 2.x) cell by cell: the same comparison groups
(never-treated or not-yet-treated), the same base periods ("varying": the period before ``t``
for pre-treatment cells and ``g - 1 - anticipation`` for post-treatment cells; "universal":
always ``g - 1 - anticipation``), the same 2x2 estimators (see :mod:`.drdid`) and the same
influence functions, so analytic standard errors agree with R to printed precision.

Data are reshaped once into a units x periods outcome matrix; every cell is then a handful of
array operations over units (no loop over units or rows).  Propensity-score fits are reused
across cells that share the same treated cohort, comparison units and covariate values.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from effectmeting.errors import IdentificationError
from effectmeting.estimate.core.checks import OptionError
from effectmeting.estimate.core.data import PanelData
from effectmeting.estimate.core.clustering import Clusters, clusters_from_codes
from effectmeting.estimate.callaway_santanna.timing import cell_arrays, comparison_mask, iter_cells, recode_cohorts
from effectmeting.estimate.callaway_santanna.drdid import ESTIMATORS, PropensityFit, fit_logit
from effectmeting.estimate.callaway_santanna.inference import standard_errors
from effectmeting.estimate.core.arguments import renamed_arguments, resolve_seed
from effectmeting.estimate.core.results import Results, check_level, critical_value, key_terms

if TYPE_CHECKING:
    from effectmeting.estimate.callaway_santanna.repeated_cross_sections import CrossSections


@dataclass
class DidPanel:
    """Balanced panel in array form: one row per unit, one column per period."""

    periods: np.ndarray            # sorted distinct periods (original values)
    cohort: np.ndarray             # first treated period per unit, 0 = never treated
    outcome: np.ndarray            # n_units x n_periods
    covariates: np.ndarray | None  # n_units x n_periods x k (n_units x 1 x k if constant), or None
    covariates_constant: bool      # True when covariates do not vary within unit
    weights: np.ndarray            # n_units
    units: np.ndarray              # unit labels, row order
    notes: list[str] = field(default_factory=list)
    cluster_codes: np.ndarray | None = None  # per unit, codes of the cluster column (or None)


def _refuse_negative_cohorts(panel: PanelData, cohort: str) -> None:
    """A cohort is a first treated period (> 0), 0/NA meaning never treated."""
    assert panel.cohort is not None  # cohort is a required argument of att_gt
    negative = np.flatnonzero(panel.cohort < 0)
    if negative.size:
        raise IdentificationError(
            f"att_gt: column {cohort!r} has negative values ({panel.row(int(negative[0]))} has "
            f"{panel.cohort[negative[0]]:g}); a cohort is the first treated period (> 0), with 0 or "
            "NA for never treated. Number periods from 1 (e.g. calendar years)")


def _check_options(control: str, method: str, base_period: str, anticipation, n_draws, level) -> None:
    """Refuse option values att_gt does not know, with the accepted ones."""
    check_level(level, "att_gt")
    if control not in ("never", "notyet"):
        raise OptionError(f"att_gt: control={control!r}; use 'never' or 'notyet'.")
    if method not in ESTIMATORS:
        raise OptionError(f"att_gt: method={method!r}; use 'dr', 'ipw' or 'reg'.")
    if base_period not in ("varying", "universal"):
        raise OptionError(f"att_gt: base_period={base_period!r}; use 'varying' or 'universal'.")
    if isinstance(anticipation, bool) or not isinstance(anticipation, (int, np.integer)) or anticipation < 0:
        raise OptionError(f"att_gt: anticipation={anticipation!r} must be a whole number of periods >= 0.")
    if n_draws is not None and (isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer))
                                or n_draws < 2):
        raise OptionError(f"att_gt: n_draws={n_draws!r}; use None (analytic standard errors) or a "
                          "number of multiplier-bootstrap draws such as 999.")


def _prepare_panel(data: PanelData, anticipation: int, control: str) -> DidPanel:
    """Reshape the checked long arrays into units x periods matrices (R ``did::pre_process_did``).

    The door (:meth:`PanelData.from_frame`) refused repeated unit-periods and cohorts, weights
    or clusters that change within a unit; here every unit must be observed in every period.
    Memory: columns are reordered one at a time straight into the matrices.
    """
    notes: list[str] = []
    unit_labels, periods = data.unit_labels, data.periods
    n_rows, n_units, n_periods = data.n_rows, data.n_units, data.n_times
    if n_rows != n_units * n_periods:
        raise IdentificationError(
            f"att_gt: the panel is not balanced ({n_rows} rows for {n_units} units x "
            f"{n_periods} periods). With panel=True every unit must be observed exactly once in every "
            "period: balance the panel (keep units observed in all periods) or pass panel=False to treat "
            "the data as repeated cross-sections.",
            reason="not_balanced",
        )
    # panel=True passed a unit column and att_gt requires a cohort, so the door filled these
    assert data.row_order is not None and data.cohort is not None and unit_labels is not None
    # rows in (unit, period) order: row u * n_periods + p is cell (u, p)
    order = data.row_order
    first_rows = order[::n_periods]
    unit_cohort = np.nan_to_num(data.cohort[first_rows], nan=0.0)
    unit_weights = np.ones(n_units) if data.weights is None else data.weights[first_rows]
    unit_cluster = None if data.cluster_codes is None else data.cluster_codes[first_rows]
    outcome_matrix = np.take(data.y, order).reshape(n_units, n_periods)
    cov = None
    constant = True
    if data.covariates:
        cov = np.empty((n_units, n_periods, len(data.covariates)))
        for j, values in enumerate(data.covariates.values()):
            cov[:, :, j] = np.take(values, order).reshape(n_units, n_periods)
        constant = bool(np.all(cov == cov[:, :1, :]))
        if constant:  # one period holds every value; keep only that (n_units x 1 x k)
            cov = cov[:, :1, :].copy()

    timing = recode_cohorts(unit_cohort, periods, anticipation, control, "unit")
    keep, keep_periods = timing.keep, timing.keep_periods
    if not keep.all():
        outcome_matrix = outcome_matrix[keep]
        cov = cov[keep] if cov is not None else None
    if not keep_periods.all():
        outcome_matrix = outcome_matrix[:, keep_periods]
        cov = cov[:, keep_periods] if cov is not None and not constant else cov
    unit_cohort, unit_weights, unit_labels = timing.cohort[keep], unit_weights[keep], unit_labels[keep]
    unit_cluster = None if unit_cluster is None else unit_cluster[keep]
    periods = periods[keep_periods]
    notes.extend(timing.notes)
    return DidPanel(periods=periods, cohort=unit_cohort, outcome=outcome_matrix, covariates=cov,
                    covariates_constant=constant, weights=unit_weights,
                    units=np.asarray(unit_labels), notes=notes, cluster_codes=unit_cluster)


def _design(panel: DidPanel, rows: np.ndarray, period_index: int) -> np.ndarray:
    intercept = np.ones((len(rows), 1))
    if panel.covariates is None:
        return intercept
    return np.hstack([intercept, panel.covariates[rows, period_index, :]])


def _estimate_cells(panel: DidPanel, control: str, method: str, base_period: str,
                    anticipation: int):
    """Estimate every (cohort, period) cell of R ``did::compute.att_gt`` on the unit panel."""
    periods, unit_cohort = panel.periods, panel.cohort
    n = len(unit_cohort)
    estimator = ESTIMATORS[method]
    cohorts = np.unique(unit_cohort[unit_cohort > 0])
    cells = list(iter_cells(periods, cohorts, control, base_period, anticipation))
    influence = np.zeros((n, len(cells)), order="F")  # column writes stay contiguous
    kept: list[tuple] = []
    pscore_cache: dict[tuple, PropensityFit] = {}
    skipped: list[str] = []
    for cell in cells:
        if cell.reference:
            kept.append((cell, 0.0))
            continue
        control_rows = comparison_mask(unit_cohort, cell)
        if not control_rows.any():
            skipped.append(f"({cell.cohort:g}, {periods[cell.current]})")
            continue
        treated_rows = unit_cohort == cell.cohort
        rows = np.flatnonzero(treated_rows | control_rows)
        treated = treated_rows[rows].astype(float)
        delta_y = panel.outcome[rows, cell.current] - panel.outcome[rows, cell.base]
        # time-varying covariates: values in the earlier of the two periods (R did panel2cs2)
        cov_period = -1 if panel.covariates_constant else min(cell.base, cell.current)
        design = _design(panel, rows, max(cov_period, 0))
        weights = panel.weights[rows]
        fit = None
        if method in ("dr", "ipw"):
            # the logit depends only on who is compared and on their covariate values
            key = (cell.cohort, cell.horizon, cov_period)
            fit = pscore_cache.get(key)
            if fit is None:
                fit = fit_logit(treated, design, weights / weights.mean())
                pscore_cache[key] = fit
        att, inf = estimator(delta_y, treated, design, weights, pscore_fit=fit)
        # R did: rescale the 2x2 influence function from the cell's units to all units
        influence[rows, len(kept)] = (n / len(rows)) * inf
        kept.append((cell, att))
    return cell_arrays(kept, periods, influence, skipped)


class AttGtResults(Results):
    """Group-time ATTs with unit-level influence functions; aggregate with ``.aggregate(kind)``."""

    title = "Group-time average treatment effects ATT(g,t) (Callaway & Sant'Anna 2021)"
    estimator = "att_gt"

    def __init__(self, *, cohort, time, estimate, post, influence, panel, nobs: int,
                 n_draws: int | None, seed: int | None, settings: dict,
                 clusters: Clusters | None = None, level: float = 0.95) -> None:
        super().__init__()
        self.level = level
        self.cohort, self.time, self.estimate, self.post = cohort, time, estimate, post
        #: n x n_cells influence functions; n = units (panel) or rows (cross-sections)
        self.influence = influence
        self.unit_cohort = panel.cohort
        self.unit_weights = panel.weights
        self.periods = panel.periods
        self.n_units = len(panel.cohort)
        self.nobs = nobs
        #: multiplier-bootstrap draws (None: analytic standard errors)
        self.n_draws, self.seed, self.settings = n_draws, seed, settings
        #: cluster membership of the influence rows (None: each unit/row its own cluster)
        self.clusters = clusters
        self.std_error, self.crit_value = standard_errors(influence, n_draws, seed, tag=0,
                                                          clusters=clusters, level=level)
        self.notes.extend(panel.notes)
        self.n_clusters = clusters.count if clusters is not None else self.n_units
        self.control_group = "never-treated" if settings["control"] == "never" else "not-yet-treated"
        self.options = dict(settings, n_draws=n_draws, seed=seed)

    def _coefficients(self) -> pd.DataFrame:
        table = pd.DataFrame({"cohort": self.cohort, "time": self.time})
        table.insert(0, "term", key_terms(table, ["cohort", "time"]))
        return table.assign(estimate=self.estimate, std_error=self.std_error)

    def _critical_value(self, level: float) -> float:
        """Normal, or with the bootstrap the simultaneous (sup-t) band's own critical value,
        redrawn from the same seed at another ``level``."""
        if self.n_draws is None:
            return critical_value(level)
        if level == self.level:
            return self.crit_value
        return standard_errors(self.influence, self.n_draws, self.seed, tag=0, clusters=self.clusters,
                               level=level)[1]

    def plot(self, ax=None):
        """ATT(g,t) by period, one panel per cohort (as R ``did::ggdid``): pre-treatment cells
        grey, post-treatment blue, with the table's intervals (simultaneous when bootstrapped).
        Returns the matplotlib Figure; ``ax`` (one Axes) draws every cohort into it instead."""
        from matplotlib.figure import Figure

        table = self.tidy()
        cohorts = list(dict.fromkeys(table["cohort"]))
        axes: np.ndarray | list
        if ax is None:
            figure = Figure(figsize=(7, 2.2 * len(cohorts)))
            axes = np.atleast_1d(figure.subplots(len(cohorts), 1, sharex=True, squeeze=False)[:, 0])
        else:
            figure, axes = ax.figure, [ax] * len(cohorts)
        for axis, g in zip(axes, cohorts):
            part = table[table["cohort"] == g]
            post = part["time"] >= g
            for mask, colour, label in ((~post, "tab:grey", "pre-treatment"), (post, "tab:blue", "post-treatment")):
                cells = part[mask]
                axis.errorbar(cells["time"], cells["estimate"],
                              yerr=[cells["estimate"] - cells["conf_low"], cells["conf_high"] - cells["estimate"]],
                              fmt="o", color=colour, capsize=3, label=label)
            axis.axhline(0.0, color="black", linewidth=0.8)
            axis.set_ylabel(f"ATT, cohort {g}")
        axes[0].set_title(self.title)
        axes[0].legend(frameon=False)
        axes[-1].set_xlabel("period")
        return figure

    def aggregate(self, kind: str = "simple", *, min_e: float = -np.inf, max_e: float = np.inf,
                  balance_e: int | None = None, level: float | None = None):
        """Aggregate ATT(g,t) as R ``did::aggte``: kind = simple, group, dynamic or calendar;
        intervals at ``level`` (default: this result's)."""
        from effectmeting.estimate.callaway_santanna.aggregate import aggregate

        return aggregate(self, kind, min_e=min_e, max_e=max_e, balance_e=balance_e, level=level)


@renamed_arguments(bootstrap="n_draws")
def att_gt(data: pd.DataFrame, *, outcome: str, unit: str, time: str, cohort: str,
           control: str = "never", covariates: Sequence[str] | None = None, method: str = "dr",
           base_period: str = "varying", anticipation: int = 0, weights: str | None = None,
           panel: bool = True, n_draws: int | None = None, seed: int | None = None,
           cluster: str | None = None, level: float = 0.95) -> AttGtResults:
    """Callaway & Sant'Anna (2021) ATT(g,t) for staggered adoption, as R ``did::att_gt``.

    Parameters
    ----------
    data: long panel, one row per unit and period.
    outcome, unit, time: column names; ``time`` is numeric (e.g. year), equally spaced.
    cohort: first treated period per unit (same units as ``time``); 0 or NA = never treated.
    control: "never" (never-treated units) or "notyet" (never + not-yet-treated units).
    covariates: column names entering the propensity score / outcome regression linearly.
        Time-varying covariates are taken in the earlier of a cell's two periods (the base
        period, except for universal-base cells before it), as R did does.
    method: "dr" (doubly robust, DRDID ``drdid_panel``), "ipw" or "reg".
    base_period: "varying" or "universal" (see module docstring).
    anticipation: number of periods before ``cohort`` in which units may already react.
    weights: optional column of (time-invariant) sampling weights.
    panel: True for a balanced panel (influence functions per unit); False for repeated
        cross-sections (DRDID ``*_rc`` estimators, influence functions per row).
    n_draws: None for analytic SEs and pointwise intervals; an integer number of
        multiplier-bootstrap draws (Rademacher, as R did) for bootstrap SEs and simultaneous
        (sup-t) bands (deprecated name: ``bootstrap``).
    seed: seed of the draws; None means :data:`~effectmeting.defaults.DEFAULT_SEED`.
    level: confidence level of the intervals (and bands), 0 < level < 1.
    cluster: optional column of a coarser cluster (e.g. the municipality of person-level units),
        constant within unit.  Analytic variances then sum influence values within cluster
        (CR1, as diff-diff's ``cluster=``) and the bootstrap draws one weight per cluster (R
        ``did``'s ``clustervars``); see :mod:`effectmeting.estimate.core.clustering`.  Without it,
        units (panel) or rows (cross-sections) are the clusters, as in R ``did``.

    Units first treated in the first period are dropped with a warning (as R did); the result's
    ``influence`` is an n_units x n_cells array (per unit, also when clustered: the variance
    collapses it by ``result.clusters``).
    """
    _check_options(control, method, base_period, anticipation, n_draws, level)
    seed = resolve_seed(seed)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates or [])
    checked = PanelData.from_frame(
        data, unit=unit if panel else None, time=time, outcome=outcome, cohort=cohort, weights=weights,
        cluster=cluster, covariates=covariates, who="att_gt",
        constant_within_unit=[c for c in (cohort, weights, cluster) if c is not None])
    _refuse_negative_cohorts(checked, cohort)
    prepared: DidPanel | CrossSections
    if panel:
        prepared = _prepare_panel(checked, anticipation, control)
        cohort_arr, time_arr, att, post, influence, notes = _estimate_cells(
            prepared, control, method, base_period, anticipation)
        nobs = len(prepared.cohort) * len(prepared.periods)
    else:
        from effectmeting.estimate.callaway_santanna.repeated_cross_sections import (estimate_cells_rc,
                                                                prepare_cross_sections)

        prepared = prepare_cross_sections(checked, control, anticipation)
        cohort_arr, time_arr, att, post, influence, notes = estimate_cells_rc(
            prepared, control, method, base_period, anticipation)
        nobs = len(prepared.cohort)
    if len(att) == 0:
        raise IdentificationError("att_gt: no (cohort, period) cell could be estimated.", reason="no_cells")
    clusters: Clusters | None = None
    if cluster is not None:
        assert prepared.cluster_codes is not None  # the door coded the cluster column
        clusters = clusters_from_codes(cluster, prepared.cluster_codes, estimator="att_gt")
    result = AttGtResults(cohort=cohort_arr, time=time_arr, estimate=att, post=post,
                          influence=influence, panel=prepared, nobs=nobs, n_draws=n_draws, seed=seed,
                          settings=dict(control=control, method=method, base_period=base_period,
                                        anticipation=anticipation, covariates=covariates,
                                        cluster=cluster),
                          clusters=clusters, level=level)
    result.notes.extend(notes)
    entities = f"{result.n_units} units" if panel else f"repeated cross-sections: {result.n_units} rows"
    clustering = (clusters.note() if clusters is not None else
                  "clustered by unit" if panel else "each row its own cluster")
    result.notes.append(
        f"Comparison: {'never-treated' if control == 'never' else 'not-yet-treated'} units; "
        f"method {method}; base period {base_period}; anticipation {anticipation}; "
        f"{entities}, {clustering}.")
    result.notes.append(
        f"Intervals: pointwise {level:.0%}, analytic SEs from influence functions." if n_draws is None else
        f"Intervals: simultaneous (sup-t) {level:.0%} bands, multiplier bootstrap ({n_draws} draws, "
        f"Rademacher weights{', one per cluster' if clusters is not None else ''}, seed {seed}).")
    return result
