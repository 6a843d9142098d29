"""The widgets, driven from Python: sliders set, buttons clicked, outputs read back."""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Iterator

import ipywidgets as widgets
import numpy as np
import pytest
from ipywidgets.widgets.widget_link import Link

from d2lutil.plotting import RunCurves
from d2lutil.widgets import (
    ExplorerBox,
    RunHistory,
    TrainingPanel,
    precomputed_explorer,
    record_run,
)


class LinearProblem:
    """A real, tiny training problem: least squares by gradient descent.

    Like the chapter's ``train_run``, each run starts from fresh weights of its
    own. Its "training loss from probabilities" is infinite when the residual is
    large (as the chapter's is when a probability rounds to 0), while its test
    loss overflows only when the weights do, at large learning rates.
    """

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self.X = rng.normal(0, 3, size=(200, 5)).astype(np.float32)
        self.y = self.X @ np.arange(1, 6, dtype=np.float32)
        self.epochs_trained = 0

    def run(self, lr: float, num_epochs: int) -> Iterator[tuple[float, float, float, float]]:
        w = np.zeros(5, dtype=np.float32)
        for _ in range(num_epochs):
            w = w - lr * self.X.T @ (self.X @ w - self.y) / len(self.y)
            self.epochs_trained += 1
            residual = self.X @ w - self.y
            test_loss = float(np.mean(residual**2))
            train_loss = math.inf if test_loss > 100 else test_loss
            accuracy = float(np.mean(np.abs(residual) < 0.5))
            yield train_loss, accuracy, test_loss, accuracy


@pytest.fixture
def problem() -> LinearProblem:
    return LinearProblem()


# --------------------------------------------------------------------------- record_run


def test_record_run_keeps_every_epoch(problem: LinearProblem) -> None:
    run = record_run(problem.run, 0.1, 5)
    assert len(run.test_acc) == 5 and run.diverged_at is None
    assert run.test_loss == sorted(run.test_loss, reverse=True)  # it learns
    assert len(run.train_loss) == len(run.train_acc) == len(run.test_acc) == 5
    assert run.label == "lr 0.1, 5 epochs" and RunHistory(0.1, 1).label == "lr 0.1, 1 epoch"


def test_an_infinite_training_loss_alone_does_not_stop_a_run(problem: LinearProblem) -> None:
    run = record_run(problem.run, 0.05, 3)
    assert math.isinf(run.train_loss[0]) and run.diverged_at is None and len(run.test_acc) == 3
    assert "training loss from probabilities infinite in" in run.summary()


def test_a_run_stops_only_when_it_truly_diverges_and_without_warnings(
    problem: LinearProblem,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any NumPy RuntimeWarning would fail the test
        run = record_run(problem.run, 10.0, 1000)
    assert run.diverged_at is not None and run.diverged_at < 1000
    assert len(run.test_loss) == run.diverged_at == problem.epochs_trained
    assert not math.isfinite(run.test_loss[-1])
    assert all(math.isfinite(v) for v in run.test_loss[:-1])
    assert "diverged in epoch" in run.summary() and "no longer finite" in run.summary()


@pytest.mark.parametrize(
    ("lr", "epochs"),
    [(0, 5), (-0.1, 5), (math.nan, 5), (math.inf, 5), (True, 5), ("0.1", 5), (0.1, 0),
     (0.1, 2.5), (0.1, True), (0.1, 1001), (0.1, 10**7)],
)  # fmt: skip
def test_record_run_rejects_bad_settings_before_training(
    problem: LinearProblem, lr: object, epochs: object
) -> None:
    with pytest.raises(ValueError, match=r"learning rate|number of epochs"):
        record_run(problem.run, lr, epochs)  # type: ignore[arg-type]
    assert problem.epochs_trained == 0


def test_numpy_numbers_are_accepted(problem: LinearProblem) -> None:
    run = record_run(problem.run, np.float32(0.1), np.int64(2))
    assert len(run.train_loss) == 2 and isinstance(run.lr, float)


# --------------------------------------------------------------------------- live panel


def test_panel_has_named_controls_and_a_described_plot(problem: LinearProblem) -> None:
    panel = TrainingPanel(problem.run)
    assert isinstance(panel.lr_slider, widgets.FloatLogSlider)
    assert (panel.lr_slider.min, panel.lr_slider.max) == (-3, 1)  # 0.001 to 10
    assert panel.epochs_slider.min == 1 and panel.epochs_slider.max >= 30
    assert panel.lr_slider.description == "learning rate"
    assert panel.train_button.description == "Train"
    assert panel.plot.value.count('<img src="data:image/png;base64,iVBOR') == 2
    assert 'alt="Test loss by epoch, log scale: no run yet.' in panel.plot.value
    assert repr(panel) == "TrainingPanel(lr=0.1, epochs=10, runs=0)"


def test_moving_a_slider_does_not_train(problem: LinearProblem) -> None:
    panel = TrainingPanel(problem.run)
    panel.lr_slider.value = 0.01
    panel.epochs_slider.value = 3
    assert problem.epochs_trained == 0 and panel.runs == []


def test_click_trains_in_the_callers_thread_and_reports(
    problem: LinearProblem, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_threads(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")  # as in Pyodide

    monkeypatch.setattr(threading.Thread, "start", no_threads)
    panel = TrainingPanel(problem.run)
    first_image = panel.plot.value
    frames: list[str] = []
    panel.plot.observe(lambda change: frames.append(change["new"]), "value")
    panel.lr_slider.value, panel.epochs_slider.value = 0.1, 4
    panel.train_button.click()
    assert problem.epochs_trained == 4  # done when click() returns: no background thread
    assert len(frames) == 4 and first_image not in frames  # one redraw per epoch
    assert panel.progress.value == panel.progress.max == 4
    assert "lr 0.1, 4 epochs: test accuracy" in panel.plot.value  # the alt text follows
    assert panel.status.value == (
        f"lr 0.1, 4 epochs: test accuracy {panel.runs[-1].test_acc[-1]:.4f} after epoch 4."
    )
    assert not panel.train_button.disabled


def test_the_last_four_runs_are_kept_for_comparison(problem: LinearProblem) -> None:
    panel = TrainingPanel(problem.run)
    for lr, epochs in [(0.01, 2), (0.1, 2), (0.03, 3), (0.05, 1), (0.3, 1)]:
        panel.lr_slider.value, panel.epochs_slider.value = lr, epochs
        panel.train_button.click()
    assert [run.label for run in panel.runs] == [
        "lr 0.1, 2 epochs",
        "lr 0.03, 3 epochs",
        "lr 0.05, 1 epoch",
        "lr 0.3, 1 epoch",
    ]


def test_the_status_shows_the_learning_rate_as_the_slider_does(problem: LinearProblem) -> None:
    panel = TrainingPanel(problem.run, num_epochs=2)
    panel.lr_slider.value = 10**-0.5  # a quarter step of the slider: 0.316227...
    panel.train_button.click()
    assert panel.status.value.startswith("lr 0.316, 2 epochs: test accuracy")
    assert "lr 0.316, 2 epochs: test accuracy" in panel.plot.value  # the figures' alt text too
    assert repr(panel) == "TrainingPanel(lr=0.316, epochs=2, runs=1)"


def test_divergence_is_reported_and_the_panel_stays_usable(problem: LinearProblem) -> None:
    panel = TrainingPanel(problem.run)
    panel.lr_slider.value, panel.epochs_slider.value = 10, 30
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel.train_button.click()
    run = panel.runs[-1]
    assert run.diverged_at is not None
    assert f"diverged in epoch {run.diverged_at}, the test loss is no" in panel.status.value
    assert "Lower the learning rate" in panel.status.value
    panel.lr_slider.value, panel.epochs_slider.value = 0.1, 3
    panel.train_button.click()
    assert panel.runs[-1].diverged_at is None and "after epoch 3" in panel.status.value


def test_slider_values_out_of_range_are_clamped(problem: LinearProblem) -> None:
    panel = TrainingPanel(problem.run)
    panel.lr_slider.value = 1000
    panel.epochs_slider.value = 500
    assert panel.lr_slider.value == 10 and panel.epochs_slider.value == panel.epochs_slider.max
    panel.epochs_slider.value = -4
    assert panel.epochs_slider.value == 1


def test_panel_rejects_bad_settings(problem: LinearProblem) -> None:
    with pytest.raises(ValueError, match="learning rate"):
        TrainingPanel(problem.run, lr=-1.0)
    for lr, epochs in [(100.0, 10), (0.0001, 10), (0.1, 50)]:  # beyond what the sliders offer
        with pytest.raises(ValueError, match=r"The panel offers learning rates from 0\.001 to 10"):
            TrainingPanel(problem.run, lr=lr, num_epochs=epochs)


def test_an_interrupted_run_says_so_and_releases_the_panel() -> None:
    def interrupted(lr: float, num_epochs: int) -> Iterator[tuple[float, float, float, float]]:
        yield 1.0, 0.5, 1.0, 0.5
        raise KeyboardInterrupt

    panel = TrainingPanel(interrupted)
    with pytest.raises(KeyboardInterrupt):
        panel.train()
    assert panel.status.value == "Training failed: KeyboardInterrupt"
    assert not panel.train_button.disabled


@pytest.mark.parametrize("width", [3, 5])
def test_a_run_yielding_the_wrong_numbers_records_nothing(problem: LinearProblem, width) -> None:
    def wrong(lr: float, num_epochs: int) -> Iterator[tuple[float, ...]]:
        yield 1.0, 0.5, 1.0, 0.5
        yield (1.0,) * width

    panel = TrainingPanel(wrong, num_epochs=3)
    with pytest.raises(ValueError, match=f"must yield 4 numbers .* got {width}"):
        panel.train()
    assert [len(column) for column in (panel.runs[-1].train_loss, panel.runs[-1].test_acc)] == [
        1,
        1,
    ]
    panel._run = problem.run  # the panel still trains and draws
    assert len(panel.train().test_acc) == 3 and "test accuracy" in panel.status.value


def test_the_loss_label_stays_in_its_figure_whatever_the_tick_labels() -> None:
    def bumpy(lr: float, num_epochs: int) -> Iterator[tuple[float, float, float, float]]:
        for loss in [1.02, 0.71, 0.53, 0.51, 1.15, 1.25, 0.98, 1.06, 0.93, 1.27]:  # 6×10⁻¹...
            yield loss, 0.8, loss, 0.8

    panel = TrainingPanel(bumpy)  # first laid out with no run: labels 10⁻¹, 10⁰, 10¹
    panel.train()
    figure = panel._curves.figures[0]
    label = panel._curves.loss_ax.yaxis.label.get_window_extent(figure.canvas.get_renderer())
    assert label.x0 >= 0, f"the label starts {-label.x0:.0f} px left of the figure"


def test_a_run_failing_before_its_first_epoch_leaves_no_trace_on_the_plot() -> None:
    def broken(lr: float, num_epochs: int) -> Iterator[tuple[float, float, float, float]]:
        raise RuntimeError("no data")
        yield  # a generator, as a run function is

    panel = TrainingPanel(broken)
    with pytest.raises(RuntimeError):
        panel.train()
    assert panel.runs == [] and "not started" not in panel.plot.value


def test_a_train_failing_before_its_first_epoch_keeps_every_run_shown(
    problem: LinearProblem,
) -> None:
    panel = TrainingPanel(problem.run, num_epochs=1)
    for lr in (0.01, 0.03, 0.1, 0.3):
        panel.lr_slider.value = lr
        panel.train()
    kept, plot = list(panel.runs), panel.plot.value
    panel.lr_slider.value = math.nan  # typed into the slider's read-out
    with pytest.raises(ValueError, match="learning rate"):
        panel.train()
    assert panel.runs == kept and panel.plot.value == plot
    assert panel.status.value.startswith("Training failed: ValueError: The learning rate")

    def broken(lr: float, num_epochs: int) -> Iterator[tuple[float, float, float, float]]:
        raise RuntimeError("no data")
        yield  # a generator, as a run function is

    panel._run = broken
    panel.lr_slider.value = 0.1
    with pytest.raises(RuntimeError, match="no data"):
        panel.train()
    assert panel.runs == kept and panel.plot.value == plot and not panel.train_button.disabled


def test_a_failing_run_is_shown_escaped_and_releases_the_panel() -> None:
    def broken(lr: float, num_epochs: int) -> Iterator[tuple[float, float, float, float]]:
        yield 1.0, 0.5, 1.0, 0.5
        raise ValueError("<b>bad</b> batch")

    panel = TrainingPanel(broken)
    with pytest.raises(ValueError, match="bad"):
        panel.train()
    assert panel.status.value == "Training failed: ValueError: &lt;b&gt;bad&lt;/b&gt; batch"
    assert not panel.train_button.disabled


# --------------------------------------------------------------------------- explorer


def runs_for(lrs: list[float], problem: LinearProblem, epochs: int = 4) -> list[RunHistory]:
    return [record_run(problem.run, lr, epochs) for lr in lrs]


def test_explorer_structure_and_links(problem: LinearProblem) -> None:
    runs = runs_for([0.01, 0.1, 0.5, 10.0], problem)
    explorer = precomputed_explorer(runs, initial_lr=0.1)
    assert isinstance(explorer, ExplorerBox)
    assert explorer.lr_slider.options == ("0.01", "0.1", "0.5", "10")
    assert explorer.lr_slider.index == 1 == explorer.figure_stack.selected_index
    assert explorer.epochs_slider.options == ("1", "2", "3", "4")
    # the read-outs are not editable: the sliders' own are off, shown by linked labels
    assert not explorer.lr_slider.readout and not explorer.epochs_slider.readout
    figures = [child.value for child in explorer.figure_stack.children]
    assert len(set(figures)) == 4
    assert all(f.count('<img src="data:image/png;base64,') == 2 for f in figures)
    assert all('alt="Accuracy by epoch (solid: test, dashed: train): lr ' in f for f in figures)
    assert len(explorer.table_stack.children) == 4
    assert explorer.table_stack.selected_index == 3
    pairs = {(link.source, link.target) for link in explorer.links}
    readouts = [row.children[1] for row in (explorer.children[0], explorer.children[2])]
    assert pairs == {
        ((explorer.lr_slider, "index"), (explorer.figure_stack, "selected_index")),
        ((explorer.lr_slider, "index"), (readouts[0], "selected_index")),
        ((explorer.epochs_slider, "index"), (explorer.table_stack, "selected_index")),
        ((explorer.epochs_slider, "index"), (readouts[1], "selected_index")),
    }
    assert [child.value for child in readouts[0].children] == [
        "<b>0.01</b>", "<b>0.1</b>", "<b>0.5</b>", "<b>10</b>"
    ]  # fmt: skip
    # jslink (a Link widget), not traitlets' link: the links must run in the browser
    assert all(isinstance(link, Link) for link in explorer.links)


def test_explorer_tables_report_each_epoch_and_divergence(problem: LinearProblem) -> None:
    runs = runs_for([0.1, 10.0], problem, epochs=400)
    diverged = runs[1]
    assert diverged.diverged_at is not None
    explorer = precomputed_explorer(runs)
    first = explorer.table_stack.children[0].value
    assert "All runs after epoch 1</caption>" in first and f"{runs[0].test_acc[0]:.4f}" in first
    last = explorer.table_stack.children[-1].value
    assert f"diverged in epoch {diverged.diverged_at}" in last
    at_divergence = explorer.table_stack.children[diverged.diverged_at - 1].value
    assert "<td>inf</td>" in at_divergence


def test_explorer_tables_say_when_a_run_stopped_early_without_diverging(problem) -> None:
    short = record_run(lambda lr, n: iter([(1.0, 0.5, 1.0, 0.5)]), 1.0, 3)
    explorer = precomputed_explorer([record_run(problem.run, 0.1, 3), short])
    last = explorer.table_stack.children[-1].value
    assert "stopped earlier" in last and "None" not in last


def test_explorer_rejects_inconsistent_runs(problem: LinearProblem) -> None:
    with pytest.raises(ValueError, match="increasing learning rates, got \\[\\]"):
        precomputed_explorer([])
    with pytest.raises(ValueError, match="increasing"):
        precomputed_explorer(runs_for([0.1, 0.01], problem))
    with pytest.raises(ValueError, match="increasing"):
        precomputed_explorer(runs_for([0.1, 0.1], problem))
    with pytest.raises(ValueError, match="initial_lr"):
        precomputed_explorer(runs_for([0.01, 0.1], problem), initial_lr=0.5)


@pytest.mark.parametrize("epochs", [0, -3, 1001, 10**5, 2.5])
def test_explorer_checks_the_number_of_epochs_before_any_work(
    problem: LinearProblem, epochs: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[object] = []
    monkeypatch.setattr(RunCurves, "html", lambda *args: drawn.append(args))
    planned = RunHistory(0.1, epochs, [1.0], [0.5], [1.0], [0.5])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="number of epochs must be from 1 to 1000"):
        precomputed_explorer([record_run(problem.run, 0.01, 1), planned])
    assert drawn == []


def test_explorer_compares_runs_planned_for_different_numbers_of_epochs(
    problem: LinearProblem,
) -> None:
    explorer = precomputed_explorer(runs_for([0.01], problem, 2) + runs_for([0.1], problem, 3))
    assert explorer.epochs_slider.options == ("1", "2", "3")
    assert "stopped earlier" in explorer.table_stack.children[-1].value
