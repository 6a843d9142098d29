"""Minibatches of images as float32, and the names of the labels."""

import functools
from collections.abc import Iterator, Sequence

import numpy as np

#: The ten classes, in label order.
TEXT_LABELS: tuple[str, ...] = (
    "t-shirt", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle boot",
)  # fmt: skip


def get_fashion_mnist_labels(labels: Sequence[int] | np.ndarray) -> list[str]:
    """The text labels of numeric Fashion-MNIST labels (integers from 0 to 9)."""
    values = np.asarray(labels).ravel()
    integers = np.issubdtype(values.dtype, np.integer)
    if values.size and not (integers and values.min() >= 0 and values.max() <= 9):
        raise ValueError(f"Fashion-MNIST labels are integers from 0 to 9, got {labels!r}.")
    return [TEXT_LABELS[int(i)] for i in values]


def check_batch_size(batch_size: object) -> int:
    integer = isinstance(batch_size, int | np.integer) and not isinstance(batch_size, bool)
    if not integer or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer such as 256, got {batch_size!r}.")
    return int(batch_size)


def _as_model_input(images: np.ndarray) -> np.ndarray:
    # uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) in [0, 1], d2l's layout.  Converting, then
    # scaling in place, gives exactly `images * np.float32(1 / 255)`, a fifth faster.
    X = images[:, None, :, :].astype(np.float32)
    X *= np.float32(1 / 255)
    return X


class MinibatchIterable:
    """Minibatches ``(X, y)``: float32 images ``(B, 1, 28, 28)`` and int64 labels ``(B,)``.

    The images stay uint8 (``.images``); each batch is converted as it is served.  With
    ``shuffle=True`` every iteration draws a new order from the Generator ``rng``; otherwise
    the stored order.  The last, smaller batch is kept.
    """

    def __init__(
        self, images: np.ndarray, labels: np.ndarray, batch_size: int, *, shuffle: bool = False,
        rng: np.random.Generator | None = None,
    ) -> None:  # fmt: skip
        images, labels = np.asarray(images), np.asarray(labels)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"images must be a uint8 array shaped (N, height, width), got "
                             f"{images.dtype} {images.shape}.")  # fmt: skip
        if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be {len(images)} integers, one per image, got "
                             f"{labels.dtype} {labels.shape}.")  # fmt: skip
        if not isinstance(rng, np.random.Generator | None):
            raise ValueError(f"rng must be a NumPy Generator or None, got {rng!r}.")
        self.images, self.y = images, labels.astype(np.int64, copy=False)
        self.batch_size, self.shuffle = check_batch_size(batch_size), shuffle
        self.rng = rng if rng is not None else np.random.default_rng()

    @functools.cached_property
    def X(self) -> np.ndarray:
        """All examples at once: float32 in [0, 1] shaped ``(N, 1, 28, 28)``."""
        return _as_model_input(self.images)

    def __len__(self) -> int:
        return -(-len(self.y) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        order = self.rng.permutation(len(self.y)) if self.shuffle else None
        for start in range(0, len(self.y), self.batch_size):
            if order is None:
                batch = slice(start, start + self.batch_size)
                yield _as_model_input(self.images[batch]), self.y[batch]
            else:  # take() gathers the same rows as images[batch], a little faster
                batch = order[start : start + self.batch_size]
                yield _as_model_input(self.images.take(batch, axis=0)), self.y[batch]

    def __repr__(self) -> str:
        return (f"MinibatchIterable({len(self.y)} examples, batch_size={self.batch_size}, "
                f"{len(self)} batches, shuffle={self.shuffle})")  # fmt: skip
