"""Diagnostics for the report: pre-trend tests, Bacon decomposition and Rambachan-Roth sensitivity.

Each function returns display tables (strings in the report language, translated headers)
and sentences filled from numbers; inputs are a study's tidy frames and results objects.
The sensitivity analysis calls the public :func:`effectmeting.honest_did` only and reads its
``tidy()`` columns (``parameter``, ``lower``, ``upper``, ``conf_low``, ``conf_high``).
"""
from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from effectmeting.errors import IdentificationError
from effectmeting.report.i18n import t
from effectmeting.report.labels import (column_label, comparison_label, estimator_label, outcome_label,
                                        pretrend_test_label)
from effectmeting.report.number_format import format_number, format_p_value, format_percent

#: M-bar values of the relative-magnitudes sensitivity analysis (Rambachan & Roth 2023); 1 = post-adoption
#: violations as large as the largest pre-adoption change
MBARS = (0.5, 1.0)  # honest_did takes ~2 s per call: two values keep the report stage short
#: Bacon comparison type whose weight signals the "forbidden" already-treated controls
LATER_VS_EARLIER = "Later vs Earlier Treated"
#: event-study estimators usable by honest_did (normalised at event time -1), preferred first
SENSITIVITY_ESTIMATORS = ("sa", "twfe")
#: earliest pre-period event time used (as the TWFE event-study window): the distant leads rest on few
#: cohorts, and their noise would set the largest pre-period change the bounds scale with
FIRST_PRE_PERIOD = -5
#: honest_did refusals -> reason key in the report catalogue (the English message is kept in ``refused``)
REFUSAL_REASONS = (("pre-period", "reason.no_pre"), ("post period", "reason.too_many_post"))


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


def _event_study(study, outcome: str):
    """The first usable event study of ``outcome`` (estimator code, results restricted to event
    times from :data:`FIRST_PRE_PERIOD` on), or ``(None, None)``."""
    from effectmeting.estimate.core.event_study_results import EventStudyResults

    for estimator in SENSITIVITY_ESTIMATORS:
        if estimator == "twfe":
            result = study.aggregates.get((outcome, "twfe"), {}).get("event_study")
        else:
            result = study.results.get((outcome, estimator))
        if result is not None and hasattr(result, "event_time"):
            keep = result.event_time >= FIRST_PRE_PERIOD
            window = EventStudyResults(title=result.title, event_time=result.event_time[keep],
                                       estimates=result.estimates[keep], vcov=result.vcov[np.ix_(keep, keep)],
                                       nobs=result.nobs, reference=result.reference)
            return estimator, window
    return None, None


def refusal_reason(message: str, lang: str) -> str:
    """The report-language reason for an honest_did refusal (English ``message``)."""
    for needle, key in REFUSAL_REASONS:
        if needle in message:
            return t(key, lang)
    return t("reason.other", lang)


#: study -> {mbars: bounds frame}: the bounds do not depend on the report language, and honest_did
#: is slow (seconds per call), so an nl and an en report of the same study compute them once
_BOUNDS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def sensitivity_bounds(study, mbars: tuple[float, ...] = MBARS) -> tuple[pd.DataFrame, dict[str, str], str | None]:
    """Rambachan-Roth relative-magnitudes results per outcome and M-bar (numbers, no language).

    Returns a frame ``outcome, mbar, estimate, lower, upper, conf_low, conf_high`` (from
    ``honest_did(...).tidy()``), the refusal message per outcome where the analysis is not
    possible (``IdentificationError``/``ValueError``, e.g. no pre-period before -1) and the
    estimator used.  Memoised per study object and ``mbars``.
    """
    from effectmeting import honest_did

    cached = _BOUNDS.get(study, {}).get(mbars)
    if cached is not None:
        return cached
    rows, refused, used = [], {}, None
    for outcome in study.outcomes:
        estimator, result = _event_study(study, outcome)
        if result is None:
            continue
        try:
            tables = [honest_did(result, method="relative_magnitudes", mbar=m).tidy() for m in mbars]
        except (IdentificationError, ValueError) as exc:
            refused[outcome] = str(exc).split(";")[0]
            continue
        used = used or estimator
        for mbar, table in zip(mbars, tables):
            row = table.iloc[0]
            rows.append({"outcome": outcome, "mbar": mbar,
                         **{c: float(row[c]) for c in ("estimate", "lower", "upper", "conf_low", "conf_high")}})
    frame = pd.DataFrame(rows, columns=["outcome", "mbar", "estimate", "lower", "upper", "conf_low", "conf_high"])
    result = (frame, refused, used)
    _BOUNDS.setdefault(study, {})[mbars] = result
    return result


def robust_up_to(bounds: pd.DataFrame) -> float | None:
    """Largest M-bar of an unbroken run from the smallest at which the robust interval excludes zero
    (``None`` when it already contains zero at the smallest)."""
    largest = None
    for row in bounds.sort_values("mbar").itertuples(index=False):
        if not (row.conf_low > 0 or row.conf_high < 0):
            break
        largest = row.mbar
    return largest


def sensitivity(study, lang: str, mbars: tuple[float, ...] = MBARS) -> tuple[pd.DataFrame, list[str], str | None]:
    """Display table, one sentence per outcome and the estimator used (``None`` when none fits)
    of :func:`sensitivity_bounds`: the largest M-bar in ``mbars`` up to which the robust 95 %
    interval stays on one side of zero, or that it contains zero already at the smallest."""
    bounds, refused, used = sensitivity_bounds(study, mbars)
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
