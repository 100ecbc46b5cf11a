"""Demo generator: determinism, realistic magnitudes, staggered designs, herindelingen, truth.json.

The raw files are parsed here with plain pandas (not with effectmeting's readers) so that these
checks do not depend on the code under test elsewhere.  Magnitude ranges are those the demo is
specified to reproduce (national figures: jeugdhulp 10-13 % of 0-17 year olds, jeugdbescherming
~1 %, jeugdreclassering ~0.3 %, verblijf 2-3 %, Wmo 50-80 per 1,000 adults, bijstand 3-4 % of
adults; Iv3 lasten per inhabitant per taakveld as listed in COST_RANGES).
"""
from __future__ import annotations

import hashlib
import json
import tomllib

import numpy as np
import pandas as pd
import pytest

from effectmeting.errors import InputError
from effectmeting.sources.demo import generate_demo

COST_RANGES = {"6.1": (40, 80), "6.2": (40, 100), "6.3": (300, 500), "6.4": (50, 100), "6.5": (20, 40),
               "6.6": (80, 150), "6.71": (100, 200), "6.72": (200, 350), "6.81": (10, 30), "6.82": (80, 150)}


def _hashes(directory) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def demo(demo_dir, demo_result):
    """The session's demo (tests/conftest.py: generate_demo(seed=20240101)); read-only."""
    return demo_dir, demo_result


@pytest.fixture(scope="module")
def population(demo):
    out, _ = demo
    raw = pd.read_csv(out / "population_statline.csv", sep=";", dtype=str)
    raw["region"] = raw["RegioS"].str.strip()
    raw["year"] = raw["Perioden"].str[:4].astype(int)
    for column in ("TotaleBevolking_1", "JongerenTot18Jaar_2", "Volwassenen18JaarOfOuder_3"):
        raw[column] = raw[column].astype(int)
    return raw


@pytest.fixture(scope="module")
def outcomes(demo, population):
    out, _ = demo
    raw = pd.read_csv(out / "outcomes_nl.csv", sep=";", encoding="latin-1", dtype=str, keep_default_na=False)
    raw["code"] = "GM" + raw["Gemeentecode"].str.zfill(4)
    raw["year"] = raw["Jaar"].astype(int)
    municipal = population[population["region"].str.startswith("GM")]
    return raw.merge(municipal, left_on=["code", "year"], right_on=["region", "year"], how="left")


@pytest.fixture(scope="module")
def designs(demo):
    out, _ = demo
    from effectmeting.harmonise.codes import normalise_municipality_code

    raw = pd.read_csv(out / "designs.csv", dtype=str)
    raw["code"] = normalise_municipality_code(raw["gemeente"]).to_numpy()
    raw["jaar"] = raw["jaar"].astype(int)
    return raw


def test_same_seed_gives_byte_identical_files(demo, tmp_path):
    out, _ = demo
    generate_demo(tmp_path / "again", seed=20240101)
    assert _hashes(tmp_path / "again") == _hashes(out)


def test_returns_paths_and_writes_every_listed_file(demo):
    out, result = demo
    assert result["units"] == 342
    manifest = tomllib.loads((out / "sources.toml").read_text(encoding="utf-8"))
    listed = {s["name"]: s for s in manifest["source"]}
    assert set(listed) == set(result["files"])
    for entry in listed.values():
        assert (out / entry["path"]).is_file()
        assert entry["table"] in {"population", "outcomes", "costs", "designs", "covariates", "price_index",
                                  "transitions"}
    assert listed["outcomes"]["format"] == "csv_nl" and listed["population"]["format"] == "cbs_statline"
    assert listed["outcomes"]["columns"]["Gemeentecode"] == "municipality"


def test_years_must_lie_in_the_register(tmp_path):
    with pytest.raises(InputError, match="2015 <= first_year"):
        generate_demo(tmp_path, first_year=2010)


def test_population_magnitudes(population):
    municipal = population[population["region"].str.startswith("GM")]
    in_2023 = municipal[municipal["year"] == 2023]
    assert len(in_2023) == 342
    assert 900 <= in_2023["TotaleBevolking_1"].min() <= 5_000
    assert 700_000 <= in_2023["TotaleBevolking_1"].max() <= 1_000_000
    youth_share = municipal["JongerenTot18Jaar_2"].sum() / municipal["TotaleBevolking_1"].sum()
    assert 0.17 <= youth_share <= 0.23
    assert (municipal["JongerenTot18Jaar_2"] + municipal["Volwassenen18JaarOfOuder_3"]
            == municipal["TotaleBevolking_1"]).all()
    # country and province rows are present (harmonisation must set them aside) and add up
    country = population[population["region"] == "NL01"].set_index("year")["TotaleBevolking_1"]
    assert (country == municipal.groupby("year")["TotaleBevolking_1"].sum()).all()
    assert population["region"].str.startswith("PV").sum() == 12 * 10
    assert population["RegioS"].str.len().eq(8).all()  # padded like StatLine's "GM0363  "


@pytest.mark.parametrize("column, denominator, low, high", [
    ("Jongeren met jeugdhulp", "JongerenTot18Jaar_2", 100, 130),
    ("Jongeren met jeugdhulp met verblijf", "JongerenTot18Jaar_2", 20, 30),
    ("Jongeren met jeugdbescherming", "JongerenTot18Jaar_2", 7, 13),
    ("Jongeren met jeugdreclassering", "JongerenTot18Jaar_2", 2, 4),
    ("Personen met Wmo-maatwerkvoorziening", "Volwassenen18JaarOfOuder_3", 50, 80),
    ("Personen met bijstand", "Volwassenen18JaarOfOuder_3", 30, 40),
])
def test_outcome_rates_per_1000(outcomes, column, denominator, low, high):
    text = outcomes[column]
    counts = pd.to_numeric(text.str.replace(".", "", regex=False), errors="coerce")
    shown = counts.notna()
    rate = 1000 * counts[shown].sum() / outcomes.loc[shown, denominator].sum()
    assert low <= rate <= high
    # suppression: only x (count < 5) and . (not available) stand in for numbers
    assert set(text[~shown]) <= {"x", "."}
    assert (counts[shown] >= 5).all()


def test_outcome_codes_and_dutch_number_format(demo, outcomes):
    out, _ = demo
    codes = outcomes["Gemeentecode"]
    assert codes.str.fullmatch(r"\d{1,4}").all()
    assert codes.str.startswith("0").any() and (~codes.str.startswith("0")).any()  # '0363' and '363'
    assert outcomes["Jongeren met jeugdhulp"].str.fullmatch(r"\d{1,3}\.\d{3}").any()  # thousands dot
    assert outcomes["Aandeel jongeren met jeugdhulp (%)"].str.contains(",").all()  # decimal comma
    raw = (out / "outcomes_nl.csv").read_bytes()
    raw.decode("latin-1")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # Latin-1 names such as Súdwest-Fryslân


def test_cost_magnitudes_per_inhabitant(demo, population):
    out, _ = demo
    costs = pd.read_parquet(out / "costs.parquet")
    assert costs["gemeente"].str.fullmatch(r"GM[1-9]\d{0,3}").all()  # GM363 style
    costs["code"] = "GM" + costs["gemeente"].str[2:].str.zfill(4)
    merged = costs.merge(population, left_on=["code", "jaar"], right_on=["region", "year"], validate="many_to_one")
    merged["per_inhabitant"] = merged["lasten"] / merged["TotaleBevolking_1"]
    medians = merged.groupby("taakveld")["per_inhabitant"].median()
    for taakveld, (low, high) in COST_RANGES.items():
        assert low <= medians[taakveld] <= high, taakveld
    # nominal euros grow with prices: 2024 above 2016 for the national total
    total = merged.groupby("jaar")["lasten"].sum()
    assert total[2024] > 1.2 * total[2016]


def test_price_index(demo):
    out, _ = demo
    index = pd.read_csv(out / "price_index.csv").set_index("year")["index"]
    assert index[2015] == 100
    change = index.pct_change().dropna()
    assert 0.08 <= change[2022] <= 0.12
    assert change.drop(2022).between(0.0, 0.05).all()


def test_staggered_adoption_never_adopters_and_switchers(designs):
    role = designs[designs["dimensie"] == "role"].pivot(index="code", columns="jaar", values="waarde")
    role = role[role.notna().all(axis=1)]  # municipalities that exist in every year
    on = role == "gives_help"
    first = on.idxmax(axis=1).where(on.any(axis=1))
    cohorts = first.dropna().astype(int).value_counts()
    assert set(range(2016, 2023)) <= set(cohorts.index)
    assert 0.15 <= (~on.any(axis=1)).mean() <= 0.35  # ~25 % never adopt
    switched_back = on.any(axis=1) & ~on.iloc[:, -1]
    assert switched_back.sum() >= 3
    target = designs[(designs["dimensie"] == "target_group") & (designs["waarde"] == "all_ages")]
    assert target.groupby("code")["jaar"].min().nunique() >= 5
    assert set(designs["dimensie"]) == {"role", "target_group", "organisation", "expertise", "integrated_budget",
                                        "maturity"}
    # names and codes both occur
    assert designs["gemeente"].str.fullmatch(r"GM\d{4}").any() and (~designs["gemeente"].str.startswith("GM")).any()


def test_adoption_is_confounded_with_size(designs, population):
    role = designs[(designs["dimensie"] == "role") & (designs["jaar"] == 2023)]
    pop = population[population["year"] == 2023].set_index("region")["TotaleBevolking_1"]
    size = np.log(role["code"].map(pop))
    early = role["waarde"] == "gives_help"
    assert size[early].mean() > size[~early].mean() + 0.3  # larger municipalities adopt more


def test_predecessors_appear_under_old_codes(outcomes, designs):
    present = outcomes.groupby("code")["year"].agg(["min", "max"])
    assert present.loc["GM0788", "max"] == 2020  # Haaren, split over four municipalities in 2021
    assert present.loc["GM0017", "max"] == 2018  # Haren, merged into Groningen 2019
    assert present.loc["GM0381", "max"] == 2015  # Bussum, merged into Gooise Meren 2016
    assert present.loc["GM1942", "min"] == 2016  # Gooise Meren
    assert present.loc["GM0457", "max"] == 2022  # Weesp, into Amsterdam 2022 (in the 2023 division)
    assert outcomes.groupby("year")["code"].nunique().tolist() == [393, 390, 388, 380, 355, 355, 352, 345, 342, 342]
    haaren = designs[(designs["code"] == "GM0788") & (designs["dimensie"] == "role")]
    assert (haaren["waarde"] == "triage_only").all()


def test_truth_structure_and_internal_consistency(demo):
    out, _ = demo
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert truth["reference_year"] == 2023 and truth["seed"] == 20240101
    assert {"role=gives_help", "target_group=all_ages"} <= set(truth["designs"])
    role = truth["designs"]["role=gives_help"]
    jeugdhulp = role["outcomes"]["jeugdhulp_per_1000_youth"]
    assert jeugdhulp["unit"] == "per 1,000 residents aged 0-17"
    assert set(jeugdhulp["by_event_time"]) == {str(e) for e in range(-5, 9)}
    assert all(jeugdhulp["by_event_time"][str(e)] == 0 for e in range(-5, 0))
    assert jeugdhulp["att"] > 0 and role["outcomes"]["jeugdhulp_verblijf_per_1000_youth"]["att"] < 0
    assert role["outcomes"]["cost_6_82_per_inhabitant"]["att"] < 0 < role["outcomes"]["cost_6_72_per_inhabitant"]["att"]
    assert role["outcomes"]["bijstand_per_1000_adults"]["att"] == 0
    # effects grow with event time (ramp) and differ between cohorts
    event = jeugdhulp["by_event_time"]
    assert event["0"] < event["1"] < event["3"]
    assert jeugdhulp["by_cohort"]["2016"] > jeugdhulp["by_cohort"]["2022"]
    # overall ATT = cohort ATTs weighted by treated unit-years (cohort size x post years in 2015-2024)
    weights = {g: n * (2024 - int(g) + 1) for g, n in role["cohort_sizes"].items()}
    pooled = sum(weights[g] * jeugdhulp["by_cohort"][g] for g in weights) / sum(weights.values())
    assert pooled == pytest.approx(jeugdhulp["att"], abs=1e-5)
    assert role["never_treated"] >= 60
