"""Benchmarks of the chapter: the figures of README.md's table (see FIGURES).

    .venv/bin/python -m benchmarks.run              # medians of several runs (about a minute)
    .venv/bin/python -m benchmarks.run --quick      # each cheap path once, no book build
    .venv/bin/python -m benchmarks.run --only load epoch

Prints a table beside the machine and writes it to benchmarks/results/latest.json.
Other work on the machine slows everything down, so the speed goal is a ratio of two
figures measured interleaved in one process, never a timed test.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime
import functools
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import CodeType, SimpleNamespace
from typing import Any
from unittest import mock

import jupytext
import numpy as np
from IPython.core.inputtransformer2 import TransformerManager
from threadpoolctl import threadpool_info, threadpool_limits

from book import toc
from d2lutil import load_fashion_mnist
from d2lutil.data import CACHE_DIR_ENV

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / f"{toc.PANEL_CHAPTER}.md"
RESULTS = ROOT / "benchmarks" / "results" / "latest.json"
BIN = Path(sys.executable).parent
Runs = Iterator[tuple[str, list[float]]]  # what each section yields: (figure, its runs)

#: Every figure: label, unit and target, the one place where the targets are set.
FIGURES: dict[str, tuple[str, str, tuple[str, float] | None]] = {
    "load_cold": ("data load, cold", "s", ("<=", 0.25)),
    "epoch": ("epoch, the chapter's train_epoch_ch3", "ms", None),
    "bare_pass": ("bare pass, X @ W and X.T @ G on the whole set", "ms", None),
    "epoch_over_bare": ("epoch / bare pass", "x", ("<=", 1.3)),  # the speed goal
    "epoch_busy_1": ("epoch, one core busy elsewhere, 1 BLAS thread", "ms", None),
    "epoch_busy_2": ("epoch, one core busy elsewhere, 2 BLAS threads", "ms", None),
    "full_run_seconds": ("full default run, wall", "s", None),
    "full_run_test_acc": ("full default run, test accuracy", "", (">=", 0.82)),
    "notebook_seconds": ("chapter notebook, fresh kernel", "s", ("<=", 10.0)),
    "notebook_peak_rss": ("chapter notebook, peak RSS", "MB", ("<=", 600.0)),
    "book_build_seconds": ("book build from clean", "s", ("<=", 30.0)),
}
NOT_COPIED = shutil.ignore_patterns(  # by the book build's copy of the project
    ".git", ".venv", "_build", "node_modules", "artifacts", "__pycache__", ".*_cache", "*.egg-info"
)
ROW = "{:<48} {:>9} {:>4}  {:<8} {}"
SHOWN = {"s": "{:.3g} s", "ms": "{:.1f} ms", "x": "{:.2f}×", "MB": "{:.0f} MB", "": "{:.4f}"}
# Runs a command; prints its wall time and the peak RSS of its largest process (for
# `jupyter execute`, the kernel): getrusage counts only this wrapper's descendants.
MEASURE = """import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:]).returncode
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)"""

#: What the benchmarks use from the chapter, defined by the cells before the training cell.
NEEDED = ("W", "b", "net", "sgd", "train_epoch_ch3", "train_ch3", "train_iter", "test_iter")
# IPython syntax becomes get_ipython() calls, which do nothing here: the chapter's magics
# are `%config` (inline figures' format) and the Colab-only `%pip install`.
NO_MAGICS = SimpleNamespace(run_line_magic=lambda *args, **kwargs: None)


class ChapterShapeError(RuntimeError):
    """The chapter no longer has the code the benchmarks time."""


def load_chapter(path: Path = CHAPTER) -> tuple[dict[str, Any], CodeType]:
    """Run the chapter's code cells, read from its .md with jupytext, up to its training
    cell (the first that calls ``train_ch3``), figures drawn off-screen, printing captured.

    Returns the namespace (the data with the chapter's seed, the model, its functions)
    and the compiled training cell, to ``exec`` in it.  The benchmarks time these
    functions, never copies of them: if one in NEEDED is missing, ChapterShapeError.
    """
    import matplotlib

    matplotlib.use("Agg")
    cells = [cell.source for cell in jupytext.read(path).cells if cell.cell_type == "code"]
    trees = [ast.parse(TransformerManager().transform_cell(source)) for source in cells]
    calls = [
        {getattr(n.func, "id", None) for n in ast.walk(t) if isinstance(n, ast.Call)} for t in trees
    ]
    train = next((i for i, called in enumerate(calls) if "train_ch3" in called), None)
    if train is None:
        raise ChapterShapeError(f"No code cell of {path.name} calls train_ch3().")
    namespace: dict[str, Any] = {"__name__": "__chapter__", "get_ipython": lambda: NO_MAGICS}
    with contextlib.redirect_stdout(io.StringIO()):
        for i, tree in enumerate(trees[:train]):
            exec(compile(tree, f"{path.name}, code cell {i + 1}", "exec"), namespace)
    missing = [name for name in NEEDED if name not in namespace]
    if missing:
        raise ChapterShapeError(
            f"{path.name} no longer defines {', '.join(missing)} before its training cell: "
            "update benchmarks/ to the chapter's new code."
        )
    return namespace, compile(trees[train], f"{path.name}, training cell", "exec")


def seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measured(command: list[str], cwd: str) -> tuple[float, float]:
    """Wall seconds, and peak RSS in MB of the largest process, of ``command``."""
    wrapped = [sys.executable, "-c", MEASURE, *command]
    done = subprocess.run(wrapped, cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    wall, peak = done.stdout.split()[-2:]
    return float(wall), int(peak) * (1 if sys.platform == "darwin" else 1024) / 1e6


def bench_load(repeat: int) -> Runs:
    """load_fashion_mnist with an empty cache folder: it finds the system copy (or
    $FASHION_MNIST_DIR), decompresses the four .gz files and checks their SHA-256."""
    with (
        tempfile.TemporaryDirectory(prefix="d2l-bench-") as empty,
        mock.patch.dict(os.environ, {CACHE_DIR_ENV: empty}),
    ):
        load_fashion_mnist()  # warm-up: imports, and the files into the OS page cache
        yield "load_cold", [seconds(load_fashion_mnist) for _ in range(repeat)]


def bench_epoch(repeat: int) -> Runs:
    """The chapter's epoch (lr 0.1) and its two matrix products alone, interleaved; then
    the epoch while another process keeps a core busy, with 1 and with 2 BLAS threads."""
    ch, _ = load_chapter()  # its first cells limit BLAS to one thread
    W, b, net, train_iter = ch["W"], ch["b"], ch["net"], ch["train_iter"]

    def epoch(threads: int | None = None) -> None:
        with threadpool_limits(limits=threads, user_api="blas"):  # None: as the chapter set
            ch["train_epoch_ch3"](net, train_iter, lambda grads: ch["sgd"]([W, b], grads, 0.1))

    X = train_iter.images.reshape(len(train_iter.y), -1).astype(np.float32) / np.float32(255)
    G = net(X)  # the shape and dtype of the gradient's G: 60000 x 10 float32

    def bare() -> None:
        X @ W
        X.T @ G

    for warm_up in (epoch, bare):  # first-touch page faults
        warm_up()
    runs = [(1000 * seconds(epoch), 1000 * seconds(bare)) for _ in range(repeat)]
    yield "epoch", [e for e, _ in runs]
    yield "bare_pass", [p for _, p in runs]
    yield "epoch_over_bare", [e / p for e, p in runs]
    one, two = functools.partial(epoch, 1), functools.partial(epoch, 2)
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        busy = [(1000 * seconds(one), 1000 * seconds(two)) for _ in range(min(repeat, 3))]
    finally:
        burner.kill()
        burner.wait()
    yield "epoch_busy_1", [t for t, _ in busy]
    yield "epoch_busy_2", [t for _, t in busy]


def bench_full_run(repeat: int) -> Runs:
    """The chapter's training cell (10 epochs at lr 0.1), in a fresh namespace each time."""
    walls, accuracies = [], []
    for _ in range(repeat):
        ch, training_cell = load_chapter()
        with contextlib.redirect_stdout(io.StringIO()):
            walls.append(seconds(functools.partial(exec, training_cell, ch)))
        accuracies.append(float(ch["test_acc"]))
    yield "full_run_seconds", walls
    yield "full_run_test_acc", accuracies


def bench_notebook(repeat: int) -> Runs:
    """The chapter as a fresh .ipynb run by `jupyter execute`, kernel start-up included."""
    with tempfile.TemporaryDirectory(prefix="d2l-bench-") as tmp:
        jupytext.write(jupytext.read(CHAPTER), Path(tmp) / "chapter.ipynb")
        command = [str(BIN / "jupyter-execute"), "chapter.ipynb"]
        runs = [measured(command, tmp) for _ in range(repeat)]
    yield "notebook_seconds", [wall for wall, _ in runs]
    yield "notebook_peak_rss", [peak for _, peak in runs]


def bench_book(repeat: int) -> Runs:
    """`jupyter-book build -W -n --keep-going` of a copy of the project in a fresh folder."""
    walls = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="d2l-bench-") as tmp:
            shutil.copytree(ROOT, Path(tmp) / "book", ignore=NOT_COPIED)
            build = [str(BIN / "jupyter-book"), "build", "book", "-W", "-n", "--keep-going"]
            walls.append(measured(build, tmp)[0])
    yield "book_build_seconds", walls


#: Each section, with its number of runs in full and in quick mode.
SECTIONS = {
    "load": (bench_load, 9, 1),
    "epoch": (bench_epoch, 9, 1),
    "full": (bench_full_run, 3, 1),
    "notebook": (bench_notebook, 3, 1),
    "book": (bench_book, 1, 0),
}


def result(key: str, runs: list[float]) -> dict:
    """A figure's runs, median, target and status (pass, MISS, - without target, skipped)."""
    label, unit, target = FIGURES[key]
    median = statistics.median(runs) if runs else None
    status = "skipped" if median is None else "-"
    if target and median is not None:
        op, limit = target
        status = "pass" if (median <= limit if op == "<=" else median >= limit) else "MISS"
    shown = SHOWN[unit].format(median) if runs else "-"
    quoted = f"{'≤' if target[0] == '<=' else '≥'} {target[1]:g}" if target else None
    return dict(
        label=label, unit=unit, runs=runs, median=median, shown=shown, target=quoted, status=status
    )


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    cpu = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
    return {
        "cores": os.cpu_count(),
        "cpu": cpu[1] if cpu else platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": "; ".join(
            f"{p['internal_api']} {p['version']}, {p['num_threads']} threads" for p in blas
        ),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run")
    parser.add_argument("--quick", action="store_true", help="each cheap path once, no book build")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS,
        default=SECTIONS,
        metavar="SECTION",
        help=f"run only these sections, of: {', '.join(SECTIONS)}",
    )
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"default: {RESULTS}")
    args = parser.parse_args(argv)
    started, info = datetime.datetime.now().astimezone(), machine()
    mode = "quick" if args.quick else "full"
    print(f"Benchmarks, {started:%Y-%m-%d %H:%M}, {mode} mode.")
    print("; ".join(f"{key}: {value}" for key, value in info.items()), flush=True)
    results, errors = {}, {}
    for name, (bench, full, quick) in SECTIONS.items():
        if name not in args.only:
            continue
        print(f"... {name}", file=sys.stderr, flush=True)
        try:
            runs = bench(quick if args.quick else full)
            results.update((key, result(key, figure_runs)) for key, figure_runs in runs)
        except Exception as err:
            errors[name] = "".join(traceback.format_exception_only(err)).strip()
            traceback.print_exc()
    print("\n" + ROW.format("figure", "median", "runs", "target", "status"))
    for r in results.values():
        print(ROW.format(r["label"], r["shown"], len(r["runs"]), r["target"] or "", r["status"]))
    date = started.isoformat(timespec="seconds")
    report = dict(date=date, mode=mode, machine=info, results=results, errors=errors)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten: {args.json}")
    for name, message in errors.items():
        print(f"error in {name}: {message}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
