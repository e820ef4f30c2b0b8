r"""Claim ``gamma``: the Wishart fourth-moment lemma and ``E[Ŝ_n²] = ΓΛ``.

Routes:

* exact: sympy derivations from the Gaussian moment generating function (explicit symbolic
  entries of a symmetric Λ and a general A, ``d = 2, 3``; ``d = 4`` in the full tier), the
  index-form derivation for general ``d``, and the corollary for general ``d``;
* independent: seeded Monte Carlo of ``E[S A S]`` entrywise (non-diagonal Λ, non-symmetric A,
  small m so the 1/m terms matter) and of ``E[Ŝ_n²]``, with z-scores; the same samples reject the
  tempting formula that silently assumes A symmetric, so the test has power.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from theory.covariance import gamma
from theory.ledger import CONFIRMED, REFUTED, Verdict, claim
from theory.moments import (derive_gamma_corollary, derive_wishart_sas, derive_wishart_sas_index,
                            is_zero, monte_carlo_sas, wishart_sas)

SEED = 20251003  # root of the Monte Carlo streams (the paper's arXiv month)
Z_BOUND = 5.0

# A non-diagonal positive definite Λ (eigenvalues ≈ 2.39, 1.00, 0.31) and a non-symmetric A.
LAMBDA = np.array([[2.0, 0.6, 0.3], [0.6, 1.0, -0.2], [0.3, -0.2, 0.5]])
A_MATRIX = np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 1.0], [0.3, 0.0, -2.0]])
M_SMALL = 4   # samples per S: small so that the 1/m terms are large
N_TRAIN = 5   # prompt length of the corollary's check


def symbolic_residuals(dims=(2, 3)) -> dict:
    """Every "minus" step of the derivations, as booleans "is exactly zero".

    Keys: ``("explicit", d)`` for :func:`derive_wishart_sas` (Isserlis from the MGF, the single
    vector identity, and the lemma), ``"index"`` for the general-d index form, ``"corollary"``.
    """
    out = {}
    for d in dims:
        steps = derive_wishart_sas(d)
        gaps = [steps[3].expr, steps[5].expr, steps[-1].expr]
        out[("explicit", d)] = all(is_zero(g) for g in gaps)
    index = derive_wishart_sas_index()
    d, m = sp.symbols("d m", positive=True, integer=True)
    Lam, A = sp.MatrixSymbol("Lambda", d, d), sp.MatrixSymbol("A", d, d)
    expected = Lam * A * Lam + (Lam * A.T * Lam + sp.Trace(A * Lam) * Lam) / m
    out["index"] = is_zero(sp.expand((index[-1].expr - expected).doit()))
    out["corollary"] = is_zero(derive_gamma_corollary()[-1].expr)
    return out


def monte_carlo_evidence(samples: int, seed: int = SEED) -> dict:
    """Max |z| of the lemma and of the corollary; max |z| of two wrong formulas on the same draws.

    Wrong formulas: ``ΛAΛ + (ΛAΛ + tr(AΛ)Λ)/m`` (A taken as symmetric) and ``ΛAΛ`` (no 1/m term);
    their large |z| shows the Monte Carlo can tell them from the lemma.
    """
    lemma_seed, corollary_seed = np.random.SeedSequence(seed).spawn(2)
    lam, A, m = LAMBDA, A_MATRIX, M_SMALL
    mc = monte_carlo_sas(lam, A, m, samples, lemma_seed)
    exact = wishart_sas(lam, A, m)
    symmetric_guess = lam @ A @ lam + (lam @ A @ lam + np.trace(A @ lam) * lam) / m
    mc2 = monte_carlo_sas(lam, np.eye(3), N_TRAIN, samples, corollary_seed)
    return {
        "z_lemma": float(np.max(np.abs(mc.z_scores(exact)))),
        "z_corollary": float(np.max(np.abs(mc2.z_scores(gamma(lam, N_TRAIN) @ lam)))),
        "z_symmetric_guess": float(np.max(np.abs(mc.z_scores(symmetric_guess)))),
        "z_no_correction": float(np.max(np.abs(mc.z_scores(lam @ A @ lam)))),
        "samples": samples,
        "stderr_max": float(np.max(mc.stderr)),
    }


@claim("gamma", statement="E[S A S] = ΛAΛ + (1/m)(ΛAᵀΛ + tr(AΛ)Λ) for the sample covariance S of m "
       "Gaussian vectors N(0, Λ), any A; hence E[Ŝ_n²] = ΓΛ with Γ = (1 + 1/n)Λ + (tr Λ/n) I",
       source="[derived] (the sibling paper credits a version of the lemma to the paper)")
def verify(full: bool) -> Verdict:
    dims = (2, 3, 4) if full else (2, 3)
    exact = symbolic_residuals(dims)
    mc = monte_carlo_evidence(2_000_000 if full else 200_000)
    if not all(exact.values()):
        failed = [k for k, ok in exact.items() if not ok]
        return Verdict(REFUTED, f"A symbolic derivation leaves a nonzero residual: {failed}.")
    # The symbolic identity holds; a Monte Carlo disagreement would be a defect of the tooling.
    if not (mc["z_lemma"] <= Z_BOUND and mc["z_corollary"] <= Z_BOUND
            and mc["z_symmetric_guess"] > Z_BOUND and mc["z_no_correction"] > Z_BOUND):
        raise RuntimeError(f"gamma: Monte Carlo disagrees with the exact derivation: {mc}")
    return Verdict(CONFIRMED, (
        f"sympy: from the Gaussian MGF (Isserlis checked, not assumed), split into the m terms a = b "
        f"and m(m−1) terms a ≠ b, the lemma minus its closed form is the zero matrix for fully "
        f"symbolic Λ (symmetric) and A (general), d = {', '.join(map(str, dims))}; the index form for "
        f"general d gives ΛAΛ + (ΛAᵀΛ + tr(AΛ)Λ)/m and E[Ŝ_n²] − ΓΛ = 0. Monte Carlo "
        f"({mc['samples']:,} seeded draws, non-diagonal Λ, non-symmetric A, m = {M_SMALL}): max |z| = "
        f"{mc['z_lemma']:.2f} over the 9 entries, E[Ŝ_5²] vs ΓΛ max |z| = {mc['z_corollary']:.2f}; "
        f"the same draws reject the A-symmetric formula (max |z| = {mc['z_symmetric_guess']:.0f}) and "
        f"ΛAΛ alone (max |z| = {mc['z_no_correction']:.0f})."))
