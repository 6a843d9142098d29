"""Serve the built book from 127.0.0.1 as a static host does: gzip and a short cache lifetime.

``python -m http.server`` sends every file uncompressed, so a browser (and Lighthouse)
downloads four times the bytes any real host (GitHub Pages, Netlify, nginx) would send.
This server compresses text files (HTML, CSS, JavaScript, JSON, SVG) with gzip when the
client accepts it, and sends ``Cache-Control: max-age=600`` as GitHub Pages does.

Used by the browser test, the Lighthouse benchmark and ``make serve``::

    python tests/site_server.py [--port 8000] [--directory _build/html]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real hosts do
    extensions_map = {  # noqa: RUF012 (the base class's attribute, extended)
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "application/javascript",
        ".woff2": "font/woff2",
        ".woff": "font/woff",
    }
    _cache: dict[tuple[str, float], bytes] = {}  # noqa: RUF012 (shared by all requests)
    _lock = threading.Lock()

    def log_message(self, *args: object) -> None:  # quiet: tests and benchmarks log themselves
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "max-age=600")
        super().end_headers()

    def send_head(self):  # type: ignore[override]
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        ctype = self.guess_type(str(path))
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (accepts and path.is_file() and ctype.startswith(COMPRESSIBLE)):
            return super().send_head()  # folders, redirects, 404s, binary files
        key = (str(path), path.stat().st_mtime)
        with self._lock:
            body = self._cache.get(key)
            if body is None:
                body = self._cache[key] = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", ctype + ("; charset=utf-8" if "text" in ctype else ""))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return _Body(body)


class _Body:
    """What send_head returns: a file-like object copyfile() reads the body from."""

    def __init__(self, data: bytes) -> None:
        self._data, self._pos = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._pos + size
        chunk, self._pos = self._data[self._pos : end], min(end, len(self._data))
        return chunk

    def close(self) -> None:
        pass


@contextlib.contextmanager
def serve(directory: Path, port: int = 0) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 in a thread; yield the base URL (ending in "/")."""
    handler = functools.partial(Handler, directory=os.fspath(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--directory", type=Path, default=Path("_build/html"))
    args = parser.parse_args()
    with serve(args.directory, args.port) as url:
        print(f"Serving {args.directory} at {url} with gzip (Ctrl-C stops)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
