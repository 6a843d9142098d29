"""The chapter runs in the reader's browser (JupyterLite + Pyodide), with the network off.

Needs the built book (`make book`, which builds the in-browser site with `make lite`) and
Chromium at /usr/bin/chromium (override with $CHROMIUM). The site is served from _build/html
by a local HTTP server on 127.0.0.1 that counts the bytes it sends; no host name but
127.0.0.1 resolves in the browser, every request elsewhere is aborted, and any aborted or
failed request, HTTP error or console error fails the test. From the chapter page the test
follows the JupyterLite launch link, runs the notebook's cells up to the training panel,
moves a slider, presses Train and watches the epochs go by. Screenshots go to
artifacts/screenshots/, the measured figures to artifacts/lite-figures.json.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    ConsoleMessage,
    Error,
    Page,
    Request,
    Response,
    Route,
    Worker,
    sync_playwright,
)

from book import toc

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
LITE = SITE / "lite"
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--no-first-run",
    # Network off, as far as the browser is concerned: no host name resolves but 127.0.0.1.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]  # fmt: skip
CHAPTER = toc.PANEL_CHAPTER
LEARNER = ROOT / f"{CHAPTER}.ipynb"


class CountingServer:
    """The built book on 127.0.0.1, counting the bytes of every file it sends."""

    def __init__(self, folder: Path) -> None:
        self.sent: list[tuple[str, int]] = []
        served = self.sent

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def copyfile(self, source, destination) -> None:
                served.append((self.path, os.fstat(source.fileno()).st_size))
                super().copyfile(source, destination)

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address) -> None:
                pass  # the browser closing a connection early, when it is closed

        handler = functools.partial(Handler, directory=str(folder))
        self.httpd = Server(("127.0.0.1", 0), handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def bytes_sent(self) -> int:
        return sum(size for _, size in self.sent)


@pytest.fixture(scope="module")
def server() -> Iterator[CountingServer]:
    if not (LITE / "notebooks" / "index.html").is_file():
        pytest.fail(
            f"The in-browser notebook is missing ({LITE.relative_to(ROOT)}/): run `make book` "
            "first (`make test` does it for you)."
        )
    server = CountingServer(SITE)
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


#: Playwright reports no console messages from web workers, where Pyodide runs: this records
#: the worker's console errors and uncaught errors, as soon as the worker exists.
WORKER_WATCH = """() => {
    const problems = self.__problems = [];
    const error = console.error.bind(console);
    console.error = (...args) => { problems.push(args.map(String).join(' ')); error(...args); };
    self.addEventListener('error', e => problems.push(`uncaught: ${e.message}`));
    self.addEventListener('unhandledrejection', e => problems.push(`rejection: ${e.reason}`));
}"""


class Watch:
    """Everything that went wrong while the browser worked, from the page and its workers."""

    def __init__(self, page: Page, origin: str) -> None:
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.workers: list[Worker] = []
        self.origin = origin
        page.context.route("**/*", self.guard)
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("requestfailed", self.failed)
        page.on("response", self.response)
        page.on("console", self.console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error.stack}"))
        page.on("worker", self.worker)

    def worker(self, worker: Worker) -> None:
        self.workers.append(worker)
        worker.evaluate(WORKER_WATCH)

    def worker_problems(self) -> list[str]:
        """What the workers still running have recorded."""
        found = []
        for worker in self.workers:
            with contextlib.suppress(Error):  # a worker that has ended
                found += [f"worker console: {p} ({worker.url})" for p in worker.evaluate(
                    "() => self.__problems || []"
                )]  # fmt: skip
        return found

    def guard(self, route: Route) -> None:
        if urlsplit(route.request.url).netloc == self.origin:
            route.continue_()
        else:
            self.problems.append(f"left the site: {route.request.url}")
            route.abort("blockedbyclient")

    def failed(self, request: Request) -> None:
        self.problems.append(f"failed ({request.failure}): {request.url}")

    def response(self, response: Response) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text} ({message.location['url']})")


def wait_until_cells_done(page: Page, timeout: float) -> None:
    """Until no cell is queued or running and the kernel is idle."""
    deadline = time.monotonic() + timeout
    while True:
        running = page.locator(".jp-InputPrompt", has_text="[*]").count()
        idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count()
        if not running and idle:
            return
        if time.monotonic() > deadline:
            cell = page.locator(".jp-CodeCell", has=page.locator(".jp-InputPrompt", has_text="[*]"))
            code = cell.first.locator(".jp-InputArea-editor").inner_text() if running else ""
            raise AssertionError(
                f"cells still running after {timeout:g} s, this one first:\n{code}"
            )
        time.sleep(0.25)


def learner_notebook_reads_well(page: Page) -> None:
    """The learner's notebook as JupyterLite shows it: no raw MyST, solutions folded, no
    check cells, no checkpoint age."""
    page.locator(".jp-MarkdownCell").first.wait_for()
    text = "\n".join(page.locator(".jp-MarkdownOutput").all_inner_texts())
    for raw in ("{eq}", "{ref}", ":::", ")=\n", ":class:"):
        assert raw not in text, f"raw MyST in the notebook: {raw!r}"
    details = page.locator(".jp-MarkdownOutput details")
    assert details.count() >= 1, "no folded hint or solution"
    assert details.evaluate_all("ds => ds.filter(d => d.open).length") == 0
    notebook = json.loads(LEARNER.read_text(encoding="utf-8"))
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert page.locator(".jp-CodeCell").count() == len(code)
    assert (
        "Last Checkpoint" not in page.locator("#top-panel-wrapper, #top-panel").first.inner_text()
    )


def outputs_are_clean(page: Page) -> None:
    """After Run All: every code cell ran, none wrote to stderr, and only cells tagged
    raises-exception show an error."""
    notebook = json.loads(LEARNER.read_text(encoding="utf-8"))
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    raising = {i for i, c in enumerate(code) if "raises-exception" in c["metadata"].get("tags", [])}
    cells = page.locator(".jp-CodeCell")
    errors = cells.evaluate_all(
        "cs => cs.map((c, i) => c.querySelector("
        "\"[data-mime-type='application/vnd.jupyter.error']\") ? i : -1).filter(i => i >= 0)"
    )
    assert set(errors) == raising, (
        f"cells with errors: {errors}, expected {sorted(raising)}: "
        + (
            "\n".join(
                page.locator("[data-mime-type='application/vnd.jupyter.error']").all_inner_texts()
            )
        )[:3000]
    )
    stderr = page.locator(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
    ).all_inner_texts()
    assert not stderr, f"cells wrote to stderr: {stderr}"
    # A cell whose code is folded (hide-input) shows a placeholder, not its prompt: those are
    # the cells the notebook folds, and no other.
    prompts = cells.evaluate_all(
        "cs => cs.map(c => { const p = c.querySelector('.jp-InputPlaceholder');"
        " if (p && p.offsetParent !== null) return null;"
        " return c.querySelector('.jp-InputPrompt')?.textContent ?? ''; })"
    )
    hidden = [c["metadata"].get("jupyter", {}).get("source_hidden") for c in code]
    folded = {i for i, h in enumerate(hidden) if h}
    assert {i for i, p in enumerate(prompts) if p is None} == folded
    not_run = [i for i, p in enumerate(prompts) if p is not None and not re.search(r"\d", p)]
    assert not not_run, f"code cells that did not run: {not_run}"


def test_chapter_runs_and_trains_in_the_browser_offline(server: CountingServer) -> None:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"No Chromium at {CHROMIUM}: `apt-get install chromium` (see .ci/run).")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    figures: dict[str, float] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        # A fresh context: a cold visit, nothing cached. JupyterLite's service worker is
        # allowed, as for a reader (it lets the kernel see the notebook's folder).
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        watch = Watch(page, urlsplit(server.url).netloc)
        try:
            # The launch button on the chapter page names the in-browser notebook.
            page.goto(f"{server.url}{CHAPTER}.html", wait_until="load")
            with contextlib.suppress(Error):  # let it settle: leaving it aborts what is pending
                page.wait_for_load_state("networkidle", timeout=10_000)
            link = page.locator("a[href*='lite/notebooks/index.html']")
            assert link.count() == 1, "no JupyterLite launch link on the chapter page"
            href = link.get_attribute("href")
            assert href and href.endswith(f"?path={CHAPTER}.ipynb"), href

            # The book's pages are test_browser.py's business; from here on, the notebook's.
            watch.problems.clear()

            # Cold start: from asking for the notebook to its kernel being ready, then its
            # first cell.
            before = server.bytes_sent()
            start = time.monotonic()
            page.goto(link.evaluate("a => a.href"))
            # The indicator says idle before the kernel exists, then starts it, then idle.
            page.wait_for_function(
                """() => {
                    const s = document.querySelector('.jp-Notebook-ExecutionIndicator');
                    const status = s && s.getAttribute('data-status');
                    if (status && status !== 'idle') window.__kernelStarting = true;
                    return window.__kernelStarting === true && status === 'idle';
                }""",
                polling=100,
                timeout=120_000,
            )
            figures["kernel_ready_s"] = time.monotonic() - start
            figures["bytes_before_first_cell"] = server.bytes_sent() - before
            learner_notebook_reads_well(page)
            page.screenshot(path=SCREENSHOTS / "lite-notebook.png")

            # The whole learner's notebook, as a reader runs it: Run All Cells.
            page.locator(".jp-CodeCell .jp-InputArea-editor").first.click()
            page.keyboard.press("Escape")
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_text("Run All Cells", exact=True).click()
            start = time.monotonic()
            time.sleep(1)
            wait_until_cells_done(page, timeout=1800)  # only stops a run that hangs
            figures["run_all_s"] = time.monotonic() - start
            figures["bytes_after_run_all"] = server.bytes_sent() - before
            outputs_are_clean(page)
            page.locator(".jp-OutputArea-output img").first.scroll_into_view_if_needed()
            page.screenshot(path=SCREENSHOTS / "lite-cells.png")

            # The panel, from the keyboard: the arrow keys move the learning-rate slider (not
            # the notebook's selection), then Train, and the epochs go by.
            panel = page.locator(".d2l-training-panel")
            panel.wait_for(timeout=60_000)
            panel.scroll_into_view_if_needed()
            readout = panel.locator(".widget-readout").first
            assert readout.inner_text() == "0.100"
            # Focusing the slider selects its cell; the keys must not move the selection on.
            panel.locator(".noUi-handle").first.focus()
            selected = page.locator(".jp-Cell.jp-mod-selected").first.get_attribute("class")
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "() => document.querySelector('.d2l-training-panel .widget-readout')"
                ".textContent !== '0.100'",
                timeout=10_000,
            )
            lr = readout.inner_text()
            assert 0.1 < float(lr) < 1, lr
            assert page.locator(".jp-Cell.jp-mod-selected").first.get_attribute("class") == (
                selected
            ), "the arrow keys moved the notebook's selection too"
            status = panel.locator(".widget-html").first
            plot = panel.locator(".d2l-curves img").first
            empty_plot = plot.get_attribute("src")
            panel.get_by_role("button", name="Train").click()
            start, seen = time.monotonic(), []
            while "after epoch" not in (text := status.inner_text()):
                epoch = re.search(r"epoch (\d+) of 10", text)
                if epoch and int(epoch[1]) not in seen:
                    seen.append(int(epoch[1]))
                    if seen[-1] == 5:
                        page.screenshot(path=SCREENSHOTS / "lite-panel-training.png")
                # Only stops a run that hangs; how long training takes is measured, not tested.
                assert time.monotonic() - start < 1800, f"training never ended: {text!r}"
                time.sleep(0.05)
            figures["ten_epochs_s"] = time.monotonic() - start
            page.screenshot(path=SCREENSHOTS / "lite-panel-trained.png")
            # Progress shown epoch by epoch while it trained, and the curves redrawn.
            assert len(seen) >= 5 and seen == sorted(seen), f"epochs seen while training: {seen}"
            assert plot.get_attribute("src") != empty_plot
            final = re.search(
                r"lr ([\d.]+), 10 epochs: test accuracy (0\.\d+) after epoch 10", text
            )
            assert final, f"unexpected status after training: {text!r}"
            assert f"{float(final[1]):.3g}" == f"{float(lr):.3g}", (lr, text)
            assert float(final[2]) >= 0.75, text
            assert panel.locator(".widget-progress progress, .progress-bar").count() >= 1

            # On a phone, the notebook's header still shows the kernel and its status.
            page.set_viewport_size({"width": 390, "height": 844})
            page.locator(".jp-Cell").first.scroll_into_view_if_needed()
            time.sleep(1)
            for name in ("kernelName", "executionProgress"):
                item = page.locator(f".jp-NotebookPanel-toolbar [data-jp-item-name='{name}']")
                box = item.bounding_box()
                assert item.is_visible() and box and box["x"] + box["width"] <= 390, (name, box)
            page.screenshot(path=SCREENSHOTS / "lite-notebook-phone.png")
        finally:
            watch.problems += watch.worker_problems()
            page.screenshot(path=SCREENSHOTS / "lite-last.png")
            record = {
                **{k: round(v, 2) for k, v in figures.items()},
                "problems": watch.problems,
                "requests": watch.requests,
                "served": server.sent,
            }
            (ARTIFACTS / "lite-figures.json").write_text(json.dumps(record, indent=1))
            context.close()
            browser.close()

    assert not watch.problems, "\n".join(watch.problems)
    # Speed is measured and recorded (artifacts/lite-figures.json), never a condition.
    print({k: round(v, 2) for k, v in figures.items()})


def test_opened_from_a_file_it_says_to_serve_the_book() -> None:
    """From file:// JupyterLite cannot start: the tab says why and what to do, not blank."""
    if not (LITE / "notebooks" / "index.html").is_file():
        pytest.fail(f"The in-browser notebook is missing ({LITE.relative_to(ROOT)}/): `make book`.")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        url = (LITE / "notebooks" / "index.html").as_uri() + f"?path={CHAPTER}.ipynb"
        page.goto(url, wait_until="load")
        heading = page.locator("main h1")
        heading.wait_for(timeout=10_000)
        text = page.locator("main").inner_text()
        page.screenshot(path=SCREENSHOTS / "lite-from-file.png")
        browser.close()
    assert "served over HTTP" in text
    assert "make serve" in text
    assert f"http://127.0.0.1:8000/lite/notebooks/index.html?path={CHAPTER}.ipynb" in text
