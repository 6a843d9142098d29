"""One file from one mirror over HTTP, bounded in size and time: ``Transfer``.

HTTP is the standard library's ``http.client``: it follows no redirect, retries nothing and
reads no body unasked, so every byte of a body counts against the size limit, a response we
do not want is closed unread, and a watchdog thread bounds the time of every step, from the
name lookup to the last byte.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

from .sources import DataError, is_web_address

CONNECT_TIMEOUT = 10.0  #: seconds for a mirror to accept the connection
READ_TIMEOUT = 30.0  #: seconds a mirror may stay silent
FILE_DEADLINE = 900.0  #: seconds for one file from one mirror, redirects and retries included
MIN_SPEED = 30_000  #: bytes per second on average, required once GRACE seconds have passed
GRACE = 15.0
MAX_REDIRECTS = 5


class Transfer:
    """One file from one mirror, in chunks, within the limits; any failure is a DataError."""

    def __init__(self, url: str, limit: int, retries: int, bar: Any) -> None:
        self.url, self.limit, self.retries, self.bar = url, limit, retries, bar
        self.start, self.received, self.late, self.proxy = time.monotonic(), 0, None, ""
        self.sockets: list[socket.socket] = []  # duplicates, to shut connections down
        self.lock, self.done = threading.Lock(), threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        watchdog = threading.Thread(target=self._watch, daemon=True)
        try:
            watchdog.start()
        except RuntimeError as err:  # a browser's Python: no threads, nor sockets
            raise DataError(f"cannot download here ({err})") from err
        try:
            conn, response = self._response()
            with contextlib.closing(conn), response:
                length = response.length or 0
                if length > self.limit:
                    raise DataError(f"it announces {length:,} bytes, more than any copy")
                self.bar.reset(total=length or None)
                while chunk := response.read1(1 << 16):
                    self.received += len(chunk)
                    if self.received > self.limit:
                        raise DataError(f"it sent more than {self.limit:,} bytes")
                    self.bar.update(len(chunk))
                    yield chunk
                cut = response.length and f"it sent {self.received:,} of {length:,} bytes"
                if self.late or cut:  # cut off, by the watchdog or by the server
                    raise DataError(self.late or cut)
        except (OSError, ValueError, http.client.HTTPException) as err:  # ValueError: bad input
            raise DataError(self.late or f"{type(err).__name__}: {err}{self.proxy}") from err
        finally:
            self.done.set()
            watchdog.join()  # at most one tick: it waits on done
            self._close_sockets()

    def _watch(self) -> None:
        """Shut the connections down once the transfer takes too long or comes too slowly."""
        while not self.done.wait(0.05):
            elapsed = time.monotonic() - self.start
            if elapsed > FILE_DEADLINE:
                self.late = f"it took more than {FILE_DEADLINE:g} s"
            elif elapsed > GRACE and self.received < MIN_SPEED * elapsed:
                self.late = f"too slow: below {MIN_SPEED:,} bytes/s on average"
            with self.lock:  # never a socket being closed, whose number may be reused
                for sock in self.sockets if self.late else ():  # a blocked read returns
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)

    def _close_sockets(self) -> None:
        with self.lock:
            while self.sockets:
                self.sockets.pop().close()

    def _response(self) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """GET the URL, following redirects to https or the same host and retrying 5xx."""
        url, redirects, retries = self.url, 0, self.retries
        while not self.late:
            conn, target, headers = self._connection(url)
            try:
                conn.request("GET", target, headers={"Accept-Encoding": "identity", **headers})
                response = conn.getresponse()
            except BaseException:
                conn.close()
                raise
            if response.status == 200:
                return conn, response
            conn.close()  # the body unread: one we do not want costs neither time nor memory
            self._close_sockets()
            where = urljoin(url, response.getheader("Location", ""))
            if response.status in (301, 302, 303, 307, 308) and where != url:
                if not is_web_address(where):  # not echoed: it may hold a password
                    raise DataError("it redirects to no http(s) URL with a host and no password")
                same_host = urlsplit(where).netloc == urlsplit(url).netloc
                if urlsplit(where).scheme != "https" and not same_host:
                    raise DataError(f"it redirects to {where}, neither https nor this host")
                if (redirects := redirects + 1) > MAX_REDIRECTS:
                    raise DataError(f"it redirects more than {MAX_REDIRECTS} times")
                url = where
            elif response.status < 500 or retries == 0:  # the reason, printable only
                reason = "".join(c if c.isprintable() else "?" for c in response.reason[:80])
                raise DataError(f"HTTP {response.status} {reason}")
            else:
                retries -= 1
        raise DataError(self.late)

    def _connection(self, url: str) -> tuple[http.client.HTTPConnection, str, dict[str, str]]:
        """A connection for ``url``, the request's target, and headers for the proxy."""
        parts = urlsplit(url)  # a URL that is_web_address accepts: its port is valid
        port = parts.port or (443 if parts.scheme == "https" else 80)
        proxy = self._proxy_for(parts)
        host, host_port, headers = proxy or (parts.hostname, port, {})
        if parts.scheme == "https":
            import certifi  # here: a browser's Python (no sockets) need not have it

            tls = ssl.create_default_context(cafile=certifi.where())
            conn = http.client.HTTPSConnection(
                host, host_port, timeout=CONNECT_TIMEOUT, context=tls
            )
            if proxy:  # CONNECT: the proxy sees only encrypted bytes
                conn.set_tunnel(parts.hostname, port, headers=headers)
            headers = {}  # sent to the proxy only, in the CONNECT request
        else:
            conn = http.client.HTTPConnection(host, host_port, timeout=CONNECT_TIMEOUT)
        conn._create_connection = self._connect
        path = parts.path + "?" * bool(parts.query) + parts.query
        return conn, url if proxy and parts.scheme == "http" else path, headers

    def _proxy_for(self, parts: SplitResult) -> tuple[str, int, dict[str, str]] | None:
        """The proxy the environment names for ``parts`` (``http_proxy``, ``https_proxy``,
        ``no_proxy``): its host, port and the header that logs in, if any; or None."""
        proxy = urllib.request.getproxies().get(parts.scheme)
        if not proxy or urllib.request.proxy_bypass(parts.netloc):
            return None
        via = urlsplit(proxy if "//" in proxy else f"//{proxy}")
        if not is_web_address(via.geturl(), proxy=True):
            # Not echoed: a password with an unencoded / ? or # would show in part.
            raise DataError(f"{parts.scheme}_proxy must read http://[user:password@]host[:port], "
                            "with the password's special characters percent-encoded")  # fmt: skip
        self.proxy = f" (through the proxy {via.hostname}:{via.port or 80})"
        headers = {}
        if via.username is not None:  # user:password@host
            login = f"{unquote(via.username)}:{unquote(via.password or '')}".encode()
            headers["Proxy-Authorization"] = f"Basic {base64.b64encode(login).decode()}"
        return via.hostname, via.port or 80, headers

    def _connect(self, address: tuple[str, int], *_: object) -> socket.socket:
        """Connect to each of the host's addresses in turn, as ``socket.create_connection``
        does but within the transfer's limits, and keep a duplicate of the socket for the
        watchdog (TLS wraps the socket in a new object; the duplicate still shuts it down)."""
        error: OSError = OSError(f"{address[0]} has no address")
        for family, kind, proto, _, ip in self._look_up(*address):
            if self.late:
                raise DataError(self.late)
            sock = socket.socket(family, kind, proto)
            time_left = FILE_DEADLINE - (time.monotonic() - self.start)
            sock.settimeout(max(0.01, min(CONNECT_TIMEOUT, time_left)))
            try:
                sock.connect(ip)
            except OSError as err:
                sock.close()
                error = err
                continue
            sock.settimeout(READ_TIMEOUT)  # per read; the watchdog bounds the total
            with self.lock:
                self.sockets.append(sock.dup())
            return sock
        raise error

    def _look_up(self, host: str, port: int) -> list[tuple]:
        """``socket.getaddrinfo`` in a thread of its own, waited for within the transfer's
        limits: the system's resolver cannot be interrupted, so a lookup that hangs is left
        to end on its own, and this mirror is given up."""
        answer: list = []

        def look_up() -> None:
            try:
                answer.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
            except BaseException as err:  # raised again below, in the caller's thread
                answer.append(err)

        lookup = threading.Thread(target=look_up, daemon=True)
        try:
            lookup.start()
        except RuntimeError as err:  # no thread to spare
            raise DataError(f"cannot look up {host} ({err})") from err
        while lookup.is_alive() and not self.late:
            lookup.join(0.05)
        if not answer:
            raise DataError(f"{self.late} (looking up {host})")
        if isinstance(answer[0], BaseException):
            raise answer[0]
        return answer[0]
