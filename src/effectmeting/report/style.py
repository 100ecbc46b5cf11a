"""The one figure style of effectmeting: palette, sizes, number formats, furniture, saving.

* Colours: the Okabe-Ito palette (Okabe & Ito 2008), distinguishable with the common forms
  of colour-vision deficiency; series beyond eight colours also change line style.
* Size: 16 cm wide (A4 text width) with 9 pt text, so a figure printed at 100 % is readable.
* Settings are applied with :func:`apply_style`, a ``matplotlib.rc_context``: nothing leaks
  into the caller's global ``rcParams``.  Figures are built with ``matplotlib.figure.Figure``
  (not pyplot), so no global figure registry or GUI backend is involved.
* Every figure carries a title, axis labels with units, a source line ("Bron: ...") and alt
  text; :class:`FigureSpec` keeps them together.
* Saving is deterministic: fixed SVG hash salt, no dates, fixed ``Software``/``Creator``
  metadata and the bundled DejaVu Sans font, so a rerun writes byte-identical files.
"""
from __future__ import annotations

import contextlib
import io
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import matplotlib.style
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine, PlaceHolderLayoutEngine
from matplotlib.ticker import Formatter, MaxNLocator
from matplotlib.transforms import ScaledTranslation

from effectmeting.errors import AnalysisConfigError
from effectmeting.report.i18n import t
from effectmeting.report.number_format import (NBSP, UNICODE_MINUS, check_language, decimals_for_ticks,
                                               format_euro, format_number)

#: Okabe-Ito colours by name.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
#: Minimum contrast of a data series (line, marker, bar) on the white background: WCAG 2.1
#: success criterion 1.4.11 (non-text contrast, level AA) asks 3:1 for graphics needed to read a figure.
MIN_GRAPHIC_CONTRAST = 3.0
#: Okabe-Ito colours as drawn on white: orange, sky blue, yellow and reddish purple are too light
#: there (2.3, 2.3, 1.3 and 3.06:1), so their lightness is lowered (same hue and saturation, in HLS)
#: until they reach 3.3:1; blue, vermillion, bluish green and black already do (5.2, 3.9, 3.4, 21).
OKABE_ITO_ON_WHITE: dict[str, str] = {
    **OKABE_ITO,
    "orange": "#BB8100",
    "sky_blue": "#1C95D9",
    "yellow": "#978E0C",
    "reddish_purple": "#C870A1",
}
#: Order for data series: the most distinct colours first, the darkened yellow (olive) last.
SERIES_COLORS: list[str] = [OKABE_ITO_ON_WHITE[name] for name in (
    "blue", "vermillion", "bluish_green", "orange", "reddish_purple", "sky_blue", "black", "yellow")]
SERIES_LINESTYLES: list[str] = ["-", "--", ":", "-."]
SERIES_MARKERS: list[str] = ["o", "s", "D", "^", "v", "P", "X", "*"]
NEUTRAL = "#555555"

FIGURE_WIDTH_CM = 16.0
DEFAULT_HEIGHT_CM = 10.0
CM_PER_INCH = 2.54
PNG_DPI = 200
BASE_FONT_SIZE = 9.0
SOURCE_FONT_SIZE = 7.0
SVG_HASH_SALT = "effectmeting"
#: characters per line of a figure title before it wraps (bold 11 pt on a 16 cm figure)
TITLE_WIDTH_CHARS = 62
#: characters per line of the note under the source line (7 pt on a 16 cm figure)
SOURCE_WIDTH_CHARS = 110

STYLE_RC: dict[str, object] = {
    # the font shipped with matplotlib: identical glyphs (and bytes) on every machine
    "font.family": "DejaVu Sans",
    "font.size": BASE_FONT_SIZE,
    "axes.titlesize": BASE_FONT_SIZE + 2,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": BASE_FONT_SIZE,
    "xtick.labelsize": BASE_FONT_SIZE - 0.5,
    "ytick.labelsize": BASE_FONT_SIZE - 0.5,
    "legend.fontsize": BASE_FONT_SIZE - 0.5,
    "legend.frameon": False,
    "axes.prop_cycle": cycler(color=SERIES_COLORS),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "axes.unicode_minus": True,
    "lines.linewidth": 1.6,
    "lines.markersize": 5,
    "errorbar.capsize": 2.5,
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "savefig.dpi": PNG_DPI,
    "savefig.facecolor": "white",
    "svg.hashsalt": SVG_HASH_SALT,
    "svg.fonttype": "path",
    "path.simplify": True,
    "image.interpolation": "nearest",
}


@contextlib.contextmanager
def apply_style() -> Iterator[None]:
    """Context in which figures are created and saved with the effectmeting style.

    Starts from matplotlib's defaults (so a user's matplotlibrc or earlier ``rcParams``
    changes cannot alter our files) and applies :data:`STYLE_RC`; like ``rc_context`` it
    restores the caller's ``rcParams`` on exit.
    """
    with matplotlib.style.context(["default", STYLE_RC]):
        yield


def series_style(index: int, *, reserve_black: bool = False) -> dict[str, str]:
    """Colour, line style and marker for the ``index``-th series (cycles after 8 colours
    with a new line style, so 9+ series stay distinguishable).

    ``reserve_black=True`` leaves black out of the cycle, for figures where black already
    means something else (the never-adopters' reference line), so no series can be mistaken
    for it; the olive (darkened yellow) goes too, as the colour least distinct from orange, so the six
    other colours repeat with the next line style from the seventh series on."""
    colors = ([c for c in SERIES_COLORS if c not in (OKABE_ITO_ON_WHITE["black"], OKABE_ITO_ON_WHITE["yellow"])]
              if reserve_black
              else SERIES_COLORS)
    return {
        "color": colors[index % len(colors)],
        "linestyle": SERIES_LINESTYLES[(index // len(colors)) % len(SERIES_LINESTYLES)],
        "marker": SERIES_MARKERS[index % len(SERIES_MARKERS)],
    }


class NumberFormatter(Formatter):
    """Tick labels in Dutch or English number style, locale-independent.

    ``digits=None`` chooses the fewest decimals that show every tick exactly; ``percent=True``
    treats values as fractions (0.12 -> ``12 %``); ``euro=True`` writes amounts in the
    language's euro style (``€ 1.400`` / ``€1,400``, the minus before the euro sign);
    ``prefix``/``suffix`` add other text.
    """

    def __init__(self, lang: str = "nl", digits: int | None = None, *, percent: bool = False,
                 euro: bool = False, prefix: str = "", suffix: str = "") -> None:
        self.lang = check_language(lang)
        self.digits = digits
        self.percent = percent
        self.euro = euro
        self.prefix = prefix
        self.suffix = suffix
        self._tick_values = np.array([], dtype=float)

    def set_locs(self, locs) -> None:
        # keep our own copy: Formatter.locs is deprecated (matplotlib 3.11)
        super().set_locs(locs)
        self._tick_values = np.asarray(locs, dtype=float)

    def _digits(self) -> int:
        if self.digits is not None:
            return self.digits
        return decimals_for_ticks(self._tick_values * (100.0 if self.percent else 1.0))

    def __call__(self, x: float, pos: int | None = None) -> str:
        value = x * 100.0 if self.percent else x
        if self.euro:
            return self.prefix + format_euro(value, self.lang, self._digits(), minus=UNICODE_MINUS) + self.suffix
        text = format_number(value, self.lang, self._digits(), minus=UNICODE_MINUS)
        if self.percent:
            text += NBSP + "%" if self.lang == "nl" else "%"
        return self.prefix + text + self.suffix


class YearFormatter(Formatter):
    """Calendar years: no thousands separator (``2019``, not ``2.019``), whole years only."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:.0f}" if float(x).is_integer() else ""


@contextlib.contextmanager
def _frozen_layout(figure: Figure) -> Iterator[None]:
    """Save a laid-out, frozen figure with one draw per format instead of two.

    :func:`finish_figure` lays the figure out and then switches the layout engine to ``"none"``,
    which matplotlib keeps as a placeholder engine; ``savefig`` draws a figure that has any
    engine once without rendering before the real draw (to run the layout).  With the layout
    frozen that first draw changes nothing, so the engine is detached while saving (matplotlib
    has no public way back to "no engine") and restored afterwards.
    """
    engine = figure.get_layout_engine()
    if not isinstance(engine, PlaceHolderLayoutEngine):
        yield  # not frozen by finish_figure: let savefig lay it out as usual
        return
    figure._layout_engine = None  # type: ignore[attr-defined]
    try:
        yield
    finally:
        figure._layout_engine = engine  # type: ignore[attr-defined]


@dataclass
class FigureSpec:
    """A finished figure with what a report needs beside the pixels."""

    figure: Figure
    alt_text: str
    name: str
    title: str = ""
    source: str = ""
    lang: str = "nl"
    #: rendered bytes per format: the layout is frozen, so a second render would give the same
    #: bytes; saving and embedding then draw each figure once per format
    _rendered: dict = field(default_factory=dict, repr=False, compare=False)

    def _metadata(self, kind: str) -> dict[str, object]:
        if kind == "png":
            # no 'Software' version string: files must not change with the matplotlib version
            return {"Software": "effectmeting", "Title": self.title, "Description": self.alt_text}
        return {"Date": None, "Creator": "effectmeting", "Title": self.title,
                "Description": self.alt_text}

    def to_bytes(self, kind: str = "png") -> bytes:
        """The figure as PNG (200 dpi) or SVG bytes, deterministic."""
        if kind not in ("png", "svg"):
            raise AnalysisConfigError(f"figure format {kind!r} not supported; use 'png' or 'svg'")
        if kind not in self._rendered:
            buffer = io.BytesIO()
            with apply_style(), _frozen_layout(self.figure):
                self.figure.savefig(buffer, format=kind, dpi=PNG_DPI, metadata=self._metadata(kind))
            self._rendered[kind] = buffer.getvalue()
        return self._rendered[kind]

    def save(self, out_dir: str | Path, formats: tuple[str, ...] = ("png", "svg")) -> list[Path]:
        """Write ``<name>.png`` and ``<name>.svg`` into ``out_dir`` (created if needed)."""
        if not self.name or any(ch in self.name for ch in "/\\") or self.name.startswith("."):
            raise AnalysisConfigError(f"figure name {self.name!r} must be a plain file name stem")
        directory = Path(out_dir)
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for kind in formats:
            path = directory / f"{self.name}.{kind}"
            path.write_bytes(self.to_bytes(kind))
            paths.append(path)
        return paths


def new_figure(height_cm: float = DEFAULT_HEIGHT_CM) -> tuple[Figure, Axes]:
    """A 16 cm wide figure with one axes and constrained layout.  Call inside
    :func:`apply_style` so the style applies to the new artists."""
    figure = Figure(figsize=(FIGURE_WIDTH_CM / CM_PER_INCH, height_cm / CM_PER_INCH),
                    layout="constrained")
    # extra side padding: a tick label centred on the axes' right end (e.g. "€ 30") would
    # otherwise be cut at the figure edge
    engine = figure.get_layout_engine()
    assert isinstance(engine, ConstrainedLayoutEngine)  # layout="constrained" above
    engine.set(w_pad=0.12)
    axes = figure.add_subplot()
    return figure, axes


def finish_figure(figure: Figure, axes: Axes, *, title: str, xlabel: str, ylabel: str,
                  source: str | None, lang: str, name: str, alt_text: str, note: str = "",
                  figure_ylabel: bool = False) -> FigureSpec:
    """Add title, axis labels and the source line; return the :class:`FigureSpec`.

    ``source`` is the data source without prefix (``"CBS StatLine"``); ``None`` uses the
    catalogue's "own calculations" text.  ``note`` (optional) is a reading aid printed on a
    line below the source (e.g. what the horizontal lines are).  ``figure_ylabel=True`` puts
    the y label once at the figure's left edge (stacked panels that share what their rows are)
    instead of on ``axes``.  Empty title, labels or alt text are refused: every figure must be
    understandable on its own.
    """
    for what, text in (("title", title), ("xlabel", xlabel), ("ylabel", ylabel), ("alt_text", alt_text)):
        if not str(text).strip():
            raise AnalysisConfigError(f"figure {name!r}: {what} must not be empty")
    source_text = source if source is not None else t("source_default", lang)
    # a figure-level title aligned with the figure's left edge (an axes title would start
    # after the tick labels and can run off the right edge when they are long)
    # long titles wrap instead of running off the 16 cm figure (about 60 bold characters per line)
    figure.suptitle(textwrap.fill(title, TITLE_WIDTH_CHARS), x=0.01, ha="left", fontsize=BASE_FONT_SIZE + 2,
                    fontweight="bold")
    axes.set_xlabel(xlabel)
    if figure_ylabel:
        figure.supylabel(ylabel, fontsize=BASE_FONT_SIZE)
    else:
        axes.set_ylabel(ylabel)
    # supxlabel, not a free figure.text: constrained layout reserves room for it below
    # everything else (including legends placed "outside lower"), so nothing overlaps it
    # the note wraps like the title: a one-line note longer than the figure would be cut off
    note_text = "\n" + textwrap.fill(note, SOURCE_WIDTH_CHARS) if note else ""
    figure.supxlabel(f"{t('source', lang)}: {source_text}{note_text}", x=0.01, ha="left",
                     fontsize=SOURCE_FONT_SIZE, color=NEUTRAL)
    figure._effectmeting_alt = alt_text  # type: ignore[attr-defined]  # also reachable from a bare Figure
    # Lay out once, then freeze: constrained layout starts from the previous positions, so a
    # second savefig of the same figure would shift artists by tiny amounts and the PNG/SVG
    # bytes would depend on how often (and in which format) the figure was saved before.
    figure.draw_without_rendering()
    if _wrap_long_axis_labels(figure):  # too long for its axes: into the title or off the edge
        figure.draw_without_rendering()
    figure.set_layout_engine("none")
    return FigureSpec(figure=figure, alt_text=alt_text, name=name, title=title,
                      source=source_text, lang=lang)


#: distance from the axes' bottom edge to a legend placed below it: room for the tick labels
#: and the axis label (8.5 + 9 pt text plus tick and label pads, about 0.95 cm)
LEGEND_GAP_CM = 1.05


def legend_below(axes: Axes, handles: list | None = None, labels: list[str] | None = None, *,
                 ncols: int = 1, title: str | None = None):
    """Legend centred below the axes, a fixed physical distance (:data:`LEGEND_GAP_CM`) under
    the axes' bottom edge, so it never covers data, tick labels or the axis label, whatever the
    axes' height (an offset in axes units, as ``bbox_to_anchor=(0.5, -0.14)``, overlaps the
    axis label on short axes).  Constrained layout makes room for it above the source line."""
    offset = ScaledTranslation(0.0, -LEGEND_GAP_CM / CM_PER_INCH, axes.figure.dpi_scale_trans)
    args = (handles, labels) if handles is not None else ()
    return axes.legend(*args, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                       bbox_transform=axes.transAxes + offset, ncols=ncols, title=title)


def _wrap_long_axis_labels(figure: Figure) -> bool:
    """Wrap every axis label longer than its axes (after a layout pass): a y label taller than
    the axes runs into the title, an x label wider than the axes off the figure's edge (long
    row labels of a forest plot make the axes narrow).  First break before the unit in
    brackets, then at ever narrower widths until it fits (or reaches 12 characters a line).
    Returns whether any label changed."""
    changed = False
    for axes in figure.axes:
        if not axes.get_visible():
            continue
        box = axes.get_window_extent()
        for label, room, setter in ((axes.yaxis.label, box.height, axes.set_ylabel),
                                    (axes.xaxis.label, box.width, axes.set_xlabel)):
            text = label.get_text()
            if not text or "\n" in text:
                continue
            extent = label.get_window_extent()
            if max(extent.width, extent.height) <= room:
                continue
            head, bracket, tail = text.partition(" (")
            candidates = ([f"{head}\n({tail}"] if bracket else []) + [
                textwrap.fill(text, width) for width in range(len(text) // 2, 11, -4)]
            for candidate in candidates:
                setter(candidate)
                extent = label.get_window_extent()
                if max(extent.width, extent.height) <= room:
                    break
            changed = True
    return changed


#: characters per line of a row label of a forest-type figure before it wraps
ROW_LABEL_CHARS = 34


def wrap_row_label(label: str, width: int = ROW_LABEL_CHARS) -> str:
    """A long row label on two or more lines (first before a bracket: ``"Ondersteuning
    volwassenen\n(taakvelden 6.6, 6.71, 6.81)"``), so row labels do not squeeze the axes to a strip."""
    text = str(label)
    if len(text) <= width or "\n" in text:
        return text
    head, bracket, tail = text.partition(" (")
    if bracket and len(head) <= width and len(tail) < width:
        return f"{head}\n({tail}"
    return textwrap.fill(text, width)


def set_year_axis(axes: Axes) -> None:
    """Ticks only at whole calendar years, printed without thousands separator."""
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.xaxis.set_major_formatter(YearFormatter())


def axis_label(label: str, unit: str | None) -> str:
    """``"Effect (per 1.000 jongeren)"``: the label with its unit in brackets."""
    return f"{label} ({unit})" if unit else label
