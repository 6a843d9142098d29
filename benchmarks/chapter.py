"""The chapter's own code, taken from its MyST source with jupytext and run in a namespace.

The benchmarks time the functions the chapter defines, not copies of them: if the
chapter renames or reshapes its training code, loading fails here with a message
that says what is missing.
"""

from __future__ import annotations

import ast
import contextlib
import io
from pathlib import Path
from typing import Any

import jupytext

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "chapters" / "softmax-regression-scratch.md"

#: What the benchmarks use from the chapter's namespace.
NEEDED = (
    "softmax", "net", "cross_entropy", "accuracy", "Accumulator", "evaluate_accuracy",
    "gradients", "sgd", "train_epoch_ch3", "train_ch3", "init_params",
    "W", "b", "batch_size", "train_iter", "test_iter",
)  # fmt: skip


class ChapterShapeError(RuntimeError):
    """The chapter no longer has the code the benchmarks expect."""


def code_cells(path: Path = CHAPTER) -> list[Any]:
    """The chapter's code cells, in order (jupytext notebook cells)."""
    return [cell for cell in jupytext.read(path).cells if cell.cell_type == "code"]


def _tree(cell: Any) -> ast.Module:
    from IPython.core.inputtransformer2 import TransformerManager

    # IPython syntax (the Colab cell's `%pip`) becomes plain Python first.
    return ast.parse(TransformerManager().transform_cell(cell.source))


def defines(cell: Any, name: str) -> bool:
    """Whether the cell defines a top-level function or class called ``name``."""
    return any(
        isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name
        for node in _tree(cell).body
    )


def calls(cell: Any, name: str) -> bool:
    """Whether the cell calls ``name(...)`` anywhere."""
    return any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
        for node in ast.walk(_tree(cell))
    )


def shows_figure(cell: Any) -> bool:
    """Whether the cell draws a figure (myst-nb figure options, or ``plt.show()``)."""
    return "figure" in cell.metadata.get("mystnb", {}) or "plt.show()" in cell.source


def run_cell(cell: Any, namespace: dict[str, Any], label: str) -> str:
    """Execute one cell in ``namespace``; return what it printed."""
    printed = io.StringIO()
    code = compile(_tree(cell), label, "exec")
    with contextlib.redirect_stdout(printed):
        exec(code, namespace)
    return printed.getvalue()


def load_chapter(path: Path = CHAPTER, *, until: str = "train_ch3") -> dict[str, Any]:
    """Run the chapter's code cells in order, up to the one that defines ``until``.

    Cells that draw figures are skipped; every other cell runs as it does in the
    notebook (loading the data with the chapter's seed, defining the model, the
    loss, the gradients and the training functions), with its printing captured.
    Returns the namespace.

    Raises
    ------
    ChapterShapeError
        If no cell defines ``until``, or a name in :data:`NEEDED` is not defined.
    """
    import matplotlib

    matplotlib.use("Agg")  # the cells import pyplot; nothing is shown here
    cells = code_cells(path)
    last = next((i for i, cell in enumerate(cells) if defines(cell, until)), None)
    if last is None:
        raise ChapterShapeError(f"No code cell of {path.name} defines {until}().")
    namespace: dict[str, Any] = {"__name__": "__chapter__"}
    for i, cell in enumerate(cells[: last + 1]):
        if not shows_figure(cell):
            run_cell(cell, namespace, f"{path.name}, code cell {i + 1}")
    missing = [name for name in NEEDED if name not in namespace]
    if missing:
        raise ChapterShapeError(
            f"{path.name} no longer defines {', '.join(missing)} before {until}(); "
            "update benchmarks/ to the chapter's new code."
        )
    return namespace


def training_cell(path: Path = CHAPTER) -> Any:
    """The cell that runs the chapter's full training (the first call of ``train_ch3``)."""
    for cell in code_cells(path):
        if calls(cell, "train_ch3"):
            return cell
    raise ChapterShapeError(f"No code cell of {path.name} calls train_ch3().")
