"""Print every chapter of the built book to PDF, and link each PDF from its page.

    python _ext/d2l_site/pdf.py [--site _build/html] [--out _build/pdf] [--paper A4|Letter]

`make pdf` runs it after `make book`. For each chapter in _toc.yml (every page but the
root), the built page is served from 127.0.0.1 and printed by Chromium (Playwright's
``page.pdf()``, with $CHROMIUM or Debian's /usr/bin/chromium; never a browser of
Playwright's own) exactly as a reader's browser prints it: the page's print styles
(static/d2l.css) decide what is on paper; nothing is injected. The PDF is tagged (its text
has a reading order, its language is the page's) and has an outline from the headings.

Then the PDF is copied into the site, under ``pdf/`` (``_build/html/pdf/<chapter>.pdf``), and
the page's download menu, whose ".pdf" item asks the browser to print the page, links that
file instead. The link is written only once the file is there, so no page links a PDF that
is missing; `make book` rebuilds the pages without it.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import posixpath
import re
import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
PAPERS = ("A4", "Letter")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
#: The theme's ".pdf" item of the download menu: a button that prints the page.
PRINT_BUTTON = re.compile(
    r'<button onclick="window\.print\(\)"\s+class="(btn btn-sm btn-download-pdf-button'
    r' dropdown-item)"\s+title="Print to PDF"(\s+data-bs-placement="left"'
    r' data-bs-toggle="tooltip")\s*>(.*?)</button>',
    re.S,
)


class PdfError(Exception):
    """A chapter could not be printed or linked; the message says what to do."""


def toc_chapters(toc: Path) -> list[str]:
    """The pages of ``toc`` (a Jupyter Book _toc.yml) other than its root, in order, as
    paths without a suffix (``chapters/softmax-regression-scratch``)."""
    try:
        data = yaml.safe_load(toc.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise PdfError(f"cannot read the table of contents {toc}: {error}") from error
    found: list[str] = []

    def walk(entries: object) -> None:
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict):
                if isinstance(entry.get("file"), str):
                    found.append(re.sub(r"\.(md|ipynb|rst)$", "", entry["file"]))
                for key in ("chapters", "sections", "parts"):
                    walk(entry.get(key))

    if not isinstance(data, dict):
        raise PdfError(f"{toc} is not a table of contents (a YAML mapping with a root)")
    for key in ("chapters", "parts", "sections"):
        walk(data.get(key))
    if not found:
        raise PdfError(f"{toc} lists no chapter besides its root: nothing to print")
    return found


@contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve ``site`` on a free port of 127.0.0.1; yield its base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            server.shutdown()
            thread.join()


def chromium_path() -> str:
    """The Chromium to print with: $CHROMIUM, or Debian's /usr/bin/chromium."""
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(path).is_file():
        raise PdfError(
            f"no Chromium at {path}: install Debian's chromium (`apt-get install chromium`)"
            " or set CHROMIUM to a Chromium or Chrome binary"
        )
    return path


def print_page(page: object, url: str, target: Path, paper: str) -> None:
    """Open ``url`` in ``page`` (a Playwright page), wait until it has loaded everything
    it asks for, and print it to ``target``, as a browser prints it."""
    page.goto(url, wait_until="load")  # type: ignore[attr-defined]
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    page.evaluate("() => document.fonts.ready.then(() => true)")  # type: ignore[attr-defined]
    partial = target.with_name(target.name + ".part")
    page.pdf(  # type: ignore[attr-defined]
        path=str(partial), format=paper, print_background=True, outline=True, tagged=True
    )
    partial.replace(target)


def print_offline(browser: object, url: str, target: Path, paper: str) -> list[str]:
    """Print ``url`` (on a local server) to ``target`` in a fresh context of ``browser``,
    where no request may leave the server; return the requests that failed or tried to."""
    problems: list[str] = []
    origin = urlsplit(url).netloc
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]

    def guard(route: object) -> None:
        request_url = route.request.url  # type: ignore[attr-defined]
        if urlsplit(request_url).netloc == origin:
            route.continue_()  # type: ignore[attr-defined]
        else:
            problems.append(request_url)
            route.abort()  # type: ignore[attr-defined]

    context.route("**/*", guard)
    page = context.new_page()
    page.on("requestfailed", lambda r: problems.append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.url} ({r.status})"))
    try:
        print_page(page, url, target, paper)
    finally:
        context.close()
    return problems


def print_chapters(site: Path, out: Path, chapters: list[str], paper: str = "A4") -> list[Path]:
    """Print each chapter's built page (``site/<chapter>.html``) to ``out/<chapter>.pdf``.

    Every request must stay on the local server: one that fails or would leave it stops
    the chapter with an error naming it (a PDF of a half-loaded page is not written).
    """
    from playwright.sync_api import sync_playwright

    if paper not in PAPERS:
        raise PdfError(f"paper must be one of {', '.join(PAPERS)}, not {paper!r}")
    missing = [c for c in chapters if not (site / f"{c}.html").is_file()]
    if missing:
        raise PdfError(f"no built page for {', '.join(missing)} in {site}: run `make book` first")
    written = []
    with serve(site) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            for chapter in chapters:
                target = out / f"{chapter}.pdf"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.unlink(missing_ok=True)
                problems = print_offline(browser, base + f"{chapter}.html", target, paper)
                if problems:
                    target.unlink()
                    raise PdfError(f"{chapter}: requests failed or left the site: {problems}")
                written.append(target)
        finally:
            browser.close()
    return written


def link_pdf(site: Path, out: Path, chapter: str) -> Path:
    """Copy ``out/<chapter>.pdf`` to ``site/pdf/<chapter>.pdf`` and point the page's ".pdf"
    download item at it; return the copy. A page already linked is left as it is."""
    source, copy = out / f"{chapter}.pdf", site / "pdf" / f"{chapter}.pdf"
    page = site / f"{chapter}.html"
    if not source.is_file():
        raise PdfError(f"no {source}: print the chapter first (`make pdf`)")
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, copy)
    text = page.read_text(encoding="utf-8")
    href = posixpath.relpath(f"pdf/{chapter}.pdf", posixpath.dirname(chapter) or ".")
    if f'href="{href}"' in text:
        return copy
    link = rf'<a href="{href}" download class="\1" title="Download PDF file"\2>\3</a>'
    text, count = PRINT_BUTTON.subn(link, text)
    if count != 1:
        raise PdfError(
            f"{page}: the download menu's print button was not found (the theme changed?);"
            " the PDF is in place but unlinked"
        )
    page.write_text(text, encoding="utf-8")
    return copy


def main(argv: list[str] | None = None) -> int:
    """Print every chapter of the built book and link the PDFs; 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "pdf")
    parser.add_argument("--toc", type=Path, default=ROOT / "_toc.yml")
    parser.add_argument("--paper", choices=PAPERS, default="A4")
    args = parser.parse_args(argv)
    try:
        chapters = toc_chapters(args.toc)
        for path in print_chapters(args.site, args.out, chapters, args.paper):
            print(f"wrote {path}")
        for chapter in chapters:
            print(f"linked {link_pdf(args.site, args.out, chapter)}")
    except PdfError as error:
        print(f"make pdf: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
