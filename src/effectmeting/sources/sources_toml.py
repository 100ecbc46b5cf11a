"""The sources manifest (``sources.toml``): which files feed a panel, how to read them.

One ``[[source]]`` table per file::

    [[source]]
    name = "outcomes"              # unique label used in the audit log and the Panel's provenance
    path = "outcomes_nl.csv"       # relative to the manifest's directory
    table = "outcomes"             # schema name (data_schema/<table>.json)
    format = "csv_nl"              # auto | csv | csv_nl | parquet | cbs_statline
    description = "..."            # optional
    code_column = "municipality"   # optional; the column (after renaming) holding municipality codes
    plausibility = "error"         # optional; "warn" keeps values the schema declares implausible
                                   # (a count above its population) with a warning and an audit note
    [source.columns]               # optional rename map: source column -> schema field
    "Gemeentecode" = "municipality"

A StatLine table (``cbs_statline``, ``statline_json``) also declares its extra dimensions, a fixed
year, the measures to read and its percentages (``year``, ``measures``, ``[source.dimensions]``,
``[source.percentages.<column>]``; see :mod:`effectmeting.sources.statline_declaration` and
``docs/statline.md``).

Tables ``transitions`` (extra herindelingen, added to the bundled 2017-2023 table) and
``price_index`` (exactly one) are settings rather than municipality data.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from effectmeting.errors import InputError, not_a_file
from effectmeting.sources.statline_declaration import StatlineDeclaration, parse_declaration

FORMATS = ("auto", "csv", "csv_nl", "parquet", "cbs_statline", "statline_json")
TABLES = ("municipalities", "transitions", "designs", "outcomes", "costs", "population", "covariates", "price_index")
KEYS = {"name", "path", "table", "format", "description", "code_column", "columns", "plausibility",
        "year", "measures", "dimensions", "percentages"}
#: Values of ``plausibility``: refuse implausible values (default) or keep them with a warning.
PLAUSIBILITY = ("error", "warn")


@dataclass(frozen=True)
class SourceSpec:
    """One source file: ``name``, absolute ``path``, schema ``table``, reader ``format``, rename map,
    ``plausibility`` (``"error"``: refuse values the schema declares implausible; ``"warn"``: keep them)."""

    name: str
    path: Path
    table: str
    format: str = "auto"
    columns: dict[str, str] = field(default_factory=dict)
    code_column: str = "municipality"
    description: str = ""
    plausibility: str = "error"
    statline: StatlineDeclaration = field(default_factory=StatlineDeclaration)


def read_sources_manifest(path: str | Path) -> list[SourceSpec]:
    """Parse ``sources.toml`` into :class:`SourceSpec` objects (paths resolved against its directory).

    Raises :class:`InputError` naming the file, the source and the key for a missing file, an
    unknown key, table or format, or a repeated name.
    """
    path = Path(path)
    if not path.is_file():
        what = not_a_file(path)
        raise InputError(f"sources manifest {path} {what}; pass an existing sources.toml (or use --demo)")
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}); TOML files must be UTF-8. "
                         "Save the file as UTF-8 (e.g. from a Latin-1/Windows-1252 editor) and run again.") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc}); fix the syntax at that line (strings need quotes, "
                         "each file a [[source]] table).") from None
    entries = document.get("source")
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{path}: no [[source]] tables found; list every input file as a [[source]] table")
    return specs_from_entries(entries, base=path.parent, where=str(path))


def specs_from_entries(entries: list[dict], *, base: Path, where: str) -> list[SourceSpec]:
    """Check manifest entries (dicts) and turn them into :class:`SourceSpec` objects."""
    specs, seen = [], set()
    for number, entry in enumerate(entries, start=1):
        label = f"{where}, source #{number}"
        if not isinstance(entry, dict):
            raise InputError(f"{label}: expected a table with name, path, table, format")
        unknown = sorted(set(entry) - KEYS)
        if unknown:
            raise InputError(f"{label}: unknown key(s) {unknown}; allowed: {sorted(KEYS)}")
        missing = [k for k in ("name", "path", "table") if k not in entry]
        if missing:
            raise InputError(f"{label}: missing key(s) {missing}")
        wrong = [k for k in ("name", "path", "table", "format", "description", "code_column", "plausibility")
                 if k in entry and not isinstance(entry[k], str)]
        if wrong:
            raise InputError(f"{label}: {wrong[0]} = {entry[wrong[0]]!r} is not a string; write it in quotes, "
                             f'e.g. {wrong[0]} = "..."')
        name = str(entry["name"])
        if name in seen:
            raise InputError(f"{label}: source name {name!r} is used twice; names must be unique")
        seen.add(name)
        if entry["table"] not in TABLES:
            raise InputError(f"{label} ({name}): table {entry['table']!r} is not one of {list(TABLES)}")
        fmt = entry.get("format", "auto")
        if fmt not in FORMATS:
            raise InputError(f"{label} ({name}): format {fmt!r} is not one of {list(FORMATS)}")
        plausibility = entry.get("plausibility", "error")
        if plausibility not in PLAUSIBILITY:
            raise InputError(f"{label} ({name}): plausibility {plausibility!r} is not one of {list(PLAUSIBILITY)}")
        columns = entry.get("columns", {})
        if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
            raise InputError(f"{label} ({name}): columns must map source column names to schema field names")
        file = Path(entry["path"])
        file = file if file.is_absolute() else base / file
        if not file.is_file():
            what = not_a_file(file)
            raise InputError(f"{label} ({name}): file {file} {what}; check the path (relative to {base})")
        statline = parse_declaration(entry, f"{label} ({name})")
        if not statline.empty and fmt not in ("auto", "cbs_statline", "statline_json"):
            raise InputError(f"{label} ({name}): year, measures, dimensions and percentages describe a StatLine "
                             f"table; format {fmt!r} is not one (use \"cbs_statline\" or \"statline_json\")")
        specs.append(SourceSpec(name=name, path=file, table=entry["table"], format=fmt, columns=dict(columns),
                                code_column=str(entry.get("code_column", "municipality")),
                                description=str(entry.get("description", "")), plausibility=plausibility,
                                statline=statline))
    return specs
