"""The plotting helpers draw what they are given and refuse what they cannot draw."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib.pyplot as plt
import numpy as np
import pytest

from d2lutil import plotting
from d2lutil.plotting import Animator, plot_confusion_matrix, show_images


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def test_show_images_fills_the_grid_with_titles() -> None:
    images = np.random.default_rng(0).random((5, 1, 28, 28))
    axes = show_images(images, 2, 3, titles=["a", "b", "c", "d", "e"])
    assert axes.shape == (6,)
    assert [ax.get_title() for ax in axes[:5]] == ["a", "b", "c", "d", "e"]
    assert [len(ax.images) for ax in axes] == [1, 1, 1, 1, 1, 0]  # the sixth cell stays empty
    np.testing.assert_array_equal(axes[0].images[0].get_array(), images[0, 0])


def test_show_images_passes_the_colour_range() -> None:
    weights = np.random.default_rng(1).normal(size=(2, 28, 28))
    axes = show_images(weights, 1, 2, cmap="RdBu_r", vmin=-3, vmax=3)
    assert axes[0].images[0].get_clim() == (-3, 3)
    assert axes[0].images[0].get_cmap().name == "RdBu_r"


def test_show_images_rejects_a_bad_grid_or_too_few_titles() -> None:
    images = np.zeros((4, 28, 28))
    with pytest.raises(ValueError, match="positive"):
        show_images(images, 0, 2)
    with pytest.raises(ValueError, match="titles"):
        show_images(images, 2, 2, titles=["only one"])


def test_animator_collects_points_and_keeps_one_figure() -> None:
    animator = Animator(xlabel="epoch", legend=["loss", "acc"])  # d2l's one-panel use
    for epoch in range(1, 4):
        animator.add(epoch, (1 / epoch, 0.5 + epoch / 10))
    (ax,) = animator.axes
    assert ax.get_lines() == animator.lines and len(animator.lines) == 2
    np.testing.assert_allclose(animator.lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(animator.lines[0].get_ydata(), [1, 0.5, 1 / 3])
    np.testing.assert_allclose(animator.lines[1].get_ydata(), [0.6, 0.7, 0.8])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["loss", "acc"]
    low, high = ax.get_ylim()  # rescaled to the data, no limits given
    assert low <= 1 / 3 and high >= 1.0
    assert plt.get_fignums() == []  # never shown twice by the inline backend


def test_animator_keeps_given_limits_and_rejects_ragged_points() -> None:
    animator = Animator(xlim=(1, 10), ylim=(0.3, 0.9))
    animator.add(1, (0.5, 0.6, 0.7))
    assert animator.axes[0].get_xlim() == (1, 10) and animator.axes[0].get_ylim() == (0.3, 0.9)
    with pytest.raises(ValueError, match="Expected 3 values"):
        animator.add(2, (0.5, 0.6))
    single = Animator()
    single.add(1, 0.25)  # one number, one line
    assert len(single.lines) == 1


def test_animator_puts_each_line_on_its_panel_with_its_limits() -> None:
    animator = Animator(
        xlabel="epoch",
        ylabel=("loss", "accuracy"),
        legend=("train loss", "train acc", "test acc"),
        axis_of=(0, 1, 1),
        xlim=(1, 5),
        ylim=(None, (0.7, 0.9)),
    )
    for epoch, point in enumerate([(0.8, 0.74, 0.78), (0.5, 0.82, 0.81)], start=1):
        animator.add(epoch, point)
    loss_ax, acc_ax = animator.axes
    assert (loss_ax.get_ylabel(), acc_ax.get_ylabel()) == ("loss", "accuracy")
    assert [len(loss_ax.lines), len(acc_ax.lines)] == [1, 2]
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["train loss"]
    assert [t.get_text() for t in acc_ax.get_legend().get_texts()] == ["train acc", "test acc"]
    np.testing.assert_allclose(acc_ax.lines[1].get_ydata(), [0.78, 0.81])  # test acc, in order
    assert acc_ax.get_ylim() == (0.7, 0.9)  # fixed
    low, high = loss_ax.get_ylim()  # follows the losses
    assert low <= 0.5 and high >= 0.8
    assert loss_ax.get_xlim() == acc_ax.get_xlim() == (1, 5)
    width, _ = animator.fig.get_size_inches()
    assert width > Animator().fig.get_size_inches()[0]  # two panels, a wider figure


def test_animator_rejects_inconsistent_panels_before_drawing() -> None:
    with pytest.raises(ValueError, match="axis_of places 2 lines, legend names 3"):
        Animator(ylabel=("loss", "acc"), legend=("a", "b", "c"), axis_of=(0, 1))
    with pytest.raises(ValueError, match="axis_of must hold panels 0 to 1"):
        Animator(ylabel=("loss", "acc"), axis_of=(0, 2))
    with pytest.raises(ValueError, match="axis_of must hold panels 0 to 0"):
        Animator(ylabel="loss", axis_of=(0, -1))
    with pytest.raises(ValueError, match=r"ylim needs one pair, or one per panel \(2\)"):
        Animator(ylabel=("loss", "acc"), ylim=((0, 1), (0, 1), (0, 1)))
    with pytest.raises(ValueError, match=r"ylim needs one pair, or one per panel \(1\)"):
        Animator(ylabel="loss", ylim=(None, (0.7, 0.9)))
    with pytest.raises(ValueError, match="axis_of names 2 lines, the point 3"):
        Animator(ylabel=("loss", "acc"), axis_of=(0, 1)).add(1, (0.1, 0.2, 0.3))


def test_animator_shows_its_figure_once_and_then_updates_it_in_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shown: list[object] = []

    class Handle:
        def update(self, figure: object) -> None:
            shown.append(("update", figure))

    def fake_display(figure: object, display_id: bool) -> Handle:
        shown.append(("display", figure))
        return Handle()

    monkeypatch.setattr(plotting, "get_ipython", lambda: object())  # as in a notebook
    monkeypatch.setattr(plotting, "display", fake_display)
    animator = Animator(legend=["loss"])
    for epoch in range(1, 4):
        animator.add(epoch, 1 / epoch)
    assert shown == [("display", animator.fig), ("update", animator.fig), ("update", animator.fig)]


def test_confusion_matrix_shows_every_count() -> None:
    matrix = np.array([[5, 1], [2, 7]])
    ax = plot_confusion_matrix(matrix, ["cat", "dog"])
    assert sorted(t.get_text() for t in ax.texts) == ["1", "2", "5", "7"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog"]
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(np.zeros((2, 3)), ["a", "b"])


def test_animator_rejects_a_point_that_does_not_fit_the_legend() -> None:
    with pytest.raises(ValueError, match="legend or axis_of names 2 lines, the point 3"):
        Animator(legend=["loss", "acc"]).add(1, (0.1, 0.2, 0.3))
