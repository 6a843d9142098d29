"""The benchmark suite runs end to end in quick mode and writes its JSON (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FIGURES = {
    "load_cold", "load_first", "load_warm",
    "epoch", "bare_whole", "bare_batches", "serve",
    "epoch_over_bare_whole", "epoch_over_bare_batches", "epoch_over_fastest_bare",
    "epoch_over_bare_all_threads",
    "epoch_all_threads", "bare_whole_all_threads", "epoch_busy", "epoch_busy_all_threads",
    "full_run_seconds", "full_run_test_acc",
    "notebook_seconds", "notebook_peak_rss", "book_build_seconds",
}  # fmt: skip


@pytest.mark.slow
def test_quick_mode_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "epoch / bare pass (whole set)" in done.stdout  # the table was printed
    report = json.loads(out.read_text())
    assert report["mode"] == "quick" and report["errors"] == {}
    assert {"cores", "python", "numpy", "blas"} <= set(report["machine"])
    results = report["results"]
    assert set(results) == FIGURES
    for key, figure in results.items():
        assert {"label", "unit", "runs", "value", "target", "status", "note"} <= set(figure)
        if key == "book_build_seconds":  # not built in quick mode
            assert figure["status"] == "skipped" and figure["value"] is None
        else:
            assert figure["value"] is not None and figure["value"] > 0, key
            assert figure["status"] in {"pass", "MISS", "-", "not compared"}, key
    assert set(report["definitions"]) == FIGURES
    assert 0 < results["full_run_test_acc"]["value"] <= 1
