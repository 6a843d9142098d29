"""Experiments cannot disturb the chapter: the live panel trains models of its own.

The chapter runs in a real kernel; then the panel trains (as a reader's clicks would make it),
and the chapter's state and numbers are compared before and after.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient
from nbval_rules import sanitize

from book import toc

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / toc.PANEL_CHAPTER

# Everything a training or evaluation cell reads: the parameters, the three generators, and
# a figure computed from them (the confusion matrix's diagonal, as the chapter prints it).
FINGERPRINT = """
import hashlib
state = [W.tobytes(), b.tobytes(), repr(rng.bit_generator.state),
         repr(train_iter.rng.bit_generator.state), repr(test_iter.rng.bit_generator.state)]
y_check_pred = np.concatenate([predict_ch3(net, X) for X, _ in test_iter])
counts = np.zeros((10, 10), dtype=int)
np.add.at(counts, (test_iter.y, y_check_pred), 1)
print(hashlib.sha256(repr(state).encode()).hexdigest(), np.diag(counts))
"""

PANEL_RUNS = """
for lr, epochs in [(10, 2), (0.1, 2)]:
    panel.lr_slider.value, panel.epochs_slider.value = lr, epochs
    panel.train_button.click()
print([run.summary() for run in panel.runs])
"""


def _text(cell: nbformat.NotebookNode) -> str:
    """The cell's printed text, with the rounding noise nbval also ignores."""
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    return sanitize(text)


def test_panel_runs_change_nothing_the_chapter_computes() -> None:
    notebook = jupytext.read(CHAPTER.with_suffix(".md"))
    reference = nbformat.read(toc.reference_notebook(CHAPTER.with_suffix(".md")), as_version=4)
    code = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    client = NotebookClient(notebook, timeout=300, kernel_name="python3")
    with client.setup_kernel():
        for i in code:
            client.execute_cell(notebook.cells[i], i)
        first = [_text(notebook.cells[i]) for i in code]
        extra = [nbformat.v4.new_code_cell(src) for src in (FINGERPRINT, PANEL_RUNS, FINGERPRINT)]
        notebook.cells.extend(extra)
        for n, cell in enumerate(extra, start=len(notebook.cells) - len(extra)):
            client.execute_cell(cell, n)
        before, runs, after = (_text(cell) for cell in extra)
        assert "lr 10, 2 epochs: test accuracy" in runs and "lr 0.1, 2 epochs" in runs
        assert after == before and "561" in before  # the book's count of correct pullovers

        # Re-running the chapter from the top after the panel prints what the first run did,
        # in every cell, the learning-rate runs that depend on rounding included.
        for i in code:
            client.execute_cell(notebook.cells[i], i)
    again = [_text(notebook.cells[i]) for i in code]
    assert sum(1 for text in first if text) >= 15  # the cells that print
    assert again == first
    # And what nbval compares is the book's (the other cells depend on the processor).
    for i in code:
        if "nbval-ignore-output" not in notebook.cells[i].metadata.get("tags", []):
            assert _text(notebook.cells[i]) == _text(reference.cells[i]), notebook.cells[i].source
