"""The cache folder under abuse: tampering, symlinks, killed and concurrent downloads."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from d2lutil import data
from d2lutil.data.__main__ import main as cli

FILE_NAMES = data.FILE_NAMES


@pytest.fixture(scope="session")
def reference(real_data_dir: Path) -> data.FashionMNIST:
    return data.load_fashion_mnist(real_data_dir)


def cached() -> Path:
    return data.cache_dir() / "fashion-mnist"


def assert_same(loaded: data.FashionMNIST, reference: data.FashionMNIST) -> None:
    for key in ("train_images", "train_labels", "test_images", "test_labels"):
        assert np.array_equal(getattr(loaded, key), getattr(reference, key)), key


def crafted_labels(real_data_dir: Path) -> bytes:
    """A well-formed gzipped IDX file with the right header and size but other labels."""
    content = gzip.decompress((real_data_dir / "train-labels-idx1-ubyte.gz").read_bytes())
    return gzip.compress(content[:8] + bytes((b + 1) % 10 for b in content[8:]), mtime=0)


def flip_in_place(path: Path) -> None:
    """Change one byte in the middle, keeping the file's size and modification time."""
    stat = path.stat()
    with open(path, "r+b") as file:
        file.seek(stat.st_size // 2)
        byte = file.read(1)
        file.seek(stat.st_size // 2)
        file.write(bytes([byte[0] ^ 0x55]))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def tamper(how: str, folder: Path, elsewhere: Path, real_data_dir: Path) -> None:
    labels = folder / "train-labels-idx1-ubyte.gz"
    if how == "rewrite-in-place":  # every file of data the cache holds, whatever its form
        for path in data.cache_dir().rglob("*"):
            if path.is_file() and path.stat().st_size > 1000:
                flip_in_place(path)
    elif how == "swap":  # the training and test images trade names
        (folder / "train-images-idx3-ubyte.gz").rename(folder / "swap")
        (folder / "t10k-images-idx3-ubyte.gz").rename(folder / "train-images-idx3-ubyte.gz")
        (folder / "swap").rename(folder / "t10k-images-idx3-ubyte.gz")
    elif how == "truncate":
        with open(folder / "train-images-idx3-ubyte.gz", "r+b") as file:
            file.truncate(1000)
    elif how == "symlink-to-crafted":
        (elsewhere / "crafted.gz").write_bytes(crafted_labels(real_data_dir))
        labels.unlink()
        labels.symlink_to(elsewhere / "crafted.gz")
    elif how == "crafted":
        labels.write_bytes(crafted_labels(real_data_dir))
    elif how == "garbage":
        labels.write_bytes(os.urandom(labels.stat().st_size))
    else:
        raise AssertionError(how)


@pytest.mark.parametrize(
    "how", ["rewrite-in-place", "swap", "truncate", "symlink-to-crafted", "crafted", "garbage"]
)
def test_no_wrong_data_is_served_whatever_happens_to_the_cache(
    how: str,
    file_server,
    reference,
    real_data_dir: Path,
    tmp_path: Path,
    capsys,
) -> None:
    good = [file_server.url("good")]
    assert_same(data.load_fashion_mnist(mirrors=good), reference)  # download: fills the cache
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    tamper(how, cached(), elsewhere, real_data_dir)

    assert cli(["verify"]) == 2  # what `python -m d2lutil.data verify` runs
    assert "train-" in capsys.readouterr().err  # it names the file

    loaded = data.load_fashion_mnist(mirrors=good)
    assert_same(loaded, reference)
    # The damaged files were replaced by a good download: the next load is a plain cache hit.
    assert loaded.origin == "download" and data.load_fashion_mnist().origin == "user cache"
    assert sorted(p.name for p in cached().iterdir()) == sorted([*FILE_NAMES, ".lock"])
    assert not any(p.is_symlink() for p in cached().iterdir())
    if how == "symlink-to-crafted":  # the link went, not what it pointed to
        assert (elsewhere / "crafted.gz").read_bytes() == crafted_labels(real_data_dir)


def test_a_damaged_cache_falls_back_to_the_system_copy_and_is_cleared(
    file_server,
    reference: data.FashionMNIST,
    real_data_dir: Path,
    monkeypatch,
) -> None:
    data.fetch_fashion_mnist(mirrors=[file_server.url("good")])
    (cached() / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b garbage")
    monkeypatch.setattr("d2lutil.data.sources.SYSTEM_DIRS", (str(real_data_dir),))
    loaded = data.load_fashion_mnist(download=False)
    assert loaded.origin == "system copy"
    assert_same(loaded, reference)
    assert not (cached() / "t10k-labels-idx1-ubyte.gz").exists()  # not left to fail again
    assert data.load_fashion_mnist(download=False).origin == "system copy"


def test_a_folder_in_the_place_of_a_part_file_is_named_in_the_error(file_server) -> None:
    part = cached() / "train-labels-idx1-ubyte.gz.part"
    part.mkdir(parents=True)
    (part / "mine.txt").write_text("mine")
    with pytest.raises(
        data.DataError,
        match=rf"^Cannot remove {re.escape(str(part))} \(a killed download's\): Is a dir",
    ):
        data.fetch_fashion_mnist(mirrors=[file_server.url("good")], progressbar=False)
    assert (part / "mine.txt").read_text() == "mine"


def test_a_cache_folder_that_cannot_be_looked_into_is_a_miss(
    real_data_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv(data.CACHE_DIR_ENV, str(tmp_path / ("x" * 300)))  # name too long
    monkeypatch.setattr("d2lutil.data.sources.SYSTEM_DIRS", (str(real_data_dir),))
    assert data.load_fashion_mnist(download=False).origin == "system copy"
    assert cli(["where"]) == 0
    with pytest.raises(data.DataError, match="File name too long"):
        data.fetch_fashion_mnist()


def test_a_folder_in_the_place_of_the_lock_is_named(file_server) -> None:
    (cached() / ".lock").mkdir(parents=True)
    message = f"cannot write to the cache folder {cached()} ({cached() / '.lock'}: Is a directory)"
    with pytest.raises(data.DataError, match=re.escape(message)):
        data.fetch_fashion_mnist(mirrors=[file_server.url("good")])


def test_a_killed_download_is_cleared_by_a_load_served_from_elsewhere(
    real_data_dir: Path, monkeypatch
) -> None:
    cached().mkdir(parents=True)
    (cached() / "train-images-idx3-ubyte.gz.part").write_bytes(b"\x1f\x8b" + bytes(10**6))
    monkeypatch.setattr("d2lutil.data.sources.SYSTEM_DIRS", (str(real_data_dir),))
    assert data.load_fashion_mnist(download=False).origin == "system copy"
    assert sorted(p.name for p in cached().iterdir()) == [".lock"]


def test_a_file_system_without_locks_is_said_and_still_works(
    file_server, monkeypatch, capsys
) -> None:
    import errno
    import fcntl

    def no_locks(*args: object) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    data.fetch_fashion_mnist(mirrors=[file_server.url("good")], progressbar=False)
    err = capsys.readouterr().err
    assert "cannot lock" in err and os.strerror(errno.ENOLCK) in err
    assert data.find_fashion_mnist()[1] == "user cache"


@pytest.mark.parametrize("lock", ["fifo", "held-by-another-process"])
def test_a_strange_or_busy_lock_never_stalls_a_load_that_needs_no_download(
    lock: str, file_server, reference: data.FashionMNIST, real_data_dir: Path, monkeypatch
) -> None:
    data.fetch_fashion_mnist(mirrors=[file_server.url("good")])
    (cached() / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b garbage")
    (cached() / ".lock").unlink()
    holder = None
    if lock == "fifo":
        os.mkfifo(cached() / ".lock")  # opening it for writing would wait for a reader
    else:
        (cached() / ".lock").touch()
        code = "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX)"
        code += "; print('held', flush=True); time.sleep(60)"
        holder = subprocess.Popen(
            [sys.executable, "-c", code, str(cached() / ".lock")], stdout=subprocess.PIPE, text=True
        )
        assert holder.stdout.readline() == "held\n"
    monkeypatch.setattr("d2lutil.data.sources.SYSTEM_DIRS", (str(real_data_dir),))
    try:
        start = time.monotonic()
        loaded = data.load_fashion_mnist(download=False)
        assert time.monotonic() - start < 10  # not the holder's 60 s, nor forever
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
    assert loaded.origin == "system copy"
    assert_same(loaded, reference)


@pytest.mark.parametrize("how", ["fifo", "dangling-link", "empty", "folder"])
def test_any_cache_problem_is_a_miss_and_is_repaired(
    how: str,
    file_server,
    reference: data.FashionMNIST,
) -> None:
    good = [file_server.url("good")]
    data.fetch_fashion_mnist(mirrors=good)
    victim = cached() / "train-images-idx3-ubyte.gz"
    victim.unlink()
    if how == "fifo":  # opening it for reading would wait for a writer forever
        os.mkfifo(victim)
    elif how == "dangling-link":
        victim.symlink_to(cached() / "nowhere")
    elif how == "empty":
        victim.touch()
    else:
        shutil.rmtree(cached())
        cached().write_text("a file where the folder should be")
    if how == "folder":  # no usable cache and no other source: an error that says so
        with pytest.raises(data.DataError, match=r"(?i)cannot write to the cache folder"):
            data.load_fashion_mnist(mirrors=good)
        return
    loaded = data.load_fashion_mnist(mirrors=good)
    assert loaded.origin == "download"
    assert_same(loaded, reference)
    assert data.load_fashion_mnist().origin == "user cache"


def test_a_folder_in_the_place_of_a_cache_file_is_left_alone(
    file_server,
    reference: data.FashionMNIST,
    real_data_dir: Path,
    monkeypatch,
) -> None:
    data.fetch_fashion_mnist(mirrors=[file_server.url("good")])
    victim = cached() / "train-images-idx3-ubyte.gz"
    victim.unlink()
    victim.mkdir()
    (victim / "mine.txt").write_text("mine")
    with pytest.raises(
        data.DataError,
        match=rf"^Cannot remove {re.escape(str(victim))} \(it does not verify\): Is a dir",
    ):
        data.load_fashion_mnist(mirrors=[file_server.url("good")])
    monkeypatch.setattr("d2lutil.data.sources.SYSTEM_DIRS", (str(real_data_dir),))
    loaded = data.load_fashion_mnist(mirrors=[file_server.url("good")])
    assert loaded.origin == "system copy"
    assert_same(loaded, reference)
    assert (victim / "mine.txt").read_text() == "mine"


def test_nothing_outside_the_cache_files_is_deleted(
    file_server,
    real_data_dir: Path,
    tmp_path: Path,
) -> None:
    # The data folder and the array folder of older versions are links to folders of other files.
    other = tmp_path / "other"
    unrelated = {
        "notes.txt": b"mine",
        "train-images-idx3-ubyte.gz.bak": b"mine",
        "train-images-idx3-ubyte-notes.txt": b"mine",
        "tmpabcd1234": b"mine",
        ".download-old/keep.txt": b"mine",
        "arrays/train-images-idx3-ubyte-keep.npy": b"mine",
    }
    for name, content in unrelated.items():
        (other / name).parent.mkdir(parents=True, exist_ok=True)
        (other / name).write_bytes(content)
    os.utime(other / ".download-old", (0, 0))
    data.cache_dir().mkdir(parents=True)
    (data.cache_dir() / "fashion-mnist").symlink_to(other)
    (data.cache_dir() / "arrays").symlink_to(other)
    good = [file_server.url("good")]

    def assert_untouched() -> None:
        for name, content in unrelated.items():
            assert (other / name).read_bytes() == content, name
        assert (data.cache_dir() / "fashion-mnist").is_symlink()

    for _ in range(2):
        data.load_fashion_mnist(mirrors=good)
        data.fetch_fashion_mnist(mirrors=good)
    assert_untouched()
    (other / "train-labels-idx1-ubyte.gz").write_bytes(b"damaged")  # removed, and downloaded
    data.load_fashion_mnist(mirrors=good)
    assert_untouched()


# --------------------------------------------------------------------------- killed and concurrent


def start_child(code: str) -> subprocess.Popen:
    prelude = (
        "from d2lutil import data\nfrom d2lutil.data import sources\nsources.SYSTEM_DIRS = ()\n"
    )
    return subprocess.Popen([sys.executable, "-c", prelude + textwrap.dedent(code)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def wait_for_partial_file(timeout: float = 30) -> list[Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        partial = [p for p in data.cache_dir().rglob("*") if p.is_file() and p.name != ".lock"]
        if any(p.stat().st_size for p in partial):
            return partial
        time.sleep(0.02)
    raise AssertionError("no partial file appeared")


def wait_until_blocked_on_a_lock(child: subprocess.Popen, timeout: float = 30) -> None:
    """Wait until ``child`` sleeps in the kernel waiting for a file lock (Linux), or a while."""
    wchan = Path(f"/proc/{child.pid}/wchan")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.poll() is None:
        if not wchan.exists():
            time.sleep(2)  # no /proc: give it time to reach the lock
            return
        if "lock" in wchan.read_text():
            return
        time.sleep(0.02)
    raise AssertionError(f"the second process never waited for the lock: {child.communicate()}")


def test_a_killed_download_leaves_no_leftovers(file_server, reference) -> None:
    file_server.sending.clear()
    file_server.release.clear()
    child = start_child(f"data.fetch_fashion_mnist(mirrors=[{file_server.url('hold')!r}])")
    try:
        assert file_server.sending.wait(60), "the download never started"
        wait_for_partial_file()
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        file_server.release.set()
    assert data.find_fashion_mnist() is None  # nothing that looks like data
    assert_same(data.load_fashion_mnist(mirrors=[file_server.url("good")]), reference)
    assert sorted(p.name for p in data.cache_dir().rglob("*")) == sorted(
        ["fashion-mnist", ".lock", *FILE_NAMES]
    )


def test_a_live_download_is_not_disturbed_by_another_process(file_server, reference) -> None:
    file_server.sending.clear()
    file_server.release.clear()
    report = "data.load_fashion_mnist(mirrors=[{!r}])"
    first = start_child(report.format(file_server.url("hold")))
    before = sum(n for path, n in file_server.requests.items() if path.startswith("/good/"))
    try:
        assert file_server.sending.wait(60), "the download never started"
        partial = wait_for_partial_file()
        second = start_child(report.format(file_server.url("good")))
        wait_until_blocked_on_a_lock(second)
        assert all(p.exists() for p in partial)  # the second process left the part file alone
    finally:
        file_server.release.set()
    outputs = [child.communicate(timeout=60) for child in (first, second)]
    assert [child.returncode for child in (first, second)] == [0, 0], outputs
    # The second process found the files the first had downloaded, and downloaded nothing.
    assert sum(n for path, n in file_server.requests.items() if path.startswith("/good/")) == before
    assert_same(data.load_fashion_mnist(download=False), reference)


def test_concurrent_loads_into_one_empty_cache_all_succeed(file_server, reference) -> None:
    expected = hashlib.sha256(reference.train_images.tobytes() + reference.test_labels.tobytes())
    code = f"""
        import hashlib
        for _ in range(2):  # the second load reads while others may still be writing
            loaded = data.load_fashion_mnist(mirrors=[{file_server.url("good")!r}])
            digest = hashlib.sha256(loaded.train_images.tobytes() + loaded.test_labels.tobytes())
            print(digest.hexdigest())
    """
    children = [start_child(code) for _ in range(8)]
    outputs = [child.communicate(timeout=120) for child in children]
    assert [child.returncode for child in children] == [0] * 8, [err for _, err in outputs]
    assert all(out.split() == [expected.hexdigest()] * 2 for out, _ in outputs)
