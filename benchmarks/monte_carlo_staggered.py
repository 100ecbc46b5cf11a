"""Monte Carlo validation of the staggered-adoption estimators (not a test; see tests/sources/test_simulate.py).

Usage::

    python benchmarks/monte_carlo_staggered.py --reps 500 --seed 1 --out benchmarks/results/monte_carlo.csv

Design (defaults): ``effectmeting.sources.simulate.simulate_staggered_panel`` with 300 units
(about the number of municipalities) x 10 years (2015-2024), cohorts adopting in 2018, 2020 and
2022 (25 % each in the population) and 25 % never treated; selection into earlier adoption by
the unit effect (correlation 0.6); AR(1) errors (0.5); effects ``"heterogeneous_dynamic"``
(larger for earlier cohorts, growing 50 % per year since adoption).  Parallel trends hold
unconditionally (``--covariate-trend 0``); with ``--covariate-trend`` != 0 they hold only
conditionally on ``x`` and only ``cs_dr_x`` is expected to stay unbiased.

Estimators, each with its own 95 % interval as the estimator reports it:

* ``twfe``: ``feols("y ~ d | unit + time", vcov={"cluster": "unit"})`` (t interval, G-1 df) for
  the overall effect; ``event_study_twfe`` (window -5..5, binned endpoints, CR1 by unit) for the
  event times -- the conventional benchmark, biased under heterogeneous dynamic effects.
* ``cs``: ``att_gt`` (never-treated comparison, doubly robust without covariates = plain DiD,
  varying base period, analytic SEs), ``aggregate("simple")`` / ``aggregate("dynamic")``.
* ``cs_dr_x``: the same with covariate ``x`` (doubly robust).
* ``sa``: ``sun_abraham`` (never-treated control, CR1 by unit, delta method).
* ``imputation``: ``imputation_did`` (Theorem-3 variance with leave-one-out, clustered by unit).

Targets: the overall ATT and the dynamic effects at event times 0..3.

Estimands -- each estimator is scored against the truth of its own estimand, computed from the
simulator's unit-level true effects:

* The point estimands coincide on a balanced panel: the overall ATT of CS 'simple', the
  Sun-Abraham overall ATT and the imputation overall ATT all average the treated unit-periods
  with equal weight (CS: cells weighted by cohort size), and by event time all three weight
  cohorts by their size among the units observed at that event time.  (They would differ on an
  unbalanced panel, with sampling weights, or with an event window.)
* What differs is the weighting their *standard errors* refer to.  CS (``did::aggte``) adds the
  influence function of the estimated cohort shares ``P(G = g)``, so its interval is for the
  **population**-weighted estimand (cohort shares of the data-generating process,
  ``truth["att_overall_population"]``).  Sun-Abraham (delta method with shares held fixed, as
  fixest) and imputation (BJS Theorem 3, conditional on treatment timing) treat the realised
  cohort sizes as fixed: their estimand is the **sample**-weighted one, the mean of the true
  effects over the realised treated unit-periods (``truth["att_overall"]``).  TWFE has no
  clean estimand under heterogeneity; it is scored against the sample truth (what CS 'simple'
  estimates), so its bias is the bias a researcher would get.
* Scoring CS against the sample truth would over-cover (its interval also carries the
  cohort-share uncertainty); the column ``coverage_other`` shows coverage of the other truth.

Columns: estimator, target, estimand, n_reps, true_value (mean over replications), mean_estimate,
bias (mean of estimate - truth), rmse, sd_estimate (sd of estimate - truth), mean_se, coverage
(share of 95 % intervals containing the truth), coverage_mc_se (``sqrt(c (1 - c) / reps)``,
~1 pp at 500 replications), coverage_other (coverage of the other weighting's truth), n_failed.

Replication ``r`` uses seed ``SeedSequence(seed).generate_state(reps)[r]``; the CSV is written with
fixed precision, so the same arguments give a byte-identical file.  Single process (the machine is
shared); about 0.2 s per replication.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from effectmeting.estimate.callaway_santanna.att_gt import att_gt
from effectmeting.estimate.staggered.event_study import event_study_twfe
from effectmeting.estimate.fixest.feols import feols
from effectmeting.estimate.staggered.imputation import imputation_did
from effectmeting.estimate.core.results import confidence_interval
from effectmeting.estimate.staggered.sun_abraham import sun_abraham
from effectmeting.sources.simulate import simulate_staggered_panel

EVENT_TIMES = (0, 1, 2, 3)
TARGETS = ("overall",) + tuple(f"e{e}" for e in EVENT_TIMES)
ESTIMATORS = ("twfe", "cs", "cs_dr_x", "sa", "imputation")
#: which truth each estimator's interval refers to (see module docstring)
ESTIMAND = {"twfe": "sample", "cs": "population", "cs_dr_x": "population", "sa": "sample",
            "imputation": "sample"}
KEYS = dict(outcome="y", unit="unit", time="time", cohort="cohort")
SUMMARY_COLUMNS = ["estimator", "target", "estimand", "n_reps", "true_value", "mean_estimate", "bias",
                   "rmse", "sd_estimate", "mean_se", "coverage", "coverage_mc_se", "coverage_other",
                   "n_failed"]


@dataclass(frozen=True)
class Design:
    """Arguments passed to :func:`simulate_staggered_panel` in every replication."""

    n_units: int = 300
    n_periods: int = 10
    first_period: int = 2015
    cohorts: tuple[int, ...] = (2018, 2020, 2022)
    effect: str = "heterogeneous_dynamic"
    covariate_trend: float = 0.0

    def simulate(self, seed: int):
        return simulate_staggered_panel(self.n_units, self.n_periods, list(self.cohorts), effect=self.effect,
                                        seed=seed, first_period=self.first_period,
                                        covariate_trend=self.covariate_trend)


def _event_rows(table: pd.DataFrame) -> dict[str, tuple[float, float, float, float]]:
    """(estimate, se, low, high) per target e0..e3 from a tidy event-time table."""
    rows = table.set_index("event_time")
    return {f"e{e}": (rows.at[e, "estimate"], rows.at[e, "std_error"], rows.at[e, "conf_low"],
                      rows.at[e, "conf_high"]) for e in EVENT_TIMES}


def _normal_row(estimate: float, se: float) -> tuple[float, float, float, float]:
    low, high = confidence_interval(estimate, se)
    return float(estimate), float(se), float(low), float(high)


def estimate_all(data: pd.DataFrame) -> dict[str, dict[str, tuple[float, float, float, float]]]:
    """Every estimator on one panel: {estimator: {target: (estimate, se, conf_low, conf_high)}}."""
    out: dict[str, dict] = {}
    with_dummy = data.assign(d=((data["cohort"] > 0) & (data["time"] >= data["cohort"])).astype(float))
    twfe = feols("y ~ d | unit + time", with_dummy, vcov={"cluster": "unit"}).tidy().iloc[0]
    dynamic_twfe = event_study_twfe(data, **KEYS).tidy()
    out["twfe"] = {"overall": (twfe["estimate"], twfe["std_error"], twfe["conf_low"], twfe["conf_high"]),
                   **_event_rows(dynamic_twfe)}
    for name, covariates in (("cs", None), ("cs_dr_x", ["x"])):
        attgt = att_gt(data, **KEYS, control="never", method="dr", covariates=covariates)
        simple = attgt.aggregate("simple")
        out[name] = {"overall": (simple.estimate, simple.std_error, simple.conf_low, simple.conf_high),
                     **_event_rows(attgt.aggregate("dynamic").tidy())}
    sa = sun_abraham(data, **KEYS, control="never")
    out["sa"] = {"overall": _normal_row(sa.estimate, sa.std_error), **_event_rows(sa.tidy())}
    imputation = imputation_did(data, **KEYS)
    out["imputation"] = {"overall": _normal_row(imputation.estimate, imputation.std_error),
                         **_event_rows(imputation.tidy())}
    return out


def _truths(truth: dict) -> dict[str, dict[str, float]]:
    """{"sample"|"population": {target: true value}} from the simulator's truth dict."""
    result = {}
    for label, suffix in (("sample", ""), ("population", "_population")):
        by_event = truth[f"att_by_event_time{suffix}"]
        result[label] = {"overall": truth[f"att_overall{suffix}"],
                         **{f"e{e}": float(by_event.loc[e]) for e in EVENT_TIMES}}
    return result


def run_replications(reps: int, seed: int, design: Design = Design(), progress: bool = False) -> pd.DataFrame:
    """One row per replication x estimator x target: estimate, se, interval and both truths.

    A replication in which an estimator raises is recorded with NaN (and counted in ``n_failed``).
    """
    seeds = np.random.SeedSequence(seed).generate_state(reps)
    records = []
    started = time.perf_counter()
    for rep, rep_seed in enumerate(seeds):  # replications are independent panels
        data, truth = design.simulate(int(rep_seed))
        truths = _truths(truth)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. "few clusters" notes are irrelevant here
                results = estimate_all(data)
        except Exception as exc:  # noqa: BLE001 -- a failing estimator is a result to report
            print(f"replication {rep}: {type(exc).__name__}: {exc}", file=sys.stderr)
            results = {}
        for estimator in ESTIMATORS:
            for target in TARGETS:
                estimate, se, low, high = results.get(estimator, {}).get(target, (np.nan,) * 4)
                records.append((rep, estimator, target, estimate, se, low, high,
                                truths["sample"][target], truths["population"][target]))
        if progress and (rep + 1) % 50 == 0:
            print(f"  {rep + 1}/{reps} replications, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return pd.DataFrame(records, columns=["rep", "estimator", "target", "estimate", "std_error", "conf_low",
                                          "conf_high", "truth_sample", "truth_population"])


def summarise(records: pd.DataFrame) -> pd.DataFrame:
    """Bias, RMSE, coverage (with its Monte Carlo SE) per estimator and target, own estimand."""
    rows = []
    for (estimator, target), group in records.groupby(["estimator", "target"], sort=False):
        own = ESTIMAND[estimator]
        other = "population" if own == "sample" else "sample"
        ok = group["estimate"].notna().to_numpy()
        good = group[ok]
        truth, other_truth = good[f"truth_{own}"].to_numpy(), good[f"truth_{other}"].to_numpy()
        error = good["estimate"].to_numpy() - truth
        low, high = good["conf_low"].to_numpy(), good["conf_high"].to_numpy()
        coverage = float(np.mean((low <= truth) & (truth <= high))) if ok.any() else np.nan
        rows.append({
            "estimator": estimator, "target": target, "estimand": own, "n_reps": int(ok.sum()),
            "true_value": truth.mean(), "mean_estimate": good["estimate"].mean(), "bias": error.mean(),
            "rmse": np.sqrt(np.mean(error ** 2)), "sd_estimate": error.std(ddof=1),
            "mean_se": good["std_error"].mean(), "coverage": coverage,
            "coverage_mc_se": np.sqrt(coverage * (1 - coverage) / max(ok.sum(), 1)),
            "coverage_other": float(np.mean((low <= other_truth) & (other_truth <= high))),
            "n_failed": int((~ok).sum()),
        })
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="CSV file for the summary table")
    parser.add_argument("--n-units", type=int, default=Design.n_units)
    parser.add_argument("--effect", default=Design.effect,
                        choices=["heterogeneous_dynamic", "homogeneous", "none"])
    parser.add_argument("--covariate-trend", type=float, default=0.0,
                        help="0: parallel trends unconditional; otherwise only conditional on x")
    args = parser.parse_args(argv)
    design = Design(n_units=args.n_units, effect=args.effect, covariate_trend=args.covariate_trend)
    print(f"Monte Carlo: {args.reps} panels, seed {args.seed}, {design}", file=sys.stderr)
    started = time.perf_counter()
    table = summarise(run_replications(args.reps, args.seed, design, progress=True))
    print(f"done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_rows", 100):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out, index=False, float_format="%.6f", lineterminator="\n")
        print(f"written: {args.out}", file=sys.stderr)
    return table


if __name__ == "__main__":
    main()
