"""``tts error``: the exact CoT test error at each k, with Monte Carlo and the paper's bounds.

Columns: ``k``; the exact ``err_k = E‖w_k − w‖²`` (``e^x`` where it exceeds float64); with
``--mc``, the Monte Carlo mean ± standard error and whether its normal interval can be trusted;
the Theorem 3.3 bound (``k = 1``, test covariance = training covariance) and the Corollary 3.5
bound ``d(1 + n/(1 + Hard))^{-2k}`` (test = training; an ``m = ∞`` statement: at finite ``m`` the
exact error eventually exceeds it).
"""

from __future__ import annotations

import json
import math

NAME = "error"
HELP = "exact chain-of-thought test error err_k (any m, any test covariance), Monte Carlo, bounds"

_LOG_FLOAT_MAX = math.log(1.7976931348623157e308)


def configure(p):
    p.add_argument("--train", metavar="SPEC", required=True,
                   help="training covariance Λ: comma-separated eigenvalues (p/q allowed) or a .json/.npy matrix")
    p.add_argument("--n", metavar="N", required=True, help="training prompt length")
    p.add_argument("--k", metavar="K", required=True,
                   help="forward passes: K, a list K1,K2,... or an inclusive range A:B (k = 1 is direct ICL); "
                        "at finite m and d > 1 the exact engine's cost grows quickly with k (k <= 8 at d = 10)")
    p.add_argument("--test", metavar="SPEC", help="test covariance Σ (default: Λ)")
    p.add_argument("--m", metavar="M", help="test prompt length (default: m = ∞)")
    p.add_argument("--mc", metavar="SAMPLES", help="also estimate err_k by Monte Carlo with SAMPLES prompts (needs --m)")
    p.add_argument("--seed", metavar="S", default="0", help="root seed of the Monte Carlo (default 0)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON list of objects: k, exact, log_exact, bounds, and mc_* with --mc")


def _int(text, name: str, minimum: int = 1) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {text!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


def parse_ks(text: str) -> list[int]:
    """``"3"``, ``"1,2,5"`` or ``"1:8"`` (inclusive) as a sorted list of distinct ``k >= 1``."""
    text = str(text).strip()
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 2:
            raise ValueError(f"--k: a range is A:B, got {text!r}")
        lo, hi = _int(parts[0], "--k"), _int(parts[1], "--k")
        if hi < lo:
            raise ValueError(f"--k: empty range {text!r} (B < A)")
        return list(range(lo, hi + 1))
    ks = [_int(t, "--k") for t in text.split(",")]
    return sorted(set(ks))


def _fmt(log_value: float) -> str:
    if log_value == -math.inf:
        return "0"
    if -_LOG_FLOAT_MAX < log_value < _LOG_FLOAT_MAX:
        return f"{math.exp(log_value):.10g}"
    return f"e^{log_value:.6g}"  # beyond float64 either way: the log, not inf or 0


def _value(log_value: float):
    """A JSON number, or None where float64 overflows (``log_*`` carries the value)."""
    if log_value == -math.inf:
        return 0.0
    return math.exp(log_value) if log_value < _LOG_FLOAT_MAX else None


def _exact(train, test, n: int, k: int, m):
    """``(err_k rounded once to float, or None beyond float64; log err_k)``."""
    from theory import scaling
    from theory.error import DivergenceError, cot_error, cot_log_error

    if train.reshape(-1).shape[0] == 1 and m is not None:  # chi-square closed form: exact, O(k)
        value = scaling.cot_error_d1(train.reshape(-1)[0], n, k, m=m,
                                     test_var=None if test is None else test.reshape(-1)[0])
        log_value = scaling.log_fraction(value) if value > 0 else -math.inf
        try:
            return float(value), log_value
        except OverflowError:  # beyond float64: the log carries the value
            return None, log_value
    try:
        value = cot_error(train, n, k, test_cov=test, m=m)
    except DivergenceError:
        return None, cot_log_error(train, n, k, test_cov=test, m=m)
    return value, (math.log(value) if value > 0 else -math.inf)


def rows(args) -> list[dict]:
    """The table as a list of dicts (shared by the text and JSON outputs)."""
    import numpy as np

    from theory import scaling
    from theory.commands._spec import parse_spec

    train = parse_spec(args.train, "--train")
    test = None if args.test is None else parse_spec(args.test, "--test")
    n = _int(args.n, "--n")
    ks = parse_ks(args.k)
    m = None if args.m is None else _int(args.m, "--m")
    samples = None if args.mc is None else _int(args.mc, "--mc", minimum=2)
    seed = _int(args.seed, "--seed", minimum=0)
    if samples is not None and m is None:
        raise ValueError("--mc needs --m: Monte Carlo draws test prompts of finite length m")
    from theory._validate import as_covariance, same_dimension
    lam = as_covariance(train, "--train")
    sig = lam if test is None else as_covariance(test, "--test")
    same_dimension(lam, sig, "--train", "--test")
    same_cov = test is None or np.array_equal(lam, sig)
    positive = bool(np.linalg.eigvalsh(lam)[0] > 0)

    out = []
    for k in ks:
        exact, log_exact = _exact(train, test, n, k, m)
        row = {"k": k, "exact": exact, "log_exact": log_exact}
        if same_cov and positive:
            if k == 1:
                row["thm33_bound"] = scaling.thm33_bound(lam, n, m)
            row["cor35_bound"] = _value(scaling.cor35_log_bound(lam, n, k))
            row["log_cor35_bound"] = scaling.cor35_log_bound(lam, n, k)
        out.append(row)
    if samples is not None:
        from theory.montecarlo import mc_cot_error
        res = mc_cot_error(train, n, ks, m=m, test_cov=test, samples=samples, seed=seed)
        for i, row in enumerate(out):
            row["mc_mean"] = None if res.overflow[i] else float(res.mean[i])
            row["mc_stderr"] = None if res.overflow[i] else float(res.stderr[i])
            row["mc_log_mean"] = float(res.log_mean[i])
            row["mc_trustworthy"] = bool(res.trustworthy[i])
    return out


def _table(args, table: list[dict]) -> str:
    from theory import hardness
    from theory.commands._spec import parse_spec
    lam = parse_spec(args.train, "--train")
    d = lam.shape[0]
    m = "∞" if args.m is None else args.m
    head = (f"tts error: d = {d}, n = {args.n}, m = {m}, Hard(Λ) = {hardness(lam):.6g}, "
            f"test = {'Λ' if args.test is None else args.test}")
    cols = ["k", "exact err_k"]
    mc = "mc_log_mean" in table[0]
    if mc:
        cols += ["MC mean ± SE", "MC trusted"]
    has_thm = any("thm33_bound" in r for r in table)
    has_cor = any("log_cor35_bound" in r for r in table)
    if has_thm:
        cols.append("Thm 3.3 bound")
    if has_cor:
        cols.append("Cor 3.5 bound (m=∞)")
    lines = []
    for r in table:
        cells = [str(r["k"]), f"{r['exact']:.10g}" if r["exact"] is not None else _fmt(r["log_exact"])]
        if mc:
            if r["mc_mean"] is None:
                cells.append(f"e^{r['mc_log_mean']:.6g} (overflow)")
            else:
                cells.append(f"{r['mc_mean']:.6g} ± {r['mc_stderr']:.2g}")
            cells.append("yes" if r["mc_trustworthy"] else "no")
        if has_thm:
            cells.append(f"{r['thm33_bound']:.6g}" if "thm33_bound" in r else "")
        if has_cor:
            cells.append(_fmt(r["log_cor35_bound"]))
        lines.append(cells)
    widths = [max(len(c), *(len(line[i]) for line in lines)) for i, c in enumerate(cols)]
    text = [head, "  ".join(c.rjust(w) for c, w in zip(cols, widths))]
    text += ["  ".join(c.rjust(w) for c, w in zip(line, widths)) for line in lines]
    if mc and not all(r["mc_trustworthy"] for r in table):
        text.append("MC trusted = no: heavy tail; the normal interval mean ± z·SE cannot be trusted there.")
    return "\n".join(text)


def run(args) -> int:
    table = rows(args)
    if args.json:
        print(json.dumps(table, indent=2))
    else:
        print(_table(args, table))
    return 0
