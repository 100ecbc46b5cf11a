"""Effects of a design choice on cost lines: overall ATT, event-time effects, cumulative net cost.

Estimators (``estimator=``): ``"cs"`` Callaway & Sant'Anna (2021) ATT(g,t) per cost line
(:func:`effectmeting.estimate.callaway_santanna.att_gt.att_gt`) aggregated as R ``did::aggte``;
``"sa"`` Sun & Abraham (2021); ``"imputation"`` Borusyak, Jaravel & Spiess (2024); ``"twfe"``
two-way fixed effects, biased under heterogeneous effects and shown for contrast only (see
:mod:`.estimators`).  Unit of every effect: constant euros (price base year of the panel) per
inhabitant per year.

Cumulative net cost over ``k`` years after adoption is ``sum_{e=0}^{k-1} theta(e)``, the sum of
the event-time effects.  Its standard error comes from per-municipality influence values
``phi`` (:mod:`.line_fits`; ``SE = sqrt(sum_i phi_i^2)``): the influence value of a sum is the
sum of the influence values (for CS including the term for the estimated cohort shares), so the
covariances between event times -- and, with :meth:`CostEffectResults.combine`, between lines --
are taken into account.  Caveat: without ``balanced=True`` different
event times average over different cohorts (late adopters are not observed long); with
``balanced=True`` only cohorts observed at least ``horizon`` years after adoption are used for
all event times (R ``aggte(balance_e = horizon - 1)``).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from effectmeting.costs.estimators import arrays_for, check_options, cs_fits, fit
from effectmeting.costs.line_fits import ESTIMATORS, LineFits, cumulative, standard_error
from effectmeting.costs.lines import DOMAINS, SOCIAL_TOTAL, SOCIETAL_TOTAL, cost_lines
from effectmeting.costs.treatment import COHORT, estimation_frame
from effectmeting.errors import IdentificationError
from effectmeting.estimate.core.results import Results, check_level, contract_table, critical_value
from effectmeting.harmonise.panel import Panel


def _critical_value(level: float) -> float:
    """Two-sided standard-normal critical value of a ``level`` interval (1.96 for 0.95); a level
    outside (0, 1) is an :class:`OptionError`."""
    return critical_value(check_level(level, "cost_effect"))

TIDY_COLUMNS = ["line", "aggregation", "key", "estimate", "std_error", "conf_low", "conf_high"]


class CostEffectResults(Results):
    """Cost effects per line: ``tidy()`` has one row per line x (overall | event_time | cumulative) x key.

    ``influence``: per-municipality influence values, one column per tidy row (MultiIndex
    ``line, aggregation, key``) with ``std_error = sqrt(sum over municipalities of phi^2)``;
    :meth:`combine` uses them for sums of lines.
    """

    def __init__(self, design: str, table: pd.DataFrame, treated_population: float, attgt: dict,
                 excluded: pd.DataFrame, notes: list[str], unit: str, estimator: str = "cs",
                 influence: pd.DataFrame | None = None, level: float = 0.95) -> None:
        super().__init__()
        self.design, self.table, self.unit, self.estimator = design, table, unit, estimator
        #: sum over adopters of their mean population in the years from adoption on (inhabitants)
        self.treated_population = treated_population
        #: line -> AttGtResults (estimator "cs" only; empty otherwise)
        self.attgt = attgt
        self.excluded = excluded
        self.influence = influence
        #: coverage of the pointwise intervals (also used by :meth:`combine`)
        self.level = level
        self.title = f"Cost effects of {design} ({unit}; estimator {estimator})"
        self.notes.extend(notes)

    def estimates(self) -> pd.DataFrame:
        """The cost effects as ``cost_effects.csv`` holds them: :data:`TIDY_COLUMNS` of this module."""
        return self.table[TIDY_COLUMNS].copy()

    def tidy(self, level: float | None = None) -> pd.DataFrame:
        """The results contract: ``term`` (``line: aggregation[::key]``), ``line, aggregation, key``,
        then ``estimate, std_error, statistic, p_value, conf_low, conf_high`` (normal intervals at
        any ``level``, as the stored ones)."""
        table = self.estimates()
        key = table["key"].astype(str)
        terms = table["line"] + ": " + table["aggregation"] + key.where(key == "", "::" + key)
        return contract_table(table, terms, level=level, stored_level=self.level)

    def combine(self, lines: Sequence[str], name: str = "combined") -> pd.DataFrame:
        """Rows (overall, event times, cumulative) of the sum of ``lines``, e.g. a total of own lines.

        Estimate: the sum of the lines' estimates; SE from the summed influence values, so the
        covariance between the lines (same municipalities) is included.  Same columns as :meth:`estimates`.
        """
        unknown = [line for line in lines if line not in set(self.table["line"])]
        if unknown or not lines:
            raise IdentificationError(f"combine: line(s) {unknown or list(lines)} not estimated; estimated lines: "
                                      f"{list(dict.fromkeys(self.table['line']))}")
        if self.influence is None:
            raise IdentificationError("combine: this result carries no per-municipality influence values, "
                                      "so the SE of a sum of lines cannot be computed")
        rows = self.table[self.table["line"] == lines[0]][["aggregation", "key"]].reset_index(drop=True)
        keys = list(zip(rows["aggregation"], rows["key"]))
        indexed = self.table.set_index(["line", "aggregation", "key"])["estimate"]
        estimate = sum(indexed.loc[[(line, a, k) for a, k in keys]].to_numpy() for line in lines)
        phi = sum((self.influence.loc[:, [(line, a, k) for a, k in keys]].to_numpy() for line in lines),
                  np.zeros((len(self.influence), len(keys))))
        se = standard_error(phi)
        z = _critical_value(self.level)
        return pd.DataFrame({"line": name, "aggregation": rows["aggregation"], "key": rows["key"],
                             "estimate": estimate, "std_error": se, "conf_low": estimate - z * se,
                             "conf_high": estimate + z * se})

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
                balanced: bool = False, level: float = 0.95) -> CostEffectResults:
    """Effect of adopting ``design`` (``"dimension=value"``) on cost lines, per inhabitant per year.

    ``lines``: columns of :func:`~effectmeting.costs.lines.cost_lines` (taakvelden such as
    ``cost_6_72_per_inhabitant``, domains ``youth``, ..., ``total_social_domain``, added lines,
    ``total_societal_cost``); default: the five domains, ``total_social_domain`` and, with added
    lines, those and ``total_societal_cost``.
    ``estimator``: ``"cs"`` (Callaway & Sant'Anna, doubly robust), ``"sa"`` (Sun & Abraham,
    never-treated comparison), ``"imputation"`` (Borusyak, Jaravel & Spiess; never- and
    not-yet-treated municipality-years) or ``"twfe"`` (two-way fixed effects: static for the
    overall effect, fully dynamic by event time; biased when effects differ across cohorts or
    event times, for contrast only).  ``control``: ``"never"`` or ``"notyet"`` (cs; sa: never).
    ``covariates``: panel columns for the doubly-robust adjustment (cs only).
    ``horizon``: cumulative net cost for k = 1..horizon years after adoption.
    ``balanced``: use only cohorts observed ``horizon`` years after adoption (cs only; see module docstring).
    ``level``: coverage of the pointwise intervals (normal critical value; 0.95 gives 1.959963984540054).

    Estimates: constant euros of ``panel.price_base_year`` per inhabitant per year (overall and
    event time) and per inhabitant over k years (cumulative).  Intervals: pointwise 95 %, analytic
    SEs clustered by municipality (cs: influence functions; sa/twfe: CR1; imputation: BJS
    Theorem 3, conservative; for sa and imputation with the term for estimated cohort shares, so
    they can exceed ``sun_abraham``'s / ``imputation_did``'s fixed-share SEs when effects differ
    across cohorts, and match a municipality bootstrap).  All lines use the same municipalities
    (complete in every line and covariate), so effects on a total equal the sum of the effects on its parts, and
    :meth:`CostEffectResults.combine` gives sums of lines with correct SEs.
    """
    option_notes = check_options(estimator, "cost_effect", control=control, covariates=covariates,
                                 balanced=balanced)
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
    arrays = arrays_for(data, lines, estimator, control)
    if estimator == "cs":
        fits, attgt = cs_fits(data, lines, control=control, covariates=covariates,
                              balance_e=horizon - 1 if balanced else None, units=arrays.units)
    else:
        fits, attgt = fit(arrays, lines, estimator), {}
    table, influence = _rows(fits, horizon, _critical_value(level))
    unit = f"constant euros of {panel.price_base_year} per inhabitant per year"
    adopters = data[(data[COHORT] > data["year"].min()) & (data["year"] >= data[COHORT]) & (data[COHORT] > 0)]
    treated_population = float(adopters.groupby("municipality")["population_total"].mean().sum())
    inference = {"cs": "analytic influence-function SEs",
                 "sa": "CR1 cluster-robust SEs plus the term for the estimated cohort shares",
                 "imputation": "conservative Theorem-3 SEs (leave-one-out) plus the term for the estimated "
                               "cohort x horizon shares", "twfe": "CR1 cluster-robust SEs"}
    if estimator in ("sa", "imputation"):  # the same estimate in a design_effect study has a smaller SE
        inference[estimator] += (" (so they can exceed the SEs of sun_abraham / imputation_did and of the "
                                 "study's estimates.csv, which hold the shares fixed)")
    comparison = f", {control}-treated comparison" if estimator in ("cs", "sa") else ""
    notes = [*frame.notes, *arrays.notes, *option_notes,
             f"Estimator: {ESTIMATORS[estimator]}{comparison}"
             + (f", covariates {covariates}" if covariates else "") + f"; pointwise {level * 100:g}% intervals from "
             f"{inference[estimator]} clustered by municipality.",
             f"Unit: {unit}; cumulative rows: sum of event-time effects e = 0..k-1 (euros per inhabitant over "
             "k years), SEs from their summed per-municipality influence values"
             + ("; balanced over event times." if balanced else "; event times average over the cohorts "
                "observed that long (not balanced).")]
    return CostEffectResults(design, table, treated_population, attgt, frame.excluded, notes, unit,
                             estimator=estimator, influence=influence, level=level)


def _rows(fits: LineFits, horizon: int, z: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tidy rows (line-major: overall, event times, cumulative) and the matching influence columns."""
    # fit and cs_fits compute the influence values (variance=True)
    assert fits.phi_overall is not None and fits.phi_event is not None
    ks, cumulative_estimate, cumulative_phi = cumulative(fits, horizon)
    keys = ([("overall", "")] + [("event_time", str(int(e))) for e in fits.event_times]
            + [("cumulative", str(k)) for k in ks])
    estimate = np.vstack([fits.overall[None, :], fits.event, cumulative_estimate])       # keys x lines
    phi = np.concatenate([fits.phi_overall[:, None, :], fits.phi_event, cumulative_phi], axis=1)  # n x keys x L
    se = standard_error(phi)
    n_keys, n_lines = estimate.shape
    table = pd.DataFrame({"line": np.repeat(fits.lines, n_keys),
                          "aggregation": [a for a, _ in keys] * n_lines, "key": [k for _, k in keys] * n_lines,
                          "estimate": estimate.T.ravel(), "std_error": se.T.ravel()})
    table["conf_low"] = table["estimate"] - z * table["std_error"]
    table["conf_high"] = table["estimate"] + z * table["std_error"]
    columns = pd.MultiIndex.from_arrays([table["line"], table["aggregation"], table["key"]],
                                        names=["line", "aggregation", "key"])
    influence = pd.DataFrame(phi.transpose(0, 2, 1).reshape(len(fits.units), -1), columns=columns,
                             index=pd.Index(fits.units, name="municipality"))
    return table, influence
