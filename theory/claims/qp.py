r"""Claim ``qp``: task selection is a convex QP over the simplex (Section 4, poster).

Parts:

* ``expansion`` (claim): ``‖I − Σ^{-1}Σ_ℓπ_ℓΛ_ℓ‖_F² = πᵀQπ − 2bᵀπ + d`` with
  ``Q_{ℓℓ'} = tr(Λ_ℓΣ^{-2}Λ_ℓ')``, ``b_ℓ = tr(Σ^{-1}Λ_ℓ)``;
* ``convex`` (claim): ``Q`` is a Gram matrix, so positive semi-definite (the QP is convex), and it
  can be singular;
* ``cot-optimal`` (claim): the QP's ``π`` is the optimal task mixture for the CoT test error of the
  model trained on it — **fails**: exact ``d = 1`` counterexample;
* ``certified-optimum`` (condition): with the QP's own objective as what "optimal" means, its
  minimiser is computed and certified exactly;
* findings: the QP is ``‖I − M(π)^{-1}Σ‖_F²`` only to second order around ``M(π) = Σ``; the mixture's
  trained preconditioner ``P(π) = M(π)(Σπ_ℓΓ_ℓΛ_ℓ)^{-1}``; on seeded random pools the QP's ``π`` is
  materially worse than the CoT-optimal ``π``, its comparison with the uniform ``π`` (paired sign
  tests at a stated confidence, one part per ``(n, k, m)``), and ``π`` that make CoT diverge.

Routes:

* exact: sympy for the expansion, the Gram identity, the mixture's stationarity, the second-order
  expansion and the ``d = 1`` counterexample; the exact active set certified by exact KKT;
* independent: exact rational evaluation of both sides of the expansion on seeded pools, exact
  positive semi-definiteness of ``Q`` on seeded pools, exhaustive support enumeration (objective from
  the matrices, not from ``Q``) and SciPy's SLSQP for the optimum, seeded Monte Carlo for the normal
  equations, floating point (:func:`theory.selection.mixture_cot_error`,
  :func:`theory.selection.true_optimal_selection`) for the ``d = 1`` counterexample, and the exact
  engine (:func:`theory.error.precond_error`) or the one-step closed form re-evaluating every error
  of a statistical comparison that fails.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np
import sympy as sp

from theory._tex import Step, tex
from theory.error import precond_error
from theory.ledger import (CLAIM, CONDITION, FINDING, Claim, Counterexample, RouteDisagreement, Z_LIMIT,
                           agree, decide, fails, holds, require_z, undecided)
from theory.selection import (mixture_cot_error, mixture_preconditioner, qp_vs_true_error, qp_vs_uniform,
                              random_pools, select_tasks, select_tasks_by_enumeration, select_tasks_scipy,
                              selection_objective, selection_qp, true_optimal_selection)

SEED = 20251003  # root of every seeded family below (the paper's arXiv month)
FAMILY_SEED = SEED % 2 ** 16  # the random Wishart pools of the CoT-error comparisons
FAMILY_T, FAMILY_D = 3, 3     # tasks per pool and dimension of those pools

# SLSQP (ftol 1e-15) against the exact optimum, relative to max(1, f*): measured ~2e-10 on the
# seeded pools; 1e-7 leaves three orders for harder pools and still catches a solver that stops
# at a non-optimal point (an error of the size of a wrong active set is O(1e-2) or more).
SCIPY_RTOL = 1e-7
# Float re-evaluation of a claimed mismatch of the expansion (entries of size <= ~1e2, d <= 3): both
# sides carry rounding of ~1e-13 relative, so a gap above 1e-9 relative is a real one.
EXPANSION_FLOAT_RTOL = 1e-9
# A claimed non-PSD Q is confirmed when its least float eigenvalue is below -1e-9 of its largest
# entry: eigvalsh is accurate to ~1e-15 of the norm, so this is no rounding artefact.
PSD_FLOAT_RTOL = 1e-9
# d = 1 float route: err_k at the QP's π against (7/15)^{2k}: a 1×1 solve and a power of one float,
# a few ulps per step, so 1e-12 relative is loose by three orders.
D1_RTOL = 1e-12
# ... and at the zero-error π: 1 − P(π)Σ rounds to at most a few 1e-16, so err_k <= 1e-28 for k >= 1.
D1_ZERO_ATOL = 1e-28
# Second-order expansion: (f_inv − f)/ε³ at ε = SECOND_ORDER_EPS differs from the ε³ coefficient by
# O(ε) relative (the next term over this one, O(1) coefficients here), so 1e-2 relative leaves an
# order of magnitude and rounding (1e-16 / ε³ = 1e-7) is far below it.
SECOND_ORDER_EPS = 1e-3
SECOND_ORDER_RTOL = 1e-2
# Statistical comparisons over random pools are decided only when an exact (Clopper–Pearson)
# binomial interval at this confidence excludes 1/2: a wrong decision has probability <= 1 %
# per comparison, and an interval that straddles 1/2 leaves the comparison undecided.
SIGN_CONFIDENCE = 0.99
# "Materially worse than the CoT-optimal π": a relative excess error above this.  The optimum found
# (grid + SLSQP, with the QP's π among the starts) is an attained point, so the measured excess is a
# lower bound on the true one and the margin guards nothing but the meaning of "materially".
EXCESS_MARGIN = 0.01

#: The second-order expansion is shown along M = Σ + εX at this Σ and direction X.
SECOND_ORDER_SIGMA = ((2, 1), (1, 3))
SECOND_ORDER_X = ((1, -1), (-1, 2))
#: (d, T) at which the transposed Q must leave a residual (d = 1 would not: there everything commutes).
TRANSPOSED_SIZE = (2, 2)

MC_TASKS = ([[2, 1], [1, 1]], [[1, 0], [0, 3]])
MC_PI = (Fraction(1, 3), Fraction(2, 3))
MC_N = 3

#: Exact d = 1 counterexample to "the QP's π minimises the mixture model's CoT error".
D1_TASKS = ([[1]], [[3]])
D1_TARGET = [[2]]
D1_N = 4
D1_KS = (1, 2, 5)

TRUE_NS, TRUE_KS = (5, 50), (1, 4)
#: Paired comparisons with the uniform π, one part each: (n, k, m), m None meaning m = ∞.
UNIFORM_CASES = ((5, 1, None), (5, 4, None), (50, 1, None), (50, 4, None), (5, 1, 20), (50, 1, 20))

CLAIM_QP = Claim(
    id="qp",
    title=r"Task selection as a QP over the simplex",
    statement=r"The optimal task selection solves the convex QP $\min_{\pi \in \Delta} "
              r"\|I - \Sigma^{-1}\sum_\ell \pi_\ell\Lambda_\ell\|_F^2 = \pi^\top Q\pi - 2b^\top\pi + d$, "
              r"$Q_{\ell\ell'} = \operatorname{tr}(\Lambda_\ell\Sigma^{-2}\Lambda_{\ell'})$, "
              r"$b_\ell = \operatorname{tr}(\Sigma^{-1}\Lambda_\ell)$.",
    source="[poster] (the QP), [derived] (the expansion); how the QP follows from training is [open]",
    convention=r"$\Lambda_\ell$ positive semi-definite task covariances, $\Sigma$ the target (positive "
               r"definite), $\pi_\ell$ the probability that a training prompt is drawn from task $\ell$ "
               r"(a prompt-level mixture), $M(\pi) = \sum_\ell \pi_\ell\Lambda_\ell$. The model trained on "
               r"the mixture has $P(\pi) = M(\pi)(\sum_\ell \pi_\ell\Gamma_\ell\Lambda_\ell)^{-1}$ and CoT "
               r"error $\mathrm{err}_k(\pi) = \|(I - P(\pi)\Sigma)^k\|_F^2$ at $m = \infty$ (our $k$: "
               r"forward passes). theory.select\_tasks returns the optimum with its certificate and, when "
               r"the optimum is not unique, its minimum-norm point.",
    checks="checks/test_qp_task_selection.py",
    extra_reproduce=("tts select --tasks FILE --target SPEC",),
)


# ---------------------------------------------------------------------------------------------
# Exact routes: sympy


def _sym_symmetric(name: str, d: int) -> sp.Matrix:
    return sp.Matrix(d, d, lambda i, j: sp.Symbol(f"{name}_{min(i, j)}{max(i, j)}"))


def expansion_residual(d: int = 2, T: int = 2, transposed: bool = False) -> sp.Expr:
    r"""``‖I − S Σ_ℓ π_ℓ Λ_ℓ‖_F² − (πᵀQπ − 2bᵀπ + d)`` expanded, for generic symmetric ``S = Σ^{-1}``.

    .. math:: Q_{\ell\ell'} = \operatorname{tr}(\Lambda_\ell S^2 \Lambda_{\ell'}),\qquad
              b_\ell = \operatorname{tr}(S\Lambda_\ell)

    Zero for the correct ``Q``; with ``transposed=True`` the tempting but wrong
    ``Q_{ℓℓ'} = tr(SΛ_ℓSΛ_ℓ')`` (it forgets that ``SΛ`` is not symmetric) is used instead.
    """
    S = _sym_symmetric("s", d)
    lams = [_sym_symmetric(f"l{ell}", d) for ell in range(T)]
    pis = sp.symbols(f"pi0:{T}")
    R = sp.eye(d) - S * sum((p * L for p, L in zip(pis, lams)), sp.zeros(d, d))
    lhs = sum(R[i, j] ** 2 for i in range(d) for j in range(d))
    if transposed:
        Q = [[(S * lams[a] * S * lams[c]).trace() for c in range(T)] for a in range(T)]
    else:
        Q = [[(lams[a] * S * S * lams[c]).trace() for c in range(T)] for a in range(T)]
    b = [(S * lams[a]).trace() for a in range(T)]
    rhs = (sum(pis[a] * Q[a][c] * pis[c] for a in range(T) for c in range(T))
           - 2 * sum(b[a] * pis[a] for a in range(T)) + d)
    return sp.expand(lhs - rhs)


def gram_residual(d: int = 2) -> sp.Expr:
    r"""``tr(Λ S² Λ') − ⟨SΛ, SΛ'⟩_F`` expanded for generic symmetric ``S``, ``Λ``, ``Λ'``.

    .. math:: \operatorname{tr}(\Lambda S^2\Lambda') = \sum_{ij}(S\Lambda)_{ij}(S\Lambda')_{ij}

    Zero: ``Q`` is the Frobenius Gram matrix of the ``B_ℓ = Σ^{-1}Λ_ℓ``, hence positive semi-definite.
    """
    S, A, C = _sym_symmetric("s", d), _sym_symmetric("a", d), _sym_symmetric("c", d)
    SA, SC = S * A, S * C
    return sp.expand((A * S * S * C).trace() - sum(SA[i, j] * SC[i, j] for i in range(d) for j in range(d)))


def second_order_series(sigma=SECOND_ORDER_SIGMA, direction=SECOND_ORDER_X, order: int = 4) -> list[sp.Expr]:
    r"""Coefficients of ``ε^j``, ``j < order``, of ``‖I − M^{-1}Σ‖_F² − ‖I − Σ^{-1}M‖_F²`` at ``M = Σ + εX``.

    .. math:: I - M^{-1}\Sigma = E - E^2 + O(E^3),\quad E = \Sigma^{-1}M - I

    so the two agree to second order in ``ε`` (the coefficients of ``ε^0, ε^1, ε^2`` vanish) and the
    QP is the inverse error ``‖I − M^{-1}Σ‖_F²`` only near ``M = Σ``.
    """
    eps = sp.Symbol("epsilon")
    S, X = sp.Matrix(sigma), sp.Matrix(direction)
    M = S + eps * X

    def fro2(A):
        return sum(v ** 2 for v in A)

    diff = sp.simplify(fro2(sp.eye(S.shape[0]) - M.inv() * S) - fro2(sp.eye(S.shape[0]) - S.inv() * M))
    series = sp.series(diff, eps, 0, order).removeO()
    return [sp.nsimplify(sp.simplify(series.coeff(eps, j))) for j in range(order)]


def second_order_float(sigma=SECOND_ORDER_SIGMA, direction=SECOND_ORDER_X, eps: float = SECOND_ORDER_EPS) -> float:
    """``(‖I − M^{-1}Σ‖_F² − ‖I − Σ^{-1}M‖_F²)/ε³`` in floating point at ``M = Σ + εX``."""
    S, X = np.asarray(sigma, dtype=float), np.asarray(direction, dtype=float)
    M = S + eps * X
    eye = np.eye(S.shape[0])
    a = eye - np.linalg.solve(M, S)
    b = eye - np.linalg.solve(S, M)
    return float((np.sum(a * a) - np.sum(b * b)) / eps ** 3)


def mixture_stationarity_residual(task_covs, pi, n) -> tuple[sp.Expr, sp.Expr]:
    r"""Exact first- and second-order terms of ``J(P* + εE) − J(P*)`` at ``P* = M D^{-1}``.

    ``J(P) = Σ_ℓ π_ℓ [tr(P Γ_ℓΛ_ℓ Pᵀ) − 2 tr(PΛ_ℓ) + d] = E_ℓ E‖PŜ_n^{(ℓ)}w − w‖²`` (using
    ``E Ŝ = Λ``, ``E Ŝ² = ΓΛ``), ``E`` a generic symbolic direction.  Returns
    ``(linear term, quadratic term − tr(E D Eᵀ))``: both vanish identically iff ``P*`` is the
    stationary point and ``J`` has Hessian ``D = Σ π_ℓ Γ_ℓΛ_ℓ``.

    .. math:: P^* = \Bigl(\sum_\ell \pi_\ell\Lambda_\ell\Bigr)\Bigl(\sum_\ell \pi_\ell\Gamma_\ell\Lambda_\ell\Bigr)^{-1}
    """
    lams = [sp.Matrix(L) for L in task_covs]
    d = lams[0].shape[0]
    pis = [sp.Rational(p) for p in pi]
    n = sp.Integer(n)
    gammas = [(1 + 1 / n) * L + L.trace() / n * sp.eye(d) for L in lams]
    M = sum((p * L for p, L in zip(pis, lams)), sp.zeros(d, d))
    D = sum((p * G * L for p, G, L in zip(pis, gammas, lams)), sp.zeros(d, d))
    P = M * D.inv()
    eps = sp.Symbol("epsilon")
    E = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"e_{i}{j}"))

    def J(P):
        return sum((p * ((P * G * L * P.T).trace() - 2 * (P * L).trace() + d)
                    for p, G, L in zip(pis, gammas, lams)), sp.Integer(0))

    delta = sp.expand(J(P + eps * E) - J(P))
    linear = delta.coeff(eps, 1)
    quadratic = delta.coeff(eps, 2) - sp.expand((E * D * E.T).trace())
    return sp.simplify(linear), sp.simplify(quadratic)


def mixture_step_symbolic(task_covs, pi, n, target_cov) -> sp.Matrix:
    r"""``I − P(π)Σ`` in sympy from the definitions (``pi`` may hold symbols).

    .. math:: P(\pi) = M(\pi)\Bigl(\sum_\ell \pi_\ell\Gamma_\ell\Lambda_\ell\Bigr)^{-1},\quad
              \Gamma_\ell = (1 + 1/n)\Lambda_\ell + (\operatorname{tr}\Lambda_\ell/n) I
    """
    lams = [sp.Matrix(L) for L in task_covs]
    d = lams[0].shape[0]
    n = sp.Integer(n)
    gammas = [(1 + 1 / n) * L + L.trace() / n * sp.eye(d) for L in lams]
    M = sum((p * L for p, L in zip(pi, lams)), sp.zeros(d, d))
    D = sum((p * G * L for p, G, L in zip(pi, gammas, lams)), sp.zeros(d, d))
    return sp.simplify(sp.eye(d) - M * D.inv() * sp.Matrix(target_cov))


# ---------------------------------------------------------------------------------------------
# Seeded exact pools


def random_rational_pool(rng: np.random.Generator, *, max_tasks: int = 5, max_d: int = 3):
    """A seeded pool of integer PSD tasks ``L Lᵀ`` and a PD target ``L Lᵀ + I``.

    One pool in three repeats a task (``Q`` singular by duplication); one in four adds the
    midpoint of two tasks (``Q`` singular by collinearity of the ``B_ℓ``).
    """
    d = int(rng.integers(1, max_d + 1))
    T = int(rng.integers(1, max_tasks + 1))

    def psd():
        L = rng.integers(-3, 4, size=(d, d))
        return (L @ L.T).astype(object)

    tasks = [psd() for _ in range(T)]
    kind = int(rng.integers(0, 12))
    if kind % 3 == 0:
        tasks.append(tasks[0].copy())
    if kind % 4 == 0 and T >= 2:
        tasks.append((tasks[0] + tasks[1]) * Fraction(1, 2))
    target = psd() + np.eye(d, dtype=int).astype(object)
    return tasks, target


def float_expansion_sides(tasks, target, pi) -> tuple[float, float]:
    """Both sides of the expansion in floating point, ``Q`` and ``b`` from the trace formulas (numpy)."""
    T_ = [np.asarray(t, dtype=float) for t in tasks]
    S = np.asarray(target, dtype=float)
    Si = np.linalg.inv(S)
    Q = np.array([[np.trace(a @ Si @ Si @ c) for c in T_] for a in T_])
    b = np.array([np.trace(Si @ a) for a in T_])
    pf = np.array([float(x) for x in pi])
    R = np.eye(S.shape[0]) - Si @ np.einsum("l,lac->ac", pf, np.stack(T_))
    return float(np.sum(R * R)), float(pf @ Q @ pf - 2 * b @ pf + S.shape[0])


def _random_simplex_point(rng, T: int) -> list[Fraction]:
    weights = [int(w) for w in rng.integers(0, 6, size=T)]
    if sum(weights) == 0:
        weights[0] = 1
    return [Fraction(w, sum(weights)) for w in weights]


@lru_cache(maxsize=4)
def expansion_pools(pools: int, seed: int = SEED + 1) -> dict:
    """Both sides of the expansion in exact rationals at a random rational ``π`` of seeded pools.

    ``first`` is the first ``(tasks, target, pi, direct, quadratic)`` where they differ, or None.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    first = None
    for _ in range(pools):
        tasks, target = random_rational_pool(rng)
        pi = _random_simplex_point(rng, len(tasks))
        direct = selection_objective(pi, tasks, target)
        quadratic = selection_qp(tasks, target).objective(pi)
        if direct != quadratic and first is None:
            first = (tasks, target, pi, direct, quadratic)
    return {"pools": pools, "first": first}


@lru_cache(maxsize=4)
def psd_pools(pools: int, seed: int = SEED + 2) -> dict:
    """Exact positive semi-definiteness (sympy) of ``Q`` on seeded pools; how many ``Q`` are singular."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    singular, first = 0, None
    for _ in range(pools):
        tasks, target = random_rational_pool(rng)
        Q = sp.Matrix(selection_qp(tasks, target).Q.tolist()).applyfunc(sp.Rational)
        if not Q.is_positive_semidefinite and first is None:
            first = (tasks, target, Q)
        singular += Q.det() == 0
    return {"pools": pools, "singular": singular, "first": first}


@lru_cache(maxsize=4)
def exact_agreement(pools: int, seed: int = SEED) -> dict:
    """Active set vs exhaustive enumeration vs SLSQP on ``pools`` seeded rational pools."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    worst_scipy, singular, certified, agree_count = 0.0, 0, 0, 0
    for _ in range(pools):
        tasks, target = random_rational_pool(rng)
        sel = select_tasks(tasks, target)
        enum = select_tasks_by_enumeration(tasks, target)
        certified += sel.certified
        same = (sel.objective == enum.objective
                and selection_objective(sel.pi, tasks, target) == sel.objective
                and {tuple(v) for v in sel.vertices} == set(enum.vertices))
        agree_count += same
        singular += not sel.unique
        _, f_scipy = select_tasks_scipy(tasks, target)
        worst_scipy = max(worst_scipy, abs(f_scipy - float(sel.objective)) / max(1.0, float(sel.objective)))
    return {"pools": pools, "certified": certified, "agree": agree_count, "non_unique": singular,
            "scipy_rel": worst_scipy}


def _agreement_pools(full: bool) -> int:
    return 60 if full else 10


# ---------------------------------------------------------------------------------------------
# Monte Carlo: the mixture's normal equations


def mixture_normal_equation_z(task_covs, pi, n, samples: int, seed: int, precond=None) -> np.ndarray:
    r"""z-scores of the Monte Carlo normal equations ``E[P* Ŝ² − Ŝ] = 0`` under the mixture, per entry.

    Each sample draws ``ℓ ~ π``, ``n`` features ``x ~ N(0, Λ_ℓ)`` and ``Ŝ = XXᵀ/n``; every entry of
    ``P*Ŝ² − Ŝ`` has mean 0 iff ``P* = (Σπ_ℓΛ_ℓ)(Σπ_ℓE[Ŝ_ℓ²])^{-1}`` solves the normal equations of
    ``min_P E‖PŜw − w‖²``.  The z-score of each entry uses its sample standard deviation.
    ``precond`` replaces ``P*`` (to show that the test rejects a wrong candidate).

    .. math:: \mathbb E[P\hat S^2 - \hat S] = P\sum_\ell\pi_\ell\Gamma_\ell\Lambda_\ell - M(\pi)
    """
    P = mixture_preconditioner(task_covs, pi, n) if precond is None else np.asarray(precond, dtype=float)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    tasks = [np.asarray(L, dtype=float) for L in task_covs]
    which = rng.choice(len(tasks), size=samples, p=np.asarray(pi, dtype=float))
    roots = np.stack([np.linalg.cholesky(L) for L in tasks])
    Z = rng.standard_normal((samples, tasks[0].shape[0], n))
    X = roots[which] @ Z
    S = X @ np.swapaxes(X, 1, 2) / n
    terms = P @ S @ S - S
    mean = terms.mean(axis=0)
    se = terms.std(axis=0, ddof=1) / np.sqrt(samples)
    return (mean / se).ravel()


def _mc_samples(full: bool) -> int:
    return 400_000 if full else 60_000


@lru_cache(maxsize=4)
def mixture_routes(samples: int) -> dict:
    """sympy stationarity of ``P(π)`` and the Monte Carlo z-scores of ``P(π)`` and of the naive ``M^{-1}``."""
    linear, quadratic = mixture_stationarity_residual(MC_TASKS, MC_PI, MC_N)
    pi = [float(p) for p in MC_PI]
    z = mixture_normal_equation_z(MC_TASKS, pi, MC_N, samples, SEED)
    naive = np.linalg.inv(sum(p * np.asarray(L, dtype=float) for p, L in zip(pi, MC_TASKS)))
    z_naive = mixture_normal_equation_z(MC_TASKS, pi, MC_N, samples, SEED, precond=naive)
    return {"linear": linear, "quadratic": quadratic, "z": tuple(z), "z_naive": tuple(z_naive)}


# ---------------------------------------------------------------------------------------------
# The d = 1 counterexample


@lru_cache(maxsize=2)
def d1_counterexample() -> dict:
    """The exact ``d = 1`` example: the QP's selection, ``I − P(π)Σ`` there, and the ``π`` where it vanishes.

    The zero of ``1 − P(π)Σ`` is solved for by sympy on the segment ``π = (p, 1 − p)``.
    """
    sel = select_tasks(D1_TASKS, D1_TARGET)
    p = sp.Symbol("p")
    step = mixture_step_symbolic(D1_TASKS, (p, 1 - p), D1_N, D1_TARGET)[0, 0]
    zeros = sorted(r for r in sp.solve(sp.numer(sp.together(step)), p) if r.is_real and 0 <= r <= 1)
    factor_qp = step.subs(p, sp.Rational(sel.pi[0]))
    return {"pi_qp": tuple(Fraction(x) for x in sel.pi), "objective": sel.objective, "certified": sel.certified,
            "factor_qp": Fraction(int(sp.numer(factor_qp)), int(sp.denom(factor_qp))),
            "pi_zero": None if not zeros else (Fraction(int(sp.numer(zeros[0])), int(sp.denom(zeros[0]))),
                                               1 - Fraction(int(sp.numer(zeros[0])), int(sp.denom(zeros[0]))))}


def d1_float_route(pi_qp, factor_qp, pi_zero) -> dict:
    """Floats (theory.selection): ``err_k`` at both ``π`` for ``k`` in ``D1_KS``, and the grid + SLSQP optimum."""
    qp_rel = max(abs(mixture_cot_error(D1_TASKS, [float(x) for x in pi_qp], D1_N, D1_TARGET, k)
                     / float(factor_qp) ** (2 * k) - 1) for k in D1_KS)
    zero_err = max(mixture_cot_error(D1_TASKS, [float(x) for x in pi_zero], D1_N, D1_TARGET, k) for k in D1_KS)
    best = true_optimal_selection(D1_TASKS, D1_TARGET, D1_N, D1_KS[0])
    return {"qp_rel": qp_rel, "zero_err": zero_err, "best_error": best.error, "best_pi": tuple(best.pi)}


# ---------------------------------------------------------------------------------------------
# Seeded random pools: the CoT error of the mixture-trained model


def sign_interval(wins: int, trials: int, confidence: float = SIGN_CONFIDENCE) -> tuple[float, float]:
    """Exact (Clopper–Pearson) interval for a binomial proportion: ``wins`` successes in ``trials``."""
    from scipy.stats import binomtest
    if trials < 1:
        raise ValueError(f"trials must be >= 1, got {trials}")
    ci = binomtest(int(wins), int(trials)).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)


def _side(low: float, high: float) -> str:
    """Which side of 1/2 an interval lies on: 'above', 'below', or 'straddles'."""
    return "above" if low > 0.5 else "below" if high < 0.5 else "straddles"


def _true_pools(full: bool) -> int:
    return 100 if full else 20


def _uniform_pools(m, full: bool) -> int:
    if m is None:
        return 5000 if full else 1000
    return 1000 if full else 200


@lru_cache(maxsize=4)
def true_family(pools: int):
    """The QP's π against the π minimising ``err_k`` (grid + SLSQP) on the seeded Wishart pools."""
    return qp_vs_true_error(FAMILY_SEED, pools=pools, T=FAMILY_T, d=FAMILY_D, ns=TRUE_NS, ks=TRUE_KS)


@lru_cache(maxsize=8)
def uniform_family(pools: int, m):
    """The QP's π against the uniform π on the seeded Wishart pools (the same family as ``true_family``)."""
    ks = tuple(sorted({k for _, k, mm in UNIFORM_CASES if mm == m}))
    return qp_vs_uniform(FAMILY_SEED, pools=pools, T=FAMILY_T, d=FAMILY_D, ns=TRUE_NS, ks=ks, m=m)


def one_step_error(P, sigma, m) -> float:
    r"""``E‖(I − PŜ_m)w‖²`` for one step, in closed form (the second route for ``k = 1``).

    .. math:: d - 2\operatorname{tr}(P\Sigma) + \operatorname{tr}\bigl(P^\top P\,
              [(1 + 1/m)\Sigma^2 + (\operatorname{tr}\Sigma/m)\Sigma]\bigr)
    """
    P, sigma = np.asarray(P, dtype=float), np.asarray(sigma, dtype=float)
    second = (1 + 1 / m) * sigma @ sigma + np.trace(sigma) / m * sigma
    return float(sigma.shape[0] - 2 * np.trace(P @ sigma) + np.trace(P.T @ P @ second))


def exact_error(tasks, pi, n, sigma, k, m) -> float:
    """``err_k`` by a route other than :func:`theory.selection.mixture_cot_error`'s: the exact
    ``m = ∞`` engine (:func:`theory.error.precond_error`), or the one-step closed form at finite ``m``."""
    P = mixture_preconditioner(tasks, pi, n)
    if m is None:
        return precond_error(P, sigma, k)
    if k != 1:
        raise ValueError(f"the closed-form route covers k = 1 only, got k = {k}")
    return one_step_error(P, sigma, m)


def recount_uniform(family, n: int, k: int) -> tuple[int, int]:
    """Wins of the QP's π over the uniform π recounted with :func:`exact_error` (pools, ``T`` from the family)."""
    pools = random_pools(family.seed, family.pi_qp.shape[0], T=family.T, d=family.d)
    uniform = np.full(family.T, 1 / family.T)
    wins = ties = 0
    for (tasks, sigma), pi in zip(pools, family.pi_qp):
        a = exact_error(tasks, pi, n, sigma, k, family.m)
        b = exact_error(tasks, uniform, n, sigma, k, family.m)
        wins += a < b
        ties += a == b
    return wins, len(pools) - ties


def recount_excess(family, i: int, j: int) -> tuple[int, int]:
    """Pools whose QP error exceeds the found optimum's by more than ``EXCESS_MARGIN``, recounted with
    :func:`exact_error` at the recorded ``π``."""
    pools = random_pools(family.seed, family.pi_qp.shape[0], T=family.T, d=family.d)
    n, k = family.ns[i], family.ks[j]
    above = 0
    for p, (tasks, sigma) in enumerate(pools):
        qp = exact_error(tasks, family.pi_qp[p], n, sigma, k, None)
        best = exact_error(tasks, family.pi_true[p, i, j], n, sigma, k, None)
        above += qp > (1 + EXCESS_MARGIN) * best
    return above, len(pools)


def _m_text(m) -> str:
    return r"\infty" if m is None else str(m)


# ---------------------------------------------------------------------------------------------
# Parts


def _expansion_sizes(full: bool) -> tuple:
    return ((1, 3), (2, 2), (3, 3)) if full else ((1, 3), (2, 2))


def _expansion_pools(full: bool) -> int:
    return 60 if full else 15


@CLAIM_QP.part("expansion", CLAIM,
               r"$\|I - \Sigma^{-1}\sum_\ell \pi_\ell\Lambda_\ell\|_F^2 = \pi^\top Q\pi - 2b^\top\pi + d$ with "
               r"$Q_{\ell\ell'} = \operatorname{tr}(\Lambda_\ell\Sigma^{-2}\Lambda_{\ell'})$ and "
               r"$b_\ell = \operatorname{tr}(\Sigma^{-1}\Lambda_\ell)$, for every symmetric $\Sigma \succ 0$, "
               r"$\Lambda_\ell$ and every $\pi$.")
def expansion(full: bool):
    sizes = _expansion_sizes(full)
    certified = all(expansion_residual(d, T) == 0 for d, T in sizes)
    if expansion_residual(*TRANSPOSED_SIZE, transposed=True) == 0:
        raise RouteDisagreement("the expansion check cannot tell Q from the transposed tr(S L S L')",
                                [("correct Q", "residual 0"), ("transposed Q", "residual 0 as well")])
    numeric = expansion_pools(_expansion_pools(full))
    found = numeric["first"]
    if certified != (found is None):
        raise RouteDisagreement("the QP expansion", [("sympy identity", "holds" if certified else "residual != 0"),
                                                     ("exact rationals on seeded pools",
                                                      "agree" if found is None else f"differ at {found[2]}")])

    def counterexample():
        tasks, target, pi, direct, quadratic = found
        lhs, rhs = float_expansion_sides(tasks, target, pi)
        return Counterexample(
            tex(r"$\Sigma = «S:mat»$, tasks $«tasks»$, $\pi = («pi:list»)$: direct $«a:frac»$, quadratic "
                r"form $«b:frac»$", S=np.asarray(target), pi=list(pi), a=direct, b=quadratic,
                tasks=", ".join(tex("«t:mat»", t=np.asarray(t)).render() for t in tasks)),
            lambda: not math.isclose(lhs, rhs, rel_tol=EXPANSION_FLOAT_RTOL, abs_tol=EXPANSION_FLOAT_RTOL),
            "both sides in floating point from the trace formulas (numpy)")

    shown = ", ".join(f"({d}, {T})" for d, T in sizes)
    return decide(found is None,
                  tex(r"sympy: for generic symmetric $\Sigma^{-1}$ and $\Lambda_\ell$, the difference of the two "
                      r"sides expands to $0$ at $(d, T) \in \{«sizes»\}$, while the transposed "
                      r"$\operatorname{tr}(\Sigma^{-1}\Lambda_\ell\Sigma^{-1}\Lambda_{\ell'})$ leaves a nonzero "
                      r"residual at $(d, T) = («ts:list»)$. Exact rationals: both sides equal at a random rational "
                      r"$\pi$ on «pools» seeded integer pools ($d \le «max_d»$, duplicated and averaged tasks "
                      r"included).", sizes=shown, ts=list(TRANSPOSED_SIZE), pools=numeric["pools"], max_d=3),
                  counterexample)


@CLAIM_QP.part("convex", CLAIM,
               r"$Q$ is positive semi-definite, so the QP is convex; it can be singular.")
def convex(full: bool):
    certified = gram_residual(2) == 0
    exact = psd_pools(_agreement_pools(full))
    found = exact["first"]
    if certified != (found is None):
        raise RouteDisagreement("positive semi-definiteness of Q",
                                [("sympy Gram identity", "holds" if certified else "residual != 0"),
                                 ("exact PSD test on seeded pools", "all PSD" if found is None else "a Q is not PSD")])

    def counterexample():
        tasks, target, Q = found
        Qf = np.array(Q.tolist(), dtype=float)
        lowest = float(np.linalg.eigvalsh(Qf)[0])
        return Counterexample(tex(r"$\Sigma = «S:mat»$, $Q = «Q:mat»$", S=np.asarray(target),
                                  Q=[[Fraction(int(sp.numer(v)), int(sp.denom(v))) for v in row] for row in Q.tolist()]),
                              lambda: lowest < -PSD_FLOAT_RTOL * max(1.0, float(np.max(np.abs(Qf)))),
                              "the least eigenvalue of Q in floating point (numpy)")

    if exact["singular"] == 0:
        raise RouteDisagreement("the seeded pools were built to include singular Q",
                                [("pools with det Q = 0", 0), ("expected", "at least one")])
    return decide(found is None,
                  tex(r"sympy: $\operatorname{tr}(\Lambda\Sigma^{-2}\Lambda') = \langle\Sigma^{-1}\Lambda, "
                      r"\Sigma^{-1}\Lambda'\rangle_F$ for generic symmetric $\Sigma^{-1}, \Lambda, \Lambda'$, so "
                      r"$Q$ is the Gram matrix of the $B_\ell = \Sigma^{-1}\Lambda_\ell$. Exact: $Q$ positive "
                      r"semi-definite (sympy, rational) on «pools» seeded pools, singular ($\det Q = 0$) on «sing» "
                      r"of them (duplicated or averaged tasks).", pools=exact["pools"], sing=exact["singular"]),
                  counterexample)


@CLAIM_QP.part("cot-optimal", CLAIM,
               r"The QP's $\pi$ is the optimal task mixture for the CoT test error of the model trained on "
               r"it: it minimises $\mathrm{err}_k(\pi) = \|(I - P(\pi)\Sigma)^k\|_F^2$ over the simplex.")
def cot_optimal(full: bool):
    ex = d1_counterexample()
    if not ex["certified"]:
        raise RouteDisagreement("the d = 1 QP optimum", [("exact active set", "not certified")])
    beaten = ex["pi_zero"] is not None and ex["factor_qp"] != 0

    def counterexample():
        route = d1_float_route(ex["pi_qp"], ex["factor_qp"], ex["pi_zero"])
        return Counterexample(
            tex(r"$d = «d»$, $\Lambda_1 = «l1»$, $\Lambda_2 = «l2»$, $\Sigma = «s»$, $n = «n»$: the QP's "
                r"$\pi = («pq:list»)$ (objective $«f»$) has $I - P(\pi)\Sigma = «fq:frac»$, so "
                r"$\mathrm{err}_k = («fq:frac»)^{2k}$, while $\pi = («pz:list»)$ has $P(\pi)\Sigma = 1$ and "
                r"$\mathrm{err}_k = 0$ for every $k \ge 1$. Floats: $\mathrm{err}_k$ at the QP's $\pi$ within "
                r"$«rel:.2g»$ relative of $(«fq:frac»)^{2k}$ and at the other $\pi$ at most $«zero:.2g»$ "
                r"($k \in \{«ks:list»\}$); the grid + SLSQP optimum at $k = «k1»$ has error $«best:.2g»$.",
                d=len(D1_TARGET), l1=D1_TASKS[0][0][0], l2=D1_TASKS[1][0][0], s=D1_TARGET[0][0], n=D1_N,
                pq=list(ex["pi_qp"]), f=ex["objective"], fq=ex["factor_qp"], pz=list(ex["pi_zero"]),
                rel=route["qp_rel"], zero=route["zero_err"], ks=list(D1_KS), k1=D1_KS[0], best=route["best_error"]),
            lambda: (route["qp_rel"] <= D1_RTOL and route["zero_err"] <= D1_ZERO_ATOL
                     and route["best_error"] < float(ex["factor_qp"]) ** (2 * D1_KS[0])),
            "floating point: theory.selection.mixture_cot_error and true_optimal_selection")

    if beaten:
        found = tex(r"at the QP's certified optimum $\pi = («pq:list»)$ (objective $«f»$), "
                    r"$I - P(\pi)\Sigma = «fq:frac»$, while $P(\pi)\Sigma = 1$ exactly at $\pi = («pz:list»)$",
                    pq=list(ex["pi_qp"]), f=ex["objective"], fq=ex["factor_qp"], pz=list(ex["pi_zero"]))
    else:
        found = tex(r"at the QP's certified optimum $\pi = («pq:list»)$, $I - P(\pi)\Sigma = «fq:frac»$, and no "
                    r"$\pi$ of the segment does better", pq=list(ex["pi_qp"]), fq=ex["factor_qp"])
    return decide(not beaten,
                  tex(r"Exact (sympy on the segment $\pi = (p, 1 - p)$ of the $d = «d»$ pool, $I - P(\pi)\Sigma$ "
                      r"from the definitions): «found». The QP matches $\Sigma^{-1}M(\pi)$ to $I$, while the trained "
                      r"model inverts $\sum_\ell \pi_\ell\Gamma_\ell\Lambda_\ell$, not $M(\pi)$.",
                      d=len(D1_TARGET), found=found),
                  counterexample)


@CLAIM_QP.part("certified-optimum", CONDITION,
               r"With the QP's own objective as what “optimal” means (a surrogate for the CoT error), its "
               r"minimiser over the simplex is found and certified exactly, including when $Q$ is singular.")
def certified_optimum(full: bool):
    agreement = exact_agreement(_agreement_pools(full))
    pools = agreement["pools"]
    if not agreement["certified"] == agreement["agree"] == pools:
        raise RouteDisagreement("the exact QP optimum",
                                [("active set certified by exact KKT", f"{agreement['certified']}/{pools}"),
                                 ("equal to exhaustive enumeration", f"{agreement['agree']}/{pools}")])
    if not agreement["scipy_rel"] <= SCIPY_RTOL:
        raise RouteDisagreement("the QP optimum in floating point",
                                [("exact active set", "certified"), ("SLSQP, relative gap", agreement["scipy_rel"]),
                                 ("tolerance", SCIPY_RTOL)])
    return holds(tex(r"An exact-rational active-set method, certified by exact KKT (stationarity on the support, "
                     r"$\pi \ge 0$, reduced gradient $\ge 0$, complementary slackness, Frank--Wolfe gap $0$), on "
                     r"«pools» seeded rational pools («nu» with a non-unique optimum, the minimum-norm point "
                     r"reported); exhaustive support enumeration gives the same objective and the same optimal "
                     r"vertex set on all of them, and SciPy's SLSQP the same objective within $«rel:.2g»$ relative.",
                     pools=pools, nu=agreement["non_unique"], rel=agreement["scipy_rel"]))


@CLAIM_QP.part("second-order", FINDING,
               r"The QP objective equals the inverse error $\|I - M(\pi)^{-1}\Sigma\|_F^2$ only to second order "
               r"around $M(\pi) = \Sigma$: along $M = \Sigma + \varepsilon X$ they differ at order "
               r"$\varepsilon^3$.")
def second_order(full: bool):
    coeffs = second_order_series()
    c3 = coeffs[3]
    ok = all(c == 0 for c in coeffs[:3]) and c3 != 0
    measured = second_order_float()
    if ok:
        agree("the third-order coefficient", ("sympy", float(c3)), (f"floats at eps = {SECOND_ORDER_EPS}", measured),
              rtol=SECOND_ORDER_RTOL)

    def counterexample():
        # Equal to second order with a nonzero third-order term means (f_inv − f)/ε³ = O(1); a
        # lower-order term makes it at least ~1/ε, a vanishing third-order one at most ~ε.
        return Counterexample(
            tex(r"$\Sigma = «S:mat»$, $X = «X:mat»$: coefficients of $\varepsilon^0, \ldots, \varepsilon^3$: "
                r"$«c:list»$", S=SECOND_ORDER_SIGMA, X=SECOND_ORDER_X, c=[sp.latex(c) for c in coeffs]),
            lambda: not SECOND_ORDER_EPS ** 0.5 <= abs(measured) <= SECOND_ORDER_EPS ** -0.5,
            "the difference over epsilon cubed in floating point")

    return decide(ok,
                  tex(r"sympy: the series of $\|I - M^{-1}\Sigma\|_F^2 - \|I - \Sigma^{-1}M\|_F^2$ at "
                      r"$\Sigma = «S:mat»$, $X = «X:mat»$ has zero coefficients up to $\varepsilon^2$ and "
                      r"$\varepsilon^3$-coefficient $«c3»$; floats at $\varepsilon = «eps:.2g»$: $«meas:.6g»$.",
                      S=SECOND_ORDER_SIGMA, X=SECOND_ORDER_X, c3=sp.latex(c3), eps=SECOND_ORDER_EPS, meas=measured),
                  counterexample)


@CLAIM_QP.part("mixture-preconditioner", FINDING,
               r"The model trained on the prompt-level mixture $\pi$ has the population-optimal preconditioner "
               r"$P(\pi) = M(\pi)(\sum_\ell \pi_\ell\Gamma_\ell\Lambda_\ell)^{-1}$ (not $M(\pi)^{-1}$).")
def mixture_preconditioner_part(full: bool):
    samples = _mc_samples(full)
    r = mixture_routes(samples)
    stationary = r["linear"] == 0 and r["quadratic"] == 0
    naive = max(abs(v) for v in r["z_naive"])
    if naive <= Z_LIMIT:
        raise RouteDisagreement("the Monte Carlo cannot tell P(pi) from the naive inverse",
                                [("naive M^{-1}, max |z|", naive), ("limit", Z_LIMIT)])
    if stationary:
        z = require_z("the mixture's normal equations E[P S^2 - S] = 0", r["z"])
    else:
        z = max(abs(v) for v in r["z"])

    def counterexample():
        return Counterexample(
            tex(r"tasks $«a:mat»$, $«b:mat»$, $\pi = («pi:list»)$, $n = «n»$: sympy first-order term $«lin»$",
                a=MC_TASKS[0], b=MC_TASKS[1], pi=list(MC_PI), n=MC_N, lin=sp.latex(r["linear"])),
            lambda: z > Z_LIMIT, "the seeded Monte Carlo normal equations")

    return decide(stationary,
                  tex(r"sympy: at tasks $«a:mat»$, $«b:mat»$, $\pi = («pi:list»)$, $n = «n»$ the first-order term of "
                      r"$J(P + \varepsilon E) - J(P)$ vanishes identically and the second-order term is "
                      r"$\operatorname{tr}(E D E^\top)$, $D = \sum_\ell \pi_\ell\Gamma_\ell\Lambda_\ell$. Monte Carlo "
                      r"(«samples» prompts, seed «seed»): the normal equations $\mathbb E[P\hat S^2 - \hat S] = 0$ "
                      r"hold with max $|z| = «z:.3g»$, while the naive $M(\pi)^{-1}$ gives max $|z| = «zn:.3g»$.",
                      a=MC_TASKS[0], b=MC_TASKS[1], pi=list(MC_PI), n=MC_N, samples=samples, seed=SEED, z=z, zn=naive),
                  counterexample)


_FAMILY = (r"«pools» seeded pools (seed «seed»; $T = «T»$ tasks, $d = «d»$, Wishart$(d, I, d + 1)$ tasks and "
           r"target scaled to trace $d$)")


@CLAIM_QP.part("excess", FINDING,
               r"On random pools the QP's $\pi$ is materially worse for the CoT error than the CoT-optimal "
               r"$\pi$: its relative excess error exceeds the margin in a majority of pools, at every $(n, k)$ "
               r"tried.")
def excess(full: bool):
    fam = true_family(_true_pools(full))
    pools = fam.excess.shape[0]
    rows, sides, intervals = [], [], []
    for i, n in enumerate(fam.ns):
        for j, k in enumerate(fam.ks):
            x = fam.excess[:, i, j]
            above = int(np.sum(x > EXCESS_MARGIN))
            low, high = sign_interval(above, pools)
            sides.append(_side(low, high))
            intervals.append((n, k, above, low, high))
            rows.append(tex(r"$n = «n»$, $k = «k»$: above the margin in «a» (interval $[«lo:.3f», «hi:.3f»]$), "
                            r"median excess $«med:%»$, max $«mx:.3g»$, spectral radius of $I - P(\pi)\Sigma$ above "
                            r"$1$ in «dq» pools at the QP's $\pi$ and «dt» at the optimum",
                            n=n, k=k, a=above, lo=low, hi=high, med=float(np.median(x)), mx=float(np.max(x)),
                            dq=int(np.sum(fam.radius_qp[:, i] > 1)), dt=int(np.sum(fam.radius_true[:, i, j] > 1))
                            ).render())
    evidence = tex(r"Optimum of $\mathrm{err}_k$ over the simplex by grid + SLSQP (the QP's $\pi$ among the starts) on "
                   + _FAMILY + r"; margin $«margin:%»$, exact binomial intervals at confidence $«conf:%»$: «rows».",
                   pools=pools, seed=FAMILY_SEED, T=FAMILY_T, d=FAMILY_D, margin=EXCESS_MARGIN,
                   conf=SIGN_CONFIDENCE, rows="; ".join(rows))
    if all(s == "above" for s in sides):
        return holds(evidence)
    if any(s == "below" for s in sides):
        n, k, above, low, high = next(iv for iv, s in zip(intervals, sides) if s == "below")
        i, j = fam.ns.index(n), fam.ks.index(k)

        def confirm():
            again, total = recount_excess(fam, i, j)
            return sign_interval(again, total)[1] < 0.5

        return fails(evidence, Counterexample(
            tex(r"$n = «n»$, $k = «k»$: the QP's $\pi$ is within the margin of the optimum in most of the "
                r"«pools» pools (interval $[«lo:.3f», «hi:.3f»]$ for the share above it)",
                n=n, k=k, pools=pools, lo=low, hi=high),
            confirm, "every error recomputed by the exact m = ∞ engine (theory.error.precond_error)"))
    return undecided(evidence, tex(r"the share above the margin is decided for some $(n, k)$ only: «iv».",
                                   iv="; ".join(f"$n = {n}$, $k = {k}$: $[{lo:.3f}, {hi:.3f}]$"
                                                for n, k, _, lo, hi in intervals)))


def _uniform_part(n: int, k: int, m):
    part_id = f"beats-uniform-n{n}-k{k}" + ("" if m is None else f"-m{m}")

    @CLAIM_QP.part(part_id, FINDING,
                   tex(r"At $n = «n»$, $k = «k»$, $m = «m»$ the QP's $\pi$ gives a smaller CoT error than the "
                       r"uniform $\pi$ in a majority of random pools.", n=n, k=k, m=_m_text(m)))
    def beats_uniform(full: bool):
        fam = uniform_family(_uniform_pools(m, full), m)
        pools = fam.err_qp.shape[0]
        i, j = fam.ns.index(n), fam.ks.index(k)
        wins, ties = int(fam.qp_wins[i, j]), int(fam.ties[i, j])
        trials = pools - ties
        low, high = sign_interval(wins, trials)
        route = ("the exact m = ∞ engine (theory.error.precond_error)" if m is None
                 else "the one-step closed form")
        evidence = tex(r"Paired over " + _FAMILY + r": the QP's $\pi$ has the smaller error in «w» of «t» "
                       r"pools without a tie; exact binomial (sign-test) interval for that share at confidence "
                       r"$«conf:%»$: $[«lo:.3f», «hi:.3f»]$.",
                       pools=pools, seed=FAMILY_SEED, T=FAMILY_T, d=FAMILY_D, w=wins, t=trials,
                       conf=SIGN_CONFIDENCE, lo=low, hi=high)
        side = _side(low, high)
        if side == "above":
            return holds(evidence)
        if side == "below":
            def confirm():
                again, total = recount_uniform(fam, n, k)
                return sign_interval(again, total)[1] < 0.5
            return fails(evidence, Counterexample(
                tex(r"the uniform $\pi$ is better in «u» of «t» pools (seed «seed»), interval for the QP's share "
                    r"$[«lo:.3f», «hi:.3f»]$ below $\tfrac{1}{2}$",
                    u=trials - wins, t=trials, seed=FAMILY_SEED, lo=low, hi=high),
                confirm, f"every error recomputed by {route}"))
        return undecided(evidence, tex(r"the share of pools where the QP's $\pi$ is better lies in "
                                       r"$[«lo:.3f», «hi:.3f»]$ at confidence $«conf:%»$, which contains "
                                       r"$\tfrac{1}{2}$.", lo=low, hi=high, conf=SIGN_CONFIDENCE))

    return beats_uniform


for _case in UNIFORM_CASES:
    _uniform_part(*_case)


@CLAIM_QP.part("diverges", FINDING,
               r"The QP's $\pi$ can make the CoT iteration diverge: on some random pools $I - P(\pi)\Sigma$ has "
               r"spectral radius above $1$, so $\mathrm{err}_k \to \infty$ as $k \to \infty$.")
def diverges(full: bool):
    fam = uniform_family(_uniform_pools(None, full), None)
    pools = fam.radius_qp.shape[0]
    counts = [int(np.sum(fam.radius_qp[:, i] > 1)) for i in range(len(fam.ns))]
    intervals = [sign_interval(c, pools) for c in counts]
    evidence = tex(r"On " + _FAMILY + r", spectral radius of $I - P(\pi)\Sigma$ at the QP's $\pi$ above $1$: «rows» "
                   r"(exact binomial intervals at confidence $«conf:%»$).",
                   pools=pools, seed=FAMILY_SEED, T=FAMILY_T, d=FAMILY_D, conf=SIGN_CONFIDENCE,
                   rows="; ".join(f"$n = {n}$: {c} pools, $[{lo:.3f}, {hi:.3f}]$"
                                  for n, c, (lo, hi) in zip(fam.ns, counts, intervals)))
    if sum(counts) > 0:
        return holds(evidence)
    return undecided(evidence, tex(r"no pool of the «pools» diverges; the share is at most $«hi:.3g»$.",
                                   pools=pools, hi=max(hi for _, hi in intervals)))


# ---------------------------------------------------------------------------------------------
# Derivation


@CLAIM_QP.derives
def derivation() -> list[Step]:
    from theory.derive import _eq
    d, T = 2, 2
    Sm = sp.MatrixSymbol("Sigma", d, d)
    P = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"p_{min(i, j) + 1}{max(i, j) + 1}"))
    tasks = [sp.Matrix(d, d, lambda i, j, l=l: sp.Symbol(f"lambda^{l + 1}_{min(i, j) + 1}{max(i, j) + 1}"))
             for l in range(T)]
    pi = sp.symbols(f"pi_1:{T + 1}")
    mix = sum((p * L for p, L in zip(pi, tasks)), sp.zeros(d, d))
    resid = sp.eye(d) - P * mix
    objective = sp.expand((resid * resid.T).trace())
    Q = sp.Matrix(T, T, lambda a, b: (tasks[a] * P * P * tasks[b]).trace())
    b = sp.Matrix(T, 1, lambda a, _: (P * tasks[a]).trace())
    pv = sp.Matrix(pi)
    quadratic = (pv.T * Q * pv)[0, 0] - 2 * (b.T * pv)[0, 0] + d
    gap = sp.expand(objective - quadratic)
    q11, q12, q22, b1, b2, p1 = sp.symbols("Q_11 Q_12 Q_22 b_1 b_2 pi_1")
    on_simplex = sp.expand(q11 * p1 ** 2 + 2 * q12 * p1 * (1 - p1) + q22 * (1 - p1) ** 2
                           - 2 * b1 * p1 - 2 * b2 * (1 - p1) + d)
    stationary = sp.solve(sp.diff(on_simplex, p1), p1)[0]
    M = sp.MatrixSymbol("M", d, d)
    return [
        Step(tex(r"The objective $f(\pi) = \|I - \Sigma^{-1}\sum_\ell \pi_\ell\Lambda_\ell\|_F^2$ is expanded with "
                 r"symbolic entries ($d = «d»$, $T = «T»$ tasks; $p_{ij}$ are the entries of the symmetric "
                 r"$\Sigma^{-1}$, and the entries of each $\Lambda_\ell$ are symbols too): «mono» monomials, "
                 r"quadratic in $\pi$.", d=d, T=T, mono=len(objective.args)).render(),
             _eq(sp.Function("f")(sp.Symbol("pi")), sp.Trace((sp.Identity(d) - Sm.I * M) * (sp.Identity(d) - Sm.I * M).T))),
        Step(r"The Gram matrix $Q_{\ell\ell'} = \operatorname{tr}(\Lambda_\ell\Sigma^{-2}\Lambda_{\ell'})$ (the "
             r"inner product of $\Sigma^{-1}\Lambda_\ell$ and $\Sigma^{-1}\Lambda_{\ell'}$, hence positive "
             r"semi-definite), entry $(1, 2)$:", Q[0, 1]),
        Step(r"and $b_\ell = \operatorname{tr}(\Sigma^{-1}\Lambda_\ell)$, entry $1$:", b[0]),
        Step(r"$f(\pi) - (\pi^\top Q\pi - 2b^\top\pi + d)$, expanded: zero, so the selection problem is the convex "
             r"QP $\min \pi^\top Q\pi - 2b^\top\pi + d$ over the simplex.", gap),
        Step(r"With $T = 2$ and $\pi_2 = 1 - \pi_1$, stationarity of the restricted quadratic gives the interior "
             r"optimum (clipped to $[0, 1]$ when it falls outside):", _eq(sp.Symbol(r"\pi_1^*"), stationary)),
        Step(r"In matrix form, for general $d$:", _eq(
            sp.Symbol("Q_{ll'}"), sp.Trace(sp.MatrixSymbol("Lambda_l", d, d) * Sm.I ** 2
                                          * sp.MatrixSymbol("Lambda_l'", d, d)))),
    ]
