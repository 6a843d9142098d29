"""The built book in a real browser, as readers get it: fast, accessible, honest, offline.

Needs the built book (`make book`; `make test` builds it first), Chromium at /usr/bin/chromium
(override with $CHROMIUM) and node_modules/axe-core (`make assets`). The pages are served
from _build/html by a gzip-capable server on 127.0.0.1 (tests/site_server.py); every request
elsewhere is aborted and counted as a failure, so the pages are proven to work offline.

Each page is opened at 1280 px in the light and the dark theme (the system setting), and
the chapter also at 390 px (a phone) in both (dark through the theme's own switch). Every
visit scrolls through the whole page, so that lazy images and the widgets load, and then:

- runs axe-core on the page, and fails on any WCAG 2.1 A or AA violation;
- records every request and console message: none may fail, leave the site or be an error;
- measures the layout: no control of zero width, no clipped text, nothing sticking out of
  the page, a scroll hint on everything that scrolls sideways, and figure text no smaller
  than 1 CSS pixel per point (see test_figure_text_is_legible).

Screenshots of every visit and the request logs go to artifacts/ (look at them).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import jupytext
import pytest
import yaml
from fontTools.ttLib import TTFont
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Route,
    sync_playwright,
)

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "_ext" / "d2l_site"))
import pdf  # a script of the build, not a package: the browser flags it prints with
from site_server import serve

from book import toc

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = pdf.CHROMIUM_ARGS  # network off: no host name resolves but 127.0.0.1
CHAPTER = toc.PANEL_CHAPTER
SECTIONS = [
    "The data",
    "Initializing the parameters",
    "The softmax operation",
    "The model",
    "The cross-entropy loss",
    "Classification accuracy",
    "Gradients by hand",
    "Training",
    "Prediction",
    "What the model learned",
    "Experiment: the learning rate and the number of epochs",
    "Summary",
    "Exercises",
]
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDGET_VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]'
PHONE, DESKTOP = 390, 1280
# Matplotlib sizes figure text in points. Rendered at 1 CSS px per point or more, the
# figures' 10-point tick labels are at least 10 px and their smallest text (7 points,
# a legend of the live panel) 7 px.
MIN_PX_PER_POINT = 1.0


def site_pages() -> list[str]:
    """Every HTML page of the book (not the files under _static or _sources, nor the
    in-browser notebook's app under lite/, which tests/test_lite.py opens)."""
    return sorted(
        p.relative_to(SITE).as_posix()
        for p in SITE.rglob("*.html")
        if p.relative_to(SITE).parts[0] not in ("_static", "_sources", "lite")
    )


@dataclass(frozen=True)
class View:
    """How a page is looked at: its path, the viewport width and the colour scheme."""

    path: str
    width: int = DESKTOP
    dark: bool = False
    switch: bool = False  # dark through the theme's switch (its localStorage), not the system

    @property
    def name(self) -> str:
        page = Path(self.path.split("?")[0]).stem
        if self.path == "index.html":
            page = "landing"
        elif self.path == f"{CHAPTER}.html":
            page = "chapter"
        how = ("dark-switch" if self.switch else "dark") if self.dark else "light"
        return f"{page}-{self.width}-{how}"


def redirect_target() -> str | None:
    """The page the site's index.html redirects to, if it is a redirect."""
    found = re.search(r'http-equiv="refresh" content="0; url=([^"]+)"', index_html(), re.I)
    return found.group(1) if found else None


def index_html() -> str:
    index = SITE / "index.html"
    return index.read_text(encoding="utf-8") if index.is_file() else ""


def views() -> list[View]:
    # The chapter has views of its own; the page index.html redirects to is seen through it.
    skip = {f"{CHAPTER}.html", redirect_target()}
    pages = [p for p in site_pages() if p not in skip] if SITE.is_dir() else []
    # The search page with a query, so that it shows results (and their icon).
    pages = [p + "?q=softmax" if p == "search.html" else p for p in pages]
    return [
        *[View(path, dark=dark) for path in pages for dark in (False, True)],
        View(f"{CHAPTER}.html"),
        View(f"{CHAPTER}.html", dark=True),
        View(f"{CHAPTER}.html", width=PHONE),
        View(f"{CHAPTER}.html", width=PHONE, dark=True, switch=True),
    ]


@dataclass
class Visit:
    """One page, opened once, with what the browser logged and what the checks measured."""

    view: View
    requests: list[str] = field(default_factory=list)
    requests_before_scrolling: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    axe: list[dict[str, object]] = field(default_factory=list)
    layout: dict[str, list] = field(default_factory=dict)
    figures: list[dict[str, object]] = field(default_factory=list)
    icons: list[dict[str, str]] = field(default_factory=list)

    def __repr__(self) -> str:  # keeps pytest's failure reports short
        return f"Visit({self.view.name!r})"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    if not (SITE / "index.html").is_file() or not (SITE / f"{CHAPTER}.html").is_file():
        pytest.fail(
            f"The built book is missing ({SITE.relative_to(ROOT)}/index.html or "
            f"{CHAPTER}.html): run `make book` first (`make test` does it for you)."
        )
    with serve(SITE) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"No Chromium at {CHROMIUM}: `apt-get install chromium` (see .ci/run).")
    if not AXE.is_file():
        pytest.fail(f"No {AXE.relative_to(ROOT)}: run `make assets` (npm ci).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@contextlib.contextmanager
def open_view(browser: Browser, base_url: str, view: View) -> Iterator[tuple[Page, Visit]]:
    """Open a view in a fresh context, logging every request and console message."""
    origin = urlsplit(base_url).netloc
    context: BrowserContext = browser.new_context(
        viewport={"width": view.width, "height": 900},
        color_scheme="dark" if view.dark and not view.switch else "light",
        service_workers="block",
    )
    if view.switch:  # what the theme's light/dark switch stores
        context.add_init_script("localStorage.setItem('mode', 'dark')")
    page = context.new_page()
    record = Visit(view)

    def guard(route: Route) -> None:
        if urlsplit(route.request.url).netloc == origin:
            route.continue_()
        else:
            record.failures.append(f"left the origin: {route.request.url}")
            route.abort("blockedbyclient")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            record.console_errors.append(f"console: {message.text} ({message.location['url']})")

    context.route("**/*", guard)
    page.on("request", lambda request: record.requests.append(request.url))
    page.on("requestfailed", lambda r: record.failures.append(f"failed ({r.failure}): {r.url}"))
    page.on(
        "response",
        lambda r: r.status >= 400 and record.failures.append(f"HTTP {r.status}: {r.url}"),
    )
    page.on("console", on_console)
    page.on("pageerror", lambda error: record.console_errors.append(f"uncaught: {error}"))
    try:
        yield page, record
    finally:
        log = ARTIFACTS / f"browser-requests-{view.name}.json"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(
            json.dumps({"requests": record.requests, "failures": record.failures}, indent=1)
        )
        context.close()


def settle(page: Page, base_url: str, view: View, record: Visit) -> None:
    """Load the page, then scroll through it so that everything lazy loads; wait for all."""
    page.goto(base_url + view.path, wait_until="load")
    if view.path == "index.html":  # the root page redirects to the first page of the book
        page.wait_for_url("**/intro.html", wait_until="load")
    page.wait_for_load_state("networkidle")
    record.requests_before_scrolling = list(record.requests)
    # Sections are laid out as they come near the screen (content-visibility), so the
    # page's height grows on the way down.
    y = 0
    while y < page.evaluate("document.documentElement.scrollHeight"):
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(30)
        y += 800
    if page.locator(WIDGET_VIEW).count():
        # A reader who stops at the widgets (the loop may scroll past them between frames).
        page.locator(WIDGET_VIEW).first.evaluate("e => e.closest('.cell').scrollIntoView()")
        page.wait_for_function(
            "['ready', 'failed'].includes(document.documentElement.dataset.widgets)",
            timeout=30_000,
        )
    page.wait_for_function("[...document.images].every(img => img.complete)", timeout=15_000)
    page.wait_for_load_state("networkidle")
    page.evaluate("() => document.fonts.ready.then(() => true)")
    # Lay out every section, so that axe and the layout checks see all of the page (off
    # screen, content-visibility leaves sections unrendered, and axe takes them for hidden).
    page.add_style_tag(content=".bd-article section { content-visibility: visible !important }")
    page.evaluate("window.scrollTo(0, 0)")


def run_axe(page: Page) -> list[dict[str, object]]:
    """axe-core's WCAG 2.1 A and AA violations on the page, each with its elements."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                                resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}));
        }""",
        WCAG_21_AA,
    )
    return result


LAYOUT_JS = """() => {
    const width = document.documentElement.clientWidth;
    const shown = (e) => e.getClientRects().length > 0
        && getComputedStyle(e).visibility !== 'hidden';
    const label = (e) => (e.innerText || e.getAttribute('aria-label') || '').trim();
    const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
        + [...e.classList].slice(0, 3).map(c => '.' + c).join('')
        + ' "' + label(e).slice(0, 30) + '"';
    const px = (e) => Math.round(e.getBoundingClientRect().width) + ' px';
    // Visually hidden on purpose (for screen readers): a 1 px box or a clip.
    const srOnly = (e) => {
        for (let a = e; a; a = a.parentElement) {
            const s = getComputedStyle(a), r = a.getBoundingClientRect();
            if ((r.width <= 2 || r.height <= 2) && s.overflow !== 'visible') return true;
            if (s.clip && s.clip !== 'auto' || s.clipPath === 'inset(50%)') return true;
        }
        return false;
    };
    // The nearest ancestor that does not let its content overflow, and how.
    const scroller = (e) => {
        for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
            const o = getComputedStyle(a).overflowX;
            if (o !== 'visible') return [a, o];
        }
        return [null, 'visible'];
    };
    const interactive = 'a[href], button, input, select, textarea, [role=slider], '
        + '[tabindex]:not([tabindex="-1"]), [contenteditable=true]';
    const controls = [...document.querySelectorAll(interactive)].filter(e => shown(e)
        && !e.closest('[inert], .visually-hidden, .skip-link, mjx-assistive-mml'));
    const zeroWidth = controls.filter(e => {
        const r = e.getBoundingClientRect();
        return r.width < 1 || r.height < 1;
    }).map(name);
    const narrowSliders = [...document.querySelectorAll('.noUi-target')].filter(shown)
        .filter(e => e.getBoundingClientRect().width < 100)
        .map(e => name(e.closest('.widget-slider') || e) + ' ' + px(e));
    const content = [...document.querySelectorAll('.bd-header-article *, .bd-article *')]
        .filter(shown);
    const clipped = [], outside = [], unhinted = [];
    for (const e of content) {
        if (srOnly(e)) continue;
        const s = getComputedStyle(e);
        const text = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        const overflows = e.scrollWidth > e.clientWidth + 1;
        const clips = s.overflowX === 'hidden' || s.overflowX === 'clip'
            || s.textOverflow === 'ellipsis';
        const scrolls = s.overflowX === 'auto' || s.overflowX === 'scroll';
        if (text && clips && overflows) clipped.push(name(e));
        if (scrolls && overflows && !/gradient/.test(s.backgroundImage)) unhinted.push(name(e));
        const r = e.getBoundingClientRect();
        if (r.right > width + 1 && r.width > 0) {
            const [a, o] = scroller(e);
            if (o === 'visible') outside.push(name(e) + ' right edge at ' + Math.round(r.right));
            else if ((o === 'hidden' || o === 'clip') && text)
                clipped.push(name(e) + ' (cut by ' + name(a) + ')');
        }
    }
    const pageWidth = document.documentElement.scrollWidth;
    return {zeroWidth, narrowSliders, clipped, outside, unhinted,
            pageOverflow: pageWidth > width + 1 ? ['page is ' + pageWidth + ' px wide'] : []};
}"""

FIGURES_JS = """() => [...document.querySelectorAll('.bd-article img')]
    .filter(img => img.getClientRects().length
        && /(_images\\/|^data:image\\/png)/.test(img.getAttribute('src')))
    .map(img => {
        const s = getComputedStyle(img);
        const padding = parseFloat(s.paddingLeft) + parseFloat(s.paddingRight);
        return {src: img.getAttribute('src').slice(0, 600), alt: img.alt.slice(0, 60),
                natural: img.naturalWidth, shown: img.clientWidth - padding};
    })"""

ICONS_JS = """() => {
    const icons = [];
    for (const e of document.querySelectorAll('body *')) {
        if (!e.getClientRects().length) continue;
        for (const pseudo of ['::before', '::after']) {
            const s = getComputedStyle(e, pseudo);
            const m = /^"(.)"$/u.exec(s.content);
            if (m && /Awesome/.test(s.fontFamily)) icons.push({
                family: s.fontFamily.split(',')[0].replace(/["']/g, '').trim(),
                weight: s.fontWeight, char: m[1], where: e.className.toString().slice(0, 60)});
        }
    }
    return icons;
}"""


def measure(page: Page, record: Visit) -> None:
    record.layout = page.evaluate(LAYOUT_JS)
    record.figures = page.evaluate(FIGURES_JS)
    record.icons = page.evaluate(ICONS_JS)


def screenshots(page: Page, view: View) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=SCREENSHOTS / f"{view.name}-top.png")
    page.screenshot(path=SCREENSHOTS / f"{view.name}-full.jpeg", full_page=True, quality=70)
    cells = page.locator(".cell").filter(has=page.locator(WIDGET_VIEW))
    for i in range(cells.count()):
        box = cells.nth(i).evaluate(
            "e => { const r = e.getBoundingClientRect();"
            " return {x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height}; }"
        )
        page.screenshot(  # of the whole page, clipped: the sticky header stays at the top
            path=SCREENSHOTS / f"{view.name}-widget{i + 1}.png", full_page=True, clip=box
        )


@pytest.fixture(scope="module")
def visits(browser: Browser, base_url: str) -> dict[View, Visit]:
    """Every view, visited once: loaded, scrolled through, audited, measured, pictured."""
    done = {}
    for view in views():
        with open_view(browser, base_url, view) as (page, record):
            settle(page, base_url, view, record)
            record.axe = run_axe(page)
            measure(page, record)
            screenshots(page, view)
            done[view] = record
    return done


@pytest.fixture(params=views(), ids=lambda v: v.name)
def visit(request: pytest.FixtureRequest, visits: dict[View, Visit]) -> Visit:
    return visits[request.param]


@pytest.fixture(scope="module")
def chapter(browser: Browser, base_url: str) -> Iterator[Page]:
    """The chapter, open in the light theme at 1280 px, for the tests that use it."""
    view = View(f"{CHAPTER}.html")
    with open_view(browser, base_url, view) as (page, record):
        settle(page, base_url, view, record)
        yield page
        assert not record.failures and not record.console_errors, (
            record.failures + record.console_errors
        )


# --------------------------------------------------------------------- every page


def test_no_wcag_21_violations(visit: Visit) -> None:
    report = [
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"][:6])
        for v in visit.axe
    ]
    assert not report, f"axe-core on {visit.view.name}:\n" + "\n".join(report)


def test_no_request_fails_or_leaves_the_site(visit: Visit) -> None:
    assert visit.requests, "no requests recorded"
    assert not visit.failures, f"on {visit.view.name}:\n" + "\n".join(visit.failures)


def test_no_console_errors(visit: Visit) -> None:
    assert not visit.console_errors, f"on {visit.view.name}:\n" + "\n".join(visit.console_errors)


def test_layout_fits_the_screen(visit: Visit) -> None:
    """No zero-width control or cramped slider, no clipped text, nothing off the page, and a
    scroll hint on whatever scrolls sideways."""
    problems = {k: v for k, v in visit.layout.items() if v}
    assert not problems, f"on {visit.view.name}:\n" + json.dumps(problems, indent=1)


def png_dpi(src: str) -> float | None:
    """The resolution a PNG records (pHYs), from a data: URL or a file of the site."""
    if src.startswith("data:"):
        data = base64.b64decode(src.split(",", 1)[1][:400] + "==")[:300]
    else:
        data = (SITE / CHAPTER).parent.joinpath(unquote(src)).resolve().read_bytes()[:4096]
    at = data.find(b"pHYs")
    if at < 0:
        return None
    per_metre, _, unit = struct.unpack(">IIB", data[at + 4 : at + 13])
    return per_metre * 0.0254 if unit == 1 else None


def test_figure_text_is_legible(visit: Visit) -> None:
    """Figure text renders at 1 CSS px per point or more.

    A figure's text is sized in points; its PNG records its resolution (dots per inch). The
    CSS pixels a point of text takes on screen are the image's shown width over its natural
    width, times the resolution over 72. At 1 px per point or more, the figures' tick labels
    (10 points) are at least 10 px tall and their smallest text (7 points) at least 7 px.
    """
    small = []
    for figure in visit.figures:
        dpi = png_dpi(figure["src"])
        assert dpi, f"figure without a recorded resolution: {figure['alt']}"
        px_per_point = figure["shown"] / figure["natural"] * dpi / 72
        if px_per_point < MIN_PX_PER_POINT:
            small.append(f"{figure['alt']!r}: {px_per_point:.2f} px per point")
    assert not small, f"on {visit.view.name}, figure text too small:\n" + "\n".join(small)


def icon_fonts() -> dict[tuple[str, str], set[int]]:
    """(family, weight) -> the characters of that face's font, from the site's stylesheets."""
    faces = {}
    for css in (SITE / "_static").rglob("*.css"):
        for face in re.findall(r"@font-face\s*\{([^}]*)\}", css.read_text(encoding="utf-8")):
            family = re.search(r"font-family:\s*([^;]+)", face)
            weight = re.search(r"font-weight:\s*(\d+)", face)
            url = re.search(r"url\(([^)]+)\)", face)
            if family and url and "Awesome" in family.group(1):
                name = family.group(1).replace("\\", "").strip("\"' ")
                font = TTFont(css.parent / url.group(1).strip("\"'"))
                faces[(name, weight.group(1) if weight else "400")] = set(font.getBestCmap())
    return faces


def test_every_icon_has_its_glyph(visit: Visit) -> None:
    """The icon fonts hold only the icons in use (_ext/d2l_site/fonts.py): every icon the
    page shows must be in its font, or it would show as an empty box."""
    faces = icon_fonts()
    missing = [
        f"{icon['where']}: U+{ord(icon['char']):04X} ({icon['family']} {icon['weight']})"
        for icon in visit.icons
        if ord(icon["char"]) not in faces.get((icon["family"], icon["weight"]), set())
    ]
    assert visit.view.path.startswith("search") or visit.icons, "no icons found"
    assert not missing, f"icons without a glyph on {visit.view.name}:\n" + "\n".join(missing)


def test_static_files_are_all_used(visits: dict[View, Visit]) -> None:
    """Every file in _static is requested by some page (licence texts aside), and no page
    requests a file that is not there (test_no_request_fails_or_leaves_the_site)."""
    requested = {
        unquote(urlsplit(url).path).lstrip("/") for v in visits.values() for url in v.requests
    }
    static = [
        p.relative_to(SITE).as_posix()
        for p in (SITE / "_static").rglob("*")
        if p.is_file() and "LICENSE" not in p.name
    ]
    unused = sorted(set(static) - requested)
    assert not unused, f"files in _static that no page loads: {unused}"


# --------------------------------------------------------------------- the pages' content


def test_every_page_declares_its_viewport_once() -> None:
    texts = {page: (SITE / page).read_text() for page in site_pages()}
    redirects = {page for page, text in texts.items() if 'http-equiv="refresh"' in text.lower()}
    assert redirects == {"index.html"}  # to intro.html; it shows nothing
    counts = {page: text.count('<meta name="viewport"') for page, text in texts.items()}
    assert {page: n for page, n in counts.items() if page not in redirects and n != 1} == {}


def test_landing_page_loads_and_links_to_the_chapter(visits: dict[View, Visit]) -> None:
    landing = visits[View("index.html")]
    assert any(u.endswith("/intro.html") for u in landing.requests)


def test_chapter_has_every_section(chapter: Page) -> None:
    # textContent: the sections off screen are not rendered (content-visibility), and
    # innerText reads only what is rendered.
    headings = chapter.locator("article h2").all_text_contents()
    found = {re.sub(r"[#¶\s]+$", "", h).strip() for h in headings}
    missing = [s for s in SECTIONS if s not in found]
    assert not missing, f"sections missing from the chapter page: {missing}; found {sorted(found)}"
    title = chapter.locator("article h1").first.text_content() or ""
    assert title.startswith("Softmax Regression from Scratch"), title


def chapter_figure_count() -> int:
    """How many figures the chapter's source declares (myst-nb figure options)."""
    source = jupytext.read(ROOT / f"{CHAPTER}.md")
    return sum("figure" in cell.metadata.get("mystnb", {}) for cell in source.cells)


def test_images_load_and_have_alt_text(chapter: Page) -> None:
    images = chapter.evaluate(
        """() => [...document.images].map(img => ({
            src: img.getAttribute('src'), alt: (img.getAttribute('alt') || '').trim(),
            loaded: img.complete && img.naturalWidth > 0}))"""
    )
    broken = [i["src"][:80] for i in images if not i["loaded"]]
    no_alt = [i["src"][:80] for i in images if not i["alt"]]
    assert not broken, f"images that did not load: {broken}"
    assert not no_alt, f"images without alt text: {no_alt}"
    figures = sum("_images/" in i["src"] for i in images)
    expected = chapter_figure_count()
    assert figures == expected, f"{figures} of the chapter's {expected} figures on the page"


def test_formulas_are_typeset_when_the_page_is_built(chapter: Page) -> None:
    math = chapter.evaluate(
        """() => ({
            nodes: document.querySelectorAll('article .math').length,
            untypeset: [...document.querySelectorAll('article .math')]
                .filter(m => !m.querySelector('mjx-container'))
                .map(m => m.textContent.slice(0, 80)),
            errors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent),
            spoken: document.querySelectorAll('article .math mjx-assistive-mml math').length,
            mathjax: 'MathJax' in window,
        })"""
    )
    assert math["nodes"] > 0, "no formulas found on the chapter page"
    assert not math["untypeset"], f"formulas left as TeX: {math['untypeset'][:5]}"
    assert not math["errors"], f"MathJax could not typeset: {math['errors'][:5]}"
    assert math["spoken"] == math["nodes"], "every formula carries MathML for screen readers"
    assert not math["mathjax"], "the page loads MathJax, but its formulas come typeset"
    prose = chapter.evaluate(
        """() => {
            const article = document.querySelector('article').cloneNode(true);
            article.querySelectorAll('pre, code, script, style, mjx-container, .cell_input')
                .forEach(e => e.remove());
            return article.textContent;
        }"""
    )
    leftovers = [t for t in ("$$", "\\frac", "\\begin{", "\\(", "\\[", "\\mathbf") if t in prose]
    assert not leftovers, f"raw TeX visible on the chapter page: {leftovers}"


def test_launch_buttons_open_the_chapter_notebook(chapter: Page) -> None:
    binder, colab = launch_links()
    links = chapter.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")
    assert binder in links, f"no Binder link: {[u for u in links if 'binder' in u]}"
    assert colab in links, f"no Colab link: {[u for u in links if 'colab' in u]}"


def launch_links() -> tuple[str, str]:
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    slug = urlsplit(repo["url"]).path.strip("/")
    notebook = f"{CHAPTER}.ipynb"
    return (
        f"https://mybinder.org/v2/gh/{slug}/{repo['branch']}?urlpath=tree/{notebook}",
        f"https://colab.research.google.com/github/{slug}/blob/{repo['branch']}/{notebook}",
    )


def test_search_page_finds_the_chapter(browser: Browser, base_url: str) -> None:
    view = View("search.html")
    with open_view(browser, base_url, view) as (page, record):
        page.goto(base_url + "search.html?q=softmax", wait_until="load")
        page.wait_for_selector("#search-results ul.search li a", timeout=10_000)
        page.wait_for_load_state("networkidle")
        hits = page.locator("#search-results ul.search li a").all_inner_texts()
        assert any("Softmax" in h for h in hits), hits
        assert not record.failures and not record.console_errors


# --------------------------------------------------------------------- speed


def test_first_screen_waits_for_nothing_it_does_not_show(visits: dict[View, Visit]) -> None:
    """Pages load no MathJax, no Font Awesome script, no Thebe; the widget manager and
    state load only once a widget comes near the screen; every script is deferred."""
    for view, visit in visits.items():
        loaded = " ".join(visit.requests)
        for unwanted in ("tex-mml", "fontawesome.js", "thebe", "require.js", "embed-amd"):
            assert unwanted not in loaded, f"{view.name} loads {unwanted}"
        if "search" not in view.path:
            assert "searchindex.js" not in loaded, f"{view.name} loads the search index"
    chapter = visits[View(f"{CHAPTER}.html")]
    first = " ".join(chapter.requests_before_scrolling)
    assert "embed.js" not in first and "widget-state" not in first, (
        "the chapter loads its widgets before the reader scrolls near them"
    )
    assert "embed.js" in " ".join(chapter.requests), "the widgets never loaded"
    for path in site_pages():
        head = (SITE / path).read_text(encoding="utf-8").split("</head>")[0]
        blocking = [
            tag
            for tag in re.findall(r"<script\b[^>]*\bsrc=[^>]*>", head)
            if not re.search(r"\b(defer|async)\b", tag)
        ]
        assert not blocking, f"{path} has render-blocking scripts: {blocking}"


# --------------------------------------------------------------------- the widgets


def explorer_handles(page: Page):
    explorer = page.locator(".d2l-explorer")
    assert explorer.count() == 1, "the chapter should show one explorer"
    return explorer, explorer.locator(".noUi-handle").all()


def shown(page: Page, selector: str) -> list[str]:
    return page.evaluate(
        f"""() => [...document.querySelectorAll({json.dumps(selector)})]
            .filter(e => e.getClientRects().length).map(e => e.textContent.trim())"""
    )


def test_explorer_sliders_have_names_and_spoken_values(chapter: Page) -> None:
    _, (lr, epoch) = explorer_handles(chapter)
    assert lr.get_attribute("aria-label") == "learning rate"
    assert lr.get_attribute("aria-valuetext") == "0.1"
    assert epoch.get_attribute("aria-label") == "compare after epoch"
    assert epoch.get_attribute("aria-valuetext") == "10"


def test_explorer_follows_its_sliders_without_a_kernel(chapter: Page) -> None:
    """Keys move the sliders; the read-outs, the figure and the table follow (jslink in the
    page), and the handles' spoken values with them."""
    explorer, (lr, epoch) = explorer_handles(chapter)
    editable = explorer.locator("[contenteditable=true], input").evaluate_all(
        "els => els.filter(e => e.getClientRects().length).map(e => e.outerHTML)"
    )
    assert not editable, f"the explorer's read-outs should be labels, not fields: {editable}"
    readouts = ".d2l-explorer .widget-hbox .widget-html-content"
    assert shown(chapter, readouts) == ["0.1", "10"]
    lr.focus()
    chapter.keyboard.press("ArrowRight")  # 0.1 -> 1
    chapter.wait_for_function(
        f"""() => [...document.querySelectorAll({json.dumps(readouts)})]
            .some(e => e.getClientRects().length && e.textContent.trim() === '1')"""
    )
    alts = chapter.evaluate(
        "() => [...document.querySelectorAll('.d2l-explorer img')]"
        ".filter(e => e.getClientRects().length).map(e => e.alt)"
    )
    assert len(alts) == 2 and all(": lr 1, " in a for a in alts), alts
    chapter.wait_for_function(
        "(h) => h.getAttribute('aria-valuetext') === '1'", arg=lr.element_handle()
    )
    epoch.focus()
    chapter.keyboard.press("ArrowLeft")  # epoch 10 -> 9
    chapter.wait_for_function(
        """() => [...document.querySelectorAll('.d2l-explorer caption')]
            .some(c => c.getClientRects().length && c.textContent === 'All runs after epoch 9')"""
    )
    assert shown(chapter, readouts) == ["1", "9"]
    assert epoch.get_attribute("aria-valuetext") == "9"
    chapter.keyboard.press("ArrowRight")  # back as it was
    lr.focus()
    chapter.keyboard.press("ArrowLeft")
    chapter.wait_for_function(
        f"""() => [...document.querySelectorAll({json.dumps(readouts)})]
            .filter(e => e.getClientRects().length)
            .map(e => e.textContent.trim()).join() === '0.1,10'"""
    )


def test_keyboard_focus_is_visible(chapter: Page) -> None:
    _, (lr, _) = explorer_handles(chapter)
    lr.focus()
    chapter.keyboard.press("Shift+Tab")
    chapter.keyboard.press("Tab")
    focus = chapter.evaluate(
        """() => {
            const e = document.activeElement, s = getComputedStyle(e);
            return {slider: e.getAttribute('role') === 'slider',
                    visible: e.matches(':focus-visible'),
                    outline: s.outlineStyle, width: parseFloat(s.outlineWidth)};
        }"""
    )
    assert focus["slider"] and focus["visible"], focus
    assert focus["outline"] != "none" and focus["width"] >= 2, f"no visible focus ring: {focus}"


def test_live_panel_is_inactive_without_a_kernel_and_says_how_to_run_it(chapter: Page) -> None:
    panel = chapter.locator(".d2l-training-panel")
    assert panel.count() == 1
    assert panel.get_attribute("inert") is not None, "the panel should be inert"
    train = panel.locator("button", has_text="Train")
    train.evaluate("b => { b.scrollIntoView({block: 'center'}); window.d2lClicks = 0;"
                   " b.addEventListener('click', () => window.d2lClicks++); }")  # fmt: skip
    box = train.bounding_box()
    assert box and box["width"] > 0
    chapter.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    state = panel.evaluate(
        """(panel) => {
            const controls = panel.querySelectorAll(
                'button, [role=slider], [tabindex], [contenteditable]');
            controls.forEach(e => e.focus());
            return {opacity: parseFloat(getComputedStyle(panel).opacity),
                    clicks: window.d2lClicks, controls: controls.length,
                    focused: panel.contains(document.activeElement)};
        }"""
    )
    assert state["controls"] >= 4, state
    assert state["opacity"] <= 0.6, f"the inactive panel should look inactive: {state}"
    assert state["clicks"] == 0, "a click on Train reaches the button"
    assert not state["focused"], "a control of the inactive panel takes the focus"
    note = chapter.locator(".d2l-kernel-note")
    assert note.count() == 1 and note.is_visible()
    assert "needs a Python kernel" in note.inner_text()
    links = note.locator("a").evaluate_all("els => els.map(a => [a.textContent, a.href])")
    binder, colab = launch_links()
    lite = urljoin(chapter.url, f"../lite/notebooks/index.html?path={CHAPTER}.ipynb")
    assert links == [["right here in your browser", lite], ["Binder", binder], ["Colab", colab]]


# --------------------------------------------------------------------- the page's controls


HEADER_CONTROLS = {
    "rocket": ".dropdown-launch-buttons > button",
    "repository": ".btn-source-repository-button",
    "download": ".dropdown-download-buttons > button",
    "primary sidebar toggle": ".bd-header-article button.primary-toggle",
    # Shown on narrow screens only (the wide layout shows the sidebar itself).
    "secondary sidebar toggle": ".bd-header-article button.secondary-toggle",
}


def focus_difference(page: Page, selector: str, open_menu: str | None = None) -> int:
    """How many pixels of a control's screenshot change when it takes the keyboard focus
    (Tab onto it, as a keyboard user does, so that :focus-visible applies)."""
    control = page.locator(selector).first
    if open_menu:
        page.locator(open_menu).first.click()
    box = control.bounding_box()
    assert box, f"{selector} is not shown"
    clip = {"x": max(box["x"] - 6, 0), "y": max(box["y"] - 6, 0),
            "width": box["width"] + 12, "height": box["height"] + 12}  # fmt: skip
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.mouse.move(0, 899)
    page.wait_for_timeout(300)  # tooltips and transitions settle
    before = page.screenshot(clip=clip)
    # Focus from the keyboard: the control before it, then Tab.
    control.evaluate("e => e.focus({focusVisible: true})")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert control.evaluate("e => e === document.activeElement && e.matches(':focus-visible')")
    page.wait_for_timeout(300)
    after = page.screenshot(clip=clip)
    name = re.sub(r"\W+", "-", selector).strip("-") + f"-{page.viewport_size['width']}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"focus-{name}-off.png").write_bytes(before)
    (SCREENSHOTS / f"focus-{name}-on.png").write_bytes(after)
    from io import BytesIO

    from PIL import Image, ImageChops

    diff = ImageChops.difference(Image.open(BytesIO(before)).convert("RGB"),
                                 Image.open(BytesIO(after)).convert("RGB"))  # fmt: skip
    return diff.convert("L").point(lambda v: 255 if v > 40 else 0).histogram()[255]


@pytest.mark.parametrize(
    ("width", "dark"), [(DESKTOP, False), (DESKTOP, True), (PHONE, False)], ids=str
)
def test_focus_is_visible_on_every_header_control(
    browser: Browser, base_url: str, width: int, dark: bool
) -> None:
    """Each header button, and each item of the launch menu, looks different when it has
    the keyboard focus: at least 40 pixels change (a 3 px ring around a 30 px button
    changes several hundred)."""
    view = View(f"{CHAPTER}.html", width=width, dark=dark)
    with open_view(browser, base_url, view) as (page, record):
        page.goto(base_url + view.path, wait_until="networkidle")
        unseen = {}
        for name, selector in HEADER_CONTROLS.items():
            if name.startswith("secondary") and width == DESKTOP:
                assert not page.locator(selector).is_visible()
                continue
            changed = focus_difference(page, selector)
            if changed < 40:
                unseen[name] = changed
        items = page.locator(".dropdown-launch-buttons .dropdown-item")
        assert items.count() == 3
        for i in range(items.count()):
            selector = f".dropdown-launch-buttons li:nth-child({i + 1}) .dropdown-item"
            changed = focus_difference(page, selector, ".dropdown-launch-buttons > button")
            if changed < 40:
                unseen[f"launch menu item {i + 1}"] = changed
            page.keyboard.press("Escape")
        assert not unseen, f"focus not visible (pixels changed): {unseen}"
        assert not record.failures and not record.console_errors


def test_explorer_table_fits_a_phone(browser: Browser, base_url: str) -> None:
    """At 390 px the explorer's table shows all five columns: it does not scroll."""
    view = View(f"{CHAPTER}.html", width=PHONE)
    with open_view(browser, base_url, view) as (page, record):
        settle(page, base_url, view, record)
        tables = page.evaluate(
            """() => [...document.querySelectorAll('.d2l-explorer .d2l-table-scroll')]
                .filter(e => e.getClientRects().length).map(e => ({
                    scroll: e.scrollWidth, client: e.clientWidth,
                    columns: e.querySelectorAll('thead th').length,
                    right: Math.max(...[...e.querySelectorAll('th, td')]
                        .map(c => c.getBoundingClientRect().right)),
                    edge: e.getBoundingClientRect().right}))"""
        )
        assert len(tables) == 1, tables
        table = tables[0]
        assert table["columns"] == 5
        assert table["scroll"] <= table["client"] + 1, f"the table scrolls: {table}"
        assert table["right"] <= table["edge"] + 1, f"columns hidden: {table}"


def test_colour_switch_tooltip_closes_when_the_page_scrolls(
    browser: Browser, base_url: str
) -> None:
    view = View(f"{CHAPTER}.html", width=PHONE)
    with open_view(browser, base_url, view) as (page, _):
        page.goto(base_url + view.path, wait_until="networkidle")
        switch = page.locator(".theme-switch-button").first
        switch.hover()
        switch.focus()
        page.wait_for_selector(".tooltip.show", timeout=5_000)
        page.mouse.wheel(0, 1500)
        page.wait_for_timeout(600)
        assert page.locator(".tooltip.show").count() == 0, "the tooltip stays on screen"


CONTRAST_JS = """(selector) => {
    const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => [r, g, b].map(v => v / 255)
        .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
        .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
    const background = (e) => {
        for (let a = e; a; a = a.parentElement) {
            const c = rgb(getComputedStyle(a).backgroundColor);
            if (c.length === 3 || c[3] > 0) return c.slice(0, 3);
        }
        return [255, 255, 255];
    };
    return [...document.querySelectorAll(selector)].filter(e => e.getClientRects().length)
        .map(e => {
            const a = lum(rgb(getComputedStyle(e).color)), b = lum(background(e));
            return {text: e.textContent.slice(0, 20),
                    where: e.closest('nav') ? 'contents' : e.closest('pre') ? 'code' : 'text',
                    ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)};
        });
}"""


def test_search_highlights_keep_their_contrast_in_dark_mode(
    browser: Browser, base_url: str
) -> None:
    """A page opened from a search result (?highlight=...) marks the words it found, in
    its text, its table of contents and its code: at least 4.5:1 in the dark theme."""
    view = View(f"{CHAPTER}.html?highlight=softmax", dark=True)
    with open_view(browser, base_url, view) as (page, record):
        page.goto(base_url + view.path, wait_until="networkidle")
        page.wait_for_selector("span.highlighted", timeout=10_000)
        page.add_style_tag(content=".bd-article section { content-visibility: visible }")
        marks = page.evaluate(CONTRAST_JS, "span.highlighted")
        places = {m["where"] for m in marks}
        assert {"contents", "code"} <= places, f"highlights found only in {places}"
        low = [m for m in marks if m["ratio"] < 4.5]
        assert not low, f"{len(low)} highlights below 4.5:1, e.g. {low[:5]}"
        assert not record.failures and not record.console_errors


def test_no_code_or_output_scrolls_sideways_on_a_desktop(browser: Browser, base_url: str) -> None:
    """At 1280 px code and printed output wrap: no block scrolls and no line is cut."""
    view = View(f"{CHAPTER}.html")
    with open_view(browser, base_url, view) as (page, record):
        settle(page, base_url, view, record)
        wide = page.evaluate(
            """() => [...document.querySelectorAll(
                    '.bd-content div.highlight pre, .bd-content div.cell_output pre')]
                .filter(e => e.getClientRects().length && e.scrollWidth > e.clientWidth + 1)
                .map(e => e.textContent.slice(0, 60))"""
        )
        assert not wide, f"{len(wide)} code or output blocks scroll sideways: {wide[:5]}"
        # The explorer's printout, its widest line (its header) and last column included.
        text = page.locator(".bd-article").inner_text()
        assert "epochs of infinite train loss" in text and "0 of 10" in text
