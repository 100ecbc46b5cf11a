"""Speed of ``effectmeting.att_gt`` against diff-diff and moderndid (not a test).

Design: 20,000 units x 20 periods, 5 treated cohorts + never treated, one time-invariant
covariate, doubly-robust estimator, never-treated comparison, varying base period, analytic
standard errors (no bootstrap).  Each package is run once to warm up (imports, JIT, caches) and
then timed as the best of ``REPEATS`` runs (moderndid, ~15 s a run: one timed run).  Run:  python benchmarks/bench_att_gt.py
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from timing import best_time  # scripts run from benchmarks/

N_UNITS, N_PERIODS, REPEATS, SEED = 20_000, 20, 3, 20240101
COHORTS = [2006, 2008, 2010, 2012, 2014]


def make_data() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    periods = np.arange(2001, 2001 + N_PERIODS)
    x = rng.normal(size=N_UNITS)
    # treatment timing depends on x so that covariate adjustment matters
    cohort = np.where(rng.random(N_UNITS) < 1 / (1 + np.exp(-x)),
                      rng.choice(COHORTS, N_UNITS), 0)
    unit_effect = rng.normal(size=N_UNITS) + 0.5 * x
    t = np.tile(periods, N_UNITS)
    g = np.repeat(cohort, N_PERIODS)
    y = (np.repeat(unit_effect, N_PERIODS) + 0.05 * (t - 2000) * np.repeat(x, N_PERIODS)
         + np.where((g > 0) & (t >= g), 0.1 * (t - g + 1), 0.0) + rng.normal(size=t.size))
    return pd.DataFrame({"unit": np.repeat(np.arange(N_UNITS), N_PERIODS), "year": t,
                         "first_treat": g, "x": np.repeat(x, N_PERIODS), "y": y})


def main() -> None:
    import diff_diff
    import moderndid

    from effectmeting.estimate.callaway_santanna.att_gt import att_gt

    data = make_data()
    warnings.simplefilter("ignore")

    def ours():
        return att_gt(data, outcome="y", unit="unit", time="year", cohort="first_treat",
                      covariates=["x"], method="dr")

    def with_diff_diff():
        return diff_diff.CallawaySantAnna(estimation_method="dr").fit(
            data, outcome="y", unit="unit", time="year", first_treat="first_treat", covariates=["x"])

    def with_moderndid():
        return moderndid.att_gt(data, yname="y", tname="year", idname="unit", gname="first_treat",
                                xformla="~x", est_method="dr", boot=False, cband=False)

    # same numbers first (a benchmark of different estimates would be meaningless)
    mine = ours().tidy()
    reference = with_moderndid()
    gap = np.max(np.abs(mine["estimate"].to_numpy() - np.asarray(reference.att_gt)))
    print(f"max |ours - moderndid| over {len(mine)} ATT(g,t): {gap:.2e}")

    t_ours = best_time(ours, repeats=REPEATS, warm_up=False)  # warmed by the check above
    t_dd = best_time(with_diff_diff, repeats=REPEATS)
    t_md = best_time(with_moderndid, repeats=1, warm_up=False)  # ~15 s a run; warmed above
    print(f"{N_UNITS:,} units x {N_PERIODS} periods, {len(COHORTS)} cohorts, DR + 1 covariate, analytic SE")
    print(f"effectmeting {t_ours:8.3f} s")
    print(f"diff-diff    {t_dd:8.3f} s   ratio ours/diff-diff = {t_ours / t_dd:.2f} (target <= 1.0)")
    print(f"moderndid    {t_md:8.3f} s   ratio ours/moderndid = {t_ours / t_md:.2f} (target <= 0.3)")


if __name__ == "__main__":
    main()
