"""Run one estimator on one outcome's frame and return its rows in the study's tidy shape.

Each ``run_*`` gets a balanced frame with ``municipality, year, <outcome>`` and the treatment
columns (``first_adoption_year``, ``treated``), and returns an :class:`EstimatorRun`: the
underlying Results object and the rows ``aggregation, key, estimate, std_error, conf_low,
conf_high, p_value, n_units``.

Event time convention (as Callaway-Sant'Anna, Sun-Abraham, imputation): ``0`` is the first
treated year, ``-1`` the last untreated year.  dCDH counts ``l = 1`` as the first switched
period and places its placebo ``-l`` at ``Y_{F-1-l} - Y_{F-1}``; its rows are shifted by one
(``l -> l - 1``, placebo ``-l -> -l - 1``) so all estimators share one axis.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from effectmeting.errors import FewClustersWarning, IdentificationError
from effectmeting.estimate.callaway_santanna.att_gt import att_gt
from effectmeting.estimate.dcdh.estimator import dcdh
from effectmeting.estimate.staggered.event_study import event_study_twfe
from effectmeting.estimate.fixest.feols import FEW_CLUSTERS, feols
from effectmeting.estimate.staggered.did2s import did2s
from effectmeting.estimate.staggered.imputation import imputation_did
from effectmeting.estimate.staggered.sun_abraham import sun_abraham
from effectmeting.estimate.fixest.wild_bootstrap import wild_cluster_bootstrap
from effectmeting.estimate.core.results import Results

UNIT, TIME, COHORT = "municipality", "year", "first_adoption_year"
ROW_COLUMNS = ["aggregation", "key", "estimate", "std_error", "conf_low", "conf_high", "p_value", "n_units"]
#: TWFE event-study window (binned endpoints) and the most pre/post periods asked of dCDH/imputation
TWFE_WINDOW = (-5, 5)
MAX_PLACEBOS = 4
#: bootstrap draws when TWFE's overall p-value and interval come from the wild cluster bootstrap
#: (below feols' FEW_CLUSTERS municipalities)
WILD_DRAWS = 999
MAX_EFFECTS = 8


@dataclass
class EstimatorRun:
    """One estimator on one outcome."""

    result: Results                     # the underlying Results object
    rows: pd.DataFrame                  # ROW_COLUMNS
    estimate: float                     # overall effect (outcome units)
    std_error: float
    n_units: int
    #: CS only: influence function of the overall ATT per municipality (var = sum(IF^2)/n^2)
    influence: pd.Series | None = None
    extra: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _rows(table: pd.DataFrame, aggregation: str, n_units: int, key: str | None = None,
          shift: int = 0) -> pd.DataFrame:
    """Rows of a results-contract ``tidy()`` table in the study's shape (:data:`ROW_COLUMNS`):
    ``key`` names the key column (event time, cohort, year; shifted by ``shift``), none for the
    overall effect."""
    keys = [""] * len(table) if key is None else [str(int(value) + shift) for value in table[key]]
    numbers = {column: table[column].to_numpy(dtype=float)
               for column in ("estimate", "std_error", "conf_low", "conf_high", "p_value")}
    return pd.DataFrame({"aggregation": aggregation, "key": keys, **numbers, "n_units": n_units},
                        columns=ROW_COLUMNS)


def _event_study_rows(result, n_units: int, shift: int = 0) -> pd.DataFrame:
    """The overall effect and the effects by event time of an event-study result."""
    return pd.concat([_rows(result.tidy_overall(), "overall", n_units),
                      _rows(result.tidy(), "event_time", n_units, "event_time", shift)], ignore_index=True)


def quiet(function, *args, **kwargs):
    """Call an estimator, turning its warnings into notes (nothing disappears in a log)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*args, **kwargs)
    return result, [str(w.message) for w in caught]


def run_cs(frame: pd.DataFrame, outcome: str, *, control: str, covariates: list[str]) -> EstimatorRun:
    """Callaway-Sant'Anna (doubly robust when ``covariates``): simple, dynamic, group, calendar."""
    result, notes = quiet(att_gt, frame, outcome=outcome, unit=UNIT, time=TIME, cohort=COHORT,
                           control=control, covariates=covariates or None, method="dr")
    simple, dynamic = result.aggregate("simple"), result.aggregate("dynamic")
    group, calendar = result.aggregate("group"), result.aggregate("calendar")
    n = result.n_units
    parts = [_rows(simple.tidy(), "overall", n)]
    parts += [_rows(aggregate.tidy(), aggregate.key, n, aggregate.key) for aggregate in (dynamic, group, calendar)]
    # att_gt orders units by sorted label and drops none here (treated-at-start units are
    # excluded before), so the influence rows are the sorted municipalities
    units = np.sort(frame[UNIT].unique())
    influence = pd.Series(simple.influence, index=units) if len(units) == n else None
    if influence is None:
        notes.append(f"{outcome}: CS used {n} of {len(units)} municipalities; influence functions not aligned")
    return EstimatorRun(result, pd.concat(parts, ignore_index=True), simple.estimate, simple.std_error, n,
                        influence=influence, extra={"simple": simple, "dynamic": dynamic, "group": group,
                                                    "calendar": calendar}, notes=notes)




def run_sa(frame: pd.DataFrame, outcome: str, *, control: str, covariates: list[str]) -> EstimatorRun:
    """Sun-Abraham interaction-weighted event study; ``control='notyet'`` uses the last cohort."""
    result = sun_abraham(frame, outcome=outcome, unit=UNIT, time=TIME, cohort=COHORT,
                         control="never" if control == "never" else "last", covariates=covariates or None)
    n = int(frame[UNIT].nunique())
    rows = _event_study_rows(result, n)
    notes = ["Sun-Abraham with control='notyet': the last-adopting cohort (and never-adopters) is the control "
             "group, periods from its adoption on are dropped"] if control != "never" else []
    return EstimatorRun(result, rows, result.estimate, result.std_error, n, notes=notes)


def _lead_count(frame: pd.DataFrame) -> int:
    """How many pre-adoption periods every imputation lead dummy can use (at most MAX_PLACEBOS + 1)."""
    cohorts = frame.loc[frame[COHORT] > 0, COHORT]
    if cohorts.empty:
        return 0
    return int(min(MAX_PLACEBOS + 1, cohorts.max() - frame[TIME].min()))


def run_imputation(frame: pd.DataFrame, outcome: str, *, control: str, covariates: list[str]) -> EstimatorRun:
    """Borusyak-Jaravel-Spiess imputation: overall, horizons >= 0, and the BJS pre-trend leads."""
    leads = _lead_count(frame)
    result = imputation_did(frame, outcome=outcome, unit=UNIT, time=TIME, cohort=COHORT,
                            covariates=covariates or None, pretrends=leads or None)
    n = int(frame[UNIT].nunique())
    rows = _event_study_rows(result, n)
    notes = []
    if control != "never":
        notes.append("imputation always imputes from every untreated observation (never and not-yet adopters)")
    if leads:
        notes.append(f"imputation event times -{leads}..-1 are the BJS pre-trend coefficients (untreated "
                     "observations only), not effects")
    return EstimatorRun(result, rows, result.estimate, result.std_error, n, notes=notes)


def run_did2s(frame: pd.DataFrame, outcome: str, *, control: str, covariates: list[str]) -> EstimatorRun:
    """Gardner's two-stage DiD: the static ATT (overall) and the event study (leads and lags)."""
    result = did2s(frame, outcome=outcome, unit=UNIT, time=TIME, cohort=COHORT, event_study=True,
                   covariates=covariates or None)
    n = int(frame[UNIT].nunique())
    rows = _event_study_rows(result, n)
    notes = ["two-stage DiD: the overall effect is the static second stage (equal to the imputation "
             "estimator's overall ATT); event times before 0 are mean first-stage residuals (pre-trend check)"]
    if control != "never":
        notes.append("two-stage DiD always fits its first stage on every untreated observation (never and "
                     "not-yet adopters)")
    return EstimatorRun(result, rows, result.estimate, result.std_error, n, notes=notes)


def run_twfe(frame: pd.DataFrame, outcome: str, *, control: str, covariates: list[str],
             seed: int = 0) -> EstimatorRun:
    """Static TWFE ``outcome ~ treated | municipality + year`` (CR1 by municipality) and the binned
    TWFE event study; the conventional benchmark that staggered adoption can bias.

    With fewer than ``FEW_CLUSTERS`` municipalities the overall p-value and interval come from the
    WCR wild cluster bootstrap (Webb weights, ``WILD_DRAWS`` draws, ``seed``); the standard error
    stays the CR1 one, whose t-statistic the bootstrap refers to its own distribution.
    """
    formula = f"{outcome} ~ " + " + ".join(["treated", *covariates]) + " | municipality + year"
    n = int(frame[UNIT].nunique())
    with warnings.catch_warnings():
        if n < FEW_CLUSTERS:  # feols warns and recommends the wild bootstrap, which is used below instead
            warnings.simplefilter("ignore", FewClustersWarning)
        static = feols(formula, frame, vcov={"cluster": UNIT})
    term = static.tidy().set_index("term").loc["treated"]
    p_value, conf_low, conf_high = term["p_value"], term["conf_low"], term["conf_high"]
    window = f"TWFE event study: window {TWFE_WINDOW[0]}..{TWFE_WINDOW[1]} with binned endpoints"
    if n < FEW_CLUSTERS:
        wild = wild_cluster_bootstrap(static, "treated", n_draws=WILD_DRAWS, weight_type="webb", seed=seed)
        # B draws resolve p-values down to 1/B: never report p = 0
        p_value = max(float(wild["p_value"]), 1.0 / float(wild["draws"]))
        conf_low, conf_high = wild["conf_low"], wild["conf_high"]
        notes = [f"{window}; only {n} municipalities: the static TWFE p-value (at least 1/{int(wild['draws'])}) "
                 f"and interval come from the wild cluster bootstrap (WCR, Webb weights, {int(wild['draws'])} "
                 f"draws, seed {seed}; interval by test inversion), as cluster-robust t-tests over-reject with few "
                 "clusters; the standard error is the CR1 one the bootstrap t-statistic uses"]
    else:
        notes = [f"{window}; TWFE intervals use the t distribution with G-1 df (overall) as fixest"]
    overall = _rows(pd.DataFrame([term.to_dict() | {"p_value": p_value, "conf_low": conf_low,
                                                    "conf_high": conf_high}]), "overall", n)
    dynamic = event_study_twfe(frame, outcome=outcome, unit=UNIT, time=TIME, cohort=COHORT, window=TWFE_WINDOW)
    rows = pd.concat([overall, _rows(dynamic.tidy(), "event_time", n, "event_time")], ignore_index=True)
    return EstimatorRun(static, rows, float(term["estimate"]), float(term["std_error"]), n,
                        extra={"event_study": dynamic}, notes=notes)


def run_dcdh(frame: pd.DataFrame, outcome: str) -> EstimatorRun:
    """de Chaisemartin-D'Haultfoeuille on the switching 0/1 path (switchers back included).

    Asks for as many effects (up to MAX_EFFECTS) and placebos (up to MAX_PLACEBOS) as some
    switcher can support; fewer are asked for when a horizon has no usable switcher.
    """
    n_periods = int(frame[TIME].nunique())
    effects, placebos = min(MAX_EFFECTS, n_periods - 1), min(MAX_PLACEBOS, n_periods - 2)
    notes: list[str] = []
    while True:
        try:
            result = dcdh(frame, outcome=outcome, unit=UNIT, time=TIME, treatment="treated",
                          effects=effects, placebos=placebos)
            break
        except IdentificationError as exc:
            if exc.reason == "no_switchers_placebo" and placebos > 0:
                placebos -= 1
            elif effects > 1:
                effects -= 1
            else:
                raise
    if effects < min(MAX_EFFECTS, n_periods - 1) or placebos < min(MAX_PLACEBOS, n_periods - 2):
        notes.append(f"dCDH: {effects} effects and {placebos} placebos identified (no usable switcher beyond)")
    n = int(result.influence.shape[0])
    rows = _event_study_rows(result, n, shift=-1)
    notes.append("dCDH event times shifted by one to the common axis (0 = first treated year); overall = "
                 "average total effect per unit of treatment")
    return EstimatorRun(result, rows, result.estimate, result.std_error, n, notes=notes)


RUNNERS = {"cs": run_cs, "sa": run_sa, "imputation": run_imputation, "did2s": run_did2s, "twfe": run_twfe}


def run(estimator: str, frame: pd.DataFrame, outcome: str, *, control: str, covariates: list[str],
        time_varying: list[str], seed: int = 0) -> EstimatorRun:
    """Dispatch; CS gets every covariate (propensity score / outcome regression at the base
    period), SA, imputation, did2s and TWFE only the time-varying ones (constant ones are absorbed by
    the municipality effects).  ``seed`` seeds TWFE's wild bootstrap with few municipalities."""
    if estimator == "dcdh":
        return run_dcdh(frame, outcome)
    chosen = covariates if estimator == "cs" else time_varying
    if estimator == "twfe":
        return run_twfe(frame, outcome, control=control, covariates=chosen, seed=seed)
    return RUNNERS[estimator](frame, outcome, control=control, covariates=chosen)
