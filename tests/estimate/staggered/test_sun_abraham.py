"""Sun & Abraham interaction-weighted event study against diff-diff's SunAbraham (IW estimates,
overall ATT, CR1 clustered SEs) and pyfixest feols (the saturated cohort x event-time regression).
Also the TWFE event study with binned endpoints against pyfixest feols with the same dummies."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from effectmeting.errors import IdentificationError
from effectmeting.estimate.staggered.event_study import event_study_twfe
from effectmeting.estimate.staggered.sun_abraham import sun_abraham

diff_diff = pytest.importorskip("diff_diff")
pf = pytest.importorskip("pyfixest")


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return diff_diff.generate_staggered_data(n_units=120, seed=3)


def _diff_diff_sa(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = diff_diff.SunAbraham().fit(data, outcome="outcome", unit="unit", time="period",
                                         first_treat="first_treat")
    return fit, fit.to_dataframe().set_index("relative_period")


def test_matches_diff_diff_never_treated_control(panel):
    ours = sun_abraham(panel, outcome="outcome", unit="unit", time="period", cohort="first_treat")
    fit, events = _diff_diff_sa(panel)
    assert ours.estimate == pytest.approx(fit.overall_att, rel=1e-6)
    assert ours.std_error == pytest.approx(fit.overall_se, rel=1e-4)
    table = ours.tidy().set_index("event_time")
    assert list(table.index) == list(events.index)
    np.testing.assert_allclose(table["estimate"], events["effect"], rtol=1e-6)
    np.testing.assert_allclose(table["std_error"], events["se"], rtol=1e-4)


def test_cohort_effects_match_pyfixest_saturated_regression(panel):
    ours = sun_abraham(panel, outcome="outcome", unit="unit", time="period", cohort="first_treat")
    data = panel.copy()
    rel = data["period"] - data["first_treat"]
    treated_cell = (data["first_treat"] > 0) & (rel != -1)
    data["cell"] = np.where(treated_cell, data["first_treat"].astype(str) + "_" + rel.astype(str), "ref")
    fit = pf.feols("outcome ~ i(cell, ref='ref') | unit + period", data=data, vcov={"CRV1": "unit"})
    expected = fit.tidy()
    expected.index = [name.split("::")[1] for name in expected.index]
    cohort = ours.cohort_effects
    keys = [f"{int(g)}_{e}" for g, e in zip(cohort["cohort"], cohort["event_time"])]
    np.testing.assert_allclose(cohort["estimate"], expected.loc[keys, "Estimate"], rtol=1e-6)
    np.testing.assert_allclose(cohort["std_error"], expected.loc[keys, "Std. Error"], rtol=1e-6)


def test_last_treated_control_equals_relabelled_never_control(panel):
    """control='last' = the last cohort relabelled never-treated on the periods before it adopts
    (Sun & Abraham section 4.2); checked through diff-diff on the relabelled data."""
    data = panel[panel["first_treat"] > 0]  # no never-treated units at all
    ours = sun_abraham(data, outcome="outcome", unit="unit", time="period", cohort="first_treat",
                       control="last")
    last = data["first_treat"].max()
    relabelled = data[data["period"] < last].copy()
    relabelled.loc[relabelled["first_treat"] == last, "first_treat"] = 0
    fit, events = _diff_diff_sa(relabelled)
    assert ours.estimate == pytest.approx(fit.overall_att, rel=1e-6)
    table = ours.tidy().set_index("event_time")
    np.testing.assert_allclose(table["estimate"], events.loc[table.index, "effect"], rtol=1e-6)
    np.testing.assert_allclose(table["std_error"], events.loc[table.index, "se"], rtol=1e-4)
    assert any("dropped" in note for note in ours.notes)  # trimmed rows are reported, not silent


def test_refuses_without_never_treated(panel):
    with pytest.raises(IdentificationError, match="never-treated"):
        sun_abraham(panel[panel["first_treat"] > 0], outcome="outcome", unit="unit", time="period",
                    cohort="first_treat", control="never")


@pytest.mark.parametrize("bin_endpoints", [True, False])
def test_twfe_event_study_matches_pyfixest(panel, bin_endpoints):
    window = (-3, 3)
    ours = event_study_twfe(panel, outcome="outcome", unit="unit", time="period", cohort="first_treat",
                            window=window, bin_endpoints=bin_endpoints)
    data = panel.copy()
    rel = (data["period"] - data["first_treat"]).where(data["first_treat"] > 0)
    if not bin_endpoints:
        data = data[rel.isna() | rel.between(*window)]
        rel = rel.loc[data.index]
    data["rel"] = rel.clip(*window).fillna(-1).astype(int)
    fit = pf.feols("outcome ~ i(rel, ref=-1) | unit + period", data=data, vcov={"CRV1": "unit"})
    table = ours.tidy()
    np.testing.assert_allclose(table["estimate"], fit.coef().to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(table["std_error"], fit.se().to_numpy(), rtol=1e-6)
    assert ours.reference == (-1,)
