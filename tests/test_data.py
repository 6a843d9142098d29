"""The data layer on local files: batches, arguments, the search order, damaged files, CLI."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import d2lutil
from d2lutil import data
from d2lutil.data.__main__ import main as cli


def copy_data(src: Path, dst: Path) -> Path:
    """Copy the four files into ``dst``."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in data.FILE_NAMES:
        shutil.copyfile(src / name, dst / name)
    return dst


def damage(path: Path, how: str) -> Path:
    """Damage the gzipped IDX file ``path`` in one of several ways."""
    raw = path.read_bytes()
    content = gzip.decompress(raw)
    damaged = {
        "corrupt-gzip": lambda: raw[: len(raw) // 2] + b"\xff" * 32 + raw[len(raw) // 2 + 32 :],
        "truncated-gzip": lambda: raw[: len(raw) // 2],
        "truncated-content": lambda: gzip.compress(content[:-784], compresslevel=1),
        "wrong-magic": lambda: gzip.compress(b"\0\0\x08\x01" + content[4:], compresslevel=1),
        "wrong-hash": lambda: gzip.compress(content[:-1] + b"\x01", compresslevel=1),
        "junk-after": lambda: raw + b"junk",
        "not-gzip": lambda: content,
        "garbage": lambda: os.urandom(len(raw)),
    }
    path.write_bytes(damaged[how]())
    return path


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "d2lutil.data", *args]
    environment = {**os.environ, **env}
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=120)


# --------------------------------------------------------------------------- batches


def test_batches_have_d2l_shapes_and_counts(real_data_dir: Path) -> None:
    train_iter, test_iter = data.load_data_fashion_mnist(256, seed=0, data_dir=real_data_dir)
    assert (len(train_iter), len(test_iter)) == (235, 40)
    assert train_iter.batch_size == 256 and train_iter.images.shape == (60000, 28, 28)
    assert train_iter.images.dtype == np.uint8 and train_iter.y.dtype == np.int64
    X, y = next(iter(train_iter))
    assert X.shape == (256, 1, 28, 28) and X.dtype == np.float32
    assert y.shape == (256,) and y.dtype == np.int64
    assert X.min() >= 0.0 and X.max() <= 1.0
    sizes = [len(y) for _, y in test_iter]
    assert sizes[-1] == 10000 - 39 * 256 and sum(sizes) == 10000
    assert np.bincount(train_iter.y).tolist() == [6000] * 10
    X0, y0 = next(iter(test_iter))
    np.testing.assert_array_equal(X0, test_iter.images[:256, None] * np.float32(1 / 255))
    np.testing.assert_array_equal(y0, test_iter.y[:256])


def test_training_order_is_seeded_and_new_every_epoch(real_data_dir: Path) -> None:
    a, test_iter = data.load_data_fashion_mnist(256, seed=7, data_dir=real_data_dir)
    b, _ = data.load_data_fashion_mnist(256, seed=7, data_dir=real_data_dir)
    epoch1_a = np.concatenate([y for _, y in a])
    np.testing.assert_array_equal(epoch1_a, np.concatenate([y for _, y in b]))
    rng = np.random.default_rng(7)  # the order is rng.permutation(n), drawn for each epoch
    np.testing.assert_array_equal(epoch1_a, a.y[rng.permutation(60000)])
    np.testing.assert_array_equal(np.concatenate([y for _, y in a]), a.y[rng.permutation(60000)])
    np.testing.assert_array_equal(np.concatenate([y for _, y in test_iter]), test_iter.y)


def test_text_labels() -> None:
    assert d2lutil.get_fashion_mnist_labels([0, 9, 5]) == ["t-shirt", "ankle boot", "sandal"]
    assert d2lutil.get_fashion_mnist_labels(np.array([[1], [2]])) == ["trouser", "pullover"]
    for bad in ([10], [-1], [1.5]):
        with pytest.raises(ValueError, match="0 to 9"):
            d2lutil.get_fashion_mnist_labels(bad)


# --------------------------------------------------------------------------- arguments


def test_bad_arrays_are_refused_at_construction() -> None:
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"images must be uint8 \(N, H, W\)"):
        data.MinibatchIterable(images.reshape(4, -1), [0, 1, 2, 3], 2)
    with pytest.raises(ValueError, match="images must be uint8"):
        data.MinibatchIterable(images.astype(np.float32), [0, 1, 2, 3], 2)
    with pytest.raises(ValueError, match="labels must be 4 labels"):
        data.MinibatchIterable(images, [0, 1, 2], 2)
    assert [len(y) for _, y in data.MinibatchIterable(images, [0, 1, 2, 3], 3)] == [3, 1]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: data.load_data_fashion_mnist(0), "batch_size"),
        (lambda: data.load_data_fashion_mnist(True), "batch_size"),
        (lambda: data.load_data_fashion_mnist(256.0), "batch_size"),
        (lambda: data.load_data_fashion_mnist("256"), "batch_size"),
        (lambda: data.load_data_fashion_mnist(256, seed=-1), "seed"),
        (lambda: data.load_data_fashion_mnist(256, seed=1.5), "seed"),
        (lambda: data.load_data_fashion_mnist(256, seed=False), "seed"),
        (lambda: data.load_data_fashion_mnist(256, seed=np.random.default_rng()), "seed"),
        (lambda: data.load_fashion_mnist(""), "data_dir must be a path"),
        (lambda: data.load_fashion_mnist(data_dir=3), "data_dir must be a path"),
        (lambda: data.load_fashion_mnist(data_dir="/tmp/a\0b"), "data_dir must be a path"),
        (lambda: data.load_fashion_mnist(download="no"), "download must be True or False"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(
    call, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing may appear here, nor in the cache
    with pytest.raises(ValueError, match=message):
        call()
    assert list(tmp_path.iterdir()) == []
    assert not data.cache_dir().exists()


@pytest.mark.parametrize("url", ["http://alice:pa/ss@example.org/", "https://u:p@x/", "x@y"])
def test_a_mirror_with_a_password_is_refused_without_showing_it(
    url: str, use_mirrors, capsys: pytest.CaptureFixture[str]
) -> None:
    use_mirrors(url)
    with pytest.raises(ValueError, match="no @") as raised:
        data.load_fashion_mnist()
    assert "ss@" not in str(raised.value) and "alice" not in str(raised.value)
    assert not data.cache_dir().exists()  # refused before any work
    assert cli(["fetch"]) == 2
    shown = capsys.readouterr()
    assert "ss@" not in shown.out + shown.err and "alice" not in shown.out + shown.err
    assert shown.err.startswith(f"error: ${data.MIRRORS_ENV} must be http(s) URLs")


def test_mirrors_from_the_environment_are_read_only_when_a_download_needs_them(
    real_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(data.MIRRORS_ENV, "file:///etc/")
    with pytest.raises(ValueError, match="MIRRORS must be"):
        data.load_fashion_mnist()
    assert data.load_fashion_mnist(real_data_dir).origin == "data_dir argument"
    copy_data(real_data_dir, data.cache_dir() / "fashion-mnist")  # no download needed
    assert data.load_fashion_mnist().origin == "user cache"
    (data.cache_dir() / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    for malformed in ("http:///no-host/", "http://[::1/"):  # urlsplit refuses the second
        monkeypatch.setenv(data.MIRRORS_ENV, malformed)
        with pytest.raises(ValueError, match=f"{data.MIRRORS_ENV} must be http.s. URLs, each with"):
            data.load_fashion_mnist()


@pytest.mark.parametrize("variable", [data.CACHE_DIR_ENV, data.DATA_DIR_ENV])
@pytest.mark.parametrize("value", [" ", "relative/folder", "~nosuchuser/x"])
def test_folders_from_the_environment_must_be_absolute(
    variable: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=rf"^\${variable} must be an absolute path"):
        data.load_fashion_mnist()
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- finding


def test_search_order_named_folder_alone_else_system_then_cache(
    real_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = copy_data(real_data_dir, tmp_path / "named")
    env_dir = copy_data(real_data_dir, tmp_path / "env")
    cached = copy_data(real_data_dir, data.cache_dir() / "fashion-mnist")
    monkeypatch.setenv(data.DATA_DIR_ENV, str(env_dir))
    loaded = data.load_fashion_mnist(named)
    assert (loaded.origin, loaded.paths["train_images"].parent) == ("data_dir argument", named)
    loaded = data.load_fashion_mnist()
    assert (loaded.origin, loaded.paths["test_labels"].parent) == (f"${data.DATA_DIR_ENV}", env_dir)
    monkeypatch.delenv(data.DATA_DIR_ENV)
    assert data.load_fashion_mnist().origin == "user cache"
    monkeypatch.setattr(data, "SYSTEM_DIRS", (str(real_data_dir),))
    assert data.load_fashion_mnist().origin == "system copy"
    damage(cached / "train-labels-idx1-ubyte.gz", "garbage")
    monkeypatch.setattr(data, "SYSTEM_DIRS", (str(tmp_path / "nowhere"),))
    with pytest.raises(data.DataError) as raised:  # the damaged cache is named, not served
        data.load_fashion_mnist(download=False)
    assert "train-labels-idx1-ubyte.gz" in str(raised.value)
    for way in ("python -m d2lutil.data fetch", "apt-get install", data.DATA_DIR_ENV):
        assert way in str(raised.value)


def test_a_named_folder_lacking_files_is_an_error_not_skipped(
    real_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    partial = copy_data(real_data_dir, tmp_path / "partial")
    (partial / "t10k-labels-idx1-ubyte.gz").unlink()
    copy_data(real_data_dir, data.cache_dir() / "fashion-mnist")
    missing = f"Cannot read {partial}/t10k-labels-idx1-ubyte.gz: No such file or directory"
    with pytest.raises(data.DataError, match=missing):
        data.load_fashion_mnist(partial)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(data.DataError, match=r"nowhere/train-images-idx3-ubyte\.gz: No such"):
        data.load_fashion_mnist()


def test_a_recompressed_or_multi_member_copy_of_the_same_data_is_accepted(
    real_data_dir: Path, tmp_path: Path
) -> None:
    reference = data.load_fashion_mnist(real_data_dir)
    folder = copy_data(real_data_dir, tmp_path / "copy")
    content = gzip.decompress((folder / "train-images-idx3-ubyte.gz").read_bytes())
    recompressed = gzip.compress(content, compresslevel=0, mtime=0)  # other bytes, same data
    (folder / "train-images-idx3-ubyte.gz").write_bytes(recompressed)
    labels = gzip.decompress((folder / "t10k-labels-idx1-ubyte.gz").read_bytes())
    members = [gzip.compress(labels[i : i + 3000], mtime=0) for i in range(0, len(labels), 3000)]
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"".join(members))  # as cat a.gz b.gz
    loaded = data.load_fashion_mnist(folder)
    np.testing.assert_array_equal(loaded.train_images, reference.train_images)
    np.testing.assert_array_equal(loaded.test_labels, reference.test_labels)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"".join(members[:3]))
    with pytest.raises(data.DataError, match="is not t10k-labels-idx1-ubyte: its header or"):
        data.load_fashion_mnist(folder)


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("corrupt-gzip", "Cannot read|SHA-256|its size"),
        ("truncated-gzip", "Cannot read"),
        ("truncated-content", "its header or its size differs"),
        ("wrong-magic", "its header or its size differs"),
        ("wrong-hash", "SHA-256"),
        ("junk-after", "Cannot read"),
        ("not-gzip", "Cannot read"),
        ("garbage", "Cannot read"),
    ],
)
def test_a_damaged_file_is_refused_by_name(
    how: str, message: str, real_data_dir: Path, tmp_path: Path
) -> None:
    folder = copy_data(real_data_dir, tmp_path / "copy")
    bad = damage(folder / "train-images-idx3-ubyte.gz", how)
    with pytest.raises(data.DataError, match=message) as raised:
        data.load_fashion_mnist(folder)
    assert str(bad) in str(raised.value)
    assert not data.cache_dir().exists()  # nothing was cached or downloaded


def test_a_named_pipe_or_folder_in_a_files_place_is_refused(
    real_data_dir: Path, tmp_path: Path
) -> None:
    folder = copy_data(real_data_dir, tmp_path / "copy")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    os.mkfifo(folder / "t10k-labels-idx1-ubyte.gz")  # a reader that opened it would hang
    with pytest.raises(data.DataError, match="is not t10k-labels-idx1-ubyte: its header"):
        data.load_fashion_mnist(folder)
    with pytest.raises(data.DataError, match="is not t10k-labels-idx1-ubyte: its header"):
        data.read_idx(folder / "t10k-labels-idx1-ubyte.gz", "test_labels")
    with pytest.raises(data.DataError, match=r"Cannot read .*: Is a directory"):
        data.read_idx(folder, "test_labels")


# ------------------------------------------------------------------ bounded memory


GZIP_BOMB = """
import resource, sys, zlib
from d2lutil import data
chunk, deflate = bytes(2**26), zlib.compressobj(9, zlib.DEFLATED, 31)
head = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)  # the same bytes each time
with open(sys.argv[1], "wb") as bomb:  # 4 MB of gzip that inflate to 4 GiB of zeros
    bomb.write(head + block * 63 + deflate.flush())
resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))  # protects the machine
try:
    data.read_idx(sys.argv[1], "train_images")
except data.DataError as err:
    print(err)
print("peak", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, "MB")
"""


def test_a_gzip_bomb_is_refused_with_bounded_memory(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", GZIP_BOMB, str(tmp_path / "bomb.gz")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "bomb.gz is not train-images-idx3-ubyte: its header" in done.stdout
    # Inflated, the bomb would need 4 GiB; the address space is capped at 2 GiB above.
    assert int(done.stdout.split("peak ")[1].split()[0]) < 1000


def test_a_file_larger_than_any_copy_is_refused_unread(tmp_path: Path) -> None:
    huge = tmp_path / "train-labels-idx1-ubyte.gz"
    with open(huge, "wb") as file:
        file.truncate(10**12)  # sparse: a terabyte that takes no room
    with pytest.raises(data.DataError, match="is larger than any copy"):
        data.read_idx(huge, "train_labels")
    huge.write_bytes(gzip.compress(b"", mtime=0) * 2500)  # many empty members: read in turn
    with pytest.raises(data.DataError, match="its header or its size differs"):
        data.read_idx(huge, "train_labels")


# --------------------------------------------------------------------------- command line


def test_cli_verify(real_data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    verify = run_cli("verify", **{data.DATA_DIR_ENV: str(real_data_dir)})
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout == f"verified: the four files in {real_data_dir} (${data.DATA_DIR_ENV})\n"
    assert cli(["verify"]) == 2  # no system copy (see conftest), nothing cached: it never downloads
    shown = capsys.readouterr()
    assert shown.out == "" and "download: disabled" in shown.err and "three ways" in shown.err
    assert not data.cache_dir().exists()
    assert run_cli("where").returncode == 2  # argparse's usage error


def test_cli_reports_damage_with_the_file_name(real_data_dir: Path, tmp_path: Path) -> None:
    folder = copy_data(real_data_dir, tmp_path / "copy")
    bad = damage(folder / "t10k-images-idx3-ubyte.gz", "wrong-magic")
    verify = run_cli("verify", **{data.DATA_DIR_ENV: str(folder)})
    assert verify.returncode == 2 and verify.stdout == ""
    assert f"error: {bad} is not t10k-images-idx3-ubyte: its header" in verify.stderr


def test_cli_into_a_full_disk_is_a_clean_error(real_data_dir: Path) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "d2lutil.data", "verify"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            env={**os.environ, data.DATA_DIR_ENV: str(real_data_dir)},
        )
    assert done.returncode == 2
    assert done.stderr == "error: [Errno 28] No space left on device\n"


def test_a_folder_name_that_is_not_utf8_works(
    real_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    odd = copy_data(real_data_dir, tmp_path / os.fsdecode(b"caf\xe9-\xff"))
    assert data.load_fashion_mnist(odd).origin == "data_dir argument"
    monkeypatch.setenv(data.DATA_DIR_ENV, str(odd))
    assert cli(["verify"]) == 0
    assert "caf\\udce9-\\udcff (" in capsys.readouterr().out
    damage(odd / "train-labels-idx1-ubyte.gz", "garbage")
    assert cli(["verify"]) == 2
    assert "caf\\udce9" in capsys.readouterr().err
