"""Report building blocks: number formatting, labels, figures, tables, HTML.

References: Dutch/English number formats are checked against hand-written expectations and,
for exactly representable decimals, against Babel's CLDR formatter (``nl_NL``/``en_GB``);
figures are checked on the artists matplotlib drew (positions, interval ends, labels), not
on pixels; files are checked for byte-identity on rerun.
"""
from __future__ import annotations

import io
import os
import types
from html.parser import HTMLParser

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from effectmeting.errors import AnalysisConfigError, InputError  # noqa: E402
from effectmeting.report import i18n  # noqa: E402
from effectmeting.report.figures import (cohort_trends_plot, cost_by_domain_plot,  # noqa: E402
                                         cost_effect_summary_plot, event_study_plot, forest_plot)
from effectmeting.report.html import Section, build_report, write_report  # noqa: E402
from effectmeting.report.number_format import format_number, format_p_value, format_percent  # noqa: E402
from effectmeting.report.style import STYLE_RC, NumberFormatter, apply_style  # noqa: E402
from effectmeting.report.tables import TableSpec, estimates_table, write_table  # noqa: E402

NBSP = "\u00a0"


# -- numbers -------------------------------------------------------------------------------
@pytest.mark.parametrize("value, lang, digits, expected", [
    (1234.5, "nl", 1, "1.234,5"),
    (1234.5, "en", 1, "1,234.5"),
    (-1234.5, "nl", 1, "-1.234,5"),
    (-1234.5, "en", 1, "-1,234.5"),
    (1234567.891, "nl", 2, "1.234.567,89"),
    (1234567.891, "en", 0, "1,234,568"),
    (0.5, "nl", 3, "0,500"),
    (-0.04, "nl", 1, "0,0"),  # rounds to zero: no sign
    (999.96, "nl", 1, "1.000,0"),
    (np.int64(12), "nl", 0, "12"),
    (float("nan"), "nl", 1, "\u2013"),
    (None, "en", 1, "\u2013"),
    (pd.NA, "nl", 2, "\u2013"),
    (float("-inf"), "nl", 1, "-\u221e"),
])
def test_format_number_table(value, lang, digits, expected):
    assert format_number(value, lang, digits) == expected


def test_format_number_without_thousands_and_unicode_minus():
    assert format_number(2019, "nl", 0, thousands=False) == "2019"
    assert format_number(-2.5, "nl", 1, minus="\u2212") == "\u22122,5"


@pytest.mark.parametrize("value, lang, expected", [
    (0.123, "nl", f"12,3{NBSP}%"),
    (0.123, "en", "12.3%"),
    (-0.0456, "nl", f"-4,6{NBSP}%"),
    (np.nan, "nl", "\u2013"),
])
def test_format_percent(value, lang, expected):
    assert format_percent(value, lang, 1) == expected


def test_format_p_value():
    assert format_p_value(0.0004, "nl") == "<0,001"
    assert format_p_value(0.0004, "en") == "<0.001"
    assert format_p_value(0.0456, "nl") == "0,046"


def test_format_rejects_unknown_language_and_non_numbers():
    with pytest.raises(KeyError, match="'de'"):
        format_number(1.0, "de")
    with pytest.raises(TypeError, match="abc"):
        format_number("abc", "nl")


@settings(max_examples=200, deadline=None)
@given(units=st.integers(min_value=-10**12, max_value=10**12), digits=st.integers(min_value=0, max_value=3))
def test_format_number_matches_babel_cldr(units, digits):
    """Values with exactly ``digits`` decimals (no rounding involved) must be written as
    Babel/CLDR writes them for nl_NL and en_GB."""
    babel_numbers = pytest.importorskip("babel.numbers")
    value = units / 10**digits
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    for lang, locale in (("nl", "nl_NL"), ("en", "en_GB")):
        expected = babel_numbers.format_decimal(value, format=pattern, locale=locale)
        assert format_number(value, lang, digits) == expected


# -- labels --------------------------------------------------------------------------------
def test_catalogues_have_the_same_keys_and_fields():
    assert set(i18n.NL) == set(i18n.EN)
    import string
    for key in i18n.NL:
        fields_nl = {f for _, f, _, _ in string.Formatter().parse(i18n.NL[key]) if f}
        fields_en = {f for _, f, _, _ in string.Formatter().parse(i18n.EN[key]) if f}
        assert fields_nl == fields_en, key


def test_t_translates_fills_and_names_unknown_keys():
    assert i18n.t("source") == "Bron"
    assert i18n.t("source", "en") == "Source"
    assert i18n.t("cohort_label", "nl", year=2016) == "Invoering 2016"
    with pytest.raises(KeyError, match="no_such_label"):
        i18n.t("no_such_label", "nl")
    with pytest.raises(KeyError, match="year"):
        i18n.t("cohort_label", "en", jaar=2016)
    with pytest.raises(KeyError, match="'fr'"):
        i18n.t("source", "fr")
    assert i18n.taakveld_label("cost_6_72_per_inhabitant") == "6.72 Maatwerkdienstverlening 18-"
    assert i18n.taakveld_label("6.2", "en") == "6.2 Access and first-line services"
    assert i18n.taakveld_label("health_insurance") == "health_insurance"


# -- style ---------------------------------------------------------------------------------
def test_tick_formatter_dutch_english_percent():
    nl = NumberFormatter("nl")
    assert nl.format_ticks([0.0, 0.5, 1.0]) == ["0,0", "0,5", "1,0"]
    assert nl.format_ticks([0.0, 1000.0, 2000.0]) == ["0", "1.000", "2.000"]
    assert nl.format_ticks([-1.0, 0.0])[0] == "\u22121"
    assert NumberFormatter("en").format_ticks([1000.0, 1500.0]) == ["1,000", "1,500"]
    assert NumberFormatter("nl", percent=True).format_ticks([0.1, 0.125]) == [f"10,0{NBSP}%", f"12,5{NBSP}%"]
    assert NumberFormatter("en", percent=True).format_ticks([0.1, 0.2]) == ["10%", "20%"]


def test_apply_style_does_not_leak_rcparams():
    before = {key: matplotlib.rcParams[key] for key in STYLE_RC}
    with apply_style():
        assert matplotlib.rcParams["svg.hashsalt"] == STYLE_RC["svg.hashsalt"]
        assert matplotlib.rcParams["font.size"] == STYLE_RC["font.size"]
    after = {key: matplotlib.rcParams[key] for key in STYLE_RC}
    assert before == after


# -- figures -------------------------------------------------------------------------------
def event_frames() -> dict[str, pd.DataFrame]:
    event_time = np.array([-3, -2, 0, 1, 2])
    first = np.array([0.1, -0.2, 1.0, 1.5, 2.0])
    second = first + 0.3
    return {
        "Callaway-Sant'Anna": pd.DataFrame({"event_time": event_time, "estimate": first,
                                            "conf_low": first - 0.5, "conf_high": first + 0.7}),
        "Sun-Abraham": pd.DataFrame({"event_time": event_time, "estimate": second,
                                     "conf_low": second - 0.4, "conf_high": second + 0.4}),
    }


def cohort_panel() -> pd.DataFrame:
    # two municipalities per cohort with outcomes 1 and 3 (+ year trend): cohort means are 2 + trend
    rows = []
    for cohort, offset in ((2016, 0.0), (2018, 10.0), (0, 20.0)):
        for municipality, value in (("a", 1.0), ("b", 3.0)):
            for year in range(2014, 2021):
                rows.append((f"GM{cohort}{municipality}", year, cohort, value + offset + 0.1 * (year - 2014)))
    return pd.DataFrame(rows, columns=["municipality", "year", "first_adoption_year", "rate"])


def forest_frame() -> pd.DataFrame:
    return pd.DataFrame({"label": ["Jeugdhulp", "Jeugdbescherming", "Wmo"],
                         "estimate": [1.2, -0.3, 2.0], "conf_low": [0.2, -0.9, -0.5],
                         "conf_high": [2.2, 0.3, 4.5], "group": ["alle", "alle", "laag inkomen"]})


def cost_frame() -> pd.DataFrame:
    return pd.DataFrame({"cost_6_2_per_inhabitant": [50.0, 55.0, 61.0],
                         "cost_6_72_per_inhabitant": [200.0, 210.0, 230.0]}, index=[2021, 2022, 2023])


def cost_effects() -> pd.DataFrame:
    return pd.DataFrame({"label": ["total", "6.2", "6.72"], "estimate": [10.0, 12.0, -2.0],
                         "conf_low": [-5.0, 4.0, -10.0], "conf_high": [25.0, 20.0, 6.0]})


def all_figures(lang: str):
    return [
        event_study_plot(event_frames(), outcome_label="jeugdhulp", unit="per 1.000 jongeren", lang=lang,
                         source="CBS Beleidsinformatie Jeugd"),
        cohort_trends_plot(cohort_panel(), outcome="rate", cohort_col="first_adoption_year",
                           outcome_label="jeugdhulp", unit="per 1.000 jongeren", lang=lang),
        forest_plot(forest_frame(), unit="per 1.000", group_col="group", lang=lang),
        cost_by_domain_plot(cost_frame(), kind="area", price_base_year=2023, lang=lang),
        cost_effect_summary_plot(cost_effects(), unit="euro per inwoner", total="total", lang=lang),
    ]


def source_line(figure) -> str:
    return figure._supxlabel.get_text()


@pytest.mark.parametrize("lang, prefix", [("nl", "Bron: "), ("en", "Source: ")])
def test_every_figure_has_title_labels_source_and_alt_text(lang, prefix):
    for spec in all_figures(lang):
        axes = spec.figure.axes[0]
        assert " ".join(spec.figure._suptitle.get_text().split()) == spec.title and spec.title.strip()
        assert axes.get_xlabel().strip() and axes.get_ylabel().strip(), spec.name
        assert source_line(spec.figure).startswith(prefix), spec.name
        assert len(spec.alt_text) > 40 and spec.figure._effectmeting_alt == spec.alt_text
        assert spec.lang == lang


def test_event_study_points_offsets_and_intervals():
    frames = event_frames()
    spec = event_study_plot(frames, outcome_label="jeugdhulp", unit="per 1.000 jongeren")
    axes = spec.figure.axes[0]
    assert "(per 1.000 jongeren)" in axes.get_ylabel()
    assert axes.get_xlabel() == i18n.t("event_time_axis", "nl")
    containers = axes.containers
    assert len(containers) == 2
    xs = []
    for container, frame in zip(containers, frames.values()):
        line = container.lines[0]
        np.testing.assert_allclose(line.get_ydata(), frame["estimate"])
        xs.append(np.asarray(line.get_xdata()))
        # the vertical bar of each point spans exactly [conf_low, conf_high]
        segments = container.lines[2][0].get_segments()
        np.testing.assert_allclose([s[0][1] for s in segments], frame["conf_low"])
        np.testing.assert_allclose([s[1][1] for s in segments], frame["conf_high"])
    # side by side, symmetric around the event time
    np.testing.assert_allclose((xs[0] + xs[1]) / 2, frames["Sun-Abraham"]["event_time"])
    assert np.all(xs[0] < xs[1])
    # zero line and the adoption line at -0.5; open reference marker at (-1, 0)
    assert any(np.allclose(line.get_xdata(), [-0.5, -0.5]) for line in axes.get_lines())
    reference = [line for line in axes.get_lines() if line.get_label() == "Referentieperiode"]
    assert len(reference) == 1 and reference[0].get_xdata()[0] == -1
    assert "Callaway-Sant'Anna" in spec.alt_text and "Sun-Abraham" in spec.alt_text
    # mean post-adoption estimate of the first estimator, (1.0 + 1.5 + 2.0) / 3 = 1,50
    assert "Callaway-Sant'Anna 1,50" in spec.alt_text
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert legend == ["Callaway-Sant'Anna", "Sun-Abraham", "Referentieperiode"]


def test_event_study_refuses_missing_columns_and_empty_input():
    with pytest.raises(InputError, match="conf_high"):
        event_study_plot({"x": pd.DataFrame({"event_time": [0], "estimate": [1.0], "conf_low": [0.0]})},
                         outcome_label="y", unit="u")
    with pytest.raises(InputError, match="empty"):
        event_study_plot({}, outcome_label="y", unit="u")


def test_cohort_trends_means_by_cohort():
    spec = cohort_trends_plot(cohort_panel(), outcome="rate", cohort_col="first_adoption_year",
                              outcome_label="jeugdhulp", unit="per 1.000 jongeren", lang="en")
    axes = spec.figure.axes[0]
    lines = {line.get_label(): line for line in axes.get_lines() if not line.get_label().startswith("_")}
    assert list(lines) == ["Adopted 2016", "Adopted 2018", "Never adopted", "Year of adoption"]
    assert spec.title == "Jeugdhulp by adoption cohort"
    trend = 0.1 * np.arange(7)
    np.testing.assert_allclose(lines["Adopted 2016"].get_ydata(), 2.0 + trend)
    np.testing.assert_allclose(lines["Adopted 2018"].get_ydata(), 12.0 + trend)
    np.testing.assert_allclose(lines["Never adopted"].get_ydata(), 22.0 + trend)
    np.testing.assert_allclose(lines["Never adopted"].get_xdata(), np.arange(2014, 2021))
    assert "(2 mun.)" in spec.alt_text and "2014 to 2020" in spec.alt_text
    # years are printed without a thousands separator
    spec.figure.canvas.draw()
    labels = [label.get_text() for label in axes.get_xticklabels() if label.get_text()]
    assert "2016" in labels and not any("," in label or "." in label for label in labels)


def test_cohort_trends_refuses_unreadable_cohorts_and_years():
    bad_cohort = cohort_panel().astype({"first_adoption_year": object})
    bad_cohort.loc[3, "first_adoption_year"] = "2016?"
    with pytest.raises(InputError, match=r"'first_adoption_year', row 3 has '2016\?'"):
        cohort_trends_plot(bad_cohort, outcome="rate", cohort_col="first_adoption_year",
                           outcome_label="y", unit="u")
    bad_year = cohort_panel().astype({"year": float})
    bad_year.loc[5, "year"] = np.nan
    with pytest.raises(InputError, match=r"'year', row 5"):
        cohort_trends_plot(bad_year, outcome="rate", cohort_col="first_adoption_year",
                           outcome_label="y", unit="u")


def test_forest_plot_rows_top_to_bottom():
    spec = forest_plot(forest_frame(), unit="per 1.000", group_col="group")
    axes = spec.figure.axes[0]
    labels = [label.get_text() for label in axes.get_yticklabels()]
    positions = list(axes.get_yticks())
    order = [labels[i] for i in np.argsort(positions)[::-1]]
    assert order == ["Jeugdhulp", "Jeugdbescherming", "Wmo"]
    assert "Jeugdbescherming -0,30 [-0,90; 0,30]" in spec.alt_text
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["alle", "laag inkomen"]


def test_cost_by_domain_area_stacks_and_refuses_negatives():
    spec = cost_by_domain_plot(cost_frame(), kind="area", price_base_year=2023)
    axes = spec.figure.axes[0]
    tops = axes.collections[-1].get_paths()[0].vertices[:, 1].max()
    assert tops == pytest.approx(230.0 + 61.0)
    legend = [t.get_text() for t in axes.get_legend().get_texts()]
    assert legend == ["6.2 Toegang en eerstelijnsvoorzieningen", "6.72 Maatwerkdienstverlening 18-"]
    assert "prijzen 2023" in axes.get_ylabel()
    negative = cost_frame()
    negative.loc[2022, "cost_6_2_per_inhabitant"] = -1.0
    with pytest.raises(InputError, match=r"2022.*cost_6_2_per_inhabitant"):
        cost_by_domain_plot(negative, kind="area")
    text = cost_frame().astype(object)
    text.loc[2023, "cost_6_72_per_inhabitant"] = "1.234,5"
    with pytest.raises(InputError, match=r"'cost_6_72_per_inhabitant', year 2023 has '1.234,5'"):
        cost_by_domain_plot(text)
    lines = cost_by_domain_plot(negative, kind="lines", lang="en")
    assert len(lines.figure.axes[0].get_lines()) == 2


def test_cost_effect_summary_puts_total_last():
    spec = cost_effect_summary_plot(cost_effects(), unit="euro per inwoner", total="total")
    axes = spec.figure.axes[0]
    ticks = sorted(zip(axes.get_yticks(), axes.get_yticklabels()), key=lambda pair: -pair[0])
    assert [label.get_text() for _, label in ticks][-1] == "Totaal"
    assert ticks[-1][1].get_fontweight() == "bold"
    assert spec.alt_text.endswith("Totaal 10,00 [-5,00; 25,00].")
    with pytest.raises(InputError, match="'sum'"):
        cost_effect_summary_plot(cost_effects(), unit="euro", total="sum")


def test_figure_bytes_ignore_the_callers_rcparams():
    def png():
        return forest_plot(forest_frame(), unit="u").to_bytes("png")

    plain = png()
    with matplotlib.rc_context({"lines.linewidth": 7.0, "font.size": 20.0, "axes.grid": False,
                                "savefig.bbox": "tight", "errorbar.capsize": 9.0}):
        assert png() == plain


def test_figure_refuses_empty_title_and_odd_names(tmp_path):
    with pytest.raises(AnalysisConfigError, match="title"):
        forest_plot(forest_frame(), unit="u", title=" ")
    spec = forest_plot(forest_frame(), unit="u", name="../forest")
    with pytest.raises(AnalysisConfigError, match="file name"):
        spec.save(tmp_path)


def test_figure_files_are_byte_identical_on_rerun(tmp_path):
    def build():
        return event_study_plot(event_frames(), outcome_label="jeugdhulp", unit="per 1.000 jongeren")

    first = build().save(tmp_path / "first")
    spec = build()
    spec.to_bytes("svg")  # an earlier save in another format must not change later files
    second = spec.save(tmp_path / "second")
    assert [p.name for p in first] == ["event_study.png", "event_study.svg"]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name
    svg = first[1].read_text(encoding="utf-8")
    assert "<dc:date>" not in svg and "effectmeting" in svg
    from PIL import Image

    with Image.open(first[0]) as image:
        assert image.info["Description"].startswith("Puntschattingen")
        assert image.info["Software"] == "effectmeting"
        assert round(image.info["dpi"][0]) == 200


# -- tables --------------------------------------------------------------------------------
def tidy_estimates() -> pd.DataFrame:
    return pd.DataFrame({"label": ["Jeugdhulp", "<script>alert(1)</script>"], "event_time": [0, 1],
                         "estimate": [1234.5, -0.25], "std_error": [12.0, 0.1], "statistic": [102.9, -2.5],
                         "p_value": [1e-8, 0.0124], "conf_low": [1210.98, -0.446], "conf_high": [1258.02, -0.054]})


def test_estimates_table_dutch_and_english():
    nl = estimates_table(tidy_estimates(), "nl", digits=2)
    assert list(nl.columns) == ["Uitkomst", "Jaren sinds invoering", "Schatting", "Standaardfout",
                                "p-waarde", "95%-BI"]
    assert nl.iloc[0].tolist() == ["Jeugdhulp", "0", "1.234,50", "12,00", "<0,001", "[1.210,98; 1.258,02]"]
    assert nl.iloc[1, 2:].tolist() == ["-0,25", "0,10", "0,012", "[-0,45; -0,05]"]
    en = estimates_table(tidy_estimates(), "en", digits=2)
    assert en.iloc[0].tolist() == ["Jeugdhulp", "0", "1,234.50", "12.00", "<0.001", "[1,210.98, 1,258.02]"]
    with_missing = tidy_estimates().assign(std_error=[np.nan, 0.1])
    assert estimates_table(with_missing, "nl").iloc[0, 3] == "\u2013"


def test_write_table_formats_escape_and_are_deterministic(tmp_path):
    table = estimates_table(tidy_estimates(), "nl")
    first = write_table(table, tmp_path / "a", "estimates", caption="Effect_op 100% <b>")
    second = write_table(table, tmp_path / "b", "estimates", caption="Effect_op 100% <b>")
    assert sorted(first) == ["html", "md", "tex"]
    for kind in first:
        assert first[kind].read_bytes() == second[kind].read_bytes()
    html_text = first["html"].read_text(encoding="utf-8")
    assert "<script>" not in html_text and "&lt;script&gt;" in html_text and "&lt;b&gt;" in html_text
    tex = first["tex"].read_text(encoding="utf-8")
    assert r"Effect\_op 100\%" in tex and r"\textless{}script\textgreater{}" in tex
    md = first["md"].read_text(encoding="utf-8")
    assert "| Jeugdhulp | 0 | 1.234,500 |" in md
    with pytest.raises(InputError, match="file name"):
        write_table(table, tmp_path, "../escape")


# -- HTML ----------------------------------------------------------------------------------
class StructureParser(HTMLParser):
    """Collects what the checks need: tags, attributes, headings, section order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.headings: list[str] = []
        self.section_ids: list[str] = []
        self.image_alts: list[str] = []
        self.svg_labels: list[str] = []
        self.html_lang = None
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs.items()]
        if tag == "html":
            self.html_lang = attrs.get("lang")
        if tag == "section":
            self.section_ids.append(attrs.get("class", ""))
        if tag == "img":
            self.image_alts.append(attrs.get("alt"))
        if tag == "svg":
            self.svg_labels.append(attrs.get("aria-label"))
        if tag == "h2":
            self._in_h2 = True
            self.headings.append("")

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2:
            self.headings[-1] += data


def report_sections(figures) -> list[Section]:
    hostile = "<script>alert('x')</script>"
    return [
        Section("Kanttekeningen", ["Adoptie is niet willekeurig."], kind="caveats"),
        Section("Methoden", ["Callaway & Sant'Anna (2021)."], kind="methods"),
        Section("Resultaten", [f"Label {hostile}"], figures=figures[:3],
                tables=[TableSpec(estimates_table(tidy_estimates(), "nl"), caption=f"Schattingen {hostile}")],
                kind="results"),
        Section("Samenvatting", ["Het effect is klein en onzeker."], kind="summary"),
        Section("Diagnostiek", ["Geen pre-trends."], figures=figures[3:], kind="diagnostics"),
    ]


@pytest.fixture(scope="module")
def figures_nl():
    return all_figures("nl")


@pytest.mark.parametrize("figure_format", ["png", "svg"])
def test_html_report_is_self_contained_escaped_and_ordered(figures_nl, figure_format, tmp_path):
    provenance = {"data": "demo seed 1", "effectmeting": "0.1.0", "inputs": ["a.csv", "b.csv"],
                  "hashes": {"a.csv": "sha256:00"}, "note": "<script>x</script>"}
    text = build_report(report_sections(figures_nl), lang="nl", title="Effectmeting <demo>",
                        provenance=provenance, figure_format=figure_format)
    parser = StructureParser()
    parser.feed(text)
    parser.close()
    assert parser.html_lang == "nl"
    assert "script" not in parser.tags and "iframe" not in parser.tags
    assert "&lt;script&gt;" in text and "Effectmeting &lt;demo&gt;" in text
    for tag, name, value in parser.attributes:
        if name in ("src", "href", "xlink:href"):
            assert value.startswith(("#", "data:")), (tag, name, value[:60])
    assert "url(" not in text.split("</style>")[0]  # no external CSS resources
    # plain-language summary first, then methods, results, diagnostics, caveats, provenance
    assert parser.section_ids == ["summary", "methods", "results", "diagnostics", "caveats", "provenance"]
    assert parser.headings == ["Samenvatting", "Methoden", "Resultaten", "Diagnostiek", "Kanttekeningen",
                               "Herkomst van de resultaten"]
    found = parser.image_alts if figure_format == "png" else parser.svg_labels
    assert found == [spec.alt_text for spec in figures_nl]
    if figure_format == "svg":
        assert "<?xml" not in text and "<!DOCTYPE svg" not in text
    assert text.count("<table") == 1 and "sha256:00" in text
    # deterministic: same inputs, same bytes
    path = write_report(tmp_path / "report.html", report_sections(figures_nl), lang="nl",
                        title="Effectmeting <demo>", provenance=provenance, figure_format=figure_format)
    assert path.read_text(encoding="utf-8") == text


def test_html_report_requires_a_summary_and_known_kinds(figures_nl):
    with pytest.raises(AnalysisConfigError, match="summary"):
        build_report([Section("Methoden", ["x"], kind="methods")], title="t", provenance={})
    with pytest.raises(AnalysisConfigError, match="appendix"):
        build_report([Section("S", ["x"], kind="summary"), Section("A", kind="appendix")],
                     title="t", provenance={})


def test_english_report_labels():
    text = build_report([Section("Summary", ["Small effect."], kind="summary")], lang="en",
                        title="Study", provenance={"seed": 1})
    assert '<html lang="en">' in text and ">Provenance</h2>" in text and "Made with effectmeting" in text


def test_png_embedded_is_the_saved_png(figures_nl):
    import base64

    spec = figures_nl[2]
    text = build_report([Section("S", figures=[spec], kind="summary")], title="t", provenance={})
    encoded = text.split('src="data:image/png;base64,')[1].split('"')[0]
    assert base64.b64decode(encoded) == spec.to_bytes("png")
    assert io.BytesIO(base64.b64decode(encoded)).read(8) == b"\x89PNG\r\n\x1a\n"


# -- label registry (report.labels) ------------------------------------------------------------
from effectmeting.report import labels as labels_module  # noqa: E402
from effectmeting.report.labels import (cost_line_label, design_label, estimator_label, humanise,  # noqa: E402
                                        label, outcome_label, person_label, subgroup_value_label,
                                        unit_label)


@pytest.mark.parametrize("function, name, nl, en", [
    (outcome_label, "jeugdhulp_per_1000_youth", "Jongeren met jeugdhulp", "Young people with youth care (jeugdhulp)"),
    (outcome_label, "cost_6_72_per_inhabitant", "Lasten taakveld 6.72 Maatwerkdienstverlening 18-",
     "Spending on taakveld 6.72 Tailored services under 18"),
    (outcome_label, "wmo_per_1000_adults", "Volwassenen met een Wmo-voorziening", "Adults with a Wmo provision"),
    (outcome_label, "my_new_outcome", "My new outcome", "My new outcome"),  # fallback, no error
    (unit_label, "per 1,000 population_0_17", "per 1.000 jongeren van 0-17 jaar", "per 1,000 residents aged 0-17"),
    (unit_label, "euros per inhabitant", "euro per inwoner", "euros per inhabitant"),
    (unit_label, "constant euros of 2023 per inhabitant per year", "euro per inwoner per jaar, prijzen 2023",
     "euros per inhabitant per year, 2023 prices"),
    (unit_label, "per 1,000 population_65_plus", "per 1.000 population 65 plus", "per 1,000 population 65 plus"),
    (unit_label, "odd_unit", "odd unit", "odd unit"),
    (design_label, "role=gives_help", "Wijkteam geeft zelf hulp", "Team gives help itself"),
    (design_label, "maturity>=3", "Volwassenheid basisfuncties 3 of hoger",
     "Maturity of the basic functions 3 or higher"),
    (design_label, "new_dimension=some_value", "New dimension: some value", "New dimension: some value"),
    (design_label, "not a design", "Not a design", "Not a design"),
    (estimator_label, "cs", "Callaway-Sant'Anna", "Callaway-Sant'Anna"),
    (estimator_label, "twfe", "TWFE (klassiek)", "TWFE (classic)"),
    (estimator_label, "new_estimator", "New estimator", "New estimator"),
    (cost_line_label, "youth", "Jeugd (taakvelden 6.72, 6.82)", "Youth (taakvelden 6.72, 6.82)"),
    (cost_line_label, "access", "Toegang (taakveld 6.2)", "Access (taakveld 6.2)"),
    (cost_line_label, "total_social_domain", "Totaal sociaal domein", "Social domain total"),
    (cost_line_label, "added_cost_zvw", "Zvw (andere betaler)", "Zvw (other payer)"),
    (person_label, "jeugdhulp_per_1000_youth", "jongere met jeugdhulp", "young person with youth care"),
    (label, "n_units", "Gemeenten", "Municipalities"),
    (label, "p_holm", "p (Holm)", "p (Holm)"),
    (label, "unknown_column_x", "Unknown column x", "Unknown column x"),
])
def test_labels_dutch_and_english(function, name, nl, en):
    assert function(name, "nl") == nl
    assert function(name, "en") == en


def test_every_catalogue_category_has_a_dutch_and_english_label():
    from effectmeting.designs.dimensions import DIMENSIONS

    for dimension in DIMENSIONS.values():
        for value in dimension.categories:
            for lang in ("nl", "en"):
                text = design_label(f"{dimension.name}={value}", lang)
                assert "_" not in text and ":" not in text, (dimension.name, value, lang, text)
    assert set(labels_module.CATEGORIES) <= {(d.name, v) for d in DIMENSIONS.values() for v in d.categories}


@given(st.text(max_size=40))
@settings(max_examples=60, deadline=None)
def test_label_never_fails_on_unknown_names(name):
    for lang in ("nl", "en"):
        assert isinstance(label(name, lang), str) and isinstance(unit_label(name, lang), str)
    assert humanise(name) == humanise(name)


# -- summary sentences (report.summary) ---------------------------------------------------------
from effectmeting.report.summary import (certainty_sentences, cost_per_outcome_sentence,  # noqa: E402
                                         interval_words)


def test_interval_words_dutch_and_english():
    assert interval_words(6.148, 7.812, "nl") == "tussen 6,15 en 7,81 hoger"
    assert interval_words(-7.812, -6.148, "nl") == "tussen 6,15 en 7,81 lager"
    assert interval_words(-1.2, 3.4, "nl") == "van 1,20 lager tot 3,40 hoger"
    assert interval_words(1234.5, 2345.25, "en") == "between 1,234.50 and 2,345.25 higher"


def _overall(estimates: dict) -> pd.DataFrame:
    return pd.DataFrame([{"estimator": e, "estimate": v[0], "conf_low": v[1], "conf_high": v[2]}
                         for e, v in estimates.items()])


def test_certainty_agreement_twfe_and_pretrends():
    overall = _overall({"twfe": (3.76, 3.08, 4.45), "cs": (6.98, 6.15, 7.81), "sa": (6.98, 6.18, 7.78)})
    pretrend = pd.DataFrame({"estimator": ["cs"], "p_value": [0.011]})
    text = " ".join(certainty_sentences(overall, pretrend, "cs", "nl"))
    assert "geheel boven nul" in text and "(6,98)" in text and "(3,76)" in text and "p = 0,011" in text
    assert "twijfel" in text
    disagree = _overall({"cs": (1.0, -0.5, 2.5), "sa": (4.0, 3.0, 5.0)})
    text = " ".join(certainty_sentences(disagree, None, "cs", "en"))
    assert "contains zero" in text and "depends on the method" in text


def _ratio_table(cost, outcome, ratio):
    return pd.DataFrame({"quantity": ["cost_effect", "outcome_effect", "outcome_effect_per_inhabitant", "ratio"],
                         "estimate": [cost, outcome, outcome / 5000, ratio[0]],
                         "conf_low": [np.nan, np.nan, np.nan, ratio[1]],
                         "conf_high": [np.nan, np.nan, np.nan, ratio[2]]})


def test_cost_per_outcome_sentence_from_numbers_not_strings():
    more = _ratio_table(3.96, 6.98, (3103.33, 1964.91, 4222.19))
    text = cost_per_outcome_sentence(more, cost_line="youth", outcome="jeugdhulp_per_1000_youth", base_year=2023,
                                     lang="nl")
    assert text == ("Per extra jongere met jeugdhulp horen daar ongeveer €\u00a03.103 extra lasten (jeugd) bij, in "
                    "euro's van 2023 (95%-interval €\u00a01.965 tot €\u00a04.222).")
    saved = _ratio_table(-3.0, -2.0, (1500.0, 900.0, 2100.0))
    assert "Per vermeden jongere met jeugdhulp wordt ongeveer €\u00a01.500 bespaard" in cost_per_outcome_sentence(
        saved, cost_line="youth", outcome="jeugdhulp_per_1000_youth", base_year=2023, lang="nl")
    mixed = _ratio_table(2.0, -4.0, (-500.0, -900.0, -100.0))  # fewer youths, higher cost: signed ratio < 0
    text = cost_per_outcome_sentence(mixed, cost_line="youth", outcome="jeugdhulp_per_1000_youth", base_year=2023,
                                     lang="en")
    assert "fewer young people with youth care" in text and "€500 extra" in text and "€100 to €900" in text
    sampled = more.assign(n_units=319)  # the ratio's own sample and cost effect are stated
    assert cost_per_outcome_sentence(sampled, cost_line="youth", outcome="jeugdhulp_per_1000_youth", base_year=2023,
                                     lang="nl").endswith(
        "Het gaat om lasten per jaar, berekend op de 319 gemeenten waarvan zowel de lasten als het aantal jongeren "
        "met jeugdhulp bekend zijn; daar stijgen de lasten met 3,96 euro per inwoner per jaar.")
    undefined = _ratio_table(2.0, 0.5, (np.nan, np.nan, np.nan))
    assert "niet te bepalen" in cost_per_outcome_sentence(undefined, cost_line="youth",
                                                          outcome="jeugdhulp_per_1000_youth", base_year=2023,
                                                          lang="nl")


# -- study figures and diagnostics ----------------------------------------------------------------
from effectmeting.report.study_figures import domain_costs_by_year  # noqa: E402


def test_domain_costs_are_population_weighted_and_skip_missing():
    costs = pd.DataFrame({"municipality": ["a", "b", "a", "b"], "year": [2020, 2020, 2021, 2021],
                          "youth": [100.0, 200.0, 110.0, np.nan], "access": [10.0, 20.0, 11.0, 22.0]})
    population = pd.Series([1000.0, 3000.0, 1000.0, 3000.0])
    means = domain_costs_by_year(costs, population, domains=("youth", "access"))
    # hand-computed: (100*1000 + 200*3000) / 4000 = 175; 2021 youth only municipality a -> 110
    assert means.loc[2020, "youth"] == pytest.approx(175.0)
    assert means.loc[2021, "youth"] == pytest.approx(110.0)
    assert means.loc[2021, "access"] == pytest.approx((11.0 * 1000 + 22.0 * 3000) / 4000)


def test_cost_effect_summary_has_no_empty_band():
    tidy = pd.DataFrame({"label": ["youth", "total"], "estimate": [4.1, 7.4], "conf_low": [2.7, 4.6],
                         "conf_high": [5.6, 10.2]})
    spec = cost_effect_summary_plot(tidy, unit="euro per inwoner", lang="nl", total="total")
    axes = spec.figure.axes[0]
    assert axes.get_ylim() == pytest.approx((0.5, 2.5))
    assert spec.figure.get_figheight() * 2.54 < 6.0  # was a fixed 6 cm minimum with rows 5 cm apart


def test_study_stage_does_not_import_the_report_stage():
    from pathlib import Path

    study_dir = Path(__file__).resolve().parents[2] / "src" / "effectmeting" / "study"
    import re

    pattern = re.compile(r"^\s*(?:from|import)\s+effectmeting\.report", re.M)  # also lazy imports inside functions
    offenders = [p.name for p in study_dir.glob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


# -- the demo report (tests/report/report_demo.py: one small study on the session's demo panel) --------------
class _ReportText(HTMLParser):
    """Text per place: headings, table headers, captions, alt texts, the summary and the caveats
    (outside the technical-details block)."""

    def __init__(self):
        super().__init__()
        self.places = {"heading": [], "th": [], "caption": [], "alt": [], "summary": [], "caveats": [], "p": []}
        self._stack, self._section, self._in_details = [], "", False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self._section = attrs.get("class", "")
        if tag == "details":
            self._in_details = True
        if tag == "img":
            self.places["alt"].append(attrs.get("alt") or "")
        self._stack.append(tag)

    def handle_endtag(self, tag):
        if tag == "details":
            self._in_details = False
        if self._stack:
            self._stack.pop()

    def handle_data(self, data):
        tag = self._stack[-1] if self._stack else ""
        if tag in ("h1", "h2", "h3"):
            self.places["heading"].append(data)
        elif tag == "th":
            self.places["th"].append(data)
        elif tag in ("caption", "figcaption"):
            self.places["caption"].append(data)
        if self._section == "summary" and tag in ("p", "li"):
            self.places["summary"].append(data)
        if self._section == "caveats" and tag == "li" and not self._in_details:
            self.places["caveats"].append(data)
        if tag in ("p", "li") and not self._in_details and self._section != "provenance":  # file names there
            self.places["p"].append(data)


@pytest.fixture(scope="module")
def demo_reports(demo_panel, tmp_path_factory):
    from report_demo import write_demo_report

    from report_demo import _inputs

    out = tmp_path_factory.mktemp("demo_report")
    reports = {"estimates_before": _inputs(demo_panel)[1].copy()}
    for lang in ("nl", "en"):
        path, estimates = write_demo_report(demo_panel, out / lang, lang)
        parser = _ReportText()
        text = path.read_text(encoding="utf-8")
        parser.feed(text)
        reports[lang] = {"path": path, "html": text, "places": parser.places, "estimates": estimates}
    return reports


RAW_IDENTIFIER = {"nl": r"\w+_\w+|role=|\b(?:twfe|imputation|cs|sa)\b", "en": r"\w+_\w+|role=|\b(?:twfe|cs|sa)\b"}


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_demo_report_shows_no_raw_identifiers(demo_reports, lang):
    import re

    places = demo_reports[lang]["places"]
    for place in ("heading", "th", "caption", "alt", "summary", "caveats", "p"):
        for text in places[place]:
            assert not re.search(RAW_IDENTIFIER[lang], text), (place, text)
    visible = demo_reports[lang]["html"].split('<details class="technical">')[0].split('<section id="section-1"')[1]
    visible = re.sub(r"<[^>]*>", " ", visible)  # text only: role="region" on a table box is markup
    for needle in ("_per_1000", "role=", "n_units"):  # anywhere outside the technical details
        assert needle not in visible, needle


def test_demo_report_table_headers_all_come_from_the_catalogue(demo_reports):
    from effectmeting.report.labels import cost_line_label
    from effectmeting.report.study_figures import DOMAIN_ORDER

    # the figures' data tables head their columns with cohorts and cost domains (catalogue and label registry)
    labels = (set(i18n.NL.values()) | {i18n.t("column.conf_interval", "nl", level="95")}
              | {i18n.t("cohort_label", "nl", year=year) for year in range(2000, 2031)}
              | {cost_line_label(domain, "nl") for domain in DOMAIN_ORDER})
    assert demo_reports["nl"]["places"]["th"]
    assert set(demo_reports["nl"]["places"]["th"]) <= labels


def test_demo_report_summary_in_dutch_number_format(demo_reports):
    import re

    report = demo_reports["nl"]
    summary = " ".join(report["places"]["summary"])
    estimates = report["estimates"]
    headline = estimates[(estimates["aggregation"] == "overall") & (estimates["estimator"] == "cs")]
    for row in headline.itertuples(index=False):
        # the headline numbers from the estimates table, written the Dutch way
        assert format_number(abs(row.estimate), "nl", 2) in summary
        assert "," in format_number(abs(row.estimate), "nl", 2)
    without_codes = re.sub(r"taakveld(?:en)? [\d., ]+", "", summary)
    assert not re.search(r"\d\.\d{1,2}(?!\d)", without_codes), "an English decimal point in the Dutch summary"
    assert "Callaway" in summary and "€\u00a03.1" in summary.replace("€\u00a03,1", "")  # ratio with thousands dot
    english = " ".join(demo_reports["en"]["places"]["summary"])
    assert format_number(abs(headline["estimate"].iloc[0]), "en", 2) in english
    assert "Summary" in demo_reports["en"]["html"]


def test_demo_report_sections_figures_and_alt_text(demo_reports):
    report = demo_reports["nl"]
    html_text, places = report["html"], report["places"]
    headings = places["heading"]
    order = [headings.index(h) for h in ("Samenvatting", "Methoden", "Diagnostiek", "Kanttekeningen",
                                          "Herkomst van de resultaten")]
    assert order == sorted(order)
    for sub in ("Trends vóór invoering", "Bacon-decompositie van de TWFE-schatting",
                "Gevoeligheid voor afwijkende trends"):
        assert sub in headings
    figures = sorted(p.stem for p in (report["path"].parent / "figures").glob("*.png"))
    assert {"cost_by_domain", "cost_effects", "forest_1", "cohort_trends_1_jeugdhulp_per_1000_youth",
            "event_study_1_jeugdhulp_per_1000_youth"} <= set(figures)
    assert sorted(p.stem for p in (report["path"].parent / "figures").glob("*.svg")) == figures
    assert len(places["alt"]) == len(figures) == html_text.count("<img ")
    assert all(len(alt) > 40 for alt in places["alt"])
    assert 'class="table-wrap"' in html_text and '<details class="technical">' in html_text


def test_demo_report_does_not_change_the_estimates(demo_reports):
    # the frame handed to write_outputs (estimates.csv's content) is the same after both reports
    pd.testing.assert_frame_equal(demo_reports["nl"]["estimates"], demo_reports["estimates_before"])


def test_sensitivity_guarded_and_wired_to_honest_did(demo_reports, demo_panel, monkeypatch):
    from effectmeting.errors import IdentificationError
    from effectmeting.report.diagnostics import robust_up_to, sensitivity
    from effectmeting.study import sensitivity as study_sensitivity
    from effectmeting.study.sensitivity import MBARS, sensitivity_bounds
    from report_demo import _inputs

    study = _inputs(demo_panel)[0]["role=gives_help"]
    table, lines, used = sensitivity(study, "nl")  # rendered from the study's own bounds
    assert used == "sa" and len(table) == len(MBARS) * len(study.outcomes) and len(lines) == len(study.outcomes)
    bounds = study.sensitivity.bounds
    first = bounds.iloc[0]
    assert table.iloc[0, 3] == f"[{format_number(first['lower'], 'nl', 2)}; {format_number(first['upper'], 'nl', 2)}]"
    # the sentence's M-bar: the robust interval excludes 0 up to it and (if a larger one was tried) not beyond
    part = bounds[bounds["outcome"] == study.outcomes[0]].sort_values("mbar")
    excludes = ((part["conf_low"] > 0) | (part["conf_high"] < 0)).to_numpy()
    largest = robust_up_to(part)
    if largest is None:
        assert not excludes[0] and "bevat het interval nul" in lines[0]
    else:
        position = list(part["mbar"]).index(largest)
        assert excludes[: position + 1].all() and (position + 1 == len(part) or not excludes[position + 1])
        assert f"M̄ = {format_number(largest, 'nl', 1)}" in lines[0]

    # the summary's "how sure" sentence follows the interval at M-bar = 1
    at_one = bounds[(bounds["outcome"] == study.outcomes[0]) & (bounds["mbar"] == 1.0)].iloc[0]
    key = "sensitivity_summary_robust" if (at_one["conf_low"] > 0 or at_one["conf_high"] < 0) \
        else "sensitivity_summary_fragile"
    assert i18n.t(key, "nl", estimator="Sun-Abraham") in " ".join(demo_reports["nl"]["places"]["summary"])

    def refuse(*args, **kwargs):
        raise IdentificationError("no pre-period before -1; nothing to bound", reason="no_pre_period")

    monkeypatch.setattr(study_sensitivity, "honest_did", refuse)
    refused = sensitivity_bounds(study, mbars=(1.0,))  # the study stage records the reason code
    assert refused.bounds.empty and refused.estimator is None
    assert refused.refused == {o: "no_pre_period" for o in study.outcomes}
    view = types.SimpleNamespace(outcomes=study.outcomes, sensitivity=refused)
    table, lines, used = sensitivity(view, "nl")
    assert table.empty and used is None
    # the reason is given in Dutch, not as honest_did's English message
    assert lines and all("niet mogelijk (er is geen schatting van vóór het referentiejaar)" in line for line in lines)
    # a study computed without sensitivity renders no sensitivity section
    table, lines, used = sensitivity(types.SimpleNamespace(outcomes=study.outcomes, sensitivity=None), "nl")
    assert table.empty and lines == [] and used is None


def test_demo_report_names_the_municipalities_the_merger_rule_affected(demo_reports, demo_panel):
    """The caveats count the study's merged municipalities (issue: "the study reports which
    municipalities it affected"), from the study's ``.merged`` table, in the report language."""
    import re

    from effectmeting.designs import derive_treatment, merged_municipalities

    units = derive_treatment(demo_panel, dimension="role", treated_value="gives_help").units["municipality"]
    merged = merged_municipalities(demo_panel)
    expected = int(merged["municipality"].isin(units).sum())
    caveats = {lang: " ".join(demo_reports[lang]["places"]["caveats"]) for lang in ("nl", "en")}
    found = re.search(r"(\d+) gemeenten zijn ontstaan uit een herindeling", caveats["nl"])
    assert found and int(found.group(1)) == expected > 10
    assert f"{expected} municipalities result from a herindeling" in caveats["en"]


def test_subgroup_forest_and_table_from_a_study_with_by(demo_panel):
    """A study split by size class gets a subgroup forest plot (estimable subgroups only), a table
    of every subgroup ('–' where not estimable) under Dutch headers, and the equality test's p."""
    from effectmeting.report.study_report import _subgroups_display
    from effectmeting.report.study_figures import study_subgroup_forest_plot
    from effectmeting.study import design_effect

    study = design_effect(demo_panel, design="role=gives_help", outcomes=["jeugdhulp_per_1000_youth"],
                          estimator=["cs", "twfe"], by="size_class")
    cs = study.subgroups["estimates"].query("estimator == 'cs'")
    units = {"jeugdhulp_per_1000_youth": "per 1,000 population_0_17"}
    spec = study_subgroup_forest_plot(study, units, lang="nl")
    assert spec is not None and "Gemeentegrootte" in spec.title
    for value, estimate in zip(cs["value"], cs["estimate"]):  # estimable subgroups only, each with its estimate
        value = subgroup_value_label("size_class", value, "nl")  # "10.000–20.000"
        shown = f", {value}: {format_number(estimate, 'nl', 2)}" if pd.notna(estimate) else f", {value}:"
        assert (shown in spec.alt_text) == pd.notna(estimate), (value, spec.alt_text)
    table, lines = _subgroups_display(study, units, "nl")
    assert len(table) == len(cs) and "Gemeentegrootte (inwoners)" in table.columns
    assert "10.000\u201320.000" in set(table["Gemeentegrootte (inwoners)"])
    assert (table["Schatting"] == "–").sum() == int(cs["estimate"].isna().sum())
    test = study.subgroups["tests"].query("estimator == 'cs'").iloc[0]
    assert any(format_p_value(test["p_value"], "nl") in line for line in lines)
    without = design_effect(demo_panel, design="role=gives_help", outcomes=["jeugdhulp_per_1000_youth"])
    assert study_subgroup_forest_plot(without, units) is None and _subgroups_display(without, units, "nl")[0] is None


def test_sensitivity_refusals_are_given_in_the_report_language():
    """A refusal arrives as a reason code and maps to a catalogue text; English exception text
    never reaches the report (no substring matching)."""
    from effectmeting.report.diagnostics import refusal_reason

    assert refusal_reason("no_pre_period", "nl") == "er is geen schatting van vóór het referentiejaar"
    assert refusal_reason("too_many_post_periods", "en") == "too many post-adoption years for this method"
    assert "technische details" in refusal_reason("not_contiguous", "nl")
    assert "technische details" in refusal_reason("option", "nl")


def test_cost_section_names_its_estimator_and_warns_for_twfe(demo_panel, tmp_path):
    """The cost table's caption names the estimator and comparison group; TWFE cost effects get a
    warning first (they are for contrast only)."""
    from types import SimpleNamespace

    from effectmeting.report.study_report import _cost_section
    from report_demo import _inputs

    costs = dict(_inputs(demo_panel)[2])
    config = SimpleNamespace(price_base_year=2023)
    for estimator, warned in (("cs", False), ("twfe", True)):
        costs["effects"] = costs["effects"].assign(estimator=estimator, control="never")
        section, bullets, _ = _cost_section(costs, demo_panel, config, "nl", None, tmp_path / estimator,
                                            tmp_path / estimator)
        assert (bullets[0] == i18n.t("cost_twfe_warning", "nl")) == warned
        caption = section.tables[0].caption
        assert i18n.t("comparison_never", "nl") in caption
        assert ("TWFE" in caption) == warned and ("Callaway" in caption) != warned


def test_forest_across_outcomes_gives_each_outcome_its_own_axis_and_unit():
    """Outcomes in different units never share an x-axis: one panel per outcome, its unit on it."""
    from effectmeting.report.study_figures import study_forest_plot

    overall = pd.DataFrame({"outcome": ["jeugdhulp_per_1000_youth"] * 2 + ["cost_6_72_per_inhabitant"] * 2,
                            "estimator": ["cs", "sa"] * 2, "estimate": [7.0, 6.9, 9.8, 9.7],
                            "conf_low": [6.1, 6.0, 8.5, 8.4], "conf_high": [7.8, 7.7, 11.1, 11.0]})
    units = {"jeugdhulp_per_1000_youth": "per 1,000 population_0_17",
             "cost_6_72_per_inhabitant": "euros per inhabitant"}
    spec = study_forest_plot(overall, units, lang="nl")
    axes = spec.figure.axes
    assert len(axes) == 2
    assert "jongeren van 0-17 jaar" in axes[0].get_xlabel() and "euro per inwoner" in axes[1].get_xlabel()
    assert [tick.get_text() for tick in axes[1].get_yticklabels()] == ["Callaway-Sant'Anna", "Sun-Abraham"]
    assert "9,80" in spec.alt_text


def test_demo_report_names_co_adoption_and_coinciding_estimators(demo_reports, demo_panel):
    from report_demo import _inputs

    study = _inputs(demo_panel)[0]["role=gives_help"]
    flagged = study.co_adoption[study.co_adoption["flagged"]]
    assert flagged["design_b"].tolist() == ["target_group=all_ages"]
    assert study.coinciding[["estimator", "same_as"]].values.tolist() == [["sa", "cs"]]
    caveats = {lang: " ".join(demo_reports[lang]["places"]["caveats"]) for lang in ("nl", "en")}
    assert ("Gemeenten die kozen voor ‘wijkteam geeft zelf hulp’ kozen vaak tegelijk ook voor ‘één team voor alle "
            "leeftijden’ (183 van 256 binnen 2 jaar)") in caveats["nl"]
    assert "van die andere keuze komen" in caveats["nl"]
    assert "‘one team for all ages’ at about the same time (183 of 256 within 2 years)" in caveats["en"]
    assert "geen onafhankelijke bevestiging" in caveats["nl"] and "no independent confirmation" in caveats["en"]
    # the summary counts Sun-Abraham once: no "other estimators agree" sentence resting on it alone
    summary = " ".join(demo_reports["nl"]["places"]["summary"])
    assert "De andere schatters" not in summary
    assert "Sun-Abraham geeft per constructie hetzelfde getal als Callaway-Sant'Anna" in summary


def test_certainty_counts_coinciding_estimators_once():
    overall = _overall({"cs": (6.98, 6.15, 7.81), "sa": (6.98, 6.18, 7.78), "imputation": (7.1, 6.2, 8.0)})
    text = " ".join(certainty_sentences(overall, None, "cs", "en", same_as={"sa": "cs"}))
    # only the independent estimator is listed as agreeing; Sun-Abraham is named once, as a copy
    assert "(Imputation (Borusyak et al.)) give similar values (7.10)." in text
    assert text.count("Sun-Abraham") == 1
    assert "Sun-Abraham gives the same number as Callaway-Sant'Anna by construction" in text
