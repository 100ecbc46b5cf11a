"""Co-adoption diagnostic: a hand-made history with every count worked out by hand, and the demo's
planted co-adoption of ``role=gives_help`` and ``target_group=all_ages``."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import effectmeting as em
from effectmeting.designs import DesignError
from effectmeting.designs.co_adoption import CO_ADOPTION_COLUMNS, adoption_years, default_designs

YEARS = list(range(2015, 2023))
T, H = "triage_only", "gives_help"
Y, A = "youth", "all_ages"
# municipality -> (role 2015..2022, target_group 2015..2022); adoption years in the comments
HISTORY = {
    "GM0001": ([T, T, H, H, H, H, H, H], [Y, Y, Y, A, A, A, A, A]),  # role 2017, all ages 2018 (+1)
    "GM0002": ([T, H, H, H, H, H, H, H], [Y, Y, Y, Y, Y, Y, A, A]),  # role 2016, all ages 2021 (+5)
    "GM0003": ([T, T, T, T, H, H, H, H], [Y] * 8),                   # role 2019 only
    "GM0004": ([T] * 8, [Y, Y, A, A, A, A, A, A]),                   # all ages 2017 only
    "GM0005": ([H] * 8, [Y, A, A, A, A, A, A, A]),                   # role at start (no adoption), all ages 2016
    "GM0006": ([T, T, T, T, T, H, H, H], [Y, Y, Y, A, A, A, A, A]),  # role 2020, all ages 2018 (-2)
    "GM0007": ([T, T, H, H, T, T, H, H], [Y, Y, Y, Y, Y, Y, Y, A]),  # role 2017 (and 2021 again), all ages 2022
    "GM0008": ([T, H, H, H, H, H, H, H], [A] * 8),                   # role 2016; all ages at start (no adoption)
}


def history() -> pd.DataFrame:
    rows = [(m, year, dimension, value) for m, paths in HISTORY.items()
            for dimension, path in zip(("role", "target_group"), paths) for year, value in zip(YEARS, path)]
    return pd.DataFrame(rows, columns=["municipality", "year", "dimension", "value"])


def test_adoption_years_skip_designs_held_from_the_start_and_keep_readoptions():
    role = adoption_years(history(), "role=gives_help")
    assert role.values.tolist() == [["GM0001", 2017], ["GM0002", 2016], ["GM0003", 2019], ["GM0006", 2020],
                                    ["GM0007", 2017], ["GM0007", 2021], ["GM0008", 2016]]


def test_hand_made_history_counts_and_correlation():
    table = em.co_adoption(history(), designs_a=["role=gives_help", "target_group=all_ages"],
                           designs_b=["role=gives_help", "target_group=all_ages"], min_count=1)
    assert list(table.columns) == CO_ADOPTION_COLUMNS
    assert len(table) == 2  # pairs within one dimension are left out
    forward = table.iloc[0]
    # adopters of gives_help: 1, 2, 3, 6, 7, 8; of all ages: 1, 2, 4, 5, 6, 7; both: 1, 2, 6, 7
    assert (forward["adopters_a"], forward["adopters_b"], forward["adopters_both"]) == (6, 6, 4)
    assert forward["adopted_b_within"] == 2  # GM0001 (+1) and GM0006 (-2); GM0002 and GM0007 are +5 apart
    assert forward["share_adopted_b_within"] == pytest.approx(2 / 6)
    # first adoption years of both: role 2017, 2016, 2020, 2017; all ages 2018, 2021, 2018, 2022
    # deviations (-0.5, -1.5, 2.5, -0.5) and (-1.75, 1.25, -1.75, 2.25): r = -6.5 / sqrt(9 x 12.75)
    assert forward["year_correlation"] == pytest.approx(-6.5 / np.sqrt(9 * 12.75))
    assert not forward["flagged"]  # share 1/3 >= 0.3 but the adoption years do not move together
    backward = table.iloc[1]
    # GM0007 adopted all ages in 2022, one year after adopting gives help again (2021): any adoption counts
    assert (backward["design_a"], backward["adopted_b_within"]) == ("target_group=all_ages", 3)
    flagged = em.co_adoption(history(), designs_a=["role=gives_help"], designs_b=["target_group=all_ages"],
                             min_count=1, min_correlation=-1.0)
    assert flagged["flagged"].tolist() == [True]
    narrow = em.co_adoption(history(), designs_a=["role=gives_help"], designs_b=["target_group=all_ages"], window=1)
    assert narrow["adopted_b_within"].tolist() == [1]


def test_defaults_and_refusals():
    frame = history()
    # non-reference categories present in the history ('adults' never occurs here)
    assert default_designs(frame) == ["role=gives_help", "target_group=all_ages"]
    assert len(em.co_adoption(frame)) == 2
    with pytest.raises(DesignError, match="window"):
        em.co_adoption(frame, window=-1)
    with pytest.raises(DesignError, match="threshold"):
        em.co_adoption(frame, threshold=0)
    with pytest.raises(DesignError, match="lacks column"):
        em.co_adoption(frame.drop(columns="value"))


def test_demo_plants_co_adoption_of_help_and_all_ages(demo_panel):
    table = em.co_adoption(demo_panel)
    pairs = table.set_index(["design_a", "design_b"])
    row = pairs.loc[("role=gives_help", "target_group=all_ages")]
    # 256 municipalities adopted gives_help, 239 all ages, 214 both; 183 of the 256 within +-2 years
    assert (row["adopters_a"], row["adopters_b"], row["adopters_both"], row["adopted_b_within"]) == (256, 239, 214,
                                                                                                     183)
    assert row["year_correlation"] == pytest.approx(0.6035, abs=1e-4)
    flagged = table[table["flagged"] & (table["design_a"] == "role=gives_help")]
    assert flagged["design_b"].tolist() == ["target_group=all_ages"]
    # common designs adopted at unrelated times are not flagged, although 42 % fall in the window by chance
    common = pairs.loc[("expertise=generalists_with_specialists", "role=gives_help")]
    assert common["share_adopted_b_within"] > 0.3 and abs(common["year_correlation"]) < 0.1 and not common["flagged"]
