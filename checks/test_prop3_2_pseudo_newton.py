"""Claim ``prop3.2``: w_{i+1} = w_i − Γ^{-1}Ŝ_m(w_i − w) for the trained LSA, any number of CoT columns.

Routes: sympy block-matrix algebra (general d, m, ρ, q earlier columns) and explicit symbolic
entries (i = 0, 1, 2); hypothesis property tests of the forward passes against the recurrence and
the closed form, to 1e-10 relative.
"""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from checks.conftest import assert_ledger_verdict
from theory import cot_rollout, embed_prompt, gamma, lsa_forward, read_estimate, trained_parameters
from theory.claims.prop3_2 import RTOL, rho_mismatch_effect, rollout_errors, symbolic_residuals
from theory.moments import is_zero
from theory.pseudo_newton import (_sym_embedding, cot_closed_form, cot_recurrence, derive_cot_step,
                                  derive_cot_step_blocks)


def test_ledger_verdict(recorded_verdicts):
    assert_ledger_verdict("prop3.2", recorded_verdicts)


# ----------------------------------------------------------------------------- exact route

def test_block_proof_general_d_m_rho_and_any_number_of_columns():
    steps = derive_cot_step_blocks()
    W_last, scores_estimates, scores_examples = steps[0].expr, steps[1].expr, steps[2].expr
    # W e_last has zero w- and 1-blocks ...
    assert is_zero(W_last.blocks[2, 0]) and is_zero(W_last.blocks[3, 0])
    # ... so the q earlier estimate columns (0; 0; Ω; 1ᵀ) score exactly zero, whatever Ω and q are
    assert isinstance(scores_estimates, sp.ZeroMatrix)
    assert scores_estimates.shape[0] == sp.Symbol("q", positive=True, integer=True)
    c = sp.Symbol("c", nonzero=True, real=True)
    d, m = sp.symbols("d m", positive=True, integer=True)
    X, w, wi = sp.MatrixSymbol("X", d, m), sp.MatrixSymbol("w", d, 1), sp.MatrixSymbol("w_i", d, 1)
    assert is_zero(sp.expand(scores_examples - c * X.T * (wi - w)))
    assert is_zero(steps[-2].expr)  # general ρ: −(m/ρ) G Ŝ_m (w_i − w)
    assert is_zero(steps[-1].expr)  # ρ = m: Prop 3.2


def test_block_proof_rejects_rho_different_from_m():
    # With ρ ≠ m the update is not −GŜ_m(w_i − w): the residual is (m/ρ − 1)·GŜ_m(w_i − w) ≠ 0.
    steps = derive_cot_step_blocks()
    d, m = sp.symbols("d m", positive=True, integer=True)
    rho = sp.Symbol("rho", positive=True)
    G, X = sp.MatrixSymbol("G", d, d), sp.MatrixSymbol("X", d, m)
    w, wi = sp.MatrixSymbol("w", d, 1), sp.MatrixSymbol("w_i", d, 1)
    c = sp.Symbol("c", nonzero=True, real=True)
    w_rows = steps[4].expr.subs(sp.MatrixSymbol("V_31", d, d), -G / c)
    assert not is_zero(sp.expand(w_rows + G * (X * X.T / m) * (wi - w)))
    assert is_zero(sp.expand(w_rows.subs(rho, m) + G * (X * X.T / m) * (wi - w)))


@pytest.mark.parametrize("i", [0, 1, 2])
def test_explicit_symbolic_entries(i):
    steps = derive_cot_step(2, 3, i)
    general, trained, other_rows = steps[3].expr, steps[4].expr, steps[5].expr
    assert is_zero(general)      # w-rows = w_i + c V_31 Ŝ_m (w_i − w), any V_31
    assert is_zero(trained)      # V_31 = −G/c: w_i − G Ŝ_m (w_i − w)
    assert is_zero(other_rows)   # the last column is (0, 0, w_{i+1}, 1)
    scores = steps[1].expr
    assert all(sp.S(v) == 0 for v in scores[3:])  # the i + 1 estimate columns score 0


def test_symbolic_layout_is_the_library_layout():
    # The sympy prompt of the proof, evaluated at numbers, is embed_prompt's array.
    X = sp.Matrix([[1, 2, 3], [4, 5, 6]])
    y = sp.Matrix([[7, 8, 9]])
    ests = [sp.Matrix([0, 0]), sp.Matrix([sp.Rational(1, 2), -1])]
    E_sym = np.array(_sym_embedding(X, y, ests), dtype=float)
    E_num = embed_prompt(np.array(X, dtype=float), np.array(y, dtype=float)[0],
                         np.array([[0, 0], [0.5, -1]]))
    assert np.array_equal(E_sym, E_num)


def test_symbolic_residuals_fast_tier():
    assert all(symbolic_residuals().values())


@pytest.mark.slow
def test_symbolic_residuals_more_cases():
    assert all(symbolic_residuals(((1, 2, 0), (1, 1, 4), (3, 2, 3))).values())


# ----------------------------------------------------------------------------- property tests

@st.composite
def cases(draw):
    d = draw(st.integers(1, 5))
    m = draw(st.integers(1, 40))
    k = draw(st.integers(0, 10))
    n = draw(st.integers(1, 50))
    eig = np.exp(np.array(draw(st.lists(st.floats(np.log(0.1), np.log(10.0)), min_size=d, max_size=d))))
    seed = draw(st.integers(0, 2**32 - 1))
    rotate = draw(st.booleans())
    c = draw(st.floats(0.2, 3.0))
    rng = np.random.default_rng(seed)
    lam = np.diag(eig)
    if rotate:
        Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        lam = Q @ lam @ Q.T
        lam = (lam + lam.T) / 2
    X = np.linalg.cholesky(lam) @ rng.standard_normal((d, m))
    w = rng.standard_normal(d)
    return lam, n, c, X, w, k


@given(cases())
def test_rollout_equals_recurrence_and_closed_form(case):
    # Relative error per step: max|Δ_i| / max(max|w_i|, max|w|) (the scale of the quantities
    # compared; an absolute 1e-10 would be meaningless when the finite-m iteration grows).
    e_rec, e_closed = rollout_errors(*case)
    assert e_rec <= RTOL
    assert e_closed <= RTOL


@given(cases())
def test_one_pass_is_one_pseudo_newton_step_from_any_state(case):
    # Any earlier estimates (not only the rollout's) leave the step unchanged.
    lam, n, c, X, w, k = case
    V, W = trained_parameters(lam, n, c)
    rng = np.random.default_rng(k)
    ests = rng.standard_normal((k + 1, X.shape[0]))
    m = X.shape[1]
    got = read_estimate(lsa_forward(embed_prompt(X, X.T @ w, ests), V, W, m))
    wi = ests[-1]
    want = wi - np.linalg.solve(gamma(lam, n), X @ X.T @ (wi - w) / m)
    scale = max(np.max(np.abs(want)), np.max(np.abs(wi)), np.max(np.abs(w)))
    assert np.max(np.abs(got - want)) <= RTOL * scale


def test_k1_is_direct_icl_and_k0_is_zero():
    lam = np.array([[1.0, 0.3], [0.3, 0.5]])
    rng = np.random.default_rng(5)
    X = np.linalg.cholesky(lam) @ rng.standard_normal((2, 6))
    w = rng.standard_normal(2)
    V, W = trained_parameters(lam, 4)
    roll = cot_rollout(V, W, X, X.T @ w, 1)
    assert np.array_equal(roll[0], np.zeros(2))
    np.testing.assert_allclose(roll[1], np.linalg.solve(gamma(lam, 4), X @ X.T @ w / 6), rtol=1e-12)


def test_rho_must_be_m():
    # One pass with ρ = m + 1 shrinks the step by exactly m/(m + 1).
    assert abs(rho_mismatch_effect() - 1) < 1e-8


def test_recurrence_needs_only_the_prompt():
    # cot_recurrence uses y (not w); closed form uses w; they agree when y = Xᵀw.
    lam = [2.0, 1.0, 0.5]
    rng = np.random.default_rng(9)
    X = np.sqrt(np.array(lam))[:, None] * rng.standard_normal((3, 12))
    w = rng.standard_normal(3)
    np.testing.assert_allclose(cot_recurrence(lam, 7, X, X.T @ w, 6), cot_closed_form(lam, 7, X, w, 6),
                               rtol=1e-12, atol=1e-14)
