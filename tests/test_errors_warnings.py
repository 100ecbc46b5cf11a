"""Errors carry a machine-readable ``reason``; bad options are ``OptionError``s (a ``ValueError``,
not an identification error); every warning has its own class and is filtered by class."""
from __future__ import annotations

import ast
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import effectmeting as em
from effectmeting import errors
from effectmeting.errors import (DroppedCohortWarning, EffectmetingError, EffectmetingWarning, FewClustersWarning,
                                 IdentificationError, OptionError, UnidentifiedCellWarning)

SRC = Path(__file__).resolve().parents[1] / "src" / "effectmeting"
KEYS = {"outcome": "lemp", "unit": "countyreal", "time": "year", "cohort": "first.treat"}


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    md = pytest.importorskip("moderndid")
    return md.load_mpdta().to_pandas()


def _clustered(n_clusters: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x": rng.normal(size=400), "g": np.arange(400) % n_clusters})
    frame["y"] = 2 * frame["x"] + rng.normal(size=400)
    return frame


def test_option_error_is_a_value_error_and_not_an_identification_error():
    assert issubclass(OptionError, ValueError) and issubclass(OptionError, EffectmetingError)
    assert not issubclass(OptionError, IdentificationError)
    # the old import path still works
    from effectmeting.estimate.core.checks import OptionError as old
    assert old is OptionError


def test_every_error_class_has_a_reason_the_raiser_can_set():
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, EffectmetingError)]
    assert len(classes) >= 10
    for cls in classes:
        assert isinstance(cls.default_reason, str) and cls.default_reason
        assert cls("message").reason == cls.default_reason
    assert IdentificationError("x", reason="no_pre_period").reason == "no_pre_period"
    assert OptionError("x").reason == "option"
    failure = errors.SchemaValidationError("bad", failures=[1], reason="types")
    assert failure.failures == [1] and failure.reason == "types"


def test_error_and_warning_classes_are_exported_at_top_level():
    for name in ("OptionError", "IdentificationError", "EffectmetingWarning", "FewClustersWarning",
                 "DroppedCohortWarning", "UnidentifiedCellWarning"):
        assert getattr(em, name) is getattr(errors, name)
        assert name in em.__all__


def test_bad_options_raise_option_errors_with_a_reason(mpdta):
    with pytest.raises(OptionError) as caught:
        em.att_gt(mpdta, **KEYS, control="later")
    assert caught.value.reason == "option"
    with pytest.raises(ValueError):  # callers that caught ValueError still do
        em.att_gt(mpdta, **KEYS, n_draws=0)
    with pytest.raises(OptionError) as caught:
        em.att_gt(mpdta, **{**KEYS, "outcome": "nope"})
    assert caught.value.reason == "unknown_column"
    dynamic = em.att_gt(mpdta, **KEYS, base_period="universal").aggregate("dynamic")
    with pytest.raises(OptionError):
        em.honest_did(dynamic.to_event_study(), method="relative_magnitudes", mbar=-1.0)
    with pytest.raises(OptionError):
        em.honest_did(dynamic.to_event_study(), method="nope")


def test_identification_errors_say_why_in_a_reason_code(mpdta):
    never = mpdta[mpdta["first.treat"] > 0]
    with pytest.raises(IdentificationError) as caught:
        em.att_gt(never, **KEYS, control="never")
    assert caught.value.reason == "no_never_treated"
    with pytest.raises(IdentificationError) as caught:
        em.sun_abraham(never, outcome="lemp", unit="countyreal", time="year", cohort="first.treat",
                       control="never")
    assert caught.value.reason == "no_never_treated"
    with pytest.raises(IdentificationError) as caught:
        em.feols("y ~ x", _clustered(10).assign(one=1), vcov={"cluster": "one"})
    assert caught.value.reason == "too_few_clusters"
    # an event study with only the reference period before adoption cannot bound violations
    result = em.att_gt(mpdta, **KEYS, base_period="universal").aggregate("dynamic", min_e=-1).to_event_study()
    with pytest.raises(IdentificationError) as caught:
        em.honest_did(result, method="relative_magnitudes", mbar=1.0)
    assert caught.value.reason == "no_pre_period"


def test_few_clusters_warning_is_raised_and_filtered_by_class():
    frame = _clustered(10)
    with pytest.warns(FewClustersWarning, match="only 10 clusters"):
        em.feols("y ~ x", frame, vcov={"cluster": "g"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", FewClustersWarning)
        em.feols("y ~ x", frame, vcov={"cluster": "g"})


def test_dropped_cohort_warning_is_raised_and_filtered_by_class(mpdta):
    data = mpdta.copy()
    early = data.loc[data["first.treat"] == 0, "countyreal"].unique()[:20]
    data.loc[data["countyreal"].isin(early), "first.treat"] = 2003
    with pytest.warns(DroppedCohortWarning, match="Dropped 20 unit"):
        em.att_gt(data, **KEYS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", DroppedCohortWarning)
        em.att_gt(data, **KEYS)


def test_unidentified_cell_warning_is_raised_and_filtered_by_class(mpdta):
    # repeated cross-sections without a never-treated observation in 2007: no comparison for (g, 2007)
    sample = mpdta[~((mpdta["first.treat"] == 0) & (mpdta["year"] == 2007))]
    with pytest.warns(UnidentifiedCellWarning, match=r"No comparison units for cell\(s\) \(2004, 2007\)"):
        em.att_gt(sample, **KEYS, panel=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", EffectmetingWarning)  # the base class covers every one
        em.att_gt(sample, **KEYS, panel=False)


def test_every_warning_in_the_package_names_an_effectmeting_warning_class():
    """No bare ``warnings.warn(message)`` (a plain UserWarning only a message regex can filter)."""
    classes = {name for name, value in vars(errors).items()
               if isinstance(value, type) and issubclass(value, EffectmetingWarning)}
    found = 0
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "warn":
                found += 1
                category = node.args[1] if len(node.args) > 1 else next(
                    (k.value for k in node.keywords if k.arg == "category"), None)
                assert isinstance(category, ast.Name) and category.id in classes, \
                    f"{path.relative_to(SRC)}:{node.lineno}: warnings.warn without an EffectmetingWarning class"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "filterwarnings":
                assert not any(k.arg == "message" for k in node.keywords), \
                    f"{path.relative_to(SRC)}:{node.lineno}: filter warnings by class, not by message"
    assert found >= 3
