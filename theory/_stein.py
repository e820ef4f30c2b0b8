r"""The Stein recursion behind :mod:`theory.error`: expected products of traces of words in ``S``.

Notation: ``S = Ŝ_m = (1/m) Σ_a x_a x_aᵀ`` with ``x_a ~ N(0, Σ)``; fixed matrices ``B_l`` (for the
CoT error a single letter ``P``).  A *word* is ``tr(S g_1 S g_2 … S g_q)``; a *gap* ``g_i`` is a
word in the letters ``B_l``, ``B_lᵀ`` and Σ.  A *state* is a multiset of words, i.e. the product
of their traces; its *level* ``p`` is its number of factors ``S``.

Gaussian integration by parts (Stein's lemma) removes one factor ``S`` at a time.  For a trace
``tr(S M)`` in a product of traces ``G``,

.. math::
    \mathbb E\operatorname{tr}(S M)\,G
    = \mathbb E\operatorname{tr}(\Sigma M)\,G
    + \frac1m \sum_{M = L S R} \mathbb E\big[\operatorname{tr}(S L \Sigma R^\top)
        + \operatorname{tr}(S L)\operatorname{tr}(\Sigma R)\big]\,G
    + \frac1m \sum_{\operatorname{tr}(S N) \in G}
        \mathbb E\operatorname{tr}\big(S M \Sigma (N + N^\top)\big)\,G / \operatorname{tr}(S N),

the *replace*, *twist*, *split* and *merge* terms (every ``S`` of every other word of ``G`` takes
its turn as the leading ``S`` of ``tr(S N)``).  Every term has level ``p - 1``; traces without
``S`` are numbers ``tr(Σ g)``.

The structure (:func:`reduce_states`) holds no numbers: it depends only on the initial states and
on the exact identities of the gap table (``Pᵀ = P``; ``PΣ = ΣP``), and is built once per
``(k, mode)``.  Gaps are interned (:class:`GapTable`); a word is canonical up to rotation and up to
reversal with every gap transposed, and interned too, so that a state is a sorted tuple of word
ids.  Everything that depends on one word alone (which ``S`` to remove, the words of its replace,
twist and split terms) or on a pair of words (the words of their merge terms) is computed once per
word or pair, with multiplicities, and reused by every state that holds them; per state only the
multiset insertions and one dictionary look-up per distinct term remain.  The ``S`` removed is the
one after the most complex gap (ties: before the most complex one; then the first): complexity
concentrates in few gaps, and the states of the expansion share the simple rest (other simple
orders, by the sum of the two degrees, by word length or by the word's total degree, visit 20 to 40
times as many states at ``k = 8``).

The numbers (:func:`run_numbers`) travel level by level as one object array per level.  The
contributions that arrive at a state are pre-grouped, at structure time, by destination, by trace
``tr(Σ g)`` and by multiplicity, so that a level is two gathers, two ``numpy.add.reduceat`` sums,
one multiplication per group by its trace or multiplicity, and one combination of the replace
terms with the ``1/m`` terms: every loop runs in C, over whatever number type the caller passes
(``flint.fmpz`` integers for the error, formal traces for the symbolic mode).

The exact traces (:func:`exact_traces`) come from the gap matrices modulo primes and the Chinese
remainder theorem with an a-priori bound.  The residues are balanced (``|r| <= p/2 + 2``) and the
primes small enough (``d (p/2 + 2)^2 < 2^53``, 25 bits at ``d = 10``) that float64 products are
exact, so the batched matrix products run in BLAS.

:data:`STRUCTURE_SIZES` tabulates the size of the structure per ``k`` and mode, which
:func:`theory.error.engine_cost` turns into an estimate of seconds.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from itertools import groupby
from math import lcm
from operator import mul

import numpy as np
from flint import fmpz

# --------------------------------------------------------------------------------------------
# Gaps and words


class GapTable:
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
        self.products: dict[tuple[int, int, bool], int] = {}
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
        r = self.products.get((g, h, sigma))
        if r is None:
            kg, kh = self.keys[g], self.keys[h]
            if self.commuting:
                key = (kg[0] + kh[0], kg[1] + kh[1] + sigma)
            else:
                key = kg + (0,) + kh if sigma else kg + kh
            r = self.products[(g, h, sigma)] = self._intern(key, ("S" if sigma else "M", g, h))
        return r


def canonical(word: tuple, transpose: list[int]) -> tuple:
    """Least rotation of the word or of its reversal with every gap transposed.

    Only the rotations that start with the least gap can be least: those are compared.
    """
    rev = tuple([transpose[g] for g in reversed(word)])
    least = min(min(word), min(rev))
    best = None
    for seq in (word, rev):
        i = -1
        for _ in range(seq.count(least)):
            i = seq.index(least, i + 1)
            c = seq[i:] + seq[:i]
            if best is None or c < best:
                best = c
    return best


def _counted(ids) -> tuple:
    """``((id, multiplicity), ...)`` of a sequence of ids, in first-seen order."""
    counts: dict = {}
    for i in ids:
        counts[i] = counts.get(i, 0) + 1
    return tuple(counts.items())


class _Words:
    """Canonical words interned as ids, with what one Stein step does to each word and pair.

    ``plan(w)``: the word rotated so that its first ``S`` is the one removed, and its terms:
    ``(repl_word, repl_gap, singles, pairs, lowt, head, last)``, where the replace term is the word
    ``repl_word`` (or, for ``q = 1``, the number ``tr(Σ repl_gap)`` and no word), ``singles`` the
    twist words and ``pairs`` the split pairs, both as ``(item, multiplicity)``, and ``lowt`` the
    last split ``(word, g)``, a word times ``tr(Σ g)``.  ``merges(w, w2)``: the words of the merge
    terms of ``w`` with every ``S`` of ``w2``, as ``(word, multiplicity)``.
    """

    def __init__(self, gaps: GapTable):
        self.gaps = gaps
        self.words: list[tuple] = []
        self.ids: dict[tuple, int] = {}
        self.choice: list[tuple] = []  # per word: the degrees around the S it would give up
        self.plans: list = []
        self._merges: dict[int, tuple] = {}

    def id(self, word: tuple) -> int:
        i = self.ids.get(word)
        if i is None:
            deg = self.gaps.degree
            c = canonical(word, self.gaps.transpose)
            i = self.ids.get(c)
            if i is None:
                i = len(self.words)
                self.words.append(c)
                self.ids[c] = i
                self.choice.append(max((deg[c[r - 1]], deg[c[r]]) for r in range(len(c))))
                self.plans.append(None)
            self.ids[word] = i
        return i

    def _sigma(self, g: int, h: int) -> int:
        r = self.gaps.products.get((g, h, True))
        return self.gaps.product(g, h) if r is None else r

    def plan(self, w: int) -> tuple:
        pl = self.plans[w]
        if pl is not None:
            return pl
        T, deg, sp, wid = self.gaps.transpose, self.gaps.degree, self._sigma, self.id
        c = self.words[w]
        q = len(c)
        r = max(range(q), key=lambda r: (deg[c[r - 1]], deg[c[r]]))  # the first maximum
        wr = c[r:] + c[:r]  # tr(S g_1 S g_2 … S g_q), the first S is removed
        # replace: tr(Σ g_1 S g_2 … S g_q)
        repl = (-1, wr[0]) if q == 1 else (wid(wr[1:q - 1] + (sp(wr[q - 1], wr[0]),)), -1)
        # twist and split, for each other S of the word: M = L S R, L = g_1 S … S g_t
        singles, pairs, lowt = [], [], None
        tail_t = T[wr[q - 1]]
        for t in range(1, q):
            singles.append(wid(wr[:t - 1] + (sp(wr[t - 1], tail_t),)
                               + tuple([T[g] for g in reversed(wr[t:q - 1])])))
            left = wid(wr[:t])
            if t == q - 1:
                lowt = (left, wr[q - 1])
            else:
                right = wid(wr[t + 1:q - 1] + (sp(wr[q - 1], wr[t]),))
                pairs.append((left, right) if left <= right else (right, left))
        pl = self.plans[w] = (*repl, _counted(singles), _counted(pairs), lowt, wr[:q - 1], wr[q - 1])
        return pl

    def merges(self, w: int, w2: int) -> tuple:
        key = (w << 32) | w2
        out = self._merges.get(key)
        if out is not None:
            return out
        T, sp, wid = self.gaps.transpose, self._sigma, self.id
        _, _, _, _, _, head, last = self.plan(w)
        h0 = self.words[w2]
        q2 = len(h0)
        ids = []
        for r2 in range(q2):
            h = h0[r2:] + h0[:r2]
            ids.append(wid(head + (sp(last, h[0]),) + h[1:]))
            ids.append(wid(head + (sp(last, T[h[q2 - 1]]),) + tuple([T[g] for g in reversed(h[:q2 - 1])])))
        out = self._merges[key] = _counted(ids)
        return out


# --------------------------------------------------------------------------------------------
# The structure


@dataclass(frozen=True)
class Gather:
    """Sums of source values into destinations, grouped by destination, trace and multiplicity.

    ``out[dst[i]] = Σ_{groups j of dst[i]} c_j Σ_{entries e of group j} x[src[e]]`` where the groups
    are ``src[starts[j]:starts[j + 1]]``, ``c_j`` is ``factor`` for the groups ``scaled``,
    ``tr(Σ gap)`` for the groups ``traced`` and 1 otherwise, and the groups of one destination are
    ``dst_starts[i]:dst_starts[i + 1]``.  Indices are int32; ``factor`` holds Python ints.
    """

    src: np.ndarray
    starts: np.ndarray
    scaled: np.ndarray
    factor: np.ndarray
    traced: np.ndarray
    gap: np.ndarray
    dst_starts: np.ndarray
    dst: np.ndarray

    # destinations summed at once: bounds the temporaries (a packed polynomial is ~50 kB at k = 12)
    CHUNK = 1 << 13

    @classmethod
    def build(cls, src, dst, gap, mult) -> "Gather":
        """From entries ``(src, dst, gap or -1, multiplicity)``, int64 arrays."""
        if src.size == 0:
            empty = np.zeros(0, dtype=np.int32)
            return cls(empty, empty, empty, np.zeros(0, dtype=object), empty, empty, empty, empty)
        g1, m1 = int(gap.max()) + 2, int(mult.max()) + 1
        order = np.argsort((dst * g1 + gap + 1) * m1 + mult, kind="stable")
        src, dst, gap, mult = src[order], dst[order], gap[order], mult[order]
        new = np.ones(src.size, dtype=bool)
        new[1:] = (dst[1:] != dst[:-1]) | (gap[1:] != gap[:-1]) | (mult[1:] != mult[:-1])
        starts = np.flatnonzero(new)
        gdst, ggap, gmult = dst[starts], gap[starts], mult[starts]
        dnew = np.ones(starts.size, dtype=bool)
        dnew[1:] = gdst[1:] != gdst[:-1]
        dst_starts = np.flatnonzero(dnew)
        scaled = np.flatnonzero(gmult != 1)
        traced = np.flatnonzero(ggap >= 0)
        i32 = np.int32
        return cls(src.astype(i32), starts.astype(i32), scaled.astype(i32), gmult[scaled].astype(object),
                   traced.astype(i32), ggap[traced].astype(i32), dst_starts.astype(i32),
                   gdst[dst_starts].astype(i32))

    def __call__(self, x: np.ndarray, traces: np.ndarray, n_out: int) -> np.ndarray:
        out = np.zeros(n_out, dtype=object)
        n_dst, n_groups = self.dst.size, self.starts.size
        if n_dst <= self.CHUNK:  # one chunk: no slicing
            if n_dst:
                out[self.dst] = self._sums(x[self.src], self.starts, self.scaled, self.factor, self.traced,
                                           traces[self.gap], self.dst_starts)
            return out
        for a in range(0, n_dst, self.CHUNK):
            b = min(a + self.CHUNK, n_dst)
            g0 = int(self.dst_starts[a])
            g1 = int(self.dst_starts[b]) if b < n_dst else n_groups
            e0 = int(self.starts[g0])
            e1 = int(self.starts[g1]) if g1 < n_groups else self.src.size
            s0, s1 = np.searchsorted(self.scaled, (g0, g1))
            t0, t1 = np.searchsorted(self.traced, (g0, g1))
            out[self.dst[a:b]] = self._sums(x[self.src[e0:e1]], self.starts[g0:g1] - e0,
                                            self.scaled[s0:s1] - g0, self.factor[s0:s1],
                                            self.traced[t0:t1] - g0, traces[self.gap[t0:t1]],
                                            self.dst_starts[a:b] - g0)
        return out

    @staticmethod
    def _sums(values, starts, scaled, factor, traced, trace_values, dst_starts):
        groups = np.add.reduceat(values, starts)
        if scaled.size:
            groups[scaled] *= factor
        if traced.size:
            groups[traced] *= trace_values
        return np.add.reduceat(groups, dst_starts)

    @property
    def entries(self) -> int:
        return int(self.src.size)


@dataclass(frozen=True)
class Structure:
    """The Stein reduction of a linear combination of states, without numbers.

    ``initial[p]``: ``(state index, tag)`` of the initial states with ``p`` factors ``S``.
    ``transfers[p] = (same, low)``: two :class:`Gather` from level ``p`` to level ``p - 1``, the
    replace terms and the ``1/m`` terms.  ``sizes[p]``: the number of states at level ``p``.
    """

    gaps: GapTable
    top: int
    initial: dict
    transfers: dict
    sizes: dict

    @property
    def n_states(self) -> int:
        return sum(self.sizes.values())

    @property
    def n_terms(self) -> int:
        """Distinct (source, destination, trace) terms over all levels: the work of one number pass."""
        return sum(same.entries + low.entries for same, low in self.transfers.values())

    def needed_traces(self) -> set[int]:
        """The gaps ``g`` whose ``tr(Σ g)`` the number pass multiplies by."""
        needed = set()
        for same, low in self.transfers.values():
            needed.update(same.gap.tolist())
            needed.update(low.gap.tolist())
        return needed


class _Index(dict):
    """States of one level: ``index[state]`` is its number, a new state gets the next one."""

    def __missing__(self, state):
        i = self[state] = len(self)
        return i


def reduce_states(gaps: GapTable, initial_states) -> Structure:
    """Stein-reduce the states ``initial_states`` (pairs ``(list of words, tag)``) to numbers.

    A word is a tuple of gap ids, ``(g_1, …, g_q)`` for ``tr(S g_1 S g_2 … S g_q)``.
    """
    words = _Words(gaps)
    choice, merges, bisect = words.choice.__getitem__, words.merges, bisect_right
    top = max((sum(map(len, ws)) for ws, _ in initial_states), default=0)
    levels = {p: _Index() for p in range(top + 1)}
    initial: dict[int, list] = {}
    for ws, tag in initial_states:
        state = tuple(sorted(words.id(w) for w in ws))
        p = sum(map(len, ws))
        initial.setdefault(p, []).append((levels[p][state], tag))
    transfers, sizes = {}, {}
    for p in range(top, 0, -1):
        out = levels[p - 1]
        n_src = sizes[p] = len(levels[p])
        repl_dst, repl_g = array("q", [-1]) * n_src, array("q", [-1]) * n_src
        lowt_src, lowt_dst, lowt_g = array("q"), array("q"), array("q")
        low_count, low_dst, low_mult = array("q", [0]) * n_src, array("q"), array("q")
        add_low, add_mult = low_dst.append, low_mult.append
        for src, state in enumerate(levels[p]):
            w = max(state, key=choice)  # the first word holding the S removed
            repl_word, repl_gap, singles, pairs, lowt, _, _ = words.plan(w)
            i = state.index(w)
            others = state[:i] + state[i + 1:]
            n_low = len(low_dst)
            # each new state is `others` (or `rest`) with words inserted in order: bisect, not sort
            if repl_word < 0:
                repl_dst[src] = out[others]
                repl_g[src] = repl_gap
            else:
                j = bisect(others, repl_word)
                repl_dst[src] = out[others[:j] + (repl_word,) + others[j:]]
            for x, c in singles:
                j = bisect(others, x)
                add_low(out[others[:j] + (x,) + others[j:]])
                add_mult(c)
            for (a, b), c in pairs:
                j = bisect(others, a)
                key = others[:j] + (a,) + others[j:]
                j = bisect(key, b)
                add_low(out[key[:j] + (b,) + key[j:]])
                add_mult(c)
            if lowt is not None:
                x = lowt[0]
                j = bisect(others, x)
                lowt_src.append(src)
                lowt_dst.append(out[others[:j] + (x,) + others[j:]])
                lowt_g.append(lowt[1])
            # merge with every S of every other word (a repeated word merges once per copy)
            previous = -1
            for oi, w2 in enumerate(others):
                if w2 == previous:
                    continue
                previous = w2
                copies = others.count(w2)
                rest = others[:oi] + others[oi + 1:]
                for x, c in merges(w, w2):
                    j = bisect(rest, x)
                    add_low(out[rest[:j] + (x,) + rest[j:]])
                    add_mult(c * copies)
            low_count[src] = len(low_dst) - n_low
        del levels[p]  # a level is not looked up again once reduced
        n_lows = len(low_dst)
        low_src = np.repeat(np.arange(n_src), np.frombuffer(low_count, dtype=np.int64))
        same = Gather.build(np.arange(n_src), np.frombuffer(repl_dst, dtype=np.int64),
                            np.frombuffer(repl_g, dtype=np.int64), np.ones(n_src, dtype=np.int64))
        low = Gather.build(
            np.concatenate([low_src, np.frombuffer(lowt_src, dtype=np.int64)]),
            np.concatenate([np.frombuffer(low_dst, dtype=np.int64), np.frombuffer(lowt_dst, dtype=np.int64)]),
            np.concatenate([np.full(n_lows, -1, dtype=np.int64), np.frombuffer(lowt_g, dtype=np.int64)]),
            np.concatenate([np.frombuffer(low_mult, dtype=np.int64), np.ones(len(lowt_src), dtype=np.int64)]))
        transfers[p] = (same, low)
    sizes[0] = len(levels[0])
    return Structure(gaps, top, initial, transfers, sizes)


@lru_cache(maxsize=16)
def binomial_structure(k: int, mode: str) -> Structure:
    """The structure of ``Σ_ij C(k,i) C(k,j) (-1)^(i+j) tr[(S Pᵀ)^i (P S)^j]``, tagged ``(i, j)``.

    ``mode``: ``"general"`` (any P), ``"symmetric"`` (``Pᵀ = P``) or ``"commuting"`` (also ``PΣ = ΣP``).
    """
    gaps = GapTable([mode != "general"], commuting=mode == "commuting")
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
    return reduce_states(gaps, initial)

# States, distinct transfer terms and needed traces of binomial_structure(k, mode) for k = 1, 2, ...
# (deterministic: computed by binomial_structure(k, mode).n_states, .n_terms and
# len(.needed_traces()); the general mode grows about tenfold per step and stops at k = 6)
STRUCTURE_SIZES = {
    "commuting": (
        (5, 6, 4), (29, 76, 10), (126, 451, 16), (430, 1916, 22), (1238, 6499, 28), (3183, 18973, 34),
        (7457, 49411, 40), (16362, 118443, 46), (33906, 265168, 52), (67222, 562608, 58),
        (128058, 1139084, 64), (236394, 2221191, 70),
    ),
    "symmetric": (
        (5, 6, 4), (35, 84, 15), (214, 688, 55), (936, 3707, 123), (3216, 14920, 227), (9450, 49599, 375),
        (24742, 143891, 575), (59455, 376840, 835), (133354, 911087, 1163), (283158, 2066164, 1567),
        (574064, 4443161, 2055), (1119723, 9138760, 2635),
    ),
    "general": (
        (5, 6, 4), (60, 138, 45), (910, 2745, 452), (10664, 41312, 3589), (104630, 500394, 24699),
        (898225, 5169068, 153774),
    ),
}


# --------------------------------------------------------------------------------------------
# Numbers


def run_numbers(st: Structure, traces, initial_value, combine):
    """Push the coefficients through the levels of ``st``; returns the value at level 0.

    ``traces[g]`` is ``tr(Σ g)`` for the gaps of :meth:`Structure.needed_traces`;
    ``initial_value(tag)`` is the coefficient of an initial state; ``combine(same, low)`` joins,
    elementwise on object arrays, the replace terms and the ``1/m`` terms arriving at the states of
    a level.  Any number type with ``+`` and ``*`` (by itself and by ``int``) will do.
    """
    table = np.zeros(max(traces, default=-1) + 1, dtype=object)
    for g, v in traces.items():
        table[g] = v
    x = np.zeros(st.sizes[st.top], dtype=object)
    for p in range(st.top, 0, -1):
        for index, tag in st.initial.get(p, ()):
            x[index] = x[index] + initial_value(tag)
        same, low = st.transfers[p]
        n_out = st.sizes[p - 1]
        x = combine(same(x, table, n_out), low(x, table, n_out))
    value = x[0] if len(x) else 0
    for _, tag in st.initial.get(0, ()):
        value = value + initial_value(tag)
    return value


def integer_scaled(M) -> tuple[list[list[int]], int]:
    """``M = N / den`` with ``N`` an integer matrix and ``den`` the least common denominator."""
    den = lcm(*(v.denominator for row in M for v in row))
    return [[int(v * den) for v in row] for row in M], den


def frobenius_ceiling(M: list[list[int]]) -> int:
    return math.isqrt(sum(v * v for row in M for v in row)) + 1


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


def exact_traces(gaps: GapTable, needed, bases, S_int) -> dict[int, int]:
    """Exact ``tr(Σ g)`` for the gaps ``needed``, with integer base letters ``bases`` and Σ ``S_int``.

    Diagonal input: exact products of diagonals.  Otherwise the gap matrices are built modulo
    primes ``p`` with ``d (p/2 + 2)^2 < 2^53`` in float64, balanced residues (exact products, in
    BLAS), all gaps of one degree in one vectorised step, and each trace is recovered by the
    Chinese remainder theorem from enough primes to exceed twice the bound
    ``|tr(Σ g)| <= d ‖Σ‖^(b+1) Π_l ‖B_l‖^(a_l)`` (Frobenius norms; ``g`` has ``b`` letters Σ and
    ``a_l`` letters ``B_l``).
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
    norms = [frobenius_ceiling(S_int)] + [frobenius_ceiling(B) for B in bases]
    # float64 is exact on integers below 2^53.  Residues are balanced, |r| <= p/2 + 2, and with
    # p < 2^pbits, d (p/2 + 2)^2 < 2^52 (1 + 2^(4 - pbits)) < 2^53 - p: every entry of a product of
    # two reduced matrices, and every partial sum, is an exact float whatever the order of
    # summation (BLAS), and _balanced_mod reduces it exactly
    pbits = (52 - (d - 1).bit_length()) // 2 + 1
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
    # Matrices are numbered by decreasing number of primes (so that those still needed at a prime
    # are a prefix) and built in the order of their keys (a recipe only uses lower degrees; a
    # transpose comes after its source): one vectorised step per key and kind.
    mat_gaps = sorted(req, key=lambda g: (-req[g], g))
    sig_gaps = sorted(sigma_side, key=lambda g: (-sigma_side[g], g))
    row = {g: i for i, g in enumerate(mat_gaps)}
    srow = {g: i for i, g in enumerate(sig_gaps)}
    mat_req = np.array([req[g] for g in mat_gaps])
    sig_req = np.array([sigma_side[g] for g in sig_gaps])
    steps = []
    for _, group in groupby(sorted(req, key=key), key=key):
        group = list(group)
        for kind in "ILTMS":
            gl = [g for g in group if recipe[g][0] == kind]
            if gl:
                inputs = [[row[g] for g in gl]] if kind == "I" else [[recipe[g][1] for g in gl]] if kind == "L" \
                    else [[row[recipe[g][1]] for g in gl]] if kind == "T" \
                    else [[(srow if kind == "S" else row)[recipe[g][1]] for g in gl], [row[recipe[g][2]] for g in gl]]
                steps.append((kind, np.array([row[g] for g in gl]), *map(np.array, inputs)))
        gl = [g for g in group if g in srow]
        if gl:
            steps.append(("Σ", np.array([srow[g] for g in gl]), np.array([row[g] for g in gl])))
    direct = np.array([i for i, g in enumerate(needed) if recipe[g][0] != "S"], dtype=np.intp)
    split = np.array([i for i, g in enumerate(needed) if recipe[g][0] == "S"], dtype=np.intp)
    need_arr = np.array([need[g] for g in needed])
    direct_rows = np.array([row[needed[i]] for i in direct], dtype=np.intp)
    split_rows = np.array([[srow[recipe[needed[i]][1]], srow[recipe[needed[i]][2]]] for i in split],
                          dtype=np.intp).reshape(-1, 2)
    start = 0
    while start < len(primes):
        n_mat = int(np.count_nonzero(mat_req > start))
        n_sig = int(np.count_nonzero(sig_req > start))
        chunk = max(1, (1 << 24) // (8 * d * d * (n_mat + n_sig)))  # ~16 MB of matrices
        ps = primes[start:start + chunk]
        cols = slice(start, start + len(ps))
        pv = np.array(ps, dtype=np.float64)[:, None, None]
        pinv = 1 / pv

        def mod(x):
            return _balanced_mod(x, pv, pinv)

        B_res = np.array([[[[_balanced(v, p) for v in r] for r in B] for p in ps] for B in bases], dtype=np.float64)
        S_res = np.array([[[_balanced(v, p) for v in r] for r in S_int] for p in ps], dtype=np.float64)
        mats = np.empty((n_mat, len(ps), d, d), dtype=np.float64)
        gs = np.empty((n_sig, len(ps), d, d), dtype=np.float64)
        for kind, out, *inputs in steps:
            live = out < (n_sig if kind == "Σ" else n_mat)  # the inputs of a live gap are live
            if not live.any():
                continue
            out, inputs = out[live], [x[live] for x in inputs]
            if kind == "I":
                mats[out] = np.eye(d)
            elif kind == "L":
                mats[out] = B_res[inputs[0]]
            elif kind == "T":
                mats[out] = np.swapaxes(mats[inputs[0]], 2, 3)
            elif kind == "M":
                mats[out] = mod(np.matmul(mats[inputs[0]], mats[inputs[1]]))
            elif kind == "S":
                mats[out] = mod(np.matmul(gs[inputs[0]], mats[inputs[1]]))
            else:
                gs[out] = mod(np.matmul(mats[inputs[0]], S_res))
        # tr(Σ g) = Σ_il Σ_il g_li, or Σ_il (g1Σ)_il (g2Σ)_li for g = g1 Σ g2; the sums over l
        # (d products each) are reduced before the sum over i
        live = need_arr[direct] > start
        if live.any():
            residues[direct[live], cols] = _trace_of_product(S_res, mats[direct_rows[live]], mod)
        live = need_arr[split] > start
        if live.any():
            rows = split_rows[live]
            residues[split[live], cols] = _trace_of_product(gs[rows[:, 0]], gs[rows[:, 1]], mod)
        start += len(ps)
    out = {}
    for i, g in enumerate(needed):
        M, basis = _crt_basis(primes[:need[g]])
        x = int(sum(map(mul, basis, residues[i, :need[g]].tolist()), fmpz(0)) % M)
        out[g] = x - M if 2 * x > M else x
    return out


@lru_cache(maxsize=64)  # a basis for n primes of b bits holds about n^2 b / 8 bytes (1.3 MB at 650 x 25)
def _crt_basis(primes: tuple[int, ...]) -> tuple[int, tuple]:
    """``M = Π p`` and the CRT basis ``e_p ≡ [p = q] (mod q)``: ``x ≡ Σ r_p e_p (mod M)``."""
    M = math.prod(primes)
    return M, tuple(fmpz((M // p) * pow(M // p, -1, p)) for p in primes)


def _trace_of_product(A: np.ndarray, B: np.ndarray, mod) -> np.ndarray:
    """``tr(A B)`` reduced, over the last two axes; the sums over ``l`` (``d`` products) first."""
    X = mod(np.einsum("...ij,...ji->...i", A, B)[..., None])
    return mod(X.sum(axis=-2, keepdims=True))[..., 0, 0]


def _balanced(v: int, p: int) -> int:
    """The residue of ``v`` modulo ``p`` in ``(-p/2, p/2]``."""
    r = v % p
    return r - p if 2 * r > p else r


def _balanced_mod(x: np.ndarray, p: np.ndarray, pinv: np.ndarray) -> np.ndarray:
    """``x - p round(x/p)``, in place, for float64 arrays of integers with ``|x| + p < 2^53``.

    Exact, and ``|result| <= p/2 + 2``: the rounded ``x (1/p)`` is within ``2/p`` of ``x/p``, so
    ``|round(x/p) p| <= |x| + p/2 + 2`` is an exact float too.
    """
    q = x * pinv
    np.rint(q, out=q)
    q *= p
    x -= q
    return x


def kronecker_decode(packed: int, W: int, n: int, denominator: int) -> tuple[Fraction, ...]:
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
