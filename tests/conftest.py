"""Shared fixtures: the real Fashion-MNIST files and real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import contextlib
import http.server
import os
import socket
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
    for scheme in ("http", "https", "all", "no"):  # servers on 127.0.0.1 are reached directly
        monkeypatch.delenv(f"{scheme}_proxy", raising=False)
        monkeypatch.delenv(f"{scheme.upper()}_PROXY", raising=False)


@pytest.fixture
def fast_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Download limits small enough for tests to hit them in well under a second."""
    limits = {"CONNECT_TIMEOUT": 2.0, "READ_TIMEOUT": 0.3, "FILE_DEADLINE": 5.0}
    for name, value in {**limits, "GRACE": 0.3, "MIN_SPEED": 200_000}.items():
        monkeypatch.setattr(f"d2lutil.data.transfer.{name}", value)


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
    ``/slowmove/F`` redirects to ``/good/F``, announcing a 1 GB body that it trickles
    ``/slowfail/F`` 500, announcing a 1 GB body that it trickles
    ``/bombmove/F`` redirects to ``/good/F`` with a gzip-encoded body, :attr:`bomb`
    ``/badmove/F``  redirects to ``http://[oops/F``, not a URL
    ``/oddmove/F``  redirects to ``/été/F``, not ASCII
    ``/chain/N/F``  redirects to ``/chain/N-1/F``, and ``/chain/0/F`` to ``/good/F``
    ``/nohost/F``   redirects to ``https:///F``, a URL with no host
    ``/loginmove/F`` redirects to ``http://alice:pw@127.0.0.1:PORT/good/F``
    ``/oddfail/F``  404 with a reason phrase holding a terminal escape sequence

    A request for an absolute URL (``GET http://any.host/good/F``, as to a proxy) is served
    as one for its path, and counted in :attr:`proxied`.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.requests: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()  # body bytes written, per path
        self.sending = threading.Event()
        self.release = threading.Event()
        self.closing = threading.Event()
        self.bomb = b""  # what /bombmove/ sends, gzip-encoded
        self.scheme, self.certificate = "http", None
        self.proxied = 0
        self.proxy_logins: list[str] = []  # Proxy-Authorization headers received
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, behaviour: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/{behaviour}/"

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
                if "://" in self.path:
                    server.proxied += 1
                    server.proxy_logins.append(self.headers.get("Proxy-Authorization", ""))
                    self.path = urlsplit(self.path).path
                server.requests[self.path] += 1
                _, behaviour, name = self.path.split("/", 2)
                path = server.folder / name
                if behaviour in ("here", "away", "slowmove", "bombmove", "slowfail"):
                    self.unwanted_body(behaviour, name)
                    return
                if behaviour == "oddfail":
                    self.send_response(404, "Not\x1b[31mFound")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if behaviour in ("badmove", "oddmove", "chain", "nohost", "loginmove"):
                    where = {
                        "badmove": f"http://[oops/{name}",
                        "oddmove": f"/\u00e9t\u00e9/{name}",
                        "nohost": f"https:///{name}",
                        "loginmove": f"http://alice:pw@127.0.0.1:{server.port}/good/{name}",
                    }
                    if behaviour == "chain":
                        count, file = name.split("/")
                        where[behaviour] = (
                            f"/chain/{int(count) - 1}/{file}" if int(count) else f"/good/{file}"
                        )
                    self.send_response(302)
                    self.send_header("Location", where[behaviour])
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

            def unwanted_body(self, behaviour: str, name: str) -> None:
                """A redirect or an error, with a body that a client should never read."""
                host = "localhost" if behaviour == "away" else "127.0.0.1"
                self.send_response(500 if behaviour == "slowfail" else 302)
                self.send_header("Location", f"http://{host}:{server.port}/good/{name}")
                body = server.bomb if behaviour == "bombmove" else b""
                length = 10**9 if behaviour.startswith("slow") else len(body)
                self.send_header("Content-Length", str(length))
                if behaviour == "bombmove":
                    self.send_header("Content-Encoding", "gzip")
                self.end_headers()
                try:
                    self.send_body(body)
                    if behaviour.startswith("slow"):
                        self.stream(b"x", pause=0.01)
                except OSError:
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


@pytest.fixture(scope="session")
def tls_file_server(real_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> FileServer:
    """The file server over HTTPS, with a self-signed certificate for 127.0.0.1 (its
    :attr:`certificate`, which a client must be told to trust)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    openssl = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
               "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]  # fmt: skip
    subprocess.run([*openssl, "-keyout", key, "-out", cert], check=True, capture_output=True)
    server = FileServer(real_data_dir)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server._httpd.socket = context.wrap_socket(server._httpd.socket, server_side=True)
    server.scheme, server.certificate = "https", cert
    with server:
        yield server


@pytest.fixture
def connect_proxy() -> Iterator[tuple[str, Counter[str]]]:
    """An HTTP proxy for https (CONNECT only): its URL, and the tunnels it opened, by target."""
    tunnels: Counter[str] = Counter()
    listener = socket.create_server(("127.0.0.1", 0))

    def pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(1 << 16):
                sink.sendall(chunk)
            sink.shutdown(socket.SHUT_WR)

    def handle(client: socket.socket) -> None:
        with client, contextlib.suppress(OSError):
            request = b""
            while b"\r\n\r\n" not in request:
                request += client.recv(4096) or b"\r\n\r\n"
            method, target = request.split(b" ")[:2]
            if method != b"CONNECT":
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            host, port = target.decode().rsplit(":", 1)
            with socket.create_connection((host, int(port))) as upstream:
                tunnels[target.decode()] += 1
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                back = threading.Thread(target=pipe, args=(upstream, client), daemon=True)
                back.start()
                pipe(client, upstream)
                back.join(30)

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = listener.accept()
                threading.Thread(target=handle, args=(client,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", tunnels
    listener.close()


@pytest.fixture
def trickling_server() -> Iterator[Callable[[bytes, bytes], int]]:
    """Start raw TCP servers that send ``prefix``, then ``drip`` one byte per 20 ms, forever
    (until the client leaves); returns their port."""
    listeners, stop = [], threading.Event()

    def serve(conn: socket.socket, prefix: bytes, drip: bytes) -> None:
        with conn, contextlib.suppress(OSError):
            conn.sendall(prefix)
            for i in range(10**6):
                if stop.wait(0.02):
                    return
                conn.sendall(drip[i % len(drip) : i % len(drip) + 1])

    def accept(listener: socket.socket, prefix: bytes, drip: bytes) -> None:
        with contextlib.suppress(OSError):
            while not stop.is_set():
                conn, _ = listener.accept()
                threading.Thread(target=serve, args=(conn, prefix, drip), daemon=True).start()

    def start(prefix: bytes, drip: bytes) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)
        threading.Thread(target=accept, args=(listener, prefix, drip), daemon=True).start()
        return listener.getsockname()[1]

    yield start
    stop.set()
    for listener in listeners:
        listener.close()


@pytest.fixture
def dead_mirror() -> Iterator[str]:
    """A server that accepts connections (the kernel does) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
