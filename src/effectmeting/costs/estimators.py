"""One entry point per task for the four estimators of the cost modules: effects with influence values,
bootstrap point estimates, and the overall effect with its SE (for the power simulation).

* ``cs``: :func:`effectmeting.estimate.callaway_santanna.att_gt.att_gt` per line (the reference
  implementation, R ``did``-equivalent), aggregated as R ``aggte``;
* ``sa``/``twfe``: :mod:`.regression_fits`; ``imputation``: :mod:`.imputation_fits` -- re-derivations
  that fit all lines at once and return per-municipality influence values, checked against
  :func:`effectmeting.sun_abraham`, :func:`effectmeting.imputation_did`,
  :func:`effectmeting.event_study_twfe` and pyfixest in the tests.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from effectmeting.costs.cluster_bootstrap import UnitPanel, unit_panel
from effectmeting.costs.imputation_fits import imputation_fit
from effectmeting.costs.line_fits import ESTIMATORS, LineFits, check_estimator
from effectmeting.costs.regression_fits import sun_abraham_fit, twfe_fit
from effectmeting.costs.treatment import COHORT
from effectmeting.errors import IdentificationError

_FITS = {"sa": sun_abraham_fit, "imputation": imputation_fit, "twfe": twfe_fit}


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


def fit(arrays: UnitPanel, lines: list[str], estimator: str, weights: np.ndarray | None = None,
        variance: bool = True, share_term: bool = True) -> LineFits:
    """SA / imputation / TWFE effects of ``lines`` (all at once); ``weights``: unit frequency weights.

    ``share_term`` (sa, imputation): SEs include the estimated cohort shares of the aggregation
    (as CS), so they estimate the same variance as a municipality bootstrap; False: the package
    functions' fixed-share SEs.  TWFE coefficients need no such term (the CR1 sandwich covers them).
    """
    values = np.stack([arrays.outcomes[line] for line in lines], axis=2)
    options = {"share_term": share_term} if estimator in ("sa", "imputation") else {}
    return _FITS[estimator](arrays.cohort, arrays.periods, values, lines, arrays.units, weights, variance, **options)


def cs_fits(frame: pd.DataFrame, lines: list[str], *, control: str, covariates: list[str],
            balance_e: int | None, units: np.ndarray) -> tuple[LineFits, dict]:
    """Callaway-Sant'Anna per line with influence values ``psi / n`` (n = units; SE = sqrt(sum phi^2))."""
    from effectmeting.costs.effects import event_time_influence
    from effectmeting.estimate.callaway_santanna.att_gt import att_gt

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
    fits = LineFits(lines=list(lines), units=units, overall=np.array(overall), event_times=event_times.astype(int),
                    event=np.column_stack(event), phi_overall=np.column_stack(phi_overall),
                    phi_event=np.stack(phi_event, axis=2))
    return fits, attgt


def overall_draws(arrays: UnitPanel, lines: list[str], estimator: str, weights: np.ndarray,
                  control: str = "never") -> np.ndarray:
    """Overall effects (B x L) for each row of ``weights`` (B x n unit frequency weights); NaN where a
    draw cannot be estimated (e.g. no never-treated municipality drawn)."""
    if estimator == "cs":
        from effectmeting.costs.cluster_bootstrap import simple_att_draws

        return np.column_stack([simple_att_draws(arrays, line, weights, control) for line in lines])
    out = np.full((len(weights), len(lines)), np.nan)
    for b, row in enumerate(weights):  # one least-squares fit per draw, all lines at once
        try:
            out[b] = fit(arrays, lines, estimator, row, variance=False).overall
        except (IdentificationError, np.linalg.LinAlgError, RuntimeError):
            continue  # counted and reported by the caller
    return out


def overall_with_se(cohort: np.ndarray, periods: np.ndarray, values: np.ndarray, estimator: str) -> tuple[float, float]:
    """SA / imputation / TWFE overall effect of one outcome (``values``: units x periods; ``cohort``:
    first treated period, 0 = never) and its analytic SE clustered by municipality."""
    fits = _FITS[estimator](cohort, periods, values[:, :, None], ["outcome"], np.arange(len(cohort)))
    return float(fits.overall[0]), float(np.sqrt(np.sum(fits.phi_overall[:, 0] ** 2)))
