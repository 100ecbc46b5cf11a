"""Demo data, part 1: the simulated units and how they map to the codes of earlier years.

The demo simulates on the municipalities of the reference year 2023 (the *units*).  Raw files
must look as they arrive: a year's data use the codes valid in that year.  This module builds the
backward map (year, code valid that year) -> (unit, share of the code going to the unit) from the
bundled herindelingen (2017-2023) plus the 2016 mergers, and apportions unit totals over the codes
of each year so that summing them forward (what harmonisation does) rebuilds the unit.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from effectmeting.errors import InputError
from effectmeting.reference.register import codes_valid_in, load_municipalities

REFERENCE_YEAR = 2023

#: Mergers of 1 January 2016 (public record, CBS "Gemeentelijke indeling"), absent from the
#: bundled 2017-2023 transitions table.  The demo writes them into its own transitions file so
#: that 2015 data (on 2015 codes) can be harmonised.
TRANSITIONS_2016 = pd.DataFrame({
    "effective": ["2016-01-01"] * 4,
    "old_code": ["GM0381", "GM0424", "GM0425", "GM0478"],  # Bussum, Muiden, Naarden, Zeevang
    "new_code": ["GM1942", "GM1942", "GM1942", "GM0385"],  # Gooise Meren, Edam-Volendam
    "weight": [1.0, 1.0, 1.0, 1.0],
    "kind": ["merged"] * 4,
})

#: Multi-target codes (split municipalities) get this share of their smallest successor, at most.
SPLIT_SHARE_CAP = 0.3
#: Relative size boost of a predecessor whose code the merged municipality keeps (Amsterdam vs Weesp).
ABSORBER_WEIGHT = 10.0


def demo_units() -> pd.DataFrame:
    """The simulated units: municipalities valid on 1 January 2023 (``code``, ``name``), sorted by code.

    Parameter-free on purpose: the unit list is the bundled register, the same one harmonisation uses.
    """
    return codes_valid_in(REFERENCE_YEAR).sort_values("code", ignore_index=True)[["code", "name"]]


def demo_transitions() -> pd.DataFrame:
    """Merges and splits 2016-2023 (``effective, old_code, new_code, weight, kind``).

    Boundary corrections are left out: the bundled ones move at most 3.9 % of addresses, below the
    threshold at which harmonisation (``boundary="ignore"``) keeps a municipality whole.
    """
    from effectmeting.reference.register import data_path

    bundled = pd.read_csv(data_path("municipal_transitions_2017_2023.csv"), comment="#", dtype=str)
    bundled["weight"] = bundled["weight"].astype(float)
    # zero-weight rows name a successor that received no addresses; they carry nothing
    changes = bundled[bundled["kind"].isin(["merged", "split"]) & (bundled["weight"] > 0)]
    return pd.concat([TRANSITIONS_2016, changes], ignore_index=True)[
        ["effective", "old_code", "new_code", "weight", "kind"]]


def history_map(first_year: int, last_year: int) -> pd.DataFrame:
    """``year, code, unit, weight``: the share ``weight`` of code (valid in ``year``) that lies in ``unit``.

    Composed backwards from 2023 one yearly step at a time (a handful of merges, not a row loop).
    Years after 2023 use the 2023 codes (no changes took effect on 1 January 2024).
    """
    transitions = demo_transitions()
    transitions["year"] = pd.to_datetime(transitions["effective"]).dt.year  # first year of the new division
    units = demo_units()["code"]
    current = pd.DataFrame({"code": units, "unit": units, "weight": 1.0})
    maps = {REFERENCE_YEAR: current}
    for year in range(REFERENCE_YEAR - 1, first_year - 1, -1):
        codes = codes_valid_in(year)["code"]
        step = transitions.loc[transitions["year"] == year + 1, ["old_code", "new_code", "weight"]]
        moved = step.rename(columns={"old_code": "code", "weight": "step_weight"})
        stay = pd.DataFrame({"code": codes[~codes.isin(step["old_code"])]})
        stay = stay.assign(new_code=stay["code"], step_weight=1.0)
        edges = pd.concat([moved[moved["code"].isin(codes)], stay], ignore_index=True)
        joined = edges.merge(maps[year + 1], left_on="new_code", right_on="code", suffixes=("", "_next"))
        lost = set(codes) - set(joined["code"])
        if lost:
            raise InputError(f"demo: codes {sorted(lost)} of {year} have no successor in {year + 1}")
        joined["weight"] = joined["step_weight"] * joined["weight"]
        maps[year] = joined.groupby(["code", "unit"], as_index=False)["weight"].sum()
    frames = [maps[min(y, REFERENCE_YEAR)].assign(year=y) for y in range(first_year, last_year + 1)]
    out = pd.concat(frames, ignore_index=True)[["year", "code", "unit", "weight"]]
    n_units = out.groupby(["year", "code"])["unit"].transform("size")
    out["split"] = (n_units > 1) | (out["weight"] < 1.0 - 1e-12)
    return out.sort_values(["year", "code", "unit"], ignore_index=True)


def code_sizes(history: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    """A fixed relative size per code (used to share a unit's total among its merging predecessors)."""
    codes = np.sort(history["code"].unique())
    return pd.Series(rng.lognormal(0.0, 0.5, len(codes)), index=codes, name="size")


def split_factor(history: pd.DataFrame, unit_population: pd.DataFrame) -> pd.Series:
    """Per split code, lambda so that its value = lambda x sum_t weight_t x unit_t.

    Chosen (from population, smallest over years) so that no successor receives more than
    :data:`SPLIT_SHARE_CAP` of its own total from the split municipality.
    """
    rows = history[history["split"]].merge(unit_population, on=["year", "unit"])
    if rows.empty:
        return pd.Series(dtype="float64")
    rows["exposure"] = rows["weight"] * rows["value"]
    rows["reach"] = rows.groupby(["year", "code"])["exposure"].transform("sum")
    rows["lam"] = SPLIT_SHARE_CAP * rows["value"] / (rows["weight"] * rows["reach"])
    return rows.groupby("code")["lam"].min()


def apportion(history: pd.DataFrame, unit_values: pd.DataFrame, sizes: pd.Series, lam: pd.Series,
              *, integer: bool = True) -> pd.DataFrame:
    """Values per (year, code) whose forward harmonisation rebuilds ``unit_values``.

    ``unit_values``: ``year, unit, value`` (the simulated truth on 2023 units).  A split code gets
    ``lambda x sum_t weight_t x value_t``; what is left of each unit is shared among its whole
    predecessors in proportion to ``sizes``.  With ``integer=True`` the shares are rounded by the
    largest-remainder rule so that each unit's whole predecessors add up to its (rounded) rest.
    """
    rows = history.merge(unit_values, on=["year", "unit"], how="left")
    split_rows = rows[rows["split"]].copy()
    split_rows["lam"] = split_rows["code"].map(lam)
    split_value = (split_rows["weight"] * split_rows["value"]).groupby(
        [split_rows["year"], split_rows["code"]]).sum() * split_rows.groupby(["year", "code"])["lam"].first()
    if integer:
        split_value = np.rint(split_value)
    split_value = split_value.rename("value").reset_index()
    # what the split codes send to each unit
    sent = split_rows[["year", "code", "unit", "weight"]].merge(split_value, on=["year", "code"])
    sent = (sent["weight"] * sent["value"]).groupby([sent["year"], sent["unit"]]).sum().rename("sent")
    whole = rows[~rows["split"]].copy()
    whole = whole.join(sent, on=["year", "unit"])
    whole["rest"] = whole["value"] - whole["sent"].fillna(0.0)
    # a municipality that absorbs others keeps its code and is usually the largest part
    whole["size"] = whole["code"].map(sizes) * np.where(whole["code"] == whole["unit"], ABSORBER_WEIGHT, 1.0)
    whole["share"] = whole["size"] / whole.groupby(["year", "unit"])["size"].transform("sum")
    raw = whole["share"] * whole["rest"].clip(lower=0.0)
    if integer:
        target = np.rint(whole["rest"].clip(lower=0.0))
        floor = np.floor(raw)
        short = (target - floor.groupby([whole["year"], whole["unit"]]).transform("sum")).to_numpy()
        order = (raw - floor).groupby([whole["year"], whole["unit"]]).rank(method="first", ascending=False)
        raw = floor + (order.to_numpy() <= short)
    whole["value"] = raw.where(whole["value"].notna())
    out = pd.concat([whole[["year", "code", "value"]], split_value], ignore_index=True)
    return out.sort_values(["year", "code"], ignore_index=True)


def register_names() -> pd.Series:
    """Official name per code (register 2015-2024)."""
    register = load_municipalities()
    return register.set_index("code")["name"]
