"""Filling the cache folder: one process at a time (a lock), the mirrors in order, a download
kept only once it verifies.  Each download is a bounded ``Transfer`` (see ``transfer``)."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from .sources import (  # isort: skip
    CACHE_DIR_ENV, FILES, DataError, IdxFile, PathArg, cache_dir, check, is_integer, max_size,
    mirror_list, no_data_message, read_idx, tell,
)  # fmt: skip
from .transfer import Transfer


def fetch_fashion_mnist(
    *, cache: PathArg = None, mirrors: Sequence[str] | None = None, retries: int = 2,
    progressbar: bool = True,
) -> dict[str, Path]:  # fmt: skip
    """Make the cache folder hold the four files, verified, and return their paths.

    A file that does not verify is downloaded again, by one process at a time (it locks the
    folder), trying the mirrors in order and ``retries`` more times after a server error.
    """
    if mirrors is not None:  # $FASHION_MNIST_MIRRORS is read only if a download is needed
        mirror_list(mirrors)
    check(is_integer(retries) and retries >= 0, "retries", "an integer >= 0", retries)
    folder, paths, attempts = cache_dir(cache) / "fashion-mnist", {}, []
    with locked(folder):
        remove_parts(folder)  # left by a killed download: no live one owns them now
        for spec in FILES:
            paths[spec.key] = keep_verified(folder, spec) or _download(
                spec, folder, mirrors, int(retries), progressbar, attempts
            )
    return paths


@contextlib.contextmanager
def locked(folder: Path, wait: bool = True) -> Iterator[None]:
    """Hold ``folder/.lock`` while files there are written or removed (no-op without flock).

    With ``wait=False``, a lock held by another process raises DataError at once.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Non-blocking and no symlinks: a FIFO or a link planted as .lock must not hang or
        # redirect us; only a regular file is a lock.
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NONBLOCK | os.O_NOFOLLOW
        lock = open(os.open(folder / ".lock", flags, 0o666), "a")  # noqa: SIM115 (closed below)
        if not stat.S_ISREG(os.fstat(lock.fileno()).st_mode):
            lock.close()
            raise OSError(0, "not a regular file", str(folder / ".lock"))
    except OSError as err:
        why = (
            f"cannot write to the cache folder {folder} ({err.filename or folder}: {err.strerror})"
        )
        tip = f"{why}; set {CACHE_DIR_ENV} to a writable folder"
        raise DataError(no_data_message(folder.parent, [tip])) from err
    with lock:
        try:  # released on close, even by a killed process; Pyodide's fcntl is empty
            from fcntl import LOCK_EX, LOCK_NB, flock

            flock(lock, LOCK_EX | (0 if wait else LOCK_NB))
        except BlockingIOError:
            raise DataError(f"another process is downloading into {folder}") from None
        except (ImportError, OSError) as err:  # Windows; NFS without locks (ENOLCK)
            tell(f"Note: cannot lock {folder / '.lock'} ({err}); run one download at a time.")
        yield


def keep_verified(folder: Path, spec: IdxFile) -> Path | None:
    """The cached ``.gz`` of ``spec`` if it verifies; one that does not is deleted (locked)."""
    path = folder / f"{spec.name}.gz"
    try:
        read_idx(path, spec)
        return path
    except DataError:
        _remove(path, "it does not verify")
        return None


def remove_parts(folder: Path) -> None:
    """Remove the ``.part`` files of killed downloads (the caller holds the lock)."""
    for spec in FILES:
        _remove(folder / f"{spec.name}.gz.part", "a killed download's")


def _remove(path: Path, why: str) -> None:
    try:  # our own file names only; a symlink loses only the link
        path.unlink(missing_ok=True)
    except OSError as err:  # e.g. a folder of that name: not ours to remove
        raise DataError(f"Cannot remove {path} ({why}): {err.strerror}; remove it.") from err


def _download(
    spec: IdxFile, folder: Path, mirrors: Sequence[str], retries: int, progressbar: bool,
    attempts: list[str],
) -> Path:  # fmt: skip
    """Try the mirrors in order; the first copy that verifies is moved into place."""
    from tqdm.auto import tqdm

    part = folder / f"{spec.name}.gz.part"
    for base in mirror_list(mirrors):
        url = f"{base.rstrip('/')}/{spec.name}.gz"
        bar = tqdm(unit="B", unit_scale=True, desc=spec.name, disable=not progressbar, leave=False)
        try:
            with open(part, "xb") as out, bar:
                for chunk in Transfer(url, max_size(spec), retries, bar):
                    out.write(chunk)  # a full disk raises OSError here, not in Transfer
            read_idx(part, spec)
            os.replace(part, part.with_suffix(""))
            return part.with_suffix("")
        except DataError as err:
            attempts.append(f"{url}: {err}")
            tell(f"Could not get {url} ({err}); trying the next mirror.")
        except OSError as err:  # the local disk: the network's errors are DataErrors
            raise DataError(f"Cannot write {part}: {err.strerror or err}.") from err
        finally:
            _remove(part, "a failed download's")
    raise DataError(no_data_message(folder.parent, attempts))
