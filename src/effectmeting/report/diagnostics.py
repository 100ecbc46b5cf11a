"""Diagnostics for the report: pre-trend tests, Bacon decomposition and Rambachan-Roth sensitivity.

Each function returns display tables (strings in the report language, translated headers)
and sentences filled from numbers; inputs are a study's tidy frames and results objects.
Nothing is estimated here: the sensitivity bounds are the study's ``sensitivity``
(:mod:`effectmeting.study.sensitivity`), and a refusal arrives as a ``reason`` code that the
label catalogue translates (never the English exception text).
"""
from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from effectmeting.report.i18n import has_label, t
from effectmeting.report.labels import (column_label, comparison_label, estimator_label, outcome_label,
                                        pretrend_test_label)
from effectmeting.report.number_format import format_number, format_p_value, format_percent

#: Bacon comparison type whose weight signals the "forbidden" already-treated controls
LATER_VS_EARLIER = "Later vs Earlier Treated"
#: columns of the study's sensitivity bounds (as :data:`effectmeting.study.sensitivity.BOUND_COLUMNS`)
BOUND_COLUMNS = ["outcome", "mbar", "estimate", "lower", "upper", "conf_low", "conf_high"]


class SensitivityView(NamedTuple):
    """What the report reads of a study's sensitivity results."""

    bounds: pd.DataFrame
    refused: dict
    estimator: str | None


def _headers(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    frame.columns = [column_label(c, lang) for c in frame.columns]
    return frame


def pretrend_table(pretrend: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Display table of pre-trend tests (``outcome``, ``estimator``, ``test``, ``statistic``, ``df``,
    ``p_value``): labels translated, numbers in ``lang`` format."""
    shown = pd.DataFrame({
        "outcome": pretrend["outcome"].map(lambda o: outcome_label(o, lang)),
        "estimator": pretrend["estimator"].map(lambda e: estimator_label(e, lang)),
        "test": pretrend["test"].map(lambda c: pretrend_test_label(c, lang)),
        "statistic": pretrend["statistic"].map(lambda v: format_number(v, lang, 2)),
        "df": pretrend["df"].map(lambda v: format_number(v, lang, 0)),
        "p_value": pretrend["p_value"].map(lambda v: format_p_value(v, lang)),
    })
    return _headers(shown.reset_index(drop=True), lang)


def bacon_summary(diagnostics: dict, lang: str) -> tuple[pd.DataFrame, list[str]]:
    """Weights per comparison type per outcome, and one sentence per outcome on the weight of
    comparisons with already-treated controls.  ``diagnostics`` is ``study.diagnostics``."""
    rows, sentences = [], []
    for outcome, info in diagnostics.items():
        bacon = info.get("bacon")
        if bacon is None:
            continue
        by_type = bacon.by_type()
        for row in by_type.itertuples(index=False):
            rows.append({"outcome": outcome_label(outcome, lang),
                         "comparison_type": comparison_label(row.comparison_type, lang),
                         "share": format_percent(row.weight, lang, 0),
                         "estimate": format_number(row.estimate, lang, 2)})
        late = by_type.loc[by_type["comparison_type"] == LATER_VS_EARLIER, "weight"].sum()
        sentences.append(t("bacon_line", lang, outcome=outcome_label(outcome, lang),
                           share=format_percent(late, lang, 0),
                           estimate=format_number(bacon.twfe_estimate, lang, 2)))
    table = pd.DataFrame(rows, columns=["outcome", "comparison_type", "share", "estimate"])
    return _headers(table, lang), sentences


def refusal_reason(reason: str, lang: str) -> str:
    """The report-language text of a sensitivity refusal's ``reason`` code (catalogue key
    ``reason.<code>``; codes without their own text get ``reason.other``)."""
    key = f"reason.{reason}"
    return t(key if has_label(key, lang) else "reason.other", lang)


def sensitivity_results(study) -> SensitivityView:
    """The study's sensitivity results (empty when the study did not compute them)."""
    found = getattr(study, "sensitivity", None)
    if found is None:
        return SensitivityView(pd.DataFrame(columns=BOUND_COLUMNS), {}, None)
    return SensitivityView(found.bounds, found.refused, found.estimator)


def robust_up_to(bounds: pd.DataFrame) -> float | None:
    """Largest M-bar of an unbroken run from the smallest at which the robust interval excludes zero
    (``None`` when it already contains zero at the smallest)."""
    largest = None
    for row in bounds.sort_values("mbar").itertuples(index=False):
        if not (row.conf_low > 0 or row.conf_high < 0):
            break
        largest = row.mbar
    return largest


def sensitivity(study, lang: str) -> tuple[pd.DataFrame, list[str], str | None]:
    """Display table, one sentence per outcome and the estimator used (``None`` when none fits)
    of the study's ``sensitivity`` (computed by the study stage): the largest M-bar up to which
    the robust 95 % interval stays on one side of zero, or that it contains zero already at the
    smallest."""
    bounds, refused, used = sensitivity_results(study)
    separator = t("interval_separator", lang)

    def interval(low: float, high: float) -> str:
        return f"[{format_number(low, lang, 2)}{separator}{format_number(high, lang, 2)}]"

    table = pd.DataFrame({
        "outcome": bounds["outcome"].map(lambda o: outcome_label(o, lang)),
        "mbar": bounds["mbar"].map(lambda m: format_number(m, lang, 1)),
        "estimate": bounds["estimate"].map(lambda v: format_number(v, lang, 2)),
        "bounds": [interval(a, b) for a, b in zip(bounds["lower"], bounds["upper"])],
        "conf_interval": [interval(a, b) for a, b in zip(bounds["conf_low"], bounds["conf_high"])]})
    table.columns = [column_label(c, lang) if c != "conf_interval"
                     else t("column.conf_interval", lang, level=format_number(95, lang, 0)) for c in table.columns]
    sentences = []
    for outcome in study.outcomes:
        label = outcome_label(outcome, lang)
        if outcome in refused:
            sentences.append(t("sensitivity_none", lang, outcome=label, reason=refusal_reason(refused[outcome], lang)))
            continue
        part = bounds[bounds["outcome"] == outcome]
        if part.empty:
            continue
        largest = robust_up_to(part)
        if largest is None:
            sentences.append(t("sensitivity_fragile", lang, outcome=label,
                               mbar=format_number(part["mbar"].min(), lang, 1)))
        else:
            sentences.append(t("sensitivity_robust", lang, outcome=label, mbar=format_number(largest, lang, 1)))
    return table, sentences, used
