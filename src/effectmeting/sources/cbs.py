"""CBS StatLine tables: parse exports as CBS delivers them, and fetch them with a cache.

A StatLine export (``ID;RegioS;Perioden;TotaleBevolking_1;...``) has region codes padded with
spaces (``"GM0363  "``), period codes (``2019JJ00``) and markers instead of numbers (``.`` not
available, ``x`` secret, ``-`` nil, ``?`` unknown).  :func:`parse_statline` keeps only
municipalities (other regions are set aside with a reason, for the audit log), turns year
periods into ``year`` and replaces markers by NA with the reason in ``<column>__marker`` (``-``,
nil, by 0: CBS writes it where the value is zero).
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from effectmeting.errors import InputError, OptionError, echo
from effectmeting.schema.coerce import MARKER_REASONS
from effectmeting.schema.numbers import convert_column
from effectmeting.sources.statline_declaration import StatlineDeclaration
from effectmeting.sources.statline_odata import HttpJsonClient, download, metadata, query_urls, wide_rows
from effectmeting.sources.statline_dimensions import apply_dimensions, apply_percentages, check_dimensions, is_measure

#: Names CBS uses for the region dimension, in order of preference: OData keys (Dutch and English tables) and
#: the headers of web-portal CSV exports (``Regio's``).
REGION_COLUMNS: tuple[str, ...] = ("RegioS", "Gemeenten", "Gemeente", "Regio", "WijkenEnBuurten", "Regions",
                                   "Municipalities", "DistrictsAndNeighbourhoods", "Regio's", "Wijken en buurten")
#: Names of the period dimension: Dutch and English tables.
PERIOD_COLUMNS: tuple[str, ...] = ("Perioden", "Periods")
PERIOD_COLUMN = PERIOD_COLUMNS[0]

#: Why a region that is not a municipality was set aside, by code prefix.
REGION_KINDS: dict[str, str] = {
    "NL": "country, not a municipality",
    "PV": "province, not a municipality",
    "LD": "landsdeel, not a municipality",
    "CR": "COROP region, not a municipality",
    "WK": "wijk (district), below municipality level",
    "BU": "buurt (neighbourhood), below municipality level",
}
#: Why a period that is not a calendar year was set aside, by StatLine period type.
PERIOD_KINDS: dict[str, str] = {"KW": "a quarter", "MM": "a month", "HJ": "a half year", "X0": "a multi-year period",
                                "G4": "a four-year average", "G2": "a two-year average"}

#: StatLine's marker for "nil" (nihil): read as 0, with ``nil`` in ``<column>__marker``.
NIL_MARKER = "-"

_TABLE_ID = re.compile(r"^[0-9A-Za-z_]+$")


def region_column(columns: list[str]) -> str | None:
    """The region dimension among ``columns`` (``RegioS``, ``Regions``, ``WijkenEnBuurten``, ...), or None."""
    return next((name for name in REGION_COLUMNS if name in columns), None)


def is_statline_header(columns: list[str]) -> bool:
    """Whether column names look like a StatLine export (a period and a region dimension)."""
    return any(p in columns for p in PERIOD_COLUMNS) and region_column(columns) is not None


def set_aside_regions(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Set aside rows whose code in ``column`` is another region type (``NL01``, ``PV27``, ``WK036300``,
    ``BU03630000``, ``CR01``, ``LD01``): any reader, not only StatLine's, keeps them out of the municipality
    rows with a reason (``attrs["set_aside"]``, added to the rows set aside before) instead of an error."""
    if column not in frame.columns or len(frame) == 0:
        return frame
    text = frame[column].astype("string").str.strip().str.upper()
    other = text.str.fullmatch(r"(NL|PV|LD|CR)\d{2}|(WK)\d{6}|(BU)\d{8}").fillna(False).astype(bool)
    if not other.any():
        return frame
    attrs = dict(frame.attrs)
    before = attrs.get("set_aside")
    aside = pd.DataFrame({"source_row": frame.loc[other, "source_row"].to_numpy(),
                          "region": text[other].to_numpy(dtype=object),
                          "reason": text[other].str[:2].map(REGION_KINDS).to_numpy(dtype=object)})
    kept = frame.loc[~other].reset_index(drop=True)
    attrs["set_aside"] = aside if not isinstance(before, pd.DataFrame) or before.empty else pd.concat(
        [before, aside], ignore_index=True)
    kept.attrs = attrs
    return kept


def _fields(line: str, separator: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=separator), [])
    except csv.Error:  # an unclosed quote or an oversized field: not a header or footer line
        return []


def portal_layout(text: str, *, need_period: bool = True) -> tuple[str, list[str], list[str], str] | None:
    """Find a StatLine header (a region and a period column, ``;`` or ``,`` separated) in the first 30 lines.

    Web-portal CSV exports put title lines above the header and source lines ("Bron: CBS") below
    the data.  Returns ``(text from the header on without the footer, title lines, footer lines,
    separator)``, or None when no line of the first 30 is a StatLine header.  A title or footer line
    has another number of fields than the header; blank lines between data and footer stay (the
    reader reports them as empty rows).  ``need_period=False``: a region column suffices (a table
    without periods, read with a declared ``year``).
    """
    lines = text.split("\n")
    for number, line in enumerate(lines[:30]):
        if len(line) > 20_000:
            continue  # not a header (a huge cell); the csv module would refuse the line anyway
        for separator in (";", ","):
            fields = [f.strip() for f in _fields(line.rstrip("\r"), separator)]
            if not (is_statline_header(fields) or (not need_period and region_column(fields))):
                continue
            width = len(fields)
            body = lines[number:]
            footer_at = []
            for index in range(len(body) - 1, 0, -1):
                content = body[index].rstrip("\r")
                if not content.strip():
                    continue
                if len(content) > 20_000 or len(_fields(content, separator)) == width:
                    break  # a data line (a footer line is short)
                footer_at.append(index)
            footer = [body[i].rstrip("\r") for i in sorted(footer_at)]
            kept = [line for i, line in enumerate(body) if i not in set(footer_at)]
            return "\n".join(kept), [t.rstrip("\r") for t in lines[:number]], footer, separator
    return None


def parse_statline(raw: pd.DataFrame, declaration: StatlineDeclaration | None = None, *,
                   path: str | Path = "StatLine table") -> pd.DataFrame:
    """Turn a StatLine table of text cells into a municipality frame.

    ``raw`` holds text cells and a ``source_row`` column.  Returns a frame with the region
    column stripped (``GM0363``), the period column (``Perioden``/``Periods``; ``2019JJ00``, or ``2019``
    in a web-portal export) replaced by an integer ``year`` column (or ``declaration.year`` for a
    table without periods), markers as NA (``-`` nil as 0) with ``<column>__marker`` reasons (only
    for columns that have markers), numbers parsed (decimal point, or decimal comma if the column
    uses one).  Rows of other regions (country, provinces, wijken, buurten) and of periods that are
    not years (quarters ``KW``, months ``MM``, half years ``HJ``) are removed and returned in
    ``frame.attrs["set_aside"]`` (``source_row, region, reason``), never an error.  Extra dimensions
    are kept or summed as ``declaration`` says (:mod:`effectmeting.sources.statline_dimensions`);
    rows summed into another row are in ``frame.attrs["folded"]`` (``source_row, region, into_row,
    reason``).  An undeclared dimension raises :class:`InputError` with its values.
    """
    declaration = declaration or StatlineDeclaration()
    columns = list(raw.columns)
    region = region_column(columns)
    if region is None:
        raise InputError(
            f"{path}: no region column in the StatLine table (looked for {', '.join(REGION_COLUMNS)}; found "
            f"{', '.join(c for c in columns if c != 'source_row')}). Export the table with the region dimension as a "
            "column.", reason="no_region_column")
    period = next((name for name in PERIOD_COLUMNS if name in columns), None)
    if period is None and declaration.year is None:
        raise InputError(
            f"{path}: the table has no period column ({' or '.join(PERIOD_COLUMNS)}), so the year is a property of "
            "the file (e.g. Kerncijfers wijken en buurten 2021, 85039NED). Declare it in the source's [[source]] "
            "table: year = 2021.", reason="no_period_column")
    if period is not None and declaration.year is not None:
        raise InputError(f"{path}: year = {declaration.year} is declared but the table has a period column "
                         f"{period!r}; remove year from the sources manifest (it is for tables without periods).",
                         reason="statline_declaration")
    other = [c for c in columns if c not in ("source_row", "ID", region, period)]
    dimensions = [c for c in other if not is_measure(c, declaration)]
    check_dimensions(raw, dimensions, declaration, str(path))
    measures = [c for c in other if c not in dimensions
                and (not declaration.measures or c in declaration.measures
                     or any(c in (p.column, p.denominator) for p in declaration.percentages))]
    frame = pd.DataFrame(index=raw.index)
    set_aside_reason = pd.Series(None, index=raw.index, dtype="object")
    period_reason = pd.Series(None, index=raw.index, dtype="object")
    for name in ["source_row", *(c for c in columns if c not in other or c in dimensions or c in measures)]:
        if name == "source_row":
            frame[name] = raw[name]
            continue
        text = raw[name].astype("object").where(raw[name].notna(), "").astype(str).str.strip()
        if name == region:
            frame[name] = text
            prefix = text.str[:2]
            # "GM14" is Groningen's GM0014 with its zeros lost (a spreadsheet round trip): a municipality,
            # kept as written; harmonisation's code normaliser pads it and notes the change in the audit.
            is_municipality = text.str.fullmatch(r"GM\d{1,4}")
            reason = prefix.map(REGION_KINDS).fillna("region type " + prefix + " is not a municipality")
            reason = reason.where(text.ne(""), "no region code")
            set_aside_reason = reason.where(~is_municipality)
        elif name == period:
            frame["year"], period_reason = _years(text)
        elif name == "ID" or name in dimensions:
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
    if period is None:
        frame["year"] = pd.array([declaration.year] * len(frame), dtype="Int64")
    # A row of another region says so first; a municipality's row of a quarter or month says that.
    set_aside_reason = set_aside_reason.fillna(period_reason)
    aside = set_aside_reason.notna()
    set_aside = pd.DataFrame(
        {
            "source_row": frame.loc[aside, "source_row"].to_numpy(),
            "region": frame.loc[aside, region].to_numpy(),
            "reason": set_aside_reason[aside].to_numpy(),
        }
    )
    kept = frame.loc[~aside].reset_index(drop=True)
    folded = pd.DataFrame(columns=["source_row", "region", "into_row", "reason"])
    if declaration.dimensions:
        kept, undeclared, folded = apply_dimensions(kept.drop(columns=["ID"], errors="ignore"), region=region,
                                                    declaration=declaration, measures=measures, path=str(path))
        set_aside = pd.concat([set_aside, undeclared], ignore_index=True)
    if declaration.percentages:
        kept = apply_percentages(kept, declaration, path)
    if dimensions:
        kept = kept.drop(columns=[c for c in dimensions if c in kept.columns])
    attrs = dict(kept.attrs)
    kept.attrs = {**attrs, "set_aside": set_aside, "folded": folded, "region_column": region}
    return kept


def _decimal(text: pd.Series) -> str:
    # StatLine's raw exports write decimals with a point; some Dutch-locale exports use a comma.
    return "," if text.str.match(r"^[+-]?\d+,\d+$").any() else "."


def _years(period: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Years of year periods (``2019JJ00``; ``2019`` or ``2019*`` in a web-portal export) and, for every other
    period, why its row is set aside (quarters, months, half years: not fatal, the audit keeps them)."""
    match = period.str.extract(r"^(\d{4})(?:JJ00|\*?)$")[0]
    kind = period.str[4:6].map(PERIOD_KINDS)
    reason = ("period " + period.map(echo) + " is " + kind.fillna("not a year")
              + ", not a calendar year (JJ); effectmeting reads years")
    return match.astype("Int64"), reason.where(match.isna())


def fetch_statline(
    table_id: str, *, cache_dir: str | Path, client: Any = None, refresh: bool = False, filters: str | None = None,
    select: list[str] | None = None, catalog: str | None = None, odata: int = 3,
    declaration: StatlineDeclaration | None = None,
) -> pd.DataFrame:
    """Fetch a StatLine table (OData v3 or v4), caching the raw rows and the table's metadata as JSON.

    The untyped rows (region codes, period codes and markers exactly as CBS publishes them; v4
    observations with their ``ValueAttribute``) and the metadata (title, unit and decimals of every
    measure, the dimensions) are stored in ``cache_dir/<table_id>.json`` (``<table_id>-<hash>.json``
    when ``filters``, ``select`` or ``catalog`` narrow the query) and parsed with
    :func:`parse_statline` (``declaration``: extra dimensions, fixed year, percentages); later calls
    read the cache without network unless ``refresh``.  ``filters``: an OData ``$filter`` expression
    (``"RegioS eq 'GM0363'"``); ``select``: the columns to download (v3); ``catalog``:
    ``"dataderden.cbs.nl"`` for CBS's third-party tables (v3) or ``"CBS-asd"`` (v4).
    ``client``: any object with ``get_json(url) -> dict`` (default: the standard library over https);
    an object with only ``get_meta(table_id, name) -> list[dict]`` (the ``cbsodata`` module) serves an
    unfiltered v3 table.  ``source_row`` is the 1-based record number in the cache.  The metadata is in
    ``frame.attrs["statline"]``; a sources manifest lists the cache file with ``format = "statline_json"``.
    """
    if not _TABLE_ID.match(table_id):
        raise InputError(f"StatLine table id {table_id!r} is not valid; use an id such as '85039NED'.")
    urls = query_urls(table_id, odata=odata, catalog=catalog, filters=filters, select=select)
    query = {"odata": odata, "catalog": catalog, "filters": filters, "select": select}
    narrowed = odata != 3 or catalog is not None or filters or select
    suffix = "-" + hashlib.sha256(json.dumps(query, sort_keys=True).encode()).hexdigest()[:10] if narrowed else ""
    cache_path = Path(cache_dir) / f"{table_id}{suffix}.json"
    if refresh or not cache_path.is_file():
        client = client if client is not None else HttpJsonClient()
        if hasattr(client, "get_json"):
            rows = download(client, urls["data"])
            meta = metadata(client, urls["metadata"], odata)
        elif hasattr(client, "get_meta") and not narrowed:
            rows, meta = [dict(row) for row in client.get_meta(table_id, "UntypedDataSet")], {}
        else:
            raise OptionError("client must have get_json(url) (filters, select, catalog and OData v4 need it) or, "
                              "for a whole v3 table, get_meta(table_id, name) like the cbsodata module")
        document = {"table_id": table_id, "dataset": "UntypedDataSet" if odata == 3 else "Observations",
                    "odata": odata, "catalog": urls["catalog"], "filters": filters, "select": select,
                    "url": urls["data"], "metadata": meta, "rows": rows}
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        cache_path.write_text(json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    return read_statline_document(cache_path, declaration)


def read_statline_document(path: str | Path, declaration: StatlineDeclaration | None = None) -> pd.DataFrame:
    """Parse a cached StatLine document (written by :func:`fetch_statline`) with :func:`parse_statline`."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        rows, measures = wide_rows(document)
        table_id = document.get("table_id", path.stem)
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        raise InputError(
            f"The StatLine cache {path} is damaged (not a document written by fetch_statline). Delete it and fetch "
            "again (refresh=True).") from None
    raw = pd.DataFrame(rows, dtype="object").fillna("").astype(str)
    if region_column(list(raw.columns)) is None:
        raise InputError(
            f"Table {table_id} ({path}) has no region column ({', '.join(raw.columns)}); "
            "effectmeting reads municipality x year tables only.", reason="no_region_column")
    raw["source_row"] = range(1, len(raw) + 1)
    if measures:
        declaration = replace(declaration or StatlineDeclaration(),
                              measures=tuple(dict.fromkeys([*(declaration.measures if declaration else ()),
                                                            *measures])))
    frame = parse_statline(raw, declaration, path=path)
    frame.attrs["source_file"] = str(path)
    frame.attrs["decimal"] = "."
    frame.attrs["format"] = "cbs_statline"
    frame.attrs["statline"] = {k: document.get(k) for k in ("table_id", "odata", "catalog", "filters", "select",
                                                             "url", "metadata")}
    return frame
