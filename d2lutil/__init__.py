"""Helpers for the softmax-regression chapter: data, plotting and widgets. The model, the loss,
the gradients and the training loop are not here: the chapter writes them out."""

from d2lutil.data import MinibatchIterable, load_data_fashion_mnist, load_fashion_mnist
from d2lutil.plotting import Animator, get_fashion_mnist_labels, plot_confusion_matrix, show_images
from d2lutil.widgets import RunHistory, TrainingPanel, precomputed_explorer, record_run

__all__ = [
    "Animator",
    "MinibatchIterable",
    "RunHistory",
    "TrainingPanel",
    "get_fashion_mnist_labels",
    "load_data_fashion_mnist",
    "load_fashion_mnist",
    "plot_confusion_matrix",
    "precomputed_explorer",
    "record_run",
    "show_images",
]
__version__ = "0.1.0"
