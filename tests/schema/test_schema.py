"""Schemas in data_schema/ and validation of frames against them."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from effectmeting.errors import InputError, SchemaValidationError
from effectmeting.schema import SCHEMA_NAMES, field_properties, load_schema, validate

ROOT = Path(__file__).resolve().parents[2]

# Two valid rows per table (distinct primary keys), as a reader would deliver them.
VALID_ROWS: dict[str, list[dict]] = {
    "municipalities": [
        {"code": "GM0363", "name": "Amsterdam", "valid_from": "2000-01-01", "valid_to": ""},
        {"code": "GM1900", "name": "Súdwest-Fryslân", "valid_from": "2011-01-01", "valid_to": ""},
    ],
    "transitions": [
        {"effective": "2018-01-01", "old_code": "GM0140", "new_code": "GM0080", "weight": 0.6, "kind": "split"},
        {"effective": "2018-01-01", "old_code": "GM0140", "new_code": "GM1900", "weight": 0.4, "kind": "split"},
    ],
    "designs": [
        {"municipality": "GM0363", "year": 2019, "dimension": "role", "value": "help"},
        {"municipality": "GM0363", "year": 2019, "dimension": "target_group", "value": "all_ages"},
    ],
    "outcomes": [
        {"municipality": "GM0363", "year": 2019, "youth_with_jeugdhulp": 15000, "youth_with_jeugdhulp_verblijf": 900,
         "youth_with_jeugdbescherming": 1500, "youth_with_jeugdreclassering": 300, "adults_with_wmo": 40000,
         "bijstand_recipients": 41000},
        {"municipality": "GM0363", "year": 2020, "youth_with_jeugdhulp": 15500, "youth_with_jeugdhulp_verblijf": 880,
         "youth_with_jeugdbescherming": 1450, "youth_with_jeugdreclassering": 290, "adults_with_wmo": 41000,
         "bijstand_recipients": 42000},
    ],
    "costs": [
        {"municipality": "GM0363", "year": 2019, "taakveld": "6.2", "euros": 1_234_567.5},
        {"municipality": "GM0363", "year": 2019, "taakveld": "6.72", "euros": 0.0},
    ],
    "population": [
        {"municipality": "GM0363", "year": 2019, "population_total": 862965, "population_0_17": 150000,
         "population_18_plus": 712965},
        {"municipality": "GM0014", "year": 2019, "population_total": 231299, "population_0_17": 40000,
         "population_18_plus": 191299},
    ],
    "covariates": [
        {"municipality": "GM0363", "year": 2019, "urbanity": 1, "deprivation_index": 0.4, "single_parent_share": 0.09},
        {"municipality": "GM0014", "year": 2019, "urbanity": 1.6, "deprivation_index": -0.2, "single_parent_share": 0.07},
    ],
    "price_index": [{"year": 2019, "index": 104.2}, {"year": 2020, "index": 105.5}],
}


def _frame(table: str) -> pd.DataFrame:
    frame = pd.DataFrame(VALID_ROWS[table]).astype("object")
    frame["source_row"] = [2, 3]
    frame.attrs["source_file"] = f"/data/{table}.csv"
    return frame


def _constraint_cases():
    """One (table, field, bad value, expected problem) per constraint in every schema."""
    cases = []
    for table in SCHEMA_NAMES:
        for field in load_schema(table)["fields"]:
            c = field.get("constraints", {})
            name = field["name"]
            if c.get("required"):
                cases.append((table, name, "", "required value is missing"))
            if "minimum" in c:
                cases.append((table, name, c["minimum"] - 1, f"less than minimum {c['minimum']}"))
            if "maximum" in c:
                cases.append((table, name, c["maximum"] + 1, f"greater than maximum {c['maximum']}"))
            if "exclusiveMinimum" in c:
                cases.append((table, name, c["exclusiveMinimum"], f"not greater than {c['exclusiveMinimum']}"))
            if "pattern" in c:
                cases.append((table, name, "GM12", "does not match pattern"))
            if "enum" in c:
                cases.append((table, name, "bogus", "not one of the allowed values"))
            if field["type"] in ("integer", "number"):
                cases.append((table, name, "12a", "not a "))
            if field["type"] == "integer":
                cases.append((table, name, 2019.5, "not a whole number"))
            if field["type"] == "date":
                cases.append((table, name, "31-12-2019", "not a date in the format YYYY-MM-DD"))
    return cases


CASES = _constraint_cases()


def test_schemas_exist_once_and_data_schema_links_to_them():
    """One copy: the package's reference/schemas; the repository's data_schema/ is a link to it."""
    link = ROOT / "data_schema"
    bundled = ROOT / "src/effectmeting/reference/schemas"
    assert link.is_symlink() and link.resolve() == bundled.resolve()
    assert sorted(p.name for p in bundled.glob("*.json")) == sorted(f"{n}.json" for n in SCHEMA_NAMES)
    assert not (ROOT / "src/effectmeting/data_schema").exists()


@pytest.mark.parametrize("table", SCHEMA_NAMES)
def test_schema_is_complete_documentation(table):
    schema = load_schema(table)
    assert schema["name"] == table and len(schema["description"]) > 80
    assert schema["missingValues"] == ["", "NA", ".", "x", "-", "?"]
    names = [f["name"] for f in schema["fields"]]
    assert set(schema["primaryKey"]) <= set(names)
    population_fields = {f["name"] for f in load_schema("population")["fields"]}
    for field in schema["fields"]:
        assert {"name", "type", "description", "constraints", "unit", "aggregation"} <= set(field), field["name"]
        assert field["aggregation"] in {"key", "sum", "weighted_mean", "design", "none"}
        if field["aggregation"] == "weighted_mean":
            assert field["weight"] in population_fields
        if field["name"] == "year":
            assert (field["constraints"]["minimum"], field["constraints"]["maximum"]) == (2000, 2100)
        if field["name"] in {"municipality", "code", "old_code", "new_code"}:
            assert field["constraints"]["pattern"] == "^GM[0-9]{4}$"


def test_field_properties_give_units_and_aggregation():
    props = field_properties("covariates").set_index("name")
    assert list(props.columns) == ["type", "unit", "aggregation", "weight", "required", "description"]
    assert props.loc["urbanity", "aggregation"] == "weighted_mean"
    assert props.loc["urbanity", "weight"] == "population_total"
    assert props.loc["municipality", "aggregation"] == "key" and props.loc["municipality", "required"]
    costs = field_properties("costs").set_index("name")
    assert (costs.loc["euros", "unit"], costs.loc["euros", "aggregation"]) == ("euro", "sum")
    enum = load_schema("costs")["fields"][2]["constraints"]["enum"]
    assert enum == ["6.1", "6.2", "6.3", "6.4", "6.5", "6.6", "6.71", "6.72", "6.81", "6.82"]
    assert load_schema("transitions")["fields"][4]["constraints"]["enum"] == ["merged", "split", "boundary_correction"]


def test_unknown_schema_is_refused():
    with pytest.raises(InputError, match="Unknown schema 'kosten'.*costs"):
        load_schema("kosten")


@pytest.mark.parametrize("table", SCHEMA_NAMES)
def test_valid_rows_pass_and_are_typed(table):
    frame = _frame(table)
    frame["note__marker"] = ["a", None]
    frame.index = [10, 11]
    typed = validate(frame, table)
    assert list(typed.index) == [10, 11] and "note__marker" in typed.columns
    for field in load_schema(table)["fields"]:
        expected = {"integer": "Int64", "number": "float64", "string": "str"}.get(field["type"])
        if expected:
            assert str(typed[field["name"]].dtype) == expected, field["name"]
        if field["type"] == "date":
            assert typed[field["name"]].dtype.kind == "M"


@pytest.mark.parametrize(("table", "field", "bad", "problem"), CASES, ids=[f"{c[0]}.{c[1]}={c[2]!r}" for c in CASES])
def test_each_constraint_fails_with_file_row_field_value(table, field, bad, problem):
    frame = _frame(table)
    frame.loc[1, field] = bad
    with pytest.raises(SchemaValidationError) as raised:
        validate(frame, table)
    failures = raised.value.failures
    assert len(failures) == 1, failures
    failure = failures.iloc[0]
    assert (failure["file"], failure["row"], failure["field"]) == (f"/data/{table}.csv", 3, field)
    assert problem in failure["problem"]
    shown = f"'{bad}'"
    assert failure["value"] == shown
    assert f"{table}.csv, row 3, field {field}, value {shown}, problem: {failure['problem']}" in str(raised.value)
    assert "What to do" in str(raised.value).splitlines()[-1]


def test_every_failure_is_reported_at_once():
    frame = _frame("costs")
    frame.loc[0, "euros"] = "-12"
    frame.loc[1, "year"] = "1890"
    frame.loc[1, "taakveld"] = "6.7"
    with pytest.raises(SchemaValidationError) as raised:
        validate(frame, "costs", source_file="costs.csv")
    failures = raised.value.failures
    assert list(failures.columns) == ["file", "row", "field", "value", "problem"]
    assert failures[["row", "field", "value"]].values.tolist() == [
        [2, "euros", "'-12'"], [3, "year", "'1890'"], [3, "taakveld", "'6.7'"]
    ]
    assert "costs.csv, row 2, field euros, value '-12', problem: less than minimum 0" in str(raised.value)


def test_duplicate_primary_key_names_all_rows():
    frame = pd.concat([_frame("costs"), _frame("costs").iloc[[0]]], ignore_index=True)
    frame["source_row"] = [2, 3, 17]
    with pytest.raises(SchemaValidationError) as raised:
        validate(frame, "costs")
    failures = raised.value.failures
    assert failures["row"].tolist() == [2, 17]
    assert (failures["field"] == "(municipality, year, taakveld)").all()
    assert failures["value"].iloc[0] == "('GM0363', '2019', '6.2')"
    assert failures["problem"].str.contains("same key is on rows 2, 17").all()


def test_single_field_key_duplicates_are_found():
    frame = _frame("price_index")
    frame.loc[1, "year"] = 2019
    with pytest.raises(SchemaValidationError, match="duplicate primary key"):
        validate(frame, "price_index")


def test_missing_required_column_names_column_and_columns_found():
    frame = _frame("population").drop(columns=["year"])
    with pytest.raises(SchemaValidationError) as raised:
        validate(frame, "population")
    message = str(raised.value)
    assert "field year" in message and "required column is missing" in message
    assert "columns found: municipality, population_total" in message
    assert "rename the source columns" in message.splitlines()[-1]


def test_optional_columns_may_be_absent():
    frame = _frame("outcomes")[["municipality", "year", "youth_with_jeugdhulp", "source_row"]]
    assert validate(frame, "outcomes")["youth_with_jeugdhulp"].tolist() == [15000, 15500]


def test_markers_become_missing_with_reason():
    frame = _frame("outcomes")
    frame.loc[0, "youth_with_jeugdreclassering"] = " x "
    frame.loc[1, "youth_with_jeugdreclassering"] = "."
    frame.loc[1, "adults_with_wmo"] = ""
    typed = validate(frame, "outcomes")
    assert typed["youth_with_jeugdreclassering"].isna().all()
    assert typed["youth_with_jeugdreclassering__marker"].tolist() == ["secret", "not_available"]
    assert pd.isna(typed.loc[1, "adults_with_wmo"]) and "adults_with_wmo__marker" not in typed


def test_required_value_behind_a_marker_says_why():
    frame = _frame("population")
    frame.loc[0, "population_total"] = "x"
    with pytest.raises(SchemaValidationError) as raised:
        validate(frame, "population")
    assert raised.value.failures["problem"].tolist() == ["required value is missing (CBS marker: secret)"]
    assert raised.value.failures["value"].tolist() == ["'x'"]


def test_reader_text_in_dutch_number_column_is_not_guessed():
    # "1.5" in a decimal-comma file is neither 1.5 nor 15: the reader kept it as text.
    frame = _frame("costs")
    frame.loc[1, "euros"] = "1.5"
    frame.attrs["decimal"] = ","
    with pytest.raises(SchemaValidationError, match="value '1.5', problem: not a number"):
        validate(frame, "costs")
    frame.attrs.pop("decimal")
    assert validate(frame, "costs")["euros"].tolist() == [1_234_567.5, 1.5]


def test_message_is_capped_but_failures_are_complete():
    rows = [{"municipality": "GM0363", "year": 2000 + i % 100, "taakveld": "6.1", "euros": -1} for i in range(120)]
    frame = pd.DataFrame(rows)
    frame["source_row"] = range(2, 122)
    with pytest.raises(SchemaValidationError) as raised:
        validate(frame, "costs")
    assert len(raised.value.failures) == 120 + 40  # 120 negative euros + 40 rows sharing a key
    lines = str(raised.value).splitlines()
    assert len(lines) <= 50 and "and 115 more" in lines[-2]


def test_own_schema_file(tmp_path):
    own = tmp_path / "schema.json"
    own.write_text(json.dumps({"name": "own", "fields": [{"name": "n", "type": "integer", "constraints": {"maximum": 3}}]}))
    with pytest.raises(SchemaValidationError, match="row 2, field n, value '4'"):
        validate(pd.DataFrame({"n": [1, 4]}), own)
