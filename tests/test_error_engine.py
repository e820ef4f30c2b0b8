"""The exact error engine (theory.error) against closed forms, limits and bad input.

The brute-force pairing oracle is compared in tests/test_wick_oracle.py.
"""

import math
from fractions import Fraction
from math import comb

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import theory
from theory.covariance import gamma_exact
from theory.error import (DivergenceError, ErrorPoly, cot_error, cot_error_poly, cot_error_poly_symbolic,
                          cot_log_error, precond_error, precond_error_poly, precond_log_error)


def chi_square_error(a: Fraction, sigma: Fraction, k: int) -> tuple[Fraction, ...]:
    """d = 1 closed form: err_k = Σ_j C(2k, j) (-aσ)^j E[s^j], E[s^j] = Π_{i<j} (m + 2i) / m^j.

    E[s^j] = Π_{i<j} (1 + 2i/m) is expanded in u = 1/m with exact polynomial products.
    """
    total = [Fraction(0)] * (2 * k + 1)
    for j in range(2 * k + 1):
        moment = [Fraction(1)]  # coefficients of Π_{i<j} (1 + 2i u)
        for i in range(j):
            moment = [a_ + 2 * i * b_ for a_, b_ in zip(moment + [0], [0] + moment)]
        for r, c in enumerate(moment):
            total[r] += comb(2 * k, j) * (-a * sigma) ** j * c
    assert k == 0 or total[2 * k] == 0  # the u^{2k} terms cancel: degree <= 2k - 1
    return tuple(total[:max(1, 2 * k)])


@pytest.mark.parametrize("k", range(9))
def test_d1_chi_square_closed_form(k):
    # P = a, Σ = σ: every coefficient equals the χ²_m moment expansion exactly.
    for a, sigma in ((Fraction(2, 3), Fraction(5, 4)), (Fraction(-1, 7), Fraction(3))):
        poly = precond_error_poly([[a]], [[sigma]], k)
        assert poly.coefficients == chi_square_error(a, sigma, k)
        for m in (1, 2, 7, 50):
            assert poly.evaluate(m) == sum(c / Fraction(m) ** r
                                           for r, c in enumerate(chi_square_error(a, sigma, k)))


def test_d1_cot_error_is_trained_case():
    # Λ = λ: Γ = λ (n + 2) / n, so P Σ = n / (n + 2).
    lam, n = Fraction(3, 2), 4
    for k in range(6):
        poly = cot_error_poly([lam], n, k)
        assert poly.coefficients == chi_square_error(Fraction(n, n + 2) / lam, lam, k)


def test_identity_second_moment():
    # Λ = Σ = I, P = I, k = 1: err = tr E(I - S)^2 = d - 2d + E tr S² with E tr S² = d(m + d + 1)/m.
    for d in (1, 2, 4):
        poly = precond_error_poly(np.eye(d, dtype=int), np.eye(d, dtype=int), 1)
        assert poly.coefficients == (Fraction(0), Fraction(d * (d + 1)))


def random_rational_matrix(rng, d, symmetric=False, psd=False):
    M = [[Fraction(int(rng.integers(-6, 7)), int(rng.integers(1, 5))) for _ in range(d)] for _ in range(d)]
    if psd:
        M = [[sum(M[i][l] * M[j][l] for l in range(d)) + (1 if i == j else 0) for j in range(d)]
             for i in range(d)]
    elif symmetric:
        M = [[M[i][j] + M[j][i] for j in range(d)] for i in range(d)]
    return M


def exact_limit(P, sigma, k):
    """‖(I - PΣ)^k‖_F² with sympy matrices (an independent implementation)."""
    P, sigma = sympy.Matrix(P), sympy.Matrix(sigma)
    B = (sympy.eye(P.shape[0]) - P * sigma) ** k
    return sum(v ** 2 for v in B)


def test_limit_is_c0_noncommuting():
    rng = np.random.default_rng(np.random.SeedSequence(20251003))
    for d, k in ((2, 3), (3, 2), (4, 2)):
        lam = random_rational_matrix(rng, d, psd=True)
        sigma = random_rational_matrix(rng, d, psd=True)
        poly = cot_error_poly(lam, 5, k, test_cov=sigma)
        G = gamma_exact(lam, 5)
        P = sympy.Matrix([[sympy.Rational(v.numerator, v.denominator) for v in row] for row in G]).inv()
        S = sympy.Matrix([[sympy.Rational(v.numerator, v.denominator) for v in row] for row in sigma])
        ref = exact_limit(P, S, k)
        assert sympy.Rational(poly.limit.numerator, poly.limit.denominator) == ref
        assert Fraction(cot_error(lam, 5, k, test_cov=sigma)) == Fraction(float(poly.limit))


def test_commuting_limit_eigenbasis():
    # Λ, Σ diagonal: c_0 = Σ_i (1 - σ_i/γ_i)^{2k}.
    lam = [Fraction(3), Fraction(1, 2), Fraction(1, 5)]
    sigma = [Fraction(1), Fraction(2), Fraction(7, 3)]
    n, k = 6, 4
    tr = sum(lam)
    gam = [(1 + Fraction(1, n)) * l + tr / n for l in lam]
    poly = cot_error_poly(lam, n, k, test_cov=sigma)
    assert poly.limit == sum((1 - s / g) ** (2 * k) for s, g in zip(sigma, gam))


def test_symbolic_mode_matches_numbers():
    l1, l2, n = sympy.symbols("lambda_1 lambda_2 n", positive=True)
    m = sympy.Symbol("m", positive=True)
    for k in (1, 2):
        expr = cot_error_poly_symbolic([l1, l2], n, k)
        values = {l1: sympy.Rational(2, 3), l2: sympy.Rational(5), n: 7}
        poly = cot_error_poly([Fraction(2, 3), Fraction(5)], 7, k)
        assert sympy.simplify(expr.subs(values) - poly.as_sympy(m)) == 0
        assert isinstance(sympy.latex(expr), str)


def test_symbolic_d1_k1_closed_form():
    lam, n = sympy.symbols("lambda n", positive=True)
    m = sympy.Symbol("m", positive=True)
    # a = λ/γ = n/(n+2): err = (1 - a)² + 2a²/m
    ref = (2 / (n + 2)) ** 2 + 2 * (n / (n + 2)) ** 2 / m
    assert sympy.simplify(cot_error_poly_symbolic([lam], n, 1) - ref) == 0


def test_float_input_is_exact_and_rounded_once():
    lam = np.array([1.0, 0.3, 0.07])
    poly = cot_error_poly(lam, 10, 3)
    exact = poly.evaluate(20)
    assert cot_error(lam, 10, 3, m=20) == float(exact)
    assert cot_log_error(lam, 10, 3, m=20) == pytest.approx(math.log(float(exact)), rel=1e-15, abs=0)


def test_catastrophic_cancellation_is_harmless():
    # k = 12, m → ∞ on an easy task: the binomial terms reach ~1e5 while err ~1e-12; the exact
    # value, rounded once, equals the float of ‖(I - Γ^{-1}Σ)^k‖_F² computed in Fractions.
    lam = [1.0, 0.9]
    G = gamma_exact(lam, 50)
    a = [Fraction(lam[i]) / G[i, i] for i in range(2)]
    ref = sum((1 - x) ** 24 for x in a)
    assert cot_error(lam, 50, 12) == float(ref)


def test_divergence_reported_in_log_form():
    # Σ far stronger than Λ: Γ^{-1}Σ has eigenvalue ~ 1e3 > 2, so err grows like 1e3^{2k}.
    lam = [1.0, 1.0]
    sigma = [1000.0, 1.0]
    with pytest.raises(DivergenceError, match="cot_log_error") as info:
        cot_error(lam, 4, 60, test_cov=sigma)
    assert isinstance(info.value, OverflowError) and isinstance(info.value, ArithmeticError)
    log_err = cot_log_error(lam, 4, 60, test_cov=sigma)
    G = gamma_exact(lam, 4)
    exact = sum((1 - Fraction(s) / G[i, i]) ** 120 for i, s in enumerate(sigma))
    # math.log of the big numerator and denominator: each log is ~1e3, so the difference is good
    # to ~1e-13 relative, well inside rel=1e-12.
    assert log_err == pytest.approx(math.log(exact.numerator) - math.log(exact.denominator), rel=1e-12)
    # finite m as well: the exact polynomial, through its logarithm
    assert math.isfinite(cot_log_error(lam, 4, 4, test_cov=[1e80, 1.0], m=3))


def test_zero_error_log_is_minus_inf():
    # P = Σ^{-1}, m → ∞: (I - PΣ) = 0.
    assert precond_error([[Fraction(1, 2)]], [[2]], 1) == 0.0
    assert precond_log_error([[Fraction(1, 2)]], [[2]], 1) == -math.inf


def test_precond_divergence_points_to_log():
    # P Σ = 10 in d = 1: err_k(∞) = 81^k overflows a float at k = 200 (81^200 ~ 1e381).
    with pytest.raises(DivergenceError, match="precond_log_error"):
        precond_error([[5]], [[2]], 200)
    assert precond_log_error([[5]], [[2]], 200) == pytest.approx(400 * math.log(9), rel=1e-14)
    # finite m: err_1(m) = 81 + 200/m in d = 1 (E s² = 1 + 2/m)
    assert precond_error([[5]], [[2]], 1, m=4) == 81 + 50


def test_default_test_cov_is_train_cov():
    lam = [[2, 1], [1, 3]]
    assert cot_error_poly(lam, 4, 3) == cot_error_poly(lam, 4, 3, test_cov=lam)


def test_errorpoly_api():
    poly = cot_error_poly([2, 1], 3, 2)
    assert isinstance(poly, ErrorPoly) and len(poly.coefficients) == 4 and poly.k == 2
    assert all(isinstance(c, Fraction) for c in poly.coefficients)
    m = sympy.Symbol("m", positive=True)
    assert poly.as_sympy(m).subs(m, 9) == sympy.Rational(poly.evaluate(9).numerator, poly.evaluate(9).denominator)
    assert "m" in poly.latex()
    assert poly.evaluate() == poly.limit
    assert cot_error_poly([2, 1], 3, 0).coefficients == (Fraction(2),)
    assert theory.cot_error is cot_error and theory.precond_error_poly is precond_error_poly


def test_precond_non_symmetric_is_not_transposed():
    # A non-symmetric P and its transpose give different errors (each is checked against the
    # pairing oracle in tests/test_wick_oracle.py): the engine must not symmetrise P.
    P = [[1, 2], [0, Fraction(1, 3)]]
    sigma = [[1, 0], [0, 2]]
    assert precond_error_poly(P, sigma, 2) != precond_error_poly(np.array(P, dtype=object).T, sigma, 2)


@given(st.lists(st.fractions(min_value=Fraction(1, 10), max_value=10, max_denominator=20), min_size=1, max_size=3),
       st.lists(st.fractions(min_value=0, max_value=10, max_denominator=20), min_size=3, max_size=3),
       st.integers(1, 40), st.integers(0, 3), st.integers(1, 30))
def test_properties(lam, sig, n, k, m):
    sigma = sig[:len(lam)]
    poly = cot_error_poly(lam, n, k, test_cov=sigma)
    value = poly.evaluate(m)
    assert value >= 0
    G = gamma_exact(lam, n)
    assert poly.limit == sum((1 - s / G[i, i]) ** (2 * k) for i, s in enumerate(sigma))
    assert float(value) == cot_error(lam, n, k, test_cov=sigma, m=m)


@given(st.integers(0, 2 ** 32 - 1), st.integers(2, 3), st.integers(1, 2), st.integers(1, 9))
def test_properties_rotated(seed, d, k, m):
    # Non-diagonal, non-commuting Λ and Σ: err >= 0, and cot_error_poly is precond_error_poly at
    # P = Γ^{-1} (inverted here with sympy, independently of the engine's own inverse).
    rng = np.random.default_rng(seed)
    lam = random_rational_matrix(rng, d, psd=True)
    sigma = random_rational_matrix(rng, d, psd=True)
    poly = cot_error_poly(lam, 3, k, test_cov=sigma)
    assert poly.evaluate(m) >= 0
    G = sympy.Matrix([[sympy.Rational(v.numerator, v.denominator) for v in row] for row in gamma_exact(lam, 3)])
    P = [[Fraction(int(v.p), int(v.q)) for v in row] for row in G.inv().tolist()]
    assert poly == precond_error_poly(P, sigma, k)
    # the value route (one integer through the engine) equals the polynomial route exactly
    assert cot_error(lam, 3, k, test_cov=sigma, m=m) == float(poly.evaluate(m))
    assert cot_log_error(lam, 3, k, test_cov=sigma, m=m) == pytest.approx(math.log(poly.evaluate(m)), rel=1e-14)


@pytest.mark.parametrize("call, match", [
    (lambda: cot_error([1, 2], 3, 1, test_cov=[1, 2, 3]), "test_cov"),
    (lambda: cot_error([1, 2], 0, 1), "n must"),
    (lambda: cot_error([1, 2], 3, -1), "k must"),
    (lambda: cot_error([1, 2], 3, 1, m=0), "m must"),
    (lambda: cot_error([1, float("nan")], 3, 1), "train_cov"),
    (lambda: cot_error([1, 2], 3, 1, test_cov=[1, -1]), "test_cov"),
    (lambda: cot_error([0, 0], 3, 1), "train_cov"),
    (lambda: cot_error_poly([1, 2], 3, 1.5), "k must"),
    (lambda: precond_error([[1, 2, 3]], [1], 1), "precond"),
    (lambda: precond_error([[1, 0], [0, 1]], [1], 1), "precond and test_cov"),
    (lambda: precond_error([[1, float("inf")], [0, 1]], [1, 1], 1), "precond"),
    (lambda: cot_error_poly_symbolic([sympy.Symbol("x")], 2, 4), "k must"),
    (lambda: cot_error_poly_symbolic([], 2, 1), "eigs"),
    (lambda: ErrorPoly((Fraction(1),), 0).evaluate(0), "m must"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_singular_test_cov_allowed():
    poly = cot_error_poly([1, 2], 3, 2, test_cov=[0, 1])
    # the unseen direction keeps its full error: c_0 >= 1
    assert poly.limit >= 1 and all(isinstance(c, Fraction) for c in poly.coefficients)


# ----------------------------------------------------------------------------- cost guard and routes

from theory.error import (MAX_SECONDS, EngineCostError, _routes, _validated_cot, engine_cost,  # noqa: E402
                          exact_cost, limit_error_enclosure)


def _by_expansion(a: Fraction, m: int, k: int) -> Fraction:
    """E(1 − a s)^{2k}, s = χ²_m/m, by the binomial expansion with E s^j = Π_{i<j} (m + 2i)/m
    (proofs/math.md §8): an independent recipe for the d = 1 route's recursion."""
    total, moment = Fraction(0), Fraction(1)
    for j in range(2 * k + 1):
        total += comb(2 * k, j) * (-a) ** j * moment
        moment *= Fraction(m + 2 * j, m)
    return total


def test_d1_route_at_large_k_matches_the_expansion_and_is_chosen():
    # λ = 1/2, σ = 3/4, n = 7: a = (7/9)(3/2) = 7/6; k = 150, m = 9
    a = Fraction(7, 9) * Fraction(3, 2)
    seconds, route = exact_cost([Fraction(1, 2)], 7, 150, test_cov=[Fraction(3, 4)], m=9)
    assert route == "d = 1 chi-square closed form" and seconds < 1
    value = cot_log_error([Fraction(1, 2)], 7, 150, test_cov=[Fraction(3, 4)], m=9)
    expected = _by_expansion(a, 9, 150)
    assert value == pytest.approx(math.log(expected.numerator) - math.log(expected.denominator), rel=1e-15)
    # the brief's case: k = 1000, m = 20 (the engine alone is beyond any budget there)
    assert exact_cost([1], 10, 1000, m=20)[1] == "d = 1 chi-square closed form"
    assert cot_log_error([1], 10, 1000, m=20) == pytest.approx(8280.39340885813, rel=1e-12)  # tts error's value


def test_every_route_agrees_where_several_apply():
    for train, test, k, m in (([Fraction(2, 3)], [Fraction(5, 2)], 3, 4),
                              ([3, 3, 3], [Fraction(1, 2)] * 3, 3, 5),
                              ([1, 1], [2, 2], 2, 3)):
        P, sigma, _ = _validated_cot(train, 6, k, test)
        values = [thunk() for _, _, thunk in _routes(P, sigma, k, m)]
        assert len(values) == 2 and values[0] == values[1], (train, test, values)


def test_isotropic_route_reaches_past_the_engine():
    # Λ = 2 I_3 = Σ, k = 40, m = 20: the engine is estimated beyond any budget; the closed form is cheap
    assert engine_cost(3, 40, "commuting").seconds > 1e6
    seconds, route = exact_cost([2, 2, 2], 10, 40, m=20)
    assert route.startswith("isotropic") and seconds < MAX_SECONDS
    assert cot_log_error([2, 2, 2], 10, 40, m=20) > 0


def test_over_budget_raises_before_any_work():
    with pytest.raises(EngineCostError, match=r"max_seconds = 60.*pass max_seconds=") as info:
        cot_error([1, 2], 10, 30, m=20)
    assert isinstance(info.value, ValueError) and info.value.seconds > 1e5
    assert info.value.route.startswith("exact engine")
    with pytest.raises(EngineCostError, match="m = ∞"):
        cot_log_error([0.3, 0.7], 10, 10 ** 5)
    with pytest.raises(EngineCostError, match="beyond any machine"):
        cot_error([1, 2], 10, 10 ** 6, m=20)
    with pytest.raises(EngineCostError):
        cot_error_poly([1, 2], 10, 30)
    with pytest.raises(EngineCostError):
        precond_error([[1, 0.5], [0, 1]], [1, 2], 12, m=5)
    with pytest.raises(EngineCostError, match="max_seconds = 0.001"):
        cot_error([1, 0.5], 4, 9, m=10, max_seconds=0.001)
    assert cot_error([1, 0.5], 4, 3, m=10, max_seconds=None) == cot_error([1, 0.5], 4, 3, m=10)


@pytest.mark.parametrize("bad", [0, -1, "60", True, float("nan")])
def test_bad_max_seconds_is_named(bad):
    with pytest.raises(ValueError, match="max_seconds must be a positive number"):
        cot_error([1], 3, 1, m=2, max_seconds=bad)


def test_engine_cost_is_finite_or_inf_never_an_overflow():
    cost = engine_cost(2, 10 ** 6, "commuting")
    assert cost.seconds == math.inf and cost.terms == math.inf
    assert engine_cost(2, 1000, "commuting").seconds > 1e100


def test_limit_enclosure_holds_the_exact_value():
    # a non-diagonal float covariance (dyadic rationals): the exact power at k = 300 is in reach
    train = [[1.0, 0.25, 0.0], [0.25, 0.5, 0.125], [0.0, 0.125, 2.0]]
    P, sigma, _ = _validated_cot(train, 5, 300, None)
    exact = _routes(P, sigma, 300, None)[0][2]()
    lower, upper = limit_error_enclosure(P, sigma, 300)
    assert lower <= exact <= upper and (upper - lower) <= exact * Fraction(1, 2 ** 59)
    # Λ = diag(1, 3), n = 6: err_k = (5/11)^{2k} + (7/25)^{2k}, enclosed at k = 10^6 in well under a second
    P, sigma, _ = _validated_cot([1, 3], 6, 10 ** 6, None)
    lower, upper = limit_error_enclosure(P, sigma, 10 ** 6)
    assert lower <= upper
    assert math.log(lower.numerator) - math.log(lower.denominator) == pytest.approx(2e6 * math.log(5 / 11), rel=1e-12)
    # a nilpotent step I − PΣ (P = [[1, 1], [0, 1]], Σ = I): exactly 0 from k = d on, not a ball around 0
    zero_lower, zero_upper = limit_error_enclosure([[Fraction(1), Fraction(1)], [Fraction(0), Fraction(1)]],
                                                   [[Fraction(1), Fraction(0)], [Fraction(0), Fraction(1)]], 5)
    assert zero_lower == zero_upper == 0
