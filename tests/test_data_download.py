"""Downloads from a real HTTP server on 127.0.0.1: mirrors, limits, redirects, the cache."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import certifi
import numpy as np
import pytest
from conftest import FileServer, wait_for

from d2lutil import data

NO_SYSTEM_COPY = "from d2lutil import data\ndata.SYSTEM_DIRS = ()\n"


@pytest.fixture(scope="session")
def reference(real_data_dir: Path) -> data.FashionMNIST:
    return data.load_fashion_mnist(real_data_dir)


def cached() -> Path:
    return data.cache_dir() / "fashion-mnist"


def cache_files() -> list[str]:
    """Every name in the cache's data folder, temporary files included."""
    return sorted(p.name for p in cached().iterdir()) if cached().is_dir() else []


def assert_same(loaded: data.FashionMNIST, reference: data.FashionMNIST) -> None:
    for key in ("train_images", "train_labels", "test_images", "test_labels"):
        assert np.array_equal(getattr(loaded, key), getattr(reference, key)), key


def run_python(code: str, **env: str) -> subprocess.Popen:
    """Start ``code`` in a fresh interpreter that has no system copy."""
    command = [sys.executable, "-c", NO_SYSTEM_COPY + textwrap.dedent(code)]
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


# --------------------------------------------------------------------------- mirrors


def test_a_download_is_verified_cached_and_served_from_the_cache(
    file_server: FileServer, reference: data.FashionMNIST, use_mirrors, capsys
) -> None:
    use_mirrors(file_server.url("good"))
    loaded = data.load_fashion_mnist()
    assert loaded.origin == "download"
    assert_same(loaded, reference)
    assert cache_files() == sorted(data.FILE_NAMES)  # no temporary file left
    assert (
        f"Downloading {file_server.url('good')}train-images-idx3-ubyte.gz"
        in capsys.readouterr().err
    )
    # readable by others who share the cache, as a file made with the usual umask is
    assert all(path.stat().st_mode & 0o777 == 0o644 for path in loaded.paths.values())
    before = sum(file_server.requests.values())
    assert data.load_fashion_mnist().origin == "user cache"
    assert sum(file_server.requests.values()) == before


def test_mirrors_are_tried_in_order(
    file_server: FileServer, use_mirrors, capsys: pytest.CaptureFixture[str]
) -> None:
    use_mirrors(*[file_server.url(b) for b in ("missing", "error", "oddfail", "good")])
    assert data.load_fashion_mnist().paths["train_images"].is_file()
    notes = capsys.readouterr().err
    assert "missing/train-images-idx3-ubyte.gz (HTTPError: 404 Not Found)" in notes
    assert "error/train-images-idx3-ubyte.gz (HTTPError: 500 " in notes
    assert "HTTPError: 404 Not?[31mFound" in notes and "\x1b" not in notes


@pytest.mark.parametrize(
    ("behaviour", "cause"),
    [
        ("corrupt", "CRC check failed|SHA-256|its size"),
        ("cut", "Cannot read .*train-images-idx3-ubyte.gz.*part: Compressed file ended"),
        ("more", "Cannot read"),  # only the 1,000 bytes announced are read
        ("missing", "HTTPError: 404"),
        ("huge", "it sent more than 47,511,424 bytes"),
        ("endless", "it sent more than 47,511,424 bytes"),
    ],
)
def test_a_bad_download_is_named_and_leaves_nothing_behind(
    behaviour: str, cause: str, file_server: FileServer, use_mirrors
) -> None:
    use_mirrors(file_server.url(behaviour))
    with pytest.raises(data.DataError) as raised:
        data.load_fashion_mnist()
    message = str(raised.value)
    assert f"{file_server.url(behaviour)}train-images-idx3-ubyte.gz: " in message
    assert re.search(cause, message) and "three ways" in message
    assert cache_files() == []


def test_offline_with_no_copy_the_message_names_the_three_ways(use_mirrors) -> None:
    use_mirrors("http://127.0.0.1:9/")  # the discard port: refused
    with pytest.raises(data.DataError) as raised:
        data.load_fashion_mnist()
    message = str(raised.value)
    assert "http://127.0.0.1:9/train-images-idx3-ubyte.gz: URLError:" in message
    assert "`python -m d2lutil.data fetch`" in message
    assert "sudo apt-get install dataset-fashion-mnist" in message
    assert f"set {data.DATA_DIR_ENV} to it" in message


def test_an_unwritable_cache_folder_is_named_with_advice(
    tmp_path: Path, file_server: FileServer, use_mirrors, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    monkeypatch.setenv(data.CACHE_DIR_ENV, str(blocker / "cache"))
    use_mirrors(file_server.url("good"))
    with pytest.raises(data.DataError) as raised:
        data.load_fashion_mnist()
    assert (
        f"Cannot write {blocker}/cache/fashion-mnist/train-images-idx3-ubyte.gz: Not a directory;"
        f" free some space if the disk is full, or set {data.CACHE_DIR_ENV} to another folder."
        == str(raised.value)
    )


def test_a_folder_in_a_files_place_in_the_cache_is_named(file_server: FileServer, use_mirrors):
    folder = cached() / "t10k-labels-idx1-ubyte.gz"
    folder.mkdir(parents=True)
    use_mirrors(file_server.url("good"))
    with pytest.raises(data.DataError, match=re.escape(f"Cannot write {folder}: Is a directory")):
        data.load_fashion_mnist()
    assert folder.is_dir()  # nothing but the loader's own files is deleted


FULL_DISK = """
import resource, signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (2**20, 2**20))  # no file may grow past 1 MB
try:
    data.load_fashion_mnist()
except data.DataError as err:
    print(err)
"""


def test_a_full_disk_is_reported_as_such(file_server: FileServer) -> None:
    child = run_python(FULL_DISK, **{data.MIRRORS_ENV: file_server.url("good")})
    out, err = child.communicate(timeout=120)
    target = cached() / "train-images-idx3-ubyte.gz"
    assert f"Cannot write {target}: File too large; free some space if the disk" in out, err
    assert "three ways" not in out
    assert cache_files() == []


# --------------------------------------------------------------------------- time limits


@pytest.mark.parametrize(
    ("behaviour", "cause"),
    [("silent", "timed out"), ("trickle", "slow"), ("chunked", "sends its body in chunks")],
)
def test_a_silent_or_trickling_mirror_is_abandoned_for_the_next(
    behaviour: str, cause: str, file_server: FileServer, fast: None, use_mirrors, capsys
) -> None:
    mirrors = [file_server.url(behaviour), file_server.url("good")]
    use_mirrors(*mirrors)
    paths = data.load_fashion_mnist().paths
    assert data.read_idx(paths["train_labels"], "train_labels").shape == (60000,)
    notes = capsys.readouterr().err
    assert f"Could not get {mirrors[0]}train-images-idx3-ubyte.gz (" in notes and cause in notes
    assert cache_files() == sorted(data.FILE_NAMES)


def test_a_download_with_no_stderr_works(
    file_server: FileServer, use_mirrors, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stderr", None)  # as with `2>&-`, or pythonw
    use_mirrors(file_server.url("error"), file_server.url("good"))
    assert data.load_fashion_mnist().origin == "download"
    monkeypatch.setenv(data.CACHE_DIR_ENV, str(data.cache_dir() / "x"))
    child = subprocess.run(
        [sys.executable, "-m", "d2lutil.data", "fetch"],
        stderr=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        timeout=300,
        env={**os.environ, data.MIRRORS_ENV: file_server.url("good")},
        close_fds=True,
        preexec_fn=lambda: os.close(2),
    )
    assert child.returncode == 0 and "verified: the four files" in child.stdout


# --------------------------------------------------------------------------- redirects


def test_redirects_go_only_to_https_or_the_same_host_and_are_never_read(
    file_server: FileServer, tls_file_server: FileServer, use_mirrors, monkeypatch
) -> None:
    monkeypatch.setattr(certifi, "where", lambda: str(tls_file_server.certificate))
    for behaviour in ("here", "tls", "chain/9"):  # each redirect announces a 1 GB body
        use_mirrors(file_server.url(behaviour))
        loaded = data.load_fashion_mnist()
        assert loaded.origin == "download"  # so the files removed below are the test's cache
        assert data.read_idx(loaded.paths["test_labels"], "test_labels").shape == (10000,)
        for path in loaded.paths.values():
            path.unlink()
    assert tls_file_server.requests["/good/t10k-labels-idx1-ubyte.gz"] >= 1
    refused = ("away", "ftp")  # http to another host; ftp:// on the same host
    for behaviour, cause in [
        *((b, "neither https nor its own") for b in refused),
        ("chain/10", "302"),
    ]:
        use_mirrors(file_server.url(behaviour))
        with pytest.raises(data.DataError, match=cause):
            data.load_fashion_mnist()


def test_https_certificates_are_checked(
    tls_file_server: FileServer, use_mirrors, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_mirrors(tls_file_server.url("good"))
    with pytest.raises(data.DataError, match="CERTIFICATE_VERIFY_FAILED"):
        data.load_fashion_mnist()
    monkeypatch.setattr(certifi, "where", lambda: str(tls_file_server.certificate))
    assert data.load_fashion_mnist().origin == "download"


def test_the_proxy_the_environment_names_is_used(
    file_server: FileServer, use_mirrors, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", file_server.url("")[:-2])
    before = file_server.proxied
    use_mirrors("http://fashion-mnist.example/good/")
    data.load_fashion_mnist()
    assert file_server.proxied - before == 4


# --------------------------------------------------------------------------- the cache


def tamper(how: str, folder: Path, elsewhere: Path) -> None:
    labels = folder / "train-labels-idx1-ubyte.gz"
    content = gzip.decompress(labels.read_bytes())
    crafted = gzip.compress(content[:8] + bytes((b + 1) % 10 for b in content[8:]), mtime=0)
    if how == "rewrite-in-place":
        with open(folder / "train-images-idx3-ubyte.gz", "r+b") as file:
            file.seek(10**7)
            file.write(b"\x55")
    elif how == "swap":  # the training and test images trade names
        (folder / "train-images-idx3-ubyte.gz").rename(folder / "swap")
        (folder / "t10k-images-idx3-ubyte.gz").rename(folder / "train-images-idx3-ubyte.gz")
        (folder / "swap").rename(folder / "t10k-images-idx3-ubyte.gz")
    elif how == "truncate":
        os.truncate(folder / "train-images-idx3-ubyte.gz", 1000)
    elif how == "crafted":  # the right header and size, other labels
        labels.write_bytes(crafted)
    elif how == "symlink-to-crafted":
        (elsewhere / "crafted.gz").write_bytes(crafted)
        labels.unlink()
        labels.symlink_to(elsewhere / "crafted.gz")


@pytest.mark.parametrize(
    "how", ["rewrite-in-place", "swap", "truncate", "crafted", "symlink-to-crafted"]
)
def test_no_wrong_data_is_served_whatever_happens_to_the_cache(
    how: str, file_server: FileServer, reference: data.FashionMNIST, tmp_path: Path, use_mirrors
) -> None:
    use_mirrors(file_server.url("good"))
    assert_same(data.load_fashion_mnist(), reference)  # fills the cache
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    tamper(how, cached(), elsewhere)
    loaded = data.load_fashion_mnist()
    assert loaded.origin == "download"
    assert_same(loaded, reference)
    assert data.load_fashion_mnist().origin == "user cache"
    assert cache_files() == sorted(data.FILE_NAMES)
    assert not any(p.is_symlink() for p in cached().iterdir())
    if how == "symlink-to-crafted":  # the link was replaced, not what it pointed to
        assert (elsewhere / "crafted.gz").is_file()


def test_nothing_but_the_loaders_own_temporary_files_is_deleted(
    file_server: FileServer, tmp_path: Path, use_mirrors
) -> None:
    other = tmp_path / "other"  # the cache's data folder is a link to a folder of other files
    unrelated = [
        "notes.txt",
        "train-images-idx3-ubyte.gz.bak",
        "tmpabcd1234",
        ".train-images-idx3-ubyte.gz.abcd1234.part",
        "t10k-images-idx3-ubyte",
    ]
    other.mkdir()
    for name in unrelated:
        (other / name).write_text("mine")
    data.cache_dir().mkdir(parents=True)
    cached().symlink_to(other)
    use_mirrors(file_server.url("corrupt"), file_server.url("good"))
    data.load_fashion_mnist()
    (other / "train-labels-idx1-ubyte.gz").write_bytes(b"damaged")  # replaced by a download
    data.load_fashion_mnist()
    assert all((other / name).read_text() == "mine" for name in unrelated)
    assert cached().is_symlink()
    assert sorted(p.name for p in other.iterdir()) == sorted([*data.FILE_NAMES, *unrelated])


# --------------------------------------------------------------------------- concurrency


def test_a_stopped_or_slow_download_does_not_hold_up_another(
    file_server: FileServer, reference: data.FashionMNIST, use_mirrors
) -> None:
    file_server.sending.clear()
    file_server.release.clear()
    use_mirrors(file_server.url("hold"))  # read by each thread as it starts to download
    slow = threading.Thread(target=data.load_fashion_mnist)
    slow.start()  # holds a half-written temporary file in the cache folder
    try:
        wait_for(file_server.sending.is_set, "the held download")
        use_mirrors(file_server.url("good"))
        other = threading.Thread(target=lambda: assert_same(data.load_fashion_mnist(), reference))
        other.start()
        other.join(120)  # a guard: with a lock this would wait for the held download
        assert not other.is_alive(), "the second load waited for the first"
        assert any(name.endswith(".part") for name in cache_files())  # the first's own
    finally:
        file_server.release.set()
        slow.join(120)
    assert cache_files() == sorted(data.FILE_NAMES)
    assert_same(data.load_fashion_mnist(), reference)


def test_concurrent_first_loads_into_one_empty_cache_all_succeed(
    file_server: FileServer, reference: data.FashionMNIST
) -> None:
    code = "print(data.load_fashion_mnist().origin)"
    env = {data.MIRRORS_ENV: file_server.url("good")}
    children = [run_python(code, **env) for _ in range(3)]
    results = [child.communicate(timeout=300) for child in children]
    for child, (out, err) in zip(children, results, strict=True):
        assert child.returncode == 0 and out.split()[-1] in ("download", "user cache"), err
    assert cache_files() == sorted(data.FILE_NAMES)
    assert_same(data.load_fashion_mnist(), reference)
