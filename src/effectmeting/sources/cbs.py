"""CBS StatLine tables: parse exports as CBS delivers them, and fetch them with a cache.

A StatLine export (``ID;RegioS;Perioden;TotaleBevolking_1;...``) has region codes padded with
spaces (``"GM0363  "``), period codes (``2019JJ00``) and markers instead of numbers (``.`` not
available, ``x`` secret, ``-`` nil, ``?`` unknown).  :func:`parse_statline` keeps only
municipalities (other regions are set aside with a reason, for the audit log), turns year
periods into ``year`` and replaces markers by NA with the reason in ``<column>__marker`` (``-``,
nil, by 0: CBS writes it where the value is zero).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from effectmeting.errors import InputError
from effectmeting.schema.coerce import MARKER_REASONS
from effectmeting.schema.numbers import convert_column

#: Names CBS uses for the region dimension, in order of preference.
REGION_COLUMNS: tuple[str, ...] = ("RegioS", "Gemeenten", "Gemeente", "Regio", "WijkenEnBuurten")
PERIOD_COLUMN = "Perioden"

#: Why a region that is not a municipality was set aside, by code prefix.
REGION_KINDS: dict[str, str] = {
    "NL": "country, not a municipality",
    "PV": "province, not a municipality",
    "LD": "landsdeel, not a municipality",
    "CR": "COROP region, not a municipality",
    "WK": "wijk (district), below municipality level",
    "BU": "buurt (neighbourhood), below municipality level",
}

#: StatLine's marker for "nil" (nihil): read as 0, with ``nil`` in ``<column>__marker``.
NIL_MARKER = "-"

_TABLE_ID = re.compile(r"^[0-9A-Za-z_]+$")


def is_statline_header(columns: list[str]) -> bool:
    """Whether column names look like a StatLine export (a period and a region dimension)."""
    return PERIOD_COLUMN in columns and any(name in columns for name in REGION_COLUMNS)


def parse_statline(raw: pd.DataFrame) -> pd.DataFrame:
    """Turn a StatLine table of text cells into a municipality frame.

    ``raw`` holds text cells and a ``source_row`` column.  Returns a frame with the region
    column stripped (``GM0363``), ``Perioden`` replaced by an integer ``year`` column, markers
    as NA (``-`` nil as 0) with ``<column>__marker`` reasons (only for columns that have markers), numbers parsed
    (decimal point, or decimal comma if the column uses one).  Rows of other regions are removed
    and returned in ``frame.attrs["set_aside"]`` (``source_row, region, reason``).
    Quarter and month periods (``2019KW01``, ``2019MM01``) raise :class:`InputError`.
    """
    columns = list(raw.columns)
    region_column = next((name for name in REGION_COLUMNS if name in columns), None)
    if region_column is None:
        raise InputError(
            f"No region column in the StatLine table (looked for {', '.join(REGION_COLUMNS)}; found "
            f"{', '.join(columns)}). Export the table with the region dimension as a column."
        )
    frame = pd.DataFrame(index=raw.index)
    set_aside_reason = pd.Series(None, index=raw.index, dtype="object")
    for name in columns:
        if name == "source_row":
            frame[name] = raw[name]
            continue
        text = raw[name].astype("object").where(raw[name].notna(), "").astype(str).str.strip()
        if name == region_column:
            frame[name] = text
            prefix = text.str[:2]
            # "GM14" is Groningen's GM0014 with its zeros lost (a spreadsheet round trip): a municipality,
            # kept as written; harmonisation's code normaliser pads it and notes the change in the audit.
            is_municipality = text.str.fullmatch(r"GM\d{1,4}")
            reason = prefix.map(REGION_KINDS).fillna("region type " + prefix + " is not a municipality")
            reason = reason.where(text.ne(""), "no region code")
            set_aside_reason = reason.where(~is_municipality)
        elif name == PERIOD_COLUMN:
            frame["year"] = _years(text, raw["source_row"])
        elif name == "ID":
            frame[name] = text
        else:
            is_marker = text.isin(list(MARKER_REASONS))
            if is_marker.any():
                converted = convert_column(text.where(~is_marker, ""), decimal=_decimal(text))
                # CBS's "-" means nil: the value is zero, not unknown; the marker column keeps "nil".
                nil = text.eq(NIL_MARKER)
                frame[name] = converted.mask(is_marker & ~nil).where(~nil, 0)
                frame[f"{name}__marker"] = text.map(MARKER_REASONS).where(is_marker).astype("object")
            else:
                frame[name] = convert_column(text, decimal=_decimal(text))
    aside = set_aside_reason.notna()
    set_aside = pd.DataFrame(
        {
            "source_row": frame.loc[aside, "source_row"].to_numpy(),
            "region": frame.loc[aside, region_column].to_numpy(),
            "reason": set_aside_reason[aside].to_numpy(),
        }
    )
    kept = frame.loc[~aside].reset_index(drop=True)
    kept.attrs["set_aside"] = set_aside
    return kept


def _decimal(text: pd.Series) -> str:
    # StatLine's raw exports write decimals with a point; some Dutch-locale exports use a comma.
    return "," if text.str.match(r"^[+-]?\d+,\d+$").any() else "."


def _years(period: pd.Series, source_row: pd.Series) -> pd.Series:
    match = period.str.extract(r"^(\d{4})JJ00$")[0]
    bad = match.isna()
    if bad.any():
        examples = ", ".join(f"row {r} '{p}'" for r, p in zip(source_row[bad].head(5), period[bad].head(5)))
        raise InputError(
            f"{int(bad.sum())} period code(s) are not whole years ({examples}). effectmeting works with "
            "years (2019JJ00); select only year periods when exporting from StatLine, or aggregate "
            "quarters/months to years yourself and say how in the source description."
        )
    return match.astype("Int64")


def fetch_statline(
    table_id: str, *, cache_dir: str | Path, client: Any = None, refresh: bool = False
) -> pd.DataFrame:
    """Fetch a StatLine table through the ``cbsodata`` client, caching the raw rows as JSON.

    The untyped dataset (``UntypedDataSet``: region codes, period codes and markers exactly as
    CBS publishes them) is stored in ``cache_dir/<table_id>.json`` and parsed with
    :func:`parse_statline`; later calls read the cache without network unless ``refresh``.
    ``client`` is any object with ``get_meta(table_id, name) -> list[dict]`` (default: the
    ``cbsodata`` module, installed with ``pip install effectmeting[cbs]``).  ``source_row`` is
    the 1-based record number in the cache.
    """
    if not _TABLE_ID.match(table_id):
        raise InputError(f"StatLine table id {table_id!r} is not valid; use an id such as '85039NED'.")
    cache_path = Path(cache_dir) / f"{table_id}.json"
    if refresh or not cache_path.is_file():
        if client is None:
            try:
                import cbsodata  # optional dependency: only needed to download
            except ImportError:
                raise InputError(
                    f"Table {table_id} is not in the cache ({cache_path}) and the cbsodata client is not "
                    "installed. Install it with `pip install effectmeting[cbs]`, or put an exported "
                    "StatLine CSV in the sources manifest instead."
                ) from None
            client = cbsodata
        rows = [dict(row) for row in client.get_meta(table_id, "UntypedDataSet")]
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        document = {"table_id": table_id, "dataset": "UntypedDataSet", "rows": rows}
        cache_path.write_text(json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    try:
        document = json.loads(cache_path.read_text(encoding="utf-8"))
        rows = document["rows"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise InputError(
            f"The StatLine cache {cache_path} is damaged. Delete it and fetch again (refresh=True)."
        ) from None
    raw = pd.DataFrame(rows, dtype="object").fillna("").astype(str)
    if not is_statline_header(list(raw.columns)):
        raise InputError(
            f"Table {table_id} has no period and region columns ({', '.join(raw.columns)}); "
            "effectmeting reads municipality x year tables only."
        )
    raw["source_row"] = range(1, len(raw) + 1)
    frame = parse_statline(raw)
    frame.attrs["source_file"] = str(cache_path)
    frame.attrs["decimal"] = "."
    return frame
