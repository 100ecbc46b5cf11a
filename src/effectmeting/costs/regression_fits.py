"""Sun-Abraham and TWFE effects of several cost lines at once, with per-municipality cluster scores.

A documented re-derivation of :func:`effectmeting.estimate.staggered.sun_abraham.sun_abraham` (control
``"never"``, no covariates) and of the TWFE regressions (static ``y ~ D | unit + year`` for the
overall effect; :func:`effectmeting.estimate.staggered.event_study.event_study_twfe` with a window holding
every event time for the event-time effects), on a *balanced* units x periods array:

* The regressors are the same for every cost line, so all lines are solved in one
  least-squares step (``(X'X)^-1 X'Y`` with ``Y`` n_rows x n_lines).
* Unit frequency weights ``w_i`` (a municipality bootstrap draw) enter as weighted least
  squares; with weights constant within unit in a balanced panel the two-way within transform is
  exact in one pass: ``z_it - zbar_i - sum_j w_j (z_jt - zbar_j) / sum_j w_j``.  Resampling
  municipalities with replacement (duplicates as new municipalities) gives the same estimates.
* Standard errors (weights all one): CR1 clustered by municipality as ``twfe_ols`` (fixest's
  small-sample factor ``G/(G-1) (N-1)/(N-K)``, ``K`` = regressors + periods, unit effects nested
  in the clusters), returned as per-municipality influence values (see :mod:`.line_fits`).  As
  in ``sun_abraham`` the cohort shares in the aggregation are held fixed.

``tests/test_costs_estimators.py`` checks estimates and SEs against the package functions at 1e-10.
"""
from __future__ import annotations

import numpy as np

from effectmeting.costs.line_fits import LineFits
from effectmeting.errors import IdentificationError


def _least_squares(x: np.ndarray, group: np.ndarray, y: np.ndarray, weights: np.ndarray, variance: bool):
    """Within (unit + period effects) WLS of ``y`` on regressors that vary by cohort and period only.

    ``x``: cohort x period x regressors (one row per cohort, the regressors of its units);
    ``group``: cohort row of each unit; ``y``: units x periods x lines; ``weights``: per unit.
    With unit weights in a balanced panel the within transform is exact in one pass, and the
    normal equations need only cohort sums: ``X~'WX~ = sum_g N_g sum_t x~_gt x~_gt'`` and
    ``X~'Wy = sum_g sum_t x~_gt S_gt`` with ``S_gt = sum_{i in g} w_i y_it``.  Returns the
    coefficients (m, L) and per-unit influence values (n, m, L) or None.
    """
    n, n_periods, n_lines = y.shape
    size = np.bincount(group, weights=weights, minlength=len(x))  # N_g
    unit_demeaned = x - x.mean(axis=1, keepdims=True)
    x_tilde = unit_demeaned - np.tensordot(size, unit_demeaned, axes=(0, 0))[None] / size.sum()
    sums = np.zeros((len(x), n_periods, n_lines))
    np.add.at(sums, group, weights[:, None, None] * y)
    gram = np.einsum("g,gtm,gtk->mk", size, x_tilde, x_tilde)
    try:
        bread = np.linalg.inv(gram)
    except np.linalg.LinAlgError as exc:
        raise IdentificationError(f"the cohort x event-time regressors are collinear with the unit and year "
                                  f"effects ({exc}); too few never-treated municipalities?") from exc
    coefficients = bread @ np.einsum("gtm,gtl->ml", x_tilde, sums)
    if not variance:
        return coefficients, None
    y_demeaned = y - y.mean(axis=1, keepdims=True)
    y_tilde = y_demeaned - np.tensordot(weights, y_demeaned, axes=(0, 0))[None] / weights.sum()
    residuals = y_tilde - np.einsum("gtm,ml->gtl", x_tilde, coefficients)[group]
    scores = np.matmul(x_tilde[group].transpose(0, 2, 1), residuals)  # per municipality: sum over its years
    rows, m = n * n_periods, x.shape[2]
    factor = n / (n - 1) * (rows - 1) / (rows - m - n_periods)  # fixest CR1, unit FE nested in clusters
    return coefficients, np.sqrt(factor) * np.einsum("km,iml->ikl", bread, scores)


def _cohorts(cohort: np.ndarray, weights: np.ndarray, periods: np.ndarray):
    """Cohort values (0 = never first), each unit's cohort row, cohort sizes and event times (G x T)."""
    values, group = np.unique(cohort, return_inverse=True)
    size = np.bincount(group, weights=weights, minlength=len(values))
    if values[0] != 0 or size[0] <= 0:
        raise IdentificationError("no never-treated municipality in the sample (or in this bootstrap draw): the "
                                  "year effects are not identified without one; use estimator='cs' with "
                                  "control='notyet'")
    event = np.where(values[:, None] > 0, periods[None, :] - values[:, None], np.nan)
    return values, group, size, event


def sun_abraham_fit(cohort: np.ndarray, periods: np.ndarray, values: np.ndarray, lines: list[str],
                    units: np.ndarray, weights: np.ndarray | None = None, variance: bool = True,
                    share_term: bool = True) -> LineFits:
    """IW event study (never-treated control, reference e = -1) of ``values`` (n x T x L) per line.

    ``cohort``: first treated period per unit, 0 = never treated (already recoded: no unit treated
    in the first period, none after the last).  Overall effect: post cells weighted by their
    (weighted) number of observations, as ``sun_abraham(...).estimate``.
    ``share_term``: add the influence of the estimated cohort shares (Sun & Abraham 2021's extra
    term; R ``did`` adds the same for CS) -- a municipality bootstrap varies the shares, so without
    it the SE is too small when effects differ across cohorts; False gives ``sun_abraham``'s SEs.
    """
    weights = np.ones(len(cohort)) if weights is None else np.asarray(weights, float)
    _, group, size, event = _cohorts(cohort, weights, periods)
    # cells (g, e), e != -1, of cohorts present (weight > 0): as sun_abraham's counts table
    cell_g, cell_t = np.nonzero(np.isfinite(event) & (event != -1) & (size[:, None] > 0))
    x = np.zeros((len(size), len(periods), len(cell_g)))
    x[cell_g, cell_t, np.arange(len(cell_g))] = 1.0
    coefficients, phi = _least_squares(x, group, values, weights, variance)
    counts = size[cell_g]  # every unit of cohort g is observed once in each of its cells
    cell_event = event[cell_g, cell_t].astype(int)
    event_times = np.unique(cell_event)
    aggregation = (cell_event[None, :] == event_times[:, None]) * counts[None, :]
    aggregation /= aggregation.sum(axis=1, keepdims=True)
    post = np.where(cell_event >= 0, counts, 0.0)
    post = post / post.sum()
    overall, event = post @ coefficients, aggregation @ coefficients
    phi_overall = phi_event = None
    if phi is not None:
        phi_overall = np.einsum("m,iml->il", post, phi)
        phi_event = np.einsum("em,iml->iel", aggregation, phi)
        if share_term:
            # theta = sum_c N_c CATT_c / sum_c N_c, so
            # d theta / d(unit i) = sum_{c of i's cohort} (CATT_c - theta) / sum_c N_c
            member = (group[:, None] == cell_g[None, :]) / counts[None, :]  # n x cells
            phi_event = phi_event + _share_influence(member, aggregation, coefficients, event)
            phi_overall = phi_overall + _share_influence(member, post[None, :], coefficients, overall[None, :])[:, 0]
    return _package(lines, units, overall, event_times, event, phi_overall, phi_event)


def _share_influence(member: np.ndarray, weights: np.ndarray, cell_effects: np.ndarray,
                     aggregate: np.ndarray) -> np.ndarray:
    """Influence (n, K, L) of estimated cell shares on ``aggregate = weights @ cell_effects``.

    ``member[i, c] = 1{unit i in cell c's cohort} / N_c``; weights (K, cells) proportional to N_c.
    """
    total = np.einsum("ic,kc,cl->ikl", member, weights, cell_effects)
    return total - np.einsum("ic,kc->ik", member, weights)[:, :, None] * aggregate[None, :, :]


def twfe_fit(cohort: np.ndarray, periods: np.ndarray, values: np.ndarray, lines: list[str],
             units: np.ndarray, weights: np.ndarray | None = None, variance: bool = True) -> LineFits:
    """Static TWFE (overall) and fully dynamic TWFE (event times except -1) per line; CR1 by unit."""
    weights = np.ones(len(cohort)) if weights is None else np.asarray(weights, float)
    _, group, size, event = _cohorts(cohort, weights, periods)
    treated = (event >= 0).astype(float)[:, :, None]
    static, phi_static = _least_squares(treated, group, values, weights, variance)
    present = np.unique(event[np.isfinite(event) & (size[:, None] > 0)]).astype(int)
    event_times = present[present != -1]
    dummies = (event[:, :, None] == event_times[None, None, :]).astype(float)
    dynamic, phi_dynamic = _least_squares(dummies, group, values, weights, variance)
    return _package(lines, units, static[0], event_times, dynamic,
                    None if phi_static is None else phi_static[:, 0, :], phi_dynamic)


def _package(lines, units, overall, event_times, event, phi_overall, phi_event) -> LineFits:
    return LineFits(lines=list(lines), units=units, overall=np.asarray(overall, float),
                    event_times=np.asarray(event_times, int), event=np.asarray(event, float),
                    phi_overall=phi_overall, phi_event=phi_event)
