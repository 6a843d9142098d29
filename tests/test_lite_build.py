"""lite/build.py accepts Pyodide's wheels only with the official lock's hashes, and builds
the same wheels from the same files."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import zipfile
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


def carrier(tmp_path: Path, files: dict[str, bytes]) -> Path:
    path = tmp_path / "carrier.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(build.CARRIER[1] + name, data)
    return path


@pytest.fixture
def wanted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "OFFICIAL", ("numpy",))


@pytest.mark.usefixtures("wanted")
def test_official_wheels_and_their_dependencies_are_copied(tmp_path: Path) -> None:
    wheels = {"numpy": (b"np", ["openblas_x"]), "openblas-x": (b"ob", []), "scipy": (b"sp", [])}
    lock = official_lock(wheels)
    source = carrier(tmp_path, {f"{name}-1.0-py3-none-any.whl": w[0] for name, w in wheels.items()})
    out = tmp_path / "out"
    out.mkdir()
    entries = build.official_packages(lock, source, out)
    assert sorted(entries) == ["numpy", "openblas-x"]  # not scipy: nothing needs it
    assert entries["numpy"] == lock["packages"]["numpy"]  # official entries, unchanged
    assert sorted(p.name for p in out.iterdir()) == [
        "numpy-1.0-py3-none-any.whl", "openblas-x-1.0-py3-none-any.whl"
    ]  # fmt: skip


@pytest.mark.usefixtures("wanted")
def test_a_wheel_that_differs_from_the_official_lock_is_refused(tmp_path: Path) -> None:
    lock = official_lock({"numpy": (b"the official bytes", [])})
    source = carrier(tmp_path, {"numpy-1.0-py3-none-any.whl": b"other bytes"})
    with pytest.raises(build.BuildError, match=r"numpy-1\.0-py3-none-any\.whl .*Refused"):
        build.official_packages(lock, source, tmp_path)
    assert not (tmp_path / "numpy-1.0-py3-none-any.whl").exists()


@pytest.mark.usefixtures("wanted")
def test_a_wheel_missing_from_the_carrier_is_named(tmp_path: Path) -> None:
    lock = official_lock({"numpy": (b"np", [])})
    with pytest.raises(build.BuildError, match=r"lacks numpy-1\.0-py3-none-any\.whl"):
        build.official_packages(lock, carrier(tmp_path, {}), tmp_path)


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
