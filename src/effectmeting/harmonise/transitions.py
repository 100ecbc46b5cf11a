"""Herindelingen: load the transitions table and compose yearly steps into year -> reference maps.

A transition row says that on ``effective`` (1 January of year Y+1) a share ``weight`` of the old
municipality ``old_code`` (addresses, or a user's population weights) went to ``new_code``.  One
*step* is the set of rows with the same effective date; it maps the division of year Y to that of
Y+1.  Steps are composed by merges (a sparse matrix product in long form): a year-Y code reaches the
reference year through every intermediate step, weights multiplied along the way.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from effectmeting.errors import HarmonisationError, InputError
from effectmeting.harmonise.audit import AuditLog
from effectmeting.reference.register import FIRST_YEAR, LAST_YEAR, codes_valid_in, data_path, load_municipalities

log = logging.getLogger(__name__)

TRANSITIONS_FILE = "municipal_transitions_2017_2023.csv"
KINDS = ("merged", "split", "boundary_correction")
WEIGHT_TOLERANCE = 0.01  # weights of one old municipality must sum to 1 within this


def _check_and_renormalise(table: pd.DataFrame, where: str, audit: AuditLog | None) -> pd.DataFrame:
    """Per (effective, old_code): weights summing to 1 +- 0.01 are rescaled to exactly 1, else error."""
    totals = table.groupby(["effective", "old_code"])["weight"].transform("sum")
    off = (totals - 1.0).abs()
    bad = table[off > WEIGHT_TOLERANCE].drop_duplicates(["effective", "old_code"])
    if len(bad):
        listing = "; ".join(
            f"{e.date()} {c}: weights sum to {t:.4f}"
            for e, c, t in zip(bad["effective"], bad["old_code"], totals[bad.index])
        )
        raise HarmonisationError(
            f"{where}: the weights of an old municipality must sum to 1 (within {WEIGHT_TOLERANCE}): "
            f"{listing}. Fix the weights or the list of successors."
        )
    rescale = (off > 1e-12) & (off <= WEIGHT_TOLERANCE)
    if rescale.any():
        fixed = table.loc[rescale].drop_duplicates(["effective", "old_code"])
        detail = [f"weights of {c} on {e.date()} summed to {t:.6f}; rescaled to 1"
                  for e, c, t in zip(fixed["effective"], fixed["old_code"], totals[fixed.index])]
        log.info("%s: %s", where, "; ".join(detail))
        if audit is not None:
            audit.note(stage="transitions", source=where, municipality=fixed["old_code"].tolist(),
                       detail=detail)
        table = table.assign(weight=table["weight"] / totals)
    return table


def _register_problems(table: pd.DataFrame, register: pd.DataFrame | None) -> list[str]:
    """Within the register (bundled 2015-2024 unless given): the old code must exist the year before
    the change and the new code in the year of it.  Why: a reversed or mistyped row (GM1942 -> GM0381 on
    2016-01-01) would otherwise send data to a municipality that did not exist and lose it."""
    year = table["effective"].dt.year
    inside = (year > FIRST_YEAR) & (year <= LAST_YEAR)
    if not inside.any():
        return []
    register = load_municipalities() if register is None else register
    rows = table[inside]
    valid = set(zip(*codes_valid_in(pd.concat([year[inside] - 1, year[inside]]).drop_duplicates(),
                                    register)[["year", "code"]].to_numpy().T))
    problems = []
    for when, old, new in zip(rows["effective"], rows["old_code"], rows["new_code"]):
        if (when.year - 1, old) not in valid:
            problems.append(f"{when.date()} {old}->{new}: {old} did not exist in {when.year - 1}")
        if (when.year, new) not in valid:
            problems.append(f"{when.date()} {old}->{new}: {new} does not exist in {when.year}")
    if problems:
        problems[-1] += " (check the direction old_code -> new_code and the effective date)"
    return problems


def _validate(table: pd.DataFrame, where: str, audit: AuditLog | None, *, check_register: bool = True,
              register: pd.DataFrame | None = None) -> pd.DataFrame:
    missing = {"effective", "old_code", "new_code", "weight", "kind"} - set(table.columns)
    if missing:
        raise InputError(f"{where}: transitions lack column(s) {sorted(missing)}")
    table = table[["effective", "old_code", "new_code", "weight", "kind"]].copy()
    table["effective"] = pd.to_datetime(table["effective"])
    table["weight"] = pd.to_numeric(table["weight"], errors="coerce")
    problems = []
    not_jan1 = table[(table["effective"].dt.month != 1) | (table["effective"].dt.day != 1)]
    problems += [f"effective {d.date()} for {c} is not 1 January (yearly divisions are used)"
                 for d, c in zip(not_jan1["effective"], not_jan1["old_code"])]
    bad_weight = table[table["weight"].isna() | (table["weight"] < 0) | (table["weight"] > 1)]
    problems += [f"{c}->{n}: weight {w} is not in [0, 1]"
                 for c, n, w in zip(bad_weight["old_code"], bad_weight["new_code"], bad_weight["weight"])]
    bad_kind = table[~table["kind"].isin(KINDS)]
    problems += [f"{c}->{n}: kind {k!r} not one of {list(KINDS)}"
                 for c, n, k in zip(bad_kind["old_code"], bad_kind["new_code"], bad_kind["kind"])]
    dup = table[table.duplicated(["effective", "old_code", "new_code"], keep=False)]
    problems += [f"duplicated row {e.date()} {c}->{n}" for e, c, n in zip(dup["effective"], dup["old_code"], dup["new_code"])]
    if check_register:
        problems += _register_problems(table, register)
    if problems:
        raise HarmonisationError(f"{where}: invalid transitions: " + "; ".join(problems[:30]))
    table = _check_and_renormalise(table, where, audit)
    table["year"] = table["effective"].dt.year  # first year of the new division
    return table.sort_values(["effective", "old_code", "new_code"], ignore_index=True)


def load_transitions(path: str | Path | None = None, *, audit: AuditLog | None = None,
                     register: pd.DataFrame | None = None) -> pd.DataFrame:
    """Transitions ``effective, old_code, new_code, weight, kind, year`` (bundled 2017-2023 by default).

    A user's table is checked against ``register`` (default: the bundled one): every old code must
    exist the year before its change and every new code in the year of it.

    Weights of one old municipality on one date must sum to 1: within 0.01 they are rescaled
    exactly (logged, and noted in ``audit`` if given), otherwise :class:`HarmonisationError`.
    ``year`` is the year of the new division (``effective.year``).
    """
    bundled = path is None  # consistent with the bundled register by construction (tested)
    path = Path(path) if path is not None else data_path(TRANSITIONS_FILE)
    stat = path.stat() if path.exists() else None
    if stat is None:
        raise InputError(f"transitions file {path} not found")
    table = _read_transitions(str(path), stat.st_mtime_ns, stat.st_size)
    return _validate(table.copy(), str(path), audit, check_register=not bundled, register=register)


def check_transitions(table: pd.DataFrame, where: str, audit: AuditLog | None = None) -> pd.DataFrame:
    """Check a user's transitions table on its own (columns, dates, weights, kinds, duplicates, codes
    in the bundled register) and return it normalised; errors name ``where`` (the user's file), so a
    bad transitions file is never blamed on the data source being mapped with it."""
    return _validate(table.copy(), where, audit)


@lru_cache(maxsize=8)
def _read_transitions(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    """Raw table, cached per file version (mtime and size are part of the cache key)."""
    return pd.read_csv(path, comment="#", dtype={"old_code": str, "new_code": str, "kind": str})


def apply_population_weights(transitions: pd.DataFrame, weights: pd.DataFrame,
                             audit: AuditLog | None = None) -> pd.DataFrame:
    """Replace address shares by user weights (``old_code, new_code, effective, weight``).

    Every (effective, old_code) the user covers must list exactly the successors with a positive
    share in the transitions table; uncovered old municipalities keep their address shares.
    """
    user = weights[["effective", "old_code", "new_code", "weight"]].copy()
    user["effective"] = pd.to_datetime(user["effective"])
    user = _check_and_renormalise(user, "population weights", audit)
    covered = user[["effective", "old_code"]].drop_duplicates()
    expected = transitions[transitions["weight"] > 0].merge(covered, on=["effective", "old_code"])
    check = expected[["effective", "old_code", "new_code"]].merge(
        user[["effective", "old_code", "new_code"]], how="outer", indicator=True)
    mismatch = check[check["_merge"] != "both"]
    if len(mismatch):
        listing = "; ".join(
            f"{e.date()} {o}->{n} ({'missing in weights' if m == 'left_only' else 'not a transition'})"
            for e, o, n, m in zip(mismatch["effective"], mismatch["old_code"], mismatch["new_code"], mismatch["_merge"])
        )
        raise HarmonisationError(f"population weights do not match the transitions: {listing}")
    merged = transitions.merge(user.rename(columns={"weight": "user_weight"}),
                               on=["effective", "old_code", "new_code"], how="left")
    group_covered = merged.merge(covered.assign(_covered=True), on=["effective", "old_code"], how="left")["_covered"]
    group_covered = group_covered.fillna(False).astype(bool).to_numpy()
    merged["weight"] = np.where(group_covered, merged["user_weight"].fillna(0.0), merged["weight"])
    if audit is not None:
        audit.note(stage="transitions", detail=f"population weights used for {len(covered)} old municipality-dates")
    return merged.drop(columns="user_weight")


def prepare_steps(transitions: pd.DataFrame, *, boundary: str, boundary_threshold: float,
                  audit: AuditLog | None = None, source: str | None = None) -> pd.DataFrame:
    """Drop zero flows and (``boundary="ignore"``) small boundary corrections; rescale the rest.

    A boundary correction flow below ``boundary_threshold`` (share of the old municipality) is
    removed and the old municipality kept whole; larger ones are always apportioned.
    """
    if boundary not in ("ignore", "apportion"):
        raise HarmonisationError(f"boundary={boundary!r}: use 'ignore' or 'apportion'")
    steps = transitions[transitions["weight"] > 0].copy()
    if boundary == "ignore":
        small = (steps["kind"] == "boundary_correction") & (steps["weight"] < boundary_threshold) & (
            steps["old_code"] != steps["new_code"])
        if small.any():
            ignored = steps[small]
            if audit is not None:
                audit.note(
                    stage="crosswalk", source=source, municipality=ignored["old_code"].tolist(),
                    year=(ignored["year"] - 1).tolist(),
                    detail=[f"boundary correction {o}->{n} on {e.date()} ({w:.3f} of addresses) below "
                            f"threshold {boundary_threshold}: {o} kept whole (boundary='ignore')"
                            for o, n, e, w in zip(ignored["old_code"], ignored["new_code"],
                                                  ignored["effective"], ignored["weight"])],
                )
            steps = steps[~small]
            steps["weight"] = steps["weight"] / steps.groupby(["effective", "old_code"])["weight"].transform("sum")
    return steps.reset_index(drop=True)


def compose(steps: pd.DataFrame, codes: pd.DataFrame, reference_year: int) -> pd.DataFrame:
    """Map ``codes`` (``year, code``; year <= reference_year) to the reference division.

    Returns ``year, source_code, municipality_to, weight, kind, path``: one row per flow with
    weight > 0; ``kind`` is the strongest change met (split > merged > boundary_correction > none)
    and ``path`` a readable trail of the steps that moved it.
    """
    rank = {"none": 0, "boundary_correction": 1, "merged": 2, "split": 3}
    if codes.empty:
        return pd.DataFrame(columns=["year", "source_code", "municipality_to", "weight", "kind", "path"])
    # all source years travel together; a step applies to the rows of the years before it
    current = pd.DataFrame({"year": codes["year"].astype("int64").to_numpy(), "source_code": codes["code"].to_numpy(),
                            "municipality_to": codes["code"].to_numpy(), "weight": 1.0, "rank": 0, "path": ""})
    for step_year in range(int(current["year"].min()) + 1, reference_year + 1):
        step = steps.loc[steps["year"] == step_year, ["old_code", "new_code", "weight", "kind"]]
        if step.empty:
            continue
        applies = current["year"] < step_year
        moved = current[applies].merge(step, how="left", left_on="municipality_to", right_on="old_code",
                                       suffixes=("", "_step"))
        hit = moved["new_code"].notna()
        if not hit.any():
            continue
        trivial = hit & (moved["new_code"] == moved["old_code"]) & (moved["weight_step"] == 1.0)
        changed = hit & ~trivial
        moved.loc[changed, "path"] = (
            moved.loc[changed, "path"] + f"{step_year}-01-01 " + moved.loc[changed, "kind"] + " "
            + moved.loc[changed, "old_code"] + "->" + moved.loc[changed, "new_code"] + " ("
            + moved.loc[changed, "weight_step"].map("{:.3f}".format) + "); "
        )
        moved.loc[changed, "rank"] = np.maximum(moved.loc[changed, "rank"].to_numpy(),
                                                moved.loc[changed, "kind"].map(rank).to_numpy())
        moved.loc[hit, "municipality_to"] = moved.loc[hit, "new_code"]
        moved.loc[hit, "weight"] = moved.loc[hit, "weight"] * moved.loc[hit, "weight_step"]
        moved = moved[["year", "source_code", "municipality_to", "weight", "rank", "path"]]
        if moved.duplicated(["year", "source_code", "municipality_to"]).any():  # flows that meet again
            moved = moved.groupby(["year", "source_code", "municipality_to"], as_index=False, sort=False).agg(
                weight=("weight", "sum"), rank=("rank", "max"), path=("path", "first"))
        current = pd.concat([current[~applies], moved], ignore_index=True)
    mapping = current.sort_values(["year", "source_code", "municipality_to"], ignore_index=True)
    names = {v: k for k, v in rank.items()}
    mapping["kind"] = mapping["rank"].map(names)
    mapping["path"] = mapping["path"].str.strip().str.rstrip(";")
    return mapping[["year", "source_code", "municipality_to", "weight", "kind", "path"]]


def backward_blockers(steps: pd.DataFrame, codes: pd.DataFrame, reference_year: int) -> pd.DataFrame:
    """Codes of years after ``reference_year`` that cannot be mapped back to its division.

    A code can be taken back unchanged only if no step in (reference_year, year] moved territory
    into it from another code or out of it.  Returns ``year, code, change_year, detail``.
    """
    moving = steps[steps["old_code"] != steps["new_code"]]
    into = moving[["year", "new_code", "old_code", "kind"]].rename(columns={"new_code": "code", "old_code": "other"})
    out_of = moving[["year", "old_code", "new_code", "kind"]].rename(columns={"old_code": "code", "new_code": "other"})
    touched = pd.concat([into.assign(direction="received territory from"),
                         out_of.assign(direction="lost territory to")], ignore_index=True)
    touched = touched.rename(columns={"year": "change_year"})
    merged = codes.merge(touched, on="code")
    merged = merged[(merged["change_year"] > reference_year) & (merged["change_year"] <= merged["year"])]
    merged = merged.assign(detail=merged["code"] + " " + merged["direction"] + " " + merged["other"] + " ("
                           + merged["kind"] + ", 1 January " + merged["change_year"].astype(str) + ")")
    return merged[["year", "code", "change_year", "detail"]].drop_duplicates()
