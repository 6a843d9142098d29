"""Widgets to try learning rates and numbers of epochs with a *run function* of the chapter.

``run(lr, num_epochs)`` trains a fresh model of its own (so it cannot change what another cell
computes) and yields ``(train_loss, train_acc, test_loss, test_acc)`` after each epoch.
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import ipywidgets as widgets
import numpy as np

from d2lutil.plotting import COLOURS, RunCurves

__all__ = ["ExplorerBox", "RunHistory", "TrainingPanel", "precomputed_explorer", "record_run"]

RunFunction = Callable[[float, int], Iterable[tuple[float, float, float, float]]]

LR_EXPONENTS = (-3.0, 1.0)  # the panel offers learning rates from 0.001 to 10
MAX_EPOCHS = 30
WIDE = {"description_width": "initial"}  # descriptions as wide as their text
TABLE_CSS = ".d2l-explorer-table td, .d2l-explorer-table th {padding: 0.15em 0.6em}"


@dataclass
class RunHistory:
    """What one training run produced, epoch by epoch, and the epoch it diverged in, if it did.

    ``train_loss`` is the chapter's cross-entropy of probabilities, averaged over the epoch's
    batches; ``test_loss`` is computed from the logits, so it stays finite unless the run
    truly diverges.
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
        done = len(self.test_acc)
        if not done:
            return f"{self.label}: not started"
        if self.diverged_at is not None:
            return f"{self.label}: diverged in epoch {done}, the test loss is no longer finite"
        text = f"{self.label}: test accuracy {self.test_acc[-1]:.4f} after epoch {done}"
        if infinite := sum(math.isinf(v) for v in self.train_loss):
            text += f" (training loss from probabilities infinite in {infinite} of {done} epochs)"
        return text


def _check_settings(lr: object, num_epochs: object) -> None:
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not 0 < lr < math.inf:
        raise ValueError(f"The learning rate must be a positive number, got {lr!r}.")
    integral = isinstance(num_epochs, numbers.Integral) and not isinstance(num_epochs, bool)
    if not integral or num_epochs < 1:  # type: ignore[operator]
        raise ValueError(f"The number of epochs must be a positive integer, got {num_epochs!r}.")


def record_run(run: RunFunction, lr: float, num_epochs: int,
               on_epoch: Callable[[RunHistory], None] | None = None) -> RunHistory:  # fmt: skip
    """Call ``run(lr, num_epochs)``, record its four numbers and call ``on_epoch`` after each epoch.

    The training loss, from probabilities, is infinite as soon as one probability rounds to 0;
    the run stops early, with ``diverged_at`` set, only if its test loss, from the logits, is no
    longer finite. NumPy's floating-point warnings are silenced meanwhile: the history says it
    all.
    """
    _check_settings(lr, num_epochs)
    history = RunHistory(lr=float(lr), num_epochs=int(num_epochs))
    columns = (history.train_loss, history.train_acc, history.test_loss, history.test_acc)
    with np.errstate(all="ignore"):
        for epoch, row in enumerate(run(history.lr, history.num_epochs), start=1):
            values = [float(value) for value in row]  # all checked before any is recorded
            if len(values) != len(columns):
                names = "train_loss, train_acc, test_loss, test_acc"
                raise ValueError(f"A run must yield 4 numbers ({names}), got {len(values)}.")
            for column, value in zip(columns, values, strict=True):
                column.append(value)
            if not math.isfinite(history.test_loss[-1]):
                history.diverged_at = epoch
            if on_epoch is not None:
                on_epoch(history)
            if history.diverged_at is not None or epoch == num_epochs:
                break
    return history


class TrainingPanel(widgets.VBox):
    """Sliders and a Train button for ``run``, and curves that grow epoch by epoch as it trains.

    It trains in the kernel's own thread (a browser kernel has no other). The last
    ``runs_kept`` runs (1 to 6) stay on the plot for comparison.
    """

    def __init__(self, run: RunFunction, *, lr: float = 0.1, num_epochs: int = 10,
                 runs_kept: int = 4) -> None:  # fmt: skip
        _check_settings(lr, num_epochs)
        low, high = 10 ** LR_EXPONENTS[0], 10 ** LR_EXPONENTS[1]
        if not (low <= lr <= high and num_epochs <= MAX_EPOCHS):  # the sliders would clamp them
            offer = f"learning rates from {low:g} to {high:g} and up to {MAX_EPOCHS} epochs"
            raise ValueError(f"The panel offers {offer}, got lr={lr!r}, num_epochs={num_epochs!r}.")
        if not (isinstance(runs_kept, numbers.Integral) and 1 <= runs_kept <= len(COLOURS)):
            raise ValueError(f"runs_kept must be from 1 to {len(COLOURS)}, got {runs_kept!r}.")
        self._run, self.runs_kept, self.runs, self._curves = run, runs_kept, [], RunCurves()
        self.lr_slider = widgets.FloatLogSlider(
            value=lr, min=LR_EXPONENTS[0], max=LR_EXPONENTS[1], step=0.25, readout_format=".3g",
            description="learning rate", style=WIDE)  # fmt: skip
        self.epochs_slider = widgets.IntSlider(
            value=num_epochs, min=1, max=MAX_EPOCHS, description="epochs", style=WIDE)  # fmt: skip
        self.train_button = widgets.Button(
            description="Train", tooltip="Train a fresh model with these settings",
            style={"button_color": "#1a5fb4", "text_color": "white"})  # fmt: skip
        self.clear_button = widgets.Button(description="Clear runs", tooltip="Forget the runs")
        self.train_button.on_click(lambda _: self.train())
        self.clear_button.on_click(lambda _: self.clear())
        self.progress = widgets.IntProgress(value=0, min=0, max=num_epochs, description="epoch")
        self.status = widgets.HTML("Press <b>Train</b> to train a fresh model.")
        self.plot = widgets.HTML()
        self._redraw()
        flow = widgets.Layout(flex_flow="row wrap", align_items="center")
        sliders = widgets.HBox([self.lr_slider, self.epochs_slider], layout=flow)
        buttons = widgets.HBox([self.train_button, self.clear_button, self.progress], layout=flow)
        super().__init__([sliders, buttons, self.status, self.plot])
        self.add_class("d2l-training-panel")

    def __repr__(self) -> str:
        lr, epochs = self.lr_slider.value, self.epochs_slider.value
        return f"TrainingPanel(lr={lr:g}, epochs={epochs}, runs={len(self.runs)})"

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
            self.runs[-1], self.progress.value = history, len(history.test_acc)
            self.status.value = f"Training: epoch {len(history.test_acc)} of {num_epochs}…"
            self._redraw()

        try:
            history = record_run(self._run, lr, num_epochs, show)
        except BaseException as err:  # an interrupt too: the status must not say "Training"
            if not self.runs[-1].test_acc:  # nothing to show: no "not started" run on the plot
                self.runs.pop()
                self._redraw()
            why = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
            self.status.value = html.escape(f"Training failed: {why}")
            raise
        finally:
            self.train_button.disabled = self.clear_button.disabled = False
        advice = " Lower the learning rate and train again." if history.diverged_at else ""
        self.status.value = f"{html.escape(history.summary())}.{advice}"
        return history

    def _redraw(self) -> None:
        num_epochs = max([self.epochs_slider.value, *(run.num_epochs for run in self.runs)])
        described = "; ".join(run.summary() for run in self.runs) or "no run yet"
        self.plot.value = self._curves.html(self.runs, num_epochs, f"{described}.")


class ExplorerBox(widgets.VBox):
    """What :func:`precomputed_explorer` returns, a ``VBox`` with its parts named (see there)."""

    def __repr__(self) -> str:
        lrs = ", ".join(f"{run.lr:g}" for run in self.runs)
        return f"ExplorerBox({len(self.runs)} precomputed runs, learning rates {lrs})"


def _linked_slider(
    name: str, options: list[str], index: int, views: list[str]
) -> tuple[widgets.HBox, widgets.SelectionSlider, widgets.Stack, list]:
    """A slider whose read-out and view, one of ``views``, are picked in the browser."""
    slider = widgets.SelectionSlider(
        options=options, index=index, description=name, readout=False, style=WIDE
    )
    # The slider's own read-out is off: a reader could edit it. A label shows the value instead.
    readout = widgets.Stack([widgets.HTML(f"<b>{o}</b>") for o in options], selected_index=index)
    stack = widgets.Stack([widgets.HTML(view) for view in views], selected_index=index)
    links = [widgets.jslink((slider, "index"), (w, "selected_index")) for w in (readout, stack)]
    return widgets.HBox([slider, readout]), slider, stack, links


def precomputed_explorer(runs: Sequence[RunHistory], *,
                         initial_lr: float | None = None) -> ExplorerBox:  # fmt: skip
    """A kernel-free explorer of ``runs``, one per learning rate in increasing order.

    Its ``lr_slider`` picks the run whose curves ``figure_stack`` shows (first the one at
    ``initial_lr``, by default the middle one); its ``epochs_slider`` picks the epoch after
    which a table in ``table_stack`` compares all the runs. Its ``links`` do so in the browser.
    """
    if not runs:
        raise ValueError("The explorer needs at least one run.")
    lrs, num_epochs = [run.lr for run in runs], runs[0].num_epochs
    if sorted(set(lrs)) != lrs:
        raise ValueError(f"Runs must have distinct, increasing learning rates, got {lrs}.")
    if any(run.num_epochs != num_epochs for run in runs):
        raise ValueError("All runs must be planned for the same number of epochs.")
    if initial_lr is not None and initial_lr not in lrs:
        raise ValueError(f"initial_lr {initial_lr} is not one of the runs' rates {lrs}.")
    losses = [v for run in runs for v in run.test_loss if 0 < v < math.inf]
    # One loss scale for all runs, so that switching runs compares them.
    loss_range = (min(losses) / 1.2, max(losses) * 1.2) if losses else None
    curves, epochs = RunCurves(), range(1, num_epochs + 1)
    figures = [curves.html([run], num_epochs, f"{run.summary()}.", legend=False,
                           loss_range=loss_range) for run in runs]  # fmt: skip
    start = len(runs) // 2 if initial_lr is None else lrs.index(initial_lr)
    lr_row, lr_slider, figure_stack, lr_links = _linked_slider(
        "learning rate", [f"{lr:g}" for lr in lrs], start, figures)  # fmt: skip
    epoch_row, epochs_slider, table_stack, epoch_links = _linked_slider(
        "compare after epoch", [str(k) for k in epochs], num_epochs - 1,
        [_epoch_table(runs, epoch) for epoch in epochs])  # fmt: skip
    explorer = ExplorerBox([lr_row, figure_stack, epoch_row, table_stack])
    explorer.add_class("d2l-explorer")
    explorer.runs, explorer.links = list(runs), lr_links + epoch_links
    explorer.lr_slider, explorer.epochs_slider = lr_slider, epochs_slider
    explorer.figure_stack, explorer.table_stack = figure_stack, table_stack
    return explorer


def _number(value: float) -> str:
    if math.isnan(value):
        return "not a number"
    return f"{value:.4f}" if math.isfinite(value) else "infinite" if value > 0 else "−infinite"


def _epoch_table(runs: Sequence[RunHistory], epoch: int) -> str:
    """An HTML table of every run's figures after ``epoch``, with a caption and scoped headers."""
    rows = []
    for run in runs:
        if epoch > len(run.test_acc):
            end = f"diverged in epoch {run.diverged_at}" if run.diverged_at else "stopped earlier"
            cells = [end, "", "", ""]
        else:
            columns = (run.train_loss, run.test_loss, run.train_acc, run.test_acc)
            cells = [_number(column[epoch - 1]) for column in columns]
        rows.append(f"<tr><th scope='row'>{run.lr:g}</th>{''.join(f'<td>{c}</td>' for c in cells)}")
    names = ("learning rate", "train loss (probabilities)", "test loss (logits)", "train acc",
             "test acc")  # fmt: skip
    header = "".join(f"<th scope='col'>{name}</th>" for name in names)
    return (
        f"<div class='d2l-table-scroll' style='overflow-x: auto'><style>{TABLE_CSS}</style>"
        f"<table class='d2l-explorer-table'><caption>All runs after epoch {epoch}</caption>"
        f"<thead><tr>{header}</tr></thead><tbody>{'</tr>'.join(rows)}</tr></tbody></table></div>"
    )
