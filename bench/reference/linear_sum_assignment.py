"""Time SciPy's linear_sum_assignment on matrices stored as .npy files.

Usage: /usr/bin/python3 bench/reference/linear_sum_assignment.py [--maximize] [--repeats N] FILE.npy...

Prints one JSON object per file: {"file", "seconds", "cpu_seconds", "total"}. "seconds" (wall clock)
and "cpu_seconds" (process CPU time) are medians over the repeats of the solve call alone, without
loading the file. "total" is the sum of the chosen entries of the optimal assignment.
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np
from scipy.optimize import linear_sum_assignment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maximize", action="store_true", help="maximize the total instead of minimizing it")
    parser.add_argument("--repeats", type=int, default=1, help="timed solves per file (median is reported)")
    parser.add_argument("files", nargs="+", help="2-D float64 .npy files")
    args = parser.parse_args()

    for path in args.files:
        cost = np.load(path)
        durations = []
        cpu_durations = []
        for _ in range(max(1, args.repeats)):
            start = time.perf_counter()
            cpu_start = time.process_time()
            rows, columns = linear_sum_assignment(cost, maximize=args.maximize)
            cpu_durations.append(time.process_time() - cpu_start)
            durations.append(time.perf_counter() - start)
        total = float(cost[rows, columns].sum())
        result = {
            "file": path,
            "seconds": statistics.median(durations),
            "cpu_seconds": statistics.median(cpu_durations),
            "total": total,
        }
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
