"""The one-layer linear self-attention (LSA) model, its prompts and its chain-of-thought rollout.

Notation (poster of arXiv 2510.03605; row blocks of an embedding are ``(x; y; w; 1)``):

* training prompt ``E = [[X, 0], [y, 0], [0, ŵ_0], [0, 1]]`` of shape ``(2d+2, n+1)``, ``ŵ_0 = 0``;
* CoT prompt after ``i`` steps: the ``m`` example columns, then one column ``(0, 0, w_l, 1)`` for each
  estimate ``w_0, ..., w_i``;
* ``f(E; V, W) = E + V E (Eᵀ W E) / ρ`` with ``ρ`` the number of examples in the prompt;
* the prediction is the w-block (0-based rows ``d+1 .. 2d``) of the last column of ``f(E)``.

Convention of this project: ``w_0 = 0`` and ``k`` counts LSA forward passes, so ``k = 1`` is direct
in-context learning and ``w_k`` is the estimate after ``k`` passes.  The paper's ``w_{k+1}`` "after k
steps" is our ``w_k`` (it starts counting at ``w_1 = 0``).
"""

from __future__ import annotations

import numpy as np

from theory._validate import (LOOP_STEP_COST, cost_guard, float_array, float_range_error,
                              nonzero_float, positive_float, positive_int)
from theory.covariance import gamma


def _blocks(d: int) -> dict[str, slice]:
    return {"x": slice(0, d), "y": slice(d, d + 1), "w": slice(d + 1, 2 * d + 1),
            "one": slice(2 * d + 1, 2 * d + 2)}


def _check_examples(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = float_array(X, "X")
    y = float_array(y, "y")
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must be a (d, m) matrix with d, m >= 1 (one column per example), got shape {X.shape}")
    if y.ndim != 1 or y.shape[0] != X.shape[1]:
        raise ValueError(f"y must be a vector with one label per column of X ({X.shape[1]}), got shape {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite, found NaN or inf")
    return X, y


def embed_prompt(X, y, estimates=None) -> np.ndarray:
    """Embedding of a prompt: example columns, then one column ``(0, 0, w_l, 1)`` per estimate.

    Parameters
    ----------
    X : array_like, shape (d, m)
        Features, one column per example.
    y : array_like, shape (m,)
        Labels.
    estimates : array_like, shape (i+1, d), optional
        The estimates ``w_0, ..., w_i`` already produced. Default: the single column ``ŵ_0 = 0``,
        which is the training prompt of the poster.

    Returns
    -------
    numpy.ndarray, shape (2d+2, m+i+1)
    """
    X, y = _check_examples(X, y)
    d, m = X.shape
    if estimates is None:
        estimates = np.zeros((1, d))
    estimates = float_array(estimates, "estimates")
    if estimates.ndim == 1:
        estimates = estimates[None, :]
    if estimates.ndim != 2 or estimates.shape[1] != d or estimates.shape[0] < 1:
        raise ValueError(f"estimates must have shape (i+1, d) with d = {d}, got {estimates.shape}")
    if not np.all(np.isfinite(estimates)):
        raise ValueError("estimates must be finite, found NaN or inf")
    b = _blocks(d)
    E = np.zeros((2 * d + 2, m + estimates.shape[0]))
    E[b["x"], :m] = X
    E[b["y"], :m] = y
    E[b["w"], m:] = estimates.T
    E[b["one"], m:] = 1.0
    return E


def lsa_forward(E, V, W, rho) -> np.ndarray:
    r"""The LSA layer.

    .. math:: f(E; V, W) = E + V E \frac{E^\top W E}{\rho}
    """
    E = float_array(E, "E")
    V = float_array(V, "V")
    W = float_array(W, "W")
    if E.ndim != 2 or E.shape[0] < 1 or E.shape[1] < 1:
        raise ValueError(f"E must be a non-empty 2-D embedding (rows x columns), got shape {E.shape}")
    D = E.shape[0]
    for name, M in (("E", E), ("V", V), ("W", W)):
        if name != "E" and M.shape != (D, D):
            raise ValueError(f"{name} must have shape ({D}, {D}) to act on an embedding with {D} rows, got {M.shape}")
        if not np.all(np.isfinite(M)):
            raise ValueError(f"{name} must be finite, found NaN or inf")
    rho = positive_float(rho, "rho")
    with np.errstate(over="ignore", invalid="ignore"):
        out = E + V @ E @ (E.T @ W @ E) / rho
    if not np.all(np.isfinite(out)):
        raise float_range_error("lsa_forward", E=E, V=V, W=W, rho=rho)
    return out


def read_estimate(F) -> np.ndarray:
    """The w-block of the last column of an LSA output (the poster's rows ``d+2 .. 2d+1``, 1-based)."""
    F = float_array(F, "F")
    if F.ndim != 2 or F.shape[0] < 4 or F.shape[0] % 2 or F.shape[1] < 1:
        raise ValueError(f"F must be an LSA output with 2d + 2 >= 4 rows, got shape {F.shape}")
    if not np.all(np.isfinite(F)):
        raise ValueError("F must be finite, found NaN or inf")
    d = (F.shape[0] - 2) // 2
    return F[_blocks(d)["w"], -1].copy()


def trained_parameters(train_cov, n, c: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The sparse global optimum of Theorem 3.1: ``V_31 = -Γ^{-1}/c``, ``W_13 = c I``, ``W_24 = -c``.

    Block indices are 1-based over ``(x, y, w, 1)``: ``V_31`` maps the x-block into the w-block,
    ``W_13`` pairs the x-block with the w-block and ``W_24`` the y-block with the constant row.

    Returns
    -------
    (V, W) : pair of numpy.ndarray, each ``(2d+2, 2d+2)``.
    """
    G = gamma(train_cov, n)
    c = nonzero_float(c, "c")
    d = G.shape[0]
    b = _blocks(d)
    V = np.zeros((2 * d + 2, 2 * d + 2))
    W = np.zeros((2 * d + 2, 2 * d + 2))
    V[b["w"], b["x"]] = -np.linalg.inv(G) / c
    W[b["x"], b["w"]] = c * np.eye(d)
    W[b["y"], b["one"]] = -c
    return V, W


def cot_rollout(V, W, X, y, k) -> np.ndarray:
    """Chain of thought by actual forward passes over the growing prompt (``ρ = m``).

    Returns
    -------
    numpy.ndarray, shape (k+1, d)
        ``w_0 = 0, w_1, ..., w_k``; ``w_{i+1}`` is read from ``f`` of the prompt holding ``w_0..w_i``.

    Raises
    ------
    OverflowError
        When an estimate stops being finite (a divergent rollout), naming the step; the rollout
        is not continued on inf/NaN.
    """
    X, y = _check_examples(X, y)
    k = positive_int(k, "k", minimum=0)
    d, m = X.shape
    # step i: about 20 NumPy calls on (2d+2)-row embeddings with m+i+1 columns (E^T W E alone is
    # (m+i+1)^2 (2d+2) multiply-adds)
    cols = m + k + 1
    cost_guard(float(k) * (20 * LOOP_STEP_COST + cols * cols * (2 * d + 2) + cols * (2 * d + 2) ** 2),
               f"a rollout of k forward passes over prompts of up to {cols} columns", "k", k)
    estimates = np.zeros((1, d))
    for i in range(k):
        try:
            new = read_estimate(lsa_forward(embed_prompt(X, y, estimates), V, W, rho=m))
        except OverflowError:
            new = np.full(d, np.inf)
        if not np.all(np.isfinite(new)):
            raise OverflowError(f"cot_rollout diverged: w_{i + 1} is not finite (the iteration "
                                f"grows without bound; last finite max|w_i| = {np.max(np.abs(estimates[-1])):.3g})")
        estimates = np.vstack([estimates, new])
    return estimates
