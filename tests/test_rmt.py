"""Unit tests of theory.rmt: the isotropic Wishart moment recursion and the Marchenko–Pastur routes."""

from fractions import Fraction
from math import prod

import mpmath
import numpy as np
import pytest
import sympy as sp

from theory import rmt
from theory.rmt import alpha_sym, d_sym, eps_sym, m_sym, n_sym, nu_sym


def wick_trace_moment(powers) -> sp.Expr:
    """E Π tr W^{p_i} by brute-force Isserlis pairings of the Z entries (an independent oracle).

    tr W^p = Σ Z_{a1 i1} Z_{a2 i1} Z_{a2 i2} Z_{a3 i2} ... Z_{a1 ip}: 2p entries whose row indices
    (a) and column indices (i) are tied in a cycle. A pairing of all entries forces the paired
    entries' rows and columns to be equal; it contributes d^{#row classes} m^{#column classes}.
    """
    rows, cols = [], []           # per entry: (row variable, column variable)
    n_a = n_i = 0
    for p in powers:
        a = list(range(n_a, n_a + p))
        i = list(range(n_i, n_i + p))
        n_a += p
        n_i += p
        for t in range(p):        # W^p = Π_t (Z Zᵀ): entries Z_{a_t i_t} Z_{a_{t+1} i_t}
            rows += [a[t], a[(t + 1) % p]]
            cols += [i[t], i[t]]
    total = sp.Integer(0)

    def classes(parent, x):
        while parent[x] != x:
            x = parent[x]
        return x

    def pairings(items):
        if not items:
            yield []
            return
        first, rest = items[0], items[1:]
        for j, other in enumerate(rest):
            for tail in pairings(rest[:j] + rest[j + 1:]):
                yield [(first, other)] + tail

    for pairing in pairings(list(range(len(rows)))):
        pa, pi = list(range(n_a)), list(range(n_i))
        for u, v in pairing:
            for parent, var in ((pa, rows), (pi, cols)):
                ru, rv = classes(parent, var[u]), classes(parent, var[v])
                parent[ru] = rv
        ca = len({classes(pa, x) for x in range(n_a)})
        ci = len({classes(pi, x) for x in range(n_i)})
        total += d_sym ** ca * m_sym ** ci
    return sp.expand(total)


@pytest.mark.parametrize("powers", [(1,), (2,), (1, 1), (3,), (2, 1), (1, 1, 1), (4,), (3, 1), (2, 2),
                                    (2, 1, 1), (5,), (3, 2), (4, 1)])
def test_recursion_equals_wick_pairings(powers):
    assert sp.expand(rmt.wishart_trace_moment(powers) - wick_trace_moment(powers)) == 0


@pytest.mark.slow
@pytest.mark.parametrize("powers", [(6,), (4, 2), (3, 3), (2, 2, 2)])
def test_recursion_equals_wick_pairings_degree_six(powers):
    assert sp.expand(rmt.wishart_trace_moment(powers) - wick_trace_moment(powers)) == 0


def test_known_closed_forms():
    # Λ = I: E tr W² = d m (m + d + 1) (proofs/math.md §3 oracle, times m²).
    assert sp.expand(rmt.wishart_trace_moment([2]) - d_sym * m_sym * (m_sym + d_sym + 1)) == 0
    # tr W ~ χ²_{dm}: E (tr W)² = dm (dm + 2).
    assert sp.expand(rmt.wishart_trace_moment([1, 1]) - d_sym * m_sym * (d_sym * m_sym + 2)) == 0
    # tr W^0 = d.
    assert rmt.wishart_trace_moment([0, 0]) == d_sym ** 2


@pytest.mark.parametrize("p", range(0, 11))
def test_d_equals_one_chi_square_moments(p):
    # d = 1: W = χ²_m, E W^p = Π_{i<p} (m + 2i) (proofs/math.md §3 oracle).
    expected = sp.expand(prod((m_sym + 2 * i for i in range(p)), start=sp.Integer(1)))
    assert sp.expand(rmt.wishart_trace_moment([p]).subs(d_sym, 1) - expected) == 0


def test_monte_carlo_third_moments():
    # Seeded Monte Carlo, d = 3, m = 5, 200 000 draws; |z| <= 5 for E tr W³ and E tr W tr W².
    rng = np.random.default_rng(np.random.SeedSequence(20251003))
    d, m, reps = 3, 5, 200_000
    Z = rng.standard_normal((reps, d, m))
    W = Z @ Z.transpose(0, 2, 1)
    W2 = W @ W
    samples = {(3,): np.einsum("rab,rba->r", W2, W),
               (2, 1): np.einsum("raa->r", W2) * np.einsum("raa->r", W)}
    for powers, x in samples.items():
        exact = rmt.wishart_trace_moment_value(powers, d, m)
        z = (x.mean() - exact) / (x.std(ddof=1) / np.sqrt(reps))
        assert abs(z) <= 5, (powers, x.mean(), exact, z)


def test_error_value_matches_symbolic():
    expr = rmt.isotropic_cot_error(2)
    for d, m, n in [(1, 1, 1), (3, 7, 2), (10, 4, 25)]:
        assert sp.Rational(expr.subs({d_sym: d, m_sym: m, n_sym: n})) == sp.Rational(
            *(lambda f: (f.numerator, f.denominator))(rmt.isotropic_cot_error_value(2, d, m, n)))


@pytest.mark.parametrize("d, m, n, k", [(1, 3, 2, 3), (2, 3, 4, 2), (3, 5, 2, 3), (4, 8, 2, 2), (6, 12, 3, 2)])
def test_general_engine_agrees_exactly(d, m, n, k):
    # theory.error's Stein engine (general Λ, Σ) and this module's isotropic recursion share no code.
    from theory.error import cot_error_poly
    assert cot_error_poly(np.eye(d), n, k, test_cov=np.eye(d)).evaluate(m) == rmt.isotropic_cot_error_value(k, d, m, n)


def test_error_at_k_zero_and_d_one():
    assert rmt.isotropic_cot_error_value(0, 5, 3, 2) == 5
    # d = 1, k = 1: E (1 − s/γ)², γ = 1 + 2/n, E s = 1, E s² = (m + 2)/m.
    n, m = 3, 4
    g = Fraction(n + 2, n)
    assert rmt.isotropic_cot_error_value(1, 1, m, n) == 1 - 2 / g + Fraction(m + 2, m) / g ** 2


@pytest.mark.parametrize("j", range(1, 8))
def test_leading_order_is_narayana(j):
    # E tr S^j / d with m = α d, as d → ∞, through sympy's limit of the exact polynomial.
    expr = rmt.wishart_trace_moment([j]) / (m_sym ** j * d_sym)
    lead = sp.limit(expr.subs(m_sym, alpha_sym * d_sym), d_sym, sp.oo)
    assert sp.simplify(lead - rmt.narayana_moment(j, 1 / alpha_sym)) == 0


@pytest.mark.parametrize("k", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_expansion_against_sympy_series(k):
    # Independent of proportional_expansion's term-by-term bookkeeping: sympy's own series in ε = 1/d.
    expr = rmt.isotropic_cot_error(k) / d_sym
    expr = expr.subs({m_sym: alpha_sym / eps_sym, n_sym: nu_sym / eps_sym, d_sym: 1 / eps_sym})
    series = sp.series(sp.together(expr), eps_sym, 0, 2).removeO()
    lead, corr = rmt.proportional_expansion(k)
    assert sp.simplify(series.coeff(eps_sym, 0) - lead) == 0
    assert sp.simplify(series.coeff(eps_sym, 1) - corr) == 0


@pytest.mark.parametrize("k", range(0, 5))
def test_expansion_leading_term_is_mp(k):
    lead, _ = rmt.proportional_expansion(k)
    assert sp.simplify(lead - rmt.mp_cot_error(k)) == 0


@pytest.mark.parametrize("k, alpha, nu", [(1, 2, 1), (3, sp.Rational(1, 2), 1), (4, 1, sp.Rational(1, 3)),
                                          (2, sp.Rational(7, 3), 5), (6, 1, 2)])
def test_quadrature_matches_moments(k, alpha, nu):
    # Rational exact value vs 30-digit quadrature: agreement to 1e-20 (quadrature accuracy, not a fit).
    exact = rmt.mp_cot_error(k, alpha, nu)
    quad = rmt.mp_cot_error_quad(k, alpha, nu)
    assert exact.is_Rational
    with mpmath.workdps(30):
        assert abs(quad - mpmath.mpf(exact.p) / exact.q) < mpmath.mpf("1e-20")


def test_saturation_floor_is_the_atom():
    # For α < 1, f_k >= 1 − α for every k (the atom at 0 keeps its unit weight).
    alpha, nu = sp.Rational(1, 3), sp.Rational(1, 2)
    for k in range(0, 12):
        assert rmt.mp_cot_error(k, alpha, nu) > 1 - alpha


def test_boundary_sign_and_critical_nu():
    assert rmt.critical_nu(1) == 1                      # b = 4 = 2γ at γ = 2
    assert rmt.overthinking_boundary_sign(1, 1) == 0
    assert rmt.overthinking_boundary_sign(4, 8) == 0     # b = 9/4, γ = 9/8
    assert rmt.critical_nu(4) == 8
    assert rmt.overthinking_boundary_sign(4, 9) == 1
    assert rmt.overthinking_boundary_sign(4, 7) == -1
    assert rmt.critical_nu(6) == sp.oo                   # α >= 3 + 2√2: never overthinks
    # the float boundary agrees with the exact sign on a grid (away from it by > 1e-9)
    for alpha in [sp.Rational(1, 4), sp.Rational(1, 2), 1, 2, 5]:
        for nu in [sp.Rational(1, 5), 1, 3, 30]:
            b = (1 + 1 / np.sqrt(float(alpha))) ** 2
            g = 1 + 1 / float(nu)
            assert rmt.overthinking_boundary_sign(alpha, nu) == np.sign(round(b - 2 * g, 9))


@pytest.mark.parametrize("alpha, nu, regime", [
    (sp.Rational(1, 2), sp.Rational(1, 10), "saturation"),
    (1, sp.Rational(1, 2), "power law"),
    (2, sp.Rational(1, 2), "exponential"),
    (4, 8, "power law"),
    (2, 10, "overthinking"),
    (sp.Rational(1, 2), 10, "overthinking"),
])
def test_phase_labels(alpha, nu, regime):
    assert rmt.mp_phase(alpha, nu).regime == regime


@pytest.mark.parametrize("call, match", [
    (lambda: rmt.wishart_trace_moment([-1]), "powers"),
    (lambda: rmt.wishart_trace_moment(3), "powers"),
    (lambda: rmt.wishart_trace_moment_value([2], 0, 3), "d"),
    (lambda: rmt.isotropic_cot_error(-1), "k"),
    (lambda: rmt.isotropic_cot_error_value(1, 2, 3, 0), "n"),
    (lambda: rmt.mp_phase(0, 1), "alpha"),
    (lambda: rmt.mp_cot_error_quad(1, 1, -2), "nu"),
    (lambda: rmt.critical_nu(-1), "alpha"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_binomial_sum_identity_sanity():
    # f_0 = 1 and f_k(α → ∞) = (1 − 1/γ)^{2k}: with no sampling noise S = I.
    assert rmt.mp_cot_error(0) == 1
    k, nu = 3, sp.Rational(2)
    big = rmt.mp_cot_error(k, 10 ** 12, nu)
    assert abs(float(big) - float((1 - 1 / (1 + 1 / nu)) ** (2 * k))) < 1e-9
