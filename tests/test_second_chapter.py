"""A chapter added to `_toc.yml`, and nothing else, is executed, tested by nbval, kept in sync,
built into the book and served in the in-browser site: everything about chapters follows the
table of contents.

The test works on a copy of the project in a temporary folder (its venv, npm packages and
built assets are links to this one's) and uses the project's own commands there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
#: What the copy leaves out: built or installed, and linked instead where the build needs it.
SKIPPED = {".git", ".venv", "_build", "node_modules", "vendor", "artifacts", "__pycache__",
           ".pytest_cache", ".ruff_cache", "results", ".ipynb_checkpoints"}  # fmt: skip
LINKED = (".venv", "node_modules", "vendor")

SECOND = textwrap.dedent(
    """\
    ---
    jupytext:
      text_representation:
        extension: .md
        format_name: myst
    kernelspec:
      display_name: Python 3 (ipykernel)
      language: python
      name: python3
    ---

    (sec-second)=
    # A second chapter

    The sum of the first three numbers,

    $$
    s = 1 + 2 + 3,
    $$ (eq-second-sum)

    is computed below, and equation {eq}`eq-second-sum` is drawn.

    ```{code-cell} ipython3
    total = sum([1, 2, 3])
    print(f"s = {total}")
    ```

    ```{code-cell} ipython3
    :tags: [remove-cell, check]

    assert total == 6
    ```

    ```{code-cell} ipython3
    ---
    mystnb:
      figure:
        name: fig-second-sum
        caption: The partial sums.
    ---
    import matplotlib.pyplot as plt

    plt.figure(figsize=(3, 2))
    plt.plot([1, 2, 3], [1, 3, 6], marker="o")
    plt.show()
    ```
    """
)


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project with a second chapter in its `_toc.yml`."""
    copy = tmp_path_factory.mktemp("book") / "book"
    shutil.copytree(ROOT, copy, ignore=lambda _, names: SKIPPED & set(names))
    (copy / ".venv").symlink_to(sys.prefix)  # the environment running this test
    for name in LINKED:
        if (ROOT / name).exists() and name != ".venv":
            (copy / name).symlink_to(ROOT / name)
    (copy / "chapters" / "second.md").write_text(SECOND)
    with (copy / "_toc.yml").open("a") as toc:
        toc.write("  - file: chapters/second\n")
    done = run(["make", "notebook"], copy)
    assert done.returncode == 0, f"make notebook failed:\n{done.stdout[-3000:]}\n{done.stderr}"
    return copy


def test_the_second_chapter_is_executed_with_its_learners_notebook(book: Path) -> None:
    reference = json.loads((book / "tests/reference/chapters/second.ipynb").read_text())
    code = [c for c in reference["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == [1, 2, 3]
    assert "s = 6" in "".join(code[0]["outputs"][0]["text"])
    assert any("image/png" in o.get("data", {}) for o in code[2]["outputs"])

    learner = json.loads((book / "chapters/second.ipynb").read_text())
    text = "".join("".join(c["source"]) for c in learner["cells"])
    assert "\\tag{1}" in text and "equation (1) is drawn" in text and "(sec-second)=" not in text
    assert "assert total" not in text
    assert all(not c.get("outputs") for c in learner["cells"])


def test_nbval_collects_and_passes_the_second_chapter(book: Path) -> None:
    collected = run([str(BIN / "python"), "-m", "pytest", "--nbval", "--collect-only", "-q"], book)
    assert "tests/reference/chapters/second.ipynb" in collected.stdout, collected.stdout[-3000:]
    assert "chapters/second.ipynb::" not in collected.stdout.replace("reference/chapters", "")
    done = run([str(BIN / "python"), "-m", "pytest", "--nbval", "-q",
                "tests/reference/chapters/second.ipynb"], book)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]


def test_sync_check_covers_the_second_chapter(book: Path) -> None:
    done = run(["make", "sync-check"], book)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "second.md" in run([str(BIN / "python"), "-m", "pytest", "--collect-only", "-q",
                               "tests/test_chapter_sync.py"], book).stdout  # fmt: skip
    source = book / "chapters" / "second.md"
    original = source.read_text()
    source.write_text(original.replace("sum([1, 2, 3])", "sum([3, 2, 1])"))
    try:
        stale = run(["make", "sync-check"], book)
    finally:
        source.write_text(original)
    assert stale.returncode != 0 and "second" in stale.stdout, stale.stdout[-3000:]


def test_the_book_builds_the_second_chapter(book: Path) -> None:
    done = run([str(BIN / "jupyter-book"), "build", ".", "-W", "-n", "--keep-going"], book)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    page = (book / "_build/html/chapters/second.html").read_text()
    assert "A second chapter" in page and "s = 6" in page and "<img" in page
    assert "lite/notebooks/index.html?path=chapters/second.ipynb" in page  # the launch button


def test_the_in_browser_site_serves_the_second_chapter(book: Path) -> None:
    # lite/build.py's notebook step, on a site folder of its own (the rest of the build, the
    # wheels, does not depend on the chapters).
    site = book / "site"
    site.mkdir()
    script = (
        "import pathlib, sys; sys.path.insert(0, 'lite'); import build; "
        f"build.notebooks(pathlib.Path({str(site)!r}))"
    )
    done = run([str(BIN / "python"), "-c", script], book)
    assert done.returncode == 0, done.stderr[-3000:]
    served = json.loads((site / "files/chapters/second.ipynb").read_text())
    assert served["metadata"]["kernelspec"]["name"] == "python"  # Pyodide's kernel
    listing = json.loads((site / "api/contents/chapters/all.json").read_text())
    names = {item["name"] for item in listing["content"]}
    assert {"second.ipynb", "softmax-regression-scratch.ipynb"} <= names
