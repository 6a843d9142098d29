"""Widgets to try learning rates and numbers of epochs.

Both show runs of a *run function* written in the chapter: ``run(lr, num_epochs)``
trains a fresh model of its own (so it cannot change what another cell computes)
and yields ``(train_loss, train_acc, test_loss, test_acc)`` after each epoch.
:class:`TrainingPanel` trains live, in the kernel's own thread (there may be no
other, as in a browser kernel); :func:`precomputed_explorer` shows recorded runs
with sliders linked in the browser (``jslink``), so it works without a kernel.
"""

from __future__ import annotations

import base64
import html
import io
import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = ["ExplorerBox", "RunHistory", "TrainingPanel", "precomputed_explorer", "record_run"]

RunFunction = Callable[[float, int], Iterable[tuple[float, float, float, float]]]

LR_EXPONENTS = (-3.0, 1.0)  # the panel offers learning rates from 0.001 to 10
MAX_EPOCHS = 30
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")
TABLE_CSS = ".d2l-explorer-table td, .d2l-explorer-table th {padding: 0.15em 0.6em}"
PLOT_WIDTH = 330  # CSS pixels of one plot; two sit side by side, or stack on a phone


@dataclass
class RunHistory:
    """What one training run produced, epoch by epoch.

    ``train_loss`` is the mean of the chapter's ``cross_entropy`` over the
    epoch's batches, which is infinite as soon as one probability rounds to 0;
    ``test_loss`` is computed from the logits and stays finite unless the run
    truly diverges: ``diverged_at`` records the epoch where it stopped being so.
    """

    lr: float
    num_epochs: int
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    diverged_at: int | None = None

    @property
    def label(self) -> str:
        """The run's settings in words: ``"lr 0.1, 10 epochs"``."""
        return f"lr {self.lr:g}, {self.num_epochs} epoch{'s' * (self.num_epochs != 1)}"

    @property
    def epochs(self) -> list[int]:
        """The numbers (from 1) of the epochs recorded so far."""
        return list(range(1, len(self.test_acc) + 1))

    def summary(self) -> str:
        """One sentence on how the run ended."""
        if not self.test_acc:
            return f"{self.label}: not started"
        done = len(self.test_acc)
        if self.diverged_at is not None:
            return f"{self.label}: diverged in epoch {done}, the test loss is no longer finite"
        text = f"{self.label}: test accuracy {self.test_acc[-1]:.4f} after epoch {done}"
        infinite = sum(math.isinf(v) for v in self.train_loss)
        if infinite:
            text += f" (training loss from probabilities infinite in {infinite} of {done} epochs)"
        return text


def _check_settings(lr: object, num_epochs: object) -> None:
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not 0 < lr < math.inf:
        raise ValueError(f"The learning rate must be a positive number, got {lr!r}.")
    integral = isinstance(num_epochs, numbers.Integral) and not isinstance(num_epochs, bool)
    if not integral or num_epochs < 1:  # type: ignore[operator]
        raise ValueError(f"The number of epochs must be a positive integer, got {num_epochs!r}.")


def record_run(
    run: RunFunction,
    lr: float,
    num_epochs: int,
    on_epoch: Callable[[RunHistory], None] | None = None,
) -> RunHistory:
    """Call ``run(lr, num_epochs)`` and record its figures epoch by epoch.

    A run stops early, with ``diverged_at`` set, only when it truly diverges:
    when its test loss, computed from the logits, is no longer finite.  An
    infinite training loss from probabilities alone does not stop it.  NumPy's
    overflow and divide warnings are silenced meanwhile: the history says it all.
    """
    _check_settings(lr, num_epochs)
    history = RunHistory(lr=float(lr), num_epochs=int(num_epochs))
    with np.errstate(all="ignore"):
        for epoch, figures in enumerate(run(float(lr), int(num_epochs)), start=1):
            train_loss, train_acc, test_loss, test_acc = map(float, figures)
            history.train_loss.append(train_loss)
            history.train_acc.append(train_acc)
            history.test_loss.append(test_loss)
            history.test_acc.append(test_acc)
            if not math.isfinite(test_loss):
                history.diverged_at = epoch
            if on_epoch is not None:
                on_epoch(history)
            if history.diverged_at is not None or epoch == num_epochs:
                break
    return history


# ---------------------------------------------------------------------------- drawing


class _Curves:
    """Two small figures, loss and accuracy by epoch, rendered as crisp PNGs."""

    def __init__(self, num_epochs: int) -> None:
        self.figures = [Figure(figsize=(3.3, 2.5), dpi=200) for _ in range(2)]
        for fig in self.figures:
            FigureCanvasAgg(fig)
        self.loss_ax, self.acc_ax = (fig.subplots() for fig in self.figures)
        # Losses range from below 0.5 to above 40 at large learning rates: a log scale
        # shows every run. Matplotlib leaves out infinite values.
        self.loss_ax.set(xlabel="epoch", ylabel="test loss, log scale", yscale="log")
        self.acc_ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1))
        for ax in (self.loss_ax, self.acc_ax):
            ax.grid(True, alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
            ax.set_xlim(0.5, num_epochs + 0.5)
        self._laid_out = False

    def draw(self, runs: Sequence[RunHistory], legend: bool) -> None:
        """Replace the lines by those of ``runs`` (solid: test, dashed: train)."""
        for ax in (self.loss_ax, self.acc_ax):
            for artist in [*ax.lines, *([ax.get_legend()] if ax.get_legend() else [])]:
                artist.remove()
        for run, colour in zip(runs, COLOURS, strict=False):
            self.loss_ax.plot(run.epochs, run.test_loss, "o-", color=colour, ms=3, label=run.label)
            self.acc_ax.plot(run.epochs, run.test_acc, "o-", color=colour, ms=3)
            self.acc_ax.plot(run.epochs, run.train_acc, "--", color=colour)
        if runs:  # fit the losses, unless the caller fixed the scale
            self.loss_ax.relim()
            self.loss_ax.autoscale_view(scalex=False)
        else:
            self.loss_ax.set_ylim(0.1, 10)
            self.loss_ax.set_autoscaley_on(True)
        if legend and runs:
            self.loss_ax.legend(fontsize=7, loc="best")
        # Which line is which on the accuracy plot: empty lines in grey, for the legend.
        styles = [("o-", "test", {"ms": 3}), ("--", "train", {})]
        keys = [self.acc_ax.plot([], [], fmt, color="0.35", **kw)[0] for fmt, _, kw in styles]
        self.acc_ax.legend(keys, [name for _, name, _ in styles], fontsize=8, loc="lower right")

    def html(self, what: str) -> str:
        """Both figures as ``<img>`` tags that sit side by side, or stack when narrow."""
        alts = (
            f"Test loss by epoch, log scale: {what}",
            f"Accuracy by epoch (solid: test, dashed: train): {what}",
        )
        images = []
        for fig, alt in zip(self.figures, alts, strict=True):
            if not self._laid_out:  # the labels never change, so neither does the layout
                fig.tight_layout()
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", metadata={"Software": None})
            data = base64.b64encode(buffer.getvalue()).decode("ascii")
            images.append(
                f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}"'
                f' style="width: {PLOT_WIDTH}px; max-width: 100%; height: auto;">'
            )
        self._laid_out = True
        return f'<div class="d2l-curves">{"".join(images)}</div>'


# ---------------------------------------------------------------------------- live panel


class TrainingPanel(widgets.VBox):
    """Sliders, a Train button and learning curves that grow epoch by epoch.

    ``run`` is the run function; ``lr`` and ``num_epochs`` set the sliders;
    the last ``runs_kept`` runs (1 to 6) stay on the plot for comparison.
    """

    def __init__(
        self, run: RunFunction, *, lr: float = 0.1, num_epochs: int = 10, runs_kept: int = 4
    ) -> None:
        _check_settings(lr, num_epochs)
        low, high = 10 ** LR_EXPONENTS[0], 10 ** LR_EXPONENTS[1]
        if not (low <= lr <= high and num_epochs <= MAX_EPOCHS):  # the sliders would clamp them
            raise ValueError(
                f"The panel offers learning rates from {low:g} to {high:g} and up to {MAX_EPOCHS} "
                f"epochs, got lr={lr!r}, num_epochs={num_epochs!r}."
            )
        if not 1 <= runs_kept <= len(COLOURS):
            raise ValueError(f"runs_kept must be from 1 to {len(COLOURS)}, got {runs_kept!r}.")
        self._run, self.runs_kept, self.runs = run, runs_kept, []
        wide = {"description_width": "initial"}
        self.lr_slider = widgets.FloatLogSlider(
            value=lr, base=10, min=LR_EXPONENTS[0], max=LR_EXPONENTS[1], step=0.25,
            description="learning rate", readout_format=".3g", style=wide,
        )  # fmt: skip
        self.epochs_slider = widgets.IntSlider(
            value=num_epochs, min=1, max=MAX_EPOCHS, description="epochs", style=wide
        )
        self.train_button = widgets.Button(
            description="Train", tooltip="Train a fresh model with these settings",
            style={"button_color": "#1a5fb4", "text_color": "white"},
        )  # fmt: skip
        self.clear_button = widgets.Button(description="Clear runs", tooltip="Forget the runs")
        self.progress = widgets.IntProgress(value=0, min=0, max=num_epochs, description="epoch")
        self.status = widgets.HTML("Press <b>Train</b> to train a fresh model.")
        self.plot = widgets.HTML()
        self._curves = _Curves(MAX_EPOCHS)
        self.train_button.on_click(lambda _: self.train())
        self.clear_button.on_click(lambda _: self.clear())
        self._redraw()
        flow = widgets.Layout(flex_flow="row wrap", align_items="center")
        super().__init__(
            [
                widgets.HBox([self.lr_slider, self.epochs_slider], layout=flow),
                widgets.HBox([self.train_button, self.clear_button, self.progress], layout=flow),
                self.status,
                self.plot,
            ]
        )
        self.add_class("d2l-training-panel")

    def __repr__(self) -> str:
        return (
            f"TrainingPanel(lr={self.lr_slider.value:g}, epochs={self.epochs_slider.value}, "
            f"runs={len(self.runs)})"
        )

    def clear(self) -> None:
        """Forget the runs shown."""
        self.runs = []
        self.status.value = "No runs shown. Press <b>Train</b> to train a fresh model."
        self._redraw()

    def train(self) -> RunHistory:
        """Train one run with the sliders' settings, redrawing after every epoch."""
        lr, num_epochs = float(self.lr_slider.value), int(self.epochs_slider.value)
        self.train_button.disabled = self.clear_button.disabled = True
        self.runs = [*self.runs, RunHistory(lr, num_epochs)][-self.runs_kept :]
        self.progress.max, self.progress.value = num_epochs, 0

        def show(history: RunHistory) -> None:
            self.runs[-1] = history
            self.progress.value = len(history.test_acc)
            self.status.value = f"Training: epoch {len(history.test_acc)} of {num_epochs}…"
            self._redraw()

        try:
            history = record_run(self._run, lr, num_epochs, show)
        except BaseException as err:  # an interrupt too: the status must not say "Training"
            self.status.value = html.escape(f"Training failed: {type(err).__name__}: {err}")
            raise
        finally:
            self.train_button.disabled = self.clear_button.disabled = False
        self.status.value = html.escape(history.summary()) + "."
        if history.diverged_at is not None:
            self.status.value += " Lower the learning rate and train again."
        return history

    def _redraw(self) -> None:
        max_epochs = max([self.epochs_slider.value, *(r.num_epochs for r in self.runs)])
        for ax in (self._curves.loss_ax, self._curves.acc_ax):
            ax.set_xlim(0.5, max_epochs + 0.5)
        self._curves.draw(self.runs, legend=True)
        described = "; ".join(run.summary() for run in self.runs) or "no run yet"
        self.plot.value = self._curves.html(f"{described}.")


# ---------------------------------------------------------------------------- explorer


class ExplorerBox(widgets.VBox):
    """The widget :func:`precomputed_explorer` returns, with its parts named."""

    lr_slider: widgets.SelectionSlider
    epochs_slider: widgets.SelectionSlider
    figure_stack: widgets.Stack
    table_stack: widgets.Stack
    links: list
    runs: list[RunHistory]

    def __repr__(self) -> str:
        lrs = ", ".join(f"{run.lr:g}" for run in self.runs)
        return f"ExplorerBox({len(self.runs)} precomputed runs, learning rates {lrs})"


def _linked_slider(
    description: str, options: list[str], index: int, views: list[str]
) -> tuple[widgets.HBox, widgets.SelectionSlider, widgets.Stack, list]:
    """A slider whose read-out and view are chosen in the browser, by ``jslink``."""
    slider = widgets.SelectionSlider(
        options=options, index=index, description=description, readout=False,
        style={"description_width": "initial"},
    )  # fmt: skip
    readout = widgets.Stack([widgets.HTML(f"<b>{o}</b>") for o in options], selected_index=index)
    stack = widgets.Stack([widgets.HTML(v) for v in views], selected_index=index)
    links = [
        widgets.jslink((slider, "index"), (readout, "selected_index")),
        widgets.jslink((slider, "index"), (stack, "selected_index")),
    ]
    return widgets.HBox([slider, readout]), slider, stack, links


def precomputed_explorer(
    runs: Sequence[RunHistory], *, initial_lr: float | None = None
) -> ExplorerBox:
    """A kernel-free explorer of ``runs``, one per learning rate in increasing order.

    The learning-rate slider picks the run whose curves are shown (first the one
    at ``initial_lr``, by default the middle one); the epoch slider picks the
    epoch after which a table compares all the runs.
    """
    if not runs:
        raise ValueError("The explorer needs at least one run.")
    lrs = [run.lr for run in runs]
    if sorted(set(lrs)) != lrs:
        raise ValueError(f"Runs must have distinct, increasing learning rates, got {lrs}.")
    num_epochs = runs[0].num_epochs
    if any(run.num_epochs != num_epochs for run in runs):
        raise ValueError("All runs must be planned for the same number of epochs.")
    if initial_lr is not None and initial_lr not in lrs:
        raise ValueError(f"initial_lr {initial_lr} is not one of the runs' rates {lrs}.")
    start = len(runs) // 2 if initial_lr is None else lrs.index(initial_lr)
    losses = [v for run in runs for v in run.test_loss if 0 < v < math.inf]
    figures = []
    for run in runs:
        curves = _Curves(num_epochs)
        if losses:  # one scale for all runs, so that switching runs compares them
            curves.loss_ax.set_ylim(min(losses) / 1.2, max(losses) * 1.2)
        curves.draw([run], legend=False)
        figures.append(curves.html(f"{run.summary()}."))
    lr_row, lr_slider, figure_stack, lr_links = _linked_slider(
        "learning rate", [f"{lr:g}" for lr in lrs], start, figures
    )
    tables = [_epoch_table(runs, epoch) for epoch in range(1, num_epochs + 1)]
    epoch_row, epochs_slider, table_stack, epoch_links = _linked_slider(
        "compare after epoch", [str(k) for k in range(1, num_epochs + 1)], num_epochs - 1, tables
    )
    explorer = ExplorerBox([lr_row, figure_stack, epoch_row, table_stack])
    explorer.add_class("d2l-explorer")
    explorer.runs, explorer.links = list(runs), lr_links + epoch_links
    explorer.lr_slider, explorer.epochs_slider = lr_slider, epochs_slider
    explorer.figure_stack, explorer.table_stack = figure_stack, table_stack
    return explorer


def _number(value: float) -> str:
    return f"{value:.4f}" if math.isfinite(value) else "infinite" if value > 0 else "not a number"


def _epoch_table(runs: Sequence[RunHistory], epoch: int) -> str:
    """An HTML table of every run's figures after ``epoch``."""
    rows = []
    for run in runs:
        if epoch > len(run.test_acc):
            cells = [f"diverged in epoch {run.diverged_at}", "", "", ""]
        else:
            i = epoch - 1
            figures = (run.train_loss[i], run.test_loss[i], run.train_acc[i], run.test_acc[i])
            cells = [_number(v) for v in figures]
        rows.append(f"<tr><th scope='row'>{run.lr:g}</th>{''.join(f'<td>{c}</td>' for c in cells)}")
    names = ("learning rate", "train loss (probabilities)", "test loss (logits)", "train acc",
             "test acc")  # fmt: skip
    header = "".join(f"<th scope='col'>{name}</th>" for name in names)
    return (
        f"<div class='d2l-table-scroll' style='overflow-x: auto'><style>{TABLE_CSS}</style>"
        f"<table class='d2l-explorer-table'><caption>All runs after epoch {epoch}</caption>"
        f"<thead><tr>{header}</tr></thead><tbody>{'</tr>'.join(rows)}</tr></tbody></table></div>"
    )
