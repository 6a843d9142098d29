"""The learner's notebook: a chapter's MyST source as a notebook that any Jupyter reads well.

    python -m book.learner_notebook write    executes each chapter into its reference notebook
                                             (tests/reference/…, for nbval) and writes its
                                             learner's notebook (chapters/….ipynb)
    python -m book.learner_notebook check    fails when a learner's notebook is stale

JupyterLab, Notebook 7, Colab and GitHub render CommonMark, HTML and LaTeX, not MyST, so the
chapter's MyST becomes what they all show: label lines go; cross-references become words
(``{eq}`` the equation's number as on the page, ``{ref}`` a link to the section's heading,
whose anchor Jupyter makes from its text with spaces as hyphens); labelled equations carry
their number (``\\tag``); folded admonitions (``:class: dropdown``, ``{dropdown}``) become
``<details>``, the others a quotation with a bold title. Cells tagged ``check`` (the hidden
regression checks) are left out, and so are ``remove-cell`` cells, but for those that install
packages (``%pip``), which a notebook needs where the book's environment is absent (Colab).
No cell has an output: the learner's run writes them. A directive or role with no notebook
form stops the conversion with a message naming it, rather than leaving raw markup behind.
"""

from __future__ import annotations

import argparse
import html
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat

from book import toc

LABEL_LINE = re.compile(r"^\s*\(([^()\s]+)\)=\s*$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
DIRECTIVE = re.compile(
    r"^(?P<indent>\s*)(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}\s*(?P<arg>.*)$"
)
CODE_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})")
OPTION = re.compile(r"^:([\w-]+):\s*(.*)$")
#: ``$$ … $$ (label)``: a labelled equation's closing line (or whole equation).
DOLLAR_LABEL = re.compile(r"^(?P<body>.*)\$\$\s*\((?P<label>[^()\s]+)\)\s*$")
#: A role, ``{name}`text```, or an inline code span, which is left as it is.
INLINE = re.compile(
    r"\{(?P<role>[\w:-]+)\}(?P<tick>`+)(?P<text>.+?)(?P=tick)|(?P<code>`+).+?(?P=code)"
)
EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<label>[^<>]+)>$", re.DOTALL)
#: Admonitions whose title is their kind, as Sphinx writes it.
TITLED = {"note": "Note", "tip": "Tip", "hint": "Hint", "important": "Important",
          "warning": "Warning", "caution": "Caution", "attention": "Attention",
          "danger": "Danger", "error": "Error", "seealso": "See also"}  # fmt: skip
#: Tags that mean something to Jupyter itself; the book's own tags are not kept.
KEPT_TAGS = ("raises-exception",)
INSTALL = re.compile(r"^\s*[%!]\s*pip\s+install\b", re.MULTILINE)


def left_out(cell: nbformat.NotebookNode) -> bool:
    """Whether a code cell stays out of the learner's notebook: a check, or a cell the page
    hides that installs nothing."""
    tags = cell.metadata.get("tags", [])
    return "check" in tags or ("remove-cell" in tags and not INSTALL.search(cell.source))


class ConversionError(ValueError):
    """The chapter uses MyST that has no notebook form here; the message names it."""


@dataclass(frozen=True)
class Target:
    """What a label names: a section (``title``, ``anchor``), an equation or a figure
    (``number``), in the notebook ``notebook`` (None: a page that is not a notebook)."""

    kind: str
    title: str = ""
    anchor: str = ""
    number: int = 0
    notebook: str | None = None


def heading_anchor(title: str) -> str:
    """The id Jupyter gives a heading: its text, without markup, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)  # a link shows its text
    text = re.sub(r"[`*]|(?<!\w)_|_(?!\w)", "", text)
    return text.strip().replace(" ", "-")


def targets(page: Path, notebook: str | None) -> dict[str, Target]:
    """The labels a page defines: sections, equations and figures, numbered in page order."""
    found: dict[str, Target] = {}
    equations = figures = 0
    pending: str | None = None
    fence: str | None = None
    opened: list[str] = []  # the fences of the directives we are in
    nb = jupytext.read(page) if page.suffix == ".md" else None
    cells = nb.cells if nb else []
    for cell in cells:
        if cell.cell_type == "code":
            figure = (cell.metadata.get("mystnb") or {}).get("figure") or {}
            if figure.get("name"):
                figures += 1
                found[figure["name"]] = Target("figure", number=figures, notebook=notebook)
            continue
        for line in cell.source.splitlines():
            if fence:  # inside a code block: no labels
                if line.strip().startswith(fence):
                    fence = None
                continue
            if directive := DIRECTIVE.match(line):
                opened.append(directive["fence"])
                continue
            if code := CODE_FENCE.match(line):
                bare = line.strip()
                if opened and set(bare) == {opened[-1][0]} and len(bare) >= len(opened[-1]):
                    opened.pop()  # a directive's end
                else:
                    fence = code["fence"]
                continue
            if opened and line.strip() and set(line.strip()) == {":"}:
                opened.pop()
                continue
            if label := LABEL_LINE.match(line):
                pending = label[1]
            elif (heading := HEADING.match(line)) and pending:
                title = heading[2]
                found[pending] = Target("section", title, heading_anchor(title), notebook=notebook)
                pending = None
            elif (math := OPTION.match(line.strip())) and math[1] == "label":
                equations += 1
                found[math[2].strip()] = Target("equation", number=equations, notebook=notebook)
            elif dollar := DOLLAR_LABEL.match(line):
                equations += 1
                found[dollar["label"]] = Target("equation", number=equations, notebook=notebook)
            elif (name := OPTION.match(line.strip())) and name[1] == "name":
                figures += 1
                found[name[2].strip()] = Target("figure", number=figures, notebook=notebook)
            elif line.strip():
                pending = None
    return found


def book_targets(root: Path = toc.ROOT) -> dict[str, dict[str, Target]]:
    """Every page's labels, by the page's path relative to ``root``."""
    found = {}
    for page in toc.pages(root):
        notebook = None
        if toc.is_notebook(page):
            notebook = toc.learner_notebook(page).relative_to(root).as_posix()
        found[page.relative_to(root).as_posix()] = targets(page, notebook)
    return found


class Converter:
    """Turns one chapter's MyST into Markdown that Jupyter renders."""

    def __init__(self, chapter: Path, root: Path = toc.ROOT) -> None:
        self.chapter = chapter
        self.here = chapter.relative_to(root).as_posix()
        pages = book_targets(root)
        self.local = pages[self.here]
        self.others = {k: t for page, found in pages.items() if page != self.here
                       for k, t in found.items()}  # fmt: skip
        self.learner = toc.learner_notebook(chapter).relative_to(root).as_posix()
        self.notebook_dir = Path(self.learner).parent
        self.where = ""

    def fail(self, what: str) -> ConversionError:
        """The error for markup with no notebook form, naming the file and cell."""
        return ConversionError(
            f"{self.here}: {self.where}: {what}. The learner's notebook would show it as raw "
            "MyST: use a construct book/learner_notebook.py knows (its docstring lists them), "
            "or teach it this one."
        )

    # ------------------------------------------------------------------ inline

    def target(self, label: str) -> Target:
        """What ``label`` names, in this chapter or elsewhere in the book."""
        found = self.local.get(label) or self.others.get(label)
        if not found:
            raise self.fail(f"no label {label!r} in the book")
        return found

    def href(self, target: Target) -> str:
        """A link to a section, from this chapter's notebook."""
        if target.notebook is None:
            return ""
        if target.notebook == self.learner:
            return f"#{target.anchor}"
        path = Path(target.notebook)
        relative = Path(*[".."] * len(self.notebook_dir.parts), path).as_posix()
        return f"{relative}#{target.anchor}"

    def role(self, name: str, text: str) -> str:
        """The notebook form of the role ``{name}`text```."""
        explicit = EXPLICIT.match(text)
        words, label = (explicit["text"], explicit["label"]) if explicit else ("", text)
        if name == "math":
            return f"${text}$"
        if name == "eq":
            target = self.target(label)
            if target.kind != "equation":
                raise self.fail(f"{{eq}} names {label!r}, which is not an equation")
            return f"{words} ({target.number})" if words else f"({target.number})"
        if name in ("ref", "numref", "doc"):
            if name == "doc":
                return words or label
            target = self.target(label)
            if target.kind == "section":
                words = words or target.title
                if name == "numref":
                    words = words.replace("%s", target.title).replace("{name}", target.title)
                href = self.href(target)
                return f"[{words}]({href})" if href else words
            number = f"({target.number})" if target.kind == "equation" else str(target.number)
            if name == "numref" and words:
                return words.replace("%s", number).replace("{number}", number)
            if words:
                return words
            return {"figure": f"Fig. {number}", "equation": f"Equation {number}"}[target.kind]
        if name in ("sub", "sup"):
            return f"<{name}>{html.escape(text)}</{name}>"
        raise self.fail(f"the role {{{name}}} has no notebook form")

    def inline(self, line: str) -> str:
        """``line`` with its roles converted and its code spans left as they are."""

        def replace(match: re.Match) -> str:
            return match[0] if match["code"] else self.role(match["role"], match["text"])

        return INLINE.sub(replace, line)

    # ------------------------------------------------------------------ blocks

    def block(self, lines: list[str]) -> list[str]:
        """Convert a run of Markdown lines (a cell, or a directive's body)."""
        out: list[str] = []
        i = 0
        in_math = False
        while i < len(lines):
            line = lines[i]
            stripped = line.strip()
            if in_math:
                if dollar := DOLLAR_LABEL.match(line):
                    line = self.tagged(dollar)
                    in_math = False
                elif stripped.endswith("$$"):
                    in_math = False
                out.append(line)
                i += 1
                continue
            if LABEL_LINE.match(line) or re.match(r"^\s*%", line):  # labels; MyST comments
                i += 1
                continue
            if directive := DIRECTIVE.match(line):
                end = self.closing(lines, i, directive["fence"])
                indent = directive["indent"]
                body = [b[len(indent) :] if b.startswith(indent) else b.lstrip() for b in
                        lines[i + 1 : end]]  # fmt: skip
                rendered = self.directive(directive["name"], directive["arg"].strip(), body)
                out += [f"{indent}{r}" if r else "" for r in rendered]
                i = end + 1
                continue
            if code := CODE_FENCE.match(line):  # a code block: copied as it is
                end = self.closing(lines, i, code["fence"])
                out += lines[i : end + 1]
                i = end + 1
                continue
            if dollar := DOLLAR_LABEL.match(line):  # a one-line labelled equation
                out.append(self.tagged(dollar))
            elif stripped.startswith("$$") and not (len(stripped) > 2 and stripped.endswith("$$")):
                in_math = True
                out.append(line)
            else:
                out.append(self.inline(line))
            i += 1
        return out

    def tagged(self, dollar: re.Match) -> str:
        """A labelled ``$$`` equation's closing line, with its number as ``\\tag``."""
        number = self.target(dollar["label"]).number
        body = dollar["body"].rstrip()
        return f"{body} \\tag{{{number}}} $$" if body.strip() else f"\\tag{{{number}}}\n$$"

    def closing(self, lines: list[str], start: int, fence: str) -> int:
        """The index of the line that closes the block opened at ``start``."""
        for end in range(start + 1, len(lines)):
            stripped = lines[end].strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                return end
        raise self.fail(f"the block opened by {lines[start].strip()!r} is never closed")

    def directive(self, name: str, arg: str, body: list[str]) -> list[str]:
        """The notebook form of a directive, from its name, argument and body lines."""
        options: dict[str, str] = {}
        while body and (option := OPTION.match(body[0].strip())):
            options[option[1]] = option[2]
            body = body[1:]
        classes = options.get("class", "").split()
        if name == "math":
            label = options.get("label")
            content = [arg] if arg else []
            content += [line for line in body if line.strip()]
            if label:
                content.append(f"\\tag{{{self.target(label).number}}}")
            return ["$$", *content, "$$"]
        if name == "only":
            # Sphinx's `only` picks content by builder: a notebook is not the HTML page.
            if arg == "html":
                return []
            if arg == "not html":
                return self.block(body)
            raise self.fail(f"{{only}} {arg} has no notebook meaning (only `html`, `not html`)")
        if name == "dropdown" or (name in ("admonition", *TITLED) and "dropdown" in classes):
            # {note} and its kind take their title from the kind, an argument is content.
            content = [arg] if name in TITLED and arg else []
            return self.details(TITLED.get(name, arg or "Details"), content + body)
        if name == "admonition":
            if not arg:
                raise self.fail("an {admonition} without a title")
            return self.quote(arg, body)
        if name in TITLED:
            return self.quote(TITLED[name], ([arg] if arg else []) + body)
        if name == "figure":
            alt = options.get("alt", "")
            number = self.target(options["name"]).number if "name" in options else None
            caption = " ".join(self.inline(line) for line in body if line.strip())
            lines = [f"![{alt}]({arg})"]
            if caption or number:
                label = f"Fig. {number}. " if number else ""
                lines += ["", f"*{label}{caption}*"]
            return lines
        raise self.fail(f"the directive {{{name}}} has no notebook form")

    def details(self, title: str, body: list[str]) -> list[str]:
        """A folded block: ``<details>`` with ``title`` as its summary."""
        # Blank lines around the body: Markdown inside <details> is rendered only so.
        summary = html.escape(self.inline(title), quote=False)
        return ["<details>", f"<summary>{summary}</summary>", "", *self.block(body), "",
                "</details>"]  # fmt: skip

    def quote(self, title: str, body: list[str]) -> list[str]:
        """An admonition as a quotation with a bold title."""
        inner = self.block(body)
        while inner and not inner[-1].strip():
            inner.pop()
        return [f"> **{self.inline(title)}**", ">", *[f"> {b}".rstrip() for b in inner]]

    # ------------------------------------------------------------------ cells

    def notebook(self) -> nbformat.NotebookNode:
        """The learner's notebook of the chapter."""
        source = jupytext.read(self.chapter)
        cells = []
        for index, cell in enumerate(source.cells):
            self.where = f"cell {index}"
            tags = cell.metadata.get("tags", [])
            if cell.cell_type == "code":
                if left_out(cell):
                    continue
                new = nbformat.v4.new_code_cell(cell.source)
                kept = [t for t in tags if t in KEPT_TAGS]
                if kept:
                    new.metadata["tags"] = kept
                hidden = {}
                if {"hide-input", "remove-input"} & set(tags):
                    hidden["source_hidden"] = True
                if {"hide-output", "remove-output"} & set(tags):
                    hidden["outputs_hidden"] = True
                if hidden:
                    new.metadata["jupyter"] = hidden
            elif cell.cell_type == "markdown":
                if "remove-cell" in tags:
                    continue
                text = "\n".join(self.block(cell.source.splitlines()))
                text = re.sub(r"\n{3,}", "\n\n", text).strip()
                if not text:
                    continue
                new = nbformat.v4.new_markdown_cell(text)
            else:
                new = nbformat.v4.new_raw_cell(cell.source)
            new.id = f"{new.cell_type[:2]}-{len(cells):03d}"  # stable: no diff on rebuild
            cells.append(new)
        nb = nbformat.v4.new_notebook(cells=cells)
        nb.metadata = {
            "kernelspec": source.metadata.get("kernelspec", {}),
            "language_info": {"name": "python"},
        }
        return nb


def learner_text(chapter: Path, root: Path = toc.ROOT) -> str:
    """The learner's notebook of ``chapter``, as the file's text."""
    return nbformat.writes(Converter(chapter, root).notebook()) + "\n"


def write_reference(chapter: Path, root: Path, python: str) -> None:
    """Write ``chapter``'s notebook to its reference path and execute it from a fresh kernel."""
    reference = toc.reference_notebook(chapter, root)
    reference.parent.mkdir(parents=True, exist_ok=True)
    notebook = jupytext.read(chapter)
    notebook.metadata.pop("jupytext", None)  # paired with nothing: the .md is the source
    nbformat.write(notebook, reference)
    jupyter = Path(python).with_name("jupyter")
    command = [str(jupyter), "execute", "--inplace", str(reference)]
    if subprocess.run(command, cwd=root).returncode:
        raise SystemExit(f"book/learner_notebook.py: {reference} failed to execute (see above).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["write", "learner", "check"],
                        help="write: reference and learner's notebooks; learner: only the "
                        "latter; check: fail when a learner's notebook is stale")  # fmt: skip
    parser.add_argument("--root", type=Path, default=toc.ROOT, help="the book's folder")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    stale = []
    try:
        for chapter in toc.chapters(root):
            path = toc.learner_notebook(chapter)
            text = learner_text(chapter, root)
            if args.action == "check":
                if not path.is_file() or path.read_text(encoding="utf-8") != text:
                    stale.append(path.relative_to(root).as_posix())
                continue
            if args.action == "write":
                write_reference(chapter, root, sys.executable)
            path.write_text(text, encoding="utf-8")
            print(f"book/learner_notebook.py: wrote {path.relative_to(root)}")
    except (ConversionError, toc.TocError) as err:
        print(f"book/learner_notebook.py: {err}", file=sys.stderr)
        return 1
    if stale:
        print(f"book/learner_notebook.py: stale, run `make notebook`: {', '.join(stale)}",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
