r"""Claim ``tradeoff``: test-time compute (CoT steps) can replace training context (prompt length n).

Parts (test covariance Λ):

* ``less-context-every-m`` (claim, fails): at a fixed error ``ε``, ``n_min(k, ε)`` is non-increasing in
  ``k`` at every test length ``m`` — at finite ``m`` more steps eventually make every ``n`` miss ``ε``
  (exact ``d = 1`` closed form, confirmed by brute force over ``n``);
* ``less-context-limit`` (condition): at ``m = ∞`` it holds (``err_{k+1}(n) <= err_k(n)`` for every
  ``n``); the float scan :func:`theory.scaling.n_min` is checked at its boundary in exact arithmetic;
* ``cor35-formula`` (finding): ``(1 + Hard)((μ/ε)^{1/2k} − 1) <= n_min <= ⌈(1 + Hard)((d/ε)^{1/2k} − 1)⌉``;
* ``harder-pointwise`` (claim, fails): a harder task (larger Hard) never needs fewer steps — exact
  counterexample, confirmed by the float :func:`theory.scaling.k_min`;
* ``harder-bounds`` (condition): the bounds on ``k_min`` increase with Hard, and ``k_min`` is monotone
  along ``λ_i ∝ i^{-α}``;
* ``report-limit`` (claim, fails): the paper's report for ``λ_i ∝ 1/i`` — ``n = 10`` with ``k = 20``
  matches ``n = 30`` without CoT — read as equal errors at ``m = ∞`` (the paper's ``k`` equals our
  number of passes since its ``w_{k+1}`` is our ``w_k``; ``k = 21`` is checked as the other count);
* ``report-d1`` (finding): in ``d = 1`` the comparison at finite ``m`` is a knife edge in ``m``;
* ``finite-m-n-min`` (finding): exact ``n_min(k)`` at ``m = 10`` (engine, ``d = 3``; closed form, ``d = 1``).
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np
import sympy

from theory._tex import Step, sci, tex
from theory.claims._families import random_spectrum
from theory.ledger import (CLAIM, CONDITION, FINDING, Claim, Counterexample, RouteDisagreement, decide, holds,
                           undecided)
from theory.scaling import (cot_error_d1, k1_error_coefficients, k_min, log_fraction, n_min,
                            n_min_cor35)

SEED = 36

# The paper's report: n = 10 with k = 20 against n = 30 without CoT (k = 1), λ_i ∝ 1/i.
REPORT_N_COT, REPORT_K, REPORT_N_DIRECT = 10, 20, 30
# the m = ∞ report: dimensions tried (fast tier; the full tier tries every d from 2 to 40)
REPORT_DS = (2, 5, 10, 20, 40)
REPORT_D = 10  # the dimension quoted
# d = 1 knife edge: m = 2 .. D1_M_MAX
D1_M_MAX = 200
# the finite-m report at d = REPORT_D: every m = 2 .. REPORT_M_MAX decided by the certified bracket,
# with a Monte Carlo check at REPORT_MC_M (where the sample's tails are light enough to trust)
REPORT_M_MAX = 10_000
REPORT_MC_M, REPORT_MC_SAMPLES = 2000, 20_000
# n_min at finite m: m = FINITE_M, ε = err_1(n = 30, m)
FINITE_M = 10
# relative slack of the float sandwich (the bisection works on float logs; 1e-12 is far above
# their rounding and far below a wrong bound, which is off by a factor)
SANDWICH_RTOL = 1e-12
# The pointwise counterexample (found by an exhaustive search over integer spectra in {1..12}³ at
# n = 5, ε = 1/100): two weak directions (λ_min of multiplicity 2) cost more steps than one,
# despite the smaller Hard.
HARDER_EASY = (Fraction(1), Fraction(1), Fraction(12))
HARDER_HARD = (Fraction(1), Fraction(3), Fraction(12))
HARDER_N, HARDER_EPS = 5, Fraction(1, 100)
# λ_i ∝ i^{-α}, α = 0, 1/4, ..., 3, d = 10, n = 10, ε = 1e-3
FAMILY_ALPHAS = tuple(Fraction(i, 4) for i in range(13))
FAMILY_D, FAMILY_N, FAMILY_EPS = 10, 10, 1e-3

CLAIM_TRADEOFF = Claim(
    id="tradeoff",
    title="Test-time compute can replace training context",
    statement=r"At a fixed error, more CoT steps let the training prompt length $n$ shrink; harder tasks "
              r"need longer CoT. For the LSA model with $\lambda_i \propto 1/i$, $n = 10$ with $k = 20$ "
              r"matches $n = 30$ without CoT. From Corollary 3.5, $n_{\min}(k, \varepsilon) = (1 + \mathrm{Hard})"
              r"((d/\varepsilon)^{1/(2k)} - 1)$.",
    source="[poster], [paper] (the report for $\\lambda_i \\propto 1/i$; $d$ and $m$ not stated); [derived] "
           "(the $n_{\\min}$ formula)",
    convention=r"Test covariance $\Lambda$; $n_{\min}(k, \varepsilon) = \min\{n \ge 1 : \mathrm{err}_k(n) \le "
               r"\varepsilon\}$ (the smallest $n$; at finite $m$ the error is not monotone in $n$); $k_{\min}(n, "
               r"\varepsilon)$ likewise. The paper's $k$ equals our number of passes (its $w_{k+1}$ is our $w_k$), "
               r"so its $k$ steps are our $k$ passes and “without CoT” is one pass.",
    checks="checks/test_tradeoff_compute_for_context.py",
)


def limit_error_exact(eigs, n: int, k: int) -> Fraction:
    """``err_k(∞) = Σ_i (1 + nλ_i/(λ_i + T))^{-2k}`` at ``Σ = Λ``, exactly."""
    T = sum(eigs)
    return sum(((l + T) / ((n + 1) * l + T)) ** (2 * k) for l in eigs)


@lru_cache(maxsize=4)
def limit_monotonicity(cases: int, k_max: int, seed: int = SEED) -> dict:
    """``m = ∞``: random rational spectra and ``ε``; the first failure (or None) of (a) ``n_min``
    non-increasing in ``k``, (b) the float scan's answer verified exactly at its boundary, (c) the
    sandwich; and the largest ``n_min_cor35 / n_min`` (how conservative the Cor 3.5 formula is)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    first = {"non-increasing": None, "exact boundary": None, "sandwich": None}
    loosest = 0.0
    for _ in range(cases):
        d = int(rng.integers(1, 6))
        eigs = random_spectrum(rng, d)
        lam = np.array([float(e) for e in eigs])
        eps = 10.0 ** rng.uniform(-6, math.log10(d) - 0.05)
        hard = float(sum(eigs) / min(eigs))
        mult = eigs.count(min(eigs))
        prev = None
        for k in range(1, k_max + 1):
            nm = n_min(lam, k, eps, n_max=200_000)
            if nm is None:
                continue
            eps_q = Fraction(eps)
            if not (limit_error_exact(eigs, nm, k) <= eps_q and (nm == 1 or limit_error_exact(eigs, nm - 1, k) > eps_q)):
                first["exact boundary"] = first["exact boundary"] or (tuple(eigs), k, eps, nm)
            upper = max(1, math.ceil(n_min_cor35(lam, k, eps)))
            lower = (1 + hard) * math.expm1(math.log(mult / eps) / (2 * k))
            if not (lower <= nm * (1 + SANDWICH_RTOL) and nm <= upper):
                first["sandwich"] = first["sandwich"] or (tuple(eigs), k, eps, nm)
            loosest = max(loosest, n_min_cor35(lam, k, eps) / nm)
            if prev is not None and nm > prev:
                first["non-increasing"] = first["non-increasing"] or (tuple(eigs), k, eps, prev, nm)
            prev = nm
    return {"first": first, "loosest": loosest}


def exact_k_min(eigs, n: int, eps: Fraction) -> int:
    """The fewest passes reaching ``ε`` at ``m = ∞``, by exact rationals."""
    return next(k for k in range(1, 100_000) if limit_error_exact(eigs, n, k) <= eps)


@lru_cache(maxsize=2)
def harder_family() -> tuple[int, ...]:
    """``k_min`` along ``λ_i ∝ i^{-α}`` (float bisection, :func:`theory.scaling.k_min`)."""
    return tuple(k_min(np.arange(1, FAMILY_D + 1) ** -float(a), FAMILY_N, FAMILY_EPS) for a in FAMILY_ALPHAS)


@lru_cache(maxsize=4)
def paper_report_limit(ds, k: int = REPORT_K) -> tuple[tuple, ...]:
    """``m = ∞``, ``λ_i ∝ 1/i``: per ``d``, ``(d, n_match(k), n_match(k+1), err_k(n=10), err_1(n=30),
    k_match)`` with ``n_match(k) = n_min(k, err_1(n=30))`` (``k + 1``: the other way to count the
    paper's steps) and ``k_match = k_min(n = 10, err_1(n=30))``; the errors are exact."""
    out = []
    for d in ds:
        eigs = [Fraction(1, i) for i in range(1, d + 1)]
        lam = 1.0 / np.arange(1, d + 1)
        eps = limit_error_exact(eigs, REPORT_N_DIRECT, 1)
        out.append((d, n_min(lam, k, float(eps)), n_min(lam, k + 1, float(eps)),
                    limit_error_exact(eigs, REPORT_N_COT, k), eps, k_min(lam, REPORT_N_COT, float(eps))))
    return tuple(out)


@lru_cache(maxsize=2)
def paper_report_d1(m_max: int, k: int = REPORT_K) -> tuple[tuple[int, float], ...]:
    """``d = 1``, exact: ``log(err_k(n=10, m) / err_1(n=30, m))`` for ``m = 2 .. m_max``."""
    return tuple((m, log_fraction(cot_error_d1(1, REPORT_N_COT, k, m=m))
                  - log_fraction(cot_error_d1(1, REPORT_N_DIRECT, 1, m=m))) for m in range(2, m_max + 1))


@lru_cache(maxsize=4)
def finite_m_n_min(d: int, m: int, k_max: int, n_max: int) -> tuple[tuple, float]:
    """Finite ``m``, ``λ_i ∝ 1/i``: ``n_min(k, ε)`` for ``k = 1..k_max`` with ``ε = err_1(n = 30, m)``
    (exact engine for ``d > 1``, the ``d = 1`` closed form otherwise; ``None``: no ``n <= n_max``)."""
    eigs = [Fraction(1, i) for i in range(1, d + 1)]
    c0, c1 = k1_error_coefficients(eigs, REPORT_N_DIRECT)
    eps = float(c0 + c1 / m)
    return tuple(n_min(eigs, k, eps, m=m, n_max=n_max) for k in range(1, k_max + 1)), eps


def _first_increase(seq) -> int | None:
    """First ``k`` (1-based) where the sequence rises or becomes ``None`` (unreachable)."""
    for i in range(1, len(seq)):
        if seq[i] is None or (seq[i - 1] is not None and seq[i] > seq[i - 1]):
            return i + 1
    return None


# ---------------------------------------------------------------------------------------------
# The parts


def _mono_size(full: bool) -> tuple[int, int]:
    return (300, 30) if full else (40, 12)


@CLAIM_TRADEOFF.part("less-context-every-m", CLAIM,
                     r"At every test length $m$, $n_{\min}(k, \varepsilon)$ is non-increasing in $k$: one more "
                     r"CoT step never needs a longer training prompt.")
def less_context_every_m(full: bool):
    k_max, n_max = 40, 60
    seq, eps = finite_m_n_min(1, FINITE_M, k_max, n_max)
    stop = _first_increase(seq)

    def counterexample():
        k = stop
        eps_q = cot_error_d1(1, REPORT_N_DIRECT, 1, m=FINITE_M)
        before = next(n for n in range(1, n_max + 1) if cot_error_d1(1, n, k - 1, m=FINITE_M) <= eps_q)
        return Counterexample(
            tex(r"$d = 1$, $m = «m»$, $\varepsilon = \mathrm{err}_1(n = «n30», m)$: $n_{\min} = «before»$ at "
                r"$k = «k0»$, but no $n \le «nmax»$ reaches $\varepsilon$ at $k = «k»$ (the error diverges in $k$ at "
                r"every finite $m$, see `cor3.5`).", m=FINITE_M, n30=REPORT_N_DIRECT, before=before, k0=k - 1,
                nmax=n_max, k=k),
            lambda: all(cot_error_d1(1, n, k, m=FINITE_M) > eps_q for n in range(1, n_max + 1)),
            "brute force over n of the exact d = 1 closed form")

    return decide(stop is None,
                  tex(r"Exact $d = 1$ closed form, $m = «m»$: $n_{\min}(k) = «seq:list»$ for $k = 1, \ldots$",
                      m=FINITE_M, seq=[s if s is not None else r"\text{none}" for s in seq[:(stop or k_max)]]),
                  counterexample)


@CLAIM_TRADEOFF.part("less-context-limit", CONDITION,
                     r"At $m = \infty$, $n_{\min}(k, \varepsilon)$ is non-increasing in $k$ for every $\Lambda$ and "
                     r"$\varepsilon$ (since $\mathrm{err}_{k+1}(n) \le \mathrm{err}_k(n)$ for every $n$).")
def less_context_limit(full: bool):
    cases, k_top = _mono_size(full)
    mono = limit_monotonicity(cases, k_top)
    if mono["first"]["exact boundary"]:
        raise RouteDisagreement("n_min at m = ∞", [("float scan", mono["first"]["exact boundary"]),
                                                  ("exact boundary check", "fails there")])
    found = mono["first"]["non-increasing"]

    def counterexample():
        eigs, k, eps, before, after = found
        q = Fraction(eps)
        return Counterexample(tex(r"eigenvalues $«e:list»$, $\varepsilon = «eps:.6g»$: $n_{\min} = «a»$ at $k = «k0»$, "
                                  r"«b» at $k = «k»$", e=list(eigs), eps=eps, a=before, k0=k - 1, b=after, k=k),
                              lambda: limit_error_exact(list(eigs), before, k) > q, "exact rationals at the boundary")

    return decide(found is None,
                  tex(r"«cases» seeded random spectra, $k \le «ktop»$, each float $n_{\min}$ verified exactly at its "
                      r"boundary ($\mathrm{err}_k(n_{\min}) \le \varepsilon < \mathrm{err}_k(n_{\min} - 1)$): no "
                      r"exception.", cases=cases, ktop=k_top),
                  counterexample)


@CLAIM_TRADEOFF.part("cor35-formula", FINDING,
                     r"$(1 + \mathrm{Hard})((\mu/\varepsilon)^{1/2k} - 1) \le n_{\min}(k, \varepsilon) \le \lceil (1 + "
                     r"\mathrm{Hard})((d/\varepsilon)^{1/2k} - 1)\rceil$ at $m = \infty$: the Corollary 3.5 formula is an "
                     r"upper bound, loose by the factor $d$ it counts every direction with.")
def cor35_formula(full: bool):
    cases, k_top = _mono_size(full)
    mono = limit_monotonicity(cases, k_top)
    if mono["first"]["sandwich"]:  # both bounds are proved from μ f^{2k} <= err_k <= d f^{2k}
        raise RouteDisagreement("the n_min sandwich", [("float n_min", mono["first"]["sandwich"]),
                                                      ("proved bounds", "violated")])
    return holds(tex(r"«cases» seeded spectra, $k \le «ktop»$: inside the bounds; the formula overstates $n_{\min}$ "
                     r"by up to a factor $«loose:.3g»$.", cases=cases, ktop=k_top, loose=mono["loosest"]))


@CLAIM_TRADEOFF.part("harder-pointwise", CLAIM,
                     r"A harder task needs at least as many steps: $\mathrm{Hard}(\Lambda) < \mathrm{Hard}(\Lambda')$ "
                     r"implies $k_{\min}(\Lambda) \le k_{\min}(\Lambda')$ at the same $n$ and $\varepsilon$ ($m = \infty$).")
def harder_pointwise(full: bool):
    h_easy, h_hard = sum(HARDER_EASY) / min(HARDER_EASY), sum(HARDER_HARD) / min(HARDER_HARD)
    k_easy = exact_k_min(list(HARDER_EASY), HARDER_N, HARDER_EPS)
    k_hard = exact_k_min(list(HARDER_HARD), HARDER_N, HARDER_EPS)
    violated = h_easy < h_hard and k_easy > k_hard

    def counterexample():
        fe = k_min([float(v) for v in HARDER_EASY], HARDER_N, float(HARDER_EPS))
        fh = k_min([float(v) for v in HARDER_HARD], HARDER_N, float(HARDER_EPS))
        return Counterexample(
            tex(r"$n = «n»$, $\varepsilon = «eps»$: $\Lambda = «a:mat»$ ($\mathrm{Hard} = «ha»$) needs $k = «ka»$, "
                r"$\Lambda' = «b:mat»$ ($\mathrm{Hard} = «hb»$) only $k = «kb»$: two weak directions cost more than "
                r"one.", n=HARDER_N, eps=HARDER_EPS, a=np.diag(HARDER_EASY).astype(object), ha=h_easy, ka=k_easy,
                b=np.diag(HARDER_HARD).astype(object), hb=h_hard, kb=k_hard),
            lambda: (fe, fh) == (k_easy, k_hard), "theory.scaling.k_min (float bisection)")

    return decide(not violated, tex(r"Exact rationals at $m = \infty$."), counterexample)


@CLAIM_TRADEOFF.part("harder-bounds", CONDITION,
                     r"Both bounds on $k_{\min}$, $\log(\mu/\varepsilon)/(2\log(1/f)) \le k_{\min} \le \lceil "
                     r"\log(d/\varepsilon)/(2\log(1/f))\rceil$ with $f = (1 + n/(1 + \mathrm{Hard}))^{-1}$, increase "
                     r"with Hard, and $k_{\min}$ increases along the family $\lambda_i \propto i^{-\alpha}$.")
def harder_bounds(full: bool):
    fam = harder_family()
    monotone = all(a <= b for a, b in zip(fam, fam[1:]))

    def counterexample():
        i = next(i for i in range(len(fam) - 1) if fam[i] > fam[i + 1])
        a, b = FAMILY_ALPHAS[i], FAMILY_ALPHAS[i + 1]
        la, lb = (np.arange(1, FAMILY_D + 1) ** -float(x) for x in (a, b))
        return Counterexample(tex(r"$\alpha = «a»$ needs $k = «ka»$, $\alpha = «b»$ needs $k = «kb»$", a=a, ka=fam[i],
                                  b=b, kb=fam[i + 1]),
                              lambda: (k_min(la, FAMILY_N, FAMILY_EPS, test_cov=la)
                                       > k_min(lb, FAMILY_N, FAMILY_EPS, test_cov=lb)),
                              "the general scan of theory.scaling.k_min (eigh of the step matrix)")

    return decide(monotone,
                  tex(r"The bounds are $\log(\cdot)/(2\log(1 + n/(1 + \mathrm{Hard})))$, increasing in Hard. Family "
                      r"($d = «d»$, $n = «n»$, $\varepsilon = «eps:.3g»$, $\alpha = «a0»..«a1»$ in steps of "
                      r"$«da»$): $k_{\min} = «fam:list»$.", d=FAMILY_D, n=FAMILY_N, eps=FAMILY_EPS,
                      a0=FAMILY_ALPHAS[0], a1=FAMILY_ALPHAS[-1], da=FAMILY_ALPHAS[1], fam=list(fam)),
                  counterexample)


@CLAIM_TRADEOFF.part("report-limit", CLAIM,
                     tex(r"For $\lambda_i \propto 1/i$ at $m = \infty$, $n = «a»$ with $k = «k»$ steps has the same error "
                         r"as $n = «b»$ without CoT.", a=REPORT_N_COT, k=REPORT_K, b=REPORT_N_DIRECT))
def report_limit(full: bool):
    ds = tuple(range(2, 41)) if full else REPORT_DS
    rows = {r[0]: r for r in paper_report_limit(ds)}
    matched = any(REPORT_N_COT in (r[1], r[2]) for r in rows.values())
    d, n20, n21, err20, err1, k_match = rows[REPORT_D]

    def counterexample():
        lam = 1.0 / np.arange(1, REPORT_D + 1)
        from theory.scaling import limit_log_error
        gap = limit_log_error(lam, REPORT_N_DIRECT, 1) - limit_log_error(lam, REPORT_N_COT, REPORT_K)
        return Counterexample(
            tex(r"$d = «d»$: $\mathrm{err}_{«k»}(n = «a») = «e20:.3g»$ against $\mathrm{err}_1(n = «b») = «e1:.3g»$ (exact "
                r"rationals, rounded): far better, not equal; the equal-error $n$ at $k = «k»$ is $«n20»$ ($«n21»$ at "
                r"$k = «k1»$), and $n = «a»$ matches $n = «b»$ already at $k = «km»$.", d=d, k=REPORT_K, a=REPORT_N_COT,
                e20=float(err20), b=REPORT_N_DIRECT, e1=float(err1), n20=n20, n21=n21, k1=REPORT_K + 1, km=k_match),
            lambda: gap > 1, "the float m = ∞ errors (theory.scaling.limit_log_error)")

    n_match = sorted({r[1] for r in rows.values()} | {r[2] for r in rows.values()})
    return decide(matched,
                  tex(r"Read as: $n = «a»$ is the smallest training length whose $«k»$-step error reaches the direct "
                      r"error of $n = «b»$. Exact at $d = «ds:list»$: the smallest such $n$ at $k = «k»$ or $«k1»$ is in "
                      r"$\{«nm:list»\}$, never $«a»$.", a=REPORT_N_COT, k=REPORT_K, b=REPORT_N_DIRECT, ds=list(ds),
                      k1=REPORT_K + 1, nm=n_match),
                  counterexample)


@CLAIM_TRADEOFF.part("report-d1", FINDING,
                     tex(r"In $d = 1$, $\mathrm{err}_{«k»}(n = «a», m) \le \mathrm{err}_1(n = «b», m)$ holds exactly from "
                         r"one test length on: a knife edge in $m$.", k=REPORT_K, a=REPORT_N_COT, b=REPORT_N_DIRECT))
def report_d1(full: bool):
    rows = dict(paper_report_d1(D1_M_MAX))
    crossing = min((m for m in rows if rows[m] <= 0), default=None)
    if crossing is None:
        return holds(tex(r"not reached for $m \le «mm»$", mm=D1_M_MAX))
    sharp = all((rows[m] <= 0) == (m >= crossing) for m in rows)
    if not sharp:
        raise RouteDisagreement("the d = 1 crossing", [("log-ratio sign", "changes more than once"),
                                                       ("expected", "one crossing")])
    return holds(tex(r"Exact chi-square closed form, $m = 2..«mm»$: it holds iff $m \ge «c»$; the log-ratio is "
                     r"$«before:.3g»$ at $m = «c0»$ and $«after:.3g»$ at $m = «c»$.", mm=D1_M_MAX, c=crossing,
                     before=rows[crossing - 1], c0=crossing - 1, after=rows[crossing]))


def _windows(ms, labels) -> list[tuple[str, int, int]]:
    """Maximal runs of equal labels: ``(label, first m, last m)``."""
    out = []
    for m, lab in zip(ms, labels):
        if out and out[-1][0] == lab and out[-1][2] == m - 1:
            out[-1] = (lab, out[-1][1], m)
        else:
            out.append((lab, m, m))
    return out


@lru_cache(maxsize=4)
def report_windows(d: int, k: int, m_max: int) -> tuple[list, Fraction]:
    r"""``λ_i ∝ 1/i``, ``Σ = Λ``: for ``m = 2 .. m_max`` decide ``err_k(n = 10, m)`` against
    ``err_1(n = 30, m)`` by the certified bracket ``T_k(m) <= err_k(m) <= C T_k(m)``
    (:func:`theory.finite_trace.finite_m_trace_poly`, exact in ``1/m``; ``C = ½(κ(Γ) + 1/κ(Γ))``
    exact, Γ diagonal) and the exact ``err_1 = c_0 + c_1/m``.  Returns the windows
    ``(verdict, first m, last m)`` with verdict ``"worse"``, ``"better"`` or ``"undecided"``, and ``C``.
    """
    import flint

    from theory.bracket import condition_constant_upper
    from theory.covariance import gamma_exact
    from theory.finite_trace import finite_m_trace_poly
    eigs = [Fraction(1, i) for i in range(1, d + 1)]
    trace = finite_m_trace_poly(eigs, REPORT_N_COT, k).coefficients
    poly = flint.fmpq_poly([flint.fmpq(c.numerator, c.denominator) for c in trace])
    C, _ = condition_constant_upper(gamma_exact(eigs, REPORT_N_COT))
    c = flint.fmpq(C.numerator, C.denominator)
    c0, c1 = k1_error_coefficients(eigs, REPORT_N_DIRECT)
    e0, e1 = flint.fmpq(c0.numerator, c0.denominator), flint.fmpq(c1.numerator, c1.denominator)
    ms = range(2, m_max + 1)
    labels = []
    for m in ms:
        t = poly(flint.fmpq(1, m))
        direct = e0 + e1 / m
        labels.append("worse" if t > direct else "better" if c * t < direct else "undecided")
    return _windows(list(ms), labels), C


@CLAIM_TRADEOFF.part("report-finite-m", FINDING,
                     tex(r"For $\lambda_i \propto 1/i$ at $d = «d»$ and finite $m$, $n = «a»$ with $k = «k»$ steps is "
                         r"worse than $n = «b»$ without CoT for short test prompts and better for long ones, each "
                         r"$m$ decided by the certified bracket.", d=REPORT_D, a=REPORT_N_COT, k=REPORT_K,
                         b=REPORT_N_DIRECT))
def report_finite_m(full: bool):
    rows = {k: report_windows(REPORT_D, k, REPORT_M_MAX) for k in (REPORT_K, REPORT_K + 1)}
    C = rows[REPORT_K][1]

    def describe(windows):
        return "; ".join(rf"{lab} for $m \in [{a}, {b}]$" for lab, a, b in windows)

    # an independent route where Monte Carlo is trustworthy: its estimate of err_k must lie in the bracket
    from theory.finite_trace import finite_m_trace
    from theory.montecarlo import mc_cot_error
    lam = 1.0 / np.arange(1, REPORT_D + 1)
    res = mc_cot_error(lam, REPORT_N_COT, [REPORT_K], m=REPORT_MC_M, samples=REPORT_MC_SAMPLES, seed=SEED)
    eigs = [Fraction(1, i) for i in range(1, REPORT_D + 1)]
    t = float(finite_m_trace(eigs, REPORT_N_COT, REPORT_K, m=REPORT_MC_M))
    mean, se = float(res.mean[0]), float(res.stderr[0])
    if not (t - 5 * se <= mean <= float(C) * t + 5 * se):
        raise RouteDisagreement("err_20 at the Monte Carlo check", [("certified bracket", (t, float(C) * t)),
                                                                   ("Monte Carlo mean ± 5 SE", (mean, 5 * se))])
    open_windows = [(k, a, b) for k, (w, _) in rows.items() for lab, a, b in w if lab == "undecided"]
    evidence = tex(r"$\mathrm{err}_{«k»}(n = «a», m) \in [T_{«k»}(m), C\,T_{«k»}(m)]$ with $C = \tfrac{1}{2}(\kappa + "
                   r"1/\kappa) = «C:.5g»$ and $T$ exact in $1/m$ (zonal polynomials), against the exact "
                   r"$\mathrm{err}_1(n = «b», m)$, for $m = 2..«mm»$: «w20». With $k = «k1»$: «w21». Second route: "
                   r"seeded Monte Carlo (seed «seed», «ns» prompts) at $m = «mmc»$ gives $«mean:.4g» \pm «se:.2g»$, "
                   r"inside the bracket $[«lo:.4g}, «hi:.4g»]$.".replace("«lo:.4g}", "«lo:.4g»"),
                   k=REPORT_K, a=REPORT_N_COT, C=float(C), b=REPORT_N_DIRECT, mm=REPORT_M_MAX,
                   w20=describe(rows[REPORT_K][0]), k1=REPORT_K + 1, w21=describe(rows[REPORT_K + 1][0]),
                   seed=SEED, ns=REPORT_MC_SAMPLES, mmc=REPORT_MC_M, mean=mean, se=se, lo=t, hi=float(C) * t)
    if open_windows:
        c0, c1 = k1_error_coefficients(eigs, REPORT_N_DIRECT)
        details = []
        for k, a, b in open_windows:
            for m in range(a, min(b, a + 2) + 1):
                tk = float(finite_m_trace(eigs, REPORT_N_COT, k, m=m))
                details.append(rf"$k = {k}$, $m = {m}$: $\mathrm{{err}}_{{{k}}} \in [{sci(tk)}, {sci(float(C) * tk)}]$ "
                               rf"against $\mathrm{{err}}_1 = {sci(float(c0 + c1 / m))}$")
        return undecided(evidence, tex(r"undecided where the bracket contains $\mathrm{err}_1$: «w»",
                                       w="; ".join(details)))
    return holds(evidence)


@CLAIM_TRADEOFF.part("finite-m-n-min", FINDING,
                     r"At finite $m$ the smallest $n$ keeps falling with $k$ while more steps still help, then no $n$ "
                     r"reaches $\varepsilon$ any more.")
def finite_m(full: bool):
    k3 = 8 if full else 6
    seq3, _ = finite_m_n_min(3, FINITE_M, k3, 40)
    seq1, _ = finite_m_n_min(1, FINITE_M, 40, 60)
    stop1 = _first_increase(seq1)
    return holds(tex(r"$\lambda_i \propto 1/i$, $m = «m»$, $\varepsilon = \mathrm{err}_1(n = «b», m)$: exact engine, "
                     r"$d = «d3»$: $n_{\min}(k) = «s3:list»$ for $k = 1..«k3»$; $d = 1$ closed form: non-increasing up to "
                     r"$k = «k1»$, then no $n \le «nmax»$ reaches $\varepsilon$.", m=FINITE_M, b=REPORT_N_DIRECT, d3=3,
                     s3=[s if s is not None else r"\text{none}" for s in seq3], k3=k3,
                     k1=(stop1 - 1) if stop1 else len(seq1), nmax=60))


@CLAIM_TRADEOFF.derives
def derivation() -> list[Step]:
    from theory.derive import _eq
    k = sympy.Symbol("k", positive=True, integer=True)
    eps, d = sympy.symbols("epsilon d", positive=True)
    hard = sympy.Symbol(r"\mathrm{Hard}", positive=True)
    x = sympy.Symbol("x", positive=True)  # x = 1 + n/(1 + Hard) > 1: the bound is d x^{-2k}
    roots = list(sympy.solveset(sympy.Eq(d * x ** (-2 * k), eps), x, sympy.Interval.open(0, sympy.oo)))
    n_min_expr = [sympy.simplify((1 + hard) * (r - 1)) for r in roots]
    return [
        Step(r"Setting Corollary 3.5's bound equal to a target error $\varepsilon$ and solving, with "
             r"$x = 1 + n/(1 + \mathrm{Hard}) > 0$ (sympy.solveset), for the training prompt length:",
             _eq(sympy.Symbol(r"d\,(1 + n/(1+\mathrm{Hard}))^{-2k}"), eps)),
        Step(r"gives the smallest $n$ that reaches $\varepsilon$ after $k$ steps: it falls like "
             r"$(d/\varepsilon)^{1/(2k)} - 1$, so each extra CoT step buys the same error with a shorter training "
             r"context, and harder tasks need proportionally more:",
             _eq(sympy.Symbol(r"n_{\min}(k, \epsilon)"),
                 n_min_expr[0] if len(n_min_expr) == 1 else sympy.Tuple(*n_min_expr))),
    ]
