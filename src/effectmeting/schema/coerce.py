"""Turn the columns of a read frame into the types a Table Schema declares.

Readers keep a cell they could not parse as text (they never coerce it to NaN), so the
typed value and the reason a cell is bad are decided here, in one place, and every bad cell
is reported rather than silently lost.  Missing-value markers declared by the schema become
NA; the CBS markers among them keep their meaning in a ``<field>__marker`` column.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from effectmeting.schema.numbers import MAX_EXACT_INTEGER, parse_numbers

#: CBS StatLine markers and the reason they stand for.
MARKER_REASONS: dict[str, str] = {".": "not_available", "x": "secret", "-": "nil", "?": "unknown"}

MARKER_SUFFIX = "__marker"


def _is_text(values: pd.Series) -> pd.Series:
    """Mask of cells that are strings, without a Python loop over the cells."""
    values = values.astype("object")
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind == "string":
        return values.notna()
    if kind not in ("mixed", "mixed-integer"):
        return pd.Series(False, index=values.index)
    # ``.str`` gives NA for every cell that is not a string.
    return values.str.len().notna()


def _stripped_text(column: pd.Series) -> pd.Series:
    """Cells with surrounding spaces removed from text; numbers and NA unchanged."""
    values = column.astype("object").where(column.notna(), None)
    is_text = _is_text(values)
    if not is_text.any():
        return values
    stripped = values.copy()
    stripped[is_text] = values[is_text].astype(str).str.strip()
    return stripped


def split_missing(column: pd.Series, missing_values: list[str]) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Return (values, is_missing, marker_reason) for one column.

    A cell is missing when it is NA or its stripped text is one of ``missing_values``.
    ``marker_reason`` holds the CBS reason (``secret``, ...) where the marker was a CBS marker.
    """
    if column.dtype.kind in "biufcmM":
        is_missing = column.isna()
        return column, is_missing, pd.Series(pd.NA, index=column.index, dtype="object")
    text = _stripped_text(column)
    is_missing = text.isna() | text.isin(missing_values)
    cbs_markers = {marker: reason for marker, reason in MARKER_REASONS.items() if marker in missing_values}
    reason = text.map(cbs_markers).where(is_missing)
    return text.where(~is_missing, None), is_missing, reason.astype("object")


def _as_number(values: pd.Series, is_missing: pd.Series, decimal: str | None) -> tuple[pd.Series, pd.Series]:
    """Numbers and a mask of present cells that are not numbers.

    ``decimal`` is the notation a reader found in the file (``","`` Dutch: ``1.234,5``; ``"."``
    plain); text cells are parsed in that notation only, so ``1.5`` in a Dutch file is an
    error, not 1.5 or 15.  ``None`` (a frame built in code): plain notation via ``to_numeric``.
    """
    if values.dtype.kind in "biuf":
        return values.astype("float64"), pd.Series(False, index=values.index)
    if values.dtype == "boolean" or values.dtype.kind == "b":
        return values.astype("float64"), pd.Series(True, index=values.index) & ~is_missing
    candidates = values.astype("object").where(~is_missing, None)
    is_text = _is_text(candidates)
    if decimal is not None and is_text.any():
        # Text cells in a read frame: parse in the file's own notation, nothing else.
        parsed_numbers, parsed = parse_numbers(candidates[is_text].astype(str), decimal=decimal)
        candidates[is_text] = parsed_numbers.where(parsed, None).astype("object")
    numbers = pd.to_numeric(candidates, errors="coerce")
    numbers = pd.Series(numbers, index=values.index, dtype="float64")
    bad = numbers.isna() & ~is_missing
    return numbers, bad


def coerce_column(
    column: pd.Series, field: dict, missing_values: list[str], *, decimal: str | None = None
) -> tuple[pd.Series, pd.Series, pd.Series, str | None]:
    """Coerce one column to the field's type.

    Returns ``(typed, marker_reason, bad, problem)``: the typed column (NA where missing or
    bad), the CBS marker reason per cell, a mask of present cells that cannot be converted, and
    the problem text for those cells.  ``decimal``: see :func:`_as_number`.
    """
    rows = _distinct_text_rows(column)
    if rows is None:
        return _coerce_cells(column, field, missing_values, decimal)
    # Every step is cell by cell (or asks whether any cell is bad), so coercing one cell per
    # distinct text, plus every NA cell as it is, and mapping back by position gives the same result.
    sample, back = rows
    typed, reason, bad, problem = _coerce_cells(column.iloc[sample], field, missing_values, decimal)
    return (*(part.iloc[back].set_axis(column.index) for part in (typed, reason, bad)), problem)


def _distinct_text_rows(column: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """``(sample, back)`` with ``column.iloc[sample].iloc[back]`` equal to ``column`` cell for cell:
    the first row of each distinct text and every NA row; ``None`` when that saves little or the
    column is not all text (factorize would merge ``1``, ``1.0`` and ``True`` in an object column).
    """
    if not (isinstance(column.dtype, pd.StringDtype)
            or (column.dtype == object and pd.api.types.infer_dtype(column, skipna=True) == "string")):
        return None
    codes, uniques = pd.factorize(column)
    if 2 * len(uniques) > len(column):
        return None
    _, first = np.unique(codes, return_index=True)  # sorted codes: -1 (NA) first, then 0, 1, ...
    first = first[1:] if len(codes) and codes.min() < 0 else first
    missing = np.flatnonzero(codes < 0)
    back = codes.copy()
    back[missing] = len(uniques) + np.arange(len(missing))
    return np.concatenate([first, missing]), back


def _coerce_cells(
    column: pd.Series, field: dict, missing_values: list[str], decimal: str | None
) -> tuple[pd.Series, pd.Series, pd.Series, str | None]:
    """:func:`coerce_column` for every cell of ``column``."""
    values, is_missing, reason = split_missing(column, missing_values)
    kind = field.get("type", "string")
    if kind in ("integer", "year"):
        numbers, bad = _as_number(values, is_missing, decimal)
        not_integral = numbers.notna() & (np.floor(numbers) != numbers)
        # Whole numbers beyond 2**53 cannot be stored exactly (nor beyond 2**63 at all): bad, not a crash.
        too_large = numbers.notna() & (numbers.abs() >= MAX_EXACT_INTEGER)
        problem = ("not a whole number (or larger than 2**53)" if too_large.any() else "not a whole number")
        bad = bad | not_integral | too_large
        typed = numbers.where(~bad).round().astype("Int64")
        return typed, reason, bad, problem
    if kind == "number":
        numbers, bad = _as_number(values, is_missing, decimal)
        # inf (or 1e400, which overflows to inf) would pass minimum/maximum checks and poison every sum.
        infinite = pd.Series(np.isinf(numbers.to_numpy()), index=numbers.index)
        bad = bad | infinite
        return numbers.where(~bad), reason, bad, ("not a finite number" if infinite.any() else "not a number")
    if kind == "date":
        return _date(values, is_missing, field, reason)
    if kind == "boolean":
        text = values.astype("object").where(~is_missing, None).astype(str).str.strip().str.lower()
        mapping = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False}
        typed = text.map(mapping).where(~is_missing)
        bad = typed.isna() & ~is_missing
        return typed.astype("boolean"), reason, bad, "not true or false"
    # string (and any type we do not know: kept as text)
    return _as_text(values, is_missing), reason, pd.Series(False, index=column.index), None


def _date(values: pd.Series, is_missing: pd.Series, field: dict, reason: pd.Series):
    if values.dtype.kind == "M":
        return values, reason, pd.Series(False, index=values.index), None
    fmt = field.get("format", "default")
    strptime = "%Y-%m-%d" if fmt in ("default", "any", None) else fmt
    shown = "YYYY-MM-DD" if strptime == "%Y-%m-%d" else strptime
    text = values.astype("object").where(~is_missing, None)
    typed = pd.to_datetime(text, format=strptime, errors="coerce")
    bad = typed.isna() & ~is_missing
    return typed, reason, bad, f"not a date in the format {shown}"


def _as_text(values: pd.Series, is_missing: pd.Series) -> pd.Series:
    """Cells as text; whole numbers that a reader parsed are written without a trailing .0."""
    values = values.astype("object").where(~is_missing, None)
    numbers = pd.to_numeric(values.where(~_is_text(values), None), errors="coerce")
    whole = numbers.notna() & (np.floor(numbers) == numbers)
    text = values.astype(str)
    text[whole] = numbers[whole].astype("int64").astype(str)
    return text.where(~is_missing).astype("str")
