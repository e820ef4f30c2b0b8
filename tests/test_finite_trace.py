"""Remark 4.1's trace at finite m (theory.finite_trace) against independent routes.

Exact comparisons (``==`` on ``Fraction``) with: the d = 1 chi-square closed form
(theory.scaling.cot_error_d1), the isotropic Wishart moments of theory.rmt (a separate Stein
recursion), the brute-force Wick pairing oracle (theory.wick), the Stein engine
(theory.error.expected_trace_product) on the words of ``Σ_j C(2k, j)(−1)^j tr((Γ^{-1}Ŝ)^j)``
including non-commuting rational Λ, Σ (irrational eigenvalues: the ball-arithmetic path), and
``tr N^{2k}`` as ``m → ∞``; seeded Monte Carlo with |z| <= 5.  The Jack machinery is checked
against a generic reference written here from the definitions (any partition, the Koev–Edelman
branching coefficient), itself checked by ``Σ_κ C_κ = p_1^j``, ``[x_1⋯x_j] J_κ = j!`` and the
one-variable form.
"""

import math
from fractions import Fraction
from functools import lru_cache
from itertools import product
from math import comb, factorial

import flint
import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import theory
from theory import finite_trace as ft
from theory.covariance import gamma_exact
from theory.error import expected_trace_product
from theory.overthinking import remark41_trace_exact
from theory.rmt import isotropic_cot_error_value
from theory.scaling import cot_error_d1, rational_orthogonal
from theory.wick import wick_expectation

SEED = 20251003


def rng_for(*keys):
    """A generator of its own per test and case: the same draws whichever tests run."""
    return np.random.default_rng(np.random.SeedSequence([SEED, *keys]))
ALPHA = 2


# ----------------------------------------------------------------- a generic reference Jack polynomial

def partitions(n, largest=None):
    largest = n if largest is None else largest
    if n == 0:
        yield ()
        return
    for p in range(min(n, largest), 0, -1):
        for rest in partitions(n - p, p):
            yield (p,) + rest


def conjugate(kappa):
    return tuple(sum(1 for r in kappa if r > t) for t in range(kappa[0])) if kappa else ()


def boxes(kappa):
    return [(i, t) for i in range(len(kappa)) for t in range(kappa[i])]  # 0-based (row, column)


def upper_hook(kappa, i, t):
    """h^*(s) = l(s) + α(a(s) + 1)."""
    return (conjugate(kappa)[t] - i - 1) + ALPHA * (kappa[i] - t)


def lower_hook(kappa, i, t):
    """h_*(s) = l(s) + 1 + α a(s)."""
    return (conjugate(kappa)[t] - i) + ALPHA * (kappa[i] - t - 1)


def j_norm(kappa):
    return math.prod(upper_hook(kappa, i, t) * lower_hook(kappa, i, t) for i, t in boxes(kappa))


def strips(kappa):
    """Every μ with κ/μ a horizontal strip: κ_{i+1} <= μ_i <= κ_i."""
    ranges = [range(kappa[i + 1] if i + 1 < len(kappa) else 0, kappa[i] + 1) for i in range(len(kappa))]
    for mu in product(*ranges):
        yield tuple(x for x in mu if x)


def ke_beta(kappa, mu):
    """Koev–Edelman: Π_{s∈κ} B^κ(s) / Π_{s∈μ} B^μ(s), B = h^* in a column the strip leaves alone, h_* else."""
    kc, mc = conjugate(kappa), conjugate(mu)

    def touched(t):
        return kc[t] != (mc[t] if t < len(mc) else 0)

    def B(nu, i, t):
        return lower_hook(nu, i, t) if touched(t) else upper_hook(nu, i, t)

    return Fraction(math.prod(B(kappa, i, t) for i, t in boxes(kappa)),
                    math.prod(B(mu, i, t) for i, t in boxes(mu)))


def reference_jack(kappa, x):
    """J_κ(x_1..x_r) by the branching rule, any partition, exact (x may hold sympy symbols)."""
    x = tuple(x)

    @lru_cache(maxsize=None)
    def J(nu, r):
        if len(nu) > r:
            return 0
        if r == 0:
            return 1
        return sum(J(mu, r - 1) * x[r - 1] ** (sum(nu) - sum(mu)) * ke_beta(nu, mu)
                   for mu in strips(nu) if len(mu) <= r - 1)

    return J(tuple(kappa), len(x))


def as_partition(shape):
    a, b, c = shape
    return tuple(v for v in (a, b) + (1,) * c if v)


def test_reference_jack_identities():
    # Σ_{κ⊢j} C_κ = p_1^j with C_κ = α^j j!/j_κ J_κ; one variable J_(j)(x) = Π_{t<j}(1 + αt) x^j
    x = (Fraction(1, 3), Fraction(2, 5), Fraction(7, 4))
    for j in range(1, 7):
        total = sum(Fraction(ALPHA ** j * factorial(j), j_norm(k)) * reference_jack(k, x) for k in partitions(j))
        assert total == sum(x) ** j
        one_variable = math.prod(1 + ALPHA * t for t in range(j)) * Fraction(3, 2) ** j
        assert reference_jack((j,), (Fraction(3, 2),)) == one_variable


def test_reference_jack_square_free_coefficient():
    # [x_1 x_2 ⋯ x_j] J_κ = j! for every κ ⊢ j (Stanley 1989), symbolically
    for j in range(1, 5):
        xs = sympy.symbols(f"x1:{j + 1}")
        for kappa in partitions(j):
            poly = sympy.Poly(sympy.expand(reference_jack(kappa, xs)), *xs)
            assert poly.coeff_monomial(math.prod(xs)) == factorial(j)


# ----------------------------------------------------------------- the module's shapes and Jack values

def test_family_and_hook_products():
    # the family is every partition with κ_3 <= 1 and at most d rows; closed forms against the hooks
    for J, d in ((9, 1), (9, 2), (10, 4), (12, 6)):
        family = [as_partition(s) for s in ft._family(J, d)]
        assert len(family) == len(set(family))
        expected = {k for j in range(J + 1) for k in partitions(j) if len(k) <= d and (len(k) < 3 or k[2] <= 1)}
        assert set(family) == expected
        for shape in ft._family(J, d)[1:]:
            kappa = as_partition(shape)
            assert ft._lower_hook_product(shape) == math.prod(lower_hook(kappa, i, t) for i, t in boxes(kappa))
            assert ft._upper_hook_product(shape) == math.prod(upper_hook(kappa, i, t) for i, t in boxes(kappa))
            # θ_κ = jα Π_{s≠(1,1)} (α a' − l') / j_κ, from the definition
            coarm = math.prod(ALPHA * t - i for i, t in boxes(kappa) if (i, t) != (0, 0))
            assert ft._theta(shape) == Fraction(len(boxes(kappa)) * ALPHA * coarm, j_norm(kappa))


def test_theta_vanishes_outside_the_family():
    # the coefficient of J_κ in p_j has the factor α·1 − 2 = 0 of the box (3, 2) whenever κ_3 >= 2
    for j in range(6, 10):
        for kappa in partitions(j):
            coarm = math.prod(ALPHA * t - i for i, t in boxes(kappa) if (i, t) != (0, 0))
            assert (coarm == 0) == (len(kappa) >= 3 and kappa[2] >= 2)


def test_branching_weights_are_koev_edelman():
    for J, d in ((12, 1), (12, 2), (12, 3), (13, 5)):
        sh = ft._Shapes(J, d)
        for k, shape in enumerate(sh.shapes[1:], start=1):
            L, same_idx, same_N, fewer_idx, fewer_N = sh.branching[k]
            got = {as_partition(sh.shapes[i]): Fraction(int(N), int(L))
                   for i, N in zip(same_idx + fewer_idx, same_N + fewer_N)}
            kappa = as_partition(shape)
            want = {mu: ke_beta(kappa, mu) for mu in strips(kappa) if mu != kappa and len(mu) <= d}
            assert got == want
            assert all(len(as_partition(sh.shapes[i])) == len(kappa) for i in same_idx)
            assert all(len(as_partition(sh.shapes[i])) == len(kappa) - 1 for i in fewer_idx)


def test_pair_counts():
    for J, d in ((16, 1), (16, 3), (20, 10)):
        sh = ft._Shapes(J, d)
        weights = sum(len(b[1]) + len(b[3]) for b in sh.branching[1:])
        evaluation = 0
        for r in range(1, d + 1):
            for k in range(1, len(sh.shapes)):
                ell = sh.lengths[k]
                if ell <= r:
                    evaluation += len(sh.branching[k][3]) + (len(sh.branching[k][1]) + 1 if ell < r else 0)
        assert ft._pair_counts(J, d) == (weights, evaluation)


def module_jacks(J, xs):
    """J_κ(x) for every family shape with at most J boxes, by the module's integer recursion."""
    sh = ft._Shapes(J, len(xs))
    xs = [Fraction(x) for x in xs]
    K, V = ft._jack_numerators(sh, J, [flint.fmpz(x.numerator) for x in xs], [flint.fmpz(x.denominator) for x in xs],
                               ft._exact_division)
    return sh, [Fraction(int(v), int(V) ** s) for v, s in zip(K, sh.sizes)]


def test_module_jacks_against_reference():
    xs = (Fraction(1, 3), Fraction(2, 5), Fraction(7, 4), 3)
    sh, values = module_jacks(9, xs)
    for shape, value in zip(sh.shapes, values):
        assert value == reference_jack(as_partition(shape), [Fraction(x) for x in xs])


def test_power_sum_expansion_and_unit_evaluation():
    # Σ_{κ⊢j} θ_κ J_κ(x) = p_j(x) exactly, and J_κ(1^r) = Π_s (r + α a'(s) − l'(s))
    xs = (Fraction(5, 7), Fraction(1, 9), 2, Fraction(3, 8), Fraction(11, 5))
    sh, values = module_jacks(14, xs)
    for j in range(1, 15):
        total = sum(ft._theta(s) * v for s, v, size in zip(sh.shapes, values, sh.sizes) if size == j)
        assert total == sum(Fraction(x) ** j for x in xs)
    ones = (1,) * 4
    sh, values = module_jacks(12, ones)
    at_four = ft._content_tables(12, lambda h: 4 + h)
    assert all(v == at_four(s) for s, v in zip(sh.shapes, values))


# ----------------------------------------------------------------- the trace against independent routes

def rational_cov(rng, d, den=3, singular=False):
    """B Bᵀ (+ I/2 unless singular) with B a random rational d × d (or d × (d−1)) matrix."""
    cols = d - 1 if singular else d
    B = [[Fraction(int(rng.integers(-3, 4)), int(rng.integers(1, den + 1))) for _ in range(cols)]
         for _ in range(d)]
    C = np.empty((d, d), dtype=object)
    for i in range(d):
        for j in range(d):
            C[i, j] = sum((B[i][l] * B[j][l] for l in range(cols)), Fraction(0)) + (
                Fraction(1, 2) if i == j and not singular else 0)
    return C


def engine_trace_poly(train_cov, n, k, test_cov):
    """d + Σ_{j=1}^{2k} C(2k, j)(−1)^j E tr((Γ^{-1}Ŝ)^j), each moment by the Stein engine."""
    G = gamma_exact(train_cov, n)
    sigma = train_cov if test_cov is None else test_cov
    P = np.array(theory._exact.exact_inverse(G, "Γ"), dtype=object)
    total = [Fraction(0)] * max(1, 2 * k)
    total[0] += G.shape[0]
    for j in range(1, 2 * k + 1):
        for r, c in enumerate(expected_trace_product([["S", P] * j], sigma)):
            total[r] += comb(2 * k, j) * (-1) ** j * c
    return tuple(total)


@pytest.mark.parametrize("lam, sigma", [(Fraction(3, 2), None), (Fraction(1, 7), Fraction(5)),
                                        (2.5, 0.75)])
def test_d1_chi_square_up_to_k40(lam, sigma):
    # d = 1: T_k = err_k = E(1 − a s)^{2k}, s = χ²_m/m (cot_error_d1's three-term recursion)
    test = None if sigma is None else [sigma]
    for k in (0, 1, 2, 5, 13, 40):
        for m in (1, 2, 7, 40):
            assert ft.finite_m_trace([lam], 4, k, test, m=m) == cot_error_d1(lam, 4, k, m=m, test_var=sigma)
    poly = ft.finite_m_trace_poly([lam], 4, 12, test)
    assert poly.evaluate(3) == cot_error_d1(lam, 4, 12, m=3, test_var=sigma)


def test_isotropic_against_rmt_recursion():
    # Λ = Σ = I: Γ ∝ I, T_k = err_k, which theory.rmt computes from its own Wishart moment recursion
    for d in (1, 2, 3, 5):
        for k in range(5):
            for m in (1, 2, 3, 8):
                assert ft.finite_m_trace(np.ones(d, dtype=int), 3, k, m=m) == isotropic_cot_error_value(k, d, m, 3)


def test_wick_pairings_non_commuting():
    # brute-force Isserlis pairings of every word tr((Γ^{-1}Ŝ)^j), j <= 6 (k <= 3), d = 2 and 3
    rng = rng_for(1)
    for d in (2, 3):
        lam, sig = rational_cov(rng, d), rational_cov(rng, d)
        P = np.array(theory._exact.exact_inverse(gamma_exact(lam, 2), "Γ"), dtype=object)
        for k in (1, 2, 3):
            total = [Fraction(0)] * (2 * k)
            total[0] += d
            for j in range(1, 2 * k + 1):
                for r, c in enumerate(wick_expectation([["S", P] * j], sig)):
                    total[r] += comb(2 * k, j) * (-1) ** j * c
            assert ft.finite_m_trace_poly(lam, 2, k, sig).coefficients == tuple(total)


@pytest.mark.parametrize("index", range(4))
def test_stein_engine_non_commuting(index):
    """Random rational non-commuting Λ, Σ: irrational eigenvalues of Γ^{-1}Σ (the arb path)."""
    rng = rng_for(2, index)
    d = 2 + index % 3
    lam, sig = rational_cov(rng, d), rational_cov(rng, d, singular=index == 2)
    G = gamma_exact(lam, 3)
    spectrum = ft._Spectrum(G, sig)
    assert not spectrum.rational
    for k in (1, 2, 3):
        poly = ft.finite_m_trace_poly(lam, 3, k, sig)
        assert poly.coefficients == engine_trace_poly(lam, 3, k, sig)
        for m in (1, 2, d + 1, 30):
            assert ft.finite_m_trace(lam, 3, k, sig, m=m) == poly.evaluate(m)


def test_stein_engine_commuting_d10():
    # the paper's spectrum λ_i = 1/i (float64, converted exactly) at d = 10, Σ = Λ
    lam = 1.0 / np.arange(1, 11)
    for k in (1, 2, 3):
        assert ft.finite_m_trace_poly(lam, 10, k).coefficients == engine_trace_poly(lam, 10, k, None)


def test_singular_and_repeated_spectra():
    # zero eigenvalues drop out; repeated irrational eigenvalues (a block-diagonal Ω with equal blocks)
    Q = rational_orthogonal([[0, Fraction(1, 2)], [Fraction(-1, 2), 0]])
    block = Q.dot(np.diag(np.array([Fraction(2), Fraction(1, 3)], dtype=object))).dot(Q.T)
    lam = np.diag(np.array([Fraction(1), Fraction(1, 4), Fraction(1), Fraction(1, 4)], dtype=object))
    sig = np.zeros((4, 4), dtype=object)
    sig[...] = Fraction(0)
    sig[:2, :2] = block
    sig[2:, 2:] = block
    assert not ft._Spectrum(gamma_exact(lam, 2), sig).rational
    singular = np.diag(np.array([Fraction(0), Fraction(1, 2), Fraction(0)], dtype=object))
    for lam_, sig_ in ((lam, sig), (np.array([1, 2, 3]), singular)):
        for k in (1, 2):
            assert ft.finite_m_trace_poly(lam_, 2, k, sig_).coefficients == engine_trace_poly(lam_, 2, k, sig_)
    # Σ = 0: N̂ = I, T_k = d at every m
    assert ft.finite_m_trace([1, 2], 3, 4, [0, 0], m=5) == 2


def test_limit_m_to_infinity():
    rng = rng_for(3)
    lam, sig = rational_cov(rng, 3), rational_cov(rng, 3)
    for k in range(5):
        tr = remark41_trace_exact(lam, 4, sig, k)
        assert ft.finite_m_trace(lam, 4, k, sig) == tr
        poly = ft.finite_m_trace_poly(lam, 4, k, sig)
        assert poly.limit == tr
        assert len(poly.coefficients) == max(1, 2 * k)
    # and the value approaches it: |T_k(m) − tr N^{2k}| <= Σ_r |c_r| / m for m >= 1
    poly = ft.finite_m_trace_poly(lam, 4, 3, sig)
    bound = sum(abs(c) for c in poly.coefficients[1:])
    for m in (10, 10 ** 3, 10 ** 6):
        assert abs(ft.finite_m_trace(lam, 4, 3, sig, m=m) - poly.limit) <= bound / m


def test_float_input_is_converted_exactly():
    lam = np.array([0.3, 1.7, 0.05])
    exact = np.array([Fraction(v) for v in lam], dtype=object)
    assert ft.finite_m_trace(lam, 5, 4, m=9) == ft.finite_m_trace(exact, 5, 4, m=9)


def test_monte_carlo():
    """Seeded Monte Carlo of tr(I − Γ^{-1}Ŝ)^{2k}: d = 3, non-commuting, k = 2, m = 25, 200 000 prompts.

    The mean must be within 5 standard errors of the exact value (a false failure has probability
    below 1e-6 for a normal mean; k = 2 at m = 25 has light enough tails for the normal interval).
    """
    rng = rng_for(4)
    lam, sig = rational_cov(rng, 3), rational_cov(rng, 3)
    k, m, n, samples = 2, 25, 4, 200_000
    exact = ft.finite_m_trace(lam, n, k, sig, m=m)
    G = np.array(gamma_exact(lam, n), dtype=float)
    root = np.linalg.cholesky(np.array(sig, dtype=float))
    Ginv = np.linalg.inv(G)
    values = []
    for _ in range(samples // 10_000):
        X = rng.standard_normal((10_000, m, 3)) @ root.T
        S = np.einsum("bai,baj->bij", X, X) / m
        Mk = np.linalg.matrix_power(np.eye(3) - Ginv @ S, 2 * k)
        values.append(np.trace(Mk, axis1=1, axis2=2))
    values = np.concatenate(values)
    z = (values.mean() - float(exact)) / (values.std(ddof=1) / math.sqrt(samples))
    assert abs(z) <= 5


@st.composite
def diagonal_problems(draw):
    d = draw(st.integers(1, 3))
    eig = st.fractions(min_value=Fraction(1, 6), max_value=4, max_denominator=6)
    lam = draw(st.lists(eig, min_size=d, max_size=d))
    sig = draw(st.lists(st.one_of(st.just(Fraction(0)), eig), min_size=d, max_size=d))
    return lam, sig, draw(st.integers(1, 20)), draw(st.integers(0, 3)), draw(st.integers(1, 8))


@given(diagonal_problems())
def test_property_diagonal_against_engine(problem):
    lam, sig, n, k, m = problem
    poly = ft.finite_m_trace_poly(lam, n, k, sig)
    assert poly.coefficients == engine_trace_poly(lam, n, k, sig)
    value = ft.finite_m_trace(lam, n, k, sig, m=m)
    assert value == poly.evaluate(m)
    assert value >= 0


@given(st.lists(st.fractions(min_value=Fraction(1, 5), max_value=3, max_denominator=5), min_size=2, max_size=4),
       st.integers(0, 8), st.integers(1, 12))
def test_property_power_sums(xs, j, extra):
    # the power-sum expansion holds at every rational point (θ and J together)
    sh, values = module_jacks(j + extra, xs)
    for size in range(1, j + 1):
        assert sum(ft._theta(s) * v for s, v, sz in zip(sh.shapes, values, sh.sizes) if sz == size) == \
            sum(x ** size for x in xs)


def test_cached_shape_data_is_a_prefix():
    ft._SHAPES.clear()
    big = ft._shapes(20, 4)
    assert ft._shapes(12, 4) is big
    small = ft._Shapes(12, 4)
    n = small.count[12]
    assert big.shapes[:n] == small.shapes and big.theta_num[:n] == small.theta_num
    assert big.branching[1:n] == small.branching[1:]


def test_cost_estimate_grows():
    costs = [ft.finite_m_trace_cost(1.0 / np.arange(1, 11), 10, k) for k in (5, 10, 20, 40)]
    assert costs == sorted(costs) and costs[0] < 1 < costs[-1]
    assert ft.finite_m_trace_cost([1, 2], 3, 0) == 0


def test_exports():
    assert theory.finite_m_trace is ft.finite_m_trace
    assert theory.finite_m_trace_poly is ft.finite_m_trace_poly
    assert isinstance(theory.finite_m_trace_poly([1, 2], 3, 2), theory.ErrorPoly)


@pytest.mark.slow
def test_d10_non_commuting_against_engine():
    # d = 10 with irrational eigenvalues (random rational rotations of λ_i = 1/i and σ_i = 2/i)
    rng = rng_for(5)

    def rotation():
        K = np.empty((10, 10), dtype=object)
        K[...] = Fraction(0)
        for i in range(10):
            for j in range(i + 1, 10):
                K[i, j] = Fraction(int(rng.integers(-2, 3)), int(rng.integers(1, 4)))
                K[j, i] = -K[i, j]
        return rational_orthogonal(K)

    Q1, Q2 = rotation(), rotation()
    lam = Q1.dot(np.diag(np.array([Fraction(1, i) for i in range(1, 11)], dtype=object))).dot(Q1.T)
    sig = Q2.dot(np.diag(np.array([Fraction(2, i) for i in range(1, 11)], dtype=object))).dot(Q2.T)
    for k in (1, 2, 3):
        assert ft.finite_m_trace_poly(lam, 10, k, sig).coefficients == engine_trace_poly(lam, 10, k, sig)


@pytest.mark.slow
def test_d10_k20_matches_its_polynomial():
    lam = 1.0 / np.arange(1, 11)
    poly = ft.finite_m_trace_poly(lam, 10, 20)
    assert poly.limit == remark41_trace_exact(lam, 10, lam, 20)
    assert poly.evaluate(40) == ft.finite_m_trace(lam, 10, 20, m=40)


# ----------------------------------------------------------------- bad input

@pytest.mark.parametrize("kwargs, name", [
    (dict(k=-1), "k"), (dict(k=1.5), "k"), (dict(m=0), "m"), (dict(m=2.5), "m"), (dict(m="4"), "m"),
    (dict(n=0), "n"), (dict(test_cov=[1, 2, 3]), "train_cov"), (dict(test_cov=[[1, 2], [0, 1]]), "test_cov"),
    (dict(test_cov=[1, -1]), "test_cov"), (dict(train_cov=[np.nan, 1]), "train_cov"),
    (dict(train_cov=[0, 0]), "train_cov"), (dict(train_cov=[]), "train_cov"),
])
def test_bad_input(kwargs, name):
    args = dict(train_cov=[1, 2], n=3, k=2, test_cov=None, m=5) | kwargs
    with pytest.raises(ValueError, match=name):
        ft.finite_m_trace(**args)
    if "m" not in kwargs:
        args.pop("m")
        with pytest.raises(ValueError, match=name):
            ft.finite_m_trace_poly(**args)


@pytest.mark.parametrize("index", range(3))
def test_ball_enclosures_contain_the_exact_traces(index):
    # the arb route of the bracket: rational (index 0), irrational (1, 2); k = 9 at m = 2 cancels hard
    rng = rng_for(6, index)
    d = 3
    lam = np.diag(np.array([Fraction(1), Fraction(1, 2), Fraction(1, 5)], dtype=object)) if index == 0 \
        else rational_cov(rng, d)
    sig = lam if index == 0 else rational_cov(rng, d)
    G, S, _ = ft._validated(lam, 3, 9, sig)
    for m in (2, 30):
        exact = ft._traces(G, S, 9, m)
        bounds = ft._trace_bounds(G, S, 9, m)
        assert all(lo <= v <= hi for (lo, hi), v in zip(bounds, exact))
        assert bounds[-1][1] - bounds[-1][0] <= exact[-1] * Fraction(1, 2 ** 49)
