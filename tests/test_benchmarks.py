"""The benchmarks run end to end in quick mode and write their JSON (no timing asserted),
and stop with a clear message when the chapter's code no longer has what they time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from book import toc

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / f"{toc.PANEL_CHAPTER}.md"
FIGURES = [
    "load_cold", "epoch", "bare_pass", "epoch_over_bare", "epoch_busy_1", "epoch_busy_2",
    "full_run_seconds", "full_run_test_acc", "notebook_seconds", "notebook_peak_rss",
    "book_build_seconds",
]  # fmt: skip


def python(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, **env})  # fmt: skip


@pytest.mark.slow
def test_quick_mode_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = python("-m", "benchmarks.run", "--quick", "--json", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "epoch / bare pass" in done.stdout  # the table was printed
    report = json.loads(out.read_text())
    assert report["mode"] == "quick" and report["errors"] == {}
    assert {"cores", "cpu", "python", "numpy", "blas", "load_average"} <= set(report["machine"])
    results = report["results"]
    assert list(results) == FIGURES
    for key, figure in results.items():
        assert {"label", "unit", "runs", "median", "target", "status"} <= set(figure), key
        if key == "book_build_seconds":  # not built in quick mode
            assert figure["status"] == "skipped" and figure["median"] is None
        else:
            assert len(figure["runs"]) == 1 and figure["median"] > 0, key
            assert figure["status"] in ({"pass", "MISS"} if figure["target"] else {"-"}), key
    assert 0 < results["full_run_test_acc"]["median"] <= 1


def test_a_renamed_function_is_named(tmp_path: Path, real_data_dir: Path) -> None:
    renamed = tmp_path / CHAPTER.name
    renamed.write_text(CHAPTER.read_text().replace("train_epoch_ch3", "train_one_epoch"))
    load = f"import benchmarks.run as b, pathlib; b.load_chapter(pathlib.Path({str(renamed)!r}))"
    done = python("-c", load, FASHION_MNIST_DIR=str(real_data_dir))
    assert done.returncode != 0
    assert "ChapterShapeError" in done.stderr and "no longer defines train_epoch_ch3" in done.stderr
