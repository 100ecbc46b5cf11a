"""StatLine's OData services: request URLs (filters, select, catalog), paging, and the cached documents.

OData v3 (the service ``cbsodata`` reads): ``https://<catalog>/ODataApi/odata/<table>/UntypedDataSet`` with the
table's ``DataProperties`` (key, title, unit, decimals of every measure and dimension) and one entity per
dimension (key -> title).  Catalogs: ``opendata.cbs.nl`` (default) and ``dataderden.cbs.nl`` (tables CBS publishes
for third parties, e.g. Iv3 and the Monitor Sociaal Domein).

OData v4 (the service ``cbsodata4`` reads): ``https://odata4.cbs.nl/<catalog>/<table>/Observations``, one row per
observation (``Id, Measure, ValueAttribute, Value`` and the dimensions) and ``MeasureCodes`` (identifier, title,
unit, decimals).  :func:`wide_rows` turns observations into the v3 shape (one column per measure), markers
from ``ValueAttribute``.

A cache document (``<table>[-<query hash>].json``) keeps ``table_id, odata, catalog, filters, select, urls,
rows, metadata``; :func:`effectmeting.sources.cbs.fetch_statline` writes it and
``read_table(path, format="statline_json")`` reads it, so a sources manifest can list it like any file.
"""
from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

from effectmeting.errors import InputError, OptionError

V3_CATALOGS = ("opendata.cbs.nl", "dataderden.cbs.nl")
V4_CATALOGS = ("CBS", "CBS-asd")
#: v4 ``ValueAttribute`` -> the marker an untyped v3 dataset writes in the cell.
VALUE_ATTRIBUTES = {"Confidential": "x", "Missing": ".", "Impossible": ".", "NotApplicable": ".",
                    "Nil": "-", "Unknown": "?"}
#: Metadata fields kept per measure or dimension (v3 DataProperties and v4 MeasureCodes spell them differently).
META_FIELDS = {"Key": "key", "Identifier": "key", "Title": "title", "Unit": "unit", "Decimals": "decimals",
               "Type": "type", "Description": "description"}
_PAGE_LIMIT = 1000  # pages of a paged answer; a table larger than this is refused rather than read half


def query_urls(table_id: str, *, odata: int = 3, catalog: str | None = None, filters: str | None = None,
               select: list[str] | None = None) -> dict[str, Any]:
    """The data URL and the metadata URLs of a table; ``filters`` is an OData ``$filter`` expression
    (``"RegioS eq 'GM0363' and substringof('JJ', Perioden)"``), ``select`` a list of columns to download."""
    if odata not in (3, 4):
        raise OptionError(f"odata = {odata!r} is not 3 or 4 (StatLine's OData versions)")
    if odata == 3:
        catalog = catalog or V3_CATALOGS[0]
        if catalog not in V3_CATALOGS:
            raise OptionError(f"catalog {catalog!r} is not one of {list(V3_CATALOGS)} (OData v3)")
        base = f"https://{catalog}/ODataApi/odata/{table_id}"
        entity, meta = "UntypedDataSet", [f"{base}/DataProperties?$format=json"]
    else:
        catalog = catalog or V4_CATALOGS[0]
        if catalog not in V4_CATALOGS:
            raise OptionError(f"catalog {catalog!r} is not one of {list(V4_CATALOGS)} (OData v4)")
        base = f"https://odata4.cbs.nl/{catalog}/{table_id}"
        entity, meta = "Observations", [f"{base}/MeasureCodes", f"{base}/Dimensions"]
    query = {"$format": "json"} if odata == 3 else {}
    if filters:
        if not isinstance(filters, str):
            raise OptionError("filters must be one OData $filter expression (a string), e.g. \"RegioS eq 'GM0363'\"")
        query["$filter"] = filters
    if select:
        if odata == 4:
            raise OptionError("select is an OData v3 option; OData v4 observations are filtered by Measure "
                              "(filters=\"Measure eq 'M000352'\")")
        query["$select"] = ",".join(select)
    data = f"{base}/{entity}" + ("?" + urllib.parse.urlencode(query, safe="$',()") if query else "")
    return {"data": data, "metadata": meta, "base": base, "catalog": catalog}


class HttpJsonClient:
    """Reads JSON from StatLine with the standard library (no extra package needed)."""

    def get_json(self, url: str) -> dict[str, Any]:
        if not url.startswith("https://") or urllib.parse.urlparse(url).hostname not in (
                *V3_CATALOGS, "odata4.cbs.nl"):
            raise InputError(f"refusing to download {url!r}: not a StatLine OData address")
        with urllib.request.urlopen(url, timeout=120) as answer:  # noqa: S310 (https, CBS hosts only)
            return json.loads(answer.read().decode("utf-8"))


def download(client: Any, url: str) -> list[dict[str, Any]]:
    """All rows of a (paged) OData answer: ``value`` plus the pages behind ``odata.nextLink``."""
    rows: list[dict[str, Any]] = []
    for _page in range(_PAGE_LIMIT):
        answer = client.get_json(url)
        rows.extend(dict(row) for row in answer.get("value", []))
        url = answer.get("odata.nextLink") or answer.get("@odata.nextLink")
        if not url:
            return rows
    raise InputError(f"{url}: more than {_PAGE_LIMIT} pages; narrow the download with filters")


def metadata(client: Any, urls: list[str], odata: int) -> dict[str, Any]:
    """Units, decimals and labels of the measures and dimensions (kept in the cache and the run manifest)."""
    properties = download(client, urls[0])
    measures = [{META_FIELDS[k]: v for k, v in row.items() if k in META_FIELDS} for row in properties
                if odata == 4 or row.get("Type") in ("Topic", None)]
    dimensions = ([{"key": row.get("Key"), "title": row.get("Title"), "type": row.get("Type")} for row in properties
                   if str(row.get("Type", "")).endswith("Dimension")] if odata == 3 else
                  [{"key": row.get("Identifier"), "title": row.get("Title"), "type": row.get("Kind")}
                   for row in download(client, urls[1])])
    # Labels of the codes of every dimension but region and period (T001038 -> Totaal mannen en vrouwen), so a
    # declaration can be read back; regions and periods are many and speak for themselves.
    base = urls[0].rsplit("/", 1)[0]
    labels = {}
    for dimension in dimensions:
        key = str(dimension["key"])
        if str(dimension.get("type")) in ("GeoDimension", "TimeDimension") or not key:
            continue
        url = f"{base}/{key}?$format=json" if odata == 3 else f"{base}/{key}Codes"
        labels[key] = {str(row.get("Key" if odata == 3 else "Identifier", "")).strip(): row.get("Title")
                       for row in download(client, url)}
    return {"measures": measures, "dimensions": dimensions, "labels": labels}


def wide_rows(document: dict[str, Any]) -> tuple[list[dict[str, str]], tuple[str, ...]]:
    """Rows in the untyped v3 shape and the names of the measure columns.

    v3 rows are returned as they are (measures: ``()``, recognised by their ``_<n>`` keys).  v4 observations
    become one row per combination of dimensions, in order of first appearance, one column per measure code,
    with ``Value`` as text or the marker of its ``ValueAttribute``.
    """
    rows = document["rows"]
    if document.get("odata", 3) == 3:
        return [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows], ()
    wide: dict[tuple, dict[str, str]] = {}
    measures: list[str] = []
    for row in rows:
        dims = {k: str(v) for k, v in row.items() if k not in ("Id", "Measure", "ValueAttribute", "Value",
                                                               "StringValue")}
        key = tuple(dims.items())
        measure = str(row["Measure"])
        if measure not in measures:
            measures.append(measure)
        attribute = row.get("ValueAttribute") or "None"
        value = row.get("Value")
        text = (VALUE_ATTRIBUTES.get(attribute, ".") if attribute != "None" or value is None
                else format(value, "") if not isinstance(value, float) or not value.is_integer()
                else str(int(value)))
        wide.setdefault(key, dict(dims))[measure] = text
    return [{**row, **{m: row.get(m, ".") for m in measures}} for row in wide.values()], tuple(measures)
