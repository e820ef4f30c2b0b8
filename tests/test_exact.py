"""theory._exact: the one home of exact linear algebra and of the logarithm of a rational."""

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory._exact import (exact_identity, exact_inverse, exact_matmul, exact_power, log_fraction,
                           log_or_minus_inf, nullspace, rref, solve_unique)

rationals = st.builds(Fraction, st.integers(-50, 50), st.integers(1, 20))


def _reference_log(x: Fraction) -> float:
    with mpmath.workdps(60):
        return float(mpmath.log(mpmath.mpf(x.numerator)) - mpmath.log(mpmath.mpf(x.denominator)))


@pytest.mark.parametrize("x", [
    Fraction(7 * 10 ** 400 + 1, 3 * 10 ** 400),      # a huge numerator and denominator, log near 0.85
    Fraction(10 ** 400 + 10 ** 390, 10 ** 400),      # log near 1e-10: the difference of two logs of 921
    Fraction(1, 3 ** 700),                           # far below the float range
    Fraction(3 ** 700, 7),                           # far above it
    Fraction(5, 7),
])
def test_log_fraction_is_accurate_at_any_size(x):
    # Within 4 ulps of the 60-digit value. log p − log q of two 400-digit integers is off by about
    # ulp(921) ≈ 1e-13 absolute: 1e3 ulps at log ≈ 0.85 and a relative 1e-3 at log ≈ 1e-10.
    ref = _reference_log(x)
    assert abs(log_fraction(x) - ref) <= 4 * math.ulp(ref)


def test_log_fraction_refuses_what_has_no_log():
    with pytest.raises(ValueError, match="x must be positive"):
        log_fraction(Fraction(0))
    with pytest.raises(ValueError, match="err must be positive"):
        log_fraction(Fraction(-1, 2), "err")
    assert log_or_minus_inf(Fraction(0)) == -math.inf
    assert log_or_minus_inf(Fraction(8)) == pytest.approx(3 * math.log(2), rel=1e-15)
    with pytest.raises(ValueError):
        log_or_minus_inf(Fraction(-1))


def _matrix(rows):
    out = np.empty((len(rows), len(rows[0])), dtype=object)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            out[i, j] = Fraction(v)
    return out


@given(st.lists(rationals, min_size=9, max_size=9), st.integers(0, 7))
def test_power_is_repeated_product(entries, k):
    M = _matrix([entries[0:3], entries[3:6], entries[6:9]])
    expected = exact_identity(3)
    for _ in range(k):
        expected = exact_matmul(expected, M)
    assert (exact_power(M, k) == expected).all()


@given(st.lists(rationals, min_size=9, max_size=9))
def test_inverse_solve_and_nullspace_agree(entries):
    M = _matrix([entries[0:3], entries[3:6], entries[6:9]])
    rows = [list(r) for r in M]
    R, piv = rref(rows, 3)
    basis = nullspace(rows, 3)
    assert len(piv) + len(basis) == 3                      # rank–nullity
    for v in basis:
        assert all(sum(a * b for a, b in zip(r, v)) == 0 for r in rows)
    rhs = [Fraction(1), Fraction(2), Fraction(-3)]
    x = solve_unique(rows, rhs)
    if len(piv) == 3:
        inv = exact_inverse(M)
        assert (exact_matmul(inv, M) == exact_identity(3)).all()
        assert x == [sum(inv[i, j] * rhs[j] for j in range(3)) for i in range(3)]
    else:
        assert x is None
        with pytest.raises(ValueError, match="matrix is singular"):
            exact_inverse(M)


def test_gamma_eigenvalues_are_those_of_gamma():
    from theory.covariance import gamma_eigenvalues, gamma_exact
    eigs = [Fraction(3), Fraction(1, 2), Fraction(1, 7)]
    G = gamma_exact(eigs, 5)
    assert gamma_eigenvalues(eigs, 5) == [G[i, i] for i in range(3)]
    assert gamma_eigenvalues(eigs, 5, trace=Fraction(0)) == [Fraction(6, 5) * e for e in eigs]


def test_overthinking_is_the_module_and_its_report_a_function():
    import types

    import theory
    assert isinstance(theory.overthinking, types.ModuleType)
    assert theory.overthinking_report is theory.overthinking.overthinking_report
