"""Readable Dutch/English labels for the identifiers that flow into a report.

Column names (``jeugdhulp_per_1000_youth``, ``cost_6_72_per_inhabitant``), designs
(``role=gives_help``, ``maturity>=3``), estimator codes (``cs``), cost lines (``youth``),
declared units (``per 1,000 population_0_17``) and tidy-frame columns (``n_units``) each get a
label in ``nl`` or ``en``.  Known names come from tables here and from the design catalogue
(:mod:`effectmeting.designs.dimensions`); a name nobody declared still gets a readable
fallback (underscores to spaces), never an error, because a user may add outcomes or cost lines.
"""
from __future__ import annotations

import re

from effectmeting.costs.lines import DOMAINS, SOCIAL_TOTAL, SOCIETAL_TOTAL
from effectmeting.designs.dimensions import BASIC_FUNCTIONS, DIMENSIONS
from effectmeting.estimate.registry import (
    ESTIMATORS as REGISTRY,  # labels only (pure data)
)
from effectmeting.report.i18n import has_label, t, taakveld_label
from effectmeting.report.number_format import check_language, format_number

# -- outcomes: what is counted (rates per 1,000 of a population) -----------------------------
#: base of a ``<base>_per_1000_<population>`` column -> (nl, en) name of what is counted
COUNTED: dict[str, tuple[str, str]] = {
    "jeugdhulp": ("jongeren met jeugdhulp", "young people with youth care (jeugdhulp)"),
    "jeugdhulp_verblijf": ("jongeren met jeugdhulp met verblijf", "young people in residential youth care"),
    "jeugdbescherming": ("jongeren met jeugdbescherming", "young people with a child-protection order"),
    "jeugdreclassering": ("jongeren met jeugdreclassering", "young people under youth probation"),
    "wmo": ("volwassenen met een Wmo-voorziening", "adults with a Wmo provision"),
    "bijstand": ("mensen in de bijstand", "people on social assistance (bijstand)"),
}
#: the same, as one person (for "cost per additional ...")
PERSON: dict[str, tuple[str, str]] = {
    "jeugdhulp": ("jongere met jeugdhulp", "young person with youth care"),
    "jeugdhulp_verblijf": ("jongere met jeugdhulp met verblijf", "young person in residential youth care"),
    "jeugdbescherming": ("jongere met jeugdbescherming", "young person with a child-protection order"),
    "jeugdreclassering": ("jongere met jeugdreclassering", "young person under youth probation"),
    "wmo": ("volwassene met een Wmo-voorziening", "adult with a Wmo provision"),
    "bijstand": ("persoon in de bijstand", "person on social assistance"),
}
#: population a rate is per: suffix or panel column -> (nl, en)
POPULATIONS: dict[str, tuple[str, str]] = {
    "youth": ("jongeren van 0-17 jaar", "residents aged 0-17"),
    "population_0_17": ("jongeren van 0-17 jaar", "residents aged 0-17"),
    "adults": ("volwassenen van 18 jaar en ouder", "adults aged 18 and over"),
    "population_18_plus": ("volwassenen van 18 jaar en ouder", "adults aged 18 and over"),
    "population_total": ("inwoners", "inhabitants"),
}
_RATE = re.compile(r"^(?P<base>[a-z0-9_]+?)_per_1000_(?P<population>[a-z0-9_]+)$")
_TAAKVELD = re.compile(r"^cost_(?P<code>\d+(?:_\d+)?)(?P<per>_per_inhabitant)?$")
_LANG_INDEX = {"nl": 0, "en": 1}

# -- estimators, cost lines, design categories -----------------------------------------------
#: estimator code -> (nl, en) label, from the one registry
ESTIMATORS: dict[str, tuple[str, str]] = {name: (info.label_nl, info.label_en) for name, info in REGISTRY.items()}
COST_LINES: dict[str, tuple[str, str]] = {
    "youth": ("Jeugd", "Youth"),
    "adult_support": ("Ondersteuning volwassenen", "Adult support"),
    "access": ("Toegang", "Access"),
    "basic": ("Basisvoorzieningen", "Basic services"),
    "income_participation": ("Inkomen en participatie", "Income and participation"),
    SOCIAL_TOTAL: ("Totaal sociaal domein", "Social domain total"),
    SOCIETAL_TOTAL: ("Totale maatschappelijke kosten", "Total societal cost"),
}
#: dimension -> (nl, en) name; category -> (nl, en) short description (the catalogue's are English)
DIMENSION_NAMES: dict[str, tuple[str, str]] = {
    "role": ("rol van het wijkteam", "role of the team"),
    "target_group": ("doelgroep", "target group"),
    "expertise": ("deskundigheid", "expertise"),
    "organisation": ("organisatievorm", "organisational form"),
    "integrated_budget": ("ontschot budget", "integrated budget"),
    "purchasing": ("inkoopmodel", "purchasing model"),
    "scope": ("reikwijdte", "scope"),
    "maturity": ("volwassenheid basisfuncties", "maturity of the basic functions"),
}
CATEGORIES: dict[tuple[str, str], tuple[str, str]] = {
    ("role", "triage_only"): ("wijkteam doet alleen toegang (loket)", "team only gives access (triage)"),
    ("role", "gives_help"): ("wijkteam geeft zelf hulp", "team gives help itself"),
    ("target_group", "youth"): ("jeugdteam", "youth team"),
    ("target_group", "adults"): ("team voor volwassenen", "adult team"),
    ("target_group", "all_ages"): ("één team voor alle leeftijden", "one team for all ages"),
    ("expertise", "generalists"): ("alleen generalisten", "generalists only"),
    ("expertise", "generalists_with_specialists"): ("generalisten met specialisten in het team",
                                                    "generalists with specialists in the team"),
    ("organisation", "in_house"): ("gemeente voert zelf uit", "run by the municipality"),
    ("organisation", "foundation"): ("zelfstandige stichting", "independent foundation"),
    ("organisation", "contracted"): ("uitbesteed aan aanbieders", "contracted out"),
    ("integrated_budget", "no"): ("gescheiden budgetten", "separate budgets"),
    ("integrated_budget", "yes"): ("één ontschot budget", "one integrated budget"),
    ("purchasing", "open_house"): ("open house-inkoop", "open-house purchasing"),
    ("purchasing", "few_providers"): ("inkoop bij weinig aanbieders", "few providers"),
    ("scope", "separate_counters"): ("aparte loketten per domein", "separate counters per domain"),
    ("scope", "all_domains"): ("alle domeinen in één team", "all domains in one team"),
}
#: Bacon comparison types (as :class:`~effectmeting.estimate.staggered.bacon.BaconResults` names them)
COMPARISONS: dict[str, tuple[str, str]] = {
    "Treated vs Untreated": ("Invoerders vergeleken met nooit-invoerders",
                             "Adopters compared with never-adopters"),
    "Earlier vs Later Treated": ("Vroege invoerders, latere invoerders als controle",
                                 "Earlier adopters, later adopters as controls"),
    "Later vs Earlier Treated": ("Late invoerders, al ingevoerde gemeenten als controle",
                                 "Later adopters, already-treated as controls"),
}
PRETREND_TESTS: dict[str, tuple[str, str]] = {
    "wald_event_study": ("Wald-toets op de coëfficiënten vóór invoering",
                         "Wald test on the pre-adoption coefficients"),
    "wald_pre_attgt": ("Wald-toets op de ATT(g,t) vóór invoering", "Wald test on the pre-adoption ATT(g,t)"),
    "wald_chi2": ("Wald-toets vóór invoering", "Wald pre-adoption test"),
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[_LANG_INDEX[check_language(lang)]]


def humanise(name: object) -> str:
    """Fallback label: ``"some_column_name"`` -> ``"Some column name"`` (never fails)."""
    text = re.sub(r"[_\s]+", " ", str(name)).strip()
    return text[:1].upper() + text[1:] if text else str(name)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def outcome_label(column: str, lang: str = "nl", *, capital: bool = True) -> str:
    """Readable name of an outcome or cost column.

    ``jeugdhulp_per_1000_youth`` -> ``"Jongeren met jeugdhulp"``; ``cost_6_72_per_inhabitant``
    -> ``"Lasten taakveld 6.72 Maatwerkdienstverlening 18-"``; anything else -> :func:`humanise`.
    """
    name = str(column)
    match = _RATE.match(name)
    fallback = humanise(name) if capital else humanise(name).lower()
    if match and match["base"] in COUNTED:
        text = _pick(COUNTED[match["base"]], lang)
    elif _TAAKVELD.match(name):
        label = taakveld_label(name, lang)
        if label == name:  # not an Iv3 taakveld we know
            return fallback
        text = t("spending_taakveld", lang, taakveld=label)
    elif name in COST_LINES or name.startswith("added_cost_"):
        text = cost_line_label(name, lang)
    else:
        return fallback
    return _capitalise(text) if capital else text


def person_label(column: str, lang: str = "nl") -> str:
    """One person counted by a rate outcome (``"jongere met jeugdhulp"``); fallback: the outcome's
    label preceded by "unit of"."""
    match = _RATE.match(str(column))
    if match and match["base"] in PERSON:
        return _pick(PERSON[match["base"]], lang)
    return t("unit_of", lang, outcome=outcome_label(column, lang, capital=False))


def unit_label(unit: object, lang: str = "nl") -> str:
    """Translate a declared unit (``panel.variables['unit']`` or a cost result's unit).

    ``per 1,000 population_0_17`` -> ``"per 1.000 jongeren (0-17 jaar)"``; ``euros per inhabitant``
    -> ``"euro per inwoner"``; ``constant euros of 2023 per inhabitant per year`` -> ``"euro per
    inwoner per jaar, prijzen 2023"``; unknown units have underscores replaced by spaces.
    """
    text = "" if unit is None else str(unit).strip()
    if not text or text == "nan":
        return ""
    rate = re.fullmatch(r"per 1,?000 (\w+)", text)
    if rate:
        population = rate[1]
        name = _pick(POPULATIONS[population], lang) if population in POPULATIONS else humanise(population).lower()
        return t("unit_per_1000", lang, population=name)
    money = re.fullmatch(r"(constant )?euros?(?: of (\d{4}))?( per inhabitant)?( per year)?", text)
    if money:
        key = "unit_euro" + ("_per_inhabitant" if money[3] else "") + ("_per_year" if money[4] else "")
        label = t(key, lang)
        return t("unit_prices", lang, unit=label, year=money[2]) if money[2] else label
    simple = {"persons": "unit_persons", "share": "unit_share", "index": "unit_index", "z-score": "unit_z",
              "class": "unit_class"}
    if text in simple:
        return t(simple[text], lang)
    return text.replace("_", " ")


def estimator_label(code: str, lang: str = "nl") -> str:
    """``cs`` -> ``"Callaway-Sant'Anna"``; unknown codes are humanised."""
    return _pick(ESTIMATORS[code], lang) if code in ESTIMATORS else humanise(code)


def cost_line_label(line: str, lang: str = "nl") -> str:
    """``youth`` -> ``"Jeugd (taakvelden 6.72, 6.82)"``; a taakveld code or column gets its Iv3 name;
    ``added_cost_zvw`` -> ``"Zvw (andere betaler)"``; unknown names are humanised."""
    name = str(line)
    if name in COST_LINES:
        label = _pick(COST_LINES[name], lang)
        if name in DOMAINS:
            codes = DOMAINS[name]
            label += " (" + (t("taakvelden", lang, codes=", ".join(codes)) if len(codes) > 1
                             else t("taakveld_single", lang, code=codes[0])) + ")"
        return label
    if name.startswith("added_cost_"):
        return t("added_line", lang, name=humanise(name[len("added_cost_"):].removesuffix("_per_inhabitant")))
    translated = taakveld_label(name, lang)
    return translated if translated != name else humanise(name)


def design_label(design: str, lang: str = "nl") -> str:
    """``role=gives_help`` -> ``"Wijkteam geeft zelf hulp"``; ``maturity>=3`` -> ``"Volwassenheid
    basisfuncties 3 of hoger"``.  Unknown dimensions or categories fall back to the catalogue's
    (English) wording or to a humanised ``dimension: value``."""
    match = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|=)\s*(.+?)\s*", str(design))
    if not match:
        return humanise(design)
    dimension, operator, value = match.groups()
    if dimension in DIMENSION_NAMES:
        dimension_text = _pick(DIMENSION_NAMES[dimension], lang)
    elif dimension.startswith("maturity_"):
        code = dimension[len("maturity_"):]
        # the basic functions' official names are Dutch; English reports use the code
        function = BASIC_FUNCTIONS[code][0] if code in BASIC_FUNCTIONS and lang == "nl" else humanise(code).lower()
        dimension_text = t("maturity_of", lang, function=f"'{function}'")
    else:
        dimension_text = humanise(dimension).lower()
    if operator == ">=":
        try:
            threshold = format_number(float(value), lang, 1 if float(value) % 1 else 0)
        except ValueError:
            threshold = value
        return _capitalise(t("design_threshold", lang, dimension=dimension_text, threshold=threshold))
    if (dimension, value) in CATEGORIES:
        return _capitalise(_pick(CATEGORIES[(dimension, value)], lang))
    known = DIMENSIONS.get(dimension)
    if lang == "en" and known is not None and value in known.categories:
        return _capitalise(known.categories[value])
    return _capitalise(f"{dimension_text}: {humanise(value).lower()}")


def design_phrase(design: str, lang: str = "nl") -> str:
    """:func:`design_label` for use inside a sentence: ``role=gives_help`` -> ``"wijkteam geeft zelf hulp"``
    (first letter in lower case unless the second is upper case too, as in an abbreviation)."""
    text = design_label(design, lang)
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


#: tercile values of :func:`effectmeting.study.add_terciles` columns
TERCILES: dict[str, tuple[str, str]] = {"low": ("laag", "low"), "middle": ("midden", "middle"),
                                        "high": ("hoog", "high")}


#: size classes (harmonise.panel.SIZE_CLASS_LABELS) in Dutch number format; English keeps the
#: compact "10k-20k" (a list of "10,000-20,000" would be ambiguous with its own commas)
SIZE_CLASSES_NL: dict[str, str] = {"<10k": "< 10.000", "10k-20k": "10.000\u201320.000",
                                   "20k-50k": "20.000\u201350.000", "50k-100k": "50.000\u2013100.000",
                                   "100k+": "100.000 of meer"}


def subgroup_value_label(by: str, value: object, lang: str = "nl") -> str:
    """Readable value of a subgroup column: the tercile values of a ``*_tercile`` column
    (``low``/``middle``/``high`` -> ``"laag"``/``"midden"``/``"hoog"``), size classes in Dutch
    number format in Dutch (``10k-20k`` -> ``"10.000–20.000"``); anything else unchanged
    (urbanity 1-5 is explained by the column label)."""
    text = str(value).strip()
    if str(by).endswith("_tercile") and text in TERCILES:
        return _pick(TERCILES[text], lang)
    if by == "size_class" and lang == "nl" and text in SIZE_CLASSES_NL:
        return SIZE_CLASSES_NL[text]
    return text


def comparison_label(kind: str, lang: str = "nl") -> str:
    """Bacon comparison type in words; unknown types unchanged."""
    return _pick(COMPARISONS[kind], lang) if kind in COMPARISONS else str(kind)


def pretrend_test_label(code: str, lang: str = "nl") -> str:
    """Name of a pre-trend test code (``wald_event_study``); unknown codes humanised."""
    return _pick(PRETREND_TESTS[code], lang) if code in PRETREND_TESTS else humanise(code)


def column_label(column: str, lang: str = "nl") -> str:
    """Table header for a tidy-frame column: the ``column.*`` catalogue entry, else humanised."""
    key = f"column.{column}"
    if has_label(key, lang):
        return t(key, lang)
    if str(column).endswith("_tercile"):  # add_terciles(panel, column): "Stedelijkheid (tercielen)"
        base = str(column)[: -len("_tercile")]
        name = column_label(base, lang) if has_label(f"column.{base}", lang) else outcome_label(base, lang)
        return f"{name.partition(' (')[0]} ({t('terciles', lang)})"
    return humanise(column)


def label(name: str, lang: str = "nl") -> str:
    """Best label for any identifier: a design, estimator, cost line, outcome or column name."""
    text = str(name)
    if "=" in text:
        return design_label(text, lang)
    if text in ESTIMATORS:
        return estimator_label(text, lang)
    if text in COST_LINES:
        return cost_line_label(text, lang)
    if has_label(f"column.{text}", lang) or text.endswith("_tercile"):
        return column_label(text, lang)
    return outcome_label(text, lang)
