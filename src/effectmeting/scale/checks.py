"""Refusals shared by both back ends: one message format per problem, whichever engine found it."""
from __future__ import annotations

import pandas as pd

from effectmeting.errors import InputError, SchemaValidationError

#: Weights are summed exactly as integers in units of 1e-6 (one millionth of a person), so both
#: back ends, and every run, give bit-identical totals whatever the summation order.
WEIGHT_UNITS_PER_ONE = 1_000_000
#: Smallest non-zero weight accepted: rounding it to 1e-6 changes it by at most 0.05 %.
SMALLEST_WEIGHT = 1e-3
#: Largest total weight: its 1e-6 units stay below 2**53, so every partial sum is exact in float64
#: as well as in int64 (both back ends then give the same integers).
LARGEST_TOTAL_WEIGHT = 9e9


def _plain(value):
    """numpy/pandas scalars as Python values, so messages read ``person 12``, not ``np.int64(12)``."""
    return value.item() if hasattr(value, "item") else value


def refuse_duplicates(examples: pd.DataFrame, total: int, *, person: str, year: str, label: str) -> None:
    """``examples`` has columns person, year, rows (first few duplicated person-years, sorted)."""
    first = {key: _plain(value) for key, value in examples.iloc[0].to_dict().items()}
    failures = pd.DataFrame({"file": label, "row": pd.NA, "field": f"{person}, {year}",
                             "value": [f"{_plain(p)!r}, {_plain(y)}" for p, y in zip(examples["person"], examples["year"])],
                             "problem": [f"{n} rows for one person and year" for n in examples["rows"]]})
    raise SchemaValidationError(
        f"{label}: person {first['person']!r} has {int(first['rows'])} rows in year {int(first['year'])} "
        f"({total} duplicated person-years in all). One row per person and year is required; duplicates are "
        f"never summed. Remove or combine them before aggregating.", failures=failures)


def refuse_missing_keys(examples: pd.DataFrame, total: int, *, label: str) -> None:
    """``examples`` has columns person, municipality, year with at least one missing per row."""
    first = {key: _plain(value) for key, value in examples.iloc[0].to_dict().items()}
    raise InputError(f"{label}: {total} person-year rows have a missing person, municipality or year, e.g. {first}. "
                     "Every person-year must say who, where and when; fix or drop these rows explicitly.")


def refuse_indicator_values(examples: pd.DataFrame, total: int, *, column: str, label: str) -> None:
    """``examples`` has columns person, year, value: indicator values other than 0, 1 or missing."""
    first = {key: _plain(value) for key, value in examples.iloc[0].to_dict().items()}
    raise InputError(f"{label}: indicator {column!r} is {first['value']!r} for person {first['person']!r} in year "
                     f"{int(first['year'])} ({total} such rows). Indicators must be 0, 1 or missing.")


def refuse_weights(examples: pd.DataFrame, total: int, *, column: str, label: str) -> None:
    """``examples`` has columns person, year, value: missing, negative, non-finite or too-small weights."""
    first = {key: _plain(value) for key, value in examples.iloc[0].to_dict().items()}
    raise InputError(f"{label}: weight {column!r} is {first['value']!r} for person {first['person']!r} in year "
                     f"{int(first['year'])} ({total} such rows). Weights must be finite, and 0 or at least "
                     f"{SMALLEST_WEIGHT} (rescale weights normalised to sum 1 to persons represented).")


def refuse_total_weight(total: float, *, column: str, label: str) -> None:
    raise InputError(f"{label}: the weights in {column!r} sum to {total:.4g}, above {LARGEST_TOTAL_WEIGHT:.0e}; "
                     "rescale them (e.g. to persons represented).")
