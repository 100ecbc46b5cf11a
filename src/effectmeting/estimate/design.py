"""From a parsed formula and a DataFrame to clean arrays (outcome, regressors, names).

This is the only place where raw data meets the formula: column existence and type checks,
``i()`` / ``C()`` dummies and ``a:b`` products.  Estimators receive numpy arrays only.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from effectmeting.estimate.formula import Factor, Formula, formula_error


def check_columns(formula: Formula, data: pd.DataFrame) -> None:
    """Raise a FormulaError (caret on the name) for every column the data does not have."""
    positions = [(formula.outcome, formula.outcome_position)]
    positions += [(f.column, f.position) for t in formula.terms for f in t.factors]
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


def _numeric(formula: Formula, factor: Factor, data: pd.DataFrame) -> np.ndarray:
    column = data[factor.column]
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=float)
    raise formula_error(formula.text, factor.position,
                        f"column {factor.column!r} is not numeric (dtype {column.dtype}); "
                        f"write C({factor.column}) or i({factor.column}) for dummies")


def _dummies(formula: Formula, factor: Factor, data: pd.DataFrame, drop_first: bool):
    column = data[factor.column]
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
        elif drop_first:  # like pyfixest: the first level is the reference
            levels = list(levels)[1:]
        names = [f"{factor.column}::{level_label(lv)}" for lv in levels]
    else:  # C(): treatment coding against the first (sorted) level
        if drop_first:
            levels = list(levels)[1:]
        names = [f"C({factor.column})[T.{level_label(lv)}]" for lv in levels]
    values = column.to_numpy()
    matrix = np.column_stack([values == lv for lv in levels]).astype(float) if len(levels) else \
        np.empty((len(column), 0))
    return matrix, names


def _same_level(level: object, ref: object) -> bool:
    if isinstance(ref, (int, float)) and isinstance(level, (int, float, np.integer, np.floating)):
        return float(level) == float(ref)
    return str(level) == str(ref)


def build_design(formula: Formula, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Outcome vector, regressor matrix (n, k) and term names for rows of ``data`` (no NA)."""
    y = _numeric(formula, Factor("column", formula.outcome, formula.outcome_position), data)
    blocks: list[np.ndarray] = []
    names: list[str] = []
    if formula.intercept:
        blocks.append(np.ones((len(data), 1)))
        names.append("Intercept")
    # C() and i() without ref= drop their first level when the intercept or FE span the constant.
    drop_first = formula.intercept or bool(formula.fixed_effects)
    for term in formula.terms:
        first = term.factors[0]
        if first.kind in ("i", "C"):
            matrix, term_names = _dummies(formula, first, data, drop_first)
            blocks.append(matrix)
            names += term_names
            continue
        product = _numeric(formula, first, data)
        for factor in term.factors[1:]:
            product = product * _numeric(formula, factor, data)
        blocks.append(product[:, None])
        names.append(term.name)
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise formula_error(formula.text, 0, f"terms appear twice in the formula: {sorted(duplicates)}")
    x = np.hstack(blocks) if blocks else np.empty((len(data), 0))
    return y, x, names
