"""Locale-independent number formatting for Dutch (``nl``) and English (``en``) output.

Dutch writes ``1.234,5`` (thousands dot, decimal comma) and ``12,3 %`` (a space before the
percent sign); English writes ``1,234.5`` and ``12.3%``.  We format with Python's own
``format`` mini-language and swap separators, never ``locale.setlocale``: the process
locale is global state, differs between machines, and would make output non-reproducible.
"""
from __future__ import annotations

import math
from numbers import Real
from typing import SupportsFloat

import numpy as np
import pandas as pd

#: What a missing value looks like in tables and labels (an en dash, as in CBS tables).
MISSING = "\u2013"
#: Non-breaking space between a number and ``%`` in Dutch, so the two never wrap apart.
NBSP = "\u00a0"
#: Typographic minus for figures (tick labels); tables keep the ASCII hyphen-minus so values
#: paste cleanly into spreadsheets and LaTeX.
UNICODE_MINUS = "\u2212"
LANGUAGES = ("nl", "en")


def check_language(lang: str) -> str:
    """Return ``lang`` if it is a supported output language, else raise ``KeyError`` naming it."""
    if lang not in LANGUAGES:
        raise KeyError(f"unknown report language {lang!r}; use one of {list(LANGUAGES)}")
    return lang


def is_missing(value: object) -> bool:
    """True for ``None``, ``NaN``, ``pd.NA`` and ``NaT``."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays and other non-scalars are not "missing"
        return False


def format_number(value: object, lang: str = "nl", digits: int = 1, *, thousands: bool = True,
                  minus: str = "-") -> str:
    """Format one number for ``lang`` with ``digits`` decimals.

    ``1234.5`` -> ``"1.234,5"`` (nl) or ``"1,234.5"`` (en); missing -> ``"–"``; infinities
    -> ``"∞"``/``"-∞"``.  Rounding is Python's (round-half-even on the binary value).  A value
    that rounds to zero is shown without a sign (``-0.04`` -> ``"0,0"``), because ``-0,0``
    reads as a real negative effect.
    """
    check_language(lang)
    if is_missing(value):
        return MISSING
    if not isinstance(value, (Real, np.number)):
        raise TypeError(f"format_number expects a number, got {value!r} ({type(value).__name__})")
    number = float(value)
    if math.isinf(number):
        return ("" if number > 0 else minus) + "\u221e"
    text = f"{abs(number):{',' if thousands else ''}.{digits}f}"
    rounds_to_zero = float(text.replace(",", "")) == 0.0
    if lang == "nl":
        # swap the two separators via a placeholder that cannot occur in a formatted number
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    sign = minus if number < 0 and not rounds_to_zero else ""
    return sign + text


def format_percent(value: SupportsFloat | None, lang: str = "nl", digits: int = 1, *, fraction: bool = True,
                   minus: str = "-") -> str:
    """Format a share as a percentage: ``0.123`` -> ``"12,3 %"`` (nl, non-breaking space) or
    ``"12.3%"`` (en).  With ``fraction=False`` the value is already in percent."""
    check_language(lang)
    if value is None or is_missing(value):
        return MISSING
    number = float(value) * (100.0 if fraction else 1.0)
    text = format_number(number, lang, digits, minus=minus)
    return text + (NBSP + "%" if lang == "nl" else "%")


def euro_prefix(lang: str = "nl") -> str:
    """The euro sign before an amount: ``"€ "`` (with a non-breaking space) in Dutch, as in
    ``€ 1.400``; ``"€"`` without space in English, as in ``€1,400``."""
    return "\u20ac" + NBSP if check_language(lang) == "nl" else "\u20ac"


def format_euro(value: object, lang: str = "nl", digits: int = 0, *, minus: str = "-") -> str:
    """An amount of euros: ``-1234.5`` -> ``"-€ 1.235"`` (nl, 0 digits) or ``"-€1,235"`` (en);
    missing -> ``"–"``.  The sign goes before the euro sign."""
    if is_missing(value):
        check_language(lang)
        return MISSING
    text = format_number(value, lang, digits, minus=minus)
    sign = minus if text.startswith(minus) and minus else ""
    return sign + euro_prefix(lang) + text[len(sign):]


def format_p_value(value: SupportsFloat | None, lang: str = "nl", digits: int = 3) -> str:
    """p-values with ``digits`` decimals; below ``10**-digits`` shown as ``"<0,001"``/``"<0.001"``."""
    check_language(lang)
    if value is None or is_missing(value):
        return MISSING
    threshold = 10.0 ** -digits
    if float(value) < threshold:
        return "<" + format_number(threshold, lang, digits)
    return format_number(value, lang, digits)


def decimals_for_ticks(values: np.ndarray, max_digits: int = 6) -> int:
    """Fewest decimals (0..``max_digits``) that show every tick value exactly enough that
    neighbouring ticks stay distinct and each label is within 1e-9 of its value."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 0
    scale = max(1.0, float(np.abs(finite).max()))
    for digits in range(max_digits + 1):
        rounded = np.round(finite, digits)
        if np.all(np.abs(rounded - finite) <= 1e-9 * scale) and np.unique(rounded).size == np.unique(finite).size:
            return digits
    return max_digits
