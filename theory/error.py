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
from array import array
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from itertools import groupby
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
# The Stein engine, part 1: the combinatorial structure (words only, no numbers)

_SIGMA, _P, _PT = 0, 1, 2  # the letters of a gap word
_SWAP = (0, 2, 1)  # transposition of a letter


class _GapTable:
    """Gaps as words in the letters P, Pᵀ and Σ, interned; identities used are exact ones only.

    ``mode`` says which identities hold: ``"general"`` none; ``"symmetric"``: ``Pᵀ = P``;
    ``"commuting"``: ``Pᵀ = P`` and ``PΣ = ΣP``, so that a gap is ``P^a Σ^b``, keyed ``(a, b)``.
    Two different keys may still be equal matrices (the engine then keeps two states where one
    would do: slower, never wrong).  ``recipe[g]`` says how to build the matrix of gap ``g``:
    ``("I",)``, ``("P",)``, ``("T", h)`` (transpose), ``("M", g1, g2)`` (``g1 g2``) or
    ``("S", g1, g2)`` (``g1 Σ g2``); ``letters[g] = (a, b)`` counts its letters P/Pᵀ and Σ.
    """

    def __init__(self, mode: str):
        self.mode = mode
        self.keys: list[tuple] = []
        self.ids: dict[tuple, int] = {}
        self.transpose: list[int] = []
        self.degree: list[int] = []
        self.letters: list[tuple[int, int]] = []
        self.recipe: list[tuple] = []
        self._sigma_products: dict[tuple[int, int], int] = {}
        if mode == "commuting":
            self.identity = self._intern((0, 0), ("I",))
            self.p = self._intern((1, 0), ("P",))
        else:
            self.identity = self._intern((), ("I",))
            self.p = self._intern((_P,), ("P",))
        self.pt = self.transpose[self.p]
        self.ptp = self._intern(self._concat(self.pt, self.p, False), ("M", self.pt, self.p))

    def _transposed_key(self, key: tuple) -> tuple:
        if self.mode == "commuting":
            return key
        if self.mode == "symmetric":
            return key[::-1]
        return tuple([_SWAP[x] for x in reversed(key)])

    def _concat(self, g: int, h: int, sigma: bool) -> tuple:
        kg, kh = self.keys[g], self.keys[h]
        if self.mode == "commuting":
            return (kg[0] + kh[0], kg[1] + kh[1] + sigma)
        return kg + (_SIGMA,) + kh if sigma else kg + kh

    def _intern(self, key: tuple, recipe: tuple) -> int:
        g = self.ids.get(key)
        if g is not None:
            return g
        g = self._append(key, recipe)
        tkey = self._transposed_key(key)
        if tkey != key:  # new key, so its transpose is new too
            h = self._append(tkey, ("T", g))
            self.transpose[g], self.transpose[h] = h, g
        return g

    def _append(self, key: tuple, recipe: tuple) -> int:
        g = len(self.keys)
        self.keys.append(key)
        self.ids[key] = g
        self.transpose.append(g)
        if self.mode == "commuting":
            letters = key
        else:
            b = key.count(_SIGMA)
            letters = (len(key) - b, b)
        self.letters.append(letters)
        self.degree.append(letters[0] + letters[1])
        self.recipe.append(recipe)
        return g

    def sigma_product(self, g: int, h: int) -> int:
        """The gap ``g Σ h``."""
        r = self._sigma_products.get((g, h))
        if r is None:
            r = self._sigma_products[(g, h)] = self._intern(self._concat(g, h, True), ("S", g, h))
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
    """The Stein reduction of ``Σ_ij C(k,i) C(k,j) (-1)^(i+j) tr[(S Pᵀ)^i (P S)^j]``, without numbers.

    ``initial[p]``: ``(state index, i, j)`` of the words with ``p`` factors ``S``.
    ``transfers[p]``: how the states of level ``p`` feed level ``p - 1``, in four groups
    ``(dst, src)`` of the replace terms, of the ``1/m`` terms, and the same two with a constant
    trace ``tr(Σ g)`` as factor, ``(dst, src, g)``.  ``sizes[p]``: number of states at level ``p``.
    """

    k: int
    gaps: _GapTable
    initial: dict
    transfers: dict
    sizes: dict

    @property
    def n_states(self) -> int:
        return sum(self.sizes.values())


@lru_cache(maxsize=8)
def _structure(k: int, mode: str) -> _Structure:
    gaps = _GapTable(mode)
    T = gaps.transpose
    deg = gaps.degree
    sigma_product = gaps.sigma_product
    cache: dict[tuple, tuple] = {}

    def canon(word):
        c = cache.get(word)
        if c is None:
            c = cache[word] = _canonical(word, T)
        return c

    levels: dict[int, dict[tuple, int]] = {p: {} for p in range(2 * k + 1)}
    initial: dict[int, list] = {}
    for i in range(k + 1):
        for j in range(k + 1):
            p = i + j
            # tr[(S Pᵀ)^i (P S)^j] = tr(S g_1 … S g_p) with gaps Pᵀ…, PᵀP, P…, I
            if p == 0:
                state = ()
            elif i == 0:
                state = (canon((gaps.p,) * j),)
            elif j == 0:
                state = (canon((gaps.pt,) * i),)
            else:
                state = (canon((gaps.pt,) * (i - 1) + (gaps.ptp,) + (gaps.p,) * (j - 1) + (gaps.identity,)),)
            index = levels[p].setdefault(state, len(levels[p]))
            initial.setdefault(p, []).append((index, i, j))
    transfers = {}
    for p in range(2 * k, 0, -1):
        out = levels[p - 1]
        same_d, same_s = array("l"), array("l")
        low_d, low_s = array("l"), array("l")
        samet_d, samet_s, samet_g = array("l"), array("l"), array("l")
        lowt_d, lowt_s, lowt_g = array("l"), array("l"), array("l")

        def index(words):
            key = tuple(sorted(words)) if len(words) > 1 else tuple(words)
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
            # replace: tr(Σ g_1 S g_2 … S g_q)
            if q == 1:
                samet_d.append(index(others))
                samet_s.append(src)
                samet_g.append(w[0])
            else:
                same_d.append(index(others + [canon(w[1:q - 1] + (sigma_product(w[q - 1], w[0]),))]))
                same_s.append(src)
            # twist and split, for each other S of the word: M = L S R, L = g_1 S … S g_t
            if q > 1:
                tail_t = T[w[q - 1]]
                for t in range(1, q):
                    twisted = (w[:t - 1] + (sigma_product(w[t - 1], tail_t),)
                               + tuple([T[g] for g in reversed(w[t:q - 1])]))
                    low_d.append(index(others + [canon(twisted)]))
                    low_s.append(src)
                    left = canon(w[:t])
                    if t == q - 1:
                        lowt_d.append(index(others + [left]))
                        lowt_s.append(src)
                        lowt_g.append(w[q - 1])
                    else:
                        right = canon(w[t + 1:q - 1] + (sigma_product(w[q - 1], w[t]),))
                        low_d.append(index(others + [left, right]))
                        low_s.append(src)
            # merge with every S of every other word (a repeated word merges once per copy)
            head, last = w[:q - 1], w[q - 1]
            for oi, w2 in enumerate(others):
                rest = others[:oi] + others[oi + 1:]
                q2 = len(w2)
                for r2 in range(q2):
                    h = w2[r2:] + w2[:r2]
                    low_d.append(index(rest + [canon(head + (sigma_product(last, h[0]),) + h[1:])]))
                    low_d.append(index(rest + [canon(head + (sigma_product(last, T[h[q2 - 1]]),)
                                                    + tuple([T[g] for g in reversed(h[:q2 - 1])]))]))
                    low_s.append(src)
                    low_s.append(src)
        transfers[p] = ((same_d, same_s), (low_d, low_s), (samet_d, samet_s, samet_g),
                        (lowt_d, lowt_s, lowt_g))
    sizes = {p: len(level) for p, level in levels.items()}
    return _Structure(k, gaps, initial, transfers, sizes)


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


def _exact_traces(gaps: _GapTable, needed, P_int, S_int) -> dict[int, int]:
    """Exact ``tr(Σ g)`` (integer matrices) for the gaps ``needed``.

    Diagonal input: exact products of diagonals.  Otherwise the gap matrices are built modulo
    primes ``p`` with ``d (p-1)^2 < 2^63`` (int64 products cannot overflow) and each trace is
    recovered by the Chinese remainder theorem from enough primes to exceed twice the bound
    ``|tr(Σ g)| <= d ‖Σ‖^(b+1) ‖P‖^a`` (Frobenius norms; ``g`` has ``a`` letters P and ``b`` Σ).
    """
    needed = sorted(set(needed))
    if not needed:
        return {}
    d = len(P_int)
    recipe = gaps.recipe
    if _is_diagonal(P_int) and _is_diagonal(S_int):
        pd = [P_int[i][i] for i in range(d)]
        sd = [S_int[i][i] for i in range(d)]
        vec: dict[int, list[int]] = {}

        def diag(g):
            v = vec.get(g)
            if v is None:
                kind = recipe[g][0]
                if kind == "I":
                    v = [1] * d
                elif kind == "P":
                    v = pd
                elif kind == "T":
                    v = diag(recipe[g][1])
                elif kind == "M":
                    v = list(map(mul, diag(recipe[g][1]), diag(recipe[g][2])))
                else:
                    v = [a * s * b for a, s, b in zip(diag(recipe[g][1]), sd, diag(recipe[g][2]))]
                vec[g] = v
            return v

        return {g: sum(map(mul, sd, diag(g))) for g in needed}
    nP, nS = _frobenius_ceiling(P_int), _frobenius_ceiling(S_int)
    bits = {g: (d * nS ** (gaps.letters[g][1] + 1) * nP ** gaps.letters[g][0]).bit_length() + 2 for g in needed}
    pbits = (63 - d.bit_length()) // 2  # d (p-1)^2 < 2^(d.bit_length() + 2 pbits) <= 2^63
    n_primes = -(-max(bits.values()) // (pbits - 1))
    primes = _primes_below(pbits, n_primes)
    need = {g: -(-bits[g] // (pbits - 1)) for g in needed}  # each prime carries > pbits - 1 bits
    primes = _primes_below(pbits, max(need.values()))
    # every gap whose matrix is needed, by degree: a recipe only uses gaps of lower degree
    # (a transpose: of equal degree, built after its source)
    closure, stack = set(), list(needed)
    while stack:
        g = stack.pop()
        if g not in closure:
            closure.add(g)
            stack.extend(x for x in recipe[g][1:])
    order = sorted(closure, key=lambda g: (gaps.degree[g], recipe[g][0] == "T"))
    row = {g: i for i, g in enumerate(order)}
    steps: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []
    for (deg_, is_t), group in groupby(order, key=lambda g: (gaps.degree[g], recipe[g][0] == "T")):
        by_kind: dict[str, list[int]] = {}
        for g in group:
            by_kind.setdefault(recipe[g][0], []).append(g)
        for kind, gs in by_kind.items():
            src1 = np.array([row[recipe[g][1]] for g in gs] if kind in "TMS" else [], dtype=np.intp)
            src2 = np.array([row[recipe[g][2]] for g in gs] if kind in "MS" else [], dtype=np.intp)
            steps.append((kind, np.array([row[g] for g in gs], dtype=np.intp), src1, src2))
    wanted = np.array([row[g] for g in needed], dtype=np.intp)
    residues = np.zeros((len(needed), len(primes)), dtype=np.int64)
    chunk = max(1, min(len(primes), (1 << 25) // (8 * d * d * len(order))))  # ~32 MB of matrices
    for start in range(0, len(primes), chunk):
        ps = primes[start:start + chunk]
        pv = np.array(ps, dtype=np.int64)[:, None, None]
        P_res = np.array([[[v % p for v in r] for r in P_int] for p in ps], dtype=np.int64)
        S_res = np.array([[[v % p for v in r] for r in S_int] for p in ps], dtype=np.int64)
        mats = np.empty((len(order), len(ps), d, d), dtype=np.int64)
        for kind, out, src1, src2 in steps:
            if kind == "I":
                mats[out] = np.eye(d, dtype=np.int64)
            elif kind == "P":
                mats[out] = P_res
            elif kind == "T":
                mats[out] = np.swapaxes(mats[src1], 2, 3)
            elif kind == "M":
                mats[out] = np.matmul(mats[src1], mats[src2]) % pv
            else:
                mats[out] = np.matmul(np.matmul(mats[src1], S_res) % pv, mats[src2]) % pv
        # tr(Σ g) = Σ_il Σ_il g_li; each product is reduced first so the sum stays in int64
        tr = ((S_res * np.swapaxes(mats[wanted], 2, 3)) % pv).sum(axis=(2, 3)) % pv[:, 0, 0]
        residues[:, start:start + len(ps)] = tr
    bases: dict[int, tuple[int, list[int]]] = {}
    out = {}
    for i, g in enumerate(needed):
        n = need[g]
        if n not in bases:
            M = math.prod(primes[:n])
            bases[n] = (M, [(M // p) * pow(M // p, -1, p) for p in primes[:n]])
        M, basis = bases[n]
        x = sum(map(mul, residues[i, :n].tolist(), basis)) % M
        out[g] = x - M if 2 * x > M else x
    return out


def _coefficient_bound(k: int, d: int, scale: int, P_int, S_int) -> int:
    """A bound on every coefficient of ``(ασ)^{2k} err_k`` in powers of ``1/m``.

    Each word with ``p`` factors ``S`` is a sum over ``(2p-1)!!`` pairings of at most ``p``
    cycle traces, and ``|tr X| <= d ‖X‖ <= d Π ‖letter‖_F`` over the cycle's letters, so its
    coefficients are at most ``(2p-1)!! d^p (‖P_int‖_F ‖Σ_int‖_F)^p``.
    """
    norm = _frobenius_ceiling(P_int) * _frobenius_ceiling(S_int)
    bound = 0
    for i in range(k + 1):
        for j in range(k + 1):
            p = i + j
            bound += (comb(k, i) * comb(k, j) * scale ** (2 * k - p) * math.prod(range(1, 2 * p, 2))
                      * d ** max(p, 1) * norm ** p)
    return bound


def _run_numbers(st: _Structure, traces, initial_value, combine):
    """Push the coefficients through the levels of ``st``; returns the value at level 0.

    ``initial_value(i, j)`` is the coefficient of the word ``(i, j)``; ``combine(same, low)`` joins
    the replace terms and the ``1/m`` terms arriving at one state.
    """
    k = st.k
    X = [0] * st.sizes[2 * k]
    for p in range(2 * k, 0, -1):
        for index, i, j in st.initial.get(p, ()):
            X[index] = X[index] + initial_value(i, j)
        n_out = st.sizes[p - 1]
        same, low = [0] * n_out, [0] * n_out
        (sd, ss), (ld, ls), (td, ts, tg), (ud, us, ug) = st.transfers[p]
        for dst, src in zip(sd, ss):
            x = X[src]
            if x:
                same[dst] += x
        for dst, src in zip(ld, ls):
            x = X[src]
            if x:
                low[dst] += x
        for dst, src, g in zip(td, ts, tg):
            x = X[src]
            if x:
                same[dst] += x * traces[g]
        for dst, src, g in zip(ud, us, ug):
            x = X[src]
            if x:
                low[dst] += x * traces[g]
        X = [combine(a, b) for a, b in zip(same, low)]
    value = X[0] if X else 0
    for index, i, j in st.initial.get(0, ()):
        value = value + initial_value(i, j)
    return value


def _structure_mode(P, sigma) -> str:
    P_t = [list(r) for r in zip(*P)]
    if P_t != P:
        return "general"
    return "commuting" if _matmul(P, sigma) == _matmul(sigma, P) else "symmetric"


def _engine(P, sigma, k: int, m=None):
    """Exact ``E‖(I - P S)^k w‖²``: the coefficients ``(c_0..c_{2k-1})`` (``m=None``) or the value at ``m``.

    The numbers are scaled integers: ``P = P_int/α``, ``Σ = Σ_int/σ``.  Coefficients of the
    polynomial in ``1/m`` travel packed in one integer (``1/m ↦ 2^W``, ``W`` above twice the
    bound of :func:`_coefficient_bound`); a value at ``m`` travels as ``m^{2k} (ασ)^{2k} err``
    (every replace term is multiplied by ``m``, and each word with ``p`` factors starts with
    ``m^{2k-p}``).
    """
    d = len(P)
    if k == 0:
        return (Fraction(d),) if m is None else Fraction(d)
    st = _structure(k, _structure_mode(P, sigma))
    P_int, alpha = _integer_scaled(P)
    S_int, sig = _integer_scaled(sigma)
    scale = alpha * sig
    needed = set()
    for p in st.transfers:
        needed.update(st.transfers[p][2][2])
        needed.update(st.transfers[p][3][2])
    traces = _exact_traces(st.gaps, needed, P_int, S_int)
    powers = [scale ** e for e in range(2 * k + 1)]

    def sign_binom(i, j):
        c = comb(k, i) * comb(k, j) * (-1) ** (i + j)
        return c * d if i + j == 0 else c

    if m is not None:
        mpow = [m ** e for e in range(2 * k + 1)]
        value = _run_numbers(st, traces, lambda i, j: sign_binom(i, j) * (powers[2 * k - i - j] * mpow[2 * k - i - j]),
                             lambda a, b: a * m + b)
        return Fraction(value, powers[2 * k] * mpow[2 * k])
    W = _coefficient_bound(k, d, scale, P_int, S_int).bit_length() + 2
    packed = _run_numbers(st, traces, lambda i, j: sign_binom(i, j) * powers[2 * k - i - j],
                          lambda a, b: a + (b << W))
    coeffs = []
    mask, half = (1 << W) - 1, 1 << (W - 1)
    for _ in range(2 * k):
        c = packed & mask
        if c >= half:
            c -= 1 << W
        packed = (packed - c) >> W
        coeffs.append(Fraction(c, powers[2 * k]))
    if packed != 0:
        raise AssertionError("Kronecker decoding overflow: the coefficient bound was violated")
    return tuple(coeffs)


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
    P = _inverse([list(r) for r in G], "Γ")
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
    st = _structure(k, "commuting")
    formal = {g: _Formal({(0, ((a, b + 1),)): 1}) for g, (a, b) in enumerate(st.gaps.keys)}

    def initial_value(i, j):
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
