"""The book's own build steps: fast pages that load only what they use.

A local Sphinx extension (``sphinx.local_extensions`` in _config.yml). Jupyter Book 1 pages
load MathJax, Font Awesome's 1.5 MB icon script, Thebe's configuration and the widget
manager on every page, most of them before the first paint. With this extension:

- formulas are typeset at build time (:mod:`.mathjax`): no MathJax script in any page;
- every script is deferred, Thebe's and the unused ones are gone (:mod:`.pages`);
- the theme's icon fonts hold only the icons in use (:mod:`.fonts`);
- the widget state leaves the page for a file that ``_static/widgets.js`` loads, with the
  widget manager, only when a widget comes near the screen;
- ``_static/`` keeps only the files some page loads (:mod:`.prune`).

Switches (Sphinx config): ``d2l_prune_static`` (default True).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.ext import mathjax as sphinx_mathjax
from sphinx.util import logging

from . import fonts, mathjax, pages, prune

logger = logging.getLogger(__name__)
RENDERER = "prerendered_mathjax"


def _builder_inited(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    # Every page is written on every build, so that the formula stylesheet written at the end
    # holds the glyphs of every page (an unchanged page is written again, not re-read).
    for page in Path(app.outdir).rglob("*.html"):
        if Path(app.outdir, "_static") not in page.parents:
            page.unlink()
    app._d2l_pages = []  # type: ignore[attr-defined]
    app._d2l_typesetter = mathjax.Typesetter(Path(app.confdir))  # type: ignore[attr-defined]


def _page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    if app.builder.format != "html":
        return
    app._d2l_pages.append(pagename)  # type: ignore[attr-defined]
    widget_scripts = set(app.config.nb_ipywidgets_js or {})
    state = pages.page_assets(context, pagename, widget_scripts)
    if state is not None:
        pages.write_widget_state(Path(app.outdir), pagename, state)
    body = context.get("body")
    if body and state is not None:
        body, _ = pages.paper_versions(body, state)
        context["body"] = body
    if body and app.builder.math_renderer_name == RENDERER:  # type: ignore[attr-defined]
        body, count, errors = mathjax.typeset_body(body, app._d2l_typesetter)  # type: ignore[attr-defined]
        for error in errors:
            logger.warning("MathJax could not typeset a formula: %s", error, location=pagename)
        context["body"] = body
        if count:
            app.builder.add_css_file(mathjax.CSS)  # type: ignore[attr-defined]


REDIRECT = """<!DOCTYPE html>
<html lang="{language}">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta http-equiv="refresh" content="0; url={target}">
<link rel="canonical" href="{target}">
</head>
<body><p><a href="{target}">{title}</a></p></body>
</html>
"""


def _write_root_redirect(app: Sphinx, exception: Exception | None) -> None:
    """The site's index.html, when the book starts elsewhere: a small valid page that
    redirects (sphinx-external-toc, which runs after this, writes a bare meta tag)."""
    index = Path(app.outdir, "index.html")
    if exception is not None or app.builder.name != "html" or app.config.root_doc == "index":
        return
    if not index.exists():
        index.write_text(
            REDIRECT.format(
                language=app.config.language or "en",
                title=html.escape(app.config.html_title or app.config.project),
                target=app.builder.get_target_uri(app.config.root_doc),
            ),
            encoding="utf-8",
        )


def _build_finished(app: Sphinx, exception: Exception | None) -> None:
    typesetter = getattr(app, "_d2l_typesetter", None)
    if typesetter is None:
        return
    try:
        if exception is not None or app.builder.format != "html":
            return
        outdir = Path(app.outdir)
        typesetter.write_stylesheet(outdir / "_static")
        for pagename in app._d2l_pages:  # type: ignore[attr-defined]
            page = outdir / app.builder.get_target_uri(pagename)
            text, missing = pages.finish_page(page.read_text(encoding="utf-8"), page, outdir)
            page.write_text(text, encoding="utf-8")
            for what in missing:
                logger.warning("d2l_site: %s not found where expected", what, location=str(page))
        subsets = fonts.subset_icon_fonts(outdir)
        logger.info("d2l_site: icon fonts cut to the icons in use: %s", [p.name for p in subsets])
        if app.config.d2l_prune_static:
            kept, deleted = prune.prune(outdir)
            logger.info("d2l_site: _static keeps %d files, %d unused ones deleted", kept, deleted)
    finally:
        typesetter.close()


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinx.ext.mathjax")  # its HTML writers, without its script
    app.add_html_math_renderer(
        RENDERER,
        (sphinx_mathjax.html_visit_math, None),
        (sphinx_mathjax.html_visit_displaymath, None),
    )
    app.add_config_value("d2l_prune_static", True, "html")
    app.connect("builder-inited", _builder_inited)
    app.connect("html-page-context", _page_context, priority=900)
    app.connect("build-finished", _build_finished)
    app.connect("build-finished", _write_root_redirect, priority=400)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": False}
