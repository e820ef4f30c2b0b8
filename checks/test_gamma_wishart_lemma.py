"""Claim ``gamma``: E[S A S] = ΛAΛ + (1/m)(ΛAᵀΛ + tr(AΛ)Λ) and E[Ŝ_n²] = ΓΛ.

Routes: sympy derivations (explicit symbolic entries from the Gaussian MGF for d = 2, 3; index form
for general d; the corollary for general d) and seeded Monte Carlo with z-scores.
"""

import numpy as np
import pytest
import sympy as sp

from checks.conftest import assert_ledger_verdict
from theory import gamma
from theory.claims.gamma import (A_MATRIX, LAMBDA, M_SMALL, SEED, Z_BOUND, monte_carlo_evidence,
                                 symbolic_residuals)
from theory.moments import (derive_gamma_corollary, derive_wishart_sas, derive_wishart_sas_index,
                            is_zero, monte_carlo_sas, symbolic_covariance, symbolic_matrix,
                            wishart_sas, wishart_sas_symbolic)


def test_ledger_verdict(recorded_verdicts):
    assert_ledger_verdict("gamma", recorded_verdicts)


# ----------------------------------------------------------------------------- exact route

@pytest.mark.parametrize("d", [1, 2, 3])
def test_explicit_derivation_is_exact(d):
    steps = derive_wishart_sas(d)
    isserlis_gap, single_vector_gap, lemma_gap = steps[3].expr, steps[5].expr, steps[-1].expr
    assert is_zero(isserlis_gap)        # Isserlis' formula == the MGF's fourth derivatives
    assert is_zero(single_vector_gap)   # E[x xᵀ A x xᵀ] = ΛAΛ + ΛAᵀΛ + tr(AΛ)Λ
    assert is_zero(lemma_gap)           # the lemma itself
    assert steps[-1].expr.shape == (d, d)


def test_derivation_has_power_against_a_symmetric_shortcut():
    # The derived E[S A S] (step "E[S A S] = ...") is NOT ΛAΛ(1 + 1/m) + tr(AΛ)Λ/m for a general A:
    # the ΛAᵀΛ term is what distinguishes a non-symmetric A, so the exact check is not vacuous.
    steps = derive_wishart_sas(2)
    lam, A, combined = steps[0].expr, steps[1].expr, steps[7].expr
    m = sp.Symbol("m", positive=True, integer=True)
    shortcut = lam * A * lam * (1 + 1 / m) + (A * lam).trace() * lam / m
    assert not is_zero(sp.expand(combined - shortcut))
    # ... and it agrees with the shortcut once A is symmetric.
    sym = {A[1, 0]: A[0, 1]}
    assert is_zero(sp.expand((combined - shortcut).subs(sym)))


def test_split_counts_m_and_m_minus_one_terms():
    # At m = 1 only the a = b term exists: E[S A S] = E[x xᵀ A x xᵀ] (steps 4 and 7 coincide).
    steps = derive_wishart_sas(2)
    m = sp.Symbol("m", positive=True, integer=True)
    assert is_zero(sp.expand(steps[7].expr.subs(m, 1) - steps[4].expr))


def test_index_form_for_general_d():
    steps = derive_wishart_sas_index()
    d, m = sp.symbols("d m", positive=True, integer=True)
    Lam, A = sp.MatrixSymbol("Lambda", d, d), sp.MatrixSymbol("A", d, d)
    t1, t2, t3 = steps[5].expr
    assert t1 == Lam * A * Lam and t2 == Lam * A.T * Lam
    assert is_zero(sp.expand((t3 - sp.Trace(A * Lam) * Lam).doit()))
    expected = Lam * A * Lam + (Lam * A.T * Lam + sp.Trace(A * Lam) * Lam) / m
    assert is_zero(sp.expand((steps[-1].expr - expected).doit()))
    # the pair count: m(T1+T2+T3) + m(m−1)T1 over m² is T1 + (T2 + T3)/m
    T1, T2, T3 = sp.symbols("T1 T2 T3")
    assert sp.simplify(steps[4].expr - (T1 + (T2 + T3) / m)) == 0


def test_corollary_for_general_d():
    assert is_zero(derive_gamma_corollary()[-1].expr)


def test_steps_are_description_expression_pairs():
    for steps in (derive_wishart_sas(2), derive_wishart_sas_index(), derive_gamma_corollary()):
        for description, expr in steps:
            assert isinstance(description, str) and description
            assert isinstance(expr, (sp.Basic, sp.MatrixBase))


def test_symbolic_residuals_fast_tier():
    assert all(symbolic_residuals((2, 3)).values())


@pytest.mark.slow
def test_symbolic_residuals_d4():
    assert all(symbolic_residuals((4,)).values())


def test_closed_form_oracles():
    # d = 1: S = λ χ²_m / m and E[s²] = λ² (m + 2)/m (χ² moments: E[χ⁴_m] = m(m + 2)).
    for m in (1, 2, 7):
        assert wishart_sas_symbolic(sp.Matrix([[3]]), sp.Matrix([[1]]), m)[0, 0] == sp.Rational(9 * (m + 2), m)
    # Λ = I: E tr(S²) = d(m + d + 1)/m (proofs/math.md §3, an oracle).
    for d, m in ((2, 3), (3, 1), (4, 10)):
        val = wishart_sas_symbolic(sp.eye(d), sp.eye(d), m).trace()
        assert val == sp.Rational(d * (m + d + 1), m)


def test_numeric_closed_form_equals_symbolic_at_rational_point():
    lam = symbolic_covariance(2)
    A = symbolic_matrix(2)
    point = {lam[0, 0]: sp.Rational(2), lam[0, 1]: sp.Rational(1, 2), lam[1, 1]: sp.Rational(1),
             A[0, 0]: 1, A[0, 1]: 3, A[1, 0]: -2, A[1, 1]: sp.Rational(1, 4)}
    exact = wishart_sas_symbolic(lam, A, 3).subs(point)
    numeric = wishart_sas(np.array(lam.subs(point), dtype=float), np.array(A.subs(point), dtype=float), 3)
    # rtol 1e-14: one float evaluation of a few products of O(1) numbers
    np.testing.assert_allclose(numeric, np.array(exact, dtype=float), rtol=1e-14)


# ----------------------------------------------------------------------------- Monte Carlo route

def test_monte_carlo_lemma_entrywise():
    ev = monte_carlo_evidence(200_000, SEED)
    assert ev["z_lemma"] <= Z_BOUND
    assert ev["z_corollary"] <= Z_BOUND
    # power: the same draws reject formulas that differ by O(1/m) terms
    assert ev["z_symmetric_guess"] > 10 * Z_BOUND
    assert ev["z_no_correction"] > 10 * Z_BOUND


def test_monte_carlo_corollary_gamma_lambda():
    # E[Ŝ_n²] = ΓΛ, an independent seed and a diagonal-free Λ, n = 3
    lam = np.array([[1.0, 0.4], [0.4, 0.5]])
    mc = monte_carlo_sas(lam, np.eye(2), 3, 100_000, np.random.SeedSequence(SEED + 1))
    assert np.max(np.abs(mc.z_scores(gamma(lam, 3) @ lam))) <= Z_BOUND


def test_monte_carlo_is_seeded():
    a = monte_carlo_sas(LAMBDA, A_MATRIX, M_SMALL, 1000, np.random.SeedSequence(3))
    b = monte_carlo_sas(LAMBDA, A_MATRIX, M_SMALL, 1000, np.random.SeedSequence(3))
    assert np.array_equal(a.mean, b.mean) and np.array_equal(a.stderr, b.stderr)


@pytest.mark.slow
def test_monte_carlo_lemma_heavy():
    ev = monte_carlo_evidence(2_000_000, SEED + 7)
    assert ev["z_lemma"] <= Z_BOUND and ev["z_corollary"] <= Z_BOUND
