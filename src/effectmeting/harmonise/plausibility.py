"""Plausibility checks declared in the schemas: values that are valid but cannot be true.

A schema field may carry a ``plausibility`` property (``data_schema/<table>.json``):

``{"at_most": "<field>"}``
    the value cannot exceed ``<field>`` of the same municipality and year: a count of persons
    cannot exceed the population it is drawn from (16,440 youth with jeugdhulp against 5,480
    residents aged 0-17 would be 3,000 per 1,000).  ``<field>`` is looked up in the same row when
    the table has it, else in the ``population`` sources.  Rows whose value or denominator is
    missing are not checked.
``{"finite": true}``
    the value must be a finite number (``inf`` is refused already when the schema is validated).

The checks run on every source's rows as read (before the herindelingen mapping), so a violation
names the file, row, column and value, and the denominator's value and file.  Shares are bounded by
the schemas' ``minimum: 0, maximum: 1`` constraints; a rate per 1,000 computed from a count that
satisfies ``at_most`` is at most 1,000, and :func:`note_implausible_rates` notes any that is not.

By default a violation is an :class:`InputError`.  A source whose manifest entry has
``plausibility = "warn"`` keeps such values instead: one :class:`ImplausibleValueWarning` per
source and field, and one audit note (stage ``plausibility``) per row -- never a silent pass.
"""
from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from effectmeting.errors import ImplausibleValueWarning, InputError, echo
from effectmeting.harmonise.audit import AuditLog

if TYPE_CHECKING:
    from effectmeting.sources.sources_toml import SourceSpec

#: Values of a source's ``plausibility`` key in the sources manifest.
MODES = ("error", "warn")
#: At most this many violating rows are written into an error message (all are in the audit when warned).
MESSAGE_ROWS = 10
KEY = ["municipality", "year"]


def plausibility_rules(table: str) -> dict[str, dict]:
    """``field -> plausibility rule`` of a bundled schema (fields without a rule left out)."""
    from effectmeting.schema import load_schema

    return {f["name"]: dict(f["plausibility"]) for f in load_schema(table)["fields"] if f.get("plausibility")}


def denominators(population: list[tuple[SourceSpec, pd.DataFrame]]) -> pd.DataFrame:
    """Population rows (validated, codes as in their year) with the file and row they come from."""
    frames = [frame.assign(_file=spec.path.name, _row=frame["source_row"]) for spec, frame in population]
    if not frames:
        return pd.DataFrame(columns=[*KEY, "_file", "_row"])
    table = pd.concat(frames, ignore_index=True)
    table.attrs = {}
    return table.drop_duplicates(KEY)


def check_plausibility(spec: SourceSpec, frame: pd.DataFrame, population: pd.DataFrame,
                       audit: AuditLog, *, mode: str = "error") -> None:
    """Check one validated source against its schema's plausibility rules.

    ``population`` comes from :func:`denominators`.  ``mode`` is the source's manifest setting:
    ``"error"`` raises :class:`InputError` listing the violating rows; ``"warn"`` keeps them with
    an :class:`ImplausibleValueWarning` and one audit note per row.
    """
    for field, rule in plausibility_rules(spec.table).items():
        if field not in frame.columns:
            continue
        values = pd.to_numeric(frame[field], errors="coerce").astype("float64")
        if rule.get("finite"):
            bad = np.isinf(values.to_numpy())
            if bad.any():
                _violation(spec, frame, field, bad, ["not a finite number"] * int(bad.sum()), audit, mode)
        bound = rule.get("at_most")
        if bound:
            _check_at_most(spec, frame, field, values, str(bound), population, audit, mode)


def _check_at_most(spec: SourceSpec, frame: pd.DataFrame, field: str, values: pd.Series, bound: str,
                   population: pd.DataFrame, audit: AuditLog, mode: str) -> None:
    """Rows where ``field`` exceeds ``bound`` (same row, else the population of that municipality-year)."""
    if bound in frame.columns:
        limit = pd.to_numeric(frame[bound], errors="coerce").astype("float64").to_numpy()
        where = [f"{bound} = {_number(v)} in the same row" for v in limit]
    elif bound in population.columns and all(k in frame.columns for k in KEY):
        looked_up = frame[KEY].merge(population[[*KEY, bound, "_file", "_row"]], on=KEY, how="left")
        limit = pd.to_numeric(looked_up[bound], errors="coerce").astype("float64").to_numpy()
        where = [f"{bound} = {_number(v)} ({f}, row {r})" if pd.notna(v) else ""
                 for v, f, r in zip(limit, looked_up["_file"], looked_up["_row"])]
    else:
        return  # the denominator is not supplied: nothing to compare with
    with np.errstate(invalid="ignore"):
        bad = values.to_numpy() > limit  # NaN on either side compares False: not checked
    if not bad.any():
        return
    problems = []
    for value, den, text in zip(values.to_numpy()[bad], limit[bad], np.asarray(where, dtype=object)[bad]):
        rate = f"{1000 * value / den:,.0f} per 1,000" if den > 0 else "more than the whole population"
        problems.append(f"{_number(value)} exceeds {text}: {rate}; a count cannot exceed its population")
    _violation(spec, frame, field, bad, problems, audit, mode)


def _violation(spec: SourceSpec, frame: pd.DataFrame, field: str, bad: np.ndarray, problems: list[str],
               audit: AuditLog, mode: str) -> None:
    """Raise (``mode="error"``) or warn and audit every violating row of ``field``."""
    rows = frame.loc[bad]
    source_rows = rows["source_row"].tolist() if "source_row" in rows else list(np.flatnonzero(bad) + 1)
    places = [f"{spec.path.name}, row {r}, column {field}" + _unit(rows, i) for i, r in enumerate(source_rows)]
    lines = [f"  {place}: {problem}" for place, problem in zip(places, problems)]
    if mode == "warn":
        audit.note(stage="plausibility", source=spec.name, variable=field,
                   municipality=rows["municipality"].astype("string").tolist() if "municipality" in rows else None,
                   year=rows["year"].tolist() if "year" in rows else None,
                   detail=[f"row {r}: {p}; kept because the source sets plausibility = 'warn'"
                           for r, p in zip(source_rows, problems)])
        warnings.warn(
            f"{spec.path} (source {spec.name!r}): {len(lines)} implausible value(s) of {field} kept "
            f"(plausibility = 'warn'); each is noted in the audit log (stage 'plausibility'). First:\n{lines[0]}",
            ImplausibleValueWarning, stacklevel=4)
        return
    shown = lines[:MESSAGE_ROWS] + ([f"  ... and {len(lines) - MESSAGE_ROWS} more"] if len(lines) > MESSAGE_ROWS else [])
    raise InputError(
        f"{spec.path} (source {spec.name!r}): {len(lines)} implausible value(s) of {field}:\n" + "\n".join(shown)
        + "\nWhat to do: check these rows and the column mapping of this source (a wrong column, a thousands "
        "separator read as a decimal point, another year or municipality); if the values are right, add "
        f"plausibility = \"warn\" to the [[source]] entry {spec.name!r} in the sources manifest to keep them "
        "with a warning and an audit note per row.", reason="implausible")


def note_implausible_rates(data: pd.DataFrame, rates: dict[str, tuple[str, str, float]], audit: AuditLog) -> None:
    """Audit note and warning for every panel rate per 1,000 above 1,000 (a count above its denominator).

    Reached only when a source kept implausible counts with ``plausibility = "warn"`` (sums of rows
    that each satisfy ``count <= population`` satisfy it too), so the panel says so where it shows.
    """
    for name, (numerator, denominator, scale) in rates.items():
        if scale != 1000.0 or name not in data.columns:
            continue
        rate = pd.to_numeric(data[name], errors="coerce").to_numpy(dtype="float64")
        with np.errstate(invalid="ignore"):
            bad = rate > 1000.0
        if not bad.any():
            continue
        rows = data.loc[bad]
        audit.note(stage="plausibility", variable=name, municipality=rows["municipality"].astype("string").tolist(),
                   year=rows["year"].tolist(),
                   detail=[f"{name} = {r:,.0f} per 1,000: {numerator} exceeds {denominator}" for r in rate[bad]])
        warnings.warn(
            f"{int(bad.sum())} value(s) of {name} exceed 1,000 per 1,000 ({numerator} above {denominator}); "
            "noted in the audit log (stage 'plausibility')", ImplausibleValueWarning, stacklevel=3)


def _number(value: float) -> str:
    if pd.isna(value):
        return "(empty)"
    return f"{value:,.0f}" if float(value).is_integer() else echo(float(value))


def _unit(rows: pd.DataFrame, i: int) -> str:
    """`` (GM0363 2019)`` for the i-th violating row, when the frame has the key."""
    if not all(k in rows.columns for k in KEY):
        return ""
    return f" ({rows['municipality'].iloc[i]} {rows['year'].iloc[i]})"
