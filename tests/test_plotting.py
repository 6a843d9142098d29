"""The plotting helpers draw what they are given and refuse what they cannot draw."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib.pyplot as plt
import numpy as np
import pytest

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
    animator = Animator(xlabel="epoch", legend=["loss", "acc"])
    for epoch in range(1, 4):
        animator.add(epoch, (1 / epoch, 0.5 + epoch / 10))
    assert animator.X == [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    assert animator.Y[0] == [1.0, 0.5, 1 / 3]
    lines = animator.axes.get_lines()
    assert len(lines) == 2
    np.testing.assert_allclose(lines[1].get_ydata(), [0.6, 0.7, 0.8])
    assert [t.get_text() for t in animator.axes.get_legend().get_texts()] == ["loss", "acc"]
    low, high = animator.axes.get_ylim()  # rescaled to the data, no limits given
    assert low <= 1 / 3 and high >= 1.0
    assert plt.get_fignums() == []  # never shown twice by the inline backend


def test_animator_keeps_given_limits_and_rejects_ragged_points() -> None:
    animator = Animator(xlim=(1, 10), ylim=(0.3, 0.9))
    animator.add(1, (0.5, 0.6, 0.7))
    assert animator.axes.get_xlim() == (1, 10) and animator.axes.get_ylim() == (0.3, 0.9)
    with pytest.raises(ValueError, match="Expected 3 values"):
        animator.add(2, (0.5, 0.6))


def test_confusion_matrix_shows_every_count() -> None:
    matrix = np.array([[5, 1], [2, 7]])
    ax = plot_confusion_matrix(matrix, ["cat", "dog"])
    assert sorted(t.get_text() for t in ax.texts) == ["1", "2", "5", "7"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog"]
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(np.zeros((2, 3)), ["a", "b"])


def test_animator_rejects_mismatched_x_values_and_legends() -> None:
    with pytest.raises(ValueError, match="2 x values for 3 y values"):
        Animator().add([1, 2], (0.1, 0.2, 0.3))
    with pytest.raises(ValueError, match="legend names 2 curves"):
        Animator(legend=["loss", "acc"]).add(1, (0.1, 0.2, 0.3))
