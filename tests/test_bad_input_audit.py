"""Bad input: every case gives one clear effectmeting error (file, row, column, value, what to do),
never a bare traceback, and nothing is lost silently (the audit log accounts for every input row).

Small hand-written files in tmp_path; no demo data is generated, so the whole file runs in seconds.
"""
from __future__ import annotations

import io

import pandas as pd
import pytest

from effectmeting.analysis.config import load_analysis
from effectmeting.errors import AnalysisConfigError, HarmonisationError, InputError, SchemaValidationError
from effectmeting.harmonise.crosswalk import to_reference_year
from effectmeting.harmonise.pipeline import harmonise, read_source
from effectmeting.sources.readers import read_table
from effectmeting.sources.sources_toml import SourceSpec, read_sources_manifest

from bad_input_helpers import HEADER, ROWS
from bad_input_helpers import cli as _cli
from bad_input_helpers import write as _write


# -- readers -------------------------------------------------------------------------------------

def test_binary_file_is_refused_with_a_message(tmp_path):
    path = _write(tmp_path / "data.csv", bytes(range(256)) * 4)
    with pytest.raises(InputError, match="NUL bytes.*Export it as CSV"):
        read_table(path)
    status, err = _cli(["validate", str(path), "--schema", "population"])
    assert status == 2 and "Traceback" not in err and "data.csv is not a text table" in err


def test_csv_module_error_in_a_multiline_file_is_an_input_error(tmp_path):
    # A quoted field spanning lines sends the reader to the csv module, whose field size limit
    # (131,072 characters) pandas does not have: this raised a bare _csv.Error before.
    path = _write(tmp_path / "t.csv", 'year,index\n"a\n' + "b" * 200_000 + '",1\n')
    with pytest.raises(InputError, match=r"t\.csv, line \d+: cannot be split into fields"):
        read_table(path, format="csv")


def test_duplicate_header_column_is_refused_not_silently_dropped(tmp_path):
    path = _write(tmp_path / "p.csv", "municipality,year,population_total,population_total\nGM0363,2020,1,2\n")
    with pytest.raises(InputError, match=r"header \(line 1\) names column\(s\) 'population_total' more than once"):
        read_table(path)
    # a header with several empty names (trailing separators) is still read
    ok = _write(tmp_path / "ok.csv", "year;index;;\n2015;100;;\n")
    assert list(read_table(ok).columns)[:3] == ["source_row", "year", "index"]


def test_integer_too_large_for_int64_is_a_validation_failure_with_its_text(tmp_path):
    path = _write(tmp_path / "p.csv", HEADER + ROWS + "GM0003,2020,99999999999999999999999,200,800\n")
    spec = SourceSpec(name="p", path=path, table="population")
    with pytest.raises(SchemaValidationError) as raised:
        read_source(spec)
    failures = raised.value.failures
    assert failures[["row", "field", "value"]].values.tolist() == [[4, "population_total", "'99999999999999999999999'"]]
    assert "larger than 2**53" in failures["problem"].iloc[0]


def test_csv_named_parquet_and_truncated_parquet_say_what_is_wrong(tmp_path):
    text = _write(tmp_path / "p.parquet", HEADER + ROWS)
    with pytest.raises(InputError, match="not a Parquet file .*first line reads 'municipality,year"):
        read_table(text, format="parquet")
    good = tmp_path / "g.parquet"
    pd.read_csv(io.StringIO(HEADER + ROWS)).to_parquet(good)
    raw = good.read_bytes()
    cut = _write(tmp_path / "cut.parquet", raw[: len(raw) // 2])
    with pytest.raises(InputError, match="incomplete Parquet file"):
        read_table(cut)


# -- validation messages -------------------------------------------------------------------------

def test_wrong_separator_lists_the_single_column_and_hints_at_the_format(tmp_path):
    path = _write(tmp_path / "p.csv", (HEADER + ROWS).replace(",", "|"))
    status, err = _cli(["validate", str(path), "--schema", "population"])
    assert status == 1 and "Traceback" not in err
    assert "columns found: municipality|year|population_total" in err  # was "(none)": extras dropped first
    assert "another separator" in err


def test_statline_marker_reason_follows_the_renamed_column_and_unknown_markers_are_named(tmp_path):
    path = _write(tmp_path / "stl.csv",
                  '"ID";"RegioS";"Perioden";"TotaleBevolking_1"\n'
                  '0;"GM0003  ";"2015JJ00";4705\n1;"GM0005  ";"2015JJ00";*\n2;"GM0009  ";"2015JJ00";.\n')
    spec = SourceSpec(name="stl", path=path, table="population", format="cbs_statline",
                      columns={"RegioS": "municipality", "TotaleBevolking_1": "population_total"})
    with pytest.raises(SchemaValidationError) as raised:
        read_source(spec)
    failures = raised.value.failures.set_index("row")
    assert failures.loc[3, "value"] == "'*'" and failures.loc[3, "problem"] == "not a whole number"
    assert failures.loc[4, "problem"] == "required value is missing (CBS marker: not_available)"
    assert "A missing value may be written as one of: '', 'NA', '.', 'x', '-', '?'" in str(raised.value)


def test_missing_key_column_with_repeated_years_reports_the_column_not_a_crash(tmp_path):
    path = _write(tmp_path / "p.csv", "gemeente,year,population_total\nGM0363,2020,1\nGM0518,2020,2\n")
    with pytest.raises(SchemaValidationError) as raised:
        read_source(SourceSpec(name="p", path=path, table="population"))
    assert raised.value.failures["field"].tolist() == ["municipality"]
    assert "columns found: gemeente, year, population_total" in str(raised.value)


def test_validate_failures_option_writes_every_failure(tmp_path):
    bad = "".join(f"GM0363,{2015 + i},-{i + 1},1,1\n" for i in range(3))
    path = _write(tmp_path / "p.csv", HEADER + bad)
    out = tmp_path / "failures.csv"
    status, err = _cli(["validate", str(path), "--schema", "population", "--failures", str(out)])
    assert status == 1 and "All 3 failure(s) written" in err
    written = pd.read_csv(out)
    assert written["row"].tolist() == [2, 3, 4] and set(written["field"]) == {"population_total"}


# -- sources and harmonisation -------------------------------------------------------------------

def test_header_only_source_is_an_error_not_a_silently_missing_table(tmp_path):
    path = _write(tmp_path / "p.csv", HEADER)
    with pytest.raises(InputError, match="source 'p' has a header but no data rows"):
        read_source(SourceSpec(name="p", path=path, table="population"))
    status, err = _cli(["validate", str(path), "--schema", "population"])
    assert status == 2 and "no data rows" in err


def test_empty_rows_are_dropped_in_the_audit_and_counts_add_up(tmp_path):
    # two municipalities not touched by any herindeling, one row of blank cells between them
    body = "".join(f"GM0363,{y},872680,150000,722680\n" for y in (2021, 2022)) + ",,,,\n" + \
        "".join(f"GM0518,{y},545838,100000,445838\n" for y in (2021, 2022))
    path = _write(tmp_path / "p.csv", HEADER + body)
    panel = harmonise([{"name": "pop", "path": str(path), "table": "population"}], reference_year=2023)
    audit = panel.audit.frame
    data_lines = len(body.splitlines())
    assert len(audit) == data_lines == 5
    dropped = audit[audit["action"] == "dropped"]
    assert dropped["source_row"].tolist() == [4] and dropped["reason"].iloc[0] == "empty row: every cell is blank"
    assert panel.audit.summary().loc["pop", "total"] == panel.sources[0]["rows"] == 5
    assert len(panel.data) == 4


def test_sources_manifest_type_encoding_and_directory_errors(tmp_path):
    _write(tmp_path / "p.csv", HEADER + ROWS)
    manifest = tmp_path / "sources.toml"
    _write(manifest, '[[source]]\nname = "p"\npath = 5\ntable = "population"\n')
    with pytest.raises(InputError, match=r"source #1: path = 5 is not a string; write it in quotes"):
        read_sources_manifest(manifest)
    _write(manifest, '# Súdwest-Fryslân\n[[source]]\nname = "p"\npath = "p.csv"\ntable = "population"\n'
           .encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8 text.*Save the file as UTF-8"):
        read_sources_manifest(manifest)
    (tmp_path / "d.csv").mkdir()
    _write(manifest, '[[source]]\nname = "p"\npath = "d.csv"\ntable = "population"\n')
    with pytest.raises(InputError, match="d.csv is a directory, not a file"):
        read_sources_manifest(manifest)


def test_reference_year_outside_register_says_what_to_choose():
    frame = pd.DataFrame({"municipality": ["GM0363"], "year": [2020], "population_total": [1]})
    with pytest.raises(HarmonisationError, match="choose a reference year from 2015 to 2024"):
        to_reference_year(frame, table="population", reference_year=2030)


# -- analysis files and the command line ---------------------------------------------------------

ANALYSIS = """[analysis]
title = "t"
seed = {seed}

[data]
demo = true

[[design]]
name = "role=gives_help"
outcomes = ["jeugdhulp_per_1000_youth"]
"""


def test_analysis_file_not_utf8_and_negative_seed_are_config_errors(tmp_path):
    latin = _write(tmp_path / "a.toml", ANALYSIS.format(seed=1).replace('"t"', '"démo"').encode("latin-1"))
    with pytest.raises(AnalysisConfigError, match="a.toml: not UTF-8 text.*Save the file as UTF-8"):
        load_analysis(latin)
    negative = _write(tmp_path / "n.toml", ANALYSIS.format(seed=-1))
    with pytest.raises(AnalysisConfigError, match=r"analysis.seed: -1 is not a valid seed. give a whole number >= 0"):
        load_analysis(negative)
    assert load_analysis(_write(tmp_path / "ok.toml", ANALYSIS.format(seed=0))).seed == 0
    status, err = _cli(["run", str(latin), "--out", str(tmp_path / "res"), "--quiet"])
    assert status == 2 and "Traceback" not in err and "not UTF-8" in err


def test_output_directory_that_is_a_file_and_negative_demo_seed_exit_2(tmp_path):
    analysis = _write(tmp_path / "a.toml", ANALYSIS.format(seed=1))
    blocker = _write(tmp_path / "results", "not a directory")
    for argv in (["run", str(analysis), "--out", str(blocker), "--quiet"],
                 ["run", str(analysis), "--out", str(blocker / "sub"), "--quiet"],
                 ["harmonise", "--sources", str(tmp_path / "s.toml"), "--out", str(blocker)]):
        status, err = _cli(argv)
        assert status == 2 and "is a file, not a directory" in err, argv
    status, err = _cli(["demo", "--out", str(tmp_path / "demo"), "--seed", "-1"])
    assert status == 2 and "a seed must be a whole number >= 0" in err
    assert not (tmp_path / "demo").exists()  # refused before anything was written


def test_validate_directory_says_directory(tmp_path):
    status, err = _cli(["validate", str(tmp_path), "--schema", "population"])
    assert status == 2 and "is a directory, not a file" in err


def test_harmonisation_error_names_the_file_not_only_the_source_label(tmp_path):
    # GM0363 (Amsterdam) exists; Weesp's GM0457 ended on 2022-03-24, so it did not exist in 2023.
    path = _write(tmp_path / "bevolking_2023.csv", HEADER + "GM0457,2023,20000,4000,16000\n")
    with pytest.raises(HarmonisationError, match=r"bevolking_2023\.csv \(source 'pop'\): 1 row\(s\) name a "
                                                 r"municipality that did not exist"):
        harmonise([{"name": "pop", "path": str(path), "table": "population"}], reference_year=2023)


def test_transition_naming_codes_that_did_not_exist_is_refused(tmp_path):
    """A reversed row (Heerhugowaard+Langedijk = Dijk en Waard GM1942 "back" to Heerhugowaard's
    GM0398 on 2016-01-01) would send data to a code that did not exist; it is refused."""
    from effectmeting.harmonise.transitions import load_transitions

    path = _write(tmp_path / "transitions.csv", "effective,old_code,new_code,weight,kind\n"
                                                "2016-01-01,GM1942,GM0398,1.0,merged\n")
    with pytest.raises(HarmonisationError, match=r"transitions\.csv.*GM1942 did not exist in 2015.*check the direction"):
        load_transitions(path)
