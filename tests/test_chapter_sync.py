"""Every chapter's notebooks say what its MyST source says: the executed reference notebook
(tests/reference/, tested by nbval) and the learner's notebook (what the launch buttons open)."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbformat import NotebookNode

from book import learner_notebook, toc

CHAPTERS = toc.chapters()
IDS = [c.relative_to(toc.ROOT).as_posix() for c in CHAPTERS]
#: MyST that no plain Jupyter renders: a label line, a role, a directive's fence or option.
RAW_MYST = re.compile(
    r"^\s*\([^()\s]+\)=\s*$|\{(?:eq|ref|numref|doc)\}`|^\s*(?::::*|```+)\{|^\s*:class:",
    re.MULTILINE,
)


def cells(notebook: NotebookNode) -> list[tuple[str, str, list[str], object]]:
    """What must agree between the two files: each cell's type, source, tags and the
    myst-nb options (figure captions, names, alt text)."""
    return [
        (
            cell.cell_type,
            cell.source.strip(),
            sorted(cell.metadata.get("tags", [])),
            cell.metadata.get("mystnb"),
        )
        for cell in notebook.cells
    ]


def test_the_book_has_chapters() -> None:
    assert CHAPTERS, "_toc.yml lists no chapter (a MyST page with a kernelspec)"


@pytest.mark.parametrize("source", CHAPTERS, ids=IDS)
def test_reference_notebook_and_markdown_are_in_sync(source: Path) -> None:
    reference = toc.reference_notebook(source)
    assert reference.is_file(), f"{reference.relative_to(toc.ROOT)} is missing: `make notebook`."
    md_cells, nb_cells = cells(jupytext.read(source)), cells(jupytext.read(reference))
    for index, (md, nb) in enumerate(zip(md_cells, nb_cells, strict=False)):
        assert md == nb, f"cell {index} differs between {source.name} and {reference}: " + (
            "run `make notebook` to execute it again."
        )
    assert len(md_cells) == len(nb_cells), "the two files have different numbers of cells"


@pytest.mark.parametrize("source", CHAPTERS, ids=IDS)
def test_reference_notebook_was_executed_in_order(source: Path) -> None:
    notebook = jupytext.read(toc.reference_notebook(source))
    counts = [c.execution_count for c in notebook.cells if c.cell_type == "code"]
    assert None not in counts, "some cells were never run: run `make notebook`."
    assert counts == list(range(1, len(counts) + 1)), "cells were run out of order"


@pytest.mark.parametrize("source", CHAPTERS, ids=IDS)
def test_learner_notebook_is_the_one_built_from_the_markdown(source: Path) -> None:
    path = toc.learner_notebook(source)
    assert path.is_file(), f"{path.relative_to(toc.ROOT)} is missing: run `make notebook`."
    assert path.read_text(encoding="utf-8") == learner_notebook.learner_text(source), (
        f"{path.relative_to(toc.ROOT)} is stale or was edited: run `make notebook` (the .md is "
        "the source; a change made only in the notebook is lost)."
    )


@pytest.mark.parametrize("source", CHAPTERS, ids=IDS)
def test_learner_notebook_has_no_outputs_checks_or_raw_myst(source: Path) -> None:
    notebook = nbformat.read(toc.learner_notebook(source), as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    hidden = [c for c in jupytext.read(source).cells if c.cell_type == "code" and
              learner_notebook.left_out(c)]  # fmt: skip
    sources = {c.source for c in code}
    assert not [c for c in hidden if c.source in sources], "a check cell reached the learner"
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            raw = RAW_MYST.search(cell.source)
            assert not raw, f"raw MyST in the learner's notebook: {raw[0]!r} in {cell.source!r}"
    assert "jupytext" not in notebook.metadata, "the learner's notebook is paired with nothing"
