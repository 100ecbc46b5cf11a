"""coerce_column and parse_numbers work once per distinct text and map back; the result must be what
working cell by cell gives (values, dtypes, NA kinds, index, name and the problem text)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from effectmeting.schema.coerce import _coerce_cells, _distinct_text_rows, coerce_column
from effectmeting.schema.numbers import parse_numbers

POOL = ["1", " 0363", "1.234", "1.234,5 ", "1,5", "-2", "+3.5", ".5", "1e5", "x", ".", "-", "?", "", " ", "abc",
        "true", "False", "0", "1.0", "2020-01-31", "12345678901234567890", "9007199254740993", None, np.nan]
FIELDS = [{"type": kind} for kind in ("string", "integer", "year", "number", "boolean", "date")]


def _column(seed: int, dtype) -> pd.Series:
    rng = np.random.default_rng(seed)
    cells = [POOL[i] for i in rng.integers(0, len(POOL), 150)]
    return pd.Series(cells, index=pd.Index(rng.permutation(150) + 7), dtype=dtype, name="cells")


@pytest.mark.parametrize("dtype", [object, "str"])
@pytest.mark.parametrize("seed", [0, 1])
def test_coerce_column_equals_cell_by_cell(seed, dtype):
    column = _column(seed, dtype)
    assert _distinct_text_rows(column) is not None  # the shortcut is taken
    for field in FIELDS:
        for decimal in (None, ",", "."):
            fast = coerce_column(column, field, ["", ".", "x", "-", "?"], decimal=decimal)
            slow = _coerce_cells(column, field, ["", ".", "x", "-", "?"], decimal)
            assert fast[3] == slow[3]
            for got, expected in zip(fast[:3], slow[:3]):
                pd.testing.assert_series_equal(got, expected, check_exact=True)
                assert [repr(v) for v in got] == [repr(v) for v in expected]


def test_mixed_object_column_is_not_merged():
    # 1, 1.0 and True are equal as Python objects; factorize would merge them
    assert _distinct_text_rows(pd.Series([1, 1.0, True, "1"] * 5, dtype=object)) is None


@pytest.mark.parametrize("decimal", [",", "."])
def test_parse_numbers_equals_cell_by_cell(decimal):
    column = _column(3, object)
    numbers, parsed = parse_numbers(column, decimal=decimal)
    for position, cell in enumerate(column):
        one_number, one_parsed = parse_numbers(pd.Series([cell], dtype=object), decimal=decimal)
        assert parsed.iloc[position] == one_parsed.iloc[0]
        assert repr(numbers.iloc[position]) == repr(one_number.iloc[0])
    assert numbers.index.equals(column.index) and numbers.name == parsed.name == "cells"
