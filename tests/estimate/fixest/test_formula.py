"""The formula grammar: parsing, and errors that point (caret) at the offending position."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from effectmeting.errors import FormulaError
from effectmeting.estimate.fixest.feols import feols
from effectmeting.estimate.fixest.formula import parse_formula


def caret_position(error: FormulaError) -> int:
    """Column of the caret under the echoed formula (both lines are indented by two spaces)."""
    lines = str(error).splitlines()
    return lines[-1].index("^") - 2


def test_full_grammar_is_parsed():
    f = parse_formula("y ~ x1 + x2 + a:b + i(event_time, ref=-1) + C(kind) | fe1 + fe2")
    assert f.outcome == "y"
    assert [t.name for t in f.terms] == ["x1", "x2", "a:b", "i(event_time)", "C(kind)"]
    event = f.terms[3].factors[0]
    assert (event.kind, event.column, event.ref, event.has_ref) == ("i", "event_time", -1, True)
    assert [name for name, _ in f.fixed_effects] == ["fe1", "fe2"]
    assert f.intercept is False  # absorbed by the fixed effects
    assert f.columns == ["y", "x1", "x2", "a", "b", "event_time", "kind", "fe1", "fe2"]


@pytest.mark.parametrize("text, intercept", [("y ~ x", True), ("y ~ 0 + x", False),
                                             ("y ~ x - 1", False), ("y ~ 1 + x", True)])
def test_intercept_switches(text, intercept):
    assert parse_formula(text).intercept is intercept


def test_reference_level_values():
    assert parse_formula("y ~ i(t, ref=2.5)").terms[0].factors[0].ref == 2.5
    assert parse_formula("y ~ i(g, ref='noord')").terms[0].factors[0].ref == "noord"


@pytest.mark.parametrize("text, position, fragment", [
    ("y ~ x1 + + x2", 9, "expected a column name"),
    ("y ~ x1 $ x2", 7, "unexpected character '$'"),
    ("y x1", 2, "expected '~'"),
    ("y ~ i(t, ref=)", 13, "expected a value"),
    ("y ~ i(t, bin=3)", 9, "unknown option 'bin'"),
    ("y ~ x | f(z)", 8, "plain column names"),
    ("y ~ x1 * x2", 7, "unexpected character '*'"),
    ("y ~ 2 + x", 4, "only 0 or 1"),
    ("y ~ x - 2", 8, "only '- 1'"),
    ("y ~ x1 x2", 7, "unexpected 'x2'"),
    ("y ~ x:i(t)", 6, "interactions with i() or C()"),
])
def test_errors_point_at_the_offending_position(text, position, fragment):
    with pytest.raises(FormulaError) as info:
        parse_formula(text)
    assert fragment in str(info.value)
    assert caret_position(info.value) == position


@pytest.mark.parametrize("text, position", [
    ("y ~ __import__('os')", 4),
    ("y ~ os.system('rm -rf /')", 4),
    ("y ~ x + exec(open('f').read())", 8),
    ("y ~ x + (lambda: 1)", 8),
])
def test_code_is_rejected_never_evaluated(text, position):
    with pytest.raises(FormulaError) as info:
        parse_formula(text)
    assert caret_position(info.value) == position


def test_unknown_column_and_non_numeric_column_point_at_the_name():
    data = pd.DataFrame({"y": [1.0, 2.0, 3.0], "x": [1.0, 0.0, 2.0], "s": ["a", "b", "a"]})
    with pytest.raises(FormulaError) as info:
        feols("y ~ x + nope", data)
    assert "'nope' is not in the data" in str(info.value) and caret_position(info.value) == 8
    with pytest.raises(FormulaError) as info:
        feols("y ~ x + s", data)
    assert "C(s)" in str(info.value) and caret_position(info.value) == 8
    with pytest.raises(FormulaError) as info:
        feols("y ~ i(x, ref=7)", data)
    assert "ref=7 is not a level" in str(info.value)


def test_term_names_follow_pyfixest():
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"y": rng.normal(size=60), "a": rng.normal(size=60), "b": rng.normal(size=60),
                         "t": np.tile([-2, -1, 0, 1], 15), "k": np.repeat(["p", "q", "r"], 20)})
    fit = feols("y ~ a:b + i(t, ref=-1) + C(k)", data)
    assert list(fit.coef.index) == ["Intercept", "a:b", "t::-2", "t::0", "t::1", "C(k)[T.q]", "C(k)[T.r]"]
