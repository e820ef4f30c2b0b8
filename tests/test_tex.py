"""Library tests of theory._tex: the TeX form of computed ledger values."""

import pytest

from theory._tex import format_value, sci


@pytest.mark.parametrize("x, digits, expected", [
    (0.5, 4, "0.5"),
    (1.2e-7, 2, r"1.2\times10^{-7}"),
    (2.2e5, 3, r"2.2\times10^{5}"),
    # more integer digits than significant ones: Python's 'g' switches to exponent form
    (1234.5, 3, r"1.23\times10^{3}"),
    (12345.6, 4, r"1.235\times10^{4}"),
    (-1234.5, 2, r"-1.2\times10^{3}"),
    # rounding carried into the next decade
    (99999.5, 4, "10^{5}"),
    (999.96, 4, "1000"),
])
def test_sci(x, digits, expected):
    assert sci(x, digits) == expected


def test_percent_of_a_large_ratio():
    # 12.345 as a percentage to 3 digits: 1234.5 % (this used to recurse without end)
    assert format_value(12.345, "%") == r"1.23\times10^{3}\%"
