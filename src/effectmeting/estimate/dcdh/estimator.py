"""de Chaisemartin & D'Haultfoeuille (2024) event-study estimator for a treatment that can
switch on **and off**, binary or discrete (the ``did_multiplegt_dyn`` estimator), optionally
with time-varying controls.

Reference: C. de Chaisemartin and X. D'Haultfoeuille, "Difference-in-differences estimators of
intertemporal treatment effects", *Review of Economics and Statistics* 106(6), 2024.

What is estimated
-----------------
* ``DID_l`` (``l = 1..effects``): the effect of having switched ``l`` periods ago (switch in or
  out of the baseline treatment ``D_{g,1}``, whatever happened afterwards), compared with units
  of the same baseline treatment that have not switched yet.  Switchers in (treatment rises
  above the baseline) and out (falls below it) are estimated separately and averaged with
  their numbers of switchers; switchers out enter with a minus sign, so a positive ``DID_l``
  means "more treatment raises the outcome" for both directions.
* placebos ``DID^pl_l`` (event time ``-l``): the same comparison of ``Y_{F_g-1-l} - Y_{F_g-1}``,
  for the switchers and controls of ``DID_l`` (so a switcher must also be observed ``l``
  periods after its switch, as in ``did_multiplegt_dyn``).
* the average total effect per unit of treatment ``delta = sum_l N_l DID_l / sum_l N_l
  delta_l`` where ``delta_l`` is the switchers' mean ``|D_{g,F_g-1+l} - D_{g,1}|``.
* optionally normalised effects ``DID_l / delta^D_l`` (``delta^D_l``: the switchers' mean of
  ``sum_{k<l} |D_{g,F_g+k} - D_{g,1}|``, the treatment change accumulated since the switch;
  with a 0/1 treatment, the number of periods spent away from the baseline): an effect per
  unit of treatment and period of exposure.
* with ``controls``: the same estimators on outcome differences from which the part explained
  by the controls' differences is removed, with coefficients estimated per horizon and
  baseline treatment on the never-switchers (:mod:`dcdh_controls`).

Assumptions: parallel trends of the status-quo outcome among units with the same baseline
treatment (conditional on the controls' linear effect when ``controls`` are given); no
anticipation; a treatment with few distinct values (each baseline value needs units that
have not switched yet).  A unit whose treatment goes both above and below its baseline is
refused (its effect is not sign-preserving); drop or split it explicitly.

Event time ``l = 1`` is the first period with the new treatment; event time 0 (the last period
before the switch) is the reference.  Standard errors are analytic and influence-function based,
clustered by unit unless ``cluster`` names a coarser level (see :mod:`dcdh_horizon`); with
controls they include the delta-method term for the estimated coefficients.  With
``effects=1`` in a design where a 0/1 treatment is absorbing, ``DID_1`` is the DID_M estimator
of de Chaisemartin & D'Haultfoeuille (2020, AER).

Differences from ``did_multiplegt_dyn``: the panel must be balanced with no missing values
(refused otherwise, never imputed); bidirectional switchers are refused rather than dropped;
no continuous-treatment, trends, bootstrap or same-switchers options; control coefficients
follow moderndid 0.2 (never-switchers, long differences, no time effects) rather than the R
package (first differences with time effects on not-yet-switched cells).  Switchers that
cannot be used at a horizon are listed in ``excluded`` and counted in ``notes``.  As there,
periods are the ordered distinct values of ``time`` (a gap in the calendar counts as one
period).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from effectmeting.errors import IdentificationError, OptionError
from effectmeting.estimate.dcdh.horizon import HorizonTerms, clustered_variance, horizon_terms
from effectmeting.estimate.dcdh.panel import SwitchingPanel, prepare_switching_panel
from effectmeting.estimate.core.results import check_level, confidence_interval
from effectmeting.estimate.core.event_study_results import EventStudyResults


class DcdhResults(EventStudyResults):
    """Event study of first switches.  ``tidy()`` has one row per placebo (negative event
    time) and effect (positive event time); ``estimate``/``std_error`` are the average total
    effect; ``excluded`` lists switchers left out of a horizon with the reason;
    ``horizons`` has the counts per event time."""

    horizons: pd.DataFrame
    excluded: pd.DataFrame
    influence: np.ndarray  # (G, k) influence functions aligned with event_time
    normalized: bool
    estimator = "dcdh"
    control_group = "not-yet-switched units with the same baseline treatment"

    # Plot conventions: reference period 0 (the period before the switch), line between 0 and 1.
    adoption_line = 0.5
    event_time_label = "event time (periods since first switch; 1 = first switched period)"
    reference_label = "reference (period before switch)"

    @property
    def effect_label(self) -> str:  # type: ignore[override]
        return "normalised effect" if self.normalized else "effect"


def _check_counts(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise OptionError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _refuse_empty(term: HorizonTerms, units: np.ndarray, requested: int) -> None:
    kind = "placebo" if term.placebo else "effect"
    reasons = "; ".join(f"{len(idx)} switcher(s) {reason} (e.g. {units[idx][:5].tolist()})"
                        for reason, idx in term.excluded.items() if len(idx))
    name = "placebos" if term.placebo else "effects"
    raise IdentificationError(
        f"no switcher can be used for the {kind} at horizon {term.horizon}: {reasons or 'none observed'}. "
        f"Ask for at most {term.horizon - 1} {name} (requested {requested})",
        reason=f"no_switchers_{kind}",
    )


def _all_horizons(panel: SwitchingPanel, effects: int, placebos: int, controls: list[str]) -> list[HorizonTerms]:
    """Effects ``1..effects`` then placebos ``1..placebos``; a horizon without any usable
    switcher is refused (saying how many to ask for) rather than reported as NaN."""
    terms: list[HorizonTerms] = []
    for kind, count in (("effect", effects), ("placebo", placebos)):
        for lag in range(1, count + 1):
            term = horizon_terms(panel, lag, placebo=kind == "placebo", control_names=list(controls))
            if term.n_switchers == 0:
                _refuse_empty(term, panel.units, count)
            terms.append(term)
    return terms


def _average_total_effect(effect_terms: list[HorizonTerms], cluster_codes: np.ndarray) -> tuple[float, float]:
    """Average total effect per unit of treatment and its standard error.

    ``sum_l N_l DID_l / sum_l N_l delta_l``: the switchers' summed effects over their summed
    treatment changes; the same ratio of influence functions gives the variance.
    """
    n_l = np.array([t.n_switchers_weighted for t in effect_terms])
    total_dose = n_l @ np.array([t.current_dose for t in effect_terms])
    average = float(n_l @ np.array([t.estimate for t in effect_terms]) / total_dose)
    average_if = np.column_stack([t.influence_var for t in effect_terms]) @ n_l / total_dose
    average_se = float(np.sqrt(clustered_variance(average_if, cluster_codes)[0, 0]))
    return average, average_se


def _excluded_frame(terms: list[HorizonTerms], units: np.ndarray) -> pd.DataFrame:
    """One row per switcher left out of a horizon: unit, event time and reason."""
    excluded = [
        pd.DataFrame({"unit": units[idx], "event_time": (-1 if t.placebo else 1) * t.horizon, "reason": reason})
        for t in terms for reason, idx in t.excluded.items() if len(idx)
    ]
    return (pd.concat(excluded, ignore_index=True) if excluded
            else pd.DataFrame({"unit": [], "event_time": [], "reason": []}))


def _event_study(terms: list[HorizonTerms], panel: SwitchingPanel, normalized: bool, average: float,
                 average_se: float, level: float, *, title: str) -> DcdhResults:
    """The results with horizons sorted by event time (placebos first); with ``normalized`` each
    horizon's estimate and influence function are divided by its ``delta^D_l`` (per unit of
    treatment and period of exposure)."""
    scale = np.array([t.switch_dose if normalized else 1.0 for t in terms])
    influence_var = np.column_stack([t.influence_var for t in terms]) / scale
    vcov = clustered_variance(influence_var, panel.cluster_codes)
    event_time = [(-1 if t.placebo else 1) * t.horizon for t in terms]
    estimates = np.array([t.estimate for t in terms]) / scale
    order = np.argsort(event_time, kind="stable")
    result = DcdhResults(
        title=title, event_time=np.asarray(event_time)[order], estimates=estimates[order],
        vcov=vcov[np.ix_(order, order)], nobs=int(panel.y.size), reference=(0,), estimate=average,
        std_error=average_se, level=level,
    )
    result.normalized = normalized
    result.influence = (np.column_stack([t.influence for t in terms]) / scale)[:, order]
    result.horizons = pd.DataFrame({
        "event_time": np.asarray(event_time)[order],
        "n_switchers": np.array([t.n_switchers for t in terms])[order],
        "n_switchers_weighted": np.array([t.n_switchers_weighted for t in terms])[order],
        "switch_dose": np.array([t.switch_dose for t in terms])[order],
    })
    return result


def _notes(result: DcdhResults, panel: SwitchingPanel, cluster: str | None, level: float) -> list[str]:
    """Average total effect, unit counts by switch direction, the clustering, and the number of
    switchers left out per event time and reason."""
    average, average_se = result.estimate, result.std_error
    direction = panel.direction
    low, high = confidence_interval(average, average_se, level)
    n_in, n_out = int((direction > 0).sum()), int((direction < 0).sum())
    notes = [
        f"Average total effect per unit of treatment: {average:.4f} (SE {average_se:.4f}, "
        f"{level:.0%} CI {float(low):.4f} to {float(high):.4f})",
        f"Units: {len(panel.units)} ({n_in} switch in, {n_out} switch out, "
        f"{len(panel.units) - n_in - n_out} never switch); periods: {len(panel.periods)}",
        "Standard errors: influence function, " + (
            f"clustered by '{cluster}' ({int(panel.cluster_codes.max()) + 1} clusters)" if panel.clustered
            else "clustered by unit"),
    ]
    for row in result.excluded.groupby(["event_time", "reason"]).size().reset_index().itertuples(index=False):
        notes.append(f"Event time {row[0]}: {row[2]} switcher(s) not used: {row[1]} (see .excluded)")
    return notes


def dcdh(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treatment: str,
    effects: int = 1,
    placebos: int = 0,
    controls: list[str] | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    normalized: bool = False,
    level: float = 0.95,
) -> DcdhResults:
    """de Chaisemartin-D'Haultfoeuille event-study effects of a switching treatment.

    ``data`` is a balanced long panel (one row per unit and period, no missing values);
    ``treatment`` is numeric (0/1 or a few discrete levels such as 0/1/2 or a maturity score)
    and may switch on and off; ``time`` is ordered (calendar years).  Returns effects
    ``l = 1..effects`` and placebos ``-1..-placebos`` in outcome units (per unit of treatment
    change and period of exposure when ``normalized``), the average total effect per unit of
    treatment in ``estimate``/``std_error``, influence-function standard errors clustered by
    unit (or by ``cluster``, which must nest units) and normal confidence intervals at ``level``.
    ``weights`` are cell weights (e.g. population).  ``controls`` are numeric time-varying
    columns whose long differences are partialled out within baseline-treatment groups, with
    coefficients estimated on never-switchers (see the module docstring).

    Refuses (IdentificationError) a non-numeric treatment, bidirectional switchers, a panel
    without switchers, a horizon at which no switcher has a not-yet-switched control with the
    same baseline, and controls whose coefficients cannot be estimated (too few never-switchers
    with a switcher's baseline, or collinear control differences).
    """
    level = check_level(level, "dcdh")
    effects = _check_counts("effects", effects, 1)
    placebos = _check_counts("placebos", placebos, 0)
    panel = prepare_switching_panel(data, outcome=outcome, unit=unit, time=time, treatment=treatment,
                                    cluster=cluster, weights=weights, controls=list(controls or []))
    if not (panel.direction != 0).any():
        raise IdentificationError(
            f"no unit ever changes '{treatment}': there are no switchers, so no effect is identified",
            reason="no_switchers",
        )
    terms = _all_horizons(panel, effects, placebos, list(controls or []))
    average, average_se = _average_total_effect([t for t in terms if not t.placebo], panel.cluster_codes)

    what = "normalised effects" if normalized else "effects"
    result = _event_study(terms, panel, normalized, average, average_se, level,
                          title=f"dCDH event study: {what} of switching '{treatment}' on '{outcome}'")
    result.excluded = _excluded_frame(terms, panel.units)
    result.n_clusters = int(panel.cluster_codes.max()) + 1
    result.options = {"effects": effects, "placebos": placebos, "controls": list(controls or []),
                      "cluster": cluster or unit, "weights": weights, "normalized": normalized}
    result.notes = _notes(result, panel, cluster, level)
    return result
