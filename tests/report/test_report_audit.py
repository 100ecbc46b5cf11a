"""Acceptance audit of the report figures and tables (issue 5): layout, palette, language, formats.

Every figure is built from small hand-made frames (no estimation), so the whole file runs in a
few seconds.  The checks are geometric (rendered text boxes must stay inside the figure and must
not overlap each other; legends sit outside the data area), about words (no raw identifiers such
as ``jeugdhulp_per_1000_youth`` or ``role=gives_help`` on a figure) and about number formats
(``€ 1.400`` in Dutch, ``€1,400`` in English).
"""
from __future__ import annotations

import os
import re
from types import SimpleNamespace

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from effectmeting.report.figures import (cohort_trends_plot, cost_by_domain_plot,  # noqa: E402
                                         cost_effect_summary_plot, event_study_plot, faceted_forest_plot,
                                         forest_plot)
from effectmeting.report.i18n import t  # noqa: E402
from effectmeting.report.labels import subgroup_value_label  # noqa: E402
from effectmeting.report.number_format import NBSP, euro_prefix, format_euro  # noqa: E402
from effectmeting.report.style import OKABE_ITO, OKABE_ITO_ON_WHITE, SERIES_COLORS, NumberFormatter, series_style  # noqa: E402
from effectmeting.report.study_figures import (domain_cost_plot, study_cohort_trends_plot,  # noqa: E402
                                               study_event_study_plot, study_forest_plot,
                                               study_subgroup_forest_plot)
from effectmeting.report.tables import table_to_latex  # noqa: E402

LANGS = ("nl", "en")
OUTCOMES = ("jeugdhulp_per_1000_youth", "cost_6_72_per_inhabitant")
UNITS = {"jeugdhulp_per_1000_youth": "per 1,000 population_0_17", "cost_6_72_per_inhabitant": "euros per inhabitant"}
ESTIMATORS = ("twfe", "cs", "sa", "imputation")
#: what a raw identifier looks like: snake_case words, or a design written as dimension=value
RAW_IDENTIFIER = re.compile(r"[a-z0-9]+_[a-z0-9_]+|\b[a-z_]+>?=[a-z0-9_]+")


# -- helpers ----------------------------------------------------------------------------------
def _texts(spec) -> list:
    """Visible, non-empty text artists of a finished figure.  ``finish_figure`` has laid it out
    (a draw without rendering, tick labels included) and frozen the layout, so the positions
    read here are the ones in the saved files."""
    figure = spec.figure
    hidden = set()  # labels of ticks outside the view limits exist but are not drawn
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            low, high = sorted(axis.get_view_interval())
            span = (high - low) * 1e-9
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not low - span <= tick.get_loc() <= high + span:
                    hidden |= {id(tick.label1), id(tick.label2)}
    return [a for a in figure.findobj(matplotlib.text.Text)
            if a.get_visible() and a.get_text().strip() and id(a) not in hidden]


def _box(artist):
    return artist.get_window_extent(artist.figure._get_renderer())


def _overlap(a, b, tolerance: float = 0.5) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > tolerance) and (min(a.y1, b.y1) - max(a.y0, b.y0) > tolerance)


def layout_problems(spec) -> list[str]:
    """Text cut off at the figure edge, overlapping texts (title, labels, tick labels, legend,
    source line) and legends over an axes' data area, as readable messages."""
    figure = spec.figure
    texts = _texts(spec)
    frame = figure.bbox
    problems = []
    for text in texts:
        box = _box(text)
        if box.x0 < frame.x0 - 1 or box.x1 > frame.x1 + 1 or box.y0 < frame.y0 - 1 or box.y1 > frame.y1 + 1:
            problems.append(f"cut off: {text.get_text()!r}")
    legends = [axes.get_legend() for axes in figure.axes if axes.get_legend() is not None]
    legend_texts = {id(item) for legend in legends for item in [*legend.get_texts(), legend.get_title()]}
    loose = [text for text in texts if id(text) not in legend_texts]
    boxes = [(text.get_text(), _box(text)) for text in loose]
    boxes += [(f"legend {i}", _box(legend)) for i, legend in enumerate(legends)]
    for i, (name_a, a) in enumerate(boxes):
        for name_b, b in boxes[i + 1:]:
            if _overlap(a, b):
                problems.append(f"overlap: {name_a!r} and {name_b!r}")
    drawn = {id(text) for text in texts}
    for axes in figure.axes:  # neighbouring x tick labels must keep a visible gap (1 mm), not touch
        ticks = sorted((_box(label) for label in axes.get_xticklabels() if id(label) in drawn), key=lambda b: b.x0)
        for left, right in zip(ticks, ticks[1:]):
            if right.x0 - left.x1 < figure.dpi / 25.4:
                problems.append(f"x tick labels touch in {axes.get_title(loc='left') or 'an axes'}")
    for legend in legends:
        for axes in figure.axes:
            if _overlap(_box(legend), _box(axes)):
                problems.append(f"legend over the data area of {axes.get_title() or 'an axes'}")
    return problems


def figure_words(spec) -> str:
    """Every word a reader sees on the figure (title, labels, ticks, legend, source, note)."""
    return " | ".join(text.get_text() for text in _texts(spec))


def event_frames(n: int = 4, shift: float = 0.0) -> dict[str, pd.DataFrame]:
    times = np.arange(-5, 6)
    frames = {}
    for i in range(n):
        estimate = np.where(times >= 0, 1.0 + 0.8 * times, 0.1 * np.sin(times + i)) + shift + 0.1 * i
        frame = pd.DataFrame({"event_time": times, "estimate": estimate, "conf_low": estimate - 0.9,
                              "conf_high": estimate + 0.9})
        frames[f"Estimator {i}"] = frame[frame["event_time"] != -1] if i else frame  # only the first reports -1
    return frames


def cohort_panel(n_cohorts: int = 8) -> pd.DataFrame:
    years = np.arange(2015, 2025)
    rows = [(f"GM{c}{m}", year, cohort, 100.0 + 3 * c + m + 2 * (year - 2015))
            for c, cohort in enumerate([*range(2016, 2016 + n_cohorts), 0]) for m in range(2) for year in years]
    return pd.DataFrame(rows, columns=["municipality", "year", "first_adoption_year", "rate"])


def overall_frame() -> pd.DataFrame:
    rows = [(o, e, 5.0 + i + 2 * j, 4.0 + i + 2 * j, 6.0 + i + 2 * j)
            for j, o in enumerate(OUTCOMES) for i, e in enumerate(ESTIMATORS)]
    return pd.DataFrame(rows, columns=["outcome", "estimator", "estimate", "conf_low", "conf_high"])


def fake_study(by: str = "size_class", values=("<10k", "10k-20k", "20k-50k")) -> SimpleNamespace:
    """The parts of a DesignEffectStudy the report figures read."""
    times = np.arange(-4, 4)
    event = {code: pd.DataFrame({"event_time": times, "estimate": times * 0.5 + i, "conf_low": times * 0.5 + i - 1,
                                 "conf_high": times * 0.5 + i + 1}) for i, code in enumerate(ESTIMATORS)}
    units = pd.DataFrame({"municipality": [f"GM{i:04d}" for i in range(6)],
                          "status": ["adopter"] * 4 + ["never_treated"] * 2,
                          "first_adoption_year": [2017, 2017, 2019, 2019, np.nan, np.nan]})
    sub = pd.DataFrame([(o, "cs", v, np.nan if (k == 0) else 1.0 + k, np.nan if k == 0 else 0.5 + k,
                         np.nan if k == 0 else 1.5 + k, 10 + k)
                        for o in OUTCOMES for k, v in enumerate(values)],
                       columns=["outcome", "estimator", "value", "estimate", "conf_low", "conf_high", "n_units"])
    return SimpleNamespace(design="role=gives_help", estimators=list(ESTIMATORS), outcomes=list(OUTCOMES),
                           event_times=lambda outcome: event, timing=SimpleNamespace(units=units),
                           settings={"by": by}, subgroups={"estimates": sub, "tests": pd.DataFrame()})


def study_panel() -> pd.DataFrame:
    rows = [(f"GM{i:04d}", year, 100.0 + i + year - 2015, 250.0 + 2 * i + year - 2015)
            for i in range(6) for year in range(2015, 2022)]
    return pd.DataFrame(rows, columns=["municipality", "year", *OUTCOMES])


def domain_means() -> pd.DataFrame:
    years = pd.Index(range(2015, 2025), name="year")
    return pd.DataFrame({"youth": np.linspace(370, 448, 10), "adult_support": np.linspace(270, 324, 10),
                         "access": np.linspace(70, 89, 10), "basic": np.linspace(60, 65, 10),
                         "income_participation": np.linspace(560, 563, 10)}, index=years)


_FIGURES: dict[str, list] = {}


def report_figures(lang: str) -> list:
    """Built once per language and shared by the tests (they only read the figures)."""
    if lang not in _FIGURES:
        _FIGURES[lang] = _build_report_figures(lang)
    return _FIGURES[lang]


def _build_report_figures(lang: str) -> list:
    """The five required figure kinds as the analysis run builds them (plus the subgroup forest)."""
    study = fake_study()
    shown = pd.DataFrame({"label": ["Jeugd (taakvelden 6.72, 6.82)", "total_social_domain"],
                          "estimate": [4.1, 7.4], "conf_low": [2.7, 4.6], "conf_high": [5.6, 10.2]})
    return [
        *(study_event_study_plot(study, o, unit=UNITS[o], lang=lang) for o in OUTCOMES),
        *(study_cohort_trends_plot(study, study_panel(), o, unit=UNITS[o], lang=lang) for o in OUTCOMES),
        study_forest_plot(overall_frame(), UNITS, lang=lang),
        study_subgroup_forest_plot(study, UNITS, lang=lang),
        domain_cost_plot(domain_means(), lang=lang, price_base_year=2023),
        cost_effect_summary_plot(shown, unit="euro per inwoner per jaar, prijzen 2023", lang=lang,
                                 total="total_social_domain", total_label=t("total", lang)),
    ]


# -- layout: nothing cut off, nothing overlapping, legends off the data ----------------------
@pytest.mark.parametrize("lang", LANGS)
def test_report_figures_have_no_cut_off_or_overlapping_text(lang):
    for spec in report_figures(lang):
        assert layout_problems(spec) == [], spec.name


def test_long_labels_and_many_series_still_fit():
    """A long outcome name and unit, eight cohorts and five estimators: the y label wraps instead of
    running into the title, and the legends below the plots stay clear of axis labels."""
    long_unit = "per 1.000 jongeren van 0-17 jaar met een indicatie voor jeugdhulp met verblijf"
    specs = [
        event_study_plot(event_frames(5), outcome_label="jongeren met jeugdhulp met verblijf", unit=long_unit),
        cohort_trends_plot(cohort_panel(8), outcome="rate", cohort_col="first_adoption_year",
                           outcome_label="jongeren met jeugdhulp met verblijf", unit=long_unit),
        forest_plot(pd.DataFrame({"label": ["a", "b", "c"], "estimate": [1.0, 2.0, 3.0], "conf_low": [0.0, 1.0, 2.0],
                                  "conf_high": [2.0, 3.0, 4.0], "group": ["x " * 20, "y", "z"]}),
                    unit=long_unit, group_col="group"),
    ]
    for spec in specs:
        assert layout_problems(spec) == [], spec.name
    assert "\n" in specs[0].figure.axes[0].get_ylabel()  # wrapped before the unit


def test_event_study_legend_below_and_reference_period_marked():
    """The legend sits below the plot (it cannot cover an interval), and the reference period is
    marked as soon as one estimator is normalised there, even if another reports a value at -1."""
    spec = event_study_plot(event_frames(3), outcome_label="jeugdhulp", unit="per 1.000 jongeren")
    axes = spec.figure.axes[0]
    assert axes.get_legend().get_window_extent().y1 < axes.get_window_extent().y0
    reference = [line for line in axes.get_lines() if line.get_label() == t("reference_period", "nl")]
    assert len(reference) == 1 and list(reference[0].get_xdata()) == [-1]
    every = event_study_plot({"a": event_frames(1)["Estimator 0"]}, outcome_label="y", unit="u")
    assert not [line for line in every.figure.axes[0].get_lines() if line.get_label() == t("reference_period", "nl")]


# -- palette: Okabe-Ito from the style module; black only for the never-adopters ------------
def test_cohort_lines_never_reuse_the_never_adopters_black():
    spec = cohort_trends_plot(cohort_panel(8), outcome="rate", cohort_col="first_adoption_year",
                              outcome_label="jeugdhulp", unit="per 1.000 jongeren", lang="en")
    lines = {line.get_label(): line for line in spec.figure.axes[0].get_lines()
             if line.get_label().startswith(("Adopted", "Never"))}
    cohorts = [to_hex(line.get_color()).upper() for label, line in lines.items() if label.startswith("Adopted")]
    assert len(cohorts) == 8 and OKABE_ITO["black"] not in cohorts and OKABE_ITO_ON_WHITE["yellow"] not in cohorts
    assert set(cohorts) <= set(SERIES_COLORS)
    # eight cohorts, six strong colours: the seventh and eighth differ by line style
    styles = {(to_hex(line.get_color()), line.get_linestyle()) for label, line in lines.items()
              if label.startswith("Adopted")}
    assert len(styles) == 8
    assert to_hex(lines["Never adopted"].get_color()).upper() == OKABE_ITO["black"]
    assert series_style(6, reserve_black=True)["color"] != OKABE_ITO["black"]


@pytest.mark.parametrize("lang", LANGS)
def test_report_figures_use_only_the_style_palette(lang):
    allowed = {c.upper() for c in SERIES_COLORS} | {"#555555", "#FFFFFF", "#DDDDDD", "#000000"}
    for spec in report_figures(lang):
        used = set()
        for line in spec.figure.findobj(matplotlib.lines.Line2D):
            if line.get_visible() and len(np.atleast_1d(line.get_xdata())):
                used.add(to_hex(line.get_color()).upper())
        for collection in spec.figure.findobj(matplotlib.collections.Collection):
            used |= {to_hex(c).upper() for c in collection.get_facecolor()[:, :3]} if len(
                collection.get_facecolor()) and collection.get_facecolor()[:, 3].max() > 0 else set()
        assert used <= allowed, (spec.name, used - allowed)


# -- words: readable labels, no identifiers, the report language only -----------------------
@pytest.mark.parametrize("lang", LANGS)
def test_report_figures_show_no_raw_identifiers(lang):
    for spec in report_figures(lang):
        words = figure_words(spec) + " " + spec.alt_text + " " + spec.title
        assert not RAW_IDENTIFIER.findall(words), (spec.name, RAW_IDENTIFIER.findall(words))


def test_report_figures_keep_to_their_language():
    dutch = " ".join(figure_words(spec) for spec in report_figures("nl"))
    english = " ".join(figure_words(spec) for spec in report_figures("en"))
    for word in ("Source", "Year", "Estimator", "Never adopted", "Spending", "Horizontal lines", "confidence"):
        assert word not in dutch, word
    for word in ("Bron", "Jaar", "Schatter", "Nooit ingevoerd", "Lasten", "Horizontale lijnen", "betrouwbaarheid"):
        assert word not in english, word


@pytest.mark.parametrize("lang", LANGS)
def test_forest_type_figures_say_what_the_lines_are(lang):
    """Forest plots and the cost-effect summary have no legend for their whiskers: a note under the
    source line names the interval; the source line still comes first."""
    ci = t("confidence_interval", lang, level="95")
    for spec in report_figures(lang)[4:]:
        if spec.name == "cost_by_domain":
            continue
        source, _, note = spec.figure._supxlabel.get_text().partition("\n")
        assert source.startswith(t("source", lang) + ": ")
        assert note.startswith(t("note_interval_lines", lang, ci=ci)), spec.name


def test_subgroup_forest_has_one_panel_per_outcome_in_its_own_unit():
    """Outcomes in different units never share an axis; subgroups that could not be estimated are
    named in the note; the estimable ones keep their estimates."""
    spec = study_subgroup_forest_plot(fake_study(), UNITS, lang="nl")
    axes = spec.figure.axes
    assert len(axes) == 2
    assert axes[0].get_xlabel() == "Effect (per 1.000 jongeren van 0-17 jaar)"
    assert axes[1].get_xlabel() == "Effect (euro per inwoner)"
    assert [a.get_title(loc="left") for a in axes] == ["Jongeren met jeugdhulp",
                                                       "Lasten taakveld 6.72 Maatwerkdienstverlening 18-"]
    note = " ".join(spec.figure._supxlabel.get_text().split("\n")[1:])  # the note is wrapped
    # the same subgroup is missing for both outcomes: named once
    assert note.endswith("Niet getoond (te weinig gemeenten of geen vergelijkingsgemeenten): < 10.000.")
    ticks = [tick.get_text() for tick in axes[0].get_yticklabels()]
    assert "< 10.000" not in ticks and "10.000\u201320.000" in ticks  # Dutch number format
    assert spec.figure._supylabel.get_text() == "Gemeentegrootte (inwoners)"
    rows = [(line.get_xdata()[0], line.get_ydata()[0]) for line in axes[0].get_lines() if line.get_marker() == "o"]
    assert sorted(x for x, _ in rows) == [2.0, 3.0]  # estimates 1 + k for the two estimable subgroups
    assert "Gemeentegrootte (inwoners)" in spec.title and "Callaway-Sant'Anna" in spec.title


def test_tercile_subgroups_are_translated():
    assert subgroup_value_label("deprivation_index_tercile", "low", "nl") == "laag"
    assert subgroup_value_label("deprivation_index_tercile", "middle", "en") == "middle"
    assert subgroup_value_label("urbanity", "3", "nl") == "3"
    assert subgroup_value_label("size_class", "100k+", "nl") == "100.000 of meer"
    assert subgroup_value_label("size_class", "100k+", "en") == "100k+"
    spec = study_subgroup_forest_plot(fake_study("deprivation_index_tercile", ("low", "middle", "high")), UNITS)
    ticks = {tick.get_text() for tick in spec.figure.axes[0].get_yticklabels()}
    assert ticks == {"midden", "hoog"}


# -- number formats: Dutch and English, euros -------------------------------------------------
def test_euro_amounts_follow_the_language():
    assert euro_prefix("nl") == "€" + NBSP and euro_prefix("en") == "€"
    assert format_euro(1400.0, "nl") == f"€{NBSP}1.400"
    assert format_euro(1400.0, "en") == "€1,400"
    assert format_euro(-3103.4, "nl") == f"-€{NBSP}3.103"
    assert format_euro(-3103.4, "en", 2) == "-€3,103.40"
    assert format_euro(float("nan"), "en") == "\u2013"
    formatter = NumberFormatter("en", 0, euro=True)
    assert formatter(-2.0) == "\u2212€2" and NumberFormatter("nl", 0, euro=True)(1200.0) == f"€{NBSP}1.200"


@pytest.mark.parametrize("lang, expected", [("nl", f"€{NBSP}1.400"), ("en", "€1,400")])
def test_cost_figures_tick_labels_in_the_language(lang, expected):
    spec = domain_cost_plot(domain_means(), lang=lang, price_base_year=2023)
    ticks = [tick.get_text() for tick in spec.figure.axes[0].get_yticklabels()]
    assert expected in ticks, ticks
    years = [tick.get_text() for tick in spec.figure.axes[0].get_xticklabels() if tick.get_text()]
    assert "2020" in years  # years without thousands separator


def test_stacked_area_legend_reads_like_the_stack():
    """Read top to bottom, the legend lists the layers in the order they appear in the plot."""
    spec = cost_by_domain_plot(pd.DataFrame({"a": [1.0, 1.0], "b": [2.0, 2.0], "c": [3.0, 3.0]}, index=[2020, 2021]),
                               kind="area", lang="en")
    axes = spec.figure.axes[0]
    tops = {collection.get_label(): collection.get_paths()[0].vertices[:, 1].max() for collection in axes.collections}
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert legend == ["a", "b", "c"]
    assert [tops[name] for name in legend] == sorted(tops.values(), reverse=True) == [6.0, 5.0, 3.0]


def test_faceted_forest_note_combines_interval_and_extra_note():
    frame = pd.DataFrame({"panel": ["p", "p"], "unit": ["u", "u"], "row": ["a", "b"], "estimate": [1.0, 2.0],
                          "conf_low": [0.0, 1.0], "conf_high": [2.0, 3.0]})
    spec = faceted_forest_plot(frame, panel_col="panel", unit_col="unit", label_col="row", lang="en", title="T",
                               ylabel="Rows", alt_text="alt text", level=0.9, note="Extra.")
    assert spec.figure._supxlabel.get_text().endswith("\nHorizontal lines: 90% confidence interval. Extra.")


def test_latex_tables_typeset_mbar_euro_and_minus():
    frame = pd.DataFrame({"M\u0304": ["0,5"], "Bedrag": ["€\u00a03.103"], "Grens": ["\u22122,0"]})
    latex = table_to_latex(frame, caption="M\u0304 & €")
    assert r"$\bar{M}$ & Bedrag & Grens" in latex
    assert r"\texteuro{}~3.103" in latex and "$-$2,0" in latex
    assert r"\caption{$\bar{M}$ \& \texteuro{}}" in latex
    assert "\u0304" not in latex and "€" not in latex and "\u2212" not in latex


def test_missing_subgroups_are_named_per_outcome_when_they_differ():
    study = fake_study()
    sub = study.subgroups["estimates"]
    # the cost outcome's second subgroup is missing too
    cost_second = (sub["outcome"] == OUTCOMES[1]) & (sub["value"] == "10k-20k")
    sub.loc[cost_second, ["estimate", "conf_low", "conf_high"]] = np.nan
    spec = study_subgroup_forest_plot(study, UNITS, lang="en")
    note = " ".join(spec.figure._supxlabel.get_text().split("\n")[1:])  # the note is wrapped
    assert ("Young people with youth care (jeugdhulp): <10k; Spending on taakveld 6.72 Tailored services under "
            "18: <10k, 10k-20k.") in note
    missing = note[note.index("Not shown"):]
    assert spec.alt_text.endswith(missing)  # the alt text says it too


def test_report_footer_names_the_package_version():
    import effectmeting
    from effectmeting.report.html import Section, build_report

    text = build_report([Section("S", paragraphs=["p"], kind="summary")], lang="nl", title="T", provenance={})
    assert f"<footer>Gemaakt met effectmeting {effectmeting.__version__}</footer>" in text


@pytest.mark.parametrize("lang", LANGS)
def test_cost_effects_with_long_lines_and_negative_euros_fit(lang):
    """Long cost-line names wrap instead of squeezing the axes, so the axis label stays on the
    figure and the euro tick labels (minus before the euro sign) keep apart."""
    shown = pd.DataFrame({"label": ["adult_support", "youth", "total_social_domain"], "estimate": [-7.4, 0.1, -6.5],
                          "conf_low": [-8.6, -1.4, -9.4], "conf_high": [-6.2, 1.6, -3.6]})
    from effectmeting.report.labels import cost_line_label

    shown["label"] = [cost_line_label(v, lang) if v != "total_social_domain" else v for v in shown["label"]]
    unit = t("unit_prices", lang, unit=t("unit_euro_per_inhabitant_per_year", lang), year=2023)
    spec = cost_effect_summary_plot(shown, unit=unit, lang=lang, total="total_social_domain",
                                    total_label=t("total", lang))
    assert layout_problems(spec) == []
    axes = spec.figure.axes[0]
    assert "\n(" in axes.get_yticklabels()[0].get_text()  # "Ondersteuning volwassenen\n(taakvelden ...)"
    ticks = [tick.get_text() for tick in axes.get_xticklabels() if tick.get_text()]
    assert ("\u2212€\u00a05" if lang == "nl" else "\u2212€5") in ticks, ticks
    assert cost_line_label("adult_support", lang) in spec.alt_text  # the alt text keeps the label whole


@pytest.mark.parametrize("lang, expected", [("nl", "Stedelijkheid (tercielen)"), ("en", "Urbanity (terciles)")])
def test_tercile_columns_get_a_readable_name_in_titles_and_table_headers(lang, expected):
    """A study split by ``urbanity_tercile`` (add_terciles) is named in words, in the figure title
    and in the subgroup table's header (which used to show the raw column name)."""
    from effectmeting.report.labels import label
    from effectmeting.report.tables import estimates_table, table_to_markdown

    assert label("urbanity_tercile", lang) == expected
    spec = study_subgroup_forest_plot(fake_study("urbanity_tercile", ("low", "middle", "high")), UNITS, lang=lang)
    assert expected in spec.title and "_" not in spec.title
    table = estimates_table(pd.DataFrame({"outcome": ["x"], "urbanity_tercile": ["low"], "estimate": [1.0],
                                          "conf_low": [0.0], "conf_high": [2.0]}), lang)
    assert expected in table.columns
    assert "urbanity_tercile" not in table_to_markdown(table)
