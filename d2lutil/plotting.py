"""Plotting: the classes' names, an image grid, learning curves drawn as they arrive and a
confusion matrix (each an ordinary Matplotlib figure), and the widgets' learning curves (PNG
images in HTML)."""

import base64
import html
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

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

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")  # one per run
IMG_STYLE = "width: 330px; max-width: 100%; height: auto;"  # side by side, or stacked on a phone
# Fashion-MNIST's classes, named in titles and on axes.
TEXT_LABELS = ("t-shirt", "trouser", "pullover", "dress", "coat",
               "sandal", "shirt", "sneaker", "bag", "ankle boot")  # fmt: skip


def get_fashion_mnist_labels(labels: Sequence[int] | np.ndarray) -> list[str]:
    """The text labels of numeric Fashion-MNIST labels (integers from 0 to 9)."""
    values = np.asarray(labels).ravel()
    if not np.isin(values, range(10)).all():
        raise ValueError(f"Fashion-MNIST labels must be from 0 to 9, got {labels!r}.")
    return [TEXT_LABELS[int(i)] for i in values]


def show_images(
    images: Sequence[np.ndarray] | np.ndarray,
    num_rows: int,
    num_cols: int,
    titles: Sequence[str] | None = None,
    scale: float = 1.5,
    **imshow_args: Any,
) -> np.ndarray:
    """Show images shaped ``(H, W)`` or ``(1, H, W)`` in a grid of ``scale``-inch cells, titled;
    ``imshow_args`` go to ``imshow`` (by default, dark ink on a light ground). Extra images are
    ignored, missing ones leave empty cells. Returns the flat array of Axes."""
    if num_rows <= 0 or num_cols <= 0:
        raise ValueError(f"num_rows and num_cols must be positive, got {num_rows} × {num_cols}.")
    if titles is not None and len(titles) < min(len(images), num_rows * num_cols):
        raise ValueError(f"Got {len(titles)} titles for {len(images)} images.")
    lines = max((str(title).count("\n") + 1 for title in titles or ()), default=0)
    # Room for the titles: lines of 12 points, 1.4 times that apart, 72 points an inch.
    figsize = (num_cols * scale, num_rows * (scale + lines * 12 / 72 * 1.4))
    axes = plt.subplots(num_rows, num_cols, figsize=figsize, squeeze=False)[1].ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i < len(images):
            image = np.asarray(images[i])
            ax.imshow(image.reshape(image.shape[-2:]), **{"cmap": "gray_r", **imshow_args})
            ax.set_title("" if titles is None else titles[i], fontsize=12)
    plt.tight_layout()
    return axes


class Animator:
    """Learning curves drawn point by point while a model trains (d2l's ``Animator``).

    ``ylabel`` is one label (one panel) or several (panels side by side); ``legend`` names the
    lines and ``axis_of[i]`` is the panel of line ``i`` (by default 0). ``ylim`` is one pair for
    every panel or one per panel (``None`` follows the data). In a notebook, the first
    :meth:`add` shows :attr:`fig` and later ones update it in place.
    """

    def __init__(
        self,
        *,
        xlabel: str | None = None,
        ylabel: str | Sequence[str] | None = None,
        legend: Sequence[str] = (),
        axis_of: Sequence[int] | None = None,
        xlim: tuple[float, float] | None = None,
        ylim: tuple[float, float] | Sequence[tuple[float, float] | None] | None = None,
        figsize: tuple[float, float] | None = None,
    ) -> None:
        ylabels = [ylabel] if ylabel is None or isinstance(ylabel, str) else list(ylabel)
        if ylim is None or all(np.isscalar(limit) for limit in ylim):
            ylim = [ylim] * len(ylabels)  # the same for every panel
        if len(ylim) != len(ylabels):
            raise ValueError(f"ylim needs one pair, or one per panel ({len(ylabels)}): {ylim}")
        if axis_of is not None and legend and len(axis_of) != len(legend):
            raise ValueError(f"axis_of places {len(axis_of)} lines, legend names {len(legend)}.")
        if axis_of is not None and not set(axis_of) <= set(range(len(ylabels))):
            raise ValueError(f"axis_of must hold panels 0 to {len(ylabels) - 1}: {axis_of}")
        figsize = figsize or (1 + 3.5 * len(ylabels), 3.0)
        self.fig, axes = plt.subplots(1, len(ylabels), figsize=figsize, squeeze=False)
        plt.close(self.fig)  # shown through the display handle only, never twice
        self.axes: list[Axes] = list(axes[0])
        for ax, label, limits in zip(self.axes, ylabels, ylim, strict=True):
            ax.set(xlabel=xlabel, ylabel=label)
            ax.set_xlim(xlim, auto=xlim is None)
            ax.set_ylim(limits, auto=limits is None)
            ax.grid(True, alpha=0.3)
        self.legend, self.axis_of = list(legend), axis_of
        self.lines: list = []  # one per value of a point, in order; they hold the data
        self._handle = None

    def add(self, x: float, y: float | Sequence[float]) -> None:
        """Append the point ``(x, y[i])`` to each line ``i`` (``y`` holds one value per line)."""
        ys = [float(value) for value in np.atleast_1d(y)]
        if not self.lines:  # the first point: one line per value
            planned = len(self.axis_of) if self.axis_of is not None else len(self.legend)
            if planned and planned != len(ys):
                raise ValueError(f"legend or axis_of names {planned} lines, the point {len(ys)}.")
            for i in range(len(ys)):
                ax = self.axes[self.axis_of[i] if self.axis_of else 0]
                label = self.legend[i] if self.legend else None
                self.lines += ax.plot([], [], ("-", "m--", "g-.", "r:")[i % 4], label=label)
            for ax in self.axes:
                if self.legend and ax.lines:
                    ax.legend()
            self.fig.tight_layout()
        if len(ys) != len(self.lines):
            raise ValueError(f"Expected {len(self.lines)} values per point, got {len(ys)}.")
        for line, value in zip(self.lines, ys, strict=True):
            line.set_data([*line.get_xdata(), float(x)], [*line.get_ydata(), value])
        for ax in self.axes:  # only the data change: rescale the axes that follow them
            ax.relim()
            ax.autoscale_view()
        # In a notebook, show the figure once and update it in place, so that the saved notebook
        # keeps one image of the final curves; plain Python shows nothing.
        if self._handle is not None:
            self._handle.update(self.fig)
        elif get_ipython() is not None:
            self._handle = display(self.fig, display_id=True)


def plot_confusion_matrix(matrix: np.ndarray, labels: Sequence[str]) -> Axes:
    """Draw ``matrix[i, j]``, the examples of class ``i`` predicted as ``j``, and return the Axes.

    Each cell shows its count, and its colour the count's share of its row (classes of any size
    compare at a glance)."""
    matrix = np.asarray(matrix)
    if matrix.shape != (len(labels), len(labels)):
        raise ValueError(f"Expected a square matrix, one row per label, got {matrix.shape}.")
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.0, 5.0))
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (i, j), count in np.ndenumerate(matrix):
        colour = "white" if shares[i, j] > 0.5 else "black"
        ax.text(j, i, str(count), ha="center", va="center", fontsize=9, color=colour)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set(xlabel="predicted", ylabel="true", yticks=range(len(labels)), yticklabels=labels)
    fig.tight_layout()
    return ax


class RunCurves:
    """The widgets' two figures, test loss and accuracy by epoch, drawn on again at every update
    and shown as ``<img>`` tags (widgets show HTML). ``loss_range`` fixes the loss axis."""

    def __init__(self, loss_range: tuple[float, float] | None = None) -> None:
        # Figures of their own, not pyplot's, at 200 dpi (twice their size on the page), each on a
        # canvas that keeps its renderer, and so its text caches, from one draw to the next.
        self.figures = [FigureCanvasAgg(Figure((3.3, 2.5), dpi=200)).figure for _ in range(2)]
        self.loss_ax, self.acc_ax = (fig.subplots() for fig in self.figures)
        # A log scale shows every run's losses, 0.3 to 40 (Matplotlib leaves out infinite ones).
        self.loss_ax.set(xlabel="epoch", ylabel="test loss, log scale", yscale="log")
        self.acc_ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1))
        for ax in (self.loss_ax, self.acc_ax):
            ax.grid(True, alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
        # Which line is which on the accuracy plot: empty lines in grey, for the legend.
        keys = self.acc_ax.plot([], [], "o-", [], [], "--", color="0.35", ms=3)
        self.acc_ax.legend(keys, ["test", "train"], fontsize=8, loc="lower right")
        self.figures[1].tight_layout()  # its tick labels never change, unlike the loss axis's
        self.loss_range = loss_range

    def html(self, runs: Sequence["RunHistory"], num_epochs: int, what: str) -> str:
        """``runs`` in two ``<img>`` tags described by ``what``; a legend if there are several."""
        for ax in (self.loss_ax, self.acc_ax):  # clearing the axes would be slower
            ax.set_xlim(0.5, num_epochs + 0.5)
            for line in ax.lines[2 if ax is self.acc_ax else 0 :]:
                line.remove()
        if self.loss_ax.get_legend():
            self.loss_ax.get_legend().remove()
        for run, colour in zip(runs, COLOURS, strict=False):
            epochs = range(1, len(run.test_acc) + 1)
            self.loss_ax.plot(epochs, run.test_loss, "o-", color=colour, ms=3, label=run.label)
            self.acc_ax.plot(epochs, run.test_acc, "o-", color=colour, ms=3)
            self.acc_ax.plot(epochs, run.train_acc, "--", color=colour)
        self.loss_ax.relim()  # fit the losses: relim forgets the lines removed
        self.loss_ax.autoscale_view(scalex=False)
        if self.loss_range or not runs:  # with no run, a range that any run's losses replace
            self.loss_ax.set_ylim(self.loss_range or (0.1, 10))
        if len(runs) > 1:
            self.loss_ax.legend(fontsize=7, loc="best")
        self.figures[0].tight_layout()
        alts = ["Test loss by epoch, log scale", "Accuracy by epoch (solid: test, dashed: train)"]
        images = []
        for fig, alt in zip(self.figures, alts, strict=True):
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", metadata={"Software": None})
            src = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
            alt = html.escape(f"{alt}: {what}")
            images.append(f'<img src="{src}" alt="{alt}" style="{IMG_STYLE}">')
        return f'<div class="d2l-curves">{"".join(images)}</div>'
