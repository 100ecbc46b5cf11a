"""Results of a single test (wild cluster bootstrap, randomization inference) in the results
family: ``tidy()`` (one row), ``summary()``, ``to_markdown()``, ``to_latex()``, ``to_html()``.

These functions used to return a ``pandas.Series``; the result still reads like one
(``result["p_value"]``, ``result.p_value``, ``result.equals(other)``, ``result.to_series()``).
"""
from __future__ import annotations

from typing import Iterable

import pandas as pd

from effectmeting.estimate.core.results import Results


class InferenceResults(Results):
    """One test of one coefficient: ``values`` (a Series: estimate, p_value, ...) and ``term``."""

    def __init__(self, title: str, term: str, values: pd.Series, notes: Iterable[str] = ()) -> None:
        super().__init__()
        self.title = title
        self.term = term
        self.values = values
        self.notes.extend(notes)

    def tidy(self) -> pd.DataFrame:
        """One row: ``term`` and every value (estimate, p_value, ...) as a column."""
        table = pd.DataFrame([self.values.to_numpy()], columns=list(self.values.index))
        table.insert(0, "term", [self.term])
        return table

    def to_series(self) -> pd.Series:
        return self.values.copy()

    def __getitem__(self, key):
        return self.values[key]

    def __getattr__(self, name: str):
        # only called when normal lookup fails: expose the values as attributes (result.p_value)
        values = self.__dict__.get("values")
        if values is not None and name in values.index:
            return values[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def keys(self):
        return self.values.keys()

    def equals(self, other) -> bool:
        """True when both hold the same values (``other`` may be a Series or a result)."""
        other_values = other.values if isinstance(other, InferenceResults) else other
        return isinstance(other_values, pd.Series) and self.values.equals(other_values)
