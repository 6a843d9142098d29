"""Fashion-MNIST for the chapter: find it, download it if need be, verify it, serve minibatches.

``load_fashion_mnist`` reads the first copy that verifies: ``data_dir``, else
``$FASHION_MNIST_DIR``; else the user cache (a damaged file there is deleted), the system
copy, a download into the cache.  Read ``sources`` first (the four files, where they are
looked for, how one is read), then this module, ``download``, ``transfer`` and ``__main__``
(the command line).
"""

import contextlib
import functools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .download import fetch_fashion_mnist, keep_verified, locked, remove_parts

from .sources import (  # isort: skip
    CACHE_DIR_ENV, DATA_DIR_ENV, FILE_NAMES, FILES, MIRRORS_ENV, SYSTEM_DIRS, DataError, PathArg,
    cache_dir, check, complete_folders, find_fashion_mnist, is_integer, mirror_list,
    no_data_message, read_idx, tell,
)  # fmt: skip

__all__ = [
    "CACHE_DIR_ENV", "DATA_DIR_ENV", "FILE_NAMES", "MIRRORS_ENV", "SYSTEM_DIRS", "DataError",
    "FashionMNIST", "MinibatchIterable", "cache_dir", "fetch_fashion_mnist", "find_fashion_mnist",
    "get_fashion_mnist_labels", "load_data_fashion_mnist", "load_fashion_mnist",
]  # fmt: skip


@dataclass(frozen=True)
class FashionMNIST:
    """The data set: uint8 images ``(N, 28, 28)``, uint8 labels ``(N,)``, and their source."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    origin: str
    paths: dict[str, Path]


def load_fashion_mnist(
    data_dir: PathArg = None, *, cache: PathArg = None, download: bool = True,
    mirrors: Sequence[str] | None = None,
) -> FashionMNIST:  # fmt: skip
    """Read the first copy that verifies (see above); with ``download=False``, never download."""
    check(isinstance(download, bool), "download", "True or False", download)
    if mirrors is not None:  # the arguments are checked before any work
        mirror_list(mirrors)
    folder, attempts = cache_dir(cache) / "fashion-mnist", []
    if any(os.path.lexists(folder / f"{spec.name}.gz.part") for spec in FILES):
        with contextlib.suppress(DataError), locked(folder, wait=False):
            remove_parts(folder)  # a killed download's, even if the data is found elsewhere
    for paths, origin, explicit in complete_folders(data_dir, cache):
        try:
            return _read(paths, origin)
        except DataError as err:
            if explicit:
                raise
            attempts.append(f"{origin}: {err}")
            tell(f"Skipping the {origin}: {err}")
            if origin == "user cache":  # delete what is damaged; if that fails, still a miss
                with contextlib.suppress(DataError), locked(folder, wait=False):
                    for spec in FILES:
                        keep_verified(folder, spec)
    if not download:
        raise DataError(no_data_message(cache, [*attempts, "download: disabled (download=False)"]))
    return _read(fetch_fashion_mnist(cache=cache, mirrors=mirrors), "download")


def _read(paths: dict[str, Path], origin: str) -> FashionMNIST:
    arrays = {spec.key: read_idx(paths[spec.key], spec) for spec in FILES}
    return FashionMNIST(**arrays, origin=origin, paths=paths)


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


def _batch_size(batch_size: object) -> int:
    ok = is_integer(batch_size) and batch_size >= 1
    check(ok, "batch_size", "a positive integer such as 256", batch_size)
    return int(batch_size)


def _as_model_input(images: np.ndarray) -> np.ndarray:
    # uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) in [0, 1], d2l's layout.  Converting, then
    # scaling in place, gives exactly `images * np.float32(1 / 255)`, a fifth faster.
    X = images[:, None, :, :].astype(np.float32)
    X *= np.float32(1 / 255)
    return X


class MinibatchIterable:
    """Minibatches ``(X, y)``: float32 images ``(B, 1, 28, 28)`` and int64 labels ``(B,)``.

    The images stay uint8 (``.images``) until a batch is served.  With ``shuffle=True`` each
    iteration draws a new order from ``rng``.  The last, smaller batch is kept.
    """

    def __init__(
        self, images: np.ndarray, labels: np.ndarray, batch_size: int, *, shuffle: bool = False,
        rng: np.random.Generator | None = None,
    ) -> None:  # fmt: skip
        images, labels = np.asarray(images), np.asarray(labels)
        ok = images.ndim == 3 and images.dtype == np.uint8
        check(ok, "images", "a uint8 array shaped (N, height, width)", images)
        ok = labels.shape == (len(images),) and np.issubdtype(labels.dtype, np.integer)
        check(ok, "labels", f"{len(images)} integers, one per image", labels)
        check(isinstance(rng, np.random.Generator | None), "rng", "a NumPy Generator or None", rng)
        self.images, self.y = images, labels.astype(np.int64, copy=False)
        self.batch_size, self.shuffle = _batch_size(batch_size), shuffle
        self.rng = rng if rng is not None else np.random.default_rng()

    @functools.cached_property
    def X(self) -> np.ndarray:
        """All examples at once: float32 in [0, 1] shaped ``(N, 1, 28, 28)``."""
        return _as_model_input(self.images)

    def __len__(self) -> int:
        return -(-len(self.y) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = len(self.y)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            rows = order[start : start + self.batch_size]  # take() is faster than images[rows]
            yield _as_model_input(self.images.take(rows, axis=0)), self.y[rows]

    def __repr__(self) -> str:
        return (f"MinibatchIterable({len(self.y)} examples, batch_size={self.batch_size}, "
                f"{len(self)} batches, shuffle={self.shuffle})")  # fmt: skip


def load_data_fashion_mnist(
    batch_size: int, *, seed: int | np.random.Generator | None = None, data_dir: PathArg = None,
    cache: PathArg = None, download: bool = True, mirrors: Sequence[str] | None = None,
) -> tuple[MinibatchIterable, MinibatchIterable]:  # fmt: skip
    """Load Fashion-MNIST as d2l does: ``(train_iter, test_iter)`` of minibatches.

    ``train_iter`` shuffles every epoch with a Generator seeded by ``seed``; the other
    arguments are :func:`load_fashion_mnist`'s.
    """
    batch_size = _batch_size(batch_size)
    ok = (is_integer(seed) and seed >= 0) or isinstance(seed, np.random.Generator | None)
    check(ok, "seed", "an integer >= 0, a NumPy Generator or None", seed)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    data = load_fashion_mnist(data_dir, cache=cache, download=download, mirrors=mirrors)
    train = MinibatchIterable(
        data.train_images, data.train_labels, batch_size, shuffle=True, rng=rng
    )
    return train, MinibatchIterable(data.test_images, data.test_labels, batch_size)
