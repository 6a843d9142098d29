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
    if hasattr(sys.stdout, "reconfigure"):  # folder names need not be valid UTF-8
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        order = data.search_order(args.data_dir, args.cache)
        found = [f"{origin}: {folder}" for origin, folder in order if data.find_files(folder)]
        if args.command == "where":
            print("found in", found[0] if found else "none of these places yet", "\nsearch order:")
            print(*(f"  {origin}: {folder}" for origin, folder in order), sep="\n")
            print(*(f"  download: {url}" for url in data.mirror_list()), sep="\n")
        else:
            download = args.command == "fetch"
            got = data.load_fashion_mnist(args.data_dir, cache=args.cache, download=download)
            print(f"verified: the four files in {got.paths['train_images'].parent} ({got.origin})")
        sys.stdout.flush()  # here, so that a failure to write is reported below
    except (data.DataError, ValueError) as err:
        data.say(f"error: {err}")
        return 2
    except OSError as err:  # stdout cannot be written: a full disk, a closed pipe
        data.say(f"error: {err}")
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # exit flushes it again
        return 2
    return 0 if found or args.command != "where" else 1


if __name__ == "__main__":
    sys.exit(main())
