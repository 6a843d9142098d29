"""Plotting helpers: an image grid, learning curves drawn as they arrive, a confusion matrix.

Each draws with Matplotlib and leaves an ordinary figure behind, so the executed
notebook and the HTML book keep a static image of the final state.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

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
    fontsize: float = 12,
) -> np.ndarray:
    """Show images shaped ``(H, W)`` or ``(1, H, W)`` in a grid, each titled.

    ``scale`` is inches per cell; ``cmap``, ``vmin`` and ``vmax`` are passed to
    ``imshow`` (the default colour map draws ink dark on a light ground);
    ``fontsize`` is the titles' size in points.  Extra images are ignored and
    missing ones leave empty cells.  Returns the flattened array of Axes.
    """
    if num_rows <= 0 or num_cols <= 0:
        raise ValueError(f"num_rows and num_cols must be positive, got {num_rows} × {num_cols}.")
    if titles is not None and len(titles) < min(len(images), num_rows * num_cols):
        raise ValueError(f"Got {len(titles)} titles for {len(images)} images.")
    lines = max((str(t).count("\n") + 1 for t in titles or ()), default=0)
    title_height = lines * fontsize / 72 * 1.4  # inches above each image
    figsize = (num_cols * scale, num_rows * (scale + title_height))
    _, axes = plt.subplots(num_rows, num_cols, figsize=figsize, squeeze=False)
    axes = axes.ravel()
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

    In a notebook the figure is shown once and updated in place on each
    :meth:`add`, so the saved notebook keeps one image of the final curves;
    outside a notebook nothing is shown, and the figure stays in :attr:`fig`.
    ``legend`` names the curves, ``fmts`` gives their Matplotlib formats, and
    ``xlim``/``ylim`` fix the axes (else they follow the data).
    """

    def __init__(
        self,
        *,
        xlabel: str | None = None,
        ylabel: str | None = None,
        legend: Sequence[str] = (),
        xlim: tuple[float, float] | None = None,
        ylim: tuple[float, float] | None = None,
        fmts: Sequence[str] = ("-", "m--", "g-.", "r:"),
        figsize: tuple[float, float] = (4.5, 3.0),
    ) -> None:
        self.fig, self.axes = plt.subplots(figsize=figsize)
        plt.close(self.fig)  # shown through the display handle only, never twice
        self.axes.set(xlabel=xlabel, ylabel=ylabel)
        if xlim is not None:
            self.axes.set_xlim(xlim)
        if ylim is not None:
            self.axes.set_ylim(ylim)
        self.axes.grid(True, alpha=0.3)
        self.legend, self.fmts, self._fixed = list(legend), list(fmts), (xlim, ylim)
        self.X: list[list[float]] = []
        self.Y: list[list[float]] = []
        self._handle = None

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
        # Only the data change from point to point: rescale the free axes, keep the rest.
        self.axes.relim()
        self.axes.autoscale_view(scalex=self._fixed[0] is None, scaley=self._fixed[1] is None)
        self._show()

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
    """Draw a confusion matrix: ``matrix[i, j]`` examples of class ``i`` predicted as ``j``.

    Each cell shows its count; its colour shows the count as a share of its row,
    so classes of any size compare at a glance.  Returns the Axes drawn on.
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
        colour = "white" if shares[i, j] > 0.5 else "black"
        ax.text(j, i, str(count), ha="center", va="center", fontsize=9, color=colour)
    ticks = np.arange(len(labels))
    ax.set_xticks(ticks, labels, rotation=45, ha="right")
    ax.set_yticks(ticks, labels)
    ax.set(xlabel="predicted", ylabel="true")
    fig.tight_layout()
    return ax
