"""The chapter's MyST source and its committed, executed notebook say the same thing."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest
from nbformat import NotebookNode

CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"
PAIRS = sorted(CHAPTERS.glob("*.md"))


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


@pytest.mark.parametrize("source", PAIRS, ids=[p.name for p in PAIRS])
def test_markdown_and_notebook_are_in_sync(source: Path) -> None:
    paired = source.with_suffix(".ipynb")
    assert paired.is_file(), f"{paired.name} is missing: run `make notebook`."
    md_cells, nb_cells = cells(jupytext.read(source)), cells(jupytext.read(paired))
    for index, (md, nb) in enumerate(zip(md_cells, nb_cells, strict=False)):
        assert md == nb, f"cell {index} differs between {source.name} and {paired.name}: " + (
            "run `make notebook` to re-execute and re-pair them."
        )
    assert len(md_cells) == len(nb_cells), "the two files have different numbers of cells"


@pytest.mark.parametrize("source", PAIRS, ids=[p.name for p in PAIRS])
def test_committed_notebook_was_executed_in_order(source: Path) -> None:
    notebook = jupytext.read(source.with_suffix(".ipynb"))
    counts = [c.execution_count for c in notebook.cells if c.cell_type == "code"]
    assert None not in counts, "some cells were never run: run `make notebook`."
    assert counts == list(range(1, len(counts) + 1)), "cells were run out of order"
