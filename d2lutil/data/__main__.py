"""``python -m d2lutil.data fetch|verify``: get the data where it is missing, or only check it."""

import argparse
import os
import sys

from d2lutil import data


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit status 0 once the four files are verified, else 2."""
    parser = argparse.ArgumentParser("python -m d2lutil.data", description=__doc__)
    parser.add_argument("command", choices=["fetch", "verify"], help="verify never downloads")
    download = parser.parse_args(argv).command == "fetch"
    try:
        got = data.load_fashion_mnist(download=download)
        folder = str(got.paths["test_labels"].parent).encode(errors="backslashreplace").decode()
        print(f"verified: the four files in {folder} ({got.origin})", flush=True)
    except (data.DataError, ValueError, OSError) as err:
        data.say(f"error: {err}")
        if isinstance(err, OSError):  # stdout cannot be written: at exit, it would fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
