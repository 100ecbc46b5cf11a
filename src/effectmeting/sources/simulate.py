"""Simulated staggered-adoption panels with known true effects, for Monte Carlo validation.

:func:`simulate_staggered_panel` draws a balanced unit x period panel in which units adopt a
treatment (a wijkteam design) in staggered cohorts, and returns the true effect of every treated
unit-period next to the data, so that any estimator can be scored against the truth of its own
estimand.

Data-generating process (periods ``t = first_period, ..., first_period + n_periods - 1``)::

    y_it = alpha_i + beta_t + covariate_trend * x_i * (t - first_period) + tau_it + u_it

* ``alpha_i ~ N(0, unit_sd^2)``: unit effects (e.g. municipality size and urbanity).
* ``beta_t = 0.1 * (t - first_period) + N(0, 0.5^2)``: common period effects.
* ``x_i = 0.5 alpha_i / unit_sd + sqrt(0.75) v_i``, ``v_i ~ N(0, 1)``: a time-invariant baseline
  covariate (e.g. a deprivation score), correlated with the unit effect.
* ``u_it``: AR(1) within unit with autocorrelation ``ar1`` and marginal variance
  ``noise_sd^2`` (serial correlation makes clustering by unit necessary).
* Selection into cohorts: a latent score ``s_i = selection * alpha_i / unit_sd +
  sqrt(1 - selection^2) z_i ~ N(0, 1)`` is cut at normal quantiles, so that units with a high
  unit effect adopt earliest (like large urban municipalities) and the lowest scores never adopt.
  The population cohort shares are therefore known exactly (``never_treated_share``, then
  ``cohort_shares`` for the cohorts), while the realised cohort sizes vary from panel to panel.

Parallel trends: with ``covariate_trend = 0`` (the default) untreated outcomes of every cohort
have the same expected path, so parallel trends hold **unconditionally** although selection is
on levels (``alpha_i``), which the unit effects absorb.  With ``covariate_trend != 0`` untreated
trends depend on ``x_i``, which is correlated with the cohort, so parallel trends hold only
**conditionally on x** (estimators without the covariate are then biased).

True effects ``tau_it`` (zero before adoption and for never-treated units) depend only on the
cohort ``g`` and the event time ``e = t - g`` (no idiosyncratic unit heterogeneity, so a cohort's
sample and population ATT(g, t) coincide):

* ``"none"``: ``tau = 0``;
* ``"homogeneous"``: ``tau = effect_size``;
* ``"heterogeneous_dynamic"``: ``tau = effect_size * c_g * (1 + growth * e)`` with ``c_g``
  falling linearly from 1.5 (earliest cohort) to 0.5 (latest cohort): effects differ by cohort
  and grow with time since adoption, the case where TWFE with a single treatment dummy is biased.

Units first treated in the first period cannot be evaluated (no untreated period) and are not
allowed; periods are numbered from ``first_period >= 1`` because cohort 0 means never treated.
"""
from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from effectmeting.errors import InputError

EFFECTS = ("heterogeneous_dynamic", "homogeneous", "none")
#: time-period effects: a drift per period plus noise with this standard deviation
_PERIOD_NOISE_SD = 0.5
_PERIOD_DRIFT = 0.1
#: correlation of the baseline covariate with the (standardised) unit effect
_COVARIATE_CORRELATION = 0.5


def _check_arguments(n_units: int, n_periods: int, cohorts: Sequence[int], effect: str,
                     never_treated_share: float, cohort_shares: Sequence[float] | None,
                     selection: float, ar1: float, first_period: int) -> tuple[np.ndarray, np.ndarray]:
    if effect not in EFFECTS:
        raise InputError(f"simulate_staggered_panel: effect={effect!r}; use one of {list(EFFECTS)}.")
    if n_units < 2 or n_periods < 2:
        raise InputError(f"simulate_staggered_panel: n_units={n_units}, n_periods={n_periods}; "
                         "both must be at least 2.")
    if first_period < 1:
        raise InputError(f"simulate_staggered_panel: first_period={first_period}; use >= 1 "
                         "(cohort 0 means never treated).")
    cohort_values = np.asarray(sorted(int(g) for g in cohorts), dtype=np.int64)
    last_period = first_period + n_periods - 1
    if cohort_values.size == 0 or len(set(cohort_values.tolist())) != cohort_values.size:
        raise InputError(f"simulate_staggered_panel: cohorts={list(cohorts)}; give one or more "
                         "distinct first-treatment periods.")
    if cohort_values.min() <= first_period or cohort_values.max() > last_period:
        raise InputError(
            f"simulate_staggered_panel: cohorts={cohort_values.tolist()} must lie in "
            f"{first_period + 1}..{last_period}: a unit treated from the first period has no "
            "untreated period, and a cohort after the last period is never observed treated.")
    if not 0.0 < never_treated_share < 1.0:
        raise InputError(f"simulate_staggered_panel: never_treated_share={never_treated_share}; "
                         "use a share strictly between 0 and 1.")
    if cohort_shares is None:
        shares = np.full(cohort_values.size, (1.0 - never_treated_share) / cohort_values.size)
    else:
        # shares are given in the order of ``cohorts``; reorder them with the sorted cohorts
        order = np.argsort(np.asarray(list(cohorts)), kind="stable")
        shares = np.asarray(cohort_shares, dtype=float)[order]
        if shares.size != cohort_values.size or np.any(shares <= 0) or not np.isclose(
                shares.sum() + never_treated_share, 1.0):
            raise InputError(
                f"simulate_staggered_panel: cohort_shares={list(cohort_shares)} must be one positive "
                f"share per cohort, summing with never_treated_share={never_treated_share} to 1.")
    if not -1.0 <= selection <= 1.0 or not -1.0 < ar1 < 1.0:
        raise InputError(f"simulate_staggered_panel: selection={selection} must lie in [-1, 1] and "
                         f"ar1={ar1} in (-1, 1).")
    return cohort_values, shares


def cohort_effect_scale(cohorts: np.ndarray) -> np.ndarray:
    """``c_g``: 1.5 for the earliest cohort falling linearly to 0.5 for the latest (1.0 if one)."""
    if cohorts.size == 1:
        return np.ones(1)
    return np.linspace(1.5, 0.5, cohorts.size)


def true_effect(cohort: np.ndarray, time: np.ndarray, cohorts: np.ndarray, effect: str,
                effect_size: float, growth: float) -> np.ndarray:
    """True effect ``tau`` for each (cohort, time) pair; 0 before adoption and for cohort 0."""
    cohort = np.asarray(cohort, dtype=float)
    time = np.asarray(time, dtype=float)
    treated = (cohort > 0) & (time >= cohort)
    if effect == "none":
        return np.zeros(np.broadcast(cohort, time).shape)
    if effect == "homogeneous":
        return np.where(treated, effect_size, 0.0)
    position = np.searchsorted(cohorts, cohort)
    scale = cohort_effect_scale(cohorts)[np.clip(position, 0, cohorts.size - 1)]
    return np.where(treated, effect_size * scale * (1.0 + growth * (time - cohort)), 0.0)


def _assign_cohorts(score: np.ndarray, cohorts: np.ndarray, shares: np.ndarray,
                    never_treated_share: float) -> np.ndarray:
    """Cut the N(0, 1) score at normal quantiles: lowest -> never (0), highest -> earliest cohort."""
    # bins from low to high score: never treated, latest cohort, ..., earliest cohort
    cumulative = np.cumsum(np.concatenate([[never_treated_share], shares[::-1]]))[:-1]
    cuts = stats.norm.ppf(cumulative)
    labels = np.concatenate([[0], cohorts[::-1]])
    return labels[np.searchsorted(cuts, score, side="right")]


def population_truth(cohorts: np.ndarray, shares: np.ndarray, periods: np.ndarray, effect: str,
                     effect_size: float, growth: float) -> tuple[float, pd.Series]:
    """Overall ATT (CS 'simple' weighting) and ATT by event time with population cohort shares.

    Overall: ``sum_g p_g sum_{t >= g} tau(g, t) / sum_g p_g (#periods from g)``; event time
    ``e``: ``sum_g p_g tau(g, g + e) / sum_g p_g`` over cohorts observed at ``g + e``.
    """
    cohort_grid = np.repeat(cohorts, periods.size).astype(float)
    time_grid = np.tile(periods, cohorts.size).astype(float)
    weight = np.repeat(shares, periods.size)
    keep = time_grid >= cohort_grid
    tau = true_effect(cohort_grid[keep], time_grid[keep], cohorts, effect, effect_size, growth)
    event = (time_grid - cohort_grid)[keep].astype(int)
    weight = weight[keep]
    overall = float(np.sum(weight * tau) / np.sum(weight))
    frame = pd.DataFrame({"event_time": event, "weighted": weight * tau, "weight": weight})
    sums = frame.groupby("event_time")[["weighted", "weight"]].sum()
    by_event = (sums["weighted"] / sums["weight"]).rename("att")
    return overall, by_event


def sample_truth(effects: pd.DataFrame) -> tuple[float, pd.Series]:
    """Overall ATT and ATT by event time of one simulated panel, from its unit-level effects.

    ``effects`` is ``truth["effects"]`` (one row per treated unit-period).  The overall ATT is the
    mean effect over treated unit-periods, which equals R ``did``'s 'simple' aggregation with the
    realised cohort sizes, the Sun-Abraham overall ATT and the imputation overall ATT on a
    balanced panel; by event time it is the mean over treated units at that event time (cohorts
    weighted by their realised size).
    """
    overall = float(effects["effect"].mean())
    by_event = effects.groupby("event_time")["effect"].mean().rename("att")
    return overall, by_event


def simulate_staggered_panel(
    n_units: int,
    n_periods: int,
    cohorts: Sequence[int],
    *,
    effect: str = "heterogeneous_dynamic",
    seed: int,
    never_treated_share: float = 0.25,
    cohort_shares: Sequence[float] | None = None,
    selection: float = 0.6,
    effect_size: float = 1.0,
    growth: float = 0.5,
    unit_sd: float = 1.0,
    noise_sd: float = 1.0,
    ar1: float = 0.5,
    covariate_trend: float = 0.0,
    first_period: int = 1,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Simulate a balanced staggered-adoption panel and its true effects (see module docstring).

    Parameters
    ----------
    n_units, n_periods : panel size; periods are ``first_period .. first_period + n_periods - 1``.
    cohorts : first-treatment periods of the adopting cohorts (on the period scale, each after
        the first period and not after the last).
    effect : "heterogeneous_dynamic", "homogeneous" or "none" (see module docstring).
    seed : seed of ``numpy.random.default_rng``; same arguments and seed -> identical panel.
    never_treated_share : population share of units that never adopt (default 25 %).
    cohort_shares : population share of each cohort (order of ``cohorts``); default equal
        shares of the remaining ``1 - never_treated_share``.
    selection : correlation of the adoption score with the unit effect (earlier adoption for
        higher ``alpha_i``); 0 means random timing.
    effect_size : effect in outcome units (homogeneous effect; scale of the dynamic effects).
    growth : relative growth of the dynamic effect per period since adoption.
    unit_sd, noise_sd, ar1 : sd of unit effects, marginal sd and AR(1) coefficient of the error.
    covariate_trend : coefficient of ``x_i * (t - first_period)``; 0 keeps parallel trends
        unconditional, anything else makes them hold only conditionally on ``x``.

    Returns
    -------
    data : DataFrame with columns ``unit`` (int), ``time`` (int), ``cohort`` (int, 0 = never
        treated), ``y`` (float), ``x`` (float, constant within unit); sorted by unit, time.
    truth : dict with
        ``att_overall`` / ``att_by_event_time`` -- sample truths from the realised cohort sizes
        (:func:`sample_truth`); ``att_overall_population`` / ``att_by_event_time_population`` --
        the same with the population cohort shares (:func:`population_truth`);
        ``effects`` -- DataFrame(unit, time, cohort, event_time, effect), one row per treated
        unit-period; ``cohort_shares_population`` -- {cohort: share}, 0 = never treated;
        ``parallel_trends`` -- "unconditional" or "conditional on x".
    """
    cohort_values, shares = _check_arguments(n_units, n_periods, cohorts, effect, never_treated_share,
                                             cohort_shares, selection, ar1, first_period)
    rng = np.random.default_rng(seed)
    periods = np.arange(first_period, first_period + n_periods)
    # draw every random block in a fixed order so a seed fixes the whole panel
    standard_alpha = rng.standard_normal(n_units)
    adoption_noise = rng.standard_normal(n_units)
    covariate_noise = rng.standard_normal(n_units)
    period_noise = rng.standard_normal(n_periods)
    innovations = rng.standard_normal((n_units, n_periods))

    alpha = unit_sd * standard_alpha
    score = selection * standard_alpha + np.sqrt(1.0 - selection ** 2) * adoption_noise
    unit_cohort = _assign_cohorts(score, cohort_values, shares, never_treated_share)
    x = _COVARIATE_CORRELATION * standard_alpha + np.sqrt(1 - _COVARIATE_CORRELATION ** 2) * covariate_noise
    beta = _PERIOD_DRIFT * (periods - first_period) + _PERIOD_NOISE_SD * period_noise

    error = _ar1_errors(innovations, ar1, noise_sd)

    cohort_matrix = np.repeat(unit_cohort[:, None], n_periods, axis=1)
    time_matrix = np.repeat(periods[None, :], n_units, axis=0)
    tau = true_effect(cohort_matrix, time_matrix, cohort_values, effect, effect_size, growth)
    y = (alpha[:, None] + beta[None, :] + covariate_trend * x[:, None] * (periods - first_period)[None, :]
         + tau + error)

    data = pd.DataFrame({
        "unit": np.repeat(np.arange(1, n_units + 1), n_periods),
        "time": time_matrix.ravel(),
        "cohort": cohort_matrix.ravel(),
        "y": y.ravel(),
        "x": np.repeat(x, n_periods),
    })
    effects = _treated_effects(data, tau, n_units)
    overall, by_event = sample_truth(effects)
    overall_population, by_event_population = population_truth(
        cohort_values, shares, periods, effect, effect_size, growth)
    truth = {
        "att_overall": overall,
        "att_by_event_time": by_event,
        "att_overall_population": overall_population,
        "att_by_event_time_population": by_event_population,
        "effects": effects,
        "cohort_shares_population": {0: never_treated_share,
                                     **{int(g): float(s) for g, s in zip(cohort_values, shares)}},
        "parallel_trends": "unconditional" if covariate_trend == 0 else "conditional on x",
    }
    return data, truth


def _ar1_errors(innovations: np.ndarray, ar1: float, noise_sd: float) -> np.ndarray:
    """Stationary AR(1) errors per unit (rows) over periods (columns): start from the marginal
    distribution, then u_t = ar1 u_{t-1} + sqrt(1 - ar1^2) e_t; scaled to sd ``noise_sd``."""
    n_periods = innovations.shape[1]
    error = np.empty_like(innovations)
    error[:, 0] = innovations[:, 0]
    scale = np.sqrt(1.0 - ar1 ** 2)
    for column in range(1, n_periods):  # loop over periods (few), vectorised over units
        error[:, column] = ar1 * error[:, column - 1] + scale * innovations[:, column]
    error *= noise_sd
    return error


def _treated_effects(data: pd.DataFrame, tau: np.ndarray, n_units: int) -> pd.DataFrame:
    """One row per treated unit-period with its true effect; refuses a draw with no adopter."""
    treated = (data["cohort"] > 0) & (data["time"] >= data["cohort"])
    effects = pd.DataFrame({
        "unit": data["unit"][treated].to_numpy(),
        "time": data["time"][treated].to_numpy(),
        "cohort": data["cohort"][treated].to_numpy(),
        "event_time": (data["time"] - data["cohort"])[treated].to_numpy(),
        "effect": tau.ravel()[treated.to_numpy()],
    })
    if effects.empty:
        raise InputError(
            f"simulate_staggered_panel: no unit was drawn into an adopting cohort (n_units={n_units}); "
            "use more units or larger cohort shares.")
    return effects
