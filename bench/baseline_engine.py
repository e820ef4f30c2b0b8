# The exact-error engine as it was before theory/_stein.py (commit f395c52, theory/error.py),
# kept verbatim for `python bench/bench_exact.py --baseline`: old and new timed in one run.
# Not part of the library; nothing imports it but the benchmark.

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
from array import array
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from itertools import groupby
from math import comb, isqrt, lcm
from operator import mul

import numpy as np

from theory._exact import exact_inverse
from theory._repr import RichRepr
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


# --------------------------------------------------------------------------------------------
# The Stein engine, part 1: the combinatorial structure (words only, no numbers)


class _GapTable:
    """Gaps as words in base letters ``B_l``, their transposes and Σ, interned.

    Letter codes in a key: Σ is 0, ``B_l`` is ``2l+1`` and ``B_lᵀ`` is ``2l+2`` (``2l+1`` again
    when ``B_l`` is symmetric).  With ``commuting=True`` there is a single symmetric letter ``P``
    that commutes with Σ, and a gap ``P^a Σ^b`` is keyed ``(a, b)``.  Only exact identities are
    used, so two different keys may still be equal matrices (the engine then keeps two states where
    one would do: slower, never wrong).  ``recipe[g]``: ``("I",)``, ``("L", l)``, ``("T", h)``
    (transpose), ``("M", g1, g2)`` (``g1 g2``) or ``("S", g1, g2)`` (``g1 Σ g2``);
    ``letters[g] = (b, a_0, a_1, ...)`` counts its letters Σ and ``B_l`` (either way round).
    """

    def __init__(self, symmetric, commuting: bool = False):
        self.symmetric = tuple(symmetric)
        self.commuting = commuting
        if commuting and self.symmetric != (True,):
            raise AssertionError("the commuting gap table has one symmetric letter")
        self.keys: list[tuple] = []
        self.ids: dict[tuple, int] = {}
        self.transpose: list[int] = []
        self.degree: list[int] = []
        self.letters: list[tuple] = []
        self.recipe: list[tuple] = []
        self._products: dict[tuple[int, int, bool], int] = {}
        self.identity = self._intern((0, 0) if commuting else (), ("I",))
        self.base = [self._intern((1, 0) if commuting else (2 * l + 1,), ("L", l))
                     for l in range(len(self.symmetric))]

    def _transposed_key(self, key: tuple) -> tuple:
        if self.commuting:
            return key
        sym = self.symmetric
        return tuple([c if c == 0 or sym[(c - 1) // 2] else c + 1 if c % 2 else c - 1
                      for c in reversed(key)])

    def _intern(self, key: tuple, recipe: tuple) -> int:
        g = self.ids.get(key)
        if g is not None:
            return g
        g = self._append(key, recipe)
        tkey = self._transposed_key(key)
        if tkey != key:  # a new key has a new transpose
            h = self._append(tkey, ("T", g))
            self.transpose[g], self.transpose[h] = h, g
        return g

    def _append(self, key: tuple, recipe: tuple) -> int:
        g = len(self.keys)
        self.keys.append(key)
        self.ids[key] = g
        self.transpose.append(g)
        if self.commuting:
            letters = (key[1], key[0])
        else:
            counts = [0] * (len(self.symmetric) + 1)
            for c in key:
                counts[(c + 1) // 2] += 1
            letters = tuple(counts)
        self.letters.append(letters)
        self.degree.append(sum(letters))
        self.recipe.append(recipe)
        return g

    def product(self, g: int, h: int, sigma: bool = True) -> int:
        """The gap ``g Σ h`` (``g h`` with ``sigma=False``)."""
        r = self._products.get((g, h, sigma))
        if r is None:
            kg, kh = self.keys[g], self.keys[h]
            if self.commuting:
                key = (kg[0] + kh[0], kg[1] + kh[1] + sigma)
            else:
                key = kg + (0,) + kh if sigma else kg + kh
            r = self._products[(g, h, sigma)] = self._intern(key, ("S" if sigma else "M", g, h))
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


@dataclass
class _Structure:
    """The Stein reduction of a linear combination of states, without numbers.

    ``initial[p]``: ``(state index, tag)`` of the initial states with ``p`` factors ``S``.
    ``transfers[p] = (repl_dst, repl_g, lowt_dst, lowt_g, low_ptr, low_dst)``: how state ``src``
    of level ``p`` feeds level ``p - 1``: its replace term goes to ``repl_dst[src]``, times
    ``tr(Σ g)`` when ``g = repl_g[src] >= 0``; its ``1/m`` terms go to
    ``low_dst[low_ptr[src]:low_ptr[src + 1]]``, and to ``lowt_dst[src]`` (when ``>= 0``) times
    ``tr(Σ lowt_g[src])``.  ``sizes[p]``: the number of states at level ``p``.
    """

    gaps: _GapTable
    top: int
    initial: dict
    transfers: dict
    sizes: dict

    @property
    def n_states(self) -> int:
        return sum(self.sizes.values())


def _reduce(gaps: _GapTable, initial_states) -> _Structure:
    """Stein-reduce the states ``initial_states`` (pairs ``(list of words, tag)``) to numbers.

    A word is a tuple of gap ids, ``(g_1, …, g_q)`` for ``tr(S g_1 S g_2 … S g_q)``.
    """
    T = gaps.transpose
    deg = gaps.degree
    cache: dict[tuple, tuple] = {}

    def canon(word):
        c = cache.get(word)
        if c is None:
            c = cache[word] = _canonical(word, T)
        return c

    top = max((sum(map(len, words)) for words, _ in initial_states), default=0)
    levels: dict[int, dict[tuple, int]] = {p: {} for p in range(top + 1)}
    initial: dict[int, list] = {}
    for words, tag in initial_states:
        state = tuple(sorted(canon(w) for w in words))
        p = sum(map(len, words))
        index = levels[p].setdefault(state, len(levels[p]))
        initial.setdefault(p, []).append((index, tag))
    products = gaps._products
    transfers = {}
    for p in range(top, 0, -1):
        out = levels[p - 1]
        n_src = len(levels[p])
        repl_dst, repl_g = array("l", [-1]) * n_src, array("l", [-1]) * n_src
        lowt_dst, lowt_g = array("l", [-1]) * n_src, array("l", [-1]) * n_src
        low_ptr, low_dst = array("l", [0]), array("l")
        low_append = low_dst.extend

        def sigma_product(g, h):
            r = products.get((g, h, True))
            return gaps.product(g, h) if r is None else r

        def index(others, *words):
            key = tuple(sorted(others + list(words))) if others or len(words) > 1 else words
            i = out.get(key)
            if i is None:
                i = out[key] = len(out)
            return i

        for src, state in enumerate(levels[p]):
            # The S removed is the one after the most complex gap (ties: then before the most
            # complex one; then the first in canonical order).
            best = None
            for wi, w in enumerate(state):
                for r in range(len(w)):
                    key = (deg[w[r - 1]], deg[w[r]])
                    if best is None or key > best[0]:
                        best = (key, wi, r)
            _, wi, r = best
            w = state[wi]
            w = w[r:] + w[:r]  # tr(S g_1 S g_2 … S g_q), the first S is removed
            q = len(w)
            others = list(state[:wi] + state[wi + 1:])
            lows = []
            # replace: tr(Σ g_1 S g_2 … S g_q)
            if q == 1:
                repl_dst[src] = index(others)
                repl_g[src] = w[0]
            else:
                repl_dst[src] = index(others, canon(w[1:q - 1] + (sigma_product(w[q - 1], w[0]),)))
                # twist and split, for each other S of the word: M = L S R, L = g_1 S … S g_t
                tail_t = T[w[q - 1]]
                for t in range(1, q):
                    twisted = (w[:t - 1] + (sigma_product(w[t - 1], tail_t),)
                               + tuple([T[g] for g in reversed(w[t:q - 1])]))
                    lows.append(index(others, canon(twisted)))
                    left = canon(w[:t])
                    if t == q - 1:
                        lowt_dst[src] = index(others, left)
                        lowt_g[src] = w[q - 1]
                    else:
                        lows.append(index(others, left, canon(w[t + 1:q - 1] + (sigma_product(w[q - 1], w[t]),))))
            # merge with every S of every other word (a repeated word merges once per copy)
            head, last = w[:q - 1], w[q - 1]
            for oi, w2 in enumerate(others):
                rest = others[:oi] + others[oi + 1:]
                q2 = len(w2)
                for r2 in range(q2):
                    h = w2[r2:] + w2[:r2]
                    lows.append(index(rest, canon(head + (sigma_product(last, h[0]),) + h[1:])))
                    lows.append(index(rest, canon(head + (sigma_product(last, T[h[q2 - 1]]),)
                                                  + tuple([T[g] for g in reversed(h[:q2 - 1])]))))
            low_append(lows)
            low_ptr.append(len(low_dst))
        transfers[p] = (repl_dst, repl_g, lowt_dst, lowt_g, low_ptr, low_dst)
    sizes = {p: len(level) for p, level in levels.items()}
    return _Structure(gaps, top, initial, transfers, sizes)


@lru_cache(maxsize=16)
def _binomial_structure(k: int, mode: str) -> _Structure:
    """The structure of ``Σ_ij C(k,i) C(k,j) (-1)^(i+j) tr[(S Pᵀ)^i (P S)^j]``, tagged ``(i, j)``.

    ``mode``: ``"general"`` (any P), ``"symmetric"`` (``Pᵀ = P``) or ``"commuting"`` (also ``PΣ = ΣP``).
    """
    gaps = _GapTable([mode != "general"], commuting=mode == "commuting")
    P = gaps.base[0]
    Pt = gaps.transpose[P]
    PtP = gaps.product(Pt, P, sigma=False)
    initial = []
    for i in range(k + 1):
        for j in range(k + 1):
            # tr[(S Pᵀ)^i (P S)^j] = tr(S g_1 … S g_p) with gaps Pᵀ…, PᵀP, P…, I
            if i + j == 0:
                words = []
            elif i == 0:
                words = [(P,) * j]
            elif j == 0:
                words = [(Pt,) * i]
            else:
                words = [(Pt,) * (i - 1) + (PtP,) + (P,) * (j - 1) + (gaps.identity,)]
            initial.append((words, (i, j)))
    return _reduce(gaps, initial)


# --------------------------------------------------------------------------------------------
# The Stein engine, part 2: numbers


def _integer_scaled(M: list[list[Fraction]]) -> tuple[list[list[int]], int]:
    """``M = N / den`` with ``N`` an integer matrix and ``den`` the least common denominator."""
    den = lcm(*(v.denominator for row in M for v in row))
    return [[int(v * den) for v in row] for row in M], den


def _frobenius_ceiling(M: list[list[int]]) -> int:
    return isqrt(sum(v * v for row in M for v in row)) + 1


def _is_diagonal(M) -> bool:
    return all(M[i][j] == 0 for i in range(len(M)) for j in range(len(M)) if i != j)


@lru_cache(maxsize=4)
def _primes_below(bits: int, count: int) -> tuple[int, ...]:
    """The ``count`` largest primes below ``2^bits``."""
    import sympy

    out, p = [], 1 << bits
    while len(out) < count:
        p = sympy.prevprime(p)
        out.append(p)
    return tuple(out)


def _exact_traces(gaps: _GapTable, needed, bases, S_int) -> dict[int, int]:
    """Exact ``tr(Σ g)`` for the gaps ``needed``, with integer base letters ``bases`` and Σ ``S_int``.

    Diagonal input: exact products of diagonals.  Otherwise the gap matrices are built modulo
    primes ``p`` with ``d (p-1)^2 < 2^63`` (int64 products cannot overflow), all gaps of one
    degree in one vectorised step, and each trace is recovered by the Chinese remainder theorem
    from enough primes to exceed twice the bound ``|tr(Σ g)| <= d ‖Σ‖^(b+1) Π_l ‖B_l‖^(a_l)``
    (Frobenius norms; ``g`` has ``b`` letters Σ and ``a_l`` letters ``B_l``).
    """
    needed = sorted(set(needed))
    if not needed:
        return {}
    d = len(S_int)
    recipe = gaps.recipe
    if all(map(_is_diagonal, bases)) and _is_diagonal(S_int):
        diag_bases = [[B[i][i] for i in range(d)] for B in bases]
        sd = [S_int[i][i] for i in range(d)]
        vec: dict[int, list[int]] = {}

        def diag(g):
            v = vec.get(g)
            if v is None:
                r = recipe[g]
                if r[0] == "I":
                    v = [1] * d
                elif r[0] == "L":
                    v = diag_bases[r[1]]
                elif r[0] == "T":
                    v = diag(r[1])
                elif r[0] == "M":
                    v = list(map(mul, diag(r[1]), diag(r[2])))
                else:
                    v = [a * s * b for a, s, b in zip(diag(r[1]), sd, diag(r[2]))]
                vec[g] = v
            return v

        return {g: sum(map(mul, sd, diag(g))) for g in needed}
    norms = [_frobenius_ceiling(S_int)] + [_frobenius_ceiling(B) for B in bases]
    pbits = (63 - d.bit_length()) // 2  # d (p-1)^2 < 2^(d.bit_length() + 2 pbits) <= 2^63
    need = {}
    for g in needed:
        counts = gaps.letters[g]
        bound = d * norms[0] * math.prod(nv ** c for nv, c in zip(norms, counts))
        need[g] = -(-(bound.bit_length() + 2) // (pbits - 1))  # each prime carries > pbits - 1 bits
    primes = _primes_below(pbits, max(need.values()))
    # A traced gap g = g1 Σ g2 needs no matrix of its own: tr(Σ g) = tr((g1 Σ)(g2 Σ)).  Every other
    # matrix is needed modulo as many primes as the largest trace built from it (req); gaps are
    # built by degree (a recipe only uses lower degrees; a transpose comes after its source).
    req: dict[int, int] = {}
    sigma_side: dict[int, int] = {}  # gaps whose product g Σ is needed, and modulo how many primes

    def require(table, g, n):
        if table.get(g, 0) < n:
            table[g] = n

    for g in needed:
        if recipe[g][0] == "S":
            require(sigma_side, recipe[g][1], need[g])
            require(sigma_side, recipe[g][2], need[g])
        else:
            require(req, g, need[g])
    for g in sigma_side:
        require(req, g, sigma_side[g])
    closure, stack = set(), list(needed)
    while stack:
        g = stack.pop()
        if g not in closure:
            closure.add(g)
            if recipe[g][0] != "L":
                stack.extend(recipe[g][1:])

    def key(g):
        return (gaps.degree[g], recipe[g][0] == "T")

    for g in sorted(closure, key=key, reverse=True):  # every gap before its inputs
        n, r = req.get(g, 0), recipe[g]
        if n == 0 or r[0] in ("I", "L"):
            continue
        if r[0] == "S":
            require(sigma_side, r[1], n)
        for x in r[1:]:
            require(req, x, n)
    residues = np.zeros((len(needed), len(primes)), dtype=np.int64)
    chunk = max(1, min(len(primes), (1 << 25) // (16 * d * d * len(req))))  # ~32 MB of matrices
    for start in range(0, len(primes), chunk):
        ps = primes[start:start + chunk]
        pv = np.array(ps, dtype=np.int64)[:, None, None]
        B_res = np.array([[[[v % p for v in r] for r in B] for p in ps] for B in bases], dtype=np.int64)
        S_res = np.array([[[v % p for v in r] for r in S_int] for p in ps], dtype=np.int64)
        active = sorted((g for g, n in req.items() if n > start), key=key)
        row = {g: i for i, g in enumerate(active)}
        with_sigma = [g for g in active if sigma_side.get(g, 0) > start]
        srow = {g: i for i, g in enumerate(with_sigma)}
        mats = np.empty((len(active), len(ps), d, d), dtype=np.int64)
        gs = np.empty((len(with_sigma), len(ps), d, d), dtype=np.int64)
        for _, group in groupby(active, key=key):
            group = list(group)
            by_kind: dict[str, list[int]] = {}
            for g in group:
                by_kind.setdefault(recipe[g][0], []).append(g)
            for kind, gl in by_kind.items():
                out = np.array([row[g] for g in gl], dtype=np.intp)
                if kind == "I":
                    mats[out] = np.eye(d, dtype=np.int64)
                elif kind == "L":
                    mats[out] = B_res[[recipe[g][1] for g in gl]]
                elif kind == "T":
                    mats[out] = np.swapaxes(mats[[row[recipe[g][1]] for g in gl]], 2, 3)
                elif kind == "M":
                    mats[out] = np.matmul(mats[[row[recipe[g][1]] for g in gl]],
                                          mats[[row[recipe[g][2]] for g in gl]]) % pv
                else:
                    mats[out] = np.matmul(gs[[srow[recipe[g][1]] for g in gl]],
                                          mats[[row[recipe[g][2]] for g in gl]]) % pv
            sig_here = [g for g in group if g in srow]
            if sig_here:
                gs[[srow[g] for g in sig_here]] = np.matmul(mats[[row[g] for g in sig_here]], S_res) % pv
        # tr(Σ g) = Σ_il Σ_il g_li, or Σ_il (g1Σ)_il (g2Σ)_li for g = g1 Σ g2; each product is
        # reduced first so that the sum stays in int64
        todo = [i for i, g in enumerate(needed) if need[g] > start]
        direct = [i for i in todo if recipe[needed[i]][0] != "S"]
        split = [i for i in todo if recipe[needed[i]][0] == "S"]
        if direct:
            X = S_res * np.swapaxes(mats[[row[needed[i]] for i in direct]], 2, 3)
            residues[direct, start:start + len(ps)] = (X % pv).sum(axis=(2, 3)) % pv[:, 0, 0]
        if split:
            X = (gs[[srow[recipe[needed[i]][1]] for i in split]]
                 * np.swapaxes(gs[[srow[recipe[needed[i]][2]] for i in split]], 2, 3))
            residues[split, start:start + len(ps)] = (X % pv).sum(axis=(2, 3)) % pv[:, 0, 0]
    bases_crt: dict[int, tuple[int, list[int]]] = {}
    out = {}
    for i, g in enumerate(needed):
        n = need[g]
        if n not in bases_crt:
            M = math.prod(primes[:n])
            bases_crt[n] = (M, [(M // p) * pow(M // p, -1, p) for p in primes[:n]])
        M, basis = bases_crt[n]
        x = sum(map(mul, residues[i, :n].tolist(), basis)) % M
        out[g] = x - M if 2 * x > M else x
    return out


def _needed_traces(st: _Structure) -> set[int]:
    needed = set()
    for repl_dst, repl_g, lowt_dst, lowt_g, _, _ in st.transfers.values():
        needed.update(repl_g)
        needed.update(lowt_g)
    needed.discard(-1)
    return needed


def _run_numbers(st: _Structure, traces, initial_value, combine):
    """Push the coefficients through the levels of ``st``; returns the value at level 0.

    ``initial_value(tag)`` is the coefficient of an initial state; ``combine(same, low)`` joins the
    replace terms and the ``1/m`` terms arriving at one state.
    """
    X = [0] * st.sizes[st.top]
    for p in range(st.top, 0, -1):
        for index, tag in st.initial.get(p, ()):
            X[index] = X[index] + initial_value(tag)
        n_out = st.sizes[p - 1]
        same, low = [0] * n_out, [0] * n_out
        repl_dst, repl_g, lowt_dst, lowt_g, low_ptr, low_dst = st.transfers[p]
        for src, x in enumerate(X):
            if not x:
                continue
            g = repl_g[src]
            same[repl_dst[src]] += x if g < 0 else x * traces[g]
            dst = lowt_dst[src]
            if dst >= 0:
                low[dst] += x * traces[lowt_g[src]]
            for dst in low_dst[low_ptr[src]:low_ptr[src + 1]]:
                low[dst] += x
        X = [combine(a, b) for a, b in zip(same, low)]
    value = X[0] if X else 0
    for index, tag in st.initial.get(0, ()):
        value = value + initial_value(tag)
    return value


def _kronecker_decode(packed: int, W: int, n: int, denominator: int) -> tuple[Fraction, ...]:
    """Split ``Σ_r N_r 2^(rW)`` (signed ``|N_r| < 2^(W-1)``) into ``N_r / denominator``, r < n."""
    coeffs = []
    mask, half = (1 << W) - 1, 1 << (W - 1)
    for _ in range(n):
        c = packed & mask
        if c >= half:
            c -= 1 << W
        packed = (packed - c) >> W
        coeffs.append(Fraction(c, denominator))
    if packed != 0:
        raise AssertionError("Kronecker decoding overflow: the coefficient bound was violated")
    return tuple(coeffs)


def _structure_mode(P, sigma) -> str:
    if [list(r) for r in zip(*P)] != P:
        return "general"
    return "commuting" if _matmul(P, sigma) == _matmul(sigma, P) else "symmetric"


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
    st = _binomial_structure(k, _structure_mode(P, sigma))
    P_int, alpha = _integer_scaled(P)
    S_int, sig = _integer_scaled(sigma)
    scale = alpha * sig
    traces = _exact_traces(st.gaps, _needed_traces(st), [P_int], S_int)
    powers = [scale ** e for e in range(2 * k + 1)]

    def start(tag, extra=1):
        i, j = tag
        c = comb(k, i) * comb(k, j) * (-1) ** (i + j) * powers[2 * k - i - j] * extra
        return c * d if i + j == 0 else c

    if m is not None:
        mpow = [m ** e for e in range(2 * k + 1)]
        value = _run_numbers(st, traces, lambda tag: start(tag, mpow[2 * k - tag[0] - tag[1]]),
                             lambda a, b: a * m + b)
        return Fraction(value, powers[2 * k] * mpow[2 * k])
    norm = _frobenius_ceiling(P_int) * _frobenius_ceiling(S_int)
    bound = sum(comb(k, i) * comb(k, j) * powers[2 * k - i - j] * math.prod(range(1, 2 * (i + j), 2))
                * d ** max(i + j, 1) * norm ** (i + j) for i in range(k + 1) for j in range(k + 1))
    W = bound.bit_length() + 2
    packed = _run_numbers(st, traces, start, lambda a, b: a + (b << W))
    return _kronecker_decode(packed, W, 2 * k, powers[2 * k])


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
    gaps = _GapTable([[list(r) for r in zip(*M)] == M for M in letters])
    ints = [_integer_scaled(M) for M in letters]
    S_int, sig = _integer_scaled(sigma)
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
    st = _reduce(gaps, [(words, None)])
    values = _exact_traces(gaps, _needed_traces(st), [B for B, _ in ints], S_int)
    norm = _frobenius_ceiling(S_int) ** p
    for items in parsed:
        for l in items:
            if l != "S":
                norm *= _frobenius_ceiling(ints[l][0])
    W = (math.prod(range(1, 2 * p, 2)) * d ** p * norm).bit_length() + 2
    packed = _run_numbers(st, values, lambda tag: 1, lambda a, b: a + (b << W))
    return tuple(constant * c for c in _kronecker_decode(packed, W, p, scale))


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
    st = _binomial_structure(k, "commuting")
    formal = {g: _Formal({(0, ((a, b + 1),)): 1}) for g, (a, b) in enumerate(st.gaps.keys)}

    def initial_value(tag):
        i, j = tag
        c = comb(k, i) * comb(k, j) * (-1) ** (i + j)
        return _Formal({(0, ()): c * d if i + j == 0 else c})

    value = _run_numbers(st, formal, initial_value, lambda a, b: (b.shifted() if b else 0) + a)
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
