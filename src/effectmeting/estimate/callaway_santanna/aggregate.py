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
from effectmeting.estimate.core.results import Results

KINDS = {"simple": None, "group": "cohort", "dynamic": "event_time", "calendar": "time"}
_NORMAL_CRIT = 1.959963984540054


class AggregateResults(Results):
    """An aggregated effect: overall ``estimate``/``std_error`` and a per-key table."""

    def __init__(self, kind: str, key: str | None, estimate: float, std_error: float,
                 table: pd.DataFrame, influence: np.ndarray, notes: list[str],
                 key_influence: np.ndarray | None = None, clusters=None) -> None:
        super().__init__()
        self.kind, self.key = kind, key
        self.estimate, self.std_error = float(estimate), float(std_error)
        self.conf_low = self.estimate - _NORMAL_CRIT * self.std_error
        self.conf_high = self.estimate + _NORMAL_CRIT * self.std_error
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

    def tidy(self) -> pd.DataFrame:
        if self.key is None:
            return pd.DataFrame({"estimate": [self.estimate], "std_error": [self.std_error],
                                 "conf_low": [self.conf_low], "conf_high": [self.conf_high]})
        return self._table.copy()

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
            estimate=self.estimate, std_error=self.std_error)
        clustering = self.clusters.note() if self.clusters is not None else "clustered by unit"
        result.notes.append("Covariance of the event-time estimates from the influence functions "
                            f"(analytic, {clustering}).")
        return result

    def plot(self, ax=None):
        """Event-study plot (dynamic only): ATT by event time with interval bars (the table's
        intervals: pointwise, or simultaneous when bootstrapped) and a reference line at 0.
        Returns the matplotlib Figure (draws into ``ax`` when given)."""
        if self.kind != "dynamic":
            raise OptionError("plot() is available for kind='dynamic' aggregations only.")
        # a bare Figure (no pyplot) leaves the user's backend and global state alone
        from matplotlib.figure import Figure

        table = self._table
        if ax is None:
            figure = Figure(figsize=(7, 4))
            ax = figure.subplots()
        else:
            figure = ax.figure
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


def aggregate(attgt, kind: str, *, min_e: float = -np.inf, max_e: float = np.inf,
              balance_e: int | None = None) -> AggregateResults:
    """Aggregate an :class:`AttGtResults` like R ``did::aggte(type = kind)``."""
    from effectmeting.estimate.callaway_santanna.att_gt import standard_errors

    if kind not in KINDS:
        raise OptionError(f"aggregate: kind={kind!r}; use one of {sorted(KINDS)}.")
    cohort, time, att = attgt.cohort, attgt.time, attgt.estimate
    weights, unit_cohort = attgt.unit_weights, attgt.unit_cohort
    cohorts = np.unique(cohort)
    share_by_cohort = np.array([np.mean(weights * (unit_cohort == g)) for g in cohorts])
    pg = share_by_cohort[np.searchsorted(cohorts, cohort)]
    event = time - cohort
    boot, seed, clusters = attgt.bootstrap, attgt.seed, attgt.clusters
    tag = {"simple": 1, "group": 2, "dynamic": 3, "calendar": 4}[kind]
    if boot is None:
        notes = ["Intervals: pointwise 95%, analytic SEs from influence functions "
                 "(including the estimated cohort shares)."]
    else:
        notes = [f"SEs: multiplier bootstrap ({boot} draws, Rademacher weights, seed {seed}); "
                 "overall interval pointwise 95%"
                 + ("" if kind == "simple" else f", per-{KINDS[kind]} intervals simultaneous "
                    "(sup-t) 95% bands") + "."]
    if clusters is not None:
        notes.append(f"Standard errors {clusters.note()}.")

    if kind == "simple":
        keepers = np.flatnonzero((cohort <= time) & (time <= cohort + max_e))
        estimate, influence = _combine(attgt, keepers, pg, with_wif=True)
        se, _ = standard_errors(influence[:, None], boot, seed, tag, clusters)
        result = AggregateResults(kind, None, estimate, se[0], pd.DataFrame(), influence, notes,
                                  clusters=clusters)
        result.nobs = attgt.nobs
        return result

    if kind == "group":
        keys, estimates, columns = cohorts, [], []
        for g in cohorts:
            which = np.flatnonzero((cohort == g) & (g <= time) & (time <= cohort + max_e))
            est, inf = _combine(attgt, which, pg, with_wif=False)
            estimates.append(est); columns.append(inf)
        estimates, by_key = np.array(estimates), np.column_stack(columns)
        overall_share = share_by_cohort / share_by_cohort.sum()
        overall = float(np.sum(overall_share * estimates))
        # the shares' influence, with the cohorts playing the role of cells
        influence = by_key @ overall_share + _weight_influence(
            weights, unit_cohort, np.arange(len(cohorts)), share_by_cohort, cohorts, estimates)
    elif kind == "dynamic":
        include = np.ones(len(att), dtype=bool)
        event_times = np.unique(event)
        if balance_e is not None:
            include = (attgt.periods[-1] - cohort) >= balance_e
            event_times = np.unique(event[include])
            event_times = event_times[(event_times <= balance_e)
                                      & (event_times >= balance_e - attgt.periods[-1] + attgt.periods[0])]
        event_times = event_times[(event_times >= min_e) & (event_times <= max_e)]
        if len(event_times) == 0:
            raise IdentificationError("aggregate: no event times left after min_e/max_e/balance_e.")
        keys, estimates, columns = event_times, [], []
        for e in event_times:
            which = np.flatnonzero((event == e) & include)
            est, inf = _combine(attgt, which, pg, with_wif=True)
            estimates.append(est); columns.append(inf)
        estimates, by_key = np.array(estimates), np.column_stack(columns)
        positive = event_times >= 0
        if not positive.any():
            raise IdentificationError("aggregate: no post-treatment event times (e >= 0) to average.")
        overall = float(estimates[positive].mean())
        influence = by_key[:, positive].mean(axis=1)
    else:  # calendar
        keys = np.unique(time[time >= cohorts.min()])
        estimates, columns = [], []
        for t in keys:
            which = np.flatnonzero((time == t) & (cohort <= time))
            est, inf = _combine(attgt, which, pg, with_wif=True)
            estimates.append(est); columns.append(inf)
        estimates, by_key = np.array(estimates), np.column_stack(columns)
        overall = float(estimates.mean())
        influence = by_key.mean(axis=1)

    key_se, crit = standard_errors(by_key, boot, seed, tag * 10, clusters)
    if boot is None:
        crit = _NORMAL_CRIT
    overall_se, _ = standard_errors(influence[:, None], boot, seed, tag, clusters)
    name = KINDS[kind]
    table = pd.DataFrame({name: keys, "estimate": estimates, "std_error": key_se,
                          "conf_low": estimates - crit * key_se,
                          "conf_high": estimates + crit * key_se})
    result = AggregateResults(kind, name, overall, overall_se[0], table, influence, notes,
                              key_influence=by_key, clusters=clusters)
    result.nobs = attgt.nobs
    return result

