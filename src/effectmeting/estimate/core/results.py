"""The results family shared by every estimator.

Every estimator returns a subclass of :class:`Results`.  A subclass implements ``tidy()``
(a DataFrame, one row per reported quantity) and sets ``title``; everything else (summary,
Markdown/LaTeX/HTML export) is derived from ``tidy()`` here so all results look alike.
Event-study results additionally implement ``plot()``.
"""
from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

TIDY_NUMERIC_FORMAT = "{:.4f}"


def _format_frame(frame: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}f}")
    return out.astype(str)


class Results:
    """Base class: subclasses provide ``tidy()`` and the attributes below."""

    title: str = "Estimates"
    #: number of observations (rows) used
    nobs: int | None = None
    #: free-form lines printed under the table by ``summary()`` (inference, notes)
    notes: list[str]

    def __init__(self) -> None:
        self.notes = []

    def tidy(self) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- text and document exports, all derived from tidy() -------------------------------
    def summary(self, digits: int = 4) -> str:
        """A plain-text table of ``tidy()`` with the title, nobs and notes."""
        table = _format_frame(self.tidy(), digits)
        lines = [self.title]
        if self.nobs is not None:
            lines.append(f"Observations: {self.nobs:,}")
        lines.append(table.to_string(index=False))
        lines.extend(self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.title}>"

    def to_markdown(self, digits: int = 4) -> str:
        table = _format_frame(self.tidy(), digits)
        header = "| " + " | ".join(table.columns) + " |"
        rule = "|" + "|".join("---" for _ in table.columns) + "|"
        rows = ["| " + " | ".join(row) + " |" for row in table.itertuples(index=False)]
        return "\n".join([header, rule, *rows]) + "\n"

    def to_latex(self, digits: int = 4) -> str:
        table = _format_frame(self.tidy(), digits)

        def esc(text: str) -> str:
            for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"),
                         ("#", r"\#"), ("$", r"\$"), ("{", r"\{"), ("}", r"\}")):
                text = text.replace(a, b)
            return text

        spec = "l" * len(table.columns)
        lines = [r"\begin{tabular}{" + spec + "}", r"\hline",
                 " & ".join(esc(c) for c in table.columns) + r" \\", r"\hline"]
        lines += [" & ".join(esc(v) for v in row) + r" \\" for row in table.itertuples(index=False)]
        lines += [r"\hline", r"\end{tabular}"]
        return "\n".join(lines) + "\n"

    def to_html(self, digits: int = 4) -> str:
        table = _format_frame(self.tidy(), digits)
        head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
            for row in table.itertuples(index=False)
        )
        caption = f"<caption>{html.escape(self.title)}</caption>"
        return f'<table class="effectmeting">{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>\n'


def confidence_interval(estimate: Any, std_error: Any, level: float = 0.95, df: float | None = None):
    """Two-sided normal (or Student-t when ``df`` is given) interval."""
    from scipy import stats

    alpha = 1.0 - level
    crit = stats.norm.ppf(1 - alpha / 2) if df is None else stats.t.ppf(1 - alpha / 2, df)
    estimate = np.asarray(estimate, dtype=float)
    std_error = np.asarray(std_error, dtype=float)
    return estimate - crit * std_error, estimate + crit * std_error
