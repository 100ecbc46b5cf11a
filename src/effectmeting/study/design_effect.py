"""``design_effect``: the effect of one design choice on several outcomes, by several estimators,
with subgroups, multiple-testing adjustment and diagnostics, in one call."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from effectmeting.designs.co_adoption import co_adoption, default_designs
from effectmeting.designs.dimensions import DesignError
from effectmeting.designs.mergers import COLUMNS as MERGED_COLUMNS
from effectmeting.designs.mergers import merged_municipalities
from effectmeting.designs.treatments import derive_treatment
from effectmeting.errors import IdentificationError, OptionError
from effectmeting.estimate.callaway_santanna.att_gt import att_gt
from effectmeting.estimate.core.arguments import renamed_arguments, resolve_seed
from effectmeting.estimate.fixest.feols import feols
from effectmeting.progress import progress
from effectmeting.study import diagnostics as diag
from effectmeting.study import estimators as est
from effectmeting.study import multiplicity as mt
from effectmeting.study.results import ADJUSTED_COLUMNS, DesignEffectStudy
from effectmeting.study.sensitivity import sensitivity_bounds
from effectmeting.study.spec import (
    ABSORBING, ESTIMATORS, check_request, estimation_frame, parse_design, time_varying,
)
from effectmeting.study.subgroups import SUBGROUP_COLUMNS, TEST_COLUMNS, subgroup_estimates

MULTIPLICITY = ("holm", "romano_wolf", "both", "none")


def _timing(panel, spec):
    try:
        return derive_treatment(panel, dimension=spec.dimension, treated_value=spec.treated_value,
                                threshold=spec.threshold)
    except DesignError as exc:
        raise IdentificationError(f"design {spec.text!r}: {exc}") from None


def _absorbing(timing, control: str, design: str, switchers: str
               ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Treatment frame for absorbing estimators, the excluded municipalities and notes on them.

    ``switchers="exclude"``: :meth:`TreatmentTiming.absorbing` (switchers left out);
    ``"first_adoption"``: switchers kept as treated from their first adoption on (an
    intention-to-treat estimand: their effect after switching back, whatever it is, counts).
    """
    frame, excluded = timing.absorbing(treated_at_start="exclude")
    notes = []
    status = timing.units.set_index("municipality")["status"]
    is_switcher = (status.reindex(excluded["municipality"]) == "switched_back").to_numpy()
    at_start = int((~is_switcher).sum())
    switched = int(is_switcher.sum())
    if switched and switchers == "exclude":
        notes.append(f"{switched} municipalities switched back from {design} and are left out of the absorbing-"
                     "treatment estimators (twfe, cs, sa, imputation); dcdh uses them (see .excluded)")
    elif switched:
        kept = excluded.loc[is_switcher, "municipality"]
        path = timing.path.loc[timing.path["municipality"].isin(kept), ["municipality", "year"]]
        cohort = timing.units.set_index("municipality")["first_adoption_year"]
        path = path.assign(first_adoption_year=path["municipality"].map(cohort).to_numpy())
        path["treated"] = (path["year"] >= path["first_adoption_year"]).astype(frame["treated"].dtype)
        frame = pd.concat([frame, path], ignore_index=True).sort_values(["municipality", "year"], kind="mergesort")
        excluded = excluded.loc[~is_switcher].reset_index(drop=True)
        notes.append(f"{switched} municipalities switched back from {design}; switchers='first_adoption' keeps "
                     "them as treated from their first adoption on (intention-to-treat: effects after "
                     "switching back count as they are)")
    if at_start:
        notes.append(f"{at_start} municipalities had {design} already in their first observed year (adoption "
                     "year unknown, no pre-period) and are left out of the absorbing-treatment estimators")
    cohorts = frame.drop_duplicates("municipality")["first_adoption_year"]
    if not (cohorts > 0).any():
        raise IdentificationError(f"design {design!r}: no municipality adopts it within the panel's years "
                                  "(after leaving out switchers and municipalities treated from the start)",
                                  reason="no_treated")
    if control == "never" and not (cohorts == 0).any():
        raise IdentificationError(
            f"design {design!r}: every municipality adopts it at some point, so there is no never-treated "
            "comparison group for control='never'; use control='notyet' (not-yet-adopting municipalities "
            "as controls; the last adoption years are then not identified)", reason="no_never_treated")
    return frame[["municipality", "year", "treated", "first_adoption_year"]], excluded, notes


def _overall_estimate(estimator: str, frame: pd.DataFrame, outcome: str, control: str, covariates, tv) -> float:
    """The overall effect only (for bootstrap re-estimation)."""
    if estimator == "cs":
        result, _ = est.quiet(att_gt, frame, outcome=outcome, unit=est.UNIT, time=est.TIME, cohort=est.COHORT,
                              control=control, covariates=covariates or None, method="dr")
        return result.aggregate("simple").estimate
    if estimator == "twfe":  # the static coefficient only, not the event study
        formula = f"{outcome} ~ " + " + ".join(["treated", *tv]) + " | municipality + year"
        return float(feols(formula, frame, vcov="iid").coef["treated"])
    return est.run(estimator, frame, outcome, control=control, covariates=covariates, time_varying=tv).estimate


def _adjust(estimators, outcomes, runs, frames, multiplicity, bootstrap, seed, control, covariates
            ) -> tuple[pd.DataFrame, list[str]]:
    """Holm and Romano-Wolf p-values across outcomes, per estimator (overall effects)."""
    rows, notes = [], []
    for estimator in estimators:
        chosen = [runs[(o, estimator)] for o in outcomes]
        estimate = np.array([r.estimate for r in chosen])
        std_error = np.array([r.std_error for r in chosen])
        p_value = np.array([float(r.rows.iloc[0]["p_value"]) for r in chosen])
        p_holm = mt.holm(p_value) if multiplicity != "none" else np.full(len(outcomes), np.nan)
        p_rw = np.full(len(outcomes), np.nan)
        if multiplicity in ("romano_wolf", "both"):
            statistic = np.abs(estimate / std_error)
            if bootstrap is not None:
                def refit(k, frame, _e=estimator):
                    o = outcomes[k]
                    return _overall_estimate(_e, frame, o, control, covariates, time_varying(frame, covariates))

                draws, failed = mt.cluster_bootstrap_draws([frames[(o, estimator)] for o in outcomes], estimate,
                                                           std_error, refit, int(bootstrap), seed)
                p_rw = mt.romano_wolf(statistic, draws, p_value)
                notes.append(f"Romano-Wolf ({estimator}): cluster bootstrap, {bootstrap} draws of municipalities "
                             f"(jointly across outcomes), seed {seed}"
                             + (f"; {failed} draws not estimable and not used" if failed else ""))
            elif estimator == "cs":
                matrix, counts = mt.align_influence([r.influence for r in chosen])
                draws = mt.multiplier_draws(matrix, counts, std_error, mt.MULTIPLIER_DRAWS, seed)
                p_rw = mt.romano_wolf(statistic, draws, p_value)
                notes.append(f"Romano-Wolf (cs): multiplier bootstrap on the joint influence functions "
                             f"({mt.MULTIPLIER_DRAWS} Rademacher draws per municipality, seed {seed})")
            else:
                notes.append(f"Romano-Wolf ({estimator}): not computed; without n_draws= only the cs influence "
                             "functions give joint draws (pass n_draws=B for a cluster bootstrap)")
        rows.append(pd.DataFrame({"estimator": estimator, "outcome": outcomes, "estimate": estimate,
                                  "std_error": std_error, "p_value": p_value, "p_holm": p_holm,
                                  "p_romano_wolf": p_rw}))
    if multiplicity != "none" and len(outcomes) > 1:
        notes.append(f"Multiplicity: p-values adjusted across the {len(outcomes)} outcomes per estimator "
                     "(overall effects): Holm" + (" and Romano-Wolf step-down" if multiplicity != "holm" else ""))
    return pd.concat(rows, ignore_index=True)[ADJUSTED_COLUMNS], notes


def _merged(panel, timing) -> tuple[pd.DataFrame, list[str]]:
    """Municipalities of the study whose design history the herindelingen rule combined from
    several predecessors (:func:`merged_municipalities`), and a note naming them."""
    audit = getattr(panel, "audit", None)
    if audit is None:
        return pd.DataFrame(columns=MERGED_COLUMNS), []
    merged = merged_municipalities(panel)
    merged = merged[merged["municipality"].isin(timing.units["municipality"])].reset_index(drop=True)
    if merged.empty:
        return merged, []
    overruled = merged.loc[merged["overruled_rows"] > 0, "municipality"].tolist()
    note = (f"{len(merged)} municipalities have a design history combined from their predecessors' by the "
            f"herindelingen design rule ({', '.join(merged['municipality'])}); in "
            f"{len(overruled)} of them predecessors disagreed and the rule overruled a value"
            + (f" ({', '.join(overruled)})" if overruled else "")
            + "; their adoption years follow the rule (see .merged and audit.csv)")
    return merged, [note]


def _co_adoption(panel, spec) -> tuple[pd.DataFrame, list[str]]:
    """The studied design against every other design in the panel's history
    (:func:`effectmeting.co_adoption`, default window and flag), and a note per flagged pair."""
    others = [d for d in default_designs(panel) if parse_design(d).dimension != spec.dimension]
    table = co_adoption(panel, designs_a=[spec.text], designs_b=others)
    notes = [f"Co-adoption: {r.adopted_b_within} of the {r.adopters_a} adopters of {r.design_a} also adopted "
             f"{r.design_b} within {r.window_years} years (correlation of adoption years {r.year_correlation:.2f}); "
             f"the estimated effect may be (partly) that of {r.design_b}"
             for r in table[table["flagged"]].itertuples(index=False)]
    return table, notes


def _check_options(multiplicity: str, bootstrap, switchers: str) -> None:
    """Refuse option values :func:`check_request` does not cover (before any estimation)."""
    if multiplicity not in MULTIPLICITY:
        raise OptionError(f"multiplicity={multiplicity!r}; use one of {', '.join(MULTIPLICITY)}")
    if bootstrap is not None and (isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer))
                                  or bootstrap < 19):
        raise OptionError(f"n_draws={bootstrap!r}: give a number of draws (at least 19; 999 is usual)")
    if switchers not in ("exclude", "first_adoption"):
        raise OptionError(f"switchers={switchers!r}; use 'exclude' or 'first_adoption'")


def _treatments(panel, timing, design: str, estimators: list[str], control: str, switchers: str):
    """The treatment frames the asked estimators need: absorbing adoption (None without twfe,
    cs, sa or imputation) and the switching path (None without dcdh); the municipalities left
    out of the absorbing ones, those with a merged design history, and notes on both.

    Returns ``(absorbing, switching, excluded, merged, notes)``.
    """
    notes: list[str] = []
    excluded = pd.DataFrame(columns=["municipality", "first_adoption_year", "switch_back_year", "n_switches",
                                     "reason"])
    absorbing = None
    if any(e in ABSORBING for e in estimators):
        absorbing, excluded, found = _absorbing(timing, control, design, switchers)
        notes += found
    switching = timing.switching() if "dcdh" in estimators else None
    merged, found = _merged(panel, timing)
    notes += found
    return absorbing, switching, excluded, merged, notes


@dataclass
class _Collected:
    """Everything the per-outcome estimation loop gathers, in the order the study reports it."""

    notes: list[str]
    runs: dict = field(default_factory=dict)  # (outcome, estimator) -> est.Run
    frames: dict = field(default_factory=dict)  # (outcome, estimator) -> estimation frame
    parts: list = field(default_factory=list)  # tidy rows
    results: dict = field(default_factory=dict)
    aggregates: dict = field(default_factory=dict)
    diagnostics: dict = field(default_factory=dict)  # outcome -> bacon, pretrend
    subgroup_rows: list = field(default_factory=list)
    subgroup_tests: list = field(default_factory=list)


def _estimate_outcome(collected: _Collected, panel, outcome: str, estimators: list[str], treatments,
                      units, control: str, covariates: list[str], by, by_year, seed: int) -> None:
    """Run every asked estimator on one outcome: the absorbing-treatment estimators on one
    estimation frame, dcdh on the switching path; subgroups and diagnostics alongside."""
    absorbing, switching = treatments
    notes = collected.notes
    outcome_runs = {}
    for treatment, names in ((absorbing, [e for e in estimators if e in ABSORBING]),
                             (switching, [e for e in estimators if e == "dcdh"])):
        if treatment is None or not names:
            continue
        frame, found = estimation_frame(panel.data, treatment, outcome, covariates, by, units)
        notes += found
        tv = time_varying(frame, covariates)
        for name in names:
            run = est.run(name, frame, outcome, control=control, covariates=covariates, time_varying=tv,
                          seed=seed)
            collected.runs[(outcome, name)], collected.frames[(outcome, name)], outcome_runs[name] = run, frame, run
            collected.results[(outcome, name)] = run.result
            if run.extra:
                collected.aggregates[(outcome, name)] = run.extra
            collected.parts.append(run.rows.assign(outcome=outcome, estimator=name))
            notes += [f"{outcome}, {name}: {n}" for n in run.notes]
            if by is not None:
                table, test, found = subgroup_estimates(frame, outcome, name, by, control=control,
                                                        covariates=covariates, time_varying=tv,
                                                        by_year=by_year, seed=seed)
                collected.subgroup_rows.append(table)
                collected.subgroup_tests.append(test)
                notes += found
        if treatment is absorbing:
            bacon_result, bacon_note = diag.bacon(frame, outcome)
            collected.diagnostics[outcome] = {"bacon": bacon_result, "bacon_note": bacon_note}
    collected.diagnostics.setdefault(outcome, {"bacon": None, "bacon_note": "no absorbing-treatment estimator asked"})
    collected.diagnostics[outcome]["pretrend"] = diag.pretrend_rows(outcome, outcome_runs)


def _subgroups(collected: _Collected, by) -> dict:
    """Subgroup estimates and equality tests; the estimates also join the tidy rows (aggregation
    "subgroup") and the reasons for missing ones the notes."""
    subgroup_rows = collected.subgroup_rows
    subgroups = {"estimates": pd.concat(subgroup_rows, ignore_index=True) if subgroup_rows
                 else pd.DataFrame(columns=SUBGROUP_COLUMNS),
                 "tests": pd.DataFrame(collected.subgroup_tests, columns=TEST_COLUMNS)}
    if subgroup_rows:
        table = subgroups["estimates"]
        collected.parts.append(pd.DataFrame({
            "outcome": table["outcome"], "estimator": table["estimator"], "aggregation": "subgroup",
            "key": table["value"], "estimate": table["estimate"], "std_error": table["std_error"],
            "conf_low": table["conf_low"], "conf_high": table["conf_high"], "p_value": table["p_value"],
            "n_units": table["n_units"]}))
        collected.notes += [f"{r.outcome}, {r.estimator}, {by}={r.value}: {r.reason}"
                            for r in table.itertuples(index=False) if r.reason]
    return subgroups


@renamed_arguments(bootstrap="n_draws")
def design_effect(panel, *, design: str, outcomes: list[str], estimator: str | list[str] = "cs",
                  control: str = "never", covariates: list[str] | None = None, by: str | None = None,
                  n_draws: int | None = None, seed: int | None = None,
                  multiplicity: str = "holm", switchers: str = "exclude",
                  by_year: int | None = None, sensitivity: bool = False) -> DesignEffectStudy:
    """Effect of adopting one design choice on each outcome, by each estimator.

    Parameters
    ----------
    panel : harmonised :class:`~effectmeting.Panel` (``.data`` municipality x year, ``.designs``).
    design : ``"dimension=value"`` (e.g. ``"role=gives_help"``), or ``"dimension>=threshold"``
        for a score dimension.  Treatment = having that value; cohort = first year with it.
    outcomes : numeric panel columns (rates per 1,000, euros per inhabitant, ...); effects are in
        the outcome's units.
    estimator : any of ``twfe, cs, sa, imputation, dcdh``.  The absorbing-treatment estimators
        (twfe, cs, sa, imputation) leave out municipalities that switched back and those treated
        in their first year (counted in ``notes``, listed in ``excluded``); dcdh uses the full
        switching path.
    control : ``"never"`` (never-adopting municipalities; refused if there are none) or
        ``"notyet"`` (also not-yet adopters; Callaway-Sant'Anna, and Sun-Abraham's last cohort).
    covariates : panel columns for Callaway-Sant'Anna (doubly robust; values in the base period)
        and, when they vary within municipality, for Sun-Abraham, imputation and TWFE.
    by : a panel column with a few values (``urbanity``, ``size_class``, or a tercile column made
        by :func:`effectmeting.study.add_terciles`): overall effects per value (membership by the
        value in the municipality's first year, or in ``by_year``) and a chi-square test that
        they are equal.
    n_draws : None, or a number of cluster-bootstrap draws (municipalities resampled jointly
        across outcomes) for the Romano-Wolf p-values (deprecated name: ``bootstrap``).  Without it Romano-Wolf uses a
        multiplier bootstrap on the cs influence functions (cs only).
    switchers : ``"exclude"`` (default) leaves municipalities that switched back out of the
        absorbing-treatment estimators; ``"first_adoption"`` keeps them as treated from their first
        adoption on (intention-to-treat: the effect averaged over what happened after adoption,
        switching back included).
    seed : seeds every bootstrap; None means :data:`DEFAULT_SEED` (studies are reproducible).
    multiplicity : ``"holm"`` (default), ``"romano_wolf"``, ``"both"`` or ``"none"``: which
        adjusted p-values across outcomes ``.adjusted`` holds (Holm is computed unless "none").
    sensitivity : also compute the Rambachan-Roth relative-magnitudes bounds of each outcome's
        event study (``.sensitivity``, see :mod:`effectmeting.study.sensitivity`; seconds per
        outcome).  Off by default; ``effectmeting run`` turns it on for the report.

    Assumptions: parallel trends (conditional on ``covariates`` for cs), no anticipation,
    standard errors clustered by municipality.  Municipalities with a missing outcome or
    covariate in any year are left out of that outcome's estimates (counted in ``notes``).
    """
    estimators = [estimator] if isinstance(estimator, str) else list(estimator)
    covariates = list(covariates or [])
    spec = parse_design(design)
    check_request(panel, spec, list(outcomes), estimators, control, covariates, by, by_year)
    _check_options(multiplicity, n_draws, switchers)
    estimators = [e for e in ESTIMATORS if e in estimators]
    outcomes = list(outcomes)
    seed = int(resolve_seed(seed))
    timing = _timing(panel, spec)
    absorbing, switching, excluded, merged, notes = _treatments(panel, timing, spec.text, estimators, control,
                                                                switchers)
    co_adopted, found = _co_adoption(panel, spec)
    notes += found

    collected = _Collected(notes)
    for outcome in progress(outcomes, desc=f"{spec.text}: outcomes", unit="outcome"):
        _estimate_outcome(collected, panel, outcome, estimators, (absorbing, switching),
                          timing.units["municipality"], control, covariates, by, by_year, seed)
    subgroups = _subgroups(collected, by)
    adjusted, found = _adjust(estimators, outcomes, collected.runs, collected.frames, multiplicity, n_draws,
                              seed, control, covariates)
    notes += found
    notes += [d["bacon_note"] for d in collected.diagnostics.values() if d.get("bacon_note")]
    same = diag.coinciding(collected.runs, estimators)
    notes += [f"{r.outcome}: {r.estimator} gives the same overall estimate as {r.same_as} ({r.estimate:.6g}; equal "
              "by construction, e.g. Sun-Abraham and Callaway-Sant'Anna with never-treated controls and no covariates "
              "in a balanced panel): not an independent confirmation" for r in same.itertuples(index=False)]
    study = DesignEffectStudy(
        design=spec.text, outcomes=outcomes, estimators=estimators, rows=pd.concat(collected.parts, ignore_index=True),
        results=collected.results, aggregates=collected.aggregates, diagnostics=collected.diagnostics,
        subgroups=subgroups, adjusted=adjusted, timing=timing, excluded=excluded, merged=merged, notes=notes,
        settings={"switchers": switchers, "control": control, "covariates": covariates, "by": by,
                  "by_year": by_year, "n_draws": n_draws, "seed": seed, "multiplicity": multiplicity})
    study.co_adoption, study.coinciding = co_adopted, same
    if sensitivity:
        study.sensitivity = sensitivity_bounds(study)
    return study
