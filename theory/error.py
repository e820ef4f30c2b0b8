r"""Exact expected error of the chain of thought at every k and every test length m.

Notation (arXiv 2510.03605; this project's convention ``w_0 = 0``, ``k`` = number of LSA passes):

* ``Λ`` training covariance (``train_cov``), ``n`` training prompt length,
  ``Γ = (1 + 1/n) Λ + (tr Λ / n) I``;
* ``Σ`` test covariance (``test_cov``, default ``Λ``), ``m`` test prompt length,
  ``S = Ŝ_m = (1/m) Σ_a x_a x_aᵀ`` with ``x_a ~ N(0, Σ)``;
* a preconditioner ``P`` (``precond``): the trained model has ``P = Γ^{-1}`` (Proposition 3.2);
* ``e_k = (I - P S)^k e_0`` with ``e_0 = -w``, ``w ~ N(0, I_d)``, and ``err_k = E‖e_k‖²``.

The error is a polynomial in ``1/m`` of degree at most ``2k - 1``,

.. math::
    \mathrm{err}_k = \sum_{i,j=0}^{k} \binom{k}{i}\binom{k}{j}(-1)^{i+j}
    \,\mathbb E\operatorname{tr}\big[(S P^\top)^i (P S)^j\big]
    = \sum_{r=0}^{2k-1} c_r\, m^{-r},
    \qquad c_0 = \big\|(I - P\Sigma)^k\big\|_F^2 .

Method: Gaussian integration by parts (Stein's lemma) removes one factor ``S`` at a time.  For a
trace ``tr(S M)`` in a product of traces,

.. math::
    \mathbb E\operatorname{tr}(S M)\,G
    = \mathbb E\operatorname{tr}(\Sigma M)\,G
    + \frac1m \sum_{M = L S R} \mathbb E\big[\operatorname{tr}(S L \Sigma R^\top)
        + \operatorname{tr}(S L)\operatorname{tr}(\Sigma R)\big]\,G
    + \frac1m \sum_{\operatorname{tr}(S N) \in G}
        \mathbb E\operatorname{tr}\big(S M \Sigma (N + N^\top)\big)\,G / \operatorname{tr}(S N),

(the *replace*, *twist*, *split* and *merge* terms; every ``S`` of every other trace of ``G``
takes its turn as the leading ``S`` of ``tr(S N)``).  A state is a multiset of cyclic words
``tr(S g_1 S g_2 … S g_q)``; a *gap* ``g_i`` is a word in the letters P, Pᵀ, Σ, interned, with the
exact identities that hold (``Pᵀ = P`` for the trained model; ``PΣ = ΣP`` when Λ and Σ commute, e.g.
``Σ = Λ``).  Words are canonical up to rotation and up to reversal with every gap transposed;
traces without ``S`` are numbers.  The whole linear combination is reduced level by level (``p``
factors ``S`` → ``p - 1``), merging equal states.  The ``S`` removed first is the one that follows
the most complex gap: complexity concentrates in few gaps, and the states of the expansion share
the simple rest (a fixed order visits ten times as many states at k = 5).  This *structure* holds
no numbers: it depends only on ``k`` and on the identities, and is cached.

Numbers: floats are dyadic rationals and are converted exactly.  With ``P = P_int/α`` and
``Σ = Σ_int/σ`` (integer matrices) a word with ``p`` factors ``S`` is homogeneous of degree ``p``
in P and in Σ, so the coefficients are integers until one final division by ``(ασ)^{2k}``.  The
traces ``tr(Σ g)`` are exact integers, from the gap matrices modulo word-size primes and the Chinese
remainder theorem with an a-priori bound.  The polynomial in ``1/m`` travels as one integer
(Kronecker substitution ``1/m ↦ 2^W``, ``W`` above a bound on the coefficients); the value at one
``m`` travels as a single integer.  Floats returned are rounded once, at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from math import comb
from operator import mul

import numpy as np

from flint import fmpz

from theory._exact import exact_inverse
from theory._repr import RichRepr
from theory._stein import (GapTable, binomial_structure, exact_traces, frobenius_ceiling, integer_scaled,
                           kronecker_decode, reduce_states, run_numbers)
from theory._validate import _as_2d, _to_fraction, as_exact_covariance, positive_int, same_dimension
from theory.covariance import gamma_exact


class DivergenceError(OverflowError):
    """The exact error is finite but beyond the float range: use :func:`cot_log_error`."""


@dataclass(frozen=True)
class ErrorPoly(RichRepr):
    r"""The exact error as a polynomial in ``1/m``.

    .. math:: \mathrm{err}_k(m) = \sum_{r=0}^{2k-1} c_r\, m^{-r}

    Attributes
    ----------
    coefficients : tuple of Fraction
        ``(c_0, ..., c_{2k-1})``; ``c_0`` is the ``m → ∞`` limit.  ``(d,)`` when ``k = 0``.
    k : int
        Number of CoT steps (LSA passes).
    """

    coefficients: tuple
    k: int

    @property
    def limit(self) -> Fraction:
        """``c_0``, the error as ``m → ∞``."""
        return self.coefficients[0]

    def evaluate(self, m=None) -> Fraction:
        """The exact error at test length ``m`` (an integer ``>= 1``); ``m=None`` gives ``c_0``."""
        if m is None:
            return self.coefficients[0]
        m = positive_int(m, "m")
        return sum((c / m ** r for r, c in enumerate(self.coefficients)), Fraction(0))

    def as_sympy(self, m=None):
        """The polynomial as a sympy expression in the symbol ``m`` (default: positive ``m``)."""
        import sympy

        if m is None:
            m = sympy.Symbol("m", positive=True)
        return sum((sympy.Rational(c.numerator, c.denominator) / m ** r
                    for r, c in enumerate(self.coefficients)), sympy.Integer(0))

    def latex(self) -> str:
        """LaTeX of :meth:`as_sympy`."""
        import sympy

        return sympy.latex(self.as_sympy())


# --------------------------------------------------------------------------------------------
# Exact rational linear algebra on small matrices (lists of Fractions)


def _as_exact_matrix(M, name: str) -> list[list[Fraction]]:
    """Any real square matrix (1-D: diagonal) as a list of rows of ``Fraction``."""
    arr = _as_2d(M, name)
    return [[_to_fraction(v.item() if isinstance(v, np.generic) else v, name) for v in row] for row in arr]


def _matmul(X, Y):
    cols = list(zip(*Y))
    return [[sum(map(mul, row, col)) for col in cols] for row in X]


def _limit_error(P, sigma, k: int) -> Fraction:
    r""":math:`\|(I - P\Sigma)^k\|_F^2` exactly (the ``m → ∞`` error)."""
    d = len(P)
    step = [[int(i == j) - v for j, v in enumerate(row)] for i, row in enumerate(_matmul(P, sigma))]
    B = [[Fraction(int(i == j)) for j in range(d)] for i in range(d)]
    while k:  # square and multiply
        if k & 1:
            B = _matmul(B, step)
        k >>= 1
        if k:
            step = _matmul(step, step)
    return sum((v * v for row in B for v in row), Fraction(0))


def _structure_mode(P, sigma) -> str:
    if [list(r) for r in zip(*P)] != P:
        return "general"
    return "commuting" if _matmul(P, sigma) == _matmul(sigma, P) else "symmetric"


def _run_integers(st, traces, initial_value, combine) -> int:
    """:func:`run_numbers` on exact integers, as FLINT ``fmpz`` (GMP products, several times faster)."""
    value = run_numbers(st, {g: fmpz(v) for g, v in traces.items()}, lambda tag: fmpz(initial_value(tag)),
                        combine)
    return int(value)


def _engine(P, sigma, k: int, m=None):
    """Exact ``E‖(I - P S)^k w‖²``: the coefficients ``(c_0..c_{2k-1})`` (``m=None``) or the value at ``m``.

    The numbers are scaled integers: ``P = P_int/α``, ``Σ = Σ_int/σ``, and the word ``(i, j)``
    (``p = i + j`` factors ``S``, homogeneous of degree ``p`` in P and in Σ) starts with
    ``(ασ)^{2k-p}``.  Coefficients of the polynomial in ``1/m`` travel packed in one integer
    (``1/m ↦ 2^W``, ``2^(W-1)`` above the bound on ``(ασ)^{2k} |c_r|``: each word's coefficients are
    at most ``(2p-1)!! d^p (‖P_int‖_F ‖Σ_int‖_F)^p``, a sum over pairings of at most ``p`` cycle
    traces with ``|tr X| <= d ‖X‖``).  A value at ``m`` travels as ``m^{2k} (ασ)^{2k} err``: every
    replace term is multiplied by ``m`` and the word ``(i, j)`` starts with ``m^{2k-p}``.
    """
    d = len(P)
    if k == 0:
        return (Fraction(d),) if m is None else Fraction(d)
    st = binomial_structure(k, _structure_mode(P, sigma))
    P_int, alpha = integer_scaled(P)
    S_int, sig = integer_scaled(sigma)
    scale = alpha * sig
    traces = exact_traces(st.gaps, st.needed_traces(), [P_int], S_int)
    powers = [scale ** e for e in range(2 * k + 1)]

    def start(tag, extra=1):
        i, j = tag
        c = comb(k, i) * comb(k, j) * (-1) ** (i + j) * powers[2 * k - i - j] * extra
        return c * d if i + j == 0 else c

    if m is not None:
        mpow = [m ** e for e in range(2 * k + 1)]
        value = _run_integers(st, traces, lambda tag: start(tag, mpow[2 * k - tag[0] - tag[1]]),
                              lambda a, b: a * m + b)
        return Fraction(value, powers[2 * k] * mpow[2 * k])
    norm = frobenius_ceiling(P_int) * frobenius_ceiling(S_int)
    bound = sum(comb(k, i) * comb(k, j) * powers[2 * k - i - j] * math.prod(range(1, 2 * (i + j), 2))
                * d ** max(i + j, 1) * norm ** (i + j) for i in range(k + 1) for j in range(k + 1))
    W = bound.bit_length() + 2
    packed = _run_integers(st, traces, start, lambda a, b: a + (b << W))
    return kronecker_decode(packed, W, 2 * k, powers[2 * k])


def expected_trace_product(traces, test_cov) -> tuple[Fraction, ...]:
    r"""Exact ``E ∏_c tr(word_c)`` for words in ``S = Ŝ_m`` and fixed matrices, by the Stein recursion.

    .. math::
        \mathbb E \prod_c \operatorname{tr}(\text{word}_c) = \sum_{r=0}^{p-1} c_r\, m^{-r}

    Parameters
    ----------
    traces : sequence of sequences
        Each inner sequence is one word; its items are the string ``"S"`` or ``d × d`` real
        matrices (exact entries, or floats converted exactly).
    test_cov : array_like
        Σ, the covariance of the samples of ``S`` (symmetric PSD, or 1-D eigenvalues).

    Returns
    -------
    tuple of Fraction
        ``(c_0, ..., c_{p-1})`` for ``p >= 1`` factors ``S``; ``(value,)`` when ``p = 0``.
    """
    sigma = [list(r) for r in as_exact_covariance(test_cov, "test_cov")]
    d = len(sigma)
    letters: list[list[list[Fraction]]] = []
    parsed = []
    for c, word in enumerate(traces):
        items = []
        for item in word:
            if isinstance(item, str):
                if item != "S":
                    raise ValueError(f"traces[{c}] may contain the letter 'S' or matrices, got {item!r}")
                items.append("S")
                continue
            M = _as_exact_matrix(item, f"traces[{c}]")
            if len(M) != d:
                raise ValueError(f"traces[{c}] holds a {len(M)} x {len(M)} matrix; test_cov is {d} x {d}")
            if M not in letters:
                letters.append(M)
            items.append(letters.index(M))
        parsed.append(items)
    gaps = GapTable([[list(r) for r in zip(*M)] == M for M in letters])
    ints = [integer_scaled(M) for M in letters]
    S_int, sig = integer_scaled(sigma)
    constant, words, scale, p = Fraction(1), [], 1, 0
    for items in parsed:
        if "S" not in items:
            prod = [[Fraction(int(i == j)) for j in range(d)] for i in range(d)]
            for l in items:
                prod = _matmul(prod, letters[l])
            constant *= sum(prod[i][i] for i in range(d))
            continue
        first = items.index("S")
        items = items[first:] + items[:first]
        word, gap = [], gaps.identity
        for item in items[1:] + ["S"]:
            if item == "S":
                word.append(gap)
                gap = gaps.identity
            else:
                gap = gaps.base[item] if gap == gaps.identity else gaps.product(gap, gaps.base[item], sigma=False)
                scale *= ints[item][1]
        words.append(tuple(word))
        p += len(word)
    if p == 0:
        return (constant,)
    scale *= sig ** p
    st = reduce_states(gaps, [(words, None)])
    values = exact_traces(gaps, st.needed_traces(), [B for B, _ in ints], S_int)
    norm = frobenius_ceiling(S_int) ** p
    for items in parsed:
        for l in items:
            if l != "S":
                norm *= frobenius_ceiling(ints[l][0])
    W = (math.prod(range(1, 2 * p, 2)) * d ** p * norm).bit_length() + 2
    packed = _run_integers(st, values, lambda tag: 1, lambda a, b: a + (b << W))
    return tuple(constant * c for c in kronecker_decode(packed, W, p, scale))


@lru_cache(maxsize=256)
def _cached(P: tuple, sigma: tuple, k: int, m):
    return _engine([list(r) for r in P], [list(r) for r in sigma], k, m)


# --------------------------------------------------------------------------------------------
# Public API


def _validated_precond(precond, test_cov, k):
    P = _as_exact_matrix(precond, "precond")
    sigma = as_exact_covariance(test_cov, "test_cov")
    same_dimension(np.empty((len(P), len(P))), sigma, "precond", "test_cov")
    k = positive_int(k, "k", minimum=0)
    return P, [list(r) for r in sigma], k


def _validated_cot(train_cov, n, k, test_cov):
    G = gamma_exact(train_cov, n)
    if test_cov is None:
        sigma = as_exact_covariance(train_cov, "train_cov")
    else:
        sigma = as_exact_covariance(test_cov, "test_cov")
        same_dimension(G, sigma, "train_cov", "test_cov")
    k = positive_int(k, "k", minimum=0)
    P = exact_inverse(G, "Γ").tolist()
    return P, [list(r) for r in sigma], k


def _poly(P, sigma, k) -> ErrorPoly:
    return ErrorPoly(_cached(tuple(map(tuple, P)), tuple(map(tuple, sigma)), k, None), k)


def _value(P, sigma, k, m) -> Fraction:
    if m is None:
        return _limit_error(P, sigma, k)
    return _cached(tuple(map(tuple, P)), tuple(map(tuple, sigma)), k, positive_int(m, "m"))


def _log(value: Fraction) -> float:
    """Natural log of a nonnegative rational, accurate to double precision at any size."""
    if value < 0:
        raise AssertionError(f"an expected squared norm is negative: {value}")
    if value == 0:
        return -math.inf
    e = value.numerator.bit_length() - value.denominator.bit_length()
    mantissa = float(value / Fraction(2) ** e)  # in (1/2, 2): rounded once
    return math.log(mantissa) + e * math.log(2)


def _to_float(value: Fraction, log_hint: str) -> float:
    try:
        return float(value)
    except OverflowError:
        lv = _log(value)
        raise DivergenceError(f"the exact error is exp({lv:.10g}) = 10^{lv / math.log(10):.6g}, beyond the "
                              f"float range; use {log_hint} for its logarithm") from None


def precond_error_poly(precond, test_cov, k) -> ErrorPoly:
    r"""Exact ``E‖(I - P Ŝ_m)^k w‖²`` as a polynomial in ``1/m``, for any real preconditioner ``P``.

    .. math::
        \mathbb E\|(I - P\hat S_m)^k w\|^2
        = \sum_{i,j=0}^{k}\binom{k}{i}\binom{k}{j}(-1)^{i+j}\,
          \mathbb E\operatorname{tr}\big[(\hat S_m P^\top)^i (P\hat S_m)^j\big]
        = \sum_{r=0}^{2k-1} c_r m^{-r}

    with ``w ~ N(0, I)`` and ``Ŝ_m`` the sample covariance of ``m`` draws from ``N(0, Σ)``
    (the CoT error recursion of Proposition 3.2 with ``P`` in place of ``Γ^{-1}``).

    Parameters
    ----------
    precond : array_like
        ``P``, any real ``(d, d)`` matrix (1-D: diagonal); floats are converted exactly.
    test_cov : array_like
        Σ, symmetric PSD (singular allowed), or 1-D eigenvalues.
    k : int
        Number of steps, ``k >= 0``.

    Returns
    -------
    ErrorPoly
        Exact ``Fraction`` coefficients.
    """
    return _poly(*_validated_precond(precond, test_cov, k))


def precond_error(precond, test_cov, k, *, m=None) -> float:
    """``E‖(I - P Ŝ_m)^k w‖²`` as a float rounded once from the exact value; ``m=None``: ``m → ∞``.

    See :func:`precond_error_poly`.  Raises :class:`DivergenceError` beyond the float range.
    """
    return _to_float(_value(*_validated_precond(precond, test_cov, k), m), "precond_log_error")


def precond_log_error(precond, test_cov, k, *, m=None) -> float:
    """Natural logarithm of the exact :func:`precond_error` (``-inf`` only for an exact 0)."""
    return _log(_value(*_validated_precond(precond, test_cov, k), m))


def cot_error_poly(train_cov, n, k, *, test_cov=None) -> ErrorPoly:
    r"""Exact CoT error of the trained LSA as a polynomial in ``1/m`` (Proposition 3.2, Theorem 3.3).

    .. math::
        \mathrm{err}_k = \mathbb E\|w_k - w\|^2
        = \mathbb E\operatorname{tr}\big[(I - \hat S_m\Gamma^{-1})^k (I - \Gamma^{-1}\hat S_m)^k\big]
        = \sum_{r=0}^{2k-1} c_r m^{-r}, \qquad c_0 = \|(I - \Gamma^{-1}\Sigma)^k\|_F^2

    Parameters
    ----------
    train_cov : array_like
        Λ, symmetric PSD and nonzero, or 1-D eigenvalues.
    n : int
        Training prompt length, ``n >= 1``.
    k : int
        Number of LSA passes, ``k >= 0`` (``k = 1`` is direct in-context learning).
    test_cov : array_like, optional
        Σ (default Λ).

    Returns
    -------
    ErrorPoly
        Exact coefficients (``Fraction``); floats in the input are converted exactly.
    """
    return _poly(*_validated_cot(train_cov, n, k, test_cov))


def cot_error(train_cov, n, k, *, test_cov=None, m=None) -> float:
    r"""``E‖w_k - w‖²`` of the trained LSA after ``k`` CoT passes, exact and rounded once.

    .. math::
        \mathrm{err}_k(m) = \sum_{r=0}^{2k-1} c_r m^{-r}, \qquad
        \mathrm{err}_k(\infty) = \|(I - \Gamma^{-1}\Sigma)^k\|_F^2

    ``m=None`` is the ``m → ∞`` limit.  Correct to double precision however strongly the binomial
    expansion cancels, since the value is computed in exact rational arithmetic.

    Raises
    ------
    DivergenceError
        When the value exceeds the float range (divergent regimes at large ``k``); the message
        gives its logarithm, which :func:`cot_log_error` returns.
    """
    return _to_float(_value(*_validated_cot(train_cov, n, k, test_cov), m), "cot_log_error")


def cot_log_error(train_cov, n, k, *, test_cov=None, m=None) -> float:
    """Natural logarithm of the exact :func:`cot_error` (finite at any size; ``-inf`` only for 0)."""
    return _log(_value(*_validated_cot(train_cov, n, k, test_cov), m))


class _Formal:
    """Polynomial in ``1/m`` and formal traces: ``{(r, sorted trace keys): integer coefficient}``."""

    __slots__ = ("terms",)

    def __init__(self, terms: dict):
        self.terms = terms

    def __bool__(self):
        return bool(self.terms)

    def __add__(self, other) -> "_Formal":
        if isinstance(other, int):
            other = _Formal({(0, ()): other} if other else {})
        terms = dict(self.terms)
        for key, c in other.terms.items():
            v = terms.get(key, 0) + c
            if v:
                terms[key] = v
            else:
                terms.pop(key, None)
        return _Formal(terms)

    def __mul__(self, other) -> "_Formal":
        if isinstance(other, int):
            return _Formal({key: c * other for key, c in self.terms.items()} if other else {})
        terms: dict = {}
        for (r1, m1), c1 in self.terms.items():
            for (r2, m2), c2 in other.terms.items():
                key = (r1 + r2, tuple(sorted(m1 + m2)))
                terms[key] = terms.get(key, 0) + c1 * c2
        return _Formal({key: c for key, c in terms.items() if c})

    __radd__ = __add__

    def shifted(self) -> "_Formal":
        """Times ``1/m``."""
        return _Formal({(r + 1, mono): c for (r, mono), c in self.terms.items()})


def cot_error_poly_symbolic(eigs, n, k):
    r"""The exact error for symbolic eigenvalues of ``Λ = Σ`` (diagonal), as a sympy expression in ``m``.

    .. math::
        \mathrm{err}_k = \sum_{r=0}^{2k-1} m^{-r}\,c_r\big(t_{a,b}\big), \qquad
        t_{a,b} = \operatorname{tr}(\Gamma^{-a}\Lambda^{b}) = \sum_i \lambda_i^{b}\gamma_i^{-a},
        \quad \gamma_i = (1 + 1/n)\lambda_i + \tfrac1n\textstyle\sum_j \lambda_j

    The Stein recursion runs once with formal traces ``t_{a,b}`` (all matrices are diagonal and
    commute, so a gap is ``Γ^{-a}Λ^b``), and the traces are substituted at the end.

    Parameters
    ----------
    eigs : sequence of sympy expressions
        The eigenvalues ``λ_i`` (symbols or numbers).
    n : int or sympy expression
        Training prompt length (a symbol is allowed).
    k : int
        ``0 <= k <= 3`` (the expression grows quickly with ``k``).

    Returns
    -------
    sympy.Expr
        In the positive symbol ``m``; ``sympy.latex`` prints it.
    """
    import sympy

    eigs = [sympy.sympify(e) for e in eigs]
    if not eigs:
        raise ValueError("eigs must hold at least one eigenvalue")
    n = sympy.sympify(n)
    if n.is_number and not (n.is_integer and n >= 1):
        raise ValueError(f"n must be an integer >= 1 or a symbol, got {n}")
    k = positive_int(k, "k", minimum=0)
    if k > 3:
        raise ValueError(f"k must be <= 3 for the symbolic mode (got {k}); use cot_error_poly for numbers")
    d = len(eigs)
    m = sympy.Symbol("m", positive=True)
    if k == 0:
        return sympy.Integer(d)
    total = sum(eigs)
    gam = [(1 + 1 / n) * lam + total / n for lam in eigs]
    st = binomial_structure(k, "commuting")
    formal = {g: _Formal({(0, ((a, b + 1),)): 1}) for g, (a, b) in enumerate(st.gaps.keys)}

    def initial_value(tag):
        i, j = tag
        c = comb(k, i) * comb(k, j) * (-1) ** (i + j)
        return _Formal({(0, ()): c * d if i + j == 0 else c})

    combine = np.frompyfunc(lambda a, b: (b.shifted() if b else 0) + a, 2, 1)
    value = run_numbers(st, formal, initial_value, combine)
    traces = {}
    expr = sympy.Integer(0)
    for (r, mono), c in value.terms.items():
        term = sympy.Integer(c) / m ** r
        for key in mono:
            a, b = key
            if key not in traces:
                traces[key] = sum(lam ** b / g ** a for lam, g in zip(eigs, gam))
            term *= traces[key]
        expr += term
    return expr
