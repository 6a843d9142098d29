"""What each page loads: nothing render-blocking but its stylesheets, nothing it does not use.

Two steps: :func:`page_assets` edits the script and stylesheet lists while Sphinx renders a
page (``html-page-context``); :func:`finish_page` edits the written HTML for the few tags
that themes write into their templates directly. Each edit names what it expects to find
and the build fails when a theme update changes it, so no edit silently stops applying.
"""

from __future__ import annotations

import html
import json
import math
import posixpath
import re
import struct
from pathlib import Path
from typing import Any

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
STATE_SUFFIX = ".widget-state.js"


def page_assets(context: dict[str, Any], pagename: str, widget_scripts: set[str]) -> str | None:
    """Edit ``context``'s scripts and stylesheets in place; return the widget state, if any.

    - sphinx-thebe's scripts and stylesheet go: Thebe is off (see _config.yml), and its
      inline configuration, emitted twice, declared ``const THEBE_JS_URL`` twice, a console
      error on every page.
    - An inline script that repeats an earlier one goes.
    - Every script file is deferred: it runs after the page is parsed, in the same order,
      and never delays the first paint. Inline scripts only set variables those files read.
    - The widget state (hundreds of kB of JSON, figures included) leaves ``<head>``: the
      caller writes it to a file that the widget loader fetches when a widget comes near the
      screen. The loader learns the file's URL from ``data-widget-state``.
    """
    scripts = context.get("script_files")
    if scripts is None:
        return None
    states = [js for js in scripts if js.attributes.get("type") == WIDGET_STATE]
    state = states[0].attributes["body"] if states else None
    kept, bodies = [], set()
    for js in scripts:
        attributes = dict(js.attributes)
        filename = str(js.filename or "")
        body = attributes.get("body", "")
        if "THEBE_JS_URL" in body or filename.endswith("sphinx-thebe.js"):
            continue
        if attributes.get("type") == WIDGET_STATE:
            continue
        if not filename:
            if body in bodies:
                continue
            bodies.add(body)
        elif "://" not in filename and "async" not in attributes:
            attributes["defer"] = "defer"
        if filename.removeprefix("_static/") in widget_scripts and state is not None:
            attributes["data-widget-state"] = posixpath.basename(pagename) + STATE_SUFFIX
        kept.append(type(js)(js.filename, priority=js.priority, **attributes))
    scripts[:] = kept
    styles = context.get("css_files", [])
    styles[:] = [css for css in styles if not str(css.filename).endswith("sphinx-thebe.css")]
    return state


def write_widget_state(outdir: Path, pagename: str, state: str) -> Path:
    """Write a page's widget state as a script beside the page (it works from file:// too)."""
    path = outdir / (pagename + STATE_SUFFIX)
    path.parent.mkdir(parents=True, exist_ok=True)
    json.loads(state.replace("<\\/", "</"))  # fail here, not in the reader's browser
    path.write_text(
        f"// The widget state of {pagename}.html, saved when the page was executed; loaded by\n"
        f"// _static/widgets.js when a widget comes near the screen.\n"
        f"window.d2lWidgets.addState({state});\n",
        encoding="utf-8",
    )
    return path


# Tags the themes write into their templates, with what becomes of them. Each pattern must
# match on every page (search pages: see SEARCH_SCRIPTS).
FONTAWESOME = re.compile(
    r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>'
)
DOC_OPTIONS = re.compile(
    r'<script(?: defer="defer")? src="([^"]*_static/documentation_options\.js)[^"]*"></script>'
)
SEARCH_SCRIPTS = re.compile(
    r'\s*<script src="([^"]*_static/searchtools\.js)"></script>'
    r'\s*<script src="([^"]*_static/language_data\.js)"></script>'
    r'\s*<script src="([^"]*searchindex\.js)"></script>'
)
SEARCH_BUTTON = re.compile(
    r'(<button class="btn search-button-field [^"]*" title="Search") aria-label="Search"'
)
SUMMARY = '<summary aria-label="Toggle hidden content">'
#: Sphinx's layout and the themes each write one (three on most pages); the first stays.
VIEWPORT = re.compile(
    r'\n?<meta name="viewport" content="width=device-width, initial-scale=1(?:\.0)?" ?/>'
)


IMAGE = re.compile(
    r'<img (alt="[^"]*" src="([^"]*_images/[^"]+\.png)")'
    r' style="width: (\d+)px; height: (\d+)px;" />'
)


def png_size_and_dpi(path: Path) -> tuple[int, float | None]:
    """A PNG's width in pixels and its resolution in dots per inch (None if unrecorded)."""
    data = path.read_bytes()
    width = struct.unpack(">I", data[16:20])[0]
    at = data.find(b"pHYs", 0, 4096)
    if at < 0:
        return width, None
    x_per_metre, _, unit = struct.unpack(">IIB", data[at + 4 : at + 13])
    return width, (x_per_metre * 0.0254 if unit == 1 else None)


def figure_image(match: re.Match[str], page: Path) -> str:
    """A figure's <img>: size as attributes (no layout shift, no distortion when it shrinks),
    lazily loaded, and never narrower than the width at which its text stays legible.

    Matplotlib sizes text in points; at that minimum width a point of the figure's text
    takes one CSS pixel (its 10-point tick labels 10 px), whatever the screen. A figure
    whose column is narrower scrolls sideways, with a hint (static/d2l.css).
    """
    attributes, src, width, height = match.groups()
    style = f"width: {width}px;"
    natural, dpi = png_size_and_dpi(page.parent / src)
    if dpi:
        legible = math.ceil(natural * 72 / dpi)
        if legible < int(width):
            style += f" min-width: calc({legible}px + 2 * var(--d2l-figure-padding, 0px));"
    return (
        f'<img {attributes} width="{width}" height="{height}" loading="lazy" decoding="async"'
        f' style="{style}" />'
    )


def finish_page(text: str, page: Path, outdir: Path) -> tuple[str, list[str]]:
    """Edit one written page; return the new HTML and what was not found (for a warning).

    - ``fontawesome.js`` (1.5 MB) goes: it redraws the theme's ``<i class="fa-...">`` icons as
      SVG, and the theme's stylesheet already draws them with the Font Awesome web font.
    - ``documentation_options.js`` (a few hundred bytes every other script reads) is inlined,
      so the page needs no blocking request for it.
    - The theme loads Sphinx's search scripts and index on every page for search-as-you-type,
      which is off: they stay only on ``search.html``, deferred like the scripts they use.
    - The search buttons and the "show code" toggles are named by their visible text (axe's
      label-content-name-mismatch, WCAG 2.5.3): their aria-label said something else ("Search"
      for "Search Ctrl+K", "Toggle hidden content" for "Show code cell source").
    - Figures: see :func:`figure_image`.
    - The viewport is declared once, not three times.
    """
    missing = []
    tags = list(VIEWPORT.finditer(text))
    if len(tags) < 2:
        missing.append("the repeated viewport tags of Sphinx and the themes")
    if tags:
        text = text[: tags[0].end()] + VIEWPORT.sub("", text[tags[0].end() :])
    text, n = FONTAWESOME.subn("", text)
    if n != 1:
        missing.append("the theme's fontawesome.js script tag")

    def inline_options(match: re.Match[str]) -> str:
        path = posixpath.normpath(
            posixpath.join(page.parent.relative_to(outdir).as_posix(), match.group(1))
        )
        source = (outdir / path).read_text(encoding="utf-8").strip()
        return f"<script>{source}</script>"

    text, n = DOC_OPTIONS.subn(inline_options, text)
    if n != 1:
        missing.append("documentation_options.js")
    if page.name == "search.html":
        text, n = SEARCH_SCRIPTS.subn(
            lambda m: "".join(f'\n<script defer src="{src}"></script>' for src in m.groups()), text
        )
    else:
        text, n = SEARCH_SCRIPTS.subn("", text)
    if n != 1:
        missing.append("the theme's search scripts")
    text, n = SEARCH_BUTTON.subn(r"\1", text)
    if not n:
        missing.append("the theme's search buttons")
    text = text.replace(SUMMARY, "<summary>")
    text = IMAGE.sub(lambda m: figure_image(m, page), text)
    return text, missing


#: The widget views in a page's body (myst-nb writes one per widget output).
WIDGET_VIEW = re.compile(
    r'<script type="application/vnd.jupyter.widget-view\+json">(\{[^<]*\})</script>'
)
#: What paper shows instead of the live training panel (its callbacks need a kernel).
PANEL_ON_PAPER = (
    "<p class='d2l-print-only d2l-panel-on-paper'><strong>The live training panel is not"
    " printed:</strong> it trains models at the learning rate and for the epochs you pick,"
    " and needs the chapter running as a notebook (in JupyterLite, Binder, Colab or"
    " Jupyter on your computer).</p>"
)


def _model_html(state: dict[str, Any], ref: str) -> str:
    """A widget as it stands in ``state``, as static HTML: a box's children in turn, a
    stack's shown child, an HTML widget's value, a slider's name (its read-out follows)."""
    model = state[ref.removeprefix("IPY_MODEL_")]
    name, values = model["model_name"], model["state"]
    if name in ("VBoxModel", "HBoxModel", "BoxModel"):
        tag = "p" if name == "HBoxModel" else "div"
        inner = " ".join(_model_html(state, child) for child in values.get("children", []))
        return f"<{tag}>{inner}</{tag}>"
    if name == "StackModel":
        children, index = values.get("children", []), values.get("selected_index")
        return _model_html(state, children[index]) if index is not None and children else ""
    if name in ("HTMLModel", "HTMLMathModel", "LabelModel"):
        return str(values.get("value", ""))
    if name.endswith("SliderModel"):
        return f"{html.escape(str(values.get('description', '')))}:"
    return ""


def paper_versions(body: str, state_json: str) -> tuple[str, int]:
    """Add after each of the book's widgets what paper shows instead; return the body and
    how many were added.

    A printed page has no widgets to run, and a browser asked to print may not have loaded
    them yet: the explorer is printed as it first shows (the figures of the learning rate it
    opens at and the table after the last epoch), from the state saved with the page, and
    the live panel as a sentence saying what it needs. static/d2l.css shows these in print
    only (class ``d2l-print-only``) and hides the widgets there.
    """
    state = json.loads(state_json.replace("<\\/", "</"))["state"]
    added = 0

    def after_view(match: re.Match[str]) -> str:
        nonlocal added
        model_id = json.loads(match.group(1)).get("model_id", "")
        model = state.get(model_id)
        classes = model["state"].get("_dom_classes", []) if model else []
        if "d2l-training-panel" in classes:
            added += 1
            return match.group(0) + PANEL_ON_PAPER
        if "d2l-explorer" in classes:
            added += 1
            static = _model_html(state, model_id)
            return (
                match.group(0) + f"<div class='d2l-print-only d2l-explorer-on-paper'>{static}</div>"
            )
        return match.group(0)

    return WIDGET_VIEW.sub(after_view, body), added
