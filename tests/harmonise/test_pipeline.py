"""End-to-end: demo source files -> harmonise() -> Panel on the 2023 municipalities.

References are computed here from the raw files with plain pandas and from the published
transition weights (Haaren 2021: 42.3 % of its addresses to Oisterwijk), independently of the
harmonisation code: totals per year are conserved, merged units are sums of their predecessors,
a split unit receives its share, euros are deflated with the demo price index, and the audit log
accounts for every input row.
"""
from __future__ import annotations

import hashlib
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from effectmeting.errors import EffectmetingError
from effectmeting.harmonise.pipeline import harmonise


@pytest.fixture(scope="module")
def demo(demo_dir, demo_result):
    """The session's demo (tests/conftest.py); read-only."""
    return demo_dir, demo_result


@pytest.fixture(scope="module")
def panel(demo_panel):
    """The session's harmonised demo panel (tests/conftest.py); do not modify in place."""
    return demo_panel


@pytest.fixture(scope="module")
def raw_population(demo):
    raw = pd.read_csv(demo[0] / "population_statline.csv", sep=";", dtype=str)
    raw["region"] = raw["RegioS"].str.strip()
    raw["year"] = raw["Perioden"].str[:4].astype(int)
    raw["total"] = raw["TotaleBevolking_1"].astype(int)
    raw["youth"] = raw["JongerenTot18Jaar_2"].astype(int)
    return raw


@pytest.fixture(scope="module")
def raw_outcomes(demo):
    raw = pd.read_csv(demo[0] / "outcomes_nl.csv", sep=";", encoding="latin-1", dtype=str, keep_default_na=False)
    raw["code"] = "GM" + raw["Gemeentecode"].str.zfill(4)
    raw["year"] = raw["Jaar"].astype(int)
    raw["jeugdhulp"] = pd.to_numeric(raw["Jongeren met jeugdhulp"].str.replace(".", "", regex=False), errors="coerce")
    return raw


def _value(panel, code, year, column):
    row = panel.data[(panel.data["municipality"] == code) & (panel.data["year"] == year)]
    assert len(row) == 1
    return float(row[column].iloc[0])


def test_units_years_and_balance(panel):
    balance = panel.balance()
    assert len(balance.units) == 342 and balance.years == list(range(2015, 2025))
    assert balance.balanced
    assert panel.reference_year == 2023 and panel.price_base_year == 2023
    assert {"role", "target_group", "organisation", "expertise", "integrated_budget", "maturity"} == set(
        panel.designs["dimension"])


def test_population_totals_conserved_per_year(panel, raw_population):
    municipal = raw_population[raw_population["region"].str.startswith("GM")]
    expected = municipal.groupby("year")["total"].sum()
    got = panel.data.groupby("year")["population_total"].sum()
    np.testing.assert_allclose(got.to_numpy(), expected.reindex(got.index).to_numpy(), rtol=1e-12)


def test_merged_unit_is_sum_of_predecessors_and_rate_recomputed(panel, raw_population, raw_outcomes):
    # Gooise Meren (GM1942) in 2015 = Bussum + Muiden + Naarden (merged 1 January 2016)
    parts = ["GM0381", "GM0424", "GM0425"]
    pop = raw_population[(raw_population["year"] == 2015) & raw_population["region"].isin(parts)]
    out = raw_outcomes[(raw_outcomes["year"] == 2015) & raw_outcomes["code"].isin(parts)]
    assert len(pop) == 3 and len(out) == 3
    assert _value(panel, "GM1942", 2015, "population_total") == pop["total"].sum()
    expected_rate = 1000 * out["jeugdhulp"].sum() / pop["youth"].sum()
    assert _value(panel, "GM1942", 2015, "jeugdhulp_per_1000_youth") == pytest.approx(expected_rate, rel=1e-12)


def test_split_unit_receives_its_address_share(panel, raw_population):
    # Oisterwijk (GM0824) in 2020 = Oisterwijk 2020 + 0.423 x Haaren 2020 (transitions file, 2021 split)
    year = raw_population[raw_population["year"] == 2020].set_index("region")["total"]
    assert _value(panel, "GM0824", 2020, "population_total") == pytest.approx(year["GM0824"] + 0.423 * year["GM0788"])


def test_costs_deflated_to_constant_euros(panel, demo):
    costs = pd.read_parquet(demo[0] / "costs.parquet")
    index = pd.read_csv(demo[0] / "price_index.csv").set_index("year")["index"]
    row = costs[(costs["gemeente"] == "GM34") & (costs["jaar"] == 2016) & (costs["taakveld"] == "6.72")]
    expected = float(row["lasten"].iloc[0]) * index[2023] / index[2016]
    assert _value(panel, "GM0034", 2016, "cost_6_72") == pytest.approx(expected, rel=1e-12)
    per_inhabitant = _value(panel, "GM0034", 2016, "cost_6_72_per_inhabitant")
    assert per_inhabitant == pytest.approx(expected / _value(panel, "GM0034", 2016, "population_total"))


def test_audit_counts_add_up_to_input_rows(panel, demo):
    out = demo[0]
    summary = panel.audit.summary()
    by_name = {s["name"]: s for s in panel.sources}
    file_rows = {
        "population": len(pd.read_csv(out / "population_statline.csv", sep=";")),
        "outcomes": len(pd.read_csv(out / "outcomes_nl.csv", sep=";", encoding="latin-1")),
        "costs": len(pd.read_parquet(out / "costs.parquet")),
        "designs": len(pd.read_csv(out / "designs.csv")),
        "covariates": len(pd.read_csv(out / "covariates.csv")),
        "price_index": len(pd.read_csv(out / "price_index.csv")),
        "transitions_2016": len(pd.read_csv(out / "transitions_2016.csv")),
    }
    for name, rows in file_rows.items():
        assert summary.loc[name, "total"] == rows == by_name[name]["rows"], name
        assert by_name[name]["sha256"] == hashlib.sha256((out / by_name[name]["path"].split("/")[-1])
                                                         .read_bytes()).hexdigest()
    assert summary.loc["population", "set_aside"] == 10 * 13  # NL01 + 12 provinces, 10 years
    assert summary.loc["outcomes", "merged"] > 0 and summary.loc["outcomes", "split"] > 0
    assert summary.loc["designs", "changed"] > 0  # Haaren & co. overruled by the design rule
    audit = panel.audit.frame
    assert audit.duplicated(["source", "source_row"]).sum() == 0


def test_truth_refers_to_panel_columns(panel, demo):
    truth = json.loads(demo[1]["truth"].read_text(encoding="utf-8"))
    for design in truth["designs"].values():
        assert set(design["outcomes"]) <= set(panel.data.columns)


def test_rates_in_plausible_ranges(panel):
    medians = panel.data[["jeugdhulp_per_1000_youth", "wmo_per_1000_adults", "cost_6_72_per_inhabitant"]].median()
    assert 90 <= medians["jeugdhulp_per_1000_youth"] <= 140
    assert 50 <= medians["wmo_per_1000_adults"] <= 80
    assert 200 <= medians["cost_6_72_per_inhabitant"] <= 350


def test_missing_population_source_is_refused(demo):
    out = demo[0]
    entries = [{"name": "covariates", "path": str(out / "covariates.csv"), "table": "covariates", "format": "csv"}]
    with pytest.raises(EffectmetingError, match="population"):
        harmonise(entries)


@pytest.mark.parametrize("design, outcomes", [
    ("role=gives_help", ["jeugdhulp_per_1000_youth", "jeugdhulp_verblijf_per_1000_youth", "cost_6_2_per_inhabitant",
                         "cost_6_72_per_inhabitant", "cost_6_82_per_inhabitant", "bijstand_per_1000_adults"]),
    ("target_group=all_ages", ["wmo_per_1000_adults", "cost_6_6_per_inhabitant", "cost_6_71_per_inhabitant"]),
    ("expertise=generalists_with_specialists", ["jeugdhulp_per_1000_youth", "wmo_per_1000_adults",
                                                "cost_6_72_per_inhabitant"]),
])
def test_callaway_santanna_recovers_truth_from_harmonised_panel(panel, demo, design, outcomes):
    """The planted ATTs in truth.json are what CS (never-treated controls, 'simple') estimates.

    Cells listed here are moved by at most the design itself (the demo plants the two designs'
    effects on disjoint outcomes; expertise has none), so the estimate must lie within 3 SE.
    """
    from effectmeting.estimate.callaway_santanna.aggregate import aggregate
    from effectmeting.estimate.callaway_santanna.att_gt import att_gt

    truth = json.loads(demo[1]["truth"].read_text(encoding="utf-8"))["designs"][design]["outcomes"]
    dimension, treated = design.split("=")
    values = panel.designs[panel.designs["dimension"] == dimension]
    first = values[values["value"] == treated].groupby("municipality")["year"].min()
    data = panel.data.assign(cohort=panel.data["municipality"].map(first).fillna(0).astype(int))
    for outcome in outcomes:
        complete = data.groupby("municipality")[outcome].transform(lambda s: s.notna().all())
        with warnings.catch_warnings():  # e.g. notes on cohorts without comparison cells
            warnings.simplefilter("ignore")
            result = aggregate(att_gt(data[complete], outcome=outcome, unit="municipality", time="year",
                                      cohort="cohort", control="never"), "simple")
        assert abs(result.estimate - truth[outcome]["att"]) < 3 * result.std_error, (outcome, result.estimate)



def test_cost_rates_declare_constant_euros_of_the_price_base_year(demo_panel):
    """Report axes read units from panel.variables: cost per inhabitant must carry its price year."""
    from effectmeting.report.labels import unit_label

    units = demo_panel.variables.set_index("name")["unit"]
    assert units["cost_6_72_per_inhabitant"] == "constant euros of 2023 per inhabitant per year"
    assert unit_label(units["cost_6_72_per_inhabitant"], "nl") == "euro per inwoner per jaar, prijzen 2023"
