"""Shared fixtures: the real Fashion-MNIST files and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import http.server
import os
import ssl
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

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
    """Each test gets its own empty cache, no system copy and no folder or mirror override."""
    monkeypatch.setenv(data.CACHE_DIR_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.delenv(data.MIRRORS_ENV, raising=False)
    monkeypatch.setattr(data, "SYSTEM_DIRS", ())
    for scheme in ("http", "https", "all", "no"):  # servers on 127.0.0.1 are reached directly
        monkeypatch.delenv(f"{scheme}_proxy", raising=False)
        monkeypatch.delenv(f"{scheme.upper()}_PROXY", raising=False)


class FileServer:
    """Serves the real files under a behaviour named by the first part of the path.

    ``good``     the file                     ``missing`` 404      ``error`` 500
    ``corrupt``  the file, 64 bytes zeroed    ``cut``     half of the file, then it closes
    ``hold``     half, then waits for :attr:`release` (a download caught mid-file)
    ``trickle``  one byte every 10 ms         ``silent``  accepts, then says nothing
    ``chunked``  a body in chunks whose first size line trickles, 100 bytes every 10 ms
    ``huge``     announces 50 GB              ``endless`` no length, zeros until cut off
    ``more``     announces 1,000 bytes, then sends the whole file
    ``here``     redirects to ``good`` on this host; ``away`` to ``localhost``, another host;
    ``ftp``      to ftp:// on this host; ``tls`` to :attr:`tls_url` (https, another port);
                 each with a 1 GB body it trickles
    ``chain/N``  redirects N times, then to ``good``
    ``oddfail``  404 with a terminal escape in the reason phrase

    A request for an absolute URL (as to a proxy) is served for its path and counted in
    :attr:`proxied`.
    """

    def __init__(self, folder: Path) -> None:
        self.folder, self.tls_url, self.proxied = folder, "", 0
        self.requests: Counter[str] = Counter()
        self.sending, self.release, self.closing = (threading.Event() for _ in range(3))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.scheme = "http"

    def url(self, behaviour: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}/{behaviour}/"

    def handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def head(self, status: int, reason: str | None = None, **headers: str) -> None:
                self.send_response(status, reason)
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.end_headers()

            def drip(self, chunk: bytes, pause: float, times: int = 10**6) -> None:
                for _ in range(times):
                    if server.closing.wait(pause):
                        return
                    self.wfile.write(chunk)
                    self.wfile.flush()

            def do_GET(self) -> None:
                if "://" in self.path:
                    server.proxied += 1
                    self.path = urlsplit(self.path).path
                server.requests[self.path] += 1
                behaviour, name = self.path.split("/")[1], self.path.split("/")[-1]
                body = (server.folder / name).read_bytes() if name in data.FILE_NAMES else b""
                try:
                    self.serve(behaviour, name, body)
                except OSError:  # the client went away, as some tests make it do
                    self.close_connection = True

            def serve(self, behaviour: str, name: str, body: bytes) -> None:
                port = server.httpd.server_address[1]
                moves = {"here": f"/good/{name}", "away": f"http://localhost:{port}/good/{name}"}
                moves["tls"], moves["ftp"] = (
                    f"{server.tls_url}{name}",
                    f"ftp://127.0.0.1:{port}/{name}",
                )
                if behaviour == "chain" and int(self.path.split("/")[2]):
                    count = int(self.path.split("/")[2]) - 1
                    self.head(302, Location=f"/chain/{count}/{name}", Content_Length="0")
                elif behaviour in moves or behaviour == "chain":
                    where = moves.get(behaviour, f"/good/{name}")
                    self.head(302, Location=where, Content_Length=str(10**9))
                    self.drip(b"x", 0.01)  # a client that read this body would never finish
                elif behaviour == "oddfail":
                    self.head(404, "Not\x1b[31mFound", Content_Length="0")
                elif behaviour in ("missing", "error") or not body:
                    self.send_error(500 if behaviour == "error" else 404)
                elif behaviour == "silent":
                    server.closing.wait(60)
                elif behaviour == "chunked":
                    self.head(200, Transfer_Encoding="chunked")
                    self.wfile.write(b"1;")  # a chunk's size line, then its extension, forever
                    self.drip(b"x" * 100, 0.01)
                elif behaviour in ("huge", "endless"):
                    huge = {"Content_Length": str(5 * 10**10)} if behaviour == "huge" else {}
                    self.head(200, **huge)
                    self.drip(bytes(2**16), 0, 200 * 16)  # 200 MB at most
                else:
                    length = 1000 if behaviour == "more" else len(body)
                    self.head(200, Content_Length=str(length))
                    self.send(behaviour, body)

            def send(self, behaviour: str, body: bytes) -> None:
                if behaviour == "corrupt":
                    body = body[: len(body) // 2] + bytes(64) + body[len(body) // 2 + 64 :]
                if behaviour == "trickle":
                    self.drip(body[:1], 0.01)
                elif behaviour in ("cut", "hold"):
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    server.sending.set()
                    if behaviour == "hold" and server.release.wait(60):
                        self.wfile.write(body[len(body) // 2 :])
                    self.close_connection = True
                else:
                    self.wfile.write(body)

        return Handler

    def __enter__(self) -> FileServer:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def tls_file_server(real_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """The file server over https, with a self-signed certificate for 127.0.0.1 (its
    ``certificate``, which a client must be told to trust)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    openssl = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
    openssl += ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run([*openssl, "-keyout", key, "-out", cert], check=True, capture_output=True)
    server = FileServer(real_data_dir)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
    server.scheme, server.certificate = "https", cert
    with server:
        yield server


@pytest.fixture(scope="session")
def file_server(real_data_dir: Path, tls_file_server: FileServer) -> Iterator[FileServer]:
    with FileServer(real_data_dir) as server:
        server.tls_url = tls_file_server.url("good")
        yield server


@pytest.fixture
def use_mirrors(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``use_mirrors(url, ...)``: downloads in this test come from these base URLs, in order."""
    return lambda *urls: monkeypatch.setenv(data.MIRRORS_ENV, " ".join(urls))


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Download limits small enough for a test to reach them in about a second."""
    limits = {"TIMEOUT": 0.5, "DEADLINE": 5.0, "MIN_SPEED": 200_000, "GRACE": 0.3}
    for name, value in limits.items():
        monkeypatch.setattr(data, name, value)


def wait_for(condition: object, what: str, timeout: float = 60) -> None:
    """Wait until ``condition()`` holds (a guard against a hang, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never happened")
        time.sleep(0.02)
