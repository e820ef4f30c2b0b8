"""Timing of Remark 4.1's finite-m trace (theory.finite_trace) and of the error bracket (theory.bracket).

Run:  python bench/bench_trace.py [--ks 10 20 40] [--repeats 3] [--m 40] [--n 10]

At d = 10, λ_i = 1/i as float64 (converted exactly), Σ = Λ, it prints per k

* ``cold``: ``finite_m_trace`` with the shape cache cleared (branching weights built, then used);
* ``trace``: ``finite_m_trace`` with the cache warm (the Jack recursion and the assembly);
* ``bracket``: ``error_bracket(..., exact_budget=0)``, the trace route (the trace enclosed in arb
  balls, then the constant ½(κ + 1/κ)), shape cache warm;
* ``default``: ``error_bracket`` with the default budgets and the exact engine's caches cleared
  before each run (the engine runs where its estimate fits ``exact_budget``, to k ≈ 10 here);
* wall and CPU (``time.process_time``) seconds of each, medians over ``--repeats`` runs (one run
  for k > 20), the ratios bracket/trace and trace(k)/trace(previous k) from the same run, the
  estimate of :func:`theory.finite_trace.finite_m_trace_cost`, and the upper/lower of both
  brackets.

Nothing here is asserted.  On a shared machine the wall times vary run to run; CPU times less.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import theory.error as engine
import theory.finite_trace as ft
from theory.bracket import error_bracket


def timed(fn, repeats: int):
    """Median wall and CPU seconds over ``repeats`` calls, and the last result."""
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ks", type=int, nargs="+", default=[10, 20, 40])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--m", type=int, default=40)
    ap.add_argument("--n", type=int, default=10)
    args = ap.parse_args()
    lam = 1.0 / np.arange(1, 11)
    print(f"d = 10, λ_i = 1/i (float64), Σ = Λ, n = {args.n}, m = {args.m}; seconds, median of "
          f"{args.repeats} (1 beyond k = 20)")
    print(f"{'k':>3} {'estimate':>9} {'cold wall':>10} {'cold cpu':>9} {'trace wall':>11} {'trace cpu':>10} "
          f"{'bracket wall':>13} {'bracket cpu':>12} {'br/tr':>6} {'tr/prev':>8} {'up/low':>9} "
          f"{'default wall':>13} {'default cpu':>12} {'up/low':>7}")
    previous = None
    for k in args.ks:
        reps = args.repeats if k <= 20 else 1
        estimate = ft.finite_m_trace_cost(lam, args.n, k)

        def cold():
            ft._SHAPES.clear()
            return ft.finite_m_trace(lam, args.n, k, m=args.m)

        def default():
            engine._cached.cache_clear()
            engine._binomial_structure.cache_clear()
            return error_bracket(lam, args.n, k, m=args.m)

        cold_wall, cold_cpu, _ = timed(cold, 1)
        trace_wall, trace_cpu, _ = timed(lambda: ft.finite_m_trace(lam, args.n, k, m=args.m), reps)
        br_wall, br_cpu, bracket = timed(lambda: error_bracket(lam, args.n, k, m=args.m, exact_budget=0), reps)
        def_wall, def_cpu, full = timed(default, reps)
        growth = f"{trace_cpu / previous:8.1f}" if previous else f"{'-':>8}"
        print(f"{k:3d} {estimate:9.2f} {cold_wall:10.2f} {cold_cpu:9.2f} {trace_wall:11.2f} {trace_cpu:10.2f} "
              f"{br_wall:13.2f} {br_cpu:12.2f} {br_cpu / trace_cpu:6.2f} {growth} {bracket.ratio:9.6f} "
              f"{def_wall:13.2f} {def_cpu:12.2f} {full.ratio:7.4f}", flush=True)
        previous = trace_cpu


if __name__ == "__main__":
    main()
