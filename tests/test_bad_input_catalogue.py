"""Bad-input catalogue (issue 17, first slice): each case is refused with one bounded message that
names file, row, column and value and says what to do (exit code 2 on the command line, the
package's error class in the API), or repaired with an audit entry that adds up.

Small hand-written files in tmp_path; runs in seconds.
"""
from __future__ import annotations

import os
import re
import stat

import numpy as np
import pandas as pd
import pytest

from effectmeting.analysis.config import load_analysis
from effectmeting.errors import (AnalysisConfigError, HarmonisationError, InputError, SchemaValidationError, echo)
from effectmeting.estimate.core.checks import numeric_column
from effectmeting.harmonise.audit import AuditLog
from effectmeting.harmonise.pipeline import harmonise, read_source
from effectmeting.schema import validate
from effectmeting.sources.readers import read_table
from effectmeting.sources.sources_toml import SourceSpec

from bad_input_helpers import HEADER, ROWS
from bad_input_helpers import cli as _cli
from bad_input_helpers import write as _write

STATLINE = {"RegioS": "municipality", "TotaleBevolking_1": "population_total"}
#: No message of this catalogue may be longer (a one-paragraph error, not a data dump).
MESSAGE_LIMIT = 1_000


# -- line endings --------------------------------------------------------------------------------

def test_old_mac_line_endings_are_read_as_lines(tmp_path):
    path = _write(tmp_path / "mac.csv", (HEADER + ROWS).replace("\n", "\r"))
    frame = read_table(path)
    assert frame["municipality"].tolist() == ["GM0363", "GM0518"]
    assert frame["source_row"].tolist() == [2, 3]
    assert frame["population_total"].tolist() == [872680, 545838]
    status, err = _cli(["validate", str(path), "--schema", "population"])
    assert status == 0 and "Traceback" not in err


def test_utf16_with_byte_order_mark_is_read_as_text(tmp_path):
    # Excel's "Unicode text" export: UTF-16 with a BOM, so full of NUL bytes, but a text table all the same
    path = _write(tmp_path / "unicode.csv", (HEADER + ROWS).encode("utf-16"))
    frame = read_table(path)
    assert frame["municipality"].tolist() == ["GM0363", "GM0518"] and frame.attrs["encoding"] == "utf-16"


def test_byte_order_mark_followed_by_broken_bytes_is_refused_with_its_line(tmp_path):
    # found by the fuzzer (tests/test_fuzz_sources.py): a UTF-8 BOM, then a byte that is not UTF-8
    path = _write(tmp_path / "bom.csv", b"\xef\xbb\xbf" + (HEADER + ROWS).encode() + b"GM0003,2020,\x80\x81,1,2\n")
    with pytest.raises(InputError, match=r"bom\.csv: starts with a UTF-8 byte-order mark, but its bytes at line 4, "
                                         r"byte \d+ .* are not UTF-8.*Download or export it again") as raised:
        read_table(path)
    assert len(str(raised.value)) < MESSAGE_LIMIT
    status, err = _cli(["validate", str(path), "--schema", "population"])
    assert status == 2 and "Traceback" not in err and "byte-order mark" in err


@pytest.mark.parametrize("cut", ["GM0003,2020,11801", 'GM0003,"2020",11801'])
def test_line_cut_short_is_refused_not_read_as_empty_cells(tmp_path, cut):
    # a line with 3 of the header's 5 fields: its last cells used to be read as empty (NA) without a word
    path = _write(tmp_path / "cut.csv", HEADER + ROWS + cut + "\n")
    with pytest.raises(InputError, match=r"cut\.csv, line 4: has 3 field\(s\) where the header \(line 1\) has 5.*"
                                         r"Complete or remove the line") as raised:
        read_table(path)
    assert len(str(raised.value)) < MESSAGE_LIMIT
    status, err = _cli(["validate", str(path), "--schema", "population"])
    assert status == 2 and "Traceback" not in err and "line 4: has 3 field(s)" in err


# -- huge and wide files ----------------------------------------------------------------------------

def test_wide_file_reads_only_the_columns_it_uses_and_a_too_wide_one_is_refused(tmp_path):
    # 5,000 unused columns: read (they stay text and are dropped with a note); the used ones are numbers
    extra = [f"x{i}" for i in range(5_000)]
    path = _write(tmp_path / "wide.csv", ",".join(HEADER.strip().split(",") + extra) + "\n" + "".join(
        row + "," + ",".join(["1"] * len(extra)) + "\n" for row in ROWS.splitlines()))
    frame, rows = read_source(SourceSpec(name="w", path=path, table="population"))
    assert rows == 2 and frame["population_total"].tolist() == [872680, 545838]
    assert "x0" not in frame.columns
    from effectmeting.sources.readers import MAX_COLUMNS

    too_wide = _write(tmp_path / "too_wide.csv", ",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)) + "\n")
    with pytest.raises(InputError, match=r"too_wide\.csv: the header \(line 1\) has 20,001 columns; effectmeting "
                                         r"reads at most 20,000.*Keep only the columns the study uses") as raised:
        read_table(too_wide)
    assert len(str(raised.value)) < MESSAGE_LIMIT


# -- transitions -----------------------------------------------------------------------------------

TRANSITIONS = "effective,old_code,new_code,weight,kind\n2016-01-01,GM0381,GM1942,1.0,merged\n"
POPULATION_2015 = HEADER + "GM0381,2015,30000,6000,24000\nGM0363,2015,800000,140000,660000\n"


@pytest.mark.parametrize("bad, message", [
    (TRANSITIONS.replace("1.0,merged", "0.5,merged"), r"weights of an old municipality must sum to 1.*GM0381: weights "
                                                      r"sum to 0\.5000"),
    (TRANSITIONS.replace("GM1942", "GM9999"), r"GM0381->GM9999: GM9999 does not exist in 2016"),
])
def test_a_bad_transitions_file_is_named_not_the_population_file(tmp_path, bad, message):
    # the error used to name population.csv and 'transitions frame', not the file that is wrong
    _write(tmp_path / "population.csv", POPULATION_2015)
    _write(tmp_path / "herindeling.csv", bad)
    manifest = _write(tmp_path / "sources.toml", '[[source]]\nname = "pop"\npath = "population.csv"\n'
                      'table = "population"\n[[source]]\nname = "h2016"\npath = "herindeling.csv"\n'
                      'table = "transitions"\n')
    status, err = _cli(["harmonise", "--sources", str(manifest), "--out", str(tmp_path / "out")])
    assert status == 2 and "Traceback" not in err and len(err) < MESSAGE_LIMIT
    assert "herindeling.csv (source 'h2016', table 'transitions')" in err and "population.csv" not in err
    assert re.search(message, err), err


def test_a_missing_herindeling_gives_advice_the_command_line_user_can_follow(tmp_path):
    _write(tmp_path / "population.csv", POPULATION_2015)
    manifest = _write(tmp_path / "sources.toml", '[[source]]\nname = "pop"\npath = "population.csv"\n'
                      'table = "population"\n')
    status, err = _cli(["harmonise", "--sources", str(manifest), "--out", str(tmp_path / "out")])
    assert status == 2 and "Traceback" not in err and len(err) < MESSAGE_LIMIT
    assert "no transition takes GM0381 (2015)" in err and 'table = "transitions" in sources.toml' in err


# -- sources manifest ------------------------------------------------------------------------------

def test_two_source_columns_mapped_to_one_field_are_refused_naming_both(tmp_path):
    path = _write(tmp_path / "q.csv", "gm,jaar,a,b\nGM0363,2020,872680,150000\n")
    spec = SourceSpec(name="q", path=path, table="population",
                      columns={"gm": "municipality", "jaar": "year", "a": "population_total", "b": "population_total"})
    with pytest.raises(InputError, match=r"q\.csv: the column mapping sends columns 'a' and 'b' both to field "
                                         r"'population_total'.*Map only one source column") as raised:
        read_source(spec)
    assert len(str(raised.value)) < MESSAGE_LIMIT
    manifest = _write(tmp_path / "sources.toml", '[[source]]\nname = "q"\npath = "q.csv"\ntable = "population"\n'
                      '[source.columns]\ngm = "municipality"\njaar = "year"\na = "population_total"\n'
                      'b = "population_total"\n')
    status, err = _cli(["harmonise", "--sources", str(manifest), "--out", str(tmp_path / "out")])
    assert status == 2 and "Traceback" not in err and "'a' and 'b' both to field 'population_total'" in err


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_device_as_source_is_not_a_regular_file(tmp_path):
    with pytest.raises(InputError, match=r"/dev/zero is not a regular file \(a device, pipe or socket\)"):
        read_table("/dev/zero")
    manifest = _write(tmp_path / "sources.toml", '[[source]]\nname = "z"\npath = "/dev/zero"\ntable = "population"\n')
    status, err = _cli(["harmonise", "--sources", str(manifest), "--out", str(tmp_path / "out")])
    assert status == 2 and "Traceback" not in err and "not a regular file" in err and "not found" not in err
    status, err = _cli(["validate", "/dev/zero", "--schema", "population"])
    assert status == 2 and "not a regular file" in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_as_source_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    with pytest.raises(InputError, match="is not a regular file"):
        read_table(fifo)  # refused before opening: reading a pipe nobody writes would hang


# -- codes and years -------------------------------------------------------------------------------

def test_statline_gm_code_with_fewer_digits_is_a_municipality_padded_with_an_audit_note(tmp_path):
    path = _write(tmp_path / "stl.csv", '"ID";"RegioS";"Perioden";"TotaleBevolking_1"\n'
                                        '0;"GM14    ";"2020JJ00";231000\n1;"NL01    ";"2020JJ00";17000000\n')
    audit = AuditLog()
    frame, rows = read_source(SourceSpec(name="stl", path=path, table="population", format="cbs_statline",
                                         columns=STATLINE), audit)
    assert frame["municipality"].tolist() == ["GM0014"] and frame["population_total"].tolist() == [231000]
    assert rows == 2
    aside = frame.attrs["set_aside"]
    assert aside["region"].tolist() == ["NL01"]  # only the country, never the municipality
    notes = audit.events
    assert notes.loc[notes["stage"] == "codes", "detail"].tolist() == ["municipality 'GM14' read as GM0014"]
    panel = harmonise([{"name": "stl", "path": str(path), "table": "population", "format": "cbs_statline",
                        "columns": STATLINE}], reference_year=2023)
    assert panel.data.set_index("municipality").loc["GM0014", "population_total"] == 231000
    fates = panel.audit.frame
    assert len(fates) == 2 and fates["reason"].str.contains("not a municipality").sum() == 1


def test_year_outside_the_register_says_so_not_that_the_municipality_did_not_exist(tmp_path):
    path = _write(tmp_path / "p.csv", HEADER + "GM0363,2030,872680,150000,722680\n"
                                               "GM0363,2014,872680,150000,722680\n")
    with pytest.raises(HarmonisationError) as raised:
        harmonise([{"name": "pop", "path": str(path), "table": "population"}], reference_year=2023)
    message = str(raised.value)
    assert "did not exist" not in message and len(message) < MESSAGE_LIMIT
    assert "2 row(s) have a year outside the municipality register's years 2015-2024: row 2: 2030; row 3: 2014" \
        in message
    assert "remove the rows outside 2015-2024" in message


# -- numbers and markers ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["inf", "-inf", "Infinity", "1e400"])
def test_infinite_euros_are_refused(tmp_path, text):
    path = _write(tmp_path / "c.csv", f"municipality,year,taakveld,euros\nGM0363,2020,6.1,{text}\n")
    with pytest.raises(SchemaValidationError) as raised:
        read_source(SourceSpec(name="c", path=path, table="costs"))
    failures = raised.value.failures
    assert failures[["row", "field", "value"]].values.tolist() == [[2, "euros", repr(text)]]
    # the reader does not parse the words; 1e400 parses and overflows to inf
    assert failures["problem"].iloc[0] in ("not a number", "not a finite number")


def test_infinite_number_in_a_frame_is_refused_by_validate():
    frame = pd.DataFrame({"municipality": ["GM0363"], "year": [2020], "taakveld": ["6.1"], "euros": [np.inf]})
    with pytest.raises(SchemaValidationError, match="row 1, field euros, value 'inf', problem: not a finite number"):
        validate(frame, "costs")


def test_statline_nil_marker_is_zero_with_the_marker_kept_and_audited(tmp_path):
    path = _write(tmp_path / "stl.csv", '"ID";"RegioS";"Perioden";"TotaleBevolking_1";"Jong_2"\n'
                                        '0;"GM0014  ";"2020JJ00";231000;.\n1;"GM0034  ";"2020JJ00";-;-\n'
                                        '2;"GM0037  ";"2020JJ00";1000;.\n')
    audit = AuditLog()
    frame, _ = read_source(SourceSpec(name="stl", path=path, table="population", format="cbs_statline",
                                      columns={**STATLINE, "Jong_2": "population_0_17"}), audit)
    values = frame.set_index("municipality")
    assert values.loc["GM0034", "population_total"] == 0
    assert values.loc["GM0034", "population_total__marker"] == "nil"
    assert values.loc["GM0034", "population_0_17"] == 0
    assert pd.isna(values.loc["GM0037", "population_0_17"])  # "." stays not available
    assert values.loc["GM0037", "population_0_17__marker"] == "not_available"
    nil_notes = audit.events[audit.events["detail"].str.contains("nil", regex=False)]
    assert nil_notes[["municipality", "year", "variable"]].values.tolist() == [
        ["GM0034", 2020, "population_total"], ["GM0034", 2020, "population_0_17"]]
    assert nil_notes["detail"].iloc[0] == "row 3: CBS marker '-' (nil) read as 0; kept in population_total__marker"


# -- echoed values ---------------------------------------------------------------------------------

def test_a_huge_cell_is_echoed_cut_to_a_bounded_length(tmp_path):
    huge = "x" * 1_000_000
    path = _write(tmp_path / "p.csv", HEADER + f"GM0363,2020,{huge},150000,722680\n")
    with pytest.raises(SchemaValidationError) as raised:
        read_source(SourceSpec(name="p", path=path, table="population"))
    assert len(str(raised.value)) < MESSAGE_LIMIT
    assert f"value {'x' * 80!r}… (1000000 characters)" in str(raised.value)
    codes = _write(tmp_path / "c.csv", HEADER + f"GM{huge},2020,1,1,0\n")
    with pytest.raises(HarmonisationError) as raised:
        read_source(SourceSpec(name="c", path=codes, table="population"))
    assert len(str(raised.value)) < MESSAGE_LIMIT and "(1000002 characters)" in str(raised.value)
    status, err = _cli(["validate", str(path), "--schema", "population"])
    assert status == 1 and len(err) < 2 * MESSAGE_LIMIT


def test_estimator_input_echo_is_bounded():
    with pytest.raises(InputError) as raised:
        numeric_column(pd.Series(["y" * 10_000], name="outcome"), "feols")
    assert len(str(raised.value)) < MESSAGE_LIMIT and "(10000 characters)" in str(raised.value)


def test_echo_helper():
    assert echo("abc") == "'abc'" and echo(np.int64(2015)) == "2015" and echo(float("inf")) == "inf"
    assert echo("z" * 100) == repr("z" * 80) + "… (100 characters)"


# -- analysis files --------------------------------------------------------------------------------

ANALYSIS = """[analysis]
title = "t"

[data]
demo = true

[[design]]
name = "role=gives_help"
outcomes = ["jeugdhulp_per_1000_youth"]

[costs]
horizon = {horizon}
"""


@pytest.mark.parametrize("horizon", [1_000_000_000, 10, 0])
def test_cost_horizon_beyond_the_data_years_is_refused_with_the_range(tmp_path, horizon):
    path = _write(tmp_path / "a.toml", ANALYSIS.format(horizon=horizon))
    with pytest.raises(AnalysisConfigError, match=rf"costs\.horizon: {horizon} is outside 1-9\. give a number of "
                                                  r"years from 1 to 9 \(data years 2015-2024"):
        load_analysis(path)
    status, err = _cli(["run", str(path), "--out", str(tmp_path / "res"), "--quiet"])
    assert status == 2 and "Traceback" not in err and "outside 1-9" in err
    assert load_analysis(_write(tmp_path / "ok.toml", ANALYSIS.format(horizon=9))).costs.horizon == 9


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_device_as_sources_manifest_of_an_analysis_is_not_a_regular_file(tmp_path):
    path = _write(tmp_path / "a.toml", ANALYSIS.split("[costs]")[0].replace("demo = true", 'sources = "/dev/zero"'))
    with pytest.raises(AnalysisConfigError, match=r"data\.sources: source file '/dev/zero' is not a regular file"):
        load_analysis(path)
    status, err = _cli(["harmonise", "--sources", "/dev/zero", "--out", str(tmp_path / "out")])
    assert status == 2 and "Traceback" not in err and "not a regular file" in err
