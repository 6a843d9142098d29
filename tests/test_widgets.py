"""The widgets, driven from Python: sliders set, buttons clicked, outputs read back."""

from __future__ import annotations

import math
import threading
import warnings

import ipywidgets as widgets
import numpy as np
import pytest
from ipywidgets.widgets.widget_link import Link

from d2lutil.widgets import (
    ExplorerBox,
    RunHistory,
    TrainingPanel,
    precomputed_explorer,
    record_run,
)


class LinearProblem:
    """A real, tiny training problem: least squares by gradient descent.

    Stable for small learning rates and divergent (loss overflows to inf) for
    large ones, like the chapter's model; counts the epochs it trains.
    """

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        # float32, like the chapter, so a diverging run overflows within a few epochs
        self.X = rng.normal(0, 3, size=(200, 5)).astype(np.float32)
        self.y = self.X @ np.arange(1, 6, dtype=np.float32)
        self.w = np.zeros(5, dtype=np.float32)
        self.epochs_trained = 0
        self.resets = 0
        self.gate: threading.Event | None = None  # when set, each epoch waits for it

    def train_epoch(self, lr: float) -> tuple[float, float]:
        if self.gate is not None:
            self.gate.wait(10)
        residual = self.X @ self.w - self.y
        self.w = self.w - lr * self.X.T @ residual / len(self.y)
        self.epochs_trained += 1
        loss = float(np.mean((self.X @ self.w - self.y) ** 2))
        return loss, self.evaluate()

    def evaluate(self) -> float:
        # "accuracy": the share of targets predicted within 0.5
        return float(np.mean(np.abs(self.X @ self.w - self.y) < 0.5))

    def reset(self) -> None:
        self.w = np.zeros(5, dtype=np.float32)
        self.resets += 1


@pytest.fixture
def problem() -> LinearProblem:
    return LinearProblem()


def make_panel(problem: LinearProblem, **kwargs: object) -> TrainingPanel:
    return TrainingPanel(
        train_epoch=problem.train_epoch,
        evaluate=problem.evaluate,
        reset=problem.reset,
        **kwargs,  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------- record_run


def test_record_run_keeps_every_epoch(problem: LinearProblem) -> None:
    run = record_run(problem.train_epoch, problem.evaluate, 0.1, 5)
    assert run.epochs == [1, 2, 3, 4, 5] and run.diverged_at is None
    assert run.train_loss == sorted(run.train_loss, reverse=True)  # it learns
    assert run.label == "lr 0.1, 5 epochs"


def test_record_run_stops_at_divergence_without_warnings(problem: LinearProblem) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any NumPy RuntimeWarning would fail the test
        run = record_run(problem.train_epoch, problem.evaluate, 10.0, 500)
    assert run.diverged_at is not None and run.diverged_at < 500
    assert len(run.train_loss) == run.diverged_at
    assert not math.isfinite(run.train_loss[-1])
    assert all(math.isfinite(v) for v in run.train_loss[:-1])


@pytest.mark.parametrize(
    ("lr", "epochs"), [(0, 5), (-0.1, 5), (math.nan, 5), (math.inf, 5), (0.1, 0), (0.1, 2.5)]
)
def test_record_run_rejects_bad_settings(problem: LinearProblem, lr: float, epochs: int) -> None:
    with pytest.raises(ValueError, match=r"learning rate|number of epochs"):
        record_run(problem.train_epoch, problem.evaluate, lr, epochs)
    assert problem.epochs_trained == 0


# --------------------------------------------------------------------------- live panel


def test_panel_has_the_controls(problem: LinearProblem) -> None:
    panel = make_panel(problem)
    assert isinstance(panel.lr_slider, widgets.FloatLogSlider)
    assert (panel.lr_slider.min, panel.lr_slider.max) == (-3, 1)  # 0.001 to 10
    assert panel.epochs_slider.min == 1 and panel.epochs_slider.max >= 30
    assert panel.train_button.description == "Train"
    assert panel.reset_button.description == "Reset"
    assert panel.plot.value.startswith('<img src="data:image/png;base64,iVBOR')
    assert 'alt="Learning curves' in panel.plot.value
    assert repr(panel) == "TrainingPanel(lr=0.1, epochs=10, runs=0)"


def test_moving_a_slider_does_not_train(problem: LinearProblem) -> None:
    panel = make_panel(problem)
    panel.lr_slider.value = 0.01
    panel.epochs_slider.value = 3
    assert problem.epochs_trained == 0 and panel.runs == []


def test_click_trains_redraws_and_reports(problem: LinearProblem) -> None:
    panel = make_panel(problem)
    first_image = panel.plot.value
    panel.lr_slider.value = 0.1
    panel.epochs_slider.value = 4
    panel.train_button.click()
    panel.wait(30)
    assert problem.epochs_trained == 4 and problem.resets == 1  # fresh weights, then 4 epochs
    assert panel.progress.value == panel.progress.max == 4
    assert panel.plot.value != first_image
    assert "lr 0.1, 4 epochs: test accuracy" in panel.plot.value  # alt text follows the runs
    assert "Done: after 4 epochs at learning rate 0.1" in panel.status.value
    assert f"test accuracy {panel.runs[-1].test_acc[-1]:.4f}" in panel.status.value
    assert not panel.busy and not panel.train_button.disabled


def test_runs_are_kept_for_comparison(problem: LinearProblem) -> None:
    panel = make_panel(problem, runs_kept=3, background=False)
    for lr, epochs in [(0.01, 2), (0.1, 2), (0.3, 3), (0.05, 1)]:
        panel.lr_slider.value, panel.epochs_slider.value = lr, epochs
        panel.train_button.click()
    assert [run.label for run in panel.runs] == [
        "lr 0.1, 2 epochs",
        "lr 0.3, 3 epochs",
        "lr 0.05, 1 epochs",
    ]


def test_divergence_is_reported_and_the_panel_stays_usable(problem: LinearProblem) -> None:
    panel = make_panel(problem, background=False)
    panel.lr_slider.value, panel.epochs_slider.value = 10, 30
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel.train_button.click()
    run = panel.runs[-1]
    assert run.diverged_at is not None
    assert f"Diverged at epoch {run.diverged_at}</b> — the learning rate is too large" in (
        panel.status.value
    )
    assert problem.resets == 1  # before the run: the weights are left for inspection
    panel.lr_slider.value, panel.epochs_slider.value = 0.1, 3
    panel.train_button.click()
    assert panel.runs[-1].diverged_at is None and "Done" in panel.status.value


def test_a_second_click_during_a_run_is_ignored(problem: LinearProblem) -> None:
    panel = make_panel(problem)
    panel.epochs_slider.value = 3
    problem.gate = threading.Event()  # hold the run inside its first epoch
    panel.train_button.click()
    assert panel.busy and panel.train_button.disabled
    panel.train_button.click()
    assert "already going on" in panel.status.value
    panel.reset_button.click()
    assert problem.resets == 1  # only the run's own fresh start
    problem.gate.set()
    panel.wait(30)
    assert len(panel.runs) == 1 and problem.epochs_trained == 3


def test_reset_reinitialises_and_fresh_weights_can_be_turned_off(problem: LinearProblem) -> None:
    panel = make_panel(problem, background=False)
    panel.fresh_checkbox.value = False
    panel.epochs_slider.value = 2
    panel.train_button.click()
    trained = problem.w.copy()
    panel.train_button.click()  # continues from the trained weights
    assert problem.resets == 0 and not np.array_equal(problem.w, trained)
    panel.reset_button.click()
    assert problem.resets == 1 and "re-initialised" in panel.status.value


def test_slider_values_out_of_range_are_clamped(problem: LinearProblem) -> None:
    panel = make_panel(problem)
    panel.lr_slider.value = 1000
    panel.epochs_slider.value = 500
    assert panel.lr_slider.value == 10 and panel.epochs_slider.value == panel.epochs_slider.max
    panel.epochs_slider.value = -4
    assert panel.epochs_slider.value == 1


def test_panel_rejects_bad_initial_settings(problem: LinearProblem) -> None:
    with pytest.raises(ValueError, match="learning rate"):
        make_panel(problem, lr=-1.0)


def test_a_failing_training_function_is_reported_and_releases_the_panel() -> None:
    def broken(lr: float) -> tuple[float, float]:
        raise RuntimeError("out of data")

    panel = TrainingPanel(train_epoch=broken, evaluate=lambda: 0.0, reset=lambda: None,
                          background=False)  # fmt: skip
    with pytest.raises(RuntimeError):
        panel.start()
    assert "Training failed: RuntimeError: out of data" in panel.status.value
    assert not panel.busy and not panel.train_button.disabled


# --------------------------------------------------------------------------- explorer


def runs_for(lrs: list[float], problem: LinearProblem, epochs: int = 4) -> list[RunHistory]:
    runs = []
    for lr in lrs:
        problem.reset()
        runs.append(record_run(problem.train_epoch, problem.evaluate, lr, epochs))
    return runs


def test_explorer_structure_and_links(problem: LinearProblem) -> None:
    runs = runs_for([0.01, 0.1, 0.5, 10.0], problem)
    explorer = precomputed_explorer(runs, initial_lr=0.1)
    assert isinstance(explorer, ExplorerBox)
    assert explorer.lr_slider.options == ("0.01", "0.1", "0.5", "10")
    assert explorer.lr_slider.index == 1 == explorer.figure_stack.selected_index
    assert explorer.epochs_slider.options == ("1", "2", "3", "4")
    assert len(explorer.figure_stack.children) == 4
    figures = [child.value for child in explorer.figure_stack.children]
    assert all(f.startswith('<img src="data:image/png;base64,') for f in figures)
    assert all('alt="Learning curves at learning rate' in f for f in figures)
    assert len(set(figures)) == 4
    assert len(explorer.table_stack.children) == 4
    assert explorer.table_stack.selected_index == 3
    pairs = {
        ((link.source[0], link.source[1]), (link.target[0], link.target[1]))
        for link in explorer.links
    }
    assert pairs == {
        ((explorer.lr_slider, "index"), (explorer.figure_stack, "selected_index")),
        ((explorer.epochs_slider, "index"), (explorer.table_stack, "selected_index")),
    }
    # jslink (a Link widget), not traitlets' link: the links must run in the browser
    assert all(isinstance(link, Link) for link in explorer.links)
    assert explorer.children == (
        explorer.lr_slider, explorer.figure_stack, explorer.epochs_slider, explorer.table_stack
    )  # fmt: skip


def test_explorer_tables_report_each_epoch_and_divergence(problem: LinearProblem) -> None:
    runs = runs_for([0.1, 10.0], problem, epochs=400)
    diverged = runs[1]
    assert diverged.diverged_at is not None
    explorer = precomputed_explorer(runs)
    first = explorer.table_stack.children[0].value
    assert "After epoch 1:" in first and f"{runs[0].test_acc[0]:.4f}" in first
    last = explorer.table_stack.children[-1].value
    assert f"stopped at epoch {diverged.diverged_at}" in last
    at_divergence = explorer.table_stack.children[diverged.diverged_at - 1].value
    assert "infinite" in at_divergence


def test_explorer_rejects_inconsistent_runs(problem: LinearProblem) -> None:
    with pytest.raises(ValueError, match="at least one"):
        precomputed_explorer([])
    with pytest.raises(ValueError, match="increasing"):
        precomputed_explorer(runs_for([0.1, 0.01], problem))
    mixed = runs_for([0.01], problem, epochs=2) + runs_for([0.1], problem, epochs=3)
    with pytest.raises(ValueError, match="same number of epochs"):
        precomputed_explorer(mixed)
    with pytest.raises(ValueError, match="initial_lr"):
        precomputed_explorer(runs_for([0.01, 0.1], problem), initial_lr=0.5)


def test_numpy_numbers_are_accepted_and_runs_kept_is_bounded(problem: LinearProblem) -> None:
    run = record_run(problem.train_epoch, problem.evaluate, np.float32(0.1), np.int64(2))
    assert len(run.train_loss) == 2
    for bad in (0, 7):
        with pytest.raises(ValueError, match="runs_kept"):
            make_panel(problem, runs_kept=bad)


def test_a_failure_in_the_background_is_shown_escaped() -> None:
    def broken(lr: float) -> tuple[float, float]:
        raise ValueError("<b>bad</b> batch")

    panel = TrainingPanel(train_epoch=broken, evaluate=lambda: 0.0, reset=lambda: None)
    panel.train_button.click()
    panel.wait(30)
    assert panel.status.value == "Training failed: ValueError: &lt;b&gt;bad&lt;/b&gt; batch"
    assert not panel.busy and not panel.train_button.disabled
