"""Timing of the exact error engine (theory.error) against k and d, and of the Wick oracle.

Run:  python bench/bench_exact.py [--kmax 8] [--dims 4 10] [--repeats 3] [--no-poly]

For each dimension d and each case

* ``commuting``:     Λ = diag(1/i), Σ a different diagonal (P = Γ^{-1} commutes with Σ);
* ``non-commuting``: Λ = Q₁ diag(1/i) Q₁ᵀ, Σ = Q₂ diag(σ) Q₂ᵀ with independent random rotations,

all float64 input (converted exactly), n = 10, the script prints per k:

* ``states``: memoised states of the Stein reduction (the structure depends only on k and on
  which identities hold: Pᵀ = P, PΣ = ΣP; it is cached and reused for every input);
* ``structure``: time to build it (cold cache);
* ``value``: time of ``cot_error(m=20)`` once the structure exists (exact traces + numbers);
* ``cold``: structure + value, what a first call costs;
* ``poly``: time of ``cot_error_poly`` (all 2k coefficients) once the structure exists;
* the brute-force Wick oracle on the same input (``wick_precond_error_poly``) and its ratio to
  ``poly``, for k <= 3 at d <= 4 and k <= 2 beyond (its (2p-1)!! pairings, times d^3 matrix
  products each, take minutes at d = 10, k = 3).

Times are medians over ``--repeats`` runs (one run for k >= 7).  Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import theory.error as E
from theory.wick import wick_precond_error_poly


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


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kmax", type=int, default=8)
    ap.add_argument("--dims", type=int, nargs="+", default=[4, 10])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-poly", action="store_true", help="skip the full polynomial")
    args = ap.parse_args()
    print(f"{'d':>3} {'case':>14} {'k':>2} {'states':>8} {'structure s':>12} {'value s':>9} "
          f"{'cold s':>8} {'poly s':>8} {'oracle s':>9} {'oracle/poly':>11}")
    for d in args.dims:
        for case in ("commuting", "non-commuting"):
            lam, sig = inputs(d, case)
            P, S, _ = E._validated_cot(lam, 10, 1, sig)
            mode = E._structure_mode(P, S)
            for k in range(1, args.kmax + 1):
                reps = args.repeats if k < 7 else 1

                def build():
                    E._binomial_structure.cache_clear()
                    return E._binomial_structure(k, mode)

                t_struct = median_time(build, reps)
                st = E._binomial_structure(k, mode)
                t_value = median_time(lambda: E._engine(P, S, k, 20), reps)
                t_poly = float("nan") if args.no_poly else median_time(lambda: E._engine(P, S, k), reps)
                if k <= (3 if d <= 4 else 2):
                    t_oracle = median_time(lambda: wick_precond_error_poly(P, S, k), 1)
                    oracle = f"{t_oracle:9.3f} {t_oracle / t_poly:11.1f}"
                else:
                    oracle = f"{'-':>9} {'-':>11}"
                print(f"{d:3d} {case:>14} {k:2d} {st.n_states:8d} {t_struct:12.3f} {t_value:9.3f} "
                      f"{t_struct + t_value:8.3f} {t_poly:8.3f} {oracle}", flush=True)


if __name__ == "__main__":
    main()
