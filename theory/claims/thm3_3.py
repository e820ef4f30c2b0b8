r"""Claim ``thm3.3``: the direct-ICL error bound of Theorem 3.3 (``k = 1``, test covariance Λ).

Routes:

* exact: ``err_1 = c_0 + c_1/m`` from the Wishart lemma, symbolically for general eigenvalues
  (:func:`theory.scaling.thm33_symbolic`, compared with the per-direction closed form), and the
  two inequalities ``c_0 < (d/n²)(1 + Hard)²``, ``c_1 < d(1 + Hard)`` certified term by term
  (:func:`theory.scaling.derive_thm33`); then a seeded sweep of random rational spectra compared
  in exact rationals, recording the smallest ``bound/err_1``;
* independent: the exact engine's ``k = 1`` polynomial (Stein recursion,
  :func:`theory.error.cot_error_poly`) and the general-matrix Wishart-lemma coefficients
  (:func:`theory.scaling.k1_error_coefficients`) on rational non-diagonal rotations of the same
  spectra (rotation invariance, exactly), and seeded Monte Carlo within 5 standard errors.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from theory.claims._families import random_skew, random_spectrum, rotated
from theory.ledger import CONFIRMED, REFUTED, Verdict, claim
from theory.scaling import (derive_thm33, k1_error_coefficients, rational_orthogonal,
                            thm33_symbolic, thm33_terms)

SEED = 33  # root of the SeedSequence of every random choice below


def symbolic_matches_closed_form(d: int) -> bool:
    """The Wishart-lemma ``(c_0, c_1)`` for symbolic eigenvalues equals the per-direction sums."""
    c0, c1 = thm33_symbolic(d)
    n = sp.Symbol("n", positive=True)
    lams = sp.symbols(f"lambda_1:{d + 1}", positive=True)
    T = sum(lams)
    want0 = sum(((l + T) / ((n + 1) * l + T)) ** 2 for l in lams)
    want1 = sum(n ** 2 * l * (l + T) / ((n + 1) * l + T) ** 2 for l in lams)
    return sp.simplify(c0 - want0) == 0 and sp.simplify(c1 - want1) == 0


def exact_sweep(cases: int, seed: int = SEED):
    """Random rational spectra, ``n``, ``m``: exact comparison of ``err_1`` with the bound.

    Returns ``(violations, smallest ratio, where, isotropic floor holds)``: the list of cases where
    a coefficient inequality fails, the smallest ``bound/err_1`` over all cases and ``m`` tried,
    its case, and whether every ratio is ``>= (1 + (d+1)/n)²`` (the value at ``Λ ∝ I``).
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    violations, best, where, floor_holds = [], None, None, True
    for _ in range(cases):
        d = int(rng.integers(1, 7))
        n = int(rng.integers(1, 200))
        eigs = random_spectrum(rng, d)
        t = thm33_terms(eigs, n)
        if not (t.c0 < t.b0 and t.c1 < t.b1):
            violations.append((eigs, n))
        floor = Fraction(n + d + 1, n) ** 2
        for m in (1, int(rng.integers(2, 10_000)), None):
            r = t.ratio(m)
            floor_holds &= r >= floor
            if best is None or r < best:
                best, where = r, (d, n, m)
    return violations, best, where, floor_holds


def engine_agreement(cases: int, seed: int = SEED + 1) -> int:
    """Number of rotated rational cases where engine, Wishart lemma and closed form disagree."""
    from theory.error import cot_error_poly
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    bad = 0
    for _ in range(cases):
        d = int(rng.integers(2, 5))
        n = int(rng.integers(1, 50))
        eigs = random_spectrum(rng, d)
        lam = rotated(eigs, random_skew(rng, d))
        t = thm33_terms(eigs, n)
        poly = cot_error_poly(lam, n, 1)
        lemma = k1_error_coefficients(lam, n)
        if not (tuple(poly.coefficients) == (t.c0, t.c1) == lemma):
            bad += 1
    return bad


def monte_carlo_z(samples: int, seed: int = SEED + 2) -> tuple[float, bool]:
    """Largest ``|MC − exact| / SE`` at ``k = 1`` over three (Λ, n, m) with rotated, non-diagonal
    Λ of moderate spread (wide random spectra make the per-prompt error heavy-tailed at small m);
    and whether every estimate was flagged trustworthy."""
    from theory.montecarlo import mc_cot_error
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    worst, trusted = 0.0, True
    for eigs, n, m in (((1, Fraction(1, 2)), 3, 6),
                       ((1, Fraction(1, 3), Fraction(1, 10)), 10, 12),
                       ((2, 1, Fraction(1, 2), Fraction(1, 4)), 20, 40)):
        eigs = [Fraction(e) for e in eigs]
        lam = rotated(eigs, random_skew(rng, len(eigs)))
        c0, c1 = k1_error_coefficients(lam, n)
        res = mc_cot_error(lam.astype(float), n, [1], m=m, samples=samples,
                           seed=int(rng.integers(2 ** 31)))
        trusted &= bool(res.trustworthy[0])
        worst = max(worst, abs(float(res.zscores([float(c0 + c1 / m)])[0])))
    return worst, trusted


@claim("thm3.3",
       statement="Direct ICL (k = 1) with test covariance Λ: E‖ŵ − w‖² ≤ (d/n²)(1 + Hard(Λ))² "
                 "+ (d/m)(1 + Hard(Λ))",
       source="[paper]")
def verify(full: bool) -> Verdict:
    derive_thm33()  # raises if a term-wise certificate fails
    symbolic_ok = all(symbolic_matches_closed_form(d) for d in ((2, 3) if full else (2,)))
    cases = 5000 if full else 600
    violations, best, where, floor_holds = exact_sweep(cases)
    engine_bad = engine_agreement(40 if full else 8)
    z, trusted = monte_carlo_z(400_000 if full else 40_000)
    d, n, m = where
    if not symbolic_ok or engine_bad or (trusted and z > 5):
        raise RuntimeError(f"routes disagree: symbolic derivation agrees {symbolic_ok}, engine "
                           f"disagreements {engine_bad}, trusted Monte Carlo max |z| = {z:.2f}")
    if violations:
        return Verdict(REFUTED, f"{len(violations)} of {cases} exact cases violate the bound; "
                                f"first (eigenvalues, n): {violations[0]}")
    return Verdict(CONFIRMED,
                   f"err_1 = c_0 + c_1/m exactly (Wishart lemma, sympy for general eigenvalues); "
                   f"c_0 < (d/n²)(1+Hard)² and c_1 < d(1+Hard) hold term by term (sympy "
                   f"positivity certificates), so the bound holds strictly for every Λ ≻ 0, n, m. "
                   f"{cases} random rational spectra (d ≤ 6, n < 200, m ∈ {{1, random, ∞}}): 0 "
                   f"violations in exact arithmetic; smallest bound/err_1 = {float(best):.4f} at "
                   f"d = {d}, n = {n}, m = {'∞' if m is None else m}; every ratio ≥ (1 + (d+1)/n)² "
                   f"(the exact value at Λ ∝ I, → 1 as n → ∞): {floor_holds}. Engine k = 1 "
                   f"polynomial = Wishart lemma = closed form on {40 if full else 8} rotated "
                   f"rational Λ; Monte Carlo max |z| = {z:.2f}"
                   f"{'' if trusted else ' (an estimate not flagged trustworthy)'}.")
