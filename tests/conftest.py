"""Shared fixtures: the real Fashion-MNIST files and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import http.server
import os
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from d2lutil import data


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The folder of the real ``.gz`` files (the Debian package, or $FASHION_MNIST_DIR)."""
    candidates = [os.environ.get(data.DATA_DIR_ENV), *data.SYSTEM_DIRS]
    for folder in filter(None, candidates):
        if all((Path(folder) / name).is_file() for name in data.FILE_NAMES):
            return Path(folder)
    pytest.fail(
        "The tests need the real Fashion-MNIST files: `apt-get install dataset-fashion-mnist` "
        f"or set {data.DATA_DIR_ENV} to a folder holding them (see README)."
    )


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own empty cache and no data-folder or mirror override."""
    monkeypatch.setenv(data.CACHE_DIR_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.delenv(data.MIRRORS_ENV, raising=False)


class FileServer:
    """Serves the real files under several behaviours, chosen by the first path part.

    ``/good/F``     the file
    ``/missing/F``  404
    ``/error/F``    500
    ``/flaky/F``    500 on the first request for F, then the file
    ``/corrupt/F``  the file with bytes in the middle overwritten
    ``/cut/F``      announces the full length, sends half, closes the connection
    ``/slow/F``     announces the full length, sends half, sets :attr:`sending`, then
                    waits for :attr:`release` before closing (a download caught mid-file)
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.requests: Counter[str] = Counter()
        self.sending = threading.Event()
        self.release = threading.Event()
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, behaviour: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/{behaviour}/"

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                server.requests[self.path] += 1
                _, behaviour, name = self.path.split("/", 2)
                path = server.folder / name
                if behaviour == "missing" or not path.is_file():
                    self.send_error(404)
                    return
                if behaviour == "error" or (
                    behaviour == "flaky" and server.requests[self.path] == 1
                ):
                    self.send_error(500)
                    return
                body = path.read_bytes()
                if behaviour == "corrupt":
                    middle = len(body) // 2
                    body = body[:middle] + b"\x00" * 64 + body[middle + 64 :]
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if behaviour in ("cut", "slow"):
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    if behaviour == "slow":
                        server.sending.set()
                        server.release.wait(60)
                    self.close_connection = True
                    return
                self.wfile.write(body)

        return Handler

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture(scope="session")
def file_server(real_data_dir: Path) -> Iterator[FileServer]:
    with FileServer(real_data_dir) as server:
        yield server
