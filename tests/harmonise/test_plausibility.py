"""Plausibility rules declared in the schemas (``"plausibility"`` field property).

Issue 17's example: 16,440 youth with jeugdhulp against 5,480 residents aged 0-17 (3,000 per 1,000)
was taken without a note.  By default it is refused, naming file, row, column and both values; a
source with ``plausibility = "warn"`` keeps it with an :class:`ImplausibleValueWarning` and one
audit note per row.  Small hand-written files in tmp_path; no demo data.
"""
from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import pytest

from effectmeting.cli import main
from effectmeting.errors import ImplausibleValueWarning, InputError
from effectmeting.harmonise.pipeline import harmonise
from effectmeting.harmonise.plausibility import plausibility_rules
from effectmeting.schema import load_schema
from effectmeting.sources.sources_toml import read_sources_manifest

POPULATION = ("municipality,year,population_total,population_0_17,population_18_plus\n"
              "GM0363,2020,872680,150000,722680\n"
              "GM0518,2020,27400,5480,21920\n")
OUTCOMES = ("municipality,year,youth_with_jeugdhulp,adults_with_wmo\n"
            "GM0363,2020,15000,40000\n"
            "GM0518,2020,16440,1500\n")  # row 3: 16,440 youth against 5,480 residents aged 0-17


def _sources(tmp_path: Path, outcomes: str = OUTCOMES, population: str = POPULATION, **extra) -> list[dict]:
    (tmp_path / "population.csv").write_text(population, encoding="utf-8")
    (tmp_path / "outcomes.csv").write_text(outcomes, encoding="utf-8")
    return [{"name": "pop", "path": str(tmp_path / "population.csv"), "table": "population"},
            {"name": "jeugd", "path": str(tmp_path / "outcomes.csv"), "table": "outcomes", **extra}]


def test_schemas_declare_the_rules():
    outcomes = plausibility_rules("outcomes")
    assert outcomes["youth_with_jeugdhulp"] == {"at_most": "population_0_17"}
    assert outcomes["bijstand_recipients"] == {"at_most": "population_18_plus"}
    assert plausibility_rules("population")["population_0_17"] == {"at_most": "population_total"}
    assert plausibility_rules("costs")["euros"] == {"finite": True}
    for table in ("covariates", "transitions"):  # shares are bounded by their constraints
        shares = [f for f in load_schema(table)["fields"] if f.get("unit") == "share"]
        assert shares and all(f["constraints"]["minimum"] == 0 and f["constraints"]["maximum"] == 1 for f in shares)
    for table, rules in (("outcomes", outcomes), ("population", plausibility_rules("population"))):
        described = {f["name"]: f["description"] for f in load_schema(table)["fields"]}
        assert all("Plausibility: at most" in described[name] for name in rules)


def test_issue_example_refused_naming_file_row_column_and_both_values(tmp_path):
    with pytest.raises(InputError) as caught:
        harmonise(_sources(tmp_path), reference_year=2023)
    message = str(caught.value)
    assert caught.value.reason == "implausible"
    assert "outcomes.csv, row 3, column youth_with_jeugdhulp (GM0518 2020)" in message
    assert "16,440 exceeds population_0_17 = 5,480 (population.csv, row 3)" in message
    assert "3,000 per 1,000" in message
    assert 'plausibility = "warn"' in message and "'jeugd'" in message  # what to do
    assert "GM0363" not in message  # the plausible row is not listed
    assert len(message) < 1000


def test_override_warns_and_audits_every_row(tmp_path):
    with pytest.warns(ImplausibleValueWarning, match="youth_with_jeugdhulp") as record:
        panel = harmonise(_sources(tmp_path, plausibility="warn"), reference_year=2023)
    assert any("3,000 per 1,000" in str(w.message) for w in record)
    row = panel.data[(panel.data["municipality"] == "GM0518") & (panel.data["year"] == 2020)].iloc[0]
    assert row["youth_with_jeugdhulp"] == 16440  # kept as read
    assert row["jeugdhulp_per_1000_youth"] == pytest.approx(3000.0)
    events = panel.audit.events
    notes = events[events["stage"] == "plausibility"]
    by_source = notes[notes["source"] == "jeugd"]
    assert len(by_source) == 1 and by_source["variable"].iloc[0] == "youth_with_jeugdhulp"
    assert by_source["detail"].iloc[0].startswith("row 3: 16,440 exceeds population_0_17 = 5,480")
    # the derived rate above 1,000 per 1,000 is noted in the panel's audit as well
    rates = notes[notes["variable"] == "jeugdhulp_per_1000_youth"]
    assert rates["municipality"].tolist() == ["GM0518"]
    # the audit of row fates still adds up
    assert panel.audit.rows_recorded("jeugd") == 2


def test_same_table_rule_in_population(tmp_path):
    population = POPULATION.replace("GM0518,2020,27400,5480,21920", "GM0518,2020,27400,54800,21920")
    with pytest.raises(InputError, match=r"population.csv, row 3, column population_0_17 \(GM0518 2020\): "
                                         r"54,800 exceeds population_total = 27,400 in the same row"):
        harmonise(_sources(tmp_path, outcomes=OUTCOMES.replace("16440", "1644"), population=population),
                  reference_year=2023)


def test_plausible_and_missing_values_pass_silently(tmp_path):
    outcomes = OUTCOMES.replace("16440", "")  # missing: not checked
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImplausibleValueWarning)
        panel = harmonise(_sources(tmp_path, outcomes=outcomes), reference_year=2023)
    assert (panel.audit.events["stage"] == "plausibility").sum() == 0


def test_manifest_key_checked_and_cli_exits_2(tmp_path):
    _sources(tmp_path)
    manifest = tmp_path / "sources.toml"
    base = ('[[source]]\nname = "pop"\npath = "population.csv"\ntable = "population"\n'
            '[[source]]\nname = "jeugd"\npath = "outcomes.csv"\ntable = "outcomes"\n')
    manifest.write_text(base + 'plausibility = "ignore"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"plausibility 'ignore' is not one of \['error', 'warn'\]"):
        read_sources_manifest(manifest)
    manifest.write_text(base, encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(["harmonise", "--sources", str(manifest), "--out", str(tmp_path / "out")])
    assert status == 2 and "Traceback" not in err.getvalue()
    assert "outcomes.csv, row 3, column youth_with_jeugdhulp" in err.getvalue()
    manifest.write_text(base + 'plausibility = "warn"\n', encoding="utf-8")
    assert read_sources_manifest(manifest)[1].plausibility == "warn"
