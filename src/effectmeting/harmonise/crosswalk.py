"""Map a source table (municipality x year x ...) to the boundaries of one reference year.

Every observation of year Y (on the division of 1 January Y) is carried through the yearly
herindelingen up to ``reference_year``; values combine by the schema's ``aggregation`` property:

* ``sum`` (counts, euros): apportioned by the transition weight and summed;
* ``weighted_mean`` (+ ``weight`` field, e.g. ``population_total``): population-weighted mean;
* ``design``: combined by ``design_rule`` (``largest_population`` | ``unanimous`` | ``population_share``);
* ``key``: identifiers; ``none``: not carried (noted in the audit events).

Rates are never inputs here: they are recomputed later from summed numerators and denominators
(:mod:`effectmeting.harmonise.rates`).  Mapping backwards (to a reference year before a merger or
split the data cross) is refused.  Every input row gets exactly one fate in the :class:`AuditLog`.
"""
from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path

import numpy as np
import pandas as pd

from effectmeting.errors import HarmonisationError
from effectmeting.harmonise.audit import AuditLog
from effectmeting.harmonise.memo import Memo, frame_digest
from effectmeting.harmonise.combine import combine_design, combine_sum, combine_weighted_mean
from effectmeting.reference.register import (FIRST_YEAR, LAST_YEAR, check_codes_exist, codes_valid_in,
                                             load_municipalities)
from effectmeting.harmonise.transitions import (_validate, apply_population_weights, backward_blockers,
                                                compose, load_transitions, prepare_steps)

RULES = ("key", "sum", "weighted_mean", "design", "none")
DEFAULT_POPULATION_COLUMN = "population_total"


def aggregation_rules(table: str, aggregation: dict | None = None) -> dict[str, tuple[str, str | None]]:
    """Column -> (rule, weight column) from ``aggregation`` or else the schema's field properties.

    ``aggregation`` values may be a rule (``"sum"``), a pair (``("weighted_mean", "population_total")``)
    or a dict with keys ``aggregation`` and ``weight``.
    """
    if aggregation is None:
        from effectmeting.schema import field_properties  # the schema stage precedes harmonisation

        props = field_properties(table)
        return {n: (a, w if isinstance(w, str) else None)
                for n, a, w in zip(props["name"], props["aggregation"], props["weight"])}
    rules = {}
    for column, rule in aggregation.items():
        if isinstance(rule, dict):
            rules[column] = (rule["aggregation"], rule.get("weight"))
        elif isinstance(rule, (tuple, list)):
            rules[column] = (rule[0], rule[1] if len(rule) > 1 else None)
        else:
            rules[column] = (rule, None)
    return rules


def _population_per_row(rows: pd.DataFrame, column: str, population: pd.DataFrame | None) -> np.ndarray:
    if column in rows.columns:
        return pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype="float64")
    if population is None or column not in population.columns:
        return np.full(len(rows), np.nan)
    pop = population[["municipality", "year", column]].drop_duplicates(["municipality", "year"])
    joined = rows[["municipality", "year"]].merge(pop, on=["municipality", "year"], how="left")
    return pd.to_numeric(joined[column], errors="coerce").to_numpy(dtype="float64")


_MEMO = Memo()


def _load_steps(transitions, weights, boundary, boundary_threshold, audit, source, register) -> pd.DataFrame:
    """The yearly steps: transitions validated (once per content, its notes replayed), weighted, prepared."""
    if isinstance(transitions, (str, Path)):
        stat = Path(transitions).stat() if Path(transitions).exists() else None
        table_key: Hashable = ("path", str(transitions), stat and (stat.st_mtime_ns, stat.st_size))
    else:
        table_key = ("frame", frame_digest(transitions))
    weights_key = frame_digest(weights) if isinstance(weights, pd.DataFrame) else weights
    key = ("steps", table_key, weights_key, frame_digest(register))

    def compute() -> tuple[pd.DataFrame, AuditLog]:
        notes = AuditLog()  # the notes of validating, replayed into every run's log
        if transitions is None:
            table = load_transitions(audit=notes)
        elif isinstance(transitions, (str, Path)):
            table = load_transitions(transitions, audit=notes, register=register)
        else:
            table = _validate(transitions, "transitions frame", notes, register=register)
        if isinstance(weights, pd.DataFrame):
            table = apply_population_weights(table, weights, notes)
        elif weights != "address":
            raise HarmonisationError(f"weights={weights!r}: use 'address' or a DataFrame of population weights")
        return table, notes

    table, notes = _MEMO.get(key, compute, lambda value: (value[0].copy(), value[1]))
    audit.extend(notes)
    return prepare_steps(table, boundary=boundary, boundary_threshold=boundary_threshold, audit=audit, source=source)


def to_reference_year(
    frame: pd.DataFrame,
    *,
    table: str,
    reference_year: int,
    transitions: pd.DataFrame | str | Path | None = None,
    weights: str | pd.DataFrame = "address",
    design_rule: str = "largest_population",
    boundary: str = "ignore",
    boundary_threshold: float = 0.05,
    audit: AuditLog | None = None,
    population: pd.DataFrame | None = None,
    population_column: str = DEFAULT_POPULATION_COLUMN,
    aggregation: dict | None = None,
    register: pd.DataFrame | None = None,
    source: str | None = None,
) -> pd.DataFrame:
    """Map ``frame`` (columns ``municipality``, ``year``, ...) to the division of ``reference_year``.

    ``table`` names the schema whose ``aggregation`` properties say how each column combines
    (or pass ``aggregation={column: rule}``).  ``weights="address"`` uses the transitions' address
    shares; a DataFrame ``old_code, new_code, effective, weight`` (e.g. population shares) replaces
    them.  ``boundary="ignore"`` keeps a municipality whole when a boundary correction moved less
    than ``boundary_threshold`` of its addresses; ``"apportion"`` applies the weights.
    ``population`` (``municipality, year, population_total`` on the source's own, pre-herindeling
    codes and years) supplies weights for
    ``weighted_mean`` columns and for ``design_rule="largest_population"`` when the frame lacks the
    weight column.  ``frame.attrs["set_aside"]`` (rows a reader removed) is recorded as set_aside.

    Output: one row per (reference municipality, year, other keys); ``year`` stays the year of the
    observation.  A cell whose predecessors are incomplete or missing becomes NA (audit event).
    """
    audit = audit if audit is not None else AuditLog()
    source = source or str(frame.attrs.get("source_file", table))
    register = load_municipalities() if register is None else register
    rules = aggregation_rules(table, aggregation)
    _check_reference_year(reference_year)
    _record_set_aside(audit, source, frame.attrs.get("set_aside"))

    rows, source_rows, ignored = _numbered_rows(frame, audit, source)
    by_rule = _columns_by_rule(rows, rules, ignored, source, table)
    dropped_columns = by_rule["none"] + ignored
    if dropped_columns:
        audit.note(stage="crosswalk", source=source, variable=dropped_columns,
                   detail=[f"column {c} not carried to the reference year (aggregation none / provenance)"
                           for c in dropped_columns])
    extra_keys = [c for c in by_rule["key"] if c not in ("municipality", "year")]
    rows["year"] = rows["year"].astype("int64")
    _check_codes_and_keys(rows, source_rows, extra_keys, register, source)

    if rows.empty:
        audit.note(stage="crosswalk", source=source, detail="no data rows to harmonise")
        kept = [c for c in rows.columns if c not in dropped_columns]
        return rows[kept].astype({c: "float64" for c in by_rule["sum"] + by_rule["weighted_mean"]})
    steps = _load_steps(transitions, weights, boundary, boundary_threshold, audit, source, register)
    mapping = _mapping_to_reference(rows, steps, reference_year, register, source)
    flows, out, n_groups = _flows_and_groups(rows, mapping, extra_keys)
    incomplete = _incomplete_groups(mapping, flows, n_groups)
    if incomplete.any():
        info = flows.drop_duplicates("group").set_index("group").loc[np.flatnonzero(incomplete)]
        audit.note(stage="crosswalk", source=source, municipality=info["municipality_to"].tolist(),
                   year=info["year"].tolist(),
                   detail=["predecessors missing in the data: sum and weighted_mean cells set to NA"] * len(info))

    overruled_all = _combine_columns(out, rows, flows, n_groups, incomplete, by_rule, rules, population,
                                     population_column, design_rule)
    _record_fates(audit, source, rows, source_rows, mapping, flows, overruled_all, design_rule, extra_keys)
    out.attrs = {"source_file": source, "reference_year": reference_year, "table": table}
    return out


def _check_reference_year(reference_year: int) -> None:
    if not FIRST_YEAR <= reference_year <= LAST_YEAR:
        raise HarmonisationError(f"reference_year {reference_year} is outside the municipality register "
                                 f"({FIRST_YEAR}-{LAST_YEAR}); choose a reference year from {FIRST_YEAR} to "
                                 f"{LAST_YEAR} (usually the latest year of the data)")


def _numbered_rows(frame: pd.DataFrame, audit: AuditLog, source: str) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """The rows with a fresh index, their source row numbers and the provenance columns not carried."""
    rows = frame.reset_index(drop=True)
    rows.attrs = {}  # a DataFrame in attrs (set_aside) breaks pandas' concat/merge attribute checks
    if "source_row" in rows.columns:
        source_rows = rows["source_row"].astype("int64").to_numpy()
    else:
        source_rows = np.arange(1, len(rows) + 1)
        audit.note(stage="crosswalk", source=source, detail="no source_row column: rows numbered 1..n in frame order")
    ignored = [c for c in rows.columns if c == "source_row" or c.endswith("__marker")]
    return rows, source_rows, ignored


def _columns_by_rule(rows: pd.DataFrame, rules: dict, ignored: list[str], source: str,
                     table: str) -> dict[str, list[str]]:
    """Rule -> the columns it combines; refuses columns without a rule and unknown rules."""
    unknown = [c for c in rows.columns if c not in rules and c not in ignored]
    if unknown:
        raise HarmonisationError(
            f"{source}: column(s) {unknown} have no aggregation rule in schema {table!r}; "
            "add them to the schema (aggregation: sum, weighted_mean, design, none) or drop them.")
    for column in ("municipality", "year"):
        if column not in rows.columns:
            raise HarmonisationError(f"{source}: column {column!r} is required")
    by_rule = {r: [c for c in rows.columns if c in rules and rules[c][0] == r] for r in RULES}
    bad_rules = sorted({rules[c][0] for c in rows.columns if c in rules} - set(RULES))
    if bad_rules:
        raise HarmonisationError(f"{source}: unknown aggregation rule(s) {bad_rules}; use one of {list(RULES)}")
    return by_rule


def _check_codes_and_keys(rows: pd.DataFrame, source_rows: np.ndarray, extra_keys: list[str],
                          register: pd.DataFrame, source: str) -> None:
    """Every code exists in its year, and no key (municipality, year, other keys) repeats."""
    distinct = rows[["year", "municipality"]].drop_duplicates()
    years = tuple(sorted(int(y) for y in distinct["year"].unique()))
    valid = _MEMO.get(("valid", frame_digest(register), years),
                      lambda: frozenset(map(tuple, codes_valid_in(pd.Series(years, dtype="int64"), register)[
                          ["year", "code"]].itertuples(index=False, name=None))), lambda value: value)
    inside = all(FIRST_YEAR <= year <= LAST_YEAR for year in years)
    if not inside or not all(pair in valid for pair in zip(distinct["year"].tolist(), distinct["municipality"])):
        # some code did not exist in its year: the register's check names every such row
        check_codes_exist(rows.assign(source_row=source_rows), register=register, source=source)
    dup = rows.duplicated(["municipality", "year", *extra_keys], keep=False)
    if dup.any():
        raise HarmonisationError(
            f"{source}: rows {source_rows[dup.to_numpy()][:20].tolist()} repeat the key "
            f"{['municipality', 'year', *extra_keys]}; remove duplicates before harmonising.")


def _mapping_to_reference(rows: pd.DataFrame, steps: pd.DataFrame, reference_year: int,
                          register: pd.DataFrame, source: str) -> pd.DataFrame:
    """(year, source_code) -> (municipality_to, weight, kind, path) for every code in the data.

    Refuses data that would have to be mapped backwards (after a merger or split the reference year
    precedes) and codes that no transition takes to a municipality of the reference year.
    """
    present = rows[["year", "municipality"]].drop_duplicates().rename(columns={"municipality": "code"})
    later = present[present["year"] > reference_year]
    blockers = backward_blockers(steps, later, reference_year)
    if len(blockers):
        latest = int(blockers["change_year"].max())
        raise HarmonisationError(
            f"{source}: cannot map data back to reference_year {reference_year}: "
            + "; ".join(blockers["detail"].drop_duplicates().head(20))
            + f". Data of a merged or split municipality cannot be divided over its predecessors without "
            f"sub-municipal data. Choose reference_year >= {latest} (or drop the years after {reference_year}).")

    earlier_years = tuple(sorted(int(y) for y in present.loc[present["year"] < reference_year, "year"].unique()))
    composed, valid_ref = _MEMO.get(("compose", frame_digest(steps), frame_digest(register), earlier_years,
                                     reference_year),
                                    lambda: _compose_from_register(steps, earlier_years, reference_year, register),
                                    lambda value: (value[0].copy(), value[1]))
    same = present[present["year"] >= reference_year]
    mapping = pd.concat([composed, pd.DataFrame({
        "year": same["year"].to_numpy(), "source_code": same["code"].to_numpy(),
        "municipality_to": same["code"].to_numpy(), "weight": 1.0, "kind": "none", "path": ""})], ignore_index=True)
    mapping = mapping.astype({"year": "int64", "weight": "float64"})
    data_map = mapping.merge(present, left_on=["year", "source_code"], right_on=["year", "code"])
    stranded = data_map[~data_map["municipality_to"].isin(valid_ref)]
    if len(stranded):
        listing = "; ".join(f"{c} ({y})" for c, y in zip(stranded["source_code"], stranded["year"]))
        raise HarmonisationError(
            f"{source}: no transition takes {listing} to a municipality of {reference_year}; the bundled "
            "transitions cover 1 January 2017-2023. Add the missing herindeling as a transitions table (a "
            "[[source]] with table = \"transitions\" in sources.toml; in Python to_reference_year(..., "
            "transitions=...)) or leave those years out of the source.")
    return mapping


def _compose_from_register(steps: pd.DataFrame, earlier_years: tuple[int, ...], reference_year: int,
                           register: pd.DataFrame) -> tuple[pd.DataFrame, frozenset[str]]:
    """Every code of ``earlier_years`` composed to the reference year, and the reference year's codes."""
    universe = (codes_valid_in(pd.Series(earlier_years, dtype="int64"), register) if earlier_years
                else pd.DataFrame(columns=["year", "code"]))
    return compose(steps, universe, reference_year), frozenset(codes_valid_in(reference_year, register)["code"])


def _flows_and_groups(rows: pd.DataFrame, mapping: pd.DataFrame,
                      extra_keys: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Each input row's flows to reference municipalities, numbered by output cell (``group``),
    and the output frame's key columns, one row per group."""
    flows = rows[["municipality", "year", *extra_keys]].assign(_row=np.arange(len(rows))).merge(
        mapping.rename(columns={"weight": "flow_weight"}), left_on=["year", "municipality"],
        right_on=["year", "source_code"], how="inner")
    group_keys = ["municipality_to", "year", *extra_keys]
    flows["group"] = flows.groupby(group_keys, sort=True, dropna=False).ngroup()
    n_groups = int(flows["group"].max()) + 1 if len(flows) else 0
    out = (flows.drop_duplicates("group").sort_values("group")[group_keys]
           .rename(columns={"municipality_to": "municipality"}).reset_index(drop=True))
    return flows, out, n_groups


def _combine_columns(out: pd.DataFrame, rows: pd.DataFrame, flows: pd.DataFrame, n_groups: int,
                     incomplete: np.ndarray, by_rule: dict[str, list[str]], rules: dict,
                     population: pd.DataFrame | None, population_column: str,
                     design_rule: str) -> list[pd.DataFrame]:
    """Fill ``out`` column by column by each column's rule; returns the overruled design rows."""
    for column in by_rule["sum"]:
        values = combine_sum(pd.to_numeric(rows[column], errors="coerce"), flows, n_groups)
        values[incomplete] = np.nan
        out[column] = values
    population_rows: dict[str, np.ndarray] = {}
    for column in by_rule["weighted_mean"]:
        weight_column = rules[column][1] or population_column
        if weight_column not in population_rows:
            population_rows[weight_column] = _population_per_row(rows, weight_column, population)
        values = combine_weighted_mean(pd.to_numeric(rows[column], errors="coerce"),
                                       population_rows[weight_column], flows, n_groups)
        values[incomplete] = np.nan
        out[column] = values
    overruled_all = []
    for column in by_rule["design"]:
        pop = population_rows.get(population_column)
        if pop is None:  # design rules weigh predecessors by population
            pop = population_rows[population_column] = _population_per_row(rows, population_column, population)
        chosen, overruled = combine_design(rows[column], pop, flows, n_groups, design_rule)
        out[column] = chosen.to_numpy()
        if len(overruled):
            overruled_all.append(overruled.assign(column=column))
    return overruled_all


def _record_set_aside(audit: AuditLog, source: str, set_aside) -> None:
    """Rows a reader removed (``frame.attrs["set_aside"]``: source_row, region, reason) -> set_aside."""
    if not isinstance(set_aside, pd.DataFrame) or set_aside.empty:
        return
    region = set_aside["region"].astype("string") if "region" in set_aside else pd.Series(pd.NA, index=set_aside.index)
    why = set_aside["reason"].astype("string") if "reason" in set_aside else "non-municipal region"
    audit.record(source=source, source_row=set_aside["source_row"].to_numpy(), municipality=region.to_numpy(),
                 year=None, action="set_aside", reason=("set aside by the reader: " + why).to_numpy()
                 if isinstance(why, pd.Series) else "set aside by the reader: " + why)


def _incomplete_groups(mapping: pd.DataFrame, flows: pd.DataFrame, n_groups: int) -> np.ndarray:
    """Groups whose target receives territory from a code of that year absent from the data."""
    expected = mapping.groupby(["year", "municipality_to"])["source_code"].nunique().rename("expected")
    present = flows.groupby("group").agg(year=("year", "first"), municipality_to=("municipality_to", "first"),
                                         present=("source_code", "nunique"))
    joined = present.join(expected, on=["year", "municipality_to"])
    result = np.zeros(n_groups, dtype=bool)
    result[joined.index.to_numpy()] = (joined["present"] < joined["expected"]).to_numpy()
    return result


def _join_within(frame: pd.DataFrame, keys: list[str], column: str, sep: str) -> pd.Series:
    """``sep``-joined strings of ``column`` per group of ``keys`` (frame order within a group).

    Same result as ``groupby(keys)[column].agg(sep.join)`` (groups sorted by key) without a Python
    call per group: the loop runs over the position within a group, i.e. as often as the largest
    group has members (a handful: the predecessors or successors of one herindeling).
    """
    frame = frame[frame[keys].notna().all(axis=1)]  # like groupby: rows with a missing key form no group
    grouped = frame.groupby(keys, sort=True)
    group = grouped.ngroup().to_numpy()
    position = grouped.cumcount().to_numpy()
    values = frame[column].to_numpy(dtype=object)
    first = position == 0
    joined = np.empty(int(first.sum()), dtype=object)
    joined[group[first]] = values[first]
    for j in range(1, int(position.max()) + 1 if len(position) else 1):
        at = position == j
        joined[group[at]] = joined[group[at]] + sep + values[at]
    heads = frame.loc[first, keys].iloc[np.argsort(group[first], kind="stable")]
    index = pd.MultiIndex.from_frame(heads) if len(keys) > 1 else pd.Index(heads[keys[0]], name=keys[0])
    return pd.Series(joined, index=index, name=column)


def _fate_per_source_code(mapping: pd.DataFrame) -> pd.DataFrame:
    """Per (year, source_code): the fate of its rows (action, reason, targets, weight).

    Computed once per distinct code and year (not per input row); the caller joins it onto the rows.
    """
    source_keys, target_keys = ["year", "source_code"], ["year", "municipality_to"]
    mapping = mapping.sort_values([*source_keys, "municipality_to"], kind="mergesort")
    per_source = pd.DataFrame({"n_targets": mapping.groupby(source_keys).size(),
                               "targets": _join_within(mapping, source_keys, "municipality_to", ";")})
    paths = mapping[mapping["path"] != ""].drop_duplicates([*source_keys, "path"])
    per_source["path"] = _join_within(paths, source_keys, "path", " | ").reindex(per_source.index).fillna("")
    by_code = mapping.drop_duplicates([*target_keys, "source_code"]).sort_values(
        [*target_keys, "source_code"], kind="mergesort")
    by_target = pd.DataFrame({"n_sources": by_code.groupby(target_keys).size(),
                              "predecessors": _join_within(by_code, target_keys, "source_code", ", ")})
    target_of = mapping.drop_duplicates(["year", "source_code"]).join(by_target, on=["year", "municipality_to"])
    fate = per_source.join(target_of.set_index(["year", "source_code"])[["n_sources", "predecessors"]])
    code = pd.Series(fate.index.get_level_values("source_code"), index=fate.index)
    split = fate["n_targets"] > 1
    moved = ~split & ((fate["targets"] != code) | (fate["n_sources"] > 1))
    action = np.where(split, "split", np.where(moved, "merged", "kept")).astype(object)
    reason = np.where(
        split, "split over " + fate["targets"].str.replace(";", ", ") + ": " + fate["path"],
        np.where(moved, "merged into " + fate["targets"] + " (predecessors " + fate["predecessors"] + ")"
                 + np.where(fate["path"] != "", ": " + fate["path"], ""),
                 "unchanged municipality"))
    reason = pd.Series(reason, index=fate.index, dtype="object")
    kept_with_path = (~split & ~moved).to_numpy() & (fate["path"].fillna("") != "").to_numpy()
    reason[kept_with_path] = ("kept: " + fate["path"])[kept_with_path]
    return pd.DataFrame({"targets": fate["targets"], "action": action, "reason": reason,
                         "weight": np.where(split, np.nan, 1.0)}, index=fate.index)


def _record_fates(audit, source, rows, source_rows, mapping, flows, overruled_all, design_rule, extra_keys) -> None:
    """One audit record per input row: kept / merged / split / changed, with the reason."""
    per_source = _MEMO.get(("fates", frame_digest(mapping)), lambda: _fate_per_source_code(mapping),
                           lambda value: value.copy())
    fate = rows[["municipality", "year"]].join(per_source, on=["year", "municipality"])
    action = fate["action"].to_numpy(dtype=object).copy()
    reason = pd.Series(fate["reason"].to_numpy(dtype=object), dtype="object")
    weight = fate["weight"].to_numpy(dtype="float64")
    to = fate["targets"].to_numpy(dtype=object)
    if overruled_all:
        over = pd.concat(overruled_all, ignore_index=True)
        target = flows.set_index("group")["municipality_to"]
        over["target"] = target[~target.index.duplicated()].reindex(over["group"]).to_numpy()
        if extra_keys:
            keys = flows.drop_duplicates("group").set_index("group")[extra_keys].astype(str)
            label = keys.columns[0] + "=" + keys.iloc[:, 0]
            for name in keys.columns[1:]:
                label = label + ", " + name + "=" + keys[name]
            over["column"] = over["column"] + " (" + label.reindex(over["group"]).to_numpy() + ")"
        over["text"] = ("design " + over["column"] + ": predecessors in " + over["target"] + " disagreed ("
                        + over["listing"] + "); " + np.where(over["chosen"].isna(), "set to NA",
                                                             "took " + over["chosen"].astype(str))
                        + f" (design_rule='{design_rule}')")
        text = _join_within(over, ["_row"], "text", "; ")
        rows_changed = text.index.to_numpy()
        action[rows_changed] = "changed"
        reason[rows_changed] = text.to_numpy()
    audit.record(source=source, source_row=source_rows, municipality=rows["municipality"].to_numpy(),
                 year=rows["year"].to_numpy(), action=action, municipality_to=to, weight=weight,
                 reason=reason.to_numpy())
