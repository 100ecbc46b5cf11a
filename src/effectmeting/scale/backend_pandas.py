"""Pandas/pyarrow back end: validate and sum person-years per municipality x year, vectorised."""
from __future__ import annotations

import numpy as np
import pandas as pd

from effectmeting.progress import progress as progress_bar
from effectmeting.scale import checks
from effectmeting.scale.source import PersonYearSource, read_columns

EXAMPLES = 5


def sums_pandas(source: PersonYearSource, *, person: str, municipality: str, year: str,
                indicators: list[str], weights: str | None, progress: bool | None = None) -> pd.DataFrame:
    """Integer sums per municipality x year (columns ``municipality, year, persons, i<j>_count,
    i<j>_missing`` and, with weights, ``w_persons, i<j>_wcount, i<j>_wobserved`` in 1e-6 units).
    ``progress``: a bar over the passes per indicator (see :mod:`effectmeting.progress`)."""
    columns = [person, municipality, year, *indicators] + ([weights] if weights else [])
    data = read_columns(source, columns)
    _validate(data, person=person, municipality=municipality, year=year, indicators=indicators,
              weights=weights, label=source.label)
    # One integer cell id per municipality x year, then np.bincount: much faster than a groupby on
    # string codes.  bincount adds in float64, exact because every partial sum is an integer below
    # 2**53 (counts, and weight units capped by checks.LARGEST_TOTAL_WEIGHT).
    place_code, places = pd.factorize(data[municipality], sort=True)
    year_code, years = pd.factorize(data[year], sort=True)
    cell = place_code.astype("int64") * len(years) + year_code
    cells = len(places) * len(years)

    def total(values: np.ndarray | None = None) -> np.ndarray:
        return np.rint(np.bincount(cell, weights=values, minlength=cells)).astype("int64")

    sums = {"municipality": np.repeat(np.asarray(places), len(years)),
            "year": np.tile(np.asarray(years, dtype="int64"), len(places)), "persons": total()}
    if weights:
        units = _weight_units(data[weights])
        sums["w_persons"] = total(units.astype("float64"))
    passes = progress_bar(list(enumerate(indicators)), desc="person-level passes", unit="indicator", enabled=progress)
    for j, column in passes:
        values = pd.to_numeric(data[column], errors="coerce").astype("float64").to_numpy()
        missing = np.isnan(values)
        positive = values == 1.0
        sums[f"i{j}_count"] = total(positive.astype("float64"))
        sums[f"i{j}_missing"] = total(missing.astype("float64"))
        if weights:
            sums[f"i{j}_wcount"] = total(np.where(positive, units, 0).astype("float64"))
            sums[f"i{j}_wobserved"] = total(np.where(missing, 0, units).astype("float64"))
    frame = pd.DataFrame(sums)
    return frame.loc[frame["persons"] > 0].reset_index(drop=True)  # only cells with person-years


def _weight_units(weights: pd.Series) -> np.ndarray:
    # floor(w * 1e6 + 0.5) is computed identically (IEEE doubles) in the DuckDB query.
    return np.floor(weights.to_numpy(dtype="float64") * float(checks.WEIGHT_UNITS_PER_ONE) + 0.5).astype("int64")


def _validate(data: pd.DataFrame, *, person: str, municipality: str, year: str, indicators: list[str],
              weights: str | None, label: str) -> None:
    keys_missing = data[[person, municipality, year]].isna().any(axis=1)
    if keys_missing.any():
        examples = data.loc[keys_missing, [person, municipality, year]].head(EXAMPLES)
        examples.columns = ["person", "municipality", "year"]
        checks.refuse_missing_keys(examples, int(keys_missing.sum()), label=label)
    person_code = pd.factorize(data[person])[0].astype("int64")
    year_code, years = pd.factorize(data[year])
    duplicated = pd.Series(person_code * len(years) + year_code).duplicated(keep=False).to_numpy()
    if duplicated.any():
        counts = (data.loc[duplicated, [person, year]].value_counts().rename("rows").reset_index()
                  .set_axis(["person", "year", "rows"], axis=1).sort_values(["person", "year"]))
        checks.refuse_duplicates(counts.head(EXAMPLES), len(counts), person=person, year=year, label=label)
    for column in indicators:
        values = pd.to_numeric(data[column], errors="coerce").astype("float64")
        bad = values.notna() & ~values.isin([0.0, 1.0])
        if bad.any():
            checks.refuse_indicator_values(_examples(data, bad, person, year, column), int(bad.sum()),
                                           column=column, label=label)
    if weights:
        w = data[weights].astype("float64")
        bad = ~np.isfinite(w) | (w < 0) | ((w > 0) & (w < checks.SMALLEST_WEIGHT))
        if bad.any():
            checks.refuse_weights(_examples(data, bad, person, year, weights), int(bad.sum()),
                                  column=weights, label=label)
        if float(w.sum()) > checks.LARGEST_TOTAL_WEIGHT:
            checks.refuse_total_weight(float(w.sum()), column=weights, label=label)


def _examples(data: pd.DataFrame, mask: pd.Series, person: str, year: str, column: str) -> pd.DataFrame:
    rows = data.loc[mask, [person, year, column]].sort_values([person, year]).head(EXAMPLES)
    return rows.set_axis(["person", "year", "value"], axis=1)
