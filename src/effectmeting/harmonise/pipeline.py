"""From raw source files to a harmonised :class:`Panel`: read, normalise codes, validate, map, deflate, rates.

:func:`harmonise` glues the stages together; each stage lives in its own module:
reading (:func:`effectmeting.sources.readers.read_table`), municipality codes
(:mod:`.codes`), validation (:func:`effectmeting.schema.validate`), herindelingen (:mod:`.crosswalk`),
prices (:mod:`.prices`) and rates (:mod:`.rates`).  Every input row ends up in the audit log exactly
once (kept, merged, split, changed or set aside), so the audit counts add up to the input rows.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from effectmeting.errors import HarmonisationError, InputError
from effectmeting.progress import progress
from effectmeting.harmonise.audit import AuditLog
from effectmeting.harmonise.codes import normalise_municipality_code
from effectmeting.harmonise.crosswalk import to_reference_year
from effectmeting.harmonise.panel import Panel
from effectmeting.harmonise.plausibility import check_plausibility, denominators, note_implausible_rates
from effectmeting.harmonise.prices import deflate
from effectmeting.harmonise.rates import add_rates
from effectmeting.harmonise.transitions import check_transitions, load_transitions
from effectmeting.manifest import file_sha256
from effectmeting.sources.sources_toml import SourceSpec, read_sources_manifest, specs_from_entries

#: Panel rate -> (numerator count, denominator, scale).  Costs get ``cost_<taakveld>_per_inhabitant``
#: (taakveld with ``_`` for ``.``, e.g. ``cost_6_72_per_inhabitant``) in constant euros.
RATES: dict[str, tuple[str, str, float]] = {
    "jeugdhulp_per_1000_youth": ("youth_with_jeugdhulp", "population_0_17", 1000.0),
    "jeugdhulp_verblijf_per_1000_youth": ("youth_with_jeugdhulp_verblijf", "population_0_17", 1000.0),
    "jeugdbescherming_per_1000_youth": ("youth_with_jeugdbescherming", "population_0_17", 1000.0),
    "jeugdreclassering_per_1000_youth": ("youth_with_jeugdreclassering", "population_0_17", 1000.0),
    "wmo_per_1000_adults": ("adults_with_wmo", "population_18_plus", 1000.0),
    "bijstand_per_1000_adults": ("bijstand_recipients", "population_18_plus", 1000.0),
}
#: Municipality tables merged into the wide panel, in this order (designs stay long).
WIDE_TABLES = ("population", "outcomes", "costs", "covariates")
KEY = ["municipality", "year"]


def cost_column(taakveld: str) -> str:
    """Panel column of a taakveld's euros: ``6.72`` -> ``cost_6_72`` (no dots, formula-safe)."""
    return "cost_" + str(taakveld).replace(".", "_")


def harmonise(
    sources: str | Path | list[dict],
    *,
    reference_year: int = 2023,
    price_base_year: int = 2023,
    design_rule: str = "largest_population",
    boundary: str = "ignore",
) -> Panel:
    """Build a harmonised panel on the municipalities of ``reference_year`` from a sources manifest.

    ``sources``: path of a ``sources.toml`` (see :mod:`effectmeting.sources.sources_toml`) or a list
    of its ``[[source]]`` entries as dicts (paths relative to the working directory).
    A ``population`` source is required (it carries the denominators and the weights for means
    and design rules); a ``price_index`` source is required when there are costs.

    Output columns (``Panel.data``): counts summed over predecessors (persons), ``cost_<taakveld>``
    in constant euros of ``price_base_year``, covariates as population-weighted means, and rates
    recomputed from summed counts: ``<outcome>_per_1000_youth`` (per 1,000 residents aged 0-17),
    ``..._per_1000_adults`` (18+), ``cost_<taakveld>_per_inhabitant`` (constant euros).
    ``design_rule`` combines design values of merging municipalities; ``boundary`` is passed to
    :func:`~effectmeting.harmonise.crosswalk.to_reference_year`.
    """
    specs = (read_sources_manifest(sources) if isinstance(sources, (str, Path))
             else specs_from_entries(list(sources), base=Path.cwd(), where="sources"))
    audit = AuditLog()
    frames: dict[str, list[tuple[SourceSpec, pd.DataFrame]]] = {}
    provenance = []
    # Percentages declared against the population table need it read first; otherwise the manifest's order.
    needs_population = any(p.from_population for spec in specs for p in spec.statline.percentages)
    order = sorted(specs, key=lambda spec: spec.table != "population") if needs_population else specs
    read: dict[str, tuple[pd.DataFrame, int]] = {}
    for spec in progress(order, desc="reading sources", unit="file"):
        population = (pd.concat([read[s.name][0] for s in order if s.table == "population" and s.name in read],
                                ignore_index=True) if needs_population and spec.table != "population" else None)
        read[spec.name] = read_source(spec, audit, population=population)
    for spec in specs:
        frame, rows = read[spec.name]
        frames.setdefault(spec.table, []).append((spec, frame))
        entry = {"name": spec.name, "path": str(spec.path), "table": spec.table, "format": spec.format,
                 "sha256": file_sha256(spec.path), "rows": rows}
        if frame.attrs.get("statline") or not spec.statline.empty:
            # Table metadata (units, decimals, labels) and the declaration travel to the run manifest.
            entry["statline"] = {**(frame.attrs.get("statline") or {}), "declaration": spec.statline.describe()}
        provenance.append(entry)
    if "population" not in frames:
        raise InputError("sources: a 'population' source is required (denominators of rates, weights of means)")
    if "municipalities" in frames:
        raise InputError("sources: a 'municipalities' table cannot be a source yet; the bundled register is used")

    # Plausibility (a count above its population) on the rows as read, so a violation names its row.
    population_rows = denominators(frames["population"])
    for spec, frame in (item for items in frames.values() for item in items):
        check_plausibility(spec, frame, population_rows, audit, mode=spec.plausibility)
    transitions = _transitions(frames.pop("transitions", []), audit)
    population_raw = pd.concat([f for _, f in frames["population"]], ignore_index=True)
    options = dict(reference_year=reference_year, transitions=transitions, design_rule=design_rule,
                   boundary=boundary, audit=audit, population=population_raw)
    mapped: dict[str, list[pd.DataFrame]] = {}
    to_map = [(table, spec, frame) for table, items in frames.items() if table != "price_index"
              for spec, frame in items]
    for table, spec, frame in progress(to_map, desc="mapping to the reference year", unit="source"):
        try:
            mapped.setdefault(table, []).append(to_reference_year(frame, table=table, source=spec.name, **options))
        except HarmonisationError as error:  # name the file, not only the source label
            detail = str(error).removeprefix(f"{spec.name}: ")
            raise HarmonisationError(f"{spec.path} (source {spec.name!r}): {detail}") from None

    data = _wide(mapped)
    cost_columns = [c for c in data.columns if c.startswith("cost_")]
    price_index = _price_index(frames.get("price_index", []), audit, required=bool(cost_columns))
    if cost_columns:
        data = deflate(data, cost_columns, price_index, price_base_year, audit=audit)
    specs_rates = {name: spec for name, spec in RATES.items() if spec[0] in data.columns and spec[1] in data.columns}
    specs_rates.update({f"{c}_per_inhabitant": (c, "population_total", 1.0) for c in cost_columns
                        if "population_total" in data.columns})
    data = add_rates(data, specs_rates, audit=audit)
    note_implausible_rates(data, specs_rates, audit)
    _check_audit_complete(audit, provenance)
    designs = (pd.concat(mapped["designs"], ignore_index=True)[["municipality", "year", "dimension", "value"]]
               if "designs" in mapped else None)
    panel = Panel(data=data, **({"designs": designs} if designs is not None else {}),
                  variables=_variables(data, specs_rates, price_base_year, provenance),
                  reference_year=reference_year, price_base_year=price_base_year if cost_columns else None,
                  sources=provenance, audit=audit)
    return panel


def read_source(spec: SourceSpec, audit: AuditLog | None = None,
                population: pd.DataFrame | None = None) -> tuple[pd.DataFrame, int]:
    """Read one source, rename its columns, normalise municipality codes and validate it.

    Returns the validated frame (``attrs["set_aside"]`` keeps the rows the reader set aside) and
    the number of input rows (kept + set aside).  Columns that are not schema fields are dropped
    with a note in ``audit``; code rewrites (``363`` -> ``GM0363``) are noted too.
    ``population``: the population rows read so far (denominators of percentages declared as
    ``"population:<field>"``).
    Raises :class:`InputError`, :class:`HarmonisationError` (unknown codes, all listed) or
    :class:`SchemaValidationError` (every failing cell listed).
    """
    audit = audit if audit is not None else AuditLog()
    from effectmeting.schema import load_schema, validate  # the schema stage precedes harmonisation
    from effectmeting.sources.cbs import set_aside_regions
    from effectmeting.sources.statline_dimensions import population_percentages
    from effectmeting.sources.readers import read_table

    fields = [f["name"] for f in load_schema(spec.table)["fields"]]
    # Only the schema's columns are parsed as numbers (a wide file reads in linear time); a StatLine
    # declaration may name more (measures, percentage columns), so it gets every column parsed.
    frame = read_table(spec.path, format=spec.format, columns=spec.columns or None,
                       fields=[*fields, spec.code_column] if spec.statline.empty else None,
                       statline=None if spec.statline.empty else spec.statline)
    # Country, province, wijk and buurt rows are set aside in every reader, with an audit row each.
    frame = set_aside_regions(frame, spec.code_column)
    set_aside = frame.attrs.get("set_aside")
    n_set_aside = len(set_aside) if isinstance(set_aside, pd.DataFrame) else 0
    folded = frame.attrs.get("folded")
    n_folded = len(folded) if isinstance(folded, pd.DataFrame) else 0
    statline = frame.attrs.get("statline") or (
        {"title": frame.attrs["title_lines"]} if frame.attrs.get("title_lines") else None)
    empty_rows = list(frame.attrs.get("empty_rows", []))
    if len(frame) == 0 and n_set_aside == 0:
        # A listed source without data is almost surely a truncated export or the wrong file;
        # harmonising without it would silently lose a whole table.
        raise InputError(
            f"{spec.path}: source {spec.name!r} has a header but no data rows"
            + (f" (only {len(empty_rows)} empty line(s))" if empty_rows else "")
            + ". Check that the export is complete, or remove this [[source]] from the sources manifest.")
    if empty_rows:
        # Lines whose cells are all blank carry no data; they are accounted for, not silently lost.
        audit.record(source=spec.name, source_row=empty_rows, municipality=None, year=None, action="dropped",
                     reason="empty row: every cell is blank")
    if n_folded:
        # Rows summed into another row (declared dimension values): one fate each, pointing at that row.
        year_of = dict(zip(frame["source_row"], frame["year"])) if "year" in frame else {}
        audit.record(source=spec.name, source_row=folded["source_row"].to_numpy(),
                     municipality=folded["region"].astype("string").str.strip().to_numpy(),
                     year=[year_of.get(r) for r in folded["into_row"]], action="merged",
                     municipality_to=folded["region"].astype("string").str.strip().to_numpy(),
                     reason=("read into row " + folded["into_row"].astype(str) + ": " + folded["reason"]).to_numpy())
    _note_statline_layout(frame, spec, audit)
    rows = len(frame) + n_set_aside + len(empty_rows) + n_folded
    converted_later = {p.column for p in spec.statline.percentages if p.from_population}
    extra = [c for c in frame.columns if c not in fields and c not in ("source_row", spec.code_column)
             and not c.endswith("__marker") and c not in converted_later]
    if extra:
        audit.note(stage="read", source=spec.name, variable=extra,
                   detail=[f"column {c!r} of {spec.path.name} is not a field of schema {spec.table!r}; not used"
                           for c in extra])
    if spec.code_column != "municipality" and spec.code_column in frame.columns:
        frame = frame.rename(columns={spec.code_column: "municipality"})
    if "municipality" in frame.columns:
        original = frame["municipality"]
        codes = normalise_municipality_code(original, source_file=str(spec.path), rows=frame["source_row"])
        first = ~original.duplicated()  # one row per distinct value as written suffices, in row order
        changed = pd.DataFrame({"from": original[first].astype("string").str.strip(), "to": codes[first]})
        changed = changed[changed["from"] != changed["to"]].drop_duplicates()
        if len(changed):
            audit.note(stage="codes", source=spec.name, municipality=changed["to"].tolist(),
                       detail=("municipality " + changed["from"].map(repr) + " read as " + changed["to"]).tolist())
        frame = frame.assign(municipality=codes.astype("object"))
    if any(p.from_population for p in spec.statline.percentages):
        frame = population_percentages(frame, spec.statline, population, spec.path)
    _note_percentages(frame, spec, audit)
    # Unused columns are dropped only after validation, so that a missing-column message can list
    # every column the file has (e.g. one column named 'a|b|c' when the separator is wrong).
    validated = validate(frame, spec.table, source_file=str(spec.path)).drop(columns=extra)
    _note_nil_markers(validated, spec, fields, audit)
    validated.attrs = {"source_file": spec.name, "set_aside": set_aside,
                       **({"statline": statline} if statline else {})}
    return validated, rows


def _note_statline_layout(frame: pd.DataFrame, spec: SourceSpec, audit: AuditLog) -> None:
    """Title and footer lines of a web-portal export: audit notes (they are not rows of the table)."""
    title, footer = frame.attrs.get("title_lines") or [], frame.attrs.get("footer_lines") or []
    if title or footer:
        audit.note(stage="read", source=spec.name, variable=None,
                   detail=[f"title line of the web-portal export, not data: {t[:120]!r}" for t in title]
                   + [f"footer line of the web-portal export, not data: {f[:120]!r}" for f in footer])


def _note_percentages(frame: pd.DataFrame, spec: SourceSpec, audit: AuditLog) -> None:
    for note in frame.attrs.get("percentages") or []:
        audit.note(stage="read", source=spec.name, variable=note.split(" = ", 1)[0], detail=note)


def _note_nil_markers(frame: pd.DataFrame, spec: SourceSpec, fields: list[str], audit: AuditLog) -> None:
    """One audit event per StatLine cell marked ``-`` (nil) that was read as 0."""
    for field in fields:
        marker = frame.get(f"{field}__marker")
        if marker is None or frame.attrs.get("format") != "cbs_statline":
            continue
        nil = marker.eq("nil").fillna(False).to_numpy(dtype=bool)
        if nil.any():
            rows = frame.loc[nil]
            audit.note(stage="read", source=spec.name, variable=field,
                       municipality=rows["municipality"].astype("string").tolist() if "municipality" in rows else None,
                       year=rows["year"].tolist() if "year" in rows else None,
                       detail=[f"row {r}: CBS marker '-' (nil) read as 0; kept in {field}__marker"
                               for r in rows["source_row"]])


def _check_audit_complete(audit: AuditLog, provenance: list[dict]) -> None:
    """Every input row of every source has exactly one fate in the audit log (the counts add up)."""
    short = [f"{p['name']}: {audit.rows_recorded(p['name'])} of {p['rows']} rows" for p in provenance
             if audit.rows_recorded(p["name"]) != p["rows"]]
    if short:
        raise HarmonisationError(
            "audit log incomplete (a bug in effectmeting, please report it with the sources): "
            + "; ".join(short) + ". No output was written.")


def _transitions(items: list[tuple[SourceSpec, pd.DataFrame]], audit: AuditLog) -> pd.DataFrame | None:
    """Bundled transitions plus those supplied as sources (e.g. herindelingen before 2017)."""
    if not items:
        return None
    bundled = load_transitions(audit=audit)
    extra = []
    for spec, frame in items:
        frame = frame.assign(effective=pd.to_datetime(frame["effective"]))
        check_transitions(frame, f"{spec.path} (source {spec.name!r}, table 'transitions')")
        clash = frame.merge(bundled, on=["effective", "old_code"])
        if len(clash):
            raise HarmonisationError(
                f"{spec.path}: transitions {sorted(set(clash['old_code']))} on {clash['effective'].iloc[0].date()} are "
                "already in the bundled table; supply only herindelingen it lacks")
        audit.record(source=spec.name, source_row=frame["source_row"].to_numpy(), municipality=frame["old_code"],
                     year=(frame["effective"].dt.year - 1).to_numpy(), action="kept",
                     municipality_to=frame["new_code"], weight=frame["weight"].to_numpy(dtype=float),
                     reason="herindeling added to the bundled transitions")
        extra.append(frame[["effective", "old_code", "new_code", "weight", "kind"]])
    return pd.concat([bundled[["effective", "old_code", "new_code", "weight", "kind"]], *extra], ignore_index=True)


def _price_index(items: list[tuple[SourceSpec, pd.DataFrame]], audit: AuditLog,
                 *, required: bool) -> pd.DataFrame | None:
    """The price index (its rows recorded as kept); exactly one source, required when there are costs."""
    if not items and not required:
        return None
    if len(items) != 1:
        raise InputError(f"sources: costs need exactly one 'price_index' source to deflate euros; found {len(items)}")
    spec, frame = items[0]
    audit.record(source=spec.name, source_row=frame["source_row"].to_numpy(), municipality=None,
                 year=frame["year"].to_numpy(), action="kept", reason="price index used for deflation")
    return frame[["year", "index"]]


def _wide(mapped: dict[str, list[pd.DataFrame]]) -> pd.DataFrame:
    """One row per municipality-year: population, outcomes, costs (one column per taakveld), covariates."""
    data = None
    for table in WIDE_TABLES:
        if table not in mapped:
            continue
        frame = pd.concat(mapped[table], ignore_index=True)
        frame.attrs = {}
        if table == "costs":
            frame = frame.assign(taakveld=frame["taakveld"].map(cost_column)).pivot(
                index=KEY, columns="taakveld", values="euros").reset_index()
            frame.columns.name = None
        duplicated = frame.duplicated(KEY)
        if duplicated.any():
            first = frame.loc[duplicated, KEY].iloc[0]
            raise HarmonisationError(
                f"{table}: two sources give {first['municipality']} {first['year']}; combine them into one source")
        data = frame if data is None else data.merge(frame, on=KEY, how="outer")
    if data is None:
        raise InputError("sources: no municipality tables (population, outcomes, costs, covariates) to harmonise")
    return data.sort_values(KEY, ignore_index=True)


def _variables(data: pd.DataFrame, rates: dict, price_base_year: int, provenance: list[dict]) -> pd.DataFrame:
    """Metadata of every panel column: name, unit, source, description."""
    from effectmeting.schema import field_properties

    rows = []
    by_table = {p["table"]: p["name"] for p in provenance}
    described = {}
    for table in ("population", "outcomes", "covariates"):
        if table in by_table:
            props = field_properties(table)
            for _, field in props.iterrows():
                described[field["name"]] = (field["unit"], by_table[table], field["description"])
    columns = list(data.columns) + (["size_class"] if "population_total" in data.columns else [])
    for column in columns:
        if column in KEY:
            continue
        if column in described:
            unit, source, description = described[column]
        elif column in rates:
            numerator, denominator, scale = rates[column]
            unit = (f"constant euros of {price_base_year} per inhabitant per year" if scale == 1.0
                    else f"per {scale:,.0f} {denominator}")
            source, description = "derived", f"{numerator} / {denominator} x {scale:g}, after harmonisation"
        elif column.startswith("cost_"):
            unit, source = f"constant euros of {price_base_year}", by_table.get("costs", "")
            description = f"lasten taakveld {column[5:].replace('_', '.')}, deflated to {price_base_year} prices"
        elif column == "size_class":
            unit, source, description = "class", "derived", "size class from population_total"
        else:
            unit, source, description = "", "", ""
        rows.append({"name": column, "unit": unit, "source": source, "description": description})
    return pd.DataFrame(rows, columns=["name", "unit", "source", "description"])
