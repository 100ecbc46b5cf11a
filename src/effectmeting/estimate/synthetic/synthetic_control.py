"""Synthetic control (Abadie & Gardeazabal 2003; Abadie, Diamond & Hainmueller 2010, JASA).

``synthetic_control(data, outcome=, unit=, time=, treatment=, predictors=...)`` builds the treated
unit's twin as a convex combination of donors (weights ``W >= 0`` summing to one) that matches its
predictors before adoption, and reports the average post-period gap between unit and twin.

Predictors and the V convention (chosen here, and why):

* the predictor rows are the pre-period means of the ``predictors`` columns and the outcome in each
  of ``outcome_periods`` (default: every pre-period when no predictors are given, none otherwise);
  each row is divided by its standard deviation across all units (treated and donors), as R
  ``Synth`` does, so V compares like with like;
* ``W(V) = argmin (X1 - X0 W)' V (X1 - X0 W)`` on the simplex, ``V`` diagonal, summing to one;
* ``v="nested"`` (default): V minimises the pre-period outcome MSPE of the twin ``W(V)`` (ADH 2010,
  sec. 2.3; R ``Synth``'s default), searched by Nelder-Mead on the simplex from the equal V and
  one seeded random start, keeping the best;  ``v="equal"``: equal weights on the standardised rows
  (inverse-variance weights on the raw rows; Abadie 2021, sec. 3.2); or a sequence of non-negative
  numbers, one per predictor row (``predictors`` first, then ``outcome_periods``);
* with no predictors and every pre-period outcome as a row (the default), V is not searched: the
  twin then minimises the pre-period MSPE itself, which is the nested optimum, solved exactly.

Inference is in-space (ADH 2010, sec. 2.4 and 3.3): every donor (or set of donors when several
units are treated; their mean is the treated unit) is treated in the treated unit's place, the
treated unit(s) moving into the donor pool, and the twin is refitted, V included.  ``glance()``
reports the rank p-value of the post/pre RMSPE ratio (ADH's test) and of the absolute effect; the
standard error is the standard deviation of the placebo effects, with a normal interval (a
convention, not ADH's: their inference is the rank test).

Assumptions: the donors are never treated and unaffected by the treatment; the treated unit lies
within the donors' convex hull before adoption (checked: see ``max_pre_rmspe``); no shock hits
only the treated unit after adoption.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from effectmeting.errors import OptionError
from effectmeting.estimate.core.arguments import resolve_seed
from effectmeting.estimate.core.results import check_level
from effectmeting.estimate.synthetic.fit import rmspe
from effectmeting.estimate.synthetic.panel import MIN_PRE_PERIODS, CaseStudyPanel, case_study_panel
from effectmeting.estimate.synthetic.placebo import (
    MAX_PRE_RMSPE,
    check_max_pre_rmspe,
    check_n_draws,
    placebo_p_values,
    placebo_sets,
    placebo_table,
    refuse_poor_fit,
)
from effectmeting.estimate.synthetic.results import SyntheticResults
from effectmeting.estimate.synthetic.weights import noise_level, simplex_least_squares

V_CHOICES = ("nested", "equal")
#: random starts of the nested V search besides the equal V
N_RANDOM_STARTS = 1


def synthetic_control(data: pd.DataFrame, *, outcome: str, unit: str, time: str, treatment: str,
                      predictors: Sequence[str] = (), outcome_periods: str | Sequence[Any] | None = None,
                      v: str | Sequence[float] = "nested", n_draws: int = 200, seed: int | None = None,
                      level: float = 0.95, min_pre_periods: int = MIN_PRE_PERIODS,
                      max_pre_rmspe: float | None = MAX_PRE_RMSPE) -> SyntheticResults:
    """Synthetic control for one treated unit (or the mean of a few adopting together).

    Parameters
    ----------
    data, outcome, unit, time, treatment:
        As :func:`~effectmeting.synthetic_did`: a balanced panel, ``treatment`` 1 for the treated
        unit in its treated periods.
    predictors:
        Columns whose pre-period means the twin must match (e.g. population, income).
    outcome_periods:
        Pre-periods whose outcome the twin must match: ``"all"``, a list of periods, or ``None``
        (default: ``"all"`` without ``predictors``, none with them).
    v:
        ``"nested"`` (default), ``"equal"`` or one non-negative number per predictor row; see the
        module docstring.
    n_draws:
        Placebo sets when several units are treated and there are more than ``n_draws`` sets.
    seed:
        Seed of random placebo sets and of the nested V search's random starts (None: ``DEFAULT_SEED``).
    level:
        Confidence level of the (placebo standard error, normal) interval.
    min_pre_periods, max_pre_rmspe:
        As :func:`~effectmeting.synthetic_did`: refuse too short a pre-period (``short_pre_period``)
        and a twin whose pre-period RMSPE exceeds ``max_pre_rmspe`` noise levels (``poor_pre_fit``).
    """
    who = "synthetic_control"
    level = check_level(level, who)
    n_draws = check_n_draws(n_draws, who)
    threshold = check_max_pre_rmspe(max_pre_rmspe, who)
    predictors = [predictors] if isinstance(predictors, str) else list(predictors)
    panel = case_study_panel(data, outcome=outcome, unit=unit, time=time, treatment=treatment,
                             predictors=predictors, min_pre_periods=min_pre_periods, who=who)
    y, n0, n_pre = panel.outcome, panel.n_donors, panel.n_pre
    columns = _outcome_columns(panel, predictors, outcome_periods, who)
    row_names = [f"mean {p}" for p in predictors] + [f"{outcome} {panel.periods[j]}" for j in columns]
    v_spec = _check_v(v, len(row_names), who)
    # every pre-period outcome and nothing else: the twin minimises the pre-period MSPE itself
    outcome_only = not predictors and columns == list(range(n_pre))
    rng = np.random.default_rng(resolve_seed(seed))

    def fit(outcomes: np.ndarray, predictor_rows: np.ndarray | None, n_donors: int) -> tuple[np.ndarray, np.ndarray]:
        """Donor weights and V for one panel (donors first, treated last)."""
        target_pre = outcomes[n_donors:, :n_pre].mean(axis=0)
        if outcome_only:
            return simplex_least_squares(outcomes[:n_donors, :n_pre].T, target_pre), np.array([])
        assert predictor_rows is not None
        x = _standardise(predictor_rows)
        x0, x1 = x[:, :n_donors], x[:, n_donors:].mean(axis=1)
        if isinstance(v_spec, np.ndarray):
            return _weights_given_v(x0, x1, v_spec), v_spec
        equal = np.full(len(x1), 1.0 / len(x1))
        if v_spec == "equal":
            return _weights_given_v(x0, x1, equal), equal
        return _nested(x0, x1, outcomes[:n_donors, :n_pre], target_pre, rng)

    all_rows = None if outcome_only else _predictor_matrix(panel, predictors, columns)
    weights, v_used = fit(y, all_rows, n0)
    treated_path = y[n0:].mean(axis=0)
    twin = weights @ y[:n0]
    gap = treated_path - twin
    pre_rmspe, post_rmspe = rmspe(gap[:n_pre]), rmspe(gap[n_pre:])
    sigma = noise_level(y[:n0, :n_pre])
    treated_label = ", ".join(map(str, panel.treated[:3])) + (" ..." if panel.n_treated > 3 else "")
    refuse_poor_fit(pre_rmspe, sigma, threshold, who, treated_label, float(treated_path[:n_pre].mean()))
    estimate = float(gap[n_pre:].mean())

    labels, estimates, pres, posts, paths = [], [], [], [], []
    if n0 > panel.n_treated:
        treated_rows = np.arange(n0, len(y))
        for kept_donors, placebo in placebo_sets(n0, panel.n_treated, n_draws, rng):
            # ADH 2010 (sec. 3.3): the treated unit moves into the placebo's donor pool
            kept = np.concatenate([kept_donors, treated_rows])
            order = np.concatenate([kept, placebo])
            w, _ = fit(y[order], None if all_rows is None else all_rows[:, order], len(kept))
            path = y[placebo].mean(axis=0) - w @ y[kept]
            labels.append(", ".join(str(panel.units[i]) for i in placebo))
            estimates.append(float(path[n_pre:].mean()))
            pres.append(rmspe(path[:n_pre]))
            posts.append(rmspe(path[n_pre:]))
            paths.append(path)
    placebos = placebo_table(labels, estimates, pres, posts)
    std_error = float(placebos["estimate"].std(ddof=0)) if len(placebos) else float("nan")
    ratio = post_rmspe / pre_rmspe if pre_rmspe > 0 else float("inf")
    p_effect, p_ratio = placebo_p_values(estimate, ratio, placebos)
    v_label = "none (pre-period outcomes)" if outcome_only else (v if isinstance(v, str) else "given")
    facts: dict[str, Any] = {
        "method": "sc", "se_method": "placebo", "v": v_label, "n_treated": panel.n_treated, "n_donors": n0,
        "n_pre": n_pre, "n_post": panel.n_post, "adoption_period": panel.adoption_period,
        "pre_rmspe": pre_rmspe, "post_rmspe": post_rmspe, "rmspe_ratio": ratio, "noise_level": sigma,
        "pre_rmspe_in_noise": pre_rmspe / sigma if sigma > 0 else float("nan"), "max_pre_rmspe": threshold,
        "placebo_p_value": p_effect, "rmspe_ratio_p_value": p_ratio, "n_placebos": len(placebos),
        "treated_label": treated_label, "outcome": outcome, "time": time,
    }
    notes = [f"Synthetic control: {treated_label} from {panel.adoption_period}, {n0} donors, {n_pre} pre- and "
             f"{panel.n_post} post-periods; V: {v_label}.",
             f"Standard error: placebo ({len(placebos)} in-space placebo fits); RMSPE-ratio p-value {p_ratio:.3g}.",
             f"Pre-period RMSPE {pre_rmspe:.4g} ({facts['pre_rmspe_in_noise']:.2f} noise levels); post/pre RMSPE "
             f"ratio {ratio:.3g}."]
    results = SyntheticResults(
        estimator="synthetic_control", title="Synthetic control", estimate=estimate, std_error=std_error,
        gaps=pd.DataFrame({"period": panel.periods, "post": np.arange(len(panel.periods)) >= n_pre,
                           "treated": treated_path, "synthetic": twin, "gap": gap}),
        unit_weights=pd.DataFrame({"unit": panel.donors, "weight": weights}).sort_values(
            "weight", ascending=False, kind="stable").reset_index(drop=True),
        time_weights=None, placebos=placebos, placebo_gaps=paths, facts=facts, level=level, nobs=int(y.size), notes=notes)
    results.v_weights = pd.DataFrame({"predictor": row_names, "v": v_used}) if len(v_used) else pd.DataFrame(
        {"predictor": row_names, "v": np.nan})
    return results


def _outcome_columns(panel: CaseStudyPanel, predictors: list[str], outcome_periods, who: str) -> list[int]:
    """Column positions of the pre-periods whose outcome is a predictor row (checked)."""
    pre = list(panel.periods[: panel.n_pre])
    if outcome_periods is None:
        outcome_periods = "all" if not predictors else []
    if isinstance(outcome_periods, str):
        if outcome_periods != "all":
            raise OptionError(f"{who}: outcome_periods={outcome_periods!r} must be 'all', a list of pre-periods "
                              "or None", reason="unknown_option")
        return list(range(panel.n_pre))
    periods = list(outcome_periods)
    outside = [p for p in periods if p not in pre]
    if outside:
        raise OptionError(f"{who}: outcome_periods {outside} are not pre-adoption periods (those are "
                          f"{pre[0]}..{pre[-1]})", reason="not_pre_period")
    columns = [pre.index(p) for p in periods]
    if not columns and not predictors:
        raise OptionError(f"{who}: no predictor rows: give predictors or outcome_periods", reason="no_predictors")
    return columns


def _predictor_matrix(panel: CaseStudyPanel, predictors: list[str], columns: list[int]) -> np.ndarray:
    """The raw predictor rows (row x unit): pre-period means, then the outcome in the chosen periods."""
    parts = [panel.predictors[name][:, : panel.n_pre].mean(axis=1) for name in predictors]
    parts += [panel.outcome[:, j] for j in columns]
    return np.vstack(parts)


def _check_v(v, n_rows: int, who: str):
    if isinstance(v, str):
        if v not in V_CHOICES:
            raise OptionError(f"{who}: v={v!r} is unknown; use 'nested', 'equal' or one number per predictor row",
                              reason="unknown_v")
        return v
    values = np.asarray(v, dtype=float).ravel()
    if len(values) != n_rows or not np.all(np.isfinite(values)) or (values < 0).any() or values.sum() <= 0:
        raise OptionError(f"{who}: v must hold {n_rows} finite non-negative numbers with a positive sum "
                          f"(one per predictor row), got {list(values)}", reason="bad_v")
    return values / values.sum()


def _standardise(rows: np.ndarray) -> np.ndarray:
    """Each predictor row over its standard deviation across units (ddof=1; rows without spread kept)."""
    spread = rows.std(axis=1, ddof=1)
    spread = np.where(spread > 0, spread, 1.0)
    return rows / spread[:, None]


def _weights_given_v(x0: np.ndarray, x1: np.ndarray, v: np.ndarray) -> np.ndarray:
    root = np.sqrt(v)
    return simplex_least_squares(root[:, None] * x0, root * x1)


def _nested(x0: np.ndarray, x1: np.ndarray, donors_pre: np.ndarray, target_pre: np.ndarray,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """V minimising the twin's pre-period outcome MSPE (V = softmax of free parameters)."""
    k = len(x1)

    def v_of(theta: np.ndarray) -> np.ndarray:
        e = np.exp(theta - theta.max())
        return e / e.sum()

    def loss(theta: np.ndarray) -> float:
        w = _weights_given_v(x0, x1, v_of(theta))
        return float(np.mean((target_pre - w @ donors_pre) ** 2))

    starts = [np.zeros(k)] + [np.log(rng.dirichlet(np.ones(k))) for _ in range(N_RANDOM_STARTS)]
    if k == 1:
        best = np.zeros(1)
    else:
        # stop when V moves the MSPE by less than a millionth of its value at the equal V
        tolerance = 1e-6 * max(loss(starts[0]), 1e-12)
        fits = [minimize(loss, s, method="Nelder-Mead", options={"maxiter": 100 * k, "xatol": 1e-4,
                                                                 "fatol": tolerance}) for s in starts]
        best = min(fits, key=lambda f: f.fun).x
    v = v_of(best)
    return _weights_given_v(x0, x1, v), v
