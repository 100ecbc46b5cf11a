"""Property: herindelingen move counts between municipalities but never create or lose them."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from effectmeting.harmonise.audit import AuditLog
from effectmeting.harmonise.crosswalk import to_reference_year
from effectmeting.reference.register import codes_valid_in

CODES = {year: codes_valid_in(year)["code"].to_numpy() for year in range(2016, 2024)}
RULES = {"municipality": "key", "year": "key", "taakveld": "key", "euros": "sum"}


@st.composite
def panels(draw):
    reference_year = draw(st.integers(2017, 2023))
    years = draw(st.lists(st.integers(2016, reference_year), min_size=1, max_size=4, unique=True))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    parts = []
    for year in years:
        codes = CODES[year]
        for taakveld in draw(st.lists(st.sampled_from(["6.1", "6.2", "6.71"]), min_size=1, max_size=2, unique=True)):
            # magnitudes from cents to billions, to stress relative precision
            euros = rng.lognormal(mean=12, sigma=4, size=len(codes))
            parts.append(pd.DataFrame({"municipality": codes, "year": year, "taakveld": taakveld, "euros": euros}))
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.sample(frac=1.0, random_state=seed % 1000).reset_index(drop=True)  # row order must not matter
    boundary = draw(st.sampled_from(["ignore", "apportion"]))
    return frame, reference_year, boundary


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(panels())
def test_sum_columns_are_conserved_per_year(case):
    frame, reference_year, boundary = case
    audit = AuditLog()
    out = to_reference_year(frame, table="costs", reference_year=reference_year, aggregation=RULES,
                            boundary=boundary, audit=audit)
    before = frame.groupby(["year", "taakveld"])["euros"].sum()
    after = out.groupby(["year", "taakveld"])["euros"].sum()
    np.testing.assert_allclose(after.reindex(before.index).to_numpy(), before.to_numpy(), rtol=1e-9, atol=0)
    # every output municipality belongs to the reference year's division
    assert set(out["municipality"]) <= set(codes_valid_in(reference_year)["code"])
    # audit completeness: every input row exactly once, counts add up
    assert audit.summary().loc["costs", "total"] == len(frame)
    assert audit.frame["source_row"].is_unique
    assert audit.frame["action"].notna().all() and audit.frame["reason"].notna().all()
