"""Constant prices: deflate nominal euros with a price index rebased to a chosen base year."""
from __future__ import annotations

import pandas as pd

from effectmeting.errors import HarmonisationError
from effectmeting.harmonise.audit import AuditLog


def rebase(price_index: pd.DataFrame | pd.Series, base_year: int) -> pd.Series:
    """Price index (any base) as a Series by year with ``index[base_year] == 100``.

    ``price_index``: a frame with columns ``year, index`` or a Series indexed by year.
    """
    if isinstance(price_index, pd.DataFrame):
        missing = {"year", "index"} - set(price_index.columns)
        if missing:
            raise HarmonisationError(f"price index lacks column(s) {sorted(missing)} (expected year, index)")
        series = pd.Series(price_index["index"].to_numpy(dtype="float64"),
                           index=price_index["year"].astype("int64").to_numpy())
    else:
        series = pd.Series(price_index.to_numpy(dtype="float64"), index=price_index.index.astype("int64"))
    if series.index.duplicated().any():
        raise HarmonisationError(f"price index repeats year(s) {sorted(set(series.index[series.index.duplicated()]))}")
    bad = series[~(series > 0)]
    if len(bad):
        raise HarmonisationError(f"price index must be positive; years {bad.index.tolist()} have {bad.tolist()}")
    if base_year not in series.index:
        raise HarmonisationError(
            f"price base year {base_year} is not in the price index (years {int(series.index.min())}-{int(series.index.max())}); "
            "extend the index or choose another price_base_year")
    return series / series[base_year] * 100.0


def deflate(frame: pd.DataFrame, columns: list[str], price_index: pd.DataFrame | pd.Series, base_year: int,
            *, year_column: str = "year", audit: AuditLog | None = None) -> pd.DataFrame:
    """Copy of ``frame`` with nominal euro ``columns`` in constant euros of ``base_year``.

    value_constant = value_nominal x index[base_year] / index[year].  Every year present in the
    frame must be in the index, else :class:`HarmonisationError` naming the missing years.
    """
    index = rebase(price_index, base_year)
    years = frame[year_column].astype("int64")
    missing = sorted(int(y) for y in set(years.unique()) - set(index.index))
    if missing:
        raise HarmonisationError(
            f"price index has no value for year(s) {missing} (needed to deflate {columns}); add them to the price index")
    factor = 100.0 / index.reindex(years.to_numpy()).to_numpy()
    out = frame.copy()
    for column in columns:
        if column not in out.columns:
            raise HarmonisationError(f"cannot deflate {column!r}: no such column")
        out[column] = pd.to_numeric(out[column], errors="coerce").to_numpy(dtype="float64") * factor
    out.attrs = {**frame.attrs, "price_base_year": base_year}
    if audit is not None:
        audit.note(stage="prices", variable=list(columns),
                   detail=[f"{c} deflated to constant euros of {base_year}" for c in columns])
    return out


def deflation_factors(price_index: pd.DataFrame | pd.Series, base_year: int) -> pd.Series:
    """Multiplicative factor per year that turns nominal into constant ``base_year`` euros."""
    return (100.0 / rebase(price_index, base_year)).rename("factor")


__all__ = ["deflate", "deflation_factors", "rebase"]
