"""Training the LSA model without chain of thought (Theorem 3.1 of arXiv 2510.03605).

Notation (row blocks of an embedding are ``(x; y; w; 1)``; 1-based block indices as in the paper):

* training prompt ``E = [[X, 0], [y, 0], [0, ŵ_0], [0, 1]]``, ``ŵ_0 = 0``, ``ρ = n``;
* loss ``L(V, W) = ½ E‖f(E)[:, −1] − (0, 0, w, 1)‖²`` over ``w ~ N(0, I)``, ``x ~ N(0, Λ)``;
* sparse pattern: only ``V_31`` in V, only ``W_13 = c I`` and ``W_24 = −c`` in W.  Then the output is
  ``ŵ = −c V_31 Ŝ_n w``, and with ``P = −c V_31`` (``M = ΓΛ``)

  ``L(P) = ½ tr(P M Pᵀ) − tr(P Λ) + d/2``,   ``∇_P L = P M − Λ``,

  minimised at ``P = Γ^{-1}``, i.e. ``V_* = −Γ^{-1}/c`` (Theorem 3.1), with minimum
  ``d/2 − ½ tr(Γ^{-1}Λ)``;
* joint training of the scalar ``u`` (``W_24 = −u``) with ``V_31``: ``P = −u V_31``; gradient flow
  conserves ``u² − ‖V_31‖_F²`` (Zhang–Frei–Bartlett 2023, Thm 4.1 analogue);
* full training (every entry of V and W): SGD on sampled prompts with analytic gradients.

Routes: :func:`derive_population_loss` (sympy, with the moment lemma of :mod:`theory.moments`),
then gradient descent and gradient flow on the exact population loss, then SGD on prompts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from theory._validate import (as_covariance, as_exact_covariance, finite_real, float_array, float_range_error,
                              nonzero_float, positive_float, positive_int, seed_value, square_matrix)
from theory.covariance import gamma
from theory.moments import (DerivationStep, _covariance_root, symbolic_covariance, symbolic_matrix,
                            wishart_sas_symbolic)
from theory.pseudo_newton import _sym_embedding, lsa_forward_symbolic, sparse_parameters_symbolic


def _blocks(d: int) -> dict[str, slice]:
    return {"x": slice(0, d), "y": slice(d, d + 1), "w": slice(d + 1, 2 * d + 1),
            "one": slice(2 * d + 1, 2 * d + 2)}


def _curvature(train_cov, n) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(Λ, Γ, M = ΓΛ)``; M is symmetric because Γ is a polynomial in Λ."""
    lam = as_covariance(train_cov, "train_cov")
    G = gamma(lam, n)
    with np.errstate(over="ignore", invalid="ignore"):
        M = G @ lam
        M = (M + M.T) / 2
    if not np.all(np.isfinite(M)):
        raise float_range_error("the curvature ΓΛ", train_cov=lam)
    return lam, G, M


# ---------------------------------------------------------------------------------------------
# The population loss of the sparse model


def population_loss(P, train_cov, n) -> float:
    r"""Population loss of the sparse LSA as a function of ``P = −c V_31``.

    .. math:: L(P) = \tfrac12 \operatorname{tr}(P\,\Gamma\Lambda\,P^\top) - \operatorname{tr}(P\Lambda) + \tfrac d2
              = \tfrac12\,\mathbb E\,\|P \hat S_n w - w\|^2

    (Theorem 3.1; derived with the moment lemma ``E[Ŝ_n A Ŝ_n]``, see :func:`derive_population_loss`.)
    """
    lam, _, M = _curvature(train_cov, n)
    P = square_matrix(P, lam.shape[0], "P")
    with np.errstate(over="ignore", invalid="ignore"):
        loss = float(0.5 * np.trace(P @ M @ P.T) - np.trace(P @ lam) + lam.shape[0] / 2)
    if not np.isfinite(loss):
        raise float_range_error("population_loss", P=P, train_cov=lam)
    return loss


def population_gradient(P, train_cov, n) -> np.ndarray:
    r"""Gradient of :func:`population_loss`: :math:`\nabla_P L = P\,\Gamma\Lambda - \Lambda`."""
    lam, _, M = _curvature(train_cov, n)
    P = square_matrix(P, lam.shape[0], "P")
    with np.errstate(over="ignore", invalid="ignore"):
        grad = P @ M - lam
    if not np.all(np.isfinite(grad)):
        raise float_range_error("population_gradient", P=P, train_cov=lam)
    return grad


def derive_population_loss(d: int = 2, train_cov=None) -> list[DerivationStep]:
    r"""Symbolic derivation of the sparse population loss, its stationary point and its Hessian.

    .. math::
        \hat w = -c V_{31}\hat S_n w,\quad
        L = \tfrac12\operatorname{tr}\mathbb E[\hat S_n P^\top P \hat S_n] - \operatorname{tr}(P\Lambda) + \tfrac d2
          = \tfrac12\operatorname{tr}(P\Gamma\Lambda P^\top) - \operatorname{tr}(P\Lambda) + \tfrac d2,\qquad
        \nabla_P L = 0 \iff P\,\Gamma\Lambda = \Lambda,\qquad
        \nabla^2_{\operatorname{vec}P} L = \Gamma\Lambda \otimes I_d

    Parameters
    ----------
    d : int
        Dimension of the symbolic ``P`` (and of Λ when ``train_cov`` is None).
    train_cov : array_like, optional
        An exact (rational) Λ to use instead of fully symbolic entries; ``n`` stays a symbol.

    Returns
    -------
    list of DerivationStep
        Steps whose expressions named "minus" are zero exactly when the step holds; the stationary
        point is solved with :func:`sympy.solve`.  Fully symbolic Λ is practical for ``d <= 2``
        (seconds); pass a rational ``train_cov`` for ``d = 3``.
    """
    d = positive_int(d, "d")
    if train_cov is None:
        lam = symbolic_covariance(d)
    else:
        exact = as_exact_covariance(train_cov, "train_cov")
        if exact.shape[0] != d:
            raise ValueError(f"train_cov must be {d} x {d}, got {exact.shape}")
        lam = sp.Matrix(d, d, lambda i, j: sp.Rational(exact[i, j].numerator, exact[i, j].denominator))
    n = sp.Symbol("n", positive=True, integer=True)
    c = sp.Symbol("c", nonzero=True, real=True)
    V31 = symbolic_matrix(d, "v")
    P = symbolic_matrix(d, "p")
    Gamma = (1 + 1 / n) * lam + lam.trace() / n * sp.eye(d)
    M = Gamma * lam

    # 1. the forward map at ŵ_0 = 0, with explicit symbolic prompt entries (n_small examples)
    n_small = 2
    X = sp.Matrix(d, n_small, lambda r, s: sp.Symbol(f"x_{r}{s}", real=True))
    w = sp.Matrix(d, 1, lambda r, _: sp.Symbol(f"w_{r}", real=True))
    E = _sym_embedding(X, w.T * X, [sp.zeros(d, 1)])
    V, W = sparse_parameters_symbolic(V31, c)
    last = lsa_forward_symbolic(E, V, W, n_small)[:, -1]
    S = X * X.T / n_small
    forward_gap = sp.expand(last - sp.Matrix.vstack(sp.zeros(d + 1, 1), -c * V31 * S * w, sp.ones(1, 1)))

    # 2. the loss through the lemma E[Ŝ A Ŝ] with A = PᵀP, E_w[w wᵀ] = I, E[Ŝ] = Λ
    lemma = wishart_sas_symbolic(lam, P.T * P, n)
    loss = sp.expand(lemma.trace() / 2 - (P * lam).trace() + sp.Rational(d, 2))
    closed = sp.expand((P * M * P.T).trace() / 2 - (P * lam).trace() + sp.Rational(d, 2))
    p_syms = list(P)
    grad = sp.Matrix(d, d, lambda i, j: sp.diff(loss, P[i, j]))
    grad_gap = sp.expand(grad - (P * M - lam))
    hessian = sp.hessian(loss, p_syms)
    # vec is row-major over P's entries: ∂²L/∂p_ij∂p_kl = δ_ik M_jl, i.e. I_d ⊗ M
    kron = sp.Matrix(d * d, d * d, lambda r, s: (1 if r // d == s // d else 0) * M[r % d, s % d])
    hessian_gap = sp.expand(hessian - kron)

    Gamma_inv = Gamma.inv()
    solutions = sp.solve(list(grad), p_syms, dict=True)
    if len(solutions) != 1 or set(solutions[0]) != set(p_syms):
        raise ArithmeticError(f"expected a unique stationary point, sympy found {solutions}")
    stationary = P.subs(solutions[0])
    # rational functions of the entries of Λ and n: cancel() brings each difference to p/q form
    stationary_gap = (stationary - Gamma_inv).applyfunc(sp.cancel)
    at_minimum = loss.subs(dict(zip(p_syms, list(Gamma_inv))))
    minimum = sp.cancel(at_minimum - (sp.Rational(d, 2) - (Gamma_inv * lam).trace() / 2))
    return [
        DerivationStep(f"Forward map at ŵ_0 = 0 ({n_small} symbolic examples): last column minus "
                       "(0, 0, −c V_31 Ŝ_n w, 1)", forward_gap),
        DerivationStep("Loss ½E‖PŜw − w‖² = ½ tr E[Ŝ PᵀP Ŝ] − tr(PΛ) + d/2 via the moment lemma", loss),
        DerivationStep("Loss minus ½ tr(P ΓΛ Pᵀ) + tr(PΛ) − d/2", sp.expand(loss - closed)),
        DerivationStep("∇_P L minus (P ΓΛ − Λ)", grad_gap),
        DerivationStep("Stationary point: sympy.solve of ∇L = 0 (linear in the entries of P)", stationary),
        DerivationStep("Stationary point minus Γ⁻¹", stationary_gap),
        DerivationStep("Hessian in vec(P) (row-major) minus I_d ⊗ ΓΛ", hessian_gap),
        DerivationStep("Minimum value minus (d/2 − ½ tr(Γ⁻¹Λ))", minimum),
    ]


def derive_singular_minimisers(lam1=sp.Symbol("lambda_1", positive=True)) -> list[DerivationStep]:
    r"""Stationary points for the singular ``Λ = diag(λ_1, 0)`` (d = 2): a whole affine family.

    .. math:: P\,\Gamma\Lambda = \Lambda \iff P = \Gamma^{-1} + R\,\Pi_0,\quad \Pi_0 = e_2 e_2^\top,\ R \text{ free}

    The loss is flat along ``P ↦ P + RΠ_0``; gradient descent only ever adds multiples of
    ``(PΓΛ − Λ)``, whose rows lie in the range of Λ, so from ``P_0`` it converges to
    ``Γ^{-1}Π_+ + P_0 Π_0`` (``Π_+`` the projector on the range of Λ) — from ``P_0 = 0`` that is
    not ``Γ^{-1}``, which has ``(Γ^{-1})_{22} = n/λ_1``.
    """
    n = sp.Symbol("n", positive=True, integer=True)
    lam = sp.diag(lam1, 0)
    P = symbolic_matrix(2, "p")
    Gamma = (1 + 1 / n) * lam + lam.trace() / n * sp.eye(2)
    grad = P * Gamma * lam - lam
    solutions = sp.solve(list(grad), list(P), dict=True)
    family = P.subs(solutions[0]) if len(solutions) == 1 else None
    hessian_eigs = (Gamma * lam).eigenvals()
    return [
        DerivationStep("Λ (singular)", lam),
        DerivationStep("Γ⁻¹", Gamma.inv()),
        DerivationStep("Solutions of P ΓΛ = Λ (free symbols remain: a family)", family),
        DerivationStep("Eigenvalues of ΓΛ (the Hessian is I ⊗ ΓΛ): a zero eigenvalue",
                       sp.Matrix(list(hessian_eigs.keys()))),
        DerivationStep("Gradient-descent limit from P_0 = 0: Γ⁻¹ Π_+", Gamma.inv() * sp.diag(1, 0)),
    ]


# ---------------------------------------------------------------------------------------------
# Gradient descent on the exact population loss (V_31 alone, W fixed at W_13 = cI, W_24 = −c)


def gd_step_threshold(train_cov, n, c: float = 1.0) -> float:
    r"""Largest constant step size for which GD on ``V_31`` converges.

    .. math:: V \leftarrow V - \eta\nabla_V L,\ P = -cV \Rightarrow
              P_{t+1} - \Gamma^{-1} = (P_t - \Gamma^{-1})(I - \eta c^2 \Gamma\Lambda),\qquad
              \eta < \eta_{\max} = \frac{2}{c^2 \lambda_{\max}(\Gamma\Lambda)}
    """
    c = nonzero_float(c, "c")
    _, _, M = _curvature(train_cov, n)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        eta_max = float(2 / (c * c * np.linalg.eigvalsh(M)[-1]))
    if not (np.isfinite(eta_max) and eta_max > 0):
        raise float_range_error("gd_step_threshold", train_cov=train_cov, c=c)
    return eta_max


def gd_rate(train_cov, n, eta, c: float = 1.0) -> float:
    r"""Predicted linear rate of GD on ``V_31``: the spectral radius of ``I − ηc²ΓΛ``.

    .. math:: r(\eta) = \max_i |1 - \eta c^2 \mu_i|,\ \mu_i \in \operatorname{spec}(\Gamma\Lambda);
              \quad r = 1 - \eta c^2 \lambda_{\min}(\Gamma\Lambda)
              \text{ when } \eta \le 2 / (c^2(\lambda_{\min} + \lambda_{\max}))
    """
    c = nonzero_float(c, "c")
    eta = positive_float(eta, "eta")
    _, _, M = _curvature(train_cov, n)
    with np.errstate(over="ignore", invalid="ignore"):
        rate = float(np.max(np.abs(1 - eta * c * c * np.linalg.eigvalsh(M))))
    if not np.isfinite(rate):
        raise float_range_error("gd_rate", train_cov=train_cov, eta=eta, c=c)
    return rate


@dataclass(frozen=True)
class GDResult:
    """Gradient descent on ``V_31``: final iterate, ``‖P_t − Γ^{-1}‖_F`` and loss per step.

    ``diverged`` is True when the error exceeded ``1e8`` times its initial value, or the next error
    or loss would leave the float range (that step is dropped and ``V31`` is the last finite
    iterate); the run then stopped there and ``errors`` is shorter than ``steps + 1``.
    """

    V31: np.ndarray
    errors: np.ndarray
    losses: np.ndarray
    diverged: bool

    def measured_rate(self, window: tuple[float, float] = (1e-9, 1e-2)) -> float:
        """Geometric mean of ``e_{t+1}/e_t`` over the steps whose relative error lies in ``window``.

        The window keeps away from the start (sub-dominant modes not yet decayed) and from the
        floating-point floor (~1e-16 relative); for a diverging run use ``window=(1e2, 1e8)``.
        """
        rel = self.errors / self.errors[0]
        idx = np.flatnonzero((rel >= window[0]) & (rel <= window[1]))
        if idx.size < 2:
            raise ValueError(f"window {window} holds fewer than two steps of the run")
        a, b = idx[0], idx[-1]
        return float((self.errors[b] / self.errors[a]) ** (1 / (b - a)))


def gd_population(train_cov, n, eta, steps, c: float = 1.0, V31_init=None) -> GDResult:
    r"""Gradient descent on the exact population loss over ``V_31`` (W fixed: ``W_13 = cI``, ``W_24 = −c``).

    .. math:: V_{t+1} = V_t - \eta\,\nabla_V L(V_t),\qquad \nabla_V L = -c\,(P\Gamma\Lambda - \Lambda),\ P = -cV

    Initialization: ``V_31 = 0`` unless ``V31_init`` is given.  (The paper's Eq. 3.6 initialization
    is not available to us.)  Converges to ``V_* = −Γ^{-1}/c`` iff ``eta < gd_step_threshold``
    (Λ positive definite).
    """
    c = nonzero_float(c, "c")
    eta = positive_float(eta, "eta")
    steps = positive_int(steps, "steps", minimum=0)
    lam, G, M = _curvature(train_cov, n)
    d = lam.shape[0]
    V = np.zeros((d, d)) if V31_init is None else square_matrix(V31_init, d, "V31_init").copy()
    target = np.linalg.inv(G)
    errors, losses = [], []
    diverged = False
    for t in range(steps + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            P = -c * V
            error = float(np.linalg.norm(P - target))
            loss = float(0.5 * np.trace(P @ M @ P.T) - np.trace(P @ lam) + d / 2)
        if not (np.isfinite(error) and np.isfinite(loss)):
            if t == 0:
                raise float_range_error("gd_population (the initial error and loss)",
                                        train_cov=lam, c=c, V31_init=V)
            diverged = True  # left the float range: stop before the non-finite step, as at 1e8
            V = V_prev
            break
        errors.append(error)
        losses.append(loss)
        if errors[-1] > 1e8 * max(errors[0], 1e-300):
            diverged = True
            break
        if t < steps:
            V_prev = V
            with np.errstate(over="ignore", invalid="ignore"):
                V = V + eta * c * (P @ M - lam)
    return GDResult(V31=V, errors=np.array(errors), losses=np.array(losses), diverged=diverged)


# ---------------------------------------------------------------------------------------------
# Joint training of the scalar u (W_24 = −u) with V_31: the Zhang–Frei–Bartlett analogue


def joint_limit(train_cov, n, imbalance: float = 0.0) -> tuple[float, np.ndarray]:
    r"""Limit of gradient flow on ``(u, V_31)`` with conserved ``δ = u² − ‖V_31‖_F²``.

    .. math:: u V_{31} \to -\Gamma^{-1},\quad u_\infty^2 - \frac{\operatorname{tr}\Gamma^{-2}}{u_\infty^2} = \delta
              \Rightarrow u_\infty^2 = \frac{\delta + \sqrt{\delta^2 + 4\operatorname{tr}\Gamma^{-2}}}{2};
              \ \delta = 0:\ u_\infty = \operatorname{tr}(\Gamma^{-2})^{1/4}

    (ZFB 2023, Thm 4.1, for the balanced case; ``u_∞ > 0`` is the branch reached from ``u(0) > 0``.)

    Returns
    -------
    (u, V31) : float and ``(d, d)`` array, ``V31 = −Γ^{-1}/u``.
    """
    G = gamma(as_covariance(train_cov, "train_cov"), n)  # ΓΛ is not needed: it may overflow where Γ does not
    delta = finite_real(imbalance, "imbalance")
    # Γ = s Γ_s with s = max|Γ|, so Γ^{-1} = Γ_s^{-1}/s and r = sqrt(4 tr Γ^{-2}) = 2‖Γ_s^{-1}‖_F/s are
    # formed without squaring a quantity near the float range; u² = (δ + hypot(δ, r))/2, written as
    # r²/(2(hypot(δ, r) − δ)) for δ < 0 to avoid the cancellation.
    s = float(np.max(np.abs(G)))
    Ginv_s = np.linalg.inv(G / s)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        r = 2 * float(np.linalg.norm(Ginv_s)) / s
        h = float(np.hypot(delta, r))
        u = np.sqrt((delta + h) / 2) if delta >= 0 else r / np.sqrt(2 * (h - delta))
        V31 = -Ginv_s / (s * u)
    if not (np.isfinite(u) and u > 0 and np.all(np.isfinite(V31))):
        raise float_range_error("joint_limit", train_cov=train_cov, imbalance=delta)
    return float(u), V31


def balanced_init(d: int, sigma: float, theta=None) -> tuple[float, np.ndarray]:
    r"""ZFB's small balanced initialization: ``u(0) = σ``, ``V_31(0) = −σ ΘΘᵀ/‖ΘΘᵀ‖_F``.

    Then ``u² − ‖V_31‖_F² = 0`` and ``P(0) = −u V_31 = σ² ΘΘᵀ/‖ΘΘᵀ‖_F`` is PSD.  Default ``Θ = I``.
    """
    d = positive_int(d, "d")
    sigma = positive_float(sigma, "sigma")
    theta = np.eye(d) if theta is None else float_array(theta, "theta")
    if theta.ndim != 2 or theta.shape[0] != d or not np.all(np.isfinite(theta)):
        raise ValueError(f"theta must be a finite ({d}, r) matrix, got shape {theta.shape}")
    TT = theta @ theta.T
    norm = np.linalg.norm(TT)
    if norm == 0:
        raise ValueError("theta must be nonzero")
    return sigma, -sigma * TT / norm


@dataclass(frozen=True)
class JointResult:
    """Joint training of ``(u, V_31)``: final values and, per recorded time, the invariant
    ``u² − ‖V_31‖_F²`` and the product error ``‖−u V_31 − Γ^{-1}‖_F``."""

    u: float
    V31: np.ndarray
    invariant: np.ndarray
    errors: np.ndarray


def _joint_rhs(lam, M):
    def grad(u, V):
        G = (-u * V) @ M - lam  # ∇_P L at P = −uV
        return -np.sum(V * G), -u * G  # (∂L/∂u, ∂L/∂V)
    return grad


def joint_gd(train_cov, n, eta, steps, u0: float, V0) -> JointResult:
    r"""Gradient descent on ``L(−u V_31)`` jointly in ``u`` and ``V_31``.

    .. math:: \partial_V L = -u\,(P\Gamma\Lambda - \Lambda),\quad
              \partial_u L = -\langle V, P\Gamma\Lambda - \Lambda\rangle,\quad P = -uV

    Each step changes ``u² − ‖V‖_F²`` by ``η²(g_u² − ‖g_V‖_F²)`` only (the first-order terms
    cancel), so the drift over a run is O(η).
    """
    eta = positive_float(eta, "eta")
    steps = positive_int(steps, "steps", minimum=0)
    lam, G, M = _curvature(train_cov, n)
    u = float(u0)
    V = square_matrix(V0, lam.shape[0], "V0").copy()
    target = np.linalg.inv(G)
    grad = _joint_rhs(lam, M)
    inv, err = [u * u - np.sum(V * V)], [np.linalg.norm(-u * V - target)]
    for _ in range(steps):
        gu, gV = grad(u, V)
        u, V = u - eta * gu, V - eta * gV
        inv.append(u * u - np.sum(V * V))
        err.append(np.linalg.norm(-u * V - target))
        if not np.isfinite(err[-1]) or err[-1] > 1e8 * (1 + err[0]):
            raise OverflowError(f"joint gradient descent diverged at step {len(err) - 1} (eta = {eta})")
    return JointResult(u=u, V31=V, invariant=np.array(inv), errors=np.array(err))


def joint_gradient_flow(train_cov, n, t_end, u0: float, V0, rtol: float = 1e-11) -> JointResult:
    r"""Gradient flow on ``(u, V_31)``, integrated with an adaptive Runge–Kutta method (DOP853).

    .. math:: \dot V = u\,(P\Gamma\Lambda - \Lambda),\quad \dot u = \langle V, P\Gamma\Lambda - \Lambda\rangle,
              \quad \frac{d}{dt}\big(u^2 - \|V\|_F^2\big) = 0
    """
    from scipy.integrate import solve_ivp
    t_end = positive_float(t_end, "t_end")
    lam, G, M = _curvature(train_cov, n)
    d = lam.shape[0]
    V0 = square_matrix(V0, d, "V0")
    grad = _joint_rhs(lam, M)

    def rhs(_, z):
        gu, gV = grad(z[0], z[1:].reshape(d, d))
        return np.concatenate([[-gu], -gV.ravel()])

    sol = solve_ivp(rhs, (0.0, t_end), np.concatenate([[float(u0)], V0.ravel()]), method="DOP853",
                    rtol=rtol, atol=rtol * 1e-2, dense_output=False, t_eval=np.linspace(0, t_end, 201))
    if not sol.success:
        raise ArithmeticError(f"gradient flow integration failed: {sol.message}")
    target = np.linalg.inv(G)
    us, Vs = sol.y[0], sol.y[1:].T.reshape(-1, d, d)
    inv = us**2 - np.einsum("tij,tij->t", Vs, Vs)
    err = np.linalg.norm(-us[:, None, None] * Vs - target, axis=(1, 2))
    return JointResult(u=float(us[-1]), V31=Vs[-1], invariant=inv, errors=err)


# ---------------------------------------------------------------------------------------------
# The full model: every entry of V and W trainable, SGD on sampled prompts


def sparse_initialization(d: int, c: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The initialization used for SGD: ``V = 0``, ``W_13 = c I``, ``W_24 = −c``, all else 0."""
    d = positive_int(d, "d")
    c = nonzero_float(c, "c")
    b = _blocks(d)
    V = np.zeros((2 * d + 2, 2 * d + 2))
    W = np.zeros((2 * d + 2, 2 * d + 2))
    W[b["x"], b["w"]] = c * np.eye(d)
    W[b["y"], b["one"]] = -c
    return V, W


def sparse_pattern_mask(d: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the pattern entries: ``V_31`` in V; ``W_13`` and ``W_24`` in W."""
    d = positive_int(d, "d")
    b = _blocks(d)
    mV = np.zeros((2 * d + 2, 2 * d + 2), dtype=bool)
    mW = np.zeros_like(mV)
    mV[b["w"], b["x"]] = True
    mW[b["x"], b["w"]] = True
    mW[b["y"], b["one"]] = True
    return mV, mW


def zero_gradient_mask(d: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Entries of V and W whose gradient vanishes identically when ``ŵ_0 = 0``.

    With ``e = E[:, −1] = (0, 0, 0, 1)`` and the w-rows of ``E`` all zero:

    .. math:: \nabla_V \ell = r\,a^\top,\ a = E E^\top W e/\rho \Rightarrow a_w = 0;\qquad
              \nabla_W \ell = E E^\top V^\top r\, e^\top/\rho \Rightarrow \text{only column } 1,
              \text{ and its w-rows vanish}

    so the w-columns of V (every row), all columns of W but the last, and the w-rows of W's last
    column never move; in particular ``W_13`` keeps its initial value ``c I``.
    """
    d = positive_int(d, "d")
    b = _blocks(d)
    D = 2 * d + 2
    mV = np.zeros((D, D), dtype=bool)
    mW = np.ones((D, D), dtype=bool)
    mV[:, b["w"]] = True
    mW[:, b["one"]] = False
    mW[b["w"], b["one"]] = True
    return mV, mW


@dataclass(frozen=True)
class PromptBatch:
    """A batch of training prompts: embeddings ``(B, 2d+2, n+1)`` and targets ``(B, 2d+2)``."""

    E: np.ndarray
    target: np.ndarray


def sample_prompts(train_cov, n, batch, rng, antithetic: bool = False) -> PromptBatch:
    """Training prompts ``(X, y = Xᵀw)`` with ``x ~ N(0, Λ)``, ``w ~ N(0, I)``, ``ŵ_0 = 0``.

    ``antithetic=True`` pairs every prompt with its mirror ``(X, −w)`` (``batch`` must be even):
    the population is symmetric under ``w → −w``, and a mirrored batch makes the gradient odd
    under that symmetry cancel exactly.
    """
    lam = as_covariance(train_cov, "train_cov")
    n = positive_int(n, "n")
    batch = positive_int(batch, "batch", minimum=2 if antithetic else 1)
    if antithetic and batch % 2:
        raise ValueError(f"batch must be even with antithetic=True, got {batch}")
    d = lam.shape[0]
    D = 2 * d + 2
    draws = batch // 2 if antithetic else batch
    w = rng.standard_normal((draws, d))
    X = np.einsum("ij,bjn->bin", _covariance_root(lam), rng.standard_normal((draws, d, n)))
    if antithetic:
        w, X = np.concatenate([w, -w]), np.concatenate([X, X])
    y = np.einsum("bin,bi->bn", X, w)
    E = np.zeros((batch, D, n + 1))
    E[:, :d, :n] = X
    E[:, d, :n] = y
    E[:, D - 1, n] = 1.0
    target = np.zeros((batch, D))
    target[:, d + 1:2 * d + 1] = w
    target[:, D - 1] = 1.0
    return PromptBatch(E=E, target=target)


def lsa_losses(V, W, batch: PromptBatch, rho) -> np.ndarray:
    r"""Per-prompt loss :math:`\tfrac12\|f(E)_{:, -1} - (0, 0, w, 1)\|^2`, shape ``(B,)``.

    Vectorised over the batch; the forward map is :func:`theory.lsa.lsa_forward`'s, restricted to
    the last column (the only one the loss reads).
    """
    r, _ = _last_column_residual(V, W, batch, rho)
    return 0.5 * np.sum(r * r, axis=1)


def _last_column_residual(V, W, batch: PromptBatch, rho):
    E, target = batch.E, batch.target
    D = E.shape[1]
    V = float_array(V, "V")
    W = float_array(W, "W")
    for name, M in (("V", V), ("W", W)):
        if M.shape != (D, D):
            raise ValueError(f"{name} must have shape ({D}, {D}), got {M.shape}")
        if not np.all(np.isfinite(M)):
            raise ValueError(f"{name} must be finite, found NaN or inf")
    rho = positive_float(rho, "rho")
    e = E[:, :, -1]
    a = np.einsum("bdn,bn->bd", E, np.einsum("bdn,bd->bn", E, e @ W.T)) / rho
    return e + a @ V.T - target, a


def lsa_loss_and_gradients(V, W, batch: PromptBatch, rho) -> tuple[float, np.ndarray, np.ndarray]:
    r"""Mean loss over a batch of prompts and its exact gradients in every entry of V and W.

    .. math::
        \ell = \tfrac12\|e + V a - t\|^2,\ e = E_{:, -1},\ a = \frac{E E^\top W e}{\rho},\ r = e + Va - t;\qquad
        \nabla_V \ell = r a^\top,\quad \nabla_W \ell = \frac{E E^\top V^\top r\, e^\top}{\rho}
    """
    r, a = _last_column_residual(V, W, batch, rho)
    V = float_array(V, "V")
    rho = float(rho)
    E = batch.E
    B = E.shape[0]
    e = E[:, :, -1]
    k = np.einsum("bdn,bn->bd", E, np.einsum("bdn,bd->bn", E, r @ V)) / rho
    return float(0.5 * np.mean(np.sum(r * r, axis=1))), r.T @ a / B, k.T @ e / B


@dataclass(frozen=True)
class SGDResult:
    """SGD on the full LSA: learned ``V``, ``W`` and the batch loss per step."""

    V: np.ndarray
    W: np.ndarray
    losses: np.ndarray


def sgd_lsa(train_cov, n, steps, batch, eta, seed, c: float = 1.0, decay_from: float = 0.5,
            antithetic: bool = False) -> SGDResult:
    r"""Mini-batch SGD on every entry of V and W (``(2d+2)²`` each), from :func:`sparse_initialization`.

    .. math:: (V, W) \leftarrow (V, W) - \eta_t\,\nabla \hat L_B(V, W),\qquad
              \eta_t = \eta \text{ for } t < t_0,\ \eta\,t_0/(t+1) \text{ after } (t_0 = \text{decay\_from}\cdot\text{steps})

    The ``1/t`` tail lowers the stationary SGD noise.  ``seed`` (int or SeedSequence) is the only
    source of randomness.
    """
    lam = as_covariance(train_cov, "train_cov")
    n = positive_int(n, "n")
    steps = positive_int(steps, "steps", minimum=0)
    eta = positive_float(eta, "eta")
    decay_from = finite_real(decay_from, "decay_from")
    if not 0 <= decay_from <= 1:
        raise ValueError(f"decay_from must lie in [0, 1], got {decay_from!r}")
    d = lam.shape[0]
    V, W = sparse_initialization(d, c)
    rng = np.random.default_rng(seed_value(seed))
    t0 = max(1, int(decay_from * steps))
    losses = np.empty(steps)
    for t in range(steps):
        prompts = sample_prompts(lam, n, batch, rng, antithetic)
        with np.errstate(over="ignore", invalid="ignore"):
            loss, gV, gW = lsa_loss_and_gradients(V, W, prompts, n)
        losses[t] = loss
        if not np.isfinite(loss) or loss > 1e12:
            scale = float(np.max(np.abs(lam)))
            raise OverflowError(f"SGD diverged at step {t} (loss {loss:.3g}, eta = {eta}, "
                                f"train_cov max |entry| = {scale:.3g})")
        step = eta if t < t0 else eta * t0 / (t + 1)
        V -= step * gV
        W -= step * gW
    return SGDResult(V=V, W=W, losses=losses)
