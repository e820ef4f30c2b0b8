r"""Task selection (Section 4): the quadratic program over the simplex, solved and certified.

Notation (proofs/math.md §16, §17 and §18):

* ``T`` tasks with covariances ``Λ_ℓ`` (``task_covs``), a target covariance ``Σ`` (``target_cov``,
  positive definite), a selection ``π`` in the simplex ``Δ_T``;
* ``B_ℓ = Σ^{-1} Λ_ℓ`` (not symmetric in general) and the mixture ``M(π) = Σ_ℓ π_ℓ Λ_ℓ``;
* the objective ``f(π) = ‖I − Σ^{-1} M(π)‖_F² = πᵀQπ − 2bᵀπ + d`` with
  ``Q_{ℓℓ'} = tr(Λ_ℓ Σ^{-2} Λ_ℓ') = ⟨B_ℓ, B_ℓ'⟩_F`` (a Gram matrix, so PSD and possibly singular) and
  ``b_ℓ = tr(Σ^{-1} Λ_ℓ)``;
* KKT: ``∇f(π) = 2(Qπ − b) = λ·1 + ν`` with ``ν ≥ 0`` and ``ν_ℓ π_ℓ = 0`` (``λ``: the multiplier of
  ``Σπ_ℓ = 1``, ``ν``: the reduced gradient, the multipliers of ``π ≥ 0``);
* the prompt-level mixture's trained preconditioner ``P(π) = M(π) (Σ_ℓ π_ℓ Γ_ℓ Λ_ℓ)^{-1}`` with
  ``Γ_ℓ = (1 + 1/n) Λ_ℓ + (tr Λ_ℓ / n) I``, and its CoT error ``‖(I − P(π) Σ)^k‖_F²`` at ``m = ∞``.

The optimum ``X* = Σ π*_ℓ B_ℓ`` is unique (it is the projection of ``I`` onto the convex hull of the
``B_ℓ``), hence so is the gradient ``∇f(π*)``; the optimal ``π`` form the polytope
``{π ∈ Δ_T : supp π ⊆ E, Qπ = Qπ*}`` with ``E = {ℓ : ν_ℓ = 0}``.  When ``Q`` is singular (collinear
or duplicated tasks) this polytope can be larger than a point; :func:`select_tasks` enumerates its
vertices and reports its minimum-Euclidean-norm point as the canonical choice (duplicated tasks
then share their weight equally).
"""

from __future__ import annotations

import itertools
import math
import numbers
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from theory._exact import exact_inverse, exact_matmul, nullspace, solve_unique
from theory._repr import RichRepr
from theory._validate import as_covariance, as_exact_covariance, optional_bool, positive_int, same_dimension

# Exhaustive enumeration of supports is a brute-force oracle: 2^T subsets.
MAX_ENUMERATION_TASKS = 12
# Bases of the optimal polytope enumerated at most (C(|E|, r) subsets); beyond, no description.
MAX_FACE_BASES = 5000
# Float path: an optimum is certified when the Frank–Wolfe gap, an upper bound on f(π) − f*,
# is at most GAP_RTOL * max(1, max_ℓ f(e_ℓ)) (the scale of the objective over the simplex).
GAP_RTOL = 1e-9


# ----------------------------------------------------------------------------- input

def _is_exact_input(value) -> bool:
    """True when every entry is an int, Fraction or sympy Rational (no float anywhere)."""
    arr = np.asarray(value, dtype=object) if not isinstance(value, np.ndarray) else value
    if arr.dtype.kind in "iu":
        return True
    if arr.dtype.kind == "f":
        return False
    return all(isinstance(v, (numbers.Integral, Fraction)) or getattr(v, "is_Rational", False)
               for v in np.asarray(arr, dtype=object).ravel())


def _task_list(task_covs) -> list:
    if isinstance(task_covs, np.ndarray):
        if task_covs.ndim not in (2, 3):
            raise ValueError("task_covs must be a sequence of covariances (matrices or eigenvalue "
                             f"lists), got an array with {task_covs.ndim} dimensions")
        items = list(task_covs)
    else:
        try:
            items = list(task_covs)
        except TypeError:
            raise ValueError("task_covs must be a sequence of covariances (matrices or eigenvalue "
                             f"lists), got {type(task_covs).__name__}") from None
    if not items:
        raise ValueError("task_covs must contain at least one task, got an empty list")
    return items


def _validated(task_covs, target_cov, exact):
    """Validated tasks and target as float arrays or Fraction object arrays, and the mode."""
    items = _task_list(task_covs)
    exact = optional_bool(exact, "exact")
    if exact is None:
        exact = all(_is_exact_input(t) for t in items) and _is_exact_input(target_cov)
    convert = as_exact_covariance if exact else as_covariance
    tasks = [convert(t, f"task_covs[{i}]") for i, t in enumerate(items)]
    for i, t in enumerate(tasks[1:], 1):
        same_dimension(tasks[0], t, "task_covs[0]", f"task_covs[{i}]")
    sigma = convert(target_cov, "target_cov")
    same_dimension(tasks[0], sigma, "task_covs", "target_cov")
    return tasks, sigma, bool(exact)


# ----------------------------------------------------------------------------- exact linear algebra

def _inverse_exact(A: np.ndarray, name: str) -> np.ndarray:
    try:
        return exact_inverse(A, name)
    except ValueError:
        raise ValueError(f"{name} must be positive definite (its inverse enters the QP), "
                         "but it is singular") from None


# ----------------------------------------------------------------------------- the QP

@dataclass(frozen=True)
class SelectionQP(RichRepr):
    r"""The selection objective as a quadratic form over the simplex.

    .. math:: f(\pi) = \|I - \Sigma^{-1}\textstyle\sum_\ell \pi_\ell\Lambda_\ell\|_F^2
              = \pi^\top Q\pi - 2 b^\top\pi + d

    Attributes
    ----------
    Q : numpy.ndarray, (T, T)
        ``Q_{ℓℓ'} = tr(Λ_ℓ Σ^{-2} Λ_ℓ')``; object array of ``Fraction`` when ``exact``.
    b : numpy.ndarray, (T,)
        ``b_ℓ = tr(Σ^{-1} Λ_ℓ)``.
    d : int
        The dimension (the constant term).
    ratios : numpy.ndarray, (T, d, d)
        ``B_ℓ = Σ^{-1} Λ_ℓ``, so that ``Q`` is their Frobenius Gram matrix.
    exact : bool
    target_condition : float
        ``κ(Σ)`` (float path; it sets the rounding level of ``B_ℓ``); 1.0 on the exact path.
    """

    Q: np.ndarray
    b: np.ndarray
    d: int
    ratios: np.ndarray
    exact: bool
    target_condition: float = 1.0

    def objective(self, pi):
        """``πᵀQπ − 2bᵀπ + d`` (exact for an exact QP and exact ``pi``)."""
        pi = list(pi)
        T = len(self.b)
        quad = sum((pi[i] * self.Q[i, j] * pi[j] for i in range(T) for j in range(T)), 0)
        return quad - 2 * sum((self.b[i] * pi[i] for i in range(T)), 0) + self.d


def selection_qp(task_covs, target_cov, *, exact: bool | None = None) -> SelectionQP:
    r"""The quadratic form of the task-selection problem (Section 4).

    .. math:: Q_{\ell\ell'} = \operatorname{tr}(\Lambda_\ell \Sigma^{-2} \Lambda_{\ell'})
              = \langle \Sigma^{-1}\Lambda_\ell, \Sigma^{-1}\Lambda_{\ell'}\rangle_F,\qquad
              b_\ell = \operatorname{tr}(\Sigma^{-1}\Lambda_\ell)

    Parameters
    ----------
    task_covs : sequence of array_like
        The task covariances ``Λ_ℓ`` (matrices, or 1-D eigenvalue lists for diagonal ones).
    target_cov : array_like
        The target covariance ``Σ``, positive definite.
    exact : bool, optional
        Exact rational arithmetic (floats converted exactly); default: exact iff no entry is a float.
    """
    tasks, sigma, exact = _validated(task_covs, target_cov, exact)
    d = sigma.shape[0]
    T = len(tasks)
    if exact:
        sigma_inv = _inverse_exact(sigma, "target_cov")
        ratios = np.empty((T, d, d), dtype=object)
        for ell, lam in enumerate(tasks):
            ratios[ell] = exact_matmul(sigma_inv, lam)
        Q = np.empty((T, T), dtype=object)
        for i in range(T):
            for j in range(i, T):
                Q[i, j] = Q[j, i] = sum((ratios[i][a, c] * ratios[j][a, c]
                                         for a in range(d) for c in range(d)), Fraction(0))
        b = np.array([sum((ratios[i][a, a] for a in range(d)), Fraction(0)) for i in range(T)],
                     dtype=object)
    else:
        ratios, condition = _float_ratios(tasks, sigma)
        flat = ratios.reshape(T, -1)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
            Q = flat @ flat.T
        if not np.all(np.isfinite(Q)):
            raise ValueError("task_covs and target_cov: the QP's Q_ℓℓ' = tr(Λ_ℓ Σ^{-2} Λ_ℓ') is "
                             "beyond the float range (Σ^{-1}Λ_ℓ has entries of size "
                             f"{float(np.max(np.abs(ratios))):.3g}, and Q squares them); rescale the "
                             "tasks relative to the target")
        b = np.einsum("iaa->i", ratios)
        return SelectionQP(Q, b, d, ratios, exact, condition)
    return SelectionQP(Q, b, d, ratios, exact)


def _power_of_two_scale(arr: np.ndarray) -> float:
    """A power of two near ``max|arr|`` (nonzero): dividing by it is exact in floats, so a result
    computed from ``arr / scale`` and scaled back is bit for bit the unscaled one wherever that one
    neither over- nor underflows."""
    return math.ldexp(1.0, math.frexp(float(np.max(np.abs(arr))))[1])


def _unit_target(sigma) -> tuple[np.ndarray, float, float]:
    """``(Σ / c, c, κ(Σ))`` with ``c`` a power of two near ``max|Σ|``; ``Σ`` must be positive definite.

    ``B_ℓ = Σ^{-1}Λ_ℓ`` is unchanged when Σ and every Λ_ℓ are divided by one number: computing it
    from ``Σ / c`` and ``Λ_ℓ / c`` keeps a target near 1e-300 or 1e300 from under- or overflowing.
    """
    if not np.any(sigma):
        raise ValueError("target_cov must be positive definite (its inverse enters the QP), "
                         "but it is the zero matrix")
    scale = _power_of_two_scale(sigma)
    unit = sigma / scale
    eig = np.linalg.eigvalsh(unit)
    # scale-free: beyond a condition number of 1e12 the float inverse keeps under 4 digits
    if eig[0] <= 1e-12 * eig[-1]:
        raise ValueError("target_cov must be positive definite (its inverse enters the QP): "
                         f"smallest eigenvalue {eig[0] * scale:.6g} <= 1e-12 * the largest "
                         f"{eig[-1] * scale:.6g}")
    return unit, scale, float(eig[-1] / eig[0])


def _finite_ratios(ratios: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(ratios)):
        raise ValueError("task_covs and target_cov: Σ^{-1}Λ_ℓ is beyond the float range; rescale the "
                         "tasks relative to the target")
    return ratios


def _float_ratios(tasks, sigma) -> tuple[np.ndarray, float]:
    """``B_ℓ = Σ^{-1}Λ_ℓ`` in floats, stacked ``(T, d, d)``, and ``κ(Σ)``."""
    unit, scale, condition = _unit_target(sigma)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported by _finite_ratios
        ratios = np.linalg.solve(unit, np.eye(unit.shape[0])) @ (np.stack(tasks) / scale)
    return _finite_ratios(ratios), condition


def selection_objective(pi, task_covs, target_cov, *, exact: bool | None = None):
    r"""The selection objective evaluated directly from the matrices (no ``Q``, no ``b``).

    .. math:: f(\pi) = \|I - \Sigma^{-1}\textstyle\sum_\ell \pi_\ell\Lambda_\ell\|_F^2

    Exact (a ``Fraction``) when the covariances and ``pi`` are exact, else a float.
    """
    tasks, sigma, exact = _validated(task_covs, target_cov, exact)
    pi = _weights(pi, len(tasks), exact=exact)
    d = sigma.shape[0]
    if exact:
        M = np.empty((d, d), dtype=object)
        for a in range(d):
            for c in range(d):
                M[a, c] = sum((p * lam[a, c] for p, lam in zip(pi, tasks)), Fraction(0))
        R = exact_matmul(_inverse_exact(sigma, "target_cov"), M)
        return sum(((int(a == c) - R[a, c]) ** 2 for a in range(d) for c in range(d)), Fraction(0))
    unit, scale, _ = _unit_target(sigma)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
        M = np.einsum("l,lac->ac", np.asarray(pi), np.stack(tasks) / scale)
        R = np.eye(d) - np.linalg.solve(unit, M)
        value = float(np.sum(R * R))
    if not math.isfinite(value):
        raise ValueError("task_covs and target_cov: ‖I − Σ^{-1}M(π)‖_F² is beyond the float range")
    return value


# ----------------------------------------------------------------------------- the solver

def _face_minimiser(Q, b, free, exact):
    """Minimiser of the QP on the affine hull of the face ``free``, or ``None`` if degenerate.

    Solves ``Q_FF x − μ 1 = b_F, 1ᵀx = 1``: stationarity of ``f`` on ``{π : supp π ⊆ F, Σπ = 1}``.
    The system is nonsingular iff the ``(B_ℓ, 1)``, ``ℓ ∈ F``, are linearly independent.
    """
    k = len(free)
    if exact:
        A = [[Q[i, j] for j in free] + [Fraction(-1)] for i in free] + [[Fraction(1)] * k + [Fraction(0)]]
        sol = solve_unique(A, [b[i] for i in free] + [Fraction(1)])
        return None if sol is None else sol[:k]
    A = np.zeros((k + 1, k + 1))
    A[:k, :k] = Q[np.ix_(free, free)]
    A[:k, k] = -1.0
    A[k, :k] = 1.0
    if np.linalg.cond(A) > 1e13:
        return None
    return list(np.linalg.solve(A, np.append(b[free], 1.0))[:k])


def _active_set(Q, b, exact: bool) -> list:
    """Primal active-set method on the simplex (exact or float); returns an optimal vertex ``π``.

    Starts at the best vertex ``e_j``; on each face ``F`` it moves to the face minimiser, stepping to
    the boundary (and shrinking ``F``) when that minimiser leaves the simplex, and otherwise enlarges
    ``F`` by the task of most negative reduced gradient (Dantzig's rule).  Every face it visits has
    affinely independent ``B_ℓ`` (a task entering with a negative reduced gradient cannot be an affine
    combination of tasks that all have a zero one), so each face minimiser exists and is unique;
    the objective decreases strictly between faces, so the method terminates.
    """
    T = len(b)
    zero, one = (Fraction(0), Fraction(1)) if exact else (0.0, 1.0)
    if not exact:  # rescaling leaves the minimiser unchanged and makes the tolerances relative
        scale = max(float(np.max(np.abs(Q))), float(np.max(np.abs(b))), 1e-300)
        Q, b = Q / scale, b / scale
    tol_nu = 0 if exact else 1e-12
    tol_pi = 0 if exact else 1e-14
    start = min(range(T), key=lambda j: (Q[j, j] - 2 * b[j], j))
    pi = [zero] * T
    pi[start] = one
    free = [start]
    entered = start
    excluded: set[int] = set()  # float only: tasks whose face is numerically degenerate
    for _ in range(50 * T + 50):
        x = _face_minimiser(Q, b, free, exact)
        if x is None:
            if exact:  # impossible by the invariant above; fail loudly rather than guess
                raise RuntimeError(f"degenerate face {free} in the exact active-set method")
            excluded.add(entered)
            free = [i for i in free if i != entered]
            continue
        if min(x) >= -tol_pi:
            for i, v in zip(free, x):
                pi[i] = v if exact else max(v, 0.0)
            h = [sum((Q[l, j] * pi[j] for j in range(T)), zero) - b[l] for l in range(T)]
            mu = sum((pi[i] * h[i] for i in free), zero)  # the common value of h on the face
            nu = [(h[l] - mu, l) for l in range(T) if l not in free and l not in excluded]
            entering = min(nu, default=None)
            if entering is None or entering[0] >= -tol_nu:
                return pi
            entered = entering[1]
            free = sorted(free + [entered])
            continue
        steps = [(pi[i] / (pi[i] - v), i) for i, v in zip(free, x) if v < -tol_pi]
        alpha, blocking = min(steps)
        if not exact and alpha <= 0 and blocking == entered:
            excluded.add(entered)  # rounding made an entering task look blocking: do not cycle
        for i, v in zip(free, x):
            pi[i] = pi[i] + alpha * (v - pi[i])
        pi[blocking] = zero
        if not exact:
            for i in free:
                if pi[i] <= tol_pi:
                    pi[i] = 0.0
        free = [i for i in free if pi[i] > 0]
    raise RuntimeError("the active-set method did not terminate")


@dataclass(frozen=True)
class Certificate(RichRepr):
    r"""KKT residuals and the Frank–Wolfe gap of a candidate ``π``.

    With ``g = ∇f(π) = 2(Qπ − b)`` and ``λ = gᵀπ`` (the multiplier of ``Σπ = 1``):

    .. math:: \text{gap} = g^\top\pi - \min_\ell g_\ell \;\ge\; f(\pi) - f^*

    Attributes
    ----------
    stationarity : number
        ``max_{ℓ ∈ supp π} |g_ℓ − λ|``.
    primal_infeasibility : number
        ``max(|Σπ − 1|, −min π, 0)``.
    dual_infeasibility : number
        ``max(0, max_ℓ (λ − g_ℓ))``: a negative reduced gradient.
    complementarity : number
        ``max_ℓ |π_ℓ (g_ℓ − λ)|``.
    gap : number
        The Frank–Wolfe (duality) gap above.
    tolerance : number
        0 for the exact path (all residuals must vanish exactly); the gap bound for the float path.
    """

    stationarity: object
    primal_infeasibility: object
    dual_infeasibility: object
    complementarity: object
    gap: object
    tolerance: object

    @property
    def holds(self) -> bool:
        if self.tolerance == 0:
            return (self.stationarity == 0 and self.primal_infeasibility == 0
                    and self.dual_infeasibility == 0 and self.complementarity == 0 and self.gap == 0)
        return self.gap <= self.tolerance and self.primal_infeasibility <= 1e-12


def _certificate(Q, b, pi, exact, tolerance):
    T = len(b)
    zero = Fraction(0) if exact else 0.0
    g = [2 * (sum((Q[l, j] * pi[j] for j in range(T)), zero) - b[l]) for l in range(T)]
    lam = sum((g[l] * pi[l] for l in range(T)), zero)
    support = [l for l in range(T) if pi[l] > 0]
    cert = Certificate(
        stationarity=max(abs(g[l] - lam) for l in support),
        primal_infeasibility=max(abs(sum(pi, zero) - 1), -min(pi), zero),
        dual_infeasibility=max(zero, max(lam - gl for gl in g)),
        complementarity=max(abs(pi[l] * (g[l] - lam)) for l in range(T)),
        gap=lam - min(g),
        tolerance=tolerance)
    return g, lam, cert


@dataclass(frozen=True)
class Selection(RichRepr):
    r"""The optimal task selection with its optimality certificate.

    Attributes
    ----------
    pi : numpy.ndarray, (T,)
        The canonical optimal selection (object array of ``Fraction`` on the exact path).
    objective : Fraction or float
        ``f(π) = ‖I − Σ^{-1} Σ_ℓ π_ℓ Λ_ℓ‖_F²``.
    certified : bool
        Exact path: every KKT residual and the gap are exactly 0. Float path: the Frank–Wolfe gap is
        at most ``certificate.tolerance`` (so ``f(π) − f* <= tolerance``).
    exact : bool
        Whether exact rational arithmetic was used.
    support : tuple of int
        ``{ℓ : π_ℓ > 0}``.
    multiplier : Fraction or float
        ``λ``, the multiplier of ``Σ π_ℓ = 1``: ``∇f(π)_ℓ = λ`` on the support.
    reduced_gradient : numpy.ndarray, (T,)
        ``ν = ∇f(π) − λ·1``: nonnegative, zero on the support (complementary slackness).
    certificate : Certificate
    optimal_tasks : tuple of int
        ``E = {ℓ : ν_ℓ = 0}``: every optimal selection is supported in ``E``.
    null_directions : numpy.ndarray, (r, T)
        A basis of ``{v : supp v ⊆ E, Qv = 0, Σv = 0}``: moving along it leaves the objective
        unchanged. ``r = 0`` means the optimum is unique.
    vertices : numpy.ndarray (V, T) or None
        The vertices of the optimal polytope ``{π ∈ Δ : supp π ⊆ E, Qπ = Qπ*}`` (``None`` when
        ``C(|E|, r)`` exceeds ``MAX_FACE_BASES``); the optimal set is their convex hull.
    unique : bool or None
        Whether the optimum is a single point (``None`` when the vertices were not enumerated).
    canonical_rule : str
        How ``pi`` was chosen among the optima.
    qp : SelectionQP
    """

    pi: np.ndarray
    objective: object
    certified: bool
    exact: bool
    support: tuple
    multiplier: object
    reduced_gradient: np.ndarray
    certificate: Certificate
    optimal_tasks: tuple
    null_directions: np.ndarray
    vertices: np.ndarray | None
    unique: bool | None
    canonical_rule: str
    qp: SelectionQP


def _optimal_face(qp: SelectionQP, pi_star, nu, exact):
    """The optimal polytope: tasks E, null directions, vertices (or None) and the min-norm point."""
    T = len(qp.b)
    # ν = ∇f − λ has the scale of the gradient 2(Qπ − b): relative to it, with no absolute floor.
    tol_nu = 0 if exact else 1e-9 * max(float(np.max(np.abs(qp.Q))), float(np.max(np.abs(qp.b))))
    E = [l for l in range(T) if (nu[l] == 0 if exact else nu[l] <= tol_nu)]
    E = E or [l for l in range(T) if pi_star[l] > 0]  # the support is optimal by construction
    # The affine set {π_E : B_E π_E = X*, 1ᵀπ_E = 1}, as rows A π_E = c.  Exactly, ker Q_EE = ker B_E,
    # so [Q_EE; 1ᵀ] serves; in floats Q squares the conditioning, so use [vec B_ℓ; 1] itself.
    if exact:
        A = [[qp.Q[i, j] for j in E] for i in E] + [[Fraction(1)] * len(E)]
        c = [sum((qp.Q[i, j] * pi_star[j] for j in E), Fraction(0)) for i in E] + [Fraction(1)]
        kernel = nullspace(A, len(E))
    else:
        # Row scaling leaves the solution set unchanged; it puts the block vec B_ℓ (any scale, up to
        # κ(Σ)) and the row of ones on the same footing, so that one relative rank tolerance serves.
        block = qp.ratios[E].reshape(len(E), -1).T
        A = np.vstack([block / max(float(np.max(np.abs(block))), 1e-300), np.ones((1, len(E)))])
        c = A @ np.asarray([pi_star[j] for j in E])
        _, s, vt = np.linalg.svd(A, full_matrices=A.shape[0] < A.shape[1])
        # B_ℓ = Σ^{-1}Λ_ℓ carries a relative float error ~ d·κ(Σ)·2^-53 (one solve): a singular
        # value below that, relative to the largest, is rounding, not rank.
        rel_tol = max(1e-9, 100 * qp.d * np.finfo(float).eps * qp.target_condition)
        rank_tol = rel_tol * s[0]
        rank = int(np.sum(s > rank_tol))
        kernel = [list(v) for v in vt[rank:]]
    r = len(kernel)
    zero = Fraction(0) if exact else 0.0
    null = np.array([[zero] * T for _ in kernel], dtype=object if exact else float).reshape(r, T)
    for row, v in enumerate(kernel):
        for pos, l in enumerate(E):
            null[row, l] = v[pos]
    star = np.array(pi_star, dtype=object if exact else float)
    if r == 0:
        return tuple(E), null, star[None, :], True, star, "the unique optimum"
    n_bases = math.comb(len(E), r)
    if n_bases > MAX_FACE_BASES:
        return (tuple(E), null, None, None, star,
                f"a vertex of the optimal set found by the active-set method (its C({len(E)}, {r}) "
                f"= {n_bases} bases exceed MAX_FACE_BASES = {MAX_FACE_BASES}, so no minimum-norm point)")
    rank = len(E) - r
    vertices: list = []
    for S in itertools.combinations(range(len(E)), rank):
        if exact:
            x = solve_unique([[row[p] for p in S] for row in A], c)
            if x is None or min(x) < 0:
                continue
        else:
            sub = A[:, S]
            x, *_ = np.linalg.lstsq(sub, c, rcond=None)
            if (np.linalg.matrix_rank(sub, tol=rank_tol) < rank
                    or np.linalg.norm(sub @ x - c) > rel_tol * max(np.linalg.norm(c), s[0] * np.linalg.norm(x))
                    or x.min() < -1e-10):
                continue
            x = np.clip(x, 0.0, None)
        v = [zero] * T
        for p, val in zip(S, x):
            v[E[p]] = val
        if not any((w == v) if exact else np.allclose(w, v, rtol=0, atol=1e-10) for w in vertices):
            vertices.append(v)
    if not vertices:
        # Floats only (exactly, π* itself lies on a basis): rounding rejected every basis of an
        # ill-conditioned face.  π* is optimal (certified by the gap); the set is not described.
        return (tuple(E), null, None, None, star,
                "a vertex of the optimal set found by the active-set method (no basis of the optimal "
                "face passed the float checks: the face is too ill-conditioned to enumerate)")
    V = np.array(vertices, dtype=object if exact else float)
    if len(vertices) == 1:
        return tuple(E), null, V, True, V[0], "the unique optimum (the null directions leave the simplex)"
    # The minimum-norm point of conv(V) is itself a simplex QP: min ‖θᵀV‖² over θ ∈ Δ.
    gram = np.empty((len(vertices), len(vertices)), dtype=object if exact else float)
    for i, vi in enumerate(vertices):
        for j, vj in enumerate(vertices):
            gram[i, j] = sum((a * bb for a, bb in zip(vi, vj)), zero)
    theta = _active_set(gram, np.array([zero] * len(vertices), dtype=gram.dtype), exact)
    canonical = np.array([sum((theta[i] * vertices[i][l] for i in range(len(vertices))), zero)
                          for l in range(T)], dtype=object if exact else float)
    return tuple(E), null, V, False, canonical, "minimum Euclidean norm among the optimal selections"


def select_tasks(task_covs, target_cov, *, exact: bool | None = None) -> Selection:
    r"""Optimal task selection: the quadratic program of Section 4, solved and certified.

    .. math:: \pi^* \in \arg\min_{\pi \in \Delta_T}
              \Bigl\|I - \Sigma^{-1}\sum_\ell \pi_\ell \Lambda_\ell\Bigr\|_F^2
              = \arg\min_{\pi\in\Delta_T} \pi^\top Q \pi - 2 b^\top \pi + d

    Exact path (rational input, or ``exact=True``): a primal active-set method in exact rational
    arithmetic, then the KKT conditions checked exactly (stationarity on the support with multiplier
    ``λ``, nonnegativity, nonnegative reduced gradient off the support, complementary slackness).
    Float path: the same method in floating point, certified by the Frank–Wolfe gap.  When the
    optimum is not unique (singular ``Q``: collinear or duplicated tasks) the optimal polytope is
    described (tasks ``E``, null directions, vertices) and its minimum-norm point is returned.

    Parameters
    ----------
    task_covs : sequence of array_like
        The task covariances ``Λ_ℓ``, ``T >= 1`` of them, all ``d × d`` (or 1-D eigenvalue lists).
    target_cov : array_like
        The target covariance ``Σ``, positive definite.
    exact : bool, optional
        Force (``True``) or forbid (``False``) exact arithmetic; default: exact iff no input is a float.

    Returns
    -------
    Selection
    """
    asked = exact
    qp = selection_qp(task_covs, target_cov, exact=exact)
    exact = qp.exact
    T = len(qp.b)
    if exact:
        tolerance = Fraction(0)
    else:
        tolerance = GAP_RTOL * max(1.0, max(float(qp.Q[j, j] - 2 * qp.b[j] + qp.d) for j in range(T)))
        # The certificate's tolerance is relative to the objective (about d). When the tasks are so
        # small against the target that the objective varies over the simplex by less than that
        # (the curvature Q below it), every point is "optimal" in floating point and the float
        # route cannot tell which is: by default the exact route answers (floats convert exactly).
        # (Q = 0, every task zero, is flat exactly: any π is optimal, and floats say so.)
        flat = T > 1 and 0 < float(np.max(np.abs(qp.Q))) <= tolerance
        if flat and asked is None:
            return select_tasks(task_covs, target_cov, exact=True)
    pi_star = _active_set(qp.Q, qp.b, exact)
    g, lam, _ = _certificate(qp.Q, qp.b, pi_star, exact, tolerance)
    nu = [gl - lam for gl in g]
    E, null, vertices, unique, canonical, rule = _optimal_face(qp, pi_star, nu, exact)
    pi = [canonical[l] for l in range(T)]
    g, lam, cert = _certificate(qp.Q, qp.b, pi, exact, tolerance)
    if not exact and flat:
        unique = False
        rule = ("not unique to float precision: the objective varies over the simplex by less than "
                "the certificate's tolerance (tasks tiny against the target); use exact=True")
    return Selection(
        pi=np.array(pi, dtype=object if exact else float),
        objective=qp.objective(pi),
        certified=cert.holds,
        exact=exact,
        support=tuple(l for l in range(T) if pi[l] > 0),
        multiplier=lam,
        reduced_gradient=np.array([gl - lam for gl in g], dtype=object if exact else float),
        certificate=cert,
        optimal_tasks=E,
        null_directions=null,
        vertices=vertices,
        unique=unique,
        canonical_rule=rule,
        qp=qp)


# ----------------------------------------------------------------------------- independent routes

@dataclass(frozen=True)
class Enumeration(RichRepr):
    """The optimum by exhaustive support enumeration (exact).

    Attributes
    ----------
    objective : Fraction
        The least objective over all face minimisers inside the simplex (evaluated directly as
        ``‖I − Σ^{-1} M(π)‖_F²``).
    vertices : tuple of tuple of Fraction
        Every optimal face minimiser found, i.e. the vertices of the optimal polytope.
    faces_tried : int
        Number of supports whose face system was nonsingular.
    """

    objective: Fraction
    vertices: tuple
    faces_tried: int


def select_tasks_by_enumeration(task_covs, target_cov) -> Enumeration:
    r"""Brute-force oracle: the optimum over every support ``S ⊆ {1..T}`` (``T <= 12``), exactly.

    For each ``S`` whose face system ``Q_SS x − μ1 = b_S, 1ᵀx = 1`` is nonsingular, the solution
    ``x`` is the minimiser of ``f`` on the affine hull of that face; those inside the simplex are
    candidates and the least objective wins.  Every vertex of the optimal polytope has an affinely
    independent support, so it appears among the candidates.
    """
    tasks, sigma, _ = _validated(task_covs, target_cov, True)
    T = len(tasks)
    if T > MAX_ENUMERATION_TASKS:
        raise ValueError(f"task_covs: enumeration is limited to T <= {MAX_ENUMERATION_TASKS} tasks, got {T}")
    qp = selection_qp(tasks, sigma, exact=True)
    best, found, tried = None, [], 0
    for size in range(1, T + 1):
        for S in itertools.combinations(range(T), size):
            x = _face_minimiser(qp.Q, qp.b, list(S), True)
            if x is None:
                continue
            tried += 1
            if min(x) < 0:
                continue
            pi = [Fraction(0)] * T
            for i, v in zip(S, x):
                pi[i] = v
            value = selection_objective(pi, tasks, sigma, exact=True)
            if best is None or value < best:
                best, found = value, [tuple(pi)]
            elif value == best and tuple(pi) not in found:
                found.append(tuple(pi))
    return Enumeration(best, tuple(found), tried)


def select_tasks_scipy(task_covs, target_cov) -> tuple[np.ndarray, float]:
    """General-purpose route: SciPy's SLSQP on the simplex, objective and gradient from the matrices.

    The gradient ``∂f/∂π_ℓ = −2⟨Σ^{-1}Λ_ℓ, I − Σ^{-1}M(π)⟩_F`` is formed directly from the
    matrices, not from ``Q`` and ``b``.  Returns ``(pi, objective)`` in floats.
    """
    from scipy.optimize import minimize

    tasks, sigma, _ = _validated(task_covs, target_cov, False)
    d = sigma.shape[0]
    T = len(tasks)
    unit, scale, _ = _unit_target(sigma)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported by _finite_ratios
        ratios = _finite_ratios(np.linalg.solve(unit, np.stack(tasks) / scale))
    if float(np.max(np.abs(ratios))) > 1e150:  # f ~ ‖B_ℓ‖² would overflow inside SLSQP
        raise ValueError("task_covs and target_cov: Σ^{-1}Λ_ℓ has entries beyond 1e150, so the "
                         "objective ‖I − Σ^{-1}M(π)‖_F² is beyond the float range")

    def residual(pi):
        return np.eye(d) - np.einsum("l,lac->ac", pi, ratios)

    def fun(pi):
        R = residual(pi)
        return float(np.sum(R * R))

    def jac(pi):
        return -2.0 * np.einsum("lac,ac->l", ratios, residual(pi))

    res = minimize(fun, np.full(T, 1.0 / T), jac=jac, method="SLSQP", bounds=[(0.0, 1.0)] * T,
                   constraints=[{"type": "eq", "fun": lambda p: np.sum(p) - 1.0,
                                 "jac": lambda p: np.ones_like(p)}],
                   options={"ftol": 1e-15, "maxiter": 1000})
    pi = np.clip(res.x, 0.0, None)
    pi /= pi.sum()
    return pi, fun(pi)


# ----------------------------------------------------------------------------- Proposition 4.3

#: Precise readings of "hard task" tried for Proposition 4.3 (``s = σ_min(Σ)``).
HARD_READINGS = {
    "pool-median-hardness": "Hard(Λ_ℓ) >= the median of Hard over the pool",
    "pool-median-sigma-min": "σ_min(Λ_ℓ) <= the median of σ_min over the pool",
    "harder-than-target-sigma-min": "σ_min(Λ_ℓ) <= σ_min(Σ)",
    "harder-than-target-hardness": "Hard(Λ_ℓ) >= Hard(Σ)",
    "markov": "σ_min(Λ_ℓ) <= 2(1 + δ) σ_min(Σ), δ = min_u uᵀ(Σ^{-1}M(π) − I)u over unit u in the "
              "bottom eigenspace of Σ",
    "markov-strict": "σ_min(Λ_ℓ) < 2(1 + δ) σ_min(Σ) (the same δ); it needs uᵀM(π)u > 0, i.e. 1 + δ > 0",
}


def _median(values):
    v = sorted(values)
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def _spectral_data(tasks, sigma, pi, exact):
    """σ_min and Hard of every task and of Σ, δ and ``uᵀMu = (1 + δ)s``; exact when every matrix is
    diagonal.  ``uᵀMu`` is returned itself: forming ``1 + δ`` in floats cancels when ``uᵀMu << s``."""
    diagonal = exact and all(not np.any([[c[i, j] != 0 for j in range(c.shape[0]) if j != i]
                                         for i in range(c.shape[0])]) for c in tasks + [sigma])
    if diagonal:
        def spec(c):
            return [c[i, i] for i in range(c.shape[0])]
        smin = [min(spec(t)) for t in tasks]
        trace = [sum(spec(t)) for t in tasks]
        hard = [tr / s if s > 0 else math.inf for tr, s in zip(trace, smin)]
        sig = spec(sigma)
        s = min(sig)
        if s <= 0:
            raise ValueError("target_cov must be positive definite (Hard(Σ) and δ divide by "
                             f"σ_min(Σ)), but its smallest eigenvalue is {s}")
        M = [sum((p * t[i, i] for p, t in zip(pi, tasks)), Fraction(0)) for i in range(len(sig))]
        inner = min(M[i] for i in range(len(sig)) if sig[i] == s)
        return smin, hard, s, sum(sig) / s, inner / s - 1, inner, True
    tasks_f = [np.asarray(t, dtype=float) for t in tasks]
    sigma_f = np.asarray(sigma, dtype=float)
    pi_f = np.asarray([float(p) for p in pi])
    smin, hard = [], []
    for t in tasks_f:
        eig = np.linalg.eigvalsh(t)
        # relative to the task's own scale: a task of scale 1e-300 is not singular
        lo = eig[0] if eig[0] > 1e-14 * eig[-1] else 0.0
        smin.append(lo)
        hard.append(float(np.trace(t)) / lo if lo > 0 else math.inf)
    eig, vec = np.linalg.eigh(sigma_f)
    s = eig[0]
    if not s > 1e-14 * eig[-1]:
        raise ValueError("target_cov must be positive definite (Hard(Σ) and δ divide by σ_min(Σ)), "
                         f"but its smallest eigenvalue {s:.6g} is <= 1e-14 * the largest {eig[-1]:.6g}")
    U = vec[:, eig <= s * (1 + 1e-12)]
    M = np.einsum("l,lac->ac", pi_f, np.stack(tasks_f))
    inner = float(np.linalg.eigvalsh(U.T @ M @ U)[0])
    # uᵀMu = 0 (every selected task singular along u) must read as exactly 0, as σ_min does above:
    # a rounding residue of either sign would move the Markov threshold 2(1 + δ)s off 0.
    if abs(inner) <= 1e-14 * float(np.abs(M).max()):
        inner = 0.0
    delta = inner / s - 1
    return smin, hard, float(s), float(np.trace(sigma_f)) / s, delta, inner, False


@dataclass(frozen=True)
class HardMass(RichRepr):
    """The mass a selection puts on the "hard" tasks of one reading of Proposition 4.3.

    Attributes
    ----------
    reading : str
        A key of :data:`HARD_READINGS`.
    hard : tuple of bool
        Which tasks are hard under that reading.
    mass : Fraction or float
        ``Σ_{ℓ hard} π_ℓ``.
    holds : bool
        ``mass >= 1/2``.
    delta : Fraction or float
        ``δ`` of the ``"markov"`` readings (computed for every reading).
    sigma_min, hardness : tuple
        ``σ_min(Λ_ℓ)`` and ``Hard(Λ_ℓ)`` per task; ``target_sigma_min``, ``target_hardness`` for Σ.
    exact : bool
        True when every number above is exact (rational diagonal input).
    """

    reading: str
    hard: tuple
    mass: object
    holds: bool
    delta: object
    sigma_min: tuple
    hardness: tuple
    target_sigma_min: object
    target_hardness: object
    exact: bool


def hard_task_mass(pi, task_covs, target_cov, reading: str) -> HardMass:
    r"""How much of ``π`` lies on the hard tasks, for one precise reading of Proposition 4.3.

    The ``"markov"`` reading holds for every ``π`` in the simplex (not only the QP's optimum):
    with ``u`` a unit vector of the bottom eigenspace of Σ (``Σu = s u``) and ``M = M(π)``,

    .. math:: \sum_\ell \pi_\ell\,\sigma_{\min}(\Lambda_\ell) \le u^\top M u = s(1 + \delta),

    so the tasks with ``σ_min(Λ_ℓ) > c s`` carry mass at most ``(1 + δ)/c`` when ``c > 0``
    (Markov's inequality), and ``c = 2(1 + δ)`` leaves at least half the mass on the tasks with
    ``σ_min(Λ_ℓ) <= 2(1 + δ)s``.  When ``1 + δ = 0`` (``uᵀMu = 0``: every selected task is singular
    along ``u``) the left side forces all the mass onto tasks with ``σ_min = 0``, which the ``<=``
    reading counts and the strict ``"markov-strict"`` reading does not.  At the QP optimum
    ``|δ| <= ‖Σ^{-1}M − I‖_2 <= √f*``.

    Exact (``Fraction``) when all covariances are diagonal with rational entries and ``pi`` is exact;
    otherwise eigenvalues are computed in floating point.
    """
    if reading not in HARD_READINGS:
        raise ValueError(f"reading must be one of {', '.join(HARD_READINGS)}, got {reading!r}")
    exact_in = all(_is_exact_input(t) for t in _task_list(task_covs)) and _is_exact_input(target_cov) \
        and _is_exact_input(pi)
    tasks, sigma, exact = _validated(task_covs, target_cov, exact_in)
    pi = _weights(pi, len(tasks), exact=exact)
    if min(pi) < 0 or abs(sum(pi) - 1) > (0 if exact else 1e-9):
        raise ValueError("pi must lie in the simplex (nonnegative, summing to 1)")
    smin, hard, s, target_hard, delta, inner, exact_spec = _spectral_data(tasks, sigma, pi, exact)
    if reading == "pool-median-hardness":
        med = _median(hard)
        mask = [h >= med for h in hard]
    elif reading == "pool-median-sigma-min":
        med = _median(smin)
        mask = [v <= med for v in smin]
    elif reading == "harder-than-target-sigma-min":
        mask = [v <= s for v in smin]
    elif reading == "harder-than-target-hardness":
        mask = [h >= target_hard for h in hard]
    elif reading == "markov":
        mask = [v <= 2 * inner for v in smin]  # 2(1 + δ)s
    else:
        mask = [v < 2 * inner for v in smin]
    zero = Fraction(0) if exact_spec else 0.0
    mass = sum((p if exact_spec else float(p) for p, m in zip(pi, mask) if m), zero)
    return HardMass(reading, tuple(bool(m) for m in mask), mass, bool(mass >= Fraction(1, 2)), delta,
                    tuple(smin), tuple(hard), s, target_hard, exact_spec)


# ----------------------------------------------------------------------------- the mixture's true error

def _weights(pi, T: int, name: str = "pi", *, exact: bool = False) -> list:
    """The entries of a selection ``π`` (one per task) as floats, or as ``Fraction`` when ``exact``.

    Booleans, strings and non-numbers are refused (a ``True`` is not a weight); the simplex itself is
    checked by the callers' tolerance.
    """
    try:
        arr = np.asarray(pi, dtype=object)
    except ValueError:
        raise ValueError(f"{name} must be a list of weights, one per task ({T})") from None
    entries = list(arr.ravel()) if arr.ndim else [arr.item()]
    if len(entries) != T:
        raise ValueError(f"{name} must have one entry per task ({T}), got {len(entries)}")
    out = []
    for i, v in enumerate(entries):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real) \
                and not getattr(v, "is_Rational", False):
            raise ValueError(f"{name}[{i}] must be a real number (a weight), got {v!r}")
        if getattr(v, "is_Rational", False):
            v = Fraction(int(v.p), int(v.q))
        elif not isinstance(v, numbers.Rational) and not math.isfinite(v):
            raise ValueError(f"{name}[{i}] must be finite, got {v!r}")
        out.append(Fraction(v) if exact else float(v))
    return out


def _simplex_point(pi, T: int, name: str = "pi") -> np.ndarray:
    pi = np.asarray(_weights(pi, T, name), dtype=float)
    if pi.min() < 0 or abs(pi.sum() - 1) > 1e-9:
        raise ValueError(f"{name} must lie in the simplex (finite, nonnegative, summing to 1)")
    return pi


def _mixture_moments(tasks: np.ndarray, n: int) -> np.ndarray:
    """``E[Ŝ_n²] = Γ_ℓ Λ_ℓ = (1 + 1/n) Λ_ℓ² + (tr Λ_ℓ / n) Λ_ℓ`` for each task."""
    traces = np.einsum("laa->l", tasks)
    return (1 + 1 / n) * tasks @ tasks + (traces / n)[:, None, None] * tasks


def mixture_preconditioner(task_covs, pi, n) -> np.ndarray:
    r"""Population-optimal preconditioner of a model trained on a prompt-level mixture.

    Each training prompt draws its task ``ℓ ~ π``; minimising
    ``E_ℓ E‖P Ŝ_n^{(ℓ)} w − w‖²`` over ``P`` (``w ~ N(0, I)``, ``E[Ŝ_n^{(ℓ)2}] = Γ_ℓΛ_ℓ``) gives

    .. math:: P(\pi) = \Bigl(\sum_\ell \pi_\ell \Lambda_\ell\Bigr)
              \Bigl(\sum_\ell \pi_\ell \Gamma_\ell \Lambda_\ell\Bigr)^{-1}

    (proofs/math.md §17; ``T = 1`` gives ``Γ^{-1}``, the trained model of Theorem 3.1).
    ``P`` scales as ``1/c`` when every ``Λ_ℓ`` scales by ``c``; it is computed from the tasks divided
    by a power of two near their largest entry and scaled back, so tasks near 1e±300 neither over-
    nor underflow.
    """
    stack = _task_stack(task_covs)
    n = positive_int(n, "n")
    pi = _simplex_point(pi, len(stack))
    scale = _task_scale(stack)
    P = _unit_preconditioner(stack / scale, pi, n)
    out = P / scale
    if not np.all(np.isfinite(out)):
        raise ValueError("task_covs: the preconditioner P(π) ~ 1/max|Λ_ℓ| is beyond the float range "
                         f"(max|Λ_ℓ| ≈ {scale:.3g})")
    return out


def _task_stack(task_covs) -> np.ndarray:
    """Validated float task covariances, all of one dimension, as a ``(T, d, d)`` array."""
    items = _task_list(task_covs)
    tasks = [as_covariance(t, f"task_covs[{i}]") for i, t in enumerate(items)]
    for i, t in enumerate(tasks[1:], 1):
        same_dimension(tasks[0], t, "task_covs[0]", f"task_covs[{i}]")
    return np.stack(tasks)


def _task_scale(stack: np.ndarray) -> float:
    """A power of two near ``max|Λ_ℓ|`` (see :func:`_power_of_two_scale`)."""
    if not np.any(stack):
        raise ValueError("task_covs: every task is the zero matrix (the mixture has no signal)")
    return _power_of_two_scale(stack)


def _unit_preconditioner(stack: np.ndarray, pi: np.ndarray, n: int) -> np.ndarray:
    """``P(π)`` of tasks already divided by a power of two near their largest entry (moments O(1))."""
    M = np.einsum("l,lac->ac", pi, stack)
    D = np.einsum("l,lac->ac", pi, _mixture_moments(stack, n))
    eig = np.linalg.eigvals(D)
    if np.min(np.abs(eig)) <= 1e-12 * np.max(np.abs(eig)):
        raise ValueError("task_covs and pi: the mixture's second moment Σ π_ℓ Γ_ℓ Λ_ℓ is singular "
                         "(the selected tasks leave a direction without signal)")
    return np.linalg.solve(D.T, M.T).T


def mixture_cot_error(task_covs, pi, n, target_cov, k, *, m=None) -> float:
    r"""CoT test error on Σ after ``k`` steps of the model trained on the mixture ``π``.

    .. math:: \mathrm{err}_k(\pi) = \|(I - P(\pi)\Sigma)^k\|_F^2 \quad (m = \infty)

    For finite ``m`` the exact engine ``theory.precond_error(P, Σ, k, m=m)`` is used.
    Raises ``ValueError`` if the error overflows (a strongly divergent regime).
    """
    stack = _task_stack(task_covs)
    n = positive_int(n, "n")
    pi = _simplex_point(pi, len(stack))
    sigma = as_covariance(target_cov, "target_cov")
    same_dimension(stack[0], sigma, "task_covs", "target_cov")
    k = positive_int(k, "k", minimum=0)
    # err_k depends on P(π)Σ only, and P scales as 1/c with the tasks: P(Λ/c)·(Σ/c) = P(Λ)Σ.
    scale = _task_scale(stack)
    P = _unit_preconditioner(stack / scale, pi, n)
    sigma = sigma / scale
    if not np.all(np.isfinite(sigma)):
        raise ValueError("target_cov and task_covs: Σ / max|Λ_ℓ| is beyond the float range "
                         f"(max|Λ_ℓ| ≈ {scale:.3g})")
    if m is not None:
        from theory.error import precond_error
        return float(precond_error(P, sigma, k, m=m))
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is detected and reported below
        R = np.linalg.matrix_power(np.eye(sigma.shape[0]) - P @ sigma, k)
        err = float(np.sum(R * R))
    if not np.isfinite(err):
        raise ValueError(f"k = {k}: the CoT error overflows (I − P(π)Σ has spectral radius > 1)")
    return err


def _simplex_grid(T: int, resolution: int) -> np.ndarray:
    """All points of the simplex with coordinates in ``(1/resolution) ℤ``."""
    points = []
    for bars in itertools.combinations(range(resolution + T - 1), T - 1):
        edges = (-1,) + bars + (resolution + T - 1,)
        points.append([edges[i + 1] - edges[i] - 1 for i in range(T)])
    return np.asarray(points, dtype=float) / resolution


def _batched_errors(stack, moments, sigma, pis, k) -> np.ndarray:
    M = np.einsum("gl,lac->gac", pis, stack)
    D = np.einsum("gl,lac->gac", pis, moments)
    P = np.swapaxes(np.linalg.solve(np.swapaxes(D, 1, 2), np.swapaxes(M, 1, 2)), 1, 2)
    R = np.linalg.matrix_power(np.eye(sigma.shape[0]) - P @ sigma, k)
    return np.einsum("gac,gac->g", R, R)


@dataclass(frozen=True)
class TrueOptimum(RichRepr):
    """The selection minimising the mixture model's CoT test error (``m = ∞``).

    Attributes
    ----------
    pi : numpy.ndarray
    error : float
        ``err_k(π)`` at the returned ``π``.
    grid_error : float
        The least error over the simplex grid (the SLSQP refinement must not be worse).
    """

    pi: np.ndarray
    error: float
    grid_error: float


def true_optimal_selection(task_covs, target_cov, n, k, *, m=None, resolution: int | None = None,
                           extra_starts=()) -> TrueOptimum:
    r"""Minimise the mixture model's CoT error ``err_k(π)`` over the simplex (small ``T``).

    ``m = None``: ``err_k(π) = ‖(I − P(π)Σ)^k‖_F²``; finite ``m``: the exact
    ``E‖(I − P(π)Ŝ_m)^k w‖²`` of ``theory.precond_error`` (exact engine: keep ``k`` small).
    A grid of the simplex (step ``1/resolution``; default 60 for ``T <= 3``, 24 for ``T = 4``,
    10 beyond, and 12 at finite ``m``) locates the basin; SLSQP on ``log err_k`` then refines from
    the five best grid points and from ``extra_starts``.  The problem is not convex, so the grid is
    what makes it global.
    """
    from scipy.optimize import minimize

    stack = _task_stack(task_covs)
    T = len(stack)
    sigma = as_covariance(target_cov, "target_cov")
    same_dimension(stack[0], sigma, "task_covs", "target_cov")
    # err_k depends on P(π)Σ only, unchanged when the tasks and Σ are divided by one number
    scale = _task_scale(stack)
    stack, sigma = stack / scale, sigma / scale
    if not np.all(np.isfinite(sigma)):
        raise ValueError("target_cov and task_covs: Σ / max|Λ_ℓ| is beyond the float range "
                         f"(max|Λ_ℓ| ≈ {scale:.3g})")
    n = positive_int(n, "n")
    k = positive_int(k, "k")
    if m is not None:
        m = positive_int(m, "m")
    if resolution is None:
        resolution = 12 if m is not None else 60 if T <= 3 else 24 if T == 4 else 10
    moments = _mixture_moments(stack, n)
    grid = _simplex_grid(T, positive_int(resolution, "resolution"))

    def errors(pis):
        if m is None:
            with np.errstate(all="ignore"):  # singular points (a missing direction) are discarded
                out = _batched_errors(stack, moments, sigma, pis, k)
        else:
            out = np.empty(len(pis))
            for g, p in enumerate(pis):
                try:
                    out[g] = mixture_cot_error(stack, p, n, sigma, k, m=m)
                except (ValueError, OverflowError):  # singular mixture, or beyond the float range
                    out[g] = np.inf
        out[~np.isfinite(out)] = np.inf
        return out

    errs = errors(grid)
    if not np.any(np.isfinite(errs)):
        raise ValueError(f"task_covs and target_cov: err_k (k = {k}) is beyond the float range, or the "
                         "mixture is singular, at every point of the simplex grid")
    order = np.argsort(errs)
    # five grid starts; three at finite m, where each evaluation runs the exact engine
    starts = ([grid[i] for i in order[:5 if m is None else 3]]
              + [_simplex_point(s, T, "extra_starts") for s in extra_starts])

    def log_err(p):
        p = np.clip(p, 0.0, None)
        p = p / p.sum()
        e = errors(p[None, :])[0]
        return float(np.log(e)) if np.isfinite(e) and e > 0 else 1e300

    best_pi, best = grid[order[0]], float(errs[order[0]])
    for s in starts:
        res = minimize(log_err, s, method="SLSQP", bounds=[(0.0, 1.0)] * T,
                       constraints=[{"type": "eq", "fun": lambda p: np.sum(p) - 1.0}],
                       options={"ftol": 1e-13, "maxiter": 500})
        p = np.clip(res.x, 0.0, None)
        p = p / p.sum()
        value = float(errors(p[None, :])[0])
        if value < best:
            best_pi, best = p, value
    return TrueOptimum(np.asarray(best_pi), best, float(errs[order[0]]))


def _random_covariance(d: int, rng: np.random.Generator) -> np.ndarray:
    """Wishart(d, I, d + 1) normalised to trace d: random eigenbasis, varied hardness."""
    A = rng.standard_normal((d, d + 1))
    C = A @ A.T
    return C * (d / np.trace(C))


@dataclass(frozen=True)
class QPvsTrueError(RichRepr):
    """The QP's selection against the selection minimising the true CoT error, over random pools.

    Arrays are indexed ``[pool, n-index, k-index]``.

    Attributes
    ----------
    seed, T, d : int
    ns, ks : tuple of int
    m : int or None
        Test prompt length (``None``: ``m = ∞``).
    pi_qp : numpy.ndarray, (pools, T)
    pi_true : numpy.ndarray, (pools, len(ns), len(ks), T)
    err_qp, err_true, err_uniform : numpy.ndarray, (pools, len(ns), len(ks))
        ``err_k`` at the QP's ``π``, at the true optimum, and at the uniform selection.
    excess : numpy.ndarray
        ``err_qp / err_true − 1``: the relative excess error of the QP's choice.
    excess_uniform : numpy.ndarray
        ``err_uniform / err_true − 1``: the same for the uniform selection (a baseline).
    l1 : numpy.ndarray
        ``‖π_QP − π_true‖_1``.
    radius_qp : numpy.ndarray, (pools, len(ns))
        Spectral radius of ``I − P(π_QP)Σ``: above 1 the error eventually grows with k.
    radius_true : numpy.ndarray
        The same at the true optimum of each ``(n, k)``.
    """

    seed: int
    T: int
    d: int
    ns: tuple
    ks: tuple
    m: int | None
    pi_qp: np.ndarray
    pi_true: np.ndarray
    err_qp: np.ndarray
    err_true: np.ndarray
    err_uniform: np.ndarray
    excess: np.ndarray
    excess_uniform: np.ndarray
    l1: np.ndarray
    radius_qp: np.ndarray
    radius_true: np.ndarray

    def summary(self) -> list[dict]:
        """Per ``(n, k)``: median and max relative excess, share of pools above 1% and 10%, and the
        share of pools whose ``I − P(π)Σ`` has spectral radius above 1 (QP's π, true optimum)."""
        rows = []
        for i, n in enumerate(self.ns):
            for j, k in enumerate(self.ks):
                x = self.excess[:, i, j]
                rows.append({"n": n, "k": k, "median_excess": float(np.median(x)),
                             "max_excess": float(np.max(x)), "share_above_1pct": float(np.mean(x > 0.01)),
                             "share_above_10pct": float(np.mean(x > 0.10)),
                             "median_excess_uniform": float(np.median(self.excess_uniform[:, i, j])),
                             "median_l1": float(np.median(self.l1[:, i, j])),
                             "share_divergent_qp": float(np.mean(self.radius_qp[:, i] > 1)),
                             "share_divergent_true": float(np.mean(self.radius_true[:, i, j] > 1))})
        return rows


def random_pools(seed: int, pools: int, *, T: int = 3, d: int = 3) -> list:
    """A seeded family of pools ``(tasks, target)``: independent Wishart(d, I, d + 1) matrices of trace ``d``.

    Pool ``p`` is drawn from the ``p``-th child of ``numpy.random.SeedSequence(seed)``, so a pool
    does not depend on how many pools are drawn after it.
    """
    seed = positive_int(seed, "seed", minimum=0)
    pools = positive_int(pools, "pools")
    T = positive_int(T, "T")
    d = positive_int(d, "d")
    out = []
    for child in np.random.SeedSequence(seed).spawn(pools):
        rng = np.random.default_rng(child)
        tasks = [_random_covariance(d, rng) for _ in range(T)]
        out.append((tasks, _random_covariance(d, rng)))
    return out


@dataclass(frozen=True)
class QPvsUniform(RichRepr):
    """The QP's selection against the uniform selection, pool by pool (a paired comparison).

    Arrays are indexed ``[pool, n-index, k-index]``; the pools are :func:`random_pools` ``(seed, …)``.

    Attributes
    ----------
    seed, T, d : int
    ns, ks : tuple of int
    m : int or None
        Test prompt length (``None``: ``m = ∞``).
    pi_qp : numpy.ndarray, (pools, T)
    err_qp, err_uniform : numpy.ndarray, (pools, len(ns), len(ks))
        ``err_k`` of the model trained on the QP's ``π`` and on the uniform ``π``.
    radius_qp : numpy.ndarray, (pools, len(ns))
        Spectral radius of ``I − P(π_QP)Σ``: above 1 the ``m = ∞`` error grows with ``k``.
    """

    seed: int
    T: int
    d: int
    ns: tuple
    ks: tuple
    m: int | None
    pi_qp: np.ndarray
    err_qp: np.ndarray
    err_uniform: np.ndarray
    radius_qp: np.ndarray

    @property
    def qp_wins(self) -> np.ndarray:
        """Per ``(n, k)``: the number of pools where the QP's ``π`` has the strictly smaller error."""
        return np.sum(self.err_qp < self.err_uniform, axis=0)

    @property
    def ties(self) -> np.ndarray:
        """Per ``(n, k)``: the number of pools where the two errors are equal."""
        return np.sum(self.err_qp == self.err_uniform, axis=0)


def _int_list(values, name: str) -> tuple:
    """A nonempty list of integers >= 1 (prompt lengths ``ns`` or step counts ``ks``)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a list of integers >= 1, got {values!r}")
    out = tuple(positive_int(v, name) for v in values)
    if not out:
        raise ValueError(f"{name} must contain at least one integer >= 1, got an empty list")
    return out


def qp_vs_uniform(seed: int = 0, *, pools: int = 100, T: int = 3, d: int = 3, ns=(5, 50), ks=(1, 4),
                  m=None) -> QPvsUniform:
    r"""The CoT error of the model trained on the QP's ``π`` and on the uniform ``π``, pool by pool.

    .. math:: \mathrm{err}_k(\pi) = \|(I - P(\pi)\Sigma)^k\|_F^2 \quad (m = \infty),\qquad
              P(\pi) = M(\pi)\Bigl(\sum_\ell \pi_\ell \Gamma_\ell\Lambda_\ell\Bigr)^{-1}

    (finite ``m``: the exact engine, see :func:`mixture_cot_error`).  The pools are
    :func:`random_pools` ``(seed, pools, T=T, d=d)``, the same family as :func:`qp_vs_true_error`.
    """
    seed = positive_int(seed, "seed", minimum=0)
    pools = positive_int(pools, "pools")
    T = positive_int(T, "T")
    d = positive_int(d, "d")
    ns, ks = _int_list(ns, "ns"), _int_list(ks, "ks")
    if m is not None:
        m = positive_int(m, "m")
    family = random_pools(seed, pools, T=T, d=d)
    shape = (len(family), len(ns), len(ks))
    pi_qp = np.zeros((len(family), T))
    err_qp, err_uni = np.zeros(shape), np.zeros(shape)
    radius_qp = np.zeros(shape[:2])
    uniform = np.full(T, 1 / T)
    for p, (tasks, sigma) in enumerate(family):
        pi_qp[p] = select_tasks(tasks, sigma, exact=False).pi
        for i, n in enumerate(ns):
            P = mixture_preconditioner(tasks, pi_qp[p], n)
            radius_qp[p, i] = float(np.max(np.abs(np.linalg.eigvals(np.eye(len(sigma)) - P @ sigma))))
            for j, k in enumerate(ks):
                err_qp[p, i, j] = mixture_cot_error(tasks, pi_qp[p], n, sigma, k, m=m)
                err_uni[p, i, j] = mixture_cot_error(tasks, uniform, n, sigma, k, m=m)
    return QPvsUniform(seed, T, d, ns, ks, m, pi_qp, err_qp, err_uni, radius_qp)


def qp_vs_true_error(seed: int = 0, *, pools: int = 20, T: int = 3, d: int = 3, ns=(5, 50),
                     ks=(1, 2, 4, 8), m=None, resolution: int | None = None) -> QPvsTrueError:
    """Compare the QP's selection with the true-error optimum over a seeded family of pools.

    Tasks and target are independent Wishart(d, I, d + 1) matrices normalised to trace ``d``; for
    each pool the QP is solved once and the true error (``‖(I − P(π)Σ)^k‖_F²``, or the exact
    finite-``m`` error) is minimised for every ``(n, k)`` by :func:`true_optimal_selection`.
    """
    seed = positive_int(seed, "seed", minimum=0)
    pools = positive_int(pools, "pools")
    T = positive_int(T, "T")
    d = positive_int(d, "d")
    ns, ks = _int_list(ns, "ns"), _int_list(ks, "ks")
    if m is not None:
        m = positive_int(m, "m")
    shape = (pools, len(ns), len(ks))
    pi_qp = np.zeros((pools, T))
    pi_true = np.zeros(shape + (T,))
    err_qp, err_true, err_uni = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    radius_qp, radius_true = np.zeros((pools, len(ns))), np.zeros(shape)

    def radius(tasks, pi, n, sigma):
        P = mixture_preconditioner(tasks, pi, n)
        return float(np.max(np.abs(np.linalg.eigvals(np.eye(d) - P @ sigma))))

    for p, (tasks, sigma) in enumerate(random_pools(seed, pools, T=T, d=d)):
        pi_qp[p] = select_tasks(tasks, sigma, exact=False).pi
        for i, n in enumerate(ns):
            radius_qp[p, i] = radius(tasks, pi_qp[p], n, sigma)
            for j, k in enumerate(ks):
                opt = true_optimal_selection(tasks, sigma, n, k, m=m, resolution=resolution,
                                             extra_starts=[pi_qp[p]])
                pi_true[p, i, j] = opt.pi
                radius_true[p, i, j] = radius(tasks, opt.pi, n, sigma)
                err_true[p, i, j] = opt.error
                err_qp[p, i, j] = mixture_cot_error(tasks, pi_qp[p], n, sigma, k, m=m)
                err_uni[p, i, j] = mixture_cot_error(tasks, np.full(T, 1 / T), n, sigma, k, m=m)
    return QPvsTrueError(seed, T, d, ns, ks, m, pi_qp, pi_true, err_qp, err_true, err_uni,
                         err_qp / err_true - 1, err_uni / err_true - 1,
                         np.abs(pi_qp[:, None, None, :] - pi_true).sum(axis=-1), radius_qp, radius_true)


# ----------------------------------------------------------------------------- task-type experiment

#: The paper's four task types, ``(name, α, B)``.
TASK_TYPES = (("Easy-Short", 0.2, 20), ("Hard-Short", 0.8, 20),
              ("Easy-Long", 0.2, 100), ("Hard-Long", 0.8, 100))


def task_type_spectrum(alpha: float, B: int, d: int, rng: np.random.Generator, *,
                       floor: float = 1e-3, jitter: float = 0.1) -> np.ndarray:
    r"""Eigenvalues of one task of type ``(α, B)`` (our interpretation; the paper's is unknown).

    ``B`` is the number of directions ("skills") the task exercises, drawn at random among the
    ``d`` coordinates; direction ``i`` (1-based) carries ``i^{-α}`` times a log-normal jitter
    ``exp(jitter · z)``, the other directions only the floor:

    .. math:: \lambda_i = \begin{cases} i^{-\alpha} e^{\,\mathrm{jitter}\, z_i} & i \in S,\ |S| = B\\
              \mathrm{floor} & i \notin S \end{cases}

    Larger ``α`` decays faster (a larger ``Hard``); larger ``B`` covers more directions (more diverse).
    """
    d = positive_int(d, "d")
    B = positive_int(B, "B")
    if B > d:
        raise ValueError(f"B must be in 1..d = {d}, got {B}")
    alpha = _finite_real(alpha, "alpha")
    floor = _finite_real(floor, "floor")
    jitter = _finite_real(jitter, "jitter")
    if floor <= 0 or jitter < 0:
        raise ValueError(f"floor must be > 0 and jitter >= 0, got floor = {floor!r}, jitter = {jitter!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    active = np.sort(rng.choice(d, size=B, replace=False))
    lam = np.full(d, floor)
    i = active + 1.0
    with np.errstate(over="ignore", under="ignore"):  # overflow is reported below
        lam[active] = i ** (-alpha) * np.exp(jitter * rng.standard_normal(B))
    if not np.all(np.isfinite(lam)):
        raise ValueError(f"alpha = {alpha!r} and jitter = {jitter!r}: the eigenvalues i^(-alpha) "
                         "e^(jitter z) are beyond the float range")
    return lam


def _finite_real(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class TaskTypeExperiment(RichRepr):
    """Selection probabilities of the four task types (data for a figure).

    Attributes
    ----------
    seed, d, tasks_per_type : int
    target : str
        ``"power"`` (``σ_i = 1/i``, the paper's LSA covariance: a hard target) or ``"isotropic"``.
    normalise : bool
        Whether each task was scaled to ``tr Λ_ℓ = tr Σ``.
    type_names : tuple of str
    task_type : numpy.ndarray of int, (T,)
        Index into ``type_names`` for each task.
    alpha, B : numpy.ndarray, (T,)
    hardness, sigma_min : numpy.ndarray, (T,)
        ``Hard(Λ_ℓ)`` and ``σ_min(Λ_ℓ)``.
    pi : numpy.ndarray, (T,)
        The QP's (certified) selection.
    type_mass : numpy.ndarray, (4,)
        Total selection probability of each type.
    objective : float
    certified : bool
    """

    seed: int
    d: int
    tasks_per_type: int
    target: str
    normalise: bool
    type_names: tuple
    task_type: np.ndarray
    alpha: np.ndarray
    B: np.ndarray
    hardness: np.ndarray
    sigma_min: np.ndarray
    pi: np.ndarray
    type_mass: np.ndarray
    objective: float
    certified: bool

    @property
    def hardness_rank_correlation(self) -> float:
        """Spearman correlation between ``Hard(Λ_ℓ)`` and ``π_ℓ`` over the tasks."""
        from scipy.stats import spearmanr
        return float(spearmanr(self.hardness, self.pi).statistic)

    @property
    def ranking(self) -> tuple:
        """Type names by decreasing selection probability."""
        return tuple(self.type_names[i] for i in np.argsort(-self.type_mass, kind="stable"))


def _strict_bool(value, name: str) -> bool:
    """``value`` as a ``bool`` if it is one (``numpy.bool_`` included); else ``ValueError``."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"{name} must be True or False, got {value!r}")


def task_type_pool(seed: int = 0, *, tasks_per_type: int = 5, d: int = 100, target: str = "power",
                   normalise: bool = True) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The task pool and target of :func:`task_type_experiment`, before the QP is solved.

    Returns
    -------
    spectra : list of numpy.ndarray
        The eigenvalues of each task (all diagonal in one basis), ``tasks_per_type`` of each type in
        the order of ``TASK_TYPES``, scaled to ``tr Λ_ℓ = tr Σ`` when ``normalise``.
    task_type : numpy.ndarray of int, (T,)
        Index into ``TASK_TYPES`` for each task.
    target_cov : numpy.ndarray, (d,)
        ``σ_i = 1/i`` (``target="power"``) or ``σ_i = 1`` (``target="isotropic"``).
    """
    seed = positive_int(seed, "seed", minimum=0)
    tasks_per_type = positive_int(tasks_per_type, "tasks_per_type")
    d = positive_int(d, "d", minimum=max(B for _, _, B in TASK_TYPES))
    normalise = _strict_bool(normalise, "normalise")
    if target == "power":
        sigma = 1.0 / np.arange(1, d + 1)
    elif target == "isotropic":
        sigma = np.ones(d)
    else:
        raise ValueError(f"target must be 'power' or 'isotropic', got {target!r}")
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    spectra, kinds = [], []
    for t, (_, alpha, B) in enumerate(TASK_TYPES):
        for _ in range(tasks_per_type):
            lam = task_type_spectrum(alpha, B, d, rng)
            spectra.append(lam * (sigma.sum() / lam.sum()) if normalise else lam)
            kinds.append(t)
    return spectra, np.asarray(kinds), sigma


def task_type_experiment(seed: int = 0, *, tasks_per_type: int = 5, d: int = 100,
                         target: str = "power", normalise: bool = True) -> TaskTypeExperiment:
    """The paper's task-type experiment under the interpretation of :func:`task_type_spectrum`.

    ``tasks_per_type`` tasks of each type (Easy/Hard × Short/Long), all diagonal in one basis, are
    pooled (:func:`task_type_pool`); the QP is solved for the target ``Σ = diag(1/i)``
    (``target="power"``) or ``Σ = I`` (``target="isotropic"``), and the selection probability is
    summed per type.  With ``normalise`` every task is scaled to ``tr Λ_ℓ = tr Σ`` (equal signal
    energy: the QP is not scale invariant, while the types differ in shape), so that only the shape
    of a spectrum decides.
    """
    seed = positive_int(seed, "seed", minimum=0)
    normalise = _strict_bool(normalise, "normalise")
    spectra, kinds, sigma = task_type_pool(seed, tasks_per_type=tasks_per_type, d=d, target=target,
                                           normalise=normalise)
    sel = select_tasks(spectra, sigma, exact=False)
    mass = np.array([sel.pi[kinds == t].sum() for t in range(len(TASK_TYPES))])
    return TaskTypeExperiment(
        seed, sigma.shape[0], tasks_per_type, target, bool(normalise), tuple(name for name, _, _ in TASK_TYPES),
        kinds, np.array([TASK_TYPES[t][1] for t in kinds]), np.array([TASK_TYPES[t][2] for t in kinds]),
        np.array([s.sum() / s.min() for s in spectra]), np.array([s.min() for s in spectra]),
        sel.pi, mass, float(sel.objective), sel.certified)
