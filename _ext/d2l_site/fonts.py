"""The theme's icon fonts, cut down to the icons the book shows.

pydata-sphinx-theme draws its icons (the header's buttons, admonition marks) with Font Awesome
6: two web fonts of 150 kB and 120 kB that the first screen requests for a dozen glyphs. On a
phone they took as long to arrive as all the rest of the page. Here each face is rebuilt
with fontTools (a Matplotlib dependency) holding only:

- the glyphs of the ``fa-*`` classes the pages (and the widgets' state) use, looked up in the
  theme's stylesheets (``.fa-rocket:before{content:"\\f135"}``);
- every icon character the stylesheets draw otherwise (the theme's ``--pst-icon-*``
  variables, pseudo-elements), whether a page uses it or not.

The subset is written as WOFF (zlib; WOFF2 would need the brotli module) beside the original,
the stylesheet's ``@font-face`` is pointed at it, and the prune step deletes the originals.
``tests/test_browser.py`` checks that every icon on every page is drawn by its font.
"""

from __future__ import annotations

import re
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

RULE = re.compile(r"([^{}@;]+)\{([^{}]*)\}")
ICON_CHAR = re.compile(r"\\(f[0-9a-fA-F]{3}|e[0-9a-fA-F]{3})\b|([\ue000-\uf8ff])")
MAPPING_SELECTOR = re.compile(r"\s*\.(fa-[a-z0-9-]+)(?::{1,2}(?:before|after))?\s*")
FACE = re.compile(r"@font-face\s*\{[^}]*\}")
FACE_SRC = re.compile(r'src:\s*url\(([^)]*?/(fa-[a-z]+-\d+)\.woff2)\)\s*format\("woff2"\)[^;}]*')


def _characters(text: str) -> set[int]:
    return {int(esc, 16) if esc else ord(char) for esc, char in ICON_CHAR.findall(text)}


def used_classes(outdir: Path) -> set[str]:
    """Every ``fa-*`` class in the pages, and the icons the widget state names."""
    classes: set[str] = set()
    for path in outdir.rglob("*.html"):
        classes |= set(re.findall(r"\bfa-[a-z0-9-]+", path.read_text(errors="ignore")))
    for path in outdir.rglob("*.widget-state.js"):
        text = path.read_text(errors="ignore")
        classes |= {f"fa-{name}" for name in re.findall(r'"icon": "([a-z0-9-]+)"', text)}
    return classes


def used_characters(stylesheets: list[Path], classes: set[str]) -> set[int]:
    """The icon characters the pages can show, given the classes they use."""
    characters: set[int] = set()
    for css in stylesheets:
        for selector, body in RULE.findall(css.read_text(encoding="utf-8")):
            found = _characters(body)
            if not found:
                continue
            parts = selector.split(",")
            names = [MAPPING_SELECTOR.fullmatch(part) for part in parts]
            if all(names):  # .fa-x:before, .fa-y:before {content: ...}
                if classes & {match.group(1) for match in names if match}:
                    characters |= found
            else:  # drawn by a stylesheet rule or variable: keep it
                characters |= found
    return characters


def subset_icon_fonts(outdir: Path) -> list[Path]:
    """Rebuild the theme's Font Awesome faces with the glyphs in use; return the new files."""
    static = outdir / "_static"
    stylesheets = sorted(static.rglob("*.css"))
    characters = used_characters(stylesheets, used_classes(outdir))
    written: list[Path] = []
    for css in stylesheets:
        text = css.read_text(encoding="utf-8")
        rewritten = FACE.sub(
            lambda face, css=css: _subset_face(face, css, characters, written), text
        )
        if rewritten != text:
            css.write_text(rewritten, encoding="utf-8")
    return written


def _subset_face(face: re.Match[str], css: Path, characters: set[int], written: list[Path]) -> str:
    """One ``@font-face``: if it is a Font Awesome face, subset its font and point it there."""
    source = FACE_SRC.search(face.group(0))
    if not source:
        return face.group(0)
    url, name = source.groups()
    original = (css.parent / url).resolve().with_suffix(".ttf")  # fontTools reads no WOFF2
    if not original.is_file():  # without brotli, so subset the TrueType twin
        return face.group(0)
    font = TTFont(original)
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=characters)
    subsetter.subset(font)
    target = original.with_name(f"{name}.subset.woff")
    font.flavor = "woff"
    font.save(target)
    written.append(target)
    new_url = url.rsplit("/", 1)[0] + f"/{target.name}"
    return face.group(0).replace(source.group(0), f'src:url({new_url}) format("woff")')
