"""Person-years -> one row per municipality x year: persons, indicator counts, rates per 1,000,
optional weighted versions, optional disclosure control.

Each person-year counts in the municipality where the person lived that year, so a person who
moves counts in one municipality before the move and in another after it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from effectmeting.errors import InputError
from effectmeting.scale import checks
from effectmeting.scale.backend_duckdb import duckdb_available, sums_duckdb
from effectmeting.scale.backend_pandas import sums_pandas
from effectmeting.scale.disclosure import SECONDARY, empty_audit, suppress_small_cells
from effectmeting.scale.source import check_columns, resolve_source

BACKENDS = ("auto", "duckdb", "pandas")


def aggregate_persons(source: str | Path | pd.DataFrame, *, person: str, municipality: str, year: str,
                      indicators: list[str] | tuple[str, ...], weights: str | None = None,
                      min_cell_size: int | None = None, secondary: str = "none",
                      backend: str = "auto", progress: bool | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Aggregate person-years (one row per person and year) to a municipality x year table.

    ``source``: a Parquet file, a directory of Parquet files, a glob, or a DataFrame.
    ``indicators``: 0/1 columns (integer, float or boolean); NA (or NaN) means unknown.

    Returns ``(table, audit)``.  ``table`` has one row per municipality x year present in the
    data, sorted, with columns ``municipality, year, persons`` (person-years counted there), and
    per indicator ``<ind>`` (persons with 1), ``<ind>_missing`` (persons with NA: excluded from
    numerator *and* denominator, never read as 0) and ``<ind>_per_1000`` (1000 x count /
    (persons - missing); NA when nobody is observed).  With ``weights`` (a column of non-negative
    weights, persons represented) also ``persons_weighted``, ``<ind>_weighted`` and
    ``<ind>_weighted_per_1000`` (1000 x weighted count / weight of the observed persons).  Weights
    are rounded to 1e-6 and summed exactly, so both back ends give bit-identical results.
    Counts are ``Int64``, rates and weighted values ``Float64``.

    ``min_cell_size=k`` applies :func:`suppress_small_cells` (primary suppression of counts and
    complements below k, derived and, with ``secondary="row"``, secondary suppression); ``audit``
    lists every suppressed cell (empty without ``min_cell_size``).

    ``backend``: ``"duckdb"`` runs validation and aggregation as DuckDB SQL over the Parquet
    files; ``"pandas"`` reads only the needed columns with pyarrow and uses a pandas groupby;
    ``"auto"`` uses DuckDB for file sources when it is installed (``pip install effectmeting[scale]``)
    and pandas otherwise.  Both give identical frames.  ``progress=True`` draws a bar over the
    pandas back end's passes per indicator on stderr (DuckDB runs one query; no bar).

    Raises :class:`SchemaValidationError` for duplicated (person, year) rows (naming the first
    person and year; duplicates are never summed) and :class:`InputError` for unknown or
    ill-typed columns, missing keys, indicator values other than 0/1/NA and invalid weights.
    """
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {BACKENDS}, not {backend!r}.")
    if secondary not in SECONDARY:
        raise InputError(f"secondary must be one of {SECONDARY}, not {secondary!r}.")
    indicators = [indicators] if isinstance(indicators, str) else list(indicators)
    if not indicators:
        raise InputError("give at least one indicator column (0/1 per person-year).")
    _check_output_names(indicators, weights)
    data = resolve_source(source)
    check_columns(data, {"person": person, "municipality": municipality, "year": year,
                         "indicators": indicators, "weights": weights})
    if backend == "duckdb" and not duckdb_available():
        raise InputError("backend='duckdb' needs DuckDB: pip install 'effectmeting[scale]' (or use backend='pandas').")
    use_duckdb = backend == "duckdb" or (backend == "auto" and not data.is_frame and duckdb_available())
    if use_duckdb:
        sums = sums_duckdb(data, person=person, municipality=municipality, year=year, indicators=indicators,
                           weights=weights)
    else:
        sums = sums_pandas(data, person=person, municipality=municipality, year=year, indicators=indicators,
                           weights=weights, progress=progress)
    table = _publishable(sums, indicators, weights)
    if min_cell_size is None:
        return table, empty_audit()
    return suppress_small_cells(table, indicators=indicators, min_cell_size=min_cell_size, secondary=secondary)


def _check_output_names(indicators: list[str], weights: str | None) -> None:
    reserved = {"municipality", "year", "persons", "persons_weighted"}
    outputs = [name for i in indicators for name in (i, f"{i}_missing", f"{i}_per_1000")
               + ((f"{i}_weighted", f"{i}_weighted_per_1000") if weights else ())]
    clashes = sorted({name for name in outputs if name in reserved or outputs.count(name) > 1})
    if clashes:
        raise InputError(f"indicator names {indicators} would give the output column(s) {clashes} twice or clash "
                         "with municipality/year/persons; rename the indicator columns.")


def _publishable(sums: pd.DataFrame, indicators: list[str], weights: str | None) -> pd.DataFrame:
    """Integer sums -> the published columns; the same code for both back ends so rates agree exactly."""
    sums = _canonical_keys(sums).sort_values(["municipality", "year"], kind="stable").reset_index(drop=True)
    persons = sums["persons"].to_numpy(dtype="int64")
    out = {"municipality": sums["municipality"], "year": sums["year"], "persons": pd.array(persons, dtype="Int64")}
    if weights:
        out["persons_weighted"] = _units_to_persons(sums["w_persons"])
    for j, indicator in enumerate(indicators):
        count = sums[f"i{j}_count"].to_numpy(dtype="int64")
        missing = sums[f"i{j}_missing"].to_numpy(dtype="int64")
        out[indicator] = pd.array(count, dtype="Int64")
        out[f"{indicator}_missing"] = pd.array(missing, dtype="Int64")
        out[f"{indicator}_per_1000"] = _per_1000(count, persons - missing)
        if weights:
            wcount = sums[f"i{j}_wcount"].to_numpy(dtype="int64")
            out[f"{indicator}_weighted"] = _units_to_persons(sums[f"i{j}_wcount"])
            out[f"{indicator}_weighted_per_1000"] = _per_1000(wcount, sums[f"i{j}_wobserved"].to_numpy(dtype="int64"))
    return pd.DataFrame(out)


def _canonical_keys(sums: pd.DataFrame) -> pd.DataFrame:
    # DuckDB and pandas return different widths/dtypes for the keys; publish int64 years and
    # int64 or string municipality codes whichever engine ran.
    sums = sums.copy()
    sums["year"] = sums["year"].astype("int64")
    codes = sums["municipality"]
    sums["municipality"] = codes.astype("int64") if pd.api.types.is_integer_dtype(codes) else codes.astype("str")
    return sums


def _per_1000(numerator: np.ndarray, denominator: np.ndarray) -> pd.arrays.FloatingArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        values = 1000.0 * numerator.astype("float64") / denominator.astype("float64")
    empty = denominator == 0  # nobody observed: NA, not 0 or inf
    return pd.arrays.FloatingArray(np.where(empty, 0.0, values), empty.copy())


def _units_to_persons(units: pd.Series) -> pd.arrays.FloatingArray:
    values = units.to_numpy(dtype="int64").astype("float64") / float(checks.WEIGHT_UNITS_PER_ONE)
    return pd.array(values, dtype="Float64")
