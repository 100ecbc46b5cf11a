"""Synthetic difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens & Wager 2021, AER).

``synthetic_did(data, outcome=, unit=, time=, treatment=)`` estimates the average effect on one or a
few treated units adopting in the same period (block adoption).  Unit weights ``omega`` (on the
simplex, with a free intercept and the ridge penalty ``zeta^2 T_pre ||omega||^2``,
``zeta = (N_treated T_post)^(1/4) sigma``, sigma the standard deviation of the donors' pre-period
year-on-year changes) make the donors' pre-period path parallel to the treated units'; time weights
``lambda`` (simplex, intercept, ridge ``1e-6 sigma``) pick the pre-periods that predict the donors'
post-period mean.  The effect is the weighted double difference (Algorithm 1).  The weights are
found by Frank-Wolfe with the paper's stopping rule and sparsification, so the numbers agree with
the authors' R package to its own precision.

``method="sc"`` and ``method="did"`` give the paper's comparison estimators (Table 1): synthetic
control (unit weights without intercept, negligible ridge, no time weights) and plain DiD.

Standard errors (``se_method``), as in the paper:

* ``"placebo"`` (Algorithm 4, the default and the only one for a single treated unit): the standard
  deviation of the estimator over in-space placebos (donors treated in the treated units' place),
  refitting the weights with the original regularisation;
* ``"jackknife"`` (Algorithm 3): leave one unit out with the weights held fixed; needs two or more
  treated units;
* ``"bootstrap"`` (Algorithm 2): resample units, refit; needs two or more treated units.

The interval is ``estimate +/- z * se`` (normal).  Assumptions: the donors are never treated and
untouched by the treatment (no spill-overs); no other shock hits only the treated units after
adoption; the outcome's units are the effect's units.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from effectmeting.errors import IdentificationError, OptionError
from effectmeting.estimate.core.arguments import resolve_seed
from effectmeting.estimate.core.results import check_level
from effectmeting.estimate.synthetic.fit import METHODS, Tuning, WeightedFit, fit_panels, gap_path, normalise, rmspe
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
from effectmeting.estimate.synthetic.weights import noise_level

SE_METHODS = ("placebo", "jackknife", "bootstrap")
_TITLES = {"sdid": "Synthetic difference-in-differences", "sc": "Synthetic control (synthdid weights)",
           "did": "Difference-in-differences (uniform weights)"}


def synthetic_did(data: pd.DataFrame, *, outcome: str, unit: str, time: str, treatment: str,
                  method: str = "sdid", se_method: str | None = "placebo", n_draws: int = 200, seed: int | None = None,
                  level: float = 0.95, min_pre_periods: int = MIN_PRE_PERIODS,
                  max_pre_rmspe: float | None = MAX_PRE_RMSPE) -> SyntheticResults:
    """Synthetic DiD (or its SC / DiD variants) for units adopting together; see the module docstring.

    Parameters
    ----------
    data:
        One row per unit and period (a balanced panel: every unit in every period).
    outcome, unit, time:
        Column names; the effect is in the outcome's units (e.g. packs per capita, clients per
        1,000 residents).
    treatment:
        0/1 column: 1 for a treated unit in its treated periods.  Units with a 1 anywhere are
        treated, all in the same first period and ever after; the others are donors.
    method:
        ``"sdid"`` (default), ``"sc"`` or ``"did"`` (Arkhangelsky et al. 2021, Table 1).
    se_method:
        ``"placebo"`` (default), ``"jackknife"`` or ``"bootstrap"``; ``None`` for the point estimate,
        weights and fit only (no standard error, no placebos: one fit instead of one per donor).
    n_draws:
        Placebo sets (all of them when there are at most ``n_draws``: with one treated unit, every
        donor once) and bootstrap draws; 200 as in the paper's software.
    seed:
        Seed of random placebo sets and bootstrap draws (None: ``DEFAULT_SEED``).
    level:
        Confidence level of the interval.
    min_pre_periods:
        Refuse (``IdentificationError``, reason ``"short_pre_period"``) fewer periods before adoption.
    max_pre_rmspe:
        Refuse (reason ``"poor_pre_fit"``) when the treated units' pre-period RMSPE against their twin
        exceeds this many noise levels (the donors' typical year-on-year change); ``None`` reports
        the fit without refusing.  The placebo fits are reported, never refused.

    Returns
    -------
    SyntheticResults
        ``tidy()`` (the effect), ``tidy_weights()``, ``gaps()``, ``placebos()`` (with
        ``se_method="placebo"``), ``glance()`` (fit diagnostics, placebo p-values) and ``plot()``.
    """
    who = "synthetic_did"
    if method not in METHODS:
        raise OptionError(f"{who}: method={method!r} is unknown; use one of {', '.join(METHODS)}",
                          reason="unknown_method")
    if se_method is not None and se_method not in SE_METHODS:
        raise OptionError(f"{who}: se_method={se_method!r} is unknown; use one of {', '.join(SE_METHODS)}",
                          reason="unknown_se_method")
    level = check_level(level, who)
    n_draws = check_n_draws(n_draws, who)
    threshold = check_max_pre_rmspe(max_pre_rmspe, who)
    panel = case_study_panel(data, outcome=outcome, unit=unit, time=time, treatment=treatment,
                             min_pre_periods=min_pre_periods, who=who)
    y, n0, n_pre = panel.outcome, panel.n_donors, panel.n_pre
    if se_method in ("jackknife", "bootstrap") and panel.n_treated < 2:
        raise IdentificationError(
            f"{who}: se_method={se_method!r} needs at least two treated units (Arkhangelsky et al. 2021, sec. 5); "
            f"with one treated unit ({panel.treated[0]!r}) use se_method='placebo'", reason="single_treated_unit")
    if se_method == "placebo" and n0 <= panel.n_treated:
        raise IdentificationError(
            f"{who}: placebo standard errors need more donors ({n0}) than treated units ({panel.n_treated}); "
            "use se_method='jackknife'", reason="too_few_donors")
    sigma = noise_level(y[:n0, :n_pre])
    eta_omega = (panel.n_treated * panel.n_post) ** 0.25
    tuning = Tuning(method=method, zeta_omega=(eta_omega if method == "sdid" else 1e-6) * sigma,
                    zeta_lambda=1e-6 * sigma, min_decrease=1e-5 * sigma)
    fit = fit_panels([y], [n0], n_pre, tuning)[0]
    treated_path, twin, gap = gap_path(y, n0, n_pre, fit.unit_weights, fit.time_weights)
    pre_rmspe, post_rmspe = rmspe(gap[:n_pre]), rmspe(gap[n_pre:])
    treated_label = ", ".join(map(str, panel.treated[:3])) + (" ..." if panel.n_treated > 3 else "")
    refuse_poor_fit(pre_rmspe, sigma, threshold, who, treated_label, float(treated_path[:n_pre].mean()))

    rng = np.random.default_rng(resolve_seed(seed))
    # placebos refit the weights once per donor set; jackknife and bootstrap have their own draws
    with_placebos = se_method == "placebo"
    placebos, placebo_gaps = _placebos(panel, fit, tuning, n_draws, rng) if with_placebos else (
        placebo_table([], [], [], []), [])
    if se_method is None:
        std_error = float("nan")
    elif se_method == "placebo":
        std_error = float(placebos["estimate"].std(ddof=0))
    elif se_method == "jackknife":
        std_error = _jackknife(panel, fit)
    else:
        std_error = _bootstrap(panel, fit, tuning, n_draws, rng)
    ratio = post_rmspe / pre_rmspe if pre_rmspe > 0 else float("inf")
    p_effect, p_ratio = placebo_p_values(fit.estimate, ratio, placebos)
    facts: dict[str, Any] = {
        "method": method, "se_method": se_method, "n_treated": panel.n_treated, "n_donors": n0,
        "n_pre": n_pre, "n_post": panel.n_post, "adoption_period": panel.adoption_period,
        "pre_rmspe": pre_rmspe, "post_rmspe": post_rmspe, "rmspe_ratio": ratio, "noise_level": sigma,
        "pre_rmspe_in_noise": pre_rmspe / sigma if sigma > 0 else float("nan"),
        "max_pre_rmspe": threshold, "placebo_p_value": p_effect, "rmspe_ratio_p_value": p_ratio,
        "n_placebos": len(placebos), "zeta_omega": tuning.zeta_omega, "zeta_lambda": tuning.zeta_lambda,
        "treated_label": treated_label, "outcome": outcome, "time": time,
    }
    notes = [f"{_TITLES[method]}: {panel.n_treated} treated unit(s) from {panel.adoption_period}, {n0} donors, "
             f"{n_pre} pre- and {panel.n_post} post-periods.",
             f"Standard error: {se_method} ({len(placebos)} placebo fits)." if se_method == "placebo"
             else f"Standard error: {se_method or 'none (se_method=None)'}.",
             f"Pre-period RMSPE {pre_rmspe:.4g} ({facts['pre_rmspe_in_noise']:.2f} noise levels); post/pre RMSPE "
             f"ratio {ratio:.3g}; placebo p-value {p_effect:.3g}."]
    return SyntheticResults(
        estimator=f"synthetic_did ({method})", title=_TITLES[method], estimate=fit.estimate, std_error=std_error,
        gaps=pd.DataFrame({"period": panel.periods, "post": np.arange(len(panel.periods)) >= n_pre,
                           "treated": treated_path, "synthetic": twin, "gap": gap}),
        unit_weights=_unit_frame(panel.donors, fit.unit_weights),
        time_weights=pd.DataFrame({"period": panel.periods[:n_pre], "weight": fit.time_weights})
        if method != "sc" else None,
        placebos=placebos, placebo_gaps=placebo_gaps, facts=facts, level=level, nobs=int(y.size), notes=notes)


def _unit_frame(donors: np.ndarray, weights: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({"unit": donors, "weight": weights})
    return frame.sort_values("weight", ascending=False, kind="stable").reset_index(drop=True)


def _placebos(panel: CaseStudyPanel, fit: WeightedFit, tuning: Tuning, n_draws: int,
              rng: np.random.Generator) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """Algorithm 4: donors treated in the treated units' place, weights refitted (warm-started at the
    original weights of the donors kept, as the paper's software does)."""
    y, n0, n_pre = panel.outcome, panel.n_donors, panel.n_pre
    sets = placebo_sets(n0, panel.n_treated, n_draws, rng)
    outcomes = [np.vstack([y[kept], y[treated]]) for kept, treated in sets]
    fits = fit_panels(outcomes, [len(kept) for kept, _ in sets], n_pre, tuning,
                      start_units=[normalise(fit.unit_weights[kept]) for kept, _ in sets],
                      start_times=[fit.time_weights] * len(sets))
    paths = [gap_path(out, len(kept), n_pre, f.unit_weights, f.time_weights)[2]
             for out, (kept, _), f in zip(outcomes, sets, fits)]
    labels = [", ".join(str(panel.units[i]) for i in treated) for _, treated in sets]
    return placebo_table(labels, [f.estimate for f in fits], [rmspe(p[:n_pre]) for p in paths],
                         [rmspe(p[n_pre:]) for p in paths]), paths


def _jackknife(panel: CaseStudyPanel, fit: WeightedFit) -> float:
    """Algorithm 3: leave each unit out, weights fixed (donor weights renormalised)."""
    from effectmeting.estimate.synthetic.fit import effect

    y, n0, n_pre = panel.outcome, panel.n_donors, panel.n_pre
    n = len(y)
    estimates = []
    for left_out in range(n):
        kept = np.delete(np.arange(n), left_out)
        kept_donors = kept[kept < n0]
        omega = normalise(fit.unit_weights[kept_donors])
        estimates.append(effect(y[kept], len(kept_donors), n_pre, omega, fit.time_weights))
    values = np.asarray(estimates)
    return float(np.sqrt((n - 1) / n * np.sum((values - values.mean()) ** 2)))


def _bootstrap(panel: CaseStudyPanel, fit: WeightedFit, tuning: Tuning, n_draws: int,
               rng: np.random.Generator) -> float:
    """Algorithm 2: resample units with replacement (redrawing samples without a treated unit or
    without a donor), refit the weights (warm-started at the original ones)."""
    y, n0, n_pre = panel.outcome, panel.n_donors, panel.n_pre
    n = len(y)
    samples: list[np.ndarray] = []
    while len(samples) < n_draws:
        draw = np.sort(rng.integers(0, n, size=n))
        if (draw < n0).any() and (draw >= n0).any():
            samples.append(draw)
    fits = fit_panels([y[s] for s in samples], [int((s < n0).sum()) for s in samples], n_pre, tuning,
                      start_units=[normalise(fit.unit_weights[s[s < n0]]) for s in samples],
                      start_times=[fit.time_weights] * len(samples))
    values = np.array([f.estimate for f in fits])
    return float(values.std(ddof=0))
