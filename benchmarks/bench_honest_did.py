"""HonestDiD relative-magnitudes interval: one call on 4 pre + 5 post event times (not a test).

The event study of tests/test_pretrends.py::test_sensitivity_table_and_plot (which checks the
numbers).  ``honest_did(result, mbar=1.0)`` solves a sequence of small linear programmes; the
floor, measured in the same run, is one ``scipy.optimize.linprog`` of the same size (9 event-time
coefficients, one constraint row per pair of adjacent pre-periods).  Best of 5 after a warm-up.
The former test asserted under 2 s (0.1-0.4 s on a shared 2-core machine; R's HonestDiD takes
minutes).

Usage: ``python benchmarks/bench_honest_did.py``
"""
from __future__ import annotations


import numpy as np
from scipy.optimize import linprog

from effectmeting.estimate.core.event_study_results import EventStudyResults
from effectmeting.estimate.sensitivity.pretrends import honest_did

from timing import best_time  # scripts run from benchmarks/


def event_study() -> EventStudyResults:
    rng = np.random.default_rng(3)
    factor = rng.normal(size=(9, 9))
    vcov = (factor @ factor.T / 9 + np.eye(9)) * 1e-3
    beta = np.concatenate([rng.normal(0, 0.02, 4), 0.1 + rng.normal(0, 0.02, 5)])
    return EventStudyResults(title="4 pre, 5 post", event_time=[-5, -4, -3, -2, 0, 1, 2, 3, 4],
                             estimates=beta, vcov=vcov, nobs=0, reference=(-1,))


def one_linprog() -> None:
    rng = np.random.default_rng(0)
    bounds_rows = np.diff(np.eye(9)[:5], axis=0)
    linprog(rng.normal(size=9), A_ub=np.vstack([bounds_rows, -bounds_rows]), b_ub=np.full(8, 0.05),
            bounds=[(-1, 1)] * 9, method="highs")


def main() -> None:
    result = event_study()
    ours = best_time(lambda: honest_did(result, mbar=1.0), repeats=5)
    floor = best_time(one_linprog, repeats=5)
    print("bench_honest_did: relative magnitudes, Mbar = 1, 4 pre + 5 post event times")
    print(f"  honest_did                  {ours:7.3f} s   {ours / floor:6.0f} x floor")
    print(f"  floor: one linprog (HiGHS)  {floor:7.3f} s")


if __name__ == "__main__":
    main()
