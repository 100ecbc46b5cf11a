"""The bundled register of Dutch municipalities 2015-2024 (codes, names, validity dates).

Source and checks: ``src/effectmeting/reference/data/municipalities.SOURCE.md``.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from effectmeting.errors import HarmonisationError, InputError
from effectmeting.reference import data_path

REGISTER_FILE = "municipalities.csv"
FIRST_YEAR, LAST_YEAR = 2015, 2024


@lru_cache(maxsize=4)
def _read_register(path: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"municipality register {path} not found") from exc
    missing = {"code", "name", "valid_from", "valid_to"} - set(frame.columns)
    if missing:
        raise InputError(f"{path}: register lacks column(s) {sorted(missing)}")
    frame["valid_from"] = pd.to_datetime(frame["valid_from"], format="%Y-%m-%d")
    frame["valid_to"] = pd.to_datetime(frame["valid_to"].replace("", None), format="%Y-%m-%d")
    if frame["code"].duplicated().any():
        raise InputError(f"{path}: duplicated codes {frame['code'][frame['code'].duplicated()].tolist()}")
    return frame


def load_municipalities(path: str | Path | None = None) -> pd.DataFrame:
    """Municipality register: ``code`` (GM0363), ``name``, ``valid_from``, ``valid_to`` (NaT = exists).

    ``valid_from = 2015-01-01`` means the municipality existed on the register's first day.
    Returns a fresh copy (safe to modify).
    """
    return _read_register(str(path or data_path(REGISTER_FILE))).copy()


def codes_valid_in(year: int | pd.Series, register: pd.DataFrame | None = None) -> pd.DataFrame:
    """Codes that existed on 1 January of ``year`` (the division CBS uses for that year's statistics).

    With a single year: a frame ``code, name``; with a Series of years: a frame ``year, code``.
    """
    register = load_municipalities() if register is None else register
    years = pd.Series([year]) if isinstance(year, (int,)) else pd.Series(pd.unique(pd.Series(year)))
    out = []
    for y in years.astype(int):  # loop over a handful of distinct years, not over data rows
        day = pd.Timestamp(year=y, month=1, day=1)
        valid = (register["valid_from"] <= day) & (register["valid_to"].isna() | (register["valid_to"] >= day))
        out.append(register.loc[valid, ["code", "name"]].assign(year=y))
    if not out:
        return pd.DataFrame({"year": pd.Series(dtype="int64"), "code": pd.Series(dtype="object")})
    result = pd.concat(out, ignore_index=True)
    return result[["code", "name"]] if isinstance(year, int) else result[["year", "code"]]


def check_codes_exist(frame: pd.DataFrame, *, register: pd.DataFrame | None = None,
                      code_column: str = "municipality", year_column: str = "year",
                      source: str = "input") -> None:
    """Raise :class:`HarmonisationError` listing every (code, year) that did not exist that year."""
    register = load_municipalities() if register is None else register
    years = frame[year_column].astype(int)
    outside = (years < FIRST_YEAR) | (years > LAST_YEAR)
    # Check each distinct (code, year) once; rows are looked at only when some pair is bad.
    distinct = frame[[code_column, year_column]].astype({year_column: int}).drop_duplicates()
    valid = codes_valid_in(distinct[year_column], register)
    known = distinct.merge(valid, left_on=[year_column, code_column], right_on=["year", "code"], how="left",
                           indicator=True)
    if (known["_merge"] == "both").all() and not outside.any():
        return
    if outside.any():
        # Say the year is the problem: "did not exist in that year" would send the user to the code column.
        rows = frame.loc[outside.to_numpy()]
        where = rows["source_row"] if "source_row" in rows else pd.Series(rows.index, index=rows.index)
        listing = "; ".join(f"row {r}: {y}" for r, y in zip(where.head(20), rows[year_column].head(20)))
        raise HarmonisationError(
            f"{source}: {int(outside.sum())} row(s) have a year outside the municipality register's years "
            f"{FIRST_YEAR}-{LAST_YEAR}: {listing}. Check the year column ({year_column!r}), or remove the rows "
            f"outside {FIRST_YEAR}-{LAST_YEAR} before harmonising.")
    pairs = frame[[code_column, year_column]].astype({year_column: int}).merge(
        valid, left_on=[year_column, code_column], right_on=["year", "code"], how="left", indicator=True
    )
    bad_mask = (pairs["_merge"] == "left_only").to_numpy() | outside.to_numpy()
    if bad_mask.any():
        bad = frame.loc[bad_mask, [code_column, year_column] + (["source_row"] if "source_row" in frame else [])]
        listing = "; ".join(
            f"row {r.get('source_row', i)}: {r[code_column]} in {r[year_column]}"
            for i, r in bad.head(20).reset_index().to_dict("index").items()
        )
        known = register.set_index("code")
        hints = []
        for code in pd.unique(bad[code_column])[:10]:
            if code in known.index:
                entry = known.loc[code]
                end = "" if pd.isna(entry["valid_to"]) else f" until {entry['valid_to'].date()}"
                hints.append(f"{code} ({entry['name']}) existed from {entry['valid_from'].date()}{end}")
            else:
                hints.append(f"{code} is not a municipality code in the register 2015-2024")
        raise HarmonisationError(
            f"{source}: {int(bad_mask.sum())} row(s) name a municipality that did not exist in that "
            f"year: {listing}. {'; '.join(hints)}. Check the year column and the code column, or use "
            f"the code valid in that year."
        )
