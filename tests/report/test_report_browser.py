"""The HTML report opened in a real headless browser (Debian's Chromium driven by Playwright).

Reference: the browser itself.  The page must load from ``file://`` without console errors,
page errors or failed requests; every ``<img>`` must have decoded (``naturalWidth > 0``); every
inline ``<svg>`` must lay out with a nonzero size; title and ``<h1>`` must be present.  A
screenshot is written to the test's tmp directory for a human look.

Accessibility: axe-core (the copy shipped inside the PyPI package ``axe-playwright-python``; nothing
is downloaded at test time) runs in the page with the WCAG 2.0/2.1 A and AA rules and must report no
violation; ``<html lang>`` equals the report language, every figure has alt text and a collapsed
data table, headings never skip a level, and an A4 print layout keeps everything inside the page.

Chromium comes from the system packages (``/usr/bin/chromium``; ``.ci/run`` installs it).  When
it (or playwright / axe-playwright-python) is missing the tests are skipped locally and FAIL under
CI (env var ``CI`` set).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from effectmeting.report.figures import event_study_plot, forest_plot  # noqa: E402
from effectmeting.report.html import Section, write_report  # noqa: E402
from effectmeting.report.figure_data import event_study_data  # noqa: E402
from effectmeting.report.tables import TableSpec, estimates_table  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium_path() -> str | None:
    for candidate in (os.environ.get("EFFECTMETING_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; .ci/run should have installed it (apt-get install chromium / "
                    f"pip install playwright)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless Chromium for the module, with a fresh profile and no network services."""
    executable = _chromium_path()
    if executable is None:
        _missing("Chromium not found at /usr/bin/chromium (Debian package 'chromium')")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the Python package 'playwright' is not installed")
    profile = tmp_path_factory.mktemp("chromium_profile")
    with sync_playwright() as playwright:
        # persistent context = our own fresh user-data dir; playwright's bundled browsers are never used
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1000, "height": 800}, offline=True)
        try:
            yield context
        finally:
            context.close()


#: the axe-core rule tags of WCAG 2.1 level AA (which includes level A and WCAG 2.0)
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _axe_script() -> str:
    """axe.min.js as shipped by the installed ``axe-playwright-python`` (no network)."""
    try:
        from importlib.resources import files

        return (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
    except (ImportError, FileNotFoundError):
        _missing("the Python package 'axe-playwright-python' (ships axe-core) is not installed")
        raise  # unreachable: _missing skips or fails


def axe_violations(context, path: Path) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations of the page at ``path``, as (rule, impact, targets) dicts."""
    script = _axe_script()
    page = context.new_page()
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.evaluate(script)
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    result = page.evaluate("options => axe.run(document, options)", options)
    page.close()
    return [{"rule": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [" ".join(map(str, node["target"])) for node in v["nodes"]][:5],
             "nodes": len(v["nodes"])} for v in result["violations"]]


def structure(context, path: Path) -> dict:
    """Language, heading levels, figures with their alt text and data tables, table header scopes."""
    page = context.new_page()
    page.goto(path.resolve().as_uri(), wait_until="load")
    seen = page.evaluate("""() => ({
        lang: document.documentElement.lang,
        headings: Array.from(document.querySelectorAll('h1,h2,h3,h4,h5,h6')).map(h => Number(h.tagName[1])),
        figures: Array.from(document.querySelectorAll('figure')).map(f => {
            const media = f.querySelector('img, svg');
            const data = f.nextElementSibling && f.nextElementSibling.matches('details.figure-data')
                ? f.nextElementSibling : null;
            return {alt: media ? (media.getAttribute('alt') || media.getAttribute('aria-label') || '') : null,
                    data_open: data ? data.open : null,
                    data_rows: data ? data.querySelectorAll('table tbody tr').length : 0};
        }),
        headers_without_scope: Array.from(document.querySelectorAll('th')).filter(
            th => !['col', 'row', 'colgroup', 'rowgroup'].includes(th.getAttribute('scope'))).length,
    })""")
    page.close()
    return seen


A4_CONTENT_PX = round((210 - 2 * 15) / 25.4 * 96)


def print_overflow(context, path: Path, pdf: Path) -> list[float]:
    """Print to A4 (the report's print stylesheet): how far any element sticks out past the page
    width, in CSS pixels (0 or less = fits).  The PDF is written for a human look."""
    page = context.new_page()
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.emulate_media(media="print")
    # the printable width of A4 (210 mm) less the stylesheet's 2 x 15 mm @page margins, at 96 px/inch
    page.set_viewport_size({"width": A4_CONTENT_PX, "height": 1000})
    overflow = page.evaluate("""() => {
        const limit = document.documentElement.clientWidth;
        return Array.from(document.querySelectorAll('body *')).map(e => e.getBoundingClientRect().right - limit)
            .filter(x => x > 1);
    }""")
    page.pdf(path=str(pdf), prefer_css_page_size=True)
    page.close()
    return overflow


def assert_accessible(context, path: Path, lang: str, tmp_path: Path) -> None:
    """axe-core finds no WCAG 2.1 A/AA violation; lang, headings, figures and tables as promised."""
    violations = axe_violations(context, path)
    assert violations == [], violations
    seen = structure(context, path)
    assert seen["lang"] == lang
    levels = seen["headings"]
    assert levels and levels[0] == 1 and levels.count(1) == 1, levels
    skipped = [(a, b) for a, b in zip(levels, levels[1:]) if b > a + 1]
    assert skipped == [], levels
    assert seen["figures"], "no figure in the report"
    for figure in seen["figures"]:
        assert (figure["alt"] or "").strip(), figure
        assert figure["data_open"] is False and figure["data_rows"] > 0, figure
    assert seen["headers_without_scope"] == 0
    overflow = print_overflow(context, path, tmp_path / f"{path.stem}_{lang}.pdf")
    assert overflow == [], overflow
    assert "size: A4" in path.read_text(encoding="utf-8")


def inspect_page(context, path: Path, screenshot: Path) -> dict:
    """Load ``path`` from ``file://`` and return what the browser saw (problems, images, svgs, title)."""
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "assert") else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(
        f"request failed: {request.url[:80]} ({request.failure})"))
    response = page.goto(path.resolve().as_uri(), wait_until="load")
    # images are decoded lazily; wait until every one has settled before measuring
    page.evaluate("Promise.all(Array.from(document.images).map(i => i.decode().catch(() => null)))")
    seen = page.evaluate("""() => ({
        title: document.title,
        h1: Array.from(document.querySelectorAll('h1')).map(h => h.textContent.trim()),
        images: Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete,
            width: i.naturalWidth, height: i.naturalHeight, shown: i.getBoundingClientRect().width})),
        svgs: Array.from(document.querySelectorAll('svg')).map(s => {
            const box = s.getBBox(), rect = s.getBoundingClientRect();
            return {label: s.getAttribute('aria-label'), bbox: [box.width, box.height],
                    shown: [rect.width, rect.height]};
        }),
        scripts: document.scripts.length,
    })""")
    page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    seen["problems"] = problems
    seen["ok"] = response is not None and response.ok
    return seen


def assert_renders(seen: dict, *, title: str, images: int, svgs: int) -> None:
    assert seen["ok"], "the file:// load did not succeed"
    assert seen["problems"] == [], seen["problems"]
    assert seen["title"] == title and seen["h1"] == [title], (seen["title"], seen["h1"])
    assert seen["scripts"] == 0
    assert len(seen["images"]) == images, seen["images"]
    for image in seen["images"]:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0 and image["shown"] > 0, image
        assert image["alt"].strip(), image
    assert len(seen["svgs"]) == svgs, seen["svgs"]
    for svg in seen["svgs"]:
        assert min(svg["bbox"]) > 0 and min(svg["shown"]) > 0, svg
        assert (svg["label"] or "").strip(), svg


def small_sections() -> list[Section]:
    event_time = np.array([-3, -2, 0, 1, 2])
    estimate = np.array([0.1, -0.2, 1.0, 1.5, 2.0])
    event = event_study_plot({"Callaway-Sant'Anna": pd.DataFrame({
        "event_time": event_time, "estimate": estimate, "conf_low": estimate - 0.5,
        "conf_high": estimate + 0.7})}, outcome_label="jeugdhulp", unit="per 1.000 jongeren", lang="nl",
        source="CBS Beleidsinformatie Jeugd")
    tidy = pd.DataFrame({"label": ["Jeugdhulp", "Wmo"], "estimate": [1.2, -0.3],
                         "conf_low": [0.2, -0.9], "conf_high": [2.2, 0.3]})
    forest = forest_plot(tidy, unit="per 1.000", lang="nl")
    table = TableSpec(frame=pd.DataFrame({"Uitkomst": ["Jeugdhulp", "Wmo"], "Effect": ["1,2", "-0,3"]}),
                      caption="Schattingen")
    data = {event.name: event_study_data({"Callaway-Sant'Anna": pd.DataFrame({
                "event_time": event_time, "estimate": estimate, "conf_low": estimate - 0.5,
                "conf_high": estimate + 0.7})}, "nl"),
            forest.name: estimates_table(tidy, "nl", digits=1)}
    return [Section("Samenvatting", ["Het effect is klein en onzeker <zeker>."], kind="summary"),
            Section("Resultaten", ["Twee figuren."], figures=[event, forest], tables=[table], figure_data=data),
            Section("Kanttekeningen", ["Adoptie is niet willekeurig."], kind="caveats")]


@pytest.mark.parametrize("figure_format", ["png", "svg"])
def test_report_renders_in_chromium(browser, figure_format, tmp_path):
    title = "Effectmeting <browser> & test"
    path = write_report(tmp_path / "report.html", small_sections(), lang="nl", title=title,
                        provenance={"data": "synthetic", "seed": 1}, figure_format=figure_format)
    screenshot = tmp_path / f"report_{figure_format}.png"
    seen = inspect_page(browser, path, screenshot)
    expected = {"png": (2, 0), "svg": (0, 2)}[figure_format]
    assert_renders(seen, title=title, images=expected[0], svgs=expected[1])
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 10_000
    assert_accessible(browser, path, "nl", tmp_path)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_demo_report_outputs_render_in_chromium(browser, demo_panel, lang, tmp_path):
    """The demo report as ``write_outputs`` builds it (tests/report/report_demo.py: one small study on the
    session's demo panel, no full run): every figure decodes, has alt text, and the tables stay
    inside the text column (a wide table scrolls in its own box)."""
    from report_demo import write_demo_report

    path, _ = write_demo_report(demo_panel, tmp_path / "demo", lang)
    text = path.read_text(encoding="utf-8")
    seen = inspect_page(browser, path, tmp_path / "demo_report.png")
    assert_renders(seen, title="Effectmeting demo", images=text.count("<img "), svgs=0)
    assert len(seen["images"]) >= 5
    page = browser.new_page()
    page.goto(path.resolve().as_uri(), wait_until="load")
    # no table wider than the main text column (the body's content box)
    overflow = page.evaluate("""() => {
        const main = document.querySelector('main').getBoundingClientRect();
        return Array.from(document.querySelectorAll('div.table-wrap')).map(
            d => d.getBoundingClientRect().right - main.right);
    }""")
    page.close()
    assert overflow and max(overflow) <= 1, overflow
    assert_accessible(browser, path, lang, tmp_path)


@pytest.mark.slow
def test_demo_report_renders_in_chromium(browser, tmp_path):
    """The full ``analyses/demo.toml`` run (~11 s) opened in the browser."""
    from effectmeting.analysis.run import run_analysis
    from effectmeting.analysis.config import load_analysis

    result = run_analysis(ROOT / "analyses" / "demo.toml", tmp_path / "run", quiet=True)
    title = load_analysis(ROOT / "analyses" / "demo.toml").title
    text = (result.out_dir / "report.html").read_text(encoding="utf-8")
    seen = inspect_page(browser, result.out_dir / "report.html", tmp_path / "demo_report.png")
    assert_renders(seen, title=title, images=text.count("<img "), svgs=text.count("<svg "))
    assert len(seen["images"]) + len(seen["svgs"]) >= 3


def _relative_luminance(color) -> float:
    """WCAG 2.1 relative luminance of a matplotlib colour."""
    from matplotlib.colors import to_rgb

    channels = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(color)]
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def contrast_ratio(foreground, background="white") -> float:
    """WCAG 2.1 contrast ratio (1 to 21) of two colours."""
    light, dark = sorted((_relative_luminance(foreground), _relative_luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _drawn_on_white(color, alpha) -> tuple[float, float, float]:
    """The colour a reader sees: ``color`` at opacity ``alpha`` over a white background."""
    from matplotlib.colors import to_rgba

    red, green, blue, own_alpha = to_rgba(color)
    opacity = own_alpha * (1.0 if alpha is None else alpha)
    return tuple(opacity * c + (1 - opacity) for c in (red, green, blue))


def test_figure_data_graphics_meet_non_text_contrast():
    """Every line, marker, error bar and bar that carries data in a report figure has at least 3:1
    contrast on white (WCAG 1.4.11 non-text contrast, AA); grid lines and shaded interval bands are
    decoration next to a line that meets it, so they are not counted."""
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Rectangle

    from effectmeting.report.style import MIN_GRAPHIC_CONTRAST, SERIES_COLORS

    assert all(contrast_ratio(color) >= 3.3 for color in SERIES_COLORS)
    assert contrast_ratio("#E69F00") < MIN_GRAPHIC_CONTRAST  # Okabe-Ito orange as published fails, so the check can fail
    event_time = np.array([-2, 0, 1])
    eight_series = event_study_plot({f"Schatter {index}": pd.DataFrame({
        "event_time": event_time, "estimate": event_time * 0.5 + index, "conf_low": event_time * 0.5 + index - 0.3,
        "conf_high": event_time * 0.5 + index + 0.3}) for index in range(8)},
        outcome_label="jeugdhulp", unit="per 1.000 jongeren", lang="nl", source="test")
    checked = 0
    for spec in [spec for section in small_sections() for spec in section.figures] + [eight_series]:
        spec.to_bytes("png")
        for axes in spec.figure.axes:
            grid = set(axes.xaxis.get_gridlines()) | set(axes.yaxis.get_gridlines())
            graphics = []
            for line in axes.get_lines():
                if line in grid or not line.get_visible() or len(line.get_xdata()) == 0:
                    continue
                if line.get_linestyle() not in ("None", "none", ""):
                    graphics.append((line.get_color(), line.get_alpha(), line.get_label()))
                if line.get_marker() not in (None, "None", "none", ""):
                    graphics.append((line.get_markeredgecolor(), line.get_alpha(), line.get_label()))
            for collection in axes.collections:
                if isinstance(collection, LineCollection) and collection.get_visible():
                    graphics += [(color, collection.get_alpha(), "error bar") for color in collection.get_colors()]
            for patch in axes.patches:
                if isinstance(patch, Rectangle) and patch.get_visible() and patch.get_width() and patch.get_height():
                    graphics.append((patch.get_facecolor(), patch.get_alpha(), "bar"))
            for color, alpha, label in graphics:
                ratio = contrast_ratio(_drawn_on_white(color, alpha))
                assert ratio >= MIN_GRAPHIC_CONTRAST, (spec.name, label, color, alpha, round(ratio, 2))
                checked += 1
    assert checked > 20


def test_figure_text_colours_meet_aa_contrast():
    """Text drawn inside the figures (titles, axis labels, ticks, legends, source line) has at least
    4.5:1 contrast on the white figure background (WCAG 1.4.3 AA; axe-core cannot see inside images)."""
    from matplotlib.text import Text

    assert contrast_ratio("#767676") == pytest.approx(4.54, abs=0.01)  # the usual AA threshold grey
    figures = [spec for section in small_sections() for spec in section.figures]
    checked = 0
    for spec in figures:
        spec.to_bytes("png")  # draw, so tick labels exist
        background = spec.figure.get_facecolor()
        for text in spec.figure.findobj(Text):
            if text.get_visible() and text.get_text().strip():
                ratio = contrast_ratio(text.get_color(), background)
                assert ratio >= 4.5, (spec.name, text.get_text(), text.get_color(), round(ratio, 2))
                checked += 1
    assert checked > 20
