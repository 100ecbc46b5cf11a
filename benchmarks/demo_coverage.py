"""Coverage of design_effect's 95 % intervals on the demo, over many demo seeds (not a test).

Usage::

    python benchmarks/demo_coverage.py --seeds 200 --first-seed 1 [--switchers first_adoption] \
        [--out benchmarks/results/demo_coverage.csv]

For each seed: ``generate_demo`` into a temporary directory, ``harmonise`` it, run
``design_effect(panel, design="role=gives_help", outcomes=<every outcome and cost line in
truth.json>, estimator=["cs", "sa", "imputation", "twfe"])`` and check whether each overall and
event-time 95 % interval contains the planted truth of ``truth.json``.

Scored: cs, sa and imputation, overall and event times with a truth (-5..8), on the outcomes not
moved by another planted design.  ``wmo_per_1000_adults``, ``cost_6_6_per_inhabitant`` and
``cost_6_71_per_inhabitant`` are moved by ``target_group=all_ages``, whose adoption years are
correlated with role's (truth.json's ``caution``): a one-design analysis cannot recover their
zero truth, so they are reported separately ("confounded").  TWFE is reported for contrast.

Estimand: truth.json's ``att`` takes first adoption as absorbing and counts municipalities that
switched back with their actual (zero) effect, which is what ``switchers="first_adoption"``
estimates (default here).  With ``--switchers exclude`` (design_effect's default) switchers are
left out of the estimate, and the script scores against truth.json's ``excluding_switchers``.

Prints coverage per estimator x aggregation and overall, with a Monte Carlo standard error over
seeds (intervals of one demo are correlated); ``--out`` writes one row per seed x estimator x aggregation (hits, intervals).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from effectmeting.harmonise.pipeline import harmonise
from effectmeting.sources import demo_model
from effectmeting.sources.demo import generate_demo
from effectmeting.study import design_effect

DESIGN = "role=gives_help"
SCORED = ("cs", "sa", "imputation")


def confounded_outcomes() -> set[str]:
    """Panel columns moved by a planted design other than role=gives_help."""
    other = {v for treatment, lines in demo_model.EFFECTS.items() if treatment != ("role", "gives_help")
             for v in lines}
    return {demo_model._rate_name(v) for v in other}


def one_seed(seed: int, switchers: str) -> pd.DataFrame:
    """Per interval of one demo: outcome, estimator, aggregation, key, truth, covered."""
    with tempfile.TemporaryDirectory() as folder:
        paths = generate_demo(Path(folder), seed=seed)
        panel = harmonise(paths["sources"])
        truth = json.loads(paths["truth"].read_text(encoding="utf-8"))["designs"][DESIGN]["outcomes"]
        if switchers == "exclude":
            truth = {outcome: entry["excluding_switchers"] for outcome, entry in truth.items()}
    study = design_effect(panel, design=DESIGN, outcomes=sorted(truth), estimator=["cs", "sa", "imputation", "twfe"],
                          switchers=switchers)
    table = study.tidy()
    table = table[table["aggregation"].isin(["overall", "event_time"])]
    target = [truth[o]["att"] if a == "overall" else truth[o]["by_event_time"].get(k)
              for o, a, k in zip(table["outcome"], table["aggregation"], table["key"])]
    table = table.assign(truth=target).dropna(subset=["truth"])
    covered = (table["conf_low"] <= table["truth"]) & (table["truth"] <= table["conf_high"])
    return table.assign(seed=seed, covered=covered,
                        confounded=table["outcome"].isin(confounded_outcomes()))


def summarise(rows: pd.DataFrame) -> str:
    lines = []
    clean = rows[~rows["confounded"]]
    table = clean.groupby(["estimator", "aggregation"])["covered"].agg(["mean", "size"])
    # intervals of one demo share its data: the Monte Carlo SE treats seeds, not intervals, as draws
    per_seed = clean.groupby(["estimator", "aggregation", "seed"])["covered"].mean()
    seeds = rows["seed"].nunique()
    for (estimator, aggregation), row in table.iterrows():
        spread = per_seed.loc[(estimator, aggregation)].std(ddof=1) if seeds > 1 else np.nan
        lines.append(f"  {estimator:<11} {aggregation:<11} coverage {row['mean']:.3f} (MC se over seeds "
                     f"{spread / np.sqrt(seeds):.3f}, {int(row['size'])} intervals)")
    scored = clean[clean["estimator"].isin(SCORED)]
    per_seed = scored.groupby("seed")["covered"].mean()
    lines.append(f"  scored (cs, sa, imputation; overall + event times): coverage {scored['covered'].mean():.3f} "
                 f"over {len(scored)} intervals; per seed min {per_seed.min():.3f}, median {per_seed.median():.3f}, "
                 f"share of seeds >= 0.90: {(per_seed >= 0.90).mean():.2f}")
    confounded = rows[rows["confounded"] & rows["estimator"].isin(SCORED)]
    if len(confounded):
        lines.append(f"  confounded outcomes (moved by target_group=all_ages), for contrast: coverage "
                     f"{confounded['covered'].mean():.3f} over {len(confounded)} intervals")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--switchers", choices=["first_adoption", "exclude"], default="first_adoption")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    parts, start = [], time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        parts.append(one_seed(seed, args.switchers))
        done = seed - args.first_seed + 1
        if done % 10 == 0 or done == args.seeds:
            print(f"{done} seeds ({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    rows = pd.concat(parts, ignore_index=True)
    print(f"design_effect on the demo, {DESIGN}, seeds {args.first_seed}..{args.first_seed + args.seeds - 1}, "
          f"switchers={args.switchers}")
    print(summarise(rows))
    if args.out is not None:
        grouped = rows.groupby(["seed", "estimator", "aggregation", "confounded"])["covered"].agg(
            hits="sum", intervals="size").reset_index()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        grouped.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
