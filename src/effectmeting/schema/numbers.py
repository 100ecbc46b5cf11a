"""Parse numbers written in Dutch or plain notation, column by column.

Dutch files write ``1.234.567,89`` (thousands dot, decimal comma); plain files ``1234567.89``.
Readers use :func:`convert_column` to parse columns in which every cell is a number; a column
with any other cell (a CBS marker, a typo) stays text, and the validator parses it cell by cell
with :func:`parse_numbers` in the same notation, reporting each cell that is not a number with
its row.  Nothing is silently turned into NaN.  (This module sits in the schema stage because
both the readers and the validator need it and data flows from schema to sources.)
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# Dutch: optional sign, digits with optional dot-grouping in threes, optional decimal comma.
DUTCH_NUMBER = r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$"
# Plain: optional sign, digits, optional decimal point, optional exponent.
PLAIN_NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"
# Zero-padded whole numbers (0363) are identifiers, not quantities.
ZERO_PADDED = r"^0\d+$"
# A dot followed by other than three digits cannot be a Dutch thousands separator.
DOT_DECIMAL = r"^[+-]?\d+\.\d+$"
DUTCH_GROUPED = r"^[+-]?\d{1,3}(?:\.\d{3})+$"
COMMA_DECIMAL = r"^[+-]?[\d.]*\d,\d+$"
#: Largest magnitude up to which float64 holds every whole number exactly (2**53).
MAX_EXACT_INTEGER = 2.0**53


def parse_numbers(text: pd.Series, *, decimal: str = ".") -> tuple[pd.Series, pd.Series]:
    """Parse stripped text cells as numbers.

    ``decimal=","`` uses Dutch notation (thousands dot, decimal comma), ``"."`` plain notation.
    Returns ``(numbers, parsed)``: float64 values (NaN where not parsed) and a boolean mask of
    the cells that are numbers in that notation.
    """
    text = text.astype("object").where(text.notna(), "").astype(str)
    # Each distinct cell is parsed once and the results mapped back by position: columns such as
    # a design's values repeat a few dozen texts over tens of thousands of rows.
    codes, uniques = pd.factorize(text)
    distinct = pd.Series(uniques, dtype=text.dtype)
    if decimal == ",":
        parsed = distinct.str.match(DUTCH_NUMBER)
        cleaned = distinct.where(parsed, "").str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        parsed = distinct.str.match(PLAIN_NUMBER)
        cleaned = distinct.where(parsed, "")
    numbers = pd.to_numeric(cleaned.where(parsed, None), errors="coerce").astype("float64")
    return (pd.Series(numbers.to_numpy()[codes], index=text.index, name=text.name, dtype="float64"),
            pd.Series(parsed.astype(bool).to_numpy()[codes], index=text.index, name=text.name, dtype=bool))


def looks_dot_decimal(columns: pd.DataFrame) -> bool:
    """Whether a ``;``-separated file writes decimals with a point rather than a comma.

    Evidence is taken only from columns with at least one Dutch-parsable number (so text
    columns such as taakveld ``6.71`` do not count): a point followed by other than three
    digits (``1.5``) and no decimal comma anywhere means plain notation.
    """
    dot_evidence = comma_evidence = False
    for name in columns.columns:
        text = columns[name].astype(str).str.strip()
        if not text.str.match(DUTCH_NUMBER).any():
            continue
        comma_evidence |= bool(text.str.match(COMMA_DECIMAL).any())
        dot_evidence |= bool((text.str.match(DOT_DECIMAL) & ~text.str.match(DUTCH_GROUPED)).any())
    return dot_evidence and not comma_evidence


def convert_column(column: pd.Series, *, decimal: str) -> pd.Series:
    """Convert a text column to numbers where every present cell is a number.

    - no cell is a number, or some are zero-padded (``0363``): kept as text (identifiers);
    - every non-empty cell is a number: ``Int64`` if all are whole and written without a
      decimal separator, else ``float64``; empty cells become NA;
    - some cells are numbers and some are not (markers, typos): kept as text; the validator
      parses it in the same notation and reports the cells that are not numbers.
    """
    text = column.astype(str).str.strip()
    empty = text.eq("")
    numbers, parsed = parse_numbers(text, decimal=decimal)
    present = ~empty
    if not parsed[present].any() or text[parsed].str.match(ZERO_PADDED).any():
        return column
    if (numbers[parsed].abs() >= MAX_EXACT_INTEGER).any():
        # Beyond 2**53 float64 no longer holds every whole number exactly (beyond 2**63 Int64 cannot
        # hold it at all): keep the text as written, for the validator to report with its value.
        return column
    whole = bool((np.floor(numbers[parsed]) == numbers[parsed]).all()) and not text[parsed].str.contains(
        "," if decimal == "," else r"[.eE]", regex=True
    ).any()
    if parsed[present].all():
        return numbers.round().astype("Int64") if whole else numbers
    return column
