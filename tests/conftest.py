"""Shared fixtures: the real Fashion-MNIST files and real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import http.server
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from d2lutil import data

#: Bytes a server streams at most when a client keeps reading (keeps a bad client finite).
SERVER_CAP = 200 * 2**20


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
    """Each test gets its own empty cache, no system copy and no folder or mirror override."""
    monkeypatch.setenv(data.CACHE_DIR_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.delenv(data.MIRRORS_ENV, raising=False)
    monkeypatch.setattr("d2lutil.data.sources.SYSTEM_DIRS", ())


@pytest.fixture
def fast_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Download limits small enough for tests to hit them in well under a second."""
    limits = {"CONNECT_TIMEOUT": 2.0, "READ_TIMEOUT": 0.3, "FILE_DEADLINE": 5.0}
    for name, value in {**limits, "GRACE": 0.3, "MIN_SPEED": 200_000}.items():
        monkeypatch.setattr(f"d2lutil.data.download.{name}", value)


class FileServer:
    """Serves the real files under several behaviours, chosen by the first path part.

    ``/good/F``     the file
    ``/missing/F``  404
    ``/error/F``    500
    ``/flaky/F``    500 on the first request for F, then the file
    ``/corrupt/F``  the file with bytes in the middle overwritten
    ``/cut/F``      announces the full length, sends half, closes the connection
    ``/hold/F``     announces the full length, sends half, sets :attr:`sending`, waits for
                    :attr:`release`, then sends the rest (a download caught mid-file)
    ``/trickle/F``  announces the full length, then one byte every 10 ms
    ``/huge/F``     announces 50 GB, then streams zeros
    ``/endless/F``  no Content-Length; streams zeros until the client stops reading
    ``/here/F``     redirects to ``/good/F`` on the same host
    ``/away/F``     redirects to ``http://localhost:PORT/good/F``: the same server, another host
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.requests: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()  # body bytes written, per path
        self.sending = threading.Event()
        self.release = threading.Event()
        self.closing = threading.Event()
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, behaviour: str) -> str:
        return f"http://127.0.0.1:{self.port}/{behaviour}/"

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def send_body(self, chunk: bytes) -> None:
                self.wfile.write(chunk)
                self.wfile.flush()
                server.sent[self.path] += len(chunk)

            def stream(self, chunk: bytes, pause: float = 0.0) -> None:
                """Send ``chunk`` again and again until the client goes away (or the cap)."""
                for _ in range(SERVER_CAP // len(chunk)):
                    if server.closing.is_set():
                        break
                    self.send_body(chunk)
                    time.sleep(pause)

            def do_GET(self) -> None:
                server.requests[self.path] += 1
                _, behaviour, name = self.path.split("/", 2)
                path = server.folder / name
                if behaviour in ("here", "away"):
                    host = "127.0.0.1" if behaviour == "here" else "localhost"
                    self.send_response(302)
                    self.send_header("Location", f"http://{host}:{server.port}/good/{name}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
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
                length = {"huge": "50000000000", "endless": None}.get(behaviour, str(len(body)))
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                if length is not None:
                    self.send_header("Content-Length", length)
                self.end_headers()
                try:
                    self.send(behaviour, body)
                except OSError:  # the client went away, as some tests make it do
                    self.close_connection = True

            def send(self, behaviour: str, body: bytes) -> None:
                if behaviour in ("huge", "endless"):
                    self.stream(bytes(2**16))
                elif behaviour == "trickle":
                    self.stream(b"\x1f", pause=0.01)
                elif behaviour in ("cut", "hold"):
                    self.send_body(body[: len(body) // 2])
                    if behaviour == "hold":
                        server.sending.set()
                        server.release.wait(60)
                        self.send_body(body[len(body) // 2 :])
                    self.close_connection = True
                else:
                    self.send_body(body)

        return Handler

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture(scope="session")
def file_server(real_data_dir: Path) -> Iterator[FileServer]:
    with FileServer(real_data_dir) as server:
        yield server


@pytest.fixture
def dead_mirror() -> Iterator[str]:
    """A server that accepts connections (the kernel does) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
