"""The LSA model: embedding layout (the poster's, exactly), forward map, trained parameters, rollout,
and every bad input at the boundary."""

import numpy as np
import pytest

from theory import (cot_closed_form, cot_recurrence, cot_rollout, embed_prompt, gamma, lsa_forward,
                    read_estimate, trained_parameters)

X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])   # d = 2, m = 3
W_TRUE = np.array([0.5, -1.0])
Y = X.T @ W_TRUE


# ----------------------------------------------------------------------------- layout

def test_training_prompt_layout_is_the_posters():
    # E = [[X, 0], [y, 0], [0_{d×n}, ŵ_0], [0_{1×n}, 1]] with ŵ_0 = 0, shape (2d+2, n+1)
    E = embed_prompt(X, Y)
    expected = np.block([[X, np.zeros((2, 1))],
                         [Y[None, :], np.zeros((1, 1))],
                         [np.zeros((2, 3)), np.zeros((2, 1))],
                         [np.zeros((1, 3)), np.ones((1, 1))]])
    assert E.shape == (6, 4)
    assert np.array_equal(E, expected)


def test_cot_prompt_layout_is_the_posters():
    # E_i = [[x_1..x_m, 0..0], [y_1..y_m, 0..0], [0..0, w_0..w_i], [0..0, 1..1]]
    ests = np.array([[0.0, 0.0], [0.1, 0.2], [0.3, -0.4]])
    E = embed_prompt(X, Y, ests)
    expected = np.block([[X, np.zeros((2, 3))],
                         [Y[None, :], np.zeros((1, 3))],
                         [np.zeros((2, 3)), ests.T],
                         [np.zeros((1, 3)), np.ones((1, 3))]])
    assert np.array_equal(E, expected)
    # a single estimate may be given as a vector
    assert np.array_equal(embed_prompt(X, Y, [0.1, 0.2])[:, -1], [0, 0, 0, 0.1, 0.2, 1])


def test_read_estimate_reads_rows_d_plus_2_to_2d_plus_1_of_the_last_column():
    F = np.arange(6 * 4, dtype=float).reshape(6, 4)
    # 1-based rows d+2 .. 2d+1 = 4 .. 5 → 0-based 3 .. 4, last column
    assert np.array_equal(read_estimate(F), F[3:5, -1])


def test_forward_map_is_the_formula_entrywise():
    rng = np.random.default_rng(0)
    E = rng.standard_normal((6, 5))
    V, W = rng.standard_normal((6, 6)), rng.standard_normal((6, 6))
    F = lsa_forward(E, V, W, 4)
    # f_{ab} = E_{ab} + Σ_{c,j} V_{ac} E_{cj} (Σ_{r,s} E_{rj} W_{rs} E_{sb}) / ρ, by explicit loops
    ref = E.copy()
    for a in range(6):
        for b in range(5):
            ref[a, b] += sum(V[a, c] * E[c, j] * sum(E[r, j] * W[r, s] * E[s, b]
                                                        for r in range(6) for s in range(6))
                             for c in range(6) for j in range(5)) / 4
    np.testing.assert_allclose(F, ref, rtol=1e-12, atol=1e-12)  # summation order only


def test_trained_parameters_blocks():
    lam = np.array([[2.0, 0.5], [0.5, 1.0]])
    V, W = trained_parameters(lam, 7, c=0.5)
    d = 2
    Ginv = np.linalg.inv(gamma(lam, 7))
    np.testing.assert_allclose(V[d + 1:2 * d + 1, :d], -Ginv / 0.5, rtol=1e-14)
    V_rest = V.copy()
    V_rest[d + 1:2 * d + 1, :d] = 0
    assert not V_rest.any()
    assert np.array_equal(W[:d, d + 1:2 * d + 1], 0.5 * np.eye(d))
    assert W[d, 2 * d + 1] == -0.5
    W_rest = W.copy()
    W_rest[:d, d + 1:2 * d + 1] = 0
    W_rest[d, 2 * d + 1] = 0
    assert not W_rest.any()


def test_rollout_shapes_and_first_steps():
    V, W = trained_parameters([1.0, 2.0], 5)
    out = cot_rollout(V, W, X, Y, 3)
    assert out.shape == (4, 2) and np.array_equal(out[0], [0, 0])
    assert cot_rollout(V, W, X, Y, 0).shape == (1, 2)
    np.testing.assert_allclose(out[1], np.linalg.solve(gamma([1.0, 2.0], 5), X @ Y / 3), rtol=1e-12)


def test_divergent_rollout_is_reported_not_overflowed():
    # d = 1, m = 1, x = 30, n = 2: Γ = 2, the step factor is 1 − x²/Γ = −449, so |w_k| ≈ 449^k
    # passes 1e308 near k = 117 (and is about 1e132 at k = 50)
    V, W = trained_parameters([1.0], 2)
    with pytest.raises(OverflowError, match="diverged"):
        cot_rollout(V, W, np.array([[30.0]]), np.array([30.0]), 200)
    assert np.all(np.isfinite(cot_rollout(V, W, np.array([[30.0]]), np.array([30.0]), 50)))


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("Xb, yb, match", [
    (np.array([1.0, 2.0]), np.array([1.0, 2.0]), "X must be a \\(d, m\\) matrix"),
    (np.zeros((2, 0)), np.zeros(0), "X must be a \\(d, m\\) matrix"),
    (np.zeros((0, 3)), np.zeros(3), "X must be a \\(d, m\\) matrix"),
    (X, np.ones(2), "y must be a vector with one label per column"),
    (X, np.ones((3, 1)), "y must be a vector"),
    (np.where(X > 5, np.nan, X), Y, "finite"),
    (X, np.array([1.0, np.inf, 0.0]), "finite"),
])
def test_embed_prompt_bad_examples(Xb, yb, match):
    with pytest.raises(ValueError, match=match):
        embed_prompt(Xb, yb)


@pytest.mark.parametrize("ests, match", [
    (np.zeros((2, 3)), "estimates must have shape"),
    (np.zeros((0, 2)), "estimates must have shape"),
    (np.zeros((1, 2, 2)), "estimates must have shape"),
    (np.array([[0.0, np.nan]]), "estimates must be finite"),
])
def test_embed_prompt_bad_estimates(ests, match):
    with pytest.raises(ValueError, match=match):
        embed_prompt(X, Y, ests)


def test_lsa_forward_bad_inputs():
    E = embed_prompt(X, Y)
    V, W = trained_parameters([1.0, 2.0], 5)
    with pytest.raises(ValueError, match="V must have shape \\(6, 6\\)"):
        lsa_forward(E, V[:5, :5], W, 3)
    with pytest.raises(ValueError, match="W must have shape"):
        lsa_forward(E, V, np.eye(4), 3)
    with pytest.raises(ValueError, match="E must be a non-empty 2-D"):
        lsa_forward(E[:, 0], V, W, 3)
    for name, args in (("E", (np.where(E == 1, np.nan, E), V, W)), ("V", (E, V * np.nan, W)),
                       ("W", (E, V, np.full_like(W, np.inf)))):
        with pytest.raises(ValueError, match=f"{name} must be finite"):
            lsa_forward(*args, 3)
    for rho in (0, -1.0, np.nan, np.inf, "three", None):
        with pytest.raises(ValueError, match="rho must be a finite positive number"):
            lsa_forward(E, V, W, rho)


def test_read_estimate_bad_shape():
    for F in (np.zeros(6), np.zeros((5, 3)), np.zeros((2, 3)), np.zeros((6, 0))):
        with pytest.raises(ValueError, match="F must be an LSA output"):
            read_estimate(F)


@pytest.mark.parametrize("k", [-1, 1.5, "2", None, np.nan])
def test_cot_rollout_bad_k(k):
    V, W = trained_parameters([1.0, 2.0], 5)
    with pytest.raises(ValueError, match="k must be an integer >= 0"):
        cot_rollout(V, W, X, Y, k)


def test_cot_rollout_bad_parameters_and_prompt():
    V, W = trained_parameters([1.0, 2.0, 3.0], 5)  # d = 3 parameters, d = 2 prompt
    with pytest.raises(ValueError, match="V must have shape \\(6, 6\\)"):
        cot_rollout(V, W, X, Y, 2)
    V, W = trained_parameters([1.0, 2.0], 5)
    with pytest.raises(ValueError, match="finite"):
        cot_rollout(V, W, X, np.array([1.0, np.nan, 2.0]), 2)
    with pytest.raises(ValueError, match="W must be finite"):
        cot_rollout(V, W * np.nan, X, Y, 2)


@pytest.mark.parametrize("c", [0, 0.0, np.nan, np.inf, -np.inf, "one", None])
def test_trained_parameters_bad_c(c):
    with pytest.raises(ValueError, match="c must be a finite nonzero number"):
        trained_parameters([1.0, 2.0], 5, c)


@pytest.mark.parametrize("cov, n, match", [
    ([1.0, 2.0], 0, "n must be an integer >= 1"),
    ([1.0, 2.0], 2.5, "n must be an integer >= 1"),
    ([[1.0, 2.0], [2.0, 1.0]], 3, "positive semi-definite"),
    ([[1.0, 0.1], [0.0, 1.0]], 3, "symmetric"),
    ([0.0, 0.0], 3, "nonzero"),
    ([np.nan, 1.0], 3, "finite"),
])
def test_trained_parameters_bad_covariance_or_n(cov, n, match):
    with pytest.raises(ValueError, match=match) as info:
        trained_parameters(cov, n)
    assert "train_cov" in str(info.value) or "n must" in str(info.value)


def test_negative_c_is_allowed_and_gives_the_same_rollout():
    # c only rescales V_31 and W jointly: c V_31 = −Γ^{-1} whatever the sign of c
    lam = [1.0, 2.0]
    a = cot_rollout(*trained_parameters(lam, 5, 1.0), X, Y, 4)
    b = cot_rollout(*trained_parameters(lam, 5, -2.5), X, Y, 4)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_recurrence_and_closed_form_bad_inputs():
    with pytest.raises(ValueError, match="train_cov and X must have the same dimension"):
        cot_recurrence([1.0, 2.0, 3.0], 5, X, Y, 2)
    with pytest.raises(ValueError, match="k must be an integer >= 0"):
        cot_recurrence([1.0, 2.0], 5, X, Y, -1)
    with pytest.raises(ValueError, match="w must be a vector of length d = 2"):
        cot_closed_form([1.0, 2.0], 5, X, np.ones(3), 2)
    with pytest.raises(ValueError, match="w must be finite"):
        cot_closed_form([1.0, 2.0], 5, X, np.array([np.nan, 1.0]), 2)
    with pytest.raises(ValueError, match="X must be a \\(d, m\\) matrix"):
        cot_closed_form([1.0, 2.0], 5, X[0], W_TRUE, 2)
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        cot_closed_form([1.0, 2.0], 0, X, W_TRUE, 2)
