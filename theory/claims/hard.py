r"""Claim ``hard``: Hard(Λ) = tr Λ / λ_min(Λ) — its properties and its role in the iteration.

Parts:

* ``scale-invariant`` (claim): ``Hard(cΛ) = Hard(Λ)`` for every ``c > 0``;
* ``at-least-d`` (claim): ``Hard(Λ) >= d``, with equality iff ``Λ ∝ I``;
* ``slowest-contraction`` (claim): at ``m = ∞`` and ``Σ = Λ`` direction ``i`` contracts by
  ``f_i = (1 + nλ_i/(λ_i + T))^{-1}`` per pass; the slowest is the ``λ_min`` direction and equals
  ``(1 + n/(1 + Hard))^{-1}`` exactly;
* ``sandwich`` (finding): hence ``μ f^{2k} <= err_k(∞) <= d f^{2k}`` (``μ`` the multiplicity of
  ``λ_min``), and the observed decay rate ``err_{k+1}/err_k`` tends to ``f²``.

Routes:

* exact: sympy certificates (``Hard − d = Σ(λ_i − λ_min)/λ_min``; ``∂_λ[nλ/(λ+T)] = nT/(λ+T)² > 0``)
  for the statement in general, and a seeded sweep of random rational spectra in exact rationals;
  the two must agree (a certificate and a counterexample cannot both stand);
* independent: floating point on random non-diagonal Λ — the eigenvalues of ``I − Γ^{-1}Λ`` by
  ``eigh`` (:func:`theory.scaling.contraction_factors`), :func:`theory.covariance.hardness`, and the
  observed decay rate of the ``m = ∞`` error; a counterexample found by the exact sweep is confirmed
  by these float routes.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np
import sympy as sp

from theory._tex import Step, tex
from theory.claims._families import random_spectrum
from theory.covariance import hardness
from theory.ledger import CLAIM, FINDING, Claim, Counterexample, RouteDisagreement, decide
from theory.scaling import contraction_factors, limit_log_error, manifestly_positive, slowest_contraction

SEED = 34
D_MAX = 7          # exact sweep: d = 1..D_MAX
N_MAX = 300        # n = 1..N_MAX - 1
K_VALUES = (1, 5, 40)
ISOTROPIC_EVERY = 5  # every fifth spectrum is made isotropic, for the equality direction
# Float routes against exact formulas.  eigh of a symmetric matrix whose eigenvalues spread over at
# most e^6 (≈ 400) is accurate to a few ulps of its norm, so 1e-9 relative is loose by five orders
# and still far below any formula error worth catching (a wrong factor is off by O(1/n)).
FLOAT_RTOL = 1e-9
# The decay rate is read off two float logs of size up to ~1e3 whose difference is taken: 1e-6
# relative leaves room for that cancellation only.
RATE_RTOL = 1e-6

CLAIM_HARD = Claim(
    id="hard",
    title=r"Task hardness $\mathrm{Hard}(\Lambda) = \operatorname{tr}\Lambda/\lambda_{\min}(\Lambda)$",
    statement=r"$\mathrm{Hard}(\Lambda) = \operatorname{tr}\Lambda/\lambda_{\min}(\Lambda)$ is scale "
              r"invariant, $\mathrm{Hard} \ge d$ with equality iff $\Lambda \propto I$, and it sets the "
              r"slowest contraction of the CoT iteration (through $\lambda_{\min}$).",
    source="[poster] (the definition), [derived] (the properties and the contraction)",
    convention=r"The $m = \infty$ iteration at $\Sigma = \Lambda$, $e_k = (I - \Gamma^{-1}\Lambda)^k e_0$; "
               r"eigen-direction $i$ contracts by $f_i = 1 - \lambda_i/\gamma_i = "
               r"(1 + n\lambda_i/(\lambda_i + T))^{-1}$ per forward pass, $T = \operatorname{tr}\Lambda$.",
    checks="checks/test_hard_task_hardness.py",
)


@lru_cache(maxsize=2)
def symbolic_certificates() -> dict[str, bool]:
    """sympy certificates, one per property, each true for every spectrum when it holds."""
    lam, T, n, L, s = sp.symbols("lambda T n L s", positive=True)
    us = sp.symbols("u_1:4", positive=True)
    d = len(us) + 1
    eigs = [L] + [L + u for u in us]  # λ_min = L, the others L + u_i
    hard = sum(eigs) / L
    hard_minus_d = hard - d
    return {
        "scale": sp.simplify(sum(s * e for e in eigs) / (s * L) - hard) == 0,
        "at least d": manifestly_positive(hard_minus_d, (L, *us))
                      and sp.simplify(hard_minus_d.subs({u: 0 for u in us})) == 0,
        "increasing": manifestly_positive(sp.diff(n * lam / (lam + T), lam), (lam, T, n)),
        "formula": sp.simplify(n * L / (L + T) - n / (1 + T / L)) == 0,
    }


def exact_factors(eigs, n):
    """``f_i = (1 + nλ_i/(λ_i + T))^{-1}`` exactly."""
    T = sum(eigs)
    return [1 / (1 + n * l / (l + T)) for l in eigs]


@lru_cache(maxsize=4)
def exact_sweep(cases: int, seed: int = SEED) -> dict:
    """Exact checks over random rational spectra: the first counterexample per property (or None)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    first: dict[str, tuple | None] = {"scale": None, "at least d": None, "equality": None,
                                      "formula": None, "location": None, "sandwich": None}

    def note(key, case):
        if first[key] is None:
            first[key] = case

    for i in range(cases):
        d = int(rng.integers(1, D_MAX + 1))
        n = int(rng.integers(1, N_MAX))
        eigs = random_spectrum(rng, d)
        if i % ISOTROPIC_EVERY == 0:
            eigs = [eigs[0]] * d
        T, lmin = sum(eigs), min(eigs)
        hard = T / lmin
        c = Fraction(int(rng.integers(1, 100)), int(rng.integers(1, 100)))
        if sum(c * l for l in eigs) / (c * lmin) != hard:
            note("scale", (tuple(eigs), c))
        if hard < d:
            note("at least d", (tuple(eigs),))
        if (hard == d) != (len(set(eigs)) == 1):
            note("equality", (tuple(eigs),))
        f = exact_factors(eigs, n)
        f_max = max(f)
        if f_max != 1 / (1 + n / (1 + hard)):
            note("formula", (tuple(eigs), n))
        if f[eigs.index(lmin)] != f_max:
            note("location", (tuple(eigs), n))
        mult = eigs.count(lmin)
        for k in K_VALUES:
            err = sum(x ** (2 * k) for x in f)
            if not mult * f_max ** (2 * k) <= err <= d * f_max ** (2 * k):
                note("sandwich", (tuple(eigs), n, k))
    return first


def _rotation(d: int, rng) -> np.ndarray:
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return Q


@lru_cache(maxsize=4)
def float_route(cases: int, seed: int = SEED + 1) -> tuple[float, float, float]:
    """Random rotated Λ: max relative gaps of (eigh slowest factor vs formula), (hardness vs exact
    eigenvalue formula), and (observed rate ``err_{k+1}/err_k`` at a large ``k`` vs ``f²``)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    gap_f = gap_h = gap_rate = 0.0
    for _ in range(cases):
        d = int(rng.integers(2, D_MAX + 1))
        n = int(rng.integers(1, 100))
        eigs = np.exp(rng.uniform(-3, 3, size=d))
        Q = _rotation(d, rng)
        lam = (Q * eigs) @ Q.T
        f = slowest_contraction(lam, n)
        nu = contraction_factors(lam, n)
        gap_f = max(gap_f, abs(nu[0] - f) / f)
        hard_exact = eigs.sum() / eigs.min()
        gap_h = max(gap_h, abs(hardness(lam) - hard_exact) / hard_exact)
        # err_{k+1}/err_k → f² once the slowest direction dominates: (f_2/f)^{2K} is negligible.
        f2 = abs(nu[1])
        K = min(20_000, max(60, int(math.ceil(40 / max(-math.log(f2 / f), 1e-3)))))
        rate = math.exp(limit_log_error(lam, n, K + 1) - limit_log_error(lam, n, K))
        if f2 < f * math.exp(-1e-3):  # a clear gap: the asymptotic rate is observable at K
            gap_rate = max(gap_rate, abs(rate - f * f) / (f * f))
    return gap_f, gap_h, gap_rate


def _cases(full: bool) -> int:
    return 5000 if full else 800


def _float_cases(full: bool) -> int:
    return 200 if full else 40


def _float_spectrum(eigs) -> np.ndarray:
    """A spectrum rotated by a fixed seeded rotation (the float route sees a non-diagonal Λ)."""
    Q = _rotation(len(eigs), np.random.default_rng(np.random.SeedSequence(SEED + 2)))
    return (Q * np.array([float(e) for e in eigs])) @ Q.T


def _settle(key: str, certified: bool, found, what: str):
    """The certificate and the sweep must agree: both say 'holds', or both say 'fails'."""
    if certified == (found is None):
        return
    raise RouteDisagreement(what, [("sympy certificate", "holds" if certified else "not certified"),
                                   ("exact sweep", "no counterexample" if found is None else f"counterexample {found}")])


_SWEEP = r"«cases» seeded random rational spectra ($d \le «d_max»$, $n < «n_max»$, eigenvalues over six decades)"


def _sweep_values(full: bool) -> dict:
    return {"cases": _cases(full), "d_max": D_MAX, "n_max": N_MAX}


@CLAIM_HARD.part("scale-invariant", CLAIM, r"$\mathrm{Hard}(c\Lambda) = \mathrm{Hard}(\Lambda)$ for every $c > 0$.")
def scale_invariant(full: bool):
    found = exact_sweep(_cases(full))["scale"]
    certified = symbolic_certificates()["scale"]
    _settle("scale", certified, found, "scale invariance of Hard")

    def counterexample():
        eigs, c = found
        lam = np.array([float(e) for e in eigs])
        return Counterexample(
            tex(r"$\Lambda = «lam:mat»$, $c = «c»$", lam=[[e if i == j else 0 for j in range(len(eigs))]
                                                          for i, e in enumerate(eigs)], c=c),
            lambda: not math.isclose(hardness(float(c) * lam), hardness(lam), rel_tol=FLOAT_RTOL),
            "theory.hardness in floating point")

    return decide(found is None,
                  tex(r"sympy: $\mathrm{Hard}(s\Lambda) - \mathrm{Hard}(\Lambda)$ simplifies to $0$; exact "
                      r"rationals on " + _SWEEP + " with a random $c$: no exception.", **_sweep_values(full)),
                  counterexample)


@CLAIM_HARD.part("at-least-d", CLAIM, r"$\mathrm{Hard}(\Lambda) \ge d$, with equality iff $\Lambda \propto I$.")
def at_least_d(full: bool):
    sweep = exact_sweep(_cases(full))
    found = sweep["at least d"] or sweep["equality"]
    certified = symbolic_certificates()["at least d"]
    _settle("at least d", certified, found, "Hard >= d with equality iff isotropic")

    def counterexample():
        (eigs,) = found
        d = len(eigs)
        h = hardness(_float_spectrum(eigs))
        isotropic = len(set(eigs)) == 1
        return Counterexample(
            tex(r"eigenvalues $«eigs:list»$: $\mathrm{Hard} = «h:.6g»$, $d = «d»$", eigs=list(eigs), h=h, d=d),
            lambda: h < d * (1 - FLOAT_RTOL) or (math.isclose(h, d, rel_tol=FLOAT_RTOL) != isotropic),
            "theory.hardness of the rotated spectrum in floating point")

    return decide(found is None,
                  tex(r"sympy: with $\lambda_i = \lambda_{\min} + u_i$, $\mathrm{Hard} - d = "
                      r"\sum_i u_i/\lambda_{\min}$ is a sum of nonnegative terms, zero iff every $u_i = 0$; "
                      r"exact rationals on " + _SWEEP + r", every fifth isotropic: no exception.",
                      **_sweep_values(full)),
                  counterexample)


@CLAIM_HARD.part("slowest-contraction", CLAIM,
                 r"At $m = \infty$ and $\Sigma = \Lambda$ the slowest contraction factor of the CoT "
                 r"iteration is that of the $\lambda_{\min}$ direction, and it equals "
                 r"$f = (1 + n/(1 + \mathrm{Hard}(\Lambda)))^{-1}$ exactly.")
def slowest(full: bool):
    sweep = exact_sweep(_cases(full))
    found = sweep["formula"] or sweep["location"]
    certs = symbolic_certificates()
    _settle("slowest", certs["increasing"] and certs["formula"], found, "the slowest contraction factor")
    gap_f, gap_h, gap_rate = float_route(_float_cases(full))
    if found is None and (gap_f > FLOAT_RTOL or gap_h > FLOAT_RTOL):
        raise RouteDisagreement("the slowest factor and Hard in floating point",
                                [("exact formula", "holds"), ("eigh, relative gap", max(gap_f, gap_h)),
                                 ("tolerance", FLOAT_RTOL)])

    def counterexample():
        eigs, n = found
        lam = _float_spectrum(eigs)
        f_formula = 1 / (1 + n / (1 + hardness(lam)))
        f_eigh = float(contraction_factors(lam, n)[0])
        return Counterexample(
            tex(r"eigenvalues $«eigs:list»$, $n = «n»$: slowest factor $«fe:.10g»$ (eigh) against "
                r"$«ff:.10g»$", eigs=list(eigs), n=n, fe=f_eigh, ff=f_formula),
            lambda: not math.isclose(f_eigh, f_formula, rel_tol=FLOAT_RTOL),
            "eigh of the rotated step matrix in floating point")

    return decide(found is None,
                  tex(r"sympy: $\partial_\lambda[n\lambda/(\lambda + T)] = nT/(\lambda + T)^2 > 0$, so the "
                      r"slowest direction is $\lambda_{\min}$'s, where $n\lambda_{\min}/(\lambda_{\min} + T) = "
                      r"n/(1 + \mathrm{Hard})$; exact rationals on " + _SWEEP + r": no exception. Float route "
                      r"(eigh of $I - \Gamma^{-1}\Lambda$ on «fcases» random rotated $\Lambda$): largest relative "
                      r"gap to the formula $«gap_f:.2g»$, of theory.hardness to $\operatorname{tr}/\lambda_{\min}$ "
                      r"$«gap_h:.2g»$.", **_sweep_values(full), fcases=_float_cases(full), gap_f=gap_f, gap_h=gap_h),
                  counterexample)


@CLAIM_HARD.part("sandwich", FINDING,
                 r"$\mu f^{2k} \le \mathrm{err}_k(\infty) \le d f^{2k}$ ($\mu$ the multiplicity of "
                 r"$\lambda_{\min}$), and the decay rate $\mathrm{err}_{k+1}/\mathrm{err}_k$ tends to $f^2$.")
def sandwich(full: bool):
    found = exact_sweep(_cases(full))["sandwich"]
    gap_f, gap_h, gap_rate = float_route(_float_cases(full))
    if found is None and gap_rate > RATE_RTOL:
        raise RouteDisagreement("the decay rate of the m = ∞ error",
                                [("exact sandwich", "holds"), ("float rate vs f², relative gap", gap_rate),
                                 ("tolerance", RATE_RTOL)])

    def counterexample():
        eigs, n, k = found
        lam = _float_spectrum(eigs)
        log_err = limit_log_error(lam, n, k)
        f = slowest_contraction(lam, n)
        mult = list(eigs).count(min(eigs))
        lo, hi = math.log(mult) + 2 * k * math.log(f), math.log(len(eigs)) + 2 * k * math.log(f)
        return Counterexample(
            tex(r"eigenvalues $«eigs:list»$, $n = «n»$, $k = «k»$", eigs=list(eigs), n=n, k=k),
            lambda: not (lo - 1e-9 <= log_err <= hi + 1e-9),
            "the float m = ∞ error of the rotated spectrum (theory.scaling.limit_log_error)")

    return decide(found is None,
                  tex(r"exact rationals on " + _SWEEP + r", $k \in \{«ks:list»\}$: no exception; observed "
                      r"$\mathrm{err}_{k+1}/\mathrm{err}_k$ at large $k$ against $f^2$ on «fcases» random rotated "
                      r"$\Lambda$: largest relative gap $«gap:.2g»$.",
                      **_sweep_values(full), ks=list(K_VALUES), fcases=_float_cases(full), gap=gap_rate),
                  counterexample)


@CLAIM_HARD.derives
def derivation() -> list[Step]:
    from theory.derive import _eq
    d = 3
    low = sp.Symbol("lambda_min", positive=True)
    gaps = sp.symbols(f"delta_1:{d}", nonnegative=True)
    lams = [low] + [low + g for g in gaps]
    hard = sum(lams) / low
    scaled = sp.Symbol("s", positive=True)
    return [
        Step(tex(r"Write the eigenvalues ($d = «d»$) as $\lambda_{\min}$ plus gaps $\delta_i \ge 0$; then",
                 d=d).render(), _eq(sp.Symbol(r"\mathrm{Hard}(\Lambda) - d"), sp.simplify(hard - d))),
        Step(r"a sum of nonnegative terms, zero iff every gap is zero ($\Lambda \propto I$). Scale invariance: "
             r"$\mathrm{Hard}(s\Lambda) - \mathrm{Hard}(\Lambda)$ simplifies to",
             sp.simplify(sum(scaled * l for l in lams) / (scaled * low) - hard)),
    ]
