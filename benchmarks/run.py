"""The benchmark suite: data loading, training speed, notebook and book build.

    .venv/bin/python -m benchmarks.run            # medians of several runs (about a minute)
    .venv/bin/python -m benchmarks.run --quick    # every cheap code path once (about 20 s)

It prints a table (measurement, median, runs, target, pass/MISS) beside a description
of the machine, and writes the same as JSON to benchmarks/results/latest.json.
The training measurements time the chapter's own functions, taken from
chapters/softmax-regression-scratch.md (see benchmarks/chapter.py).

Other work on the machine slows every measurement down; the epoch measurements are
therefore measured in one process, interleaved, and compared as a ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from benchmarks.chapter import CHAPTER, ROOT, calls, defines, load_chapter, run_cell
from benchmarks.chapter import training_cell as find_training_cell

RESULTS = ROOT / "benchmarks" / "results" / "latest.json"
SECTIONS = ("load", "epoch", "full", "notebook", "book")
BIN = Path(sys.executable).parent

#: Targets on the 2-core reference machine: (comparison, value), in the measurement's unit.
TARGETS: dict[str, tuple[str, float]] = {
    "load_cold": ("<=", 0.25),
    "load_warm": ("<=", 0.05),
    "epoch_over_bare_whole": ("<=", 1.3),
    "full_run_test_acc": (">=", 0.82),  # the chapter's own check
    "notebook_seconds": ("<=", 10.0),
    "notebook_peak_rss": ("<=", 600.0),
    "book_build_seconds": ("<=", 30.0),
}

#: What each measurement measures (printed under the table and stored in the JSON).
DEFINITIONS: dict[str, str] = {
    "load_cold": "load_fashion_mnist(use_array_cache=False): read the four .gz files, "
    "decompress, check headers and SHA-256 (the .gz files are in the OS page cache)",
    "load_first": "load_fashion_mnist() into an empty cache folder: a cold load plus "
    "writing the four verified .npy arrays",
    "load_warm": "load_fashion_mnist() from the verified .npy array cache (SHA-256 checked "
    "when written; the hash is skipped while the file's size and time match its stamp), "
    "written to disk beforehand (os.sync) as after an earlier session",
    "epoch": "one call of the chapter's train_epoch_ch3(net, train_iter, cross_entropy, "
    "updater) at lr 0.1: 235 shuffled batches of 256 served by d2lutil, forward pass, "
    "loss, hand-written gradients, sgd step, metrics",
    "bare_whole": "bare pass, whole set: the epoch's two matrix products done once over the "
    "training set as two large products, X @ W and X.T @ G, with X the pre-converted "
    "float32 training set (60000 x 784), W 784 x 10, G 60000 x 10",
    "bare_batches": "bare pass, per batch: the same two products on each of the 235 "
    "contiguous 256-row slices of that X (no gather, conversion, softmax or Python "
    "bookkeeping)",
    "serve": "data serving alone: one pass over train_iter doing nothing with the batches "
    "(shuffled uint8 gather + float32 conversion)",
    "epoch_over_bare_whole": "epoch / bare pass (whole set), both at the chapter's BLAS "
    "threads, in one process; the target's reference",
    "epoch_over_bare_batches": "epoch / bare pass (per batch): everything but the products",
    "epoch_over_fastest_bare": "epoch (at the chapter's BLAS threads) / bare pass over the "
    "whole set with every BLAS thread: how far the chapter is from the fastest products "
    "this machine does",
    "epoch_over_bare_all_threads": "epoch / bare pass over the whole set, both with as many "
    "BLAS threads as cores (NumPy's default)",
    "epoch_all_threads": "the same epoch with as many BLAS threads as cores "
    "(the chapter limits BLAS to one thread)",
    "bare_whole_all_threads": "bare pass, whole set, with as many BLAS threads as cores",
    "epoch_busy": "the chapter's epoch while another process keeps one core busy "
    "(a Python busy loop started by the benchmark)",
    "epoch_busy_all_threads": "the same, one core busy, with as many BLAS threads as cores",
    "full_run_seconds": "the chapter's own training cell from a fresh namespace: "
    "train_ch3 for the chapter's epochs at its lr and batch size, seeded as in the chapter "
    "(includes a test evaluation and a redraw of the learning curves per epoch)",
    "full_run_test_acc": "the final test accuracy of that run",
    "notebook_seconds": "the chapter (jupytext .md -> .ipynb in a temporary folder) run "
    "with `jupyter execute` from a fresh kernel: kernel start-up included",
    "notebook_peak_rss": "peak resident memory of the largest process of that run (the "
    "kernel), from getrusage(RUSAGE_CHILDREN)",
    "book_build_seconds": "`jupyter-book build <copy> -W -n --keep-going` of a copy of the "
    "project into a fresh folder (it executes the chapter)",
}


@dataclass
class Measurement:
    """One measured figure: its runs, median, target and verdict."""

    key: str
    label: str
    unit: str
    runs: list[float] = field(default_factory=list)
    note: str = ""
    status: str = ""
    value: float | None = None
    target: dict[str, Any] | None = None

    def finish(self, *, comparable: bool = True) -> Measurement:
        self.value = statistics.median(self.runs) if self.runs else None
        op, limit = TARGETS.get(self.key, (None, None))
        self.target = {"op": op, "value": limit} if op else None
        if self.value is None:
            self.status = "skipped"
        elif limit is None:
            self.status = "-"
        elif not comparable:
            self.status = "not compared"
        else:
            ok = self.value <= limit if op == "<=" else self.value >= limit
            self.status = "pass" if ok else "MISS"
        return self


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def seconds(fn: Callable[[], object]) -> float:
    """Wall time of one call of ``fn``, in seconds."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_child(command: list[str], log: Path, cwd: Path) -> dict[str, Any]:
    """Run ``command`` under benchmarks.child: wall time and peak RSS of its largest process."""
    wrapper = [sys.executable, "-m", "benchmarks.child", str(log), "--", *command]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(wrapper, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"benchmarks.child failed: {done.stderr.strip()}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["returncode"] != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise RuntimeError(f"{' '.join(command)} exited with {result['returncode']}:\n{tail}")
    return result


# --------------------------------------------------------------------------
# The measurements
# --------------------------------------------------------------------------


def bench_data_load(repeats: int) -> Iterator[Measurement]:
    """Cold, first and warm loads of the four files, interleaved."""
    from d2lutil import load_fashion_mnist

    cold = Measurement("load_cold", "data load, cold (.gz, no array cache)", "s")
    first = Measurement("load_first", "data load, first (fills an empty cache)", "s")
    warm = Measurement("load_warm", "data load, warm (verified .npy cache)", "s")
    with tempfile.TemporaryDirectory(prefix="d2l-bench-cache-") as tmp:
        no_cache = functools.partial(load_fashion_mnist, cache=tmp, use_array_cache=False)
        found = no_cache()  # warm-up: imports, and the .gz files into the OS page cache
        for _ in range(repeats):
            cold.runs.append(seconds(no_cache))
        for i in range(repeats):
            first.runs.append(seconds(functools.partial(load_fashion_mnist, cache=f"{tmp}/{i}")))
            # Write the new arrays out now, as happens between sessions: reading them
            # while the kernel is still writing them back is up to 4 times slower.
            os.sync()
        for _ in range(repeats):
            warm.runs.append(seconds(functools.partial(load_fashion_mnist, cache=f"{tmp}/0")))
    cold.note = f"source: {found.origin}, {found.paths['train_images'].parent}"
    yield from (cold.finish(), first.finish(), warm.finish())


@contextlib.contextmanager
def one_core_busy() -> Iterator[None]:
    """Keep one core busy with another process (a Python busy loop) meanwhile."""
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        yield
    finally:
        burner.kill()
        burner.wait()


def bench_epoch(repeats: int) -> Iterator[Measurement]:
    """The chapter's epoch against its bare matrix products.

    At the chapter's BLAS threads and at as many as cores; idle, and with one core busy.
    """
    chapter = load_chapter()  # its first cell sets the chapter's BLAS threads (one)
    chapter_threads = blas_threads()
    all_threads = os.cpu_count() or 1
    W, b, train_iter = chapter["W"], chapter["b"], chapter["train_iter"]

    def updater(grads: tuple[np.ndarray, np.ndarray]) -> None:
        chapter["sgd"]([W, b], grads, 0.1)

    def epoch() -> None:
        chapter["train_epoch_ch3"](chapter["net"], train_iter, chapter["cross_entropy"], updater)

    X = train_iter.X.reshape(len(train_iter.y), -1)  # float32 (60000, 784), converted once
    G = chapter["net"](X)  # (60000, 10) float32: the shape and dtype of the gradient's G
    size = train_iter.batch_size
    slices = [(X[i : i + size], G[i : i + size]) for i in range(0, len(X), size)]

    def bare_whole() -> None:
        X @ W
        X.T @ G

    def bare_batches() -> None:
        for Xb, Gb in slices:
            Xb @ W
            Xb.T @ Gb

    def serve() -> None:
        for _ in train_iter:
            pass

    def with_all_threads(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            with threadpool_limits(limits=all_threads, user_api="blas"):
                fn()

        return run

    parts = {
        "epoch": (epoch, "epoch of the chapter's training code"),
        "bare_whole": (bare_whole, "bare pass, whole set (X·W, Xᵀ·G)"),
        "bare_batches": (bare_batches, "bare pass, per batch (235 × X_b·W, X_bᵀ·G_b)"),
        "serve": (serve, "data serving alone (235 batches)"),
        "epoch_all_threads": (with_all_threads(epoch), f"epoch, {all_threads} BLAS threads"),
        "bare_whole_all_threads": (
            with_all_threads(bare_whole),
            f"bare pass, whole set, {all_threads} BLAS threads",
        ),
    }
    measurements = {key: Measurement(key, label, "ms") for key, (_, label) in parts.items()}
    for fn, _ in parts.values():  # warm-up: first-touch page faults, BLAS threads
        fn()
    for _ in range(repeats):  # interleaved, so that a busy moment hits every part alike
        for key, (fn, _) in parts.items():
            measurements[key].runs.append(1000 * seconds(fn))
    measurements[
        "epoch"
    ].note = f"{len(train_iter)} batches of {size}, {chapter_threads} BLAS thread(s)"
    busy = {
        "epoch_busy": (epoch, "epoch, one core busy elsewhere"),
        "epoch_busy_all_threads": (
            with_all_threads(epoch),
            f"epoch, one core busy, {all_threads} BLAS threads",
        ),
    }
    with one_core_busy():
        for key, (_, label) in busy.items():
            measurements[key] = Measurement(key, label, "ms")
        for _ in range(min(repeats, 3)):
            for key, (fn, _) in busy.items():
                measurements[key].runs.append(1000 * seconds(fn))
    for key in ("epoch", "bare_whole", "bare_batches", "serve"):
        yield measurements[key].finish()
    ratios = (
        ("epoch_over_bare_whole", "epoch / bare pass (whole set)", "epoch", "bare_whole"),
        ("epoch_over_bare_batches", "epoch / bare pass (per batch)", "epoch", "bare_batches"),
        (
            "epoch_over_fastest_bare",
            f"epoch / bare pass (whole set, {all_threads} BLAS threads)",
            "epoch",
            "bare_whole_all_threads",
        ),
        (
            "epoch_over_bare_all_threads",
            f"epoch / bare pass, both with {all_threads} BLAS threads",
            "epoch_all_threads",
            "bare_whole_all_threads",
        ),
    )
    for key, label, top, bottom in ratios:
        ratio = Measurement(key, label, "x")
        ratio.runs = [
            e / p for e, p in zip(measurements[top].runs, measurements[bottom].runs, strict=True)
        ]
        yield ratio.finish()
    for key in (
        "epoch_all_threads",
        "bare_whole_all_threads",
        "epoch_busy",
        "epoch_busy_all_threads",
    ):
        yield measurements[key].finish()


def blas_threads() -> int:
    """The BLAS thread count in force now (the smallest, if several libraries are loaded)."""
    counts = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    return min(counts) if counts else 1


def committed_test_acc() -> float | None:
    """The final test accuracy printed in the committed, executed notebook."""
    try:
        import jupytext

        notebook = jupytext.read(CHAPTER.with_suffix(".ipynb"))
    except (OSError, ValueError):
        return None
    for cell in notebook.cells:
        if cell.cell_type == "code" and calls(cell, "train_ch3"):
            text = "".join(out.get("text", "") for out in cell.get("outputs", []))
            found = re.findall(r"test acc ([0-9.]+)", text)
            return float(found[-1]) if found else None
    return None


def bench_full_run() -> Iterator[Measurement]:
    """The chapter's own training cell: wall time and final test accuracy."""
    chapter = load_chapter()
    cell = find_training_cell()
    wall = Measurement("full_run_seconds", "full default run, wall time", "s")
    acc = Measurement("full_run_test_acc", "full default run, final test accuracy", "")
    wall.runs.append(seconds(lambda: run_cell(cell, chapter, "the chapter's training cell")))
    acc.runs.append(float(chapter["test_acc"]))
    settings = (
        f"{chapter.get('num_epochs')} epochs, lr {chapter.get('lr')}, batch {chapter['batch_size']}"
    )
    wall.note = settings
    committed = committed_test_acc()
    if committed is not None:
        acc.note = f"committed notebook: {committed:.4f}"
    yield from (wall.finish(), acc.finish())


def chapter_notebook(quick: bool) -> Any:
    """The chapter as a fresh notebook; in quick mode only up to train_ch3's definition."""
    import jupytext

    notebook = jupytext.read(CHAPTER)
    if quick:
        last = next(
            i
            for i, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and defines(cell, "train_ch3")
        )
        notebook.cells = notebook.cells[: last + 1]
    return notebook


def bench_notebook(runs: int, quick: bool) -> Iterator[Measurement]:
    """The chapter executed from a fresh kernel: wall time and the kernel's peak RSS."""
    import jupytext

    wall = Measurement("notebook_seconds", "chapter notebook, fresh kernel, wall", "s")
    peak = Measurement("notebook_peak_rss", "chapter notebook, peak RSS", "MB")
    with tempfile.TemporaryDirectory(prefix="d2l-bench-notebook-") as tmp:
        path = Path(tmp) / CHAPTER.with_suffix(".ipynb").name
        jupytext.write(chapter_notebook(quick), path)
        for _ in range(runs):
            result = run_child(
                [str(BIN / "jupyter-execute"), str(path)], Path(tmp) / "log", Path(tmp)
            )
            wall.runs.append(result["seconds"])
            peak.runs.append(result["peak_rss_bytes"] / 1e6)
    if quick:
        wall.note = peak.note = "quick: only the cells up to train_ch3, so not compared"
    yield from (wall.finish(comparable=not quick), peak.finish(comparable=not quick))


_SKIP_ANYWHERE = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".ruff_cache"}
_SKIP_AT_ROOT = {".git", ".venv", "_build", "node_modules", "artifacts"}


def _not_book_sources(folder: str, names: list[str]) -> set[str]:
    """``shutil.copytree`` filter: leave out what a book build does not read."""
    skip = {n for n in names if n in _SKIP_ANYWHERE or n.endswith(".egg-info")}
    if Path(folder) == ROOT:
        skip |= _SKIP_AT_ROOT & set(names)
    if Path(folder) == RESULTS.parent.parent:
        skip |= {RESULTS.parent.name} & set(names)
    return skip


def bench_book(runs: int) -> Iterator[Measurement]:
    """A clean build of a copy of the book into a fresh folder."""
    wall = Measurement("book_build_seconds", "book build from clean, wall", "s")
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="d2l-bench-book-") as tmp:
            copy = Path(tmp) / "book"
            shutil.copytree(ROOT, copy, ignore=_not_book_sources)
            command = [str(BIN / "jupyter-book"), "build", str(copy), "-W", "-n", "--keep-going"]
            result = run_child(command, Path(tmp) / "build.log", Path(tmp))
            if not (copy / "_build" / "html" / "index.html").is_file():
                raise RuntimeError("the build exited 0 but wrote no _build/html/index.html")
            wall.runs.append(result["seconds"])
    if not runs:
        wall.note = "skipped in quick mode (--build-runs 1 to include)"
    yield wall.finish()


# --------------------------------------------------------------------------
# The machine, the table, the JSON
# --------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the figures were measured on: cores, CPU, versions, BLAS and load."""
    cpu = platform.processor() or platform.machine()
    try:
        models = re.findall(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = models[0] if models else cpu
    except OSError:
        pass
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "thread_env": {
            k: v for k, v in os.environ.items() if k.endswith("_NUM_THREADS") or k == "MKL_DYNAMIC"
        },
    }
    info["blas"] = [
        {
            k: pool.get(k)
            for k in ("internal_api", "version", "num_threads", "architecture", "threading_layer")
        }
        for pool in threadpool_info()
        if pool.get("user_api") == "blas"
    ]
    return info


def describe(m: dict[str, Any]) -> str:
    """The machine in two or three lines for the table's heading."""
    blas = ", ".join(
        f"{b['internal_api']} {b['version']} ({b['architecture']}, {b['num_threads']} threads)"
        for b in m["blas"]
    )
    lines = [
        f"machine: {m['usable_cores']} usable of {m['cores']} cores, {m['cpu']}; {m['os']}",
        f"         Python {m['python']}, NumPy {m['numpy']}, BLAS {blas or 'unknown'}",
        f"         load average at start {m['load_average'][0]:.2f}"
        + (f"; {m['thread_env']}" if m["thread_env"] else ""),
    ]
    return "\n".join(lines)


def formatted(value: float | None, unit: str) -> str:
    """``value`` in its unit, with sensible precision."""
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:.3f} s" if value < 1 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "x":
        return f"{value:.2f}×"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:.4f}"


def verdict(measurement: Measurement) -> str:
    """pass, MISS with the size of the miss, or the status as it is."""
    if measurement.status != "MISS" or measurement.target is None or measurement.value is None:
        return measurement.status
    limit = measurement.target["value"]
    if measurement.target["op"] == "<=":
        return f"MISS (+{100 * (measurement.value / limit - 1):.0f}%)"
    return f"MISS ({measurement.value - limit:+.4f})"


def table(measurements: list[Measurement]) -> str:
    """The measurements as an aligned text table."""
    rows = [("measurement", "median", "runs", "target", "status", "note")]
    for f in measurements:
        target = "-"
        if f.target is not None:
            op = "≤" if f.target["op"] == "<=" else "≥"
            target = f"{op} {formatted(f.target['value'], f.unit)}"
        rows.append(
            (f.label, formatted(f.value, f.unit), str(len(f.runs)), target, verdict(f), f.note)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].rjust(widths[2])]
        cells += [row[3].ljust(widths[3]), row[4].ljust(widths[4]), row[5]]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Benchmark data loading, training, the notebook and the book build.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one run of everything cheap: no book build, the notebook only up to train_ch3",
    )
    parser.add_argument(
        "--repeat", type=int, help="runs of each cheap measurement (default 9; quick 1)"
    )
    parser.add_argument("--notebook-runs", type=int, help="default 3; quick 1")
    parser.add_argument("--build-runs", type=int, help="default 1; quick 0")
    parser.add_argument(
        "--only",
        type=lambda text: text.split(","),
        default=list(SECTIONS),
        metavar="SECTION[,...]",
        help=f"run only these sections, of: {', '.join(SECTIONS)}",
    )
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"default {RESULTS}")
    args = parser.parse_args(argv)
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(
            f"unknown section(s) {', '.join(sorted(unknown))}; known: {', '.join(SECTIONS)}"
        )
    defaults = (1, 1, 0) if args.quick else (9, 3, 1)
    for name, default in zip(("repeat", "notebook_runs", "build_runs"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, default)
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections, print the table, write the JSON; 1 if a section failed."""
    args = parse_args(argv)
    started = datetime.datetime.now().astimezone()
    info = machine()
    mode = "quick" if args.quick else "full"
    print(f"Softmax-regression benchmarks, {started:%Y-%m-%d %H:%M} ({mode} mode)")
    print(describe(info), flush=True)
    if args.quick:
        print("quick mode: one run of each measurement, a shortened notebook, no book build;")
        print("            it shows that everything runs, its verdicts are only indicative")
    sections: dict[str, Callable[[], Iterator[Measurement]]] = {
        "load": lambda: bench_data_load(args.repeat),
        "epoch": lambda: bench_epoch(args.repeat),
        "full": bench_full_run,
        "notebook": lambda: bench_notebook(args.notebook_runs, args.quick),
        "book": lambda: bench_book(args.build_runs),
    }
    measurements: list[Measurement] = []
    errors: dict[str, str] = {}
    for name, section in sections.items():
        if name not in args.only:
            continue
        print(f"... {name}", file=sys.stderr, flush=True)
        try:
            measurements.extend(section())
        except Exception as err:
            errors[name] = "".join(traceback.format_exception_only(type(err), err)).strip()
            traceback.print_exc()
    print()
    print(table(measurements))
    print()
    for f in measurements:
        print(f"{f.key}: {DEFINITIONS[f.key]}")
    report = {
        "schema": 1,
        "date": started.isoformat(timespec="seconds"),
        "mode": mode,
        "command": " ".join(
            [Path(sys.executable).name, "-m", "benchmarks.run", *(argv or sys.argv[1:])]
        ),
        "machine": info,
        "results": {
            f.key: {k: v for k, v in asdict(f).items() if k != "key"} for f in measurements
        },
        "definitions": {f.key: DEFINITIONS[f.key] for f in measurements},
        "errors": errors,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten: {args.json}")
    for name, message in errors.items():
        print(f"error in {name}: {message}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
