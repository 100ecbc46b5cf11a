"""Effects of a design choice on cost lines: overall ATT, event-time effects, cumulative net cost.

Callaway & Sant'Anna (2021) ATT(g,t) per cost line (:func:`effectmeting.estimate.callaway_santanna.att_gt`),
aggregated as R ``did::aggte``.  Unit of every effect: constant euros (price base year of the
panel) per inhabitant per year.

Cumulative net cost over ``k`` years after adoption is ``sum_{e=0}^{k-1} theta(e)``, the sum of
the event-time effects.  Its standard error comes from the *joint* influence function of those
effects: the influence function of a sum is the sum of the influence functions (per unit,
including the term for the estimated cohort shares), so ``SE = sqrt(sum_i psi_i^2) / n`` with the
covariances between event times taken into account.  Caveat: without ``balanced=True`` different
event times average over different cohorts (late adopters are not observed long); with
``balanced=True`` only cohorts observed at least ``horizon`` years after adoption are used for
all event times (R ``aggte(balance_e = horizon - 1)``).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from effectmeting.costs.lines import DOMAINS, SOCIAL_TOTAL, SOCIETAL_TOTAL, cost_lines
from effectmeting.costs.treatment import COHORT, estimation_frame
from effectmeting.errors import IdentificationError
from effectmeting.estimate.aggregate import _combine  # one definition of the aggregation weights
from effectmeting.estimate.callaway_santanna import att_gt
from effectmeting.estimate.results import Results
from effectmeting.harmonise.panel import Panel

_Z = 1.959963984540054
TIDY_COLUMNS = ["line", "aggregation", "key", "estimate", "std_error", "conf_low", "conf_high"]


def event_time_influence(attgt, balance_e: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Event times, dynamic ATT per event time and their n_units x n_event_times influence functions.

    Same estimates and influence functions as ``attgt.aggregate("dynamic", balance_e=...)``
    (which reports only the per-key SEs), so sums over event times get correct SEs.
    """
    event = attgt.time - attgt.cohort
    include = np.ones(len(event), dtype=bool)
    event_times = np.unique(event)
    periods = attgt.periods
    if balance_e is not None:
        include = (periods[-1] - attgt.cohort) >= balance_e
        event_times = np.unique(event[include])
        event_times = event_times[(event_times <= balance_e) & (event_times >= balance_e - periods[-1] + periods[0])]
    cohorts = np.unique(attgt.cohort)
    share = np.array([np.mean(attgt.unit_weights * (attgt.unit_cohort == g)) for g in cohorts])
    pg = share[np.searchsorted(cohorts, attgt.cohort)]
    estimates, columns = [], []
    for e in event_times:  # one iteration per event time (about 15), not per data row
        estimate, influence = _combine(attgt, np.flatnonzero((event == e) & include), pg, with_wif=True)
        estimates.append(estimate)
        columns.append(influence)
    return event_times, np.array(estimates), np.column_stack(columns)


def _se(influence: np.ndarray) -> np.ndarray:
    """Analytic SE per column, ``sqrt(sum psi^2) / n`` (as att_gt)."""
    return np.sqrt(np.sum(influence ** 2, axis=0)) / influence.shape[0]


class CostEffectResults(Results):
    """Cost effects per line: ``tidy()`` has one row per line x (overall | event_time | cumulative) x key."""

    def __init__(self, design: str, table: pd.DataFrame, treated_population: float, attgt: dict,
                 excluded: pd.DataFrame, notes: list[str], unit: str) -> None:
        super().__init__()
        self.design, self.table, self.unit = design, table, unit
        #: sum over adopters of their mean population in the years from adoption on (inhabitants)
        self.treated_population = treated_population
        #: line -> AttGtResults
        self.attgt = attgt
        self.excluded = excluded
        self.title = f"Cost effects of {design} ({unit})"
        self.notes.extend(notes)

    def tidy(self) -> pd.DataFrame:
        return self.table[TIDY_COLUMNS].copy()

    def total_euros(self) -> pd.DataFrame:
        """Overall effects as euros per year over all treated municipalities: ATT x treated population.

        ``treated_population`` (inhabitants) is held fixed, so the interval is the ATT interval scaled.
        """
        overall = self.table[self.table["aggregation"] == "overall"]
        scale = self.treated_population
        return pd.DataFrame({"line": overall["line"].to_numpy(), "treated_population": scale,
                             "euros_per_year": overall["estimate"].to_numpy() * scale,
                             "conf_low": overall["conf_low"].to_numpy() * scale,
                             "conf_high": overall["conf_high"].to_numpy() * scale})


def default_lines(columns: Sequence[str]) -> list[str]:
    """Domains, the social-domain total and, when present, added lines and the societal total."""
    lines = [d for d in DOMAINS if d in columns]
    lines += [c for c in (SOCIAL_TOTAL,) if c in columns]
    lines += [c for c in columns if c.startswith("added_cost_")]
    lines += [c for c in (SOCIETAL_TOTAL,) if c in columns]
    return lines


def cost_effect(panel: Panel, *, design: str, lines: Sequence[str] | None = None, estimator: str = "cs",
                control: str = "never", covariates: Sequence[str] | None = None, horizon: int = 5,
                balanced: bool = False) -> CostEffectResults:
    """Effect of adopting ``design`` (``"dimension=value"``) on cost lines, per inhabitant per year.

    ``lines``: columns of :func:`~effectmeting.costs.lines.cost_lines` (taakvelden such as
    ``cost_6_72_per_inhabitant``, domains ``youth``, ..., ``total_social_domain``, added lines,
    ``total_societal_cost``); default: the five domains, ``total_social_domain`` and, with added
    lines, those and ``total_societal_cost``.
    ``estimator``: ``"cs"`` (Callaway & Sant'Anna, doubly robust; the only one with the
    influence functions the cumulative SEs need).  ``control``: ``"never"`` or ``"notyet"``.
    ``covariates``: panel columns for the doubly-robust adjustment.
    ``horizon``: cumulative net cost for k = 1..horizon years after adoption.
    ``balanced``: use only cohorts observed ``horizon`` years after adoption (see module docstring).

    Estimates: constant euros of ``panel.price_base_year`` per inhabitant per year (overall and
    event time) and per inhabitant over k years (cumulative).  Intervals: pointwise 95 %, analytic
    SEs, clustered by municipality.  All lines use the same municipalities (complete in every line
    and covariate), so effects on a total equal the sum of the effects on its parts.
    """
    if estimator != "cs":
        raise IdentificationError(f"cost_effect: estimator={estimator!r}; only 'cs' (Callaway-Sant'Anna) is "
                                  "available: cumulative costs need its influence functions")
    if horizon < 1:
        raise IdentificationError(f"cost_effect: horizon={horizon} must be at least 1 year")
    costs = cost_lines(panel, note=False)  # exclusions are noted by estimation_frame
    lines = list(lines) if lines is not None else default_lines(list(costs.columns))
    unknown = [line for line in lines if line not in costs.columns]
    if unknown:
        raise IdentificationError(f"cost_effect: unknown cost line(s) {unknown}; available: "
                                  f"{[c for c in costs.columns if c not in ('municipality', 'year')]}")
    covariates = list(covariates or [])
    frame = estimation_frame(panel, design, [*lines, *covariates, "population_total"], extra=costs)
    data = frame.data
    rows, fits = [], {}
    for line in lines:  # one estimation per cost line
        fit = att_gt(data, outcome=line, unit="municipality", time="year", cohort=COHORT, control=control,
                     covariates=covariates or None)
        fits[line] = fit
        rows.append(_line_rows(line, fit, horizon, balanced))
    table = pd.concat(rows, ignore_index=True)
    unit = f"constant euros of {panel.price_base_year} per inhabitant per year"
    adopters = data[(data[COHORT] > data["year"].min()) & (data["year"] >= data[COHORT]) & (data[COHORT] > 0)]
    treated_population = float(adopters.groupby("municipality")["population_total"].mean().sum())
    notes = [*frame.notes,
             f"Estimator: Callaway & Sant'Anna (2021), doubly robust, {control}-treated comparison"
             + (f", covariates {covariates}" if covariates else "") + "; pointwise 95% intervals from analytic "
             "influence-function SEs clustered by municipality.",
             f"Unit: {unit}; cumulative rows: sum of event-time effects e = 0..k-1 (euros per inhabitant over "
             "k years), SEs from their joint influence function"
             + ("; balanced over event times." if balanced else "; event times average over the cohorts "
                "observed that long (not balanced).")]
    return CostEffectResults(design, table, treated_population, fits, frame.excluded, notes, unit)


def _line_rows(line: str, fit, horizon: int, balanced: bool) -> pd.DataFrame:
    """Overall, event-time and cumulative rows of one line."""
    simple = fit.aggregate("simple")
    event_times, estimates, influence = event_time_influence(fit, horizon - 1 if balanced else None)
    se = _se(influence)
    cumulative_keys, cumulative_est, cumulative_se = [], [], []
    for k in range(1, horizon + 1):
        which = (event_times >= 0) & (event_times <= k - 1)
        if which.sum() < k:  # an event time 0..k-1 is not estimable: no cumulative for k and beyond
            break
        cumulative_keys.append(k)
        cumulative_est.append(float(estimates[which].sum()))
        cumulative_se.append(float(_se(influence[:, which].sum(axis=1, keepdims=True))[0]))
    parts = [
        pd.DataFrame({"aggregation": ["overall"], "key": [""], "estimate": [simple.estimate],
                      "std_error": [simple.std_error]}),
        pd.DataFrame({"aggregation": "event_time", "key": event_times.astype(int).astype(str),
                      "estimate": estimates, "std_error": se}),
        pd.DataFrame({"aggregation": "cumulative", "key": np.array(cumulative_keys, dtype=int).astype(str),
                      "estimate": np.array(cumulative_est, dtype=float),
                      "std_error": np.array(cumulative_se, dtype=float)}),
    ]
    table = pd.concat(parts, ignore_index=True)
    table.insert(0, "line", line)
    table["conf_low"] = table["estimate"] - _Z * table["std_error"]
    table["conf_high"] = table["estimate"] + _Z * table["std_error"]
    return table
