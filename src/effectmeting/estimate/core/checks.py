"""Input checks shared by every estimator, done once at the door.

Each check raises a class of :mod:`effectmeting.errors` whose message names the estimator, the
column, the first offending row (index label) and value, and says what to do -- so a user never
sees a bare numpy/pandas traceback for bad input.  The checks are vectorised (one pass per
column) and do not copy numeric columns.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from effectmeting.errors import IdentificationError, InputError, OptionError, echo  # noqa: F401 (re-exported)


def require_frame(data: Any, who: str) -> None:
    """Refuse anything but a pandas DataFrame with at least one row."""
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"{who}: data must be a pandas DataFrame, got {type(data).__name__}; "
                         "convert it first, e.g. pd.DataFrame(...) or polars' .to_pandas()")
    if len(data) == 0:
        raise InputError(f"{who}: the data have no rows (columns: {list(data.columns)[:20]}); "
                         "check the filter that produced them")


def show(value: Any) -> str:
    """A value as a user reads it: ``inf``, ``2015``, ``'abc'`` (no ``np.float64(...)``)."""
    return echo(value)


def row_named(index: pd.Index, position: int) -> str:
    """The row at ``position`` as every refusal names it: by its index label, which the user
    sees in ``data.loc`` (never by position, which changes when the frame is filtered)."""
    return f"row with index label {show(index[position])}"


def _first_bad(series: pd.Series, bad: np.ndarray) -> str:
    position = int(np.flatnonzero(bad)[0])
    return f"{row_named(series.index, position)} has {show(series.iloc[position])}"


def numeric_column(series: pd.Series, who: str, *, allow_missing: bool = False,
                   what: str = "numbers") -> np.ndarray:
    """``series`` as a float64 array (a view for float64 columns).

    Text that parses as a number (``"2015"``) is converted; any other text, and an infinite
    value, is refused naming the column, the first offending row and its value.  Missing values
    pass through as NaN only with ``allow_missing`` (callers refuse or recode them themselves).
    """
    column = series.name
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        # nullable (extension) dtypes need na_value; plain numpy columns stay views
        extension = pd.api.types.is_extension_array_dtype(series)
        values = series.to_numpy(dtype=float, na_value=np.nan) if extension else series.to_numpy(dtype=float)
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        not_number = np.isnan(values) & series.notna().to_numpy()
        if not_number.any():
            raise InputError(
                f"{who}: column {column!r} must hold {what}; {_first_bad(series, not_number)} "
                f"({int(not_number.sum())} such value(s)). Recode it to numbers before estimating")
    infinite = np.isinf(values)
    if infinite.any():
        raise InputError(
            f"{who}: column {column!r} has {int(infinite.sum())} infinite value(s); "
            f"{_first_bad(series, infinite)}. Drop or correct those rows (a division by zero "
            "upstream?) before estimating")
    if not allow_missing:
        missing = np.isnan(values)
        if missing.any():
            raise InputError(
                f"{who}: column {column!r} has {int(missing.sum())} missing value(s); "
                f"{_first_bad(series, missing)}. Drop or impute them explicitly before estimating")
    return values


def nonnegative_weights(values: np.ndarray, series: pd.Series, who: str) -> None:
    """Refuse negative weights, naming the first offending row."""
    negative = values < 0
    if negative.any():
        raise InputError(f"{who}: weights column {series.name!r} has {int(negative.sum())} negative "
                         f"value(s); {_first_bad(series, negative)}. Weights must be >= 0")
