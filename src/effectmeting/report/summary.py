"""Plain-language sentences for policy readers, built from numbers and the i18n templates.

Every sentence is filled from structured values (tidy frames of the studies and cost results)
with numbers formatted in the report language, so a Dutch report never contains an English
sentence or an English number.  Nothing here estimates: the numbers are the ones in
``estimates.csv`` / ``cost_per_outcome.csv``.
"""
from __future__ import annotations

import math

import pandas as pd

from effectmeting.estimate.registry import ROBUST as REGISTRY_ROBUST  # pure data
from effectmeting.report.i18n import t
from effectmeting.report.labels import (cost_line_label, design_label, estimator_label, outcome_label,
                                        person_label, unit_label)
from effectmeting.report.number_format import format_euro, format_number, format_p_value

#: the headline estimator and why (see ``headline``): heterogeneity-robust, never-/not-yet-treated controls
HEADLINE = "cs"
#: estimators that, like cs, allow for staggered adoption with heterogeneous effects
ROBUST = REGISTRY_ROBUST
#: a pre-trend p-value below this raises doubt in the summary
PRETREND_ALPHA = 0.05
DIGITS = 2


def headline_estimator(estimators: list[str]) -> str:
    """``cs`` when it was run, else the first robust estimator run, else the first one."""
    for code in (HEADLINE, *ROBUST):
        if code in estimators:
            return code
    return estimators[0]


def interval_words(low: float, high: float, lang: str, digits: int = DIGITS) -> str:
    """A 95 % interval in words relative to zero: "tussen 6,15 en 7,81 hoger" or "van 1,20 lager
    tot 3,40 hoger"."""
    if low >= 0 or high <= 0:
        direction = t("higher" if low >= 0 else "lower", lang)
        small, large = sorted((abs(low), abs(high)))
        return t("interval_same", lang, low=format_number(small, lang, digits),
                 high=format_number(large, lang, digits), direction=direction)
    return t("interval_cross", lang, low=format_number(abs(low), lang, digits),
             high=format_number(high, lang, digits))


def effect_sentence(outcome_text: str, unit: str, estimate: float, low: float, high: float, lang: str,
                    template: str = "effect_sentence") -> str:
    """"<outcome>: na invoering gemiddeld 6,98 per 1.000 jongeren hoger ... (interval in words)"."""
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (estimate, low, high)):
        return t("effect_missing", lang, outcome=outcome_text)
    fields = {"amount": format_number(abs(estimate), lang, DIGITS), "unit": unit,
              "direction": t("higher" if estimate >= 0 else "lower", lang),
              "interval": interval_words(low, high, lang)}
    key = "line" if template == "cost_effect" else "outcome"
    return t(template, lang, **{key: outcome_text}, **fields).replace("  ", " ")


def certainty_sentences(overall: pd.DataFrame, pretrend: pd.DataFrame | None, headline: str, lang: str,
                        same_as: dict[str, str] | None = None) -> list[str]:
    """How sure: does the interval exclude zero, do the other estimators agree, do pre-trends raise doubt.

    ``overall`` holds the overall rows of one outcome (``estimator``, ``estimate``, ``conf_low``,
    ``conf_high``); ``pretrend`` the pre-trend tests of that outcome (``estimator``, ``p_value``);
    ``same_as`` maps an estimator to an earlier one whose overall estimate it equals by
    construction (``DesignEffectStudy.coinciding``): such an estimator is counted once, not as
    agreement with the headline.
    """
    same_as = same_as or {}
    rows = overall.set_index("estimator")
    main = rows.loc[headline]
    low, high = float(main["conf_low"]), float(main["conf_high"])
    if math.isnan(low) or math.isnan(high):
        return []
    sentences = []
    if low > 0 or high < 0:
        sentences.append(t("certain_excludes_zero", lang, side=t("above" if low > 0 else "below", lang)))
    else:
        sentences.append(t("certain_includes_zero", lang))
    robust = [e for e in rows.index if e in ROBUST and e != headline]
    duplicates = [e for e in robust if e in same_as]
    others = rows.loc[[e for e in robust if e not in same_as], "estimate"].dropna()
    if len(others):
        names = ", ".join(estimator_label(e, lang) for e in others.index)
        values = t("interval_separator", lang).join(format_number(v, lang, DIGITS) for v in others)
        inside = ((others >= low) & (others <= high)).all()
        sentences.append(t("agree" if inside else "disagree", lang, names=names, values=values))
    for name in (e for e in duplicates if same_as[e] == headline):
        sentences.append(t("same_estimate", lang, names=estimator_label(name, lang),
                           headline=estimator_label(headline, lang)))
    if "twfe" in rows.index and headline != "twfe":
        twfe = float(rows.loc["twfe", "estimate"])
        if not math.isnan(twfe) and not low <= twfe <= high:
            sentences.append(t("twfe_differs", lang, value=format_number(twfe, lang, DIGITS)))
    if pretrend is not None and len(pretrend):
        test = pretrend[pretrend["estimator"] == headline]
        if len(test) and pd.notna(test["p_value"].iloc[0]):
            p_value = float(test["p_value"].iloc[0])
            key = "pretrend_doubt" if p_value < PRETREND_ALPHA else "pretrend_ok"
            sentences.append(t(key, lang, p=format_p_value(p_value, lang)))
    return sentences


def compared_sentence(design: str, units: pd.DataFrame, control: str, years: tuple[int, int], lang: str) -> str:
    """What was compared: adopters (number, adoption years) against never/not-yet adopters.

    ``units`` is ``TreatmentTiming.units`` (``status``, ``first_adoption_year``).
    """
    adopters = units[units["status"] == "adopter"]
    first_years = pd.to_numeric(adopters["first_adoption_year"], errors="coerce")
    controls = int((units["status"] == "never_treated").sum())
    return t("compared", lang, design=design_label(design, lang), n_adopters=len(adopters),
             first=int(first_years.min()) if len(adopters) else "-",
             last=int(first_years.max()) if len(adopters) else "-",
             n_controls=controls, control=t("control_notyet" if control == "notyet" else "control_never", lang),
             start=years[0], end=years[1])


def design_summary(design: str, overall: pd.DataFrame, pretrends: pd.DataFrame | None,
                   units: dict[str, str], lang: str, robust_at_one: dict[str, bool] | None = None,
                   sensitivity_estimator: str | None = None, coinciding: pd.DataFrame | None = None) -> list[str]:
    """One bullet per outcome: the headline effect with its interval in words, then how sure.

    ``overall``: the overall rows of the design (``outcome``, ``estimator``, ``estimate``,
    ``conf_low``, ``conf_high``), as in ``estimates.csv``; ``units``: outcome -> declared unit;
    ``robust_at_one``: outcome -> whether the Rambachan-Roth interval at M-bar = 1 excludes zero
    (outcomes without the analysis are left out and get no sentence on it), computed on the event
    study of ``sensitivity_estimator`` (named in the sentence); ``coinciding``: the study's
    estimators that equal an earlier one by construction (``outcome, estimator, same_as``).
    """
    bullets = []
    headline = headline_estimator(list(dict.fromkeys(overall["estimator"])))
    for outcome, part in overall.groupby("outcome", sort=False):
        rows = part.set_index("estimator")
        if headline not in rows.index:
            continue
        main = rows.loc[headline]
        sentence = effect_sentence(outcome_label(outcome, lang), unit_label(units.get(outcome, ""), lang),
                                   float(main["estimate"]), float(main["conf_low"]), float(main["conf_high"]), lang)
        test = pretrends[pretrends["outcome"] == outcome] if pretrends is not None and len(pretrends) else None
        extra = []
        if robust_at_one and outcome in robust_at_one:
            extra.append(t("sensitivity_summary_robust" if robust_at_one[outcome] else "sensitivity_summary_fragile",
                           lang, estimator=estimator_label(sensitivity_estimator or "sa", lang)))
        same = coinciding[coinciding["outcome"] == outcome] if coinciding is not None and len(coinciding) else None
        same_as = dict(zip(same["estimator"], same["same_as"])) if same is not None else {}
        bullets.append(" ".join([sentence, *certainty_sentences(part, test, headline, lang, same_as), *extra]))
    return bullets


def cost_effect_sentences(effects_overall: pd.DataFrame, unit: str, lang: str) -> list[str]:
    """One sentence per cost line (``line``, ``estimate``, ``conf_low``, ``conf_high``)."""
    return [effect_sentence(cost_line_label(row.line, lang), unit_label(unit, lang).split(",")[0], row.estimate,
                            row.conf_low, row.conf_high, lang, template="cost_effect")
            for row in effects_overall.itertuples(index=False)]


def cost_per_outcome_sentence(table: pd.DataFrame, *, cost_line: str, outcome: str, base_year: int,
                              lang: str) -> str:
    """The cost-per-outcome result in words, from its tidy frame (``quantity``: ``cost_effect``,
    ``outcome_effect``, ``outcome_effect_per_inhabitant``, ``ratio``; ``estimate``, ``conf_low``,
    ``conf_high``).  The ratio is undefined (NaN) when the outcome interval contains zero."""
    rows = table.set_index("quantity")
    person = person_label(outcome, lang)
    persons = outcome_label(outcome, lang, capital=False)
    ratio = rows.loc["ratio"] if "ratio" in rows.index else None
    if ratio is None or pd.isna(ratio["estimate"]):
        return t("ratio_undefined", lang, person=person, persons=persons, outcome=persons)
    cost = float(rows.loc["cost_effect", "estimate"])
    more_people = float(rows.loc["outcome_effect", "estimate"]) > 0
    key = "ratio_" + ("more" if more_people else "less") + "_" + ("more" if cost > 0 else "less")

    def euro(value: float) -> str:
        return format_euro(value, lang, 0)

    # the ratio is signed; the sentence carries the direction, so the interval is mirrored with it
    sign = 1.0 if float(ratio["estimate"]) >= 0 else -1.0
    low, high = sorted((sign * float(ratio["conf_low"]), sign * float(ratio["conf_high"])))
    sentence = t(key, lang, person=person, persons=persons, amount=euro(abs(float(ratio["estimate"]))),
                 line=cost_line_label(cost_line, lang).split(" (")[0].lower(), year=base_year,
                 low=euro(low), high=euro(high))
    if "n_units" in table.columns:  # the ratio's own sample: its cost effect may differ from the cost-line table
        sentence += t("ratio_sample" if cost > 0 else "ratio_sample_less", lang, n=int(table["n_units"].iloc[0]),
                      persons=persons, cost=format_number(abs(cost), lang, 2))
    return sentence
