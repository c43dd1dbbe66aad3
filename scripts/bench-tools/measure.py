"""Runs one command and writes its wall time and peak RSS as JSON to a file.

    python3 -S -I measure.py RESULT.json COMMAND [ARG...]

Why a separate, small process: Linux charges a child's ru_maxrss with the size of the
process that started it (at exec the old memory's high-water mark is kept), so a child
of the benchmark itself (hundreds of MB of boto3 models) would report at least that. Started from
this small launcher, the command's ru_maxrss is its own peak, or this launcher's size if
that is larger (the floor; `scripts/bench` measures it with `true` and reports it).

The command inherits this process's stdin, stdout, stderr and environment. The result is
`{"exit": CODE, "seconds": WALL, "max_rss_bytes": N, "cpu_seconds": USER_PLUS_SYS}`, taken
from os.wait4 on the command (CPU over all its threads, and over any children it waited for).
"""

import json
import os
import sys
import time


def main() -> int:
    result_path, command = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    pid = os.posix_spawnp(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    result = {
        "exit": os.waitstatus_to_exitcode(status),
        "seconds": seconds,
        "max_rss_bytes": usage.ru_maxrss * 1024,  # Linux reports KiB
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
    }
    with open(result_path, "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
