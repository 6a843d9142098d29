"""Plotting helpers: an image grid, learning curves drawn as they arrive, a confusion matrix,
and the widgets' learning curves.

The first three leave an ordinary Matplotlib figure behind: a static image in the notebook and
the book. The widgets' curves are PNG images inside their HTML.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from IPython import get_ipython
from IPython.display import display
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

if TYPE_CHECKING:
    from d2lutil.widgets import RunHistory

__all__ = ["Animator", "RunCurves", "plot_confusion_matrix", "show_images"]

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")  # one per run
IMG_STYLE = "width: 330px; max-width: 100%; height: auto;"  # side by side, or stacked on a phone


def show_images(images: np.ndarray | Sequence[np.ndarray], num_rows: int, num_cols: int,
                titles: Sequence[str] | None = None, *, scale: float = 1.5, cmap: str = "gray_r",
                vmin: float | None = None, vmax: float | None = None, fontsize: float = 12,
                ) -> np.ndarray:  # fmt: skip
    """Show images shaped ``(H, W)`` or ``(1, H, W)`` in a grid of ``scale``-inch cells, titled.

    ``cmap``, ``vmin`` and ``vmax`` go to ``imshow`` (by default, ink dark on a light ground).
    Extra images are ignored, missing ones leave empty cells. Returns the flat array of Axes.
    """
    if num_rows <= 0 or num_cols <= 0:
        raise ValueError(f"num_rows and num_cols must be positive, got {num_rows} × {num_cols}.")
    if titles is not None and len(titles) < min(len(images), num_rows * num_cols):
        raise ValueError(f"Got {len(titles)} titles for {len(images)} images.")
    lines = max((str(t).count("\n") + 1 for t in titles or ()), default=0)  # of the tallest title
    title_height = lines * fontsize / 72 * 1.4  # inches: 72 points each, 1.4 times the font size
    figsize = (num_cols * scale, num_rows * (scale + title_height))
    axes = plt.subplots(num_rows, num_cols, figsize=figsize, squeeze=False)[1].ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i < len(images):
            image = np.asarray(images[i])
            ax.imshow(image.reshape(image.shape[-2:]), cmap=cmap, vmin=vmin, vmax=vmax)
            if titles is not None:
                ax.set_title(titles[i], fontsize=fontsize)
    plt.tight_layout()
    return axes


class Animator:
    """Learning curves drawn point by point while a model trains (d2l's ``Animator``).

    ``legend`` names the curves, ``fmts`` are their formats; ``xlim``, ``ylim`` fix the axes,
    which otherwise follow the data. The figure is in :attr:`fig`; in a notebook, the first
    :meth:`add` shows it and later ones update it in place.
    """

    def __init__(self, *, xlabel: str | None = None, ylabel: str | None = None,
                 legend: Sequence[str] = (), fmts: Sequence[str] = ("-", "m--", "g-.", "r:"),
                 xlim: tuple[float, float] | None = None, ylim: tuple[float, float] | None = None,
                 figsize: tuple[float, float] = (4.5, 3.0)) -> None:  # fmt: skip
        self.fig, self.axes = plt.subplots(figsize=figsize)
        plt.close(self.fig)  # shown through the display handle only, never twice
        self.axes.set(xlabel=xlabel, ylabel=ylabel)
        self.axes.set_xlim(xlim, auto=xlim is None)
        self.axes.set_ylim(ylim, auto=ylim is None)
        self.axes.grid(True, alpha=0.3)
        self.legend, self.fmts = list(legend), list(fmts)
        self.X: list[list[float]] = []
        self.Y: list[list[float]] = []
        self._handle = None

    def add(self, x: float | Sequence[float], y: float | Sequence[float]) -> None:
        """Append one point to each curve (``y`` holds one value per curve) and redraw."""
        ys = list(y) if isinstance(y, Sequence | np.ndarray) else [y]
        xs = list(x) if isinstance(x, Sequence | np.ndarray) else [x] * len(ys)
        if not self.X:  # the first point: one curve per value
            if self.legend and len(self.legend) != len(ys):
                raise ValueError(f"The legend names {len(self.legend)} curves but the first point "
                                 f"has {len(ys)} values.")  # fmt: skip
            self.X, self.Y = [[] for _ in ys], [[] for _ in ys]
            for i in range(len(ys)):
                self.axes.plot([], [], self.fmts[i % len(self.fmts)])
            if self.legend:
                self.axes.legend(self.axes.lines, self.legend)
            self.fig.tight_layout()
        if len(ys) != len(self.Y):
            raise ValueError(f"Expected {len(self.Y)} values per point, got {len(ys)}.")
        if len(xs) != len(ys):
            raise ValueError(f"Got {len(xs)} x values for {len(ys)} y values.")
        for line, X, Y, a, b in zip(self.axes.lines, self.X, self.Y, xs, ys, strict=True):
            X.append(float(a))
            Y.append(float(b))
            line.set_data(X, Y)
        self.axes.relim()  # only the data change: rescale the axes that follow them
        self.axes.autoscale_view()
        # In a notebook, show the figure once and update it in place, so that the saved notebook
        # keeps one image of the final curves; plain Python shows nothing.
        if self._handle is not None:
            self._handle.update(self.fig)
        elif get_ipython() is not None:
            self._handle = display(self.fig, display_id=True)


def plot_confusion_matrix(matrix: np.ndarray, labels: Sequence[str], *,
                          figsize: tuple[float, float] = (6.0, 5.0)) -> Axes:  # fmt: skip
    """Draw a confusion matrix: ``matrix[i, j]`` examples of class ``i`` predicted as ``j``.

    Each cell shows its count, and its colour the count's share of its row, so that classes of
    any size compare at a glance. Returns the Axes drawn on.
    """
    matrix = np.asarray(matrix)
    if matrix.shape != (len(labels), len(labels)):
        raise ValueError(f"Expected a square matrix with one row per label ({len(labels)}), "
                         f"got shape {matrix.shape}.")  # fmt: skip
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=figsize)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (i, j), count in np.ndenumerate(matrix):
        colour = "white" if shares[i, j] > 0.5 else "black"
        ax.text(j, i, str(count), ha="center", va="center", fontsize=9, color=colour)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set(xlabel="predicted", ylabel="true", yticks=range(len(labels)), yticklabels=labels)
    fig.tight_layout()
    return ax


class RunCurves:
    """The widgets' two small figures, loss and accuracy by epoch, kept to be drawn on again
    and again, and shown as ``<img>`` tags (the widgets show HTML, not Matplotlib figures)."""

    def __init__(self) -> None:
        # Figures of their own, not pyplot's, drawn at 200 dpi: twice the size they are shown at.
        self.figures = [Figure(figsize=(3.3, 2.5), dpi=200) for _ in range(2)]
        for fig in self.figures:
            FigureCanvasAgg(fig)  # attaches itself: the figure can be saved as a PNG
        self.loss_ax, self.acc_ax = (fig.subplots() for fig in self.figures)
        # Losses range from below 0.5 to above 40 at large learning rates: a log scale shows
        # every run. Matplotlib leaves out infinite values.
        self.loss_ax.set(xlabel="epoch", ylabel="test loss, log scale", yscale="log")
        self.acc_ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1))
        for ax in (self.loss_ax, self.acc_ax):
            ax.grid(True, alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
        # The loss axis's tick labels change with the losses (0.1, 1, 6×10⁻¹...): its figure
        # is laid out again on every draw. The accuracy figure's labels never change.
        self.laid_out = False

    def html(self, runs: Sequence[RunHistory], num_epochs: int, what: str, *, legend: bool = True,
             loss_range: tuple[float, float] | None = None) -> str:  # fmt: skip
        """``runs`` in two ``<img>`` tags, PNGs at twice their size, described by ``what``."""
        for ax in (self.loss_ax, self.acc_ax):  # clearing the axes would be slower
            ax.set_xlim(0.5, num_epochs + 0.5)
            for artist in [*ax.lines, *([ax.get_legend()] if ax.get_legend() else [])]:
                artist.remove()
        for run, colour in zip(runs, COLOURS, strict=False):
            self.loss_ax.plot(run.epochs, run.test_loss, "o-", color=colour, ms=3, label=run.label)
            self.acc_ax.plot(run.epochs, run.test_acc, "o-", color=colour, ms=3)
            self.acc_ax.plot(run.epochs, run.train_acc, "--", color=colour)
        if loss_range:  # fixed by the caller
            self.loss_ax.set_ylim(loss_range, auto=False)
        elif runs:  # fit the losses (relim forgets the lines removed)
            self.loss_ax.relim()
            self.loss_ax.autoscale_view(scalex=False)
        else:  # no run yet: a range that any run's losses will replace
            self.loss_ax.set_ylim(0.1, 10, auto=True)
        if legend and runs:
            self.loss_ax.legend(fontsize=7, loc="best")
        # Which line is which on the accuracy plot: empty lines in grey, for the legend.
        keys = self.acc_ax.plot([], [], "o-", [], [], "--", color="0.35", ms=3)
        self.acc_ax.legend(keys, ["test", "train"], fontsize=8, loc="lower right")
        alts = (f"Test loss by epoch, log scale: {what}",
                f"Accuracy by epoch (solid: test, dashed: train): {what}")  # fmt: skip
        images = []
        for fig, alt in zip(self.figures, alts, strict=True):
            if fig is self.figures[0] or not self.laid_out:
                fig.tight_layout()
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", metadata={"Software": None})
            src = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
            images.append(f'<img src="{src}" alt="{html.escape(alt)}" style="{IMG_STYLE}">')
        self.laid_out = True
        return f'<div class="d2l-curves">{"".join(images)}</div>'
