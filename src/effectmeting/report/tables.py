"""Report tables: Dutch/English formatting of tidy estimates and deterministic writers.

``estimates_table`` turns a tidy frame (``estimate``, ``std_error``, ``p_value``, ``conf_low``,
``conf_high`` plus label columns) into a frame of display strings with translated column
names; ``write_table`` writes it as Markdown, LaTeX and HTML.  Writers add nothing that
varies between runs (no dates, fixed newlines, UTF-8), so reruns are byte-identical.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from effectmeting.errors import InputError
from effectmeting.report.i18n import has_label, t
from effectmeting.report.labels import column_label
from effectmeting.report.number_format import (MISSING, check_language, format_number, format_p_value,
                                         format_percent)

__all__ = ["TableSpec", "estimates_table", "format_number", "format_percent", "table_to_html",
           "table_to_latex", "table_to_markdown", "write_table"]

#: Columns shown with the estimate's precision (same unit as the estimate).
ESTIMATE_LIKE = ("estimate", "std_error", "conf_low", "conf_high", "weight")


@dataclass
class TableSpec:
    """A formatted table with a caption and a file name stem."""

    frame: pd.DataFrame
    caption: str = ""
    name: str = "table"


def _column_title(column: str, lang: str, level: float) -> str:
    key = f"column.{column}"
    if column == "conf_interval":
        return t(key, lang, level=format_number(level * 100, lang, 0))
    # a column without a catalogue entry still gets a readable header (never the raw name)
    return t(key, lang) if has_label(key, lang) else column_label(column, lang)


def _format_column(values: pd.Series, lang: str, digits: int) -> pd.Series:
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return values.astype("string").fillna(MISSING).astype(str)
    if pd.api.types.is_integer_dtype(values):
        return values.map(lambda v: format_number(v, lang, 0, thousands=False))
    return values.map(lambda v: format_number(v, lang, digits))


def estimates_table(tidy: pd.DataFrame, lang: str = "nl", *, digits: int = 3, level: float = 0.95,
                    combine_interval: bool = True, drop: tuple[str, ...] = ("statistic",)) -> pd.DataFrame:
    """Display version of a tidy estimates frame: every cell a string, columns translated.

    Numbers get ``digits`` decimals in ``lang`` style (``1.234,500`` in Dutch), p-values three
    decimals with ``<0,001`` below, missing values ``–``; integer columns (event time, nobs)
    no decimals and no thousands separator.  With ``combine_interval`` the ``conf_low`` and
    ``conf_high`` columns become one ``[low; high]`` column (``;`` in Dutch, since the comma is
    the decimal mark).  Columns in ``drop`` are left out; the row order is kept.
    """
    check_language(lang)
    if "estimate" not in tidy.columns:
        raise InputError(f"estimates_table: column 'estimate' missing; columns present: {list(tidy.columns)}")
    frame = tidy.drop(columns=[c for c in drop if c in tidy.columns]).reset_index(drop=True)
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        if combine_interval and column in ("conf_low", "conf_high"):
            if column == "conf_low" and "conf_high" in frame.columns:
                low = _format_column(frame["conf_low"], lang, digits)
                high = _format_column(frame["conf_high"], lang, digits)
                out["conf_interval"] = "[" + low + t("interval_separator", lang) + high + "]"
            continue
        if column == "p_value" or (column.startswith("p_") and pd.api.types.is_float_dtype(frame[column])):
            # adjusted p-values (p_holm, p_romano_wolf) read like p_value: "<0,001" below 0.001
            out[column] = frame[column].map(lambda v: format_p_value(v, lang))
        else:
            out[column] = _format_column(frame[column], lang, digits)
    out.columns = [_column_title(c, lang, level) for c in out.columns]
    return out


def _cells(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header = [str(c) for c in frame.columns]
    rows = frame.astype("string").fillna(MISSING).astype(str).to_numpy().tolist()
    return header, rows


def table_to_markdown(frame: pd.DataFrame, caption: str = "") -> str:
    """GitHub-flavoured Markdown; ``|`` inside cells is escaped."""
    header, rows = _cells(frame)

    def esc(text: str) -> str:
        return text.replace("|", r"\|").replace("\n", " ")

    lines = [f"**{esc(caption)}**", ""] if caption else []
    lines.append("| " + " | ".join(esc(c) for c in header) + " |")
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(esc(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "\u00a0": "~", "<": r"\textless{}", ">": r"\textgreater{}"}


#: characters pdflatex cannot typeset from UTF-8 input without extra packages: the combining macron
#: of "M̄" (the sensitivity table), the euro sign and the typographic minus
_LATEX_UNICODE = {"\u0304": None, "\u20ac": r"\texteuro{}", "\u2212": "$-$"}


def _latex_escape(text: str) -> str:
    out: list[str] = []
    for ch in text:
        if ch == "\u0304" and out:  # combining macron: put the bar over the preceding letter
            out[-1] = r"$\bar{" + out[-1] + "}$"
        elif ch in _LATEX_UNICODE:
            out.append(_LATEX_UNICODE[ch] or "")
        else:
            out.append(_LATEX_SPECIAL.get(ch, ch))
    return "".join(out)


def table_to_latex(frame: pd.DataFrame, caption: str = "") -> str:
    """A ``table`` float with a ``tabular`` (booktabs rules); first column left, others right."""
    header, rows = _cells(frame)
    spec = "l" + "r" * (len(header) - 1)
    lines = [r"\begin{table}[htbp]", r"\centering"]
    if caption:
        lines.append(r"\caption{" + _latex_escape(caption) + "}")
    lines += [r"\begin{tabular}{" + spec + "}", r"\toprule",
              " & ".join(_latex_escape(c) for c in header) + r" \\", r"\midrule"]
    lines += [" & ".join(_latex_escape(v) for v in row) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def table_to_html(frame: pd.DataFrame, caption: str = "", *, caption_id: str = "") -> str:
    """An escaped HTML ``<table>`` (no inline styles; the report's CSS styles it).

    Column headers are ``<th scope="col">`` (screen readers announce them with each cell);
    ``caption_id`` gives the caption an ``id``, so a scrolling box around the table can be
    named by it (``aria-labelledby``).
    """
    header, rows = _cells(frame)
    parts = ['<table class="effectmeting">']
    if caption:
        identifier = f' id="{html.escape(caption_id, quote=True)}"' if caption_id else ""
        parts.append(f"<caption{identifier}>{html.escape(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f'<th scope="col">{html.escape(c)}</th>' for c in header)
                 + "</tr></thead>")
    parts.append("<tbody>")
    parts += ["<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in rows]
    parts.append("</tbody></table>")
    return "\n".join(parts) + "\n"


def write_table(frame: pd.DataFrame, out_dir: str | Path, name: str, *, caption: str = "") -> dict[str, Path]:
    """Write ``<name>.md``, ``<name>.tex`` and ``<name>.html`` into ``out_dir``; return the paths."""
    if not name or any(ch in name for ch in "/\\") or name.startswith("."):
        raise InputError(f"write_table: table name {name!r} must be a plain file name stem")
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    writers = {"md": table_to_markdown, "tex": table_to_latex, "html": table_to_html}
    paths = {}
    for suffix, writer in writers.items():
        path = directory / f"{name}.{suffix}"
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(writer(frame, caption))
        paths[suffix] = path
    return paths
