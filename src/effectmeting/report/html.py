"""A self-contained HTML report: one file, no external URLs, no JavaScript.

Figures are embedded as base64 PNG ``<img alt=...>`` (default) or inline SVG with
``role="img"`` and ``aria-label``; CSS is inline.  All text is escaped.  Sections are ordered
plain-language summary, methods, results, diagnostics, caveats; a provenance block closes the
report.  The same inputs give byte-identical HTML (figures are saved deterministically and no
date is added; put the run date in ``provenance`` if wanted).

Accessibility (WCAG 2.1 AA, checked with axe-core in tests/report/test_report_browser.py):
``<html lang>`` is the report language; headings go h1 (title), h2 (section), h3 (sub-section)
without skipping; each figure's numbers follow it as a collapsed data table
(``<details class="figure-data">``); tables have ``<th scope="col">`` and a caption; a table
wider than the text column scrolls in a box that the keyboard can reach (``tabindex="0"``,
named by the caption); text colours have at least 4.5:1 contrast; the print stylesheet lays the
report out on A4 with every table inside the page width.
"""
from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from effectmeting.errors import AnalysisConfigError
from effectmeting.report.i18n import has_label, t
from effectmeting.report.number_format import check_language
from effectmeting.report.style import FigureSpec
from effectmeting.report.tables import TableSpec, table_to_html

#: Section kinds in report order.
SECTION_KINDS = ("summary", "methods", "results", "diagnostics", "caveats")

CSS = """
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; font-size: 11pt; line-height: 1.5;
       color: #1a1a1a; background: #ffffff; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.5rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #cccccc; padding-bottom: 0.2rem; }
nav ol { padding-left: 1.2rem; }
a { color: #0072B2; }
:focus-visible { outline: 3px solid #0072B2; outline-offset: 2px; }
figure { margin: 1.5rem 0; }
figure img, figure svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 0.9rem; color: #444444; margin-top: 0.3rem; }
div.table-wrap { overflow-x: auto; max-width: 100%; margin: 1rem 0; }
details.figure-data { margin: -0.8rem 0 1.5rem; font-size: 0.9rem; }
details.figure-data summary { cursor: pointer; color: #0060a0; }
details.figure-data div.table-wrap { margin-top: 0.3rem; }
table.effectmeting { border-collapse: collapse; font-size: 0.8rem; font-variant-numeric: tabular-nums; }
table.effectmeting caption { text-align: left; font-weight: bold; padding-bottom: 0.3rem; }
table.effectmeting th, table.effectmeting td { padding: 0.2rem 0.45rem; border-bottom: 1px solid #dddddd;
                                               vertical-align: top; }
table.effectmeting th { text-align: right; font-weight: bold; }
table.effectmeting td { white-space: nowrap; }
table.effectmeting td:first-child { white-space: normal; min-width: 10rem; }
h3 { font-size: 1.05rem; margin-top: 1.6rem; }
details.technical { margin-top: 1rem; font-size: 0.85rem; color: #333333; }
details.technical summary { cursor: pointer; font-weight: bold; }
table.effectmeting td { text-align: right; }
table.effectmeting td:first-child, table.effectmeting th:first-child { text-align: left; }
section.summary { background: #f4f8fb; border-left: 4px solid #0072B2; padding: 0.2rem 1rem 0.6rem; }
section.caveats { border-left: 4px solid #D55E00; padding-left: 1rem; }
dl.provenance { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; font-size: 0.9rem; }
dl.provenance dt { font-weight: bold; }
dl.provenance dd { margin: 0; overflow-wrap: anywhere; }
footer { margin-top: 2rem; font-size: 0.8rem; color: #555555; }
@page { size: A4; margin: 15mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  nav { display: none; }
  h2, h3 { break-after: avoid; }
  figure, tr { break-inside: avoid; }
  figure img, figure svg { max-height: 230mm; width: auto; }
  /* on paper nothing scrolls: wide tables shrink and wrap instead of being cut off */
  div.table-wrap { overflow: visible; }
  table.effectmeting { font-size: 7.5pt; }
  table.effectmeting td, table.effectmeting td:first-child { white-space: normal; min-width: 0; }
  table.effectmeting th, table.effectmeting td { overflow-wrap: break-word; hyphens: auto; }
  pre { white-space: pre-wrap; overflow-wrap: anywhere; }
  a { color: #1a1a1a; text-decoration: none; }
}
""".strip()


@dataclass
class Section:
    """One report section: paragraphs of plain text, then figures, then tables.

    ``kind`` places the section: ``summary`` (plain-language, first), ``methods``,
    ``results``, ``diagnostics``, ``caveats``; within a kind the given order is kept.
    """

    title: str
    paragraphs: list[str] = field(default_factory=list)
    figures: list[FigureSpec] = field(default_factory=list)
    tables: list[TableSpec | pd.DataFrame] = field(default_factory=list)
    kind: str = "results"
    #: a bulleted list shown after the paragraphs (e.g. one finding per outcome)
    bullets: list[str] = field(default_factory=list)
    #: sub-sections (``<h3>``), each with its own text, figures and tables; their kind is ignored
    subsections: list[Section] = field(default_factory=list)
    #: technical notes shown collapsed (``<details>``) at the end, under ``details_title``
    details: list[str] = field(default_factory=list)
    details_title: str = ""
    #: the numbers behind each figure, by the figure's ``name``: shown collapsed under the figure
    #: (readers who cannot see the figure, or want the values, read them there)
    figure_data: dict[str, TableSpec | pd.DataFrame] = field(default_factory=dict)


def _figure_html(spec: FigureSpec, number: int, lang: str, figure_format: str) -> str:
    alt = html.escape(spec.alt_text, quote=True)
    if figure_format == "svg":
        svg = spec.to_bytes("svg").decode("utf-8")
        # drop the XML prolog/doctype (invalid inside HTML) and the RDF metadata block
        svg = svg[svg.index("<svg"):]
        start, end = svg.find("<metadata>"), svg.find("</metadata>")
        if start != -1 and end != -1:
            svg = svg[:start] + svg[end + len("</metadata>"):]
        svg = svg.replace("<svg ", f'<svg role="img" aria-label="{alt}" ', 1)
        media = svg.strip()
    else:
        encoded = base64.b64encode(spec.to_bytes("png")).decode("ascii")
        media = f'<img src="data:image/png;base64,{encoded}" alt="{alt}">'
    caption = f"{t('figure', lang)} {number}. {spec.title}"
    return (f'<figure id="figure-{number}">\n{media}\n'
            f"<figcaption>{html.escape(caption)}</figcaption>\n</figure>")


def _figure_data_html(data: TableSpec | pd.DataFrame, spec: FigureSpec, number: int, lang: str) -> str:
    """The figure's numbers as a table, collapsed under the figure (a text alternative with every value)."""
    frame = data.frame if isinstance(data, TableSpec) else data
    caption = t("figure_data_caption", lang, number=number, title=spec.title).rstrip(". ")
    summary = html.escape(t("figure_data", lang, number=number))
    return (f'<details class="figure-data">\n<summary>{summary}</summary>\n'
            f"{_scroll_box(frame, caption, f'figure-{number}-data')}\n</details>")


def _scroll_box(frame: pd.DataFrame, caption: str, anchor: str) -> str:
    """A table in a box that scrolls sideways when the table is wider than the text column.

    The box is focusable and named by the table's caption, so keyboard users can scroll it
    (WCAG 2.1.1; axe-core rule ``scrollable-region-focusable``).
    """
    caption_id = f"{anchor}-caption"
    table = table_to_html(frame, caption, caption_id=caption_id).strip()
    return (f'<div class="table-wrap" tabindex="0" role="region" aria-labelledby="{caption_id}">\n'
            f"{table}\n</div>")


def _table_html(table: TableSpec | pd.DataFrame, number: int, lang: str) -> str:
    spec = table if isinstance(table, TableSpec) else TableSpec(frame=table)
    caption = f"{t('table', lang)} {number}. {spec.caption}" if spec.caption else f"{t('table', lang)} {number}"
    return _scroll_box(spec.frame, caption, f"table-{number}")


def _value_html(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return "<ul>" + "".join(f"<li>{_value_html(v)}</li>" for v in value) + "</ul>"
    if isinstance(value, dict):
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str, indent=1)
        return f"<pre>{html.escape(text)}</pre>"
    return html.escape(str(value))


def _provenance_html(provenance: dict, lang: str) -> str:
    # keys with a catalogue label (provenance.<key>) are shown translated, others as given
    def name(key: object) -> str:
        return t(f"provenance.{key}", lang) if has_label(f"provenance.{key}", lang) else str(key)

    items = "".join(f"<dt>{html.escape(name(key))}</dt><dd>{_value_html(value)}</dd>"
                    for key, value in provenance.items())
    title = html.escape(t("section.provenance", lang))
    return (f'<section id="provenance" class="provenance">\n<h2>{title}</h2>\n'
            f'<dl class="provenance">{items}</dl>\n</section>')


def _package_version() -> str:
    """effectmeting's version (the package attribute, so an editable install reports the source's)."""
    import effectmeting

    return str(getattr(effectmeting, "__version__", "")).strip()


def build_report(sections: list[Section], *, lang: str = "nl", title: str, provenance: dict,
                 figure_format: str = "png") -> str:
    """The report as one HTML string.

    Sections are ordered by kind (see :data:`SECTION_KINDS`); at least one ``summary``
    section is required, because readers who stop after the first screen must get the
    plain-language findings.  ``provenance`` (inputs, versions, seeds, hashes, run date) is
    shown as a definition list in the given key order.  ``figure_format`` is ``"png"``
    (base64 ``<img>``) or ``"svg"`` (inline).
    """
    check_language(lang)
    if figure_format not in ("png", "svg"):
        raise AnalysisConfigError(f"report figure format {figure_format!r} unknown; use 'png' or 'svg'")
    unknown = [s.kind for s in sections if s.kind not in SECTION_KINDS]
    if unknown:
        raise AnalysisConfigError(f"report section kind(s) {unknown} unknown; use one of {list(SECTION_KINDS)}")
    if not any(s.kind == "summary" for s in sections):
        raise AnalysisConfigError("the report needs a plain-language section of kind 'summary' to open with")
    ordered = sorted(sections, key=lambda s: SECTION_KINDS.index(s.kind))  # stable within a kind

    body, toc = [], []
    counter = {"figure": 0, "table": 0}

    def content(section: Section, level: int) -> list[str]:
        parts = [f"<h{level}>{html.escape(section.title)}</h{level}>"]
        parts += [f"<p>{html.escape(paragraph)}</p>" for paragraph in section.paragraphs]
        if section.bullets:
            parts.append("<ul>" + "".join(f"<li>{html.escape(b)}</li>" for b in section.bullets) + "</ul>")
        for figure in section.figures:
            counter["figure"] += 1
            parts.append(_figure_html(figure, counter["figure"], lang, figure_format))
            if figure.name in section.figure_data:
                parts.append(_figure_data_html(section.figure_data[figure.name], figure, counter["figure"], lang))
        for table in section.tables:
            counter["table"] += 1
            parts.append(_table_html(table, counter["table"], lang))
        for sub in section.subsections:
            parts += content(sub, level + 1)
        if section.details:
            items = "".join(f"<li>{html.escape(d)}</li>" for d in section.details)
            parts.append(f'<details class="technical"><summary>{html.escape(section.details_title)}</summary>'
                         f"<ul>{items}</ul></details>")
        return parts

    for index, section in enumerate(ordered, start=1):
        anchor = f"section-{index}"
        toc.append(f'<li><a href="#{anchor}">{html.escape(section.title)}</a></li>')
        parts = [f'<section id="{anchor}" class="{section.kind}">', *content(section, 2), "</section>"]
        body.append("\n".join(parts))
    toc.append(f'<li><a href="#provenance">{html.escape(t("section.provenance", lang))}</a></li>')

    document = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # an empty data-URL icon stops browsers from requesting /favicon.ico (a console error)
        '<link rel="icon" href="data:,">',
        f"<title>{html.escape(title)}</title>",
        f"<style>\n{CSS}\n</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{html.escape(title)}</h1>",
        f'<nav aria-label="{html.escape(t("report_contents", lang), quote=True)}">'
        f"<ol>{''.join(toc)}</ol></nav>",
        "</header>",
        "<main>",
        *body,
        _provenance_html(provenance, lang),
        "</main>",
        # the version closes the provenance: the same inputs with another version may give other numbers
        f"<footer>{html.escape(t('generated_by', lang))} {html.escape(_package_version())}</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(document) + "\n"


def write_report(path: str | Path, sections: list[Section], *, lang: str = "nl", title: str,
                 provenance: dict, figure_format: str = "png") -> Path:
    """Build the report (see :func:`build_report`) and write it as UTF-8 to ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = build_report(sections, lang=lang, title=title, provenance=provenance, figure_format=figure_format)
    with open(target, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    return target
