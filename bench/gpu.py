"""One prepared run for a machine with a CUDA GPU: the CuPy Monte Carlo at 10^8 prompts.

What it measures (d = 10, m = 20, n = 20, k = 1..10):

1. throughput of ``mc_cot_error(..., backend=gpu)`` on the isotropic task Λ = Σ = I at
   ``--samples`` prompts (default 10^8), after a pilot run that shrinks the count to fit
   ``--budget`` seconds if the GPU is slower than expected (the output says so);
2. agreement with the exact error: ``theory.rmt.isotropic_cot_error_value`` (exact rationals) for
   the isotropic task, and ``theory.cot_error`` for λ_i ∝ 1/i (Σ = Λ), k as far as
   ``--exact-budget`` allows (about k = 8 in a minute), as z-scores, with the heavy-tail
   diagnostic per k;
3. importance sampling (``tilt``) on the isotropic task, for the large k that plain Monte Carlo
   cannot resolve;
4. the CPU path (NumPy) on ``--cpu-samples`` prompts: throughput ratio and statistical agreement;
5. bit-for-bit repeatability of the GPU path, and ``pytest -m gpu`` (tests/test_array_api.py).

Results go to stdout and, when ``$OUT`` is set (or ``--out DIR``), to ``gpu_mc.json`` and
``gpu_mc.md`` there.  Planned to finish within about 8 minutes on an H200; ``--quick`` runs 10^6
prompts (a minute or two) and ``--samples N`` any other count.

Run from the repository root:  ``python bench/gpu.py``  (needs the ``gpu`` extra: CuPy).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from theory.montecarlo import mc_cot_error  # noqa: E402
from theory.rmt import isotropic_cot_error_value  # noqa: E402

D, M, N_TRAIN = 10, 20, 20
KS = list(range(1, 11))


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--samples", type=float, default=1e8, help="GPU prompts, main run")
    p.add_argument("--cpu-samples", type=float, default=2e5, help="CPU prompts")
    p.add_argument("--quick", action="store_true", help="1e6 GPU and 5e4 CPU prompts")
    p.add_argument("--budget", type=float, default=300.0,
                   help="seconds allowed for all GPU Monte Carlo runs together")
    p.add_argument("--tilts", default="1.2,1.5", help="importance-sampling tilts (isotropic)")
    p.add_argument("--exact-kmax", type=int, default=10, help="largest k for theory.cot_error")
    p.add_argument("--exact-budget", type=float, default=90.0,
                   help="seconds for theory.cot_error (a k is skipped when its predicted time, "
                        "3x the previous k's, would exceed what is left)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--out", default=os.environ.get("OUT"), help="directory for json/markdown")
    p.add_argument("--no-pytest", action="store_true", help="skip pytest -m gpu")
    p.add_argument("--backend", choices=("cupy", "numpy"), default="cupy",
                   help="numpy: a dry run of this script on the CPU (use with small --samples)")
    args = p.parse_args()
    if args.quick:
        args.samples, args.cpu_samples = 1e6, 5e4
    args.samples, args.cpu_samples = int(args.samples), int(args.cpu_samples)
    return args


def timed_run(**kwargs):
    start = time.perf_counter()
    res = mc_cot_error(**kwargs)
    return res, time.perf_counter() - start


def rows_for(res, exact=None) -> list[dict]:
    rows = []
    for i, k in enumerate(res.ks.tolist()):
        row = {"k": k, "mean": float(res.mean[i]), "stderr": float(res.stderr[i]),
               "rel_se": float(res.stderr[i] / res.mean[i]), "se_rel_se": float(res.se_rel_se[i]),
               "tail_share": float(res.tail_share[i]), "trustworthy": bool(res.trustworthy[i])}
        if exact is not None and i < len(exact) and exact[i] is not None:
            row["exact"] = exact[i]
            row["z"] = (row["mean"] - exact[i]) / row["stderr"]
        rows.append(row)
    return rows


def markdown_table(title: str, rows: list[dict]) -> str:
    lines = [f"### {title}", "", "| k | mean | stderr | rel. SE | exact | z | SE rel. SE | tail | trusted |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        exact = f"{r['exact']:.10g}" if "exact" in r else "–"
        z = f"{r['z']:+.2f}" if "z" in r else "–"
        lines.append(f"| {r['k']} | {r['mean']:.10g} | {r['stderr']:.3g} | {r['rel_se']:.2e} | "
                     f"{exact} | {z} | {r['se_rel_se']:.3f} | {r['tail_share']:.3f} | "
                     f"{'yes' if r['trustworthy'] else 'no'} |")
    return "\n".join(lines)


def main() -> int:
    args = _parse()
    report: dict = {"config": {"d": D, "m": M, "n": N_TRAIN, "ks": KS, "seed": args.seed}}
    md: list[str] = ["# CuPy Monte Carlo on the GPU (bench/gpu.py)", ""]
    started = time.perf_counter()
    gpu = args.backend
    if gpu == "cupy":
        try:
            import cupy
            props = cupy.cuda.runtime.getDeviceProperties(0)
            name = props["name"]
            device = name.decode() if isinstance(name, bytes) else str(name)
            lib = f"CuPy {cupy.__version__}"
        except Exception as exc:  # no CuPy or no device: say so and stop
            print(f"bench/gpu.py needs CuPy and a CUDA device "
                  f"(pip install \"tts-theory[gpu]\"): {exc}")
            return 2
    else:
        device, lib = "CPU (dry run of the script, backend numpy)", f"NumPy {np.__version__}"
    report["machine"] = {"device": device, "library": lib, "numpy": np.__version__,
                         "python": platform.python_version(), "cpus": os.cpu_count()}
    print(f"# device {device}, {lib}, NumPy {np.__version__}", flush=True)

    iso = np.ones(D)
    inv = 1.0 / np.arange(1, D + 1)
    common = dict(n=N_TRAIN, ks=KS, m=M, seed=args.seed, sampler="bartlett")

    # Warm-up (kernel compilation), then a pilot to size the main run within the budget.
    mc_cot_error(iso, backend=gpu, samples=20_000, **common)
    pilot_n = min(2_000_000, args.samples)
    _, pilot_t = timed_run(train_cov=iso, backend=gpu, samples=pilot_n, **common)
    gpu_rate_pilot = pilot_n / pilot_t
    tilts = [float(t) for t in args.tilts.split(",") if t.strip()]
    # main + inverse-spectrum run (samples/10) + one run per tilt (samples/10)
    work = 1 + 0.1 + 0.1 * len(tilts)
    samples = args.samples
    if work * samples / gpu_rate_pilot > args.budget:
        samples = max(pilot_n, int(args.budget * gpu_rate_pilot / work) // 10**6 * 10**6)
        print(f"# budget: {args.samples:.3g} prompts would take "
              f"{work * args.samples / gpu_rate_pilot:.0f} s; running {samples:.3g}", flush=True)
    report["samples_requested"], report["samples"] = args.samples, samples
    exact_iso = [float(isotropic_cot_error_value(k, D, M, N_TRAIN)) for k in KS]

    # 1-2. Main GPU run, isotropic, against the exact rational error.
    res, t_gpu = timed_run(train_cov=iso, backend=gpu, samples=samples, progress=True, **common)
    report["gpu"] = {"seconds": t_gpu, "prompts_per_s": samples / t_gpu, "batch": res.batch,
                     "rows": rows_for(res, exact_iso)}
    print(res.summary(), flush=True)
    md += [f"Device: {device}; {lib}. d = {D}, m = {M}, n = {N_TRAIN}, Bartlett "
           f"sampler, seed {args.seed}.", "",
           markdown_table(f"Isotropic Λ = Σ = I, {samples:.3g} prompts on the GPU "
                          f"({t_gpu:.1f} s, {samples / t_gpu:.3g} prompts/s); exact from "
                          f"theory.rmt", report["gpu"]["rows"]), ""]

    # 3. Importance sampling on the same task.
    report["tilted"] = []
    for tilt in tilts:
        r_t, t_t = timed_run(train_cov=iso, backend=gpu, samples=samples // 10, tilt=tilt, **common)
        rows = rows_for(r_t, exact_iso)
        report["tilted"].append({"tilt": tilt, "samples": samples // 10, "seconds": t_t, "rows": rows})
        md += [markdown_table(f"Isotropic, tilt {tilt:g}, {samples // 10:.3g} prompts", rows), ""]

    # 2b. λ_i ∝ 1/i against theory.cot_error, when the exact engine exists.
    try:
        from theory import cot_error
    except ImportError:
        cot_error = None
    r_inv, t_inv = timed_run(train_cov=inv, backend=gpu, samples=samples // 10, **common)
    exact_inv: list = []
    if cot_error is not None:
        t0, last = time.perf_counter(), 0.0
        for k in KS[:args.exact_kmax]:
            if time.perf_counter() - t0 + 3 * last > args.exact_budget:
                break
            t_k = time.perf_counter()
            exact_inv.append(float(cot_error(inv, N_TRAIN, k, m=M)))
            last = time.perf_counter() - t_k
    rows = rows_for(r_inv, exact_inv)
    note = "exact from theory.cot_error" if exact_inv else "theory.cot_error not available: no exact column"
    report["inverse_spectrum"] = {"samples": samples // 10, "seconds": t_inv, "rows": rows, "note": note}
    md += [markdown_table(f"λ_i ∝ 1/i, Σ = Λ, {samples // 10:.3g} prompts; {note}", rows), ""]

    # 4. CPU path on fewer prompts: throughput and agreement.
    r_cpu, t_cpu = timed_run(train_cov=iso, backend="numpy", samples=args.cpu_samples, **common)
    both = r_cpu.trustworthy & res.trustworthy
    z_cpu = (res.mean - r_cpu.mean) / np.hypot(res.stderr, r_cpu.stderr)
    report["cpu"] = {"samples": args.cpu_samples, "seconds": t_cpu,
                     "prompts_per_s": args.cpu_samples / t_cpu,
                     "gpu_over_cpu": (samples / t_gpu) / (args.cpu_samples / t_cpu),
                     "z_gpu_vs_cpu": [float(z) if b else None for z, b in zip(z_cpu, both)]}
    md += [f"CPU (NumPy, {os.cpu_count()} CPUs): {args.cpu_samples / t_cpu:.3g} prompts/s; GPU "
           f"{samples / t_gpu:.3g} prompts/s: ratio {report['cpu']['gpu_over_cpu']:.1f}. GPU vs CPU "
           f"z where both are trustworthy: "
           f"{', '.join(f'k={k}: {z:+.2f}' for k, z, b in zip(KS, z_cpu, both) if b)}.", ""]

    # 5. Repeatability, then the gpu-marked tests.
    repeat_n = min(10**6, samples)
    a = mc_cot_error(iso, backend=gpu, samples=repeat_n, batch=repeat_n // 4, **common)
    b = mc_cot_error(iso, backend=gpu, samples=repeat_n, batch=repeat_n // 4, **common)
    same = bool(np.array_equal(a.mean, b.mean) and np.array_equal(a.stderr, b.stderr))
    report["repeatable_bits"] = same
    md += [f"Same seed, same batch, two GPU runs: identical bits: {same}.", ""]
    if not args.no_pytest:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "gpu",
                               "tests/test_array_api.py"], capture_output=True, text=True)
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
        report["pytest_gpu"] = {"returncode": proc.returncode, "tail": tail}
        md += ["`pytest -m gpu tests/test_array_api.py`: " + " / ".join(tail), ""]

    report["total_seconds"] = time.perf_counter() - started
    md += [f"Total {report['total_seconds']:.0f} s."]
    text = "\n".join(md)
    print(text)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "gpu_mc.json"), "w") as fh:
            json.dump(report, fh, indent=1)
        with open(os.path.join(args.out, "gpu_mc.md"), "w") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
