"""Tables, figures and report.html of an analysis run (used by :func:`effectmeting.analysis.run.run_analysis`).

Everything is drawn from the studies' tidy frames and the cost results' tidy frames with the
report building blocks (:mod:`effectmeting.report`).  The report (Dutch by default) opens with a
plain-language summary (what was compared, what was found, how sure we are), then methods,
results, diagnostics (pre-trends, Bacon decomposition, sensitivity), caveats and provenance.
Every identifier is shown through :mod:`effectmeting.report.labels` and every sentence is
filled from numbers in the report language; the studies' own (English) notes are kept verbatim
in a collapsed "technical details" block.  The report never changes a number.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from effectmeting.report import Section, estimates_table, write_report, write_table
from effectmeting.report.diagnostics import bacon_summary, pretrend_table, sensitivity, sensitivity_results
from effectmeting.report.figure_data import cohort_means_data, domain_costs_data, study_event_study_data
from effectmeting.report.figures import cost_effect_summary_plot
from effectmeting.report.i18n import t
from effectmeting.report.labels import (cost_line_label, design_label, design_phrase, estimator_label, label,
                                        outcome_label, person_label, subgroup_value_label, unit_label)
from effectmeting.report.number_format import format_number, format_p_value
from effectmeting.report.study_figures import (domain_cost_plot, domain_costs_by_year, study_cohort_trends_plot,
                                               study_event_study_plot, study_forest_plot, study_subgroup_forest_plot,
                                               subgroup_estimates)
from effectmeting.report.summary import (PRETREND_ALPHA, compared_sentence, cost_effect_sentences,
                                         cost_per_outcome_sentence, design_summary, headline_estimator)
from effectmeting.report.tables import TableSpec

MULTIPLICITY = {"holm": "Holm", "romano_wolf": "Romano-Wolf", "none": "-"}
#: digits per cost-per-outcome quantity (the per-inhabitant effect is a tiny number of persons)
QUANTITY_DIGITS = {"cost_effect": 2, "outcome_effect": 2, "outcome_effect_per_inhabitant": 5, "ratio": 0}


def _units(panel) -> dict[str, str]:
    """Declared unit per panel column (``panel.variables``)."""
    if not len(panel.variables):
        return {}
    return dict(zip(panel.variables["name"].astype(str), panel.variables["unit"].fillna("").astype(str)))


def _overall(name: str, study, estimates: pd.DataFrame) -> pd.DataFrame:
    """Overall rows of ``estimates.csv`` (suppression applied) with the adjusted p-values joined."""
    frame = estimates[(estimates["design"] == name) & (estimates["aggregation"] == "overall")]
    adjusted = study.adjusted[["estimator", "outcome", "p_holm", "p_romano_wolf"]]
    return frame.merge(adjusted, on=["estimator", "outcome"], how="left").reset_index(drop=True)


def _estimates_display(overall: pd.DataFrame, units: dict[str, str], lang: str) -> pd.DataFrame:
    """Outcome (with unit), estimator, estimate, 95 % interval, p-values, municipalities."""
    frame = pd.DataFrame({
        "outcome": [outcome_label(o, lang) + (f", {unit_label(units[o], lang)}" if units.get(o) else "")
                    for o in overall["outcome"]],
        "estimator": overall["estimator"].map(lambda e: estimator_label(e, lang)),
        **{c: overall[c] for c in ("estimate", "conf_low", "conf_high", "p_value", "p_holm", "p_romano_wolf",
                                   "n_units")}})
    # Romano-Wolf is shown only where it was computed (otherwise a column of dashes)
    drop = tuple(c for c in ("p_romano_wolf", "p_holm") if frame[c].isna().all())
    return estimates_table(frame, lang, digits=2, drop=drop)


def _subgroups_display(study, units: dict[str, str], lang: str) -> tuple[pd.DataFrame | None, list[str]]:
    """Headline estimator's subgroup estimates (``–`` where a subgroup cannot be estimated) and one
    sentence per outcome with the test that the subgroup effects are equal."""
    table, estimator = subgroup_estimates(study)
    if table.empty:
        return None, []
    by = study.settings["by"]
    frame = pd.DataFrame({
        "outcome": [outcome_label(o, lang) + (f", {unit_label(units[o], lang)}" if units.get(o) else "")
                    for o in table["outcome"]],
        by: [subgroup_value_label(by, value, lang) for value in table["value"]],
        **{c: table[c] for c in ("estimate", "conf_low", "conf_high", "n_units")}})
    tests = study.subgroups["tests"]
    tests = tests[(tests["estimator"] == estimator) & tests["p_value"].notna()]
    lines = [t("subgroup_test", lang, outcome=outcome_label(row.outcome, lang), p=format_p_value(row.p_value, lang))
             for row in tests.itertuples(index=False)]
    missing = int(table["estimate"].isna().sum())
    if missing:
        lines.append(t("subgroup_missing", lang, n=missing))
    return estimates_table(frame, lang, digits=2), lines


def _design_sections(index: int, name: str, study, estimates, panel, units, lang, source, figures_dir, tables_dir):
    """Summary bullets, the results section and the diagnostics sub-sections of one design."""
    files: list[Path] = []
    overall = _overall(name, study, estimates)
    pretrends = pd.concat([d["pretrend"] for d in study.diagnostics.values() if "pretrend" in d and len(d["pretrend"])]
                          or [pd.DataFrame(columns=["outcome", "estimator", "test", "statistic", "df", "p_value"])],
                          ignore_index=True)
    bounds, _, sensitivity_estimator = sensitivity_results(study)
    at_one = bounds[bounds["mbar"] == 1.0]
    robust_at_one = dict(zip(at_one["outcome"], (at_one["conf_low"] > 0) | (at_one["conf_high"] < 0)))
    bullets = design_summary(name, overall, pretrends, units, lang, robust_at_one, sensitivity_estimator,
                             coinciding=getattr(study, "coinciding", None))
    years = (int(panel.data["year"].min()), int(panel.data["year"].max()))
    compared = compared_sentence(name, study.timing.units, study.settings.get("control", "never"), years, lang)

    figures, figure_data = [], {}  # figure_data: the numbers behind each figure, by figure name
    for outcome in study.outcomes:
        figures.append(study_event_study_plot(study, outcome, unit=units.get(outcome, ""), lang=lang, source=source,
                                              name=f"event_study_{index}_{outcome}"))
        figure_data[figures[-1].name] = study_event_study_data(study, outcome, lang)
        figures.append(study_cohort_trends_plot(study, panel.data, outcome, unit=units.get(outcome, ""), lang=lang,
                                                source=source, name=f"cohort_trends_{index}_{outcome}"))
        figure_data[figures[-1].name] = cohort_means_data(study, panel.data, outcome, lang)
    if overall["estimate"].notna().any():
        figures.append(study_forest_plot(overall, units, lang=lang, source=source, name=f"forest_{index}"))
    subgroup_figure = study_subgroup_forest_plot(study, units, lang=lang, source=source, name=f"subgroups_{index}")
    if subgroup_figure is not None:
        figures.append(subgroup_figure)
    for spec in figures:
        files += spec.save(figures_dir)
    display = _estimates_display(overall, units, lang)
    caption = t("caption_estimates", lang, design=design_label(name, lang))
    files += list(write_table(display, tables_dir, f"overall_{index}", caption=caption).values())
    tables = [TableSpec(display, caption=caption)]
    figure_data[f"forest_{index}"] = display
    subgroup_table, subgroup_lines = _subgroups_display(study, units, lang)
    if subgroup_table is not None:
        by, estimator = label(study.settings["by"], lang), subgroup_estimates(study)[1]
        assert estimator is not None  # a subgroup table implies estimates, so a headline estimator
        caption = t("caption_subgroups", lang, by=by, estimator=estimator_label(estimator, lang))
        files += list(write_table(subgroup_table, tables_dir, f"subgroups_{index}", caption=caption).values())
        tables.append(TableSpec(subgroup_table, caption=caption))
        figure_data[f"subgroups_{index}"] = subgroup_table
    results = Section(t("section.results_design", lang, design=design_label(name, lang)),
                      paragraphs=[t("results_intro", lang)], figures=figures, tables=tables,
                      bullets=subgroup_lines, kind="results", figure_data=figure_data)

    subsections = []
    if len(pretrends):
        table = pretrend_table(pretrends, lang)
        caption = t("caption_pretrends", lang, design=design_label(name, lang))
        files += list(write_table(table, tables_dir, f"pretrends_{index}", caption=caption).values())
        subsections.append(Section(t("section.pretrends", lang), paragraphs=[t("pretrend_intro", lang)],
                                   tables=[TableSpec(table, caption=caption)]))
    bacon, bacon_lines = bacon_summary(study.diagnostics, lang)
    if len(bacon):
        files += list(write_table(bacon, tables_dir, f"bacon_{index}", caption=t("caption_bacon", lang)).values())
        subsections.append(Section(t("section.bacon", lang), paragraphs=[t("bacon_intro", lang)], bullets=bacon_lines,
                                   tables=[TableSpec(bacon, caption=t("caption_bacon", lang))]))
    table, lines, used = sensitivity(study, lang)
    if used is not None or lines:
        intro = [t("sensitivity_intro", lang, estimator=estimator_label(used, lang))] if used else []
        tables = [TableSpec(table, caption=t("caption_sensitivity", lang))] if len(table) else []
        if tables:
            files += list(write_table(table, tables_dir, f"sensitivity_{index}",
                                      caption=t("caption_sensitivity", lang)).values())
        subsections.append(Section(t("section.sensitivity", lang), paragraphs=intro, bullets=lines, tables=tables))
    return {"compared": compared, "bullets": bullets, "results": results, "diagnostics": subsections,
            "overall": overall, "pretrends": pretrends, "files": files}


def _cost_section(costs: dict, panel, config, lang, source, figures_dir, tables_dir):
    """Cost effects per line, cost per outcome and spending by domain: section, summary bullets, files."""
    files: list[Path] = []
    unit = costs["result"].unit
    effects = costs["effects"]
    overall = effects[effects["aggregation"] == "overall"].reset_index(drop=True)
    bullets = cost_effect_sentences(overall, unit, lang)
    shown = overall.assign(label=overall["line"].map(lambda line: cost_line_label(line, lang)))
    total = "total_social_domain" if (overall["line"] == "total_social_domain").any() else None
    if total:
        shown.loc[overall["line"] == total, "label"] = total
    figures = [cost_effect_summary_plot(shown, unit=unit_label(unit, lang), lang=lang, label_col="label", total=total,
                                        source=source, name="cost_effects",
                                        total_label=cost_line_label(total, lang) if total else None)]
    from effectmeting.costs.lines import cost_lines

    lines = cost_lines(panel, note=False)
    population = panel.data.set_index(["municipality", "year"])["population_total"]
    population = population.reindex(pd.MultiIndex.from_frame(lines[["municipality", "year"]])).reset_index(drop=True)
    means = domain_costs_by_year(lines.reset_index(drop=True), population)
    figures.append(domain_cost_plot(means, lang=lang, price_base_year=config.price_base_year, source=source,
                                    name="cost_by_domain"))
    for spec in figures:
        files += spec.save(figures_dir)

    estimator = str(effects["estimator"].iloc[0]) if "estimator" in effects.columns else "cs"
    control = str(effects["control"].iloc[0]) if "control" in effects.columns else "never"
    caption = t("caption_cost_effects", lang, unit=unit_label(unit, lang), estimator=estimator_label(estimator, lang),
                comparison=t("comparison_never" if control == "never" else "comparison_notyet", lang))
    if estimator == "twfe":
        bullets.insert(0, t("cost_twfe_warning", lang))
    table = estimates_table(pd.DataFrame({"line": overall["line"].map(lambda line: cost_line_label(line, lang)),
                                          **{c: overall[c] for c in ("estimate", "conf_low", "conf_high")}}),
                            lang, digits=2)
    files += list(write_table(table, tables_dir, "cost_effects", caption=caption).values())
    tables = [TableSpec(table, caption=caption)]
    figure_data = {"cost_effects": table, "cost_by_domain": domain_costs_data(means, lang)}
    per_outcome = costs["per_outcome"]
    for (line, outcome), part in (per_outcome.groupby(["cost_line", "outcome"], sort=False) if len(per_outcome)
                                  else []):
        bullets.append(cost_per_outcome_sentence(part, cost_line=line, outcome=outcome,
                                                 base_year=config.price_base_year, lang=lang))
        tables.append(_ratio_table(part, line, outcome, unit, panel, lang))
    if len(tables) > 1:
        frame = pd.concat([spec.frame for spec in tables[1:]], ignore_index=True)
        files += list(write_table(frame, tables_dir, "cost_per_outcome", caption=tables[1].caption).values())
    section = Section(t("section.costs", lang), paragraphs=[], bullets=list(bullets), figures=figures,
                      tables=tables, kind="results", figure_data=figure_data)
    return section, bullets, files


def _ratio_table(part: pd.DataFrame, line: str, outcome: str, unit: str, panel, lang: str) -> TableSpec:
    """Cost-per-outcome quantities with their unit, estimate and 95 % interval."""
    units = _units(panel)
    person = person_label(outcome, lang)
    names = {"cost_effect": t("quantity.cost_effect", lang, unit=unit_label(unit, lang)),
             "outcome_effect": t("quantity.outcome_effect", lang, outcome=outcome_label(outcome, lang, capital=False),
                                 unit=unit_label(units.get(outcome, ""), lang)),
             "outcome_effect_per_inhabitant": t("quantity.outcome_effect_per_inhabitant", lang),
             "ratio": t("quantity.ratio", lang, person=person)}
    rows = []
    separator = t("interval_separator", lang)
    for row in part.itertuples(index=False):
        digits = QUANTITY_DIGITS.get(row.quantity, 3)
        rows.append({"quantity": names.get(row.quantity, row.quantity),
                     "estimate": format_number(row.estimate, lang, digits),
                     "conf_interval": f"[{format_number(row.conf_low, lang, digits)}{separator}"
                                      f"{format_number(row.conf_high, lang, digits)}]"})
    frame = pd.DataFrame(rows)
    frame.columns = [t("column.quantity", lang), t("column.estimate", lang),
                     t("column.conf_interval", lang, level=format_number(95, lang, 0))]
    caption = t("caption_cost_per_outcome", lang, line=cost_line_label(line, lang), person=person,
                n=int(part["n_units"].iloc[0]))
    return TableSpec(frame, caption=caption)


def _co_adoption_caveats(study, lang: str) -> list[str]:
    """One caveat per design that the study's design was adopted together with (``study.co_adoption``,
    flagged pairs: see :func:`effectmeting.co_adoption`)."""
    table = getattr(study, "co_adoption", None)
    if table is None or not len(table):
        return []
    return [t("caveat_co_adoption", lang, design=design_phrase(row.design_a, lang),
              other=design_phrase(row.design_b, lang), n=int(row.adopted_b_within), total=int(row.adopters_a),
              k=int(row.window_years))
            for row in table[table["flagged"]].itertuples(index=False)]


def _coinciding_caveats(study, lang: str) -> list[str]:
    """One caveat per pair of estimators whose overall estimates coincide (``study.coinciding``)."""
    table = getattr(study, "coinciding", None)
    if table is None or not len(table):
        return []
    return [t("caveat_coinciding", lang, estimator=estimator_label(estimator, lang),
              same_as=estimator_label(same_as, lang),
              outcomes=", ".join(outcome_label(o, lang, capital=False) for o in part["outcome"]))
            for (estimator, same_as), part in table.groupby(["estimator", "same_as"], sort=False)]


def _caveats(studies: dict, results: dict, estimates: pd.DataFrame, config, lang: str) -> list[str]:
    """Caveats in the report language, from structured values (counts, p-values)."""
    caveats = [t("caveat_design", lang)]
    for name, study in studies.items():
        units = study.timing.units
        switched = int((units["status"] == "switched_back").sum())
        if switched:
            caveats.append(t("caveat_switched", lang, n=switched))
        merged = getattr(study, "merged", None)
        if merged is not None and len(merged):
            caveats.append(t("caveat_merged", lang, n=len(merged), overruled=int((merged["overruled_rows"] > 0).sum())))
        compared = int(units["status"].isin(("adopter", "never_treated")).sum())
        overall = results[name]["overall"]
        headline = headline_estimator(list(dict.fromkeys(overall["estimator"])))
        for row in overall[overall["estimator"] == headline].itertuples(index=False):
            if row.n_units < compared:
                caveats.append(t("caveat_missing", lang, outcome=outcome_label(row.outcome, lang),
                                 n=compared - int(row.n_units), total=compared))
        caveats += _co_adoption_caveats(study, lang) + _coinciding_caveats(study, lang)
        pretrends = results[name]["pretrends"]
        doubtful = pretrends[(pretrends["estimator"] == headline) & (pretrends["p_value"] < PRETREND_ALPHA)]
        for row in doubtful.itertuples(index=False):
            caveats.append(t("caveat_pretrend", lang, outcome=outcome_label(row.outcome, lang),
                             p=format_number(row.p_value, lang, 3)))
    suppressed = int((estimates["n_units"] < config.min_cell_size).sum())
    if suppressed:
        caveats.append(t("caveat_disclosure", lang, n=suppressed, min=config.min_cell_size))
    return caveats


def write_outputs(out: Path, config, panel, studies: dict, estimates: pd.DataFrame, costs: dict | None,
                  notes: list[str], timings: dict) -> list[Path]:
    """Write tables/, figures/ and report.html; return the paths written.

    ``notes`` (the studies' and run's notes, English) go verbatim into the collapsed technical
    details of the caveats section; everything else is rendered in ``config.language``.
    """
    lang = config.language
    tables_dir, figures_dir = out / "tables", out / "figures"
    units = _units(panel)
    source = t("source_demo", lang) if config.demo else None
    files: list[Path] = []
    summary_paragraphs, summary_bullets, results_sections, diagnostics = [], [], [], []
    per_design = {}
    for index, (name, study) in enumerate(studies.items(), start=1):
        part = _design_sections(index, name, study, estimates, panel, units, lang, source, figures_dir, tables_dir)
        per_design[name] = part
        files += part["files"]
        summary_paragraphs.append(part["compared"])
        summary_bullets += part["bullets"]
        results_sections.append(part["results"])
        title = t("section.diagnostics", lang) + (f": {design_label(name, lang)}" if len(studies) > 1 else "")
        diagnostics.append(Section(title, kind="diagnostics", subsections=part["diagnostics"]))
    estimators = list(dict.fromkeys(e for s in studies.values() for e in s.estimators))
    if estimators:
        headline = headline_estimator(estimators)
        controls = {s.settings.get("control", "never") for s in studies.values()}
        comparison = t("comparison_never" if controls == {"never"} else "comparison_notyet", lang)
        summary_paragraphs.append(t("headline", lang, comparison=comparison) if headline == "cs"
                                  else t("headline_other", lang, estimator=estimator_label(headline, lang)))
    if costs is not None:
        section, bullets, cost_files = _cost_section(costs, panel, config, lang, source, figures_dir, tables_dir)
        results_sections.append(section)
        summary_bullets += bullets
        files += cost_files
    methods = [t("methods", lang, year=config.reference_year, base=config.price_base_year,
                 estimators=", ".join(estimator_label(e, lang) for e in estimators),
                 multiplicity=MULTIPLICITY.get(config.multiplicity, config.multiplicity), seed=config.seed),
               t("methods_estimators", lang)] + ([config.description] if config.description else [])
    sections = [Section(t("section.summary", lang), paragraphs=summary_paragraphs, bullets=summary_bullets,
                        kind="summary"),
                Section(t("section.methods", lang), kind="methods", paragraphs=methods),
                *results_sections, *diagnostics,
                Section(t("section.caveats", lang), kind="caveats",
                        bullets=_caveats(studies, per_design, estimates, config, lang),
                        details=list(notes), details_title=t("technical_details", lang))]
    provenance = {"analysis": str(config.path), "seed": config.seed,
                  "sources": [f"{s['name']}: {s['sha256'][:12]}" for s in panel.sources],
                  "reference_year": config.reference_year, "price_base_year": config.price_base_year}
    files.append(write_report(out / "report.html", sections, lang=lang, title=config.title, provenance=provenance,
                              figure_format=config.figure_format))
    return files
