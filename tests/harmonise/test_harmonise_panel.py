"""Panel: balance, gaps, coverage, size classes and the Parquet round trip."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from effectmeting.harmonise.audit import AuditLog
from effectmeting.harmonise.panel import Panel, size_class


def small_panel() -> Panel:
    data = pd.DataFrame({
        "municipality": ["GM0363", "GM0363", "GM0014", "GM0014", "GM0518"],
        "year": [2019, 2020, 2019, 2020, 2019],
        "population_total": [862_965.0, 872_680.0, 229_962.0, 231_299.0, 9_999.0],
        "clients": [100.0, np.nan, 20.0, 21.0, 50.0],
    })
    audit = AuditLog()
    audit.record(source="outcomes.csv", source_row=[2, 3, 4, 5, 6], municipality=data["municipality"].to_numpy(),
                 year=data["year"].to_numpy(), action="kept", reason="unchanged municipality")
    audit.note(stage="rates", detail="example", municipality="GM0363", year=2020, variable="clients")
    designs = pd.DataFrame({"municipality": ["GM0363"], "year": [2019], "dimension": ["role"], "value": ["loket"]})
    variables = pd.DataFrame({"name": ["clients"], "unit": ["persons"], "source": ["outcomes.csv"],
                              "description": ["youth with jeugdhulp"]})
    return Panel(data=data, designs=designs, variables=variables, reference_year=2023, price_base_year=2023,
                 sources=[{"name": "outcomes", "path": "outcomes.csv", "sha256": "ab" * 32, "rows": 5}], audit=audit)


def test_balance_gaps_coverage():
    panel = small_panel()
    balance = panel.balance()
    assert not balance.balanced
    assert balance.units == ["GM0014", "GM0363", "GM0518"] and balance.years == [2019, 2020]
    assert balance.missing.values.tolist() == [["GM0518", 2020]]
    gaps = panel.gaps()
    clients = gaps[gaps["variable"] == "clients"][["municipality", "year"]].values.tolist()
    assert clients == [["GM0363", 2020], ["GM0518", 2020]]
    coverage = panel.coverage()
    assert coverage.loc["clients", 2019] == pytest.approx(1.0)
    assert coverage.loc["clients", 2020] == pytest.approx(1 / 3)
    text = panel.summary()
    assert "3 municipalities x 2 years" in text and "1 missing municipality-years" in text


@pytest.mark.parametrize(("inhabitants", "label"), [(9_999, "<10k"), (10_000, "10k-20k"), (19_999, "10k-20k"),
                                                     (20_000, "20k-50k"), (50_000, "50k-100k"),
                                                     (99_999, "50k-100k"), (100_000, "100k+"), (872_680, "100k+")])
def test_size_class_boundaries(inhabitants, label):
    assert size_class(pd.Series([inhabitants])).iloc[0] == label


def test_size_class_added_and_missing_population_is_na():
    panel = small_panel()
    assert panel.data.set_index(["municipality", "year"]).loc[("GM0518", 2019), "size_class"] == "<10k"
    assert pd.isna(size_class(pd.Series([np.nan])).iloc[0])


def _digest(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_parquet_round_trip_is_lossless_and_reproducible(tmp_path):
    panel = small_panel()
    panel.to_parquet(tmp_path / "a")
    panel.to_parquet(tmp_path / "b")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")  # byte-identical output
    assert not any(p.suffix in {".pkl", ".pickle"} for p in (tmp_path / "a").iterdir())
    back = Panel.from_parquet(tmp_path / "a")
    pd.testing.assert_frame_equal(back.data, panel.data)
    pd.testing.assert_frame_equal(back.designs, panel.designs)
    assert back.reference_year == 2023 and back.price_base_year == 2023 and back.sources == panel.sources
    pd.testing.assert_frame_equal(back.audit.summary(), panel.audit.summary())
    assert back.audit.events["detail"].tolist() == ["example"]
    back.to_parquet(tmp_path / "c")
    assert _digest(tmp_path / "c") == _digest(tmp_path / "a")


def test_audit_refuses_a_second_fate_and_extends():
    from effectmeting.errors import HarmonisationError

    first, second = AuditLog(), AuditLog()
    first.record(source="a.csv", source_row=[2, 3], municipality="GM0363", year=2020, action="kept", reason="x")
    with pytest.raises(HarmonisationError, match="recorded twice"):
        first.record(source="a.csv", source_row=[3], municipality="GM0363", year=2020, action="dropped", reason="y")
    with pytest.raises(HarmonisationError, match="unknown audit action"):
        first.record(source="a.csv", source_row=[9], municipality="GM0363", year=2020, action="lost", reason="y")
    second.record(source="b.csv", source_row=[2], municipality="GM0014", year=2020, action="dropped", reason="z")
    first.extend(second)
    summary = first.summary()
    assert summary.loc["a.csv", "kept"] == 2 and summary.loc["b.csv", "dropped"] == 1
    assert summary["total"].tolist() == [2, 1]
    with pytest.raises(HarmonisationError, match="recorded in both"):
        first.extend(second)
