"""``python -m d2lutil.data fetch|verify|where``: get, check or locate the data."""

import argparse
import os
import sys

from d2lutil import data


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit status 0 on success, 1 if ``where`` finds no data, else 2."""
    parser = argparse.ArgumentParser("python -m d2lutil.data", description=__doc__)
    parser.add_argument("command", choices=["fetch", "verify", "where"], help="verify: no download")
    parser.add_argument("--data-dir", help=f"a folder with the files (else ${data.DATA_DIR_ENV})")
    parser.add_argument("--cache", help=f"the cache folder (else ${data.CACHE_DIR_ENV})")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(errors="backslashreplace")  # folder names need not be valid UTF-8
    try:
        order, found = data.search_order(args.data_dir, args.cache), []
        if args.command == "where":  # os.path.isfile: False for a folder we may not read
            for origin, folder in order:
                if all(map(os.path.isfile, data.paths_in(folder).values())):
                    found.append(f"{origin}: {folder}")
            print("found in", *found[:1] or ["none of these places yet"], "\nsearch order:")
            print(*(f"  {origin}: {folder}" for origin, folder in order), sep="\n")
            print(*(f"  download: {url}" for url in data.mirror_list()), sep="\n")
        else:
            fetch = args.command == "fetch"
            got = data.load_fashion_mnist(args.data_dir, cache=args.cache, download=fetch)
            print(f"verified: the four files in {got.paths['test_labels'].parent} ({got.origin})")
        sys.stdout.flush()  # here, so that a failure to write is reported below
    except (data.DataError, ValueError, OSError) as err:
        data.say(f"error: {err}")
        if isinstance(err, OSError):  # stdout cannot be written: at exit, it would fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 2
    return 1 if args.command == "where" and not found else 0


if __name__ == "__main__":
    sys.exit(main())
