"""Callaway & Sant'Anna ATT(g,t) and aggregations against published and peer-package numbers.

Data: ``mpdta`` (county teen employment, Callaway & Sant'Anna 2021), as shipped with R ``did``
and re-distributed by the PyPI package ``moderndid`` (``moderndid.load_mpdta()``).

References and tolerances
* R ``did`` README and vignette ("Introduction to DiD with multiple time periods"), stored with
  their source in ``tests/fixtures/r_did_mpdta.json``: ATT(g,t) estimates, overall simple ATT with and without
  ``xformla = ~lpop`` at the printed 4 decimals.  The
  vignette's standard errors are multiplier-bootstrap draws (R's default ``bstrap = TRUE``), so
  only the analytic SE of ATT(2004,2004) (0.0233, stable to 4 decimals) is compared there.
* ``moderndid`` (a port of R did/DRDID, computed in the test): estimates rtol 1e-6 and analytic
  SEs rtol 1e-4 for every (g,t) cell and every aggregation, over control group, base period,
  anticipation, estimation method, weights and min_e/max_e/balance_e.
* ``diff_diff.CallawaySantAnna`` (computed in the test): rtol 1e-6 / 1e-4 except DR with
  covariates, see ``test_diff_diff_dr_with_covariates``.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from effectmeting.errors import DroppedCohortWarning, IdentificationError, InputError, OptionError
from effectmeting.estimate.callaway_santanna.att_gt import att_gt

md = pytest.importorskip("moderndid")
dd = pytest.importorskip("diff_diff")

KEYS = dict(outcome="lemp", unit="countyreal", time="year", cohort="first.treat")
MD_CONTROL = {"never": "nevertreated", "notyet": "notyettreated"}
DD_CONTROL = {"never": "never_treated", "notyet": "not_yet_treated"}


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return md.load_mpdta().to_pandas()


def _moderndid(data, *, control="never", covariates=None, method="dr", base_period="varying",
               anticipation=0, weights=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return md.att_gt(data, yname="lemp", tname="year", idname="countyreal",
                         gname="first.treat", xformla=("~" + "+".join(covariates)) if covariates else None,
                         est_method=method, boot=False, cband=False, weightsname=weights,
                         control_group=MD_CONTROL[control], base_period=base_period,
                         anticipation=anticipation)


def _md_aggte(reference, kind, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return md.aggte(reference, type=kind, boot=False, cband=False, **kwargs)


# --- published numbers (R did), stored with their source in tests/fixtures/r_did_mpdta.json ------
R_DID = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "r_did_mpdta.json").read_text())


def test_vignette_att_gt_and_simple_aggregate(mpdta):
    result = att_gt(mpdta, **KEYS)
    table = result.tidy().set_index(["cohort", "time"])
    assert list(result.tidy().columns) == ["term", "cohort", "time", "estimate", "std_error", "statistic",
                                          "p_value", "conf_low", "conf_high"]
    for row in R_DID["att_gt"]:
        cell = (row["cohort"], row["time"])
        assert round(table.loc[cell, "estimate"], 4) == row["estimate"], cell
    assert round(table.loc[(2004, 2004), "std_error"], 4) == R_DID["std_error_2004_2004"]
    assert round(result.aggregate("simple").estimate, 4) == R_DID["simple"]["estimate"]


def test_vignette_simple_with_lpop(mpdta):
    result = att_gt(mpdta, **KEYS, covariates=["lpop"])
    assert round(result.aggregate("simple").estimate, 4) == R_DID["simple_xformla_lpop"]["estimate"]


# --- moderndid: every cell and every aggregation -------------------------------------------------
def _compare_with_moderndid(ours, reference):
    table = ours.tidy()
    np.testing.assert_array_equal(table["cohort"], np.asarray(reference.groups))
    np.testing.assert_array_equal(table["time"], np.asarray(reference.times))
    np.testing.assert_allclose(table["estimate"], np.asarray(reference.att_gt), rtol=1e-6, atol=1e-12)
    # universal base period: the reference cell is 0 with no SE in both (NaN)
    np.testing.assert_allclose(table["std_error"], np.asarray(reference.se_gt), rtol=1e-4)
    for kind in ("simple", "group", "dynamic", "calendar"):
        mine, theirs = ours.aggregate(kind), _md_aggte(reference, kind)
        np.testing.assert_allclose(mine.estimate, theirs.overall_att, rtol=1e-6, err_msg=kind)
        np.testing.assert_allclose(mine.std_error, theirs.overall_se, rtol=1e-4, err_msg=kind)
        if kind != "simple":
            np.testing.assert_allclose(mine.tidy()["estimate"], theirs.att_by_event, rtol=1e-6, atol=1e-12)
            np.testing.assert_allclose(mine.tidy()["std_error"], theirs.se_by_event, rtol=1e-4)


@pytest.mark.parametrize("control", ["never", "notyet"])
@pytest.mark.parametrize("base_period", ["varying", "universal"])
@pytest.mark.parametrize("anticipation", [0, 1])
def test_dr_with_covariate_matches_moderndid(mpdta, control, base_period, anticipation):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anticipation=1 drops cohort 2004 with a warning
        ours = att_gt(mpdta, **KEYS, covariates=["lpop"], control=control,
                      base_period=base_period, anticipation=anticipation)
    reference = _moderndid(mpdta, covariates=["lpop"], control=control, base_period=base_period,
                           anticipation=anticipation)
    _compare_with_moderndid(ours, reference)


@pytest.mark.parametrize("base_period", ["varying", "universal"])
def test_time_varying_covariate_matches_moderndid(mpdta, base_period):
    """R did takes a time-varying covariate in the earlier period of each 2x2 cell."""
    rng = np.random.default_rng(5)
    data = mpdta.assign(x_varying=mpdta["lpop"] + rng.normal(scale=0.5, size=len(mpdta)))
    ours = att_gt(data, **KEYS, covariates=["x_varying"], base_period=base_period)
    _compare_with_moderndid(ours, _moderndid(data, covariates=["x_varying"], base_period=base_period))


@pytest.mark.parametrize("method", ["ipw", "reg"])
@pytest.mark.parametrize("control", ["never", "notyet"])
def test_ipw_and_reg_match_moderndid(mpdta, method, control):
    ours = att_gt(mpdta, **KEYS, covariates=["lpop"], method=method, control=control)
    _compare_with_moderndid(ours, _moderndid(mpdta, covariates=["lpop"], method=method, control=control))


def test_sampling_weights_match_moderndid(mpdta):
    """Weighted ATT(g,t) cells and SEs against moderndid.

    Aggregation: R did weights cohorts by the *weighted* share ``mean(w * 1{G = g})``;
    moderndid 0.2 drops the weights there (its ``weights_ind`` is None, so shares are
    unweighted).  We check our weighted simple aggregate against the share formula computed
    here with pandas, and check that with unit weights set to one in the aggregation step we
    reproduce moderndid's aggregate exactly (so the only difference is that documented one).
    """
    data = mpdta.copy()
    rng = np.random.default_rng(7)
    unit_weight = pd.Series(rng.uniform(0.5, 2.0, data["countyreal"].nunique()),
                            index=np.sort(data["countyreal"].unique()))
    data["w"] = data["countyreal"].map(unit_weight)
    ours = att_gt(data, **KEYS, covariates=["lpop"], weights="w")
    reference = _moderndid(data, covariates=["lpop"], weights="w")
    table = ours.tidy()
    np.testing.assert_allclose(table["estimate"], np.asarray(reference.att_gt), rtol=1e-6)
    np.testing.assert_allclose(table["std_error"], np.asarray(reference.se_gt), rtol=1e-4)

    units = data.drop_duplicates("countyreal")
    share = units.groupby("first.treat")["w"].sum() / units["w"].sum()
    post = table[table["cohort"] <= table["time"]]
    cell_share = post["cohort"].map(share)
    expected = float((post["estimate"] * cell_share).sum() / cell_share.sum())
    np.testing.assert_allclose(ours.aggregate("simple").estimate, expected, rtol=1e-12)

    ours.unit_weights = np.ones_like(ours.unit_weights)
    for kind in ("simple", "dynamic", "calendar", "group"):
        mine, theirs = ours.aggregate(kind), _md_aggte(reference, kind)
        np.testing.assert_allclose(mine.estimate, theirs.overall_att, rtol=1e-6)
        np.testing.assert_allclose(mine.std_error, theirs.overall_se, rtol=1e-4)


def test_event_window_and_balance_match_moderndid(mpdta):
    ours = att_gt(mpdta, **KEYS)
    reference = _moderndid(mpdta)
    for kwargs in (dict(min_e=-2, max_e=2), dict(balance_e=1)):
        mine, theirs = ours.aggregate("dynamic", **kwargs), _md_aggte(reference, "dynamic", **kwargs)
        np.testing.assert_allclose(mine.tidy()["event_time"], theirs.event_times)
        np.testing.assert_allclose(mine.tidy()["estimate"], theirs.att_by_event, rtol=1e-6)
        np.testing.assert_allclose(mine.tidy()["std_error"], theirs.se_by_event, rtol=1e-4)
        np.testing.assert_allclose(mine.estimate, theirs.overall_att, rtol=1e-6)
        np.testing.assert_allclose(mine.std_error, theirs.overall_se, rtol=1e-4)


# --- diff-diff ----------------------------------------------------------------------------------
def _diff_diff(data, *, control="never", covariates=None, method="dr", base_period="varying",
               anticipation=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = dd.CallawaySantAnna(control_group=DD_CONTROL[control], estimation_method=method,
                                        base_period=base_period, anticipation=anticipation)
        return estimator.fit(data, outcome="lemp", unit="countyreal", time="year",
                             first_treat="first.treat", covariates=covariates, aggregate="all")


def _aligned(ours, theirs):
    frame = theirs.to_dataframe().dropna(subset=["effect"])
    frame = frame.rename(columns={"group": "cohort"}).set_index(["cohort", "time"])
    mine = ours.tidy().set_index(["cohort", "time"])
    mine = mine[mine["std_error"].notna()]  # diff-diff reports the universal reference cell as 0
    return mine, frame.loc[mine.index]


@pytest.mark.parametrize("control,base_period,anticipation,method,covariates", [
    ("never", "varying", 0, "dr", None),
    ("notyet", "varying", 0, "dr", None),
    ("never", "universal", 0, "dr", None),
    ("notyet", "universal", 1, "dr", None),
    ("never", "varying", 0, "ipw", ["lpop"]),
    ("notyet", "varying", 0, "reg", ["lpop"]),
])
def test_matches_diff_diff(mpdta, control, base_period, anticipation, method, covariates):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = att_gt(mpdta, **KEYS, control=control, base_period=base_period,
                      anticipation=anticipation, method=method, covariates=covariates)
    theirs = _diff_diff(mpdta, control=control, base_period=base_period,
                        anticipation=anticipation, method=method, covariates=covariates)
    mine, frame = _aligned(ours, theirs)
    np.testing.assert_allclose(mine["estimate"], frame["effect"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(mine["std_error"], frame["se"], rtol=1e-4)
    simple = ours.aggregate("simple")
    if anticipation == 0:
        np.testing.assert_allclose(simple.estimate, theirs.overall_att, rtol=1e-6)
        np.testing.assert_allclose(simple.std_error, theirs.overall_se, rtol=1e-4)
    else:
        # Explained difference: diff-diff counts the anticipation periods (t >= g - anticipation)
        # as post-treatment in its overall ATT; R did (and moderndid, tested above) average only
        # t >= g.  Recompute diff-diff's definition from our cells to show that is the only gap.
        table = ours.tidy()
        units = mpdta.drop_duplicates("countyreal")
        share = units["first.treat"].value_counts(normalize=True)
        kept = table[table["time"] >= table["cohort"] - anticipation]
        weight = kept["cohort"].map(share)
        np.testing.assert_allclose((kept["estimate"] * weight).sum() / weight.sum(),
                                   theirs.overall_att, rtol=1e-6)


def test_diff_diff_dr_with_covariates(mpdta):
    """DR with a covariate: diff-diff differs from R did/DRDID by up to ~1e-5 (absolute).

    Explanation: the cells agree exactly for IPW and regression (tested above) and DR agrees with
    moderndid (a line-by-line port of R DRDID::drdid_panel) to 1e-12, so the gap is diff-diff's own
    DR implementation (it solves the outcome regression with a column-equilibrated SVD and stops its
    logit at a coefficient-change tolerance of 1e-8, where we iterate to convergence).  We therefore
    hold diff-diff to 2e-5 absolute on estimates and 1e-3 relative on SEs here.
    """
    ours = att_gt(mpdta, **KEYS, covariates=["lpop"])
    theirs = _diff_diff(mpdta, covariates=["lpop"])
    mine, frame = _aligned(ours, theirs)
    np.testing.assert_allclose(mine["estimate"], frame["effect"], rtol=0, atol=2e-5)
    np.testing.assert_allclose(mine["std_error"], frame["se"], rtol=1e-3)


# --- repeated cross-sections (panel=False) -------------------------------------------------------
@pytest.fixture(scope="module")
def cross_sections(mpdta) -> pd.DataFrame:
    """mpdta with 30 % of rows removed at random, so rows are not a balanced panel."""
    rng = np.random.default_rng(3)
    data = mpdta[rng.random(len(mpdta)) > 0.3].reset_index(drop=True)
    return data.assign(rowid=np.arange(len(data)))


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_rc_two_by_two_matches_drdid_port(method):
    """The 2x2 repeated cross-section estimators against moderndid's port of R DRDID
    (``drdid_rc``, ``std_ipw_did_rc``, ``reg_did_rc``): ATT and influence function to 1e-10."""
    from moderndid.drdid.estimators import drdid_rc, reg_did_rc, std_ipw_did_rc

    from effectmeting.estimate.callaway_santanna.drdid_rc import ESTIMATORS_RC

    rng = np.random.default_rng(1)
    n = 800
    x = rng.normal(size=n)
    treated = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(float)
    post = (rng.random(n) < 0.5).astype(float)
    y = x + treated * post + post + rng.normal(size=n)
    design = np.column_stack([np.ones(n), x])
    weights = rng.uniform(0.5, 2.0, n)
    reference = {"dr": drdid_rc.drdid_rc, "ipw": std_ipw_did_rc.std_ipw_did_rc,
                 "reg": reg_did_rc.reg_did_rc}[method](y=y, post=post, d=treated, covariates=design,
                                                      i_weights=weights, influence_func=True)
    att, influence = ESTIMATORS_RC[method](y, post, treated, design, weights)
    np.testing.assert_allclose(att, reference.att, rtol=1e-10)
    np.testing.assert_allclose(influence, reference.att_inf_func, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("control,base_period", [("never", "varying"), ("notyet", "universal")])
def test_rc_att_gt_matches_diff_diff(cross_sections, method, control, base_period):
    """Repeated cross-sections against diff-diff (panel=False): estimates and the simple
    aggregate to 1e-6.  SEs: IPW to 1e-4; for DR and regression diff-diff's SEs differ by 1-3 %
    while our 2x2 influence functions equal the DRDID port to 1e-10 (test above) and the cell
    scaling is shared with IPW, so we attribute the gap to diff-diff's outcome-regression
    influence terms and only check those SEs to 5 %.  (moderndid 0.2's att_gt(panel=False) is
    not usable as a reference: its SEs mix row and unit counts and not-yet-treated cells crash.)"""
    ours = att_gt(cross_sections, **KEYS, covariates=["lpop"], method=method, control=control,
                  base_period=base_period, panel=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = dd.CallawaySantAnna(control_group=DD_CONTROL[control], estimation_method=method,
                                     base_period=base_period, panel=False).fit(
            cross_sections, outcome="lemp", unit="rowid", time="year", first_treat="first.treat",
            covariates=["lpop"], aggregate="simple")
    mine, frame = _aligned(ours, theirs)
    np.testing.assert_allclose(mine["estimate"], frame["effect"], rtol=1e-6, atol=1e-12)
    se_tolerance = 1e-4 if method == "ipw" else 5e-2
    np.testing.assert_allclose(mine["std_error"], frame["se"], rtol=se_tolerance)
    simple = ours.aggregate("simple")
    np.testing.assert_allclose(simple.estimate, theirs.overall_att, rtol=1e-6)
    np.testing.assert_allclose(simple.std_error, theirs.overall_se, rtol=se_tolerance)
    assert ours.influence.shape == (len(cross_sections), len(ours.tidy()))


def test_rc_cells_match_moderndid_estimates(cross_sections):
    ours = att_gt(cross_sections, **KEYS, covariates=["lpop"], panel=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = md.att_gt(cross_sections, yname="lemp", tname="year", idname="countyreal",
                              gname="first.treat", xformla="~lpop", boot=False, cband=False,
                              panel=False)
    np.testing.assert_allclose(ours.tidy()["estimate"], np.asarray(reference.att_gt), rtol=1e-6)


# --- inference details ---------------------------------------------------------------------------
def test_influence_functions_give_the_standard_errors(mpdta):
    result = att_gt(mpdta, **KEYS)
    n_units = mpdta["countyreal"].nunique()
    assert result.influence.shape == (n_units, len(result.tidy()))
    np.testing.assert_allclose(np.sqrt((result.influence ** 2).mean(axis=0) / n_units),
                               result.tidy()["std_error"], rtol=1e-12)


def test_bootstrap_is_seeded_and_close_to_analytic(mpdta):
    analytic = att_gt(mpdta, **KEYS)
    first = att_gt(mpdta, **KEYS, n_draws=4999, seed=11)
    again = att_gt(mpdta, **KEYS, n_draws=4999, seed=11)
    other = att_gt(mpdta, **KEYS, n_draws=4999, seed=12)
    pd.testing.assert_frame_equal(first.tidy(), again.tidy())
    assert not first.tidy().equals(other.tidy())
    ratio = first.tidy()["std_error"] / analytic.tidy()["std_error"]
    assert ratio.between(0.9, 1.1).all(), ratio
    # simultaneous bands are wider than pointwise ones
    assert first.crit_value > 1.96
    for kind in ("simple", "group", "dynamic", "calendar"):
        boot, exact = first.aggregate(kind), analytic.aggregate(kind)
        assert abs(boot.std_error / exact.std_error - 1) < 0.1, kind
        pd.testing.assert_frame_equal(boot.tidy(), again.aggregate(kind).tidy())
    dynamic = first.aggregate("dynamic").tidy()
    width = (dynamic["conf_high"] - dynamic["conf_low"]) / (2 * dynamic["std_error"])
    assert (width > 1.96).all()


def test_dynamic_plot(mpdta):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = att_gt(mpdta, **KEYS).aggregate("dynamic").plot()
    assert isinstance(figure, Figure)
    axis = figure.axes[0]
    assert any(np.allclose(line.get_ydata(), 0.0) for line in axis.get_lines())
    # other kinds draw the results contract's plot: one interval per cohort
    group = att_gt(mpdta, **KEYS).aggregate("group")
    labels = {t.get_text() for t in group.plot().axes[0].get_yticklabels()}
    assert labels == set(group.tidy()["term"])


# --- refusals ------------------------------------------------------------------------------------
def test_refuses_without_never_treated(mpdta):
    data = mpdta[mpdta["first.treat"] > 0]
    with pytest.raises(IdentificationError, match="no never-treated units"):
        att_gt(data, **KEYS, control="never")
    # not-yet-treated works and uses the last cohort as comparison only, as R did
    # (pre_process_did: periods >= 2007 dropped, cohort 2007 not estimated).  moderndid also
    # reports pre-period cells for cohort 2007; the shared cells and the simple ATT must agree.
    result = att_gt(data, **KEYS, control="notyet", covariates=["lpop"])
    table = result.tidy()
    assert set(table["cohort"]) == {2004, 2006}
    assert table["time"].max() == 2006
    reference = _moderndid(data, control="notyet", covariates=["lpop"])
    shared = np.asarray(reference.groups) < 2007
    np.testing.assert_allclose(table["estimate"], np.asarray(reference.att_gt)[shared], rtol=1e-6)
    np.testing.assert_allclose(table["std_error"], np.asarray(reference.se_gt)[shared], rtol=1e-4)
    simple = _md_aggte(reference, "simple")
    np.testing.assert_allclose(result.aggregate("simple").estimate, simple.overall_att, rtol=1e-6)
    np.testing.assert_allclose(result.aggregate("simple").std_error, simple.overall_se, rtol=1e-4)


def test_refuses_when_all_units_treated_in_first_period(mpdta):
    data = mpdta.assign(**{"first.treat": 2003})
    with pytest.raises(IdentificationError, match="all .* units are treated in the first period"):
        att_gt(data, **KEYS)


def test_first_period_cohort_dropped_with_warning(mpdta):
    data = mpdta.copy()
    early_units = data.loc[data["first.treat"] == 0, "countyreal"].unique()[:20]
    data.loc[data["countyreal"].isin(early_units), "first.treat"] = 2003
    with pytest.warns(DroppedCohortWarning, match="Dropped 20 unit"):
        result = att_gt(data, **KEYS)
    assert any("Dropped 20 unit" in note for note in result.notes)
    assert result.influence.shape[0] == data["countyreal"].nunique() - 20
    assert 2003 not in set(result.tidy()["cohort"])


def test_refuses_non_absorbing_treatment(mpdta):
    data = mpdta.copy()
    data.loc[(data["countyreal"] == 8001) & (data["year"] == 2003), "first.treat"] = 2006
    with pytest.raises(IdentificationError, match="varies within unit.*8001"):
        att_gt(data, **KEYS)


def test_refuses_unbalanced_panel(mpdta):
    data = mpdta.drop(index=mpdta.index[3])
    with pytest.raises(IdentificationError, match="not balanced.*panel=False"):
        att_gt(data, **KEYS)
    with pytest.raises(InputError, match=r"not unique.*index label 0 and .*index label 0 both have"):
        att_gt(pd.concat([mpdta, mpdta.iloc[:1]]), **KEYS)


def test_refuses_missing_values_and_bad_options(mpdta):
    data = mpdta.copy()
    data.loc[5, "lemp"] = np.nan
    with pytest.raises(InputError, match="'lemp' has 1 missing"):
        att_gt(data, **KEYS)
    with pytest.raises(OptionError, match="control="):
        att_gt(mpdta, **KEYS, control="later")
    with pytest.raises(OptionError, match="not in the data"):
        att_gt(mpdta, **KEYS, covariates=["income"])
    with pytest.raises(OptionError, match="method="):
        att_gt(mpdta, **KEYS, method="twfe")
