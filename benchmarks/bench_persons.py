"""Person-level Callaway-Sant'Anna clustered by municipality, against diff-diff (not a test).

Design: 342 municipalities x 300 residents (102,600 persons) x 10 years = 1.03 M rows; adoption
per municipality in 4 cohorts + never; a yearly shock per municipality; doubly robust without
covariates; never-treated comparison; analytic standard errors clustered by municipality, then
the dynamic aggregation.  Both packages are warmed up once and timed as the best of 3 runs.
Run:  python benchmarks/bench_persons.py
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

MUNICIPALITIES, PERSONS, YEARS, SEED = 342, 300, 10, 20261123


def make_data() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    municipality = np.repeat(np.arange(MUNICIPALITIES), PERSONS)
    cohort = rng.choice([0, 2018, 2019, 2020, 2021], size=MUNICIPALITIES)[municipality]
    years = np.arange(2015, 2015 + YEARS)
    shock = rng.normal(size=(MUNICIPALITIES, YEARS))[municipality]
    treated = (cohort[:, None] > 0) & (years[None, :] >= cohort[:, None])
    y = rng.normal(size=(len(cohort), 1)) + shock + rng.normal(size=(len(cohort), YEARS)) + treated
    n = len(cohort)
    return pd.DataFrame({"person": np.repeat(np.arange(n), YEARS), "year": np.tile(years, n),
                         "y": y.ravel(), "cohort": np.repeat(cohort, YEARS),
                         "municipality": np.repeat(municipality, YEARS)})


def main() -> None:
    import diff_diff
    from timing import best_time  # warm-up + best of 3 (scripts run from benchmarks/)

    from effectmeting import att_gt

    data = make_data()
    warnings.simplefilter("ignore")

    def ours():
        return att_gt(data, outcome="y", unit="person", time="year", cohort="cohort",
                      cluster="municipality").aggregate("dynamic")

    def theirs():
        return diff_diff.CallawaySantAnna(control_group="never_treated", cluster="municipality").fit(
            data, outcome="y", unit="person", time="year", first_treat="cohort",
            aggregate="event_study")

    mine, peer = ours(), theirs()
    se_ours = mine.tidy().set_index("event_time")["std_error"]
    se_peer = pd.Series({e: row["se"] for e, row in peer.event_study_effects.items()})
    common = se_ours.index.intersection(se_peer.index)
    gap = float(np.nanmax(np.abs(se_ours[common] / se_peer[common] - 1)))
    t_ours, t_peer = best_time(ours), best_time(theirs)
    print(f"{len(data):,} person-years, {MUNICIPALITIES} clusters; max relative SE difference "
          f"to diff-diff {gap:.1e}")
    print(f"effectmeting att_gt(cluster=) + dynamic: {t_ours:.2f} s")
    print(f"diff-diff CallawaySantAnna(cluster=):    {t_peer:.2f} s")
    print(f"ratio ours / diff-diff: {t_ours / t_peer:.2f}x")


if __name__ == "__main__":
    main()
