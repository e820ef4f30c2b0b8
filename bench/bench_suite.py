"""Wall time of the verdict: `pytest checks/` and `tts verify` (fast tier), each run once.

    python bench/bench_suite.py [--repeats N]

Medians over N runs (default 1: the checks take minutes). Run from the repository root with the
project installed (`pip install ".[test]"`). Nothing here is asserted; a shared machine makes
single timings noisy, so read the medians and the ratio between the two, not the absolute seconds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=1)
    args = p.parse_args(argv)
    runs = {
        "pytest checks/": [sys.executable, "-m", "pytest", "checks/", "-q", "-p", "no:cacheprovider"],
        "tts verify": [sys.executable, "-m", "theory.cli", "verify"],
    }
    medians = {}
    for name, cmd in runs.items():
        medians[name] = statistics.median(_time(cmd) for _ in range(args.repeats))
    base = medians["pytest checks/"]
    print(f"{'command':<16} {'median s':>9} {'ratio':>6}")
    for name, sec in medians.items():
        print(f"{name:<16} {sec:9.1f} {sec / base:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
