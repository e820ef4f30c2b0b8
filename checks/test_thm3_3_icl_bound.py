"""Theorem 3.3: E‖ŵ − w‖² <= (d/n²)(1 + Hard)² + (d/m)(1 + Hard) at k = 1, test covariance Λ.

Exact route: err_1 = c_0 + c_1/m from the Wishart lemma (sympy, general eigenvalues) and term-wise
certificates; exact rational comparison over hypothesis-drawn spectra, n, m. Independent routes:
the Stein-recursion engine, the general-matrix lemma on rational rotations, the d = 1 chi-square
closed form and seeded Monte Carlo.
"""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from checks.conftest import assert_ledger_verdict
from theory.claims._families import random_skew, rotated
from theory.claims.thm3_3 import symbolic_matches_closed_form
from theory.error import cot_error_poly
from theory.montecarlo import mc_cot_error
from theory.scaling import (cot_error_d1, derive_thm33, k1_error_coefficients, manifestly_positive,
                            thm33_bound, thm33_terms)

positive_rationals = st.builds(Fraction, st.integers(1, 10 ** 6), st.integers(1, 10 ** 6))
spectra = st.lists(positive_rationals, min_size=1, max_size=6)


def test_ledger_verdict(recorded_verdicts):
    assert_ledger_verdict("thm3.3", recorded_verdicts)


def test_term_wise_certificates():
    steps = derive_thm33()  # asserts every certificate internally
    lam, T, n = sp.symbols("lambda T n", positive=True)
    # The certificate can fail: a difference that changes sign is not certified.
    assert not manifestly_positive(lam - T, (lam, T))
    ratio = steps[4].expr  # isotropic bound/err
    d = sp.Symbol("d", positive=True)
    assert sp.simplify(ratio - ((n + d + 1) / n) ** 2) == 0


def test_symbolic_coefficients_equal_closed_form_d2():
    assert symbolic_matches_closed_form(2)


@pytest.mark.slow
def test_symbolic_coefficients_equal_closed_form_d3():
    assert symbolic_matches_closed_form(3)


@given(spectra, st.integers(1, 10 ** 4), st.integers(1, 10 ** 6))
def test_bound_holds_exactly(eigs, n, m):
    t = thm33_terms(eigs, n)
    assert t.c0 < t.b0 and t.c1 < t.b1            # term by term, strictly
    assert t.error(m) < t.bound(m) and t.error() < t.bound()
    d = len(eigs)
    # Tightness floor: Λ ∝ I attains (1 + (d+1)/n)² exactly; no spectrum went below it.
    assert t.ratio(m) >= Fraction(n + d + 1, n) ** 2


@given(st.integers(1, 8), st.integers(1, 10 ** 5), st.integers(1, 10 ** 5), positive_rationals)
def test_isotropic_ratio_is_exact_and_tends_to_one(d, n, m, scale):
    t = thm33_terms([scale] * d, n)
    assert t.ratio(m) == t.ratio() == Fraction(n + d + 1, n) ** 2


@given(st.lists(positive_rationals, min_size=2, max_size=4), st.integers(1, 60), st.data())
def test_rotation_invariance_and_engine_agree(eigs, n, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    lam = rotated(eigs, random_skew(rng, len(eigs)))
    t = thm33_terms(eigs, n)
    assert k1_error_coefficients(lam, n) == (t.c0, t.c1)
    assert cot_error_poly(lam, n, 1).coefficients == (t.c0, t.c1)


def test_noncommuting_test_covariance_engine_agrees_with_lemma():
    rng = np.random.default_rng(np.random.SeedSequence(331))
    for _ in range(5):
        lam = rotated([Fraction(3), Fraction(1), Fraction(1, 4)], random_skew(rng, 3))
        sigma = np.array([[2, 1, 0], [1, 2, 1], [0, 1, 2]], dtype=object)
        assert k1_error_coefficients(lam, 7, test_cov=sigma) == \
            cot_error_poly(lam, 7, 1, test_cov=sigma).coefficients


@given(positive_rationals, st.integers(1, 500), st.integers(1, 500))
def test_d1_closed_form(lam, n, m):
    c0, c1 = k1_error_coefficients([lam], n)
    assert c0 + c1 / m == cot_error_d1(lam, n, 1, m=m)


def test_float_bound_matches_exact():
    eigs = [Fraction(1), Fraction(1, 2), Fraction(1, 7)]
    t = thm33_terms(eigs, 9)
    # rtol 1e-13: one float evaluation of a few products of doubles.
    assert thm33_bound([1, 0.5, 1 / 7], 9, 11) == pytest.approx(float(t.bound(11)), rel=1e-13)
    assert thm33_bound([1, 0.5, 1 / 7], 9) == pytest.approx(float(t.bound()), rel=1e-13)


def test_monte_carlo_within_five_standard_errors():
    rng = np.random.default_rng(np.random.SeedSequence(332))
    eigs = [Fraction(1), Fraction(1, 3), Fraction(1, 10)]
    lam = rotated(eigs, random_skew(rng, 3))
    t = thm33_terms(eigs, 10)
    res = mc_cot_error(lam.astype(float), 10, [1], m=12, samples=100_000, seed=332)
    assert res.trustworthy[0]
    assert abs(res.zscores([float(t.error(12))])[0]) <= 5
