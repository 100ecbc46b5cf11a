"""Deflation to constant euros and rates from summed numerators and denominators."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from effectmeting.errors import HarmonisationError
from effectmeting.harmonise.audit import AuditLog
from effectmeting.harmonise.crosswalk import to_reference_year
from effectmeting.harmonise.prices import deflate, rebase
from effectmeting.harmonise.rates import per_1000_inhabitants, per_1000_youth, per_inhabitant, ratio

# A small CPI-like index on base 2015 = 100 (values chosen by hand)
INDEX = pd.DataFrame({"year": [2015, 2016, 2017, 2023], "index": [100.0, 102.0, 104.04, 125.0]})


def test_deflate_hand_computed():
    frame = pd.DataFrame({"municipality": ["GM0363"] * 3, "year": [2015, 2016, 2023],
                          "euros": [1_000.0, 1_020.0, 2_500.0]})
    out = deflate(frame, ["euros"], INDEX, base_year=2023)
    # constant 2023 euros = nominal x 125 / index[year]
    assert out["euros"].tolist() == pytest.approx([1_250.0, 1_250.0, 2_500.0], rel=1e-12)
    out_2016 = deflate(frame, ["euros"], INDEX, base_year=2016)
    assert out_2016["euros"].tolist() == pytest.approx([1_020.0, 1_020.0, 2_500.0 * 102 / 125], rel=1e-12)
    assert frame["euros"].tolist() == [1_000.0, 1_020.0, 2_500.0]  # input untouched
    assert out.attrs["price_base_year"] == 2023


def test_rebase_any_base():
    rebased = rebase(INDEX.assign(index=INDEX["index"] * 3.7), 2017)
    assert rebased[2017] == pytest.approx(100.0)
    assert rebased[2015] == pytest.approx(100 / 1.0404 * 1.0, rel=1e-12)


def test_deflate_missing_year_is_named():
    frame = pd.DataFrame({"year": [2015, 2019, 2020], "euros": [1.0, 2.0, 3.0]})
    with pytest.raises(HarmonisationError, match=r"no value for year\(s\) \[2019, 2020\]"):
        deflate(frame, ["euros"], INDEX, base_year=2015)
    with pytest.raises(HarmonisationError, match="price base year 2030"):
        deflate(frame, ["euros"], INDEX, base_year=2030)


def test_rates_zero_and_missing_denominators_are_na_and_logged():
    frame = pd.DataFrame({"municipality": ["GM0363", "GM0014", "GM0017"], "year": 2018,
                          "clients": [30.0, 5.0, 1.0], "population_0_17": [1_000.0, 0.0, np.nan]})
    audit = AuditLog()
    rate = per_1000_youth(frame, "clients", audit=audit)
    assert rate.iloc[0] == pytest.approx(30.0)
    assert rate.iloc[1:].isna().all()
    assert len(audit.events) == 2 and set(audit.events["municipality"]) == {"GM0014", "GM0017"}


def test_merged_rate_is_ratio_of_sums_not_mean_of_rates():
    # Groningen 2019 = Groningen + Haren + Ten Boer of 2018
    frame = pd.DataFrame({"municipality": ["GM0014", "GM0017", "GM0009"], "year": 2018,
                          "adults_with_wmo": [6_000.0, 900.0, 200.0],
                          "population_total": [202_000.0, 20_000.0, 7_500.0]})
    rules = {"municipality": "key", "year": "key", "adults_with_wmo": "sum", "population_total": "sum"}
    merged = to_reference_year(frame, table="outcomes", reference_year=2019, aggregation=rules)
    rate = per_1000_inhabitants(merged, "adults_with_wmo")
    expected = 1_000 * (6_000 + 900 + 200) / (202_000 + 20_000 + 7_500)
    assert rate.iloc[0] == pytest.approx(expected, rel=1e-12)
    mean_of_rates = per_1000_inhabitants(frame, "adults_with_wmo").mean()
    assert abs(rate.iloc[0] - mean_of_rates) > 1.0  # the naive average is visibly different here


def test_per_inhabitant_and_ratio_names():
    frame = pd.DataFrame({"euros": [100.0], "population_total": [4.0]})
    assert per_inhabitant(frame, "euros").tolist() == [25.0]
    assert per_inhabitant(frame, "euros").name == "euros_per_inhabitant"
    assert ratio(frame, "euros", "population_total", scale=2.0, name="x").tolist() == [50.0]
    with pytest.raises(HarmonisationError, match="'nope' is missing"):
        ratio(frame, "nope", "population_total")
