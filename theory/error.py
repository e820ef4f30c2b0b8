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

Method (the Stein recursion, :mod:`theory._stein`): Gaussian integration by parts removes one
factor ``S`` at a time from a product of traces of words ``tr(S g_1 S g_2 … S g_q)``, whose *gaps*
``g_i`` are words in P, Pᵀ and Σ; a term without ``S`` is a number ``tr(Σ g)``.  The whole
linear combination of the ``(k + 1)^2`` words above is reduced level by level (``p`` factors ``S``
→ ``p - 1``), merging equal states, with the exact identities that hold (``Pᵀ = P`` for the trained
model; ``PΣ = ΣP`` when Λ and Σ commute, e.g. ``Σ = Λ``).  This *structure* holds no numbers: it
depends only on ``k`` and on the identities (the *mode*: general, symmetric or commuting) and is
cached per process.  Its size is tabulated (:data:`theory._stein.STRUCTURE_SIZES`) and
:func:`engine_cost` estimates the seconds of a call from it before running one.

Numbers: floats are dyadic rationals and are converted exactly.  With ``P = P_int/α`` and
``Σ = Σ_int/σ`` (integer matrices) a word with ``p`` factors ``S`` is homogeneous of degree ``p``
in P and in Σ, so the coefficients are integers until one final division by ``(ασ)^{2k}``.  The
traces ``tr(Σ g)`` are exact integers, from the gap matrices modulo primes (float64 BLAS products
of balanced residues, exact below ``2^53``) and the Chinese remainder theorem with an a-priori
bound.  The polynomial in ``1/m`` travels as one integer (Kronecker substitution ``1/m ↦ 2^W``,
``W`` above a bound on the coefficients); the value at one ``m`` travels as a single integer.  The
integers are FLINT ``fmpz`` in object arrays, combined level by level with NumPy's
``add.reduceat``.  Floats returned are rounded once, at the end.
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

from theory._exact import exact_inverse, log_or_minus_inf
from theory._repr import RichRepr
from theory._stein import (STRUCTURE_SIZES, GapTable, binomial_structure, exact_traces, frobenius_ceiling,
                           integer_scaled, kronecker_decode, reduce_states, run_numbers)
from theory._validate import _as_2d, _to_fraction, as_exact_covariance, positive_int, same_dimension
from theory.covariance import gamma_eigenvalues, gamma_exact


class DivergenceError(OverflowError):
    """The exact error is finite but beyond the float range: use :func:`cot_log_error`."""


class EngineCostError(ValueError):
    """The estimated cost of the exact computation exceeds ``max_seconds``; nothing was run.

    Attributes
    ----------
    seconds : float
        The estimated CPU seconds of the cheapest exact route (``inf`` beyond any reach).
    route : str
        That route.
    """

    def __init__(self, message: str, seconds: float, route: str):
        super().__init__(message)
        self.seconds = seconds
        self.route = route


#: Default ``max_seconds`` of the public entry points: estimated CPU seconds (``engine_cost`` and the
#: routes' cost models, calibrated on a loaded shared machine, so they err high).
MAX_SECONDS = 60.0


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


@dataclass(frozen=True)
class EngineCost:
    """The estimated cost of one exact-engine call, from :func:`engine_cost`.

    Attributes
    ----------
    seconds : float
        CPU seconds of a first call in a process: structure, exact traces and numbers.
    warm_seconds : float
        CPU seconds once the structure of ``(k, mode)`` is built in this process.
    states : int
        States of the Stein reduction (exact up to the tabulated ``k``, extrapolated beyond).
    terms : int
        Its distinct transfer terms, the unit of work of the structure and of the numbers.
    """

    seconds: float
    warm_seconds: float
    states: int
    terms: int


# CPU seconds per unit of work, fitted by bench/calibrate_cost.py on a 2-core machine shared with
# other jobs (load average ~8), non-commuting float input, (d, k) = (10, 10..12), (4, 11), (6, 11),
# (4, 12): per structure term (median 2.18e-6), per trace, prime and d (median 3.0e-7), per number
# term a + b * bits (least squares; the per-operation overhead dominates the size), and the
# polynomial's number pass per term over that at one m, per k (1.23, 1.31, 1.38 at d = 10,
# k = 8, 9, 10: the largest, rounded up).
_SECONDS_PER_TERM = 2.2e-6
_SECONDS_PER_TRACE_PRIME = 3.0e-7
_NUMBER_SECONDS = (1.15e-6, 4.2e-12)
_POLY_PER_K = 1.4
_LOG_FLOAT_MAX = math.log(1.7976931348623157e308)


def engine_cost(d, k, mode="symmetric", *, poly=False) -> EngineCost:
    r"""Estimated CPU seconds of the exact engine for one call, before running it.

    .. math::
        t \approx c_s\,T_{k} + c_t\,N_{k}\,\frac{B}{24}\,d + T_{k}\,(a + b\,B)\,(c_p\,k)^{[\text{poly}]},
        \qquad B = 2k\,(61 d + 66)

    with ``T_k`` the distinct transfer terms and ``N_k`` the needed traces of the Stein structure
    (deterministic, tabulated per ``k`` and ``mode``; beyond the table extrapolated with its last
    growth factor, which decreases with ``k``, so the estimate errs high), ``B`` the size in bits of
    the integers for float64 input (a ``d × d`` inverse of 60-bit entries, ``2k`` times), ``B/24``
    the number of primes per trace, and the constants ``c_s, c_t, a, b, c_p`` measured on a loaded
    2-core machine (``bench/calibrate_cost.py``; an idle machine is faster).  Inputs with small
    rational entries carry smaller integers and cost less.  ``m = None`` (the ``m → ∞`` limit)
    needs no engine.

    Parameters
    ----------
    d : int
        Dimension, ``d >= 1``.
    k : int
        Number of steps, ``k >= 0``.
    mode : {"symmetric", "commuting", "general"}
        Which identities the engine can use: ``"symmetric"`` for the trained model ``P = Γ^{-1}``
        (``cot_error`` and friends), ``"commuting"`` when moreover Λ and Σ commute (Σ = Λ, or both
        diagonal), ``"general"`` for a non-symmetric ``precond``.
    poly : bool
        ``True`` for the polynomial (``cot_error_poly``), ``False`` for the value at one ``m``.

    Returns
    -------
    EngineCost
        ``seconds`` (cold), ``warm_seconds`` (structure cached), ``states`` and ``terms``; all
        ``math.inf`` where the extrapolated counts exceed the float range.
    """
    d = positive_int(d, "d")
    k = positive_int(k, "k", minimum=0)
    if mode not in STRUCTURE_SIZES:
        raise ValueError(f"mode must be one of {sorted(STRUCTURE_SIZES)}, got {mode!r}")
    if k == 0:
        return EngineCost(0.0, 0.0, 0, 0)
    table = STRUCTURE_SIZES[mode]
    if k <= len(table):
        states, terms, traces = table[k - 1]
    else:
        growth = [last / before for last, before in zip(table[-1], table[-2])]
        logs = [math.log(v) + (k - len(table)) * math.log(g) for v, g in zip(table[-1], growth)]
        if max(logs) > _LOG_FLOAT_MAX:  # beyond any machine: the counts themselves overflow a float
            return EngineCost(math.inf, math.inf, math.inf, math.inf)
        states, terms, traces = (round(math.exp(v)) for v in logs)
    bits = 2 * k * (61 * d + 66)
    a, b = _NUMBER_SECONDS
    numbers = terms * (a + b * bits) * (_POLY_PER_K * k if poly else 1)
    warm = _SECONDS_PER_TRACE_PRIME * traces * bits / 24 * d + numbers
    return EngineCost(_SECONDS_PER_TERM * terms + warm, warm, states, terms)


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


def _value(P, sigma, k, m) -> Fraction:
    if m is None:
        return _limit_error(P, sigma, k)
    return _cached(tuple(map(tuple, P)), tuple(map(tuple, sigma)), k, positive_int(m, "m"))


# --------------------------------------------------------------------------------------------
# Routes and their costs: every public entry point estimates before it runs (proofs/math.md §8 for
# the d = 1 closed form)

# CPU seconds of the d = 1 recursion per step and bit of its integers (k = 10^4 and 3·10^4 at m = 20 on
# the reference machine: 0.27 s and 2.4 s, plus the final reduction 0.2 s and 2.2 s; errs high).
_D1_SECONDS_PER_STEP_BIT = 1.5e-9
# CPU seconds of the m = ∞ power per (result megabit)^2: 0.29 per d for a diagonal step (d = 2:
# 0.72 s at 1.7 Mbit, 5.7 s at 4.5, 53 s at 13.4), 0.5 per d^3 otherwise (d = 2: 24 s at 2.4 Mbit).
_LIMIT_SECONDS_DIAGONAL = 0.15
_LIMIT_SECONDS_FULL = 0.5


def _is_scalar(M) -> bool:
    return all(v == (M[0][0] if i == j else 0) for i, row in enumerate(M) for j, v in enumerate(row))


def _is_diagonal(M) -> bool:
    return all(v == 0 for i, row in enumerate(M) for j, v in enumerate(row) if i != j)


def _d1_value(a: Fraction, m: int, k: int) -> Fraction:
    r"""``E(1 − a s)^{2k}``, ``s = χ²_m/m``, by the three-term recursion of ``F_j = E(1 − a s)^j``
    (the gamma Stein identity ``E[(X − m) g(X)] = 2 E[X g'(X)]``, ``X = m s``):
    ``F_{j+1} = (1 − a − 2ja/m) F_j + (2ja/m) F_{j−1}``, in the integers ``G_j = (qm)^j F_j``
    (``a = p/q``), one reduction at the end."""
    p, q = fmpz(a.numerator), fmpz(a.denominator)
    qm = q * m
    prev, cur = fmpz(1), qm - p * m
    for j in range(1, 2 * k):
        prev, cur = cur, (qm - p * m - 2 * j * p) * cur + 2 * j * p * qm * prev
    return Fraction(int(cur), int(qm) ** (2 * k))


def _limit_bits(P, sigma, k: int) -> int:
    """Estimated bits of the exact ``m → ∞`` error: linear in ``k`` from the value at ``k_0 <= 8``."""
    k0 = min(k, 8)
    v = _limit_error(P, sigma, k0)
    return (v.numerator.bit_length() + v.denominator.bit_length()) * k // k0


def capped_cost(cost, k: int, limit: float) -> float:
    """``cost(k)`` for a cost nondecreasing in ``k`` whose evaluation is itself slow at large ``k``
    (counting shapes of ``2k`` boxes): ``cost`` at ``k = 64, 128, …`` first, returning the first value
    over ``limit`` (a lower estimate of ``cost(k)``, enough to refuse) before reaching ``k``."""
    j = 64
    while j < k:
        value = cost(j)
        if value > limit:
            return value
        j *= 2
    return cost(k)


def _routes(P, sigma, k: int, m, poly: bool = False, limit: float = math.inf) -> list[tuple[float, str, object]]:
    """The exact routes that apply, as ``(estimated CPU seconds, name, thunk)`` (an estimate over
    ``limit`` may be a lower estimate)."""
    d = len(P)
    if k == 0:
        return [(0.0, "k = 0: ‖I‖_F² = d", lambda: (Fraction(d),) if poly else Fraction(d))]
    if m is None and not poly:
        bits = _limit_bits(P, sigma, k) / 1e6
        diagonal = _is_diagonal(P) and _is_diagonal(sigma)
        seconds = (_LIMIT_SECONDS_DIAGONAL * d if diagonal else _LIMIT_SECONDS_FULL * d ** 3) * bits * bits
        return [(seconds, "m = ∞: ‖(I − PΣ)^k‖_F² in exact rationals", lambda: _limit_error(P, sigma, k))]
    mode = _structure_mode(P, sigma)
    key = (tuple(map(tuple, P)), tuple(map(tuple, sigma)))
    out = [(engine_cost(d, k, mode, poly=poly).seconds, f"exact engine (Stein recursion, {mode})",
            lambda: _cached(*key, k, m))]
    if poly:
        return out
    if d == 1:
        a = P[0][0] * sigma[0][0]
        bits = (a.denominator * m).bit_length() + a.numerator.bit_length()
        out.append((_D1_SECONDS_PER_STEP_BIT * (2 * k) ** 2 * bits, "d = 1 chi-square closed form",
                    lambda: _d1_value(a, m, k)))
    elif _is_scalar(P) and _is_scalar(sigma):
        from theory.finite_trace import _ISOTROPIC_SECONDS_PER_SHAPE, _family, _isotropic_trace
        w = P[0][0] * sigma[0][0]
        seconds = capped_cost(lambda j: len(_family(2 * j, d)) * _ISOTROPIC_SECONDS_PER_SHAPE, k, limit)
        out.append((seconds, "isotropic closed form (zonal polynomials at ω I)",
                    lambda: _isotropic_trace(d, k, m, w, math.inf)))
    return out


def _cheapest(P, sigma, k: int, m, what: str, max_seconds, poly: bool = False):
    """The value by the cheapest exact route, or :class:`EngineCostError` when it is over budget."""
    limit = math.inf if max_seconds is None else _budget_seconds(max_seconds)
    if m is not None:
        m = positive_int(m, "m")
    seconds, route, thunk = min(_routes(P, sigma, k, m, poly, limit), key=lambda r: r[0])
    if seconds > limit:
        where = f"d = {len(P)}, k = {k}, m = {'∞' if m is None else m}"
        ask = ("beyond any machine (the estimate overflows)" if seconds == math.inf else
               f"an estimated {seconds:.3g} CPU seconds ({route}), over max_seconds = {limit:g}; pass "
               f"max_seconds={seconds * 1.5:.3g} (or None) to run it")
        raise EngineCostError(f"{what}: the exact value at {where} would take {ask}; theory.error_bracket "
                              f"gives certified bounds", seconds, route)
    return thunk()


def limit_error_enclosure(P, sigma, k: int) -> tuple[Fraction, Fraction]:
    r"""Rigorous rationals ``lower <= ‖(I − PΣ)^k‖_F² <= upper`` at any ``k``, from arb balls.

    .. math:: \|(I - P\Sigma)^k\|_F^2 = \operatorname{tr}\big[(I - P\Sigma)^k{}^\top (I - P\Sigma)^k\big]

    The exact step ``I − PΣ`` (lists of ``Fraction``) is enclosed in balls, raised to the ``k``-th
    power by squaring at a precision doubled from ``64 + 2 log₂ k`` bits until the sum of squares is
    known to a relative ``2^-60``; a nilpotent step (exactly zero power at ``k >= d``) gives 0.
    This is the ``m = ∞`` error beyond the reach of the exact rationals (cost: ``O(d³ log k)``).
    """
    import flint

    from theory.finite_trace import _arb_lower, _arb_upper

    d = len(P)
    step = [[int(i == j) - v for j, v in enumerate(row)] for i, row in enumerate(_matmul(P, sigma))]
    if k >= d and _limit_error(P, sigma, d) == 0:
        return Fraction(0), Fraction(0)
    prec = 64 + 2 * max(k, 1).bit_length()
    while True:
        with flint.ctx.workprec(prec):
            A = flint.arb_mat([[flint.arb(flint.fmpq(v.numerator, v.denominator)) for v in row] for row in step])
            B = flint.arb_mat(d, d)
            for i in range(d):
                B[i, i] = 1
            e = k
            while e:
                if e & 1:
                    B = B * A
                e >>= 1
                if e:
                    A = A * A
            total = sum((B[i, j] ** 2 for i in range(d) for j in range(d)), flint.arb(0))
            if total > 0 and total.rad() <= total.mid() * flint.arb(2) ** -60:
                return max(Fraction(0), _arb_lower(total)), _arb_upper(total)
        if prec > 1 << 16:
            raise AssertionError(f"the m = ∞ enclosure did not converge at {prec} bits (k = {k})")
        prec *= 2


def _budget_seconds(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"max_seconds must be a positive number of seconds or None, got {value!r}")
    return float(value)


def exact_cost(train_cov, n, k, *, test_cov=None, m=None) -> tuple[float, str]:
    """Estimated CPU seconds and name of the cheapest exact route of :func:`cot_error` (nothing runs)."""
    P, sigma, k = _validated_cot(train_cov, n, k, test_cov)
    m = None if m is None else positive_int(m, "m")
    seconds, route, _ = min(_routes(P, sigma, k, m), key=lambda r: r[0])
    return seconds, route


def _log(value: Fraction) -> float:
    """Natural log of a nonnegative rational (``−∞`` at 0): :func:`theory._exact.log_or_minus_inf`."""
    if value < 0:
        raise AssertionError(f"an expected squared norm is negative: {value}")
    return log_or_minus_inf(value)

def _to_float(value: Fraction, log_hint: str) -> float:
    try:
        return float(value)
    except OverflowError:
        lv = _log(value)
        raise DivergenceError(f"the exact error is exp({lv:.10g}) = 10^{lv / math.log(10):.6g}, beyond the "
                              f"float range; use {log_hint} for its logarithm") from None


def precond_error_poly(precond, test_cov, k, *, max_seconds=MAX_SECONDS) -> ErrorPoly:
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

    max_seconds : float or None
        Refuse (:class:`EngineCostError`, nothing run) when the estimated CPU seconds exceed this.

    Returns
    -------
    ErrorPoly
        Exact ``Fraction`` coefficients.
    """
    P, sigma, k = _validated_precond(precond, test_cov, k)
    return ErrorPoly(_cheapest(P, sigma, k, None, "precond_error_poly", max_seconds, poly=True), k)


def precond_error(precond, test_cov, k, *, m=None, max_seconds=MAX_SECONDS) -> float:
    """``E‖(I - P Ŝ_m)^k w‖²`` as a float rounded once from the exact value; ``m=None``: ``m → ∞``.

    See :func:`precond_error_poly`.  Raises :class:`DivergenceError` beyond the float range and
    :class:`EngineCostError` (before any work) when the cheapest exact route (the ``d = 1`` closed
    form or the engine) is estimated over ``max_seconds`` CPU seconds (``None``: no limit).
    """
    P, sigma, k = _validated_precond(precond, test_cov, k)
    return _to_float(_cheapest(P, sigma, k, m, "precond_error", max_seconds), "precond_log_error")


def precond_log_error(precond, test_cov, k, *, m=None, max_seconds=MAX_SECONDS) -> float:
    """Natural logarithm of the exact :func:`precond_error` (``-inf`` only for an exact 0)."""
    P, sigma, k = _validated_precond(precond, test_cov, k)
    return _log(_cheapest(P, sigma, k, m, "precond_log_error", max_seconds))


def cot_error_poly(train_cov, n, k, *, test_cov=None, max_seconds=MAX_SECONDS) -> ErrorPoly:
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
    max_seconds : float or None
        Refuse (:class:`EngineCostError`, nothing run) when the engine's estimated CPU seconds
        (:func:`engine_cost` with ``poly=True``) exceed this; ``None``: no limit.

    Returns
    -------
    ErrorPoly
        Exact coefficients (``Fraction``); floats in the input are converted exactly.
    """
    P, sigma, k = _validated_cot(train_cov, n, k, test_cov)
    return ErrorPoly(_cheapest(P, sigma, k, None, "cot_error_poly", max_seconds, poly=True), k)


def cot_error(train_cov, n, k, *, test_cov=None, m=None, max_seconds=MAX_SECONDS) -> float:
    r"""``E‖w_k - w‖²`` of the trained LSA after ``k`` CoT passes, exact and rounded once.

    .. math::
        \mathrm{err}_k(m) = \sum_{r=0}^{2k-1} c_r m^{-r}, \qquad
        \mathrm{err}_k(\infty) = \|(I - \Gamma^{-1}\Sigma)^k\|_F^2

    ``m=None`` is the ``m → ∞`` limit.  Correct to double precision however strongly the binomial
    expansion cancels, since the value is computed in exact rational arithmetic.

    The cost is estimated first and the cheapest exact route runs: the ``d = 1`` chi-square closed
    form (proofs/math.md §8), the isotropic closed form when Λ and Σ are multiples of ``I``, or the
    engine (:func:`engine_cost`); at ``m = ∞`` the matrix power.  :func:`exact_cost` gives the
    estimate alone.

    Raises
    ------
    DivergenceError
        When the value exceeds the float range (divergent regimes at large ``k``); the message
        gives its logarithm, which :func:`cot_log_error` returns.
    EngineCostError
        Before any work, when the cheapest route is estimated over ``max_seconds`` CPU seconds
        (default :data:`MAX_SECONDS`; ``None``: no limit); the message gives the estimate.
        :func:`theory.error_bracket` gives certified bounds there.
    """
    P, sigma, k = _validated_cot(train_cov, n, k, test_cov)
    return _to_float(_cheapest(P, sigma, k, m, "cot_error", max_seconds), "cot_log_error")


def cot_log_error(train_cov, n, k, *, test_cov=None, m=None, max_seconds=MAX_SECONDS) -> float:
    """Natural logarithm of the exact :func:`cot_error` (finite at any size; ``-inf`` only for 0)."""
    P, sigma, k = _validated_cot(train_cov, n, k, test_cov)
    return _log(_cheapest(P, sigma, k, m, "cot_log_error", max_seconds))


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


def _symbolic_scalar(value, name: str):
    """``value`` as a sympy expression, refusing what only looks like one (bool, str, None, arrays)."""
    import sympy

    if value is None or isinstance(value, (bool, np.bool_, str, bytes, sympy.logic.boolalg.BooleanAtom)):
        raise ValueError(f"{name} must be a number or a sympy expression, got {value!r}")
    if isinstance(value, (list, tuple, dict, set, np.ndarray, sympy.MatrixBase)):
        raise ValueError(f"{name} must hold scalars, got a nested {type(value).__name__}")
    try:
        expr = sympy.sympify(value, strict=True)
    except (sympy.SympifyError, TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number or a sympy expression, got {value!r}") from exc
    if not isinstance(expr, sympy.Expr):
        raise ValueError(f"{name} must be a number or a sympy expression, got {value!r}")
    return expr


def _symbolic_eigenvalues(eigs) -> list:
    """The eigenvalues of a diagonal ``Λ`` for the symbolic mode: a nonempty 1-D sequence, ``>= 0``."""
    if eigs is None or isinstance(eigs, (str, bytes)) or not hasattr(eigs, "__iter__"):
        raise ValueError(f"eigs must be a 1-D sequence of eigenvalues, got {eigs!r}")
    if isinstance(eigs, np.ndarray) and eigs.ndim != 1:
        raise ValueError(f"eigs must be a 1-D sequence of eigenvalues, got shape {eigs.shape}")
    out = [_symbolic_scalar(e, "eigs") for e in eigs]
    if not out:
        raise ValueError("eigs must hold at least one eigenvalue")
    for e in out:
        if e.is_number and not (e.is_real and e.is_finite):
            raise ValueError(f"eigs must be finite real numbers or symbols, got {e}")
        if e.is_nonnegative is False:
            raise ValueError(f"eigs must be >= 0 (Λ is positive semi-definite), got {e}")
    if all(e.is_zero for e in out):
        raise ValueError("eigs must not all be zero: Λ = 0 makes Γ = 0 singular")
    return out


def _symbolic_length(value, name: str):
    """A prompt length for the symbolic mode: an integer ``>= 1`` or a (positive) symbolic expression."""
    expr = _symbolic_scalar(value, name)
    if expr.is_number and not (expr.is_integer and expr >= 1):
        raise ValueError(f"{name} must be an integer >= 1 or a symbol, got {expr}")
    if expr.is_positive is False:
        raise ValueError(f"{name} must be positive, got {expr}")
    return expr


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

    eigs = _symbolic_eigenvalues(eigs)
    n = _symbolic_length(n, "n")
    k = positive_int(k, "k", minimum=0)
    if k > 3:
        raise ValueError(f"k must be <= 3 for the symbolic mode (got {k}); use cot_error_poly for numbers")
    d = len(eigs)
    m = sympy.Symbol("m", positive=True)
    if k == 0:
        return sympy.Integer(d)
    gam = gamma_eigenvalues(eigs, n)
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
