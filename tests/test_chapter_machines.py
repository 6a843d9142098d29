"""The chapter's hidden checks and printed numbers hold on other machines.

nbval runs the chapter on this machine's own BLAS kernel with one thread. Here it runs again
with two threads, and with another OpenBLAS kernel (``OPENBLAS_CORETYPE``): each run
must raise nothing (every hidden check holds), write nothing to stderr, and print, in every
cell that nbval compares, what the reference notebook holds. Rounding differs between these
machines, which is the point: the chapter must not depend on it.
"""

from __future__ import annotations

import os
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
THREADS_LINE = 'blas_limits = threadpool_limits(limits=1, user_api="blas")'

#: (OpenBLAS kernel, BLAS threads), None for the kernel OpenBLAS picks for this processor:
#: with nbval's run (that kernel, one thread), two thread counts and two kernels.
MACHINES = [(None, 2), ("Haswell", 1)]


def _compared(cell: nbformat.NotebookNode) -> list[str]:
    """What nbval compares in a code cell: its streams and plain-text results, sanitized."""
    if {"nbval-ignore-output", "nbval-skip"} & set(cell.metadata.get("tags", [])):
        return []
    texts = []  # consecutive writes to one stream count as one output, as nbval counts them
    for output in cell.outputs:
        if output.output_type == "stream":
            if texts and texts[-1].startswith(output.name + ": "):
                texts[-1] += output.text
            else:
                texts.append(output.name + ": " + output.text)
        elif "text/plain" in output.get("data", {}):
            texts.append(output.data["text/plain"])
    return [sanitize("\n".join(texts))]


@pytest.mark.parametrize(("coretype", "threads"), MACHINES)
def test_chapter_holds_on_another_machine(coretype: str | None, threads: int) -> None:
    notebook = jupytext.read(CHAPTER.with_suffix(".md"))
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    setup = [cell for cell in code if THREADS_LINE in cell.source]
    assert len(setup) == 1, "the chapter's thread limit line changed: update THREADS_LINE"
    setup[0].source = setup[0].source.replace("limits=1", f"limits={threads}")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads)}
    if coretype is not None:
        env["OPENBLAS_CORETYPE"] = coretype
    NotebookClient(notebook, timeout=600, kernel_name="python3").execute(env=env)

    stderr = [o.text for c in code for o in c.outputs if o.get("name") == "stderr"]
    assert not stderr, f"the chapter wrote to stderr: {stderr}"
    reference = nbformat.read(toc.reference_notebook(CHAPTER.with_suffix(".md")), as_version=4)
    expected = [cell for cell in reference.cells if cell.cell_type == "code"]
    assert len(expected) == len(code), "the reference notebook is stale: run `make notebook`"
    for ours, book in zip(code, expected, strict=True):
        assert _compared(ours) == _compared(book), ours.source
