"""``tts error``: the exact CoT test error at each k, with Monte Carlo and the paper's bounds.

Columns: ``k``; the exact ``err_k = E‖w_k − w‖²`` (``e^x`` where it exceeds float64) by the cheapest
exact route whose estimated cost fits ``--max-seconds`` (the ``d = 1`` and isotropic closed forms, the
engine, the ``m = ∞`` power); beyond it the certified bracket ``[lower, upper]`` of
:func:`theory.bracket.error_bracket` (or the arb enclosure at ``m = ∞``), marked as a bracket; beyond
the bracket's budget too, the rigorous lower bound :func:`theory.bracket.tail_lower_bound`; with
``--mc``, the Monte Carlo mean ± standard error and whether its normal interval can be trusted;
the Theorem 3.3 bound (``k = 1``, test covariance = training covariance) and the Corollary 3.5
bound ``d(1 + n/(1 + Hard))^{-2k}`` (test = training; an ``m = ∞`` statement: at finite ``m`` the
exact error eventually exceeds it).
"""

from __future__ import annotations

import math

NAME = "error"
HELP = "exact chain-of-thought test error err_k (any m, any test covariance), Monte Carlo, bounds"

_LOG_FLOAT_MAX = math.log(1.7976931348623157e308)
# The library argument each option supplies: library messages name the option instead.
OPTIONS = {"train_cov": "--train", "test_cov": "--test", "n": "--n", "k": "--k", "m": "--m",
           "max_seconds": "--max-seconds", "samples": "--mc", "seed": "--seed"}
_DEFAULT_SECONDS = 60.0


def configure(p):
    p.add_argument("--train", metavar="SPEC", required=True,
                   help="training covariance Λ: comma-separated eigenvalues (p/q allowed) or a .json/.npy matrix")
    p.add_argument("--n", metavar="N", required=True, help="training prompt length")
    p.add_argument("--k", metavar="K", required=True,
                   help="forward passes: K, a list K1,K2,... or an inclusive range A:B (k = 1 is direct ICL); "
                        "the exact value where its estimated cost fits --max-seconds (the engine reaches about k = 12 "
                        "at d = 10; the d = 1 and isotropic closed forms much further), else a certified bracket")
    p.add_argument("--test", metavar="SPEC", help="test covariance Σ (default: Λ)")
    p.add_argument("--m", metavar="M", help="test prompt length (default: m = ∞)")
    p.add_argument("--mc", metavar="SAMPLES", help="also estimate err_k by Monte Carlo with SAMPLES prompts (needs --m)")
    p.add_argument("--seed", metavar="S", default="0", help="root seed of the Monte Carlo (default 0)")
    p.add_argument("--max-seconds", metavar="S", default=None,
                   help="budget in estimated CPU seconds for all the rows together (default "
                        f"{_DEFAULT_SECONDS:g}): the exact value where it fits, else the certified bracket, "
                        "else a rigorous lower bound; raise it to ask for more")
    p.add_argument("--json", action="store_true",
                   help="print a JSON list of objects: k, exact, log_exact (null where not computed), "
                        "lower, upper, log_lower, log_upper, bracket_method, bounds, and mc_* with --mc "
                        "(strict JSON: null for a value beyond float64, whose log_* field carries it)")


def _int(text, name: str, minimum: int = 1) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {text!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


def _positive(text, name: str) -> float:
    try:
        value = float(str(text).strip())
    except ValueError:
        raise ValueError(f"{name} must be a positive number of seconds, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive number of seconds, got {text!r}")
    return value


# One row per k, each costed and computed: a range longer than this is a typo more often than a table.
MAX_ROWS = 10_000


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
        if hi - lo + 1 > MAX_ROWS:
            raise ValueError(f"--k: the range {text!r} has {hi - lo + 1} values, more rows than one table "
                             f"should hold (at most {MAX_ROWS}); ask for a shorter range or a list")
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


def _json_log(value) -> float | None:
    """``log`` of a nonnegative Fraction for JSON: None for 0 (``-inf`` is not JSON)."""
    from theory.error import _log
    lv = _log(value)
    return None if lv == -math.inf else lv


def _json_float(value) -> float | None:
    """A Fraction rounded once to a float, or None beyond float64 (the ``log_*`` field carries it)."""
    try:
        return float(value)
    except OverflowError:
        return None


def _entry(train, test, n: int, k: int, m, budget: float) -> tuple[dict, float]:
    """One row's value fields and the estimated seconds spent: the exact value by the cheapest route
    within ``budget``, else the certified bracket, else a rigorous lower bound."""
    from theory.error import _routes, _validated_cot, limit_error_enclosure

    P, sigma, _ = _validated_cot(train, n, k, test)
    seconds, route, thunk = min(_routes(P, sigma, k, m, limit=budget), key=lambda r: r[0])
    if seconds <= budget:
        value = thunk()
        return {"exact": _json_float(value), "log_exact": _json_log(value), "route": route}, seconds
    over = f"the exact value ({route}) would take {_seconds(seconds)}, over the budget of {budget:.3g} s"
    if m is None:
        lower, upper = limit_error_enclosure(P, sigma, k)
        return _bracket(lower, upper, "m = ∞: ‖(I − Γ⁻¹Σ)^k‖_F² enclosed in arb balls (relative radius "
                        "<= 2^-60)", over), 0.0
    from theory.bracket import error_bracket, tail_lower_bound
    from theory.error import capped_cost
    from theory.finite_trace import _profile, _Spectrum, _top_eigenvalue_bounds, _validated, _zonal_cost
    G, sig, _ = _validated(train, n, k, test)
    spec = _Spectrum(G, sig)
    profile = _profile(spec)
    trace_cost = capped_cost(lambda j: _zonal_cost(j, profile, balls=True), k, budget)
    if trace_cost <= budget:
        b = error_bracket(train, n, k, test, m, exact_budget=0, trace_budget=budget)
        return _bracket(b.lower, b.upper, f"lower: {b.lower_method}; upper: {b.upper_method}", over), trace_cost
    beta, _ = _top_eigenvalue_bounds(spec)
    lower, t = tail_lower_bound(beta, k, m)
    sentence = (f"{over}, and the certified bracket (T_{k}({m}) by zonal polynomials) {_seconds(trace_cost)}: "
                f"only the rigorous lower bound t^(2k) P(β χ²_m/m >= 1 + t) (t = {t}, β = λ_max(Γ⁻¹Σ) >= "
                f"{float(beta):.12g}) is given; {_ask(min(seconds, trace_cost))}")
    return _bracket(lower, None, "tail_lower_bound (top eigen-direction, one chi-square tail)", sentence), 0.0


def _seconds(seconds: float) -> str:
    """An estimate over the budget, which may be a lower estimate (:func:`theory.error.capped_cost`)."""
    return "more time than any machine has" if seconds == math.inf else f"an estimated {seconds:.3g} CPU seconds or more"


def _ask(seconds: float) -> str:
    if seconds == math.inf:
        return "no budget reaches more"
    return f"--max-seconds {seconds * 1.5:.3g} or more asks for more"


def _bracket(lower, upper, method: str, note: str) -> dict:
    return {"exact": None, "log_exact": None, "lower": _json_float(lower),
            "upper": None if upper is None else _json_float(upper), "log_lower": _json_log(lower),
            "log_upper": None if upper is None else _json_log(upper), "bracket_method": method, "note": note}


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

    budget = _DEFAULT_SECONDS if args.max_seconds is None else _positive(args.max_seconds, "--max-seconds")
    out = []
    for k in ks:
        fields, spent = _entry(train, test, n, k, m, budget)
        budget -= spent
        row = {"k": k, **fields}
        if same_cov and positive:
            if k == 1:
                row["thm33_bound"] = scaling.thm33_bound(lam, n, m)
            log_bound = scaling.cor35_log_bound(lam, n, k)
            row["cor35_bound"] = _value(log_bound)
            row["log_cor35_bound"] = _finite_or_none(log_bound)
        out.append(row)
    if samples is not None:
        from theory.montecarlo import mc_cot_error
        res = mc_cot_error(train, n, ks, m=m, test_cov=test, samples=samples, seed=seed)
        for i, row in enumerate(out):
            row["mc_mean"] = None if res.overflow[i] else float(res.mean[i])
            row["mc_stderr"] = None if res.overflow[i] else float(res.stderr[i])
            row["mc_log_mean"] = _finite_or_none(float(res.log_mean[i]))
            row["mc_trustworthy"] = bool(res.trustworthy[i])
    return out


def _finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _shown(value, log_value, digits: int) -> str:
    """A float where it is one (and not an underflow to 0), else ``e^log``; ``0`` for an exact 0."""
    if log_value is None:
        return "0"
    if value is None or value == 0:
        return f"e^{log_value:.6g}"
    return f"{value:.{digits}g}"


def _cell(r: dict) -> str:
    if r.get("bracket_method") is None:
        return _shown(r["exact"], r["log_exact"], 10)
    low = _shown(r["lower"], r["log_lower"], 6)
    if r["upper"] is None and r["log_upper"] is None and "tail_lower_bound" in r["bracket_method"]:
        return f">= {low} (lower bound)"
    return f"[{low}, {_shown(r['upper'], r['log_upper'], 6)}] (bracket)"


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
        cells = [str(r["k"]), _cell(r)]
        if mc:
            if r["mc_mean"] is None:
                cells.append(f"e^{r['mc_log_mean']:.6g} (overflow)" if r["mc_log_mean"] is not None else "0")
            else:
                cells.append(f"{r['mc_mean']:.6g} ± {r['mc_stderr']:.2g}")
            cells.append("yes" if r["mc_trustworthy"] else "no")
        if has_thm:
            cells.append(f"{r['thm33_bound']:.6g}" if "thm33_bound" in r else "")
        if has_cor:
            cells.append("0" if r["log_cor35_bound"] is None else _fmt(r["log_cor35_bound"]))
        lines.append(cells)
    widths = [max(len(c), *(len(line[i]) for line in lines)) for i, c in enumerate(cols)]
    text = [head, "  ".join(c.rjust(w) for c, w in zip(cols, widths))]
    text += ["  ".join(c.rjust(w) for c, w in zip(line, widths)) for line in lines]
    for r in table:
        if r.get("bracket_method") is not None:
            text.append(f"k = {r['k']}: not the exact value: {r['note']}; {r['bracket_method']}")
    if mc and not all(r["mc_trustworthy"] for r in table):
        text.append("MC trusted = no: heavy tail; the normal interval mean ± z·SE cannot be trusted there.")
    return "\n".join(text)


def run(args) -> int:
    table = rows(args)
    if args.json:
        from theory.commands._json import dumps
        print(dumps(table))
    else:
        print(_table(args, table))
    return 0
