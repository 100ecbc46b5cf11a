"""Side-by-side comparison table of fitted models (fixest's ``etable``)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from effectmeting.errors import InputError
from effectmeting.estimate.core.checks import OptionError
from effectmeting.estimate.core.results import Results

#: tidy() columns that hold numbers about a row, not its label
_STATISTICS = {"estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high", "weight",
               "df", "nobs", "lower", "upper", "n"}
#: label of the overall effect an event-study / aggregate result carries in ``estimate``
OVERALL = "ATT (overall)"


def _label(value: object) -> str:
    if isinstance(value, (float, np.floating)) and np.isnan(value):
        return "-"  # e.g. the never-treated control of a Bacon comparison
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _row_labels(tidy: pd.DataFrame) -> list[str]:
    """Row names: ``term`` when the table has one (feols); otherwise its key columns written
    ``key::value`` as ``i()`` names dummies, so ``event_time::0`` of an event study lines up with
    the ``i(event_time, ref=-1)`` term of a feols model."""
    if "term" in tidy.columns:
        return [str(t) for t in tidy["term"]]
    keys = [c for c in tidy.columns if c not in _STATISTICS]
    if not keys:
        return [OVERALL] * len(tidy)
    return [", ".join(f"{key}::{_label(value)}" for key, value in zip(keys, row))
            for row in tidy[keys].itertuples(index=False)]


def _cell(estimate: float, std_error: float | None, digits: int) -> str:
    if std_error is None or not np.isfinite(std_error):
        return f"{estimate:.{digits}f}"
    return f"{estimate:.{digits}f} ({std_error:.{digits}f})"


def _cells(result: Results, digits: int) -> dict[str, str]:
    """term -> "estimate (std_error)" for one model; the overall effect of event-study and
    aggregate results (scalar ``estimate``/``std_error`` attributes) as row :data:`OVERALL`."""
    tidy = result.tidy()
    if "estimate" not in tidy.columns:
        raise InputError(f"etable: {type(result).__name__} ({result.title!r}) has no 'estimate' "
                         "column to tabulate (a test result?); report it with .summary() instead")
    labels = _row_labels(tidy)
    errors = tidy["std_error"] if "std_error" in tidy.columns else [None] * len(tidy)
    cells = {label: _cell(float(est), None if se is None else float(se), digits)
             for label, est, se in zip(labels, tidy["estimate"], errors)}
    overall = getattr(result, "estimate", None)
    # a one-row table already is the overall effect (simple aggregation, HonestDiD bound)
    if len(tidy) > 1 and OVERALL not in cells and isinstance(overall, (float, np.floating)) and np.isfinite(overall):
        se = getattr(result, "std_error", None)
        cells[OVERALL] = _cell(float(overall), None if se is None else float(se), digits)
    return cells


def etable(results: Sequence[Results], *, digits: int = 3, names: Sequence[str] | None = None,
           ) -> pd.DataFrame:
    """Terms x models: ``"estimate (std_error)"`` cells, then rows Observations, Fixed effects, Vcov.

    ``results`` are fitted models of any kind in the results family (feols, att_gt and its
    aggregations, event studies, dCDH, Bacon, HonestDiD...).  Rows are feols terms, or for the
    other results their key columns as ``key::value`` (``event_time::0``, ``cohort::2004``),
    plus ``ATT (overall)`` for results with one overall effect.  Terms appear in order of first
    appearance; a model without a term gets an empty cell; a missing standard error shows the
    estimate alone.  ``names`` label the columns (default ``(1)``, ``(2)``, ...).  Render with
    :func:`etable_to_markdown`, ``DataFrame.to_latex`` or ``DataFrame.to_html``.
    """
    results = list(results)
    labels = list(names) if names is not None else [f"({i + 1})" for i in range(len(results))]
    if len(labels) != len(results):
        raise OptionError(f"etable: {len(labels)} names for {len(results)} models")
    columns, terms = {}, []
    for label, result in zip(labels, results):
        cells = _cells(result, digits)
        terms.extend(cells)
        cells["Observations"] = f"{result.nobs:,}" if result.nobs is not None else ""
        cells["Fixed effects"] = ", ".join(getattr(result, "fixed_effects", []) or []) or "-"
        cells["Vcov"] = getattr(result, "vcov_type", "")
        columns[label] = cells
    order = list(dict.fromkeys(terms)) + ["Observations", "Fixed effects", "Vcov"]
    table = pd.DataFrame(columns).reindex(order).fillna("")
    table.index.name = "term"
    return table


def etable_to_markdown(table: pd.DataFrame) -> str:
    """A Markdown pipe table of an :func:`etable` result."""
    header = "| term | " + " | ".join(map(str, table.columns)) + " |"
    rule = "|---|" + "|".join("---" for _ in table.columns) + "|"
    rows = ["| " + " | ".join([str(index), *map(str, row)]) + " |"
            for index, row in zip(table.index, table.to_numpy())]
    return "\n".join([header, rule, *rows]) + "\n"
