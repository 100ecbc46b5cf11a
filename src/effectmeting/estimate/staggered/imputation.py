"""Borusyak, Jaravel & Spiess (2024) imputation estimator for staggered adoption.

1. Fit ``Y_it = alpha_i + beta_t + X_it'gamma + e_it`` by (weighted) least squares on the
   untreated observations only (never treated units and not-yet-treated periods).
2. Impute ``Y_it(0)`` for every treated observation and take ``tau_it = Y_it - Y_it(0)``.
3. Average ``tau_it`` with target weights: overall (every treated observation in the chosen
   horizons) and per horizon ``h = t - cohort``.

Every target is linear in the outcomes, ``sum_it v_it Y_it``; the "v" weights equal the target
weights on treated rows and ``-W0 Z0 (Z0'W0 Z0)^-1 Z1' w`` on untreated rows.  The standard
errors are the conservative clustered variance of Theorem 3,
``sum_c (sum_{it in c} v_it e~_it)^2``, with the auxiliary residuals ``e~`` of the
untreated fit and, on treated rows, ``tau_it - tau~_g`` where ``tau~_g`` is the
``v^2``-weighted mean of ``tau`` in the cohort x horizon cell ``g`` (as Stata
``did_imputation`` and R ``didimputation``).  With ``leave_one_out=True`` (our default; the
refinement of the paper's appendix A.9, which is Stata ``did_imputation``'s *optional*
``leaveout`` -- Stata's and R's default is ``leave_one_out=False``) each treated residual is
scaled by ``1 / (1 - v_it^2 / sum_g v^2)``, which equals leaving unit ``i`` out of ``tau~_g``.

The fixed effects are solved from sparse normal equations rather than by demeaning, because the
v weights need the same solve ``(Z0'W0 Z0)^-1`` applied to each target; with unit and period
dummies that system has ``units + periods`` columns and a sparse LU does it directly
(:class:`effectmeting.estimate.core.solver.DummyNormalEquations`).  Covariates collinear on the
untreated rows are dropped first by the solver's one collinearity rule (warned, noted).

Pre-trends (``pretrends=K``) follow the paper's test: on untreated observations only, regress
the outcome on the same effects plus dummies for ``1..K`` periods before adoption, clustered
CR1 standard errors.  Those coefficients are reported at event times ``-K..-1``; their
covariance with the post-period estimates is not estimated and set to zero.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from effectmeting.errors import IdentificationError, InputError, OptionError
from effectmeting.estimate.core.event_study_results import EventStudyResults
from effectmeting.estimate.core.results import check_level
from effectmeting.estimate.core.solver import DummyNormalEquations, collinear_within, report_dropped
from effectmeting.estimate.staggered.panel import (
    StaggeredData, prepare, subset, twfe_ols,
)
from effectmeting.estimate.core.within import factorize
from effectmeting.estimate.staggered.untreated_model import (
    FixedEffects, add_slopes, check_levels, design, fixed_effects, group_effects_hint,
)


class ImputationResults(EventStudyResults):
    """Event-study results of :func:`imputation_did` plus the overall ATT and the
    per-observation effects ``tau`` (a DataFrame with unit, time, cohort, event_time, tau)."""

    treatment_effects: pd.DataFrame
    #: covariance of (overall, horizon_0, horizon_1, ...) from the Theorem-3 variance
    overall_vcov: np.ndarray
    estimator = "imputation_did"
    control_group = "untreated observations (never- and not-yet-treated)"


def default_effects(data: StaggeredData) -> FixedEffects:
    """Unit and period effects of ``data`` (the imputation model's default)."""
    return FixedEffects(["unit", "time"], [data.unit_codes, data.time_codes], [data.n_units, data.n_times],
                        [data.unit_values, data.time_values])


def _drop_collinear_covariates(panel: StaggeredData, untreated: np.ndarray, covariates: list[str] | str | None,
                               effects: FixedEffects) -> tuple[StaggeredData, list[str]]:
    """Drop covariates that are collinear (with the fixed effects or each other) on the
    untreated rows, by the solver's one rule; they change no imputed value.  Warned and noted."""
    sub = subset(panel, untreated)
    dropped = collinear_within(sub.covariates, [factorize(c[untreated])[0] for c in effects.codes], sub.weights)
    if not dropped:
        return panel, []
    names = [covariates] if isinstance(covariates, str) else list(covariates or [])
    names = [names[j] for j in dropped]
    note = report_dropped(names, "imputation_did (untreated model)", stacklevel=4)
    assert note is not None  # names is not empty, so there is a note
    keep = [j for j in range(panel.covariates.shape[1]) if j not in dropped]
    return replace(panel, covariates=panel.covariates[:, keep]), [note]


def _check_imputable(data: StaggeredData, untreated: np.ndarray, target_rows: np.ndarray, unit: str, time: str) -> None:
    has_untreated_unit = np.bincount(data.unit_codes[untreated], minlength=data.n_units) > 0
    has_untreated_time = np.bincount(data.time_codes[untreated], minlength=data.n_times) > 0
    bad_unit = ~has_untreated_unit[data.unit_codes[target_rows]]
    if bad_unit.any():
        examples = data.unit_values[target_rows[bad_unit]][:5]
        raise IdentificationError(
            f"units {list(dict.fromkeys(examples.tolist()))} are treated in every observed period, so their "
            "untreated level cannot be imputed; drop them or restrict horizons"
        )
    bad_time = ~has_untreated_time[data.time_codes[target_rows]]
    if bad_time.any():
        periods = np.unique(data.time[target_rows[bad_time]])
        raise IdentificationError(
            f"in periods {periods.tolist()} every unit is treated (no never- or not-yet-treated unit), "
            "so the period effect cannot be estimated; restrict the sample to earlier periods"
        )
    if not untreated.any() or data.treated.all():
        raise IdentificationError("all observations are treated: there is nothing to impute from")


def imputation_did(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    covariates: list[str] | None = None,
    horizons: list[int] | None = None,
    pretrends: int | None = None,
    weights: str | None = None,
    cluster: str | None = None,
    leave_one_out: bool = True,
    level: float = 0.95,
    fe: list[str] | None = None,
    unit_controls: list[str] | None = None,
    time_controls: list[str] | None = None,
) -> ImputationResults:
    """Borusyak-Jaravel-Spiess imputation estimates: overall ATT and effects by horizon.

    Parameters
    ----------
    data : one row per unit x period (balanced or not).
    outcome, unit, time : column names; ``time`` numeric periods (years).
    cohort : first treated period per unit (same scale as ``time``); 0 or NA = never treated.
    covariates : time-varying controls entering the untreated model linearly.
    horizons : event times ``h >= 0`` to report; default every observed horizon.  The overall
        ATT averages the treated observations in these horizons.
    pretrends : number ``K`` of pre-adoption periods to test (see module docstring).
    weights : column of non-negative observation weights: used in the untreated fit and in the
        target averages (effects are weighted means of ``tau_it``).
    cluster : clustering column; default ``unit``.  A coarser column (``"state"``) must be constant
        within each unit; the leave-out refinement then still leaves out the unit (as diff-diff).
    leave_one_out : apply the BJS appendix A.9 leave-out refinement to the variance.  **The
        default True is Stata ``did_imputation``'s optional ``leaveout``, not its default**: on
        mpdta the overall SE is 0.01347 here and 0.01322 with Stata's default; pass
        ``leave_one_out=False`` for Stata's default (and R ``didimputation``'s, diff-diff's).
        Kept as the default because it is the less downward-biased variance (BJS Prop. A8).
    level : confidence level of the result's intervals, 0 < level < 1.
    fe : fixed effects of the untreated model, column names (``"a^b"`` combines two), as Stata
        ``did_imputation``'s ``fe()``; default ``[unit, time]``.  State instead of unit effects:
        ``fe=["state", time]`` with ``unit`` still the unit (``unit="state"`` repeats
        state-years and is refused).
    unit_controls, time_controls : variables with unit-specific or period-specific coefficients in
        the untreated model (``did_imputation``'s ``unitcontrols``/``timecontrols``), e.g.
        ``unit_controls=[time]`` for unit-specific linear trends (needs two untreated periods
        per unit).

    Returns
    -------
    ImputationResults with ``estimate``/``std_error`` = overall ATT (outcome units) and
    ``tidy()`` by event time.
    """
    level = check_level(level, "imputation_did")
    try:
        panel = prepare(data, outcome=outcome, unit=unit, time=time, cohort=cohort, covariates=covariates,
                        weights=weights, cluster=cluster, who="imputation_did")
    except InputError as exc:
        raise group_effects_hint(exc, unit, time, "imputation_did") from None
    event_time = panel.event_time
    treated = panel.treated
    if not treated.any():
        raise IdentificationError(f"no unit is ever treated in the observed periods (column '{cohort}')",
                                  reason="no_treated")
    available = np.unique(event_time[treated]).astype(int)
    if horizons is None:
        horizons = available.tolist()
    horizons = sorted(int(h) for h in horizons)
    if any(h < 0 for h in horizons):
        raise OptionError(f"horizons must be >= 0 (periods since adoption); got {horizons}")
    missing = [h for h in horizons if h not in set(available.tolist())]
    if missing:
        raise IdentificationError(f"horizons {missing} have no treated observations; observed: {available.tolist()}")

    effects = None
    if fe is not None or unit_controls or time_controls:
        effects = fixed_effects(data, fe, unit=unit, time=time, unit_codes=panel.unit_codes, n_units=panel.n_units,
                                time_codes=panel.time_codes, n_times=panel.n_times, who="imputation_did")
        add_slopes(effects, data, unit_controls, by=unit, codes=panel.unit_codes, size=panel.n_units,
                   who="imputation_did")
        add_slopes(effects, data, time_controls, by=time, codes=panel.time_codes, size=panel.n_times,
                   who="imputation_did")
        if pretrends and not effects.is_unit_and_period:
            raise OptionError("imputation_did: pretrends= needs exactly two fixed effects and no unit- or "
                              f"period-specific controls (got fe={effects.names}, {len(effects.slopes)} "
                              "specific controls); run the pre-trend test without them", reason="option")
    fit = imputation_effects(panel, horizons, leave_one_out=leave_one_out, covariates=covariates,
                             unit=unit, time=time, effects=effects)
    panel, untreated, estimates, psi = fit.panel, fit.untreated, fit.estimates, fit.psi
    target_rows, h_target, tau, notes = fit.target_rows, fit.horizon, fit.tau, fit.notes
    n_clusters, single_unit_cells = psi.shape[0], fit.single_unit_cells
    vcov = psi.T @ psi

    event_times = list(horizons)
    est = estimates[1:]
    cov = vcov[1:, 1:]
    if pretrends:
        pre_est, pre_cov = _pretrend_coefficients(panel, untreated, int(pretrends), effects)
        event_times = list(range(-int(pretrends), 0)) + event_times
        est = np.concatenate([pre_est, est])
        full = np.zeros((len(event_times), len(event_times)))
        full[: len(pre_est), : len(pre_est)] = pre_cov
        full[len(pre_est):, len(pre_est):] = cov
        cov = full
    result = ImputationResults(
        title="Imputation DiD (Borusyak, Jaravel & Spiess 2024)", event_time=event_times, estimates=est,
        vcov=cov, nobs=int(panel.y.size), estimate=estimates[0], std_error=float(np.sqrt(vcov[0, 0])),
    )
    result.overall_vcov = vcov
    result.notes.extend(notes)
    result.n_clusters = int(n_clusters)
    result.options = {"covariates": list(covariates or []), "horizons": list(horizons), "pretrends": pretrends,
                      "weights": weights, "cluster": cluster or unit, "leave_one_out": leave_one_out}
    # shown when used (the default unit + period effects keep the long-standing glance() row)
    result.options.update({key: list(value) for key, value in
                           (("fe", fe), ("unit_controls", unit_controls), ("time_controls", time_controls)) if value})
    result.treatment_effects = pd.DataFrame({
        unit: panel.unit_values[target_rows], time: panel.time_values[target_rows],
        "cohort": panel.cohort[target_rows], "event_time": h_target, "tau": tau,
    })
    result.notes.append(
        f"Overall ATT {estimates[0]:.4f} (SE {np.sqrt(vcov[0, 0]):.4f}); conservative Theorem-3 variance, "
        f"clustered by {cluster or unit} ({n_clusters} clusters)"
        + ("; leave-one-out refinement" if leave_one_out else "")
    )
    if single_unit_cells:
        result.notes.append(f"{single_unit_cells} cohort x horizon cell(s) hold one unit: leave-out not applied there")
    if pretrends:
        result.notes.append("Pre-period coefficients come from the untreated-only pre-trend regression "
                            "(their covariance with post-period effects is not estimated)")
    result.level = level
    return result



@dataclass
class ImputationEffects:
    """The imputation estimates of :func:`imputation_effects` for one or L outcome columns.

    ``estimates`` (1 + H[, L]): overall, then one per horizon; ``psi`` (G, 1 + H[, L]) the
    Theorem-3 per-cluster influence values (``Var = psi' psi``); ``tau`` the per-observation
    effects on ``target_rows`` (event time ``horizon``); ``panel`` after dropping collinear
    covariates.
    """

    panel: StaggeredData
    untreated: np.ndarray
    target_rows: np.ndarray
    horizon: np.ndarray
    horizons: list[int]
    tau: np.ndarray
    estimates: np.ndarray
    psi: np.ndarray
    single_unit_cells: int
    notes: list[str]


def imputation_effects(panel: StaggeredData, horizons: list[int], *, leave_one_out: bool = True,
                       outcomes: np.ndarray | None = None, share_term: bool = False,
                       covariates: list[str] | str | None = None, unit: str = "unit",
                       time: str = "time", effects: FixedEffects | None = None) -> ImputationEffects:
    """Steps 1-3 of the module docstring and the Theorem-3 influence values, for ``panel.y`` or the
    (n, L) columns of ``outcomes`` at once (one factorisation); ``panel.weights`` are observation
    (e.g. unit frequency) weights.  ``share_term`` adds the influence of the estimated cohort x
    horizon cell shares in the target weights (Theorem 3 conditions on the realised adoption
    timing, a municipality bootstrap does not).  ``unit``/``time`` name the columns in messages.
    ``effects``: the untreated model's fixed effects and specific slopes (default unit + period).
    """
    obs_weight = np.ones(panel.y.size) if panel.weights is None else panel.weights
    event_time = panel.event_time
    treated = panel.treated
    untreated = np.flatnonzero(~treated)
    target_rows = np.flatnonzero(treated & np.isin(event_time, horizons) & (obs_weight > 0))
    if effects is None:
        _check_imputable(panel, untreated, target_rows, unit, time)
        effects = default_effects(panel)
    else:  # e.g. state effects: a unit treated throughout can still be imputed
        check_levels(effects, untreated, target_rows, "imputation_did")

    panel, notes = _drop_collinear_covariates(panel, untreated, covariates, effects)
    z0, z1 = design(effects, panel.covariates, untreated), design(effects, panel.covariates, target_rows)
    w0 = obs_weight[untreated]
    factor = DummyNormalEquations(z0, w0, what="the untreated model (unit + period effects + covariates) "
                                               "on the untreated observations")
    y = panel.y if outcomes is None else np.asarray(outcomes, dtype=float)
    coefficients = factor.fit(y[untreated])
    residual0 = y[untreated] - z0 @ coefficients
    tau = y[target_rows] - z1 @ coefficients

    # Target weights: column 0 = overall, then one column per horizon.
    h_target = event_time[target_rows].astype(int)
    w_target = obs_weight[target_rows]
    columns = [np.ones_like(w_target, dtype=bool)] + [h_target == h for h in horizons]
    v1 = np.column_stack([np.where(c, w_target, 0.0) for c in columns])
    v1 /= v1.sum(axis=0, keepdims=True)
    v0 = -(z0 @ factor.solve(np.asarray(z1.T @ v1))) * w0[:, None]
    estimates = v1.T @ tau

    cells, n_cells = factorize(panel.cohort[target_rows] * 1e6 + h_target)
    clusters, n_clusters = factorize(panel.cluster_codes)
    groups = (cells, n_cells, clusters, n_clusters, untreated, target_rows)
    if y.ndim == 1:
        psi, single_unit_cells = _theorem3(v0, v1, residual0, tau, groups, leave_one_out)
    else:  # one outcome column at a time (the v weights are shared)
        parts = [_theorem3(v0, v1, residual0[:, j], tau[:, j], groups, leave_one_out) for j in range(y.shape[1])]
        psi, single_unit_cells = np.stack([p for p, _ in parts], axis=2), parts[0][1]
    if share_term:
        psi = psi + _share_influence(v1, tau, estimates, groups)
    return ImputationEffects(panel, untreated, target_rows, h_target, list(horizons), tau, estimates, psi,
                             single_unit_cells, notes)


def _theorem3(v0, v1, residual0, tau, groups, leave_one_out: bool) -> tuple[np.ndarray, int]:
    """Per-cluster sums ``sum v e~`` (G, targets) with the auxiliary model: tau~ per cohort x
    horizon cell, v^2-weighted, per target; and the number of single-unit cells."""
    cells, n_cells, clusters, n_clusters, untreated, target_rows = groups
    psi = np.zeros((n_clusters, v1.shape[1]))
    single_unit_cells = 0
    for k in range(v1.shape[1]):
        v2 = v1[:, k] ** 2
        den = np.bincount(cells, weights=v2, minlength=n_cells)
        num = np.bincount(cells, weights=v2 * tau, minlength=n_cells)
        simple = np.bincount(cells, weights=tau, minlength=n_cells) / np.bincount(cells, minlength=n_cells)
        tau_tilde = np.where(den > 0, num / np.where(den > 0, den, 1.0), simple)
        residual1 = tau - tau_tilde[cells]
        if leave_one_out:
            share = np.where(den[cells] > 0, v2 / np.where(den[cells] > 0, den[cells], 1.0), 0.0)
            alone = share > 1 - 1e-12  # one positive-weight unit in the cell: leave-out undefined
            single_unit_cells += int(alone.sum())
            residual1 = residual1 / np.where(alone, 1.0, 1.0 - share)
        np.add.at(psi[:, k], clusters[untreated], v0[:, k] * residual0)
        np.add.at(psi[:, k], clusters[target_rows], v1[:, k] * residual1)
    return psi, single_unit_cells


def _share_influence(v1, tau, estimates, groups) -> np.ndarray:
    """Influence (G, targets[, L]) of the estimated cell shares in the target weights.

    Target k is ``sum_c V_kc taubar_c`` with ``V_kc`` proportional to the cell's units ``N_c``
    (one treated row per unit and cell); ``d/d unit i = sum_{c of i} V_kc / N_c (taubar_c - theta_k)``,
    summed over the units of a cluster.
    """
    cells, n_cells, clusters, n_clusters, _, target_rows = groups
    flat = tau.ndim == 1
    tau2, est2 = (tau[:, None], estimates[:, None]) if flat else (tau, estimates)
    members = sp.csr_matrix((np.ones(len(cells)), (np.arange(len(cells)), cells)), shape=(len(cells), n_cells))
    size = np.asarray(members.sum(axis=0)).ravel()
    cell_mass = np.asarray(members.T @ v1)                        # cells x targets (V_kc)
    cell_mean = np.asarray(members.T @ tau2) / size[:, None]      # cells x lines (taubar_c)
    rows_to_clusters = sp.csr_matrix((1.0 / size[cells], (clusters[target_rows], cells)),
                                     shape=(n_clusters, n_cells))  # sum over a cluster's rows of 1/N_c
    weighted = cell_mass[:, :, None] * (cell_mean[:, None, :] - est2[None, :, :])
    out = np.einsum("ic,ckl->ikl", rows_to_clusters.toarray(), weighted)
    return out[:, :, 0] if flat else out

def _pretrend_coefficients(panel: StaggeredData, untreated: np.ndarray, n_leads: int,
                           effects: FixedEffects | None = None):
    """BJS pre-trend regression on untreated rows: dummies for 1..K periods before adoption,
    absorbing the untreated model's two fixed effects (unit and period by default)."""
    if effects is not None:  # two other factors (e.g. state, year) take the places of unit and period
        (first, second), (n_first, n_second) = effects.codes, effects.sizes
        panel = replace(panel, unit_codes=first, n_units=n_first, time_codes=second, n_times=n_second)
    sub = subset(panel, untreated)
    leads = -np.arange(n_leads, 0, -1)  # -K..-1
    x = np.column_stack([(sub.event_time == h).astype(float) for h in leads])
    empty = [int(h) for h, col in zip(leads, x.T) if not col.any()]
    if empty:
        raise IdentificationError(f"pretrends={n_leads}: no untreated observations at event times {empty}")
    names = [f"pre{-h}" for h in leads] + [f"covariate{j}" for j in range(sub.covariates.shape[1])]
    fit = twfe_ols(sub, np.column_stack([x, sub.covariates]), names, required=names[:n_leads])
    coefficients, vcov = fit.coef, fit.vcov
    return coefficients[:n_leads], vcov[:n_leads, :n_leads]
