"""The Fashion-MNIST data layer, against the real files and a real HTTP server."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from d2lutil import data

FILE_NAMES = data.FILE_NAMES
NO_SYSTEM: tuple[str, ...] = ()


def copy_data(src: Path, dst: Path, *, decompress: bool = False) -> Path:
    """Copy the four files into ``dst`` (gzipped as they are, or decompressed)."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in FILE_NAMES:
        if decompress:
            (dst / name[:-3]).write_bytes(gzip.decompress((src / name).read_bytes()))
        else:
            (dst / name).write_bytes((src / name).read_bytes())
    return dst


def data_like_files(folder: Path) -> list[Path]:
    """Files in ``folder`` (recursively) that carry one of the data file names."""
    stems = {name[:-3] for name in FILE_NAMES}
    return [p for p in folder.rglob("*") if p.is_file() and p.name.removesuffix(".gz") in stems]


def cache_folder() -> Path:
    return Path(os.environ[data.CACHE_DIR_ENV])


# --------------------------------------------------------------------------- loading


def test_batches_from_the_system_copy_have_d2l_shapes(real_data_dir: Path) -> None:
    train_iter, test_iter = data.load_data_fashion_mnist(256, seed=0, data_dir=real_data_dir)
    assert (len(train_iter), len(test_iter)) == (235, 40)
    X, y = next(iter(train_iter))
    assert X.shape == (256, 1, 28, 28) and X.dtype == np.float32
    assert y.shape == (256,) and y.dtype == np.int64
    assert X.min() >= 0.0 and X.max() <= 1.0
    sizes = [len(y) for _, y in test_iter]
    assert sizes[-1] == 10000 - 39 * 256 and sum(sizes) == 10000
    assert sum(len(y) for _, y in train_iter) == 60000


def test_full_arrays_are_reachable(real_data_dir: Path) -> None:
    train_iter, test_iter = data.load_data_fashion_mnist(1000, data_dir=real_data_dir)
    assert train_iter.X.shape == (60000, 1, 28, 28) and train_iter.X.dtype == np.float32
    assert test_iter.y.shape == (10000,) and test_iter.y.dtype == np.int64
    assert np.bincount(train_iter.y).tolist() == [6000] * 10
    # The batches serve exactly the full arrays' values, in order for the test set.
    X0, y0 = next(iter(test_iter))
    np.testing.assert_array_equal(X0, test_iter.X[:1000])
    np.testing.assert_array_equal(y0, test_iter.y[:1000])


def test_training_order_is_seeded_and_new_every_epoch(real_data_dir: Path) -> None:
    first_labels = lambda it: np.concatenate([y for _, y in it])[:50]  # noqa: E731
    a, _ = data.load_data_fashion_mnist(256, seed=7, data_dir=real_data_dir)
    b, _ = data.load_data_fashion_mnist(256, seed=7, data_dir=real_data_dir)
    epoch1_a, epoch1_b = first_labels(a), first_labels(b)
    np.testing.assert_array_equal(epoch1_a, epoch1_b)
    assert not np.array_equal(first_labels(a), epoch1_a)
    assert sorted(np.concatenate([y for _, y in a]).tolist()) == sorted(a.y.tolist())


def test_test_order_is_storage_order(real_data_dir: Path) -> None:
    _, test_iter = data.load_data_fashion_mnist(256, data_dir=real_data_dir)
    labels = np.concatenate([y for _, y in test_iter])
    np.testing.assert_array_equal(labels, test_iter.y)
    np.testing.assert_array_equal(labels, np.concatenate([y for _, y in test_iter]))


@pytest.mark.parametrize("bad", [0, -3, 2.5, "256", None, True, 256.0])
def test_batch_size_must_be_a_positive_integer(bad: object, real_data_dir: Path) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        data.load_data_fashion_mnist(bad, data_dir=real_data_dir)  # type: ignore[arg-type]


def test_bad_arrays_or_seed_are_refused_clearly(real_data_dir: Path) -> None:
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    with pytest.raises(ValueError, match="uint8 array shaped"):
        data.MinibatchIterable(images.reshape(4, -1), [0, 1, 2, 3], 2)
    with pytest.raises(ValueError, match="uint8 array shaped"):
        data.MinibatchIterable(images.astype(np.float32), [0, 1, 2, 3], 2)
    with pytest.raises(ValueError, match="4 integers, one per image"):
        data.MinibatchIterable(images, [0, 1, 2], 2)
    batches = data.MinibatchIterable(images, [0, 1, 2, 3], 3)  # plain lists are fine
    assert [len(y) for _, y in batches] == [3, 1]
    with pytest.raises(ValueError, match="seed must be"):
        data.load_data_fashion_mnist(256, seed="abc", data_dir=real_data_dir)  # type: ignore[arg-type]


def test_text_labels() -> None:
    assert data.get_fashion_mnist_labels([0, 9, 5]) == ["t-shirt", "ankle boot", "sandal"]
    assert data.get_fashion_mnist_labels(np.array([[1], [2]])) == ["trouser", "pullover"]
    for bad in ([10], [-1], [1.5]):
        with pytest.raises(ValueError, match="0 to 9"):
            data.get_fashion_mnist_labels(bad)


# --------------------------------------------------------------------------- finding


def test_search_order_explicit_then_env_then_cache_then_system(
    real_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit = copy_data(real_data_dir, tmp_path / "explicit")
    env_dir = copy_data(real_data_dir, tmp_path / "env")
    cached = copy_data(real_data_dir, cache_folder() / "fashion-mnist")
    system = (str(real_data_dir),)

    def origin(**kwargs: object) -> tuple[str, Path]:
        paths, how = data.find_fashion_mnist(system_dirs=system, **kwargs)  # type: ignore[misc]
        return how, paths["train_images"].parent

    monkeypatch.setenv(data.DATA_DIR_ENV, str(env_dir))
    assert origin(data_dir=explicit) == ("data_dir argument", explicit)
    assert origin() == (f"${data.DATA_DIR_ENV}", env_dir)
    monkeypatch.delenv(data.DATA_DIR_ENV)
    assert origin() == ("user cache", cached)
    for path in cached.iterdir():
        path.unlink()
    assert origin() == ("system copy", real_data_dir)
    assert data.find_fashion_mnist(system_dirs=NO_SYSTEM) is None


def test_explicit_folder_lacking_files_is_an_error_not_skipped(
    real_data_dir: Path, tmp_path: Path
) -> None:
    partial = copy_data(real_data_dir, tmp_path / "partial")
    (partial / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DataNotFoundError, match=r"t10k-labels-idx1-ubyte\.gz"):
        data.load_fashion_mnist(partial)


def test_env_folder_lacking_files_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(data.DataNotFoundError, match=data.DATA_DIR_ENV):
        data.load_fashion_mnist()


def test_decompressed_and_recompressed_copies_are_accepted(
    real_data_dir: Path, tmp_path: Path
) -> None:
    reference = data.load_fashion_mnist(real_data_dir, use_array_cache=False)
    plain = data.load_fashion_mnist(
        copy_data(real_data_dir, tmp_path / "plain", decompress=True), use_array_cache=False
    )
    recompressed_dir = tmp_path / "recompressed"
    recompressed_dir.mkdir()
    for name in FILE_NAMES:  # different gzip header and level: other bytes, same content
        content = gzip.decompress((real_data_dir / name).read_bytes())
        (recompressed_dir / name).write_bytes(gzip.compress(content, compresslevel=1, mtime=0))
    recompressed = data.load_fashion_mnist(recompressed_dir, use_array_cache=False)
    for copy in (plain, recompressed):
        np.testing.assert_array_equal(copy.train_images, reference.train_images)
        np.testing.assert_array_equal(copy.test_labels, reference.test_labels)


# --------------------------------------------------------------------------- bad files


def damage(folder: Path, name: str, how: str) -> Path:
    path = folder / name
    content = gzip.decompress(path.read_bytes())
    if how == "corrupt-gzip":
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2 : len(raw) // 2 + 32] = b"\xff" * 32
        path.write_bytes(bytes(raw))
    elif how == "truncated-gzip":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "truncated-content":
        path.write_bytes(gzip.compress(content[: len(content) - 784], compresslevel=1))
    elif how == "wrong-magic":
        path.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + content[4:], compresslevel=1))
    elif how == "wrong-hash":
        altered = bytearray(content)
        altered[-1] ^= 0xFF  # one pixel of the last image
        path.write_bytes(gzip.compress(bytes(altered), compresslevel=1))
    else:
        raise AssertionError(how)
    return path


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("corrupt-gzip", "gzip|SHA-256"),
        ("truncated-gzip", "truncated"),
        ("truncated-content", "data bytes"),
        ("wrong-magic", "magic number"),
        ("wrong-hash", "SHA-256"),
    ],
)
def test_damaged_file_is_rejected_by_name_and_never_cached(
    how: str, message: str, real_data_dir: Path, tmp_path: Path
) -> None:
    folder = copy_data(real_data_dir, tmp_path / "copy")
    bad = damage(folder, "train-images-idx3-ubyte.gz", how)
    with pytest.raises(data.CorruptDataError, match=message) as raised:
        data.load_fashion_mnist(folder)
    assert str(bad) in str(raised.value)
    cached = list((cache_folder() / "arrays").glob("train-images*"))
    assert cached == []


def test_damaged_file_in_the_cache_is_reported_not_used(
    real_data_dir: Path, tmp_path: Path
) -> None:
    folder = copy_data(real_data_dir, cache_folder() / "fashion-mnist")
    bad = damage(folder, "t10k-labels-idx1-ubyte.gz", "wrong-hash")
    with pytest.raises(data.CorruptDataError, match="t10k-labels") as raised:
        data.load_fashion_mnist(system_dirs=NO_SYSTEM)
    assert str(bad) in str(raised.value)


# --------------------------------------------------------------------------- array cache


def test_warm_load_comes_from_verified_arrays(real_data_dir: Path) -> None:
    cold = data.load_fashion_mnist(real_data_dir)
    cached = sorted((cache_folder() / "arrays").glob("*.npy"))
    assert len(cached) == 4
    warm = data.load_fashion_mnist(real_data_dir)
    np.testing.assert_array_equal(warm.train_images, cold.train_images)
    # A tampered array is not trusted: it is rebuilt from the source file.
    train_npy = next(p for p in cached if p.name.startswith("train-images"))
    array = np.load(train_npy)
    array[0, 0, 0] ^= 1
    np.save(train_npy, array)
    again = data.load_fashion_mnist(real_data_dir)
    np.testing.assert_array_equal(again.train_images, cold.train_images)
    assert np.array_equal(np.load(train_npy), cold.train_images)


def test_array_cache_without_a_valid_stamp_is_hashed_again(real_data_dir: Path) -> None:
    data.load_fashion_mnist(real_data_dir)
    arrays = cache_folder() / "arrays"
    stamps = sorted(arrays.glob("*.verified.json"))
    assert len(stamps) == 4
    train_npy = next(arrays.glob("train-images*.npy"))
    stamp = train_npy.with_suffix(".verified.json")
    # A lost stamp costs one hash, and the stamp comes back.
    stamp.unlink()
    data.load_fashion_mnist(real_data_dir)
    assert stamp.is_file()
    # Damage that keeps the file's size but changes its time is caught by the hash.
    with open(train_npy, "r+b") as file:
        file.seek(-1, os.SEEK_END)
        last = file.read(1)
        file.seek(-1, os.SEEK_END)
        file.write(bytes([last[0] ^ 0xFF]))
    os.utime(train_npy, ns=(train_npy.stat().st_atime_ns, train_npy.stat().st_mtime_ns + 10**9))
    warm = data.load_fashion_mnist(real_data_dir)
    assert warm.train_images[-1, -1, -1] == last[0]  # rebuilt from the source file


def test_changed_source_file_is_verified_again(real_data_dir: Path, tmp_path: Path) -> None:
    folder = copy_data(real_data_dir, tmp_path / "copy")
    data.load_fashion_mnist(folder)
    damage(folder, "train-labels-idx1-ubyte.gz", "wrong-hash")
    with pytest.raises(data.CorruptDataError, match="train-labels"):
        data.load_fashion_mnist(folder)


def test_unwritable_array_cache_falls_back_with_a_warning(
    real_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(data.CACHE_DIR_ENV, str(blocker / "cache"))
    with pytest.warns(UserWarning, match=data.CACHE_DIR_ENV):
        loaded = data.load_fashion_mnist(real_data_dir)
    assert loaded.train_images.shape == (60000, 28, 28)


# --------------------------------------------------------------------------- download


def test_download_from_a_local_mirror_then_served_from_cache(file_server) -> None:
    train_iter, test_iter = data.load_data_fashion_mnist(
        256, mirrors=[file_server.url("good")], system_dirs=NO_SYSTEM
    )
    assert (len(train_iter), len(test_iter)) == (235, 40)
    assert next(iter(train_iter))[0].shape == (256, 1, 28, 28)
    stored = sorted(p.name for p in (cache_folder() / "fashion-mnist").iterdir())
    assert stored == sorted(FILE_NAMES)
    before = sum(file_server.requests.values())
    again = data.load_fashion_mnist(mirrors=[file_server.url("good")], system_dirs=NO_SYSTEM)
    assert again.origin == "user cache"
    assert sum(file_server.requests.values()) == before


def test_mirrors_are_tried_in_order(file_server, capsys: pytest.CaptureFixture[str]) -> None:
    mirrors = [file_server.url("missing"), file_server.url("error"), file_server.url("good")]
    data.fetch_fashion_mnist(mirrors=mirrors, retries=0, progressbar=False)
    err = capsys.readouterr().err
    assert file_server.url("missing") in err and file_server.url("error") in err
    assert len(data.find_fashion_mnist(system_dirs=NO_SYSTEM)[0]) == 4


def test_a_failed_request_is_retried(file_server) -> None:
    name = "t10k-labels-idx1-ubyte.gz"
    paths = data.fetch_fashion_mnist(
        mirrors=[file_server.url("flaky")], retries=1, progressbar=False
    )
    assert file_server.requests[f"/flaky/{name}"] == 2
    assert paths["test_labels"].name == name


@pytest.mark.parametrize("behaviour", ["corrupt", "cut", "missing", "error"])
def test_bad_download_leaves_nothing_that_looks_like_data(behaviour: str, file_server) -> None:
    with pytest.raises(data.DataNotFoundError) as raised:
        data.load_fashion_mnist(
            mirrors=[file_server.url(behaviour)], system_dirs=NO_SYSTEM
        ) if behaviour != "error" else data.fetch_fashion_mnist(
            mirrors=[file_server.url(behaviour)], retries=0, progressbar=False
        )
    assert file_server.url(behaviour) in str(raised.value)
    assert data_like_files(cache_folder()) == []
    assert list((cache_folder() / "fashion-mnist").iterdir()) == []  # no staging left behind


def test_no_data_and_no_network_names_the_three_ways(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        closed_port = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    with pytest.raises(data.DataNotFoundError) as raised:
        data.load_data_fashion_mnist(256, mirrors=[closed_port], system_dirs=NO_SYSTEM)
    message = str(raised.value)
    assert "python -m d2lutil.data fetch" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert data.DATA_DIR_ENV in message and closed_port in message
    with pytest.raises(data.DataNotFoundError, match="disabled"):
        data.load_fashion_mnist(download=False, system_dirs=NO_SYSTEM)


def test_unwritable_cache_folder_stops_a_download_with_advice(tmp_path: Path, file_server) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(data.DataError, match=data.CACHE_DIR_ENV):
        data.fetch_fashion_mnist(cache=blocker / "cache", mirrors=[file_server.url("good")])


def test_interrupted_download_leaves_nothing_that_looks_like_data(file_server) -> None:
    # A child process is killed while the server is halfway through sending a file.
    file_server.sending.clear()
    file_server.release.clear()
    code = (
        "from d2lutil import data\n"
        f"data.fetch_fashion_mnist(mirrors=[{file_server.url('slow')!r}], progressbar=False)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        assert file_server.sending.wait(60), "the download never started"
        target = cache_folder() / "fashion-mnist"
        deadline = time.monotonic() + 10
        while not any(p.stat().st_size for p in target.glob(".download-*/*") if p.is_file()):
            assert time.monotonic() < deadline, "no partial file appeared"
            time.sleep(0.02)
        child.kill()
        child.wait(30)
    finally:
        file_server.release.set()
    partial = [p for p in target.rglob("*") if p.is_file()]
    assert partial and all(p.parent.name.startswith(".download-") for p in partial)
    assert data.find_fashion_mnist(system_dirs=NO_SYSTEM) is None
    # The next download completes beside the killed one's folder, which is cleared
    # once it is old enough that no live download can be using it.
    data.fetch_fashion_mnist(mirrors=[file_server.url("good")], progressbar=False)
    assert data.find_fashion_mnist(system_dirs=NO_SYSTEM) is not None
    (leftover,) = {p.parent for p in partial}
    assert leftover.exists()
    os.utime(leftover, (0, 0))
    data.fetch_fashion_mnist(mirrors=[file_server.url("good")], progressbar=False)
    assert not leftover.exists()


# --------------------------------------------------------------------------- command line


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "d2lutil.data", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_cli_where_verify_and_fetch(real_data_dir: Path, file_server) -> None:
    where = run_cli("--data-dir", str(real_data_dir), "where", "--json")
    assert where.returncode == 0, where.stderr
    report = json.loads(where.stdout)
    assert report["origin"] == "data_dir argument"
    assert Path(report["files"]["train_images"]).parent == real_data_dir

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
