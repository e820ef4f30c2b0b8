"""The Stein engine (theory.error) against the brute-force Wick pairing oracle (theory.wick).

All comparisons are exact: ``==`` on tuples of ``Fraction``.  Matrices are random rationals from a
fixed ``SeedSequence``: non-symmetric ``A``, non-diagonal positive definite (or singular) Σ.
"""

from fractions import Fraction

import numpy as np
import pytest

from theory.error import expected_trace_product, precond_error_poly
from theory.wick import MAX_FACTORS, wick_expectation, wick_precond_error_poly

ROOT = np.random.SeedSequence(35_605)


def rational_matrix(rng, d, den=4, span=5):
    return [[Fraction(int(rng.integers(-span, span + 1)), int(rng.integers(1, den + 1))) for _ in range(d)]
            for _ in range(d)]


def covariance(rng, d, rank=None):
    """B Bᵀ with B a random rational d × rank matrix: PSD, non-diagonal; singular if rank < d."""
    rank = d if rank is None else rank
    B = [[Fraction(int(rng.integers(-3, 4)), int(rng.integers(1, 3))) for _ in range(rank)] for _ in range(d)]
    return [[sum(B[i][l] * B[j][l] for l in range(rank)) + (Fraction(1, 2) if i == j and rank == d else 0)
             for j in range(d)] for i in range(d)]


def transpose(M):
    return [list(r) for r in zip(*M)]


def setup(d, index):
    rng = np.random.default_rng(ROOT.spawn(10)[index])
    return rational_matrix(rng, d), covariance(rng, d), rng


def binomial_word(A, i, j):
    """tr[(S Aᵀ)^i (A S)^j] as a word."""
    return ["S", transpose(A)] * i + [A, "S"] * j


# ---------------------------------------------------------------- the oracle on its own closed forms

def test_oracle_identity_second_moment():
    # Σ = I: E tr(S²) = d (m + d + 1) / m
    for d in (1, 2, 3):
        eye = [[Fraction(int(i == j)) for j in range(d)] for i in range(d)]
        assert wick_expectation([["S", "S"]], eye) == (Fraction(d), Fraction(d * (d + 1)))


def test_oracle_chi_square_moments():
    # d = 1, Σ = σ: E[s^p] = σ^p Π_{i<p} (m + 2i) / m^p; expand Π (1 + 2i u) exactly.
    sigma = Fraction(3, 2)
    for p in range(1, 6):
        moment = [Fraction(1)]
        for i in range(p):
            moment = [a + 2 * i * b for a, b in zip(moment + [0], [0] + moment)]
        expected = tuple(sigma ** p * c for c in moment[:p])
        assert moment[p] == 0
        assert wick_expectation([["S"] * p], [[sigma]]) == expected
        # d = 1: a product of p traces tr(S) is the same s^p
        assert wick_expectation([["S"]] * p, [[sigma]]) == expected


def test_oracle_isserlis_single_vector_lemma():
    # proofs/math.md §3: E[S M S] = ΣMΣ + (ΣMᵀΣ + tr(MΣ) Σ)/m, hence
    # E tr(S M S N) = tr(ΣMΣN) + (tr(ΣMᵀΣN) + tr(MΣ) tr(ΣN))/m.
    A, sigma, rng = setup(3, 0)
    N = rational_matrix(rng, 3)

    def mm(*Ms):
        out = Ms[0]
        for M in Ms[1:]:
            out = [[sum(a * b for a, b in zip(row, col)) for col in zip(*M)] for row in out]
        return out

    def tr(M):
        return sum(M[i][i] for i in range(len(M)))

    expected = (tr(mm(sigma, A, sigma, N)),
                tr(mm(sigma, transpose(A), sigma, N)) + tr(mm(A, sigma)) * tr(mm(sigma, N)))
    assert wick_expectation([["S", A, "S", N]], sigma) == expected


def test_oracle_limit():
    with pytest.raises(ValueError, match="pairing oracle stops"):
        wick_expectation([["S"] * (MAX_FACTORS + 1)], [[1]])


# ---------------------------------------------------------------- engine == oracle, exactly

@pytest.mark.parametrize("d", [2, 3])
def test_binomial_words_up_to_five_factors(d):
    A, sigma, _ = setup(d, d)
    for i in range(6):
        for j in range(6 - i):
            word = binomial_word(A, i, j)
            assert expected_trace_product([word], sigma) == wick_expectation([word], sigma), (i, j)


@pytest.mark.parametrize("d, i, j", [(2, 2, 4), (3, 3, 3)])
def test_binomial_words_six_factors_sample(d, i, j):
    A, sigma, _ = setup(d, d)
    word = binomial_word(A, i, j)
    assert expected_trace_product([word], sigma) == wick_expectation([word], sigma)


@pytest.mark.slow
@pytest.mark.parametrize("d", [2, 3])
def test_binomial_words_six_factors_all(d):
    A, sigma, _ = setup(d, d)
    for i in range(7):
        word = binomial_word(A, i, 6 - i)
        assert expected_trace_product([word], sigma) == wick_expectation([word], sigma), i


GENERAL_WORDS = [
    # (description, builder of the list of traces from matrices A, B, C)
    ("S A S B", lambda A, B, C: [["S", A, "S", B]]),
    ("A S B S C S", lambda A, B, C: [[A, "S", B, "S", C, "S"]]),
    ("S S A S", lambda A, B, C: [["S", "S", A, "S"]]),
    ("tr(S A) tr(S B)", lambda A, B, C: [["S", A], ["S", B]]),
    ("tr(S A S B) tr(S C)", lambda A, B, C: [["S", A, "S", B], ["S", C]]),
    ("tr(S A) tr(S Aᵀ B) tr(S)", lambda A, B, C: [["S", A], ["S", transpose(A), B], ["S"]]),
    ("tr(A B) tr(S A S C) (constant trace)", lambda A, B, C: [[A, B], ["S", A, "S", C]]),
    ("tr(S A S Aᵀ S B S)", lambda A, B, C: [["S", A, "S", transpose(A), "S", B, "S"]]),
    ("tr(S A S B) tr(S C S A)", lambda A, B, C: [["S", A, "S", B], ["S", C, "S", A]]),
    ("tr(S A S B S) tr(S C)", lambda A, B, C: [["S", A, "S", B, "S"], ["S", C]]),
]


@pytest.mark.parametrize("name, build", GENERAL_WORDS, ids=[w[0] for w in GENERAL_WORDS])
@pytest.mark.parametrize("d", [2, 3])
def test_general_words(d, name, build):
    A, sigma, rng = setup(d, 4 + d)
    B, C = rational_matrix(rng, d), rational_matrix(rng, d)
    traces = build(A, B, C)
    assert expected_trace_product(traces, sigma) == wick_expectation(traces, sigma)


def test_singular_and_diagonal_sigma():
    A, _, rng = setup(3, 9)
    for sigma in (covariance(rng, 3, rank=1), covariance(rng, 3, rank=2),
                  [[Fraction(2), 0, 0], [0, Fraction(1, 3), 0], [0, 0, Fraction(0)]]):
        for traces in ([["S", A, "S", transpose(A), "S"]], [["S", A], ["S", A, "S"]]):
            assert expected_trace_product(traces, sigma) == wick_expectation(traces, sigma)


def test_symmetric_letters():
    # A symmetric matrix is one letter with its transpose: the engine's word identities must hold.
    _, sigma, rng = setup(3, 5)
    A = covariance(rng, 3)
    traces = [["S", A, "S", A, "S", A, "S"]]
    assert expected_trace_product(traces, sigma) == wick_expectation(traces, sigma)


@pytest.mark.parametrize("d, k", [(2, 1), (2, 2), (3, 2)])
def test_cot_combination_equals_oracle(d, k):
    # The whole binomial combination, non-symmetric P: precond_error_poly == Σ_ij binom · oracle.
    A, sigma, _ = setup(d, 2 * d + k)
    assert precond_error_poly(A, sigma, k).coefficients == wick_precond_error_poly(A, sigma, k)


@pytest.mark.slow
@pytest.mark.parametrize("d", [2, 3])
def test_cot_combination_k3_equals_oracle(d):
    A, sigma, _ = setup(d, 7)
    assert precond_error_poly(A, sigma, 3).coefficients == wick_precond_error_poly(A, sigma, 3)


def test_commuting_and_symmetric_modes_equal_oracle():
    # P symmetric with Σ non-commuting ("symmetric" words), and P commuting with Σ = P² ("commuting").
    _, _, rng = setup(2, 8)
    P = covariance(rng, 2)
    sigma = covariance(rng, 2)
    assert precond_error_poly(P, sigma, 2).coefficients == wick_precond_error_poly(P, sigma, 2)
    P2 = [[sum(P[i][l] * P[l][j] for l in range(2)) for j in range(2)] for i in range(2)]
    assert precond_error_poly(P, P2, 2).coefficients == wick_precond_error_poly(P, P2, 2)


def test_binomial_weights_are_the_expansion():
    # Independent of both engines: the k = 1 combination is d - 2 tr(PΣ) + E tr(S Pᵀ P S).
    A, sigma, _ = setup(2, 3)
    word = wick_expectation([binomial_word(A, 1, 1)], sigma)
    linear = wick_expectation([[A, "S"]], sigma)[0]
    assert wick_precond_error_poly(A, sigma, 1) == (2 - 2 * linear + word[0], word[1])
