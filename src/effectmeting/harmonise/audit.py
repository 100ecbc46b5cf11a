"""Audit log of harmonisation: what happened to every input row, and why.

Two tables:

``frame`` — the *fate* of every input row, exactly one record per (source, source_row):
    ``source, source_row, municipality, year, action, municipality_to, weight, reason``.
    ``action`` is one of :data:`ACTIONS`.  ``summary()`` counts these per source and action, so the
    counts add up to the number of input rows of each source.

``events`` — notes about cells and settings that are not the fate of one row (a renormalised
    weight, a boundary correction kept whole, a rate set to NA because its denominator is zero):
    ``stage, source, municipality, year, variable, detail``.

Records are appended in vectorised chunks (arrays, not one Python call per row).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from effectmeting.errors import HarmonisationError

ACTIONS = ("kept", "changed", "merged", "split", "dropped", "set_aside")
FRAME_COLUMNS = ["source", "source_row", "municipality", "year", "action", "municipality_to", "weight", "reason"]
EVENT_COLUMNS = ["stage", "source", "municipality", "year", "variable", "detail"]


def _column(value: Any, n: int, dtype: str | None = None) -> pd.Series:
    """Broadcast a scalar or array-like to a Series of length ``n``."""
    if isinstance(value, (pd.Series, pd.Index, np.ndarray, list, tuple)):
        series = pd.Series(np.asarray(value, dtype=object) if dtype is None else value)
        if len(series) != n:
            raise ValueError(f"audit column has {len(series)} values, expected {n}")
        series = series.reset_index(drop=True)
    else:
        series = pd.Series([value] * n)
    return series.astype(dtype) if dtype else series


class AuditLog:
    """Collects row fates (``frame``) and other notes (``events``) of a harmonisation run."""

    def __init__(self) -> None:
        self._chunks: list[pd.DataFrame] = []
        self._event_chunks: list[pd.DataFrame] = []
        self._seen: dict[str, set[int]] = {}

    # -- recording -------------------------------------------------------------------------
    def record(
        self,
        *,
        source: str,
        source_row: Any,
        municipality: Any,
        year: Any,
        action: Any,
        reason: Any,
        municipality_to: Any = None,
        weight: Any = np.nan,
    ) -> None:
        """Record the fate of one or many input rows (array-like arguments are aligned).

        Raises :class:`HarmonisationError` when an action is unknown or when a row of ``source``
        was already recorded: every input row must end up exactly once.
        """
        rows = pd.Series(np.atleast_1d(np.asarray(source_row)), dtype="int64")
        n = len(rows)
        if n == 0:
            return
        chunk = pd.DataFrame(
            {
                "source": _column(source, n, "string"),
                "source_row": rows.reset_index(drop=True),
                "municipality": _column(municipality, n, "string"),
                "year": _column(year, n, "Int64"),
                "action": _column(action, n, "string"),
                "municipality_to": _column(municipality_to, n, "string"),
                "weight": _column(weight, n, "float64"),
                "reason": _column(reason, n, "string"),
            }
        )
        bad = sorted(set(chunk["action"].dropna().unique()) - set(ACTIONS))  # a set of the few actions, not of every row
        if bad:
            raise HarmonisationError(f"unknown audit action(s) {bad}; use one of {list(ACTIONS)}")
        for src, group in chunk.groupby("source", sort=False):
            seen = self._seen.setdefault(str(src), set())
            new_rows = set(group["source_row"].tolist())
            duplicated = seen & new_rows
            if duplicated or len(new_rows) != len(group):
                dup = sorted(duplicated) or sorted(group["source_row"][group["source_row"].duplicated()].tolist())
                raise HarmonisationError(
                    f"{src}: rows {dup[:10]} were recorded twice in the audit log; every input row "
                    "must end up exactly once (kept, changed, merged, split, dropped or set_aside)"
                )
            seen |= new_rows
        self._chunks.append(chunk)

    def note(
        self,
        *,
        stage: str,
        detail: Any,
        source: Any = None,
        municipality: Any = None,
        year: Any = None,
        variable: Any = None,
    ) -> None:
        """Record one or many events that are not row fates (array-like arguments are aligned)."""
        lengths = [len(v) for v in (detail, source, municipality, year, variable)
                   if isinstance(v, (pd.Series, pd.Index, np.ndarray, list, tuple))]
        n = max(lengths) if lengths else 1
        if n == 0:
            return
        self._event_chunks.append(
            pd.DataFrame(
                {
                    "stage": _column(stage, n, "string"),
                    "source": _column(source, n, "string"),
                    "municipality": _column(municipality, n, "string"),
                    "year": _column(year, n, "Int64"),
                    "variable": _column(variable, n, "string"),
                    "detail": _column(detail, n, "string"),
                }
            )
        )

    # -- reading ---------------------------------------------------------------------------
    @property
    def frame(self) -> pd.DataFrame:
        """Row fates, one record per input row, in recording order."""
        if not self._chunks:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in FRAME_COLUMNS})
        return pd.concat(self._chunks, ignore_index=True)[FRAME_COLUMNS]

    @property
    def events(self) -> pd.DataFrame:
        """Other notes (renormalised weights, kept boundary corrections, NA rates, ...)."""
        if not self._event_chunks:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in EVENT_COLUMNS})
        return pd.concat(self._event_chunks, ignore_index=True)[EVENT_COLUMNS]

    def summary(self) -> pd.DataFrame:
        """Counts of input rows per source (rows) and action (columns), plus a ``total`` column.

        The ``total`` of a source equals the number of its input rows that were recorded.
        """
        frame = self.frame
        table = pd.crosstab(frame["source"], frame["action"]) if len(frame) else pd.DataFrame()
        for action in ACTIONS:
            if action not in table.columns:
                table[action] = 0
        table = table[list(ACTIONS)].astype("int64")
        table["total"] = table.sum(axis=1)
        table.columns.name = None
        return table

    def rows_recorded(self, source: str) -> int:
        """Number of distinct input rows of ``source`` recorded so far."""
        return len(self._seen.get(source, ()))

    def extend(self, other: AuditLog) -> None:
        """Append the records of another log (e.g. one built per source)."""
        for chunk in other._chunks:
            for src, group in chunk.groupby("source", sort=False):
                clash = self._seen.setdefault(str(src), set()) & set(group["source_row"])
                if clash:
                    raise HarmonisationError(f"{src}: rows {sorted(clash)[:10]} recorded in both audit logs")
                self._seen[str(src)] |= set(group["source_row"])
            self._chunks.append(chunk)
        self._event_chunks.extend(other._event_chunks)

    def to_csv(self, path: str | Path, *, events_path: str | Path | None = None) -> None:
        """Write row fates to ``path`` (UTF-8, comma, ``.`` decimals); events optionally to ``events_path``."""
        self.frame.to_csv(path, index=False, lineterminator="\n")
        if events_path is not None:
            self.events.to_csv(events_path, index=False, lineterminator="\n")

    def __len__(self) -> int:
        return sum(len(c) for c in self._chunks)

    def __repr__(self) -> str:
        return f"AuditLog({len(self)} row records, {sum(len(c) for c in self._event_chunks)} events)"
