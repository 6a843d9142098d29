"""Fashion-MNIST, in the order the data flows: where the files may be, fetching what is missing,
reading and verifying a file, minibatches.  A file: bytes 0 0 8 D, D big-endian uint32 sizes,
then one byte per value; gzipped."""

import contextlib
import gzip
import hashlib
import http.client
import os
import ssl
import sys
import tempfile
import time
import urllib.request
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import numpy as np
import platformdirs

# Each file: its name, its array's shape, and the SHA-256 of its values (after the header).
FILES = {
    "train_images": ("train-images-idx3-ubyte", (60000, 28, 28),
                     "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012"),
    "train_labels": ("train-labels-idx1-ubyte", (60000,),
                     "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7"),
    "test_images": ("t10k-images-idx3-ubyte", (10000, 28, 28),
                    "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a"),
    "test_labels": ("t10k-labels-idx1-ubyte", (10000,),
                    "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9"),
}  # fmt: skip
FILE_NAMES = tuple(f"{name}.gz" for name, _, _ in FILES.values())  # as published
# The largest an honest .gz file can be: deflate adds less than 0.1 %.
MAX_SIZES = {key: 1024 + int(np.prod(shape)) * 101 // 100 for key, (_, shape, _) in FILES.items()}
DATA_DIR_ENV, CACHE_DIR_ENV = "FASHION_MNIST_DIR", "D2LUTIL_CACHE_DIR"
MIRRORS_ENV = "FASHION_MNIST_MIRRORS"  # space-separated base URLs, tried in order
SYSTEM_DIRS = ("/usr/share/datasets/fashion-mnist",)  # Debian's dataset-fashion-mnist
MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
# Download limits: seconds per socket operation, per file; bytes/s once GRACE s have passed.
TIMEOUT, DEADLINE, MIN_SPEED, GRACE = 30.0, 900.0, 30_000.0, 15.0
Folder = str | os.PathLike | None


class DataError(RuntimeError):
    """The data layer's one error: what failed, for which file, and what to do."""


def check(ok: object, what: str, should: str, value: object) -> None:
    """Unless ``ok``, raise ``ValueError("WHAT must be SHOULD, got VALUE.")``."""
    if not ok:
        raise ValueError(f"{what} must be {should}, got {value!r}.")


# 1. Where the files may be ------------------------------------------------------------------
def search_order(data_dir: Folder = None) -> list[tuple[str, Path]]:
    """``(origin, folder)`` to look in: the folder you name alone, else Debian's, then the cache."""
    if data_dir is not None:
        return [("data_dir argument", folder_path(data_dir, "data_dir"))]
    if os.environ.get(DATA_DIR_ENV):
        return [(f"${DATA_DIR_ENV}", folder_path(os.environ[DATA_DIR_ENV], f"${DATA_DIR_ENV}"))]
    system = [("system copy", Path(path)) for path in SYSTEM_DIRS]
    return [*system, ("user cache", cache_dir() / "fashion-mnist")]


def cache_dir() -> Path:
    """The cache folder: ``$D2LUTIL_CACHE_DIR``, else the system's user cache."""
    if os.environ.get(CACHE_DIR_ENV):
        return folder_path(os.environ[CACHE_DIR_ENV], f"${CACHE_DIR_ENV}")
    return Path(platformdirs.user_cache_dir("d2lutil"))


def folder_path(value: object, what: str) -> Path:
    """``value`` as a folder path; one from an environment variable (``$...``) must be absolute."""
    path = os.path.expanduser(value) if isinstance(value, str | os.PathLike) else None
    ok = isinstance(path, str) and "\0" not in path and (what[0] != "$" or os.path.isabs(path))
    check(ok and path.strip(), what, "an absolute path" if what[0] == "$" else "a path", value)
    return Path(path)


def mirror_list() -> list[str]:
    """The base URLs to download from, in order: ``$FASHION_MNIST_MIRRORS``, else MIRRORS."""
    mirrors = os.environ.get(MIRRORS_ENV, "").split() or MIRRORS
    for url in mirrors:  # not shown: a URL may hold a password, which may hold any character
        try:
            parts = urlsplit(url)
            ok = "@" not in url and parts.scheme in ("http", "https") and parts.hostname
        except ValueError:  # urlsplit refuses some malformed URLs, such as http://[::1/
            ok = False
        check(ok, f"${MIRRORS_ENV}", "http(s) URLs, each with a host and no @", "(not shown)")
    return list(mirrors)


# 2. Fetch what is missing -------------------------------------------------------------------
def fetch(path: Path, key: str) -> np.ndarray:
    """The array in ``path``, else in the first mirror's copy that verifies, which replaces it."""
    with contextlib.suppress(DataError):  # missing or damaged: replaced, never deleted
        return read_idx(path, key)
    attempts = []
    for url in [f"{base.rstrip('/')}/{path.name}" for base in mirror_list()]:
        temporary = None  # each download has a file of its own: no lock is needed
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(".part", f".{path.name}.", path.parent)
            with open(descriptor, "wb") as file:
                file.writelines(url_chunks(url, MAX_SIZES[key]))
            array = read_idx(Path(temporary), key)
            os.chmod(temporary, 0o644)  # mkstemp's 0o600 would keep others sharing the cache out
            os.replace(temporary, path)  # atomic: a reader sees the old file or the new
            return array
        except DataError as err:
            attempts.append(f"{url}: {err}")
            say(f"Could not get {url} ({err}); trying the next mirror.")
        except OSError as err:  # the local disk's: the network's are DataErrors
            tip = f"free some space if the disk is full, or set {CACHE_DIR_ENV} to another folder"
            raise DataError(f"Cannot write {path}: {err.strerror}; {tip}.") from err
        finally:
            if temporary and os.path.lexists(temporary):
                os.unlink(temporary)
    raise DataError(no_data_message(attempts))


class SafeRedirects(urllib.request.HTTPRedirectHandler):
    """Follow up to 10 redirects (urllib's limit), to https or the same URL scheme and host."""

    def redirect_request(self, req: Any, fp: Any, *args: Any) -> Any:  # args[-1]: the new URL
        fp.close()  # unread: urllib would read the body into memory
        old, new = urlsplit(req.full_url), urlsplit(args[-1])
        if "@" in new.netloc or not (new.scheme == "https" or new[:2] == old[:2]):
            raise DataError("it redirects to neither https nor its own scheme and host")
        return super().redirect_request(req, fp, *args)


def url_chunks(url: str, limit: int) -> Iterator[bytes]:
    """The body of ``url`` in chunks, at most ``limit`` bytes, in time; any failure a DataError."""
    import certifi  # here: a browser's Python, which cannot download anyway, may lack it

    tls = ssl.create_default_context(cafile=certifi.where())
    # build_opener adds a ProxyHandler, which reads http_proxy, https_proxy and no_proxy.
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=tls), SafeRedirects)
    start, received = time.monotonic(), 0
    try:
        with opener.open(url, timeout=TIMEOUT) as response:
            if "chunked" in response.getheader("Transfer-Encoding", "").lower():  # see the README
                raise DataError("it sends its body in chunks, whose framing no limit can time")
            say(f"Downloading {url}")
            while chunk := response.read1(1 << 16):  # what has arrived, up to 64 kB
                received, elapsed = received + len(chunk), time.monotonic() - start
                if received > limit:
                    raise DataError(f"it sent more than {limit:,} bytes")
                if elapsed > DEADLINE:
                    raise DataError(f"it took more than {DEADLINE:g} s")
                if elapsed > GRACE and received < MIN_SPEED * elapsed:
                    raise DataError(f"too slow: under {MIN_SPEED:,.0f} bytes/s")
                yield chunk  # the caller writes it: a full disk is its error, not the network's
    except (OSError, ValueError, http.client.HTTPException) as err:  # HTTPError: body unread
        text = f"{type(err).__name__}: {getattr(err, 'code', '')} {getattr(err, 'reason', err)}"
        raise DataError("".join(c if c.isprintable() else "?" for c in text[:200])) from None


def no_data_message(attempts: Sequence[str]) -> str:
    """What was tried, and the three ways to get the data."""
    tried = "".join(f"\n  - {attempt}" for attempt in attempts)
    return (
        f"Fashion-MNIST was not found and could not be downloaded. Attempts:{tried}\n"
        "Get the data in one of three ways:\n  1. on a machine with internet access, run "
        f"`python -m d2lutil.data fetch` (it downloads into {cache_dir() / 'fashion-mnist'});"
        "\n  2. on Debian or Ubuntu, `sudo apt-get install dataset-fashion-mnist`;\n  3. copy the"
        f" four files ({', '.join(FILE_NAMES)}) into a folder and set {DATA_DIR_ENV} to it."
    )


def say(message: str) -> None:
    """Print a note on stderr, if there is one (``2>&-`` and pythonw make it None)."""
    with contextlib.suppress(AttributeError, OSError, ValueError):  # only the note is lost
        print(message.encode(errors="backslashreplace").decode(), file=sys.stderr, flush=True)


# 3. Read and verify: a file, then the data set ---------------------------------------------
def read_idx(path: Path, key: str) -> np.ndarray:
    """The array in the gzipped IDX file ``path``, once its header and SHA-256 check out."""
    name, shape, sha256 = FILES[key]
    header = bytes([0, 0, 8, len(shape)]) + b"".join(n.to_bytes(4, "big") for n in shape)
    size = len(header) + int(np.prod(shape))
    try:  # O_NONBLOCK: a named pipe put in the file's place cannot block the open
        with open(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as file:
            if os.fstat(file.fileno()).st_size > MAX_SIZES[key]:  # a read would take hours
                raise DataError(f"{path} is larger than any copy of {name}.")
            content = gzip.GzipFile(fileobj=file).read(size + 1)  # reads every gzip member
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"Cannot read {path}: {getattr(err, 'strerror', 0) or err}.") from err
    if content[: len(header)] != header or len(content) != size:
        raise DataError(f"{path} is not {name}: its header or its size differs.")
    if hashlib.sha256(memoryview(content)[len(header) :]).hexdigest() != sha256:
        raise DataError(f"{path} fails its SHA-256 check: it is not the published {name}.")
    return np.frombuffer(content, np.uint8, offset=len(header)).reshape(shape)


class FashionMNIST(NamedTuple):
    """The data set: uint8 images ``(N, 28, 28)``, uint8 labels ``(N,)``, and their source."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    origin: str
    paths: dict[str, Path]


def load_fashion_mnist(data_dir: Folder = None, *, download: bool = True) -> FashionMNIST:
    """The first copy in ``search_order`` that verifies, else (``download``) one fetched."""
    check(isinstance(download, bool), "download", "True or False", download)
    attempts = []
    for origin, folder in search_order(data_dir):  # the cache comes last
        paths = {key: folder / name for key, name in zip(FILES, FILE_NAMES, strict=True)}
        try:
            return FashionMNIST(*[read_idx(p, k) for k, p in paths.items()], origin, paths)
        except DataError as err:
            if origin not in ("system copy", "user cache"):  # a folder you named
                raise
            attempts.append(f"{origin}: {err}")
    if not download:
        raise DataError(no_data_message([*attempts, "download: disabled (download=False)"]))
    return FashionMNIST(*[fetch(p, k) for k, p in paths.items()], "download", paths)


# 4. Minibatches ----------------------------------------------------------------------------
def is_count(value: object, least: int = 1) -> bool:
    """Whether ``value`` is a Python or NumPy integer >= ``least`` (a bool is not)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= least


class MinibatchIterable:
    """Minibatches ``(X, y)``: float32 images ``(B, 1, H, W)`` in [0, 1], int64 labels."""

    def __init__(
        self, images: Any, labels: Any, batch_size: int, *, shuffle: bool = False, rng: Any = None
    ) -> None:
        images, labels = np.asarray(images), np.asarray(labels)
        check(images.ndim == 3 and images.dtype == np.uint8, "images", "uint8 (N, H, W)", images)
        check(labels.shape == (len(images),), "labels", f"{len(images)} labels", labels)
        check(is_count(batch_size), "batch_size", "a positive integer such as 256", batch_size)
        self.images, self.y = images, labels.astype(np.int64, copy=False)
        self.batch_size, self.shuffle = int(batch_size), shuffle
        self.rng = np.random.default_rng(rng)  # a Generator is used as it is

    def __len__(self) -> int:
        return -(-len(self.y) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        order = self.rng.permutation(len(self.y)) if self.shuffle else np.arange(len(self.y))
        for start in range(0, len(self.y), self.batch_size):
            rows = order[start : start + self.batch_size]
            X = self.images.take(rows, axis=0)[:, None].astype(np.float32)  # faster than [rows]
            X *= np.float32(1 / 255)  # in place: exactly images * np.float32(1 / 255), faster
            yield X, self.y[rows]


def load_data_fashion_mnist(
    batch_size: int, *, seed: int | None = None, **options: Any
) -> tuple[MinibatchIterable, MinibatchIterable]:
    """``(train_iter, test_iter)`` as d2l's; ``train_iter`` shuffles each epoch, from ``seed``."""
    check(is_count(batch_size), "batch_size", "a positive integer such as 256", batch_size)
    check(seed is None or is_count(seed, 0), "seed", "an integer >= 0 or None", seed)
    train_images, train_labels, test_images, test_labels, *_ = load_fashion_mnist(**options)
    train = MinibatchIterable(train_images, train_labels, batch_size, shuffle=True, rng=seed)
    return train, MinibatchIterable(test_images, test_labels, batch_size)
