"""Lighthouse on the built chapter, served from 127.0.0.1 with gzip as a static host serves it.

    make lighthouse                          # builds the book if needed, then this
    .venv/bin/python -m benchmarks.lighthouse [--runs 3] [--form-factor mobile desktop]

Runs Lighthouse 12 (npm `lighthouse`, pinned in package-lock.json) with Chromium
($CHROMIUM, else /usr/bin/chromium) headless, ``--runs`` times per form factor: "mobile"
is Lighthouse's default (a mid-range phone on a slow 4G connection, simulated), "desktop"
its desktop preset. Prints each form factor's median run (by performance score) beside the
targets, and keeps that run's reports, JSON and HTML, in artifacts/lighthouse/, with a
summary of every run and of the machine in artifacts/lighthouse/summary.json. Exits with
status 1 when a median misses a target. Performance scores move by a few points from run to
run, more on a busy machine: read them as ±5.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from book import toc

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
OUT = ROOT / "artifacts" / "lighthouse"
LIGHTHOUSE = ROOT / "node_modules" / "lighthouse" / "cli" / "index.js"
PAGE = f"{toc.PANEL_CHAPTER}.html"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
TARGETS = {  # the lowest acceptable score, 0 to 100
    "mobile": {"performance": 75, "accessibility": 100, "best-practices": 100, "seo": 100},
    "desktop": {"performance": 90, "accessibility": 100, "best-practices": 100, "seo": 100},
}
METRICS = {  # audit id -> short name
    "first-contentful-paint": "FCP",
    "largest-contentful-paint": "LCP",
    "total-blocking-time": "TBT",
    "cumulative-layout-shift": "CLS",
    "speed-index": "SI",
}
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"

sys.path.insert(0, str(ROOT / "tests"))
from site_server import serve  # noqa: E402


def run_lighthouse(url: str, form_factor: str, out: Path) -> dict:
    """One Lighthouse run; its reports are written to out.report.json and out.report.html."""
    command = [
        shutil.which("node") or "node",
        str(LIGHTHOUSE),
        url,
        f"--only-categories={','.join(CATEGORIES)}",
        "--output=json",
        "--output=html",
        f"--output-path={out}",
        f"--chrome-flags={CHROME_FLAGS}",
        "--quiet",
    ]
    if form_factor == "desktop":
        command.append("--preset=desktop")
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROMIUM", "/usr/bin/chromium")}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"Lighthouse failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(out.with_name(out.name + ".report.json").read_text())


def summarize(report: dict) -> dict:
    """Scores (0-100) and metrics (ms; CLS unitless) of one report."""
    scores = {c: round(100 * report["categories"][c]["score"]) for c in CATEGORIES}
    metrics = {name: report["audits"][audit]["numericValue"] for audit, name in METRICS.items()}
    failed = {
        audit: report["audits"][audit].get("displayValue", "")
        for category in CATEGORIES[1:]
        for ref in report["categories"][category]["auditRefs"]
        if ref["weight"]
        and (audit := ref["id"])
        and report["audits"][audit]["score"] not in (1, None)
    }
    return {"scores": scores, "metrics": metrics, "failed_audits": failed}


def machine(report: dict) -> dict:
    cpu = platform.processor()
    with open("/proc/cpuinfo") if Path("/proc/cpuinfo").exists() else open(os.devnull) as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": date.today().isoformat(),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "load_average": os.getloadavg()[0],
        "lighthouse": report["lighthouseVersion"],
        "browser": report["environment"]["hostUserAgent"],
        "benchmark_index": report["environment"].get("benchmarkIndex"),
    }


def fmt(metric: str, value: float) -> str:
    return (
        f"{value:.3f}"
        if metric == "CLS"
        else f"{value / 1000:.2f} s"
        if value >= 1000
        else f"{value:.0f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per form factor (median kept)")
    parser.add_argument("--form-factor", nargs="+", default=["mobile", "desktop"],
                        choices=["mobile", "desktop"])  # fmt: skip
    parser.add_argument("--page", default=PAGE, help="page of the built site to measure")
    args = parser.parse_args(argv)
    if not (SITE / args.page).is_file():
        sys.exit(f"No {SITE.relative_to(ROOT)}/{args.page}: run `make book` first.")
    if not LIGHTHOUSE.is_file():
        sys.exit("No node_modules/lighthouse: run `make assets` (npm ci).")
    OUT.mkdir(parents=True, exist_ok=True)
    summary: dict = {"page": args.page, "runs": {}, "median": {}}
    ok = True
    with serve(SITE) as base, tempfile.TemporaryDirectory() as tmp:
        for form_factor in args.form_factor:
            runs = []
            for i in range(args.runs):
                report = run_lighthouse(
                    base + args.page, form_factor, Path(tmp, f"{form_factor}-{i}")
                )
                runs.append((summarize(report), i, report))
                print(f"{form_factor} run {i + 1}: {runs[-1][0]['scores']}", flush=True)
            runs.sort(key=lambda r: r[0]["scores"]["performance"])
            median, index, report = runs[len(runs) // 2]
            stem = f"{Path(args.page).stem}-{form_factor}"
            for suffix in (".report.json", ".report.html"):
                shutil.copyfile(Path(tmp, f"{form_factor}-{index}{suffix}"), OUT / (stem + suffix))
            summary["runs"][form_factor] = [r[0] for r in runs]
            summary["median"][form_factor] = median
            summary["machine"] = machine(report)
            performance = [r[0]["scores"]["performance"] for r in runs]
            median["performance_range"] = [min(performance), max(performance)]
            median["performance_median"] = statistics.median(performance)
    (OUT / "summary.json").write_text(json.dumps(summary, indent=1))

    m = summary["machine"]
    print(f"\nLighthouse {m['lighthouse']} on {args.page}, {m['date']}, {m['cores']} cores "
          f"({m['cpu']}), load {m['load_average']:.1f}; median of {args.runs} runs\n")  # fmt: skip
    print("| form factor | " + " | ".join(CATEGORIES) + " | " + " | ".join(METRICS.values()) + " |")
    print("| --- " * (1 + len(CATEGORIES) + len(METRICS)) + "|")
    for form_factor, median in summary["median"].items():
        cells = []
        for category in CATEGORIES:
            score, target = median["scores"][category], TARGETS[form_factor][category]
            ok &= score >= target
            low, high = median["performance_range"] if category == "performance" else (score, score)
            spread = f" ({low}–{high})" if low != high else ""
            cells.append(f"{score}{spread}{'' if score >= target else f' (target {target})'}")
        cells += [fmt(name, median["metrics"][name]) for name in METRICS.values()]
        print(f"| {form_factor} | " + " | ".join(cells) + " |")
        if median["failed_audits"]:
            print(f"  {form_factor}: failed audits: {median['failed_audits']}")
    print(f"\nReports: {OUT.relative_to(ROOT)}/")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
