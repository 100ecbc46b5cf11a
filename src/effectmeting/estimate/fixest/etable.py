"""Side-by-side comparison table of fitted models (fixest's ``etable``)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from effectmeting.errors import InputError
from effectmeting.estimate.core.checks import OptionError
from effectmeting.estimate.core.results import OVERALL, Results  # noqa: F401 (OVERALL re-exported)


#: etable row -> ``glance()`` column of the fit statistics shown under the coefficients
FIT_ROWS = {"R2": "r2", "Within R2": "r2_within", "Pseudo R2": "pseudo_r2"}


def _cell(estimate: float, std_error: float, digits: int) -> str:
    if not np.isfinite(std_error):
        return f"{estimate:.{digits}f}"
    return f"{estimate:.{digits}f} ({std_error:.{digits}f})"


def _cells(result: Results, digits: int) -> dict[str, str]:
    """term -> "estimate (std_error)" for one model from its ``tidy()``, plus its overall effect
    (``tidy_overall()``) as row :data:`OVERALL` when the table has more than that one row."""
    tidy = result.tidy()
    if tidy["estimate"].isna().all():
        raise InputError(f"etable: {type(result).__name__} ({result.title!r}) has no 'estimate' "
                         "to tabulate (a test result?); report it with .summary() instead")
    overall = result.tidy_overall()
    rows = pd.concat([tidy, overall], ignore_index=True) if len(tidy) > 1 and len(overall) else tidy
    cells: dict[str, str] = {}
    for term, estimate, std_error in zip(rows["term"], rows["estimate"], rows["std_error"]):
        cells.setdefault(str(term), _cell(float(estimate), float(std_error), digits))
    return cells


def _statistic(facts: pd.Series, name: str, digits: int) -> str:
    """A fit statistic cell: blank for results without it (or NaN, e.g. within R² without FE)."""
    value = facts.get(name)
    return f"{float(value):.{digits}f}" if value is not None and pd.notna(value) else ""


def etable(results: Sequence[Results], *, digits: int = 3, names: Sequence[str] | None = None,
           ) -> pd.DataFrame:
    """Terms x models: ``"estimate (std_error)"`` cells, then rows Observations, R2, Within R2,
    Fixed effects, Vcov.

    ``results`` are fitted models of any kind in the results family (feols, att_gt and its
    aggregations, event studies, dCDH, Bacon, HonestDiD...).  Rows are feols terms, or for the
    other results their key columns as ``key::value`` (``event_time::0``, ``cohort::2004``),
    plus ``ATT (overall)`` for results with one overall effect.  Terms appear in order of first
    appearance; a model without a term gets an empty cell; a missing standard error shows the
    estimate alone.  The fit statistics (fixest's etable: R2 and, for models with fixed effects,
    Within R2, from ``glance()``; McFadden's Pseudo R2 of fepois models) are rows only when some
    model has them; ``digits`` decimals.
    ``names`` label the columns (default ``(1)``, ``(2)``, ...).  Render with
    :func:`etable_to_markdown`, ``DataFrame.to_latex`` or ``DataFrame.to_html``.
    """
    results = list(results)
    labels = list(names) if names is not None else [f"({i + 1})" for i in range(len(results))]
    if len(labels) != len(results):
        raise OptionError(f"etable: {len(labels)} names for {len(results)} models")
    columns: dict[str, dict[str, str]] = {}
    terms: list[str] = []
    for label, result in zip(labels, results):
        cells = _cells(result, digits)
        terms.extend(cells)
        facts = result.glance().iloc[0]
        cells["Observations"] = f"{int(facts['nobs']):,}" if pd.notna(facts["nobs"]) else ""
        for row, name in FIT_ROWS.items():
            cells[row] = _statistic(facts, name, digits)
        cells["Fixed effects"] = facts.get("fixed_effects") or "-"
        cells["Vcov"] = facts.get("vcov") or ""
        columns[label] = cells
    shown = [row for row in FIT_ROWS if any(cells[row] for cells in columns.values())]
    order = list(dict.fromkeys(terms)) + ["Observations", *shown, "Fixed effects", "Vcov"]
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
