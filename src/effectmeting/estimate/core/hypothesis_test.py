"""Results of a single test (wild cluster bootstrap, randomization inference) in the results
family: ``tidy()`` (one row), ``conf_int(level)``, ``glance()``, ``summary()``, ``to_markdown()``, ``to_latex()``, ``to_html()``.

These functions used to return a ``pandas.Series``; the result still reads like one
(``result["p_value"]``, ``result.p_value``, ``result.equals(other)``, ``result.to_series()``).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from effectmeting.estimate.core.results import Results


class InferenceResults(Results):
    """One test of one coefficient: ``values`` (a Series: estimate, p_value, ...) and ``term``.

    ``tidy()`` follows the results contract: ``term, estimate, std_error, statistic, p_value,
    conf_low, conf_high`` (NaN where the test has none: randomization inference has no standard
    error or interval), then the test's other values (draws, n_clusters, ...).  ``interval``
    (level -> (low, high)) lets ``conf_int(level)`` invert the test at any level.
    """

    _CONTRACT = ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high")

    def __init__(self, title: str, term: str, values: pd.Series, notes: Iterable[str] = (), *,
                 estimator: str = "", std_error: float = np.nan,
                 interval: Callable[[float], tuple[float, float]] | None = None,
                 options: dict | None = None) -> None:
        super().__init__()
        self.title = title
        self.term = term
        self.values = values
        self.notes.extend(notes)
        self.estimator = estimator
        self._std_error = float(std_error)
        self._interval_at = interval
        self.level = float(values["level"]) if "level" in values.index else 0.95
        self.n_clusters = int(values["n_clusters"]) if "n_clusters" in values.index else None
        self.options = dict(options or {})

    def _coefficients(self) -> pd.DataFrame:
        values = self.values
        table = pd.DataFrame({"term": [self.term], "estimate": [float(values["estimate"])],
                              "std_error": [self._std_error],
                              "statistic": [float(values.get("statistic", np.nan))],
                              "p_value": [float(values["p_value"])]})
        for name in values.index:
            if name not in self._CONTRACT:
                table[name] = [values[name]]
        return table

    def _interval(self, table: pd.DataFrame, level: float):
        if level == self.level and "conf_low" in self.values.index:
            low, high = self.values["conf_low"], self.values["conf_high"]
        elif self._interval_at is not None:
            low, high = self._interval_at(level)
        else:
            low = high = np.nan
        return np.array([float(low)]), np.array([float(high)])

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
