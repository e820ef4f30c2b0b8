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
``tr(S g_1 S g_2 … S g_q)``; the *gaps* ``g_i`` are exact integer matrices, interned, so equal
matrices are one letter.  Words are canonical up to rotation and up to reversal with every gap
transposed; traces without ``S`` are numbers.  The whole linear combination is reduced level by
level (``p`` factors ``S`` → ``p - 1``), merging equal states.  The ``S`` removed first is the one
that follows the most complex gap: complexity concentrates in few gaps, and the states of the
expansion share the simple rest (an order-of-magnitude fewer states than a fixed order).

Exactness: floats are dyadic rationals and are converted exactly; with ``P = P_int/α`` and
``Σ = Σ_int/σ`` (integer matrices) a word with ``p`` factors ``S`` is homogeneous of degree ``p``
in ``P`` and in ``Σ``, so the engine runs on integers only and divides once by ``(ασ)^{2k}``.
The polynomial in ``1/m`` is carried as one integer (Kronecker substitution ``1/m ↦ 2^W``, with
``W`` above an a-priori bound on the coefficients).  The float results are rounded once, at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from math import comb, isqrt, lcm
from operator import mul

import numpy as np

from theory._validate import _as_2d, _to_fraction, as_exact_covariance, positive_int, same_dimension
from theory.covariance import gamma_exact


class DivergenceError(OverflowError):
    """The exact error is finite but beyond the float range: use :func:`cot_log_error`."""


@dataclass(frozen=True)
class ErrorPoly:
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


def _inverse(M: list[list[Fraction]], name: str) -> list[list[Fraction]]:
    """Gauss–Jordan inverse over the rationals; ``ValueError`` if singular."""
    d = len(M)
    aug = [list(row) + [Fraction(int(i == j)) for j in range(d)] for i, row in enumerate(M)]
    for col in range(d):
        pivot = next((r for r in range(col, d) if aug[r][col] != 0), None)
        if pivot is None:
            raise ValueError(f"{name} is singular")
        aug[col], aug[pivot] = aug[pivot], aug[col]
        inv = 1 / aug[col][col]
        aug[col] = [v * inv for v in aug[col]]
        for r in range(d):
            if r != col and aug[r][col] != 0:
                f = aug[r][col]
                aug[r] = [a - f * b for a, b in zip(aug[r], aug[col])]
    return [row[d:] for row in aug]


def _limit_error(P, sigma, k: int) -> Fraction:
    r""":math:`\|(I - P\Sigma)^k\|_F^2` exactly (the ``m → ∞`` error)."""
    d = len(P)
    step = [[int(i == j) - v for j, v in enumerate(row)] for i, row in enumerate(_matmul(P, sigma))]
    B = [[Fraction(int(i == j)) for j in range(d)] for i in range(d)]
    for _ in range(k):
        B = _matmul(B, step)
    return sum((v * v for row in B for v in row), Fraction(0))


# --------------------------------------------------------------------------------------------
# The Stein engine


class _Gaps:
    """Interned integer matrices: the gaps between consecutive ``S`` of a word.

    A gap is a flat tuple (``d*d`` entries, row-major; or ``d`` entries when everything is
    diagonal).  ``transpose[g]`` and ``degree[g]`` (the number of letters P, Pᵀ, Σ it is made of)
    are kept per id; ``g Σ h`` and ``tr(Σ g)`` are memoised.
    """

    def __init__(self, sigma_int, d: int, diagonal: bool):
        self.d = d
        self.diagonal = diagonal
        self.sigma = sigma_int
        self.mats: list[tuple] = []
        self.ids: dict[tuple, int] = {}
        self.transpose: list[int] = []
        self.degree: list[int] = []
        self._gsig: dict[int, tuple] = {}
        self._prod: dict[tuple[int, int], int] = {}
        self._tr: dict[int, int] = {}
        if diagonal:
            self.identity = self.intern(tuple([1] * d), 0)
        else:
            self.identity = self.intern(tuple(int(i == j) for i in range(d) for j in range(d)), 0)

    def intern(self, M: tuple, degree: int) -> int:
        g = self.ids.get(M)
        if g is not None:
            return g
        g = len(self.mats)
        self.mats.append(M)
        self.ids[M] = g
        self.transpose.append(g)
        self.degree.append(degree)
        if not self.diagonal:
            d = self.d
            Mt = tuple(M[j * d + i] for i in range(d) for j in range(d))
            if Mt != M:
                h = len(self.mats)
                self.mats.append(Mt)
                self.ids[Mt] = h
                self.transpose.append(g)
                self.degree.append(degree)
                self.transpose[g] = h
        return g

    def _product(self, X: tuple, Y: tuple) -> tuple:
        if self.diagonal:
            return tuple(map(mul, X, Y))
        d = self.d
        cols = [Y[j::d] for j in range(d)]
        return tuple(sum(map(mul, X[i * d:(i + 1) * d], col)) for i in range(d) for col in cols)

    def product(self, g: int, h: int) -> int:
        """``g h`` (no Σ between): used to build the words of the expansion."""
        return self.intern(self._product(self.mats[g], self.mats[h]), self.degree[g] + self.degree[h])

    def sigma_product(self, g: int, h: int) -> int:
        """``g Σ h``."""
        key = (g, h)
        r = self._prod.get(key)
        if r is None:
            gs = self._gsig.get(g)
            if gs is None:
                gs = self._gsig[g] = self._product(self.mats[g], self.sigma)
            r = self.intern(self._product(gs, self.mats[h]), self.degree[g] + self.degree[h] + 1)
            self._prod[key] = r
        return r

    def trace_sigma(self, g: int) -> int:
        """``tr(Σ g)``; Σ is symmetric, so this is the Frobenius product of Σ and g."""
        r = self._tr.get(g)
        if r is None:
            r = self._tr[g] = sum(map(mul, self.sigma, self.mats[g]))
        return r


def _canonical(word: tuple, transpose: list[int]) -> tuple:
    """Least rotation of the word or of its reversal with every gap transposed."""
    best = word
    q = len(word)
    for i in range(1, q):
        c = word[i:] + word[:i]
        if c < best:
            best = c
    rev = tuple([transpose[g] for g in reversed(word)])
    for i in range(q):
        c = rev[i:] + rev[:i]
        if c < best:
            best = c
    return best


def _stein_reduce(gaps: _Gaps, levels: dict[int, dict[tuple, int]], shift) -> tuple[int, int]:
    """Reduce a linear combination of states to a number; returns (value, number of states).

    ``levels[p]`` maps states with ``p`` factors ``S`` to coefficients (packed polynomials in
    ``1/m``); ``shift`` multiplies a coefficient by ``1/m``.
    """
    T = gaps.transpose
    deg = gaps.degree
    sigma_product = gaps.sigma_product
    trace_sigma = gaps.trace_sigma
    cache: dict[tuple, tuple] = {}

    def canon(word):
        c = cache.get(word)
        if c is None:
            c = cache[word] = _canonical(word, T)
        return c

    n_states = 0
    top = max(levels)
    for p in range(top, 0, -1):
        level = levels.pop(p, None)
        if not level:
            continue
        out = levels.setdefault(p - 1, {})

        def add(words, value):
            key = tuple(sorted(words)) if len(words) > 1 else tuple(words)
            old = out.get(key)
            out[key] = value if old is None else old + value

        for state, coef in level.items():
            if not coef:
                continue
            n_states += 1
            # The S removed is the one after the most complex gap (ties: then before the most
            # complex one; then the first in canonical order).
            best = None
            for wi, w in enumerate(state):
                q = len(w)
                for r in range(q):
                    key = (deg[w[r - 1]], deg[w[r]])
                    if best is None or key > best[0]:
                        best = (key, wi, r)
            _, wi, r = best
            w = state[wi]
            w = w[r:] + w[:r]  # tr(S g_1 S g_2 … S g_q), the first S is removed
            q = len(w)
            others = list(state[:wi] + state[wi + 1:])
            low = shift(coef)
            # replace: tr(Σ g_1 S g_2 … S g_q)
            if q == 1:
                add(others, coef * trace_sigma(w[0]))
            else:
                add(others + [canon(w[1:q - 1] + (sigma_product(w[q - 1], w[0]),))], coef)
            # twist and split, for each other S of the word: M = L S R, L = g_1 S … S g_t
            if q > 1:
                tail_t = T[w[q - 1]]
                for t in range(1, q):
                    twisted = (w[:t - 1] + (sigma_product(w[t - 1], tail_t),)
                               + tuple([T[g] for g in reversed(w[t:q - 1])]))
                    add(others + [canon(twisted)], low)
                    left = canon(w[:t])
                    if t == q - 1:
                        add(others + [left], low * trace_sigma(w[q - 1]))
                    else:
                        right = canon(w[t + 1:q - 1] + (sigma_product(w[q - 1], w[t]),))
                        add(others + [left, right], low)
            # merge with every S of every other word
            seen = set()
            for oi, w2 in enumerate(others):
                if w2 in seen:
                    continue
                seen.add(w2)
                mult = others.count(w2)
                rest = others[:oi] + others[oi + 1:]
                val = low * mult if mult > 1 else low
                head = w[:q - 1]
                last = w[q - 1]
                q2 = len(w2)
                for r2 in range(q2):
                    h = w2[r2:] + w2[:r2]
                    add(rest + [canon(head + (sigma_product(last, h[0]),) + h[1:])], val)
                    add(rest + [canon(head + (sigma_product(last, T[h[q2 - 1]]),)
                                      + tuple([T[g] for g in reversed(h[:q2 - 1])]))], val)
    final = levels.get(0, {}).get((), 0)
    return final, n_states


def _integer_scaled(M: list[list[Fraction]]) -> tuple[list[list[int]], int]:
    den = lcm(*(v.denominator for row in M for v in row))
    return [[int(v * den) for v in row] for row in M], den


def _frobenius_ceiling(M: list[list[int]]) -> int:
    return isqrt(sum(v * v for row in M for v in row)) + 1


def _is_diagonal(M) -> bool:
    return all(M[i][j] == 0 for i in range(len(M)) for j in range(len(M)) if i != j)


def _initial_levels(gaps, g_P, g_Pt, g_PtP, k: int, d: int, scale, wrap) -> dict[int, dict]:
    """The words of the binomial expansion, ``C(k,i) C(k,j) (-1)^(i+j) tr[(S Pᵀ)^i (P S)^j]``.

    The word with ``p = i + j`` factors ``S`` is weighted by ``scale^(2k - p)`` (see
    :func:`_engine_poly`); ``wrap`` turns an integer into the coefficient type of the engine.
    """
    levels: dict[int, dict] = {}
    for i in range(k + 1):
        for j in range(k + 1):
            p = i + j
            coef = comb(k, i) * comb(k, j) * (-1) ** p * scale ** (2 * k - p)
            if p == 0:
                state, coef = (), coef * d
            else:
                # tr[(S Pᵀ)^i (P S)^j] = tr(S g_1 … S g_p) with gaps Pᵀ…, PᵀP, P…, I
                if i == 0:
                    word = (g_P,) * j
                elif j == 0:
                    word = (g_Pt,) * i
                else:
                    word = (g_Pt,) * (i - 1) + (g_PtP,) + (g_P,) * (j - 1) + (gaps.identity,)
                state = (_canonical(word, gaps.transpose),)
            bucket = levels.setdefault(p, {})
            bucket[state] = bucket.get(state, 0) + coef
    return {p: {s: wrap(c) for s, c in bucket.items()} for p, bucket in levels.items()}


class _FormalGaps:
    """Gaps of the commuting diagonal case ``P = Γ^{-1}``, ``Σ = Λ``: ``Γ^{-a} Λ^b`` keyed by ``(a, b)``.

    Same interface as :class:`_Gaps`; ``tr(Σ g)`` is the formal trace ``t_{a, b+1}``.
    """

    def __init__(self):
        self.mats: list[tuple[int, int]] = []
        self.ids: dict[tuple[int, int], int] = {}
        self.transpose: list[int] = []
        self.degree: list[int] = []
        self.identity = self.intern((0, 0))
        self.p = self.intern((1, 0))

    def intern(self, key: tuple[int, int]) -> int:
        g = self.ids.get(key)
        if g is None:
            g = self.ids[key] = len(self.mats)
            self.mats.append(key)
            self.transpose.append(g)
            self.degree.append(key[0] + key[1])
        return g

    def sigma_product(self, g: int, h: int) -> int:
        (a1, b1), (a2, b2) = self.mats[g], self.mats[h]
        return self.intern((a1 + a2, b1 + b2 + 1))

    def trace_sigma(self, g: int) -> "_Formal":
        a, b = self.mats[g]
        return _Formal({(0, ((a, b + 1),)): 1})


class _Formal:
    """Polynomial in ``1/m`` and formal traces: ``{(r, sorted trace keys): integer coefficient}``."""

    __slots__ = ("terms",)

    def __init__(self, terms: dict):
        self.terms = terms

    def __bool__(self):
        return bool(self.terms)

    def __add__(self, other: "_Formal") -> "_Formal":
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

    def shifted(self) -> "_Formal":
        """Times ``1/m``."""
        return _Formal({(r + 1, mono): c for (r, mono), c in self.terms.items()})


def _engine_poly(P, sigma, k: int) -> tuple[tuple[Fraction, ...], int]:
    """Coefficients ``c_0..c_{2k-1}`` of ``E‖(I - P S)^k w‖²`` and the number of states visited."""
    d = len(P)
    if k == 0:
        return (Fraction(d),), 0
    P_int, alpha = _integer_scaled(P)
    S_int, sig = _integer_scaled(sigma)
    scale = alpha * sig
    diagonal = _is_diagonal(P) and _is_diagonal(sigma)
    if diagonal:
        gaps = _Gaps(tuple(S_int[i][i] for i in range(d)), d, True)
        g_P = gaps.intern(tuple(P_int[i][i] for i in range(d)), 1)
    else:
        gaps = _Gaps(tuple(v for row in S_int for v in row), d, False)
        g_P = gaps.intern(tuple(v for row in P_int for v in row), 1)
    g_Pt = gaps.transpose[g_P]
    g_PtP = gaps.product(g_Pt, g_P)
    # Kronecker width: every coefficient of the scaled result is bounded by the pairing sum
    # Σ_ij C(k,i) C(k,j) (ασ)^(2k-p) (2p-1)!! d^p (‖P_int‖ ‖Σ_int‖)^p, |tr X| <= d ‖X‖.
    norm = _frobenius_ceiling(P_int) * _frobenius_ceiling(S_int)
    bound = 0
    for i in range(k + 1):
        for j in range(k + 1):
            p = i + j
            bound += (comb(k, i) * comb(k, j) * scale ** (2 * k - p) * math.prod(range(1, 2 * p, 2))
                      * d ** max(p, 1) * norm ** p)
    W = bound.bit_length() + 2
    levels = _initial_levels(gaps, g_P, g_Pt, g_PtP, k, d, scale, int)
    packed, n_states = _stein_reduce(gaps, levels, lambda c: c << W)
    coeffs = []
    mask, half = (1 << W) - 1, 1 << (W - 1)
    denominator = scale ** (2 * k)
    for _ in range(2 * k):
        c = packed & mask
        if c >= half:
            c -= 1 << W
        packed = (packed - c) >> W
        coeffs.append(Fraction(c, denominator))
    if packed != 0:
        raise AssertionError("Kronecker decoding overflow: the coefficient bound was violated")
    return tuple(coeffs), n_states


@lru_cache(maxsize=256)
def _cached_poly(P: tuple, sigma: tuple, k: int) -> tuple[tuple[Fraction, ...], int]:
    return _engine_poly([list(r) for r in P], [list(r) for r in sigma], k)


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
    P = _inverse([list(r) for r in G], "Γ")
    return P, [list(r) for r in sigma], k


def _poly(P, sigma, k) -> ErrorPoly:
    coeffs, _ = _cached_poly(tuple(map(tuple, P)), tuple(map(tuple, sigma)), k)
    return ErrorPoly(coeffs, k)


def _value(P, sigma, k, m) -> Fraction:
    if m is None:
        return _limit_error(P, sigma, k)
    m = positive_int(m, "m")
    return _poly(P, sigma, k).evaluate(m)


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
    return _to_float(_value(*_validated_precond(precond, test_cov, k), m), "the logarithm of the exact value")


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
    gaps = _FormalGaps()
    levels = _initial_levels(gaps, gaps.p, gaps.p, gaps.intern((2, 0)), k, d, 1,
                             lambda c: _Formal({(0, ()): c}))
    value, _ = _stein_reduce(gaps, levels, _Formal.shifted)
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
