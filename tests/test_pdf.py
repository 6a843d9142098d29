"""The chapters on paper: `make pdf`'s code prints the built pages, and the PDFs are checked
with poppler-utils (pdfinfo, pdftotext, pdffonts, pdftohtml, pdftoppm).

Needs the built book (`make book`), Chromium (/usr/bin/chromium or $CHROMIUM) and
poppler-utils (.ci/run installs them). Each chapter of _toc.yml is printed once on A4 and
once on Letter into a temporary folder, by _ext/d2l_site/pdf.py as `make pdf` runs it, and
once more as a reader's browser prints it (page.pdf() with its defaults, after reading the
page to its end): the two must agree. Page images go to artifacts/pdf/ (look at them).
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext" / "d2l_site"))
import pdf  # noqa: E402  (a script of the build, not a package)

pytestmark = pytest.mark.slow

SITE = ROOT / "_build" / "html"
ARTIFACTS = ROOT / "artifacts" / "pdf"
CHAPTERS = pdf.toc_chapters(ROOT / "_toc.yml")
#: Page counts the chapter may take: 28 on A4 and 30 on Letter when these bounds were set;
#: fewer would mean missing content, more a layout that wastes paper.
PAGE_RANGE = {"A4": range(24, 40), "Letter": range(24, 41)}
PAPER_POINTS = {"A4": (595.92, 842.88), "Letter": (612.0, 792.0)}
RESOLUTION = 50  # dots per inch of the page images


def poppler(*args: str | Path) -> str:
    """The output of a poppler-utils command."""
    tool = shutil.which(str(args[0]))
    if tool is None:
        pytest.fail(f"{args[0]} is missing: `apt-get install poppler-utils` (see .ci/run).")
    return subprocess.run([tool, *map(str, args[1:])], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


def words(text: str) -> list[str]:
    """The words of ``text``, with a line-end hyphenation or wrap of code undone."""
    return re.sub(r"\s+", " ", text).split()


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """paper -> chapter -> the PDF `make pdf` writes for it."""
    if not all((SITE / f"{chapter}.html").is_file() for chapter in CHAPTERS):
        pytest.fail("The built book is missing: run `make book` first.")
    out = tmp_path_factory.mktemp("pdf")
    found = {}
    for paper in pdf.PAPERS:
        written = pdf.print_chapters(SITE, out / paper, CHAPTERS, paper)
        found[paper] = dict(zip(CHAPTERS, written, strict=True))
    return found


@pytest.fixture(params=[(c, p) for c in CHAPTERS for p in pdf.PAPERS], ids="-".join)
def one(request: pytest.FixtureRequest, printed: dict[str, dict[str, Path]]) -> tuple:
    chapter, paper = request.param
    return chapter, paper, printed[paper][chapter]


def page_html(chapter: str) -> str:
    return (SITE / f"{chapter}.html").read_text(encoding="utf-8")


def headings(chapter: str) -> list[str]:
    """The chapter's section headings (h2, h3), as the page shows them."""
    found = re.findall(r"<h([23])>(.*?)<a class=\"headerlink\"", page_html(chapter))
    return [html.unescape(re.sub(r"<[^>]+>", "", text)).strip() for _, text in found]


def test_pdf_has_title_language_paper_and_page_count(one: tuple) -> None:
    chapter, paper, path = one
    info = dict(line.split(":", 1) for line in poppler("pdfinfo", path).splitlines() if ":" in line)
    info = {key.strip(): value.strip() for key, value in info.items()}
    title = re.search(r"<h1>(.*?)<a class=\"headerlink\"", page_html(chapter)).group(1)
    assert info["Title"].startswith(html.unescape(title)), info["Title"]
    assert info["Tagged"] == "yes"
    width, height = (float(n) for n in re.findall(r"[\d.]+", info["Page size"])[:2])
    assert (width, height) == pytest.approx(PAPER_POINTS[paper], abs=1)
    assert int(info["Pages"]) in PAGE_RANGE[paper], f"{info['Pages']} pages on {paper}"
    language = re.search(r'<html lang="([^"]+)"', page_html(chapter)).group(1)
    assert f"/Lang ({language})".encode() in path.read_bytes(), "no language in the PDF"


def test_pdf_outline_follows_the_headings(one: tuple) -> None:
    """Chromium builds the outline from the headings. It sometimes repeats a heading's
    text within its entry when the heading starts a page: each heading must be found in
    its own entry, in order."""
    chapter, _, path = one
    entries = re.findall(r"<item page=\"\d+\">([^<]*)</item>", poppler(
        "pdftohtml", "-xml", "-i", "-q", "-stdout", path))  # fmt: skip
    entries = [" ".join(words(html.unescape(e))) for e in entries]
    expected = headings(chapter)
    in_order = [e for e in entries if any(h.replace(" ", "") in e.replace(" ", "")
                                          for h in expected)]  # fmt: skip
    assert len(in_order) == len(expected), (entries, expected)
    for entry, heading in zip(in_order, expected, strict=True):
        assert heading.replace(" ", "") in entry.replace(" ", ""), (entry, heading)


def test_pdf_fonts_are_embedded_and_text_is_selectable(one: tuple) -> None:
    _, paper, path = one
    fonts = poppler("pdffonts", path).splitlines()[2:]
    assert fonts, "no fonts: the text is not text"
    not_embedded = [f for f in fonts if f.split()[-5] != "yes"]
    assert not not_embedded, f"fonts not embedded: {not_embedded}"
    pages = int(re.search(r"Pages:\s+(\d+)", poppler("pdfinfo", path)).group(1))
    for number in range(1, pages + 1):
        text = poppler("pdftotext", "-f", number, "-l", number, path, "-")
        assert len(text.split()) >= 20, f"page {number} of {paper} has almost no text"


def test_pdf_holds_what_paper_needs_and_nothing_else(one: tuple) -> None:
    """Every section; code wrapped, not cut; hints and solutions open; the explorer as a
    figure and a table; the panel as a sentence; link targets; no menus or buttons."""
    chapter, _, path = one
    text = " ".join(words(poppler("pdftotext", path, "-")))
    squeezed = text.replace(" ", "")
    missing = [h for h in headings(chapter) if h.replace(" ", "") not in squeezed]
    assert not missing, f"headings missing from the PDF: {missing}"
    source = page_html(chapter)
    # Every folded hint and solution is printed open: its first words are on paper.
    folded = re.findall(
        r'<div class="dropdown [^"]*admonition[^"]*">\s*<p class="admonition-title">[^<]*</p>'
        r"\s*<p>([^<]{12,})",
        source,
    )
    for start in folded:
        first = "".join(words(html.unescape(start))[:4])
        assert first in squeezed, f"a folded block is not printed open: {start[:60]!r}"
    # So is each code cell folded on screen (<details> above its input): its first line.
    for cell in re.findall(r'<details class="[^"]*hide above-input">.*?<pre>(.*?)\n', source,
                           re.S):  # fmt: skip
        line = "".join(words(html.unescape(re.sub(r"<[^>]+>", "", cell))))
        assert line and line in squeezed, f"a folded code cell is not printed: {line!r}"
    if "d2l-explorer-on-paper" in source:  # the chapter with the widgets
        assert "Allrunsafterepoch10" in squeezed and "learningrate:0.1" in squeezed
        assert "Thelivetrainingpanelisnotprinted" in squeezed
        # The explorer's printout: its widest line, and its last column.
        assert "epochsofinfinitetrainloss" in squeezed, "a printed line is cut"
        assert "0of10" in squeezed, "a printed line is cut"
    unwanted_words = ("Live training needs a Python kernel", "Show code cell source",
                      "Skip to main content", "Launch interactive content",
                      "Print to PDF")  # fmt: skip
    for unwanted in unwanted_words:
        assert unwanted.replace(" ", "") not in squeezed, f"{unwanted!r} is on paper"
    externals = set(re.findall(r'<a class="reference external" href="(https?://[^"]+)"',
                               source))  # fmt: skip
    shown = [url for url in externals if html.unescape(url).replace(" ", "") in squeezed]
    assert externals and len(shown) == len(externals), sorted(externals - set(shown))


def test_no_heading_at_the_foot_of_a_page(one: tuple) -> None:
    chapter, paper, path = one
    titles = {h.replace(" ", "") for h in headings(chapter)}
    pages = poppler("pdftotext", path, "-").split("\f")
    at_foot = []
    for number, text in enumerate(pages, 1):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines and lines[-1].replace(" ", "") in titles:
            at_foot.append(f"page {number}: {lines[-1]}")
    assert not at_foot, f"headings left at the foot of a page on {paper}: {at_foot}"


def longest_run(row: np.ndarray) -> int:
    """The length of the longest run of True in a row of booleans."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], row.astype(np.int8), [0]))))
    return int((edges[1::2] - edges[::2]).max()) if len(edges) else 0


def empty_boxes(image: np.ndarray) -> list[str]:
    """Where a page image (grey levels, 0 black) shows an empty bordered box, or is blank.

    A box is a band between two long horizontal rules (at least 60 % of the page's width:
    code cells, admonitions), or below the last rule to the end of the page's drawing, whose
    two sides are drawn and which holds no text. Charts are narrower, so their grids are
    not boxes. A page is nearly blank when less than 3 % of its height holds text.
    """
    height, width = image.shape
    drawn, text = image < 240, image < 150
    rows_with_text = text.any(axis=1)
    found = []
    if rows_with_text.mean() < 0.03:
        found.append(f"nearly blank ({rows_with_text.sum()} rows of text of {height})")
    longest = np.array([longest_run(row) for row in drawn])
    rules = np.flatnonzero(longest >= 0.6 * width)
    tops = [r for i, r in enumerate(rules) if i == 0 or r > rules[i - 1] + 1]  # one per rule
    last_drawn = int(np.flatnonzero(drawn.any(axis=1))[-1]) if drawn.any() else 0
    bands = list(zip(tops, [*tops[1:], last_drawn + 1], strict=False))
    for top, bottom in bands:
        inside = slice(top + 2, bottom - 1)
        if bottom - top < 8:
            continue
        columns = np.flatnonzero(drawn[inside].all(axis=0))
        if len(columns) < 2 or columns[-1] - columns[0] < 0.6 * width:
            continue  # no box: text or figures between two boxes
        left, right = columns[0] + 3, columns[-1] - 2
        if not text[inside, left:right].any():
            found.append(f"empty box from row {top} to {bottom} of {height}")
    return found


def test_empty_box_check_finds_what_it_looks_for() -> None:
    page = np.full((580, 410), 255, dtype=np.uint8)
    page[20:30, 40:300] = 0  # a few lines of text
    page[100:110, 40:300] = 0
    page[500, 30:380] = page[500:579, 30] = page[500:579, 380] = 200  # an open box at the foot
    assert any("empty box" in p for p in empty_boxes(page)), empty_boxes(page)
    page[530:540, 40:200] = 0  # now a line of code in it
    assert empty_boxes(page) == []
    assert empty_boxes(np.full((580, 410), 255, dtype=np.uint8))[0].startswith("nearly blank")


def test_no_page_is_an_empty_box_or_nearly_blank(one: tuple) -> None:
    chapter, paper, path = one
    folder = ARTIFACTS / f"{Path(chapter).name}-{paper}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    poppler("pdftoppm", "-r", RESOLUTION, "-gray", "-png", path, folder / "page")
    problems = []
    for image in sorted(folder.glob("page-*.png")):
        grey = np.asarray(Image.open(image).convert("L"))
        problems += [f"{image.name}: {p}" for p in empty_boxes(grey)]
    assert not problems, f"on {paper}:\n" + "\n".join(problems)


def test_a_browser_prints_the_page_as_make_pdf_does(printed: dict, tmp_path: Path) -> None:
    """A reader reads the page to its end (so its widgets load), then prints it with the
    browser's defaults: the same pages and the same text as `make pdf`."""
    for chapter in CHAPTERS:
        made = printed["A4"][chapter]
        target = tmp_path / "browser.pdf"
        with pdf.serve(SITE) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=pdf.chromium_path(), headless=True, args=pdf.CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base + f"{chapter}.html", wait_until="networkidle")
            height = page.evaluate("document.documentElement.scrollHeight")
            for y in range(0, height + 900, 900):
                page.evaluate(f"window.scrollTo(0, {y})")
                page.wait_for_timeout(20)
            page.wait_for_load_state("networkidle")
            page.pdf(path=str(target), format="A4")
            browser.close()
        count = [poppler("pdfinfo", p).split("Pages:")[1].split()[0] for p in (made, target)]
        assert count[0] == count[1], f"{chapter}: make pdf {count[0]} pages, browser {count[1]}"
        # Page by page, the same characters: a tagged PDF (make pdf's) gives the parts of
        # some formulas in another reading order than an untagged one, and pdftotext
        # spaces a formula's symbols differently from one printout to the next.
        pages = [poppler("pdftotext", p, "-").split("\f") for p in (made, target)]
        differ = [number for number, (a, b) in enumerate(zip(*pages, strict=True), 1)
                  if Counter("".join(a.split())) != Counter("".join(b.split()))]  # fmt: skip
        assert not differ, f"{chapter}: the two printouts differ in the text of pages {differ}"


def test_the_download_menu_links_the_pdf_only_when_it_is_there(
    printed: dict, tmp_path: Path
) -> None:
    """Built by `make book`, the menu's .pdf item prints the page; `make pdf` puts the PDF
    in the site and links it; a page never links a PDF that is not there."""
    for chapter in CHAPTERS:
        built = page_html(chapter)
        served = SITE / "pdf" / f"{chapter}.pdf"
        linked = re.findall(r'<a href="([^"]+\.pdf)" download', built)
        if served.is_file():
            assert len(linked) == 1 and (SITE / chapter).parent.joinpath(linked[0]).resolve() \
                == served.resolve()  # fmt: skip
        else:
            assert not linked and 'onclick="window.print()"' in built
        site = tmp_path / "site"
        (site / chapter).parent.mkdir(parents=True, exist_ok=True)
        (site / f"{chapter}.html").write_text(built)  # linked already or not: the same end
        out = printed["A4"][chapter].parents[len(Path(chapter).parts) - 1]
        copy = pdf.link_pdf(site, out, chapter)
        page = (site / f"{chapter}.html").read_text()
        href = re.findall(r'<a href="([^"]+\.pdf)" download', page)
        assert len(href) == 1 and (site / chapter).parent.joinpath(href[0]).resolve() == copy
        assert copy.read_bytes() == printed["A4"][chapter].read_bytes()
        assert 'onclick="window.print()"' not in page
