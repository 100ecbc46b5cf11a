"""Benchmark: person-years -> municipality x year table (effectmeting.scale.aggregate_persons).

Default 1,000,000 persons x 5 years = 5 M person-years in one Parquet file per year (written to a
temporary directory, seeded), 3 0/1 indicators with NA, one weight column, 342 municipalities.
Times one call each (the data are read from Parquet every time, as in use):

* aggregate_persons(backend="duckdb")  -- validation (NA keys, duplicates, 0/1) + SQL aggregation
* aggregate_persons(backend="pandas")  -- the same through pyarrow + pandas groupby
* a plain pandas floor: pd.read_parquet of the needed columns + one groupby sum, no validation,
  no NA handling, no weights

Usage: ``python benchmarks/bench_scale.py [--persons 1000000] [--years 5] [--min-cell-size 10]``
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from effectmeting.scale import aggregate_persons, duckdb_available

INDICATORS = ["jeugdhulp", "wmo", "bijstand"]


def write_person_years(folder: Path, persons: int, years: int, seed: int = 7) -> int:
    rng = np.random.default_rng(seed)
    codes = np.array([f"GM{code:04d}" for code in rng.choice(np.arange(1, 2000), 342, replace=False)])
    size = 1.0 / np.arange(1, 343) ** 1.1
    home = rng.choice(342, persons, p=size / size.sum())
    rows = 0
    for year in range(2017, 2017 + years):
        move = rng.random(persons) < 0.08
        home = np.where(move, rng.choice(342, persons, p=size / size.sum()), home)
        frame = pd.DataFrame({"rin": np.arange(persons, dtype="int64"), "jaar": year, "gemeente": codes[home]})
        for name, p in zip(INDICATORS, (0.11, 0.06, 0.04)):
            values = (rng.random(persons) < p).astype("float64")
            values[rng.random(persons) < 0.02] = np.nan
            frame[name] = values
        frame["gewicht"] = rng.uniform(0.5, 3.0, persons)
        frame.to_parquet(folder / f"persons_{year}.parquet", index=False)
        rows += len(frame)
    return rows


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def plain_pandas(folder: Path) -> pd.DataFrame:
    data = pd.read_parquet(folder, columns=["gemeente", "jaar", *INDICATORS])
    return data.groupby(["gemeente", "jaar"]).agg(persons=("jaar", "size"), **{i: (i, "sum") for i in INDICATORS})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--min-cell-size", type=int, default=10)
    args = parser.parse_args()
    keys = dict(person="rin", municipality="gemeente", year="jaar", indicators=INDICATORS, weights="gewicht",
                min_cell_size=args.min_cell_size, secondary="row")
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        rows = write_person_years(folder, args.persons, args.years)
        print(f"{rows:,} person-years, {len(list(folder.glob('*.parquet')))} Parquet files")
        floor_seconds, floor = timed(lambda: plain_pandas(folder))
        print(f"plain pandas groupby (no checks)   {floor_seconds:7.2f} s  ({len(floor)} municipality-years)")
        pandas_seconds, (by_pandas, audit) = timed(lambda: aggregate_persons(folder, **keys, backend="pandas"))
        print(f"aggregate_persons backend=pandas   {pandas_seconds:7.2f} s  ({len(audit)} suppressed cells)")
        if duckdb_available():
            duckdb_seconds, (by_duckdb, _) = timed(lambda: aggregate_persons(folder, **keys, backend="duckdb"))
            print(f"aggregate_persons backend=duckdb   {duckdb_seconds:7.2f} s")
            pd.testing.assert_frame_equal(by_duckdb, by_pandas, check_exact=True)
            print(f"identical frames; ratios duckdb/pandas {duckdb_seconds / pandas_seconds:.2f}, "
                  f"duckdb/plain {duckdb_seconds / floor_seconds:.2f}, pandas/plain {pandas_seconds / floor_seconds:.2f}")
        else:
            print("DuckDB not installed (pip install 'effectmeting[scale]'): duckdb backend skipped")


if __name__ == "__main__":
    main()
