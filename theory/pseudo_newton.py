"""Chain of thought as a pseudo-Newton iteration (Proposition 3.2 of arXiv 2510.03605).

Notation (poster; row blocks of an embedding are ``(x; y; w; 1)``):

* test prompt ``X ∈ R^{d×m}``, ``y = Xᵀw``, ``Ŝ_m = X Xᵀ / m``;
* CoT prompt ``E_i``: the ``m`` example columns, then the estimate columns ``(0, 0, w_l, 1)``,
  ``l = 0..i``; ``w_{i+1}`` is the w-block of the last column of ``f(E_i)``;
* trained parameters ``V_31 = −Γ^{-1}/c``, ``W_13 = c I``, ``W_24 = −c``;
* Proposition 3.2: ``w_{i+1} = w_i − Γ^{-1} Ŝ_m (w_i − w)`` (``ρ = m``), the Newton step on
  ``ℓ(w) = (1/2m)‖y − Xᵀw‖²`` with ``Γ^{-1}`` in place of the inverse Hessian ``Ŝ_m^{-1}``;
* closed form, with ``w_0 = 0``: ``w_k = (I − (I − Γ^{-1}Ŝ_m)^k) w`` (our ``w_k`` is the paper's
  ``w_{k+1}``, which counts from ``w_1 = 0``).

Exact route: :func:`derive_cot_step_blocks` (block-matrix algebra, general ``d``, ``m``, any
number of earlier CoT columns, general ``ρ``) and :func:`derive_cot_step` (explicit symbolic
entries for small ``d``, ``m``, ``i``).  Numerical route: :func:`cot_recurrence` and
:func:`cot_closed_form`, to compare with :func:`theory.lsa.cot_rollout`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from theory._validate import LOOP_STEP_COST, cost_guard, float_array, float_range_error, positive_int
from theory.covariance import gamma
from theory.lsa import _check_examples
from theory.moments import DerivationStep


def _gamma_inverse(train_cov, n, d: int) -> np.ndarray:
    G = gamma(train_cov, n)
    if G.shape[0] != d:
        raise ValueError(f"train_cov and X must have the same dimension, got d = {G.shape[0]} and d = {d}")
    return np.linalg.inv(G)


def cot_recurrence(train_cov, n, X, y, k) -> np.ndarray:
    r"""CoT estimates by the pseudo-Newton recurrence of Proposition 3.2 (no forward passes).

    .. math:: w_{i+1} = w_i - \Gamma^{-1}\Big(\hat S_m w_i - \frac{1}{m} X y\Big)
              = w_i - \Gamma^{-1}\hat S_m (w_i - w), \qquad w_0 = 0

    (the two forms agree when ``y = Xᵀw``; the first needs only the prompt).

    Returns
    -------
    numpy.ndarray, shape (k+1, d)
        ``w_0 = 0, w_1, ..., w_k``.
    """
    X, y = _check_examples(X, y)
    k = positive_int(k, "k", minimum=0)
    d, m = X.shape
    cost_guard(float(k) * (6 * LOOP_STEP_COST + 2 * d * d), "k steps of the recurrence", "k", k)
    Ginv = _gamma_inverse(train_cov, n, d)
    with np.errstate(over="ignore", invalid="ignore"):
        S = X @ X.T / m
        target = X @ y / m
    if not (np.all(np.isfinite(S)) and np.all(np.isfinite(target))):
        raise float_range_error("cot_recurrence (the moments X X^T/m and X y/m)", X=X, y=y)
    out = np.zeros((k + 1, d))
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(k):
            out[i + 1] = out[i] - Ginv @ (S @ out[i] - target)
            if not np.all(np.isfinite(out[i + 1])):
                raise OverflowError(_diverged("cot_recurrence", i + 1))
    return out


def cot_closed_form(train_cov, n, X, w, k) -> np.ndarray:
    r"""Closed form of the CoT estimates for noiseless labels ``y = Xᵀw``.

    .. math:: w_k = \big(I - (I - \Gamma^{-1}\hat S_m)^k\big)\, w

    Returns
    -------
    numpy.ndarray, shape (k+1, d)
        ``w_0 = 0, ..., w_k``, each from a matrix power (not from the recurrence).
    """
    X = float_array(X, "X")
    w = float_array(w, "w")
    if X.ndim != 2:
        raise ValueError(f"X must be a (d, m) matrix (one column per example), got shape {X.shape}")
    if w.shape != (X.shape[0],):
        raise ValueError(f"w must be a vector of length d = {X.shape[0]}, got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("w must be finite, found NaN or inf")
    X, _ = _check_examples(X, X.T @ w)
    d, m = X.shape
    k = positive_int(k, "k", minimum=0)
    # matrix_power(C, j) takes about 2 log2(j) products of d x d matrices, each one NumPy call
    calls = 2 * max(1, k).bit_length()
    cost_guard(float(k + 1) * ((calls + 4) * LOOP_STEP_COST + calls * d ** 3), "k + 1 matrix powers", "k", k)
    Ginv = _gamma_inverse(train_cov, n, d)
    with np.errstate(over="ignore", invalid="ignore"):
        contraction = np.eye(d) - Ginv @ (X @ X.T / m)
    if not np.all(np.isfinite(contraction)):
        raise float_range_error("cot_closed_form (the contraction I - Γ^{-1} X X^T/m)", train_cov=train_cov, X=X)
    out = np.zeros((k + 1, d))
    with np.errstate(over="ignore", invalid="ignore"):
        for j in range(k + 1):
            out[j] = w - np.linalg.matrix_power(contraction, j) @ w
            if not np.all(np.isfinite(out[j])):
                raise OverflowError(_diverged("cot_closed_form", j))
    return out


def _diverged(where: str, step: int) -> str:
    return (f"{where} diverged: w_{step} is not finite (the contraction I - Γ^{{-1}} S_m, set by train_cov and X, "
            f"grows the iterate past the float range)")


# ---------------------------------------------------------------------------------------------
# Exact route: the forward map in sympy


def _sym_embedding(X: sp.Matrix, y: sp.Matrix, estimates: list[sp.Matrix]) -> sp.Matrix:
    """The CoT prompt ``E_i`` in sympy, with the block layout of :func:`theory.lsa.embed_prompt`."""
    d, m = X.shape
    cols = len(estimates)
    E = sp.zeros(2 * d + 2, m + cols)
    E[0:d, 0:m] = X
    E[d, 0:m] = y
    for l, est in enumerate(estimates):
        E[d + 1:2 * d + 1, m + l] = est
        E[2 * d + 1, m + l] = 1
    return E


def sparse_parameters_symbolic(V31: sp.Matrix, c) -> tuple[sp.Matrix, sp.Matrix]:
    """``(V, W)`` in sympy with only ``V_31``, ``W_13 = cI`` and ``W_24 = −c`` nonzero."""
    d = V31.shape[0]
    V = sp.zeros(2 * d + 2, 2 * d + 2)
    W = sp.zeros(2 * d + 2, 2 * d + 2)
    V[d + 1:2 * d + 1, 0:d] = V31
    W[0:d, d + 1:2 * d + 1] = c * sp.eye(d)
    W[d, 2 * d + 1] = -c
    return V, W


def lsa_forward_symbolic(E: sp.Matrix, V: sp.Matrix, W: sp.Matrix, rho) -> sp.Matrix:
    r"""The LSA layer in sympy: :math:`f(E; V, W) = E + V E (E^\top W E)/\rho`."""
    return E + V * E * (E.T * W * E) / rho


def derive_cot_step(d: int, m: int, i: int) -> list[DerivationStep]:
    r"""Prop 3.2 with explicit symbolic entries: ``d × m`` prompt, estimates ``w_0 .. w_i``.

    .. math:: f(E_i)_{[w\text{-rows},\,-1]} = w_i + c V_{31}\hat S_m (w_i - w)
              \overset{V_{31} = -G/c}{=} w_i - G \hat S_m (w_i - w)

    ``X``, ``w``, every earlier estimate ``w_0..w_i`` (not only ``w_0 = 0``), ``V_31``, ``c`` and
    ``G`` (standing for ``Γ^{-1}``; the identity holds for any matrix) are independent symbols.
    ``ρ = m``.  The last two steps are zero exactly when the proposition holds.
    """
    d = positive_int(d, "d")
    m = positive_int(m, "m")
    i = positive_int(i, "i", minimum=0)
    X = sp.Matrix(d, m, lambda r, s: sp.Symbol(f"x_{r}{s}", real=True))
    w = sp.Matrix(d, 1, lambda r, _: sp.Symbol(f"w_{r}", real=True))
    ests = [sp.Matrix(d, 1, lambda r, _, l=l: sp.Symbol(f"w{l}_{r}", real=True)) for l in range(i + 1)]
    V31 = sp.Matrix(d, d, lambda r, s: sp.Symbol(f"v_{r}{s}", real=True))
    G = sp.Matrix(d, d, lambda r, s: sp.Symbol(f"g_{r}{s}", real=True))
    c = sp.Symbol("c", nonzero=True, real=True)
    y = (w.T * X)
    E = _sym_embedding(X, y, ests)
    V, W = sparse_parameters_symbolic(V31, c)
    F = lsa_forward_symbolic(E, V, W, m)
    last = F[:, -1]
    S = X * X.T / m
    w_rows = last[d + 1:2 * d + 1, 0]
    scores = sp.expand(E.T * W * E[:, -1])
    general = sp.expand(w_rows - (ests[-1] + c * V31 * S * (ests[-1] - w)))
    trained = sp.expand(w_rows.subs({V31[r, s]: -G[r, s] / c for r in range(d) for s in range(d)})
                        - (ests[-1] - G * S * (ests[-1] - w)))
    other_rows = sp.expand(sp.Matrix.vstack(last[0:d + 1, 0], last[2 * d + 1:, 0])
                           - sp.Matrix([0] * (d + 1) + [1]))
    return [
        DerivationStep(f"CoT prompt E_{i}: {m} example columns, then estimates w_0..w_{i}", E),
        DerivationStep("Attention scores Eᵀ W E[:, −1]/m of every column against the last one "
                       "(the estimate columns score 0)", scores / m),
        DerivationStep("Last column of f(E_i) = E + V E (Eᵀ W E)/m", last),
        DerivationStep("w-rows minus (w_i + c V_31 Ŝ_m (w_i − w))", general),
        DerivationStep("With V_31 = −G/c: w-rows minus (w_i − G Ŝ_m (w_i − w))", trained),
        DerivationStep("x-, y- and 1-rows of the last column minus (0, 0, 1)", other_rows),
    ]


def derive_cot_step_blocks() -> list[DerivationStep]:
    r"""Prop 3.2 in block-matrix form for general ``d``, ``m``, ``ρ`` and ``q`` earlier columns.

    .. math::
        W e_{\text{last}} = (c\,w_i;\ -c;\ 0;\ 0) \Rightarrow
        (0, 0, v, 1)\,W e_{\text{last}} = 0 \text{ for every estimate column},\qquad
        f(E_i)_{[w,-1]} = w_i - \tfrac{m}{\rho}\,G\hat S_m (w_i - w)

    so the earlier estimate columns never contribute, and the step is Prop 3.2's exactly when
    ``ρ = m`` (with another ρ the step is scaled by ``m/ρ``).
    """
    d, m, q = sp.symbols("d m q", positive=True, integer=True)
    rho = sp.Symbol("rho", positive=True)
    c = sp.Symbol("c", nonzero=True, real=True)
    Z, I = sp.ZeroMatrix, sp.Identity
    X = sp.MatrixSymbol("X", d, m)
    w = sp.MatrixSymbol("w", d, 1)
    wi = sp.MatrixSymbol("w_i", d, 1)
    Omega = sp.MatrixSymbol("Omega", d, q)  # the earlier estimate columns, arbitrary
    V31 = sp.MatrixSymbol("V_31", d, d)
    G = sp.MatrixSymbol("G", d, d)
    E_examples = sp.BlockMatrix([[X], [w.T * X], [Z(d, m)], [Z(1, m)]])
    E_estimates = sp.BlockMatrix([[Z(d, q)], [Z(1, q)], [Omega], [sp.OneMatrix(1, q)]])
    last = sp.BlockMatrix([[Z(d, 1)], [Z(1, 1)], [wi], [I(1)]])
    W = sp.BlockMatrix([[Z(d, d), Z(d, 1), c * I(d), Z(d, 1)],
                        [Z(1, d), Z(1, 1), Z(1, d), -c * I(1)],
                        [Z(d, d), Z(d, 1), Z(d, d), Z(d, 1)],
                        [Z(1, d), Z(1, 1), Z(1, d), Z(1, 1)]])
    V = sp.BlockMatrix([[Z(d, d), Z(d, 1), Z(d, d), Z(d, 1)],
                        [Z(1, d), Z(1, 1), Z(1, d), Z(1, 1)],
                        [V31, Z(d, 1), Z(d, d), Z(d, 1)],
                        [Z(1, d), Z(1, 1), Z(1, d), Z(1, 1)]])
    W_last = sp.block_collapse(W * last)
    scores_estimates = sp.block_collapse(E_estimates.T * W_last)
    scores_examples = sp.block_collapse(E_examples.T * W_last)
    # V E (Eᵀ W e) = V (E_examples s_examples + E_estimates s_estimates); the second term is V·0.
    update = sp.block_collapse(V * E_examples * scores_examples)
    w_rows = update.blocks[2, 0] / rho
    S = X * X.T / m
    general_rho = sp.expand(w_rows.subs(V31, -G / c) + (m / rho) * G * S * (wi - w))
    at_m = sp.expand(w_rows.subs(V31, -G / c).subs(rho, m) + G * S * (wi - w))
    return [
        DerivationStep("W applied to the last column (0; 0; w_i; 1): zero w- and 1-blocks", W_last),
        DerivationStep("Scores of the q earlier estimate columns (0; 0; Ω; 1ᵀ): identically zero",
                       scores_estimates),
        DerivationStep("Scores of the m example columns", scores_examples),
        DerivationStep("Update V E (Eᵀ W e)/ρ, by blocks (only examples contribute)", update / rho),
        DerivationStep("Its w-rows: the change of the estimate", w_rows),
        DerivationStep("w-rows with V_31 = −G/c, minus (−(m/ρ) G Ŝ_m (w_i − w))", general_rho),
        DerivationStep("ρ = m: w-rows minus (−G Ŝ_m (w_i − w)) — Prop 3.2", at_m),
    ]
