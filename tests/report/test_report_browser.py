"""The HTML report opened in a real headless browser (Debian's Chromium driven by Playwright).

Reference: the browser itself.  The page must load from ``file://`` without console errors,
page errors or failed requests; every ``<img>`` must have decoded (``naturalWidth > 0``); every
inline ``<svg>`` must lay out with a nonzero size; title and ``<h1>`` must be present.  A
screenshot is written to the test's tmp directory for a human look.

Chromium comes from the system packages (``/usr/bin/chromium``; ``.ci/run`` installs it).  When
it is missing the tests are skipped locally and FAIL under CI (env var ``CI`` set).
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
from effectmeting.report.tables import TableSpec  # noqa: E402

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
    return [Section("Samenvatting", ["Het effect is klein en onzeker <zeker>."], kind="summary"),
            Section("Resultaten", ["Twee figuren."], figures=[event, forest], tables=[table]),
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


def test_demo_report_outputs_render_in_chromium(browser, demo_panel, tmp_path):
    """The demo report as ``write_outputs`` builds it (tests/report/report_demo.py: one small study on the
    session's demo panel, no full run): every figure decodes, has alt text, and the tables stay
    inside the text column (a wide table scrolls in its own box)."""
    from report_demo import write_demo_report

    path, _ = write_demo_report(demo_panel, tmp_path / "demo", "nl")
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
