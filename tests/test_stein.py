"""The Stein engine's parts (theory._stein) against direct computations, and the cost estimate.

The engine as a whole is checked against closed forms in tests/test_error_engine.py and against the
brute-force pairing oracle in tests/test_wick_oracle.py; here: canonical words, the modular traces,
the grouped sums, the tabulated structure sizes, agreement of the three modes where they overlap,
and :func:`theory.error.engine_cost`.
"""

from fractions import Fraction

import numpy as np
import pytest

import theory.error as E
from theory import _stein

ROOT = np.random.SeedSequence(2_510_036)


def brute_canonical(word, transpose):
    """Least of all rotations of the word and of its transposed reversal."""
    rev = tuple(transpose[g] for g in reversed(word))
    return min(seq[i:] + seq[:i] for seq in (word, rev) for i in range(len(word)))


def test_canonical_is_least_rotation_or_reflection():
    rng = np.random.default_rng(ROOT.spawn(1)[0])
    transpose = [0, 2, 1, 3, 5, 4, 6]  # gaps 1 and 2, 4 and 5 are each other's transposes
    for _ in range(3000):
        word = tuple(int(g) for g in rng.integers(0, 7, int(rng.integers(1, 10))))
        assert _stein.canonical(word, transpose) == brute_canonical(word, transpose)


def test_balanced_mod_is_exact():
    rng = np.random.default_rng(ROOT.spawn(2)[1])
    primes = np.array(_stein._primes_below(25, 4), dtype=np.float64)[:, None]
    x = rng.integers(-(2 ** 52), 2 ** 52 + 1, size=(4, 5000)).astype(np.float64)  # exact: |x| <= 2^52
    x[:, :2] = [2.0 ** 52, -(2.0 ** 52)]  # the ends of the range
    ints = x.astype(np.int64)
    r = _stein._balanced_mod(x.copy(), primes, 1 / primes)
    assert np.all(np.abs(r) <= primes / 2 + 2)
    assert np.all((ints - r.astype(np.int64)) % primes.astype(np.int64) == 0)


def exact_gap_matrix(gaps, g, B, S, memo):
    """The integer matrix of gap g from its recipe, in Python integers."""
    if g in memo:
        return memo[g]
    r = gaps.recipe[g]
    d = len(S)

    def mm(X, Y):
        return [[sum(X[i][l] * Y[l][j] for l in range(d)) for j in range(d)] for i in range(d)]

    if r[0] == "I":
        M = [[int(i == j) for j in range(d)] for i in range(d)]
    elif r[0] == "L":
        M = B[r[1]]
    elif r[0] == "T":
        M = [list(c) for c in zip(*exact_gap_matrix(gaps, r[1], B, S, memo))]
    else:
        left, right = exact_gap_matrix(gaps, r[1], B, S, memo), exact_gap_matrix(gaps, r[2], B, S, memo)
        M = mm(left, right) if r[0] == "M" else mm(mm(left, S), right)
    memo[g] = M
    return M


@pytest.mark.parametrize("d, bits, k", [(3, 8, 3), (10, 600, 2)])
def test_exact_traces_equal_integer_products(d, bits, k):
    # Non-symmetric B (general gap table) and symmetric Σ with entries of the given size: every
    # needed tr(Σ g) of the structure, modular + CRT, equals the product in Python integers.
    rng = np.random.default_rng(ROOT.spawn(3)[2].spawn(d)[-1])
    big = 1 << bits

    def entry():
        return int(rng.integers(-(2 ** 62), 2 ** 62)) * big // (2 ** 62)

    B = [[entry() for _ in range(d)] for _ in range(d)]
    S = [[0] * d for _ in range(d)]
    for i in range(d):
        for j in range(i, d):
            S[i][j] = S[j][i] = entry()
    st = _stein.binomial_structure(k, "general")
    needed = st.needed_traces()
    got = _stein.exact_traces(st.gaps, needed, [B], S)
    memo = {}
    for g in needed:
        M = exact_gap_matrix(st.gaps, g, [B], S, memo)
        assert got[g] == sum(S[i][l] * M[l][i] for i in range(d) for l in range(d))


def test_gather_equals_direct_accumulation(monkeypatch):
    rng = np.random.default_rng(ROOT.spawn(4)[3])
    n_src, n_out, n_gap, n = 50, 30, 6, 400
    src, dst = rng.integers(0, n_src, n), rng.integers(0, n_out - 1, n)  # the last destination stays empty
    gap, mult = rng.integers(-1, n_gap, n), rng.integers(1, 4, n)
    x = np.array([int(v) << 70 for v in rng.integers(-1000, 1000, n_src)], dtype=object)
    traces = np.array([int(v) << 90 for v in rng.integers(-50, 50, n_gap)], dtype=object)
    expected = [0] * n_out
    for s, t, g, c in zip(src, dst, gap, mult):
        expected[t] += int(c) * x[s] * (traces[g] if g >= 0 else 1)
    gather = _stein.Gather.build(src, dst, gap, mult)
    assert gather(x, traces, n_out).tolist() == expected
    monkeypatch.setattr(_stein.Gather, "CHUNK", 3)  # many chunks of destinations
    assert gather(x, traces, n_out).tolist() == expected


@pytest.mark.parametrize("mode, kmax", [("commuting", 7), ("symmetric", 6), ("general", 4)])
def test_structure_sizes_table(mode, kmax):
    for k in range(1, kmax + 1):
        st = _stein.binomial_structure(k, mode)
        assert (st.n_states, st.n_terms, len(st.needed_traces())) == _stein.STRUCTURE_SIZES[mode][k - 1]


def rational_covariance(rng, d):
    M = [[Fraction(int(rng.integers(-4, 5)), int(rng.integers(1, 4))) for _ in range(d)] for _ in range(d)]
    return [[sum(M[i][l] * M[j][l] for l in range(d)) + (1 if i == j else 0) for j in range(d)] for i in range(d)]


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_modes_agree_where_they_overlap(k, monkeypatch):
    # A symmetric P commuting with Σ can be run through all three structures, which share no
    # states beyond the identities each one drops: the exact results must coincide.
    rng = np.random.default_rng(ROOT.spawn(5)[4].spawn(k)[-1])
    lam = rational_covariance(rng, 3)
    P, sigma, _ = E._validated_cot(lam, 4, k, lam)  # Σ = Λ: P = Γ^{-1} commutes with Σ
    assert E._structure_mode(P, sigma) == "commuting"
    results = {}
    for mode in ("commuting", "symmetric", "general"):
        monkeypatch.setattr(E, "_structure_mode", lambda P, sigma, mode=mode: mode)
        results[mode] = (E._engine(P, sigma, k), E._engine(P, sigma, k, 7))
    assert results["commuting"] == results["symmetric"] == results["general"]
    poly, value = results["general"]
    assert value == sum(c / Fraction(7) ** r for r, c in enumerate(poly))


def test_engine_cost_counts_and_growth():
    for mode, table in _stein.STRUCTURE_SIZES.items():
        for k, (states, terms, _) in enumerate(table, start=1):
            cost = E.engine_cost(10, k, mode)
            assert (cost.states, cost.terms) == (states, terms)
            assert 0 < cost.warm_seconds < cost.seconds
        beyond = [E.engine_cost(10, k, mode) for k in range(len(table), len(table) + 3)]
        assert beyond[0].states < beyond[1].states < beyond[2].states
        assert beyond[0].seconds < beyond[1].seconds < beyond[2].seconds
    assert E.engine_cost(10, 8, poly=True).seconds > E.engine_cost(10, 8).seconds
    assert E.engine_cost(4, 10).seconds < E.engine_cost(10, 10).seconds
    assert E.engine_cost(10, 0) == E.EngineCost(0.0, 0.0, 0, 0)


@pytest.mark.parametrize("call, match", [
    (lambda: E.engine_cost(0, 3), "d must"),
    (lambda: E.engine_cost(10, -1), "k must"),
    (lambda: E.engine_cost(10, 2.5), "k must"),
    (lambda: E.engine_cost(10, 3, "diagonal"), "mode must"),
])
def test_engine_cost_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
