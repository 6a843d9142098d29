"""Plotting helpers: an image grid and live learning curves.

Both draw with Matplotlib and leave an ordinary figure behind, so the executed
notebook and the HTML book keep a static image of the final state.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

__all__ = ["Animator", "plot_confusion_matrix", "show_images"]


def show_images(
    images: np.ndarray | Sequence[np.ndarray],
    num_rows: int,
    num_cols: int,
    titles: Sequence[str] | None = None,
    *,
    scale: float = 1.5,
    cmap: str = "gray_r",
    vmin: float | None = None,
    vmax: float | None = None,
) -> np.ndarray:
    """Show images in a ``num_rows`` × ``num_cols`` grid, each titled.

    Parameters
    ----------
    images
        Images shaped ``(H, W)`` or ``(1, H, W)``; extra images are ignored,
        missing ones leave empty cells.
    num_rows, num_cols
        The grid.
    titles
        One title per image (a newline splits it over two lines).
    scale
        Inches per cell.
    cmap
        The colour map; the default draws ink dark on a light ground.
    vmin, vmax
        The data values mapped to the ends of the colour map; default each
        image's own range.

    Returns
    -------
    numpy.ndarray of matplotlib Axes, flattened.
    """
    if num_rows <= 0 or num_cols <= 0:
        raise ValueError(f"num_rows and num_cols must be positive, got {num_rows} × {num_cols}.")
    if titles is not None and len(titles) < min(len(images), num_rows * num_cols):
        raise ValueError(f"Got {len(titles)} titles for {len(images)} images.")
    figsize = (num_cols * scale, num_rows * scale * (1.25 if titles is not None else 1.0))
    _, axes = plt.subplots(num_rows, num_cols, figsize=figsize, squeeze=False)
    axes = axes.ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i >= len(images):
            continue
        image = np.asarray(images[i])
        ax.imshow(image.reshape(image.shape[-2:]), cmap=cmap, vmin=vmin, vmax=vmax)
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    plt.tight_layout()
    return axes


class Animator:
    """Learning curves drawn point by point while a model trains.

    In a notebook the figure is shown once and then updated in place on each
    :meth:`add`, so the saved notebook (and the HTML book) keeps one static
    image of the final curves.  Outside a notebook nothing is displayed; the
    figure is still available as :attr:`fig`.

    Parameters
    ----------
    xlabel, ylabel
        Axis labels.
    legend
        One name per curve.
    xlim, ylim
        Axis limits, or None to fit the data.
    xscale, yscale
        "linear" or "log".
    fmts
        Matplotlib format strings, one per curve.
    figsize
        Figure size in inches.
    """

    def __init__(
        self,
        *,
        xlabel: str | None = None,
        ylabel: str | None = None,
        legend: Sequence[str] = (),
        xlim: tuple[float, float] | None = None,
        ylim: tuple[float, float] | None = None,
        xscale: str = "linear",
        yscale: str = "linear",
        fmts: Sequence[str] = ("-", "m--", "g-.", "r:"),
        figsize: tuple[float, float] = (4.5, 3.0),
    ) -> None:
        self.fig: Figure
        self.axes: Axes
        self.fig, self.axes = plt.subplots(figsize=figsize)
        self.legend = list(legend)
        self.fmts = list(fmts)
        self._axis = dict(
            xlabel=xlabel, ylabel=ylabel, xlim=xlim, ylim=ylim, xscale=xscale, yscale=yscale
        )
        self.X: list[list[float]] = []
        self.Y: list[list[float]] = []
        self._lines: list[Line2D] = []
        self._handle = None
        plt.close(self.fig)  # drawn through the display handle only, never twice

    def add(self, x: float | Sequence[float], y: float | Sequence[float]) -> None:
        """Append one point to each curve (``y`` holds one value per curve) and redraw."""
        ys = list(y) if isinstance(y, Sequence | np.ndarray) else [y]
        xs = list(x) if isinstance(x, Sequence | np.ndarray) else [x] * len(ys)
        if not self.X:
            if self.legend and len(self.legend) != len(ys):
                raise ValueError(
                    f"The legend names {len(self.legend)} curves but the first point has "
                    f"{len(ys)} values."
                )
            self.X = [[] for _ in ys]
            self.Y = [[] for _ in ys]
        if len(ys) != len(self.Y):
            raise ValueError(f"Expected {len(self.Y)} values per point, got {len(ys)}.")
        if len(xs) != len(ys):
            raise ValueError(f"Got {len(xs)} x values for {len(ys)} y values.")
        for i, (a, b) in enumerate(zip(xs, ys, strict=True)):
            if a is not None and b is not None:
                self.X[i].append(float(a))
                self.Y[i].append(float(b))
        self.draw()

    def draw(self) -> None:
        """Redraw every curve and refresh the notebook display."""
        if not self._lines:
            self._set_up_axes()
        for line, xs, ys in zip(self._lines, self.X, self.Y, strict=True):
            line.set_data(xs, ys)
        # Only the data changes from one point to the next: rescale when no limits
        # were given, but leave labels, legend and layout (the slow parts) alone.
        if self._axis["xlim"] is None or self._axis["ylim"] is None:
            self.axes.relim()
            self.axes.autoscale_view(
                scalex=self._axis["xlim"] is None, scaley=self._axis["ylim"] is None
            )
        self._show()

    def _set_up_axes(self) -> None:
        ax = self.axes
        self._lines = [
            ax.plot([], [], self.fmts[i % len(self.fmts)])[0] for i in range(len(self.Y))
        ]
        ax.set_xlabel(self._axis["xlabel"])
        ax.set_ylabel(self._axis["ylabel"])
        ax.set_xscale(self._axis["xscale"])
        ax.set_yscale(self._axis["yscale"])
        if self._axis["xlim"] is not None:
            ax.set_xlim(self._axis["xlim"])
        if self._axis["ylim"] is not None:
            ax.set_ylim(self._axis["ylim"])
        if self.legend:
            ax.legend(self._lines, self.legend)
        ax.grid(True, alpha=0.3)
        self.fig.tight_layout()

    def _show(self) -> None:
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:  # plain Python: keep the figure, show nothing
            return
        if get_ipython() is None:
            return
        if self._handle is None:
            self._handle = display(self.fig, display_id=True)
        else:
            self._handle.update(self.fig)


def plot_confusion_matrix(
    matrix: np.ndarray, labels: Sequence[str], *, figsize: tuple[float, float] = (6.0, 5.0)
) -> Axes:
    """Draw a confusion matrix: rows are true classes, columns predicted ones.

    Each cell shows its count; the colour shows the count as a share of its
    row, so classes of any size compare at a glance.

    Parameters
    ----------
    matrix
        Square array of counts: ``matrix[i, j]`` examples of class ``i`` were
        predicted as class ``j``.
    labels
        The class names, one per row.
    figsize
        Figure size in inches.

    Returns
    -------
    The matplotlib Axes drawn on.

    Raises
    ------
    ValueError
        If ``matrix`` is not square with one row per label.
    """
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] != len(labels):
        raise ValueError(
            f"Expected a square matrix with one row per label ({len(labels)}), "
            f"got shape {matrix.shape}."
        )
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=figsize)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(
            j, i, str(count), ha="center", va="center", fontsize=7,
            color="white" if shares[i, j] > 0.5 else "black",
        )  # fmt: skip
    ticks = np.arange(len(labels))
    ax.set_xticks(ticks, labels, rotation=45, ha="right")
    ax.set_yticks(ticks, labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.tight_layout()
    return ax
