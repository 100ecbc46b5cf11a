"""Cost lines, cost effects and cost per outcome on the harmonised demo panel.

References: the demo's planted effects (truth.json, euros per inhabitant in constant 2023 euros),
R-did-equivalent ``att_gt``/``aggregate`` (tested elsewhere against R) for exact identities, and
plain pandas arithmetic on the panel columns for the cost lines.
"""
from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from effectmeting.costs import add_cost_line, cost_effect, cost_lines, cost_per_outcome
from effectmeting.costs.lines import DOMAINS, TAAKVELDEN, taakveld_column
from effectmeting.costs.per_outcome import _unbounded_set
from effectmeting.costs.treatment import estimation_frame
from effectmeting.errors import HarmonisationError, IdentificationError, OptionError
from effectmeting.estimate.callaway_santanna.att_gt import att_gt

ROLE = "role=gives_help"


@pytest.fixture(scope="module")
def demo(demo_panel, demo_result):
    """The session's demo panel (conftest) with its own audit log: the cost functions add notes to it."""
    truth = json.loads(open(demo_result["truth"], encoding="utf-8").read())["designs"]
    return _fresh(demo_panel), truth


def _fresh(panel):
    """A copy with its own data frame and audit log (tests must not share mutations)."""
    import copy

    return dataclasses.replace(panel, data=panel.data.copy(), audit=copy.deepcopy(panel.audit))


def _truth_line(truth, design, line, key="att"):
    """True effect of a cost line = sum of its taakvelden's planted effects (same denominator)."""
    columns = [taakveld_column(t) for t in DOMAINS[line]] if line in DOMAINS else [line]
    outcomes = truth[design]["outcomes"]
    if key == "att":
        return sum(outcomes[c]["att"] for c in columns)
    return {e: sum(outcomes[c]["by_event_time"][e] for c in columns) for e in outcomes[columns[0]]["by_event_time"]}


# -- cost lines ----------------------------------------------------------------------------------
def test_domains_and_total_equal_taakveld_sums(demo):
    panel, _ = demo
    lines = cost_lines(panel)
    population = panel.data["population_total"].to_numpy(float)
    for domain, members in DOMAINS.items():
        expected = sum(panel.data[f"cost_{t.replace('.', '_')}"].to_numpy(float) for t in members) / population
        np.testing.assert_allclose(lines[domain].to_numpy(), expected, rtol=1e-12)
    every = sum(panel.data[f"cost_{t.replace('.', '_')}"].to_numpy(float) for t in TAAKVELDEN) / population
    np.testing.assert_allclose(lines["total_social_domain"].to_numpy(), every, rtol=1e-12)
    assert sorted(t for members in DOMAINS.values() for t in members) == sorted(TAAKVELDEN)  # each taakveld once
    assert len(lines.attrs["missing"]) == 0


def test_missing_line_makes_domain_and_total_na_and_is_reported(demo):
    panel = _fresh(demo[0])
    where = (panel.data["municipality"] == "GM0014") & (panel.data["year"] == 2019)
    panel.data.loc[where, "cost_6_6_per_inhabitant"] = np.nan
    lines = cost_lines(panel)
    row = lines.loc[where.to_numpy()].iloc[0]
    assert np.isnan(row["adult_support"]) and np.isnan(row["total_social_domain"])
    assert not np.isnan(row["youth"]) and not np.isnan(row["cost_6_71_per_inhabitant"])
    assert lines[["adult_support", "total_social_domain"]].isna().sum().tolist() == [1, 1]
    missing = lines.attrs["missing"]
    assert missing.to_dict("records") == [{"municipality": "GM0014", "year": 2019, "line": "cost_6_6_per_inhabitant"}]
    events = panel.audit.events
    assert ((events["stage"] == "costs") & (events["municipality"] == "GM0014")).sum() == 1


def test_added_line_enters_societal_not_social_total_with_source(demo):
    panel = demo[0]
    keys = panel.data[["municipality", "year"]]
    frame = keys.assign(value=np.linspace(1e5, 2e5, len(keys)))
    frame = frame.iloc[1:]  # one municipality-year without a value: stays NA, never 0
    added = add_cost_line(panel, frame, name="zvw_ggz", source="Vektis (demo numbers)", unit="constant_euro")
    assert "added_cost_zvw_ggz_per_inhabitant" not in panel.data.columns  # the input panel is unchanged
    variables = added.variables.set_index("name")
    assert variables.loc["added_cost_zvw_ggz_per_inhabitant", "source"] == "Vektis (demo numbers)"
    lines = cost_lines(added)
    base = cost_lines(panel)
    np.testing.assert_allclose(lines["total_social_domain"], base["total_social_domain"], rtol=0)
    per_inhabitant = frame["value"].to_numpy() / panel.data["population_total"].to_numpy(float)[1:]
    np.testing.assert_allclose(lines["total_societal_cost"].to_numpy()[1:],
                               base["total_social_domain"].to_numpy()[1:] + per_inhabitant, rtol=1e-12)
    assert np.isnan(lines["total_societal_cost"].iloc[0])
    assert lines.attrs["missing"]["line"].tolist() == ["added_cost_zvw_ggz_per_inhabitant"]


def test_added_nominal_line_is_deflated(demo):
    panel = demo[0]
    keys = panel.data[["municipality", "year"]]
    index = pd.DataFrame({"year": range(2015, 2025), "index": np.linspace(100, 130, 10)})
    added = add_cost_line(panel, keys.assign(value=1000.0), name="justice", source="JenV", unit="euro",
                          price_index=index)
    # constant 2023 euros = nominal x index[2023] / index[year]; index[2023] = 100 + 30 x 8/9
    expected = 1000.0 * (100 + 30 * 8 / 9) / index.set_index("year")["index"].reindex(keys["year"]).to_numpy()
    np.testing.assert_allclose(added.data["added_cost_justice"].to_numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(added.data["added_cost_justice_per_inhabitant"].to_numpy(),
                               expected / panel.data["population_total"].to_numpy(float), rtol=1e-12)


def test_added_line_errors(demo):
    panel = demo[0]
    good = panel.data[["municipality", "year"]].assign(value=1.0)
    with pytest.raises(HarmonisationError, match="GM9999"):
        add_cost_line(panel, pd.concat([good, pd.DataFrame({"municipality": ["GM9999"], "year": [2020],
                                                            "value": [1.0]})]), name="x", source="s")
    with pytest.raises(HarmonisationError, match="repeat"):
        add_cost_line(panel, pd.concat([good, good.iloc[:1]]), name="x", source="s", unit="constant_euro")
    with pytest.raises(HarmonisationError, match="price_index"):
        add_cost_line(panel, good, name="x", source="s", unit="euro")
    with pytest.raises(HarmonisationError, match="source"):
        add_cost_line(panel, good, name="x", source=" ", unit="constant_euro")


# -- cost effects --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def role_effect(demo):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cost_effect(demo[0], design=ROLE, horizon=9)


def test_cost_effects_cover_planted_truth(demo, role_effect):
    """Lines whose truth is not confounded by the other, correlated design (truth.json 'caution').

    role=gives_help: youth (6.72 + 6.82), access (6.2), basic, income_participation (true 0);
    target_group=all_ages: adult_support (6.6 + 6.71), youth, basic, income_participation (true 0);
    expertise (random timing, no planted effect): all six lines true 0.  14 pairs; 95% intervals
    should cover about 13; on this seed all 14 do.
    """
    panel, truth = demo
    pairs = {ROLE: ["youth", "access", "basic", "income_participation"],
             "target_group=all_ages": ["adult_support", "youth", "basic", "income_participation"],
             "expertise=generalists_with_specialists": ["youth", "adult_support", "access", "basic",
                                                        "income_participation", "total_social_domain"]}
    covered, total = 0, 0
    for design, lines in pairs.items():
        result = role_effect if design == ROLE else cost_effect(panel, design=design)
        overall = result.tidy().query("aggregation == 'overall'").set_index("line")
        for line in lines:
            true = sum(_truth_line(truth, design, part) for part in
                       (["youth", "adult_support", "access", "basic", "income_participation"]
                        if line == "total_social_domain" else [line]))
            total += 1
            covered += overall.loc[line, "conf_low"] <= true <= overall.loc[line, "conf_high"]
    print(f"covered {covered} of {total}")
    assert total == 14 and covered >= 13
    # sign and size of the planted effects: youth +4.0, access +8.3 euros per inhabitant
    overall = role_effect.tidy().query("aggregation == 'overall'").set_index("line")
    assert overall.loc["access", "estimate"] == pytest.approx(_truth_line(truth, ROLE, "access"), abs=0.6)
    assert overall.loc["youth", "estimate"] == pytest.approx(_truth_line(truth, ROLE, "youth"), abs=1.5)


def test_cumulative_cost_covers_truth(demo, role_effect):
    """Cumulative truth = sum of true event-time effects (planted access effect is immediate, 8.3/yr)."""
    _, truth = demo
    table = role_effect.tidy()
    covered = 0
    for line in ("access", "youth"):
        by_event = _truth_line(truth, ROLE, line, key="event")
        rows = table[(table["line"] == line) & (table["aggregation"] == "cumulative")].set_index("key")
        for k in range(1, 6):
            true = sum(by_event[str(e)] for e in range(k))
            covered += rows.loc[str(k), "conf_low"] <= true <= rows.loc[str(k), "conf_high"]
    print(f"cumulative covered {covered} of 10")
    assert covered >= 9  # of 10


def test_event_time_and_cumulative_identities(role_effect):
    table = role_effect.tidy()
    for line, fit in role_effect.attgt.items():
        dynamic = fit.aggregate("dynamic")
        mine = table[(table["line"] == line) & (table["aggregation"] == "event_time")]
        # the same estimates and SEs as the R-did-equivalent dynamic aggregation
        np.testing.assert_allclose(mine["estimate"].to_numpy(), dynamic.tidy()["estimate"].to_numpy(), rtol=1e-12)
        np.testing.assert_allclose(mine["std_error"].to_numpy(), dynamic.tidy()["std_error"].to_numpy(), rtol=1e-10)
        cumulative = table[(table["line"] == line) & (table["aggregation"] == "cumulative")]
        event = mine.set_index(mine["key"].astype(int))["estimate"]
        for k, value in zip(cumulative["key"].astype(int), cumulative["estimate"]):
            assert value == pytest.approx(event.loc[0:k - 1].sum(), rel=1e-12)  # exact sum of dynamic effects
        # k = 1: the event-time-0 effect itself, SE included
        assert cumulative["std_error"].iloc[0] == pytest.approx(mine.set_index("key").loc["0", "std_error"], rel=1e-12)
        # all event times 0..8: cumulative / 9 is R did's dynamic overall average, SE from its influence function
        last = cumulative.iloc[-1]
        assert last["key"] == "9"
        assert last["estimate"] / 9 == pytest.approx(dynamic.estimate, rel=1e-10)
        assert last["std_error"] / 9 == pytest.approx(dynamic.std_error, rel=1e-10)


def test_total_is_sum_of_domains(role_effect):
    """ATT is linear in the outcome (no covariates, same units): effects on the total add up exactly."""
    table = role_effect.tidy().set_index(["line", "aggregation", "key"])["estimate"]
    domains = sum(table.loc[d] for d in DOMAINS)
    np.testing.assert_allclose(table.loc["total_social_domain"].to_numpy(), domains.to_numpy(), rtol=1e-9, atol=1e-9)


def test_total_euros(role_effect):
    euros = role_effect.total_euros().set_index("line")
    overall = role_effect.tidy().query("aggregation == 'overall'").set_index("line")
    assert role_effect.treated_population > 1e6
    np.testing.assert_allclose(euros["euros_per_year"], overall["estimate"] * role_effect.treated_population)


def test_cost_effect_errors(demo):
    with pytest.raises(IdentificationError, match="unknown cost line"):
        cost_effect(demo[0], design=ROLE, lines=["nonsense"])
    with pytest.raises(OptionError, match="dimension=value"):
        cost_effect(demo[0], design="role")
    with pytest.raises(IdentificationError, match="not available"):
        cost_effect(demo[0], design=ROLE, estimator="did2s")


# -- cost per outcome ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def per_outcome(demo):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cost_per_outcome(demo[0], design=ROLE, cost_line="youth", outcome="jeugdhulp_per_1000_youth",
                                seed=7)


def test_ratio_equals_point_estimates(demo, per_outcome):
    panel = demo[0]
    frame = estimation_frame(panel, ROLE, ["youth", "jeugdhulp_per_1000_youth", "population_0_17",
                                           "population_total"], extra=cost_lines(panel)).data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cost = att_gt(frame, outcome="youth", unit="municipality", time="year",
                      cohort="first_adoption_year").aggregate("simple").estimate
        outcome = att_gt(frame, outcome="jeugdhulp_per_1000_youth", unit="municipality", time="year",
                         cohort="first_adoption_year").aggregate("simple").estimate
    post = frame[(frame["first_adoption_year"] > 2015) & (frame["year"] >= frame["first_adoption_year"])]
    share = post["population_0_17"].sum() / post["population_total"].sum()
    table = per_outcome.tidy().set_index("quantity")
    assert table.loc["cost_effect", "estimate"] == pytest.approx(cost, rel=1e-10)
    assert table.loc["outcome_effect", "estimate"] == pytest.approx(outcome, rel=1e-10)
    assert per_outcome.estimate == pytest.approx(cost / (outcome / 1000 * share), rel=1e-10)
    assert per_outcome.defined
    assert table.loc["ratio", "conf_low"] < per_outcome.estimate < table.loc["ratio", "conf_high"]
    assert "euros per additional youth with jeugdhulp" in per_outcome.unit


def test_bootstrap_matches_analytic_se_and_is_seeded(demo, per_outcome):
    panel = demo[0]
    table = per_outcome.tidy().set_index("quantity")
    frame = estimation_frame(panel, ROLE, ["youth", "jeugdhulp_per_1000_youth", "population_0_17",
                                           "population_total"], extra=cost_lines(panel)).data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analytic = att_gt(frame, outcome="youth", unit="municipality", time="year",
                          cohort="first_adoption_year").aggregate("simple").std_error
    # the municipality bootstrap and the influence-function SE estimate the same thing (MC error ~2.3%)
    assert table.loc["cost_effect", "std_error"] == pytest.approx(analytic, rel=0.15)
    again = cost_per_outcome(panel, design=ROLE, cost_line="youth", outcome="jeugdhulp_per_1000_youth", seed=7)
    pd.testing.assert_frame_equal(again.tidy(), per_outcome.tidy())
    pd.testing.assert_frame_equal(again.draws, per_outcome.draws)
    other = cost_per_outcome(panel, design=ROLE, cost_line="youth", outcome="jeugdhulp_per_1000_youth", seed=8)
    assert not np.allclose(other.draws["ratio"], per_outcome.draws["ratio"])
    # joint resampling keeps the correlation of the two effects (same draws for both)
    assert len(per_outcome.draws) == 999


def test_undefined_ratio_when_outcome_interval_contains_zero(demo):
    """expertise has no planted effect on jeugdhulp (truth.json att 0): the ratio must not be reported."""
    panel, truth = demo
    design = "expertise=generalists_with_specialists"
    assert truth[design]["outcomes"]["jeugdhulp_per_1000_youth"]["att"] == 0.0
    result = cost_per_outcome(panel, design=design, cost_line="youth", outcome="jeugdhulp_per_1000_youth", seed=1)
    table = result.tidy().set_index("quantity")
    assert table.loc["outcome_effect", "conf_low"] <= 0 <= table.loc["outcome_effect", "conf_high"]
    assert result.defined is False and np.isnan(result.estimate)
    assert "UNDEFINED" in result.message and "contains 0" in result.message
    assert "unbounded" in result.ratio_set and "unbounded" in result.summary()
    assert np.isfinite(table.loc["cost_effect", ["conf_low", "conf_high"]].to_numpy(float)).all()


def test_unbounded_ratio_set():
    assert _unbounded_set(1.0, 2.0, -0.5, 0.25) == "(-inf, -2.00] or [4.00, +inf) euros per person: unbounded"
    assert _unbounded_set(-2.0, -1.0, -0.5, 0.25) == "[2.00, +inf) or (-inf, -4.00] euros per person: unbounded"
    assert "all real numbers" in _unbounded_set(-1.0, 1.0, -0.5, 0.25)


def test_cost_per_outcome_needs_a_conversion(demo):
    with pytest.raises(IdentificationError, match="outcome_scale"):
        cost_per_outcome(demo[0], design=ROLE, cost_line="youth", outcome="urbanity", seed=1)


def test_balanced_event_times_match_balanced_dynamic_aggregation(demo):
    result = cost_effect(demo[0], design=ROLE, lines=["access"], horizon=3, balanced=True,
                         covariates=["deprivation_index"])
    dynamic = result.attgt["access"].aggregate("dynamic", balance_e=2).tidy()
    mine = result.tidy().query("aggregation == 'event_time'")
    assert mine["key"].tolist() == dynamic["event_time"].astype(str).tolist()
    np.testing.assert_allclose(mine["estimate"].to_numpy(), dynamic["estimate"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(mine["std_error"].to_numpy(), dynamic["std_error"].to_numpy(), rtol=1e-10)
    assert "balanced" in result.summary()


def test_cost_results_follow_the_results_contract(role_effect, per_outcome):
    """tidy() of cost effects and cost per outcome has the contract's columns; estimates() keeps
    what the CSV files hold; another level widens or narrows the intervals as it should."""
    from scipy import stats

    from effectmeting.estimate.core.results import TIDY_COLUMNS

    table = role_effect.tidy()
    assert list(table.columns) == ["term", "line", "aggregation", "key", *TIDY_COLUMNS[1:]]
    assert table["term"].is_unique
    assert list(role_effect.estimates().columns) == ["line", "aggregation", "key", "estimate", "std_error",
                                                     "conf_low", "conf_high"]
    narrow = role_effect.tidy(level=0.90)
    z = stats.norm.ppf(0.95)
    np.testing.assert_allclose(narrow["conf_high"], narrow["estimate"] + z * narrow["std_error"], rtol=1e-12)
    ratio = per_outcome.tidy()
    assert list(ratio.columns[:8]) == ["term", "quantity", *TIDY_COLUMNS[1:]]
    wide = per_outcome.tidy(level=0.99)
    finite = np.isfinite(ratio["conf_low"]).to_numpy()
    assert (wide["conf_low"].to_numpy()[finite] <= ratio["conf_low"].to_numpy()[finite]).all()
    assert (wide["conf_high"].to_numpy()[finite] >= ratio["conf_high"].to_numpy()[finite]).all()
