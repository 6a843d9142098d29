"""Keep in ``_static/`` only the files some page loads.

Sphinx copies every theme's and extension's static files, used or not: source maps, locale
files, logos of services the book does not link, old font formats. After the pages are
written, a file stays only if it is reachable:

- from a page: a ``src`` or ``href`` attribute (``<script>``, ``<link>``, ``<img>``, ...);
- from a kept stylesheet: ``url(...)`` and ``@import``;
- from a kept script: a path ending in its name, in quotes (``"npm/x/embed.js"``);
- a licence file stays with what it licenses: ``X.LICENSE.txt`` with ``X``, another
  ``*LICENSE*`` file with the folder it is in.

Some references never lead to a request and are cut first: ``sourceMappingURL`` comments
(browsers fetch maps only for their developer tools); font formats listed after a WOFF2 in
the same ``@font-face`` (every browser that runs these pages reads WOFF2); the theme's Font
Awesome faces whose classes no page uses; and the references in :data:`DEAD`.
``tests/test_browser.py`` checks the result the other way round: every file left is requested
by some page.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

ATTRIBUTE = re.compile(r'\s(?:src|href)="([^"]+)"')
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")
SOURCE_MAP = re.compile(r"\n?(?://# sourceMappingURL=[^\s]+|/\*# sourceMappingURL=[^*]*\*/)\s*$")
FONT_SRC = re.compile(r"(src:\s*)([^;}]*)")
SRC_ITEM = re.compile(r"""url\([^)]*\)\s*(?:format\([^)]*\))?""")


# Files that a stylesheet names but no page can load, with why. The file goes; its rule stays.
DEAD = {
    "file.png": "basic.css's search-result icon, which pydata-sphinx-theme replaces by none",
}
# The theme's Font Awesome 6 faces, and the classes that draw with each.
FONT_AWESOME = {
    "fa-solid-900": ("fa-solid", "fas", "fa"),
    "fa-regular-400": ("fa-regular", "far"),
    "fa-brands-400": ("fa-brands", "fab"),
}


def unused_font_awesome_faces(outdir: Path) -> set[str]:
    """The theme's Font Awesome faces that no page (or widget state) uses a class of."""
    classes: set[str] = set()
    for path in [*outdir.rglob("*.html"), *outdir.rglob("*.widget-state.js")]:
        for value in re.findall(r'class=\\?["\']([^"\'\\]*)', path.read_text(errors="ignore")):
            classes.update(value.split())
    return {face for face, names in FONT_AWESOME.items() if not classes & set(names)}


def drop_font_faces(static: Path, faces: set[str]) -> None:
    """Remove the ``@font-face`` rules whose source is one of ``faces``."""
    if not faces:
        return
    pattern = re.compile(
        r"@font-face\s*\{[^}]*(?:"
        + "|".join(map(re.escape, faces))
        + r")\.(?:woff2|subset\.woff)[^}]*\}"
    )
    for path in static.rglob("*.css"):
        text = path.read_text(encoding="utf-8")
        trimmed = pattern.sub("", text)
        if trimmed != text:
            path.write_text(trimmed, encoding="utf-8")


def strip_source_maps(static: Path) -> None:
    """Remove the trailing ``sourceMappingURL`` comment of every script and stylesheet."""
    for path in [*static.rglob("*.js"), *static.rglob("*.css")]:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        stripped = SOURCE_MAP.sub("\n", text)
        if stripped != text:
            path.write_text(stripped, encoding="utf-8", errors="surrogateescape")


def woff2_only(static: Path) -> None:
    """In each ``@font-face`` that offers WOFF2, drop the formats listed after it."""
    for path in static.rglob("*.css"):
        text = path.read_text(encoding="utf-8")

        def trim(match: re.Match[str]) -> str:
            items = SRC_ITEM.findall(match.group(2))
            for i, item in enumerate(items):
                if 'format("woff2")' in item.replace("'", '"'):
                    return match.group(1) + ",".join(items[: i + 1])
            return match.group(0)

        trimmed = re.sub(r"@font-face\s*\{[^}]*\}", lambda m: FONT_SRC.sub(trim, m.group(0)), text)
        if trimmed != text:
            path.write_text(trimmed, encoding="utf-8")


def _local(base: str, url: str, outdir: Path) -> Path | None:
    """The file under outdir that ``url``, written in the file at ``base``, names; or None."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path or url.startswith(("#", "data:")):
        return None
    path = posixpath.normpath(posixpath.join(posixpath.dirname(base), unquote(parts.path)))
    target = outdir / path
    return target if target.is_file() else None


def reachable(outdir: Path) -> set[Path]:
    """Every file under ``_static`` that a page loads, directly or through another file."""
    static = outdir / "_static"
    pages = [p for p in outdir.rglob("*.html") if static not in p.parents]
    names: dict[str, list[Path]] = {}
    for path in static.rglob("*"):
        if path.is_file():
            names.setdefault(path.name, []).append(path)
    seen: set[Path] = set()
    todo = list(pages)
    while todo:
        path = todo.pop()
        base = path.relative_to(outdir).as_posix()
        text = path.read_text(encoding="utf-8", errors="ignore")
        found: list[Path | None] = []
        if path.suffix == ".html":
            found = [_local(base, url, outdir) for url in ATTRIBUTE.findall(text)]
        elif path.suffix == ".css":
            found = [_local(base, a or b, outdir) for a, b in CSS_URL.findall(text)]
        elif path.suffix == ".js":
            found = [
                f
                for name, files in names.items()
                if re.search("/" + re.escape(name) + "[\"'?#]", text)
                for f in files
            ]
        for target in found:
            if target is not None and target not in seen and static in target.parents:
                seen.add(target)
                todo.append(target)
    return seen


def prune(outdir: Path) -> tuple[int, int]:
    """Delete the files under _static that no page loads; return (files kept, files deleted)."""
    static = outdir / "_static"
    strip_source_maps(static)
    woff2_only(static)
    drop_font_faces(static, unused_font_awesome_faces(outdir))
    keep = {path for path in reachable(outdir) if path.name not in DEAD}
    folders = {path.parent for path in keep}
    for licence in static.rglob("*LICENSE*"):  # X.LICENSE.txt goes with X, others with a folder
        licensed = licence.with_name(licence.name.split(".LICENSE")[0])
        if licensed in keep or (licensed == licence and licence.parent in folders):
            keep.add(licence)
    deleted = 0
    for path in sorted(static.rglob("*"), reverse=True):
        if path.is_file() and path not in keep:
            path.unlink()
            deleted += 1
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return len(keep), deleted
