"""The numbers behind the report's figures, as display tables (a text alternative for each figure).

A reader who cannot see a figure, or who wants its values, gets them in a table collapsed under
the figure (``Section.figure_data`` in :mod:`effectmeting.report.html`; WCAG 1.1.1).  Each function
takes what the matching figure function of :mod:`effectmeting.report.study_figures` takes and
returns the values it draws, formatted like the report's other tables (every cell a string in
the report language, translated column headers, missing values as ``–``).
"""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from effectmeting.report.i18n import t
from effectmeting.report.labels import cost_line_label, estimator_label
from effectmeting.report.number_format import check_language, format_number
from effectmeting.report.tables import estimates_table

__all__ = ["cohort_means_data", "domain_costs_data", "event_study_data", "study_event_study_data"]


def event_study_data(frames: Mapping[str, pd.DataFrame], lang: str = "nl", *, digits: int = 2) -> pd.DataFrame:
    """Estimate and confidence interval per estimator (the keys, readable names) and event time.

    ``frames`` is what :func:`effectmeting.report.figures.event_study_plot` draws: per estimator a
    frame with ``event_time``, ``estimate``, ``conf_low`` and ``conf_high``, in the outcome's unit.
    """
    rows = [frame[["event_time", "estimate", "conf_low", "conf_high"]].assign(estimator=name)
            for name, frame in frames.items()]
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["estimator", "event_time", "estimate", "conf_low", "conf_high"])
    table = table[["estimator", "event_time", "estimate", "conf_low", "conf_high"]]
    return estimates_table(table.astype({"event_time": int}), lang, digits=digits)


def study_event_study_data(study, outcome: str, lang: str = "nl", *, digits: int = 2) -> pd.DataFrame:
    """:func:`event_study_data` of every estimator of ``study`` for ``outcome`` (the values of
    :func:`effectmeting.report.study_figures.study_event_study_plot`)."""
    frames = {estimator_label(code, lang): frame for code, frame in study.event_times(outcome).items()}
    return event_study_data(frames, lang, digits=digits)


def cohort_means_data(study, data: pd.DataFrame, outcome: str, lang: str = "nl", *,
                      digits: int = 2) -> pd.DataFrame:
    """Raw mean of ``outcome`` per year (rows) and adoption cohort (columns, never-adopters last):
    the lines of :func:`effectmeting.report.study_figures.study_cohort_trends_plot`.

    The same municipalities as the figure: adopters and never-treated of ``study``'s design;
    rows with a missing outcome do not enter a mean.
    """
    check_language(lang)
    units = study.timing.units
    kept = units[units["status"].isin(("adopter", "never_treated"))][["municipality", "first_adoption_year"]]
    frame = data[["municipality", "year", outcome]].merge(kept, on="municipality", how="inner",
                                                          validate="many_to_one")
    cohort = pd.to_numeric(frame["first_adoption_year"], errors="coerce")
    frame = frame.assign(_cohort=cohort.where(cohort > 0))  # NaN = never adopted
    means = frame.groupby(["_cohort", "year"], dropna=False)[outcome].mean().unstack("_cohort").sort_index()
    cohorts = sorted(c for c in means.columns if pd.notna(c)) + [c for c in means.columns if pd.isna(c)]
    table = pd.DataFrame({t("year", lang): [str(int(year)) for year in means.index]})
    for cohort_year in cohorts:
        name = t("never_adopted", lang) if pd.isna(cohort_year) else t("cohort_label", lang, year=int(cohort_year))
        table[name] = [format_number(value, lang, digits) for value in means[cohort_year]]
    return table


def domain_costs_data(means: pd.DataFrame, lang: str = "nl", *, digits: int = 0) -> pd.DataFrame:
    """Euros per inhabitant per year (rows) and cost domain (columns, readable names): the values of
    :func:`effectmeting.report.study_figures.domain_cost_plot` (``means`` from ``domain_costs_by_year``)."""
    check_language(lang)
    values = means.sort_index()
    table = pd.DataFrame({t("year", lang): [str(int(year)) for year in values.index]})
    for column in values.columns:
        table[cost_line_label(column, lang)] = [format_number(value, lang, digits) for value in values[column]]
    return table
