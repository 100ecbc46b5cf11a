"""From a parsed formula and a DataFrame to clean arrays (outcome, regressors, names).

This is the only place where raw data meets the formula: column existence and type checks,
``i()`` / ``C()`` dummies and ``a:b`` products.  Estimators receive numpy arrays only.
The design is written straight into one preallocated matrix (outcome + regressors), never
through copies of the data frame, so that its peak memory stays near the size of the data.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from effectmeting.estimate.fixest.formula import Factor, Formula, formula_error


def check_columns(formula: Formula, data: pd.DataFrame) -> None:
    """Raise a FormulaError (caret on the name) for every column the data does not have."""
    positions = [(formula.outcome, formula.outcome_position)]
    positions += [(f.column, f.position) for t in formula.terms for f in t.factors]
    positions += [(f.interact, f.interact_position) for t in formula.terms for f in t.factors
                  if f.interact is not None]
    positions += formula.fixed_effects
    for name, position in positions:
        if name not in data.columns:
            known = ", ".join(map(str, list(data.columns)[:20]))
            raise formula_error(formula.text, position,
                                f"column {name!r} is not in the data (columns: {known})")


def level_label(value: object) -> str:
    """Level names as pyfixest writes them: integers without '.0'."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _check_numeric(formula: Formula, factor: Factor, data: pd.DataFrame) -> None:
    column = data[factor.column]
    if not (pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column)):
        raise formula_error(formula.text, factor.position,
                            f"column {factor.column!r} is not numeric (dtype {column.dtype}); "
                            f"write C({factor.column}) or i({factor.column}) for dummies")


def _fill_numeric(data: pd.DataFrame, name: str, rows: np.ndarray | None, out: np.ndarray) -> None:
    """Write column ``name`` (rows ``rows``, all if None) as float64 into the 1-d array ``out``."""
    values = data[name].to_numpy(dtype=float)  # a view for float64 columns
    if rows is None:
        out[:] = values
    else:
        np.take(values, rows, out=out)


def _selected(data: pd.DataFrame, name: str, rows: np.ndarray | None) -> pd.Series:
    return data[name] if rows is None else data[name].iloc[rows]


def _dummy_levels(formula: Formula, factor: Factor, column: pd.Series, drop_first: bool):
    levels = np.sort(column.unique()) if column.dtype != object else sorted(column.unique(), key=str)
    if factor.kind == "i":
        if factor.has_ref:
            matches = [lv for lv in levels if _same_level(lv, factor.ref)]
            if not matches:
                shown = ", ".join(level_label(lv) for lv in levels[:20])
                raise formula_error(formula.text, factor.position,
                                    f"ref={factor.ref!r} is not a level of {factor.column!r} "
                                    f"(levels: {shown})")
            levels = [lv for lv in levels if not _same_level(lv, factor.ref)]
        elif drop_first and factor.interact is None:  # like pyfixest: the first level is the reference
            levels = list(levels)[1:]
        suffix = "" if factor.interact is None else f":{factor.interact}"  # i(var, x): every level
        names = [f"{factor.column}::{level_label(lv)}{suffix}" for lv in levels]
    else:  # C(): treatment coding against the first (sorted) level
        if drop_first:
            levels = list(levels)[1:]
        names = [f"C({factor.column})[T.{level_label(lv)}]" for lv in levels]
    return list(levels), names


def _same_level(level: object, ref: object) -> bool:
    if isinstance(ref, (int, float)) and isinstance(level, (int, float, np.integer, np.floating)):
        return float(level) == float(ref)
    return str(level) == str(ref)


def _plan(formula: Formula, data: pd.DataFrame, rows: np.ndarray | None):
    """Check every term and list the blocks of the design: (term factors, dummy levels, names).

    All checks run here, before the matrix is allocated, in formula order.
    """
    _check_numeric(formula, Factor("column", formula.outcome, formula.outcome_position), data)
    blocks: list[tuple[tuple[Factor, ...] | None, list | None, list[str]]] = []
    if formula.intercept:
        blocks.append((None, None, ["Intercept"]))
    # C() and i() without ref= drop their first level when the intercept or FE span the constant.
    drop_first = formula.intercept or bool(formula.fixed_effects)
    for term in formula.terms:
        first = term.factors[0]
        if first.kind in ("i", "C"):
            if first.interact is not None:
                _check_numeric(formula, Factor("column", first.interact, first.interact_position), data)
            levels, names = _dummy_levels(formula, first, _selected(data, first.column, rows),
                                          drop_first)
            blocks.append(((first,), levels, names))
            continue
        for factor in term.factors:
            _check_numeric(formula, factor, data)
        blocks.append((term.factors, None, [term.name]))
    names = [name for _, _, block_names in blocks for name in block_names]
    seen: set[str] = set()
    for factors, _, block_names in blocks:
        repeated = [name for name in block_names if name in seen]
        if repeated:  # the caret goes under the term that repeats an earlier one
            assert factors is not None  # the intercept block (factors None) comes first, so never repeats
            first = factors[0]
            raise formula_error(formula.text, first.start if first.start >= 0 else first.position,
                                f"terms appear twice in the formula: {repeated}")
        seen.update(block_names)
    return blocks, names


def design_matrix(formula: Formula, data: pd.DataFrame,
                  rows: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """The outcome and regressors of ``formula`` in one (n, 1 + k) float64 matrix, and the k names.

    Column 0 is the outcome, columns 1.. the regressors in formula order.  ``rows`` (integer
    positions, no NA in the used columns) selects the observations; None takes all rows.
    The matrix is Fortran-ordered (contiguous columns) and written in place, column by
    column: besides the matrix only one column's worth of temporary memory is used, and the
    input frame is never copied.  ``demean(..., copy=False)`` can then sweep it in place.
    """
    blocks, names = _plan(formula, data, rows)
    n = len(data) if rows is None else len(rows)
    matrix = np.empty((n, 1 + len(names)), order="F")
    _fill_numeric(data, formula.outcome, rows, matrix[:, 0])
    j = 1
    for factors, levels, block_names in blocks:
        if factors is None:
            matrix[:, j] = 1.0
        elif levels is not None:
            values = _selected(data, factors[0].column, rows).to_numpy()
            for offset, level in enumerate(levels):
                matrix[:, j + offset] = values == level
            del values
            if factors[0].interact is not None:  # i(var, x): each dummy times x
                buffer = np.empty(n)
                _fill_numeric(data, factors[0].interact, rows, buffer)
                for offset in range(len(levels)):
                    matrix[:, j + offset] *= buffer
                del buffer
        else:
            column = matrix[:, j]
            _fill_numeric(data, factors[0].column, rows, column)
            if len(factors) > 1:
                buffer = np.empty(n)
                for factor in factors[1:]:  # left to right, as a * b * c
                    _fill_numeric(data, factor.column, rows, buffer)
                    column *= buffer
                del buffer
        j += len(block_names)
    return matrix, names


def build_design(formula: Formula, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Outcome vector, regressor matrix (n, k) and term names for rows of ``data`` (no NA).

    Views into one :func:`design_matrix`.
    """
    matrix, names = design_matrix(formula, data)
    return matrix[:, 0], matrix[:, 1:], names
