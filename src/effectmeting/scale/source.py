"""Person-year sources: resolve a Parquet file, directory or glob (or take a DataFrame), check the
requested column names against the schema, and quote them for SQL.

Column names are the only user strings that ever reach SQL text, and only after two checks: the
name must be a column of the source's schema, and it is quoted as an identifier (embedded double
quotes doubled).  File paths and numbers travel as bound parameters.
"""
from __future__ import annotations

import glob as globbing
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from effectmeting.errors import InputError

_GLOB_CHARACTERS = set("*?[")


@dataclass(frozen=True)
class PersonYearSource:
    """A resolved source: either a DataFrame or a sorted list of Parquet files, plus its schema."""

    frame: pd.DataFrame | None
    files: tuple[str, ...]
    schema: pa.Schema
    label: str  # for error messages: the path, glob or "DataFrame"

    @property
    def is_frame(self) -> bool:
        return self.frame is not None


def resolve_source(source: str | Path | pd.DataFrame) -> PersonYearSource:
    """Resolve ``source`` into a DataFrame or a list of Parquet files with one shared schema.

    A directory means every ``*.parquet`` file below it (recursively, sorted by path); a string
    with ``*``, ``?`` or ``[`` is a glob.  Hive-style partition folders (``year=2020/``) are *not*
    read as columns: every file must hold all columns itself.
    """
    if isinstance(source, pd.DataFrame):
        try:
            schema = pa.Schema.from_pandas(source, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise InputError(f"the person-year DataFrame has a column Arrow cannot type ({error}).") from None
        return PersonYearSource(frame=source, files=(), schema=schema, label="DataFrame")
    if not isinstance(source, (str, Path)):
        raise InputError(f"source must be a Parquet path, directory, glob or pandas DataFrame, not {type(source).__name__}.")
    text = str(source)
    if _GLOB_CHARACTERS & set(text) and not Path(text).exists():
        files = sorted(globbing.glob(text, recursive=True))
    elif Path(text).is_dir():
        files = sorted(str(path) for path in Path(text).rglob("*.parquet"))
    elif Path(text).is_file():
        files = [text]
    else:
        raise InputError(f"{text} does not exist. Give a Parquet file, a directory of Parquet files or a glob.")
    if not files:
        raise InputError(f"{text} matches no Parquet files.")
    try:
        schema = ds.dataset(files, format="parquet").schema
    except (pa.ArrowInvalid, OSError) as error:
        raise InputError(f"{text} cannot be read as Parquet ({error}). Check that the files are complete.") from None
    return PersonYearSource(frame=None, files=tuple(files), schema=schema, label=text)


def check_columns(source: PersonYearSource, roles: dict[str, str | list[str] | None]) -> None:
    """Every named column exists in the schema, has a usable type, and no column has two roles.

    ``roles`` maps a role (``person``, ``municipality``, ``year``, ``indicators``, ``weights``) to
    a column name, a list of names (indicators) or None.
    """
    seen: dict[str, str] = {}
    names = set(source.schema.names)
    for role, value in roles.items():
        if value is None:
            continue
        for name in ([value] if isinstance(value, str) else list(value)):
            if not isinstance(name, str):
                raise InputError(f"{role}: column names must be strings, got {name!r}.")
            if name not in names:
                raise InputError(
                    f"{role} column {name!r} is not a column of {source.label}; its columns are "
                    f"{sorted(names)}. Column names are matched exactly and never interpreted.")
            if name in seen:
                raise InputError(f"column {name!r} is given both as {seen[name]} and as {role}; give each role its own column.")
            seen[name] = role
    kinds = {"year": pa.types.is_integer,
             "indicators": lambda t: pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t),
             "weights": lambda t: pa.types.is_integer(t) or pa.types.is_floating(t),
             "municipality": lambda t: pa.types.is_integer(t) or pa.types.is_string(t) or pa.types.is_large_string(t)}
    advice = {"year": "an integer column (e.g. 2021)", "indicators": "0/1 (integer, float or boolean) columns",
              "weights": "a numeric column", "municipality": "a string (e.g. 'GM0363') or integer code column"}
    for role, accepts in kinds.items():
        value = roles.get(role)
        for name in ([] if value is None else [value] if isinstance(value, str) else list(value)):
            field_type = source.schema.field(name).type
            if pa.types.is_dictionary(field_type):
                field_type = field_type.value_type
            if not accepts(field_type):
                raise InputError(f"{role} column {name!r} in {source.label} has type {field_type}; "
                                 f"it must be {advice[role]}. Convert it before aggregating.")


def quote_identifier(name: str) -> str:
    """SQL identifier quoting: wrap in double quotes, double any embedded double quote.

    Callers pass only names already checked against the schema (:func:`check_columns`).
    """
    if "\x00" in name:
        raise InputError(f"column name {name!r} contains a NUL character and cannot be used.")
    return '"' + name.replace('"', '""') + '"'


def read_columns(source: PersonYearSource, columns: list[str]) -> pd.DataFrame:
    """Only ``columns`` of the source, as a pandas DataFrame (Parquet read column-wise by pyarrow)."""
    if source.frame is not None:
        return source.frame.loc[:, columns]
    try:
        table = ds.dataset(list(source.files), format="parquet").to_table(columns=columns)
    except (pa.ArrowInvalid, OSError) as error:
        raise InputError(f"{source.label} cannot be read ({error}). Check that all files share one schema.") from None
    return table.to_pandas()
