"""``python -m d2lutil.data fetch|verify|where``: get, check and locate the data."""

import argparse
import json
import os
import sys

from d2lutil import data
from d2lutil.data import sources


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit status 0 on success, 1 if ``where`` finds no data, else 2."""
    parser = argparse.ArgumentParser(
        "python -m d2lutil.data", description="Get, check and locate the data."
    )
    parser.add_argument("--data-dir", help="a folder that holds the four files")
    parser.add_argument("--cache", help=f"the cache folder (default: ${data.CACHE_DIR_ENV})")
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("fetch", help="find or download the data, and verify it")
    fetch.add_argument("--quiet", action="store_true", help="no progress bar")
    commands.add_parser("verify", help="check every file's header and SHA-256")
    where = commands.add_parser("where", help="show where the data is, and the search order")
    where.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    for stream in (sys.stdout, sys.stderr):  # folder names need not be valid UTF-8
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        paths, origin = data.find_fashion_mnist(args.data_dir, cache=args.cache) or ({}, None)
        run = {"fetch": _fetch, "verify": _verify, "where": _where}[args.command]
        return run(args, paths, origin)
    except (data.DataError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _fetch(args: argparse.Namespace, paths: dict, origin: str | None) -> int:
    if not paths:
        data.fetch_fashion_mnist(cache=args.cache, progressbar=not args.quiet)
    got = data.load_fashion_mnist(args.data_dir, cache=args.cache)  # verifies, repairs the cache
    print(f"verified: {len(got.train_labels)} training and {len(got.test_labels)} test images")
    print(f"in {got.paths['train_images'].parent} ({got.origin})")
    return 0


def _verify(args: argparse.Namespace, paths: dict, origin: str | None) -> int:
    if not paths:
        raise data.DataError(data.no_data_message(args.cache, ["verify looks, never downloads"]))
    print(f"Checking the copy found by the {origin} rule:")
    failed = 0
    for spec in sources.FILES:
        try:
            sources.read_idx(paths[spec.key], spec)
            print(f"  ok  {paths[spec.key]}  {spec.shape}")
        except data.DataError as err:
            failed += 1
            print(f"  FAILED  {err}", file=sys.stderr)
    return 2 if failed else 0


def _where(args: argparse.Namespace, paths: dict, origin: str | None) -> int:
    cache = data.cache_dir(args.cache)
    order = [
        "data_dir argument (--data-dir)",
        f"${data.DATA_DIR_ENV} = {os.environ.get(data.DATA_DIR_ENV, '(unset)')}",
        f"user cache: {cache / 'fashion-mnist'}",
        *(f"system copy: {folder}" for folder in sources.SYSTEM_DIRS),
        *(f"download: {url}" for url in sources.mirror_list(None)),
    ]
    files = {key: str(path) for key, path in paths.items()}
    if args.json:
        report = {"found": bool(paths), "origin": origin, "files": files or None}
        print(json.dumps({**report, "cache_dir": str(cache), "search_order": order}, indent=2))
    else:
        found = [f"found: {origin or 'nowhere yet'}", *(f"  {k:13s} {p}" for k, p in files.items())]
        print(*found, "search order:", *(f"  {i}. {p}" for i, p in enumerate(order, 1)), sep="\n")
    return 0 if paths else 1


if __name__ == "__main__":
    sys.exit(main())
