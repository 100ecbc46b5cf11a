"""Read source tables (CSV in Dutch or plain notation, Parquet, CBS StatLine exports).

Every frame returned by :func:`read_table` carries ``source_row`` (the line number in a text
file, header = line 1, so the first data row is 2, counting any leading ``#`` comment lines; row
position + 1 for Parquet) and
``frame.attrs["source_file"]``, so that validation and the audit log can point at the line a
value came from.  Readers keep codes as they come (normalisation is harmonisation's job) and
keep a cell that is not a number in a numeric column as text, for the validator to report.
"""
from __future__ import annotations

import codecs

import csv
import io
from collections import Counter
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from effectmeting.errors import InputError, not_a_file
from effectmeting.sources.cbs import is_statline_header, parse_statline, portal_layout, read_statline_document
from effectmeting.sources.statline_declaration import StatlineDeclaration
from effectmeting.schema.numbers import convert_column, looks_dot_decimal

FORMATS = ("auto", "csv", "csv_nl", "parquet", "cbs_statline", "statline_json")
_PARQUET_MAGIC = b"PAR1"
#: Most columns a text source may have: a limit so that no file can exhaust memory in the reader
#: (a million-column file took 8.6 GB before being killed); far above any published table.
MAX_COLUMNS = 20_000
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_UTF8_BOM = b"\xef\xbb\xbf"


def read_table(
    path: str | Path, *, format: str = "auto", columns: dict[str, str] | None = None,
    fields: Collection[str] | None = None,
    statline: StatlineDeclaration | None = None,
) -> pd.DataFrame:
    """Read one source table.

    ``format``:

    - ``"csv"``: comma separated, decimal point;
    - ``"csv_nl"``: Dutch CSV: ``;`` separated, decimal comma, thousands dot (``1.234.567,89``);
    - ``"cbs_statline"``: a CBS StatLine export (``ID;RegioS;Perioden;...``; ``;`` or ``,``
      separated; Dutch or English names, ``Regions;Periods``; a web-portal export with title lines
      above the header and source lines below the data), see
      :func:`effectmeting.sources.cbs.parse_statline`;
    - ``"statline_json"``: a table cached by :func:`effectmeting.sources.cbs.fetch_statline`
      (OData v3 or v4; its metadata in ``frame.attrs["statline"]``);
    - ``"parquet"``: read with pyarrow;
    - ``"auto"``: Parquet by its magic bytes; otherwise a StatLine export if the header has
      ``Perioden`` and a region column; otherwise the separator of the header line decides
      (``;`` = Dutch notation unless the numbers clearly use a decimal point and no comma).

    Text files are decoded as UTF-8 (with or without BOM), else cp1252, else Latin-1; the
    encoding used is in ``frame.attrs["encoding"]`` and the number notation in
    ``frame.attrs["decimal"]``.  ``columns`` renames source columns to schema names
    (``{"Gemeentecode": "municipality"}``).  ``statline``: the declaration of a StatLine table's
    extra dimensions, fixed year and percentages (:mod:`effectmeting.sources.statline_declaration`).
    Rows that are entirely empty are removed and their
    line numbers listed in ``frame.attrs["empty_rows"]``.

    A text file may start with a block of comment lines beginning with ``#`` (e.g. ``# source:
    ...`` provenance lines, as in the bundled register files); they are skipped, the header is
    the first line after them (``frame.attrs["header_line"]``) and ``source_row`` still counts
    physical lines.  ``#`` lines after the header are data, not comments.

    ``fields``: the names (after ``columns``) the caller will use; other columns of a text file are
    kept as text instead of being parsed as numbers, so a file with thousands of unused columns
    reads in time linear in its size.  Limits: at most :data:`MAX_COLUMNS` columns (refused beyond,
    before anything is parsed).
    """
    path = Path(path)
    if format not in FORMATS:
        raise InputError(f"Unknown format {format!r} for {path}. Use one of: {', '.join(FORMATS)}.")
    if not path.is_file():
        where = not_a_file(path, "does not exist")
        advice = ("Check the path (paths in a sources manifest are relative to the manifest's folder) or create "
                  "the file." if where == "does not exist" or path.is_dir() else "")
        raise InputError(f"Source file {path} {where}. {advice}".rstrip())
    if format == "statline_json":
        frame = read_statline_document(path, statline)
        return _rename(frame, columns or {}, path)
    raw = path.read_bytes()
    if format == "parquet" or (format == "auto" and raw[:4] == _PARQUET_MAGIC):
        frame = _read_parquet(path, raw)
    else:
        if b"\x00" in raw[:65536] and not raw.startswith(_UTF16_BOMS):
            # NUL bytes never occur in a text table: an Excel workbook, a zip, a broken download...
            raise InputError(
                f"{path} is not a text table: it contains NUL bytes (binary data, e.g. an Excel workbook or "
                "a damaged file). Export it as CSV (UTF-8) or Parquet, or correct its format in the sources "
                "manifest.")
        text, encoding = decode_text(raw, path)
        wanted = None if fields is None else (set(fields) | {source for source, target in (columns or {}).items()
                                                            if target in fields})
        frame = _read_text(text, format, path, wanted, statline)
        frame.attrs["encoding"] = encoding
    frame.attrs["source_file"] = str(path)
    return _rename(frame, columns or {}, path)


def decode_text(raw: bytes, path: Path | str = "file") -> tuple[str, str]:
    """Decode file bytes: UTF-8 or UTF-16 with a byte-order mark (Excel's "Unicode text" export is
    UTF-16), then UTF-8, cp1252 (Windows Latin-1), Latin-1, in that order.

    UTF-8 is tried first because a cp1252 decode never fails on UTF-8 bytes but would turn
    ``â`` into ``Ã¢``; a file that is not valid UTF-8 is almost surely single-byte Latin.  A file
    whose byte-order mark promises an encoding its bytes break is damaged: refused with the line
    of the first bad byte (raises :class:`InputError`), never guessed.
    """
    for bom, encoding in ((_UTF8_BOM, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(encoding), encoding
            except UnicodeDecodeError as error:
                line = raw[: error.start].count(b"\n") + 1 if encoding == "utf-8-sig" else None
                where = f"line {line}, " if line else ""
                raise InputError(
                    f"{path}: starts with a {encoding.upper().removesuffix('-SIG')} byte-order mark, but its "
                    f"bytes at {where}byte {error.start} ({raw[error.start:error.start + 4]!r}) are not "
                    f"{encoding.upper().removesuffix('-SIG')}: the file is damaged or mixes encodings. "
                    "Download or export it again (CSV UTF-8).") from None
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "latin-1"


def _header_separator(text: str) -> str:
    header = text.split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in (";", ",", "\t")}
    return max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","


def _strip_comment_block(text: str, path: Path) -> tuple[str, int]:
    """Remove leading ``#`` comment lines; return the rest and the number of lines removed.

    Raises :class:`InputError` naming the file and its first line when no header line follows.
    """
    start, skipped = 0, 0
    while start < len(text):  # only the leading block: stops at the first line not starting with '#'
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        if not text[start:end].lstrip(" \t").startswith("#"):
            break
        start, skipped = end + 1, skipped + 1
    rest = text[start:]
    header = rest.split("\n", 1)[0].strip()
    if not header:
        first = text.split("\n", 1)[0].strip()
        after = f" after {skipped} '#' comment line(s)" if skipped else ""
        raise InputError(
            f"{path}: no header line found{after}; the first line reads {first[:120]!r}. A table needs a header "
            "line with the column names (a leading block of lines starting with '#' is allowed before it).")
    return rest, skipped


def _read_text(text: str, format: str, path: Path, wanted: set[str] | None = None,
               statline: StatlineDeclaration | None = None) -> pd.DataFrame:
    if "\r" in text and "\n" not in text:
        # Old Mac OS line endings (a lone "\r" ends each line): the csv module refuses them and the
        # line counts below count "\n", so read them as ordinary lines; nothing else changes.
        text = text.replace("\r", "\n")
    text, skipped = _strip_comment_block(text, path)
    separator = {"csv": ",", "csv_nl": ";"}.get(format) or _header_separator(text)
    title: list[str] = []
    footer: list[str] = []
    fixed_year = statline is not None and statline.year is not None
    layout = portal_layout(text, need_period=not fixed_year) if format in ("auto", "cbs_statline") else None
    if layout is not None:
        # A StatLine header (maybe below title lines of a web-portal export): its separator, ';' or ','.
        text, title, footer, separator = layout
        skipped += len(title)
    elif format == "cbs_statline":
        separator = ";"
    n_columns = text.split("\n", 1)[0].count(separator) + 1
    if n_columns > MAX_COLUMNS:
        raise InputError(
            f"{path}: the header (line {skipped + 1}) has {n_columns:,} columns; effectmeting reads at most "
            f"{MAX_COLUMNS:,} columns per file. Keep only the columns the study uses (select them when you "
            "export or download the table) and read the file again.")
    cells = _split_cells(text, separator, path, offset=skipped)
    cells.attrs["header_line"] = skipped + 1
    cells.attrs["header"] = text.split("\n", 1)[0].strip()
    data_columns = [name for name in cells.columns if name != "source_row"]
    if format == "cbs_statline" or (format == "auto" and (is_statline_header(data_columns) or layout is not None)):
        frame = parse_statline(cells, statline, path=path)
        frame.attrs["decimal"] = "."
        frame.attrs["title_lines"], frame.attrs["footer_lines"] = title, footer
        frame.attrs["format"] = "cbs_statline"
        frame.attrs["empty_rows"] = cells.attrs.get("empty_rows", [])
        frame.attrs["header_line"], frame.attrs["header"] = cells.attrs["header_line"], cells.attrs["header"]
        return frame
    if format == "csv_nl" or (format == "auto" and separator == ";"):
        decimal = "." if format == "auto" and looks_dot_decimal(cells[data_columns]) else ","
    else:
        decimal = "."
    # Parse numbers only in the columns that will be used; the rest stay text (and are dropped with a
    # note by the caller): parsing costs about 10 ms per column, whatever its length.
    converted = {name: convert_column(cells[name], decimal=decimal) for name in data_columns
                 if wanted is None or name in wanted}
    frame = cells.assign(**converted) if converted else cells.copy()
    frame.attrs.update(cells.attrs)
    frame.attrs["decimal"] = decimal
    frame.attrs["separator"] = separator
    frame.attrs["format"] = "csv_nl" if decimal == "," else "csv"
    return frame


def _split_cells(text: str, separator: str, path: Path, offset: int = 0) -> pd.DataFrame:
    """Split text into a frame of text cells with the line number of every row.

    ``offset``: physical lines before ``text`` in the file (a skipped comment block).
    """
    try:
        cells = pd.read_csv(
            io.StringIO(text),
            sep=separator,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise InputError(
            f"{path} cannot be read as a table with separator {separator!r}: {error}. Check that every "
            "line has the same number of fields and that quotes are closed."
        ) from None
    header_names = [name.strip() for name in next(csv.reader(io.StringIO(text.split("\n", 1)[0]),
                                                              delimiter=separator), [])]
    repeated = sorted(name for name, count in Counter(header_names).items() if name and count > 1)
    if repeated:
        # pandas would silently rename the second one to "name.1" and the schema would drop it.
        raise InputError(
            f"{path}: the header (line {offset + 1}) names column(s) {', '.join(map(repr, repeated))} more than "
            "once, so it is unclear which one holds the data. Rename or remove the duplicate column(s).")
    cells.columns = [str(name).strip() for name in cells.columns]
    # Count physical lines by "\n" only (str.splitlines would also split on rare separators).
    n_lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    if n_lines - 1 == len(cells):
        source_row = np.arange(2, len(cells) + 2)
        _check_field_counts(text, separator, len(header_names), path, offset)
    else:
        # Quoted fields span several lines: ask the csv module where each record starts.
        # This path only runs for such files; ordinary files keep the vectorised path above.
        reader = csv.reader(io.StringIO(text), delimiter=separator)
        starts = []
        try:
            next(reader)
            previous_end = reader.line_num
            for record in reader:
                if 0 < len(record) < len(header_names) and any(field.strip() for field in record):
                    _refuse_short_line(path, previous_end + 1 + offset, len(record), len(header_names), offset + 1)
                starts.append(previous_end + 1)
                previous_end = reader.line_num
        except csv.Error as error:
            raise InputError(
                f"{path}, line {reader.line_num + offset}: cannot be split into fields ({error}). Check that quotes "
                "are closed and that the file is a text table (CSV), not a binary file.") from None
        source_row = np.asarray(starts[: len(cells)])
    cells.insert(0, "source_row", np.asarray(source_row, dtype="int64") + offset)
    # Cells are text at this point; a row is empty when every cell is blank.
    # one vectorised pass over all cells (a per-column loop costs ~1 ms a column on wide files)
    values = cells.drop(columns="source_row").to_numpy(dtype=str)
    empty = pd.Series((np.char.strip(values) == "").all(axis=1) if values.size else np.ones(len(cells), bool),
                      index=cells.index)
    empty_rows = cells.loc[empty, "source_row"].tolist()
    cells = cells.loc[~empty].reset_index(drop=True)
    cells.attrs["empty_rows"] = empty_rows
    return cells


def _check_field_counts(text: str, separator: str, expected: int, path: Path, offset: int) -> None:
    """Refuse the first non-blank line with fewer fields than the header (pandas would read its
    missing cells as empty).  Without quotes a line's fields are its separators + 1 (one ``str.count``
    per line); with quotes the csv module splits the records."""
    if '"' not in text:
        for number, line in enumerate(text.split("\n")[1:], start=2):
            if line.strip() and line.count(separator) + 1 < expected:
                _refuse_short_line(path, number + offset, line.count(separator) + 1, expected, offset + 1)
        return
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    try:
        next(reader, None)
        previous_end = reader.line_num
        for record in reader:
            if 0 < len(record) < expected and any(field.strip() for field in record):
                _refuse_short_line(path, previous_end + 1 + offset, len(record), expected, offset + 1)
            previous_end = reader.line_num
    except csv.Error as error:  # e.g. a quoted cell beyond the csv module's 131,072-character limit
        raise InputError(
            f"{path}, line {reader.line_num + offset}: cannot be split into fields ({error}). Check that quotes "
            "are closed and that no cell is longer than 131,072 characters.") from None


def _refuse_short_line(path: Path, line: int, fields: int, expected: int, header_line: int) -> None:
    """A line with fewer fields than the header was cut off (or lost a separator): its missing cells
    would be read as empty, so it is refused rather than guessed (raises :class:`InputError`)."""
    raise InputError(
        f"{path}, line {line}: has {fields} field(s) where the header (line {header_line}) has {expected}: the line "
        "was cut off or a separator is missing, so its last cells cannot be read. Complete or remove the line (or "
        "download the file again if it was cut off).")


def _read_parquet(path: Path, raw: bytes = b"") -> pd.DataFrame:
    # A Parquet file starts and ends with b"PAR1": say which end is wrong, not only pyarrow's words.
    if raw and raw[:4] != _PARQUET_MAGIC:
        first = raw.split(b"\n", 1)[0][:80].decode("latin-1")
        raise InputError(
            f"{path} is not a Parquet file (it does not start with 'PAR1'; its first line reads {first!r}). "
            "If it is a CSV file, set format = \"csv\" (or \"csv_nl\", \"auto\") in the sources manifest "
            "or rename it; otherwise export it again as Parquet.")
    if raw and raw[-4:] != _PARQUET_MAGIC:
        raise InputError(f"{path} is an incomplete Parquet file (its end marker 'PAR1' is missing: the file "
                         "was cut off while being written or copied). Copy or export it again.")
    try:
        frame = pd.read_parquet(path, engine="pyarrow")
    except Exception as error:  # pyarrow raises several unrelated types for a bad file
        raise InputError(f"{path} cannot be read as Parquet ({error}). Check that the file is complete.") from None
    frame = frame.reset_index(drop=True)
    if "source_row" in frame.columns:
        # A Parquet file written from an earlier read keeps its original line numbers visible.
        frame = frame.rename(columns={"source_row": "original_source_row"})
    frame.insert(0, "source_row", np.arange(1, len(frame) + 1))
    frame.attrs["format"] = "parquet"
    return frame


def _rename(frame: pd.DataFrame, columns: dict[str, str], path: Path) -> pd.DataFrame:
    """Rename source columns to schema names; a mapped column must exist (or already be renamed)."""
    absent = [source for source, target in columns.items() if source not in frame.columns and target not in frame.columns]
    if absent:
        found = ", ".join(str(c) for c in frame.columns if c != "source_row") or "none"
        header = frame.attrs.get("header")
        where = (f" (header on line {frame.attrs.get('header_line', 1)}: {header[:120]!r})"
                 if header is not None else "")
        raise InputError(
            f"{path} has no column(s) {', '.join(absent)} named in the column mapping; columns found: "
            f"{found}{where}. Correct the mapping in the sources manifest, or check that the header is the "
            "first line of the file after any '#' comment lines."
        )
    present = {source: target for source, target in columns.items() if source in frame.columns}
    shared = {target: [s for s, t in present.items() if t == target] for target in set(present.values())}
    shared = {target: sources for target, sources in shared.items() if len(sources) > 1}
    if shared:
        target, sources = sorted(shared.items())[0]
        raise InputError(
            f"{path}: the column mapping sends columns {' and '.join(map(repr, sources))} both to field "
            f"{target!r}, so it is unclear which one holds the data. Map only one source column to each field "
            "in [source.columns] of the sources manifest.")
    # A CBS marker column follows its value column, so the marker's reason stays attached to the field.
    present.update({f"{source}__marker": f"{target}__marker" for source, target in list(present.items())
                    if f"{source}__marker" in frame.columns})
    clash = [target for source, target in present.items() if target in frame.columns and target not in present]
    if clash:
        raise InputError(
            f"{path}: renaming would create duplicate column(s) {', '.join(clash)}. Map only one source column "
            "to each schema name."
        )
    attrs = dict(frame.attrs)
    renamed = frame.rename(columns=present)
    renamed.attrs = attrs
    return renamed
