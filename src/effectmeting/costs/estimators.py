"""The four estimators of the cost modules, as calls of the package's estimators.

Effects with per-municipality influence values, bootstrap point estimates and the overall effect
with its SE (for the power simulation), for several cost lines at once:

* ``cs``: :func:`effectmeting.estimate.callaway_santanna.att_gt.att_gt` per line, aggregated as
  R ``aggte``; bootstrap draws by
  :func:`effectmeting.estimate.callaway_santanna.resampling.simple_att_draws`;
* ``sa``: :func:`effectmeting.estimate.staggered.sun_abraham.sun_abraham_effects`;
* ``imputation``: :func:`effectmeting.estimate.staggered.imputation.imputation_effects`;
* ``twfe``: :func:`effectmeting.estimate.staggered.panel.twfe_ols` -- static ``y ~ D | unit + year``
  for the overall effect, the dummies of :func:`~effectmeting.estimate.staggered.event_study.
  event_study_twfe` (every observed event time) for the event-time effects.

The regression estimators take all lines as outcome columns of one design (one solve), unit
frequency weights (a municipality bootstrap draw) as weights, and return the estimators' own
per-cluster influence values (clusters = municipalities).
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence

import numpy as np
import pandas as pd

from effectmeting.costs.line_fits import ESTIMATORS, LineFits, check_estimator
from effectmeting.costs.treatment import COHORT
from effectmeting.errors import IdentificationError
from effectmeting.estimate.callaway_santanna.aggregate import _combine  # one definition of the aggregation weights
from effectmeting.estimate.callaway_santanna.att_gt import att_gt
from effectmeting.estimate.callaway_santanna.resampling import simple_att_draws
from effectmeting.estimate.callaway_santanna.timing import recode_cohorts
from effectmeting.estimate.staggered.event_study import event_time_dummies
from effectmeting.estimate.staggered.imputation import imputation_effects
from effectmeting.estimate.staggered.panel import StaggeredData, twfe_ols
from effectmeting.estimate.staggered.sun_abraham import sun_abraham_effects


@dataclass
class UnitPanel:
    """Units x periods arrays of one or more outcomes, with the cohort recoding of att_gt applied."""

    units: np.ndarray
    periods: np.ndarray
    cohort: np.ndarray               # per unit, 0 = never treated (recoded as att_gt does)
    outcomes: dict[str, np.ndarray]  # name -> units x periods
    notes: list[str]


def unit_panel(frame: pd.DataFrame, columns: list[str], *, unit: str = "municipality", time: str = "year",
               cohort: str = COHORT, control: str = "never") -> UnitPanel:
    """Reshape a balanced long frame into unit x period arrays (units and periods sorted)."""
    wide = frame.pivot(index=unit, columns=time, values=columns)
    periods = np.array(sorted(frame[time].unique()))
    cohorts = frame.groupby(unit)[cohort].first().reindex(wide.index).to_numpy(float)
    timing = recode_cohorts(cohorts, periods, 0, control, "unit")
    keep = timing.keep
    outcomes = {c: wide[c].to_numpy(float)[keep][:, timing.keep_periods] for c in columns}
    return UnitPanel(units=wide.index.to_numpy()[keep], periods=periods[timing.keep_periods],
                     cohort=timing.cohort[keep], outcomes=outcomes, notes=list(timing.notes))


def check_options(estimator: str, where: str, *, control: str, covariates: Sequence[str] | None = None,
                  balanced: bool = False) -> list[str]:
    """Refuse option combinations an estimator does not support; notes on what ``control`` means."""
    check_estimator(estimator, where)
    if control not in ("never", "notyet"):
        raise IdentificationError(f"{where}: control={control!r}; use 'never' or 'notyet'")
    if estimator == "cs":
        return []
    if covariates:
        raise IdentificationError(f"{where}: covariates {list(covariates)} are supported with estimator='cs' only "
                                  "(doubly robust); drop them or use estimator='cs'")
    if balanced:
        raise IdentificationError(f"{where}: balanced=True is supported with estimator='cs' only; use "
                                  "estimator='cs' or balanced=False")
    if estimator == "sa" and control != "never":
        raise IdentificationError(f"{where}: estimator='sa' compares with never-treated municipalities only; "
                                  "use control='never' (or estimator='imputation' / 'cs' for not-yet-treated)")
    if estimator in ("imputation", "twfe"):
        return [f"{ESTIMATORS[estimator].split(' (')[0]} compares with every untreated municipality-year (never- and "
                f"not-yet-treated); control={control!r} applies to cs and sa only."]
    return []


def arrays_for(frame: pd.DataFrame, columns: list[str], estimator: str, control: str) -> UnitPanel:
    """Units x years arrays of ``columns`` with R did's cohort recoding (first-period adopters dropped,
    adoption after the last year = never); sa needs never-treated units, the others do not."""
    recode = control if estimator == "cs" else ("never" if estimator == "sa" else "notyet")
    return unit_panel(frame, columns, cohort=COHORT, control=recode)


def _staggered(cohort: np.ndarray, periods: np.ndarray, values: np.ndarray,
               weights: np.ndarray | None) -> tuple[StaggeredData, np.ndarray, np.ndarray]:
    """The balanced arrays (units x periods x lines) as a StaggeredData panel (rows unit-major,
    clusters = units) and its (rows, lines) outcome matrix; units with weight 0 (absent from a
    bootstrap draw) are left out.  Returns also the kept units' positions."""
    kept = np.arange(len(cohort)) if weights is None else np.flatnonzero(weights > 0)
    n, n_periods = len(kept), len(periods)
    unit_codes = np.repeat(np.arange(n), n_periods)
    time_codes = np.tile(np.arange(n_periods), n)
    outcomes = values[kept].reshape(n * n_periods, values.shape[2])
    panel = StaggeredData(
        unit_values=unit_codes, time_values=periods[time_codes], y=outcomes[:, 0],
        time=periods[time_codes].astype(float), cohort=np.repeat(np.where(cohort[kept] > 0, cohort[kept], np.inf),
                                                                 n_periods),
        unit_codes=unit_codes, n_units=n, time_codes=time_codes, n_times=n_periods, cluster_codes=unit_codes,
        covariates=np.empty((n * n_periods, 0)), weights=None if weights is None else np.repeat(weights[kept], n_periods))
    return panel, outcomes, kept


def _sa(panel: StaggeredData, outcomes: np.ndarray, variance: bool, share_term: bool):
    if not panel.never_treated.any():
        raise IdentificationError("no never-treated municipality in the sample (or in this bootstrap draw): "
                                  "estimator='sa' needs one; use estimator='cs' with control='notyet'")
    fit = sun_abraham_effects(panel, panel.never_treated, outcomes=outcomes, influence=variance,
                              share_term=share_term)
    return np.atleast_1d(fit.overall), fit.event_times, fit.event, fit.phi_overall, fit.phi_event


def _imputation(panel: StaggeredData, outcomes: np.ndarray, variance: bool, share_term: bool):
    horizons = np.unique(panel.event_time[panel.treated]).astype(int).tolist()
    if not horizons:
        raise IdentificationError("imputation: no treated municipality-year to estimate an effect for")
    fit = imputation_effects(panel, horizons, outcomes=outcomes, share_term=share_term and variance,
                             unit="municipality", time="year")
    psi = fit.psi if variance else None
    return (fit.estimates[0], np.array(horizons), fit.estimates[1:],
            None if psi is None else psi[:, 0], None if psi is None else psi[:, 1:])


def _twfe(panel: StaggeredData, outcomes: np.ndarray, variance: bool, share_term: bool):
    static = twfe_ols(panel, panel.treated.astype(float), ["treated"], outcomes=outcomes, influence=variance)
    event = np.where(np.isfinite(panel.cohort), panel.event_time, np.nan)
    low, high = int(np.nanmin(event)), int(np.nanmax(event))
    dummies, event_times = event_time_dummies(panel, min(low, -2), max(high, 0))
    dynamic = twfe_ols(panel, dummies, [f"event_time={e}" for e in event_times], outcomes=outcomes,
                       influence=variance)
    return (static.coef[0], np.array(event_times), dynamic.coef,
            None if static.influence is None else static.influence[:, 0], dynamic.influence)


_FITS = {"sa": _sa, "imputation": _imputation, "twfe": _twfe}


def fit_lines(cohort: np.ndarray, periods: np.ndarray, values: np.ndarray, lines: list[str], units: np.ndarray,
              estimator: str, weights: np.ndarray | None = None, variance: bool = True,
              share_term: bool = True) -> LineFits:
    """SA / imputation / TWFE effects of ``values`` (units x periods x lines; ``cohort`` 0 = never)."""
    panel, outcomes, kept = _staggered(cohort, periods, values, weights)
    overall, event_times, event, phi_overall, phi_event = _FITS[estimator](panel, outcomes, variance, share_term)
    return LineFits(lines=list(lines), units=units[kept], overall=np.asarray(overall, float),
                    event_times=np.asarray(event_times, int), event=np.asarray(event, float),
                    phi_overall=phi_overall, phi_event=phi_event)


def fit(arrays: UnitPanel, lines: list[str], estimator: str, weights: np.ndarray | None = None,
        variance: bool = True, share_term: bool = True) -> LineFits:
    """SA / imputation / TWFE effects of ``lines`` (all at once); ``weights``: unit frequency weights.

    ``share_term`` (sa, imputation): SEs include the estimated cohort shares of the aggregation
    (as CS), so they estimate the same variance as a municipality bootstrap; False: the package
    functions' fixed-share SEs.  TWFE coefficients need no such term (the CR1 sandwich covers them).
    """
    values = np.stack([arrays.outcomes[line] for line in lines], axis=2)
    return fit_lines(arrays.cohort, arrays.periods, values, lines, arrays.units, estimator, weights, variance,
                     share_term and estimator in ("sa", "imputation"))


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


def cs_fits(frame: pd.DataFrame, lines: list[str], *, control: str, covariates: list[str],
            balance_e: int | None, units: np.ndarray) -> tuple[LineFits, dict]:
    """Callaway-Sant'Anna per line with influence values ``psi / n`` (n = units; SE = sqrt(sum phi^2))."""
    attgt, overall, event, phi_overall, phi_event, event_times = {}, [], [], [], [], None
    for line in lines:  # one estimation per cost line
        result = att_gt(frame, outcome=line, unit="municipality", time="year", cohort=COHORT, control=control,
                        covariates=covariates or None)
        attgt[line] = result
        simple = result.aggregate("simple")
        event_times, estimates, influence = event_time_influence(result, balance_e)
        n = result.n_units
        overall.append(simple.estimate)
        phi_overall.append(simple.influence / n)
        event.append(estimates)
        phi_event.append(influence / n)
    assert event_times is not None  # set by the loop: callers pass at least one line
    fits = LineFits(lines=list(lines), units=units, overall=np.array(overall), event_times=event_times.astype(int),
                    event=np.column_stack(event), phi_overall=np.column_stack(phi_overall),
                    phi_event=np.stack(phi_event, axis=2))
    return fits, attgt


def overall_draws(arrays: UnitPanel, lines: list[str], estimator: str, weights: np.ndarray,
                  control: str = "never") -> np.ndarray:
    """Overall effects (B x L) for each row of ``weights`` (B x n unit frequency weights); NaN where a
    draw cannot be estimated (e.g. no never-treated municipality drawn)."""
    if estimator == "cs":
        return np.column_stack([simple_att_draws(arrays.outcomes[line], arrays.cohort, arrays.periods, weights,
                                                 control) for line in lines])
    out = np.full((len(weights), len(lines)), np.nan)
    for b, row in enumerate(weights):  # one least-squares fit per draw, all lines at once
        try:
            out[b] = fit(arrays, lines, estimator, row, variance=False).overall
        except (IdentificationError, np.linalg.LinAlgError, RuntimeError):
            continue  # counted and reported by the caller
    return out


def overall_with_se(cohort: np.ndarray, periods: np.ndarray, values: np.ndarray, estimator: str) -> tuple[float, float]:
    """SA / imputation / TWFE overall effect of one outcome (``values``: units x periods; ``cohort``:
    first treated period, 0 = never) and its analytic SE clustered by municipality (sa and
    imputation: with the term for the estimated cohort shares, as :func:`fit`)."""
    fits = fit_lines(cohort, periods, values[:, :, None], ["outcome"], np.arange(len(cohort)), estimator,
                     share_term=estimator in ("sa", "imputation"))
    assert fits.phi_overall is not None  # fit_lines computes it with variance=True (its default)
    return float(fits.overall[0]), float(np.sqrt(np.sum(fits.phi_overall[:, 0] ** 2)))
