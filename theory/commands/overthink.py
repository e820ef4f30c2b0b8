"""``tts overthink``: does chain of thought overthink for a training/test covariance pair (Remark 4.1)?"""

from __future__ import annotations

import numpy as np

NAME = "overthink"
HELP = "when does more chain of thought hurt: divergence, optimal k*, responsible directions (Remark 4.1)"
# The library argument each option supplies: library messages name the option instead.
OPTIONS = {"train_cov": "--train", "test_cov": "--test", "n": "--n", "m": "--m", "k_max": "--k-max",
           "max_seconds": "--max-seconds"}


def configure(p):
    p.add_argument("--train", metavar="SPEC", required=True,
                   help="training covariance Λ: comma-separated eigenvalues (\"1/3\" is exact), or a JSON/.npy file")
    p.add_argument("--n", type=int, required=True, help="training prompt length n")
    p.add_argument("--test", metavar="SPEC", required=True, help="test covariance Σ, same forms as --train")
    p.add_argument("--m", type=int, default=None,
                   help="test prompt length m (default: m = ∞, the exact closed form)")
    p.add_argument("--k-max", type=int, default=8,
                   help="finite m only: scan k = 1..K with the exact engine (default 8; cost grows fast with K)")
    p.add_argument("--max-seconds", type=float, default=60.0,
                   help="finite m only: refuse, before any work, a scan whose estimated CPU seconds "
                        "(theory.error.exact_cost summed over k = 1..K) exceed this (default 60)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON object (diverges, k_star, max_eig, margin, err_star, errors, ...)")
    p.epilog = ("At m = ∞ the error ‖(I − Γ⁻¹Σ)^k‖_F² grows without bound iff λ_max(Γ⁻¹Σ) > 2 and k* is "
                "certified by a tail bound; at finite m every Σ ≠ 0 eventually overthinks and k* is the "
                "minimiser over the scanned window.")


def _check_cost(train, n: int, test, m: int, k_max: int, budget: float) -> None:
    """Refuse in one line, naming ``--k-max``, a finite-``m`` scan estimated over ``budget`` CPU seconds."""
    import math

    from theory.error import exact_cost
    if not (budget > 0 and math.isfinite(budget)):
        raise ValueError(f"--max-seconds must be a positive number of seconds, got {budget!r}")
    total = 0.0
    for k in range(1, k_max + 1):
        seconds, route = exact_cost(train, n, k, test_cov=test, m=m)
        total += seconds
        if total > budget:
            raise ValueError(f"--k-max: the exact scan k = 1..{k_max} at m = {m} would take an estimated "
                             f"{total:.3g} CPU seconds or more ({route} at k = {k}), over --max-seconds "
                             f"{budget:g}; lower --k-max or raise --max-seconds")


def run(args) -> int:
    from theory.commands._spec import parse_spec
    from theory.overthinking import overthinking_report

    train = parse_spec(args.train, "--train")
    test = parse_spec(args.test, "--test")
    if args.m is not None and args.k_max >= 1 and args.n >= 1 and args.m >= 1:
        _check_cost(train, args.n, test, args.m, args.k_max, args.max_seconds)
    report = overthinking_report(train, args.n, test, m=args.m, k_max=args.k_max)
    if args.json:
        from theory.commands._json import dumps
        print(dumps(report.as_dict()))
        return 0
    where = "m = ∞" if report.m is None else f"m = {report.m}"
    k_star = "none (the error keeps falling towards its limit)" if report.k_star is None else str(report.k_star)
    window = "" if report.certified else f" (over k = 1..{len(report.errors)})"
    lines = [
        f"{where}: λ_max(Γ⁻¹Σ) = {report.max_eig:.6g} (margin to 2: {report.margin:+.6g})",
        f"diverges as k → ∞: {'yes' if report.diverges else 'no'}",
        f"behaviour: {report.behaviour}",
        f"k* = {k_star}{window}, err* = {report.err_star:.6g}",
        f"first rise: {'none' if report.first_rise is None else f'err_{report.first_rise + 1} > err_{report.first_rise}'}",
    ]
    if report.responsible.shape[1]:
        with np.printoptions(precision=4, suppress=True):
            for j in range(report.responsible.shape[1]):
                lines.append(f"responsible direction: {report.responsible[:, j]}")
    print("\n".join(lines))
    return 0
