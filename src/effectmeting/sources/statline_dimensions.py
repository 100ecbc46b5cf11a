"""Apply a StatLine declaration: extra dimensions kept or summed, percentages turned into counts.

Works on the frame :func:`effectmeting.sources.cbs.parse_statline` builds (measures already numbers, markers in
``<measure>__marker``, rows of other regions and periods already set aside).  Every input row keeps exactly one
fate: the row that carries a result (the first of its group), *folded* into that row (``attrs["folded"]``:
``source_row, region, into_row, reason``), or set aside (``attrs["set_aside"]``), so the audit adds up.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from effectmeting.errors import InputError, echo
from effectmeting.sources.statline_declaration import StatlineDeclaration

#: A measure key as CBS writes it (``BevolkingOp1Januari_1``) or a web-portal header with a unit
#: (``Bevolking op 1 januari (aantal)``).
MEASURE_NAME = re.compile(r"(_\d+|\(.*\))$")


def is_measure(name: str, declaration: StatlineDeclaration) -> bool:
    """Whether a column (not region, period or ID) is a measure rather than a dimension."""
    return bool(MEASURE_NAME.search(name)) or name in declaration.measures or any(
        name in (p.column, p.denominator) for p in declaration.percentages)


def check_dimensions(cells: pd.DataFrame, dimensions: list[str], declaration: StatlineDeclaration,
                     path: str) -> None:
    """Refuse an undeclared dimension (its values and an example declaration) and a declared one that is absent."""
    absent = [name for name in declaration.dimensions if name not in cells.columns]
    if absent:
        found = ", ".join(c for c in cells.columns if c != "source_row")
        raise InputError(
            f"{path}: dimension(s) {', '.join(absent)} declared in [source.dimensions] but the table has no such "
            f"column (columns: {found}). Correct the name or remove the declaration.", reason="statline_declaration")
    undeclared = [name for name in dimensions if name not in declaration.dimensions]
    if not undeclared:
        return
    name = undeclared[0]
    text = cells[name].astype(str).str.strip()
    counts = text.value_counts(sort=False)
    shown = ", ".join(f"{echo(v)} ({n} rows)" for v, n in list(counts.items())[:15])
    more = f" and {len(counts) - 15} more" if len(counts) > 15 else ""
    first = cells.index[0]
    example = counts.index[0]
    raise InputError(
        f"{path}, row {cells.at[first, 'source_row']}, column {name!r}, value {echo(text.iloc[0])}: the table has a "
        f"dimension {name!r} that the sources manifest does not declare, so a municipality and year would appear "
        f"more than once. Its values: {shown}{more}. Declare which value to keep or which values to sum in this "
        f"source's [[source]] table, for example\n  [source.dimensions]\n  {name} = {echo(example)}   # keep one "
        f"value\nor\n  {name} = [{', '.join(echo(v) for v in list(counts.index)[:3])}]   # sum these values"
        + (f"\n(undeclared too: {', '.join(undeclared[1:])})" if len(undeclared) > 1 else "")
        + f"\nIf {name!r} is a measure, list it in measures = [...].", reason="undeclared_dimension")


def apply_dimensions(frame: pd.DataFrame, *, region: str, declaration: StatlineDeclaration,
                     measures: list[str], path: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Keep and sum the declared values of every extra dimension.

    ``frame`` holds the rows not set aside, the dimension columns as stripped text and ``year``.
    Returns ``(result, set_aside, folded)``: one row per region, year (and spread entry merged into columns),
    the rows with an undeclared value (``source_row, region, reason``) and the rows summed into another row.
    """
    dims = declaration.dimensions
    named = {name: _named(value) for name, value in dims.items()}
    for name, values in named.items():
        present = set(frame[name])
        missing = [v for v in values if v not in present]
        if missing:
            shown = ", ".join(echo(v) for v in sorted(present)[:15])
            raise InputError(
                f"{path}, column {name!r}: declared value(s) {', '.join(echo(v) for v in missing)} do not occur in the "
                f"table; its values are {shown}. Correct [source.dimensions] (codes as in the file, or labels in a "
                "web-portal export).", reason="statline_declaration")
    inside = np.ones(len(frame), dtype=bool)
    reasons = pd.Series(pd.NA, index=frame.index, dtype="object")
    for name, values in named.items():
        outside = ~frame[name].isin(values) & inside
        reasons[outside] = (f"{name} = " + frame.loc[outside, name].map(echo)
                            + f" is not a declared value ({', '.join(values)})")
        inside &= ~outside.to_numpy()
    set_aside = pd.DataFrame({"source_row": frame.loc[~inside, "source_row"].to_numpy(),
                              "region": frame.loc[~inside, region].to_numpy(),
                              "reason": reasons[~inside].to_numpy()})
    rows = frame.loc[inside].reset_index(drop=True)
    spread = next((name for name, value in dims.items() if isinstance(value, dict)), None)
    if spread is not None:
        if len(measures) != 1:
            raise InputError(
                f"{path}: dimension {spread!r} is spread over columns ({', '.join(dims[spread])}), which needs exactly "
                f"one measure; the table has {len(measures)} ({', '.join(measures)}). Declare the one to read, e.g. "
                f"measures = [{echo(measures[0]) if measures else '...'}].", reason="statline_declaration")
        entries = dims[spread]
        parts = []
        for entry, value in entries.items():
            values = _named(value)
            part = rows.loc[rows[spread].isin(values)].assign(__entry=entry)
            parts.append(part)
        rows = pd.concat(parts, ignore_index=True)
    else:
        rows = rows.assign(__entry="")
    summed = [name for name, value in dims.items() if not isinstance(value, str)]
    keys = [region, "year", "__entry"]
    group_sizes = rows.groupby(keys, sort=False)[summed[0] if summed else region].transform("size")
    expected = rows["__entry"].map(lambda e: _group_size(dims, spread, e))
    bad = group_sizes.ne(expected)
    if bad.any():
        first = rows.loc[bad].iloc[0]
        group = rows.loc[(rows[region] == first[region]) & (rows["year"] == first["year"])
                         & (rows["__entry"] == first["__entry"])]
        what = f"column {first['__entry']!r}" if first["__entry"] else "the declared values"
        raise InputError(
            f"{path}, rows {', '.join(map(str, group['source_row'].tolist()[:10]))}: region {first[region]} year "
            f"{first['year']} has {len(group)} row(s) for {what} where the declaration names {expected[bad].iloc[0]} "
            "(a value missing from the export, or a value repeated). Export every declared value once per region "
            "and period, or correct [source.dimensions].", reason="incomplete_sum")
    result, folded = _sum_groups(rows, keys, measures, spread)
    if spread is not None:
        measure = measures[0]
        wide = result.pivot(index=[region, "year"], columns="__entry", values=measure)
        marker = f"{measure}__marker"
        carriers = result.sort_values("source_row").drop_duplicates([region, "year"])
        out = carriers[["source_row", region, "year"]].merge(wide.reset_index(), on=[region, "year"], how="left")
        if marker in result:
            markers = result.pivot(index=[region, "year"], columns="__entry", values=marker)
            markers.columns = [f"{c}__marker" for c in markers.columns]
            out = out.merge(markers.reset_index(), on=[region, "year"], how="left")
        # The rows of the other entries of a region-year are folded into the carrier row.
        into = out.set_index([region, "year"])["source_row"]
        others = result.loc[~result["source_row"].isin(out["source_row"])]
        moved = pd.DataFrame({"source_row": others["source_row"].to_numpy(), "region": others[region].to_numpy(),
                              "into_row": into.loc[list(zip(others[region], others["year"]))].to_numpy(),
                              "reason": (f"{spread} = " + others["__entry"] + ": read into column " + others["__entry"]
                                         ).to_numpy()})
        folded = pd.concat([folded, moved], ignore_index=True)
        result = out
    result = result.drop(columns=["__entry"], errors="ignore")
    folded = _resolve_chains(folded)
    folded = folded.loc[~folded["source_row"].isin(result["source_row"])].reset_index(drop=True)
    return result.sort_values("source_row", ignore_index=True), set_aside, folded


def _named(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple):
        return list(value)
    return sorted({v for x in value.values() for v in _named(x)})


def _group_size(dims: dict[str, Any], spread: str | None, entry: str) -> int:
    size = 1
    for name, value in dims.items():
        if name == spread:
            size *= len(_named(value[entry]))
        elif not isinstance(value, str):
            size *= len(value)
    return size


def _sum_groups(rows: pd.DataFrame, keys: list[str], measures: list[str],
                spread: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sum the measures over each group; a marked (unknown) cell makes the sum unknown, with its marker."""
    order = rows.sort_values("source_row", kind="mergesort")
    group = order.groupby(keys, sort=False)
    first = group.head(1).set_index(keys)
    result = first.copy()
    for measure in measures:
        if not pd.api.types.is_numeric_dtype(rows[measure]):
            continue  # a text topic (a name, a region type): the first row's value
        total = group[measure].sum(min_count=1)
        unknown = group[measure].apply(lambda s: s.isna().any())
        result[measure] = total.where(~unknown)
        marker = f"{measure}__marker"
        if marker in rows:
            marked = order.loc[order[marker].notna() & order[marker].ne("nil")]
            reason = marked.groupby(keys, sort=False)[marker].first()
            result[marker] = pd.Series(reason.reindex(result.index), index=result.index).astype("object")
            result.loc[result[marker].isna() & group[marker].apply(lambda s: s.eq("nil").all()), marker] = "nil"
    result = result.reset_index()
    carrier = group["source_row"].transform("min")
    summed = order.loc[order["source_row"].ne(carrier)]
    folded = pd.DataFrame({"source_row": summed["source_row"].to_numpy(), "region": summed[keys[0]].to_numpy(),
                           "into_row": carrier[summed.index].to_numpy(),
                           "reason": ("summed with the other declared values"
                                      + np.where(summed["__entry"].ne(""), " of column " + summed["__entry"], "")
                                      ).tolist()})
    return result, folded


def _resolve_chains(folded: pd.DataFrame) -> pd.DataFrame:
    """A row summed into an entry's carrier that is itself read into another row points at the final row."""
    if folded.empty:
        return folded
    target = dict(zip(folded["source_row"], folded["into_row"]))
    into = folded["into_row"].map(lambda row: target.get(row, row))
    folded = folded.assign(into_row=into.astype("int64"))
    # A row can appear twice when one value belongs to two entries; it keeps its first fate.
    return folded.drop_duplicates("source_row").reset_index(drop=True)


def apply_percentages(frame: pd.DataFrame, declaration: StatlineDeclaration, path: str | Path) -> pd.DataFrame:
    """Turn declared percentages or rates into counts: ``count = value x denominator / per``, whole persons.

    Merging municipalities then sums counts and recomputes the rate; a percentage is never averaged.  The
    rounding (at most half a person per cell) is noted in ``attrs["percentages"]``.
    """
    notes = []
    for spec in declaration.percentages:
        if spec.from_population:
            continue  # converted by harmonisation, which has the population table (population_percentages)
        for column in (spec.column, spec.denominator):
            if column not in frame.columns:
                found = ", ".join(c for c in frame.columns if c != "source_row")
                raise InputError(f"{path}: percentages.{spec.column} names column {column!r}, which the table does "
                                 f"not have (columns: {found}). Declare a count column of the same table as "
                                 "denominator.", reason="percentage_without_denominator")
        value = pd.to_numeric(frame[spec.column], errors="coerce")
        denominator = pd.to_numeric(frame[spec.denominator], errors="coerce")
        text = frame[spec.column].notna() & value.isna()
        if text.any():
            row = frame.loc[text].iloc[0]
            raise InputError(f"{path}, row {row['source_row']}, column {spec.column!r}, value "
                             f"{echo(row[spec.column])}: not a number, so it cannot be read as a percentage.",
                             reason="not_a_number")
        count = (value * denominator / spec.per).round()
        frame = frame.drop(columns=[spec.column]).assign(**{spec.count: count.astype("Float64").astype("Int64")})
        marker = f"{spec.column}__marker"
        if marker in frame.columns:
            frame = frame.rename(columns={marker: f"{spec.count}__marker"}) if spec.count != spec.column else frame
        notes.append(f"{spec.count} = {spec.column} x {spec.denominator} / {spec.per}, rounded to whole persons "
                     "(at most 0.5 per cell)")
    frame.attrs["percentages"] = notes
    return frame


def population_percentages(frame: pd.DataFrame, declaration: StatlineDeclaration, population: pd.DataFrame | None,
                           path: str | Path) -> pd.DataFrame:
    """Percentages whose denominator is a field of the population table (``"population:population_0_17"``).

    ``frame`` and ``population`` carry normalised ``municipality`` codes and ``year`` as read (before any
    herindeling); ``count = value x population field / per``, whole persons.  A row without its population
    row, or with an unknown population value, is refused: the count cannot be formed and must not be guessed.
    """
    notes = list(frame.attrs.get("percentages") or [])
    for spec in declaration.percentages:
        field = spec.from_population
        if not field:
            continue
        if population is None or field not in population.columns:
            raise InputError(f"{path}: percentages.{spec.column} takes its denominator from the population table "
                             f"({field}), but no population source gives {field!r}. Add one to the sources "
                             "manifest, or name a count column of this table.", reason="percentage_without_denominator")
        if spec.column not in frame.columns:
            raise InputError(f"{path}: percentages.{spec.column} names a column the table does not have.",
                             reason="percentage_without_denominator")
        lookup = population.drop_duplicates(["municipality", "year"]).set_index(["municipality", "year"])[field]
        keys = pd.MultiIndex.from_arrays([frame["municipality"].astype(object), frame["year"].astype(object)])
        denominator = pd.to_numeric(pd.Series(lookup.reindex(keys).to_numpy(), index=frame.index), errors="coerce")
        value = pd.to_numeric(frame[spec.column], errors="coerce")
        lacking = value.notna() & denominator.isna()
        if lacking.any():
            first = frame.loc[lacking].iloc[0]
            raise InputError(
                f"{path}, row {first['source_row']}, column {spec.column!r}, value {echo(first[spec.column])}: no "
                f"{field} for {first['municipality']} {first['year']} in the population table "
                f"({int(lacking.sum())} row(s)), so the percentage cannot become a count. Add that population year "
                "to the sources, or remove the row.", reason="percentage_without_denominator")
        count = (value * denominator / spec.per).round()
        frame = frame.drop(columns=[spec.column]).assign(**{spec.count: count.astype("Float64").astype("Int64")})
        marker = f"{spec.column}__marker"
        if marker in frame.columns and spec.count != spec.column:
            frame = frame.rename(columns={marker: f"{spec.count}__marker"})
        notes.append(f"{spec.count} = {spec.column} x population {field} / {spec.per}, rounded to whole persons "
                     "(at most 0.5 per cell)")
    frame.attrs["percentages"] = notes
    return frame
