"""Claim ``qp``: task selection is a convex QP over the simplex, solved with a certificate; its ``π``
is a surrogate, not the optimum of the mixture-trained model's CoT error.

Routes: the expansion in sympy and in exact rationals; the Gram identity and exact PSD tests; the
exact active set with exact KKT against exhaustive enumeration and SLSQP; the mixture-trained
preconditioner (sympy stationarity, seeded Monte Carlo normal equations); the d = 1 counterexample
in sympy and in floats; random-pool comparisons decided by exact binomial sign tests.
"""

import dataclasses
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.conftest import assert_could_not_run, check_headline, check_part, part_ids, run_part
from theory import ledger
from theory.claims import qp as claim
from theory.selection import (mixture_cot_error, mixture_preconditioner, qp_vs_true_error, qp_vs_uniform,
                              random_pools, select_tasks, select_tasks_by_enumeration, select_tasks_scipy,
                              selection_objective, true_optimal_selection)


def test_headline():
    check_headline("qp")


@pytest.mark.parametrize("part", part_ids("qp"))
def test_part(part):
    check_part("qp", part)


# ----------------------------------------------------------------------------- the expansion

@pytest.mark.parametrize("d, T", [(1, 3), (2, 2), (2, 3)])
def test_expansion_is_an_identity(d, T):
    assert claim.expansion_residual(d, T) == 0


def test_transposed_expansion_is_wrong():
    # tr(Σ^{-1}Λ_ℓΣ^{-1}Λ_ℓ') ≠ tr(Λ_ℓΣ^{-2}Λ_ℓ') once d >= 2 (Σ^{-1}Λ is not symmetric) ...
    assert claim.expansion_residual(2, 2, transposed=True) != 0
    # ... and in d = 1 everything commutes, so the two agree: the check is not vacuous.
    assert claim.expansion_residual(1, 2, transposed=True) == 0


def test_gram_identity():
    assert claim.gram_residual(2) == 0


def test_qp_is_the_second_order_expansion_of_the_inverse_error():
    coeffs = claim.second_order_series()
    assert coeffs[:3] == [0, 0, 0] and coeffs[3] != 0
    # floats: (f_inv − f)/ε³ → c_3, with an O(ε) relative gap at ε = 1e-3 (rtol 1e-2, see the module)
    assert claim.second_order_float() == pytest.approx(float(coeffs[3]), rel=1e-2)


@pytest.mark.slow
def test_expansion_d3():
    assert claim.expansion_residual(3, 3) == 0


# ----------------------------------------------------------------------------- solver vs oracles

@st.composite
def rational_pools(draw, max_tasks=5, max_d=3):
    """Integer PSD tasks L Lᵀ (possibly duplicated or averaged: singular Q) and a PD target."""
    d = draw(st.integers(1, max_d))
    entry = st.integers(-3, 3)

    def psd():
        L = np.array(draw(st.lists(st.lists(entry, min_size=d, max_size=d), min_size=d, max_size=d)))
        return (L @ L.T).astype(object)

    tasks = [psd() for _ in range(draw(st.integers(1, max_tasks)))]
    if draw(st.booleans()):
        tasks.append(tasks[draw(st.integers(0, len(tasks) - 1))].copy())
    if len(tasks) >= 2 and draw(st.booleans()):
        tasks.append((tasks[0] + tasks[1]) * Fraction(1, 2))
    target = psd() + np.eye(d, dtype=int).astype(object)
    return tasks, target


@given(rational_pools())
def test_active_set_is_certified_and_matches_enumeration(pool):
    tasks, target = pool
    sel = select_tasks(tasks, target)
    enum = select_tasks_by_enumeration(tasks, target)
    assert sel.exact and sel.certified
    cert = sel.certificate
    assert (cert.stationarity, cert.primal_infeasibility, cert.dual_infeasibility,
            cert.complementarity, cert.gap) == (0, 0, 0, 0, 0)
    assert sel.objective == enum.objective == selection_objective(sel.pi, tasks, target)
    assert {tuple(v) for v in sel.vertices} == set(enum.vertices)
    assert sel.unique == (len(enum.vertices) == 1)
    # the canonical point is the minimum-norm optimum: ⟨π, v − π⟩ >= 0 for every optimal vertex
    for v in sel.vertices:
        assert sum(p * (a - p) for p, a in zip(sel.pi, v)) >= 0


@given(rational_pools())
def test_q_is_positive_semidefinite_exactly(pool):
    tasks, target = pool
    Q = sp.Matrix(select_tasks(tasks, target).qp.Q.tolist()).applyfunc(sp.Rational)
    assert Q.is_positive_semidefinite


@given(rational_pools())
def test_scipy_agrees(pool):
    tasks, target = pool
    sel = select_tasks(tasks, target)
    pi, value = select_tasks_scipy(tasks, target)
    # rtol 1e-8: SLSQP stops at ftol 1e-15 on objectives of size <= ~1e4 here
    assert value == pytest.approx(float(sel.objective), rel=1e-8, abs=1e-10)
    if sel.unique and min(np.linalg.eigvalsh(sel.qp.Q.astype(float))) > 1e-6:
        # a well-conditioned unique optimum: |Δπ| <= sqrt(Δf / λ_min(Q)) ~ 1e-4 at worst
        np.testing.assert_allclose(pi, sel.pi.astype(float), atol=1e-4)


@given(rational_pools(max_d=2))
def test_float_path_is_certified_and_close(pool):
    tasks, target = pool
    exact = select_tasks(tasks, target)
    floats = select_tasks([t.astype(float) for t in tasks], target.astype(float))
    assert floats.certified and not floats.exact
    # the certificate bounds f(π) − f* by the gap; the exact optimum checks it
    assert float(floats.objective) - float(exact.objective) <= floats.certificate.tolerance + 1e-12


def test_seeded_agreement_family():
    out = claim.exact_agreement(12, claim.SEED + 1)
    assert out["certified"] == out["agree"] == out["pools"] == 12
    assert out["scipy_rel"] < claim.SCIPY_RTOL


def test_seeded_pools_include_singular_q():
    assert claim.psd_pools(10)["singular"] > 0


# ----------------------------------------------------------------------------- the mixture model

def test_mixture_preconditioner_is_stationary_exactly():
    tasks = [[[2, 1], [1, 1]], [[1, 0], [0, 3]], [[1, 0], [0, 1]]]
    linear, quadratic = claim.mixture_stationarity_residual(tasks, (Fraction(1, 2), Fraction(1, 3), Fraction(1, 6)), 2)
    assert linear == 0 and quadratic == 0


def test_naive_inverse_is_not_stationary():
    # The tempting P = (Σπ_ℓΛ_ℓ)^{-1} fails the normal equations decisively (|z| ≈ 85 at 60 000
    # samples, seed below); the correct P(π) stays within the z limit.
    tasks = [[[2, 1], [1, 1]], [[1, 0], [0, 3]]]
    pi = (1 / 3, 2 / 3)
    assert np.max(np.abs(claim.mixture_normal_equation_z(tasks, pi, 3, 60_000, claim.SEED))) <= ledger.Z_LIMIT
    naive = np.linalg.inv(sum(p * np.asarray(L, dtype=float) for p, L in zip(pi, tasks)))
    assert np.max(np.abs(claim.mixture_normal_equation_z(tasks, pi, 3, 60_000, claim.SEED, precond=naive))) > 20


def test_symbolic_step_matches_the_library_preconditioner():
    tasks = [[[2, 1], [1, 1]], [[1, 0], [0, 3]]]
    sigma = [[1, Fraction(1, 2)], [Fraction(1, 2), 2]]
    pi = (Fraction(1, 4), Fraction(3, 4))
    step = claim.mixture_step_symbolic(tasks, pi, 5, sigma)
    P = mixture_preconditioner(tasks, [float(p) for p in pi], 5)
    # rtol 1e-12: a 2×2 float solve against exact rationals
    np.testing.assert_allclose(np.array(step.tolist(), dtype=float),
                               np.eye(2) - P @ np.array(sigma, dtype=float), rtol=1e-12, atol=1e-14)


def test_d1_counterexample_exact():
    ex = claim.d1_counterexample()
    # by hand: M = 2, D = (3/2)(1·(1/2) + 9·(1/2)) = 15/2 at π = (1/2, 1/2), so PΣ = 2·2/(15/2) = 8/15
    # and 1 − PΣ = 7/15; PΣ = 1 needs 2(p + 3(1 − p)) = (3/2)(p + 9(1 − p)), i.e. p = 15/16
    assert ex["pi_qp"] == (Fraction(1, 2), Fraction(1, 2)) and ex["objective"] == 0 and ex["certified"]
    assert ex["factor_qp"] == Fraction(7, 15) and ex["pi_zero"] == (Fraction(15, 16), Fraction(1, 16))
    for k in (1, 3):
        # floats (library): the error at (15/16, 1/16) vanishes, at the QP's π it is (7/15)^{2k}
        assert mixture_cot_error(claim.D1_TASKS, [15 / 16, 1 / 16], claim.D1_N, claim.D1_TARGET, k) < 1e-28
        assert mixture_cot_error(claim.D1_TASKS, [0.5, 0.5], claim.D1_N, claim.D1_TARGET, k) == pytest.approx(
            (7 / 15) ** (2 * k), rel=1e-12)


def test_d1_float_route_confirms():
    ex = claim.d1_counterexample()
    route = claim.d1_float_route(ex["pi_qp"], ex["factor_qp"], ex["pi_zero"])
    assert route["qp_rel"] <= claim.D1_RTOL and route["zero_err"] <= claim.D1_ZERO_ATOL
    assert route["best_error"] < (7 / 15) ** 2


def test_true_optimum_matches_a_dense_scan_for_two_tasks():
    # T = 2: the simplex is a segment; a 20 001-point scan is an independent global optimum
    rng = np.random.default_rng(np.random.SeedSequence([claim.SEED, 7]))
    A = rng.standard_normal((3, 4))
    tasks = [A @ A.T / 4, np.diag([1.0, 0.5, 0.2])]
    target = np.diag([0.4, 1.0, 2.0])
    n, k = 20, 4
    opt = true_optimal_selection(tasks, target, n, k)
    # the scan recomputes P(π) = M (Σπ_ℓ E[Ŝ_ℓ²])^{-1} from E[Ŝ²] = (1+1/n)Λ² + (tr Λ/n)Λ directly
    t = np.linspace(0, 1, 20_001)[:, None, None]
    moments = [(1 + 1 / n) * L @ L + np.trace(L) / n * L for L in tasks]
    M = (1 - t) * tasks[0] + t * tasks[1]
    D = (1 - t) * moments[0] + t * moments[1]
    R = np.linalg.matrix_power(np.eye(3) - M @ np.linalg.inv(D) @ target, k)
    scan = float(np.min(np.sum(R * R, axis=(1, 2))))
    assert opt.error <= scan * (1 + 1e-9)
    assert opt.error >= scan * (1 - 1e-3)  # the scan's step 5e-5 bounds how much it can miss


def test_finite_m_error_matches_the_one_step_closed_form():
    tasks = [np.array([[2.0, 0.5], [0.5, 1.0]]), np.diag([0.5, 2.0])]
    sigma, pi, n, m = np.array([[1.0, 0.3], [0.3, 0.7]]), [0.25, 0.75], 6, 9
    P = mixture_preconditioner(tasks, pi, n)
    # rtol 1e-12: the exact engine rounds once; the closed form is a few 2×2 products
    assert mixture_cot_error(tasks, pi, n, sigma, 1, m=m) == pytest.approx(claim.one_step_error(P, sigma, m),
                                                                         rel=1e-12)


def test_exact_route_matches_the_float_error():
    (tasks, sigma), = random_pools(claim.FAMILY_SEED, 1)
    for k in (1, 4):
        # rtol 1e-12: exact value of the float P against a float matrix power of a 3×3 matrix
        assert claim.exact_error(tasks, [0.2, 0.3, 0.5], 5, sigma, k, None) == pytest.approx(
            mixture_cot_error(tasks, [0.2, 0.3, 0.5], 5, sigma, k), rel=1e-12)
    with pytest.raises(ValueError, match="k = 1 only"):
        claim.exact_error(tasks, [0.2, 0.3, 0.5], 5, sigma, 2, 20)


# ----------------------------------------------------------------------------- seeded families

def test_random_pools_are_prefix_stable():
    short, long = random_pools(5, 3), random_pools(5, 6)
    for (a, s), (b, t) in zip(short, long):
        assert all(np.array_equal(x, y) for x, y in zip(a, b)) and np.array_equal(s, t)


def test_uniform_family_matches_the_true_error_family():
    # same pools, same QP π, same errors: the two comparisons are paired on one family
    true = qp_vs_true_error(9, pools=2, ns=(5,), ks=(1,))
    uni = qp_vs_uniform(9, pools=2, ns=(5,), ks=(1,))
    np.testing.assert_array_equal(true.pi_qp, uni.pi_qp)
    np.testing.assert_array_equal(true.err_qp, uni.err_qp)
    np.testing.assert_array_equal(true.err_uniform, uni.err_uniform)
    assert uni.qp_wins.shape == (1, 1) and int(uni.qp_wins[0, 0]) == int(np.sum(true.err_qp < true.err_uniform))


def test_qp_vs_true_error_shapes_and_bounds():
    cmp = qp_vs_true_error(3, pools=2, ns=(5,), ks=(1, 2))
    assert cmp.excess.shape == (2, 1, 2) and np.all(cmp.excess >= -1e-9)
    assert np.all(cmp.excess_uniform >= -1e-9)


def test_recounts_reproduce_the_float_counts():
    fam = claim.uniform_family(60, None)
    i, j = fam.ns.index(50), fam.ks.index(1)
    assert claim.recount_uniform(fam, 50, 1) == (int(fam.qp_wins[i, j]), 60 - int(fam.ties[i, j]))
    true = claim.true_family(4)
    above = int(np.sum(true.excess[:, 0, 0] > claim.EXCESS_MARGIN))
    assert claim.recount_excess(true, 0, 0) == (above, 4)


def test_sign_interval_reference_values():
    # Clopper–Pearson at 99 %: for 10 of 10 the lower end solves p^10 = 0.005, p = 0.005^(1/10);
    # for 0 of 10 the upper end is 1 − 0.005^(1/10).
    low, high = claim.sign_interval(10, 10)
    assert low == pytest.approx(0.005 ** 0.1, rel=1e-10) and high == 1
    low, high = claim.sign_interval(0, 10)
    assert low == 0 and high == pytest.approx(1 - 0.005 ** 0.1, rel=1e-10)
    with pytest.raises(ValueError, match="trials"):
        claim.sign_interval(0, 0)


@pytest.mark.slow
def test_qp_vs_true_error_full_family():
    cmp = qp_vs_true_error(claim.FAMILY_SEED, pools=40, ns=(5, 50), ks=(1, 2, 4, 8))
    assert np.all(cmp.excess >= -1e-9)
    # the QP's selection is materially worse than the true optimum in most pools
    assert np.mean(cmp.excess > claim.EXCESS_MARGIN) > 0.5


@pytest.mark.slow
@settings(max_examples=300)
@given(rational_pools(max_tasks=7))
def test_heavy_enumeration(pool):
    tasks, target = pool
    sel = select_tasks(tasks, target)
    assert sel.certified and sel.objective == select_tasks_by_enumeration(tasks, target).objective


# --- the verdict logic can fail -----------------------------------------------------------------

def _mismatch_found(pools, seed=0):
    tasks, target = [np.array([[1]], dtype=object)], np.array([[2]], dtype=object)
    return {"pools": pools, "first": (tasks, target, [Fraction(1)], Fraction(1, 4), Fraction(1, 2))}


def test_expansion_sympy_against_rationals_is_a_route_disagreement(monkeypatch, clear_caches):
    # sympy says the identity is false, the exact rationals see no mismatch: a check defect
    monkeypatch.setattr(claim, "expansion_residual", lambda d=2, T=2, transposed=False: sp.Symbol("x"))
    assert_could_not_run("qp", "expansion")


def test_expansion_mismatch_against_sympy_is_a_route_disagreement(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "expansion_pools", _mismatch_found)
    assert_could_not_run("qp", "expansion")


def test_expansion_failure_needs_the_float_route(monkeypatch, clear_caches):
    # both exact routes fail, but the float trace formulas see both sides equal: not confirmed
    monkeypatch.setattr(claim, "expansion_residual", lambda d=2, T=2, transposed=False: sp.Symbol("x"))
    monkeypatch.setattr(claim, "expansion_pools", _mismatch_found)
    result = assert_could_not_run("qp", "expansion")
    assert "counterexample" in result.error


def test_confirmed_expansion_failure_fails_the_part(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "expansion_residual", lambda d=2, T=2, transposed=False: sp.Symbol("x"))
    monkeypatch.setattr(claim, "expansion_pools", _mismatch_found)
    monkeypatch.setattr(claim, "float_expansion_sides", lambda tasks, target, pi: (0.25, 0.5))
    result = run_part("qp", "expansion")
    assert result.error is None and result.statements[0].verdict == ledger.FAILS


def test_vacuous_expansion_check_cannot_run(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "expansion_residual", lambda d=2, T=2, transposed=False: 0)
    assert_could_not_run("qp", "expansion", mentions="cannot tell")


def test_convex_routes_disagree(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "gram_residual", lambda d=2: sp.Symbol("x"))
    assert_could_not_run("qp", "convex")


def _not_psd(pools, seed=0):
    return {"pools": pools, "singular": 1,
            "first": ([np.array([[1]], dtype=object)], np.array([[1]], dtype=object), sp.Matrix([[1, 2], [2, 1]]))}


def test_convex_fails_with_a_confirmed_non_psd_q(monkeypatch, clear_caches):
    # [[1, 2], [2, 1]] has eigenvalue −1: confirmed by eigvalsh
    monkeypatch.setattr(claim, "gram_residual", lambda d=2: sp.Symbol("x"))
    monkeypatch.setattr(claim, "psd_pools", _not_psd)
    result = run_part("qp", "convex")
    assert result.error is None and result.statements[0].verdict == ledger.FAILS


def test_convex_needs_singular_pools(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "psd_pools", lambda pools, seed=0: {"pools": pools, "singular": 0, "first": None})
    assert_could_not_run("qp", "convex")


def _d1_without_counterexample():
    return {"pi_qp": (Fraction(1, 2), Fraction(1, 2)), "objective": Fraction(0), "certified": True,
            "factor_qp": Fraction(0), "pi_zero": (Fraction(1, 2), Fraction(1, 2))}


def test_cot_optimal_holds_when_the_qp_pi_has_zero_error(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "d1_counterexample", _d1_without_counterexample)
    result = run_part("qp", "cot-optimal")
    assert result.error is None and result.statements[0].verdict == ledger.HOLDS


def test_cot_optimal_counterexample_needs_the_float_route(monkeypatch, clear_caches):
    # the floats see the QP's π at zero error: the exact counterexample is not confirmed
    monkeypatch.setattr(claim, "d1_float_route",
                        lambda *a: {"qp_rel": 0.0, "zero_err": 0.0, "best_error": 1.0, "best_pi": (0.5, 0.5)})
    assert_could_not_run("qp", "cot-optimal")


@pytest.mark.parametrize("key, value", [
    # 1e-10 relative is far above the ulps of a 1×1 solve and a float power (<= 1e-15): a float route
    # that far from (7/15)^{2k} is wrong; a loosened D1_RTOL would accept it
    ("qp_rel", 1e-10),
    # 1e-20 at the zero-error π is far above rounding (<= 1e-31): not a zero
    ("zero_err", 1e-20),
])
def test_d1_float_tolerances_reject(monkeypatch, clear_caches, key, value):
    route = {"qp_rel": 0.0, "zero_err": 0.0, "best_error": 0.0, "best_pi": (0.9, 0.1), key: value}
    monkeypatch.setattr(claim, "d1_float_route", lambda *a: route)
    assert_could_not_run("qp", "cot-optimal")


def test_cot_optimal_moves_the_headline(monkeypatch, clear_caches):
    parts = ["expansion", "convex", "cot-optimal", "certified-optimum"]
    assert ledger.run_claim("qp", only=parts).verdict == ledger.CONDITIONAL
    monkeypatch.setattr(claim, "d1_counterexample", _d1_without_counterexample)
    assert ledger.run_claim("qp", only=parts).verdict == ledger.CONFIRMED


@pytest.mark.parametrize("change", [{"certified": 9}, {"agree": 9},
                                    # 1e-6 relative: ten times SCIPY_RTOL, the size of an SLSQP stop
                                    # short of the optimum that a loosened tolerance would hide
                                    {"scipy_rel": 1e-6}])
def test_certified_optimum_routes_disagree(monkeypatch, clear_caches, change):
    good = {"pools": 10, "certified": 10, "agree": 10, "non_unique": 2, "scipy_rel": 0.0}
    monkeypatch.setattr(claim, "exact_agreement", lambda pools, seed=0: {**good, **change})
    assert_could_not_run("qp", "certified-optimum")


def _series(coeffs):
    return lambda *a, **k: [sp.Integer(c) for c in coeffs]


def test_second_order_failure_needs_the_float_route(monkeypatch, clear_caches):
    # sympy claims a nonzero ε² term, the floats see an O(1) ratio: not confirmed
    monkeypatch.setattr(claim, "second_order_series", _series([0, 0, 1, -10]))
    assert_could_not_run("qp", "second-order")


def test_second_order_fails_when_both_routes_see_a_lower_term(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "second_order_series", _series([0, 0, 1, -10]))
    monkeypatch.setattr(claim, "second_order_float", lambda *a, **k: 1e3)  # ≈ c_2/ε at ε = 1e-3
    result = run_part("qp", "second-order")
    assert result.error is None and result.statements[0].verdict == ledger.FAILS


def test_second_order_tolerance(monkeypatch, clear_caches):
    # 5 % off the ε³ coefficient: five times SECOND_ORDER_RTOL, far beyond the O(ε) = 0.1 % bias
    c3 = float(claim.second_order_series()[3])
    monkeypatch.setattr(claim, "second_order_float", lambda *a, **k: 1.05 * c3)
    assert_could_not_run("qp", "second-order")


def _routes(z, z_naive, linear=0):
    return lambda samples: {"linear": linear, "quadratic": 0, "z": tuple(z), "z_naive": tuple(z_naive)}


def test_monte_carlo_z_limit(monkeypatch, clear_caches):
    # |z| = 6 exceeds the limit 5: for a correct estimator P(|z| > 6) ≈ 2e-9, so a z limit loosened
    # past it would pass a real disagreement
    monkeypatch.setattr(claim, "mixture_routes", _routes([0.1, 6.0], [80.0]))
    assert_could_not_run("qp", "mixture-preconditioner")


def test_monte_carlo_must_reject_the_naive_inverse(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "mixture_routes", _routes([0.1], [4.0]))
    assert_could_not_run("qp", "mixture-preconditioner", mentions="cannot tell")


def test_mixture_preconditioner_fails_when_both_routes_reject_it(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "mixture_routes", _routes([40.0], [80.0], linear=sp.Symbol("e_00")))
    result = run_part("qp", "mixture-preconditioner")
    assert result.error is None and result.statements[0].verdict == ledger.FAILS


def test_mixture_preconditioner_failure_needs_the_monte_carlo(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "mixture_routes", _routes([0.1], [80.0], linear=sp.Symbol("e_00")))
    assert_could_not_run("qp", "mixture-preconditioner")


def _true_family_with(excess):
    real = claim.true_family(4)
    ex = np.broadcast_to(np.asarray(excess, dtype=float)[:, None, None], real.excess.shape).copy()
    return lambda pools: dataclasses.replace(real, excess=ex)


def test_excess_is_undecided_on_few_pools(monkeypatch, clear_caches):
    # 4 of 4 pools above the margin: the 99 % interval [0.27, 1] contains 1/2
    monkeypatch.setattr(claim, "true_family", _true_family_with([0.5, 0.5, 0.5, 0.5]))
    result = run_part("qp", "excess")
    assert result.error is None and result.statements[0].verdict == ledger.OPEN


def _twenty_pools_at(excess):
    """The 4-pool family with its excess replaced by ``excess`` in 20 pools (the recount sees the 4 real ones)."""
    real = claim.true_family(4)
    return lambda pools: dataclasses.replace(real, excess=np.full((20,) + real.excess.shape[1:], excess))


def test_excess_margin(monkeypatch, clear_caches):
    # 20 pools at a relative excess of 0.5 % (half the 1 % margin): not materially worse, so none
    # counts (interval [0, 0.233] at 99 %) and the part must fail; a margin loosened below 0.5 %
    # would count all of them
    monkeypatch.setattr(claim, "true_family", _twenty_pools_at(0.005))
    monkeypatch.setattr(claim, "recount_excess", lambda family, i, j: (0, 20))
    result = run_part("qp", "excess")
    assert result.error is None and result.statements[0].verdict == ledger.FAILS


def test_excess_failure_needs_the_exact_recount(monkeypatch, clear_caches):
    # the exact engine re-evaluates the recorded π of the real pools: the QP is far worse there
    monkeypatch.setattr(claim, "true_family", _twenty_pools_at(0.005))
    assert_could_not_run("qp", "excess")


def _uniform_family_with(wins, pools=1000):
    """A family of ``pools`` pools whose QP π wins in exactly ``wins`` of them at every (n, k)."""
    real = claim.uniform_family(10, None)
    shape = (pools,) + real.err_qp.shape[1:]
    err_qp = np.full(shape, 2.0)  # no ties: the uniform π's error is 1 everywhere
    err_qp[:wins] = 0.5
    return lambda p, m: dataclasses.replace(real, err_qp=err_qp, err_uniform=np.ones(shape))


@pytest.mark.parametrize("wins, verdict", [(700, ledger.HOLDS), (500, ledger.OPEN)])
def test_beats_uniform_verdicts(monkeypatch, clear_caches, wins, verdict):
    monkeypatch.setattr(claim, "uniform_family", _uniform_family_with(wins))
    result = run_part("qp", "beats-uniform-n5-k1")
    assert result.error is None and result.statements[0].verdict == verdict


@pytest.mark.parametrize("wins", [
    # 540 of 1000: the 99 % interval is [0.499, 0.581], so undecided; at 95 % it would be [0.509,
    # 0.571] and hold
    540,
    # 460 of 1000: 99 % [0.419, 0.501], undecided; at 95 % [0.429, 0.491] it would fail
    460])
def test_sign_test_confidence(monkeypatch, clear_caches, wins):
    monkeypatch.setattr(claim, "uniform_family", _uniform_family_with(wins))
    result = run_part("qp", "beats-uniform-n5-k4")
    assert result.error is None and result.statements[0].verdict == ledger.OPEN


def test_beats_uniform_fails_with_a_confirmed_recount(monkeypatch, clear_caches):
    monkeypatch.setattr(claim, "uniform_family", _uniform_family_with(300))
    monkeypatch.setattr(claim, "recount_uniform", lambda family, n, k: (300, 1000))
    result = run_part("qp", "beats-uniform-n5-k1")
    assert result.error is None and result.statements[0].verdict == ledger.FAILS


def test_beats_uniform_failure_needs_the_recount(monkeypatch, clear_caches):
    # the float comparison says uniform wins, the exact recount says the QP does: a check defect
    monkeypatch.setattr(claim, "uniform_family", _uniform_family_with(300))
    monkeypatch.setattr(claim, "recount_uniform", lambda family, n, k: (700, 1000))
    assert_could_not_run("qp", "beats-uniform-n50-k1")


def test_real_recount_confirms_the_recorded_failure(clear_caches):
    fam = claim.uniform_family(claim._uniform_pools(20, False), 20)
    wins, trials = claim.recount_uniform(fam, 50, 1)
    assert claim.sign_interval(wins, trials)[1] < 0.5


def test_diverges_is_undecided_without_a_diverging_pool(monkeypatch, clear_caches):
    real = claim.uniform_family(10, None)
    monkeypatch.setattr(claim, "uniform_family",
                        lambda p, m: dataclasses.replace(real, radius_qp=np.full((1000, len(real.ns)), 0.5)))
    result = run_part("qp", "diverges")
    assert result.error is None and result.statements[0].verdict == ledger.OPEN
