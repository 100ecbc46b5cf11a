"""Table Schemas of the input tables and validation of read frames against them.

``load_schema(name)`` returns the Frictionless Table Schema (``data_schema/<name>.json``),
``field_properties(name)`` the unit and aggregation rule per field, and
``validate(frame, name)`` a typed copy of a frame or a :class:`SchemaValidationError` listing
every failing cell with file, row, field and value.
"""
from effectmeting.schema.loader import SCHEMA_NAMES, field_properties, load_schema, primary_key, schema_directory
from effectmeting.schema.validate import build_pandera_schema, validate

__all__ = [
    "SCHEMA_NAMES",
    "build_pandera_schema",
    "field_properties",
    "load_schema",
    "primary_key",
    "schema_directory",
    "validate",
]
