"""Fashion-MNIST for the chapter: find it, download it if need be, verify it, serve minibatches.

``load_fashion_mnist`` reads the first copy that verifies, in this order: ``data_dir``, else
``$FASHION_MNIST_DIR``; the user cache; the system copy; else a download into the cache.
The modules: ``sources`` (the file table, where to look), ``idx`` (reading and verifying a
file), ``download`` (filling the cache), ``batches`` (minibatches) and ``__main__`` (the CLI).
"""

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .batches import TEXT_LABELS, MinibatchIterable, check_batch_size, get_fashion_mnist_labels
from .download import fetch_fashion_mnist, keep_verified, locked
from .idx import read_idx

from .sources import (  # isort: skip
    CACHE_DIR_ENV, DATA_DIR_ENV, FILE_NAMES, FILES, MIRRORS, MIRRORS_ENV, SYSTEM_DIRS, DataError,
    PathArg, cache_dir, complete_folders, find_fashion_mnist, mirror_list, no_data_message, tell,
)  # fmt: skip

__all__ = [
    "CACHE_DIR_ENV", "DATA_DIR_ENV", "FILE_NAMES", "MIRRORS", "MIRRORS_ENV", "SYSTEM_DIRS",
    "TEXT_LABELS", "DataError", "FashionMNIST", "MinibatchIterable", "cache_dir",
    "fetch_fashion_mnist", "find_fashion_mnist", "get_fashion_mnist_labels",
    "load_data_fashion_mnist", "load_fashion_mnist", "main",
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
    """Read the first copy that verifies (see above); with ``download=False``, never download.

    Every load checks the SHA-256 of what it serves.  A damaged file in an explicit folder
    is an error; one in the cache is deleted and the next source used.
    """
    mirrors, attempts = mirror_list(mirrors), []
    cache_dir(cache)  # the arguments are checked before any work
    for paths, origin, explicit in complete_folders(data_dir, cache):
        try:
            return FashionMNIST(**_read_all(paths), origin=origin, paths=paths)
        except DataError as err:
            if explicit:
                raise
            attempts.append(f"{origin}: {err}")
            tell(f"Skipping the {origin}: {err}")
            folder = paths["train_images"].parent
            if origin == "user cache":  # delete what is damaged; if that fails, still a miss
                with contextlib.suppress(DataError, OSError), locked(folder):
                    for spec in FILES:
                        keep_verified(folder, spec)
    if not download:
        raise DataError(no_data_message(cache, [*attempts, "download: disabled (download=False)"]))
    paths = fetch_fashion_mnist(cache=cache, mirrors=mirrors)
    return FashionMNIST(**_read_all(paths), origin="download", paths=paths)


def _read_all(paths: dict[str, Path]) -> dict[str, np.ndarray]:
    return {spec.key: read_idx(paths[spec.key], spec) for spec in FILES}


def load_data_fashion_mnist(
    batch_size: int, *, seed: int | np.random.Generator | None = None, data_dir: PathArg = None,
    cache: PathArg = None, download: bool = True, mirrors: Sequence[str] | None = None,
) -> tuple[MinibatchIterable, MinibatchIterable]:  # fmt: skip
    """Load Fashion-MNIST as d2l does: ``(train_iter, test_iter)`` of minibatches.

    ``train_iter`` shuffles every epoch with a NumPy Generator seeded by ``seed``;
    ``test_iter`` keeps the stored order.  The other arguments: :func:`load_fashion_mnist`.
    """
    batch_size = check_batch_size(batch_size)
    if isinstance(seed, bool) or not isinstance(
        seed, int | np.integer | np.random.Generator | None
    ):
        raise ValueError(f"seed must be an integer, a NumPy Generator or None, got {seed!r}.")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    data = load_fashion_mnist(data_dir, cache=cache, download=download, mirrors=mirrors)
    train = MinibatchIterable(
        data.train_images, data.train_labels, batch_size, shuffle=True, rng=rng
    )
    return train, MinibatchIterable(data.test_images, data.test_labels, batch_size)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m d2lutil.data``: get, check and locate the data (see ``--help``)."""
    from .__main__ import main  # imported when used: ``python -m`` runs that module itself

    return main(argv)
