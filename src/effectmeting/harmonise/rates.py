"""Rates recomputed from summed numerators and denominators (never averaged over municipalities).

After a merger the rate of the new municipality is sum(numerators) / sum(denominators); averaging
the predecessors' rates would weight a village like a city.  Zero or missing denominators give NA,
noted in the audit events.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from effectmeting.errors import HarmonisationError
from effectmeting.harmonise.audit import AuditLog


def ratio(frame: pd.DataFrame, numerator: str, denominator: str, *, scale: float = 1.0,
          name: str | None = None, audit: AuditLog | None = None) -> pd.Series:
    """``scale x frame[numerator] / frame[denominator]`` per row; NA where the denominator is 0 or NA."""
    for column in (numerator, denominator):
        if column not in frame.columns:
            raise HarmonisationError(f"cannot compute a rate: column {column!r} is missing")
    num = pd.to_numeric(frame[numerator], errors="coerce").to_numpy(dtype="float64")
    den = pd.to_numeric(frame[denominator], errors="coerce").to_numpy(dtype="float64")
    bad = ~(np.abs(den) > 0)  # zero or NaN
    with np.errstate(divide="ignore", invalid="ignore"):
        values = scale * num / den
    values[bad] = np.nan
    name = name or f"{numerator}_per_{denominator}"
    if bad.any() and audit is not None:
        where = frame.loc[bad]
        audit.note(stage="rates", variable=name,
                   municipality=where["municipality"].tolist() if "municipality" in where else None,
                   year=where["year"].tolist() if "year" in where else None,
                   detail=[f"{name} set to NA: denominator {denominator} is {d}" for d in den[bad]])
    return pd.Series(values, index=frame.index, name=name)


def per_inhabitant(frame: pd.DataFrame, numerator: str, *, population: str = "population_total",
                   scale: float = 1.0, name: str | None = None, audit: AuditLog | None = None) -> pd.Series:
    """``numerator`` per inhabitant (``scale=1000`` for per 1,000 inhabitants)."""
    default = f"{numerator}_per_{'1000_' if scale == 1000 else ''}inhabitant{'s' if scale == 1000 else ''}"
    return ratio(frame, numerator, population, scale=scale, name=name or default, audit=audit)


def per_1000_inhabitants(frame: pd.DataFrame, numerator: str, *, population: str = "population_total",
                         name: str | None = None, audit: AuditLog | None = None) -> pd.Series:
    """``numerator`` per 1,000 inhabitants."""
    return per_inhabitant(frame, numerator, population=population, scale=1000.0, name=name, audit=audit)


def per_1000_youth(frame: pd.DataFrame, numerator: str, *, youth: str = "population_0_17",
                   name: str | None = None, audit: AuditLog | None = None) -> pd.Series:
    """``numerator`` per 1,000 residents aged 0-17."""
    return ratio(frame, numerator, youth, scale=1000.0, name=name or f"{numerator}_per_1000_youth", audit=audit)


def per_1000_adults(frame: pd.DataFrame, numerator: str, *, adults: str = "population_18_plus",
                    name: str | None = None, audit: AuditLog | None = None) -> pd.Series:
    """``numerator`` per 1,000 residents aged 18 and over."""
    return ratio(frame, numerator, adults, scale=1000.0, name=name or f"{numerator}_per_1000_adults", audit=audit)


def add_rates(frame: pd.DataFrame, specs: dict[str, tuple[str, str, float]], *,
              audit: AuditLog | None = None) -> pd.DataFrame:
    """Copy of ``frame`` with one column per spec ``name: (numerator, denominator, scale)``."""
    out = frame.copy()
    for name, (numerator, denominator, scale) in specs.items():
        out[name] = ratio(frame, numerator, denominator, scale=scale, name=name, audit=audit)
    return out
