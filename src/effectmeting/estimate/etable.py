"""Side-by-side comparison table of fitted models (fixest's ``etable``)."""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from effectmeting.estimate.results import Results


def etable(results: Sequence[Results], *, digits: int = 3, names: Sequence[str] | None = None,
           ) -> pd.DataFrame:
    """Terms x models: ``"estimate (std_error)"`` cells, then rows Observations, Fixed effects, Vcov.

    ``results`` are fitted models with ``tidy()`` (any :class:`Results`); terms appear in order
    of first appearance; a model without a term gets an empty cell.  ``names`` label the
    columns (default ``(1)``, ``(2)``, ...).  Render with :func:`etable_to_markdown`,
    ``DataFrame.to_latex`` or ``DataFrame.to_html``.
    """
    labels = list(names) if names is not None else [f"({i + 1})" for i in range(len(results))]
    if len(labels) != len(results):
        raise ValueError(f"{len(labels)} names for {len(results)} models")
    columns = {}
    for label, result in zip(labels, results):
        tidy = result.tidy()
        cells = {row.term: f"{row.estimate:.{digits}f} ({row.std_error:.{digits}f})"
                 for row in tidy.itertuples(index=False)}
        cells["Observations"] = f"{result.nobs:,}" if result.nobs is not None else ""
        cells["Fixed effects"] = ", ".join(getattr(result, "fixed_effects", []) or []) or "-"
        cells["Vcov"] = getattr(result, "vcov_type", "")
        columns[label] = cells
    terms = list(dict.fromkeys(t for r in results for t in r.tidy()["term"]))
    order = terms + ["Observations", "Fixed effects", "Vcov"]
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
