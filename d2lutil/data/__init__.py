"""Fashion-MNIST: find, download, verify, parse and batch it.

The four IDX files are looked for, in this order:

1. an explicit ``data_dir`` argument;
2. the folder named by the environment variable ``FASHION_MNIST_DIR``;
3. the user cache folder (``D2LUTIL_CACHE_DIR``, else the operating system's
   cache folder, e.g. ``~/.cache/d2lutil``), under ``fashion-mnist/``;
4. the system copy installed by Debian/Ubuntu's ``dataset-fashion-mnist``
   package (``/usr/share/datasets/fashion-mnist``);
5. a download from the canonical public locations into the cache folder.

A file is trusted for its content, not its container: the SHA-256 of the
decompressed pixel (or label) bytes must match the published data, so a
re-compressed copy of the same data (Debian's ``.gz`` headers differ from
upstream's) passes, and a corrupt, truncated or foreign file is refused with its
name in the error.  Nothing reaches the cache folder unless it has been
verified: downloads and cached arrays are written to a temporary name first
and renamed only once they check out.

Run ``python -m d2lutil.data --help`` for the command-line interface.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

__all__ = [
    "CACHE_DIR_ENV",
    "DATA_DIR_ENV",
    "FILE_NAMES",
    "MIRRORS",
    "MIRRORS_ENV",
    "SYSTEM_DIRS",
    "TEXT_LABELS",
    "CorruptDataError",
    "DataError",
    "DataNotFoundError",
    "FashionMNIST",
    "MinibatchIterable",
    "cache_dir",
    "fetch_fashion_mnist",
    "find_fashion_mnist",
    "get_fashion_mnist_labels",
    "load_data_fashion_mnist",
    "load_fashion_mnist",
]

DATA_DIR_ENV = "FASHION_MNIST_DIR"
CACHE_DIR_ENV = "D2LUTIL_CACHE_DIR"
MIRRORS_ENV = "FASHION_MNIST_MIRRORS"

#: Where the four ``.gz`` files are published, tried in this order.
MIRRORS: tuple[str, ...] = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)

#: Folders where an operating-system package puts the files.
SYSTEM_DIRS: tuple[str, ...] = ("/usr/share/datasets/fashion-mnist",)

#: The ten classes, in label order.
TEXT_LABELS: tuple[str, ...] = (
    "t-shirt", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle boot",
)  # fmt: skip


@dataclass(frozen=True)
class _IdxFile:
    """One of the four files: its name, expected shape and payload checksum."""

    key: str
    name: str
    shape: tuple[int, ...]
    sha256: str  # of the data bytes after the IDX header

    @property
    def magic(self) -> int:
        # 0x08 = unsigned byte, followed by the number of dimensions.
        return 0x0800 | len(self.shape)

    @property
    def header_size(self) -> int:
        return 4 + 4 * len(self.shape)

    @property
    def data_size(self) -> int:
        return int(np.prod(self.shape))


_FILES: tuple[_IdxFile, ...] = (
    _IdxFile(
        "train_images",
        "train-images-idx3-ubyte",
        (60000, 28, 28),
        "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
    ),
    _IdxFile(
        "train_labels",
        "train-labels-idx1-ubyte",
        (60000,),
        "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
    ),
    _IdxFile(
        "test_images",
        "t10k-images-idx3-ubyte",
        (10000, 28, 28),
        "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
    ),
    _IdxFile(
        "test_labels",
        "t10k-labels-idx1-ubyte",
        (10000,),
        "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9",
    ),
)


#: The four files as published (gzipped).
FILE_NAMES: tuple[str, ...] = tuple(f"{spec.name}.gz" for spec in _FILES)


class DataError(RuntimeError):
    """Base class of the data layer's errors."""


class DataNotFoundError(DataError, FileNotFoundError):
    """The files are nowhere to be found and could not be downloaded."""


class CorruptDataError(DataError, ValueError):
    """A file exists but is not the Fashion-MNIST data it claims to be."""


# --------------------------------------------------------------------------
# Folders
# --------------------------------------------------------------------------


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """Return the cache folder: ``path``, else ``$D2LUTIL_CACHE_DIR``, else the OS cache.

    The folder is not created here.
    """
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("d2lutil"))


def _mirrors(mirrors: Sequence[str] | None) -> tuple[str, ...]:
    if mirrors is not None:
        return tuple(mirrors)
    env = os.environ.get(MIRRORS_ENV)
    if env:
        return tuple(env.split())
    return MIRRORS


def _file_in(folder: Path, spec: _IdxFile) -> Path | None:
    """The file for ``spec`` in ``folder``: gzipped or plain, else None."""
    for candidate in (folder / f"{spec.name}.gz", folder / spec.name):
        if candidate.is_file():
            return candidate
    return None


def _paths_if_complete(folder: Path) -> dict[str, Path] | None:
    """The four files in ``folder`` if they are all there, else None."""
    found = {spec.key: _file_in(folder, spec) for spec in _FILES}
    if all(found.values()):
        return found  # type: ignore[return-value]
    return None


def _describe_missing(folder: Path) -> str:
    missing = [spec.name + ".gz" for spec in _FILES if _file_in(folder, spec) is None]
    return ", ".join(missing)


def find_fashion_mnist(
    data_dir: str | os.PathLike | None = None,
    *,
    cache: str | os.PathLike | None = None,
    system_dirs: Sequence[str | os.PathLike] = SYSTEM_DIRS,
) -> tuple[dict[str, Path], str] | None:
    """Locate the four files without downloading anything.

    Returns
    -------
    (paths, origin) or None
        ``paths`` maps ``train_images``, ``train_labels``, ``test_images`` and
        ``test_labels`` to files; ``origin`` says which rule found them.

    Raises
    ------
    DataNotFoundError
        If ``data_dir`` (or ``$FASHION_MNIST_DIR``) names a folder that lacks
        some of the files: an explicit choice is never silently ignored.
    """
    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        found = _paths_if_complete(folder)
        if found is None:
            raise DataNotFoundError(
                f"The folder {folder} given as data_dir lacks: {_describe_missing(folder)}. "
                "Put the four Fashion-MNIST files there, or leave data_dir unset to use "
                "the cache, the system copy or a download."
            )
        return found, "data_dir argument"
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        folder = Path(env).expanduser()
        found = _paths_if_complete(folder)
        if found is None:
            raise DataNotFoundError(
                f"${DATA_DIR_ENV} is {folder}, which lacks: {_describe_missing(folder)}. "
                f"Put the four Fashion-MNIST files there, or unset {DATA_DIR_ENV}."
            )
        return found, f"${DATA_DIR_ENV}"
    found = _paths_if_complete(cache_dir(cache) / "fashion-mnist")
    if found is not None:
        return found, "user cache"
    for system in system_dirs:
        found = _paths_if_complete(Path(system))
        if found is not None:
            return found, "system copy"
    return None


# --------------------------------------------------------------------------
# Parsing and verification
# --------------------------------------------------------------------------


try:
    # ISA-L (the optional `isal` package, pinned in requirements.txt) inflates
    # gzip about 1.7 times as fast as zlib, through the same interface.
    from isal import isal_zlib as _inflate
except ImportError:  # without it: the standard library's zlib
    _inflate = zlib


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw  # a plain, already decompressed IDX file
    try:
        # wbits=31: a gzip stream.  Both zlib and isal (unlike gzip.decompress)
        # release the GIL, so the four files decompress in parallel threads.
        decompressor = _inflate.decompressobj(31)
        content = decompressor.decompress(raw)
    except (zlib.error, _inflate.error) as err:
        raise CorruptDataError(f"{path} is not a valid gzip file ({err}).") from err
    if not decompressor.eof:
        raise CorruptDataError(f"{path} is truncated: its gzip stream ends early.")
    return content


def _parse_idx(content: bytes, spec: _IdxFile, path: Path) -> np.ndarray:
    """Check an IDX file's header, size and checksum; return its array (a view)."""
    hint = "Delete it and fetch the data again (python -m d2lutil.data fetch)."
    if len(content) < spec.header_size:
        raise CorruptDataError(f"{path} is too short to be an IDX file. {hint}")
    header = np.frombuffer(content, dtype=">u4", count=1 + len(spec.shape))
    magic, dims = int(header[0]), tuple(int(d) for d in header[1:])
    if magic != spec.magic:
        raise CorruptDataError(
            f"{path} has magic number {magic:#010x}, expected {spec.magic:#010x} "
            f"for {spec.name}. {hint}"
        )
    if dims != spec.shape:
        raise CorruptDataError(f"{path} has dimensions {dims}, expected {spec.shape}. {hint}")
    payload = memoryview(content)[spec.header_size :]
    if len(payload) != spec.data_size:
        raise CorruptDataError(
            f"{path} holds {len(payload)} data bytes, expected {spec.data_size} "
            f"(truncated or padded). {hint}"
        )
    if hashlib.sha256(payload).hexdigest() != spec.sha256:
        raise CorruptDataError(
            f"{path} fails its SHA-256 check: it is not the published {spec.name}. {hint}"
        )
    return np.frombuffer(content, dtype=np.uint8, offset=spec.header_size).reshape(spec.shape)


def _load_verified(path: Path, spec: _IdxFile) -> np.ndarray:
    return _parse_idx(_read_bytes(path), spec, path)


# --------------------------------------------------------------------------
# The array cache: decompressed, verified .npy files (no pickle)
# --------------------------------------------------------------------------


def _array_cache_path(cache: Path, spec: _IdxFile, source: Path) -> Path:
    # The name records which source file (path, size, mtime) the array was
    # decoded from, so a changed source is read and verified again.
    stat = source.stat()
    stamp = f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    key = hashlib.sha256(stamp.encode()).hexdigest()[:16]
    return cache / "arrays" / f"{spec.name}-{key}.npy"


def _stamp_path(array_path: Path) -> Path:
    return array_path.with_suffix(".verified.json")


def _file_stamp(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _load_cached_array(path: Path, spec: _IdxFile) -> np.ndarray | None:
    """The cached array if it is intact, else None.

    An array's SHA-256 is checked once, and a stamp of the file's size and
    modification time is kept beside it; while the stamp matches, loading skips
    the hash (a 27 ms saving on the training images).  Any change to the file
    brings the full check back.
    """
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if array.dtype != np.uint8 or array.shape != spec.shape:
        return None
    try:
        stamp = json.loads(_stamp_path(path).read_text())
    except (OSError, ValueError):
        stamp = None
    if stamp == {**_file_stamp(path), "sha256": spec.sha256}:
        return array
    if hashlib.sha256(array.data).hexdigest() != spec.sha256:
        return None
    _write_stamp(path, spec)
    return array


def _write_stamp(path: Path, spec: _IdxFile) -> None:
    stamp = json.dumps({**_file_stamp(path), "sha256": spec.sha256})
    _atomic_write(_stamp_path(path), lambda file: file.write(stamp.encode()))


def _atomic_write(path: Path, write) -> None:
    """Write through ``write(file)`` to a temporary file beside ``path``, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; give it the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _store_cached_array(path: Path, array: np.ndarray, spec: _IdxFile) -> None:
    try:
        for stale in path.parent.glob(path.name.rsplit("-", 1)[0] + "-*"):
            stale.unlink()
        _atomic_write(path, lambda file: np.save(file, array, allow_pickle=False))
        _write_stamp(path, spec)
    except OSError as err:
        # Documented fallback: without a writable cache every load is a cold load.
        warnings.warn(
            f"Could not write the array cache in {path.parent} ({err}); loading will work "
            f"but stay slow. Set {CACHE_DIR_ENV} to a writable folder to fix this.",
            stacklevel=4,
        )


def _load_one(spec: _IdxFile, source: Path, cache: Path | None) -> np.ndarray:
    if cache is None:
        return _load_verified(source, spec)
    cached = _array_cache_path(cache, spec, source)
    array = _load_cached_array(cached, spec) if cached.is_file() else None
    if array is None:
        array = _load_verified(source, spec)
        _store_cached_array(cached, array, spec)
    return array


# --------------------------------------------------------------------------
# Download
# --------------------------------------------------------------------------


def _no_data_message(cache: Path, errors: Sequence[str]) -> str:
    tried = "".join(f"\n  - {e}" for e in errors) or "\n  - (downloads were disabled)"
    return (
        "Fashion-MNIST was not found and could not be downloaded. Attempts:"
        f"{tried}\n"
        "Get the data in one of three ways:\n"
        f"  1. connect to the internet and run `python -m d2lutil.data fetch` "
        f"(it downloads into {cache / 'fashion-mnist'});\n"
        "  2. on Debian or Ubuntu, `sudo apt-get install dataset-fashion-mnist` "
        f"(installs into {SYSTEM_DIRS[0]});\n"
        f"  3. copy the four files ({', '.join(FILE_NAMES)}) into a folder and pass it "
        f"as data_dir= or set {DATA_DIR_ENV} to it."
    )


#: A staging folder older than this was left by a download that was killed.
_ABANDONED_AFTER_SECONDS = 3600


def _remove_abandoned_downloads(target: Path) -> None:
    # A killed download leaves its hidden staging folder (never anything under a
    # data file's name); clear those that no live download can still be using.
    now = time.time()
    for staging in target.glob(".download-*"):
        try:
            abandoned = now - staging.stat().st_mtime > _ABANDONED_AFTER_SECONDS
        except FileNotFoundError:  # another process has just removed it
            continue
        if abandoned:
            shutil.rmtree(staging, ignore_errors=True)


def fetch_fashion_mnist(
    *,
    cache: str | os.PathLike | None = None,
    mirrors: Sequence[str] | None = None,
    retries: int = 2,
    progressbar: bool = True,
) -> dict[str, Path]:
    """Download the four files into the cache folder, verified, and return their paths.

    Files already in the cache and intact are kept.  Each missing file is
    downloaded from the mirrors in order (``retries`` extra attempts per mirror)
    into a temporary folder, verified, and only then moved into place.

    Raises
    ------
    DataNotFoundError
        If some file could not be had from any mirror (the message lists why).
    DataError
        If the cache folder cannot be written.
    """
    import pooch  # imported late: it pulls in requests

    target = cache_dir(cache) / "fashion-mnist"
    try:
        target.mkdir(parents=True, exist_ok=True)
        _remove_abandoned_downloads(target)
        staging = Path(tempfile.mkdtemp(prefix=".download-", dir=target))
    except OSError as err:
        raise DataError(
            f"Cannot write to the cache folder {target} ({err}), so nothing can be "
            f"downloaded there. Set {CACHE_DIR_ENV} to a writable folder, or get the data "
            "without downloading: `sudo apt-get install dataset-fashion-mnist` on Debian or "
            f"Ubuntu, or copy the four files into a folder and set {DATA_DIR_ENV} to it."
        ) from err
    paths: dict[str, Path] = {}
    errors: list[str] = []
    try:
        for spec in _FILES:
            final = target / f"{spec.name}.gz"
            existing = _file_in(target, spec)
            if existing is not None:
                _load_verified(existing, spec)  # a damaged cached file is an error, not data
                paths[spec.key] = existing
                continue
            for base in _mirrors(mirrors):
                url = base.rstrip("/") + f"/{spec.name}.gz"
                fetcher = pooch.create(
                    path=staging,
                    base_url=base.rstrip("/") + "/",
                    registry={f"{spec.name}.gz": None},
                    retry_if_failed=retries,
                )
                try:
                    downloaded = Path(fetcher.fetch(f"{spec.name}.gz", progressbar=progressbar))
                    _load_verified(downloaded, spec)
                except Exception as err:
                    # Nothing from a failed attempt may linger where the next one looks.
                    for leftover in staging.iterdir():
                        leftover.unlink()
                    errors.append(f"{url}: {type(err).__name__}: {err}")
                    print(f"Could not get {url}; trying the next mirror.", file=sys.stderr)
                    continue
                os.replace(downloaded, final)
                paths[spec.key] = final
                break
            else:
                raise DataNotFoundError(_no_data_message(cache_dir(cache), errors))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return paths


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class FashionMNIST:
    """The raw data set: uint8 images ``(N, 28, 28)`` and uint8 labels ``(N,)``."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    origin: str
    paths: dict[str, Path]


def load_fashion_mnist(
    data_dir: str | os.PathLike | None = None,
    *,
    cache: str | os.PathLike | None = None,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
    system_dirs: Sequence[str | os.PathLike] = SYSTEM_DIRS,
    use_array_cache: bool = True,
) -> FashionMNIST:
    """Find (or download), verify and parse the four Fashion-MNIST files.

    Parameters
    ----------
    data_dir
        A folder holding the four files (``.gz`` or decompressed).  When given,
        it is the only place looked at.
    cache
        The cache folder; default ``$D2LUTIL_CACHE_DIR`` or the OS cache folder.
    download
        Whether to download the files when they are found nowhere.
    mirrors
        Base URLs to download from; default ``$FASHION_MNIST_MIRRORS`` or :data:`MIRRORS`.
    system_dirs
        Folders where an operating-system package installs the files.
    use_array_cache
        Keep verified, decompressed ``.npy`` copies in the cache folder so the
        next load skips decompression.

    Raises
    ------
    DataNotFoundError
        If the data is nowhere and cannot be downloaded; the message lists the
        three ways to get it.
    CorruptDataError
        If a file is damaged or not Fashion-MNIST; the message names the file.
    """
    located = find_fashion_mnist(data_dir, cache=cache, system_dirs=system_dirs)
    if located is None:
        if not download:
            raise DataNotFoundError(_no_data_message(cache_dir(cache), []))
        located = fetch_fashion_mnist(cache=cache, mirrors=mirrors), "download"
    paths, origin = located
    array_cache = cache_dir(cache) if use_array_cache else None
    with ThreadPoolExecutor(max_workers=len(_FILES)) as pool:
        futures = {
            spec.key: pool.submit(_load_one, spec, paths[spec.key], array_cache) for spec in _FILES
        }
        arrays = {key: future.result() for key, future in futures.items()}
    return FashionMNIST(**arrays, origin=origin, paths=paths)


def _check_batch_size(batch_size: object) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise ValueError(
            f"batch_size must be a positive integer, got {batch_size!r} "
            f"({type(batch_size).__name__}); for example batch_size=256."
        )
    if batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}.")
    return int(batch_size)


def _as_model_input(images: np.ndarray) -> np.ndarray:
    # (N, 28, 28) uint8 -> (N, 1, 28, 28) float32 in [0, 1], the channel-first
    # layout d2l uses.  Converting, then scaling in place, gives exactly the values
    # of `images * np.float32(1 / 255)`, about a fifth faster.
    X = images[:, None, :, :].astype(np.float32)
    X *= np.float32(1 / 255)
    return X


class MinibatchIterable:
    """Minibatches ``(X, y)`` of images and labels, re-iterable once per epoch.

    The images are kept as compact uint8 and each batch is converted to
    float32 as it is served: a batch of 256 stays in the CPU cache, and loading
    skips a 188 MB float32 copy of the training set.

    With ``shuffle=True`` each iteration visits the examples in a fresh random
    order drawn from ``rng``; otherwise in storage order.  The last batch is
    kept even when it is smaller than ``batch_size``.

    Parameters
    ----------
    images
        uint8 array ``(N, 28, 28)``.
    labels
        Integer array ``(N,)``.
    batch_size
        A positive integer.
    shuffle, rng
        Whether to shuffle each epoch, and the generator that draws the orders.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        batch_size: int,
        *,
        shuffle: bool = False,
        rng: np.random.Generator | None = None,
    ) -> None:
        images, labels = np.asarray(images), np.asarray(labels)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(
                f"images must be a uint8 array shaped (N, height, width), got {images.dtype} "
                f"{images.shape}."
            )
        if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(
                f"labels must be {len(images)} integers, one per image, got {labels.dtype} "
                f"{labels.shape}."
            )
        self.images = images
        self.y = labels.astype(np.int64, copy=False)
        self.batch_size = _check_batch_size(batch_size)
        self.shuffle = shuffle
        self.rng = rng if rng is not None else np.random.default_rng()

    @functools.cached_property
    def X(self) -> np.ndarray:
        """All examples at once: float32 in [0, 1] shaped ``(N, 1, 28, 28)``."""
        return _as_model_input(self.images)

    def __len__(self) -> int:
        return -(-len(self.y) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n, size = len(self.y), self.batch_size
        order = self.rng.permutation(n) if self.shuffle else None
        for start in range(0, n, size):
            if order is None:
                images, labels = self.images[start : start + size], self.y[start : start + size]
            else:
                batch = order[start : start + size]
                # take() gathers the same rows as self.images[batch], a little faster.
                images, labels = self.images.take(batch, axis=0), self.y[batch]
            yield _as_model_input(images), labels

    def __repr__(self) -> str:
        return (
            f"MinibatchIterable({len(self.y)} examples, batch_size={self.batch_size}, "
            f"{len(self)} batches, shuffle={self.shuffle})"
        )


def load_data_fashion_mnist(
    batch_size: int,
    *,
    seed: int | np.random.Generator | None = None,
    data_dir: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
    system_dirs: Sequence[str | os.PathLike] = SYSTEM_DIRS,
) -> tuple[MinibatchIterable, MinibatchIterable]:
    """Load Fashion-MNIST and return ``(train_iter, test_iter)``.

    ``train_iter`` shuffles with a NumPy ``Generator`` seeded by ``seed`` (a new
    order every epoch); ``test_iter`` keeps the stored order.  Each yields
    ``X`` float32 in [0, 1] shaped ``(B, 1, 28, 28)`` and ``y`` int64 shaped
    ``(B,)``; the last, smaller batch is kept.  The other keyword arguments are
    those of :func:`load_fashion_mnist`.

    Raises
    ------
    ValueError
        If ``batch_size`` is not a positive integer.
    """
    batch_size = _check_batch_size(batch_size)
    data = load_fashion_mnist(
        data_dir, cache=cache, download=download, mirrors=mirrors, system_dirs=system_dirs
    )
    if isinstance(seed, np.random.Generator):
        rng = seed
    elif seed is None or (isinstance(seed, int | np.integer) and not isinstance(seed, bool)):
        rng = np.random.default_rng(seed)
    else:
        raise ValueError(
            f"seed must be an integer, a numpy.random.Generator or None, got {seed!r}."
        )
    train_iter = MinibatchIterable(
        data.train_images, data.train_labels, batch_size, shuffle=True, rng=rng
    )
    test_iter = MinibatchIterable(data.test_images, data.test_labels, batch_size)
    return train_iter, test_iter


def get_fashion_mnist_labels(labels: Sequence[int] | np.ndarray) -> list[str]:
    """Return the text labels of numeric Fashion-MNIST labels (0-9).

    Raises
    ------
    ValueError
        If a label is not an integer from 0 to 9.
    """
    values = np.asarray(labels).ravel()
    if values.size and (
        not np.issubdtype(values.dtype, np.integer) or values.min() < 0 or values.max() > 9
    ):
        raise ValueError(f"Fashion-MNIST labels are integers from 0 to 9, got {labels!r}.")
    return [TEXT_LABELS[int(i)] for i in values]


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def _cmd_fetch(args: argparse.Namespace) -> int:
    located = find_fashion_mnist(args.data_dir, cache=args.cache)
    if located is not None:
        paths, origin = located
        print(f"Fashion-MNIST found ({origin}) in {paths['train_images'].parent}")
    else:
        paths = fetch_fashion_mnist(cache=args.cache, progressbar=not args.quiet)
        print(f"Fashion-MNIST downloaded into {paths['train_images'].parent}")
    data = load_fashion_mnist(args.data_dir, cache=args.cache)  # verifies and warms the cache
    print(f"verified: {len(data.train_labels)} training and {len(data.test_labels)} test images")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    located = find_fashion_mnist(args.data_dir, cache=args.cache)
    if located is None:
        raise DataNotFoundError(_no_data_message(cache_dir(args.cache), []))
    paths, origin = located
    print(f"Checking the copy found by the {origin} rule:")
    for spec in _FILES:
        array = _load_verified(paths[spec.key], spec)
        print(f"  ok  {paths[spec.key]}  {array.shape}")
    return 0


def _cmd_where(args: argparse.Namespace) -> int:
    located = find_fashion_mnist(args.data_dir, cache=args.cache)
    report = {
        "found": located is not None,
        "origin": located[1] if located else None,
        "files": {k: str(v) for k, v in located[0].items()} if located else None,
        "cache_dir": str(cache_dir(args.cache)),
        "search_order": [
            "data_dir argument",
            f"${DATA_DIR_ENV} = {os.environ.get(DATA_DIR_ENV, '(unset)')}",
            f"user cache: {cache_dir(args.cache) / 'fashion-mnist'}",
            *(f"system copy: {d}" for d in SYSTEM_DIRS),
            *(f"download: {m}" for m in _mirrors(None)),
        ],
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"found: {report['origin'] or 'nowhere yet'}")
        for key, path in (report["files"] or {}).items():
            print(f"  {key:13s} {path}")
        print("search order:")
        for i, place in enumerate(report["search_order"], 1):
            print(f"  {i}. {place}")
    return 0 if located else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m d2lutil.data``."""
    parser = argparse.ArgumentParser(
        prog="python -m d2lutil.data",
        description="Get, check and locate the Fashion-MNIST data.",
    )
    parser.add_argument("--data-dir", help="a folder that holds the four files")
    parser.add_argument("--cache", help=f"the cache folder (default ${CACHE_DIR_ENV} or the OS's)")
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch", help="find or download the data, verify it, warm the cache")
    fetch.add_argument("--quiet", action="store_true", help="no progress bar")
    fetch.set_defaults(run=_cmd_fetch)
    sub.add_parser("verify", help="check every file's header and SHA-256").set_defaults(
        run=_cmd_verify
    )
    where = sub.add_parser("where", help="show where the data is and the search order")
    where.add_argument("--json", action="store_true", help="print JSON")
    where.set_defaults(run=_cmd_where)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
