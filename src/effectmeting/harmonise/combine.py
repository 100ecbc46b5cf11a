"""Combine the flows of predecessor rows into reference-year cells, per aggregation rule.

``flows`` has one row per (input row, target municipality): ``_row`` (position in the input),
``flow_weight`` (share of the input row going to the target) and the output keys.  Each function
returns one value per output group (``group`` = integer group id of the flow), NA where the rule
cannot give an honest value.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from effectmeting.errors import HarmonisationError

DESIGN_RULES = ("largest_population", "unanimous", "population_share")


def combine_sum(values: pd.Series, flows: pd.DataFrame, n_groups: int) -> np.ndarray:
    """Apportion by flow weight and sum.  A group with any missing contribution is NA."""
    contribution = values.to_numpy(dtype="float64")[flows["_row"].to_numpy()] * flows["flow_weight"].to_numpy()
    group = flows["group"].to_numpy()
    total = np.bincount(group, weights=np.nan_to_num(contribution), minlength=n_groups)
    any_missing = np.bincount(group, weights=np.isnan(contribution).astype(float), minlength=n_groups) > 0
    total[any_missing] = np.nan
    return total


def combine_weighted_mean(values: pd.Series, population: np.ndarray, flows: pd.DataFrame,
                          n_groups: int) -> np.ndarray:
    """Population-weighted mean: sum(flow * pop * x) / sum(flow * pop) over the predecessors.

    A group with a single contributing flow keeps its value unchanged (no population needed);
    otherwise a missing value or population of any contributor makes the cell NA.
    """
    rows = flows["_row"].to_numpy()
    group = flows["group"].to_numpy()
    x = values.to_numpy(dtype="float64")[rows]
    w = flows["flow_weight"].to_numpy() * population[rows]
    numerator = np.bincount(group, weights=np.nan_to_num(w * x), minlength=n_groups)
    denominator = np.bincount(group, weights=np.nan_to_num(w), minlength=n_groups)
    bad = np.bincount(group, weights=(np.isnan(x) | np.isnan(w)).astype(float), minlength=n_groups) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        result = numerator / denominator
    result[bad | (denominator <= 0)] = np.nan
    single = np.bincount(group, minlength=n_groups) == 1
    first_x = np.full(n_groups, np.nan)
    first_x[group] = x  # for single-flow groups this is the one value
    result[single] = first_x[single]
    return result


def combine_design(values: pd.Series, population: np.ndarray, flows: pd.DataFrame, n_groups: int,
                   rule: str) -> tuple[pd.Series, pd.DataFrame]:
    """Combine categorical design values of predecessors by ``rule``.

    Returns the value per group and a frame of *overruled* flows (``_row, group, chosen, listing``):
    contributions whose value differs from the result (the result is NA under ``unanimous``).
    ``largest_population``: the value of the predecessor contributing the largest population
    (flow weight x population), ties broken by code order; ``unanimous``: NA unless all agree;
    ``population_share``: population-weighted mean of numeric values (e.g. maturity scores); in a file
    that also holds categorical dimensions, those take the category with the largest population share
    (as ``largest_population``) and the means are written as text like the file's other values.
    """
    if rule not in DESIGN_RULES:
        raise HarmonisationError(f"design_rule={rule!r}: use one of {list(DESIGN_RULES)}")
    rows = flows["_row"].to_numpy()
    contrib = pd.DataFrame({
        "group": flows["group"].to_numpy(), "_row": rows, "code": flows["source_code"].to_numpy(),
        "value": values.to_numpy(dtype=object)[rows],
        "pop": flows["flow_weight"].to_numpy() * population[rows],
    })
    if rule == "population_share":
        numeric = pd.to_numeric(values, errors="coerce")
        not_numeric = values.notna() & numeric.isna()
        result = combine_weighted_mean(numeric, population, flows, n_groups)
        if not not_numeric.any():
            return pd.Series(result, dtype="float64"), contrib.iloc[0:0].assign(chosen=None, listing=None)
        # A design file mixes score dimensions (numbers: averaged) and categorical ones (role, scope...):
        # a category cannot be averaged, so its group takes the category with the largest population
        # share, i.e. the largest_population rule, with its overruled values in the audit as there.
        categorical_rows = np.zeros(len(values), dtype=bool)
        categorical_rows[np.flatnonzero(not_numeric.to_numpy())] = True
        categorical_groups = np.zeros(n_groups, dtype=bool)
        categorical_groups[contrib["group"].to_numpy()[categorical_rows[rows]]] = True
        chosen, overruled = combine_design(values, population, flows, n_groups, "largest_population")
        means = pd.Series([None if np.isnan(x) else format(x, ".12g") for x in result], dtype=object)
        combined = chosen.where(pd.Series(categorical_groups), means)
        return combined, overruled[categorical_groups[overruled["group"].to_numpy()]]

    value_str = contrib["value"].astype("string")
    distinct = value_str.groupby(contrib["group"]).nunique(dropna=False).reindex(range(n_groups), fill_value=0)
    disagree_groups = distinct[distinct > 1].index
    if rule == "unanimous":
        first = value_str.groupby(contrib["group"]).first().reindex(range(n_groups))
        chosen = first.where(distinct.le(1))
    else:
        if contrib.loc[contrib["group"].isin(disagree_groups), "pop"].isna().any():
            missing = contrib.loc[contrib["group"].isin(disagree_groups) & contrib["pop"].isna(), "code"].unique()
            raise HarmonisationError(
                "design_rule='largest_population' needs the population of predecessors whose design values "
                f"disagree; population is missing for {sorted(missing)[:10]}. Pass population=... or use "
                "design_rule='unanimous'."
            )
        ordered = contrib.assign(_pop=contrib["pop"].fillna(-1.0)).sort_values(
            ["group", "_pop", "code"], ascending=[True, False, True], kind="mergesort")
        chosen = ordered.drop_duplicates("group").set_index("group")["value"].astype("string").reindex(range(n_groups))
    disputed = contrib[contrib["group"].isin(disagree_groups)].sort_values(["group", "code"], kind="mergesort")
    disputed["chosen"] = chosen.reindex(disputed["group"]).to_numpy()
    disputed["pair"] = disputed["code"] + "=" + disputed["value"].astype("string").fillna("NA")
    listing = disputed.groupby("group")["pair"].agg(", ".join)
    disputed["listing"] = listing.reindex(disputed["group"]).to_numpy()
    overruled = disputed[disputed["chosen"].isna() | (disputed["value"].astype("string") != disputed["chosen"]).fillna(True)]
    return chosen.astype(object).where(chosen.notna(), None), overruled[["_row", "group", "chosen", "listing"]]
