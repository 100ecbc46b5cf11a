"""Bad-input catalogue, second part (issue 17): one table of cases through the command line, by kind.

Each case writes a small population source (or other file), runs ``effectmeting harmonise`` or
``validate``/``run``/``demo`` and asserts the answer a command-line user needs: exit code 2, no
traceback, a message of bounded length that names the file (and row, column, value where there is
one) and says what to do; or exit 0 where the input is a legitimate variant that must be accepted.
"""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from effectmeting.cli import main

from bad_input_helpers import HEADER, ROWS
from bad_input_helpers import cli as _cli
from bad_input_helpers import write as _write

MESSAGE_LIMIT = 1_500


def _manifest(folder: Path, path: str, table: str = "population") -> Path:
    return _write(folder / "sources.toml", f'[[source]]\nname = "pop"\npath = "{path}"\ntable = "{table}"\n')


def _harmonise(folder: Path, content: str | bytes, name: str = "p.csv") -> tuple[int, str]:
    _write(folder / name, content)
    return _cli(["harmonise", "--sources", str(_manifest(folder, name)), "--out", str(folder / "out")])


#: kind, case id, file content, fragments the message must contain (all of them)
REFUSED = [
    ("years", "year after the register", HEADER + "GM0363,2030,1,0,1\n",
     ["p.csv", "row 2: 2030", "outside the municipality register", "remove the rows"]),
    ("years", "year before the schema minimum", HEADER + "GM0363,1990,1,0,1\n",
     ["p.csv, row 2, field year, value '1990'", "less than minimum 2000", "What to do"]),
    ("years", "fractional year", HEADER + "GM0363,2020.5,1,0,1\n",
     ["row 2, field year, value '2020.5'", "not a whole number"]),
    ("codes", "code with three digits", HEADER + "GM036,2020,1,0,1\n",
     ["p.csv", "row 2: 'GM036'", "Use a CBS code"]),
    ("codes", "unknown name", HEADER + "Atlantis,2020,1,0,1\n",
     ["p.csv", "row 2: 'Atlantis'", "Use a CBS code"]),
    ("numbers", "negative count", HEADER + "GM0363,2020,-5,0,-5\n",
     ["row 2, field population_total, value '-5'", "less than minimum 0"]),
    ("numbers", "Dutch thousands separators in a comma file", HEADER + 'GM0363,2020,"1.234.567",0,1\n',
     ["row 2, field population_total, value '1.234.567'", "not a whole number"]),
    ("numbers", "NaN written out", HEADER + "GM0363,2020,NaN,0,1\n",
     ["value 'NaN'", "A missing value may be written as one of"]),
    ("numbers", "a number too large", HEADER + "GM0363,2020,1e400,0,1\n",
     ["field population_total, value '1e400'"]),
    ("keys", "duplicate municipality and year", HEADER + ROWS + ROWS.splitlines()[0] + "\n",
     ["duplicate primary key", "rows 2, 4"]),
    ("header", "Dutch column names without a mapping", "gemeente;jaar;population_total;population_0_17;"
     "population_18_plus\nGM0363;2020;1;0;1\n", ["required column is missing", "columns found: gemeente, jaar"]),
    ("header", "header only", HEADER, ["no data rows"]),
    ("ragged", "a line with one field too many", HEADER + ROWS + "GM0003,2020,1,0,1,7\n",
     ["p.csv", "Check that every line has the same number of fields"]),
    ("ragged", "a line cut off", HEADER + ROWS + "GM0003,2020\n", ["line 4: has 2 field(s)", "Complete or remove"]),
    ("encoding", "binary file", bytes(range(256)) * 8, ["not a text table", "NUL bytes"]),
    ("encoding", "broken bytes after a UTF-8 byte-order mark", b"\xef\xbb\xbf" + HEADER.encode() + b"GM0363,2020,\x80,0,1\n",
     ["byte-order mark", "line 2", "Download or export it again"]),
]


@pytest.mark.parametrize("kind, case, content, fragments", REFUSED, ids=[f"{k}: {c}" for k, c, *_ in REFUSED])
def test_refused_with_a_message_that_names_the_problem(tmp_path, kind, case, content, fragments):
    status, err = _harmonise(tmp_path, content)
    assert status == 2, err
    assert "Traceback" not in err and 0 < len(err) < MESSAGE_LIMIT, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    assert not (tmp_path / "out" / "panel.parquet").exists()


#: legitimate variants that must be read as the same two rows
ACCEPTED = [
    ("delimiters", "tab separated", (HEADER + ROWS).replace(",", "\t")),
    ("delimiters", "semicolon separated", (HEADER + ROWS).replace(",", ";")),
    ("whitespace", "spaces around cells", HEADER + ROWS.replace(",", " , ")),
    ("line endings", "Windows line endings", (HEADER + ROWS).replace("\n", "\r\n")),
    ("encoding", "UTF-8 with byte-order mark", "\ufeff" + HEADER + ROWS),
    ("encoding", "UTF-16 (Excel 'Unicode text')", (HEADER + ROWS).encode("utf-16")),
    ("codes", "codes without GM and zeros", HEADER + ROWS.replace("GM0363", "363").replace("GM0518", "518")),
    ("blank lines", "blank lines between rows", HEADER + ROWS.replace("\n", "\n\n", 1)),
]


@pytest.mark.parametrize("kind, case, content", ACCEPTED, ids=[f"{k}: {c}" for k, c, _ in ACCEPTED])
def test_legitimate_variants_are_accepted(tmp_path, kind, case, content):
    # 2023: Amsterdam's 2020 row would be NA on 2023 boundaries (Weesp joined it in 2022)
    content = content.replace("2020", "2023") if isinstance(content, str) else content.replace(
        "2020".encode("utf-16")[2:], "2023".encode("utf-16")[2:])
    status, err = _harmonise(tmp_path, content)
    assert status == 0 and "Traceback" not in err, err
    import pandas as pd

    panel = pd.read_parquet(tmp_path / "out" / "panel.parquet")
    assert panel["population_total"].sum() == 872680 + 545838


def _argparse(argv: list[str]) -> tuple[int, str]:
    """Exit status and stderr of an argument the parser itself refuses (it exits, printing usage)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = main(argv)
        except SystemExit as exit_:
            status = int(exit_.code or 0)
    return status, err.getvalue()


@pytest.mark.parametrize("argv, fragment", [
    (["run", "analyses/demo.toml", "--out", "OUT", "--lang", "xx"], "invalid choice: 'xx'"),
    (["run", "analyses/demo.toml", "--out", "OUT", "--seed", "abc"], "invalid int value: 'abc'"),
    (["validate", "p.csv", "--schema", "population", "--no-such-flag"], "unrecognized arguments"),
], ids=["language", "seed", "unknown flag"])
def test_options_out_of_range_on_the_command_line(tmp_path, argv, fragment):
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in argv]
    status, err = _argparse(argv)
    assert status == 2 and "Traceback" not in err and fragment in err, err


@pytest.mark.parametrize("case", ["device", "directory", "missing", "toml syntax", "out is a file", "unknown schema",
                                  "analysis missing", "unknown analysis section"])
def test_paths_devices_and_files_of_the_wrong_kind(tmp_path, case):
    _write(tmp_path / "p.csv", HEADER + ROWS)
    out = str(tmp_path / "out")
    if case == "device":
        argv, fragment = ["harmonise", "--sources", str(_manifest(tmp_path, "/dev/null")), "--out", out], \
            "is not a regular file"
    elif case == "directory":
        argv, fragment = ["harmonise", "--sources", str(_manifest(tmp_path, ".")), "--out", out], "is a directory"
    elif case == "missing":
        argv, fragment = ["harmonise", "--sources", str(_manifest(tmp_path, "nope.csv")), "--out", out], "nope.csv"
    elif case == "toml syntax":
        bad = _write(tmp_path / "bad.toml", '[[source]\nname = "x"\n')
        argv, fragment = ["harmonise", "--sources", str(bad), "--out", out], "not valid TOML"
    elif case == "out is a file":
        _write(tmp_path / "file", "x")
        argv, fragment = ["harmonise", "--sources", str(_manifest(tmp_path, "p.csv")), "--out",
                          str(tmp_path / "file")], "is a file, not a directory"
    elif case == "unknown schema":
        argv, fragment = ["validate", str(tmp_path / "p.csv"), "--schema", "nope"], "Unknown schema 'nope'"
    elif case == "analysis missing":
        argv, fragment = ["run", str(tmp_path / "nope.toml"), "--out", out], "analysis file not found"
    else:
        analysis = _write(tmp_path / "a.toml", '[analysis]\ntitle = "x"\n[unknown_table]\nx = 1\n')
        argv, fragment = ["run", str(analysis), "--out", out], "unknown section 'unknown_table'"
    status, err = _cli(argv)
    assert status == 2 and "Traceback" not in err and 0 < len(err) < MESSAGE_LIMIT and fragment in err, err
