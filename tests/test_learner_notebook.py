"""book/learner_notebook.py: MyST becomes what a plain Jupyter, Colab and GitHub render."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import nbformat
import pytest

from book import learner_notebook, toc

FRONT = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""

CHAPTER = FRONT + textwrap.dedent(
    """\
    (sec-top)=
    # A chapter

    % a MyST comment, for the author only
    See {ref}`sec-train`, {ref}`the start <sec-top>`, {numref}`fig-curve`, equation {eq}`eq-a`
    and {eq}`eq-b`, and the {ref}`about page <sec-about>`. Code stays code: `{eq}` and
    ``{ref}`x` ``.

    $$
    a = b
    $$ (eq-a)

    ```{math}
    :label: eq-b
    c = d
    ```

    $$ e = f $$

    :::{admonition} Why
    :class: dropdown note
    Because **this** holds.
    :::

    :::{note}
    Plain {eq}`eq-a`.
    :::

    ```{tip}
    A tip.
    ```

    1. A question?

       :::{admonition} Solution
       :class: dropdown
       The answer.

       ```python
       print("{eq}`not a role`")
       ```
       :::

    ::::{dropdown} More
    :::{hint}
    Inside.
    :::
    ::::

    ```{only} html
    On this web page there is no kernel.
    ```

    ```{code-cell} ipython3
    :tags: [remove-cell]

    %pip install something
    ```

    ```{code-cell} ipython3
    :tags: [remove-cell, check]

    assert 1 + 1 == 2
    ```

    ```{code-cell} ipython3
    :tags: [remove-cell]

    assert True
    ```

    ```{code-cell} ipython3
    :tags: [hide-input, raises-exception, nbval-ignore-output]

    1 / 0
    ```

    ```{code-cell} ipython3
    ---
    mystnb:
      figure:
        name: fig-curve
        caption: A curve.
    ---
    print("figure")
    ```

    (sec-train)=
    ## Training: `fit` it

    Done.
    """
)


def book(folder: Path, chapter: str = CHAPTER) -> Path:
    """A small book: a landing page and one chapter."""
    (folder / "chapters").mkdir(parents=True)
    (folder / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: chapters/one\n"
    )
    (folder / "intro.md").write_text("# About\n\n(sec-about)=\n## About us\n\nText.\n")
    path = folder / "chapters" / "one.md"
    path.write_text(chapter)
    return path


def convert(folder: Path, chapter: str = CHAPTER) -> dict:
    path = book(folder, chapter)
    return nbformat.reads(learner_notebook.learner_text(path, folder), as_version=4)


def markdown(notebook: dict) -> str:
    return "\n\n".join(c["source"] for c in notebook["cells"] if c["cell_type"] == "markdown")


def test_cross_references_become_words_and_links(tmp_path: Path) -> None:
    text = markdown(convert(tmp_path))
    assert "(sec-top)=" not in text and text.startswith("# A chapter")
    assert "See [Training: `fit` it](#Training:-fit-it), [the start](#A-chapter), Fig. 1" in text
    assert "equation (1)\nand (2), and the about page." in text
    assert "`{eq}` and\n``{ref}`x` ``" in text  # code spans are left alone
    assert "MyST comment" not in text


def test_labelled_equations_carry_their_page_number(tmp_path: Path) -> None:
    text = markdown(convert(tmp_path))
    assert "$$\na = b\n\\tag{1}\n$$" in text
    assert "$$\nc = d\n\\tag{2}\n$$" in text
    assert "$$ e = f $$" in text  # unlabelled: unnumbered, as on the page


def test_folded_admonitions_become_details_and_others_quotes(tmp_path: Path) -> None:
    text = markdown(convert(tmp_path))
    assert "<details>\n<summary>Why</summary>\n\nBecause **this** holds.\n\n</details>" in text
    assert "> **Note**\n>\n> Plain (1)." in text
    assert "> **Tip**\n>\n> A tip." in text
    # Inside a list item: indented as the item's content, the code block kept verbatim.
    assert "   <details>\n   <summary>Solution</summary>\n\n   The answer." in text
    assert '   print("{eq}`not a role`")' in text
    assert "<summary>More</summary>\n\n> **Hint**\n>\n> Inside.\n\n</details>" in text
    assert ":::" not in text and ":class:" not in text and "```{" not in text
    assert "no kernel" not in text  # {only} html: the page's words only


def test_checks_are_left_out_and_cells_have_no_outputs(tmp_path: Path) -> None:
    notebook = convert(tmp_path)
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert [c["source"] for c in code] == [
        "%pip install something", "1 / 0", 'print("figure")'
    ]  # fmt: skip
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert code[1]["metadata"] == {"jupyter": {"source_hidden": True},
                                   "tags": ["raises-exception"]}  # fmt: skip
    assert "jupytext" not in notebook["metadata"]
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"


def test_the_same_source_gives_the_same_bytes(tmp_path: Path) -> None:
    path = book(tmp_path)
    assert learner_notebook.learner_text(path, tmp_path) == learner_notebook.learner_text(
        path, tmp_path
    )


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("See {term}`softmax`.", "{term}"),
        ("```{glossary}\nx\n```", "{glossary}"),
        ("See {eq}`eq-none`.", "'eq-none'"),
        (":::{note}\nnever closed", "never closed"),
    ],
)
def test_markup_without_a_notebook_form_is_refused_by_name(
    tmp_path: Path, source: str, named: str
) -> None:
    with pytest.raises(learner_notebook.ConversionError, match=r"one\.md: cell 0") as raised:
        convert(tmp_path, FRONT + "# T\n\n" + source + "\n")
    assert named in str(raised.value)


def test_chapters_follow_the_toc(tmp_path: Path) -> None:
    book(tmp_path)
    (tmp_path / "chapters" / "two.md").write_text(FRONT + "# Two\n")
    assert toc.chapters(tmp_path) == [tmp_path / "chapters" / "one.md"]  # two is not listed
    (tmp_path / "_toc.yml").write_text("root: intro\nchapters:\n  - file: chapters/gone\n")
    with pytest.raises(toc.TocError, match="chapters/gone"):
        toc.chapters(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("chapter", toc.chapters(), ids=lambda c: c.name)
def test_equations_are_numbered_as_on_the_built_page(chapter: Path) -> None:
    page = toc.ROOT / "_build" / "html" / chapter.relative_to(toc.ROOT).with_suffix(".html")
    if not page.is_file():
        pytest.fail(f"No built page {page.relative_to(toc.ROOT)}: run `make book` first.")
    html = page.read_text(encoding="utf-8")
    # Sphinx gives each labelled equation an id and its number, in page order.
    labels = re.findall(r'id="equation-([^"]+)"', html)
    numbers = [int(n) for n in re.findall(r'<span class="eqno">\((\d+)\)', html)]
    on_page = dict(zip(labels, numbers, strict=True))
    found = learner_notebook.targets(chapter, None)
    ours = {label: t.number for label, t in found.items() if t.kind == "equation"}
    assert ours == on_page
