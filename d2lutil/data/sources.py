"""The four files: what they hold, where they are looked for, and how one is read.

An IDX file is the bytes ``0 0 8 D``, then each of its D dimensions as a big-endian uint32,
then the values, one byte each.  Fashion-MNIST publishes its four files gzipped.
"""

import hashlib
import math
import os
import re
import stat
import sys
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import numpy as np
import platformdirs

try:  # ISA-L (the optional `isal` package) inflates about 1.7 times as fast as zlib
    from isal import isal_zlib as _zlib
except ImportError:
    _zlib = zlib

DATA_DIR_ENV = "FASHION_MNIST_DIR"
CACHE_DIR_ENV = "D2LUTIL_CACHE_DIR"
MIRRORS_ENV = "FASHION_MNIST_MIRRORS"
#: Where Debian/Ubuntu's package ``dataset-fashion-mnist`` installs the files.
SYSTEM_DIRS: tuple[str, ...] = ("/usr/share/datasets/fashion-mnist",)
#: Where the four ``.gz`` files are published, tried in this order.
MIRRORS: tuple[str, ...] = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
PathArg = str | os.PathLike | None
MAX_MEMBERS = 16  #: gzip members a file may have (``cat a.gz b.gz`` makes two)


class IdxFile(NamedTuple):
    """One file: its key, name, array shape and the SHA-256 of its decompressed data."""

    key: str
    name: str
    shape: tuple[int, ...]
    sha256: str


FILES: tuple[IdxFile, ...] = (
    IdxFile("train_images", "train-images-idx3-ubyte", (60000, 28, 28),
            "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012"),
    IdxFile("train_labels", "train-labels-idx1-ubyte", (60000,),
            "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7"),
    IdxFile("test_images", "t10k-images-idx3-ubyte", (10000, 28, 28),
            "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a"),
    IdxFile("test_labels", "t10k-labels-idx1-ubyte", (10000,),
            "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9"),
)  # fmt: skip
FILE_NAMES: tuple[str, ...] = tuple(f"{spec.name}.gz" for spec in FILES)  #: as published


class DataError(RuntimeError):
    """The data layer's one error: what failed, for which file, and what to do."""


def check(ok: bool, name: str, should: str, value: object) -> None:
    """Unless ``ok``, raise ``ValueError("NAME must be SHOULD, got VALUE.")``."""
    if not ok:
        got = f"{value.dtype} {value.shape}" if isinstance(value, np.ndarray) else repr(value)
        raise ValueError(f"{name} must be {should}, got {got}.")


def is_integer(value: object) -> bool:
    """Whether ``value`` is a Python or NumPy integer (a bool is not)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def cache_dir(path: PathArg = None) -> Path:
    """The cache folder: ``path``, else ``$D2LUTIL_CACHE_DIR``, else the OS's (not created)."""
    default = Path(platformdirs.user_cache_dir("d2lutil"))
    return _folder(path, "cache") or _env_folder(CACHE_DIR_ENV) or default


def _folder(value: PathArg, what: str) -> Path | None:  # "" is refused, not taken as cwd
    ok = value is None or (isinstance(value, str | os.PathLike) and bool(os.fspath(value)))
    check(ok and "\0" not in str(value), what, "a folder path or None", value)
    return None if value is None else _expand(Path(value), what)


def _env_folder(name: str) -> Path | None:  # unset or empty: None; else an absolute path
    path = os.environ.get(name) and _expand(Path(os.environ[name]), f"${name}")
    check(not path or path.is_absolute(), f"${name}", "an absolute path", os.environ.get(name))
    return path or None


def _expand(path: Path, what: str) -> Path:
    try:
        return path.expanduser()
    except RuntimeError as err:  # "~nosuchuser": no such home folder
        raise ValueError(f"{what} must be a folder path, got {str(path)!r} ({err}).") from None


def mirror_list(mirrors: Sequence[str] | None) -> tuple[str, ...]:
    """The base URLs to try: ``mirrors``, else ``$FASHION_MNIST_MIRRORS``, else MIRRORS."""
    name = "mirrors" if mirrors is not None else f"${MIRRORS_ENV}"
    mirrors = os.environ.get(MIRRORS_ENV, "").split() or MIRRORS if mirrors is None else mirrors
    urls = isinstance(mirrors, Sequence) and not isinstance(mirrors, str)
    shown = [re.sub(r"//[^/]*@", "//…@", str(url)) for url in mirrors] if urls else mirrors
    ok = urls and all(is_web_address(url) for url in mirrors)
    check(ok, name, "a list of http(s) URLs, each with a host and no user:password@", shown)
    return tuple(mirrors)


def is_web_address(url: object, *, proxy: bool = False) -> bool:
    """Whether ``url`` is an http(s) URL with a host, a valid port and no ``user:password@``;
    with ``proxy=True``, whether it is ``[http://][user:password@]host[:port]``."""
    try:
        parts = urlsplit(str(url))
        parts.port  # noqa: B018 (raises ValueError unless it is a number below 65536)
    except ValueError:
        return False
    if proxy:  # a password's unencoded / ? or # would leave part of it in the path
        bare = not (parts.path.strip("/") or parts.query or parts.fragment)
        return parts.scheme in ("", "http") and bool(parts.hostname) and bare
    return parts.scheme in ("http", "https") and bool(parts.hostname) and "@" not in parts.netloc


def complete_folders(data_dir: PathArg, cache: PathArg) -> Iterator[tuple[dict, str, bool]]:
    """Each folder holding the four files, in search order, as ``(paths, origin, explicit)``."""
    explicit = _folder(data_dir, "data_dir") or _env_folder(DATA_DIR_ENV)
    if explicit:
        places = [("data_dir argument" if data_dir else f"${DATA_DIR_ENV}", explicit)]
    else:
        places = [("user cache", cache_dir(cache) / "fashion-mnist")]
        places += [("system copy", Path(folder)) for folder in SYSTEM_DIRS]
    for origin, folder in places:
        paths = {spec.key: _file_in(folder, spec.name) for spec in FILES}
        if all(paths.values()):
            yield paths, origin, explicit is not None
        elif explicit:
            missing = ", ".join(f"{spec.name}.gz" for spec in FILES if not paths[spec.key])
            raise DataError(f"{folder} ({origin}) lacks {missing}: put them there, or unset it.")


def _file_in(folder: Path, name: str) -> Path | None:  # gzipped, as published, or not
    # os.path.isfile, unlike Path.is_file, says False for a folder we may not look into.
    return next((p for p in (folder / f"{name}.gz", folder / name) if os.path.isfile(p)), None)


def find_fashion_mnist(data_dir: PathArg = None, *, cache: PathArg = None) -> tuple | None:
    """``(paths, origin)`` of the first folder holding the four files (unread), or None."""
    found = next(complete_folders(data_dir, cache), None)
    return found and found[:2]


def no_data_message(cache: PathArg, attempts: Sequence[str]) -> str:
    """The one "no data, no download" message: what was tried, and three ways to get it."""
    return (
        "Fashion-MNIST was not found and could not be downloaded. Attempts:"
        + "".join(f"\n  - {attempt}" for attempt in attempts)
        + "\nGet the data in one of three ways:\n  1. on a machine with internet access, run "
        f"`python -m d2lutil.data fetch` (it downloads into {cache_dir(cache) / 'fashion-mnist'});"
        "\n  2. on Debian or Ubuntu, `sudo apt-get install dataset-fashion-mnist`;"
        f"\n  3. copy the four files ({', '.join(FILE_NAMES)}) into a folder and pass it as "
        f"data_dir= or set {DATA_DIR_ENV} to it."
    )


def tell(message: str) -> None:
    """Print a note on stderr; a folder name that is not valid UTF-8 cannot break it."""
    print(message.encode("utf-8", "backslashreplace").decode(), file=sys.stderr)


def max_size(spec: IdxFile) -> int:
    """The largest an honest copy can be, plain or gzipped (deflate adds less than 0.1 %)."""
    return 1024 + math.prod(spec.shape) * 101 // 100


def read_idx(path: Path, spec: IdxFile) -> np.ndarray:
    """The array in ``path`` (gzipped or not) once its header, size and SHA-256 check out.

    A file larger than any honest copy is refused unread; none is inflated past its size.
    """
    header = b"".join(n.to_bytes(4, "big") for n in (0x800 + len(spec.shape), *spec.shape))
    n, size, limit = len(header), len(header) + math.prod(spec.shape), max_size(spec)
    try:  # O_NONBLOCK: a named pipe in the file's place cannot block the open
        with open(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
                why = f"is not a regular file of at most {limit:,} bytes, as any {spec.name}"
                raise DataError(f"{path} {why}.")
            content = file.read(limit)  # no more, even if it has grown since
    except OSError as err:
        raise DataError(f"Cannot read {path}: {err.strerror or err}.") from err
    if content[:2] == b"\x1f\x8b":
        content = _gunzip(content, size, path)
    if content[:4] != header[:4]:
        raise DataError(f"{path} has magic number 0x{content[:4].hex()}, not 0x{header[:4].hex()}.")
    if content[:n] != header:
        dims = [int.from_bytes(content[i : i + 4], "big") for i in range(4, n, 4)]
        raise DataError(f"{path} has dimensions {dims}, expected {list(spec.shape)}.")
    if len(content) != size:
        raise DataError(f"{path} holds {len(content) - n:,} data bytes, not {size - n:,}.")
    if hashlib.sha256(memoryview(content)[n:]).hexdigest() != spec.sha256:
        raise DataError(f"{path} fails its SHA-256 check: it is not the published {spec.name}.")
    return np.frombuffer(content, np.uint8, offset=n).reshape(spec.shape)


def _gunzip(data: bytes, size: int, path: Path) -> bytes:
    """Inflate gzip ``data`` member after member (as gzip does), never past ``size + 1`` bytes.

    Each member costs a copy of what follows it: more than MAX_MEMBERS are refused.
    """
    parts, rest, total, inflater = [], data, 0, None
    while rest[:2] == b"\x1f\x8b" and total <= size:
        if len(parts) == MAX_MEMBERS:
            raise DataError(f"{path} has more than {MAX_MEMBERS} gzip members; gunzip it.")
        inflater = _zlib.decompressobj(31)  # 31: a gzip header and trailer around deflate data
        try:
            parts.append(inflater.decompress(rest, size + 1 - total))
        except (zlib.error, _zlib.error) as err:
            raise DataError(f"{path} is not a valid gzip file ({err}).") from err
        rest, total = inflater.unused_data, total + len(parts[-1])
    if total > size:
        raise DataError(f"{path} inflates to more than the expected {size:,} bytes.")
    if not inflater.eof:
        raise DataError(f"{path} is truncated: its gzip stream ends early.")
    if rest:
        raise DataError(f"{path} has {len(rest):,} bytes after its gzip data.")
    return b"".join(parts)
