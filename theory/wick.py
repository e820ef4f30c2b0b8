r"""Brute-force Wick (Isserlis) pairings: an oracle for the exact error engine.

Notation:

* ``S = (1/m) Σ_a x_a x_aᵀ`` with ``x_a ~ N(0, Σ)`` i.i.d., ``a = 1..m`` (the test covariance ``Σ``);
* a *word* is a sequence of factors, each either the letter ``"S"`` or a fixed ``d × d`` matrix;
  ``tr(word)`` is the trace of the product of its factors;
* ``E ∏_c tr(word_c) = Σ_r c_r m^{-r}``, a polynomial in ``1/m``.

Method.  Write each ``S`` as ``(1/m) Σ_a x_a x_aᵀ``.  A product of traces with ``p`` factors ``S``
is a sum over sample labels of a polynomial of degree ``2p`` in Gaussian vectors; Isserlis' theorem
sums it over the ``(2p - 1)!!`` pairings of the ``2p`` vector slots.  A pairing forces the two
slots of each pair onto one sample, so the labels contribute ``m^{#components}`` (components of
the graph whose nodes are the ``S`` factors and whose edges are the pairs), and the matrix indices
close into cycles alternating a word matrix and ``Σ``: the pairing contributes
``m^{#components - p} ∏_cycles tr(cycle)``, a word matrix entering transposed where its cycle runs
backwards through it.  This is independent of the Stein recursion of :mod:`theory.error` and
exponentially slower; it is meant for words with up to six factors ``S``.
"""

from __future__ import annotations

from fractions import Fraction
from math import comb, lcm

import numpy as np

from theory._validate import _as_2d, _to_fraction, as_exact_covariance, positive_int, same_dimension

MAX_FACTORS = 7


def _exact_matrix(M, name: str) -> list[list[Fraction]]:
    arr = _as_2d(M, name)
    return [[_to_fraction(v.item() if isinstance(v, np.generic) else v, name) for v in row] for row in arr]


def _integer_matrix(M: list[list[Fraction]]) -> tuple[list[list[int]], int]:
    """``M = N / den`` with ``N`` an integer matrix: the oracle then multiplies integers only."""
    den = lcm(*(v.denominator for row in M for v in row))
    return [[int(v * den) for v in row] for row in M], den


def _matmul(X, Y):
    cols = list(zip(*Y))
    return [[sum(a * b for a, b in zip(row, col)) for col in cols] for row in X]


def _trace(X) -> int:
    return sum(X[i][i] for i in range(len(X)))


def _pairings(slots):
    """All perfect matchings of ``slots`` (a list of even length)."""
    if not slots:
        yield []
        return
    first = slots[0]
    for i in range(1, len(slots)):
        rest = slots[1:i] + slots[i + 1:]
        for tail in _pairings(rest):
            yield [(first, slots[i])] + tail


def wick_expectation(traces, test_cov) -> tuple[Fraction, ...]:
    r"""Exact ``E ∏_c tr(word_c)`` as the coefficients of ``m^{-r}``, by summing over all pairings.

    .. math::
        \mathbb E \prod_c \operatorname{tr}(\text{word}_c)
        = \sum_{\pi} m^{\#\text{comp}(\pi) - p} \prod_{\text{cycles } C \text{ of } \pi} \operatorname{tr}(C)

    Parameters
    ----------
    traces : sequence of sequences
        Each inner sequence is one word; its items are the string ``"S"`` or ``d × d`` matrices
        (exact entries: int, Fraction, sympy Rational, or floats, which are converted exactly).
    test_cov : array_like
        Σ, the covariance of the samples in ``S`` (symmetric PSD, or 1-D eigenvalues).

    Returns
    -------
    tuple of Fraction
        ``(c_0, ..., c_{p-1})`` with ``p`` the number of factors ``S`` (``(value,)`` when ``p = 0``).
    """
    sigma = [list(row) for row in as_exact_covariance(test_cov, "test_cov")]
    d = len(sigma)
    sigma_int, sigma_den = _integer_matrix(sigma)
    identity = [[int(i == j) for j in range(d)] for i in range(d)]
    constant = Fraction(1)
    forms = []  # (S index t, matrix between S_t and the next S, next S index)
    p = 0
    for c, word in enumerate(traces):
        factors = []
        for item in word:
            if isinstance(item, str):
                if item != "S":
                    raise ValueError(f"traces[{c}] may contain the letter 'S' or matrices, got {item!r}")
                factors.append("S")
            else:
                M = _exact_matrix(item, f"traces[{c}]")
                if len(M) != d:
                    raise ValueError(f"traces[{c}] has a {len(M)} x {len(M)} matrix; test_cov is {d} x {d}")
                factors.append(_integer_matrix(M))
        where = [i for i, f in enumerate(factors) if f == "S"]
        if not where:
            prod, den = identity, 1
            for N, nd in factors:
                prod, den = _matmul(prod, N), den * nd
            constant *= Fraction(_trace(prod), den)
            continue
        factors = factors[where[0]:] + factors[:where[0]]  # starts with S
        gaps, current, den = [], identity, 1
        for f in factors[1:] + ["S"]:
            if f == "S":
                gaps.append(current)
                current = identity
            else:
                current = _matmul(current, f[0])
                den *= f[1]
        constant /= den
        q = len(gaps)
        forms.extend((p + t, gaps[t], p + (t + 1) % q) for t in range(q))
        p += q
    if p > MAX_FACTORS:
        raise ValueError(f"traces hold {p} factors S; the pairing oracle stops at {MAX_FACTORS} "
                         f"((2p - 1)!! pairings)")
    if p == 0:
        return (constant,)
    # Slot ("r", t) is the column vector x of S_t, slot ("l", t) its row vector xᵀ.  The word matrix
    # after S_t joins ("l", t) to ("r", next): walked forwards it reads M, backwards Mᵀ; the pair
    # that leaves the slot reached contributes Σ, so each step multiplies by M Σ or Mᵀ Σ.
    edge = {}
    for t, M, nxt in forms:
        edge[("l", t)] = (("r", nxt), _matmul(M, sigma_int))
        edge[("r", nxt)] = (("l", t), _matmul([list(r) for r in zip(*M)], sigma_int))
    slots = [(side, t) for t in range(p) for side in ("r", "l")]
    cycle_trace: dict[tuple, int] = {}  # a cycle, as the slots it leaves in order, and its trace
    coeffs = [0] * p
    for pairing in _pairings(slots):
        partner = {}
        parent = list(range(p))

        def root(x):
            while parent[x] != x:
                x = parent[x]
            return x

        for a, b in pairing:
            partner[a], partner[b] = b, a
            ra, rb = root(a[1]), root(b[1])
            if ra != rb:
                parent[ra] = rb
        components = sum(1 for t in range(p) if root(t) == t)
        value, seen = 1, set()
        for start in slots:
            if start in seen:
                continue
            path, slot = [], start
            while True:
                path.append(slot)
                other = edge[slot][0]
                seen.add(slot)
                seen.add(other)
                slot = partner[other]
                if slot == start:
                    break
            key = tuple(path)
            tr = cycle_trace.get(key)
            if tr is None:
                prod = identity
                for slot in path:
                    prod = _matmul(prod, edge[slot][1])
                tr = cycle_trace[key] = _trace(prod)
            value *= tr
        coeffs[p - components] += value
    scale = constant / Fraction(sigma_den) ** p
    return tuple(scale * c for c in coeffs)


def wick_precond_error_poly(precond, test_cov, k) -> tuple[Fraction, ...]:
    r"""``E‖(I - P Ŝ_m)^k w‖²`` for ``w ~ N(0, I)`` by pairings of every word of its expansion.

    .. math::
        \sum_{i,j=0}^{k} \binom{k}{i}\binom{k}{j}(-1)^{i+j}\,
        \mathbb E \operatorname{tr}\big[(\hat S P^\top)^i (P \hat S)^j\big]

    Returns the coefficients ``(c_0, ..., c_{2k-1})`` of ``m^{-r}`` (``(d,)`` for ``k = 0``);
    ``2k`` may not exceed :data:`MAX_FACTORS`.
    """
    P = _exact_matrix(precond, "precond")
    sigma = as_exact_covariance(test_cov, "test_cov")
    same_dimension(np.empty((len(P), len(P))), sigma, "precond", "test_cov")
    k = positive_int(k, "k", minimum=0)
    Pt = [list(r) for r in zip(*P)]
    total = [Fraction(0)] * max(1, 2 * k)
    for i in range(k + 1):
        for j in range(k + 1):
            word = ["S", Pt] * i + [P, "S"] * j
            coef = comb(k, i) * comb(k, j) * (-1) ** (i + j)
            if not word:
                total[0] += coef * len(P)
                continue
            for r, c in enumerate(wick_expectation([word], sigma)):
                total[r] += coef * c
    return tuple(total)
