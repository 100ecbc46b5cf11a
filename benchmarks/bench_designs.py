"""Treatment timing at scale: 100,000 municipalities x 10 years (not a test).

The same data as tests/test_designs.py::test_hundred_thousand_municipalities_by_ten_years (which
checks the results): ``derive_treatment`` + ``absorbing()`` + ``switching()`` on 1,000,000 design
rows, against a floor measured in the same run: one pandas groupby taking each municipality's
first "gives help" year (no gaps, switch-backs, exclusions or paths).  Best of 3 after a warm-up.
The former test asserted under 2 s; on a busy 2-core machine it took 2.8-3.4 s.

Usage: ``python benchmarks/bench_designs.py [--municipalities 100000]``
"""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from effectmeting.designs import derive_treatment

from timing import best_time  # scripts run from benchmarks/

T, H = "triage_only", "gives_help"


def make_designs(n: int, seed: int = 1) -> pd.DataFrame:
    """Long design rows in panel order; 60 % adopt in 2015-2023, 5 % of adopters switch back 2 years later."""
    rng = np.random.default_rng(seed)
    years = np.arange(2014, 2024)
    cohort = np.where(rng.random(n) < 0.6, rng.integers(2015, 2024, n), 0)
    back = np.where((cohort > 0) & (rng.random(n) < 0.05), cohort + 2, 0)
    on = ((cohort[:, None] > 0) & (years >= cohort[:, None])) & ~((back[:, None] > 0) & (years >= back[:, None]))
    codes = np.char.add("GM", np.char.zfill(np.arange(n).astype(str), 6))
    return pd.DataFrame({"municipality": np.repeat(codes, len(years)), "year": np.tile(years, n),
                         "dimension": "role", "value": np.where(on.ravel(), H, T)})


def timing_at_scale(designs: pd.DataFrame) -> None:
    timing = derive_treatment(designs, dimension="role")
    timing.absorbing()
    timing.switching()


def floor(designs: pd.DataFrame) -> pd.Series:
    return designs[designs["value"] == H].groupby("municipality")["year"].min()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--municipalities", type=int, default=100_000)
    args = parser.parse_args()
    designs = make_designs(args.municipalities)
    ours = best_time(lambda: timing_at_scale(designs))
    plain = best_time(lambda: floor(designs))
    print(f"bench_designs: {args.municipalities:,} municipalities x 10 years = {len(designs):,} design rows")
    print(f"  derive_treatment + absorbing + switching  {ours:6.2f} s   {ours / plain:5.1f} x floor")
    print(f"  floor: one groupby for the first adoption {plain:6.2f} s")


if __name__ == "__main__":
    main()
