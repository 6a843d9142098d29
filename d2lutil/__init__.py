"""Helpers for the softmax-regression chapter: data, plotting and widgets.

Only what the chapter does not teach lives here; the model, the loss, the
gradients and the training loop are written in the chapter itself.
"""

from d2lutil.data import (
    MinibatchIterable,
    get_fashion_mnist_labels,
    load_data_fashion_mnist,
    load_fashion_mnist,
)

__all__ = [
    "MinibatchIterable",
    "get_fashion_mnist_labels",
    "load_data_fashion_mnist",
    "load_fashion_mnist",
]
__version__ = "0.1.0"
