"""theory.training: population loss and gradient, GD, joint training, the full-model SGD machinery,
and bad input."""

import numpy as np
import pytest

from theory import embed_prompt, gamma, lsa_forward, read_estimate
from theory.training import (balanced_init, gd_population, gd_rate, gd_step_threshold, joint_gd,
                             joint_gradient_flow, joint_limit, lsa_loss_and_gradients, lsa_losses,
                             population_gradient, population_loss, sample_prompts, sgd_lsa,
                             sparse_initialization, sparse_pattern_mask, zero_gradient_mask)

LAM = np.array([[1.5, 0.4, 0.0], [0.4, 1.0, 0.2], [0.0, 0.2, 0.6]])
N = 8


def test_loss_minimum_at_gamma_inverse():
    Ginv = np.linalg.inv(gamma(LAM, N))
    assert np.max(np.abs(population_gradient(Ginv, LAM, N))) < 1e-13
    assert population_loss(Ginv, LAM, N) == pytest.approx(1.5 - 0.5 * np.trace(Ginv @ LAM), rel=1e-13)
    rng = np.random.default_rng(0)
    for _ in range(5):
        assert population_loss(Ginv + 0.1 * rng.standard_normal((3, 3)), LAM, N) > population_loss(Ginv, LAM, N)


def test_population_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    P = rng.standard_normal((3, 3))
    g = population_gradient(P, LAM, N)
    h = 1e-6
    num = np.zeros((3, 3))
    for idx in np.ndindex(3, 3):
        E = np.zeros((3, 3))
        E[idx] = h
        num[idx] = (population_loss(P + E, LAM, N) - population_loss(P - E, LAM, N)) / (2 * h)
    # the loss is quadratic: central differences are exact up to rounding (~1e-16/h)
    np.testing.assert_allclose(num, g, atol=1e-8)


def test_threshold_and_rate_formulas():
    M = gamma(LAM, N) @ LAM
    mu = np.sort(np.linalg.eigvals(M).real)
    assert gd_step_threshold(LAM, N, 2.0) == pytest.approx(2 / (4 * mu[-1]), rel=1e-12)
    eta = 0.3
    assert gd_rate(LAM, N, eta, 1.0) == pytest.approx(max(abs(1 - eta * mu[0]), abs(1 - eta * mu[-1])), rel=1e-12)


def test_gd_divergence_is_flagged_without_overflow():
    run = gd_population(LAM, N, 3 * gd_step_threshold(LAM, N), 100_000)
    assert run.diverged and np.all(np.isfinite(run.errors)) and run.errors.size < 100_001
    with pytest.raises(ValueError, match="window"):
        run.measured_rate((1e-9, 1e-2))


def test_gd_with_given_init():
    Ginv = np.linalg.inv(gamma(LAM, N))
    run = gd_population(LAM, N, 0.1, 0, c=2.0, V31_init=-Ginv / 2)
    assert run.errors[0] < 1e-14  # starting at V_* = −Γ^{-1}/c


def test_joint_limit_balanced_and_imbalanced():
    Ginv = np.linalg.inv(gamma(LAM, N))
    u, V = joint_limit(LAM, N)
    assert u == pytest.approx(np.trace(Ginv @ Ginv) ** 0.25, rel=1e-14)
    np.testing.assert_allclose(-u * V, Ginv, rtol=1e-14)
    u, V = joint_limit(LAM, N, imbalance=1.0)
    assert u * u - np.sum(V * V) == pytest.approx(1.0, rel=1e-12)


def test_balanced_init():
    u, V = balanced_init(3, 0.1, np.random.default_rng(2).standard_normal((3, 2)))
    assert u * u - np.sum(V * V) == pytest.approx(0.0, abs=1e-16)
    assert np.all(np.linalg.eigvalsh(-u * V) >= -1e-16)  # P(0) is PSD


def test_joint_gd_and_flow_agree_for_small_steps():
    u0, V0 = balanced_init(3, 0.05)
    flow = joint_gradient_flow(LAM, N, 40.0, u0, V0)
    gd = joint_gd(LAM, N, 0.005, 8000, u0, V0)
    assert gd.u == pytest.approx(flow.u, rel=1e-2)  # GD is an O(η) perturbation of the flow


def test_sample_prompts_layout_matches_embed_prompt():
    batch = sample_prompts(LAM, 4, 3, np.random.default_rng(3))
    for b in range(3):
        E = batch.E[b]
        X, y = E[:3, :4], E[3, :4]
        assert np.array_equal(E, embed_prompt(X, y))
        w = batch.target[b, 4:7]
        np.testing.assert_allclose(y, X.T @ w, rtol=1e-13)
        assert np.array_equal(batch.target[b, [0, 1, 2, 3, 7]], [0, 0, 0, 0, 1])


def test_antithetic_prompts_are_mirrored():
    batch = sample_prompts(LAM, 4, 6, np.random.default_rng(4), antithetic=True)
    assert np.array_equal(batch.E[:3, :3], batch.E[3:, :3])         # same X
    assert np.array_equal(batch.E[:3, 3], -batch.E[3:, 3])          # y → −y
    assert np.array_equal(batch.target[:3, 4:7], -batch.target[3:, 4:7])


def test_batch_losses_equal_lsa_forward():
    rng = np.random.default_rng(5)
    batch = sample_prompts(LAM, 4, 5, rng)
    V, W = rng.standard_normal((8, 8)), rng.standard_normal((8, 8))
    losses = lsa_losses(V, W, batch, 4)
    for b in range(5):
        F = lsa_forward(batch.E[b], V, W, 4)
        want = 0.5 * np.sum((F[:, -1] - batch.target[b]) ** 2)
        assert losses[b] == pytest.approx(want, rel=1e-12)
    assert lsa_loss_and_gradients(V, W, batch, 4)[0] == pytest.approx(losses.mean(), rel=1e-14)


def test_sparse_model_output_is_minus_c_v31_s_w():
    # the forward map at the sparse pattern: ŵ = −c V_31 Ŝ_n w (Thm 3.1's reduction)
    rng = np.random.default_rng(6)
    V, W = sparse_initialization(3, 0.7)
    V31 = rng.standard_normal((3, 3))
    V[4:7, :3] = V31
    batch = sample_prompts(LAM, 5, 1, rng)
    X, w = batch.E[0, :3, :5], batch.target[0, 4:7]
    got = read_estimate(lsa_forward(batch.E[0], V, W, 5))
    np.testing.assert_allclose(got, -0.7 * V31 @ (X @ X.T / 5) @ w, rtol=1e-12)


def test_masks():
    mV, mW = sparse_pattern_mask(3)
    assert mV.sum() == 9 and mW.sum() == 10
    zV, zW = zero_gradient_mask(3)
    assert zV.sum() == 24 and zW.sum() == 59
    assert not (mV & zV).any()          # V_31 does receive gradient ...
    assert (mW & zW).sum() == 9         # ... but W_13 does not (W_24 does)


def test_sgd_is_deterministic_given_the_seed():
    a = sgd_lsa(LAM, 5, 20, 16, 0.02, np.random.SeedSequence(9))
    b = sgd_lsa(LAM, 5, 20, 16, 0.02, np.random.SeedSequence(9))
    assert np.array_equal(a.V, b.V) and np.array_equal(a.W, b.W)
    c = sgd_lsa(LAM, 5, 20, 16, 0.02, np.random.SeedSequence(10))
    assert not np.array_equal(a.V, c.V)


def test_sgd_divergence_is_reported():
    with pytest.raises(OverflowError, match="SGD diverged"):
        sgd_lsa(LAM, 5, 200, 16, 50.0, 0)


@pytest.mark.parametrize("call, match", [
    (lambda: population_loss(np.eye(2), LAM, N), "P must have shape \\(3, 3\\)"),
    (lambda: population_gradient(np.full((3, 3), np.nan), LAM, N), "P must be finite"),
    (lambda: gd_step_threshold(LAM, N, 0.0), "c must be a finite nonzero number"),
    (lambda: gd_rate(LAM, N, -0.1), "eta must be a finite positive number"),
    (lambda: gd_population(LAM, N, 0.1, -1), "steps must be an integer >= 0"),
    (lambda: gd_population(LAM, 0, 0.1, 10), "n must be an integer >= 1"),
    (lambda: gd_population([[1.0, 2.0], [2.0, 1.0]], N, 0.1, 10), "positive semi-definite"),
    (lambda: joint_limit(LAM, N, np.nan), "imbalance must be a finite real number"),
    (lambda: balanced_init(3, 0.0), "sigma must be a finite positive number"),
    (lambda: balanced_init(3, 0.1, np.zeros((3, 3))), "theta must be nonzero"),
    (lambda: balanced_init(3, 0.1, np.ones((2, 2))), "theta must be a finite \\(3, r\\) matrix"),
    (lambda: joint_gd(LAM, N, 0.0, 10, 1.0, np.eye(3)), "eta must be"),
    (lambda: joint_gradient_flow(LAM, N, -1.0, 1.0, np.eye(3)), "t_end must be"),
    (lambda: sample_prompts(LAM, 4, 3, np.random.default_rng(0), antithetic=True), "batch must be even"),
    (lambda: sample_prompts(LAM, 4, 0, np.random.default_rng(0)), "batch must be an integer >= 1"),
    (lambda: lsa_loss_and_gradients(np.eye(4), np.eye(8), sample_prompts(LAM, 4, 2, np.random.default_rng(0)), 4),
     "V must have shape \\(8, 8\\)"),
    (lambda: lsa_losses(np.eye(8), np.eye(8) * np.nan, sample_prompts(LAM, 4, 2, np.random.default_rng(0)), 4),
     "W must be finite"),
    (lambda: lsa_losses(np.eye(8), np.eye(8), sample_prompts(LAM, 4, 2, np.random.default_rng(0)), 0),
     "rho must be a finite positive number"),
    (lambda: sgd_lsa(LAM, 4, 10, 8, 0.0, 0), "eta must be"),
    (lambda: sgd_lsa(LAM, 4, 10, 8, 0.1, 0, c=0), "c must be a finite nonzero number"),
    (lambda: sgd_lsa(LAM, 4, 10, 8, 0.1, 0, decay_from=1.5), "decay_from must lie in \\[0, 1\\]"),
    (lambda: sparse_initialization(0), "d must be an integer >= 1"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
