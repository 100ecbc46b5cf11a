"""Movers per year: persons whose municipality differs from the one in their previous observed year."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from effectmeting.scale import checks
from effectmeting.scale.source import check_columns, read_columns, resolve_source


def movers(source: str | Path | pd.DataFrame, *, person: str, municipality: str, year: str) -> pd.DataFrame:
    """Per year: ``persons`` observed, ``with_previous`` (persons also observed in an earlier year)
    and ``movers`` (of those, persons whose municipality differs from their previous *observed*
    year, which need not be the calendar year before: gaps are bridged).

    A diagnostic for person-level designs (how much a municipality's population turns over); a
    move and a move back count twice.  The first year has no movers by construction.  Duplicated
    (person, year) rows are refused as in :func:`aggregate_persons`.  Sorting is vectorised;
    there is no loop over persons.
    """
    data_source = resolve_source(source)
    check_columns(data_source, {"person": person, "municipality": municipality, "year": year})
    data = read_columns(data_source, [person, municipality, year])
    keys_missing = data.isna().any(axis=1)
    if keys_missing.any():
        examples = data.loc[keys_missing].head(5).set_axis(["person", "municipality", "year"], axis=1)
        checks.refuse_missing_keys(examples, int(keys_missing.sum()), label=data_source.label)
    ordered = data.sort_values([person, year], kind="stable").reset_index(drop=True)
    who = ordered[person].to_numpy()
    when = ordered[year].to_numpy(dtype="int64")
    where = ordered[municipality].to_numpy()
    same_person = np.zeros(len(ordered), dtype=bool)
    same_person[1:] = who[1:] == who[:-1]
    duplicate = same_person.copy()
    duplicate[1:] &= when[1:] == when[:-1]
    if duplicate.any():
        repeated = ordered.loc[duplicate, [person, year]].value_counts().add(1).rename("rows").reset_index()
        repeated = repeated.set_axis(["person", "year", "rows"], axis=1).sort_values(["person", "year"])
        checks.refuse_duplicates(repeated.head(5), len(repeated), person=person, year=year, label=data_source.label)
    moved = np.zeros(len(ordered), dtype=bool)
    moved[1:] = same_person[1:] & (where[1:] != where[:-1])
    per_year = pd.DataFrame({"year": when, "persons": 1, "with_previous": same_person.astype("int64"),
                             "movers": moved.astype("int64")})
    return per_year.groupby("year", sort=True).sum().reset_index()
