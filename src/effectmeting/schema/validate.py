"""Validate a read frame against its Table Schema and report every failure at once.

The Frictionless Table Schema (``data_schema/<name>.json``) is translated into a pandera
``DataFrameSchema``; pandera runs lazily so that every failing cell is collected.  Each failure
is mapped back to the line of the source file (``source_row``, set by the readers) so a user
reads ``costs.csv, row 17, field euros, value '-12', problem: less than minimum 0``.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from effectmeting.errors import SchemaValidationError, echo
from effectmeting.schema.coerce import MARKER_SUFFIX, coerce_column
from effectmeting.schema.loader import DEFAULT_MISSING_VALUES, load_schema, primary_key

FAILURE_COLUMNS = ["file", "row", "field", "value", "problem"]

#: At most this many failures are written into the exception message; all are in ``.failures``.
MESSAGE_FAILURE_LINES = 45

_PANDAS_DTYPES = {"integer": "Int64", "year": "Int64", "number": "float64", "boolean": "boolean", "string": "str"}


def _checks(field: dict) -> list[pa.Check]:
    """pandera checks for a field's Frictionless constraints; ``error`` is the problem text."""
    constraints = field.get("constraints", {})
    checks: list[pa.Check] = []
    if "minimum" in constraints:
        checks.append(pa.Check.ge(constraints["minimum"], error=f"less than minimum {constraints['minimum']}"))
    if "maximum" in constraints:
        checks.append(pa.Check.le(constraints["maximum"], error=f"greater than maximum {constraints['maximum']}"))
    if "exclusiveMinimum" in constraints:
        bound = constraints["exclusiveMinimum"]
        checks.append(pa.Check.gt(bound, error=f"not greater than {bound}"))
    if "exclusiveMaximum" in constraints:
        bound = constraints["exclusiveMaximum"]
        checks.append(pa.Check.lt(bound, error=f"not less than {bound}"))
    if "pattern" in constraints:
        pattern = constraints["pattern"]
        # Frictionless patterns match the whole value (XML Schema semantics).
        checks.append(
            pa.Check(lambda s, p=pattern: s.astype("str").str.fullmatch(p), error=f"does not match pattern {pattern}")
        )
    if "enum" in constraints:
        allowed = list(constraints["enum"])
        shown = ", ".join(str(value) for value in allowed)
        checks.append(pa.Check.isin(allowed, error=f"not one of the allowed values ({shown})"))
    if "minLength" in constraints:
        n = constraints["minLength"]
        checks.append(pa.Check(lambda s, n=n: s.str.len() >= n, error=f"shorter than {n} characters"))
    if "maxLength" in constraints:
        n = constraints["maxLength"]
        checks.append(pa.Check(lambda s, n=n: s.str.len() <= n, error=f"longer than {n} characters"))
    return checks


def build_pandera_schema(schema: dict) -> pa.DataFrameSchema:
    """Translate a Table Schema dict into a pandera ``DataFrameSchema``.

    Columns are not required by pandera (required columns are checked before, with a clearer
    message); columns not in the schema are allowed (``strict=False``), e.g. ``source_row``
    and ``<field>__marker``.  Uniqueness of the primary key is a frame-wide check.
    """
    key = primary_key(schema)
    columns = {}
    for field in schema["fields"]:
        constraints = field.get("constraints", {})
        required = bool(constraints.get("required", False)) or field["name"] in key
        unique = bool(constraints.get("unique", False)) and key != [field["name"]]
        columns[field["name"]] = pa.Column(
            _PANDAS_DTYPES.get(field.get("type", "string"), "str") if field.get("type") != "date" else None,
            checks=_checks(field),
            nullable=not required,
            unique=unique,
            required=False,
            report_duplicates="all",
        )
    return pa.DataFrameSchema(
        columns, unique=key or None, report_duplicates="all", strict=False, coerce=False, name=schema.get("name")
    )


def _display(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "(empty)"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, pd.Timestamp):
        value = value.date().isoformat()
    return echo(str(value))


def validate(frame: pd.DataFrame, schema_name: str | Path, *, source_file: str | Path | None = None) -> pd.DataFrame:
    """Return a typed copy of ``frame`` that satisfies the schema, or raise with every failure.

    ``frame`` comes from :func:`effectmeting.sources.readers.read_table` (text or numbers,
    codes already normalised) and should carry ``source_row``; without it rows are numbered
    1, 2, ... in frame order.  Cells equal to one of the schema's ``missingValues`` become NA;
    a CBS marker (``.``, ``x``, ``-``, ``?``) keeps its reason in ``<field>__marker``.  Columns
    the schema does not know are kept unchanged.

    Raises :class:`SchemaValidationError` whose ``.failures`` has one row per failure:
    ``file, row, field, value, problem`` (value as read, before typing).
    """
    schema = load_schema(schema_name)
    table = schema.get("name", str(schema_name))
    file = str(source_file or frame.attrs.get("source_file") or "<frame>")
    missing_values = [str(v) for v in schema.get("missingValues", DEFAULT_MISSING_VALUES)]

    original_index = frame.index
    work = frame.reset_index(drop=True).copy()
    work.attrs = dict(frame.attrs)
    rows = work["source_row"] if "source_row" in work.columns else pd.Series(range(1, len(work) + 1))
    failures: list[pd.DataFrame] = []

    key = primary_key(schema)
    failures.extend(_missing_required_columns(schema, key, work, file))
    type_failed: set[tuple[int, str]] = set()
    failures.extend(_coerce_fields(schema, work, rows, file, missing_values, frame.attrs.get("decimal"), type_failed))

    try:
        build_pandera_schema(schema).validate(work, lazy=True)
    except pa.errors.SchemaErrors as errors:
        failures.extend(_pandera_failures(errors.failure_cases, frame, rows, file, key, type_failed, work))

    failures = [f for f in failures if len(f)]
    if failures:
        table_failures = _ordered_failures(failures, schema)
        raise SchemaValidationError(_message(table, file, table_failures, missing_values),
                                    failures=table_failures)

    work.index = original_index
    return work


def _missing_required_columns(schema: dict, key: list[str], work: pd.DataFrame, file: str) -> list[pd.DataFrame]:
    """One failure row per required (or key) column that the frame lacks."""
    required_fields = [
        f["name"] for f in schema["fields"] if f.get("constraints", {}).get("required", False) or f["name"] in key
    ]
    missing_columns = [name for name in required_fields if name not in work.columns]
    if not missing_columns:
        return []
    present = [str(c) for c in work.columns if c != "source_row"]
    found = ", ".join(present) or "(none)"
    if len(present) == 1 and any(sep in present[0] for sep in ";,\t|"):
        # One column whose name holds separators: the file was split on the wrong character.
        found += (" (one column whose name contains separators: the file uses another separator or "
                  "notation than the format read; set the right format, e.g. csv_nl for ';' with decimal "
                  "commas, or save the file with ',' separators)")
    return [pd.DataFrame({
        "file": file,
        "row": pd.NA,
        "field": missing_columns,
        "value": "(column missing)",
        "problem": f"required column is missing; columns found: {found}",
    })]


def _coerce_fields(schema: dict, work: pd.DataFrame, rows: pd.Series, file: str, missing_values: list[str],
                   decimal: str | None, type_failed: set[tuple[int, str]]) -> list[pd.DataFrame]:
    """Type every schema field of ``work`` in place (CBS markers into ``<field>__marker``); returns
    one failure frame per field with cells that are not of the field's type, and records them in
    ``type_failed`` so that pandera's checks do not report the same cells twice."""
    failures = []
    for field in schema["fields"]:
        name = field["name"]
        if name not in work.columns:
            continue
        typed, reason, bad, problem = coerce_column(work[name], field, missing_values, decimal=decimal)
        if bad.any():
            positions = bad.to_numpy().nonzero()[0]
            type_failed.update((int(p), name) for p in positions)
            failures.append(pd.DataFrame({
                "file": file,
                "row": rows.iloc[positions].to_numpy(),
                "field": name,
                "value": [_display(v) for v in work[name].iloc[positions]],
                "problem": problem,
                "_position": positions,
            }))
        work[name] = typed
        if reason.notna().any():
            marker_column = f"{name}{MARKER_SUFFIX}"
            if marker_column in work.columns:
                work[marker_column] = work[marker_column].astype("object").where(work[marker_column].notna(), reason)
            else:
                work[marker_column] = reason
    return failures


def _ordered_failures(failures: list[pd.DataFrame], schema: dict) -> pd.DataFrame:
    """All failures in row order, then in the schema's field order (stable)."""
    table_failures = pd.concat(failures, ignore_index=True)
    order = table_failures["_position"] if "_position" in table_failures else None
    field_order = {field["name"]: i for i, field in enumerate(schema["fields"])}
    table_failures = table_failures.assign(
        _order=order.fillna(-1) if order is not None else -1,
        _field_order=table_failures["field"].map(field_order).fillna(-1),
    ).sort_values(["_order", "_field_order"], kind="stable")
    return table_failures[FAILURE_COLUMNS].reset_index(drop=True)


def _pandera_failures(
    cases: pd.DataFrame,
    frame: pd.DataFrame,
    rows: pd.Series,
    file: str,
    key: list[str],
    type_failed: set[tuple[int, str]],
    typed: pd.DataFrame,
) -> list[pd.DataFrame]:
    """Translate pandera failure cases into ``file, row, field, value, problem`` rows."""
    cases = cases[cases["index"].notna()].copy()
    cases["index"] = cases["index"].astype(int)
    original = frame.reset_index(drop=True)
    out: list[pd.DataFrame] = []

    is_key = cases["check"] == "multiple_fields_uniqueness"
    cell = cases[~is_key]
    if len(cell):
        keep = [(i, c) not in type_failed for i, c in zip(cell["index"], cell["column"])]
        cell = cell[keep]
        positions = cell["index"].to_numpy()
        problems = cell["check"].replace(
            {
                "not_nullable": "required value is missing",
                "field_uniqueness": "duplicate value in a field that must be unique",
            }
        )
        # A required value hidden by a CBS marker says why it is missing (secret, not available...).
        reasons = pd.Series(
            [
                typed.at[p, f"{c}{MARKER_SUFFIX}"] if f"{c}{MARKER_SUFFIX}" in typed.columns else None
                for p, c in zip(positions, cell["column"])
            ],
            index=problems.index,
            dtype="object",
        )
        with_reason = (cell["check"] == "not_nullable") & reasons.notna()
        problems = problems.where(~with_reason, problems + " (CBS marker: " + reasons.astype(str) + ")")
        out.append(
            pd.DataFrame(
                {
                    "file": file,
                    "row": rows.iloc[positions].to_numpy(),
                    "field": cell["column"].to_numpy(),
                    "value": [_display(original.at[p, c]) for p, c in zip(positions, cell["column"])],
                    "problem": problems.to_numpy(),
                    "_position": positions,
                }
            )
        )
    # With a key column missing (already reported) pandera checks the rest of the key alone: no
    # duplicate-key report then, only the missing column.
    if is_key.any() and all(name in typed.columns for name in key):
        positions = sorted(set(cases.loc[is_key, "index"]))
        duplicated = typed.iloc[positions][key].assign(_row=rows.iloc[positions].to_numpy(), _position=positions)
        groups = duplicated.groupby(key, dropna=False, sort=False)["_row"].transform(
            lambda r: ", ".join(str(v) for v in r)
        )
        out.append(
            pd.DataFrame(
                {
                    "file": file,
                    "row": duplicated["_row"].to_numpy(),
                    "field": "(" + ", ".join(key) + ")",
                    "value": [
                        "(" + ", ".join(_display(v) for v in values) + ")"
                        for values in duplicated[key].itertuples(index=False, name=None)
                    ],
                    "problem": "duplicate primary key; the same key is on rows " + groups.to_numpy().astype(object),
                    "_position": positions,
                }
            )
        )
    return out


def _message(table: str, file: str, failures: pd.DataFrame,
             missing_values: tuple[str, ...] | list[str] = DEFAULT_MISSING_VALUES) -> str:
    shown_file = Path(file).name if file != "<frame>" else file
    lines = [f"Table {table!r} ({file}) breaks its schema: {len(failures)} problem(s)."]
    for record in failures.head(MESSAGE_FAILURE_LINES).itertuples(index=False):
        row = "row ?" if pd.isna(record.row) else f"row {int(record.row)}"
        if pd.isna(record.row):
            lines.append(f"  {shown_file}, field {record.field}, problem: {record.problem}")
        else:
            lines.append(f"  {shown_file}, {row}, field {record.field}, value {record.value}, problem: {record.problem}")
    if len(failures) > MESSAGE_FAILURE_LINES:
        lines.append(f"  ... and {len(failures) - MESSAGE_FAILURE_LINES} more; all are listed in the error's .failures "
                     "table (on the command line: effectmeting validate FILE --schema NAME --failures failures.csv).")
    if failures["row"].isna().any():
        lines.append(
            f"What to do: rename the source columns to the schema names (the 'columns' map of this source in "
            f"the sources manifest, or columns= in read_table) or add the missing columns; then correct any cells "
            f"listed and run again. The fields of '{table}' are described in data_schema/{table}.json."
        )
    else:
        lines.append(
            f"What to do: correct these cells in {shown_file} (or the column mapping in the sources manifest) and "
            f"run again. The fields, units and allowed values of '{table}' are described in data_schema/{table}.json."
        )
    if failures["problem"].astype(str).str.startswith("not a ").any():
        # An unknown marker ('*', 'n.v.t.') reads as a bad number; say which markers mean "missing"
        # (on the "What to do" line, which stays the last line of the message).
        lines[-1] += f" A missing value may be written as one of: {', '.join(map(repr, missing_values))}."
    return "\n".join(lines)
