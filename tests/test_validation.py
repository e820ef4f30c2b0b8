"""Bad input at the boundary: a ValueError naming the argument, never NaN or a deep traceback."""

from fractions import Fraction

import numpy as np
import pytest

import theory
from theory._validate import as_covariance, as_exact_covariance, positive_int


@pytest.mark.parametrize("cov, match", [
    (np.ones((2, 3)), "must be square"),
    (np.zeros((0, 0)), "d >= 1"),
    (np.array([]), "d >= 1"),
    (np.array([[1.0, 0.5], [0.0, 1.0]]), "must be symmetric"),
    (np.array([[1.0, 2.0], [2.0, 1.0]]), "positive semi-definite"),
    (np.array([[np.nan, 0.0], [0.0, 1.0]]), "finite"),
    (np.array([1.0, np.inf]), "finite"),
    (np.ones((2, 2, 2)), "3 dimensions"),
    (np.array(["a", "b"]), "numeric"),
    ([True, False], "booleans"),
])
def test_bad_covariance(cov, match):
    with pytest.raises(ValueError, match=match) as info:
        as_covariance(cov, "train_cov")
    assert "train_cov" in str(info.value)


def test_symmetry_tolerance_is_relative():
    cov = np.array([[1e6, 1.0], [1.0 + 1e-6, 2e6]])  # asymmetry 1e-6 < 1e-10 * 2e6
    assert np.allclose(as_covariance(cov), as_covariance(cov).T)


def test_one_dimensional_means_diagonal():
    assert np.array_equal(as_covariance([1.0, 2.0]), np.diag([1.0, 2.0]))


def test_exact_conversion_is_exact():
    out = as_exact_covariance([0.1, Fraction(1, 3)])
    assert out[0, 0] == Fraction(0.1) and out[1, 1] == Fraction(1, 3) and out[0, 1] == 0
    with pytest.raises(ValueError, match="symmetric"):
        as_exact_covariance(np.array([[1, 1], [0, 1]], dtype=object), "test_cov")


@pytest.mark.parametrize("value", [0, -1, 1.5, "3", None, True, float("nan")])
def test_bad_positive_int(value):
    with pytest.raises(ValueError, match="n must be an integer"):
        positive_int(value, "n")


def test_gamma_and_hardness_inputs():
    with pytest.raises(ValueError, match="n must be"):
        theory.gamma([1.0, 2.0], 0)
    with pytest.raises(ValueError, match="nonzero"):
        theory.gamma([0.0, 0.0], 3)
    assert theory.hardness([1.0, 0.0]) == float("inf")
    assert theory.hardness([2.0, 2.0, 2.0]) == 3.0


@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf"), "x", None, True])
def test_bad_positive_float(value):
    from theory._validate import positive_float
    with pytest.raises(ValueError, match="eta must be a finite positive number"):
        positive_float(value, "eta")


@pytest.mark.parametrize("value", [0, 0.0, float("nan"), "x", False])
def test_bad_nonzero_float(value):
    from theory._validate import nonzero_float
    with pytest.raises(ValueError, match="c must be a finite nonzero number"):
        nonzero_float(value, "c")
