"""Timing of the exact error engine (theory.error) against k: cold and warm, old and new.

Run:  python bench/bench_exact.py [--kmin 8] [--kmax 12] [--dims 10] [--repeats 3]
                                  [--baseline] [--baseline-kmax 10] [--poly] [--poly-kmax 10]

For each dimension d and each case

* ``commuting``:     Λ = diag(1/i), Σ a different diagonal (P = Γ^{-1} commutes with Σ);
* ``non-commuting``: Λ = Q₁ diag(1/i) Q₁ᵀ, Σ = Q₂ diag(σ) Q₂ᵀ with independent random rotations
  (the engine's "symmetric" mode: Pᵀ = P, PΣ ≠ ΣP),

all float64 input (converted exactly), n = 10, m = 40, the script prints per k, as medians over
``--repeats`` runs of CPU time (``time.process_time``) and of wall time:

* ``states`` and ``terms``: memoised states of the Stein reduction and its distinct transfer terms
  (the structure depends only on k and on which identities hold; it is cached per process);
* ``cold``: a first ``cot_error(..., m=40)`` (structure built, then the numbers);
* ``warm``: the same call once the structure is cached (exact traces and the number pass);
* ``×k``: cold CPU time over that of k - 1, measured in this run;
* ``est``: :func:`theory.error.engine_cost` for the same call (its calibrated estimate);
* with ``--baseline``: the engine before ``theory/_stein.py`` (``bench/baseline_engine.py``,
  verbatim), cold, and ``old/new``, its CPU time over the new cold CPU time; both results are
  compared exactly (``==`` on the Fractions);
* with ``--poly``: ``cot_error_poly`` (all 2k coefficients), warm, CPU seconds.

Value caches are cleared before every timed call.  Nothing here is asserted.  BLAS is pinned to one
thread (set before NumPy loads): the engine's matrices are 10 x 10.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402  (after the thread pinning above)
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import theory.error as E  # noqa: E402
from theory import _stein  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))


def inputs(d: int, case: str):
    rng = np.random.default_rng(np.random.SeedSequence([20251003, d]))
    lam = 1.0 / np.arange(1, d + 1)
    sig = rng.uniform(0.5, 1.5, d) / np.sqrt(np.arange(1, d + 1))
    if case == "commuting":
        return lam, sig
    Q1, _ = np.linalg.qr(rng.standard_normal((d, d)))
    Q2, _ = np.linalg.qr(rng.standard_normal((d, d)))
    L = Q1 @ np.diag(lam) @ Q1.T
    S = Q2 @ np.diag(sig) @ Q2.T
    return (L + L.T) / 2, (S + S.T) / 2


def timed(fn, repeats: int, before=None):
    """Medians of (CPU seconds, wall seconds) over ``repeats`` runs, and the last result."""
    cpu, wall, out = [], [], None
    for _ in range(repeats):
        if before is not None:
            before()
        c, w = time.process_time(), time.perf_counter()
        out = fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(cpu), statistics.median(wall), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kmin", type=int, default=8)
    ap.add_argument("--kmax", type=int, default=12)
    ap.add_argument("--dims", type=int, nargs="+", default=[10])
    ap.add_argument("--cases", nargs="+", default=["non-commuting", "commuting"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--m", type=int, default=40)
    ap.add_argument("--baseline", action="store_true", help="also time the previous engine (cold)")
    ap.add_argument("--baseline-kmax", type=int, default=10)
    ap.add_argument("--poly", action="store_true", help="also time cot_error_poly (warm)")
    ap.add_argument("--poly-kmax", type=int, default=10)
    args = ap.parse_args()
    baseline = None
    if args.baseline:
        import baseline_engine as baseline
    m = args.m
    print(f"{'d':>3} {'case':>14} {'k':>2} {'states':>8} {'terms':>9} {'cold cpu':>9} {'wall':>7} "
          f"{'warm cpu':>9} {'wall':>7} {'×k':>5} {'est s':>7} {'old cpu':>8} {'old/new':>7} {'poly cpu':>9}")
    for d in args.dims:
        for case in args.cases:
            lam, sig = inputs(d, case)
            P, S, _ = E._validated_cot(lam, 10, 1, sig)
            mode = E._structure_mode(P, S)
            previous = None
            for k in range(args.kmin, args.kmax + 1):
                def call():
                    return E.cot_error(lam, 10, k, test_cov=sig, m=m)

                def exact():
                    return E._cached(tuple(map(tuple, P)), tuple(map(tuple, S)), k, m)

                def cold():
                    _stein.binomial_structure.cache_clear()
                    E._cached.cache_clear()

                c_cpu, c_wall, _ = timed(call, args.repeats, cold)
                w_cpu, w_wall, _ = timed(call, args.repeats, E._cached.cache_clear)
                st = _stein.binomial_structure(k, mode)
                est = E.engine_cost(d, k, mode).seconds
                growth = f"{c_cpu / previous:5.2f}" if previous else f"{'-':>5}"
                previous = c_cpu
                old = f"{'-':>8} {'-':>7}"
                if baseline is not None and k <= args.baseline_kmax:
                    def old_cold():
                        baseline._binomial_structure.cache_clear()
                        baseline._cached.cache_clear()

                    o_cpu, _, o_value = timed(lambda: baseline._cached(tuple(map(tuple, P)), tuple(map(tuple, S)),
                                                                        k, m), args.repeats, old_cold)
                    E._cached.cache_clear()
                    if o_value != exact():
                        raise AssertionError(f"old and new engines disagree at d = {d}, {case}, k = {k}")
                    old = f"{o_cpu:8.2f} {o_cpu / c_cpu:7.2f}"
                poly = f"{'-':>9}"
                if args.poly and k <= args.poly_kmax:
                    p_cpu, _, _ = timed(lambda: E.cot_error_poly(lam, 10, k, test_cov=sig), args.repeats,
                                        E._cached.cache_clear)
                    poly = f"{p_cpu:9.2f}"
                print(f"{d:3d} {case:>14} {k:2d} {st.n_states:8d} {st.n_terms:9d} {c_cpu:9.2f} {c_wall:7.2f} "
                      f"{w_cpu:9.2f} {w_wall:7.2f} {growth} {est:7.2f} {old} {poly}", flush=True)
            _stein.binomial_structure.cache_clear()


if __name__ == "__main__":
    main()
