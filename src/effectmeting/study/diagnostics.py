"""Diagnostics reported beside every outcome's estimates: pre-trend tests and the Bacon decomposition.

* Pre-trend tests (H0: no effect before adoption), one per estimator that has pre-periods:
  Sun-Abraham and imputation event studies through :func:`effectmeting.pretrend_test` (joint
  Wald over the pre-period coefficients; for imputation these are the BJS lead coefficients),
  Callaway-Sant'Anna through the same test over its pre-treatment event-time aggregates with their
  influence-function covariance (:func:`cs_pretrend_wald`), TWFE on its binned event study, dCDH
  on its placebos.
* The Goodman-Bacon (2021) decomposition of the static TWFE coefficient: which 2x2 comparisons,
  with which weights, make it up (``Later vs Earlier Treated`` with a large weight warns of bias
  under effects that change over time).  It needs a balanced panel; when the outcome's frame is
  not balanced it is skipped and the reason is recorded.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from effectmeting.errors import EffectmetingError
from effectmeting.estimate.registry import ESTIMATORS
from effectmeting.estimate.staggered.bacon import bacon_decomposition
from effectmeting.estimate.sensitivity.pretrends import pretrend_test
from effectmeting.study.estimators import COHORT, TIME, UNIT, EstimatorRun

PRETREND_COLUMNS = ["outcome", "estimator", "test", "statistic", "df", "p_value", "note"]
COINCIDING_COLUMNS = ["outcome", "estimator", "same_as", "estimate"]
#: overall estimates closer than this (relative to max(1, |estimate|)) are the same number
COINCIDE_TOLERANCE = 1e-8


def coinciding(runs: dict[tuple[str, str], EstimatorRun], estimators: list[str]) -> pd.DataFrame:
    """Estimators whose overall estimate equals an earlier one's (in ``estimators`` order) to
    :data:`COINCIDE_TOLERANCE`: one row per such estimator and outcome (``same_as`` = the earlier one).

    Some estimators coincide by construction: Sun-Abraham's interaction-weighted estimator equals
    Callaway-Sant'Anna with never-treated controls and no covariates in a balanced panel (both are
    cohort-share-weighted averages of the same 2x2 comparisons; Sun & Abraham 2021, sec. 3).  Their
    agreement is then no independent confirmation, which the report says.
    """
    rows = []
    for outcome in dict.fromkeys(o for o, _ in runs):
        seen: list[tuple[str, float]] = []
        for name in estimators:
            run = runs.get((outcome, name))
            if run is None or not np.isfinite(run.estimate):
                continue
            value = float(run.estimate)
            match = next((earlier for earlier, v in seen
                          if abs(v - value) <= COINCIDE_TOLERANCE * max(1.0, abs(value))), None)
            if match is None:
                seen.append((name, value))
            else:
                rows.append({"outcome": outcome, "estimator": name, "same_as": match, "estimate": value})
    return pd.DataFrame(rows, columns=COINCIDING_COLUMNS)


def cs_pretrend_wald(dynamic) -> dict:
    """Wald test that every pre-treatment event-time ATT of Callaway-Sant'Anna is zero.

    ``dynamic`` is ``att_gt(...).aggregate("dynamic")``; the test is :func:`pretrend_test` (the
    package's one pre-trend test: ``W = b' V^+ b``, chi-square with ``rank(V)`` df) over its event
    times ``e < 0`` with a finite standard error, ``V = IF'IF / n^2`` from the influence functions.
    Why event times and not every pre-period ATT(g,t) cell (R ``did``'s pre-test): the cell test
    has ~20 df on a municipal panel whose cohorts hold a few dozen units, and its estimated
    covariance makes it oversized (17 % rejections at the 5 % level in 100 simulated null panels of
    320 units x 10 years with 7 cohorts, against 9 % for this test and 5 % for Sun-Abraham's); the
    event-time test is also what the other estimators report, so their p-values compare.
    """
    table = dynamic.tidy()
    pre = ((table["event_time"] < 0) & np.isfinite(table["std_error"])).to_numpy()
    if not pre.any() or dynamic.key_influence is None:
        return {"statistic": np.nan, "df": 0, "p_value": np.nan, "note": "no pre-treatment event times"}
    times = [int(e) for e in table["event_time"].to_numpy()[pre]]
    test = pretrend_test(dynamic, event_times=times)
    return {"statistic": test.statistic, "df": test.df, "p_value": test.p_value,
            "note": f"Callaway-Sant'Anna pre-treatment event times {','.join(map(str, times))} (varying base period)"}


def pretrend_rows(outcome: str, runs: dict[str, EstimatorRun]) -> pd.DataFrame:
    """One pre-trend test per estimator run (those without pre-periods are listed with a note)."""
    rows = []
    for name, run in runs.items():
        row = {"outcome": outcome, "estimator": name, "statistic": np.nan, "df": 0, "p_value": np.nan}
        if name == "cs":
            found = cs_pretrend_wald(run.extra["dynamic"])
            row.update(test="wald_event_study", statistic=found["statistic"], df=found["df"],
                       p_value=found["p_value"], note=found["note"])
        else:
            study = run.extra.get("event_study", run.result) if name == "twfe" else run.result
            label = ESTIMATORS[name].pretrend
            try:
                test = pretrend_test(study)
            except EffectmetingError as exc:
                row.update(test="wald_event_study", note=f"{label}: {exc}")
            else:
                row.update(test="wald_event_study", statistic=test.statistic, df=test.df, p_value=test.p_value,
                           note=f"{label} at event times {','.join(map(str, test.event_times))}")
        rows.append(row)
    return pd.DataFrame(rows, columns=PRETREND_COLUMNS)


def bacon(frame: pd.DataFrame, outcome: str):
    """``(BaconResults | None, note)``: the decomposition, or None and why it was skipped."""
    years = frame[TIME].nunique()
    per_unit = frame.groupby(UNIT, sort=False).size()
    if (per_unit != years).any():
        return None, (f"{outcome}: Bacon decomposition skipped: the panel is not balanced "
                      f"({int((per_unit != years).sum())} municipalities miss years)")
    try:
        result = bacon_decomposition(frame, outcome=outcome, unit=UNIT, time=TIME, cohort=COHORT)
    except EffectmetingError as exc:
        return None, f"{outcome}: Bacon decomposition skipped: {exc}"
    weights = result.by_type().set_index("comparison_type")["weight"]
    later = float(weights.get("Later vs Earlier Treated", 0.0))
    return result, (f"{outcome}: Bacon decomposition of the TWFE coefficient {result.twfe_estimate:.4f}: "
                    f"{later:.0%} of the weight on 'Later vs Earlier Treated' comparisons (already-treated "
                    "municipalities as controls: biased when effects change over time)")
