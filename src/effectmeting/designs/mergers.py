"""Which municipalities' design histories were combined by the herindelingen design rule.

Harmonisation maps every design row to the reference year's municipalities; when predecessors merge,
their designs are combined by ``design_rule`` (e.g. the design of the largest predecessor) and the
audit log records the fate of every input row (``merged``, ``split``, or ``changed`` when the rule
overruled a predecessor's design).  A study must report which treated or control municipalities
are such constructions: :func:`merged_municipalities` lists them from the panel's audit log.
"""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

#: audit actions that mean a reference-year municipality's design came from more than one history
COMBINING_ACTIONS = ("merged", "changed", "split")
COLUMNS = ["municipality", "predecessors", "first_year", "last_year", "design_rows", "overruled_rows"]


def merged_municipalities(panel, *, sources: Iterable[str] | None = None) -> pd.DataFrame:
    """Reference-year municipalities whose designs were combined from several predecessors' histories.

    ``panel``: a harmonised ``Panel`` (uses ``panel.audit.frame`` and ``panel.sources``).
    ``sources``: names of the design sources in the audit log; default the panel's sources whose
    ``table`` is ``designs`` (or ``["designs"]`` when the panel lists no sources).

    Returns one row per reference-year municipality: ``municipality, predecessors`` (input codes,
    comma-separated), ``first_year, last_year`` (years of the combined rows), ``design_rows`` (input
    design rows merged, split or changed into it) and ``overruled_rows`` (rows whose design the rule
    overruled: audit action ``changed``).  Empty when no design row was combined.
    """
    if sources is None:
        sources = [s.get("name") for s in getattr(panel, "sources", []) if s.get("table") == "designs"] or ["designs"]
    frame = panel.audit.frame
    rows = frame[frame["source"].isin(list(sources)) & frame["action"].isin(COMBINING_ACTIONS)]
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})
    # a split row names all its successors ("GM1;GM2"): each successor was affected
    rows = rows.assign(target=rows["municipality_to"].astype("string").str.split(";")).explode("target")
    rows = rows.assign(overruled=rows["action"] == "changed", year=rows["year"].astype("Int64"))
    predecessors = (rows[["target", "municipality"]].drop_duplicates().sort_values(["target", "municipality"])
                    .groupby("target")["municipality"].agg(", ".join))
    table = rows.groupby("target").agg(first_year=("year", "min"), last_year=("year", "max"),
                                       design_rows=("source_row", "size"), overruled_rows=("overruled", "sum"))
    table.insert(0, "predecessors", predecessors)
    table = table.rename_axis("municipality").reset_index()
    return table.astype({"design_rows": "int64", "overruled_rows": "int64"})[COLUMNS]
