"""Label catalogues for report output: Dutch (``nl``, the default) and English (``en``).

Every user-visible word in figures, tables and the HTML report comes from here, so a
translation is one dictionary and a missing label is an error, not a silently English
word in a Dutch report.  Templates use ``str.format`` named fields (``{year}``), filled
by the caller with :func:`t`'s keyword arguments.
"""
from __future__ import annotations

from effectmeting.report.i18n_prose import REPORT_EN, REPORT_NL
from effectmeting.report.number_format import check_language

NL: dict[str, str] = {
    # figure furniture
    "source": "Bron",
    "source_default": "eigen berekeningen met effectmeting",
    "year": "Jaar",
    "effect": "Effect",
    "event_time_axis": "Jaren sinds invoering (0 = jaar van invoering)",
    "reference_period": "Referentieperiode",
    "adoption_year": "Jaar van invoering",
    "confidence_interval": "{level}%-betrouwbaarheidsinterval",
    "cohort_label": "Invoering {year}",
    "never_adopted": "Nooit ingevoerd",
    "mean_outcome": "Gemiddelde",
    "total": "Totaal",
    "euro_per_inhabitant": "euro per inwoner",
    "euro_per_inhabitant_prices": "euro per inwoner, prijzen {year}",
    "cost_line": "Kostenpost",
    "spending": "Lasten",
    # figure titles
    "title_event_study": "Effect op {outcome} per jaar sinds invoering",
    "title_cohort_trends": "{outcome} per invoeringscohort",
    "title_forest": "Geschatte effecten met betrouwbaarheidsintervallen",
    "title_cost_by_domain": "Lasten sociaal domein per taakveld",
    "title_cost_effects": "Effect op de lasten per kostenpost",
    # alt texts (screen readers; also stored in PNG/SVG metadata)
    "alt_event_study": ("Puntschattingen van het effect op {outcome} ({unit}) met {ci} per jaar sinds "
                        "invoering, van {first} tot en met {last}, voor {n} schatter(s): {names}. "
                        "Ongewogen gemiddelde van de schattingen vanaf het jaar van invoering: {post}."),
    "alt_cohort_trends": ("Lijndiagram van het gemiddelde van {outcome} ({unit}) per jaar, {first} tot "
                          "en met {last}, voor {n} groepen gemeenten naar jaar van invoering: {groups}."),
    "alt_forest": ("Puntschattingen met {ci} voor {n} uitkomsten of subgroepen ({unit}): {items}."),
    "alt_cost_by_domain": ("{kind} van de lasten per inwoner ({unit}) per kostenpost, {first} tot en met "
                           "{last}. Laatste jaar: {items}."),
    "alt_cost_effects": ("Geschat effect op de lasten ({unit}) per kostenpost met {ci}: {items}."),
    "kind_lines": "Lijndiagram",
    "kind_area": "Gestapeld vlakdiagram",
    "municipalities_short": "gem.",
    "note_interval_lines": "Horizontale lijnen: {ci}.",
    "terciles": "tercielen",
    "title_forest_subgroups_by": "Effect na invoering per subgroep: {by}; schatter {estimator}",
    "note_subgroups_missing": "Niet getoond (te weinig gemeenten of geen vergelijkingsgemeenten): {groups}.",
    # table columns
    "column.label": "Uitkomst",
    "column.term": "Term",
    "column.outcome": "Uitkomst",
    "column.subgroup": "Subgroep",
    "column.estimator": "Schatter",
    "column.event_time": "Jaren sinds invoering",
    "column.estimate": "Schatting",
    "column.std_error": "Standaardfout",
    "column.statistic": "Toetsingsgrootheid",
    "column.p_value": "p-waarde",
    "column.conf_interval": "{level}%-BI",
    "column.conf_low": "Ondergrens",
    "column.conf_high": "Bovengrens",
    "column.nobs": "Waarnemingen",
    "column.comparison_type": "Vergelijking",
    "column.treated_cohort": "Behandeld cohort",
    "column.control_cohort": "Controlecohort",
    "column.weight": "Gewicht",
    "interval_separator": "; ",
    # report structure
    "report_contents": "Inhoud",
    "section.summary": "Samenvatting",
    "section.methods": "Methoden",
    "section.results": "Resultaten",
    "section.diagnostics": "Diagnostiek",
    "section.caveats": "Kanttekeningen",
    "section.provenance": "Herkomst van de resultaten",
    "generated_by": "Gemaakt met effectmeting",
    "figure": "Figuur",
    "table": "Tabel",
    "figure_data": "Gegevens bij figuur {number}",
    "figure_data_caption": "Gegevens bij figuur {number}. {title}",
    # label registry (effectmeting.report.labels)
    "spending_taakveld": "lasten taakveld {taakveld}",
    "unit_of": "eenheid van {outcome}",
    "unit_per_1000": "per 1.000 {population}",
    "unit_euro": "euro",
    "unit_euro_per_year": "euro per jaar",
    "unit_euro_per_inhabitant": "euro per inwoner",
    "unit_euro_per_inhabitant_per_year": "euro per inwoner per jaar",
    "unit_prices": "{unit}, prijzen {year}",
    "unit_persons": "personen",
    "unit_share": "aandeel",
    "unit_index": "index",
    "unit_z": "z-score",
    "unit_class": "klasse",
    "taakvelden": "taakvelden {codes}",
    "taakveld_single": "taakveld {code}",
    "added_line": "{name} (andere betaler)",
    "maturity_of": "volwassenheid basisfunctie {function}",
    "design_threshold": "{dimension} {threshold} of hoger",
    "column.design": "Ontwerpkeuze",
    "column.n_units": "Gemeenten",
    "column.p_holm": "p (Holm)",
    "column.p_romano_wolf": "p (Romano-Wolf)",
    "column.test": "Toets",
    "column.df": "Vrijheidsgraden",
    "column.line": "Kostenpost",
    "column.cost_line": "Kostenpost",
    "column.quantity": "Grootheid",
    "column.share": "Aandeel van het gewicht",
    "column.mbar": "M̄",
    "column.bounds": "Grenzen bij de puntschattingen (zonder steekproefonzekerheid)",
    "column.aggregation": "Aggregatie",
    "column.key": "Sleutel",
    "column.size_class": "Gemeentegrootte (inwoners)",
    "column.urbanity": "Stedelijkheid (1 = zeer sterk stedelijk, 5 = niet stedelijk)",
    "column.deprivation_index": "Achterstandsindex",
    "column.deprivation_index_tercile": "Achterstandsindex (tercielen)",
    "column.population_total": "Inwoners",
    "caption_subgroups": "Effect per subgroep ({by}), schatter {estimator}; toets op gelijke effecten",
    "subgroup_test": "{outcome}: toets of de effecten tussen de subgroepen gelijk zijn: p = {p}.",
    "subgroup_missing": ("{n} subgroepschattingen ontbreken (–): in die subgroep zijn te weinig gemeenten of geen "
                         "vergelijkingsgemeenten; de reden staat per subgroep in de technische details."),
}

EN: dict[str, str] = {
    "source": "Source",
    "source_default": "own calculations with effectmeting",
    "year": "Year",
    "effect": "Effect",
    "event_time_axis": "Years since adoption (0 = year of adoption)",
    "reference_period": "Reference period",
    "adoption_year": "Year of adoption",
    "confidence_interval": "{level}% confidence interval",
    "cohort_label": "Adopted {year}",
    "never_adopted": "Never adopted",
    "mean_outcome": "Mean",
    "total": "Total",
    "euro_per_inhabitant": "euros per inhabitant",
    "euro_per_inhabitant_prices": "euros per inhabitant, {year} prices",
    "cost_line": "Cost line",
    "spending": "Spending",
    "title_event_study": "Effect on {outcome} by years since adoption",
    "title_cohort_trends": "{outcome} by adoption cohort",
    "title_forest": "Estimated effects with confidence intervals",
    "title_cost_by_domain": "Social-domain spending by taakveld",
    "title_cost_effects": "Effect on spending by cost line",
    "alt_event_study": ("Point estimates of the effect on {outcome} ({unit}) with {ci} by years since "
                        "adoption, from {first} to {last}, for {n} estimator(s): {names}. "
                        "Unweighted mean of the estimates from the adoption year on: {post}."),
    "alt_cohort_trends": ("Line chart of mean {outcome} ({unit}) by year, {first} to {last}, for {n} "
                          "groups of municipalities by year of adoption: {groups}."),
    "alt_forest": ("Point estimates with {ci} for {n} outcomes or subgroups ({unit}): {items}."),
    "alt_cost_by_domain": ("{kind} of spending per inhabitant ({unit}) by cost line, {first} to {last}. "
                           "Last year: {items}."),
    "alt_cost_effects": ("Estimated effect on spending ({unit}) by cost line with {ci}: {items}."),
    "kind_lines": "Line chart",
    "kind_area": "Stacked area chart",
    "municipalities_short": "mun.",
    "note_interval_lines": "Horizontal lines: {ci}.",
    "terciles": "terciles",
    "title_forest_subgroups_by": "Effect after adoption by subgroup: {by}; estimator {estimator}",
    "note_subgroups_missing": "Not shown (too few municipalities or no comparison municipalities): {groups}.",
    "column.label": "Outcome",
    "column.term": "Term",
    "column.outcome": "Outcome",
    "column.subgroup": "Subgroup",
    "column.estimator": "Estimator",
    "column.event_time": "Years since adoption",
    "column.estimate": "Estimate",
    "column.std_error": "Std. error",
    "column.statistic": "Statistic",
    "column.p_value": "p-value",
    "column.conf_interval": "{level}% CI",
    "column.conf_low": "Lower bound",
    "column.conf_high": "Upper bound",
    "column.nobs": "Observations",
    "column.comparison_type": "Comparison",
    "column.treated_cohort": "Treated cohort",
    "column.control_cohort": "Control cohort",
    "column.weight": "Weight",
    "interval_separator": ", ",
    "report_contents": "Contents",
    "section.summary": "Summary",
    "section.methods": "Methods",
    "section.results": "Results",
    "section.diagnostics": "Diagnostics",
    "section.caveats": "Caveats",
    "section.provenance": "Provenance",
    "generated_by": "Made with effectmeting",
    "figure": "Figure",
    "table": "Table",
    "figure_data": "Data for figure {number}",
    "figure_data_caption": "Data for figure {number}. {title}",
    "spending_taakveld": "spending on taakveld {taakveld}",
    "unit_of": "unit of {outcome}",
    "unit_per_1000": "per 1,000 {population}",
    "unit_euro": "euros",
    "unit_euro_per_year": "euros per year",
    "unit_euro_per_inhabitant": "euros per inhabitant",
    "unit_euro_per_inhabitant_per_year": "euros per inhabitant per year",
    "unit_prices": "{unit}, {year} prices",
    "unit_persons": "persons",
    "unit_share": "share",
    "unit_index": "index",
    "unit_z": "z-score",
    "unit_class": "class",
    "taakvelden": "taakvelden {codes}",
    "taakveld_single": "taakveld {code}",
    "added_line": "{name} (other payer)",
    "maturity_of": "maturity of basic function {function}",
    "design_threshold": "{dimension} {threshold} or higher",
    "column.design": "Design choice",
    "column.n_units": "Municipalities",
    "column.p_holm": "p (Holm)",
    "column.p_romano_wolf": "p (Romano-Wolf)",
    "column.test": "Test",
    "column.df": "Degrees of freedom",
    "column.line": "Cost line",
    "column.cost_line": "Cost line",
    "column.quantity": "Quantity",
    "column.share": "Share of the weight",
    "column.mbar": "M̄",
    "column.bounds": "Bounds at the point estimates (sampling error not included)",
    "column.aggregation": "Aggregation",
    "column.key": "Key",
    "column.size_class": "Municipality size (inhabitants)",
    "column.urbanity": "Urbanity (1 = very strongly urban, 5 = not urban)",
    "column.deprivation_index": "Deprivation index",
    "column.deprivation_index_tercile": "Deprivation index (terciles)",
    "column.population_total": "Inhabitants",
    "caption_subgroups": "Effect by subgroup ({by}), estimator {estimator}; test of equal effects",
    "subgroup_test": "{outcome}: test that the effects are equal across subgroups: p = {p}.",
    "subgroup_missing": ("{n} subgroup estimates are missing (–): the subgroup has too few municipalities or no "
                         "comparison municipalities; the technical details give the reason per subgroup."),
}

# Iv3 taakvelden of programme 6 (Sociaal domein).  Dutch names are the official BBV names;
# English ones are descriptive translations.
TAAKVELDEN_NL: dict[str, str] = {
    "6.1": "Samenkracht en burgerparticipatie",
    "6.2": "Toegang en eerstelijnsvoorzieningen",
    "6.3": "Inkomensregelingen",
    "6.4": "Begeleide participatie",
    "6.5": "Arbeidsparticipatie",
    "6.6": "Maatwerkvoorzieningen (Wmo)",
    "6.71": "Maatwerkdienstverlening 18+",
    "6.72": "Maatwerkdienstverlening 18-",
    "6.81": "Geëscaleerde zorg 18+",
    "6.82": "Geëscaleerde zorg 18-",
}
TAAKVELDEN_EN: dict[str, str] = {
    "6.1": "Community strength and citizen participation",
    "6.2": "Access and first-line services",
    "6.3": "Income schemes",
    "6.4": "Supported participation",
    "6.5": "Labour participation",
    "6.6": "Tailored provisions (Wmo)",
    "6.71": "Tailored services 18+",
    "6.72": "Tailored services under 18",
    "6.81": "Escalated care 18+",
    "6.82": "Escalated care under 18",
}
for _code in TAAKVELDEN_NL:
    NL[f"taakveld.{_code}"] = TAAKVELDEN_NL[_code]
    EN[f"taakveld.{_code}"] = TAAKVELDEN_EN[_code]

# report prose: long sentences, in their own catalogue module
NL.update(REPORT_NL)
EN.update(REPORT_EN)

CATALOGUES: dict[str, dict[str, str]] = {"nl": NL, "en": EN}


def has_label(key: str, lang: str = "nl") -> bool:
    """Whether ``key`` is in the ``lang`` catalogue."""
    return key in CATALOGUES[check_language(lang)]


def t(key: str, lang: str = "nl", **fields: object) -> str:
    """The label ``key`` in ``lang``, with ``{name}`` fields filled from ``fields``.

    Raises ``KeyError`` naming the key (and the language) when the catalogue lacks it, and
    ``KeyError`` naming the field when a template needs a field that was not given.
    """
    catalogue = CATALOGUES[check_language(lang)]
    if key not in catalogue:
        raise KeyError(f"no {lang!r} label for key {key!r}; add it to effectmeting.report.i18n")
    text = catalogue[key]
    if not fields:
        return text
    try:
        return text.format(**fields)
    except KeyError as missing:
        raise KeyError(f"label {key!r} ({lang}) needs field {missing.args[0]!r}") from None


def taakveld_label(column: str, lang: str = "nl") -> str:
    """Readable name of a taakveld column: ``cost_6_72_per_inhabitant``, ``cost_6_72`` or ``6.72``
    -> ``"6.72 Maatwerkdienstverlening 18-"``; anything else is returned unchanged."""
    code = str(column)
    if code.startswith("cost_"):
        code = code[len("cost_"):]
    if code.endswith("_per_inhabitant"):
        code = code[: -len("_per_inhabitant")]
    code = code.replace("_", ".")
    key = f"taakveld.{code}"
    return f"{code} {t(key, lang)}" if has_label(key, lang) else str(column)
