"""Widgets to try learning rates and numbers of epochs.

Two tools, for two kinds of reader:

* :class:`TrainingPanel` retrains the chapter's model live.  It needs a
  running kernel (Jupyter, Binder, Colab) and is driven by the chapter's own
  training functions, passed in as callables.
* :func:`precomputed_explorer` shows runs computed while the page was built.
  Its controls are linked in the browser (``jslink``), so it keeps working in
  the static HTML book, where no kernel runs.
"""

from __future__ import annotations

import base64
import html
import io
import math
import numbers
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import ipywidgets as widgets
import numpy as np
import PIL.Image
from ipywidgets.widgets.widget_link import Link
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

__all__ = ["ExplorerBox", "RunHistory", "TrainingPanel", "precomputed_explorer", "record_run"]

#: Learning rates offered by the panel's slider, as powers of ten.
LR_EXPONENTS = (-3.0, 1.0)
MAX_EPOCHS = 30


@dataclass
class RunHistory:
    """What one training run produced, epoch by epoch."""

    lr: float
    num_epochs: int
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    diverged_at: int | None = None  # the epoch whose loss was nan or inf

    @property
    def label(self) -> str:
        """The run's settings in words, for legends: ``"lr 0.1, 10 epochs"``."""
        return f"lr {self.lr:g}, {self.num_epochs} epochs"

    @property
    def epochs(self) -> list[int]:
        """The numbers (from 1) of the epochs recorded so far."""
        return list(range(1, len(self.train_loss) + 1))


def _check_run_settings(lr: float, num_epochs: int) -> None:
    lr_ok = isinstance(lr, numbers.Real) and not isinstance(lr, bool) and math.isfinite(lr)
    if not lr_ok or lr <= 0:
        raise ValueError(f"The learning rate must be a positive number, got {lr!r}.")
    epochs_ok = isinstance(num_epochs, numbers.Integral) and not isinstance(num_epochs, bool)
    if not epochs_ok or num_epochs < 1:
        raise ValueError(f"The number of epochs must be a positive integer, got {num_epochs!r}.")


def record_run(
    train_epoch: Callable[[float], tuple[float, float]],
    evaluate: Callable[[], float],
    lr: float,
    num_epochs: int,
    on_epoch: Callable[[RunHistory], None] | None = None,
) -> RunHistory:
    """Train for ``num_epochs`` at learning rate ``lr`` and record the curves.

    Parameters
    ----------
    train_epoch
        Trains one epoch at the given learning rate; returns the mean training
        loss and accuracy.
    evaluate
        Returns the current test accuracy.
    lr, num_epochs
        The settings of the run.
    on_epoch
        Called with the history after every epoch (to redraw, say).

    A run stops early, with ``diverged_at`` set, at the first epoch whose loss
    is not finite; NumPy's overflow warnings are silenced meanwhile, since the
    history already tells what happened.
    """
    _check_run_settings(lr, num_epochs)
    history = RunHistory(lr=lr, num_epochs=num_epochs)
    with np.errstate(all="ignore"):
        for epoch in range(1, num_epochs + 1):
            train_loss, train_acc = train_epoch(lr)
            history.train_loss.append(float(train_loss))
            history.train_acc.append(float(train_acc))
            history.test_acc.append(float(evaluate()))
            if not math.isfinite(train_loss):
                history.diverged_at = epoch
            if on_epoch is not None:
                on_epoch(history)
            if history.diverged_at is not None:
                break
    return history


_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


def _figure_png(fig: Figure, dpi: int) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def _img_html(png: bytes, alt: str, width: int) -> str:
    """An <img> with alt text (an ipywidgets Image cannot carry one)."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}" '
        f'style="width: {width}px; max-width: 100%; height: auto;">'
    )


#: The top of every loss axis: the curves that matter stay readable below it.
LOSS_TOP = 2.5


def _set_up_curve_axes(
    loss_ax: Axes, acc_ax: Axes, num_epochs: int, acc_label: str = "accuracy"
) -> None:
    """Label and scale a pair of learning-curve axes: training loss, and accuracy."""
    xlim = (0.5, num_epochs + 0.5)
    loss_ax.set(xlabel="epoch", ylabel="training loss", xlim=xlim, ylim=(0, LOSS_TOP))
    acc_ax.set(xlabel="epoch", ylabel=acc_label, xlim=xlim, ylim=(0, 1))
    for ax in (loss_ax, acc_ax):
        ax.grid(True, alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _clip_for_plot(values: Sequence[float], cap: float) -> list[float]:
    # Diverged losses are inf or nan, and huge ones flatten the rest of the curve:
    # draw anything above the axis' top at its edge.
    return [min(v, cap) if math.isfinite(v) else cap for v in values]


class TrainingPanel(widgets.VBox):
    """Sliders, buttons and live learning curves around the chapter's training code.

    Parameters
    ----------
    train_epoch
        ``train_epoch(lr)`` trains the chapter's model for one epoch at
        learning rate ``lr`` and returns ``(train_loss, train_acc)``.
    evaluate
        ``evaluate()`` returns the model's current test accuracy.
    reset
        ``reset()`` re-initialises the model's parameters.
    lr, num_epochs
        Initial slider settings.
    runs_kept
        How many recent runs stay on the plot for comparison (1 to 6).
    background
        Train in a background thread, so the notebook stays responsive and a
        click during a run can be ignored (set False to train in the caller's
        thread, e.g. in scripts).

    The panel is a widget: display it as the last expression of a cell.
    """

    def __init__(
        self,
        *,
        train_epoch: Callable[[float], tuple[float, float]],
        evaluate: Callable[[], float],
        reset: Callable[[], None],
        lr: float = 0.1,
        num_epochs: int = 10,
        runs_kept: int = 4,
        background: bool = True,
    ) -> None:
        _check_run_settings(lr, num_epochs)
        if not 1 <= runs_kept <= len(_COLOURS):
            raise ValueError(
                f"runs_kept must be from 1 to {len(_COLOURS)} (one colour each), got {runs_kept}."
            )
        self._train_epoch, self._evaluate, self._reset = train_epoch, evaluate, reset
        self.runs_kept = runs_kept
        self.background = background
        self.runs: list[RunHistory] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

        self.lr_slider = widgets.FloatLogSlider(
            value=lr, base=10, min=LR_EXPONENTS[0], max=LR_EXPONENTS[1], step=0.25,
            description="learning rate", readout_format=".3g",
            style={"description_width": "initial"},
        )  # fmt: skip
        self.epochs_slider = widgets.IntSlider(
            value=num_epochs, min=1, max=MAX_EPOCHS, description="epochs",
            style={"description_width": "initial"},
        )  # fmt: skip
        self.fresh_checkbox = widgets.Checkbox(
            value=True, description="start each run from fresh weights", indent=False
        )
        self.train_button = widgets.Button(
            description="Train", button_style="primary", tooltip="Train with these settings"
        )
        self.reset_button = widgets.Button(description="Reset", tooltip="Re-initialise the weights")
        self.progress = widgets.IntProgress(value=0, min=0, max=num_epochs, description="epoch")
        self.status = widgets.HTML(
            value="Press <b>Train</b> to start (training needs a running Python kernel)."
        )
        self.plot = widgets.HTML()

        self.train_button.on_click(lambda _: self.start())
        self.reset_button.on_click(lambda _: self.reset())
        self._fig = Figure(figsize=(8, 3), dpi=80)
        self._canvas = FigureCanvasAgg(self._fig)
        self._loss_ax, self._acc_ax = self._fig.subplots(1, 2)
        self._laid_out = False
        self._current_lines: list[Line2D] = []
        self._draw_background()
        self._draw_frame()
        super().__init__(
            children=[
                widgets.HBox([self.lr_slider, self.epochs_slider]),
                widgets.HBox([self.train_button, self.reset_button, self.fresh_checkbox]),
                widgets.HBox([self.progress, self.status]),
                self.plot,
            ]
        )

    def __repr__(self) -> str:
        return (
            f"TrainingPanel(lr={self.lr_slider.value:g}, epochs={self.epochs_slider.value}, "
            f"runs={len(self.runs)})"
        )

    # ------------------------------------------------------------------ state

    @property
    def busy(self) -> bool:
        """Whether a run is going on."""
        return self._lock.locked()

    def reset(self) -> None:
        """Re-initialise the weights (ignored during a run)."""
        if not self._lock.acquire(blocking=False):
            self.status.value = "A run is going on; Reset is ignored until it ends."
            return
        try:
            self._reset()
            self.status.value = "The weights are re-initialised."
        finally:
            self._lock.release()

    def start(self) -> bool:
        """Start a run with the sliders' settings; False if one is already going on."""
        if not self._lock.acquire(blocking=False):
            self.status.value = "A run is already going on; wait for it to finish."
            return False
        lr, num_epochs = float(self.lr_slider.value), int(self.epochs_slider.value)
        self.train_button.disabled = True
        if self.background:
            self._thread = threading.Thread(target=self._run, args=(lr, num_epochs), daemon=True)
            self._thread.start()
        else:
            self._run(lr, num_epochs)
        return True

    def wait(self, timeout: float | None = None) -> None:
        """Block until the current background run (if any) has finished."""
        if self._thread is not None:
            self._thread.join(timeout)

    # ------------------------------------------------------------------ running

    def _run(self, lr: float, num_epochs: int) -> None:
        try:
            if self.fresh_checkbox.value:
                self._reset()
            self.progress.max, self.progress.value = num_epochs, 0
            self.runs.append(RunHistory(lr=lr, num_epochs=num_epochs))
            self.runs = self.runs[-self.runs_kept :]
            self._draw_background()

            def show_epoch(history: RunHistory) -> None:
                self.runs[-1] = history
                self.progress.value = len(history.train_loss)
                self.status.value = f"epoch {len(history.train_loss)} of {num_epochs}"
                self._draw_frame()

            history = record_run(self._train_epoch, self._evaluate, lr, num_epochs, show_epoch)
            if history.diverged_at is not None:
                self.status.value = (
                    f"<b>Diverged at epoch {history.diverged_at}</b> — the learning rate is "
                    "too large: the loss became infinite, so the run stopped. Lower the "
                    "learning rate and train again."
                )
            else:
                self.status.value = (
                    f"Done: after {num_epochs} epochs at learning rate {lr:g}, "
                    f"training accuracy {history.train_acc[-1]:.4f}, "
                    f"test accuracy {history.test_acc[-1]:.4f}."
                )
        except Exception as err:
            self.status.value = html.escape(f"Training failed: {type(err).__name__}: {err}")
            if not self.background:
                raise
            # In the background thread the panel's status is where the reader looks;
            # a traceback would land in whichever cell happens to be running.
        finally:
            self.train_button.disabled = False
            self._lock.release()

    # ------------------------------------------------------------------ drawing
    #
    # Redrawing a whole figure costs ~140 ms, more than an epoch. So the axes, the
    # legend and the finished runs are drawn once per run (the "background"), and
    # each epoch only the current run's three lines are drawn over a copy of it.

    def _draw_background(self) -> None:
        """Draw everything but the current run's lines, and keep the picture."""
        loss_ax, acc_ax = self._loss_ax, self._acc_ax
        loss_ax.cla()
        acc_ax.cla()
        max_epoch = max([self.epochs_slider.value, *(r.num_epochs for r in self.runs)])
        self._current_lines = []
        for i, (run, colour) in enumerate(zip(self.runs, _COLOURS, strict=False)):
            label = run.label + (f" (diverged at {run.diverged_at})" if run.diverged_at else "")
            lines = [
                loss_ax.plot([], [], "o-", color=colour, ms=3, label=label)[0],
                acc_ax.plot([], [], "o-", color=colour, ms=3)[0],
                acc_ax.plot([], [], "--", color=colour, alpha=0.6)[0],
            ]
            self._set_lines(lines, run)
            if i == len(self.runs) - 1:
                self._current_lines = lines
                for line in lines:
                    line.set_animated(True)  # left out of the background
        _set_up_curve_axes(loss_ax, acc_ax, max_epoch, "accuracy (solid: test, dashed: train)")
        if self.runs:
            loss_ax.legend(fontsize=7, loc="upper right")
        if not self._laid_out:  # the labels never change, so neither does the layout
            self._fig.tight_layout()
            self._laid_out = True
        self._canvas.draw()
        self._background = self._canvas.copy_from_bbox(self._fig.bbox)

    @staticmethod
    def _set_lines(lines: list[Line2D], run: RunHistory) -> None:
        loss, test, train = lines
        loss.set_data(run.epochs, _clip_for_plot(run.train_loss, LOSS_TOP))
        test.set_data(run.epochs, run.test_acc)
        train.set_data(run.epochs, run.train_acc)

    def _draw_frame(self) -> None:
        """Show the background with the current run's lines as they are now."""
        self._canvas.restore_region(self._background)
        if self.runs and self._current_lines:
            self._set_lines(self._current_lines, self.runs[-1])
            for line in self._current_lines:
                self._fig.draw_artist(line)
        width, height = self._canvas.get_width_height()
        picture = PIL.Image.frombuffer("RGBA", (width, height), self._canvas.buffer_rgba())
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG", compress_level=1)
        self.plot.value = _img_html(buffer.getvalue(), self._alt_text(), width=640)

    def _alt_text(self) -> str:
        described = "; ".join(
            f"{run.label}: " + (
                f"stopped at epoch {run.diverged_at}, loss infinite" if run.diverged_at
                else f"test accuracy {run.test_acc[-1]:.4f} after epoch {len(run.test_acc)}"
                if run.test_acc else "starting"
            )
            for run in self.runs
        )  # fmt: skip
        return "Learning curves: training loss (left) and accuracy (right) by epoch. " + (
            f"Runs shown: {described}." if self.runs else "No run yet."
        )


class ExplorerBox(widgets.VBox):
    """The widget :func:`precomputed_explorer` returns, with its parts named."""

    lr_slider: widgets.SelectionSlider
    epochs_slider: widgets.SelectionSlider
    figure_stack: widgets.Stack
    table_stack: widgets.Stack
    links: list[Link]
    runs: list[RunHistory]

    def __repr__(self) -> str:
        runs = getattr(self, "runs", [])
        lrs = ", ".join(f"{run.lr:g}" for run in runs)
        return f"ExplorerBox({len(runs)} precomputed runs, learning rates {lrs})"


def precomputed_explorer(
    runs: Sequence[RunHistory], *, initial_lr: float | None = None
) -> ExplorerBox:
    """A kernel-free explorer of precomputed runs, one per learning rate.

    The learning-rate slider picks which run's learning curves are shown; the
    epochs slider picks the epoch at which a table compares all the runs.
    Both sliders are linked to what they show in the browser (``jslink``), so
    the explorer works in a static HTML page with no kernel.

    Parameters
    ----------
    runs
        One run per learning rate, in increasing order of learning rate, all
        planned for the same number of epochs (a diverged run may stop early).
    initial_lr
        The learning rate shown first (default: the middle run's).
    """
    if not runs:
        raise ValueError("The explorer needs at least one run.")
    lrs = [run.lr for run in runs]
    if sorted(lrs) != lrs or len(set(lrs)) != len(lrs):
        raise ValueError(f"Runs must have distinct, increasing learning rates, got {lrs}.")
    num_epochs = runs[0].num_epochs
    if any(run.num_epochs != num_epochs for run in runs):
        raise ValueError("All runs must be planned for the same number of epochs.")
    if initial_lr is not None and initial_lr not in lrs:
        raise ValueError(f"initial_lr {initial_lr} is not one of the runs' rates {lrs}.")
    start = len(runs) // 2 if initial_lr is None else lrs.index(initial_lr)

    fig = Figure(figsize=(7, 2.6))
    loss_ax, acc_ax = fig.subplots(1, 2)
    _set_up_curve_axes(loss_ax, acc_ax, num_epochs)
    (loss_line,) = loss_ax.plot([], [], "o-", ms=3)
    (train_line,) = acc_ax.plot([], [], "s--", ms=3, label="train")
    (test_line,) = acc_ax.plot([], [], "^-", ms=3, label="test")
    acc_ax.legend(fontsize=8, loc="lower right")
    title = fig.suptitle("learning rate", fontsize=10)
    fig.tight_layout()  # once: only the data and the title change from run to run
    figures = []
    for run in runs:
        loss_line.set_data(run.epochs, _clip_for_plot(run.train_loss, LOSS_TOP))
        train_line.set_data(run.epochs, run.train_acc)
        test_line.set_data(run.epochs, run.test_acc)
        text = f"learning rate {run.lr:g}"
        if run.diverged_at is not None:
            text += f": loss infinite at epoch {run.diverged_at}, stopped"
        title.set_text(text)
        alt = (
            f"Learning curves at learning rate {run.lr:g}: training loss, training accuracy "
            f"and test accuracy over {len(run.train_loss)} epochs"
            + (f", stopped at epoch {run.diverged_at} when the loss became infinite."
               if run.diverged_at else
               f", ending at test accuracy {run.test_acc[-1]:.4f}.")
        )  # fmt: skip
        figures.append(widgets.HTML(value=_img_html(_figure_png(fig, dpi=72), alt, width=560)))
    tables = [widgets.HTML(value=_epoch_table(runs, k)) for k in range(1, num_epochs + 1)]

    lr_slider = widgets.SelectionSlider(
        options=[f"{lr:g}" for lr in lrs], index=start, description="learning rate",
        style={"description_width": "initial"},
    )  # fmt: skip
    epochs_slider = widgets.SelectionSlider(
        options=[str(k) for k in range(1, num_epochs + 1)], index=num_epochs - 1,
        description="compare after epoch", style={"description_width": "initial"},
    )  # fmt: skip
    figure_stack = widgets.Stack(figures, selected_index=start)
    table_stack = widgets.Stack(tables, selected_index=num_epochs - 1)
    explorer = ExplorerBox(
        [lr_slider, figure_stack, epochs_slider, table_stack],
        layout=widgets.Layout(max_width="600px"),
    )
    explorer.runs = list(runs)
    explorer.lr_slider, explorer.epochs_slider = lr_slider, epochs_slider
    explorer.figure_stack, explorer.table_stack = figure_stack, table_stack
    # Links made by jslink run in the browser; keep them with the widget.
    explorer.links = [
        widgets.jslink((lr_slider, "index"), (figure_stack, "selected_index")),
        widgets.jslink((epochs_slider, "index"), (table_stack, "selected_index")),
    ]
    return explorer


def _epoch_table(runs: Sequence[RunHistory], epoch: int) -> str:
    """An HTML table of every run's figures after ``epoch``."""
    rows = []
    for run in runs:
        if epoch > len(run.train_loss):
            cells = [f"stopped at epoch {run.diverged_at}"] * 3
        else:
            loss, train_acc, test_acc = (
                run.train_loss[epoch - 1], run.train_acc[epoch - 1], run.test_acc[epoch - 1]
            )  # fmt: skip
            cells = [
                f"{loss:.4f}" if math.isfinite(loss) else "infinite",
                f"{train_acc:.4f}",
                f"{test_acc:.4f}",
            ]
        cells_html = "".join(f"<td>{c}</td>" for c in cells)
        rows.append(f"<tr><th scope='row'>{run.lr:g}</th>{cells_html}</tr>")
    header = "".join(
        f"<th scope='col'>{name}</th>"
        for name in ("learning rate", "train loss", "train acc", "test acc")
    )
    return (
        f"<p>After epoch {epoch}:</p><table class='explorer-table'>"
        f"<caption>Every run after epoch {epoch}</caption><tr>{header}</tr>{''.join(rows)}</table>"
    )
