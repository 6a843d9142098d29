"""Downloads from real HTTP servers on 127.0.0.1: mirrors, retries, and every limit."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from d2lutil import data
from d2lutil.data.__main__ import main as cli

FILE_NAMES = data.FILE_NAMES


def cache_files() -> list[str]:
    """The names in the cache's data folder but its lock file (so leftovers show)."""
    folder = data.cache_dir() / "fashion-mnist"
    return sorted(p.name for p in folder.iterdir() if p.name != ".lock") if folder.is_dir() else []


def run_python(code: str, *, timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (no system copy) and return what happened."""
    prelude = (
        "from d2lutil import data\nfrom d2lutil.data import sources\nsources.SYSTEM_DIRS = ()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=timeout,
    )


# --------------------------------------------------------------------------- mirrors


def test_download_from_a_local_mirror_then_served_from_cache(file_server) -> None:
    train_iter, test_iter = data.load_data_fashion_mnist(256, mirrors=[file_server.url("good")])
    assert (len(train_iter), len(test_iter)) == (235, 40)
    assert cache_files() == sorted(FILE_NAMES)
    before = sum(file_server.requests.values())
    again = data.load_fashion_mnist(mirrors=[file_server.url("good")])
    assert again.origin == "user cache"
    assert sum(file_server.requests.values()) == before


def test_mirrors_are_tried_in_order(file_server, capsys: pytest.CaptureFixture[str]) -> None:
    mirrors = [file_server.url("missing"), file_server.url("error"), file_server.url("good")]
    data.fetch_fashion_mnist(mirrors=mirrors, retries=0, progressbar=False)
    err = capsys.readouterr().err
    assert file_server.url("missing") in err and file_server.url("error") in err
    assert data.find_fashion_mnist()[1] == "user cache"


def test_a_server_error_is_retried(file_server) -> None:
    name = "t10k-labels-idx1-ubyte.gz"
    paths = data.fetch_fashion_mnist(mirrors=[file_server.url("flaky")], retries=1)
    assert file_server.requests[f"/flaky/{name}"] == 2
    assert paths["test_labels"].name == name


@pytest.mark.parametrize("behaviour", ["corrupt", "cut", "missing", "error"])
def test_bad_download_leaves_nothing_that_looks_like_data(behaviour: str, file_server) -> None:
    with pytest.raises(data.DataError) as raised:
        data.load_fashion_mnist(mirrors=[file_server.url(behaviour)])
    assert file_server.url(behaviour) in str(raised.value)
    assert cache_files() == []  # no data, no partial file


def test_no_data_and_no_network_names_the_three_ways() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        closed_port = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    with pytest.raises(data.DataError) as raised:
        data.load_data_fashion_mnist(256, mirrors=[closed_port])
    message = str(raised.value)
    assert "python -m d2lutil.data fetch" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert data.DATA_DIR_ENV in message and closed_port in message
    with pytest.raises(data.DataError, match="disabled"):
        data.load_fashion_mnist(download=False)


def test_unwritable_cache_folder_stops_a_download_with_advice(tmp_path: Path, file_server) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(data.DataError, match=data.CACHE_DIR_ENV):
        data.fetch_fashion_mnist(cache=blocker / "cache", mirrors=[file_server.url("good")])


# ------------------------------------------------------------------ bounded memory and disk


@pytest.fixture(scope="session")
def gzip_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid 4 MB gzip file that inflates to 4 GiB of zeros."""
    chunk, repeats = bytes(2**26), 64
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflate.compress(chunk)
    block = deflate.flush(zlib.Z_FULL_FLUSH)  # after a full flush, the same bytes each time
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(repeats):
        crc = zlib.crc32(chunk, crc)
    trailer = crc.to_bytes(4, "little") + (len(chunk) * repeats % 2**32).to_bytes(4, "little")
    path = tmp_path_factory.mktemp("bomb") / "bomb.gz"
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    path.write_bytes(header + block * repeats + deflate.flush() + trailer)
    return path


MEASURE = """
import resource
resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))  # protects the machine
start = time.monotonic()
try:
    {call}
    print("served")
except data.DataError as err:
    print("DataError:", err)
print(f"in {{time.monotonic() - start:.1f}} s")
"""

# ru_maxrss of a process counts the memory of the one it was forked from (Linux keeps the
# old address space's peak at exec): the measured process is started by a small launcher.
LAUNCH = """
import resource, subprocess, sys
subprocess.run([sys.executable, "-c", sys.argv[1]], check=True)
print("peak", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, "MB")
"""


def measure(call: str) -> tuple[str, int]:
    """What loading prints, and the peak memory (MB) of the process that loaded."""
    prelude = "import time\nfrom d2lutil import data\n"
    child = subprocess.run(
        [sys.executable, "-c", LAUNCH, prelude + MEASURE.format(call=call)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert child.returncode == 0, child.stderr
    return child.stdout, int(child.stdout.rsplit("peak ", 1)[1].split()[0])


def test_a_gzip_bomb_is_refused_with_bounded_memory(
    gzip_bomb: Path, real_data_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "bombed"
    folder.mkdir()
    for name in FILE_NAMES:
        (folder / name).symlink_to(real_data_dir / name)
    (folder / "train-images-idx3-ubyte.gz").unlink()
    (folder / "train-images-idx3-ubyte.gz").symlink_to(gzip_bomb)
    out, peak = measure(f"data.load_fashion_mnist({str(folder)!r})")
    assert "inflates to more than the expected 47,040,016 bytes" in out
    assert peak < 300, out  # a normal load peaks near 150 MB; the bomb would need 4 GiB


def test_a_huge_local_file_is_refused_unread(real_data_dir: Path, tmp_path: Path) -> None:
    folder = shutil.copytree(real_data_dir, tmp_path / "copy")
    with open(folder / "train-labels-idx1-ubyte.gz", "wb") as file:
        file.truncate(50 * 10**9)  # 50 GB, sparse: takes no disk
    out, peak = measure(f"data.load_fashion_mnist({str(folder)!r})")
    assert "train-labels-idx1-ubyte.gz is not a regular file of at most 61,624 bytes" in out
    assert peak < 300 and float(re.findall(r"in ([0-9.]+) s", out)[-1]) < 5, out


def test_a_mirror_announcing_50_gb_is_refused_at_once(file_server) -> None:
    start = time.monotonic()
    with pytest.raises(data.DataError, match="announces 50,000,000,000 bytes"):
        data.fetch_fashion_mnist(mirrors=[file_server.url("huge")], progressbar=False)
    assert time.monotonic() - start < 5
    assert file_server.sent["/huge/train-images-idx3-ubyte.gz"] < 64 * 2**20  # socket buffers


def test_an_endless_download_is_cut_at_the_size_cap(file_server) -> None:
    with pytest.raises(data.DataError, match="sent more than 47,5"):
        data.fetch_fashion_mnist(mirrors=[file_server.url("endless")], progressbar=False)
    assert file_server.sent["/endless/train-images-idx3-ubyte.gz"] < 2 * 47_040_016
    assert cache_files() == []


# --------------------------------------------------------------------------- bounded time


@pytest.mark.usefixtures("fast_limits")
def test_a_silent_mirror_is_abandoned_without_retries_multiplying(
    dead_mirror: str, file_server
) -> None:
    start = time.monotonic()
    data.fetch_fashion_mnist(mirrors=[dead_mirror, file_server.url("good")], retries=5)
    # One read timeout (0.3 s) per file, not one per retry (6 tries would take 7.2 s).
    assert time.monotonic() - start < 4 * 0.3 + 2
    assert data.find_fashion_mnist()[1] == "user cache"


@pytest.mark.usefixtures("fast_limits")
@pytest.mark.parametrize(
    ("limit", "message"), [("MIN_SPEED", "too slow"), ("FILE_DEADLINE", "took more than")]
)
def test_a_trickling_mirror_is_abandoned(
    limit: str,
    message: str,
    file_server,
    monkeypatch: pytest.MonkeyPatch,
    capsys,
) -> None:
    if limit == "FILE_DEADLINE":  # any average speed passes; only the deadline can stop it
        monkeypatch.setattr("d2lutil.data.transfer.MIN_SPEED", 0)
        monkeypatch.setattr("d2lutil.data.transfer.FILE_DEADLINE", 0.3)
    start = time.monotonic()
    data.fetch_fashion_mnist(mirrors=[file_server.url("trickle"), file_server.url("good")])
    assert time.monotonic() - start < 4 * 0.3 + 3
    assert message in capsys.readouterr().err


@pytest.mark.usefixtures("fast_limits")
@pytest.mark.parametrize("stage", ["tls-handshake", "headers"])
def test_a_mirror_trickling_before_the_body_is_abandoned(
    stage: str, trickling_server, file_server, capsys
) -> None:
    if stage == "headers":  # a status line, then header lines a byte at a time
        port = trickling_server(b"HTTP/1.1 200 OK\r\n", b"X-A: b\r\n")
        mirror = f"http://127.0.0.1:{port}/"
    else:  # a TLS record header announcing 16 kB, then a byte at a time
        port = trickling_server(b"\x16\x03\x03\x40\x00", b"\x02")
        mirror = f"https://127.0.0.1:{port}/"
    start = time.monotonic()
    data.fetch_fashion_mnist(mirrors=[mirror, file_server.url("good")], progressbar=False)
    assert time.monotonic() - start < 4 * 0.4 + 3
    assert capsys.readouterr().err.count("too slow") == 4
    assert data.find_fashion_mnist()[1] == "user cache"


@pytest.mark.usefixtures("fast_limits")
def test_the_body_of_a_redirect_or_server_error_is_never_read(file_server) -> None:
    start = time.monotonic()  # both announce 1 GB and send it a byte per 10 ms
    data.fetch_fashion_mnist(mirrors=[file_server.url("slowmove")], progressbar=False)
    assert data.find_fashion_mnist()[1] == "user cache"
    shutil.rmtree(data.cache_dir())
    mirrors = [file_server.url("slowfail"), file_server.url("good")]
    data.fetch_fashion_mnist(mirrors=mirrors, retries=3, progressbar=False)
    assert file_server.requests["/slowfail/train-labels-idx1-ubyte.gz"] == 4
    assert time.monotonic() - start < 5
    assert (
        sum(file_server.sent[f"/{b}/{n}"] for b in ("slowmove", "slowfail") for n in FILE_NAMES)
        < 4096
    )


def test_a_gzip_encoded_redirect_body_is_never_inflated(file_server, gzip_bomb: Path) -> None:
    file_server.bomb = gzip_bomb.read_bytes()
    mirrors, cache = [file_server.url("bombmove")], str(data.cache_dir())
    out, peak = measure(f"data.fetch_fashion_mnist(mirrors={mirrors!r}, cache={cache!r})")
    assert "served" in out and peak < 300, out
    assert data.find_fashion_mnist()[1] == "user cache"


def test_the_proxies_the_environment_names_are_used(
    file_server, tls_file_server, connect_proxy, monkeypatch
) -> None:
    # The file server serves absolute URLs, as a proxy does.
    monkeypatch.setenv("http_proxy", f"http://me:p%40ss@127.0.0.1:{file_server.port}/")
    before = file_server.proxied
    data.fetch_fashion_mnist(mirrors=["http://fashion-mnist.invalid/good/"], progressbar=False)
    assert file_server.proxied - before == 4
    assert file_server.proxy_logins[-4:] == ["Basic bWU6cEBzcw=="] * 4  # me:p@ss
    shutil.rmtree(data.cache_dir())
    with socket.socket() as probe:  # a port that was free a moment ago: a dead proxy
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    monkeypatch.setenv("http_proxy", f"http://me:p%40ss@127.0.0.1:{dead}")
    with pytest.raises(data.DataError) as raised:  # the proxy is named, not its password
        data.fetch_fashion_mnist(mirrors=["http://fashion-mnist.invalid/good/"], retries=0)
    assert f"Connection refused (through the proxy 127.0.0.1:{dead})" in str(raised.value)
    assert "p%40ss" not in str(raised.value) and "p@ss" not in str(raised.value)
    shutil.rmtree(data.cache_dir())
    proxy, tunnels = connect_proxy
    monkeypatch.setenv("https_proxy", proxy)
    monkeypatch.setattr("certifi.where", lambda: str(tls_file_server.certificate))
    data.fetch_fashion_mnist(mirrors=[tls_file_server.url("good")], progressbar=False)
    assert tunnels == {f"127.0.0.1:{tls_file_server.port}": 4}
    assert data.find_fashion_mnist()[1] == "user cache"


def test_https_mirrors_are_used_with_their_certificates_checked(
    tls_file_server, monkeypatch
) -> None:
    with pytest.raises(data.DataError, match="CERTIFICATE_VERIFY_FAILED"):
        data.fetch_fashion_mnist(mirrors=[tls_file_server.url("good")], progressbar=False)
    monkeypatch.setattr("certifi.where", lambda: str(tls_file_server.certificate))
    data.fetch_fashion_mnist(mirrors=[tls_file_server.url("good")], progressbar=False)
    assert data.find_fashion_mnist()[1] == "user cache"


@pytest.mark.filterwarnings("ignore::tqdm.TqdmMonitorWarning")  # tqdm's own thread, not ours
def test_without_threads_a_download_fails_with_a_data_error(file_server, monkeypatch) -> None:
    def no_threads(self: object) -> None:  # as in Pyodide, a browser's Python
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr("threading.Thread.start", no_threads)
    with pytest.raises(data.DataError, match=r"cannot download here \(can't start new thread\)"):
        data.fetch_fashion_mnist(mirrors=[file_server.url("good")], progressbar=False)
    assert cache_files() == []


def test_a_bad_answer_is_a_failed_mirror(file_server, capsys) -> None:
    bad = ["badmove", "oddmove", "nohost", "loginmove", "oddfail"]
    data.fetch_fashion_mnist(mirrors=[*map(file_server.url, bad), file_server.url("good")])
    err = capsys.readouterr().err
    assert err.count("no http(s) URL with a host and no password") == 4 * 2  # not echoed
    assert "Invalid IPv6 URL" in err
    assert "UnicodeEncodeError" in err and "HTTP 404 Not?[31mFound" in err
    assert "\x1b" not in err and "alice" not in err
    assert data.find_fashion_mnist()[1] == "user cache"
    assert not [t for t in threading.enumerate() if "_watch" in t.name]  # joined, every one


def test_a_proxy_address_that_would_show_part_of_its_password_is_refused(
    file_server, monkeypatch
) -> None:
    monkeypatch.setenv("http_proxy", f"http://bob:hun/ter2@127.0.0.1:{file_server.port}")
    with pytest.raises(data.DataError, match="http_proxy must read http://") as raised:
        data.fetch_fashion_mnist(mirrors=["http://fashion-mnist.invalid/good/"], retries=0)
    assert "hun" not in str(raised.value) and "ter2" not in str(raised.value)


@pytest.mark.parametrize("retries", [0, 4])
def test_at_most_five_redirects_are_followed_whatever_the_retries(file_server, retries) -> None:
    data.fetch_fashion_mnist(mirrors=[file_server.url("chain/4")], retries=retries)
    shutil.rmtree(data.cache_dir())
    with pytest.raises(data.DataError, match="redirects more than 5 times"):
        data.fetch_fashion_mnist(mirrors=[file_server.url("chain/5")], retries=retries)


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A port on 127.0.0.1 whose listener's backlog is full: a new connection hangs."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)
    port = listener.getsockname()[1]
    queued = [socket.socket() for _ in range(3)]
    for sock in queued:
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
    time.sleep(0.2)
    with socket.socket() as probe:
        probe.settimeout(0.5)
        with pytest.raises(TimeoutError):
            probe.connect(("127.0.0.1", port))
    yield port
    for sock in [*queued, listener]:
        sock.close()


@pytest.mark.usefixtures("fast_limits")
def test_connecting_to_many_silent_addresses_stops_at_the_deadline(
    unanswered_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = socket.getaddrinfo

    def six_addresses(host: str, *args: object, **kwargs: object) -> list:  # as a DNS may give
        if host == "blackhole.test":
            return real("127.0.0.1", unanswered_port, socket.AF_INET, socket.SOCK_STREAM) * 6
        return real(host, *args, **kwargs)

    monkeypatch.setattr("socket.getaddrinfo", six_addresses)
    monkeypatch.setattr("d2lutil.data.transfer.FILE_DEADLINE", 3.0)  # CONNECT_TIMEOUT: 2 s
    start = time.monotonic()
    with pytest.raises(data.DataError, match=r"too slow|took more than"):
        data.fetch_fashion_mnist(mirrors=[f"http://blackhole.test:{unanswered_port}/"], retries=0)
    assert time.monotonic() - start < 4 * (2.0 + 0.5) + 1  # not 6 × 2 s per file


@pytest.mark.usefixtures("fast_limits")
def test_a_name_lookup_that_hangs_is_given_up(file_server, monkeypatch) -> None:
    real, release = socket.getaddrinfo, threading.Event()

    def hanging(host: str, *args: object, **kwargs: object) -> list:
        if host == "hanging.test":  # a resolver that never answers
            release.wait(60)
        return real(host, *args, **kwargs)

    monkeypatch.setattr("socket.getaddrinfo", hanging)
    start = time.monotonic()
    try:
        mirrors = ["http://hanging.test/", file_server.url("good")]
        data.fetch_fashion_mnist(mirrors=mirrors, progressbar=False)
    finally:
        release.set()
    assert time.monotonic() - start < 4 * 0.4 + 2  # GRACE 0.3 s per file, not 60 s
    assert data.find_fashion_mnist()[1] == "user cache"


def test_a_host_name_the_resolver_refuses_is_a_failed_mirror(file_server, capsys) -> None:
    data.fetch_fashion_mnist(mirrors=["http://a..b/", file_server.url("good")])  # empty label
    err = capsys.readouterr().err
    assert err.count("http://a..b/") == 4 and err.count("UnicodeError: encoding with 'idna'") == 4
    assert "None" not in err and "Traceback" not in err


def test_redirects_are_followed_only_to_https_or_the_same_host(file_server) -> None:
    data.fetch_fashion_mnist(mirrors=[file_server.url("here")], progressbar=False)
    assert data.find_fashion_mnist()[1] == "user cache"
    shutil.rmtree(data.cache_dir())
    before = file_server.requests["/good/train-images-idx3-ubyte.gz"]
    with pytest.raises(data.DataError, match="redirects to http://localhost"):
        data.fetch_fashion_mnist(mirrors=[file_server.url("away")], progressbar=False)
    assert file_server.requests["/good/train-images-idx3-ubyte.gz"] == before


# ----------------------------------------------------------------- failures say what failed


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    folder.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
                           capture_output=True, text=True)  # fmt: skip
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a 1 MB tmpfs to fill (needs root): {mount.stderr.strip()}")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_is_reported_as_such(tiny_disk: Path, file_server) -> None:
    with pytest.raises(data.DataError) as raised:
        data.load_fashion_mnist(cache=tiny_disk, mirrors=[file_server.url("good")])
    message = str(raised.value)
    assert "No space left on device" in message
    assert str(tiny_disk / "fashion-mnist" / "train-images-idx3-ubyte.gz.part") in message
    assert "not found" not in message
    assert [p.name for p in (tiny_disk / "fashion-mnist").iterdir() if p.name != ".lock"] == []


def test_a_folder_name_that_is_not_utf8_works(
    real_data_dir: Path,
    tmp_path: Path,
    file_server,
    capsys,
    monkeypatch,
) -> None:
    odd = tmp_path / os.fsdecode(b"caf\xe9-\xff")
    shutil.copytree(real_data_dir, odd / "copy")
    assert data.load_fashion_mnist(odd / "copy").origin == "data_dir argument"
    loaded = data.load_fashion_mnist(cache=odd / "cache", mirrors=[file_server.url("good")])
    assert loaded.origin == "download"
    monkeypatch.setenv(data.CACHE_DIR_ENV, str(odd / "cache"))
    where = subprocess.run([sys.executable, "-m", "d2lutil.data", "where"], capture_output=True,
                           env=os.environ, timeout=60)  # fmt: skip
    assert where.returncode == 0 and b"Traceback" not in where.stderr, where.stderr
    for args in (["where", "--json"], ["verify"], ["fetch"]):  # what `python -m` runs
        assert cli(args) == 0, capsys.readouterr()
    (odd / "cache" / "fashion-mnist" / "train-labels-idx1-ubyte.gz").write_bytes(b"junk")
    assert cli(["verify"]) == 2
    assert "train-labels-idx1-ubyte.gz" in capsys.readouterr().err
    reloaded = data.load_fashion_mnist(mirrors=[file_server.url("good")])
    assert np.array_equal(reloaded.train_labels, loaded.train_labels)
