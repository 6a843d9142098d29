"""Lighthouse on the built chapter: accessibility, best practices and SEO score 100.

One Lighthouse run (mobile) of benchmarks/lighthouse.py on the chapter, served from
127.0.0.1 with gzip; its reports go to artifacts/lighthouse/test-mobile.report.{json,html}.
The performance score depends on the machine and its load, so it is reported here and
measured by `make lighthouse` (README.md, "Benchmarks"), never asserted.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from site_server import serve  # noqa: E402

from benchmarks.lighthouse import LIGHTHOUSE, OUT, PAGE, SITE, run_lighthouse, summarize  # noqa: E402

pytestmark = pytest.mark.slow


def test_chapter_scores_100_but_for_speed(tmp_path: Path) -> None:
    if not (SITE / PAGE).is_file():
        pytest.fail(f"No {PAGE} in {SITE}: run `make book` first (`make test` does it).")
    if not LIGHTHOUSE.is_file():
        pytest.fail("No node_modules/lighthouse: run `make assets` (npm ci).")
    with serve(SITE) as base:
        report = run_lighthouse(base + PAGE, "mobile", tmp_path / "test-mobile")
    OUT.mkdir(parents=True, exist_ok=True)
    for suffix in (".report.json", ".report.html"):
        shutil.copyfile(tmp_path / f"test-mobile{suffix}", OUT / f"test-mobile{suffix}")
    result = summarize(report)
    print(f"Lighthouse, mobile: {result['scores']}, {result['metrics']}")
    low = {c: s for c, s in result["scores"].items() if c != "performance" and s < 100}
    assert not low, f"scores below 100: {low}; failed audits: {result['failed_audits']}"
