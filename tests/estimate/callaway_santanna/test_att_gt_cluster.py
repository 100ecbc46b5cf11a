"""``att_gt(..., cluster=...)``: persons nested in municipalities, clustered by municipality.

References:

* diff-diff 3.13 ``CallawaySantAnna(cluster=...)`` (CR1 on the influence function), computed in
  the test: cell, simple, group and dynamic standard errors to rtol 1e-8 (estimates are untouched
  by clustering and equal ours to 1e-10 for the unconditional DR estimator).
  Their intervals use a t(G - 1) critical value; ours keep R ``did``'s normal one, so only
  estimates and standard errors are compared.
* the clustered multiplier bootstrap against the analytic clustered SE (a statistical check).
* a Monte Carlo on persons in municipalities with municipality shocks: clustered intervals cover
  at about the nominal rate, unit-clustered ones do not.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from effectmeting import att_gt
from effectmeting.errors import IdentificationError, InputError, OptionError

dd = pytest.importorskip("diff_diff")

KEYS = dict(outcome="y", unit="person", time="year", cohort="cohort")


def persons_in_municipalities(seed: int, municipalities: int = 60, persons: int = 30,
                              periods: int = 7, effect: float = 1.0,
                              shock_sd: float = 1.0) -> pd.DataFrame:
    """Balanced person x year panel; adoption and a yearly shock per municipality."""
    rng = np.random.default_rng(seed)
    municipality = np.repeat(np.arange(municipalities), persons)
    cohort = rng.choice([0, 4, 5, 6], size=municipalities)[municipality]
    years = np.arange(1, periods + 1)
    shock = rng.normal(scale=shock_sd, size=(municipalities, periods))[municipality]
    treated = (cohort[:, None] > 0) & (years[None, :] >= cohort[:, None])
    y = rng.normal(size=(len(cohort), 1)) + shock + rng.normal(size=(len(cohort), periods)) + effect * treated
    n = len(cohort)
    return pd.DataFrame({
        "person": np.repeat(np.arange(n), periods), "year": np.tile(years, n), "y": y.ravel(),
        "cohort": np.repeat(cohort, periods), "municipality": np.repeat(municipality, periods),
        "x": np.repeat(rng.normal(size=n), periods),
    })


@pytest.fixture(scope="module")
def persons() -> pd.DataFrame:
    return persons_in_municipalities(3)


@pytest.fixture(scope="module")
def diff_diff_clustered(persons):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dd.CallawaySantAnna(control_group="never_treated", estimation_method="dr",
                                   cluster="municipality").fit(
            persons, outcome="y", unit="person", time="year", first_treat="cohort", aggregate="all")


def test_cells_and_aggregates_match_diff_diff_cluster(persons, diff_diff_clustered):
    theirs = diff_diff_clustered
    ours = att_gt(persons, **KEYS, cluster="municipality")
    cells = theirs.to_dataframe().dropna(subset=["effect"]).rename(columns={"group": "cohort"})
    mine = ours.tidy().merge(cells, on=["cohort", "time"])
    assert len(mine) == len(ours.tidy())
    np.testing.assert_allclose(mine["estimate"], mine["effect"], rtol=1e-10)
    np.testing.assert_allclose(mine["std_error"], mine["se"], rtol=1e-8)

    simple = ours.aggregate("simple")
    np.testing.assert_allclose(simple.estimate, theirs.overall_att, rtol=1e-10)
    np.testing.assert_allclose(simple.std_error, theirs.overall_se, rtol=1e-8)
    group = ours.aggregate("group").tidy().set_index("cohort")
    for cohort, row in theirs.group_effects.items():
        np.testing.assert_allclose(group.loc[cohort, "std_error"], row["se"], rtol=1e-8)
    dynamic = ours.aggregate("dynamic").tidy().set_index("event_time")
    for event_time, row in theirs.event_study_effects.items():
        if np.isfinite(row["se"]) and row["se"] > 0:
            np.testing.assert_allclose(dynamic.loc[event_time, "std_error"], row["se"], rtol=1e-8)


def test_clustering_changes_only_the_standard_errors(persons):
    plain = att_gt(persons, **KEYS)
    clustered = att_gt(persons, **KEYS, cluster="municipality")
    np.testing.assert_array_equal(plain.estimate, clustered.estimate)
    np.testing.assert_array_equal(plain.influence, clustered.influence)  # still per person
    # a shared yearly shock per municipality: person-level SEs are far too small
    assert clustered.aggregate("simple").std_error > 3 * plain.aggregate("simple").std_error
    assert "clustered by 'municipality' (60 clusters" in " ".join(clustered.notes)


def test_key_vcov_gives_the_dynamic_standard_errors(persons):
    dynamic = att_gt(persons, **KEYS, cluster="municipality").aggregate("dynamic")
    np.testing.assert_allclose(np.sqrt(np.diag(dynamic.key_vcov())), dynamic.tidy()["std_error"],
                               rtol=1e-12)
    unclustered = att_gt(persons, **KEYS).aggregate("dynamic")
    np.testing.assert_allclose(np.sqrt(np.diag(unclustered.key_vcov())),
                               unclustered.tidy()["std_error"], rtol=1e-12)


def test_clustered_bootstrap_agrees_with_analytic_and_is_seeded(persons):
    """One multiplier per municipality: the bootstrap SE of the overall ATT is within 8 % of the
    analytic clustered SE (4,999 draws; the IQR-based SE has a Monte Carlo error of ~1.6 %) and
    far above the person-level one."""
    analytic = att_gt(persons, **KEYS, cluster="municipality").aggregate("simple").std_error
    boot = att_gt(persons, **KEYS, cluster="municipality", n_draws=4999, seed=11)
    again = att_gt(persons, **KEYS, cluster="municipality", n_draws=4999, seed=11)
    simple = boot.aggregate("simple")
    assert simple.std_error == pytest.approx(analytic, rel=0.08)
    np.testing.assert_array_equal(boot.std_error, again.std_error)
    assert "one per cluster" in " ".join(boot.notes)


def test_repeated_cross_sections_cluster_matches_diff_diff(persons):
    """panel=False with cluster: IPW (whose unclustered SEs equal diff-diff's to 1e-4, see
    test_callaway_santanna) also agrees when clustered by municipality."""
    rng = np.random.default_rng(5)
    rows = persons[rng.random(len(persons)) > 0.3].reset_index(drop=True)
    rows = rows.assign(rowid=np.arange(len(rows)))
    ours = att_gt(rows, **{**KEYS, "unit": "rowid"}, method="ipw", panel=False, cluster="municipality")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = dd.CallawaySantAnna(control_group="never_treated", estimation_method="ipw",
                                     panel=False, cluster="municipality").fit(
            rows, outcome="y", unit="rowid", time="year", first_treat="cohort", aggregate="simple")
    simple = ours.aggregate("simple")
    np.testing.assert_allclose(simple.estimate, theirs.overall_att, rtol=1e-8)
    np.testing.assert_allclose(simple.std_error, theirs.overall_se, rtol=1e-4)


def test_refuses_a_unit_that_changes_cluster(persons):
    moved = persons.copy()
    mover = moved["person"] == 7
    moved.loc[mover & (moved["year"] >= 5), "municipality"] = 99
    with pytest.raises(IdentificationError, match=r"varies within unit .*\[7\].*first year observed"):
        att_gt(moved, **KEYS, cluster="municipality")


def test_refuses_missing_cluster_and_a_single_cluster(persons):
    missing = persons.copy()
    missing["municipality"] = missing["municipality"].astype(float)
    missing.loc[3, "municipality"] = np.nan
    with pytest.raises(InputError, match="'municipality' has 1 missing value.*index label 3"):
        att_gt(missing, **KEYS, cluster="municipality")
    with pytest.raises(OptionError, match="not in the data"):
        att_gt(persons, **KEYS, cluster="gemeente")
    with pytest.raises(IdentificationError, match="at least two clusters"):
        att_gt(persons.assign(one=1), **KEYS, cluster="one")


def test_monte_carlo_coverage_persons_in_municipalities():
    """120 panels of 40 municipalities x 15 persons x 7 years, a shared yearly shock per
    municipality and a true ATT of 1: the clustered 95 % interval of the overall ATT covers in
    89-99 % of panels (binomial SE ~2 %), the person-level one in fewer than 75 %."""
    covered = {"municipality": 0, None: 0}
    draws = 120
    for seed in range(draws):
        data = persons_in_municipalities(1000 + seed, municipalities=40, persons=15)
        for cluster in covered:
            simple = att_gt(data, **KEYS, method="reg", cluster=cluster).aggregate("simple")
            covered[cluster] += simple.conf_low <= 1.0 <= simple.conf_high
    assert 0.89 <= covered["municipality"] / draws <= 0.99
    assert covered[None] / draws < 0.75


def test_event_study_view_keeps_the_clustered_covariance(persons):
    """pretrend_test / honest_did read the dynamic aggregation through to_event_study(): its
    covariance must be the clustered one."""
    dynamic = att_gt(persons, **KEYS, cluster="municipality").aggregate("dynamic")
    study = dynamic.to_event_study()
    table = dynamic.tidy().set_index("event_time").loc[study.event_time]
    np.testing.assert_allclose(np.sqrt(np.diag(study.vcov)), table["std_error"], rtol=1e-12)
    assert "clustered by 'municipality'" in " ".join(study.notes)
