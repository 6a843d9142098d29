"""Filling the cache folder: mirrors in order, downloads bounded in size and time, a lock."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:  # imported when downloading: a browser's Python has no sockets, nor requests
    import requests

from .sources import (  # isort: skip
    CACHE_DIR_ENV, FILES, DataError, IdxFile, PathArg, cache_dir, check, is_integer, max_size,
    mirror_list, no_data_message, read_idx, tell,
)  # fmt: skip

CONNECT_TIMEOUT = 10.0  #: seconds for a mirror to accept the connection
READ_TIMEOUT = 30.0  #: seconds a mirror may stay silent
FILE_DEADLINE = 900.0  #: seconds for one file from one mirror
MIN_SPEED = 30_000  #: bytes per second on average, required once GRACE seconds have passed
GRACE = 15.0


def fetch_fashion_mnist(
    *, cache: PathArg = None, mirrors: Sequence[str] | None = None, retries: int = 2,
    progressbar: bool = True,
) -> dict[str, Path]:  # fmt: skip
    """Make the cache folder hold the four files, verified, and return their paths.

    A file that does not verify is downloaded again, by one process at a time (it locks the
    folder), trying the mirrors in order and ``retries`` more times after a server error.
    """
    mirrors = mirror_list(mirrors)
    check(is_integer(retries) and retries >= 0, "retries", "an integer >= 0", retries)
    folder, paths, attempts = cache_dir(cache) / "fashion-mnist", {}, []
    with locked(folder), _session(int(retries)) as session:
        for spec in FILES:
            part = folder / f"{spec.name}.gz.part"
            part.unlink(missing_ok=True)  # left by a killed download: no live one owns it now
            paths[spec.key] = keep_verified(folder, spec) or _download(
                session, spec, part, mirrors, progressbar, attempts
            )
    return paths


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold ``folder/.lock`` while files there are written or removed (no-op without fcntl)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = open(folder / ".lock", "a")  # noqa: SIM115 (closed below)
    except OSError as err:
        why = f"cannot write to the cache folder {folder} ({err.strerror or err})"
        tip = f"{why}; set {CACHE_DIR_ENV} to a writable folder"
        raise DataError(no_data_message(folder.parent, [tip])) from err
    with lock:
        with contextlib.suppress(ImportError, OSError):  # Windows, Pyodide: no locking
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)  # released on close, even by a killed process
        yield


def keep_verified(folder: Path, spec: IdxFile) -> Path | None:
    """The cached ``.gz`` of ``spec`` if it verifies; one that does not is deleted (locked)."""
    path = folder / f"{spec.name}.gz"
    try:
        read_idx(path, spec)
        return path
    except DataError:
        with contextlib.suppress(OSError):  # e.g. a folder of that name: not ours to remove
            path.unlink(missing_ok=True)  # our own file name; a symlink loses only the link
        return None


def _session(retries: int) -> requests.Session:
    """An HTTP session that retries server errors (5xx) at once, and nothing else."""
    import requests
    import urllib3

    again = urllib3.Retry(
        total=retries, connect=0, read=0, other=0, status_forcelist=range(500, 600),
        respect_retry_after_header=False,
    )  # fmt: skip
    session = requests.Session()
    for scheme in ("http://", "https://"):
        session.mount(scheme, requests.adapters.HTTPAdapter(max_retries=again))
    session.max_redirects, session.hooks["response"] = 5, [_refuse_redirect]
    return session


def _refuse_redirect(response: requests.Response, **_) -> None:
    """Follow a redirect only to https or within the same host."""
    target = urlsplit(urljoin(response.url, response.headers.get("location", "")))
    same_host = target.netloc == urlsplit(response.url).netloc
    if response.is_redirect and target.scheme != "https" and not same_host:
        raise DataError(f"it redirects to {target.geturl()}, neither https nor this host")


def _download(
    session: requests.Session, spec: IdxFile, part: Path, mirrors: Sequence[str],
    progressbar: bool, attempts: list[str],
) -> Path:  # fmt: skip
    """Try the mirrors in order; the first copy that verifies is moved into place."""
    import requests
    import urllib3

    for base in mirrors:
        url = f"{base.rstrip('/')}/{spec.name}.gz"
        try:
            _stream(session, url, part, max_size(spec), progressbar)
            read_idx(part, spec)
            os.replace(part, part.with_suffix(""))
            return part.with_suffix("")
        except (DataError, requests.RequestException, urllib3.exceptions.HTTPError) as err:
            attempts.append(f"{url}: {err}")
            tell(f"Could not get {url} ({err}); trying the next mirror.")
        except OSError as err:  # the local disk, not the network
            raise DataError(f"Cannot write {part}: {err}.") from err
        finally:
            part.unlink(missing_ok=True)
    raise DataError(no_data_message(part.parent.parent, attempts))


def _stream(session: requests.Session, url: str, part: Path, limit: int, progressbar: bool) -> None:
    """Download ``url`` into the new file ``part``, within the size and time limits."""
    from tqdm.auto import tqdm

    start = time.monotonic()
    response = session.get(url, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                           headers={"Accept-Encoding": "identity"})  # fmt: skip
    bar = tqdm(unit="B", unit_scale=True, desc=part.stem, disable=not progressbar, leave=False)
    with response, open(part, "xb") as out, bar:
        response.raise_for_status()
        length = response.headers.get("Content-Length", "")
        bar.reset(total=int(length) if length.isdigit() else None)
        if length.isdigit() and int(length) > limit:
            raise DataError(f"it announces {int(length):,} bytes, more than any copy")
        while chunk := response.raw.read1(1 << 16, decode_content=False):
            now, got = time.monotonic() - start, out.tell() + len(chunk)
            if got > limit:
                raise DataError(f"it sent more than {limit:,} bytes")
            if now > FILE_DEADLINE:
                raise DataError(f"it took more than {FILE_DEADLINE:g} s")
            if now > GRACE and got < MIN_SPEED * now:
                raise DataError(f"too slow: below {MIN_SPEED:,} bytes/s on average")
            out.write(chunk)
            bar.update(len(chunk))
