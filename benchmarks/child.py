"""Run one command; report its wall time and peak memory as JSON on stdout.

    python -m benchmarks.child LOG -- COMMAND [ARG ...]

The command's own output goes to the file LOG.  The peak memory is the largest
resident set size (RSS) reached by any single process of the command's tree
(for ``jupyter execute``: the kernel), read with ``getrusage(RUSAGE_CHILDREN)``
once they have all exited.  This process starts nothing else, so nothing
else is counted.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    log, command = argv[0], argv[2:]
    with open(log, "wb") as out:
        start = time.perf_counter()
        returncode = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT).returncode
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak_bytes = peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB
    print(json.dumps({"returncode": returncode, "seconds": seconds, "peak_rss_bytes": peak_bytes}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
