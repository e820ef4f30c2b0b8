"""Hard(Λ) = tr Λ / λ_min: scale invariance, Hard >= d (= iff Λ ∝ I), and the slowest contraction.

Exact route: rationals and sympy certificates. Independent route: floating-point eigenvalues of
I − Γ^{-1}Λ on random rotations, theory.hardness, and the observed decay rate of the m = ∞ error.
"""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks.conftest import assert_ledger_verdict
from theory.claims.hard import exact_factors, float_route, symbolic_certificates
from theory.covariance import hardness
from theory.scaling import (contraction_factors, limit_log_error, slowest_contraction,
                            thm33_terms)

positive_rationals = st.builds(Fraction, st.integers(1, 10 ** 6), st.integers(1, 10 ** 6))
spectra = st.lists(positive_rationals, min_size=1, max_size=7)


def test_ledger_verdict(recorded_verdicts):
    assert_ledger_verdict("hard", recorded_verdicts)


def test_symbolic_certificates():
    assert symbolic_certificates()


@given(spectra, positive_rationals)
def test_scale_invariance_exact(eigs, c):
    assert thm33_terms([c * e for e in eigs], 3).hardness == thm33_terms(eigs, 3).hardness


@given(spectra)
def test_at_least_d_with_equality_iff_isotropic(eigs):
    hard = sum(eigs) / min(eigs)
    assert hard >= len(eigs)
    assert (hard == len(eigs)) == (len(set(eigs)) == 1)


@given(st.integers(1, 7), positive_rationals)
def test_isotropic_attains_d(d, c):
    assert sum([c] * d) / c == d


@given(spectra, st.integers(1, 10 ** 4))
def test_slowest_factor_is_lambda_min_and_equals_formula(eigs, n):
    f = exact_factors(eigs, n)
    hard = sum(eigs) / min(eigs)
    assert max(f) == f[eigs.index(min(eigs))] == 1 / (1 + n / (1 + hard))
    # Strictly slower than every larger eigenvalue's direction.
    assert all(fi < max(f) for fi, e in zip(f, eigs) if e > min(eigs))


@given(spectra, st.integers(1, 500), st.integers(0, 60))
def test_error_sandwiched_by_slowest_factor(eigs, n, k):
    f = exact_factors(eigs, n)
    err = sum(x ** (2 * k) for x in f)
    mult = eigs.count(min(eigs))
    assert mult * max(f) ** (2 * k) <= err <= len(eigs) * max(f) ** (2 * k)


@given(st.lists(st.floats(0.01, 100.0), min_size=2, max_size=7), st.integers(1, 200), st.data())
def test_float_route_on_rotations(eigs, n, data):
    eigs = np.array(eigs)
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    Q, _ = np.linalg.qr(rng.standard_normal((len(eigs), len(eigs))))
    lam = (Q * eigs) @ Q.T
    # rtol 1e-9: eigh of a well-conditioned (spread <= 1e4) symmetric matrix, relative to its norm.
    assert slowest_contraction(lam, n) == pytest.approx(contraction_factors(lam, n)[0], rel=1e-9)
    assert hardness(lam) == pytest.approx(eigs.sum() / eigs.min(), rel=1e-9)


def test_float_route_summary():
    gap_f, gap_h, gap_rate = float_route(40)
    # Relative gaps of float routes against exact formulas; rates measured after the second
    # direction has decayed by e^-40, so 1e-6 leaves room for the float log-differences only.
    assert gap_f < 1e-9 and gap_h < 1e-9 and gap_rate < 1e-6


def test_decay_rate_is_governed_by_lambda_min():
    lam, n = [1.0, 0.5, 0.01], 5
    f = slowest_contraction(lam, n)
    rate = math.exp(limit_log_error(lam, n, 401) - limit_log_error(lam, n, 400))
    # The second-slowest factor is far faster (ratio < 0.2), so at k = 400 the rate equals f²
    # up to float rounding of two logs of size ~1e2.
    assert rate == pytest.approx(f * f, rel=1e-10)


def test_singular_covariance_never_contracts():
    singular = [1.0, 0.0]
    assert hardness(singular) == math.inf
    assert slowest_contraction(singular, 10) == 1.0
    assert contraction_factors(singular, 10)[0] == pytest.approx(1.0, abs=1e-15)
