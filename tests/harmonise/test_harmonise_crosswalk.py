"""Herindelingen: mapping observations to a reference year's boundaries."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from effectmeting.errors import HarmonisationError
from effectmeting.harmonise.audit import AuditLog
from effectmeting.harmonise.crosswalk import to_reference_year
from effectmeting.reference.register import codes_valid_in
from effectmeting.harmonise.transitions import load_transitions

OUTCOME_RULES = {"municipality": "key", "year": "key", "clients": "sum", "population_total": "sum"}
COVARIATE_RULES = {"municipality": "key", "year": "key",
                   "deprivation_index": ("weighted_mean", "population_total")}
DESIGN_RULES = {"municipality": "key", "year": "key", "dimension": "key", "value": "design"}


def full_year(year: int, seed: int = 0) -> pd.DataFrame:
    """One row per municipality valid in ``year`` with random counts."""
    codes = codes_valid_in(year)["code"].to_numpy()
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"municipality": codes, "year": year,
                         "clients": rng.integers(0, 5_000, len(codes)).astype(float),
                         "population_total": rng.integers(1_000, 900_000, len(codes)).astype(float)})


def test_groningen_merger_2019():
    frame = full_year(2018)
    audit = AuditLog()
    out = to_reference_year(frame, table="outcomes", reference_year=2019, aggregation=OUTCOME_RULES, audit=audit)
    by_code = frame.set_index("municipality")["clients"]
    groningen = out.set_index("municipality").loc["GM0014", "clients"]
    # Groningen 2019 = Groningen + Haren (GM0017) + Ten Boer (GM0009) of 2018
    assert groningen == by_code["GM0014"] + by_code["GM0017"] + by_code["GM0009"]
    assert {"GM0009", "GM0017"}.isdisjoint(out["municipality"])
    assert len(out) == 355
    fates = audit.frame.set_index("municipality")
    assert fates.loc["GM0017", "action"] == "merged" and fates.loc["GM0017", "municipality_to"] == "GM0014"
    assert fates.loc["GM0014", "action"] == "merged"
    assert fates.loc["GM0363", "action"] == "kept"


def test_haaren_four_way_split_2021():
    frame = full_year(2020)
    out = to_reference_year(frame, table="outcomes", reference_year=2021, aggregation=OUTCOME_RULES,
                            audit=AuditLog()).set_index("municipality")
    before = frame.set_index("municipality")["clients"]
    shares = {"GM0757": 0.15, "GM0824": 0.423, "GM0855": 0.084, "GM0865": 0.343}  # address shares in the table
    for code, share in shares.items():
        assert out.loc[code, "clients"] == pytest.approx(before[code] + share * before["GM0788"], rel=1e-12)
    assert "GM0788" not in out.index


def test_haaren_with_population_weights():
    frame = full_year(2020)
    weights = pd.DataFrame({"effective": "2021-01-01", "old_code": "GM0788",
                            "new_code": ["GM0757", "GM0824", "GM0855", "GM0865"],
                            "weight": [0.1, 0.5, 0.1, 0.3]})
    audit = AuditLog()
    out = to_reference_year(frame, table="outcomes", reference_year=2021, aggregation=OUTCOME_RULES,
                            weights=weights, audit=audit).set_index("municipality")
    before = frame.set_index("municipality")["clients"]
    assert out.loc["GM0824", "clients"] == pytest.approx(before["GM0824"] + 0.5 * before["GM0788"], rel=1e-12)
    split = audit.frame.set_index("municipality").loc["GM0788"]
    assert split["action"] == "split" and split["municipality_to"] == "GM0757;GM0824;GM0855;GM0865"


def test_population_weights_must_match_successors():
    weights = pd.DataFrame({"effective": "2021-01-01", "old_code": "GM0788",
                            "new_code": ["GM0757", "GM0824"], "weight": [0.5, 0.5]})
    with pytest.raises(HarmonisationError, match="GM0788->GM0855 \\(missing in weights\\)"):
        to_reference_year(full_year(2020), table="outcomes", reference_year=2021,
                          aggregation=OUTCOME_RULES, weights=weights)


def synthetic_register() -> pd.DataFrame:
    rows = [("GM9001", "Aa", "2015-01-01", "2017-12-31"), ("GM9002", "Bb", "2015-01-01", "2017-12-31"),
            ("GM9003", "Cc", "2018-01-01", "2018-12-31"), ("GM9004", "Dd", "2015-01-01", "2018-12-31"),
            ("GM9005", "Ee", "2019-01-01", "2020-12-31"), ("GM9006", "Ff", "2021-01-01", ""),
            ("GM9007", "Gg", "2015-01-01", "")]
    register = pd.DataFrame(rows, columns=["code", "name", "valid_from", "valid_to"])
    register["valid_from"] = pd.to_datetime(register["valid_from"])
    register["valid_to"] = pd.to_datetime(register["valid_to"].replace("", None))
    return register


def synthetic_transitions() -> pd.DataFrame:
    # 2018: Aa + Bb -> Cc; 2019: Cc + Dd -> Ee; 2021: Ee split 60/40 over Ff (new) and Gg
    return pd.DataFrame({
        "effective": ["2018-01-01", "2018-01-01", "2019-01-01", "2019-01-01", "2021-01-01", "2021-01-01"],
        "old_code": ["GM9001", "GM9002", "GM9003", "GM9004", "GM9005", "GM9005"],
        "new_code": ["GM9003", "GM9003", "GM9005", "GM9005", "GM9006", "GM9007"],
        "weight": [1.0, 1.0, 1.0, 1.0, 0.6, 0.4],
        "kind": ["merged", "merged", "merged", "merged", "split", "split"]})


def test_chained_changes_compose():
    frame = pd.DataFrame({"municipality": ["GM9001", "GM9002", "GM9004", "GM9007",
                                           "GM9003", "GM9004", "GM9007"],
                          "year": [2017, 2017, 2017, 2017, 2018, 2018, 2018],
                          "clients": [10.0, 20.0, 30.0, 5.0, 100.0, 50.0, 7.0]})
    audit = AuditLog()
    out = to_reference_year(frame, table="outcomes", reference_year=2021, transitions=synthetic_transitions(),
                            register=synthetic_register(), aggregation={"municipality": "key", "year": "key",
                                                                         "clients": "sum"}, audit=audit)
    result = out.set_index(["municipality", "year"])["clients"]
    # 2017: (10 + 20 + 30) reaches Ee, then 60 % to Ff and 40 % to Gg (plus Gg's own 5)
    assert result[("GM9006", 2017)] == pytest.approx(0.6 * 60)
    assert result[("GM9007", 2017)] == pytest.approx(0.4 * 60 + 5)
    assert result[("GM9006", 2018)] == pytest.approx(0.6 * 150)
    assert result[("GM9007", 2018)] == pytest.approx(0.4 * 150 + 7)
    fates = audit.frame.set_index(["municipality", "year"])
    assert fates.loc[("GM9001", 2017), "action"] == "split"
    assert "2018-01-01 merged GM9001->GM9003" in fates.loc[("GM9001", 2017), "reason"]
    assert "2021-01-01 split GM9005->GM9006" in fates.loc[("GM9001", 2017), "reason"]
    assert fates.loc[("GM9007", 2017), "action"] == "merged"


def test_real_chain_littenseradiel_2017_to_2021():
    frame = full_year(2017)
    out = to_reference_year(frame, table="outcomes", reference_year=2021, aggregation=OUTCOME_RULES)
    before = frame.set_index("municipality")["clients"]
    result = out.set_index("municipality")["clients"]
    # Waadhoeke (2018) = het Bildt + Franekeradeel + Menameradiel + 17.9 % of Littenseradiel
    expected = before[["GM0063", "GM0070", "GM1908"]].sum() + 0.179 * before["GM0140"]
    assert result["GM1949"] == pytest.approx(expected, rel=1e-12)
    assert frame["clients"].sum() == pytest.approx(out["clients"].sum(), rel=1e-12)


@pytest.mark.parametrize(("boundary", "threshold", "moved"),
                         [("ignore", 0.05, 0.0), ("apportion", 0.05, 0.014), ("ignore", 0.01, 0.014)])
def test_boundary_correction_options(boundary, threshold, moved):
    # 2018: 1.4 % of Nissewaard's (GM1930) addresses went to Hellevoetsluis (GM0530)
    frame = full_year(2017)
    audit = AuditLog()
    out = to_reference_year(frame, table="outcomes", reference_year=2018, aggregation=OUTCOME_RULES,
                            boundary=boundary, boundary_threshold=threshold, audit=audit).set_index("municipality")
    before = frame.set_index("municipality")["clients"]
    assert out.loc["GM1930", "clients"] == pytest.approx((1 - moved) * before["GM1930"], rel=1e-12)
    assert out.loc["GM0530", "clients"] == pytest.approx(before["GM0530"] + moved * before["GM1930"], rel=1e-12)
    kept_whole = audit.events["detail"].str.contains("GM1930->GM0530.*kept whole", regex=True).any()
    assert kept_whole == (moved == 0.0)
    assert audit.frame.set_index("municipality").loc["GM1930", "action"] == ("kept" if moved == 0 else "split")


def test_backwards_reference_year_is_refused():
    frame = full_year(2019)
    with pytest.raises(HarmonisationError) as info:
        to_reference_year(frame, table="outcomes", reference_year=2018, aggregation=OUTCOME_RULES)
    message = str(info.value)
    assert "GM0014 received territory from GM0017" in message
    assert "1 January 2019" in message and "reference_year >= 2019" in message


def test_weesp_2023_cannot_go_back_to_2022_but_unaffected_codes_can():
    amsterdam = pd.DataFrame({"municipality": ["GM0363"], "year": [2023], "clients": [1.0], "population_total": [1.0]})
    with pytest.raises(HarmonisationError, match="reference_year >= 2023"):
        to_reference_year(amsterdam, table="outcomes", reference_year=2022, aggregation=OUTCOME_RULES)
    earlier = amsterdam.assign(year=2022)
    out = to_reference_year(earlier, table="outcomes", reference_year=2018, aggregation=OUTCOME_RULES)
    assert out[["municipality", "year", "clients"]].values.tolist() == [["GM0363", 2022, 1.0]]


def test_codes_not_valid_in_their_year_are_named():
    frame = pd.DataFrame({"municipality": ["GM1966", "GM0363"], "year": [2017, 2017], "source_row": [2, 3],
                          "clients": [1.0, 2.0], "population_total": [1.0, 1.0]})
    with pytest.raises(HarmonisationError, match=r"row 2: GM1966 in 2017.*GM1966 \(Het Hogeland\) existed from 2019"):
        to_reference_year(frame, table="outcomes", reference_year=2023, aggregation=OUTCOME_RULES)


def test_missing_predecessor_gives_na_not_an_undercount():
    frame = full_year(2018)
    frame = frame[frame["municipality"] != "GM0017"]  # Haren missing
    audit = AuditLog()
    out = to_reference_year(frame, table="outcomes", reference_year=2019, aggregation=OUTCOME_RULES,
                            audit=audit).set_index("municipality")
    assert np.isnan(out.loc["GM0014", "clients"])
    assert audit.events["detail"].str.contains("predecessors missing").any()


def test_weighted_mean_uses_population():
    frame = pd.DataFrame({"municipality": ["GM0014", "GM0017", "GM0009"], "year": 2018,
                          "deprivation_index": [0.5, -1.0, 0.2]})
    population = pd.DataFrame({"municipality": ["GM0014", "GM0017", "GM0009"], "year": 2018,
                               "population_total": [202_000.0, 20_000.0, 7_500.0]})
    out = to_reference_year(frame, table="covariates", reference_year=2019, aggregation=COVARIATE_RULES,
                            population=population)
    expected = (0.5 * 202_000 - 1.0 * 20_000 + 0.2 * 7_500) / (202_000 + 20_000 + 7_500)
    assert out.set_index("municipality").loc["GM0014", "deprivation_index"] == pytest.approx(expected, rel=1e-12)


def design_frame():
    return pd.DataFrame({"municipality": ["GM0014", "GM0017", "GM0009", "GM0014", "GM0017", "GM0009"],
                         "year": 2018, "dimension": ["role"] * 3 + ["scope"] * 3,
                         "value": ["zelf_hulp", "loket", "loket", "integraal", "integraal", "integraal"],
                         "source_row": [2, 3, 4, 5, 6, 7]})


POPULATION_2018 = pd.DataFrame({"municipality": ["GM0014", "GM0017", "GM0009"], "year": 2018,
                                "population_total": [202_000.0, 20_000.0, 7_500.0]})


def test_design_largest_population_and_audit():
    audit = AuditLog()
    out = to_reference_year(design_frame(), table="designs", reference_year=2019, aggregation=DESIGN_RULES,
                            population=POPULATION_2018, audit=audit)
    values = out.set_index(["municipality", "dimension"])["value"]
    assert values[("GM0014", "role")] == "zelf_hulp"
    assert values[("GM0014", "scope")] == "integraal"
    fates = audit.frame.set_index("source_row")
    assert fates.loc[3, "action"] == "changed" and fates.loc[4, "action"] == "changed"
    assert "disagreed (GM0009=loket, GM0014=zelf_hulp, GM0017=loket)" in fates.loc[3, "reason"]
    assert fates.loc[2, "action"] == "merged" and fates.loc[5, "action"] == "merged"


def test_design_unanimous_sets_na():
    audit = AuditLog()
    out = to_reference_year(design_frame(), table="designs", reference_year=2019, aggregation=DESIGN_RULES,
                            design_rule="unanimous", audit=audit)
    values = out.set_index(["municipality", "dimension"])["value"]
    assert pd.isna(values[("GM0014", "role")]) and values[("GM0014", "scope")] == "integraal"
    assert (audit.frame.set_index("source_row").loc[[2, 3, 4], "action"] == "changed").all()


def test_design_population_share_for_scores():
    frame = design_frame().assign(value=["3", "1", "2", "4", "4", "4"])
    out = to_reference_year(frame, table="designs", reference_year=2019, aggregation=DESIGN_RULES,
                            design_rule="population_share", population=POPULATION_2018)
    values = out.set_index(["municipality", "dimension"])["value"]
    assert values[("GM0014", "role")] == pytest.approx((3 * 202_000 + 20_000 + 2 * 7_500) / 229_500)


def test_design_population_share_averages_scores_and_takes_the_largest_category():
    # a design file as the demo's: score and categorical dimensions in one value column (issue 17:
    # population_share used to refuse any file with a categorical dimension)
    frame = design_frame().assign(value=["3", "1", "2", "integraal", "jeugd", "jeugd"])
    audit = AuditLog()
    out = to_reference_year(frame, table="designs", reference_year=2019, aggregation=DESIGN_RULES,
                            design_rule="population_share", population=POPULATION_2018, audit=audit)
    values = out.set_index(["municipality", "dimension"])["value"]
    assert float(values[("GM0014", "role")]) == pytest.approx((3 * 202_000 + 20_000 + 2 * 7_500) / 229_500, rel=1e-11)
    largest = to_reference_year(frame, table="designs", reference_year=2019, aggregation=DESIGN_RULES,
                                design_rule="largest_population", population=POPULATION_2018)
    assert values[("GM0014", "scope")] == largest.set_index(["municipality", "dimension"])["value"][("GM0014", "scope")]
    assert values[("GM0014", "scope")] == "integraal"  # GM0014's 202,000 residents outweigh 27,500
    fates = audit.frame.set_index("source_row")["action"]
    assert (fates.loc[[6, 7]] == "changed").all() and (fates.loc[[2, 3, 4, 5]] != "changed").all()


def test_set_aside_rows_and_audit_completeness():
    frame = full_year(2018).assign(source_row=lambda f: np.arange(2, len(f) + 2))
    frame.attrs["set_aside"] = pd.DataFrame({"source_row": [len(frame) + 2, len(frame) + 3],
                                             "region": ["NL01", "PV20"], "reason": ["country", "province"]})
    frame.attrs["source_file"] = "outcomes.csv"
    audit = AuditLog()
    to_reference_year(frame, table="outcomes", reference_year=2023, aggregation=OUTCOME_RULES, audit=audit)
    summary = audit.summary()
    assert summary.loc["outcomes.csv", "total"] == len(frame) + 2
    assert summary.loc["outcomes.csv", "set_aside"] == 2
    assert audit.frame["source_row"].is_unique


def test_transition_weights_renormalised_or_refused(tmp_path):
    table = load_transitions()
    table.loc[(table["old_code"] == "GM0788") & (table["new_code"] == "GM0757"), "weight"] = 0.155  # sum 1.005
    path = tmp_path / "t.csv"
    table.drop(columns="year").to_csv(path, index=False)
    audit = AuditLog()
    fixed = load_transitions(path, audit=audit)
    haaren = fixed[fixed["old_code"] == "GM0788"]
    assert haaren["weight"].sum() == pytest.approx(1.0, abs=1e-15)
    assert audit.events["detail"].str.contains("GM0788.*rescaled", regex=True).any()
    table.loc[(table["old_code"] == "GM0788") & (table["new_code"] == "GM0757"), "weight"] = 0.25  # sum 1.1
    table.drop(columns="year").to_csv(path, index=False)
    with pytest.raises(HarmonisationError, match="GM0788: weights sum to 1.1000"):
        load_transitions(path)


def test_rules_come_from_the_schema_when_not_given():
    # costs schema: municipality, year, taakveld are keys; euros is a sum
    frame = pd.DataFrame({"municipality": ["GM0014", "GM0017", "GM0009", "GM0014"], "year": 2018,
                          "taakveld": ["6.2", "6.2", "6.2", "6.1"], "euros": [1e6, 2e5, 5e4, 3e5]})
    out = to_reference_year(frame, table="costs", reference_year=2019).set_index(["municipality", "taakveld"])
    assert out.loc[("GM0014", "6.2"), "euros"] == pytest.approx(1.25e6)
    # 6.1 is only reported by Groningen itself: Haren and Ten Boer are missing, so the cell is NA
    assert np.isnan(out.loc[("GM0014", "6.1"), "euros"])


def test_unknown_columns_are_refused():
    frame = full_year(2018).assign(mystery=1.0)
    with pytest.raises(HarmonisationError, match=r"\['mystery'\] have no aggregation rule"):
        to_reference_year(frame, table="outcomes", reference_year=2019, aggregation=OUTCOME_RULES)
