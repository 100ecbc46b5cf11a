"""Load the Frictionless Table Schemas that describe every input table.

The JSON files live once, in the package (``effectmeting/reference/schemas/``) so that an
installed package finds them; ``data_schema/`` at the top of the repository is a link to that
folder (documentation of the data next to the code).
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pandas as pd

from effectmeting.errors import InputError
from effectmeting.reference import schema_directory as reference_schema_directory

#: Tables with a bundled schema, in data-flow order.
SCHEMA_NAMES: tuple[str, ...] = (
    "municipalities",
    "transitions",
    "designs",
    "outcomes",
    "costs",
    "population",
    "covariates",
    "price_index",
)

#: Missing-value markers used when a schema does not declare ``missingValues``.
DEFAULT_MISSING_VALUES: tuple[str, ...] = ("",)


def schema_directory() -> Path:
    """Directory of the bundled schema JSON files (inside the installed package)."""
    return reference_schema_directory()


@cache
def _load_bundled(name: str) -> str:
    path = schema_directory() / f"{name}.json"
    if not path.is_file():
        raise InputError(
            f"No schema file for table {name!r} at {path}. The package installation looks "
            "incomplete: reinstall effectmeting (pip install --force-reinstall effectmeting)."
        )
    return path.read_text(encoding="utf-8")


def load_schema(name: str | Path) -> dict:
    """Return a Table Schema as a dict.

    ``name`` is a bundled table name (``"costs"``, see :data:`SCHEMA_NAMES`) or the path of a
    user's own Table Schema JSON file (ending in ``.json``).  The dict is a fresh copy; changing
    it does not change later calls.
    """
    text: str
    source: str
    if isinstance(name, Path) or str(name).endswith(".json"):
        path = Path(name)
        if not path.is_file():
            raise InputError(
                f"Schema file {path} does not exist. Give the path of a Table Schema JSON file "
                f"or one of the bundled table names: {', '.join(SCHEMA_NAMES)}."
            )
        text, source = path.read_text(encoding="utf-8"), str(path)
    else:
        if name not in SCHEMA_NAMES:
            raise InputError(
                f"Unknown schema {name!r}. Use one of the bundled table names "
                f"({', '.join(SCHEMA_NAMES)}) or the path of a Table Schema JSON file."
            )
        text, source = _load_bundled(str(name)), f"{name}.json"
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"Schema file {source} is not valid JSON (line {error.lineno}, column "
            f"{error.colno}: {error.msg}). Fix the JSON syntax."
        ) from None
    if not isinstance(schema.get("fields"), list) or not schema["fields"]:
        raise InputError(f"Schema {source} has no 'fields' list. Add one entry per column.")
    return schema


def field_properties(name: str | Path) -> pd.DataFrame:
    """One row per field of a schema with the properties harmonisation needs.

    Columns: ``name, type, unit, aggregation, weight, required, description``.  ``aggregation``
    says how a value combines when municipalities merge or split (``key``, ``sum``,
    ``weighted_mean`` with ``weight`` naming the weighting field, ``design``, ``none``).
    """
    schema = load_schema(name)
    rows = [
        {
            "name": field["name"],
            "type": field.get("type", "string"),
            "unit": field.get("unit"),
            "aggregation": field.get("aggregation", "none"),
            "weight": field.get("weight"),
            "required": bool(field.get("constraints", {}).get("required", False))
            or field["name"] in primary_key(schema),
            "description": field.get("description", ""),
        }
        for field in schema["fields"]
    ]
    return pd.DataFrame(rows, columns=["name", "type", "unit", "aggregation", "weight", "required", "description"])


def primary_key(schema: dict) -> list[str]:
    """The schema's primary key as a list of field names (empty if none is declared)."""
    key = schema.get("primaryKey", [])
    return [key] if isinstance(key, str) else list(key)
