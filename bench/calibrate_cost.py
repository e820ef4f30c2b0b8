"""Measure the constants of theory.error.engine_cost: seconds per structure term, per number term, per trace.

Run:  python bench/calibrate_cost.py [--points 10:10 10:11 4:11 6:11] [--poly-points 10:8 10:9]
                                     [--repeats 1]

For each point ``d:k`` (non-commuting float input, as in bench_exact.py, n = 10, m = 40) it times,
in CPU seconds (``time.process_time``), the three parts of a cold ``cot_error`` separately:

* ``structure``: ``binomial_structure(k, mode)`` (cache cleared), per distinct transfer term;
* ``traces``: the exact ``tr(Σ g)`` (modular), per needed trace, per ``bits / 24`` primes and per ``d``
  (small matrices: the time grows about linearly in ``d``, not like ``d²`` or ``d³``);
* ``numbers``: the number pass at one m, per term, fitted as ``a + b * bits`` by least squares, with
  ``bits = 2k (61 d + 66)`` the model's size of the integers for float input;

and, for each ``--poly-points`` entry, the number pass of ``cot_error_poly`` (all ``2k``
coefficients packed in one integer) per term over the fitted cost at one m, per ``k``.  It prints the fitted constants
(medians, but for the least squares) in the form ``engine_cost`` uses.
Nothing here is asserted.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import theory.error as E  # noqa: E402
from theory import _stein  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_exact import inputs  # noqa: E402


def cpu(fn, repeats, before=None):
    times = []
    for _ in range(repeats):
        if before is not None:
            before()
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", nargs="+", default=["10:10", "10:11", "4:11", "6:11"])
    ap.add_argument("--poly-points", nargs="*", default=["10:8", "10:9"])
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    rows = []
    print(f"{'d':>3} {'k':>3} {'terms':>9} {'traces':>7} {'bits':>6} {'structure s':>12} {'traces s':>9} "
          f"{'numbers s':>10}")
    for point in args.points:
        d, k = map(int, point.split(":"))
        lam, sig = inputs(d, "non-commuting")
        P, S, _ = E._validated_cot(lam, 10, 1, sig)
        mode = E._structure_mode(P, S)
        t_struct = cpu(lambda: _stein.binomial_structure(k, mode), args.repeats,
                       _stein.binomial_structure.cache_clear)
        st = _stein.binomial_structure(k, mode)
        P_int, _ = _stein.integer_scaled(P)
        S_int, _ = _stein.integer_scaled(S)
        needed = st.needed_traces()
        _stein.exact_traces(st.gaps, needed, [P_int], S_int)  # once, so that its primes are cached
        t_traces = cpu(lambda: _stein.exact_traces(st.gaps, needed, [P_int], S_int), args.repeats)
        t_total = cpu(lambda: E._engine(P, S, k, 40), args.repeats)
        bits = 2 * k * (61 * d + 66)
        rows.append((d, k, st.n_terms, len(needed), bits, t_struct, t_traces, t_total - t_traces))
        print(f"{d:3d} {k:3d} {st.n_terms:9d} {len(needed):7d} {bits:6d} {t_struct:12.2f} {t_traces:9.2f} "
              f"{t_total - t_traces:10.2f}", flush=True)
        _stein.binomial_structure.cache_clear()
    per_term = statistics.median(r[5] / r[2] for r in rows)
    per_trace = statistics.median(r[6] / (r[3] * r[4] / 24 * r[0]) for r in rows)
    A = np.array([[1.0, r[4]] for r in rows])
    y = np.array([r[7] / r[2] for r in rows])
    (a, b), *_ = np.linalg.lstsq(A, y, rcond=None)
    poly = []
    for point in args.poly_points:
        d, k = map(int, point.split(":"))
        lam, sig = inputs(d, "non-commuting")
        P, S, _ = E._validated_cot(lam, 10, 1, sig)
        st = _stein.binomial_structure(k, E._structure_mode(P, S))
        P_int, _ = _stein.integer_scaled(P)
        S_int, _ = _stein.integer_scaled(S)
        _stein.exact_traces(st.gaps, st.needed_traces(), [P_int], S_int)  # its primes cached
        t_traces = cpu(lambda: _stein.exact_traces(st.gaps, st.needed_traces(), [P_int], S_int), args.repeats)
        t_poly = cpu(lambda: E._engine(P, S, k), args.repeats) - t_traces
        at_one_m = a + b * 2 * k * (61 * d + 66)  # the fitted cost per term at one m
        poly.append(t_poly / st.n_terms / at_one_m / k)
        print(f"d = {d}, k = {k}: polynomial number pass {t_poly:.2f} s", flush=True)
        _stein.binomial_structure.cache_clear()
    print(f"structure seconds per term:            {per_term:.3g}")
    print(f"trace seconds per (trace * prime * d):  {per_trace:.3g}")
    print(f"number seconds per term:               {a:.3g} + {b:.3g} * bits")
    if poly:
        print(f"polynomial / one m, per k:             {statistics.median(poly):.3g}")


if __name__ == "__main__":
    main()
