"""Disclosure control for municipality x year tables built from person-level data (CBS-style
minimum cell sizes), with an audit of every suppressed cell.

Rules with ``min_cell_size = k`` (applied to the integer counts, before any rounding):

* primary, whole row: ``persons < k`` -> every cell of that municipality-year is suppressed;
* primary, per indicator: the count ``< k``, or its complement ``observed - count < k``
  (``observed = persons - missing``; a small complement discloses as much as a small count, e.g.
  "all but two children had jeugdhulp"), suppresses the count;
* primary, missing counts: ``0 < <indicator>_missing < k`` suppresses that missing count (0 is
  published: it says only that the register was complete);
* derived: the rate is suppressed whenever its count or missing count is (rate x observed / 1000
  would give the count back, rate and count together the missing count), and the weighted count and
  weighted rate whenever the count or rate is (with near-equal weights they reveal the count);
* secondary ``"row"``: when exactly one indicator count of a municipality-year is suppressed, the
  smallest other published indicator count of that row is suppressed too (ties: first indicator),
  with its derived cells, so a reader cannot recover the cell as ``persons - sum(other counts)``
  when the indicators are mutually exclusive categories.

Not protected: recovery from totals published elsewhere (national or column totals, other
tables, earlier releases), differencing of overlapping tables or of years, and inference from the
movers diagnostic.  ``"row"`` does nothing when a row has a single indicator.  For publication the
research institute's own output check remains authoritative.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from effectmeting.errors import InputError

SECONDARY = ("none", "row")
AUDIT_COLUMNS = ["municipality", "year", "column", "rule", "reason"]


def empty_audit() -> pd.DataFrame:
    """An audit frame with no suppressed cells."""
    return pd.DataFrame({name: pd.Series(dtype="object") for name in AUDIT_COLUMNS})


def suppress_small_cells(table: pd.DataFrame, *, indicators: list[str], min_cell_size: int,
                         secondary: str = "none") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Suppress (set NA) every cell that discloses fewer than ``min_cell_size`` persons.

    ``table`` is the output of :func:`aggregate_persons` without suppression (columns
    ``municipality, year, persons``, per indicator ``<ind>, <ind>_missing, <ind>_per_1000`` and
    optionally ``persons_weighted, <ind>_weighted, <ind>_weighted_per_1000``).  Returns a copy
    with suppressed cells set to NA and the audit: one row per suppressed cell with
    ``municipality, year, column, rule ("primary" | "derived" | "secondary"), reason``.
    """
    if isinstance(min_cell_size, bool) or not isinstance(min_cell_size, (int, np.integer)) or min_cell_size < 1:
        raise InputError(f"min_cell_size must be a positive integer number of persons, not {min_cell_size!r}.")
    if secondary not in SECONDARY:
        raise InputError(f"secondary must be one of {SECONDARY}, not {secondary!r}.")
    k = int(min_cell_size)
    n = len(table)
    value_columns = [c for c in table.columns if c not in ("municipality", "year")]
    marks = _Marks(value_columns, n)
    persons = table["persons"].to_numpy(dtype="int64")

    small_row = persons < k
    for column in value_columns:
        marks.mark(column, small_row, "primary", f"persons < {k}")
    counts = np.column_stack([table[i].to_numpy(dtype="int64") for i in indicators]) if indicators else np.empty((n, 0))
    for j, indicator in enumerate(indicators):
        count = counts[:, j]
        missing = table[f"{indicator}_missing"].to_numpy(dtype="int64")
        observed = persons - missing
        marks.mark(indicator, count < k, "primary", f"count < {k}")
        marks.mark(indicator, observed - count < k, "primary", f"complement (persons - missing - count) < {k}")
        marks.mark(f"{indicator}_missing", (missing > 0) & (missing < k), "primary", f"missing count between 1 and {k - 1}")
        _derive(marks, table, indicator)

    if secondary == "row" and indicators:
        suppressed = np.column_stack([marks.suppressed(i) for i in indicators])
        lonely = (suppressed.sum(axis=1) == 1) & ~small_row
        candidates = np.where(suppressed, np.iinfo("int64").max, counts)
        has_candidate = lonely & (candidates.min(axis=1) < np.iinfo("int64").max)
        chosen = np.argmin(candidates, axis=1)  # first smallest: ties go to the earlier indicator
        for j, indicator in enumerate(indicators):
            marks.mark(indicator, has_candidate & (chosen == j), "secondary",
                       "smallest other count of a municipality-year with one suppressed count")
            _derive(marks, table, indicator)

    published = table.copy()
    for column in value_columns:
        published.loc[marks.suppressed(column), column] = pd.NA
    return published, marks.audit(table)


def _derive(marks: _Marks, table: pd.DataFrame, indicator: str) -> None:
    count_hidden = marks.suppressed(indicator)
    rate = f"{indicator}_per_1000"
    marks.mark(rate, count_hidden | marks.suppressed(f"{indicator}_missing"), "derived",
               "rate of a suppressed count or missing count")
    for column in (f"{indicator}_weighted", f"{indicator}_weighted_per_1000"):
        if column in table.columns:
            marks.mark(column, count_hidden | marks.suppressed(rate), "derived", "weighted value of a suppressed count")


class _Marks:
    """Per column: the (rule, reason) of the first rule that suppressed each row, or None."""

    def __init__(self, columns: list[str], rows: int):
        self.columns = columns
        self.rule = {c: np.full(rows, None, dtype=object) for c in columns}
        self.reason = {c: np.full(rows, None, dtype=object) for c in columns}

    def suppressed(self, column: str) -> np.ndarray:
        return self.rule[column] != None  # noqa: E711 - elementwise comparison on an object array

    def mark(self, column: str, where: np.ndarray, rule: str, reason: str) -> None:
        new = np.asarray(where, dtype=bool) & ~self.suppressed(column)
        self.rule[column][new] = rule
        self.reason[column][new] = reason

    def audit(self, table: pd.DataFrame) -> pd.DataFrame:
        pieces = []
        for position, column in enumerate(self.columns):
            rows = np.flatnonzero(self.suppressed(column))
            if rows.size:
                pieces.append(pd.DataFrame({
                    "row": rows, "position": position,
                    "municipality": table["municipality"].to_numpy()[rows], "year": table["year"].to_numpy()[rows],
                    "column": column, "rule": self.rule[column][rows], "reason": self.reason[column][rows]}))
        if not pieces:
            return empty_audit()
        audit = pd.concat(pieces, ignore_index=True).sort_values(["row", "position"], kind="stable")
        return audit[AUDIT_COLUMNS].reset_index(drop=True)
