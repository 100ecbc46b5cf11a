"""Sun & Abraham (2021) interaction-weighted (IW) event study.

A two-way fixed-effects regression saturated in cohort x event-time indicators
``1[cohort = g] * 1[t - g = e]`` for every treated cohort ``g`` (except the control cohort) and
every observed event time ``e != -1``; the estimates are the cohort-specific effects
``CATT(g, e)``.  The IW estimate at event time ``e`` averages them with the cohort shares among
the treated observations at ``e``; the overall ATT averages every post-period cell
``(g, e >= 0)`` by its number of observations (as ``fixest::sunab`` / ``aggregate(agg="att")``).

Standard errors: CR1 cluster-robust (default by unit) for the CATTs, then the delta method
with the shares held fixed (as fixest and diff-diff; the paper's extra term for estimated
shares is not added).

``control="never"`` uses never-treated units (refused if there are none).  ``control="last"``
uses the last-adopting cohort (and any never-treated units) as controls and drops every
observation from the period that cohort adopts onwards, as in Sun & Abraham section 4.2; the
number of dropped rows is reported in ``notes``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from effectmeting.errors import IdentificationError
from effectmeting.estimate.core.checks import OptionError
from effectmeting.estimate.core.event_study_results import EventStudyResults
from effectmeting.estimate.core.results import check_level
from effectmeting.estimate.staggered.panel import StaggeredData, prepare, subset, twfe_ols


class SunAbrahamResults(EventStudyResults):
    """IW event study; ``cohort_effects`` holds the CATT(g, e) table."""

    cohort_effects: pd.DataFrame
    estimator = "sun_abraham"


def sun_abraham(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    control: Literal["never", "last"] = "never",
    covariates: list[str] | None = None,
    cluster: str | None = None,
    level: float = 0.95,
) -> SunAbrahamResults:
    """Sun-Abraham interaction-weighted event-study estimates (reference event time -1).

    ``cohort`` is the first treated period (0/NA = never treated).  Returns effects by event
    time in outcome units, their covariance ``vcov``, and the overall post-period ATT in
    ``estimate``/``std_error``.  ``level``: confidence level of the result's intervals.
    """
    level = check_level(level, "sun_abraham")
    if control not in ("never", "last"):
        raise OptionError(f"sun_abraham: control={control!r}; use 'never' (never-treated units) or "
                          "'last' (the last-adopting cohort)")
    panel = prepare(data, outcome=outcome, unit=unit, time=time, cohort=cohort, covariates=covariates,
                    cluster=cluster, who="sun_abraham")
    notes = []
    always = np.isfinite(panel.cohort) & (panel.cohort <= panel.time.min())
    if always.any():
        examples = list(dict.fromkeys(panel.unit_values[always].tolist()))[:5]
        raise IdentificationError(
            f"units {examples} are treated from the first observed period on: without an untreated period "
            "their effects are not identified; drop them"
        )
    if control == "never":
        if not panel.never_treated.any():
            raise IdentificationError(
                f"control='never' needs never-treated units (cohort 0 or NA in '{cohort}'), and there are "
                "none; use control='last'",
                reason="no_never_treated",
            )
        control_mask = panel.never_treated
    else:
        adopting = np.unique(panel.cohort[np.isfinite(panel.cohort) & (panel.cohort <= panel.time.max())])
        if adopting.size < 2 and not panel.never_treated.any():
            raise IdentificationError("control='last' needs at least two adopting cohorts")
        last = adopting.max()
        keep = np.flatnonzero(panel.time < last)
        if keep.size < panel.y.size:
            notes.append(f"control='last': dropped {panel.y.size - keep.size} rows from period {last:g} "
                         "onwards (when the last cohort is treated)")
        panel = subset(panel, keep)
        control_mask = (panel.cohort == last) | panel.never_treated
    if control_mask.all():
        raise IdentificationError("no treated cohort left to estimate")

    fit = sun_abraham_effects(panel, control_mask)
    counts, catt, catt_vcov = fit.cells, fit.catt, fit.catt_vcov
    overall = fit.overall_weights
    result = SunAbrahamResults(
        title=f"Sun & Abraham interaction-weighted event study (control: {control}-treated)",
        event_time=fit.event_times, estimates=fit.event, vcov=fit.event_vcov, nobs=int(panel.y.size),
        reference=(-1,), estimate=float(overall @ catt), std_error=float(np.sqrt(overall @ catt_vcov @ overall)),
    )
    result.cohort_effects = counts.rename(columns={"g": "cohort", "e": "event_time", "n": "nobs"}).assign(
        estimate=catt, std_error=np.sqrt(np.diag(catt_vcov)),
    )
    result.n_clusters = int(np.unique(panel.cluster_codes).size)
    result.control_group = "never-treated" if control == "never" else "last-treated cohort"
    result.level = level
    result.options = {"control": control, "covariates": list(covariates or []), "cluster": cluster or unit}
    result.notes.extend(notes)
    result.notes.append(f"Overall ATT {result.estimate:.4f} (SE {result.std_error:.4f}); CR1 clustered by "
                        f"{cluster or unit}; delta-method SEs with cohort shares held fixed")
    return result


@dataclass
class SunAbrahamEffects:
    """The IW estimates of :func:`sun_abraham_effects` for one or L outcome columns.

    ``cells``: the (g, e, n) table; ``catt`` (m,) or (m, L) and ``catt_vcov``; ``event_weights``
    (E, m) and ``overall_weights`` (m,) aggregate them: ``event = event_weights @ catt``,
    ``overall = overall_weights @ catt``.  With ``influence=True``: per-cluster influence values
    ``phi_overall`` (G[, L]) and ``phi_event`` (G, E[, L]) with ``Var = sum over clusters of phi^2``.
    """

    cells: pd.DataFrame
    catt: np.ndarray
    catt_vcov: np.ndarray
    event_times: np.ndarray
    event_weights: np.ndarray
    overall_weights: np.ndarray
    event: np.ndarray
    event_vcov: np.ndarray
    overall: np.ndarray
    phi_overall: np.ndarray | None = None
    phi_event: np.ndarray | None = None


def _cell_dummies(panel: StaggeredData, control_mask: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Cohort x event-time cells (e != -1) of the treated cohorts with their observation counts
    ``n`` (weighted by ``panel.weights`` when given) and the (n_rows, cells) dummy matrix."""
    event_time = panel.event_time
    treated_cohort = ~control_mask
    cells = pd.DataFrame({"g": panel.cohort[treated_cohort], "e": event_time[treated_cohort].astype(int)})
    if panel.weights is not None:
        cells["w"] = panel.weights[treated_cohort]
    cells = cells[cells["e"] != -1]
    if panel.weights is None:
        counts = cells.groupby(["g", "e"]).size().rename("n").reset_index()
    else:  # unit frequency weights (a municipality bootstrap draw): weighted counts
        counts = cells.groupby(["g", "e"])["w"].sum().rename("n").reset_index()
        counts = counts[counts["n"] > 0].reset_index(drop=True)
    if counts.empty:
        raise IdentificationError("no cohort x event-time cell besides the reference period -1")
    code = pd.MultiIndex.from_frame(counts[["g", "e"]])
    row_cell = np.full(panel.y.size, -1)
    rows = np.flatnonzero(treated_cohort & (event_time != -1))
    row_cell[rows] = code.get_indexer(pd.MultiIndex.from_arrays([panel.cohort[rows], event_time[rows].astype(int)]))
    rows = rows[row_cell[rows] >= 0]
    dummies = np.zeros((panel.y.size, len(counts)))
    dummies[rows, row_cell[rows]] = 1.0
    return counts, dummies


def sun_abraham_effects(panel: StaggeredData, control_mask: np.ndarray, *, outcomes: np.ndarray | None = None,
                        influence: bool = False, share_term: bool = False) -> SunAbrahamEffects:
    """CATT(g, e) by the saturated TWFE regression and their IW aggregates (see module docstring).

    ``control_mask``: rows of the control units; ``outcomes`` (n, L) several outcome columns at
    once (default ``panel.y``); ``panel.weights`` act as unit frequency weights (cell shares are
    weighted counts).  ``influence``: per-cluster influence values of the aggregates (CR1
    scores through the aggregation weights); ``share_term`` adds the influence of the estimated
    cohort shares (Sun & Abraham 2021's extra term; a municipality bootstrap varies the shares).
    """
    counts, dummies = _cell_dummies(panel, control_mask)
    names = [f"cohort{g:g}:e{e}" for g, e in zip(counts["g"], counts["e"])]
    m = len(counts)
    names += [f"covariate{j}" for j in range(panel.covariates.shape[1])]
    # every cohort x event-time dummy is required; a collinear covariate is dropped (warned)
    fit = twfe_ols(panel, np.column_stack([dummies, panel.covariates]), names, required=names[:m],
                   outcomes=outcomes, influence=influence)
    catt = fit.coef[:m]
    catt_vcov = fit.vcov[:m, :m] if outcomes is None else fit.vcov[:, :m, :m]

    # Aggregation matrix: one row per event time (cohort shares at e), plus the overall ATT.
    event_times = np.sort(counts["e"].unique())
    weights = np.zeros((event_times.size, m))
    for i, e in enumerate(event_times):  # loop over event times (few), not rows
        at_e = (counts["e"] == e).to_numpy()
        weights[i, at_e] = counts["n"].to_numpy()[at_e] / counts["n"].to_numpy()[at_e].sum()
    post = (counts["e"] >= 0).to_numpy()
    overall = np.where(post, counts["n"].to_numpy(), 0.0)
    overall = overall / overall.sum() if overall.sum() > 0 else overall * np.nan
    estimates = weights @ catt
    es_vcov = weights @ catt_vcov @ weights.T
    effects = SunAbrahamEffects(counts, catt, catt_vcov, event_times, weights, overall, estimates, es_vcov,
                                overall @ catt)
    if influence:
        assert fit.influence is not None  # twfe_ols(influence=True) computed it
        phi = fit.influence[:, :m]  # (G, m[, L])
        effects.phi_event = np.einsum("em,gm...->ge...", weights, phi)
        effects.phi_overall = np.einsum("m,gm...->g...", overall, phi)
        if share_term:
            _add_share_influence(effects, panel)
    return effects


def _add_share_influence(effects: SunAbrahamEffects, panel: StaggeredData) -> None:
    """Add the influence of the estimated cell shares: ``theta = sum_c N_c CATT_c / sum_c N_c``,
    so ``d theta / d(cluster k) = sum_{c of k's units} (CATT_c - theta) / sum_c N_c`` (per unit
    of the cell's cohort; units nested in clusters)."""
    cells = effects.cells
    _, first = np.unique(panel.unit_codes, return_index=True)
    unit_cohort, unit_cluster = panel.cohort[first], panel.cluster_codes[first]
    member = (unit_cohort[:, None] == cells["g"].to_numpy()[None, :]) / cells["n"].to_numpy()[None, :]
    catt = effects.catt if effects.catt.ndim == 2 else effects.catt[:, None]

    def term(weights: np.ndarray, aggregate: np.ndarray) -> np.ndarray:
        total = np.einsum("ic,kc,cl->ikl", member, weights, catt)
        per_unit = total - np.einsum("ic,kc->ik", member, weights)[:, :, None] * aggregate[None, :, :]
        summed = np.zeros((int(panel.cluster_codes.max()) + 1, *per_unit.shape[1:]))
        np.add.at(summed, unit_cluster, per_unit)
        return summed if effects.catt.ndim == 2 else summed[..., 0]

    event = effects.event if effects.event.ndim == 2 else effects.event[:, None]
    effects.phi_event = effects.phi_event + term(effects.event_weights, event)
    overall = np.atleast_1d(effects.overall)[None, :]
    effects.phi_overall = effects.phi_overall + term(effects.overall_weights[None, :], overall)[:, 0]
