"""Throughput of the Monte Carlo of the CoT error on this machine, against its measured limits.

For d in {4, 10, 32} and m in {2d, 8d} (λ_i ∝ 1/i, Σ = Λ, n = 2d, k = 1..10) it times

* ``naive``: a per-prompt Python loop (draw X, form Ŝ, ``‖(I − Γ^{-1}Ŝ)^k‖_F²`` by repeated
  multiplication for k = 1..10), the way one would first write it;
* ``direct``: ``mc_cot_error(..., sampler="direct")`` (batched, d·m normals per prompt);
* ``bartlett``: ``mc_cot_error(..., sampler="bartlett")`` (d(d−1)/2 normals and d chi-squares);

and reports each in prompts per second with its ratio to one core's limits for the same work,
measured in the same run: the RNG limit (NumPy ``Generator`` normals and gammas per second, divided
by what one prompt draws) and the batched-eigh limit (d × d ``numpy.linalg.eigh`` on a stack), and
their series combination ``1 / (1/rng + 1/eigh)``.  This table runs on one thread
(``workers=1``) and without the bracket check (``certify=False``).

Then, at d = 10, m = 20 (the same task), the whole machine: ``mc_cot_error`` with ``workers=1`` and
with every core, against the machine's limit, the one-core batched-eigh limit measured in the same
round times the number of cores; and the cost of ``certify=True`` (the rigorous bracket check) next
to the sampling it certifies.  Every number is the median of ``--repeats``.

Run from the repository root:  ``python bench/bench_mc.py``  (about 3 minutes; ``--quick`` for a
smoke run).  Small-matrix LAPACK calls gain nothing from BLAS threads and lose a lot on a busy
machine, so the script pins BLAS to ``--threads`` (default 1) before NumPy is imported.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=3, help="timings per number (median)")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (set before NumPy loads)")
    p.add_argument("--quick", action="store_true", help="10x fewer prompts: a smoke run")
    return p.parse_args()


ARGS = _parse()
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)

import numpy as np  # noqa: E402  (after the thread pinning above)

from theory._backend import factor_width, normals_per_prompt  # noqa: E402
from theory.covariance import gamma  # noqa: E402
from theory.montecarlo import mc_cot_error  # noqa: E402

KS = list(range(1, 11))
# Prompts per timing: about a second of work each on one core.
PROMPTS = {4: 60_000, 10: 20_000, 32: 3_000}
NAIVE_PROMPTS = {4: 3_000, 10: 2_000, 32: 500}
ONE_CORE = dict(workers=1, certify=False)
# The whole-machine rows: about 4 seconds of one core's work each.
PARALLEL_PROMPTS = 80_000


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def limits(d: int, m: int, count: int, rng: np.random.Generator) -> dict:
    """Seconds per prompt of the machine's limits, measured now: one normal, one Bartlett
    chi-square at the degrees of freedom of (d, m), one batched d x d eigh."""
    normals = 2**21
    r = min(d, m)
    half_dof = (m - np.arange(r)) / 2.0
    rows = 2**19 // r
    a = rng.standard_normal((count, d, d))
    stack = a @ np.swapaxes(a, 1, 2)
    return {"normal": timed(lambda: rng.standard_normal(normals)) / normals,
            "chi2": timed(lambda: rng.standard_gamma(half_dof, size=(rows, r))) / (rows * r),
            "eigh": timed(lambda: np.linalg.eigh(stack)) / count}


def naive_loop(lam: np.ndarray, n: int, m: int, prompts: int, seed: int) -> None:
    d = lam.shape[0]
    rng = np.random.default_rng(seed)
    gam_inv = np.linalg.inv(gamma(lam, n))
    root = np.linalg.cholesky(np.diag(lam))
    errors = np.zeros(len(KS))
    for _ in range(prompts):
        x = root @ rng.standard_normal((d, m))
        step = np.eye(d) - gam_inv @ (x @ x.T / m)
        power = np.eye(d)
        for i in range(len(KS)):
            power = power @ step
            errors[i] += np.sum(power * power)


def main() -> int:
    scale = 10 if ARGS.quick else 1
    reps = ARGS.repeats
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    print(f"# bench_mc: {platform.machine()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}, NumPy {np.__version__}, BLAS threads {ARGS.threads}; "
          f"each number is the median over {reps} rounds, and each round measures the limits "
          f"right before the methods, so that a ratio compares like with like on a busy machine")
    mc_cot_error([1.0, 0.5], 4, KS, m=4, samples=100)  # warm-up: imports, first-call costs
    print()
    header = (f"{'d':>3} {'m':>4} {'method':>9} {'prompts/s':>10} {'rng lim':>9} {'eigh lim':>9} "
              f"{'combined':>9} {'vs rng':>7} {'vs eigh':>7} {'vs comb':>7}")
    print(header)
    print("-" * len(header))
    normal_rates = []
    for d in (4, 10, 32):
        lam = 1.0 / np.arange(1, d + 1)
        n = 2 * d
        prompts, naive_prompts = PROMPTS[d] // scale, NAIVE_PROMPTS[d] // scale
        for m in (2 * d, 8 * d):
            methods = {
                "naive": lambda: naive_loop(lam, n, m, naive_prompts, 0),
                "direct": lambda: mc_cot_error(lam, n, KS, m=m, samples=prompts, sampler="direct",
                                               **ONE_CORE),
                "bartlett": lambda: mc_cot_error(lam, n, KS, m=m, samples=prompts,
                                                 sampler="bartlett", **ONE_CORE),
            }
            rounds = {name: [] for name in methods}
            for _ in range(reps):
                lim = limits(d, m, max(prompts, 200), rng)
                normal_rates.append(1 / lim["normal"])
                for name, run in methods.items():
                    count = naive_prompts if name == "naive" else prompts
                    rate = count / timed(run)
                    sampler = "direct" if name == "naive" else name
                    draw = normals_per_prompt(d, m, sampler) * lim["normal"]
                    if sampler == "bartlett":
                        draw += factor_width(d, m, sampler) * lim["chi2"]
                    rounds[name].append((rate, 1 / draw, 1 / lim["eigh"],
                                         1 / (draw + lim["eigh"])))
            for name, values in rounds.items():
                rate, rng_lim, eigh_lim, comb = (statistics.median(c) for c in zip(*values))
                ratios = [statistics.median(v[0] / v[i] for v in values) for i in (1, 2, 3)]
                print(f"{d:>3} {m:>4} {name:>9} {rate:>10.3g} {rng_lim:>9.3g} {eigh_lim:>9.3g} "
                      f"{comb:>9.3g} {ratios[0]:>7.3f} {ratios[1]:>7.3f} {ratios[2]:>7.3f}",
                      flush=True)
    print()
    print(f"# RNG: {statistics.median(normal_rates):.3g} normals/s (NumPy Generator, PCG64), "
          f"median over all rounds")
    print("# rng lim: prompts/s if drawing the prompt were the only work (naive: d*m normals);")
    print("# eigh lim: if one batched d x d eigh were; combined: both in series.  The naive loop")
    print("# does no eigh (it multiplies k times), so for it 'vs eigh' is only a yardstick.")
    parallel(scale, reps, rng)
    print(f"# total {time.perf_counter() - started:.0f} s")
    return 0


def parallel(scale: int, reps: int, rng: np.random.Generator) -> None:
    """Workers = 1 and every core at d = 10, m = 20 against cores x the one-core eigh limit; then
    the cost of the certified-bracket check."""
    d, m, cores = 10, 20, os.cpu_count() or 1
    lam, n = 1.0 / np.arange(1, d + 1), 2 * d
    prompts = PARALLEL_PROMPTS // scale
    print()
    print(f"# the whole machine: d = {d}, m = {m}, k = 1..10, {prompts} prompts, {cores} cores; "
          f"limit = {cores} x the one-core batched-eigh limit of the same round")
    header = (f"{'workers':>8} {'prompts/s':>10} {'1-core eigh':>11} {'machine lim':>11} "
              f"{'vs machine':>10}")
    print(header)
    print("-" * len(header))
    rounds = {1: [], cores: []}
    for _ in range(reps):
        eigh = 1 / limits(d, m, 4096, rng)["eigh"]
        for workers in rounds:
            rate = prompts / timed(lambda: mc_cot_error(lam, n, KS, m=m, samples=prompts,
                                                        workers=workers, certify=False))
            rounds[workers].append((rate, eigh, cores * eigh))
    for workers, values in rounds.items():
        rate, eigh, machine = (statistics.median(c) for c in zip(*values))
        ratio = statistics.median(v[0] / v[2] for v in values)
        print(f"{workers:>8} {rate:>10.3g} {eigh:>11.3g} {machine:>11.3g} {ratio:>10.3f}", flush=True)
    speedup = statistics.median(a[0] / b[0] for a, b in zip(rounds[cores], rounds[1]))
    print(f"# speed-up of {cores} workers over 1: {speedup:.2f} (median of per-round ratios)")

    print()
    print("# cost of certify=True (theory.bracket at CERTIFY_BUDGET) next to the sampling, "
          "workers = every core")
    header = (f"{'case':>28} {'prompts':>8} {'certify=False s':>15} {'certify=True s':>14} "
              f"{'extra s':>8} {'ratio':>6}")
    print(header)
    print("-" * len(header))
    # a rotated Λ: float entries are big rationals to the exact engine, its slowest input
    q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((d, d)))
    rotated = q @ np.diag(lam) @ q.T
    cases = [("d=10 m=20 k=1..10", lam, n, KS, 20, 40_000 // scale),
             ("rotated d=10 m=20 k=1..10", (rotated + rotated.T) / 2, n, KS, 20, 40_000 // scale),
             ("d=10 n=10 m=31 k=1,20", lam, 10, [1, 20], 31, 40_000 // scale)]
    for name, lam_c, n_c, ks, m_c, count in cases:
        times = {False: [], True: []}
        for _ in range(reps):
            for certify in times:
                times[certify].append(timed(lambda: mc_cot_error(lam_c, n_c, ks, m=m_c,
                                                                 samples=count, certify=certify)))
        off, on = statistics.median(times[False]), statistics.median(times[True])
        print(f"{name:>28} {count:>8} {off:>15.3f} {on:>14.3f} {on - off:>8.3f} {on / off:>6.2f}",
              flush=True)


if __name__ == "__main__":
    sys.exit(main())
