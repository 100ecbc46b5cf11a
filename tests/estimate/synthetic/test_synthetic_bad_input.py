"""Refusals of synthetic_did and synthetic_control: each names the unit, the periods or the fit and
carries a reason code."""
from __future__ import annotations

import numpy as np
import pytest

import effectmeting as em
from effectmeting.errors import IdentificationError, InputError, OptionError
from synthetic_panels import block_panel

BLOCK = {"outcome": "y", "unit": "unit", "time": "year", "treatment": "d"}
ESTIMATORS = [em.synthetic_did, em.synthetic_control]


@pytest.fixture(scope="module")
def panel():
    return block_panel(n_units=10, n_treated=1)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_short_pre_period(panel, estimator):
    late = panel[panel["year"] >= 2014]  # adoption 2017: three pre-periods
    with pytest.raises(IdentificationError, match=r"u09.*2017.*3 period\(s\).*min_pre_periods=4") as error:
        estimator(late, **BLOCK)
    assert error.value.reason == "short_pre_period"
    fit = estimator(late, **BLOCK, min_pre_periods=3, se_method=None) if estimator is em.synthetic_did else None
    assert fit is None or fit.glance()["n_pre"].iloc[0] == 3


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_donors_that_cannot_match_the_pre_period(panel, estimator):
    """The treated unit far above every donor: synthetic control cannot reach it; synthetic DiD
    allows a level difference, so a treated unit with its own trend is used for it."""
    bad = panel.copy()
    treated = bad["unit"] == "u09"
    if estimator is em.synthetic_control:
        bad.loc[treated, "y"] += 50.0
    else:
        bad.loc[treated, "y"] += 4.0 * (bad.loc[treated, "year"] - 2010) * (bad.loc[treated, "year"] % 2)
    with pytest.raises(IdentificationError, match=r"cannot reproduce u09.*RMSPE.*noise level.*max_pre_rmspe=3") as error:
        estimator(bad, **BLOCK)
    assert error.value.reason == "poor_pre_fit"
    fit = estimator(bad, **BLOCK, max_pre_rmspe=None, **({"se_method": None} if estimator is em.synthetic_did else {}))
    assert fit.glance()["pre_rmspe_in_noise"].iloc[0] > 3


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("who", ["u09", "u03"])
def test_unit_missing_years(panel, estimator, who):
    holes = panel[~((panel["unit"] == who) & panel["year"].isin([2012, 2019]))]
    role = "treated unit" if who == "u09" else "donor"
    with pytest.raises(InputError, match=rf"{role} '{who}' has no row for period\(s\) 2012, 2019 \(column 'year'\)") as error:
        estimator(holes, **BLOCK)
    assert error.value.reason == "missing_years"


def test_staggered_and_switching_treatments_are_refused():
    data = block_panel(n_units=10, n_treated=2)
    data.loc[(data["unit"] == "u08") & (data["year"] == 2017), "d"] = 0  # u08 starts in 2018
    with pytest.raises(IdentificationError, match="different periods") as error:
        em.synthetic_did(data, **BLOCK)
    assert error.value.reason == "staggered_adoption"
    data = block_panel(n_units=10, n_treated=1)
    data.loc[(data["unit"] == "u09") & (data["year"] == 2019), "d"] = 0
    with pytest.raises(IdentificationError, match="untreated again in 2019") as error:
        em.synthetic_did(data, **BLOCK)
    assert error.value.reason == "not_absorbing"


def test_no_treated_unit_no_donor_and_not_binary(panel):
    with pytest.raises(IdentificationError) as error:
        em.synthetic_did(panel.assign(d=0), **BLOCK)
    assert error.value.reason == "no_treated_unit"
    with pytest.raises(IdentificationError) as error:
        em.synthetic_did(panel.assign(d=(panel["year"] >= 2017).astype(int)), **BLOCK)
    assert error.value.reason == "no_donors"
    with pytest.raises(InputError, match="must be 0/1") as error:
        em.synthetic_did(panel.assign(d=panel["d"] * 2), **BLOCK)
    assert error.value.reason == "not_binary"


def test_options(panel):
    with pytest.raises(IdentificationError, match="at least two treated units") as error:
        em.synthetic_did(panel, **BLOCK, se_method="jackknife")
    assert error.value.reason == "single_treated_unit"
    for bad in ({"method": "ols"}, {"se_method": "delta"}, {"n_draws": 1}, {"level": 95}, {"max_pre_rmspe": -1},
                {"min_pre_periods": 1}):
        with pytest.raises(OptionError):
            em.synthetic_did(panel, **BLOCK, **bad)
    for bad in ({"v": "optimal"}, {"v": [1, 2]}, {"outcome_periods": [2019]}, {"outcome_periods": "some"}):
        with pytest.raises(OptionError):
            em.synthetic_control(panel, **BLOCK, **bad)
    with pytest.raises(OptionError, match="kind"):
        em.synthetic_did(panel, **BLOCK, se_method=None).plot(kind="map")


def test_missing_outcome_is_refused_not_dropped(panel):
    holes = panel.copy()
    holes.loc[holes.index[5], "y"] = np.nan
    with pytest.raises(InputError) as error:
        em.synthetic_control(holes, **BLOCK)
    assert error.value.reason == "missing_value"
