r"""Claim ``qp``: task selection is a convex QP over the simplex (Section 4, poster).

Routes:

* exact: the expansion ``‖I − Σ^{-1}Σ_ℓπ_ℓΛ_ℓ‖_F² = πᵀQπ − 2bᵀπ + d`` with
  ``Q_{ℓℓ'} = tr(Λ_ℓΣ^{-2}Λ_ℓ')``, ``b_ℓ = tr(Σ^{-1}Λ_ℓ)`` in sympy for generic symmetric matrices
  (and the transposed variant ``tr(Σ^{-1}Λ_ℓΣ^{-1}Λ_ℓ')`` shown to be wrong); the active-set
  solution of seeded rational pools (duplicated and collinear tasks included) certified by exact KKT;
* independent: exhaustive support enumeration (exact; objective from the matrices, not from Q) and
  SciPy's SLSQP agree with it;
* beyond the paper: the prompt-level mixture's trained preconditioner
  ``P(π) = M(π)(Σπ_ℓΓ_ℓΛ_ℓ)^{-1}`` (stationarity exact in sympy, normal equations by seeded Monte
  Carlo) and how far the QP's ``π`` is from the ``π`` minimising the true CoT error
  ``‖(I − P(π)Σ)^k‖_F²``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from theory.ledger import CONDITIONAL, REFUTED, Verdict, claim
from theory.selection import (mixture_preconditioner, qp_vs_true_error,
                              select_tasks, select_tasks_by_enumeration, select_tasks_scipy,
                              selection_objective)

SEED = 20251003  # root of every seeded family below (the paper's arXiv month)


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


def mixture_stationarity_residual(task_covs, pi, n) -> tuple[sp.Expr, sp.Expr]:
    r"""Exact first- and second-order terms of ``J(P* + εE) − J(P*)`` at ``P* = M D^{-1}``.

    ``J(P) = Σ_ℓ π_ℓ [tr(P Γ_ℓΛ_ℓ Pᵀ) − 2 tr(PΛ_ℓ) + d] = E_ℓ E‖PŜ_n^{(ℓ)}w − w‖²`` (using
    ``E Ŝ = Λ``, ``E Ŝ² = ΓΛ``), ``E`` a generic symbolic direction.  Returns
    ``(linear term, quadratic term − tr(E D Eᵀ))``: both vanish identically iff ``P*`` is the
    stationary point and ``J`` has Hessian ``D = Σ π_ℓ Γ_ℓΛ_ℓ``.
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


def mixture_normal_equation_z(task_covs, pi, n, samples: int, seed: int, precond=None) -> float:
    r"""Largest |z| of the Monte Carlo normal equations ``E[P* Ŝ² − Ŝ] = 0`` under the mixture.

    Each sample draws ``ℓ ~ π``, ``n`` features ``x ~ N(0, Λ_ℓ)`` and ``Ŝ = XXᵀ/n``; every entry of
    ``P*Ŝ² − Ŝ`` has mean 0 iff ``P* = (Σπ_ℓΛ_ℓ)(Σπ_ℓE[Ŝ_ℓ²])^{-1}`` solves the normal equations of
    ``min_P E‖PŜw − w‖²``.  The z-score of each entry uses its sample standard deviation.
    ``precond`` replaces ``P*`` (to show that the test rejects a wrong candidate).
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
    return float(np.max(np.abs(mean) / se))


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


def exact_agreement(pools: int, seed: int = SEED) -> dict:
    """Active set vs exhaustive enumeration vs SLSQP on ``pools`` seeded rational pools."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    worst_scipy, singular, certified, agree = 0.0, 0, 0, 0
    for _ in range(pools):
        tasks, target = random_rational_pool(rng)
        sel = select_tasks(tasks, target)
        enum = select_tasks_by_enumeration(tasks, target)
        certified += sel.certified
        same = (sel.objective == enum.objective
                and selection_objective(sel.pi, tasks, target) == sel.objective
                and {tuple(v) for v in sel.vertices} == set(enum.vertices))
        agree += same
        singular += not sel.unique
        _, f_scipy = select_tasks_scipy(tasks, target)
        worst_scipy = max(worst_scipy, abs(f_scipy - float(sel.objective)) / max(1.0, float(sel.objective)))
    return {"pools": pools, "certified": certified, "agree": agree, "non_unique": singular,
            "scipy_rel": worst_scipy}


#: Exact d = 1 counterexample to "the QP's π minimises the mixture model's CoT error":
#: Λ ∈ {1, 3}, Σ = 2, n = 4.  QP: π = (1/2, 1/2), f = 0.  True error: P(π)Σ = 1 at π = (15/16, 1/16),
#: err_k = 0; at the QP's π, P Σ = 2·2/((3/2)·5) = 8/15, err_k = (7/15)^{2k}.
D1_TASKS = ([[1]], [[3]])
D1_TARGET = [[2]]
D1_N = 4
D1_TRUE_PI = (Fraction(15, 16), Fraction(1, 16))


def d1_counterexample() -> dict:
    """The exact d = 1 example above: QP selection, its true error, the true optimum's error."""
    sel = select_tasks(D1_TASKS, D1_TARGET)
    lam, sigma, n = (Fraction(1), Fraction(3)), Fraction(2), Fraction(D1_N)

    def p_sigma(pi):  # d = 1: Γ_ℓ Λ_ℓ = (1 + 2/n) λ_ℓ²
        return sigma * sum(p * l for p, l in zip(pi, lam)) / ((1 + 2 / n) * sum(p * l * l for p, l in zip(pi, lam)))

    return {"pi_qp": tuple(sel.pi), "objective": sel.objective,
            "factor_qp": 1 - p_sigma(tuple(sel.pi)), "factor_true": 1 - p_sigma(D1_TRUE_PI)}


@claim("qp", statement="The optimal task selection solves the convex QP min over the simplex of "
       "‖I − Σ^{-1} Σ_ℓ π_ℓ Λ_ℓ‖_F² = πᵀQπ − 2bᵀπ + d, Q_ℓℓ' = tr(Λ_ℓ Σ^{-2} Λ_ℓ'), b_ℓ = tr(Σ^{-1}Λ_ℓ)",
       source="[poster] (QP), [derived] (expansion)")
def verify(full: bool) -> Verdict:
    # Exact route 1: the expansion, for generic symmetric matrices (d = 2, T = 2; d = 3 in full).
    ok = expansion_residual(2, 2) == 0 and (not full or expansion_residual(3, 3) == 0)
    wrong = expansion_residual(2, 2, transposed=True) != 0
    # Exact route 2 and the independent ones: active set + KKT vs enumeration vs SLSQP.
    agreement = exact_agreement(60 if full else 10)
    # Beyond the paper: the mixture's preconditioner, exactly and by Monte Carlo.
    tasks = [[[2, 1], [1, 1]], [[1, 0], [0, 3]]]
    pi = (Fraction(1, 3), Fraction(2, 3))
    linear, quadratic = mixture_stationarity_residual(tasks, pi, 3)
    z = mixture_normal_equation_z(tasks, pi, 3, 400_000 if full else 60_000, SEED)
    ex = d1_counterexample()
    cmp = qp_vs_true_error(SEED % 2**16, pools=40 if full else 4, ns=(5, 50),
                           ks=(1, 2, 4, 8) if full else (1, 4))
    rows = cmp.summary()
    finite = qp_vs_true_error(SEED % 2**16 + 1, pools=10 if full else 1, ns=(5, 50) if full else (5,),
                              ks=(1, 2) if full else (1,), m=20)
    finite_table = "; ".join(f"n={r['n']},k={r['k']}: median {100 * r['median_excess']:.0f}%, "
                             f"max {r['max_excess']:.3g} (uniform π: median "
                             f"{100 * r['median_excess_uniform']:.0f}%)" for r in finite.summary())
    table = "; ".join(f"n={r['n']},k={r['k']}: median {100 * r['median_excess']:.0f}%, "
                      f"max {r['max_excess']:.3g}, >1% in {100 * r['share_above_1pct']:.0f}% "
                      f"(uniform π: median {100 * r['median_excess_uniform']:.0f}%; spectral radius of "
                      f"I − P(π)Σ above 1 in {100 * r['share_divergent_qp']:.0f}% at the QP's π, "
                      f"{100 * r['share_divergent_true']:.0f}% at the optimum)" for r in rows)
    # A failure below is a defect of this project's tooling, not a verdict on the paper.
    if not (wrong and linear == 0 and quadratic == 0 and z <= 5
            and agreement["certified"] == agreement["agree"] == agreement["pools"]
            and agreement["scipy_rel"] < 1e-7 and ex["objective"] == 0 and ex["factor_true"] == 0):
        raise RuntimeError(f"qp: a route disagrees: {agreement}, stationarity ({linear}, {quadratic}), "
                           f"z = {z:.2f}, d = 1 example {ex}")
    evidence = (
        f"Expansion πᵀQπ − 2bᵀπ + d == ‖I − Σ^{{-1}}M‖² exactly in sympy (generic symmetric d = 2"
        f"{', 3' if full else ''}); the transposed Q = tr(Σ^{{-1}}Λ Σ^{{-1}}Λ') is not. Exact active set "
        f"certified by exact KKT on {agreement['certified']}/{agreement['pools']} seeded rational pools "
        f"({agreement['non_unique']} with a non-unique optimum, min-norm point reported), equal to "
        f"exhaustive enumeration (objective and vertex set) on {agreement['agree']}, SLSQP objective "
        f"within rel {agreement['scipy_rel']:.1e}. Beyond the paper: the mixture-trained preconditioner "
        f"P(π) = M(π)(Σπ_ℓΓ_ℓΛ_ℓ)^{{-1}} is stationary exactly (sympy) and its normal equations hold "
        f"by Monte Carlo (max |z| = {z:.2f}); but the QP's π is not the CoT-error optimum: exact d = 1 "
        f"example Λ ∈ {{1, 3}}, Σ = 2, n = 4: QP π = (1/2, 1/2) with f = 0 gives err_k = "
        f"({ex['factor_qp']})^{{2k}} while π = (15/16, 1/16) gives err_k = 0; over {cmp.pi_qp.shape[0]} "
        f"random pools (T = 3, d = 3, Wishart, trace-normalised) the QP's relative excess in "
        f"‖(I − P(π)Σ)^k‖_F² is {table}. At m = 20 (exact engine, {finite.pi_qp.shape[0]} pools): "
        f"{finite_table}.")
    if not ok:
        return Verdict(REFUTED, "The stated expansion of the QP is false: " + evidence)
    return Verdict(CONDITIONAL, evidence)
