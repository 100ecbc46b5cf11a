"""Tables, figures and report.html of an analysis run (used by :func:`effectmeting.analysis.run_analysis`).

Everything is drawn from the studies' tidy frames with the report building blocks
(:mod:`effectmeting.report`); the report opens with a plain-language summary (Dutch by default),
then methods, results, diagnostics, caveats and provenance.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from effectmeting.report import Section, estimates_table, forest_plot, write_report, write_table
from effectmeting.report.figures import cost_effect_summary_plot
from effectmeting.report.number_format import format_number

TEXT = {
    "nl": {
        "summary": "Samenvatting", "methods": "Methoden", "results": "Resultaten: {design}",
        "diagnostics": "Diagnostiek", "caveats": "Kanttekeningen", "costs": "Maatschappelijke kosten",
        "effect_line": "{design} -> {outcome}: geschat effect {estimate} {unit} (95%-interval {low} tot {high}; "
                       "{estimator}).",
        "intro": "Dit rapport schat wat er verandert in een gemeente nadat het wijkteam een ontwerpkeuze "
                 "invoert, vergeleken met gemeenten die dat (nog) niet deden. Een positief effect betekent "
                 "meer gebruik of meer kosten.",
        "methods_text": "Gemeente x jaar panel op de gemeentegrenzen van {year}, bedragen in constante euro's "
                        "van {base}. Schatters: {estimators}. Standaardfouten geclusterd per gemeente; "
                        "p-waarden over uitkomsten gecorrigeerd ({multiplicity}). Seed {seed}.",
        "caveat_fixed": "Het ontwerp werd niet willekeurig toegewezen: de schattingen rusten op parallelle "
                        "trends (zonder invoering waren gemeenten gemiddeld gelijk opgelopen) en geen "
                        "anticipatie.",
    },
    "en": {
        "summary": "Summary", "methods": "Methods", "results": "Results: {design}",
        "diagnostics": "Diagnostics", "caveats": "Caveats", "costs": "Societal cost",
        "effect_line": "{design} -> {outcome}: estimated effect {estimate} {unit} (95% interval {low} to {high}; "
                       "{estimator}).",
        "intro": "This report estimates what changes in a municipality after its local social team adopts a "
                 "design choice, compared with municipalities that did not (yet). A positive effect means "
                 "more use or more cost.",
        "methods_text": "Municipality x year panel on the boundaries of {year}, money in constant euros of {base}. "
                        "Estimators: {estimators}. Standard errors clustered by municipality; p-values "
                        "adjusted across outcomes ({multiplicity}). Seed {seed}.",
        "caveat_fixed": "The design was not randomly assigned: estimates rest on parallel trends (without "
                        "adoption municipalities would have moved alike on average) and no anticipation.",
    },
}


def _unit(panel, column: str) -> str:
    variables = panel.variables.set_index("name")["unit"] if len(panel.variables) else pd.Series(dtype=str)
    return str(variables.get(column, ""))


def _preferred(frame: pd.DataFrame) -> pd.DataFrame:
    """The overall row per outcome of the headline estimator (cs if run, else the first)."""
    overall = frame[frame["aggregation"] == "overall"]
    rows = []
    for _, part in overall.groupby("outcome", sort=False):
        chosen = part[part["estimator"] == "cs"]
        rows.append((chosen if len(chosen) else part).iloc[0])
    return pd.DataFrame(rows)


def write_outputs(out: Path, config, panel, studies: dict, estimates: pd.DataFrame, costs: dict | None,
                  notes: list[str], timings: dict) -> list[Path]:
    """Write tables/, figures/ and report.html; return the paths written."""
    lang, text = config.language, TEXT[config.language]
    tables_dir, figures_dir = out / "tables", out / "figures"
    files: list[Path] = []
    summary = [text["intro"]]
    sections: list[Section] = []
    diagnostics: list[pd.DataFrame] = []
    for index, (name, study) in enumerate(studies.items()):
        frame = estimates[estimates["design"] == name]
        for row in _preferred(frame).itertuples(index=False):
            summary.append(text["effect_line"].format(
                design=name, outcome=row.outcome, unit=_unit(panel, row.outcome), estimator=row.estimator,
                estimate=format_number(row.estimate, lang, 2), low=format_number(row.conf_low, lang, 2),
                high=format_number(row.conf_high, lang, 2)))
        overall = study.overall().drop(columns=["design", "aggregation", "key"])
        overall = overall[overall["outcome"].isin(frame["outcome"])]
        display = estimates_table(overall, lang)
        stem = f"overall_{index + 1}"
        files += list(write_table(display, tables_dir, stem, caption=name).values())
        figures = []
        for outcome in study.outcomes:
            spec = study.figure_spec(outcome, unit=_unit(panel, outcome), lang=lang)
            spec.name = f"event_study_{index + 1}_{outcome}"
            figures.append(spec)
        plotted = overall.dropna(subset=["estimate"]).assign(label=lambda f: f["outcome"] + " (" + f["estimator"] + ")")
        if len(plotted):
            figures.append(forest_plot(plotted, unit="", lang=lang, label_col="label", group_col="estimator",
                                       name=f"forest_{index + 1}", title=name))
        for spec in figures:
            files += spec.save(figures_dir)
        sections.append(Section(text["results"].format(design=name), paragraphs=[], figures=figures,
                                tables=[display], kind="results"))
        for outcome, info in study.diagnostics.items():
            if "pretrend" in info and len(info["pretrend"]):
                diagnostics.append(info["pretrend"].assign(design=name))
    if costs is not None:
        effect = costs["effects"]
        overall = effect[effect["aggregation"] == "overall"].assign(label=lambda f: f["line"])
        display = estimates_table(overall.drop(columns=["label", "aggregation", "key", "design"]), lang)
        files += list(write_table(display, tables_dir, "cost_effects", caption=costs["result"].unit).values())
        figures = [cost_effect_summary_plot(overall, unit=costs["result"].unit, lang=lang, label_col="label",
                                            total="total_social_domain" if (overall["line"] == "total_social_domain")
                                            .any() else None, name="cost_effects")]
        files += figures[0].save(figures_dir)
        paragraphs = [r.message for r in costs["ratios"]]
        summary += paragraphs
        tables = [display]
        if len(costs["per_outcome"]):
            ratio = estimates_table(costs["per_outcome"].drop(columns=["design"]), lang)
            files += list(write_table(ratio, tables_dir, "cost_per_outcome").values())
            tables.append(ratio)
        sections.append(Section(text["costs"], paragraphs=paragraphs, figures=figures, tables=tables))
    estimators = sorted({e for s in studies.values() for e in s.estimators})
    sections.insert(0, Section(text["summary"], paragraphs=summary, kind="summary"))
    sections.append(Section(text["methods"], kind="methods", paragraphs=[text["methods_text"].format(
        year=config.reference_year, base=config.price_base_year, estimators=", ".join(estimators),
        multiplicity=config.multiplicity, seed=config.seed)] + ([config.description] if config.description else [])))
    if diagnostics:
        table = pd.concat(diagnostics, ignore_index=True)
        table = table.drop(columns=[c for c in ("note",) if c in table.columns])
        # pre-trend tests have no estimate column: numbers formatted in the report language cell by cell
        shown = table.apply(lambda col: col.map(lambda v: format_number(v, lang, 3))
                            if pd.api.types.is_float_dtype(col) else col.astype(str))
        files += list(write_table(shown, tables_dir, "pretrends").values())
        sections.append(Section(text["diagnostics"], kind="diagnostics", tables=[shown]))
    sections.append(Section(text["caveats"], kind="caveats", paragraphs=[text["caveat_fixed"], *notes]))
    provenance = {"analysis": str(config.path), "seed": config.seed,
                  "sources": "; ".join(f"{s['name']} sha256 {s['sha256'][:12]}" for s in panel.sources),
                  "reference_year": config.reference_year, "price_base_year": config.price_base_year}
    files.append(write_report(out / "report.html", sections, lang=lang, title=config.title, provenance=provenance,
                              figure_format=config.figure_format))
    return files
