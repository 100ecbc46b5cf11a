"""Report figures of a design study and of a panel's cost lines, with readable labels.

These compose the generic plots of :mod:`effectmeting.report.figures` from a
:class:`~effectmeting.study.results.DesignEffectStudy` (or a panel): the study stage stays
free of report imports (data flows one way), and every identifier on a figure goes through
:mod:`effectmeting.report.labels`.
"""
from __future__ import annotations

import pandas as pd

from effectmeting.errors import InputError
from effectmeting.report.figures import (cohort_trends_plot, cost_by_domain_plot, event_study_plot,
                                         faceted_forest_plot)
from effectmeting.report.i18n import t
from effectmeting.report.labels import (cost_line_label, estimator_label, label, outcome_label,
                                        subgroup_value_label, unit_label)
from effectmeting.report.number_format import format_number
from effectmeting.report.style import FigureSpec
from effectmeting.report.summary import headline_estimator

#: cost domains drawn in the spending-by-domain figure, in this order (see costs.lines.DOMAINS)
DOMAIN_ORDER = ("youth", "adult_support", "access", "basic", "income_participation")


def study_event_study_plot(study, outcome: str, *, unit: str = "", lang: str = "nl", source: str | None = None,
                           name: str | None = None) -> FigureSpec:
    """Event-study comparison of every estimator of ``study`` for ``outcome``.

    ``unit`` is the outcome's declared unit (``panel.variables``); it is translated.  Estimators
    appear under their readable names (``cs`` -> Callaway-Sant'Anna).
    """
    frames = {estimator_label(code, lang): frame for code, frame in study.event_times(outcome).items()}
    if not frames:
        raise InputError(f"study_event_study_plot: no event-time estimates for {outcome!r} in study "
                         f"{study.design!r}; estimators: {study.estimators}")
    # lower case inside the alt-text sentence, capitalised in the title
    return event_study_plot(frames, outcome_label=outcome_label(outcome, lang, capital=False),
                            unit=unit_label(unit, lang), lang=lang,
                            title=t("title_event_study_design", lang, outcome=outcome_label(outcome, lang)),
                            source=source, name=name or f"event_study_{outcome}")


def study_cohort_trends_plot(study, data: pd.DataFrame, outcome: str, *, unit: str = "", lang: str = "nl",
                             source: str | None = None, name: str | None = None) -> FigureSpec:
    """Raw mean of ``outcome`` per year by adoption cohort of ``study``'s design.

    ``data`` is the panel's municipality-year frame.  Municipalities the study left out of the
    absorbing-treatment estimators (switched back, treated at start) are left out here too, so
    the groups are the ones compared.
    """
    units = study.timing.units
    kept = units[units["status"].isin(("adopter", "never_treated"))][["municipality", "first_adoption_year"]]
    frame = data[["municipality", "year", outcome]].merge(kept, on="municipality", how="inner",
                                                          validate="many_to_one")
    label = outcome_label(outcome, lang, capital=False)  # the plot capitalises its title itself
    return cohort_trends_plot(frame, outcome=outcome, cohort_col="first_adoption_year", outcome_label=label,
                              unit=unit_label(unit, lang), lang=lang, source=source,
                              name=name or f"cohort_trends_{outcome}")


def _forest_alt_text(frame: pd.DataFrame, label_col: str, lang: str) -> str:
    """Alt text of a faceted forest plot: every row as "outcome, label: estimate [low–high] unit"."""
    separator = t("interval_separator", lang)
    items = "; ".join(f"{row['outcome_name']}, {row[label_col]}: {format_number(row['estimate'], lang, 2)} "
                      f"[{format_number(row['conf_low'], lang, 2)}{separator}"
                      f"{format_number(row['conf_high'], lang, 2)}]"
                      + (f" {row['unit_name']}" if row["unit_name"] else "")
                      for row in frame.to_dict("records"))
    return t("alt_forest", lang, ci=t("confidence_interval", lang, level=format_number(95, lang, 0)),
             n=len(frame), unit=t("forest_axis", lang).split("(")[-1].rstrip(")"), items=items)


def study_forest_plot(overall: pd.DataFrame, units: dict[str, str], *, lang: str = "nl",
                      source: str | None = None, name: str = "forest") -> FigureSpec:
    """Overall effect per outcome and estimator: one panel per outcome with its own axis and unit
    (outcomes are counted in different units), estimators as rows, coloured alike in every panel.

    ``overall`` has ``outcome``, ``estimator``, ``estimate``, ``conf_low``, ``conf_high``.
    """
    frame = overall.dropna(subset=["estimate"]).reset_index(drop=True)
    if frame.empty:
        raise InputError("study_forest_plot: no overall estimates to draw")
    frame = frame.assign(outcome_name=frame["outcome"].map(lambda o: outcome_label(o, lang)),
                         unit_name=frame["outcome"].map(lambda o: unit_label(units.get(o, ""), lang)),
                         estimator_name=frame["estimator"].map(lambda e: estimator_label(e, lang)))
    alt = _forest_alt_text(frame, "estimator_name", lang)
    # the design is named by the section heading; in the title it would run off the figure
    return faceted_forest_plot(frame, panel_col="outcome_name", unit_col="unit_name", label_col="estimator_name",
                               lang=lang, title=t("title_forest_design", lang),
                               ylabel=t("column.estimator", lang), source=source, name=name, alt_text=alt)


def domain_costs_by_year(cost_frame: pd.DataFrame, population: pd.Series,
                         domains: tuple[str, ...] = DOMAIN_ORDER) -> pd.DataFrame:
    """Population-weighted mean euros per inhabitant per year and domain.

    ``cost_frame`` is :func:`effectmeting.costs.cost_lines` output (``municipality``, ``year`` and one
    column per domain, euros per inhabitant); ``population`` the matching ``population_total``.
    The weighted mean equals total euros / total inhabitants of the municipalities with a value;
    a missing value is left out of both sums, never read as zero.
    """
    present = [d for d in domains if d in cost_frame.columns]
    if not present:
        raise InputError(f"domain_costs_by_year: none of the domains {list(domains)} in the cost frame; "
                         f"columns: {list(cost_frame.columns)}")
    values = cost_frame[present].astype(float)
    weights = pd.DataFrame({d: population.to_numpy(float) for d in present}, index=values.index).where(values.notna())
    euros = (values * weights).groupby(cost_frame["year"]).sum(min_count=1)
    people = weights.groupby(cost_frame["year"]).sum(min_count=1)
    return euros / people


def domain_cost_plot(means: pd.DataFrame, *, lang: str = "nl", price_base_year: int | None = None,
                     source: str | None = None, name: str = "cost_by_domain") -> FigureSpec:
    """Stacked area of :func:`domain_costs_by_year` with readable domain names (lines if a value
    is negative or missing, since a stack of those misleads)."""
    shown = means.rename(columns=lambda c: cost_line_label(c, lang))
    kind = "area" if (shown.notna().all().all() and (shown >= 0).all().all()) else "lines"
    return cost_by_domain_plot(shown, lang=lang, kind=kind, price_base_year=price_base_year,
                               title=t("title_cost_by_domain_mean", lang), source=source, name=name)


def subgroup_estimates(study) -> tuple[pd.DataFrame, str | None]:
    """The headline estimator's subgroup estimates of ``study`` (all subgroups, estimable or not)
    and that estimator's code; an empty frame and None without ``by``."""
    table = study.subgroups["estimates"]
    if table.empty:
        return table, None
    estimator = headline_estimator(list(dict.fromkeys(table["estimator"])))
    return table[table["estimator"] == estimator].reset_index(drop=True), estimator


def study_subgroup_forest_plot(study, units: dict[str, str], *, lang: str = "nl", source: str | None = None,
                               name: str = "subgroups") -> FigureSpec | None:
    """Effect per subgroup of the local circumstance ``study`` was split by (``by``), per outcome,
    for the headline estimator; None when the study has no estimable subgroup estimates.

    One panel per outcome with its own axis in that outcome's unit (outcomes are counted in
    different units, so they never share an axis); rows are the subgroup values in readable form
    (tercile values translated), coloured alike in every panel.  Subgroups that could not
    be estimated are left out of the panels and named in the note under the figure (the table
    lists them with the reason).
    """
    table, estimator = subgroup_estimates(study)
    if estimator is None or table.empty or table["estimate"].isna().all():  # estimator is None iff empty
        return None
    by_column = study.settings["by"]
    by = label(by_column, lang)
    frame = table.assign(
        row=table["value"].map(lambda v: subgroup_value_label(by_column, v, lang)),
        outcome_name=table["outcome"].map(lambda o: outcome_label(o, lang)),
        unit_name=table["outcome"].map(lambda o: unit_label(units.get(o, ""), lang)))
    missing = frame[frame["estimate"].isna()]
    shown = frame.dropna(subset=["estimate"]).reset_index(drop=True)
    alt = _forest_alt_text(shown, "row", lang)
    note = ""
    if len(missing):
        per_outcome = {outcome: ", ".join(part["row"]) for outcome, part in missing.groupby("outcome_name", sort=False)}
        if len(set(per_outcome.values())) == 1 and len(per_outcome) == frame["outcome_name"].nunique():
            groups = next(iter(per_outcome.values()))  # the same subgroups for every outcome: name them once
        else:
            groups = "; ".join(f"{outcome}: {rows}" for outcome, rows in per_outcome.items())
        note = t("note_subgroups_missing", lang, groups=groups)
        alt += " " + note
    return faceted_forest_plot(shown, panel_col="outcome_name", unit_col="unit_name", label_col="row", lang=lang,
                               title=t("title_forest_subgroups_by", lang, by=by,
                                       estimator=estimator_label(estimator, lang)),
                               ylabel=by, source=source, name=name, alt_text=alt, note=note)
