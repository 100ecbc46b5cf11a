"""Readers: Dutch CSV, encodings, CBS StatLine exports, Parquet, cached StatLine fetches."""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from effectmeting.errors import InputError, SchemaValidationError
from effectmeting.schema import validate
from effectmeting.sources.cbs import fetch_statline
from effectmeting.schema.numbers import parse_numbers
from effectmeting.sources.readers import read_table

COSTS_NL = (
    "gemeente;jaar;taakveld;bedrag\n"
    "GM0363;2019;6.1;1.234,5\n"
    "GM0363;2019;6.71;-0,5\n"
    "GM0014;2020;6.2;12\n"
    "GM0014;2021;6.81;1.000.000\n"
)
COSTS_COLUMNS = {"gemeente": "municipality", "jaar": "year", "bedrag": "euros"}

STATLINE = (
    '"ID";"RegioS";"Perioden";"TotaleBevolking_1";"JongerenMetJeugdhulp_2"\n'
    '0;"NL01    ";"2019JJ00";"  17282163";"    428770"\n'
    '1;"GM0363  ";"2019JJ00";"    862965";"       x"\n'
    '2;"PV27    ";"2019JJ00";"   2879527";"         ."\n'
    '3;"GM0014  ";"2019JJ00";"    231299";"      9835"\n'
    '4;"GM1900  ";"2019JJ00";"     89583";"         -"\n'
    '5;"CR01    ";"2019JJ00";"    168493";"         ?"\n'
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.234,5", 1234.5), ("-0,5", -0.5), ("12", 12.0), ("1.000.000", 1_000_000.0), ("+3,25", 3.25)],
)
def test_dutch_numbers(text, expected):
    numbers, parsed = parse_numbers(pd.Series([text]), decimal=",")
    assert parsed.iloc[0] and numbers.iloc[0] == expected


@pytest.mark.parametrize("text", ["1.5", "12a", "1,2,3", "1.23.456", "", ",5"])
def test_not_dutch_numbers(text):
    assert not parse_numbers(pd.Series([text]), decimal=",")[1].iloc[0]


def test_dutch_csv_read_and_validated(tmp_path):
    path = tmp_path / "kosten.csv"
    path.write_text(COSTS_NL, encoding="utf-8")
    frame = read_table(path, columns=COSTS_COLUMNS)
    assert frame["source_row"].tolist() == [2, 3, 4, 5]
    assert frame["euros"].tolist() == [1234.5, -0.5, 12.0, 1_000_000.0]
    assert frame["year"].dtype == "Int64" and frame["taakveld"].tolist() == ["6.1", "6.71", "6.2", "6.81"]
    assert (frame.attrs["decimal"], frame.attrs["separator"], frame.attrs["encoding"]) == (",", ";", "utf-8")
    assert frame.attrs["source_file"] == str(path)
    with pytest.raises(SchemaValidationError) as raised:
        validate(frame, "costs")
    assert raised.value.failures[["row", "field", "value"]].values.tolist() == [[3, "euros", "'-0.5'"]]
    assert "kosten.csv, row 3, field euros, value '-0.5', problem: less than minimum 0" in str(raised.value)


def test_explicit_csv_nl_and_plain_csv(tmp_path):
    nl = tmp_path / "a.txt"
    nl.write_text("a;b\n1.500;2,5\n", encoding="utf-8")
    assert read_table(nl, format="csv_nl")[["a", "b"]].values.tolist() == [[1500.0, 2.5]]
    plain = tmp_path / "b.csv"
    plain.write_text("a,b\n1.500,2\n", encoding="utf-8")
    frame = read_table(plain)
    assert frame["a"].tolist() == [1.5] and frame["b"].tolist() == [2] and frame.attrs["decimal"] == "."


def test_semicolon_file_with_decimal_points_is_recognised(tmp_path):
    path = tmp_path / "dots.csv"
    path.write_text("municipality;year;index\nGM0363;2019;104.25\nGM0363;2020;1.500\n", encoding="utf-8")
    frame = read_table(path)
    assert frame.attrs["decimal"] == "." and frame["index"].tolist() == [104.25, 1.5]


def test_unparsable_cell_is_kept_for_the_validator(tmp_path):
    path = tmp_path / "costs.csv"
    path.write_text("municipality;year;taakveld;euros\nGM0363;2019;6.1;12a\nGM0363;2019;6.2;1.234\n", encoding="utf-8")
    frame = read_table(path)
    assert frame["euros"].tolist() == ["12a", "1.234"]  # not a number column: left as text
    with pytest.raises(SchemaValidationError, match="costs.csv, row 2, field euros, value '12a', problem: not a number"):
        validate(frame, "costs")


def test_zero_padded_codes_are_kept_as_text(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("code;jaar\n0363 ;2019\n0014;2019\n", encoding="utf-8")
    frame = read_table(path)
    assert frame["code"].tolist() == ["0363 ", "0014"] and frame["jaar"].tolist() == [2019, 2019]


def test_utf8_bom(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffmunicipality;name\nGM1900;Súdwest-Fryslân\n".encode("utf-8"))
    frame = read_table(path)
    assert list(frame.columns) == ["source_row", "municipality", "name"]
    assert frame["name"].tolist() == ["Súdwest-Fryslân"] and frame.attrs["encoding"] == "utf-8-sig"


def test_latin1_cp1252(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("code;naam\nGM1900;Súdwest-Fryslân\nGM0796;’s-Hertogenbosch\n".encode("cp1252"))
    frame = read_table(path)
    assert frame["naam"].tolist() == ["Súdwest-Fryslân", "’s-Hertogenbosch"]
    assert frame.attrs["encoding"] == "cp1252"


def test_line_numbers_with_blank_lines_and_quoted_newlines(tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text('code;note;n\nGM0363;"two\nlines";1\n\nGM0014;plain;2\n;;\nGM1900;x;3\n', encoding="utf-8")
    frame = read_table(path)
    assert frame["source_row"].tolist() == [2, 5, 7]
    assert frame.attrs["empty_rows"] == [4, 6]


def test_statline_export(tmp_path):
    path = tmp_path / "03759ned.csv"
    path.write_text(STATLINE, encoding="utf-8")
    frame = read_table(path, columns={"RegioS": "municipality", "TotaleBevolking_1": "population_total"})
    assert frame.attrs["format"] == "cbs_statline"
    assert frame["municipality"].tolist() == ["GM0363", "GM0014", "GM1900"]
    assert frame["year"].tolist() == [2019, 2019, 2019] and frame["source_row"].tolist() == [3, 5, 6]
    assert frame["population_total"].tolist() == [862965, 231299, 89583]
    youth = frame["JongerenMetJeugdhulp_2"]
    # "-" is CBS's nil: zero, with "nil" kept in the marker column (issue 17)
    assert youth.isna().tolist() == [True, False, False] and youth.tolist()[1:] == [9835, 0]
    assert frame["JongerenMetJeugdhulp_2__marker"].tolist()[::2] == ["secret", "nil"]
    assert pd.isna(frame["JongerenMetJeugdhulp_2__marker"].iloc[1])
    aside = frame.attrs["set_aside"]
    assert aside.values.tolist() == [
        [2, "NL01", "country, not a municipality"],
        [4, "PV27", "province, not a municipality"],
        [7, "CR01", "COROP region, not a municipality"],
    ]
    validated = validate(frame, "population")
    assert validated["population_total"].sum() == 862965 + 231299 + 89583


def test_statline_quarters_are_set_aside_not_fatal(tmp_path):
    # Issue 12: a quarter (or month, half year) period is set aside with an audit row; the years still read.
    path = tmp_path / "q.csv"
    path.write_text('"ID";"RegioS";"Perioden";"A_1"\n0;"GM0363  ";"2019KW01";"5"\n1;"GM0363  ";"2019JJ00";"7"\n',
                    encoding="utf-8")
    frame = read_table(path)
    assert frame[["source_row", "year", "A_1"]].values.tolist() == [[3, 2019, 7]]
    assert frame.attrs["set_aside"].values.tolist() == [
        [2, "GM0363", "period '2019KW01' is a quarter, not a calendar year (JJ); effectmeting reads years"]]


def test_parquet_round_trip(tmp_path):
    original = pd.DataFrame(
        {"municipality": ["GM0363", "GM0014"], "year": [2019, 2020], "euros": [1.5, 2.0], "taakveld": ["6.1", "6.2"]}
    )
    path = tmp_path / "costs.parquet"
    original.to_parquet(path, index=False)
    frame = read_table(path)
    assert frame["source_row"].tolist() == [1, 2] and frame.attrs["format"] == "parquet"
    pd.testing.assert_frame_equal(frame.drop(columns="source_row"), original, check_dtype=False)
    assert validate(frame, "costs")["euros"].tolist() == [1.5, 2.0]


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.csv"
    with pytest.raises(InputError, match=r"nowhere.csv does not exist\. Check the path"):
        read_table(path)


def test_rename_of_absent_column(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("a;b\n1;2\n", encoding="utf-8")
    with pytest.raises(InputError, match="no column\\(s\\) gemeente.*columns found: a, b"):
        read_table(path, columns={"gemeente": "municipality"})


class RecordedClient:
    """Stands in for cbsodata: returns rows recorded from StatLine's UntypedDataSet."""

    def __init__(self):
        self.calls = []

    def get_meta(self, table_id, name):
        self.calls.append((table_id, name))
        return [
            {"ID": 0, "RegioS": "NL01    ", "Perioden": "2020JJ00", "TotaleBevolking_1": "  17407585"},
            {"ID": 1, "RegioS": "GM0363  ", "Perioden": "2020JJ00", "TotaleBevolking_1": "    872757"},
            {"ID": 2, "RegioS": "GM0014  ", "Perioden": "2020JJ00", "TotaleBevolking_1": "         x"},
        ]


class OfflineClient:
    def get_meta(self, table_id, name):
        raise AssertionError("the cache should have been used")


def test_fetch_statline_caches_as_json(tmp_path):
    client = RecordedClient()
    frame = fetch_statline("03759ned", cache_dir=tmp_path, client=client)
    assert client.calls == [("03759ned", "UntypedDataSet")]
    assert frame["RegioS"].tolist() == ["GM0363", "GM0014"] and frame["year"].tolist() == [2020, 2020]
    assert frame["TotaleBevolking_1__marker"].tolist()[1] == "secret"
    assert frame.attrs["set_aside"]["region"].tolist() == ["NL01"]
    cached = json.loads((tmp_path / "03759ned.json").read_text(encoding="utf-8"))
    assert cached["rows"][1]["RegioS"] == "GM0363  "
    again = fetch_statline("03759ned", cache_dir=tmp_path, client=OfflineClient())
    pd.testing.assert_frame_equal(again, frame)


def test_fetch_statline_refuses_odd_table_ids(tmp_path):
    with pytest.raises(InputError, match="not valid"):
        fetch_statline("../etc", cache_dir=tmp_path, client=RecordedClient())


def test_cbs_module_does_not_import_cbsodata():
    code = "import sys, effectmeting.sources.cbs, effectmeting.sources.readers; print('cbsodata' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_plain_csv_taakveld_numbers_become_codes_again(tmp_path):
    # A plain CSV makes 6.1 a number; the schema says taakveld is text, and 6.1 must not become '6.10'.
    path = tmp_path / "costs.csv"
    path.write_text("municipality,year,taakveld,euros\nGM0363,2019,6.1,10\nGM0363,2019,6.71,2.5\nGM0363,2019,6.2,3\n")
    frame = read_table(path)
    assert frame["taakveld"].dtype == "float64"
    assert validate(frame, "costs")["taakveld"].tolist() == ["6.1", "6.71", "6.2"]


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=-10**12, max_value=10**12), st.integers(min_value=0, max_value=99))
def test_dutch_notation_matches_python_formatting(whole, cents):
    # Reference: Python's own grouping format, with the Dutch separators swapped in.
    value = whole + (cents / 100 if whole >= 0 else -cents / 100)
    text = f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    numbers, parsed = parse_numbers(pd.Series([text]), decimal=",")
    assert parsed.iloc[0] and numbers.iloc[0] == pytest.approx(float(f"{value:.2f}"), rel=1e-15, abs=1e-9)


def test_suppressed_cells_keep_dutch_numbers_right(tmp_path):
    # 'x' makes the column text for the reader; the validator still reads 1.234 as 1234.
    path = tmp_path / "outcomes.csv"
    path.write_text("municipality;year;adults_with_wmo\nGM0363;2019;1.234\nGM0014;2019;x\nGM1900;2019;12\n")
    typed = validate(read_table(path), "outcomes")
    assert typed["adults_with_wmo"].tolist()[::2] == [1234, 12] and pd.isna(typed["adults_with_wmo"].iloc[1])
    assert typed["adults_with_wmo__marker"].tolist()[1] == "secret"


def test_leading_comment_block_is_skipped_and_lines_still_counted(tmp_path):
    path = tmp_path / "commented.csv"
    path.write_text("# source: CBS StatLine, downloaded 2024-01-01\n  # second comment line\n"
                    "municipality,year,value\nGM0363,2020,1.5\n#x,2021,2\n", encoding="utf-8")
    frame = read_table(path)
    assert frame.attrs["header_line"] == 3
    assert frame["source_row"].tolist() == [4, 5]  # physical line numbers, comments counted
    assert frame["municipality"].tolist() == ["GM0363", "#x"]  # '#' after the header is data
    assert frame["value"].tolist() == [1.5, 2.0]


def test_bundled_register_with_source_comment_reads(tmp_path):
    from importlib.resources import files

    frame = read_table(files("effectmeting.reference") / "data" / "municipalities.csv")
    assert {"code", "name", "valid_from", "valid_to"} <= set(frame.columns)
    assert frame["source_row"].iloc[0] == 3  # line 1 '# source: ...', line 2 header


def test_missing_header_names_file_and_first_line(tmp_path):
    only = tmp_path / "only_comments.csv"
    only.write_text("# nothing but a comment\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"only_comments\.csv: no header line found.*'# nothing but a comment'"):
        read_table(only)
    wrong = tmp_path / "wrong_header.csv"
    wrong.write_text("GM0363;2020;5\nGM0014;2020;7\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"wrong_header\.csv has no column\(s\) Gemeentecode.*header on line 1: "
                                         r"'GM0363;2020;5'"):
        read_table(wrong, columns={"Gemeentecode": "municipality"})
