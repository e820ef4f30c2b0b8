"""theory.moments: the closed form, the symbolic helpers, the Monte Carlo estimator and bad input."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from theory.moments import (DerivationStep, is_zero, isserlis_fourth, monte_carlo_sas,
                            symbolic_covariance, symbolic_matrix, wishart_sas, wishart_sas_symbolic)


def test_symbolic_matrices():
    lam = symbolic_covariance(3)
    assert lam == lam.T and len(lam.free_symbols) == 6
    A = symbolic_matrix(3)
    assert A != A.T and len(A.free_symbols) == 9


def test_isserlis_three_pairings():
    lam = symbolic_covariance(2)
    # E[x_0⁴] = 3λ_00² (the three pairings coincide)
    assert sp.expand(isserlis_fourth(lam, 0, 0, 0, 0) - 3 * lam[0, 0] ** 2) == 0
    # E[x_0² x_1²] = λ_00 λ_11 + 2 λ_01²
    assert sp.expand(isserlis_fourth(lam, 0, 0, 1, 1) - lam[0, 0] * lam[1, 1] - 2 * lam[0, 1] ** 2) == 0


def test_is_zero():
    assert is_zero(sp.Integer(0)) and is_zero(sp.zeros(2, 3)) and is_zero(sp.ZeroMatrix(2, 2))
    assert not is_zero(sp.Symbol("x")) and not is_zero(sp.Matrix([[0, 1]]))
    assert not is_zero(sp.Identity(2))


@st.composite
def rational_problem(draw):
    d = draw(st.integers(1, 3))
    ints = st.integers(-4, 4)
    L = sp.Matrix(d, d, lambda i, j: draw(ints))
    lam = L * L.T + sp.eye(d) * sp.Rational(draw(st.integers(0, 3)), 2)
    A = sp.Matrix(d, d, lambda i, j: sp.Rational(draw(ints), draw(st.integers(1, 3))))
    m = draw(st.integers(1, 20))
    return lam, A, m


@given(rational_problem())
def test_numeric_closed_form_equals_exact(problem):
    lam, A, m = problem
    exact = np.array(wishart_sas_symbolic(lam, A, m), dtype=float)
    numeric = wishart_sas(np.array(lam, dtype=float), np.array(A, dtype=float), m)
    # rtol 1e-12: a handful of float products of small integers and ratios
    np.testing.assert_allclose(numeric, exact, rtol=1e-12, atol=1e-12 * max(1.0, np.abs(exact).max()))


def test_transpose_symmetry_of_the_lemma():
    # E[S A S]ᵀ = E[S Aᵀ S]: the closed form must respect it for a non-symmetric A
    lam = np.array([[1.0, 0.3], [0.3, 2.0]])
    A = np.array([[0.0, 1.0], [-2.0, 0.5]])
    np.testing.assert_allclose(wishart_sas(lam, A, 3).T, wishart_sas(lam, A.T, 3), rtol=1e-14)


def test_one_dimensional_chi_square_oracle():
    # d = 1: m s / λ ~ χ²_m, E[s²] = λ²(m + 2)/m
    for m in (1, 3, 10):
        assert wishart_sas([2.0], [[1.0]], m)[0, 0] == pytest.approx(4.0 * (m + 2) / m, rel=1e-15)


def test_monte_carlo_chunks_do_not_change_the_draws_much():
    lam = np.array([[1.0, 0.2], [0.2, 0.5]])
    a = monte_carlo_sas(lam, np.eye(2), 3, 5000, np.random.SeedSequence(1), chunk=5000)
    b = monte_carlo_sas(lam, np.eye(2), 3, 5000, np.random.SeedSequence(1), chunk=1000)
    # the stream is drawn chunk by chunk, so different chunking is a different (equally valid) draw;
    # both estimates must agree with the truth within 5 standard errors
    for mc in (a, b):
        assert np.max(np.abs(mc.z_scores(wishart_sas(lam, np.eye(2), 3)))) <= 5
    assert a.samples == b.samples == 5000


def test_monte_carlo_singular_covariance():
    # Λ = diag(1, 0): the second coordinate is exactly 0, so is every entry of S A S touching it
    mc = monte_carlo_sas([1.0, 0.0], [[1.0, 2.0], [3.0, 4.0]], 2, 2000, 4)
    assert np.array_equal(mc.mean[1], [0.0, 0.0]) and mc.mean[0, 1] == 0.0


def test_derivation_step_is_a_pair():
    step = DerivationStep("x", sp.Integer(1))
    description, expr = step
    assert description == "x" and expr == 1


@pytest.mark.parametrize("kwargs, match", [
    (dict(cov=[[1.0, 2.0], [2.0, 1.0]], A=np.eye(2), m=2), "positive semi-definite"),
    (dict(cov=np.eye(2), A=np.eye(3), m=2), "A must have shape \\(2, 2\\)"),
    (dict(cov=np.eye(2), A=[[1.0, np.nan], [0.0, 1.0]], m=2), "A must be finite"),
    (dict(cov=np.eye(2), A=np.eye(2), m=0), "m must be an integer >= 1"),
    (dict(cov=np.eye(2), A=np.eye(2), m=1.5), "m must be an integer >= 1"),
])
def test_wishart_sas_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        wishart_sas(**kwargs)


def test_monte_carlo_bad_input():
    with pytest.raises(ValueError, match="samples must be an integer >= 2"):
        monte_carlo_sas(np.eye(2), np.eye(2), 2, 1, 0)
    with pytest.raises(ValueError, match="chunk must be an integer >= 1"):
        monte_carlo_sas(np.eye(2), np.eye(2), 2, 10, 0, chunk=0)
    with pytest.raises(ValueError, match="m must be"):
        monte_carlo_sas(np.eye(2), np.eye(2), -1, 10, 0)


def test_symbolic_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        wishart_sas_symbolic(sp.eye(2), sp.eye(3), 2)
    with pytest.raises(ValueError, match="d must be an integer >= 1"):
        symbolic_covariance(0)
