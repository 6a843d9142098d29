"""The book's pages and chapters, as `_toc.yml` lists them: what the build and tests follow.

    python -m book.toc              the chapters' sources without suffix, one a line
    python -m book.toc --pages      every page of the book, the landing page first

A *chapter* is a page that is a notebook (its MyST front matter names a kernel): it is
executed, tested by nbval, given a learner's notebook and served in the in-browser site.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TOC = ROOT / "_toc.yml"
SUFFIXES = (".md", ".ipynb")
#: The chapter that the project's own checks name, as the one with the live training panel:
#: the benchmark of its training loop (benchmarks/), the isolation test of its panel, and the
#: browser tests of that panel on the page and in JupyterLite. All else follows _toc.yml.
PANEL_CHAPTER = "chapters/softmax-regression-scratch"
#: Where the executed reference notebook of ``chapters/x.md`` lives: tests/reference/chapters/.
REFERENCE = ROOT / "tests" / "reference"


class TocError(ValueError):
    """`_toc.yml` names something that is not there, or is not a table of contents."""


def _source(entry: str, root: Path) -> Path:
    """The file a toc entry names (``chapters/x`` may be ``chapters/x.md``)."""
    path = root / entry
    candidates = [path] if path.suffix in SUFFIXES else [path.with_suffix(s) for s in SUFFIXES]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise TocError(f"_toc.yml names {entry!r}, but there is no {candidates[0].name} in {root}.")


def _entries(node: object) -> list[str]:
    """Every ``file:`` of a toc node, in reading order (parts, chapters, sections)."""
    found: list[str] = []
    if isinstance(node, dict):
        if "file" in node:
            found.append(str(node["file"]))
        for key in ("parts", "chapters", "sections"):
            found += _entries(node.get(key, []))
    elif isinstance(node, list):
        for item in node:
            found += _entries(item)
    return found


def pages(root: Path = ROOT) -> list[Path]:
    """Every page of the book, as files: the ``root`` page first, then the toc's order."""
    toc_file = root / TOC.name
    try:
        toc = yaml.safe_load(toc_file.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise TocError(f"cannot read {toc_file}: {err}") from None
    if not isinstance(toc, dict) or "root" not in toc:
        raise TocError(f"{toc_file} has no `root:` page: is it a Jupyter Book table of contents?")
    return [_source(entry, root) for entry in [str(toc["root"]), *_entries(toc)]]


def is_notebook(page: Path) -> bool:
    """Whether a page is a notebook: an .ipynb, or MyST whose front matter names a kernel."""
    if page.suffix == ".ipynb":
        return True
    text = page.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return False
    front = yaml.safe_load(text[4 : text.find("\n---", 4)]) or {}
    return isinstance(front, dict) and "kernelspec" in front


def chapters(root: Path = ROOT) -> list[Path]:
    """The book's notebook pages (MyST sources), in the toc's order."""
    found = [page for page in pages(root) if is_notebook(page)]
    for page in found:
        if page.suffix != ".md":
            raise TocError(
                f"{page.relative_to(root)} is a notebook: the book's chapters are MyST Markdown "
                "(the notebooks are built from them). Convert it with `jupytext --to myst`."
            )
    return found


def reference_notebook(chapter: Path, root: Path = ROOT) -> Path:
    """Where the executed notebook of ``chapter`` is kept for nbval."""
    return root / REFERENCE.relative_to(ROOT) / chapter.relative_to(root).with_suffix(".ipynb")


def learner_notebook(chapter: Path) -> Path:
    """Where the learner's notebook of ``chapter`` is: beside it, the path launch buttons open."""
    return chapter.with_suffix(".ipynb")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", action="store_true", help="every page, not only chapters")
    args = parser.parse_args(argv)
    try:
        found = pages() if args.pages else chapters()
    except TocError as err:
        print(f"book/toc.py: {err}", file=sys.stderr)
        return 1
    for path in found:
        print(path.relative_to(ROOT).with_suffix("").as_posix())
    return 0


if __name__ == "__main__":
    sys.exit(main())
