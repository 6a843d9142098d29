"""The built book in a real browser: pages load, formulas typeset, figures and widgets show,
and nothing is fetched from outside the site.

Needs the built book (`make book`; `make test` builds it first) and Chromium at
/usr/bin/chromium (override with $CHROMIUM). The pages are served from _build/html by a local
HTTP server on 127.0.0.1; every request elsewhere is aborted and counted as a failure, so the
test also proves that the pages work with the network off. Screenshots and the request log
go to artifacts/.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import jupytext
import pytest
import yaml
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Error,
    Page,
    Request,
    Response,
    Route,
    sync_playwright,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # Network off, as far as the browser is concerned: no host name resolves but 127.0.0.1.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
CHAPTER = "chapters/softmax-regression-scratch"
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
    "Beyond the basics",
    "Experiment: the learning rate and the number of epochs",
    "Summary",
    "Exercises",
]
# Console errors that are known and harmless. Keep this list short and say why.
ALLOWED_CONSOLE_ERRORS = [
    # sphinx-thebe's inline config script (`const THEBE_JS_URL = ...`) is emitted twice on
    # every Jupyter Book 1 page; the second copy throws. Thebe is off, the URL is never loaded.
    re.compile(r"Identifier 'THEBE_JS_URL' has already been declared"),
]
WIDGET_VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]'
WIDGET_STATE = 'script[type="application/vnd.jupyter.widget-state+json"]'


@dataclass
class Visit:
    """One page, opened once, with everything the browser logged while it loaded."""

    name: str
    page: Page
    requests: list[dict[str, object]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def __repr__(self) -> str:  # keeps pytest's failure reports short
        return f"Visit({self.name!r})"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    if not (SITE / "index.html").is_file() or not (SITE / f"{CHAPTER}.html").is_file():
        pytest.fail(
            f"The built book is missing ({SITE.relative_to(ROOT)}/index.html or "
            f"{CHAPTER}.html): run `make book` first (`make test` does it for you)."
        )
    handler = functools.partial(QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"No Chromium at {CHROMIUM}: `apt-get install chromium` (see .ci/run).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def visit(browser: Browser, base_url: str, path: str, name: str) -> Iterator[Visit]:
    """Open base_url + path in a fresh context, wait until it has settled, log everything."""
    origin = urlsplit(base_url).netloc
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    page = context.new_page()
    record = Visit(name, page)

    def guard(route: Route) -> None:
        if urlsplit(route.request.url).netloc == origin:
            route.continue_()
        else:
            record.failures.append(f"left the origin: {route.request.url}")
            route.abort("blockedbyclient")

    def on_request(request: Request) -> None:
        record.requests.append({"url": request.url, "type": request.resource_type})

    def on_failed(request: Request) -> None:
        record.failures.append(f"failed ({request.failure}): {request.url}")

    def on_response(response: Response) -> None:
        if response.status >= 400:
            record.failures.append(f"HTTP {response.status}: {response.url}")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            record.console_errors.append(f"console: {message.text} ({message.location['url']})")

    context.route("**/*", guard)
    page.on("request", on_request)
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", lambda error: record.console_errors.append(f"uncaught: {error}"))

    page.goto(base_url + path, wait_until="load")
    if path == "index.html":  # Jupyter Book's root page redirects to the first TOC page
        page.wait_for_url("**/intro.html", wait_until="load")
    # MathJax (deferred) typesets after load; wait for it when the page has it.
    page.evaluate(
        "async () => { if (window.MathJax && MathJax.startup && MathJax.startup.promise)"
        " await MathJax.startup.promise; }"
    )
    # The widgets' html-manager renders each embedded view into a .widget-subarea.
    # If they do not appear, test_widgets_render says so; the other checks still run.
    if page.locator(WIDGET_STATE).count():
        with contextlib.suppress(Error):
            page.wait_for_function(
                f"""() => {{
                    const views = document.querySelectorAll('{WIDGET_VIEW}');
                    const done = document.querySelectorAll('.widget-subarea > *');
                    return views.length > 0 && done.length >= views.length;
                }}""",
                timeout=10_000,
            )
    # Fonts and images requested by what just rendered.
    with contextlib.suppress(Error):
        page.wait_for_load_state("networkidle", timeout=5_000)
    page.evaluate("() => document.fonts.ready.then(() => true)")
    yield record
    log = ARTIFACTS / f"browser-requests-{name}.json"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(json.dumps({"requests": record.requests, "failures": record.failures}, indent=1))
    context.close()


@pytest.fixture(scope="module")
def landing(browser: Browser, base_url: str) -> Iterator[Visit]:
    yield from visit(browser, base_url, "index.html", "landing")


@pytest.fixture(scope="module")
def chapter(browser: Browser, base_url: str) -> Iterator[Visit]:
    yield from visit(browser, base_url, f"{CHAPTER}.html", "chapter")


@pytest.fixture(params=["landing", "chapter"])
def any_page(request: pytest.FixtureRequest) -> Visit:
    return request.getfixturevalue(request.param)


def test_landing_page_loads_and_links_to_the_chapter(landing: Visit) -> None:
    page = landing.page
    assert page.url.endswith("/intro.html"), page.url
    assert "Softmax Regression from Scratch" in page.title()
    assert page.locator("article h1").first.is_visible()
    assert page.locator(f'article a[href$="{CHAPTER}.html"]').count() >= 1


def test_chapter_has_every_section(chapter: Visit) -> None:
    headings = chapter.page.locator("article h2").all_inner_texts()
    found = {re.sub(r"[#¶\s]+$", "", h).strip() for h in headings}
    missing = [s for s in SECTIONS if s not in found]
    assert not missing, f"sections missing from the chapter page: {missing}; found {sorted(found)}"
    title = chapter.page.locator("article h1").first.inner_text()
    assert title.startswith("Softmax Regression from Scratch"), title


def test_images_load_and_have_alt_text(any_page: Visit) -> None:
    images = any_page.page.evaluate(
        """() => [...document.images].map(img => ({
            src: img.getAttribute('src'), alt: (img.getAttribute('alt') || '').trim(),
            loaded: img.complete && img.naturalWidth > 0}))"""
    )
    broken = [i["src"] for i in images if not i["loaded"]]
    no_alt = [i["src"] for i in images if not i["alt"]]
    assert not broken, f"images that did not load on {any_page.name}: {broken}"
    assert not no_alt, f"images without alt text on {any_page.name}: {no_alt}" + (
        " (blob: images come from ipywidgets Image views, which have no alt text; show such"
        " pictures through an HTML widget with <img alt=...> instead)"
        if any(src.startswith("blob:") for src in no_alt)
        else ""
    )
    if any_page.name == "chapter":
        figures = sum("_images/" in i["src"] for i in images)
        expected = chapter_figure_count()
        assert figures == expected, f"{figures} of the chapter's {expected} figures on the page"


def chapter_figure_count() -> int:
    """How many figures the chapter's source declares (myst-nb figure options)."""
    source = jupytext.read(ROOT / f"{CHAPTER}.md")
    return sum("figure" in cell.metadata.get("mystnb", {}) for cell in source.cells)


def test_formulas_are_typeset(chapter: Visit) -> None:
    page = chapter.page
    math = page.evaluate(
        """() => ({
            nodes: document.querySelectorAll('article .math').length,
            untypeset: [...document.querySelectorAll('article .math')]
                .filter(m => !m.querySelector('mjx-container'))
                .map(m => m.textContent.slice(0, 80)),
            containers: document.querySelectorAll('article mjx-container').length,
            errors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent),
        })"""
    )
    assert math["nodes"] > 0, "no formulas found on the chapter page"
    assert not math["untypeset"], f"formulas left as TeX: {math['untypeset'][:5]}"
    assert math["containers"] >= math["nodes"]
    assert not math["errors"], f"MathJax could not typeset: {math['errors'][:5]}"
    # What a reader sees, outside code and typeset math: no TeX source.
    prose = page.evaluate(
        """() => {
            const article = document.querySelector('article').cloneNode(true);
            article.querySelectorAll('pre, code, script, style, mjx-container, .cell_input')
                .forEach(e => e.remove());
            return article.textContent;
        }"""
    )
    leftovers = [t for t in ("$$", "\\frac", "\\begin{", "\\(", "\\[", "\\mathbf") if t in prose]
    assert not leftovers, f"raw TeX visible on the chapter page: {leftovers}"


def test_widgets_render(chapter: Visit) -> None:
    page = chapter.page
    assert page.locator(WIDGET_STATE).count(), (
        "the chapter page embeds no widget state: the executed chapter has no ipywidgets yet"
    )
    area = page.locator(".widget-subarea")
    sliders = area.locator(".widget-slider, .jupyter-widgets.widget-hslider")
    buttons = area.locator("button.jupyter-button, .widget-button")
    assert sliders.count() and sliders.first.is_visible(), "no visible slider in the widget area"
    assert buttons.count() and buttons.first.is_visible(), "no visible button in the widget area"


def test_explorer_sliders_work_without_a_kernel(chapter: Visit) -> None:
    """Moving the explorer's sliders changes what it shows: jslink runs in the page."""
    page = chapter.page
    figure = page.locator('img[alt^="Learning curves at learning rate"]:visible')
    table = page.locator(".widget-html p:visible", has_text="After epoch")
    explorer = (
        page.locator(".widget-vbox")
        .filter(has=page.locator('img[alt^="Learning curves at learning rate"]'))
        .filter(has_text="compare after epoch")
        .last
    )
    lr_handle, epoch_handle = explorer.locator(".noUi-handle").all()[:2]
    assert figure.count() == 1, "the explorer should show exactly one figure"
    assert figure.get_attribute("alt").startswith("Learning curves at learning rate 0.1:")
    assert table.inner_text() == "After epoch 10:"

    lr_handle.focus()
    page.keyboard.press("ArrowRight")  # 0.1 -> 0.3
    page.wait_for_function(
        """() => [...document.querySelectorAll('img[alt^="Learning curves at learning rate"]')]
            .some(img => img.offsetParent !== null && img.alt.includes('rate 0.3:'))""",
        timeout=5_000,
    )
    assert figure.count() == 1
    epoch_handle.focus()
    page.keyboard.press("ArrowLeft")  # epoch 10 -> 9
    page.wait_for_function(
        """() => [...document.querySelectorAll('.widget-html p')]
            .some(p => p.offsetParent !== null && p.textContent === 'After epoch 9:')""",
        timeout=5_000,
    )
    # Back as it was, for the screenshots.
    page.keyboard.press("ArrowRight")
    lr_handle.focus()
    page.keyboard.press("ArrowLeft")


def test_launch_buttons_open_the_chapter_notebook(chapter: Visit) -> None:
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    slug = urlsplit(repo["url"]).path.strip("/")
    notebook = f"{CHAPTER}.ipynb"
    links = chapter.page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")
    binder = f"https://mybinder.org/v2/gh/{slug}/{repo['branch']}?urlpath=tree/{notebook}"
    colab = f"https://colab.research.google.com/github/{slug}/blob/{repo['branch']}/{notebook}"
    assert binder in links, f"no Binder link to {notebook}: {[u for u in links if 'binder' in u]}"
    assert colab in links, f"no Colab link to {notebook}: {[u for u in links if 'colab' in u]}"


def test_no_request_fails_or_leaves_the_origin(any_page: Visit) -> None:
    assert any_page.requests, "no requests recorded"
    assert not any_page.failures, f"on {any_page.name}:\n" + "\n".join(any_page.failures)


def test_no_console_errors(any_page: Visit) -> None:
    errors = [
        e for e in any_page.console_errors if not any(p.search(e) for p in ALLOWED_CONSOLE_ERRORS)
    ]
    assert not errors, f"on {any_page.name}:\n" + "\n".join(errors)


def test_chapter_screenshots(chapter: Visit) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = chapter.page
    page.evaluate("() => window.scrollTo(0, 0)")
    top, full = SCREENSHOTS / "chapter-top.png", SCREENSHOTS / "chapter-full.png"
    page.screenshot(path=top)
    page.screenshot(path=full, full_page=True)
    assert top.stat().st_size > 10_000 and full.stat().st_size > top.stat().st_size
