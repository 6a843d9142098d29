"""The exercises' solutions print what the chapter says they print.

Each solution's code runs after the chapter's cells, in one kernel, as a reader would run it;
its printout is compared with the text block that follows it in the chapter. A block
introduced by "It printed, on the machine that built this book" holds timings: there only the
words and the layout are compared, every number masked.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient
from nbval_rules import sanitize

from book import toc

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / f"{toc.PANEL_CHAPTER}.md"
SOLUTION = re.compile(
    r"^( *)```python\n(?P<code>.*?)^\1```\n\n\1It printed(?P<timed>, on the machine that built"
    r" this book)?:\n\n\1```text\n(?P<text>.*?)^\1```",
    re.MULTILINE | re.DOTALL,
)


def _sanitize(text: str) -> str:
    """The rounding noise that nbval also ignores (tests/nbval-sanitize.cfg)."""
    return sanitize(text)


def _masked(text: str) -> str:
    return re.sub(r"\d+(?:\.\d+)?", "N", re.sub(r" +", " ", text))


def solutions() -> list[tuple[str, str, bool]]:
    """(code, printout, timed) of every solution in the chapter, in order."""
    found = []
    for match in SOLUTION.finditer(CHAPTER.read_text()):
        code = textwrap.dedent(match["code"])
        text = textwrap.dedent(match["text"])
        found.append((code, text, match["timed"] is not None))
    return found


def test_every_exercise_has_a_solution_with_its_printout() -> None:
    exercises = CHAPTER.read_text().split("## Exercises", 1)[1]
    assert len(solutions()) == len(re.findall(r"^\d+\. \*\*", exercises, re.MULTILINE)) == 7


def test_solutions_print_what_the_chapter_shows() -> None:
    notebook = jupytext.read(CHAPTER)
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    notebook.cells = cells + [nbformat.v4.new_code_cell(code) for code, _, _ in solutions()]
    client = NotebookClient(notebook, timeout=600, kernel_name="python3")
    client.execute()
    for cell, (code, text, timed) in zip(notebook.cells[len(cells) :], solutions(), strict=True):
        printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert all(o.output_type == "stream" and o.name == "stdout" for o in cell.outputs), code
        if timed:
            assert _masked(printed) == _masked(text), code
        else:
            assert _sanitize(printed) == _sanitize(text), code
