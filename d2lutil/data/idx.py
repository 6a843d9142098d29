"""Reading one IDX file: bounded inflate, header checks, and the SHA-256 of its content."""

import hashlib
import math
import os
import stat
import zlib
from pathlib import Path

import numpy as np

from .sources import DataError, IdxFile

try:  # ISA-L (the optional `isal` package) inflates about 1.7 times as fast as zlib
    from isal import isal_zlib as _zlib
except ImportError:
    _zlib = zlib


def max_size(spec: IdxFile) -> int:
    """The largest an honest copy can be, plain or gzipped (deflate adds less than 0.1 %)."""
    return 1024 + math.prod(spec.shape) * 101 // 100


def read_idx(path: Path, spec: IdxFile) -> np.ndarray:
    """The array in ``path``, gzipped or plain, if its payload has the published SHA-256.

    Memory stays bounded: a file larger than any honest copy is refused unread, and
    nothing is inflated past the expected size.
    """
    header = b"".join(n.to_bytes(4, "big") for n in (0x800 + len(spec.shape), *spec.shape))
    n, size = len(header), len(header) + math.prod(spec.shape)  # size: once decompressed
    too_big = f"is not a regular file of at most {max_size(spec):,} bytes, as any {spec.name}"
    try:  # O_NONBLOCK: a named pipe in the file's place cannot block the open
        with open(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > max_size(spec):
                raise _bad(path, too_big)
            raw = file.read(max_size(spec) + 1)
    except OSError as err:
        raise DataError(f"Cannot read {path}: {err.strerror or err}.") from err
    if len(raw) > max_size(spec):  # it grew while being read
        raise _bad(path, too_big)
    content = _inflate(raw, path, size) if raw[:2] == b"\x1f\x8b" else raw
    if content[:4] != header[:4]:
        raise _bad(path, f"has magic number 0x{content[:4].hex()}, not 0x{header[:4].hex()}")
    if content[:n] != header:
        dims = [int.from_bytes(content[i : i + 4], "big") for i in range(4, n, 4)]
        raise _bad(path, f"has dimensions {dims}, expected {list(spec.shape)}")
    if len(content) != size:
        raise _bad(path, f"holds {len(content) - n:,} data bytes, not {size - n:,}")
    if hashlib.sha256(memoryview(content)[n:]).hexdigest() != spec.sha256:
        raise _bad(path, f"fails its SHA-256 check: it is not the published {spec.name}")
    return np.frombuffer(content, np.uint8, offset=n).reshape(spec.shape)


def _inflate(raw: bytes, path: Path, size: int) -> bytes:
    """Decompress a gzip stream; refuse one that ends early or inflates past ``size``."""
    inflater = _zlib.decompressobj(31)  # 31: a gzip header and trailer around deflate data
    try:
        content = inflater.decompress(raw, size + 1)  # stops one byte past the expected size
    except (zlib.error, _zlib.error) as err:
        raise _bad(path, f"is not a valid gzip file ({err})") from err
    if len(content) > size:
        raise _bad(path, f"inflates to more than the expected {size:,} bytes")
    if not inflater.eof:
        raise _bad(path, "is truncated: its gzip stream ends early")
    return content


def _bad(path: Path, why: str) -> DataError:
    return DataError(f"{path} {why}.")
