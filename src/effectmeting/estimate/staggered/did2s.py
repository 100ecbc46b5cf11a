"""Gardner (2021) two-stage difference-in-differences (R ``did2s``, Butts & Gardner 2022).

1. **First stage.** Fit ``Y_it = alpha_i + beta_t + X_it'gamma + e_it`` by (weighted) least
   squares on the untreated observations only (never-treated units and not-yet-treated
   periods); the fixed effects are unit and period by default or any others (``fe=``, see
   :mod:`effectmeting.estimate.staggered.untreated_model`).  Residualise every row:
   ``Y~_it = Y_it - alpha^_i - beta^_t - X_it'gamma^``.
2. **Second stage.** Regress ``Y~`` on the treatment indicator ``D_it = 1[t >= cohort_i]``
   (static: the ATT, which equals the imputation estimator's overall ATT) or on event-time
   dummies ``1[t - cohort_i = e]`` for every observed event time ``e`` of the adopting units
   except the reference ``-1`` (event study; leads are the mean first-stage residuals of
   not-yet-treated observations, a pre-trend check).  Never-treated rows carry no dummy.

Standard errors account for the estimated first stage: Gardner's GMM (two-step M-estimator)
sandwich, as R ``did2s`` and pyfixest's ``did2s`` compute it, clustered (default by unit;
any coarser column such as ``state`` may be given) and without a small-sample factor::

    V = (X2'W X2)^-1 [sum_g s_g s_g'] (X2'W X2)^-1,
    s_g = X2_g' W_g u2_g - (X2'W X1)(X10'W X10)^-1 X10_g' W_g u1_g,

with ``X1`` the first-stage design on all rows, ``X10`` that design on untreated rows (zero
elsewhere), ``u1`` the first-stage residuals and ``u2`` the second-stage residuals.  The weights
``W`` are analytic (observation) weights used in both stages.

Assumptions: absorbing treatment given by a cohort column (first treated period), parallel
trends and no anticipation for the untreated outcome model.  Units treated in every observed
period, and periods in which every unit is treated, are refused (their fixed effects have no
untreated observation).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from effectmeting.errors import IdentificationError, InputError, OptionError
from effectmeting.estimate.core.event_study_results import EventStudyResults
from effectmeting.estimate.core.results import Results, check_level
from effectmeting.estimate.core.solver import DummyNormalEquations, collinear_within, report_dropped
from effectmeting.estimate.core.within import factorize
from effectmeting.estimate.staggered.panel import prepare
from effectmeting.estimate.staggered.untreated_model import check_levels, design, fixed_effects, group_effects_hint


class Did2sResults(EventStudyResults):
    """Two-stage DiD: ``estimate``/``std_error`` the static ATT (outcome units); with
    ``event_study=True`` the effects by event time in ``tidy()``, else one row ``treated``."""

    estimator = "did2s"
    control_group = "untreated observations (never- and not-yet-treated)"
    #: True when ``tidy()`` holds event-time effects
    dynamic: bool = False
    #: the first-stage residuals ``Y~`` (one per row, input order)
    residualised: np.ndarray

    def _coefficients(self) -> pd.DataFrame:
        if self.dynamic:
            return super()._coefficients()
        table = pd.DataFrame({"term": ["treated"], "estimate": [self.estimate], "std_error": [self.std_error]})
        return table

    def plot(self, ax=None):
        """The event-study plot (see :class:`EventStudyResults`); the coefficient plot when static."""
        if self.dynamic:
            return super().plot(ax)
        return Results.plot(self, ax)


def did2s(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    event_study: bool = False,
    fe: Sequence[str] | None = None,
    covariates: list[str] | None = None,
    weights: str | None = None,
    cluster: str | None = None,
    reference: int = -1,
    level: float = 0.95,
) -> Did2sResults:
    """Gardner's two-stage DiD: the static ATT and, with ``event_study=True``, effects by event time.

    Parameters
    ----------
    data : one row per unit x period (balanced or not).
    outcome, unit, time : column names; ``time`` numeric periods (years).
    cohort : first treated period per unit (same scale as ``time``); 0 or NA = never treated.
    event_study : second stage on event-time dummies (every observed event time but
        ``reference``) instead of the treatment indicator; the static ATT stays in ``estimate``.
    fe : first-stage fixed effects, column names (``"a^b"`` combines two); default
        ``[unit, time]``.  R ``did2s``'s ``first_stage = ~ 0 | state + year`` is
        ``fe=["state", time]``.
    covariates : time-varying controls of the first stage (enter the untreated model linearly).
    weights : column of non-negative analytic weights, used in both stages.
    cluster : clustering column of the GMM standard errors; default ``unit``; a coarser column
        (``"state"``) must be constant within each unit.
    reference : event time left out of the event study (normalised to zero).
    level : confidence level of the intervals, 0 < level < 1.

    Returns
    -------
    Did2sResults; ``estimate``/``std_error`` the static ATT in outcome units.
    """
    who = "did2s"
    level = check_level(level, who)
    if not isinstance(event_study, bool):
        raise OptionError(f"{who}: event_study={event_study!r}; use True or False", reason="option")
    covariates = [covariates] if isinstance(covariates, str) else list(covariates or [])
    try:
        panel = prepare(data, outcome=outcome, unit=unit, time=time, cohort=cohort, covariates=covariates,
                        weights=weights, cluster=cluster, who=who)
    except InputError as exc:
        raise group_effects_hint(exc, unit, time, who) from None
    effects = fixed_effects(data, fe, unit=unit, time=time, unit_codes=panel.unit_codes, n_units=panel.n_units,
                            time_codes=panel.time_codes, n_times=panel.n_times, who=who)
    treated = panel.treated
    if not treated.any():
        raise IdentificationError(f"{who}: no unit is ever treated in the observed periods (column '{cohort}')",
                                  reason="no_treated")
    obs_weight = np.ones(panel.y.size) if panel.weights is None else panel.weights
    untreated = np.flatnonzero(~treated & (obs_weight > 0))
    check_levels(effects, untreated, np.flatnonzero(treated & (obs_weight > 0)), who)

    notes: list[str] = []
    dropped = collinear_within(panel.covariates[untreated], [c[untreated] for c in effects.codes],
                               obs_weight[untreated])
    if dropped:
        note = report_dropped([covariates[j] for j in dropped], "did2s (first stage)", stacklevel=3)
        notes.append(note or "")
        keep = [j for j in range(len(covariates)) if j not in dropped]
        panel = replace(panel, covariates=panel.covariates[:, keep])

    # second-stage regressors: column 0 the treatment indicator, then the event-time dummies
    event_time = panel.event_time
    ever = np.isfinite(event_time) & (obs_weight > 0)  # a zero-weight cell has no coefficient
    event_times = np.unique(event_time[ever]).astype(int)
    event_times = event_times[event_times != reference] if event_study else np.array([], dtype=int)
    if event_study and not (event_times >= 0).any():
        raise IdentificationError(f"{who}: no treated event time to estimate", reason="no_treated")
    x2 = np.column_stack([treated.astype(float)] + [(event_time == e).astype(float) for e in event_times])

    everything = np.arange(panel.y.size)
    z_all = design(effects, panel.covariates, everything)
    z0 = z_all[untreated]
    factor = DummyNormalEquations(z0, obs_weight[untreated],
                                  what="the first stage (fixed effects + covariates on the untreated observations)")
    gamma = factor.fit(panel.y[untreated])
    residualised = panel.y - z_all @ gamma

    # static (column 0) and event-study (columns 1..) second stages share the first stage
    groups = [np.array([0])] + ([np.arange(1, x2.shape[1])] if event_study else [])
    clusters, n_clusters = factorize(panel.cluster_codes)
    membership = sp.csr_matrix((np.ones(clusters.size), (clusters, np.arange(clusters.size))),
                               shape=(n_clusters, clusters.size))
    # (X2'W X1)(X10'W X10)^-1 X10_i' for every untreated row i, all second-stage columns at once
    a0 = z0 @ factor.solve(np.asarray(z_all.T @ (obs_weight[:, None] * x2)))
    results = []
    for columns in groups:
        x = x2[:, columns]
        gram = x.T @ (obs_weight[:, None] * x)
        beta = np.linalg.solve(gram, x.T @ (obs_weight * residualised))
        u2 = residualised - x @ beta
        scores = x * (obs_weight * u2)[:, None]
        scores[untreated] -= a0[:, columns] * (obs_weight[untreated] * residualised[untreated])[:, None]
        per_cluster = np.asarray(membership @ scores)
        influence = np.linalg.solve(gram, per_cluster.T).T
        results.append((beta, influence.T @ influence))

    (static, static_vcov), dynamic = results[0], (results[1] if event_study else (np.array([]), np.zeros((0, 0))))
    result = Did2sResults(
        title="Two-stage DiD (Gardner 2021)" + (", event study" if event_study else ""),
        event_time=event_times, estimates=dynamic[0], vcov=dynamic[1], nobs=int(panel.y.size),
        reference=(int(reference),) if event_study else (), estimate=float(static[0]),
        std_error=float(np.sqrt(static_vcov[0, 0])), level=level,
    )
    result.dynamic = event_study
    result.residualised = residualised
    result.n_clusters = int(n_clusters)
    result.options = {"event_study": event_study, "fe": list(effects.names), "covariates": covariates,
                      "weights": weights, "cluster": cluster or unit, "reference": int(reference)}
    result.notes.extend(n for n in notes if n)
    result.notes.append(
        f"ATT {result.estimate:.4f} (SE {result.std_error:.4f}); first stage on {untreated.size} untreated "
        f"observations with fixed effects {' + '.join(effects.names)}; GMM standard errors accounting for the "
        f"first stage, clustered by {cluster or unit} ({n_clusters} clusters), no small-sample factor (as R did2s)")
    return result

