"""Rambachan & Roth (2023) sensitivity analysis for an event study: identified sets and robust
confidence intervals for ``theta = l'tau_post`` when parallel trends may fail.

Conventions (as in HonestDiD): ``beta = tau + delta`` with ``delta`` the differential trend,
no anticipation (``tau_pre = 0``, so ``delta_pre = beta_pre``), reference event time ``-1``
normalised to zero and absent from the estimates, pre periods ``-K-1..-2`` and post periods
``0..H-1`` contiguous.  ``weights`` is ``l`` (default: equal weights on all post periods;
HonestDiD's default is the first post period, ``weights = e_1``).

What is implemented, exactly
----------------------------
* ``method="relative_magnitudes"``, Delta^RM(Mbar): every post-period change
  ``|delta_{t+1} - delta_t|`` is at most ``Mbar`` times the largest pre-period change.
  Identified set: ``l'beta_post -/+ Mbar * maxchange * sum_s |sum_{t>=s} l_t|`` at the point
  estimates.  Confidence interval (``ci="C-LF"``, the default, or ``"conditional"``): Delta^RM
  is the union of ``2K`` polyhedra (location ``s`` and sign of the largest pre-period change);
  for each we invert Andrews, Roth & Pakes' conditional test (or their conditional /
  least-favourable hybrid, ``kappa = alpha/10``) over a grid of ``theta`` using only the
  post-period moments, exactly as HonestDiD's ``computeConditionalCS_DeltaRM`` does, and
  report the hull of the union of accepted points.  The grid endpoints are then refined by
  nested grids to ~1e-6 of the grid spacing (``refine=False`` reports grid points, like R).
  See :mod:`effectmeting.estimate.sensitivity.honest_arp` for the test itself.  Differences from R: the
  default grid is the identified set +/- 20 standard errors, widened while the set touches an
  edge (R: +/-20 se around 0, which truncates large Mbar); the least-favourable critical value
  uses 10,000 draws (R: 1000, so R's ends carry Monte Carlo noise of up to ~0.5% of the CI
  width); with a single post period R's no-nuisance branch does not truncate ``v_up`` at that
  critical value, we do (as ARP's hybrid and R's multi-period branch).
* ``method="smoothness"``, Delta^SD(M): second differences of ``delta`` are at most ``M``.
  Identified set: linear extrapolation of the slope into the reference period
  ``-/+ M * sum_j |B_j|``.  Confidence interval: the optimal fixed-length CI (Rambachan &
  Roth Section 4.1; Armstrong & Kolesar), see :mod:`effectmeting.estimate.sensitivity.honest_flci`.

Not implemented: the sign / monotonicity variants (Delta^RMB, RMM, SDB, SDM), Delta^SDRM,
and the conditional-FLCI hybrid for Delta^SD (HonestDiD's ``"C-F"``).

References: Rambachan, A. & Roth, J. (2023), "A More Credible Approach to Parallel Trends",
Review of Economic Studies 90(5); Andrews, I., Roth, J. & Pakes, A. (2023), "Inference for
Linear Conditional Moment Inequalities", Review of Economic Studies 90(6); Armstrong, T. &
Kolesar, M. (2018), "Optimal inference in a class of regression models", Econometrica 86(2).
"""
from __future__ import annotations

import functools
from typing import Any, Literal
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from effectmeting.errors import IdentificationError, OptionError
from effectmeting.estimate.sensitivity.honest_arp import (
    MomentProblem, accept_theta, least_favorable_cv, standard_normal_draws,
)
from effectmeting.estimate.sensitivity.honest_flci import optimal_flci
from effectmeting.estimate.core.arguments import renamed_arguments, resolve_seed
from effectmeting.estimate.core.results import Results, check_level, confidence_interval, key_terms, new_figure
from effectmeting.estimate.core.event_study_results import EventStudyResults, as_event_study


class HonestDiDResults(Results):
    """Identified set ``[lower, upper]`` and confidence interval ``[conf_low, conf_high]``
    for ``theta = l'tau_post`` under one Rambachan & Roth restriction.

    ``estimate``/``std_error``: ``l'beta_post`` and its standard error (relative magnitudes,
    original), or the optimal affine estimator ``v'beta`` the FLCI is centred on and its
    standard error (smoothness).  ``notes`` says when the set is empty or reaches the grid edge.
    ``tidy()`` rows carry ``lower``/``upper`` and ``ci_method`` after the interval; statistic and
    p-value are those of the original (parallel-trends) row only.  ``conf_int(level)`` at another
    level re-runs :func:`honest_did` with the same options.
    """

    estimator = "honest_did"

    def __init__(self, *, method: str, parameter: float, estimate: float, std_error: float, lower: float,
                 upper: float, conf_low: float, conf_high: float, ci_method: str, level: float = 0.95) -> None:
        super().__init__()
        self.title = f"Rambachan & Roth sensitivity ({method})"
        self.method, self.parameter = method, parameter
        self.estimate, self.std_error = estimate, std_error
        self.lower, self.upper = lower, upper
        self.conf_low, self.conf_high = conf_low, conf_high
        self.ci_method, self.level = ci_method, level
        self.options = {"method": method, "parameter": parameter, "ci_method": ci_method}
        #: level -> the same analysis at that level (None: the original CI, normal)
        self._refit: Callable[..., HonestDiDResults] | None = None

    def _coefficients(self) -> pd.DataFrame:
        table = pd.DataFrame({"method": [self.method], "parameter": [self.parameter],
                              "estimate": [self.estimate], "std_error": [self.std_error]})
        table.insert(0, "term", key_terms(table, ["method", "parameter"]))
        if self._refit is not None:  # a robust interval: no Wald statistic or p-value belongs to it
            table = table.assign(statistic=np.nan, p_value=np.nan)
        return table.assign(lower=self.lower, upper=self.upper, ci_method=self.ci_method)

    def _interval(self, table, level: float):
        if level == self.level:
            return np.array([self.conf_low]), np.array([self.conf_high])
        if self._refit is None:
            low, high = confidence_interval(self.estimate, self.std_error, level)
            return np.atleast_1d(low), np.atleast_1d(high)
        again = self._refit(level=level)
        return np.array([again.conf_low]), np.array([again.conf_high])


class HonestDiDSensitivityResults(Results):
    """One row per ``Mbar`` (or ``M``) after the original (parallel-trends) CI row."""

    def __init__(self, rows: list[HonestDiDResults], original: HonestDiDResults) -> None:
        super().__init__()
        self.rows, self.original = rows, original
        self.method = rows[0].method if rows else original.method
        self.title = f"Rambachan & Roth sensitivity ({self.method})"
        for row in rows:
            self.notes.extend(n for n in row.notes if n not in self.notes)

    estimator = "honest_did_sensitivity"

    @property
    def level(self) -> float:  # type: ignore[override]
        return self.original.level

    def _coefficients(self) -> pd.DataFrame:
        return pd.concat([row._coefficients() for row in [self.original, *self.rows]], ignore_index=True)

    def _interval(self, table, level: float):
        bounds = [row._interval(None, level) for row in [self.original, *self.rows]]
        return np.concatenate([b[0] for b in bounds]), np.concatenate([b[1] for b in bounds])

    def plot(self, ax=None):
        """Confidence interval per ``Mbar``/``M``, the original CI first.  Returns the Figure."""
        figure, ax = new_figure(ax)
        table = self.tidy()
        positions = np.arange(len(table))
        mids = ((table["conf_low"] + table["conf_high"]) / 2).to_numpy()
        errors = np.vstack([mids - table["conf_low"], table["conf_high"] - mids])
        level = f"{self.original.level:.0%}"
        ax.errorbar(positions[:1], mids[:1], yerr=errors[:, :1], fmt="none", ecolor="C1", elinewidth=2,
                    capsize=4, label=f"original {level} CI (parallel trends)")
        ax.errorbar(positions[1:], mids[1:], yerr=errors[:, 1:], fmt="none", ecolor="C0", elinewidth=2,
                    capsize=4, label=f"robust {level} CI ({self.rows[0].ci_method.split(' ')[0]})"
                    if self.rows else None)
        ax.axhline(0.0, color="black", linewidth=0.8)
        symbol = "Mbar" if self.method == "relative_magnitudes" else "M"
        ax.set_xticks(positions, ["Original"] + [f"{p:g}" for p in table["parameter"].iloc[1:]])
        ax.set_xlabel(symbol)
        ax.set_ylabel(f"{self.original.level:.0%} confidence interval")
        ax.set_title(self.title)
        ax.legend(loc="best", frameon=False)
        return figure


def _split(result: EventStudyResults):
    times = result.event_time
    pre, post = times[times < -1], times[times >= 0]
    if post.size == 0:
        raise IdentificationError("no post-period (event time >= 0) estimates", reason="no_post_period")
    contiguous_pre = not pre.size or np.array_equal(pre, np.arange(-1 - pre.size, -1))
    if not np.array_equal(post, np.arange(post.size)) or not contiguous_pre:
        raise IdentificationError(f"event times must be contiguous around the reference -1; got {times.tolist()}",
                                  reason="not_contiguous")
    if -1 in times.tolist():
        raise IdentificationError("honest_did needs an event study normalised at event time -1 (reference), "
                                  "but -1 is estimated here; with att_gt use base_period='universal'",
                                  reason="reference_estimated")
    return np.isin(times, pre), np.isin(times, post)


def _inputs(result: EventStudyResults, weights):
    result = as_event_study(result, "honest_did")  # also att_gt(...).aggregate("dynamic")
    pre, post = _split(result)
    order = np.concatenate([np.flatnonzero(pre), np.flatnonzero(post)])  # pre then post, by time
    order = order[np.argsort(result.event_time[order], kind="stable")]
    beta = result.estimates[order]
    sigma = result.vcov[np.ix_(order, order)]
    n_pre, n_post = int(pre.sum()), int(post.sum())
    l_vec = np.full(n_post, 1.0 / n_post) if weights is None else np.asarray(weights, dtype=float)
    if l_vec.shape != (n_post,):
        raise OptionError(f"weights must have one entry per post period ({n_post}), got shape {l_vec.shape}")
    if not np.any(l_vec != 0):
        raise OptionError("weights are all zero: theta = l'tau_post is not a parameter")
    return beta, sigma, n_pre, n_post, l_vec


def _rm_problems(beta, sigma, n_pre: int, l_vec: np.ndarray, mbar: float) -> list[MomentProblem]:
    """One ARP moment problem per polyhedron (location and sign of the largest pre change)."""
    n_post = l_vec.size
    n = n_pre + n_post + 1
    diff = np.zeros((n - 1, n))
    diff[np.arange(n - 1), np.arange(n - 1)] = -1.0
    diff[np.arange(n - 1), np.arange(1, n)] = 1.0
    diff = np.delete(diff, n_pre, axis=1)  # delta_{-1} = 0
    pivot = int(np.argmax(np.abs(l_vec)))
    gamma = np.vstack([l_vec, np.delete(np.eye(n_post), pivot, axis=0)])  # first row l': theta
    gamma_inv = np.linalg.inv(gamma)
    post_diffs = diff[n_pre:]
    problems = []
    for location in range(n_pre):
        for sign in (1.0, -1.0):
            bound = mbar * sign * diff[location]
            A = np.vstack([post_diffs - bound, -post_diffs - bound])
            loadings = A[:, n_pre:] @ gamma_inv
            problems.append(MomentProblem(Y=A @ beta, a=loadings[:, 0], X=loadings[:, 1:],
                                          sigma_y=A @ sigma @ A.T))
    return problems


def _rm_interval(beta, sigma, n_pre, l_vec, mbar, *, level, hybrid, grid_points, grid_bounds, refine,
                 simulations, seed, centre, spread):
    alpha = 1.0 - level
    kappa = alpha / 10.0
    problems = _rm_problems(beta, sigma, n_pre, l_vec, mbar)
    if hybrid == "LF":
        draws = standard_normal_draws(simulations, problems[0].Y.size, seed)
        cvs = [least_favorable_cv(p, kappa, draws) for p in problems]
    else:
        cvs = [np.inf for _ in problems]

    def accepted(thetas):
        out = np.zeros(np.size(thetas), dtype=bool)
        for problem, cv in zip(problems, cvs):
            out |= accept_theta(problem, thetas, alpha=alpha, hybrid=hybrid, kappa=kappa, lf_cv=cv)
        return out

    notes = []
    low, high = (grid_bounds if grid_bounds is not None else (centre[0] - spread, centre[1] + spread))
    for _ in range(6):
        grid = np.linspace(low, high, grid_points)
        accept = accepted(grid)
        open_edge = accept[0] or accept[-1]
        if grid_bounds is not None or not open_edge:
            break
        low, high = low - (high - low), high + (high - low)  # widen and retry
    if open_edge:
        notes.append(f"the confidence set reaches the edge of the theta grid [{grid[0]:.6g}, {grid[-1]:.6g}]; "
                     "its reported end is the grid end (widen grid_bounds)")
    if not accept.any():
        notes.append("no theta on the grid is accepted: the confidence set is empty (Delta^RM is rejected "
                     "at the point estimates)")
        return np.nan, np.nan, notes
    first, last = np.flatnonzero(accept)[[0, -1]]
    lo_end, hi_end = grid[first], grid[last]
    if refine:
        if first > 0:
            lo_end = _refine_edge(accepted, grid[first - 1], grid[first])
        if last < grid.size - 1:
            hi_end = _refine_edge(accepted, grid[last + 1], grid[last])
    return float(lo_end), float(hi_end), notes


def _refine_edge(accepted, rejected: float, inside: float, levels: int = 3, points: int = 101) -> float:
    """Accepted theta nearest the rejected side, by nested grids between two grid neighbours."""
    for _ in range(levels):
        fine = np.linspace(rejected, inside, points)
        hit = np.flatnonzero(accepted(fine))
        if hit.size == 0:
            return inside
        k = int(hit[0])
        if k == 0:
            return float(fine[0])
        rejected, inside = fine[k - 1], fine[k]
    return float(inside)


def _original(beta, sigma, n_pre, l_vec, level) -> HonestDiDResults:
    estimate = float(l_vec @ beta[n_pre:])
    se = float(np.sqrt(l_vec @ sigma[n_pre:, n_pre:] @ l_vec))
    low, high = confidence_interval(estimate, se, level)
    return HonestDiDResults(method="original", parameter=np.nan, estimate=estimate, std_error=se, lower=estimate,
                            upper=estimate, conf_low=float(low), conf_high=float(high),
                            ci_method="original (parallel trends)", level=level)


@renamed_arguments(lf_simulations="n_draws")
def honest_did(
    result: EventStudyResults,
    *,
    method: Literal["relative_magnitudes", "smoothness"] = "relative_magnitudes",
    mbar: float = 1.0,
    m: float = 0.0,
    weights: np.ndarray | None = None,
    level: float = 0.95,
    ci: str | None = None,
    grid_points: int = 1000,
    grid_bounds: tuple[float, float] | None = None,
    refine: bool = True,
    n_draws: int = 10_000,
    seed: int | None = None,
) -> HonestDiDResults:
    """Rambachan & Roth identified set and robust CI for ``theta = weights' tau_post``.

    ``mbar`` (unitless ratio) is used by relative magnitudes, ``m`` (outcome units per period
    squared) by smoothness.  ``ci``: ``"C-LF"`` (default) or ``"conditional"`` for relative
    magnitudes, ``"FLCI"`` (the only option) for smoothness.  Relative-magnitudes options:
    ``grid_points`` / ``grid_bounds`` (theta grid; default the identified set +/- 20 standard
    errors of ``l'beta_post``, widened while the set touches an edge), ``refine`` (sharpen the
    two ends between grid points), ``n_draws`` / ``seed`` (Monte Carlo draws for the
    least-favourable critical value; HonestDiD uses 1000; deprecated name ``lf_simulations``;
    ``seed=None`` means :data:`~effectmeting.defaults.DEFAULT_SEED`).  See the module docstring.
    """
    beta, sigma, n_pre, n_post, l_vec = _inputs(result, weights)
    level = check_level(level, "honest_did")
    seed = resolve_seed(seed)
    original = _original(beta, sigma, n_pre, l_vec, level)
    tails = np.cumsum(l_vec[::-1])[::-1]  # S_s = sum_{t >= s} l_t
    notes: list[str] = []
    if method == "relative_magnitudes":
        if mbar < 0:
            raise OptionError(f"mbar must be >= 0, got {mbar}")
        if n_pre == 0:
            raise IdentificationError("relative magnitudes need at least one pre-period estimate before -1",
                                      reason="no_pre_period")
        ci = ci or "C-LF"
        hybrids = {"C-LF": "LF", "conditional": "ARP"}
        if ci not in hybrids:
            raise OptionError(f"ci for relative magnitudes must be 'C-LF' or 'conditional', got {ci!r}")
        max_change = float(np.max(np.abs(np.diff(np.append(beta[:n_pre], 0.0)))))
        half_width = mbar * max_change * float(np.abs(tails).sum())
        estimate, se = original.estimate, original.std_error
        id_set = (estimate - half_width, estimate + half_width)
        low, high, notes = _rm_interval(beta, sigma, n_pre, l_vec, mbar, level=level, hybrid=hybrids[ci],
                                        grid_points=grid_points, grid_bounds=grid_bounds, refine=refine,
                                        simulations=n_draws, seed=seed, centre=id_set, spread=20 * se)
        parameter, ci_method = mbar, f"{ci} (ARP {'hybrid' if ci == 'C-LF' else 'conditional'} test inversion)"
    elif method == "smoothness":
        if m < 0:
            raise OptionError(f"m must be >= 0, got {m}")
        if n_pre == 0:
            raise IdentificationError("smoothness needs the event time -2 estimate (slope into the reference)",
                                      reason="no_pre_period")
        if (ci or "FLCI") != "FLCI":
            raise OptionError(f"ci for smoothness must be 'FLCI', got {ci!r}")
        # identified set: post path = slope (delta_{-1} - delta_{-2}) extended linearly, +/- the
        # curvature allowed after the reference period
        t_post = np.arange(n_post)
        extrapolated = float(l_vec @ beta[n_pre:]) + beta[n_pre - 1] * float(l_vec @ (t_post + 1))
        curvature = np.array([float(l_vec[j:] @ (t_post[j:] - j + 1)) for j in range(n_post)])
        half_width = m * float(np.abs(curvature).sum())
        id_set = (extrapolated - half_width, extrapolated + half_width)
        flci = optimal_flci(beta, sigma, n_pre, l_vec, m, level)
        estimate, se = flci.estimate, flci.std_error
        low, high = estimate - flci.half_length, estimate + flci.half_length
        parameter, ci_method = m, "FLCI (optimal, Armstrong-Kolesar)"
        pre_path = np.append(beta[:n_pre], 0.0)
        pre_curvature = float(np.abs(np.diff(pre_path, 2)).max()) if pre_path.size >= 3 else 0.0
        if pre_curvature > m:
            notes.append(f"the pre-period estimates' largest second difference {pre_curvature:.4g} exceeds "
                         f"M = {m:g}: at the point estimates Delta^SD is violated (identified set empty); "
                         "the identified set shown extrapolates the last pre-period slope only")
    else:
        raise OptionError(f"method must be 'relative_magnitudes' or 'smoothness', got {method!r}")
    out = HonestDiDResults(method=method, parameter=parameter, estimate=estimate, std_error=se, lower=id_set[0],
                           upper=id_set[1], conf_low=low, conf_high=high, ci_method=ci_method, level=level)
    out.notes.extend(notes)
    out.nobs = result.nobs
    out._refit = functools.partial(honest_did, result, method=method, mbar=mbar, m=m, weights=weights, ci=ci,
                                   grid_points=grid_points, grid_bounds=grid_bounds, refine=refine,
                                   n_draws=n_draws, seed=seed)
    return out


@renamed_arguments(lf_simulations="n_draws")
def honest_did_sensitivity(
    result: EventStudyResults,
    *,
    method: Literal["relative_magnitudes", "smoothness"] = "relative_magnitudes",
    values: Sequence[float] | None = None,
    weights: np.ndarray | None = None,
    level: float = 0.95,
    **options,
) -> HonestDiDSensitivityResults:
    """:func:`honest_did` over a vector of ``Mbar`` (relative magnitudes; default ``0, 0.5, ..., 2``)
    or ``M`` (smoothness; default 6 values from 0 to twice the largest pre-period second
    difference), plus the original parallel-trends CI, like HonestDiD's
    ``createSensitivityResults*`` with ``constructOriginalCS``.  ``options`` go to :func:`honest_did`.
    """
    beta, sigma, n_pre, _, l_vec = _inputs(result, weights)
    grid: Sequence[float] | np.ndarray
    if values is not None:
        grid = values
    elif method == "smoothness":
        path = np.append(beta[:n_pre], 0.0)
        top = 2 * float(np.abs(np.diff(path, 2)).max()) if path.size >= 3 else 0.0
        grid = np.linspace(0.0, top if top > 0 else 1.0, 6)
    else:
        grid = np.arange(0.0, 2.01, 0.5)
    key = "mbar" if method == "relative_magnitudes" else "m"
    rows = []
    for v in grid:
        bound: dict[str, Any] = {key: float(v)}
        rows.append(honest_did(result, method=method, weights=weights, level=level, **bound, **options))
    return HonestDiDSensitivityResults(rows, _original(beta, sigma, n_pre, l_vec, level))
