"""Widgets to try learning rates and numbers of epochs with a *run function* of the chapter:
``run(lr, num_epochs)`` trains a fresh model of its own (so it cannot change what another cell
computes) and yields ``(train_loss, train_acc, test_loss, test_acc)`` after each epoch."""

import html
import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import ipywidgets as widgets
import numpy as np

from d2lutil.plotting import RunCurves

RunFunction = Callable[[float, int], Iterable[tuple[float, float, float, float]]]

MAX_EPOCHS = 1000  # a run records at most this many (the explorer makes a table of each)
PANEL_EPOCHS = 30  # the panel offers 1 to 30 epochs, and learning rates from 0.001 to 10
WIDE = {"description_width": "initial"}  # descriptions as wide as their text
TABLE_CSS = ".d2l-explorer-table td, .d2l-explorer-table th {padding: 0.15em 0.6em}"
TABLE_HEADERS = ["learning rate", "train loss (probabilities)", "test loss (logits)"]


@dataclass
class RunHistory:
    """What one run produced, epoch by epoch, and the epoch it diverged in, if it did.

    ``train_loss`` is the chapter's cross-entropy of probabilities, averaged over the epoch's
    batches; ``test_loss``, from the logits, stays finite unless the run truly diverges."""

    lr: float
    num_epochs: int
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    diverged_at: int | None = None

    @property
    def label(self) -> str:
        """The settings, the rate as the panel's slider shows it: ``"lr 0.316, 10 epochs"``."""
        return f"lr {self.lr:.3g}, {self.num_epochs} epoch{'s' * (self.num_epochs != 1)}"

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
    if not integral or not 1 <= num_epochs <= MAX_EPOCHS:  # type: ignore[operator]
        raise ValueError(f"The number of epochs must be from 1 to {MAX_EPOCHS}: {num_epochs!r}")


def record_run(
    run: RunFunction, lr: float, num_epochs: int, on_epoch: Callable = lambda history: None
) -> RunHistory:
    """Record the four numbers ``run(lr, num_epochs)`` yields, calling ``on_epoch(history)`` after
    each epoch. It stops early, setting ``diverged_at``, if the test loss is no longer finite;
    NumPy's floating-point warnings are silenced meanwhile: the history says it all."""
    _check_settings(lr, num_epochs)
    history = RunHistory(float(lr), int(num_epochs))
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
            on_epoch(history)
            if history.diverged_at is not None or epoch == num_epochs:
                break
    return history


class TrainingPanel(widgets.VBox):
    """Sliders and a Train button for ``run``, and curves that grow epoch by epoch as it trains
    in the kernel's own thread (a browser kernel has no other); the last runs stay for comparison.
    """

    def __init__(self, run: RunFunction, *, lr: float = 0.1, num_epochs: int = 10) -> None:
        _check_settings(lr, num_epochs)
        if not (0.001 <= lr <= 10 and num_epochs <= PANEL_EPOCHS):  # the sliders would clamp them
            offer = f"learning rates from 0.001 to 10 and up to {PANEL_EPOCHS} epochs"
            raise ValueError(f"The panel offers {offer}, got lr={lr!r}, num_epochs={num_epochs!r}.")
        self._run, self._curves, self.runs = run, RunCurves(), []
        self.lr_slider = widgets.FloatLogSlider(lr, min=-3, max=1, step=0.25, readout_format=".3g")
        self.lr_slider.description, self.lr_slider.style = "learning rate", WIDE
        self.epochs_slider = widgets.IntSlider(num_epochs, 1, PANEL_EPOCHS, description="epochs")
        self.train_button = widgets.Button(description="Train", tooltip="Train a fresh model")
        self.train_button.style = {"button_color": "#1a5fb4", "text_color": "white"}
        self.train_button.on_click(lambda _: self.train())
        self.progress = widgets.IntProgress(0, 0, num_epochs, description="epoch")
        self.status = widgets.HTML("Press <b>Train</b> to train a fresh model.")
        self.plot = widgets.HTML()
        self._redraw()
        flow = widgets.Layout(flex_flow="row wrap", align_items="center")
        sliders = widgets.HBox([self.lr_slider, self.epochs_slider], layout=flow)
        buttons = widgets.HBox([self.train_button, self.progress], layout=flow)
        super().__init__([sliders, buttons, self.status, self.plot])
        self.add_class("d2l-training-panel")

    def __repr__(self) -> str:
        lr, epochs = self.lr_slider.value, self.epochs_slider.value
        return f"TrainingPanel(lr={lr:.3g}, epochs={epochs}, runs={len(self.runs)})"

    def train(self) -> RunHistory:
        """Train with the sliders' settings; the run joins the plot after its first epoch."""
        lr, num_epochs = self.lr_slider.value, self.epochs_slider.value
        self.train_button.disabled = True
        self.progress.max, self.progress.value = num_epochs, 0

        def show(history: RunHistory) -> None:
            if not self.runs or self.runs[-1] is not history:  # its first epoch
                self.runs = [*self.runs, history][-4:]  # the last four stay on the plot
            self.progress.value = len(history.test_acc)
            self.status.value = f"Training: epoch {len(history.test_acc)} of {num_epochs}…"
            self._redraw()

        try:
            history = record_run(self._run, lr, num_epochs, show)
        except BaseException as err:  # an interrupt too: the status must not say "Training"
            why = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
            self.status.value = html.escape(f"Training failed: {why}")
            raise
        finally:
            self.train_button.disabled = False
        advice = " Lower the learning rate and train again." if history.diverged_at else ""
        self.status.value = f"{html.escape(history.summary())}.{advice}"
        return history

    def _redraw(self) -> None:
        num_epochs = max([self.epochs_slider.value, *(run.num_epochs for run in self.runs)])
        described = "; ".join(run.summary() for run in self.runs) or "no run yet"
        self.plot.value = self._curves.html(self.runs, num_epochs, f"{described}.")


class ExplorerBox(widgets.VBox):
    """A kernel-free explorer of ``runs`` (increasing learning rates): ``lr_slider`` picks the run
    that ``figure_stack`` shows (``initial_lr``'s, or the middle one), ``epochs_slider`` the epoch
    after which a table in ``table_stack`` compares them all; ``links`` do it in the browser."""

    def __init__(self, runs: Sequence[RunHistory], *, initial_lr: float | None = None) -> None:
        for run in runs:
            _check_settings(run.lr, run.num_epochs)
        lrs = [run.lr for run in runs]
        if not runs or sorted(set(lrs)) != lrs:
            raise ValueError(f"The explorer needs runs of increasing learning rates, got {lrs}.")
        if initial_lr is not None and initial_lr not in lrs:
            raise ValueError(f"initial_lr {initial_lr} is not one of the runs' rates {lrs}.")
        super().__init__()
        self.add_class("d2l-explorer")
        self.runs, self.links = list(runs), []
        # One loss scale for all runs, so that switching runs compares them.
        losses = [v for run in runs for v in run.test_loss if 0 < v < math.inf]
        curves = RunCurves((min(losses) / 1.2, max(losses) * 1.2) if losses else None)
        epochs = range(1, max(run.num_epochs for run in runs) + 1)
        figures = [curves.html([run], len(epochs), f"{run.summary()}.") for run in runs]
        start = len(runs) // 2 if initial_lr is None else lrs.index(initial_lr)
        self.lr_slider, self.figure_stack = self._linked("learning rate", lrs, start, figures)
        tables = [_epoch_table(runs, epoch) for epoch in epochs]
        name = "compare after epoch"
        self.epochs_slider, self.table_stack = self._linked(name, epochs, len(epochs) - 1, tables)

    def __repr__(self) -> str:
        lrs = ", ".join(f"{run.lr:g}" for run in self.runs)
        return f"ExplorerBox({len(self.runs)} precomputed runs, learning rates {lrs})"

    def _linked(self, name: str, values: Iterable, index: int, views: list[str]) -> tuple:
        """A slider over ``values`` that picks its read-out and one of ``views`` in the browser."""
        options = [f"{value:g}" for value in values]
        slider = widgets.SelectionSlider(options=options, index=index, description=name, style=WIDE)
        slider.readout = False  # a reader could edit it: a label shows the value instead
        labels = [widgets.HTML(f"<b>{option}</b>") for option in options]
        readout = widgets.Stack(labels, selected_index=index)
        stack = widgets.Stack([widgets.HTML(view) for view in views], selected_index=index)
        for shown in (readout, stack):
            self.links.append(widgets.jslink((slider, "index"), (shown, "selected_index")))
        self.children = [*self.children, widgets.HBox([slider, readout]), stack]
        return slider, stack


precomputed_explorer = ExplorerBox  # the name the chapter calls it by


def _epoch_table(runs: Sequence[RunHistory], epoch: int) -> str:
    """An HTML table of every run's figures after ``epoch``, with a caption and scoped headers."""
    rows = []
    for run in runs:
        if epoch <= len(run.test_acc):
            columns = (run.train_loss, run.test_loss, run.train_acc, run.test_acc)
            cells = "".join(f"<td>{column[epoch - 1]:.4f}</td>" for column in columns)
        else:
            end = f"diverged in epoch {run.diverged_at}" if run.diverged_at else "stopped earlier"
            cells = f"<td colspan='4'>{end}</td>"
        rows.append(f"<tr><th scope='row'>{run.lr:g}</th>{cells}</tr>")
    names = [*TABLE_HEADERS, "train acc", "test acc"]
    header = "".join(f"<th scope='col'>{name}</th>" for name in names)
    return (
        f"<div class='d2l-table-scroll' style='overflow-x: auto'><style>{TABLE_CSS}</style>"
        f"<table class='d2l-explorer-table'><caption>All runs after epoch {epoch}</caption>"
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
