"""Where the data is: the four files as a table, and the places searched, in order."""

import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import platformdirs

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


class DataError(RuntimeError):
    """The data layer's one error: what failed, for which file, and what to do."""


class IdxFile(NamedTuple):
    """One file: its key, name, array shape and the SHA-256 of its decompressed payload."""

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


def as_folder(value: PathArg, what: str) -> Path | None:
    """``value`` as a folder (None stays None); an empty string is refused, not taken as cwd."""
    if value is not None and (not isinstance(value, str | os.PathLike) or not os.fspath(value)):
        raise ValueError(f"{what} must be a folder path or None, got {value!r}.")
    return None if value is None else Path(value).expanduser()


def cache_dir(path: PathArg = None) -> Path:
    """The cache folder: ``path``, else ``$D2LUTIL_CACHE_DIR``, else the OS's (not created)."""
    default = os.environ.get(CACHE_DIR_ENV) or platformdirs.user_cache_dir("d2lutil")
    return as_folder(path, "cache") or Path(default).expanduser()


def mirror_list(mirrors: Sequence[str] | None) -> tuple[str, ...]:
    """The base URLs to try: ``mirrors``, else ``$FASHION_MNIST_MIRRORS``, else MIRRORS."""
    mirrors = os.environ.get(MIRRORS_ENV, "").split() or MIRRORS if mirrors is None else mirrors
    urls = isinstance(mirrors, Sequence) and not isinstance(mirrors, str)
    if not urls or not all(str(url).startswith(("http://", "https://")) for url in mirrors):
        raise ValueError(f"mirrors must be a list of http(s) base URLs, got {mirrors!r}.")
    return tuple(mirrors)


def complete_folders(data_dir: PathArg, cache: PathArg) -> Iterator[tuple[dict, str, bool]]:
    """The folders holding all four files, in search order, as ``(paths, origin, explicit)``.

    An explicit folder (``data_dir``, else ``$FASHION_MNIST_DIR``) is the only place
    looked at, and one that lacks a file is an error, never skipped.
    """
    env = as_folder(os.environ.get(DATA_DIR_ENV) or None, DATA_DIR_ENV)
    explicit = as_folder(data_dir, "data_dir") or env
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


def _file_in(folder: Path, name: str) -> Path | None:  # gzipped, as published, or plain
    return next((p for p in (folder / f"{name}.gz", folder / name) if p.is_file()), None)


def find_fashion_mnist(data_dir: PathArg = None, *, cache: PathArg = None) -> tuple | None:
    """``(paths, origin)`` of the first folder holding the four files (unread), or None.

    ``paths`` maps train_images, train_labels, test_images and test_labels to files.
    """
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
