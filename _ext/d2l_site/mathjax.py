"""Formulas typeset at build time: the pages carry MathJax's CHTML and load no MathJax script.

Sphinx writes each formula as TeX between ``\\(...\\)`` or ``\\[...\\]`` for MathJax to typeset
in the reader's browser: a 1.1 MB script, a reflow of every paragraph with a formula, and on
a phone seconds of work before the page settles. Here one Node process running the pinned
npm ``mathjax`` (``typeset-math.cjs``) typesets every formula while the pages are written, and
one stylesheet (``_static/mathjax/chtml.css``) holds the CSS of every glyph used, with only
the fonts those glyphs need. Each formula keeps hidden MathML for screen readers.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from sphinx.errors import ExtensionError

SCRIPT = Path(__file__).with_name("typeset-math.cjs")
FONTS = Path("node_modules/mathjax/es5/output/chtml/fonts/woff-v2")
CSS = "mathjax/chtml.css"  # under _static/
FONT_DIR = "fonts"  # relative to the stylesheet: _static/mathjax/fonts/

INLINE = re.compile(r'(<span class="math notranslate nohighlight">)\\\((.*?)\\\)(</span>)', re.S)
DISPLAY = re.compile(r'(<div class="math notranslate nohighlight"[^>]*>)(.*?)(</div>)', re.S)
EQNO = re.compile(r'^\s*(<span class="eqno">.*?</span>)?(.*)$', re.S)
FONT_FACE = re.compile(r"@font-face\s*/\*[^*]*\*/\s*\{[^}]*font-family:\s*([\w-]+);[^}]*\}\s*")
FONT_URL = re.compile(r'url\("' + FONT_DIR + r'/([\w.-]+)"\)')


class Typesetter:
    """A Node process that typesets TeX with MathJax, started on the first formula."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._process: subprocess.Popen[str] | None = None
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in close())
        self.classes: set[str] = set()  # CSS classes in the typeset formulas (fonts used)

    def _ask(self, request: dict[str, object]) -> dict[str, str]:
        if self._process is None:
            node = shutil.which("node")
            if node is None or not (self.root / "node_modules/mathjax").is_dir():
                raise ExtensionError(
                    "Typesetting the formulas needs Node.js and node_modules/mathjax: "
                    "run `make assets`."
                )
            self._process = subprocess.Popen(
                [node, str(SCRIPT), FONT_DIR],
                cwd=self.root,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                text=True,
                encoding="utf-8",
            )
        assert self._process.stdin and self._process.stdout
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            self._stderr.seek(0)
            raise ExtensionError(f"The MathJax process stopped:\n{self._stderr.read()[-2000:]}")
        return json.loads(line)

    def typeset(self, tex: str, display: bool) -> str:
        answer = self._ask({"tex": tex, "display": display})
        if "error" in answer:
            raise ValueError(answer["error"])
        out = answer["html"]
        for classes in re.findall(r'class="([^"]*)"', out):
            self.classes.update(classes.split())
        return out

    def write_stylesheet(self, static: Path) -> list[Path]:
        """Write the CSS of every formula so far, and the fonts it uses; return the files."""
        if self._process is None:
            return []
        css = self._ask({"stylesheet": True})["css"]
        used = {"MJXZERO", "MJXTEX"} | {
            "MJX" + c for c in self.classes if c.startswith("TEX-") and c != "MJX-TEX"
        }
        if any(c.startswith("mjx-stretchy") for c in self.classes) or "<mjx-stretchy" in css:
            used |= {"MJXTEX-S1", "MJXTEX-S4", "MJXTEX-A"}

        def keep_used(match: re.Match[str]) -> str:
            return match.group(0) if match.group(1) in used else ""

        css = FONT_FACE.sub(keep_used, css)
        target = static / CSS
        target.parent.mkdir(parents=True, exist_ok=True)
        header = "/* Typeset at build time by _ext/d2l_site (MathJax 3, CHTML output). */\n"
        target.write_text(header + css, encoding="utf-8")
        shutil.copyfile(self.root / "node_modules/mathjax/LICENSE", target.parent / "LICENSE")
        written = [target, target.parent / "LICENSE"]
        for name in sorted(set(FONT_URL.findall(css))):
            font = target.parent / FONT_DIR / name
            font.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.root / FONTS / name, font)
            written.append(font)
        return written

    def close(self) -> None:
        if self._process is not None:
            assert self._process.stdin
            self._process.stdin.close()
            self._process.wait(timeout=30)
            self._process = None
        self._stderr.close()


def typeset_body(body: str, typesetter: Typesetter) -> tuple[str, int, list[str]]:
    """Replace the TeX of every formula in a page body by its CHTML.

    Returns the new body, the number of formulas typeset and the errors (a formula MathJax
    cannot typeset stays as its TeX source).
    """
    count = 0
    errors: list[str] = []

    def render(tex: str, display: bool) -> str:
        nonlocal count
        tex = html.unescape(tex).strip()
        try:
            out = typesetter.typeset(tex, display)
        except ValueError as error:
            errors.append(f"{error}: {tex[:80]}")
            return html.escape(tex)
        count += 1
        return out

    def inline(match: re.Match[str]) -> str:
        return match.group(1) + render(match.group(2), False) + match.group(3)

    def display(match: re.Match[str]) -> str:
        eqno, tex = EQNO.match(match.group(2)).groups()  # type: ignore[union-attr]
        tex = tex.strip()
        if tex.startswith("\\[") and tex.endswith("\\]"):
            tex = tex[2:-2]
        return match.group(1) + (eqno or "") + render(tex, True) + match.group(3)

    return DISPLAY.sub(display, INLINE.sub(inline, body)), count, errors
