"""The door (:meth:`PanelData.from_frame`): every estimator refuses bad input the same way, naming
the column, the row by its index label (not its position) and the value.

The frame carries text index labels ("r0", "r1", ...) in shuffled order, so a message that named
a row by position, or by the label of another row, would not match.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import effectmeting as em
from effectmeting.errors import IdentificationError, InputError, OptionError
from effectmeting.estimate.core.data import PanelData

KEYS = dict(outcome="y", unit="unit", time="time")
ESTIMATORS = {
    "att_gt": (em.att_gt, dict(cohort="cohort")),
    "sun_abraham": (em.sun_abraham, dict(cohort="cohort")),
    "imputation_did": (em.imputation_did, dict(cohort="cohort")),
    "event_study_twfe": (em.event_study_twfe, dict(cohort="cohort")),
    "bacon_decomposition": (em.bacon_decomposition, dict(cohort="cohort")),
    "dcdh": (em.dcdh, dict(treatment="d")),
}
WEIGHTED = ("att_gt", "imputation_did", "dcdh")  # the estimators that take weights=
CLUSTERED = ("att_gt", "dcdh")                   # clusters must nest units there


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    data, _ = em.simulate_staggered_panel(30, 6, [2012, 2014], seed=4, first_period=2010)
    data = data.assign(d=(data["time"] >= data["cohort"].replace(0, 10 ** 6)).astype(int), w=1.0,
                       region=data["unit"] % 5)
    order = np.random.default_rng(0).permutation(len(data))
    data = data.iloc[order].reset_index(drop=True)
    data.index = [f"r{i}" for i in range(len(data))]
    return data


def _run(name, data, **options):
    estimator, keys = ESTIMATORS[name]
    return estimator(data, **KEYS, **keys, **options)


def _set(data: pd.DataFrame, label: str, column: str, value) -> pd.DataFrame:
    changed = data.copy()
    if not isinstance(value, float):
        changed[column] = changed[column].astype(object)
    changed.loc[label, column] = value
    return changed


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_missing_outcome_names_column_index_label_and_value(panel, name):
    with pytest.raises(InputError, match=r"column 'y' has 1 missing value\(s\); row with index label 'r17' has nan") \
            as info:
        _run(name, _set(panel, "r17", "y", np.nan))
    assert info.value.reason == "missing_value"


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_missing_unit_or_period_is_refused_the_same_way(panel, name):
    with pytest.raises(InputError, match="column 'unit' has 1 missing.*index label 'r4' has None"):
        _run(name, _set(panel, "r4", "unit", None))
    with pytest.raises(InputError, match="column 'time' has 1 missing.*index label 'r9' has nan"):
        _run(name, _set(panel, "r9", "time", np.nan))


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_text_and_infinite_values_name_column_label_and_value(panel, name):
    with pytest.raises(InputError, match="column 'y' must hold numbers; row with index label 'r11' has 'abc'"):
        _run(name, _set(panel, "r11", "y", "abc"))
    with pytest.raises(InputError, match="column 'y' has 1 infinite value.*index label 'r23' has -inf"):
        _run(name, _set(panel, "r23", "y", -np.inf))
    with pytest.raises(InputError, match="column 'time' must hold numeric periods.*index label 'r2' has 'soon'"):
        _run(name, _set(panel, "r2", "time", "soon"))


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_the_message_starts_with_the_estimator(panel, name):
    with pytest.raises(InputError) as info:
        _run(name, _set(panel, "r3", "y", np.nan))
    assert str(info.value).startswith(f"{name}: ")


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_duplicated_unit_period_names_both_rows(panel, name):
    data = pd.concat([panel, panel.loc[["r5"]].rename(index={"r5": "copy"})])
    unit, time = panel.loc["r5", "unit"], panel.loc["r5", "time"]
    with pytest.raises(InputError, match=rf"\(unit, time\) is not unique: 2 rows repeat a unit-period; row with "
                                         rf"index label 'r5' and row with index label 'copy' both have "
                                         rf"\({unit}, {time}\)") as info:
        _run(name, data)
    assert info.value.reason == "duplicate_rows"


@pytest.mark.parametrize("name", sorted(set(ESTIMATORS) - {"dcdh"}))
def test_cohort_varying_within_unit_names_unit_rows_and_values(panel, name):
    treated = panel[panel["cohort"] > 0]
    label = treated.index[0]
    unit = treated.loc[label, "unit"]
    data = _set(panel, label, "cohort", 2099.0)
    with pytest.raises(IdentificationError, match=rf"column 'cohort' varies within unit for 1 unit\(s\) "
                                                  rf"\(e.g. \[{unit}\]\); unit {unit} has .* at the row with "
                                                  r"index label 'r\d+' and .* at the row with index label") as info:
        _run(name, data)
    assert info.value.reason == "varies_within_unit" and f"'{label}'" in str(info.value)


@pytest.mark.parametrize("name", CLUSTERED)
def test_cluster_varying_within_unit_is_refused(panel, name):
    label = panel.index[7]
    data = _set(panel, label, "region", 99.0)
    with pytest.raises(IdentificationError, match="column 'region' varies within unit.*one cluster") as info:
        _run(name, data, cluster="region")
    assert f"'{label}'" in str(info.value)


@pytest.mark.parametrize("name", WEIGHTED)
def test_negative_weights_name_column_label_and_value(panel, name):
    with pytest.raises(InputError, match="weights column 'w' has 1 negative value.*index label 'r8' has -2.0"):
        _run(name, _set(panel, "r8", "w", -2.0), weights="w")


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_unknown_column_is_an_option_error(panel, name):
    with pytest.raises(OptionError, match=r"column\(s\) \['nope'\] not in the data") as info:
        estimator, keys = ESTIMATORS[name]
        estimator(panel, **{**KEYS, "outcome": "nope"}, **keys)
    assert info.value.reason == "unknown_column"


def test_from_frame_factorises_once_in_sorted_order(panel):
    checked = PanelData.from_frame(panel, **KEYS, cohort="cohort", weights="w", cluster="region",
                                   covariates=["w"], who="test")
    assert checked.n_rows == len(panel) and checked.n_units == 30 and checked.n_times == 6
    np.testing.assert_array_equal(checked.unit_labels[checked.unit_codes], panel["unit"].to_numpy())
    np.testing.assert_array_equal(checked.periods[checked.time_codes], panel["time"].to_numpy())
    np.testing.assert_array_equal(checked.cluster_labels[checked.cluster_codes], panel["region"].to_numpy())
    assert list(checked.periods) == sorted(panel["time"].unique())
    # row_order sorts rows by (unit, period)
    ordered = panel.iloc[checked.row_order]
    assert ordered[["unit", "time"]].equals(ordered[["unit", "time"]].sort_values(["unit", "time"]))
    np.testing.assert_array_equal(checked.y, panel["y"].to_numpy())
    assert checked.row(3) == "row with index label 'r3'"


def test_numeric_text_periods_become_integers(panel):
    checked = PanelData.from_frame(panel.assign(time=panel["time"].astype(str)), **KEYS, who="test")
    assert checked.time.dtype == np.int64 and checked.periods[0] == 2010
