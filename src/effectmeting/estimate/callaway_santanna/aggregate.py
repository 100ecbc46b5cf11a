"""Aggregations of ATT(g,t) (R ``did::aggte``): simple, group, dynamic (event study), calendar.

Weights are cohort shares ``P(G = g)`` (with sampling weights).  As in R ``did``, the influence
function of an aggregate adds the term for estimating those shares ("wif"), so analytic standard
errors agree with R.  With a bootstrapped ``att_gt`` result the per-key standard errors come from
the multiplier bootstrap and the per-key intervals are simultaneous (sup-t) bands; the overall
effect always gets a pointwise interval, as in R.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from effectmeting.errors import IdentificationError, OptionError
from effectmeting.estimate.callaway_santanna.inference import standard_errors
from effectmeting.estimate.core.results import (Results, check_level, confidence_interval, critical_value,
                                                key_terms, new_figure)

KINDS = {"simple": None, "group": "cohort", "dynamic": "event_time", "calendar": "time"}
_TAGS = {"simple": 1, "group": 2, "dynamic": 3, "calendar": 4}


class AggregateResults(Results):
    """An aggregated effect: overall ``estimate``/``std_error`` (pointwise ``conf_low``/``conf_high``
    at ``level``) and, except for kind "simple", a per-key table (``tidy()``)."""

    estimator = "att_gt (aggregated)"

    def __init__(self, kind: str, key: str | None, estimate: float, std_error: float,
                 table: pd.DataFrame, influence: np.ndarray, notes: list[str],
                 key_influence: np.ndarray | None = None, clusters=None, level: float = 0.95,
                 key_crit: float | None = None, bootstrap: tuple | None = None) -> None:
        super().__init__()
        self.kind, self.key = kind, key
        self.estimate, self.std_error = float(estimate), float(std_error)
        self.level = level
        low, high = confidence_interval(self.estimate, self.std_error, level)
        self.conf_low, self.conf_high = float(low), float(high)
        #: per-key critical value at ``level``: sup-t of the bootstrap, else normal
        self.key_crit = critical_value(level) if key_crit is None else key_crit
        #: (draws, seed, tag) of the bootstrap the per-key bands come from; None: analytic
        self._bootstrap = bootstrap
        self.influence = influence
        #: (n_units, n_keys) influence functions of the per-key estimates (None for "simple")
        self.key_influence = key_influence
        #: cluster membership of the influence rows (None: units are the clusters)
        self.clusters = clusters
        self._table = table
        self.title = f"Aggregated ATT ({kind}): overall {self.estimate:.4f} (SE {self.std_error:.4f})"
        self.notes.extend(notes)

    def key_vcov(self) -> np.ndarray:
        """Analytic covariance (n_keys x n_keys) of the per-key estimates, from their influence
        functions: ``IF'IF / n^2``, or CR1 on cluster sums when ``att_gt`` was clustered."""
        if self.key_influence is None:
            raise OptionError("key_vcov() needs per-key estimates (not kind='simple').")
        if self.clusters is not None:
            return self.clusters.vcov(self.key_influence)
        return self.key_influence.T @ self.key_influence / self.key_influence.shape[0] ** 2

    def _coefficients(self) -> pd.DataFrame:
        if self.key is None:
            return pd.DataFrame({"term": key_terms(pd.DataFrame(index=[0]), []), "estimate": [self.estimate],
                                 "std_error": [self.std_error]})
        table = self._table[[self.key, "estimate", "std_error"]].copy()
        table.insert(0, "term", key_terms(table, [self.key]))
        return table

    def _overall(self) -> tuple[float, float]:
        return self.estimate, self.std_error

    def _critical_value(self, level: float) -> float:
        """Per-key critical value: normal, or the bootstrap's simultaneous (sup-t) one, redrawn
        from the same seed when another ``level`` is asked."""
        if self.key is None or self._bootstrap is None:
            return critical_value(level)
        if level == self.level:
            return self.key_crit
        assert self.key_influence is not None  # aggregate() sets it with key and bootstrap
        draws, seed, tag = self._bootstrap
        return standard_errors(self.key_influence, draws, seed, tag, self.clusters, level=level)[1]

    def to_event_study(self):
        """This dynamic aggregation as an :class:`EventStudyResults` for :func:`pretrend_test`
        and :func:`honest_did`: estimates by event time with their covariance from the
        influence functions (:meth:`key_vcov`, the analytic one also when bootstrapped).

        Event times whose estimate is zero by construction (the universal base period's
        reference cells, zero variance) become the ``reference`` rather than estimates.
        """
        from effectmeting.estimate.core.event_study_results import EventStudyResults

        if self.kind != "dynamic" or self.key_influence is None:
            raise OptionError("to_event_study() needs kind='dynamic'; use "
                              "att_gt(...).aggregate('dynamic').")
        vcov = self.key_vcov()
        table = self._table
        reference = (np.diag(vcov) <= 0) & (table["estimate"].to_numpy() == 0)
        keep = ~reference
        result = EventStudyResults(
            title="Callaway & Sant'Anna event study (dynamic aggregation)",
            event_time=table["event_time"].to_numpy()[keep], estimates=table["estimate"].to_numpy()[keep],
            vcov=vcov[np.ix_(keep, keep)], nobs=self.nobs,
            reference=tuple(table["event_time"].to_numpy()[reference].tolist()),
            estimate=self.estimate, std_error=self.std_error, level=self.level)
        result.estimator, result.control_group = "att_gt (dynamic)", self.control_group
        result.n_clusters, result.options = self.n_clusters, dict(self.options)
        clustering = self.clusters.note() if self.clusters is not None else "clustered by unit"
        result.notes.append("Covariance of the event-time estimates from the influence functions "
                            f"(analytic, {clustering}).")
        return result

    def plot(self, ax=None):
        """Event-study plot (kind "dynamic"; other kinds: one line per key): ATT by event time with interval bars (the table's
        intervals: pointwise, or simultaneous when bootstrapped) and a reference line at 0.
        Returns the matplotlib Figure (draws into ``ax`` when given)."""
        if self.kind != "dynamic":  # by cohort or period: the estimates with their intervals
            return super().plot(ax)
        table = self.tidy()
        figure, ax = new_figure(ax)
        pre = table["event_time"] < 0
        for mask, colour, label in ((pre, "tab:grey", "pre-treatment"), (~pre, "tab:blue", "post-treatment")):
            part = table[mask]
            ax.errorbar(part["event_time"], part["estimate"],
                        yerr=[part["estimate"] - part["conf_low"], part["conf_high"] - part["estimate"]],
                        fmt="o", color=colour, capsize=3, label=label)
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_xlabel("event time (periods since first treatment)")
        ax.set_ylabel("ATT")
        ax.legend(frameon=False)
        return figure


def _weight_influence(weights: np.ndarray, unit_cohort: np.ndarray, keepers: np.ndarray,
                      pg: np.ndarray, cell_cohort: np.ndarray, att: np.ndarray) -> np.ndarray:
    """``wif(keepers) @ att[keepers]`` of R did, computed in O(n) without the n x K matrix.

    ``pg`` are the cohort shares per cell; the derivative of ``pg_k / sum(pg)`` in unit i is
    ``(w_i 1{G_i = g_k} - pg_k) / S - sum_j (w_i 1{G_i = g_j} - pg_j) pg_k / S^2``.
    """
    cohorts = np.unique(cell_cohort[keepers])
    total = pg[keepers].sum()
    # per-cohort sums over the kept cells of att and of 1
    att_by_cohort = np.array([att[keepers][cell_cohort[keepers] == g].sum() for g in cohorts])
    count_by_cohort = np.array([(cell_cohort[keepers] == g).sum() for g in cohorts], dtype=float)
    position = np.searchsorted(cohorts, unit_cohort)
    member = (position < len(cohorts)) & (cohorts[np.minimum(position, len(cohorts) - 1)] == unit_cohort)
    unit_att = np.where(member, att_by_cohort[np.minimum(position, len(cohorts) - 1)], 0.0)
    unit_count = np.where(member, count_by_cohort[np.minimum(position, len(cohorts) - 1)], 0.0)
    weighted_att = np.sum(pg[keepers] * att[keepers])
    term1 = (weights * unit_att - weighted_att) / total
    term2 = (weights * unit_count - total) * weighted_att / total ** 2
    return term1 - term2


def _combine(attgt, keepers: np.ndarray, pg: np.ndarray, with_wif: bool):
    """Weighted average of the kept cells and its influence function."""
    att = attgt.estimate
    share = pg[keepers] / pg[keepers].sum()
    estimate = float(np.sum(share * att[keepers]))
    influence = attgt.influence[:, keepers] @ share
    if with_wif:
        influence = influence + _weight_influence(attgt.unit_weights, attgt.unit_cohort, keepers, pg,
                                                   attgt.cohort, att)
    return estimate, influence


def _notes(attgt, kind: str, level: float) -> list[str]:
    boot, seed, clusters = attgt.n_draws, attgt.seed, attgt.clusters
    if boot is None:
        notes = [f"Intervals: pointwise {level:.0%}, analytic SEs from influence functions "
                 "(including the estimated cohort shares)."]
    else:
        notes = [f"SEs: multiplier bootstrap ({boot} draws, Rademacher weights, seed {seed}); "
                 f"overall interval pointwise {level:.0%}"
                 + ("" if kind == "simple" else f", per-{KINDS[kind]} intervals simultaneous "
                    f"(sup-t) {level:.0%} bands") + "."]
    if clusters is not None:
        notes.append(f"Standard errors {clusters.note()}.")
    return notes


def _each_key(attgt, keys, select, pg: np.ndarray, with_wif: bool):
    """Per key: the weighted average of the cells ``select(key)`` picks, and its influence."""
    estimates, columns = [], []
    for key in keys:
        est, inf = _combine(attgt, np.flatnonzero(select(key)), pg, with_wif=with_wif)
        estimates.append(est)
        columns.append(inf)
    return np.array(estimates), np.column_stack(columns)


def _event_times(attgt, event: np.ndarray, min_e: float, max_e: float, balance_e: int | None):
    """Event times to report and the cells allowed in them (``balance_e``: cohorts observed that long)."""
    include = np.ones(len(event), dtype=bool)
    event_times = np.unique(event)
    if balance_e is not None:
        periods = attgt.periods
        include = (periods[-1] - attgt.cohort) >= balance_e
        event_times = np.unique(event[include])
        event_times = event_times[(event_times <= balance_e)
                                  & (event_times >= balance_e - periods[-1] + periods[0])]
    event_times = event_times[(event_times >= min_e) & (event_times <= max_e)]
    if len(event_times) == 0:
        raise IdentificationError("aggregate: no event times left after min_e/max_e/balance_e.")
    return event_times, include


def _by_key(attgt, kind: str, pg: np.ndarray, share_by_cohort: np.ndarray, cohorts: np.ndarray,
            min_e: float, max_e: float, balance_e: int | None):
    """``keys, estimates, by_key influence, overall, overall influence`` of a keyed aggregation."""
    cohort, time = attgt.cohort, attgt.time
    event = time - cohort
    if kind == "group":
        keys = cohorts
        estimates, by_key = _each_key(attgt, keys, lambda g: (cohort == g) & (g <= time) & (time <= cohort + max_e),
                                      pg, with_wif=False)
        overall_share = share_by_cohort / share_by_cohort.sum()
        overall = float(np.sum(overall_share * estimates))
        # the shares' influence, with the cohorts playing the role of cells
        influence = by_key @ overall_share + _weight_influence(
            attgt.unit_weights, attgt.unit_cohort, np.arange(len(cohorts)), share_by_cohort, cohorts, estimates)
    elif kind == "dynamic":
        keys, include = _event_times(attgt, event, min_e, max_e, balance_e)
        estimates, by_key = _each_key(attgt, keys, lambda e: (event == e) & include, pg, with_wif=True)
        positive = keys >= 0
        if not positive.any():
            raise IdentificationError("aggregate: no post-treatment event times (e >= 0) to average.")
        overall = float(estimates[positive].mean())
        influence = by_key[:, positive].mean(axis=1)
    else:  # calendar
        keys = np.unique(time[time >= cohorts.min()])
        estimates, by_key = _each_key(attgt, keys, lambda t: (time == t) & (cohort <= time), pg, with_wif=True)
        overall = float(estimates.mean())
        influence = by_key.mean(axis=1)
    return keys, estimates, by_key, overall, influence


def aggregate(attgt, kind: str, *, min_e: float = -np.inf, max_e: float = np.inf,
              balance_e: int | None = None, level: float | None = None) -> AggregateResults:
    """Aggregate an :class:`AttGtResults` like R ``did::aggte(type = kind)``; intervals at
    ``level`` (default the ``att_gt`` result's)."""
    if kind not in KINDS:
        raise OptionError(f"aggregate: kind={kind!r}; use one of {sorted(KINDS)}.")
    level = attgt.level if level is None else check_level(level, "aggregate")
    cohort, time = attgt.cohort, attgt.time
    weights, unit_cohort = attgt.unit_weights, attgt.unit_cohort
    cohorts = np.unique(cohort)
    share_by_cohort = np.array([np.mean(weights * (unit_cohort == g)) for g in cohorts])
    pg = share_by_cohort[np.searchsorted(cohorts, cohort)]
    boot, seed, clusters, tag = attgt.n_draws, attgt.seed, attgt.clusters, _TAGS[kind]
    notes = _notes(attgt, kind, level)

    if kind == "simple":
        keepers = np.flatnonzero((cohort <= time) & (time <= cohort + max_e))
        estimate, influence = _combine(attgt, keepers, pg, with_wif=True)
        se, _ = standard_errors(influence[:, None], boot, seed, tag, clusters)
        result = AggregateResults(kind, None, estimate, se[0], pd.DataFrame(), influence, notes,
                                  clusters=clusters, level=level)
    else:
        keys, estimates, by_key, overall, influence = _by_key(attgt, kind, pg, share_by_cohort, cohorts,
                                                              min_e, max_e, balance_e)
        key_se, crit = standard_errors(by_key, boot, seed, tag * 10, clusters, level=level)
        overall_se, _ = standard_errors(influence[:, None], boot, seed, tag, clusters)
        table = pd.DataFrame({KINDS[kind]: keys, "estimate": estimates, "std_error": key_se})
        result = AggregateResults(kind, KINDS[kind], overall, overall_se[0], table, influence, notes,
                                  key_influence=by_key, clusters=clusters, level=level, key_crit=crit,
                                  bootstrap=None if boot is None else (boot, seed, tag * 10))
    result.nobs, result.n_clusters, result.control_group = attgt.nobs, attgt.n_clusters, attgt.control_group
    result.options = dict(attgt.options, kind=kind, min_e=min_e, max_e=max_e, balance_e=balance_e)
    return result
