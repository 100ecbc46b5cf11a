"""The "mijn gemeente" report: one municipality against its synthetic twin (Dutch, or English).

Renders what :func:`effectmeting.study.case_study.case_study` computed -- it reads the results'
tables (``gaps()``, ``placebos()``, ``tidy_weights()``, ``glance()``) and figures (``plot()``), and
never estimates (the report may not import the estimators; the case study is passed in).  Per
outcome: the municipality against its twin with the gap over the years, the placebo
distribution, what the twin is made of, and how well the twin fits before adoption.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from effectmeting.report.html import Section, write_report
from effectmeting.report.labels import design_label, outcome_label
from effectmeting.report.style import FigureSpec
from effectmeting.report.tables import TableSpec

#: donors listed by name in the weights table; the rest are summed in one row
MAX_DONORS_SHOWN = 15

_TEXT: dict[str, dict[str, str]] = {
    "nl": {
        "title": "Mijn gemeente: {municipality} tegenover haar synthetische tweeling",
        "summary": "Samenvatting",
        "lead": ("{municipality} koos in {year} voor {design}. Om te zien wat die keuze deed, vergelijken we "
                 "{municipality} met een synthetische tweeling: een gewogen gemiddelde van gemeenten die deze keuze "
                 "nooit maakten, zo gekozen dat het vóór {year} zo goed mogelijk met {municipality} meeloopt. Het "
                 "verschil na {year} is de geschatte invloed van de keuze."),
        "finding": ("{outcome}: verschil {estimate} per jaar na {year} ({level} %-interval {low} tot {high}); "
                    "{share} van de placebo-gemeenten liet een even groot of groter verschil zien."),
        "methods": "Werkwijze",
        "method_sdid": ("Synthetische difference-in-differences (Arkhangelsky e.a., 2021): de tweeling volgt de "
                        "ontwikkeling van {municipality} vóór {year}; verschillen in niveau zijn toegestaan. De "
                        "onzekerheid komt uit placebo's: steeds één donorgemeente krijgt de rol van {municipality}."),
        "method_sc": ("Synthetische controle (Abadie, Diamond & Hainmueller, 2010): de tweeling volgt het niveau van "
                      "{municipality} in elk jaar vóór {year}. De onzekerheid komt uit placebo's: steeds één "
                      "donorgemeente krijgt de rol van {municipality}."),
        "donors": "Donorgemeenten: de {n} gemeenten die {design} in de jaren van de data nooit kozen.",
        "results": "Resultaten: {outcome}",
        "trajectory_alt": ("{outcome} in {municipality} (doorgetrokken) en haar synthetische tweeling (gestippeld) "
                           "per jaar; daaronder het verschil. De verticale lijn markeert {year}."),
        "trajectory_title": "{municipality} en haar tweeling",
        "placebo_alt": ("Verschil tussen {municipality} en haar tweeling (gekleurd) tegenover dat van de "
                        "placebo-gemeenten (grijs)."),
        "placebo_title": "Placebo's",
        "weights_caption": "Waar de tweeling uit bestaat: de {shown} donorgemeenten met het grootste gewicht",
        "others": "overige {n} gemeenten",
        "unit": "gemeente", "weight": "gewicht", "twin": "synthetische tweeling", "gap": "verschil",
        "year": "jaar", "placebo_axes": "Verschil van {municipality} (kleur) en van de placebo-gemeenten (grijs)",
        "diagnostics": "Hoe goed past de tweeling?",
        "fit": ("{outcome}: gemiddelde afwijking vóór {year} {pre} (dat is {noise} keer de gebruikelijke "
                "jaar-op-jaar-verandering bij de donors); na {year} {post}. Verhouding na/voor {ratio}; "
                "p-waarde van die verhouding onder de placebo's {p_ratio}."),
        "caveats": "Kanttekeningen",
        "caveat_text": ("Eén gemeente is één waarneming: een verschil kan ook door iets anders komen dat alleen "
                        "{municipality} vanaf {year} trof. De tweeling is alleen geloofwaardig als ze vóór {year} "
                        "goed meeloopt; bij een slechte pasvorm weigert de schatter (grens: {threshold} keer de "
                        "gebruikelijke jaarverandering)."),
        "details": "Technische details",
    },
    "en": {
        "title": "My municipality: {municipality} against its synthetic twin",
        "summary": "Summary",
        "lead": ("{municipality} chose {design} in {year}. To see what that choice did, we compare {municipality} "
                 "with a synthetic twin: a weighted average of municipalities that never made the choice, chosen "
                 "to move with {municipality} before {year}. The gap after {year} is the estimated effect."),
        "finding": ("{outcome}: gap {estimate} per year after {year} ({level} % interval {low} to {high}); "
                    "{share} of the placebo municipalities showed a gap as large or larger."),
        "methods": "Method",
        "method_sdid": ("Synthetic difference-in-differences (Arkhangelsky et al., 2021): the twin follows "
                        "{municipality}'s path before {year}, allowing a difference in level. Uncertainty comes "
                        "from placebos: each donor in turn plays {municipality}'s role."),
        "method_sc": ("Synthetic control (Abadie, Diamond & Hainmueller, 2010): the twin matches {municipality}'s "
                      "level in every year before {year}. Uncertainty comes from placebos: each donor in turn "
                      "plays {municipality}'s role."),
        "donors": "Donor municipalities: the {n} municipalities that never chose {design} in the data's years.",
        "results": "Results: {outcome}",
        "trajectory_alt": ("{outcome} in {municipality} (solid) and its synthetic twin (dashed) per year; below, "
                           "the gap. The vertical line marks {year}."),
        "trajectory_title": "{municipality} and its twin",
        "placebo_alt": "Gap between {municipality} and its twin (colour) against the placebo municipalities' (grey).",
        "placebo_title": "Placebos",
        "weights_caption": "What the twin is made of: the {shown} donor municipalities with the largest weight",
        "others": "other {n} municipalities",
        "unit": "municipality", "weight": "weight", "twin": "synthetic twin", "gap": "gap", "year": "year",
        "placebo_axes": "Gap of {municipality} (colour) and of the placebo municipalities (grey)",
        "diagnostics": "How well does the twin fit?",
        "fit": ("{outcome}: root mean squared gap before {year} {pre} ({noise} times the donors' typical "
                "year-on-year change); after {year} {post}. Ratio after/before {ratio}; p-value of that ratio among "
                "the placebos {p_ratio}."),
        "caveats": "Caveats",
        "caveat_text": ("One municipality is one observation: a gap can also come from something else that hit only "
                        "{municipality} from {year}. The twin is credible only if it fits before {year}; the "
                        "estimator refuses a poor fit (threshold: {threshold} times the typical yearly change)."),
        "details": "Technical details",
    },
}


def _number(value: float, lang: str, digits: int = 2) -> str:
    text = f"{value:,.{digits}f}"
    if lang == "nl":  # Dutch: decimal comma, dot for thousands
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text


def _labelled(figure, text: dict[str, str], outcome: str, municipality: str):
    """The estimator's two-panel figure with the report's language on its axes and legend."""
    top, bottom = figure.axes
    top.set_title(text["trajectory_title"].format(municipality=municipality))
    top.set_ylabel(outcome)
    top.legend(top.lines[:2], [municipality, text["twin"]], frameon=False)
    bottom.set_ylabel(text["gap"])
    bottom.set_xlabel(text["year"])
    return figure


def case_study_sections(study: Any, lang: str, figures_dir: Path) -> tuple[list[Section], list[Path]]:
    """The report's sections for ``study`` (a :class:`~effectmeting.study.case_study.CaseStudy`) and
    the figure files written into ``figures_dir``."""
    text = _TEXT[lang]
    m, year = study.municipality, study.adoption_year
    design = design_label(study.design, lang).lower()
    first = next(iter(study.results.values()))
    level = int(round(first.level * 100))
    bullets, results, fits, files = [], [], [], []
    for index, (outcome, result) in enumerate(study.results.items(), start=1):
        label = outcome_label(outcome, lang)
        tidy = result.tidy().iloc[0]
        facts = result.glance().iloc[0]
        share = facts["placebo_p_value"]
        bullets.append(text["finding"].format(
            outcome=label, estimate=_number(tidy["estimate"], lang), year=year, level=level,
            low=_number(tidy["conf_low"], lang), high=_number(tidy["conf_high"], lang),
            share=f"{_number(100 * share, lang, 0)} %" if pd.notna(share) else "-"))
        trajectory = FigureSpec(_labelled(result.plot(kind="both"), text, label, m), alt_text=text["trajectory_alt"].format(
            outcome=label, municipality=m, year=year), name=f"case_study_{index}_trajectory",
            title=text["trajectory_title"].format(municipality=m), lang=lang)
        placebo_figure = result.plot(kind="placebo")
        axes = placebo_figure.axes[0]
        axes.set_title(text["placebo_axes"].format(municipality=m), fontsize=9)
        axes.set_xlabel(text["year"])
        axes.set_ylabel(text["gap"])
        placebo = FigureSpec(placebo_figure, alt_text=text["placebo_alt"].format(municipality=m),
                             name=f"case_study_{index}_placebos", title=text["placebo_title"], lang=lang)
        for spec in (trajectory, placebo):
            files += spec.save(figures_dir)
        weights = result.tidy_weights(min_weight=1e-6)
        weights = weights[weights["kind"] == "unit"]
        shown, rest = weights.iloc[:MAX_DONORS_SHOWN], weights.iloc[MAX_DONORS_SHOWN:]
        names = [str(u) for u in shown["unit"]] + ([text["others"].format(n=len(rest))] if len(rest) else [])
        values = list(shown["weight"]) + ([rest["weight"].sum()] if len(rest) else [])
        table = pd.DataFrame({text["unit"]: names, text["weight"]: [f"{_number(100 * w, lang, 1)} %" for w in values]})
        gaps = result.gaps()
        weights_table = TableSpec(table, caption=text["weights_caption"].format(shown=len(shown)),
                                  name=f"case_study_{index}_weights")
        results.append(Section(
            text["results"].format(outcome=label), figures=[trajectory, placebo], tables=[weights_table],
            figure_data={trajectory.name: gaps.round(3), placebo.name: result.placebos().round(3)}))
        fits.append(text["fit"].format(
            outcome=label, year=year, pre=_number(facts["pre_rmspe"], lang),
            noise=_number(facts["pre_rmspe_in_noise"], lang), post=_number(facts["post_rmspe"], lang),
            ratio=_number(facts["rmspe_ratio"], lang),
            p_ratio=_number(facts["rmspe_ratio_p_value"], lang, 3) if pd.notna(facts["rmspe_ratio_p_value"]) else "-"))
    method = text[f"method_{study.estimator}"].format(municipality=m, year=year)
    sections = [
        Section(text["summary"], kind="summary", paragraphs=[text["lead"].format(municipality=m, year=year,
                                                                                 design=design)], bullets=bullets),
        Section(text["methods"], kind="methods", paragraphs=[
            method, text["donors"].format(n=int(first.glance()["n_donors"].iloc[0]), design=design)]),
        *results,
        Section(text["diagnostics"], kind="diagnostics", bullets=fits),
        Section(text["caveats"], kind="caveats", paragraphs=[text["caveat_text"].format(
            municipality=m, year=year, threshold=_number(first.glance()["max_pre_rmspe"].iloc[0] or float("nan"),
                                                         lang, 1))],
                details=list(study.notes), details_title=text["details"]),
    ]
    return sections, files


def write_case_study_report(path: Path, study: Any, lang: str, provenance: dict, figures_dir: Path,
                            figure_format: str = "png") -> list[Path]:
    """Write the case-study report to ``path`` (and its figures); return the files written."""
    sections, files = case_study_sections(study, lang, figures_dir)
    title = _TEXT[lang]["title"].format(municipality=study.municipality)
    return [*files, write_report(path, sections, lang=lang, title=title, provenance=provenance,
                                 figure_format=figure_format)]
