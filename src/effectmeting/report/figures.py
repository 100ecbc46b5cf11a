"""Report figures, drawn from tidy DataFrames (never from estimator internals).

Each function returns a :class:`~effectmeting.report.style.FigureSpec` with title, axis
labels with units, a source line and alt text, in Dutch (``lang="nl"``, default) or English.
Estimates are plotted with their confidence intervals as given in ``conf_low``/``conf_high``;
no function recomputes inference.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from effectmeting.errors import InputError
from effectmeting.report.i18n import t, taakveld_label
from effectmeting.report.number_format import format_number
from effectmeting.report.style import (NEUTRAL, SERIES_COLORS, FigureSpec, NumberFormatter, apply_style,
                                       axis_label, finish_figure, legend_below, new_figure, series_style,
                                       set_year_axis, wrap_row_label)

ESTIMATE_COLUMNS = ("estimate", "conf_low", "conf_high")


def _require(frame: pd.DataFrame, columns: tuple[str, ...] | list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{what}: column(s) {missing} missing; columns present: {list(frame.columns)}")


def _ci_text(level: float, lang: str) -> str:
    return t("confidence_interval", lang, level=format_number(level * 100, lang, 0))


def _interval_note(level: float, lang: str) -> str:
    """Reading aid under a forest-type figure: what the horizontal lines are."""
    return t("note_interval_lines", lang, ci=_ci_text(level, lang))


def _interval_errors(frame: pd.DataFrame) -> np.ndarray:
    """Error-bar lengths below and above the estimate (``errorbar`` wants distances)."""
    estimate = frame["estimate"].to_numpy(float)
    return np.vstack([estimate - frame["conf_low"].to_numpy(float),
                      frame["conf_high"].to_numpy(float) - estimate])


def event_study_plot(frames: Mapping[str, pd.DataFrame], *, outcome_label: str, unit: str,
                     lang: str = "nl", title: str | None = None, source: str | None = None,
                     reference_period: int | None = -1, level: float = 0.95,
                     name: str = "event_study", alt_text: str | None = None) -> FigureSpec:
    """Compare event-study estimates of several estimators in one figure.

    ``frames`` maps an estimator's display name to its tidy frame with columns ``event_time``,
    ``estimate``, ``conf_low``, ``conf_high`` (as ``EventStudyResults.tidy()`` returns).
    Estimators are drawn side by side (small horizontal offsets) with CI bars; a zero line, a
    dotted vertical line at -0.5 (adoption) and, if no estimator reports it, the normalised
    ``reference_period`` as an open marker at zero.  ``unit`` is the outcome's unit
    (e.g. ``"per 1.000 jongeren"``); ``level`` only labels the intervals.
    """
    if not frames:
        raise InputError("event_study_plot: no estimates given (frames is empty)")
    for estimator, frame in frames.items():
        _require(frame, ("event_time", *ESTIMATE_COLUMNS), f"event_study_plot, estimator {estimator!r}")
    title = title or t("title_event_study", lang, outcome=outcome_label)
    width = 0.5  # total horizontal spread of one event time's points
    count = len(frames)
    offsets = np.linspace(-width / 2, width / 2, count) if count > 1 else np.zeros(1)
    with apply_style():
        figure, axes = new_figure(12.0)  # room for the legend below the plot
        axes.axhline(0.0, color="black", linewidth=0.8, zorder=1)
        axes.axvline(-0.5, color=NEUTRAL, linewidth=0.9, linestyle=":", zorder=1)
        observed_times: set[int] = set()
        # the reference period is drawn when an estimator is normalised there (reports no point),
        # even if another estimator (e.g. Callaway-Sant'Anna's year-on-year pre-periods) reports one
        normalised = reference_period is not None and any(
            reference_period not in set(frame["event_time"].astype(int)) for frame in frames.values())
        post_means = []
        for index, (estimator, frame) in enumerate(frames.items()):
            frame = frame.sort_values("event_time", kind="mergesort")
            times = frame["event_time"].to_numpy(float)
            observed_times.update(int(v) for v in times)
            style = series_style(index)
            axes.errorbar(times + offsets[index], frame["estimate"].to_numpy(float),
                          yerr=_interval_errors(frame), fmt=style["marker"], color=style["color"],
                          elinewidth=1.1, markersize=4.5, label=estimator, zorder=3)
            post = frame.loc[frame["event_time"] >= 0, "estimate"]
            post_means.append(f"{estimator} {format_number(post.mean(), lang, 2)}")
        if normalised and reference_period is not None:  # normalised implies a reference period
            axes.plot([reference_period], [0.0], "o", mfc="white", mec="black", markersize=5,
                      label=t("reference_period", lang), zorder=3)
            observed_times.add(int(reference_period))
        if len(observed_times) <= 16:  # every event time labelled while that stays legible
            axes.set_xticks(sorted(observed_times))
        else:
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.xaxis.set_major_formatter(NumberFormatter(lang, 0))
        axes.yaxis.set_major_formatter(NumberFormatter(lang))
        handles, texts = axes.get_legend_handles_labels()
        # estimators first, the reference-period marker last
        order = sorted(range(len(texts)), key=lambda i: texts[i] == t("reference_period", lang))
        # below the plot: inside ("best") it can cover an interval bar, which it does not avoid
        legend_below(axes, [handles[i] for i in order], [texts[i] for i in order], ncols=min(3, len(texts)),
                     title=_ci_text(level, lang))
        times_all = sorted(observed_times)
        alt = alt_text or t("alt_event_study", lang, outcome=outcome_label, unit=unit,
                            ci=_ci_text(level, lang), first=times_all[0], last=times_all[-1],
                            n=count, names=", ".join(frames), post="; ".join(post_means))
        return finish_figure(figure, axes, title=title, xlabel=t("event_time_axis", lang),
                             ylabel=axis_label(t("effect", lang), unit), source=source, lang=lang,
                             name=name, alt_text=alt)


def cohort_trends_plot(panel_data: pd.DataFrame, *, outcome: str, cohort_col: str,
                       outcome_label: str, unit: str, year_col: str = "year",
                       unit_col: str = "municipality", lang: str = "nl", percent: bool = False,
                       title: str | None = None, source: str | None = None,
                       name: str = "cohort_trends", alt_text: str | None = None) -> FigureSpec:
    """Raw (unweighted) mean of ``outcome`` per year for each adoption cohort.

    ``cohort_col`` holds the first adoption year; ``0`` or missing means never adopted.
    Each cohort's adoption year is marked with a filled marker on its line.  Rows with a
    missing outcome do not enter the means (the alt text gives the municipalities per cohort).
    ``percent=True`` formats the y axis as a percentage of a 0-1 share.
    """
    _require(panel_data, (outcome, cohort_col, year_col, unit_col), "cohort_trends_plot")
    frame = panel_data[[unit_col, year_col, cohort_col, outcome]].copy()
    cohort = pd.to_numeric(frame[cohort_col], errors="coerce")
    # refuse rather than silently treat an unreadable cohort as "never adopted" or drop a year
    for column, parsed, fix in ((cohort_col, cohort, "a year, or 0/empty for never adopted"),
                                (year_col, pd.to_numeric(frame[year_col], errors="coerce"), "a year")):
        bad = parsed.isna() & (frame[column].notna() if column == cohort_col else True)
        if bad.any():
            row = bad.to_numpy().nonzero()[0][0]
            raise InputError(f"cohort_trends_plot: column {column!r}, row {frame.index[row]} has "
                             f"{frame[column].iloc[row]!r} ({int(bad.sum())} such rows); use {fix}")
    frame["_cohort"] = cohort.where(cohort > 0)  # NaN = never adopted
    means = (frame.groupby(["_cohort", year_col], dropna=False)[outcome].mean()
             .unstack("_cohort").sort_index())
    sizes = frame.groupby("_cohort", dropna=False)[unit_col].nunique()
    # adopting cohorts in order of adoption, never-adopters last (the comparison group)
    cohorts = sorted(c for c in means.columns if pd.notna(c)) + [c for c in means.columns if pd.isna(c)]
    if title is None:
        title = t("title_cohort_trends", lang, outcome=outcome_label)
        title = title[:1].upper() + title[1:]  # the template starts with the outcome's name
    group_texts = []
    with apply_style():
        figure, axes = new_figure(12.0)
        for index, cohort_year in enumerate(cohorts):
            never = pd.isna(cohort_year)
            label = t("never_adopted", lang) if never else t("cohort_label", lang, year=int(cohort_year))
            # black is the never-adopters' colour: no adopting cohort may get it
            style = series_style(index, reserve_black=True)
            color = "black" if never else style["color"]
            series = means[cohort_year]
            axes.plot(means.index, series.to_numpy(float), color=color,
                      linestyle="--" if never else style["linestyle"], label=label)
            if not never and cohort_year in series.index:
                axes.plot([cohort_year], [series.loc[cohort_year]], marker=style["marker"],
                          color=color, linestyle="none")
            group_texts.append(f"{label} ({sizes.get(cohort_year, 0)} {t('municipalities_short', lang)})")
        if any(pd.notna(c) for c in cohorts):  # explain the adoption-year markers
            axes.plot([], [], marker="o", color=NEUTRAL, linestyle="none", label=t("adoption_year", lang))
        years = means.index.to_numpy()
        set_year_axis(axes)
        axes.yaxis.set_major_formatter(NumberFormatter(lang, percent=percent))
        # below the plot: with many cohorts a legend inside covers the lines
        legend_below(axes, ncols=min(4, len(cohorts) + 1))
        alt = alt_text or t("alt_cohort_trends", lang, outcome=outcome_label, unit=unit,
                            first=int(years.min()), last=int(years.max()), n=len(cohorts),
                            groups="; ".join(group_texts))
        return finish_figure(figure, axes, title=title, xlabel=t("year", lang),
                             # the title names the outcome; a long name here would not fit the axis
                             ylabel=axis_label(t("mean_outcome", lang), unit),
                             source=source, lang=lang, name=name, alt_text=alt)


def _interval_rows(axes, frame: pd.DataFrame, positions: np.ndarray, colors: list[str]) -> None:
    for color in dict.fromkeys(colors):
        mask = np.asarray(colors) == color
        axes.errorbar(frame["estimate"].to_numpy(float)[mask], positions[mask],
                      xerr=_interval_errors(frame.loc[mask]), fmt="o", color=color,
                      elinewidth=1.2, markersize=4.5, zorder=3)


def _items_text(frame: pd.DataFrame, labels: list[str], lang: str) -> str:
    digits = 2
    parts = [f"{label} {format_number(est, lang, digits)} [{format_number(low, lang, digits)}"
             f"{t('interval_separator', lang)}{format_number(high, lang, digits)}]"
             for label, est, low, high in zip(labels, frame["estimate"], frame["conf_low"], frame["conf_high"])]
    return "; ".join(parts)


def forest_plot(tidy: pd.DataFrame, *, unit: str, lang: str = "nl", label_col: str = "label",
                group_col: str | None = None, xlabel: str | None = None, ylabel: str | None = None,
                title: str | None = None,
                source: str | None = None, level: float = 0.95, name: str = "forest",
                alt_text: str | None = None) -> FigureSpec:
    """Horizontal point estimates with CIs, one row per line of ``tidy`` (top to bottom in
    the frame's order), e.g. one outcome or subgroup per row.

    ``tidy`` needs ``label_col``, ``estimate``, ``conf_low``, ``conf_high``; ``group_col``
    (optional) colours rows by group (e.g. estimator or subgroup) with a legend; ``ylabel``
    names what the rows are (default "Uitkomst"/"Outcome").
    """
    columns = [label_col, *ESTIMATE_COLUMNS] + ([group_col] if group_col else [])
    _require(tidy, columns, "forest_plot")
    if tidy.empty:
        raise InputError("forest_plot: the estimates table has no rows")
    frame = tidy.reset_index(drop=True)
    labels = frame[label_col].astype(str).tolist()
    positions = np.arange(len(frame), 0, -1, dtype=float)
    if group_col:
        groups = list(dict.fromkeys(frame[group_col].astype(str)))
        color_of = {g: SERIES_COLORS[i % len(SERIES_COLORS)] for i, g in enumerate(groups)}
        colors = [color_of[g] for g in frame[group_col].astype(str)]
    else:
        colors = [SERIES_COLORS[0]] * len(frame)
    title = title or t("title_forest", lang)
    height = 3.8 + 0.75 * len(frame) + (0.6 * len(set(frame[group_col])) if group_col else 0.0)
    with apply_style():
        figure, axes = new_figure(height)
        axes.axvline(0.0, color="black", linewidth=0.8, zorder=1)
        _interval_rows(axes, frame, positions, colors)
        axes.set_ylim(0.5, len(frame) + 0.5)
        if group_col:
            for group, color in color_of.items():
                axes.plot([], [], "o", color=color, label=group)
            # below the plot: group names (outcomes with units) are long and would cover points
            legend_below(axes, ncols=1)
        axes.set_yticks(positions, [wrap_row_label(label) for label in labels])
        axes.grid(axis="x")
        axes.grid(axis="y", visible=False)
        axes.xaxis.set_major_formatter(NumberFormatter(lang))
        alt = alt_text or t("alt_forest", lang, ci=_ci_text(level, lang), n=len(frame), unit=unit,
                            items=_items_text(frame, labels, lang))
        return finish_figure(figure, axes, title=title,
                             xlabel=axis_label(xlabel or t("effect", lang), unit),
                             ylabel=ylabel or t("column.label", lang),
                             source=source, lang=lang, name=name, alt_text=alt, note=_interval_note(level, lang))


def faceted_forest_plot(tidy: pd.DataFrame, *, panel_col: str, unit_col: str, label_col: str, lang: str = "nl",
                        title: str, ylabel: str, source: str | None = None, name: str = "forest",
                        alt_text: str, level: float = 0.95, note: str = "") -> FigureSpec:
    """One forest panel per value of ``panel_col`` (e.g. per outcome), stacked, each with its own
    x-axis in its own unit (``unit_col``): estimates in different units never share an axis.

    Rows within a panel are ``label_col`` (e.g. estimators, coloured consistently across panels,
    top to bottom in the frame's order); ``estimate``, ``conf_low``, ``conf_high`` as given.
    """
    columns = [panel_col, unit_col, label_col, *ESTIMATE_COLUMNS]
    _require(tidy, columns, "faceted_forest_plot")
    if tidy.empty:
        raise InputError("faceted_forest_plot: the estimates table has no rows")
    frame = tidy.reset_index(drop=True)
    panels = list(dict.fromkeys(frame[panel_col].astype(str)))
    sizes = [int((frame[panel_col].astype(str) == p).sum()) for p in panels]
    color_of = {label: SERIES_COLORS[i % len(SERIES_COLORS)]
                for i, label in enumerate(dict.fromkeys(frame[label_col].astype(str)))}
    height = 2.4 + sum(1.7 + 0.7 * size for size in sizes)
    with apply_style():
        figure, first = new_figure(height)
        first.remove()
        grid = figure.subplots(len(panels), 1, squeeze=False, gridspec_kw={"height_ratios": [s + 1.7 for s in sizes]})
        axes_list = list(grid[:, 0])
        for axes, panel in zip(axes_list, panels):
            part = frame[frame[panel_col].astype(str) == panel].reset_index(drop=True)
            labels = part[label_col].astype(str).tolist()
            positions = np.arange(len(part), 0, -1, dtype=float)
            axes.axvline(0.0, color="black", linewidth=0.8, zorder=1)
            _interval_rows(axes, part, positions, [color_of[label] for label in labels])
            axes.set_ylim(0.4, len(part) + 0.6)
            axes.set_yticks(positions, labels)
            axes.grid(axis="x")
            axes.grid(axis="y", visible=False)
            axes.xaxis.set_major_formatter(NumberFormatter(lang))
            axes.set_title(panel, loc="left", fontsize="medium", fontweight="bold")
            axes.set_xlabel(axis_label(t("effect", lang), str(part[unit_col].iloc[0]) or None))
        last = axes_list[-1]
        note = _interval_note(level, lang) + (f" {note}" if note else "")
        # one y label for the stack: repeated on every (short) panel it would not fit beside it
        return finish_figure(figure, last, title=title, xlabel=last.get_xlabel(), ylabel=ylabel, source=source,
                             lang=lang, name=name, alt_text=alt_text, note=note, figure_ylabel=True)


def cost_by_domain_plot(frame: pd.DataFrame, *, lang: str = "nl", kind: str = "lines",
                        price_base_year: int | None = None, title: str | None = None,
                        source: str | None = None, name: str = "cost_by_domain",
                        alt_text: str | None = None) -> FigureSpec:
    """Euros per inhabitant by year (index) and domain (columns), as lines or a stacked area.

    Columns named like taakvelden (``cost_6_72_per_inhabitant``, ``6.72``) get their
    official names.  ``kind="area"`` stacks the domains and is refused when a value is
    negative (a stack of signed amounts misleads); missing values are refused there too.
    """
    if kind not in ("lines", "area"):
        raise InputError(f"cost_by_domain_plot: kind {kind!r} unknown; use 'lines' or 'area'")
    if frame.empty:
        raise InputError("cost_by_domain_plot: the cost table has no rows")
    values = frame.sort_index()
    for column in values.columns:
        parsed = pd.to_numeric(values[column], errors="coerce")
        unreadable = parsed.isna() & values[column].notna()
        if unreadable.any():
            year = unreadable[unreadable].index[0]
            raise InputError(f"cost_by_domain_plot: column {column!r}, year {year} has "
                             f"{values.loc[year, column]!r}, not a number of euros")
    values = values.apply(pd.to_numeric, errors="coerce").astype(float)
    if kind == "area":
        bad = values.isna() | (values < 0)
        if bad.to_numpy().any():
            year, column = bad.stack()[bad.stack()].index[0]
            raise InputError(f"cost_by_domain_plot: kind='area' needs non-negative, non-missing euros; "
                             f"year {year}, column {column!r} has {values.loc[year, column]!r}. "
                             f"Use kind='lines'.")
    labels = [taakveld_label(c, lang) for c in values.columns]
    unit = (t("euro_per_inhabitant_prices", lang, year=price_base_year) if price_base_year
            else t("euro_per_inhabitant", lang))
    title = title or t("title_cost_by_domain", lang)
    with apply_style():
        figure, axes = new_figure(13.0)
        years = values.index.to_numpy(float)
        if kind == "area":
            # the first column is stacked on top, so the legend (read top to bottom) lists the
            # layers in the order they appear in the plot
            colors = [series_style(i)["color"] for i in range(values.shape[1])]
            layers = axes.stackplot(years, values.to_numpy().T[::-1], labels=labels[::-1], colors=colors[::-1],
                                    alpha=0.9, linewidth=0.3, edgecolor="white")
            handles = layers[::-1]
        else:
            for index, (column, label) in enumerate(zip(values.columns, labels)):
                style = series_style(index)
                axes.plot(years, values[column].to_numpy(), color=style["color"],
                          linestyle=style["linestyle"], marker=style["marker"], markersize=3.5, label=label)
        set_year_axis(axes)
        axes.yaxis.set_major_formatter(NumberFormatter(lang, euro=True))
        # below the plot: taakveld names are long and would squeeze the axes from the side
        # long names in one column: two columns of them would squeeze the axes to a strip
        two = len(labels) > 3 and max(len(label) for label in labels) <= 30
        if kind == "area":
            legend_below(axes, list(handles), labels, ncols=2 if two else 1)
        else:
            legend_below(axes, ncols=2 if two else 1)
        last = values.iloc[-1]
        items = "; ".join(f"{label} {format_number(v, lang, 0)}" for label, v in zip(labels, last))
        alt = alt_text or t("alt_cost_by_domain", lang, kind=t(f"kind_{kind}", lang), unit=unit,
                            first=int(years.min()), last=int(years.max()), items=items)
        return finish_figure(figure, axes, title=title, xlabel=t("year", lang),
                             ylabel=axis_label(t("spending", lang), unit),
                             source=source, lang=lang, name=name, alt_text=alt)


def cost_effect_summary_plot(tidy: pd.DataFrame, *, unit: str, lang: str = "nl",
                             label_col: str = "label", total: str | None = None,
                             title: str | None = None, source: str | None = None,
                             level: float = 0.95, name: str = "cost_effects",
                             alt_text: str | None = None, total_label: str | None = None) -> FigureSpec:
    """Effect on each cost line and on the total, with CIs, as horizontal intervals.

    ``tidy`` has ``label_col``, ``estimate``, ``conf_low``, ``conf_high``; taakveld labels are
    translated.  The row whose label equals ``total`` is drawn last, in black, below a rule.
    The total's interval is the one given (from a joint model), not a sum of the lines' bounds.
    ``total_label`` names the total row (default "Totaal"/"Total").
    """
    _require(tidy, [label_col, *ESTIMATE_COLUMNS], "cost_effect_summary_plot")
    if tidy.empty:
        raise InputError("cost_effect_summary_plot: the estimates table has no rows")
    frame = tidy.reset_index(drop=True)
    if total is not None:
        is_total = frame[label_col].astype(str) == total
        if not is_total.any():
            raise InputError(f"cost_effect_summary_plot: total row {total!r} not found in column "
                             f"{label_col!r}; labels: {frame[label_col].tolist()}")
        frame = pd.concat([frame[~is_total], frame[is_total]], ignore_index=True)
        is_total = frame[label_col].astype(str) == total
    else:
        is_total = pd.Series(False, index=frame.index)
    labels = [(total_label or t("total", lang)) if flag else taakveld_label(str(v), lang)
              for v, flag in zip(frame[label_col], is_total)]
    positions = np.arange(len(frame), 0, -1, dtype=float)
    colors = ["black" if flag else SERIES_COLORS[0] for flag in is_total]
    title = title or t("title_cost_effects", lang)
    with apply_style():
        # about 1 cm per row plus room for title, axis label and source line: a fixed minimum
        # height left a wide empty band between two rows
        figure, axes = new_figure(3.8 + 0.9 * len(frame))
        axes.axvline(0.0, color="black", linewidth=0.8, zorder=1)
        _interval_rows(axes, frame, positions, colors)
        axes.set_ylim(0.5, len(frame) + 0.5)
        if is_total.any():
            axes.axhline(positions[is_total.to_numpy()].max() + 0.5, color=NEUTRAL, linewidth=0.6)
        axes.set_yticks(positions, [wrap_row_label(label) for label in labels])
        for tick, flag in zip(axes.get_yticklabels(), is_total):
            tick.set_fontweight("bold" if flag else "normal")
        axes.grid(axis="x")
        axes.grid(axis="y", visible=False)
        # whole or round amounts (no 2,5 steps): euro tick labels are wide and must not touch
        axes.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 5, 10]))
        axes.xaxis.set_major_formatter(NumberFormatter(lang, euro=True))
        alt = alt_text or t("alt_cost_effects", lang, unit=unit, ci=_ci_text(level, lang),
                            items=_items_text(frame, labels, lang))
        return finish_figure(figure, axes, title=title, xlabel=axis_label(t("effect", lang), unit),
                             ylabel=t("cost_line", lang), source=source, lang=lang, name=name,
                             alt_text=alt, note=_interval_note(level, lang))
