"""The data layer against the real files: loading, batches, the search order, bad files, CLI."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from d2lutil import data

FILE_NAMES = data.FILE_NAMES


def copy_data(src: Path, dst: Path, *, decompress: bool = False) -> Path:
    """Copy the four files into ``dst`` (gzipped as they are, or decompressed)."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in FILE_NAMES:
        content = (src / name).read_bytes()
        if decompress:
            (dst / name[:-3]).write_bytes(gzip.decompress(content))
        else:
            (dst / name).write_bytes(content)
    return dst


def damage(folder: Path, name: str, how: str) -> Path:
    """Damage ``folder/name`` (a gzipped IDX file) in one of several ways."""
    path = folder / name
    raw = path.read_bytes()
    content = gzip.decompress(raw)
    if how == "corrupt-gzip":
        middle = len(raw) // 2
        path.write_bytes(raw[:middle] + b"\xff" * 32 + raw[middle + 32 :])
    elif how == "truncated-gzip":
        path.write_bytes(raw[: len(raw) // 2])
    elif how == "truncated-content":
        path.write_bytes(gzip.compress(content[: len(content) - 784], compresslevel=1))
    elif how == "wrong-magic":
        path.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + content[4:], compresslevel=1))
    elif how == "wrong-hash":
        path.write_bytes(gzip.compress(content[:-1] + bytes([content[-1] ^ 0xFF]), compresslevel=1))
    else:
        raise AssertionError(how)
    return path


def run_cli(*args: str | bytes, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "d2lutil.data", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


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
    assert sum(len(y) for _, y in train_iter) == 60000


def test_batches_serve_the_full_arrays_values(real_data_dir: Path) -> None:
    train_iter, test_iter = data.load_data_fashion_mnist(1000, data_dir=real_data_dir)
    assert train_iter.X.shape == (60000, 1, 28, 28) and train_iter.X.dtype == np.float32
    assert np.bincount(train_iter.y).tolist() == [6000] * 10
    X0, y0 = next(iter(test_iter))
    np.testing.assert_array_equal(X0, test_iter.X[:1000])
    np.testing.assert_array_equal(X0, test_iter.images[:1000, None] * np.float32(1 / 255))
    np.testing.assert_array_equal(y0, test_iter.y[:1000])


def test_training_order_is_seeded_and_new_every_epoch(real_data_dir: Path) -> None:
    a, _ = data.load_data_fashion_mnist(256, seed=7, data_dir=real_data_dir)
    b, _ = data.load_data_fashion_mnist(256, seed=7, data_dir=real_data_dir)
    epoch1_a = np.concatenate([y for _, y in a])
    np.testing.assert_array_equal(epoch1_a, np.concatenate([y for _, y in b]))
    # The order is rng.permutation(n), drawn afresh for each epoch.
    rng = np.random.default_rng(7)
    np.testing.assert_array_equal(epoch1_a, a.y[rng.permutation(60000)])
    np.testing.assert_array_equal(np.concatenate([y for _, y in a]), a.y[rng.permutation(60000)])


def test_test_order_is_storage_order(real_data_dir: Path) -> None:
    _, test_iter = data.load_data_fashion_mnist(256, data_dir=real_data_dir)
    np.testing.assert_array_equal(np.concatenate([y for _, y in test_iter]), test_iter.y)


def test_text_labels() -> None:
    assert data.get_fashion_mnist_labels([0, 9, 5]) == ["t-shirt", "ankle boot", "sandal"]
    assert data.get_fashion_mnist_labels(np.array([[1], [2]])) == ["trouser", "pullover"]
    for bad in ([10], [-1], [1.5]):
        with pytest.raises(ValueError, match="0 to 9"):
            data.get_fashion_mnist_labels(bad)


# --------------------------------------------------------------------------- arguments


@pytest.mark.parametrize("bad", [0, -3, 2.5, "256", None, True, 256.0])
def test_bad_batch_size_is_refused_before_loading(bad: object, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        data.load_data_fashion_mnist(bad, data_dir=tmp_path / "nowhere")  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", ["x", 1.5, True, [1], -1])
def test_bad_seed_is_refused_before_loading(seed: object, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="seed"):
        data.load_data_fashion_mnist(256, seed=seed, data_dir=tmp_path / "nowhere")  # type: ignore[arg-type]


def test_bad_arrays_or_rng_are_refused_at_construction() -> None:
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    with pytest.raises(ValueError, match="uint8 array shaped"):
        data.MinibatchIterable(images.reshape(4, -1), [0, 1, 2, 3], 2)
    with pytest.raises(ValueError, match="uint8 array shaped"):
        data.MinibatchIterable(images.astype(np.float32), [0, 1, 2, 3], 2)
    with pytest.raises(ValueError, match="4 integers, one per image"):
        data.MinibatchIterable(images, [0, 1, 2], 2)
    with pytest.raises(ValueError, match="rng"):
        data.MinibatchIterable(images, [0, 1, 2, 3], 2, shuffle=True, rng=42)  # type: ignore[arg-type]
    batches = data.MinibatchIterable(images, [0, 1, 2, 3], 3)  # plain lists are fine
    assert [len(y) for _, y in batches] == [3, 1]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: data.load_fashion_mnist(mirrors="http://127.0.0.1:9/"), "mirrors must be a list"),
        (lambda: data.fetch_fashion_mnist(mirrors="http://127.0.0.1:9/"), "mirrors must be a list"),
        (lambda: data.load_fashion_mnist(mirrors=["ftp://x/"]), "http"),
        (lambda: data.load_fashion_mnist(mirrors=["http:///x/"]), "with a host"),
        (lambda: data.load_fashion_mnist(mirrors=["http://x:99999/"]), "with a host"),
        (lambda: data.fetch_fashion_mnist(mirrors=["http://al:pw@x/"]), r"\['http://…@x/'\]\.$"),
        (lambda: data.fetch_fashion_mnist(retries=-5), "retries"),
        (lambda: data.fetch_fashion_mnist(retries=1.5), "retries"),
        (lambda: data.load_fashion_mnist(cache=""), "cache must be a folder"),
        (lambda: data.fetch_fashion_mnist(cache=""), "cache must be a folder"),
        (lambda: data.load_fashion_mnist(""), "data_dir must be a folder"),
        (lambda: data.load_fashion_mnist(data_dir=3), "data_dir must be a folder"),
        (lambda: data.load_fashion_mnist(data_dir="~nosuchuser/x"), "data_dir must be a folder"),
        (lambda: data.load_fashion_mnist(cache="~nosuchuser/x"), "cache must be a folder"),
        (lambda: data.load_fashion_mnist(download="no"), "download must be True or False"),
        (lambda: data.load_fashion_mnist(data_dir="/tmp/a\0b"), "data_dir must be a folder"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(
    call, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing may appear here, nor in the cache
    with pytest.raises(ValueError, match=message):
        call()
    assert list(tmp_path.iterdir()) == []


def test_mirrors_from_the_environment_are_checked_when_a_download_needs_them(
    real_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(data.MIRRORS_ENV, "file:///etc/")
    with pytest.raises(ValueError, match=rf"^\${data.MIRRORS_ENV} must be a list of http"):
        data.fetch_fashion_mnist()
    assert data.load_fashion_mnist(real_data_dir).origin == "data_dir argument"
    copy_data(real_data_dir, data.cache_dir() / "fashion-mnist")  # no download needed
    assert data.fetch_fashion_mnist()["train_images"].parent == data.cache_dir() / "fashion-mnist"
    assert data.load_fashion_mnist().origin == "user cache"


@pytest.mark.parametrize("variable", [data.CACHE_DIR_ENV, data.DATA_DIR_ENV])
@pytest.mark.parametrize("value", [" ", "relative/folder", "~nosuchuser/x"])
def test_folders_from_the_environment_must_be_absolute(
    variable: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=rf"^\${variable} must be"):
        data.load_fashion_mnist()
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- finding


def test_search_order_explicit_then_env_then_cache_then_system(
    real_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit = copy_data(real_data_dir, tmp_path / "explicit")
    env_dir = copy_data(real_data_dir, tmp_path / "env")
    cached = copy_data(real_data_dir, data.cache_dir() / "fashion-mnist")
    monkeypatch.setattr("d2lutil.data.sources.SYSTEM_DIRS", (str(real_data_dir),))

    def origin(*args: object) -> tuple[str, Path]:
        paths, how = data.find_fashion_mnist(*args)  # type: ignore[misc]
        return how, paths["train_images"].parent

    monkeypatch.setenv(data.DATA_DIR_ENV, str(env_dir))
    assert origin(explicit) == ("data_dir argument", explicit)
    assert origin() == (f"${data.DATA_DIR_ENV}", env_dir)
    monkeypatch.delenv(data.DATA_DIR_ENV)
    assert origin() == ("user cache", cached)
    assert data.load_fashion_mnist().origin == "user cache"
    for path in cached.iterdir():
        path.unlink()
    assert origin() == ("system copy", real_data_dir)
    monkeypatch.setattr("d2lutil.data.sources.SYSTEM_DIRS", ())
    assert data.find_fashion_mnist() is None


def test_explicit_folder_lacking_files_is_an_error_not_skipped(
    real_data_dir: Path, tmp_path: Path
) -> None:
    partial = copy_data(real_data_dir, tmp_path / "partial")
    (partial / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DataError, match=r"lacks:? t10k-labels-idx1-ubyte\.gz"):
        data.load_fashion_mnist(partial)


def test_env_folder_lacking_files_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(data.DataError, match=data.DATA_DIR_ENV):
        data.load_fashion_mnist()


def test_decompressed_and_recompressed_copies_are_accepted(
    real_data_dir: Path, tmp_path: Path
) -> None:
    reference = data.load_fashion_mnist(real_data_dir)
    plain = data.load_fashion_mnist(copy_data(real_data_dir, tmp_path / "plain", decompress=True))
    recompressed_dir = tmp_path / "recompressed"
    recompressed_dir.mkdir()
    for name in FILE_NAMES:  # a different gzip header and level: other bytes, same content
        content = gzip.decompress((real_data_dir / name).read_bytes())
        (recompressed_dir / name).write_bytes(gzip.compress(content, compresslevel=0, mtime=0))
    recompressed = data.load_fashion_mnist(recompressed_dir)
    for copy in (plain, recompressed):
        np.testing.assert_array_equal(copy.train_images, reference.train_images)
        np.testing.assert_array_equal(copy.test_labels, reference.test_labels)


def test_bytes_after_the_gzip_data_are_refused(real_data_dir: Path, tmp_path: Path) -> None:
    folder = copy_data(real_data_dir, tmp_path / "copy")
    with open(folder / "t10k-labels-idx1-ubyte.gz", "ab") as file:
        file.write(b"junk")
    with pytest.raises(data.DataError, match="has 4 bytes after its gzip data"):
        data.load_fashion_mnist(folder)


def test_a_file_of_many_gzip_members_is_refused_at_once(
    real_data_dir: Path, tmp_path: Path
) -> None:
    folder = copy_data(real_data_dir, tmp_path / "copy")
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"", mtime=0) * 3000)
    start = time.monotonic()  # each member would cost a copy of the rest: quadratic
    with pytest.raises(data.DataError, match="more than 16 gzip members; gunzip it"):
        data.load_fashion_mnist(folder)
    assert time.monotonic() - start < 1


def test_a_multi_member_gzip_file_is_read_as_gzip_reads_it(
    real_data_dir: Path, tmp_path: Path
) -> None:
    folder = copy_data(real_data_dir, tmp_path / "copy")
    content = gzip.decompress((folder / "train-labels-idx1-ubyte.gz").read_bytes())
    members = [
        gzip.compress(content[i : i + 20000], mtime=0) for i in range(0, len(content), 20000)
    ]
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(b"".join(members))  # as `cat a.gz b.gz`
    assert len(members) == 4 and gzip.decompress(b"".join(members)) == content
    loaded = data.load_fashion_mnist(folder)
    np.testing.assert_array_equal(
        loaded.train_labels, data.load_fashion_mnist(real_data_dir).train_labels
    )
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(b"".join(members[:3]))
    with pytest.raises(data.DataError, match="holds 59,992 data bytes, not 60,000"):
        data.load_fashion_mnist(folder)


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("corrupt-gzip", "gzip|SHA-256|inflates to more"),
        ("truncated-gzip", "truncated"),
        ("truncated-content", "data bytes"),
        ("wrong-magic", "magic number"),
        ("wrong-hash", "SHA-256"),
    ],
)
def test_damaged_file_in_an_explicit_folder_is_rejected_by_name(
    how: str, message: str, real_data_dir: Path, tmp_path: Path
) -> None:
    folder = copy_data(real_data_dir, tmp_path / "copy")
    bad = damage(folder, "train-images-idx3-ubyte.gz", how)
    with pytest.raises(data.DataError, match=message) as raised:
        data.load_fashion_mnist(folder)
    assert str(bad) in str(raised.value)
    assert not data.cache_dir().exists()  # nothing was cached or downloaded


# --------------------------------------------------------------------------- command line


def test_cli_where_verify_and_fetch(real_data_dir: Path, file_server) -> None:
    where = run_cli("--data-dir", str(real_data_dir), "where", "--json")
    assert where.returncode == 0, where.stderr
    report = json.loads(where.stdout)
    assert report["origin"] == "data_dir argument"
    assert Path(report["files"]["train_images"]).parent == real_data_dir
    assert len(report["search_order"]) >= 4

    text = run_cli("where")
    assert "search order:" in text.stdout and "user cache" in text.stdout

    verify = run_cli("--data-dir", str(real_data_dir), "verify")
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.count("  ok  ") == 4

    fetch = run_cli("fetch", "--quiet", env={data.MIRRORS_ENV: file_server.url("good")})
    # The system copy, when installed, is found first; either way the data is verified.
    assert fetch.returncode == 0, fetch.stderr
    assert "verified: 60000 training and 10000 test images" in fetch.stdout


def test_cli_reports_damage_with_the_file_name(real_data_dir: Path, tmp_path: Path) -> None:
    folder = copy_data(real_data_dir, tmp_path / "copy")
    bad = damage(folder, "t10k-images-idx3-ubyte.gz", "wrong-magic")
    verify = run_cli("--data-dir", str(folder), "verify")
    assert verify.returncode == 2
    assert str(bad) in verify.stderr and "magic number" in verify.stderr
    assert verify.stdout.count("  ok  ") == 3  # the other three are checked too
