"""Design choices: catalogue validation, treatment timing, gaps, exclusions, categories, scores, mergers.

References: hand-made histories with their cohorts worked out by hand (in the comments); a plain
per-municipality Python loop written here (``reference_timing``) on random histories; the demo
generator's own wide-array cohort function (``sources.demo_model.first_adoption``, written
independently); and, marked slow, the demo's ``truth.json`` cohort sizes after full harmonisation.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from effectmeting.designs import (
    DIMENSIONS, DesignError, DesignValidationError, Dimension, compare_categories, derive_treatment,
    describe_dimensions, merged_municipalities, validate_designs,
)
from effectmeting.errors import EffectmetingError, SchemaValidationError
from effectmeting.harmonise.audit import AuditLog
from effectmeting.harmonise.crosswalk import to_reference_year
from effectmeting.harmonise.panel import Panel

YEARS = list(range(2015, 2021))
T, H = "triage_only", "gives_help"
# municipality -> role in 2015..2020 (None = no row that year)
ROLE_HISTORY = {
    "GM0001": [T, T, H, H, H, H],        # adopts 2017
    "GM0002": [T, T, T, T, T, T],        # never
    "GM0003": [T, H, H, T, T, T],        # adopts 2016, back to a loket in 2018
    "GM0004": [H, H, H, H, H, H],        # treated at start (2015)
    "GM0005": [T, T, T, H, H, H],        # adopts 2018
    "GM0006": [T, None, T, H, H, H],     # gap in 2016, adopts 2018
}


def long_history(history: dict, dimension: str = "role", years=YEARS) -> pd.DataFrame:
    rows = [(m, y, dimension, v) for m, values in history.items() for y, v in zip(years, values) if v is not None]
    return pd.DataFrame(rows, columns=["municipality", "year", "dimension", "value"])


def role_designs() -> pd.DataFrame:
    return long_history(ROLE_HISTORY)


# -- catalogue ---------------------------------------------------------------------------------

def test_catalogue_entries_are_complete_and_documented():
    for name, dim in DIMENSIONS.items():
        assert dim.name == name and dim.description
        if dim.kind == "score":
            assert dim.score_min == 0 and dim.score_max > 0
        else:
            assert dim.reference in dim.categories and all(dim.categories.values())
    assert DIMENSIONS["role"].allowed == ["triage_only", "gives_help"]
    assert DIMENSIONS["role"].reference == "triage_only"
    assert set(DIMENSIONS["target_group"].categories) == {"all_ages", "youth", "adults"}
    assert {f"maturity_{f}" for f in ("safe_environment", "early_signalling", "accessible_help", "broad_view",
                                      "learning")} <= set(DIMENSIONS)
    text = describe_dimensions()
    for name in DIMENSIONS:
        assert f"## `{name}`" in text
    assert "'loket'" in text and "| `gives_help` |" in text and "Veilige leefomgeving" in text


def test_dimension_definitions_are_checked():
    with pytest.raises(DesignError, match="exactly 2"):
        Dimension("x", "binary", "d", {"a": "A", "b": "B", "c": "C"}, reference="a")
    with pytest.raises(DesignError, match="reference 'z'"):
        Dimension("x", "categorical", "d", {"a": "A", "b": "B", "c": "C"}, reference="z")
    with pytest.raises(DesignError, match="score_min < score_max"):
        Dimension("x", "score", "d", score_min=3, score_max=1)


def test_validation_reports_every_failure_with_row_dimension_value_and_allowed():
    designs = pd.DataFrame({
        "municipality": ["GM0001", "GM0001", "GM0002", "GM0003", "GM0004", "GM0005", "GM0005", "GM0006"],
        "year": [2019, 2019, 2019, 2019, 2019, 2019, 2019, 2019],
        "dimension": ["role", "organisation", "rol", "maturity_learning", "maturity_learning", "expertise",
                      "expertise", "target_group"],
        "value": ["help", "in_house", "loket", "7", "veel", "generalists", "generalists", None],
        "source_row": [2, 3, 4, 5, 6, 7, 8, 9],
    })
    with pytest.raises(DesignValidationError) as caught:
        validate_designs(designs, source_file="designs.csv")
    error = caught.value
    assert isinstance(error, EffectmetingError) and isinstance(error, SchemaValidationError)
    failures = error.failures.set_index("row")
    assert sorted(failures.index) == [2, 4, 5, 6, 7, 8, 9]  # row 3 (organisation=in_house) is fine
    assert "allowed: triage_only, gives_help" in failures.loc[2, "problem"]
    assert failures.loc[4, "problem"].startswith("unknown dimension; known dimensions: role, target_group")
    assert "a number from 0 to 5" in failures.loc[5, "problem"] and "a number from 0 to 5" in failures.loc[6, "problem"]
    assert "duplicate" in failures.loc[7, "problem"] and "duplicate" in failures.loc[8, "problem"]
    assert failures.loc[9, "problem"] == "missing value"
    message = str(error)
    assert message.startswith("designs.csv: 7 design row(s)")
    assert "row 2 (GM0001, 2019): role = 'help': not a category of this dimension; allowed: triage_only, gives_help" \
        in message
    assert "row 4 (GM0002, 2019): rol = 'loket': unknown dimension" in message
    # without source_row the index label is the row
    with pytest.raises(DesignValidationError, match=r"row 0 \(GM0001, 2019\): role = 'help'"):
        validate_designs(designs.drop(columns="source_row").iloc[[0]])


def test_user_registered_dimensions_are_accepted_and_can_replace_catalogue_entries():
    wait = Dimension("waiting_list_norm", "binary", "Waiting-time norm (wachttijdnorm) agreed with providers.",
                     {"no": "no norm", "yes": "a norm"}, reference="no")
    designs = pd.DataFrame({"municipality": ["GM0001", "GM0001"], "year": [2019, 2020],
                            "dimension": ["waiting_list_norm", "maturity"], "value": ["yes", "8"]})
    with pytest.raises(DesignValidationError):
        validate_designs(designs)
    ten_point = Dimension("maturity", "score", "Maturity on a 0-10 scale.", score_min=0, score_max=10)
    assert validate_designs(designs, extra_dimensions=[wait, ten_point]) is designs
    timing = derive_treatment(designs, dimension="waiting_list_norm", extra_dimensions=[wait])
    assert timing.label == "waiting_list_norm=yes"
    with pytest.raises(DesignError, match="not in the catalogue"):
        derive_treatment(designs, dimension="waiting_list_norm")


# -- cohorts -------------------------------------------------------------------------------------

def test_cohorts_on_hand_made_histories():
    audit = AuditLog()
    timing = derive_treatment(role_designs(), dimension="role", gaps="carry_forward", audit=audit)
    units = timing.units.set_index("municipality")
    # worked out by hand from ROLE_HISTORY
    assert units["first_adoption_year"].to_dict() == {"GM0001": 2017, "GM0002": 0, "GM0003": 2016, "GM0004": 2015,
                                                      "GM0005": 2018, "GM0006": 2018}
    assert units["status"].to_dict() == {"GM0001": "adopter", "GM0002": "never_treated", "GM0003": "switched_back",
                                         "GM0004": "treated_at_start", "GM0005": "adopter", "GM0006": "adopter"}
    assert units["n_switches"].to_dict() == {"GM0001": 1, "GM0002": 0, "GM0003": 2, "GM0004": 0, "GM0005": 1,
                                             "GM0006": 1}
    assert units["switched_back"].sum() == 1 and units.loc["GM0003", "switch_back_year"] == 2018
    assert units["treated_at_start"].tolist() == [False, False, False, True, False, False]
    assert (units["last_year_observed"] == 2020).all()
    path = timing.path.set_index(["municipality", "year"])
    assert path.loc["GM0003", "treated"].tolist() == [0, 1, 1, 0, 0, 0]
    assert path.loc["GM0001", "years_since_adoption"].tolist()[2:] == [0, 1, 2, 3]
    assert path.loc["GM0001", "years_since_adoption"].isna().tolist()[:2] == [True, True]
    assert path.loc["GM0002", "years_since_adoption"].isna().all()
    since = path.loc["GM0003", "years_since_adoption"]  # counts from first adoption, also after switching back
    assert since.isna().tolist() == [True, False, False, False, False, False]
    assert since.iloc[1:].tolist() == [0, 1, 2, 3, 4]
    assert len(timing.path) == 36  # 6 x 6, the 2016 gap of GM0006 carried forward
    sizes = timing.cohort_sizes().set_index("first_adoption_year")
    assert sizes["municipalities"].to_dict() == {0: 1, 2015: 1, 2016: 1, 2017: 1, 2018: 2}
    assert sizes.loc[2015, "treated_at_start"] == 1 and sizes.loc[2016, "switched_back"] == 1
    # treated at start is noted, and reported in the summary
    notes = audit.events[audit.events["detail"].str.contains("already in the first year of the data \\(2015\\)")]
    assert notes["municipality"].tolist() == ["GM0004"]
    assert "treated_at_start  1" in timing.summary()


def reference_timing(history: dict, first_year: int) -> dict:
    """Plain per-municipality loop over observed years (histories without gaps); the test's reference."""
    out = {}
    for municipality, values in history.items():
        years = [first_year + i for i, v in enumerate(values) if v is not None]
        treated = [v == H for v in values if v is not None]
        cohort = next((y for y, t in zip(years, treated) if t), 0)
        switches = sum(a != b for a, b in zip(treated, treated[1:]))
        back = any(not t and cohort and y > cohort for y, t in zip(years, treated))
        out[municipality] = (cohort, switches, back, treated[0])
    return out


def random_histories(n: int, n_years: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    # a Markov chain with sticky states gives adopters, never-adopters, switchers and treated-at-start
    state = rng.random(n) < 0.15
    values = []
    for _ in range(n_years):
        values.append(np.where(state, H, T))
        flip = rng.random(n) < np.where(state, 0.08, 0.2)
        state = state ^ flip
    matrix = np.array(values).T
    return {f"GM{i:04d}": list(matrix[i]) for i in range(n)}


def test_columnar_result_matches_a_plain_loop_on_random_histories():
    history = random_histories(400, 9, seed=7)
    designs = long_history(history, years=range(2015, 2024)).sample(frac=1.0, random_state=3)  # any row order
    timing = derive_treatment(designs, dimension="role")
    expected = reference_timing(history, 2015)
    units = timing.units.set_index("municipality")
    got = {m: (int(r.first_adoption_year), int(r.n_switches), bool(r.switched_back), bool(r.treated_at_start))
           for m, r in units.iterrows()}
    assert got == expected
    statuses = set(units["status"])
    assert statuses == {"never_treated", "adopter", "treated_at_start", "switched_back"}


def test_cohorts_agree_with_the_demo_generators_first_adoption():
    from effectmeting.sources.demo_model import first_adoption

    years = np.arange(2015, 2024)
    history = random_histories(300, len(years), seed=11)
    wide = np.array(list(history.values()))
    timing = derive_treatment(long_history(history, years=years), dimension="role")
    assert np.array_equal(timing.units["first_adoption_year"].to_numpy(), first_adoption(wide, H, years))


def test_years_window_restricts_and_notes_left_out_rows():
    audit = AuditLog()
    timing = derive_treatment(role_designs(), dimension="role", years=range(2017, 2021), audit=audit)
    units = timing.units.set_index("municipality")
    # GM0003 was treated 2016-2017: inside the window it is treated at start and switches back in 2018
    assert units.loc["GM0003", "first_adoption_year"] == 2017 and units.loc["GM0003", "treated_at_start"]
    assert units.loc["GM0003", "status"] == "switched_back"
    assert units.loc["GM0001", "status"] == "treated_at_start"  # adopted 2017 = first year of the window
    assert units.loc["GM0006", "first_adoption_year"] == 2018  # its 2016 gap is outside the window
    note = audit.events[audit.events["detail"].str.contains("outside the years")]
    assert note["detail"].tolist() == ["11 design row(s) of role outside the years 2017-2020 not used"]


# -- gaps ----------------------------------------------------------------------------------------

def test_gaps_are_refused_by_default_with_municipality_and_years():
    with pytest.raises(DesignError, match=r"1 year\(s\) without a recorded design .*GM0006: 2016.*carry_forward"):
        derive_treatment(role_designs(), dimension="role")


def test_gaps_carry_forward_notes_every_filled_year():
    history = {"GM0010": [T, None, None, H, None, H], "GM0011": [T, T, T, T, T, T]}
    audit = AuditLog()
    timing = derive_treatment(long_history(history), dimension="role", gaps="carry_forward", audit=audit)
    path = timing.path.set_index(["municipality", "year"])["treated"]
    assert path.loc["GM0010"].tolist() == [0, 0, 0, 1, 1, 1]
    filled = audit.events[audit.events["detail"].str.contains("carried forward")]
    assert list(zip(filled["municipality"], filled["year"])) == [("GM0010", 2016), ("GM0010", 2017),
                                                                  ("GM0010", 2019)]
    assert filled["detail"].iloc[0].startswith("no recorded design; carried forward the design of 2015")
    assert filled["detail"].iloc[2].startswith("no recorded design; carried forward the design of 2018")


def test_gaps_exclude_and_missing_values_count_as_gaps():
    designs = role_designs()
    designs.loc[(designs["municipality"] == "GM0001") & (designs["year"] == 2018), "value"] = None  # e.g. unanimous
    no_values = pd.DataFrame({"municipality": "GM0099", "year": [2015, 2016], "dimension": "role", "value": None})
    designs = pd.concat([designs, no_values], ignore_index=True)
    audit = AuditLog()
    timing = derive_treatment(designs, dimension="role", gaps="exclude", audit=audit)
    assert sorted(timing.excluded["municipality"]) == ["GM0001", "GM0006", "GM0099"]
    assert timing.excluded.set_index("municipality").loc["GM0099", "reason"].endswith("missing (NA) in every year")
    assert "GM0001" not in set(timing.units["municipality"]) and len(timing.units) == 4
    details = audit.events["detail"]
    assert details.str.contains("design value missing \\(NA\\); year treated").sum() == 3
    assert details.str.startswith("excluded: role=gives_help: no recorded design in year(s) 2016").sum() == 1
    with pytest.raises(DesignError, match="gaps='sometimes'"):
        derive_treatment(designs, dimension="role", gaps="sometimes")


# -- absorbing and switching ---------------------------------------------------------------------

def test_absorbing_excludes_switchers_with_one_audit_note_each():
    history = random_histories(300, 8, seed=5)
    audit = AuditLog()
    timing = derive_treatment(long_history(history, years=range(2015, 2023)), dimension="role", audit=audit)
    frame, excluded = timing.absorbing()
    switchers = sorted(m for m, v in reference_timing(history, 2015).items() if v[2])
    assert sorted(excluded["municipality"]) == switchers and len(switchers) > 10
    notes = audit.events[audit.events["detail"].str.startswith("excluded from absorbing")]
    assert len(notes) == len(excluded) and sorted(notes["municipality"]) == switchers
    assert excluded["reason"].str.contains("untreated again from").all()
    assert not frame["municipality"].isin(switchers).any()
    assert frame["municipality"].nunique() == 300 - len(switchers)
    # what remains is absorbing: treated exactly from the cohort year on
    expected = (frame["first_adoption_year"] > 0) & (frame["year"] >= frame["first_adoption_year"])
    assert (frame["treated"] == expected.astype(int)).all()
    timing.absorbing()  # asking again does not note the exclusions twice
    assert audit.events["detail"].str.startswith("excluded from absorbing").sum() == len(excluded)


def test_history_starting_late_and_treated_can_be_excluded_from_absorbing():
    history = dict(ROLE_HISTORY, GM0007=[None, None, H, H, H, H])  # history starts in 2017, already helping
    audit = AuditLog()
    timing = derive_treatment(long_history(history), dimension="role", gaps="carry_forward", audit=audit)
    units = timing.units.set_index("municipality")
    assert units.loc["GM0007", "first_adoption_year"] == 2017 and units.loc["GM0007", "treated_at_start"]
    assert units.loc["GM0007", "first_year_observed"] == 2017
    late = audit.events[audit.events["municipality"] == "GM0007"]["detail"]
    assert late.str.contains("when its history starts \\(2017\\), later than the data \\(2015\\)").all()
    kept, _ = timing.absorbing()
    assert {"GM0004", "GM0007"} <= set(kept["municipality"])
    frame, excluded = timing.absorbing(treated_at_start="exclude")
    assert sorted(excluded["municipality"]) == ["GM0003", "GM0004", "GM0007"]
    assert not frame["municipality"].isin(["GM0003", "GM0004", "GM0007"]).any()
    assert excluded.set_index("municipality").loc["GM0007", "reason"].endswith("(treated_at_start='exclude')")
    noted = audit.events["detail"].str.startswith("excluded from absorbing")
    assert noted.sum() == 1 + 3  # one switcher from absorbing(), then three from the 'exclude' call
    with pytest.raises(DesignError, match="use 'keep' or 'exclude'"):
        timing.absorbing(treated_at_start="drop")


def test_switching_path_keeps_switchers():
    timing = derive_treatment(role_designs(), dimension="role", gaps="carry_forward")
    path = timing.switching()
    assert list(path.columns) == ["municipality", "year", "treated"]
    assert path.loc[path["municipality"] == "GM0003", "treated"].tolist() == [0, 1, 1, 0, 0, 0]
    assert len(path) == 36


# -- categories and scores -----------------------------------------------------------------------

ORGANISATION = {
    "GM0001": ["in_house"] * 6,                                                          # reference throughout
    "GM0002": ["in_house", "in_house", "foundation", "foundation", "foundation", "foundation"],
    "GM0003": ["in_house", "in_house", "in_house", "contracted", "contracted", "contracted"],
    "GM0004": ["in_house", "foundation", "foundation", "foundation", "contracted", "contracted"],
    "GM0005": ["foundation"] * 6,
}


def test_compare_categories_for_a_three_category_dimension():
    audit = AuditLog()
    timings = compare_categories(long_history(ORGANISATION, "organisation"), "organisation", audit=audit)
    assert list(timings) == ["foundation", "contracted"]
    foundation, contracted = timings["foundation"], timings["contracted"]
    assert foundation.label == "organisation=foundation vs in_house"
    assert foundation.units.set_index("municipality")["first_adoption_year"].to_dict() == {
        "GM0001": 0, "GM0002": 2017, "GM0005": 2015}
    assert foundation.units.set_index("municipality").loc["GM0005", "treated_at_start"]
    assert foundation.excluded["municipality"].tolist() == ["GM0003", "GM0004"]
    assert "other categor(y/ies) contracted" in foundation.excluded["reason"].iloc[1]
    assert contracted.units.set_index("municipality")["first_adoption_year"].to_dict() == {"GM0001": 0, "GM0003": 2018}
    assert contracted.excluded["municipality"].tolist() == ["GM0002", "GM0004", "GM0005"]
    assert "other categor(y/ies) foundation" in contracted.excluded.set_index("municipality").loc["GM0002", "reason"]
    excluded_notes = audit.events[audit.events["detail"].str.startswith("excluded: organisation=")]
    assert len(excluded_notes) == len(foundation.excluded) + len(contracted.excluded)
    # another reference category
    vs_foundation = compare_categories(long_history(ORGANISATION, "organisation"), "organisation",
                                       reference="foundation")
    assert list(vs_foundation) == ["in_house", "contracted"]


def test_categorical_needs_a_treated_value_and_may_pool_the_rest():
    designs = long_history({"GM0001": ["youth", "youth", "all_ages", "all_ages", "all_ages", "all_ages"],
                            "GM0002": ["adults"] * 6, "GM0003": ["youth"] * 6}, "target_group")
    with pytest.raises(DesignError, match="pass treated_value"):
        derive_treatment(designs, dimension="target_group")
    with pytest.raises(DesignError, match="'everyone' is not a category; allowed: youth, adults, all_ages"):
        derive_treatment(designs, dimension="target_group", treated_value="everyone")
    pooled = derive_treatment(designs, dimension="target_group", treated_value="all_ages")
    assert pooled.label == "target_group=all_ages" and pooled.excluded.empty
    assert pooled.units["first_adoption_year"].tolist() == [2017, 0, 0]
    versus_youth = derive_treatment(designs, dimension="target_group", treated_value="all_ages",
                                    reference_value="youth")
    assert versus_youth.excluded["municipality"].tolist() == ["GM0002"]


def test_score_threshold():
    designs = long_history({"GM0001": ["1", "2", "3", "3.5", "2", "2.5"], "GM0002": ["0", "1", "1", "2", "2", "2.9"],
                            "GM0003": ["4", "4", "5", "5", "5", "5"]}, "maturity_learning")
    timing = derive_treatment(designs, dimension="maturity_learning", threshold=3)
    units = timing.units.set_index("municipality")
    assert timing.label == "maturity_learning>=3"
    assert units["first_adoption_year"].to_dict() == {"GM0001": 2017, "GM0002": 0, "GM0003": 2015}
    assert units.loc["GM0001", "switch_back_year"] == 2019 and units.loc["GM0003", "treated_at_start"]
    assert derive_treatment(designs, dimension="maturity_learning", threshold=2.5).units[
        "first_adoption_year"].tolist() == [2017, 2020, 2015]
    with pytest.raises(DesignError, match="pass threshold="):
        derive_treatment(designs, dimension="maturity_learning")
    with pytest.raises(DesignError, match="must lie above 0 and at most 5"):
        derive_treatment(designs, dimension="maturity_learning", threshold=0)
    with pytest.raises(DesignError, match="threshold= is only for score"):
        derive_treatment(role_designs(), dimension="role", threshold=1)
    with pytest.raises(DesignError, match="use derive_treatment"):
        compare_categories(designs, "maturity_learning")


def test_binary_treated_value_can_be_the_reference_category():
    timing = derive_treatment(role_designs(), dimension="role", treated_value="triage_only", gaps="carry_forward")
    assert timing.reference_value == "gives_help"
    assert timing.units.set_index("municipality").loc["GM0004", "first_adoption_year"] == 0


def test_rows_without_a_valid_year_are_named():
    designs = role_designs().astype({"year": object})
    designs.loc[3, "year"] = "2018?"
    designs.loc[5, "year"] = None
    with pytest.raises(DesignError, match=r"2 row\(s\) without a valid calendar year \(row 3: '2018\?', row 5: None\)"):
        derive_treatment(designs, dimension="role", gaps="carry_forward")


def test_panel_input_and_missing_dimension():
    panel = Panel(data=pd.DataFrame({"municipality": ["GM0001"], "year": [2015]}), designs=role_designs())
    timing = derive_treatment(panel, dimension="role", gaps="exclude")
    assert len(timing.units) == 5
    with pytest.raises(DesignError, match="no rows for dimension 'scope'; present: \\['role'\\]"):
        derive_treatment(panel, dimension="scope")


# -- mergers -------------------------------------------------------------------------------------

def test_merged_municipalities_from_the_audit_of_the_design_rule():
    # Groningen, Haren and Ten Boer merged into Groningen (GM0014) on 1 January 2019
    designs = pd.DataFrame({
        "municipality": ["GM0014", "GM0017", "GM0009", "GM0014", "GM0017", "GM0009", "GM0363"],
        "year": [2018] * 3 + [2017] * 3 + [2018],
        "dimension": "role",
        "value": [H, T, T, H, H, H, T],
        "source_row": [2, 3, 4, 5, 6, 7, 8]})
    population = pd.DataFrame({"municipality": ["GM0014", "GM0017", "GM0009", "GM0363"], "year": 2018,
                               "population_total": [202_000.0, 20_000.0, 7_500.0, 860_000.0]})
    population = pd.concat([population, population.assign(year=2017)], ignore_index=True)
    audit = AuditLog()
    mapped = to_reference_year(designs, table="designs", reference_year=2019, population=population, audit=audit,
                               source="team_survey",
                               aggregation={"municipality": "key", "year": "key", "dimension": "key",
                                            "value": "design"})
    panel = Panel(data=pd.DataFrame({"municipality": ["GM0014"], "year": [2018]}), designs=mapped,
                  sources=[{"name": "team_survey", "table": "designs"}], audit=audit)
    merged = merged_municipalities(panel)
    assert merged.to_dict("records") == [{
        "municipality": "GM0014", "predecessors": "GM0009, GM0014, GM0017", "first_year": 2017, "last_year": 2018,
        "design_rows": 6, "overruled_rows": 2}]
    # the largest predecessor's design (Groningen gave help) is the merged municipality's design
    timing = derive_treatment(panel, dimension="role")
    assert timing.units.set_index("municipality").loc["GM0014", "first_adoption_year"] == 2017
    assert merged_municipalities(panel, sources=["other"]).empty


# -- scale ---------------------------------------------------------------------------------------

def test_hundred_thousand_municipalities_by_ten_years():
    """Treatment timing at scale: correct first adoption years, exclusions and paths for 100,000
    municipalities.  The time it takes is measured in benchmarks/bench_designs.py, not here."""
    rng = np.random.default_rng(1)
    n, years = 100_000, np.arange(2014, 2024)
    cohort = np.where(rng.random(n) < 0.6, rng.integers(2015, 2024, n), 0)
    back = np.where((cohort > 0) & (rng.random(n) < 0.05), cohort + 2, 0)
    on = ((cohort[:, None] > 0) & (years >= cohort[:, None])) & ~((back[:, None] > 0) & (years >= back[:, None]))
    codes = np.char.add("GM", np.char.zfill(np.arange(n).astype(str), 6))
    # in panel order (municipality, year), as Panel.designs comes out of harmonisation
    designs = pd.DataFrame({"municipality": np.repeat(codes, len(years)), "year": np.tile(years, n),
                            "dimension": "role", "value": np.where(on.ravel(), H, T)})
    timing = derive_treatment(designs, dimension="role")
    frame, excluded = timing.absorbing()
    path = timing.switching()
    assert np.array_equal(timing.units["first_adoption_year"].to_numpy(), cohort)
    assert len(excluded) == int(((back > 0) & (back <= 2023)).sum()) and len(path) == n * len(years)


# -- demo, end to end (the session's harmonised demo, tests/conftest.py) --------------------------

def test_demo_cohorts_match_truth_after_harmonisation(demo_panel, demo_dir):
    panel = demo_panel
    validate_designs(panel.designs)
    truth = json.loads((demo_dir / "truth.json").read_text(encoding="utf-8"))["designs"]
    for key, entry in truth.items():
        dimension, treated = key.split("=")
        timing = derive_treatment(panel, dimension=dimension, treated_value=treated)
        adopters = timing.units[(timing.units["first_adoption_year"] > 0) & ~timing.units["treated_at_start"]]
        sizes = adopters["first_adoption_year"].value_counts()
        assert {str(g): int(c) for g, c in sizes.items()} == entry["cohort_sizes"], key
        assert int((timing.units["first_adoption_year"] == 0).sum()) == entry["never_treated"], key
    role = derive_treatment(panel, dimension="role")
    assert role.units["switched_back"].sum() == 8  # the demo plants eight switchers back to a loket
    assert not merged_municipalities(panel).empty


def test_designs_schema_documents_every_catalogue_code():
    """data_schema/designs.json (and its packaged copy) names each catalogue dimension and code."""
    from importlib.resources import files

    from effectmeting.designs.dimensions import catalogue

    packaged = (files("effectmeting.reference") / "schemas" / "designs.json").read_text(encoding="utf-8")
    text = json.loads(packaged)["description"]
    for name, dimension in catalogue().items():
        assert name in text, name
        for code in dimension.allowed:
            assert code in text, (name, code)
    assert "describe_dimensions()" in text and "unanimous" in text


def test_design_errors_live_in_errors_module():
    import effectmeting.errors as errors
    from effectmeting.designs import dimensions

    assert dimensions.DesignError is errors.DesignError
    assert dimensions.DesignValidationError is errors.DesignValidationError
    assert issubclass(errors.DesignValidationError, errors.SchemaValidationError)
    assert issubclass(errors.DesignError, errors.EffectmetingError)
