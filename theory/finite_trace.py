r"""Remark 4.1's trace at finite test length, exactly: ``T_k(m) = E tr N̂^{2k}`` by zonal polynomials.

Notation (arXiv 2510.03605; this project's conventions):

* ``Λ`` training covariance (``train_cov``), ``n`` training prompt length,
  ``Γ = (1 + 1/n) Λ + (tr Λ / n) I``; ``Σ`` test covariance (``test_cov``, default ``Λ``), ``m``
  test prompt length, ``Ŝ_m = (1/m) Σ_a x_a x_aᵀ`` with ``x_a ~ N(0, Σ)`` i.i.d.;
* ``B̂ = Γ^{-1/2} Ŝ_m Γ^{-1/2}``, ``N̂ = I − B̂`` (symmetric) and ``M̂ = I − Γ^{-1}Ŝ_m = Γ^{-1/2} N̂ Γ^{1/2}``,
  so the CoT error is ``err_k = E‖M̂^k‖_F²`` and Remark 4.1's trace is ``tr N̂^{2k} = tr M̂^{2k}``;
* ``ω_1..ω_d`` the eigenvalues of ``Γ^{-1}Σ``, those of ``Ω = Γ^{-1/2} Σ Γ^{-1/2}`` (all ``>= 0``);
  ``W = m B̂`` is Wishart ``W_d(m, Ω)``.

The quantity computed, a polynomial in ``1/m`` of degree at most ``2k − 1``:

.. math::
    T_k(m) = \mathbb E \operatorname{tr} \hat N^{2k}
    = \sum_{j=0}^{2k} \binom{2k}{j} (-1)^j m^{-j}\, \mathbb E\, p_j(W),
    \qquad p_j(W) = \operatorname{tr} W^j, \qquad T_k(\infty) = \operatorname{tr} N^{2k}.

Method: zonal polynomials, i.e. Jack polynomials ``J_κ = J_κ^{(α)}`` at ``α = 2`` in their integral
normalisation (Stanley 1989; Macdonald, *Symmetric functions and Hall polynomials*, VI.10).

1. The power sum in the ``J`` basis, from ``[p_j] J_κ = Π_{s ≠ (1,1)} (α a'(s) − l'(s))`` and
   ``⟨p_λ, p_μ⟩ = δ_{λμ} z_λ α^{ℓ(λ)}``, ``⟨J_κ, J_λ⟩ = δ_{κλ} j_κ``:

   .. math::
       p_j = \sum_{\kappa \vdash j} \theta_\kappa J_\kappa, \qquad
       \theta_\kappa = \frac{j\alpha}{j_\kappa} \prod_{s \in \kappa,\, s \ne (1,1)} (\alpha a'(s) - l'(s)),
       \qquad j_\kappa = \prod_{s \in \kappa} h^*_\kappa(s)\, h_*^\kappa(s),

   with, for the box ``s = (i, t)`` (row, column), ``a'(s) = t − 1``, ``l'(s) = i − 1``, arm ``a(s)``,
   leg ``l(s)``, ``h^*(s) = l(s) + α(a(s) + 1)`` and ``h_*(s) = l(s) + 1 + α a(s)``.  At ``α = 2`` the
   factor of the box ``(3, 2)`` is zero, so only the shapes ``(a, b, 1^c)`` (``κ_3 <= 1``) occur, and
   ``J_κ(ω) = 0`` when ``ℓ(κ) > d``: a few hundred shapes for each ``j`` at ``d = 10``.
2. The Wishart expectation (Muirhead, *Aspects of Multivariate Statistical Theory*, 1982, ch. 7, for
   the zonal polynomials ``C_κ ∝ J_κ``), a polynomial identity in ``m`` that holds at
   every integer ``m >= 1``, also below ``d`` (the product vanishes when ``ℓ(κ) > m``):

   .. math::
       \mathbb E\, J_\kappa(W) = \prod_{(i,t) \in \kappa} \big(m - (i - 1) + 2(t - 1)\big)\; J_\kappa(\Omega),
       \qquad\text{so}\qquad
       m^{-j}\,\mathbb E\, p_j(W) = \sum_{\kappa \vdash j} \theta_\kappa J_\kappa(\omega)
           \prod_{(i,t) \in \kappa} \Big(1 + \frac{2(t-1) - (i-1)}{m}\Big).

3. ``J_κ(ω)`` by adding one variable at a time (Koev & Edelman 2006, Math. Comp. 75; the branching
   rule of Macdonald, ch. VI),

   .. math::
       J_\kappa(x_1..x_r) = \sum_{\mu:\ \kappa/\mu \text{ horizontal strip}}
           \beta_{\kappa\mu}\, x_r^{|\kappa| - |\mu|}\, J_\mu(x_1..x_{r-1}), \qquad
       \beta_{\kappa\mu} = \frac{\prod_{s\in\kappa} B^\kappa(s)}{\prod_{s\in\mu} B^\mu(s)},

   ``B^ν(s) = h^*_ν(s)`` when the column of ``s`` is the same in ``κ`` and ``μ`` and ``h_*^ν(s)``
   when the strip touches it (this way round: one variable must give
   ``J_{(j)}(x) = Π_{t<j}(1 + αt) x^j``).  Removing a horizontal strip from ``(a, b, 1^c)`` leaves a
   shape of the same family, ``μ = (μ_1, μ_2, 1^{c'})`` with ``b <= μ_1 <= a``, ``μ_2 <= b`` and ``c' ∈ {c − 1, c}``,
   and ``β`` factorises into a few ratios of ``G_l(n) = Π_{u<n} (2u + l + 1)/(2u + l + 2)`` (the
   form ``β = ψ_{κ/μ} c_κ / c_μ``, ``c_λ = Π_s h_*^λ(s)``, with Macdonald's
   ``ψ_{κ/μ} = Π_{s ∈ R∖C} b_μ(s)/b_κ(s)``, ``b_λ(s) = h_*^λ(s)/h^*_λ(s)``; see
   :func:`_branching_weights`).  The weights depend only on the shapes and are cached.

Exactness.  The eigenvalues are found by factoring the characteristic polynomial of ``Γ^{-1}Σ``
over ``Q`` (FLINT).  Zero eigenvalues drop out (``J_κ(x, 0) = J_κ(x)``).

* All rational (diagonal or commuting input with a rational spectrum): ``ω_r = y_r / v_r``, and the
  recursion runs on the integers ``V_r^{|κ|} J_κ(x_1..x_r)``, ``V_r = v_1 ⋯ v_r``, with integer
  branching weights over one common denominator per shape and exact divisions (checked).
* Some irrational: ``J_κ`` has integer coefficients in the monomial basis (Knop & Sahi 1997), so
  with ``D`` the least common multiple of the leading coefficients of the primitive integer
  irreducible factors, ``ρ_i = D ω_i`` are algebraic integers and ``J_κ(ρ)`` is an integer (a
  symmetric integer polynomial in the roots of a monic integer polynomial).  The recursion runs in
  arb ball arithmetic from rigorous root enclosures, at a precision raised until every ball holds
  exactly one integer; everything after that is exact.

This route was chosen over a Stein recursion on traces (:mod:`theory.error`), whose states are
multisets of words and grow about twofold per step, and over power-sum expansions (every partition
of ``2k``, 15.8 million at ``k = 40``): in the zonal basis the state is one integer per shape
``(a, b, 1^c)`` with ``ℓ <= d``, and the cost is the number of (shape, strip) pairs, about
``d · k^4`` (1.8 million at ``k = 20``, 29 million at ``k = 40``, ``d = 10``), times the cost of one
multiplication of integers whose size grows linearly in ``k`` and in the bit size of the ``ω_i``.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from math import comb
from operator import mul

import flint

from theory._exact import exact_solve
from theory._validate import as_exact_covariance, positive_int, same_dimension
from theory.covariance import gamma_exact
from theory.error import ErrorPoly
from theory.overthinking import remark41_trace_exact

# --------------------------------------------------------------------------------------------
# Shapes (a, b, 1^c), stored as (a, b, c); (a, 0, 0) is one row, (0, 0, 0) the empty shape.


def _size(shape) -> int:
    return shape[0] + shape[1] + shape[2]


def _length(shape) -> int:
    a, b, c = shape
    return 0 if a == 0 else 1 if b == 0 else 2 + c


def _family(J: int, d: int) -> list[tuple[int, int, int]]:
    """Every shape ``(a, b, 1^c)`` with at most ``J`` boxes and at most ``d`` rows, by size."""
    out = [(0, 0, 0)]
    for j in range(1, J + 1):
        out.append((j, 0, 0))
        if d >= 2:
            for c in range(0, min(d - 2, j - 2) + 1):
                for b in range(1, (j - c) // 2 + 1):
                    out.append((j - b - c, b, c))
    return out


def _odd(n: int) -> int:
    """``(2n − 1)!! = 1 · 3 ⋯ (2n − 1)`` (``1`` for ``n = 0``)."""
    return math.prod(range(1, 2 * n, 2))


def _lower_hook_product(shape) -> int:
    r"""``c_λ = Π_s h_*(s) = Π_s (2 a(s) + l(s) + 1)`` (``J_λ = c_λ P_λ``), in closed form.

    For ``λ = (a, b, 1^{ℓ−2})``, ``b >= 1``: row 1 gives ``2a + ℓ − 2`` (column 1),
    ``2^{b−1}(a−1)!/(a−b)!`` (columns ``2..b``, leg 1) and ``(2a − 2b − 1)!!`` (beyond ``b``, leg 0);
    row 2 gives ``2b + ℓ − 3`` and ``(2b − 3)!!``; column 1 below row 2 gives ``(ℓ − 2)!``.
    One row: ``(2a − 1)!!``.
    """
    a, b, c = shape
    if b == 0:
        return _odd(a)
    ell = 2 + c
    return ((2 * a + ell - 2) * 2 ** (b - 1) * math.factorial(a - 1) // math.factorial(a - b) * _odd(a - b)
            * (2 * b + ell - 3) * _odd(b - 1) * math.factorial(ell - 2))


def _upper_hook_product(shape) -> int:
    r"""``Π_s h^*(s) = Π_s (l(s) + 2 a(s) + 2)``, in closed form (as :func:`_lower_hook_product`).

    ``b >= 1``: ``(2a + ℓ − 1) · (2a − 1)!!/(2a − 2b + 1)!! · 2^{a−b}(a−b)!`` (row 1),
    ``(2b + ℓ − 2) · 2^{b−1}(b−1)!`` (row 2), ``(ℓ − 1)!`` (column 1 below); one row: ``2^a a!``.
    """
    a, b, c = shape
    if b == 0:
        return 2 ** a * math.factorial(a)
    ell = 2 + c
    return ((2 * a + ell - 1) * (_odd(a) // _odd(a - b + 1)) * 2 ** (a - b) * math.factorial(a - b)
            * (2 * b + ell - 2) * 2 ** (b - 1) * math.factorial(b - 1) * math.factorial(ell - 1))


def _theta(shape) -> Fraction:
    r"""``θ_κ``, the coefficient of ``J_κ`` in the power sum ``p_{|κ|}``.

    The contents ``2(t − 1) − (i − 1)`` of the boxes other than ``(1, 1)`` multiply to
    ``2^{a−1}(a−1)!`` (row 1), ``−(2b − 3)!!`` (row 2) and ``(−1)^c (c + 1)!`` (column 1 below).
    """
    a, b, c = shape
    j = _size(shape)
    prod = 2 ** (a - 1) * math.factorial(a - 1)
    if b:
        prod *= -_odd(b - 1) * (-1) ** c * math.factorial(c + 1)
    return Fraction(2 * j * prod, _lower_hook_product(shape) * _upper_hook_product(shape))


def _content_tables(J: int, factor):
    """Prefix products of ``factor(h)`` over the contents ``h`` of the rows of ``(a, b, 1^c)``.

    Returns ``weight(shape) = Π_{s ∈ κ} factor(content(s))``: row 1 has contents ``0, 2, …,
    2(a − 1)``, row 2 ``−1, 1, …, 2b − 3``, the rest of column 1 ``−2, …, −(c + 1)``.
    """
    rows = [[1], [1], [1]]
    for t in range(J):
        rows[0].append(rows[0][-1] * factor(2 * t))
        rows[1].append(rows[1][-1] * factor(2 * t - 1))
        rows[2].append(rows[2][-1] * factor(-(t + 2)))
    first, second, column = rows

    def weight(shape):
        a, b, c = shape
        return first[a] * second[b] * column[c]

    return weight


# --------------------------------------------------------------------------------------------
# The branching weights (integers over one denominator per shape), cached by (J, d)


def _g_table(l: int, J: int) -> list:
    """``G_l(n) = Π_{u<n} (2u + l + 1)/(2u + l + 2)`` for ``n = 0..J``, as ``fmpq``."""
    out = [flint.fmpq(1)]
    for u in range(J):
        out.append(out[-1] * flint.fmpq(2 * u + l + 1, 2 * u + l + 2))
    return out


def _f(l: int, u: int):
    return flint.fmpq(2 * u + l + 1, 2 * u + l + 2)


def _branching_weights(shape, index, inv_c, G0, G1, c_kappa):
    r"""``β_{κμ}`` for every ``μ ≠ κ`` with ``κ/μ`` a horizontal strip, in two lists by ``ℓ(μ)``.

    With ``κ = (a, b, 1^c)``, ``μ = (μ_1, μ_2, 1^{c'})``, ``s = 1`` when ``c >= 1`` (column 1 is
    taller than 2) and ``s = 0`` when ``c = 0``:

    .. math::
        \frac{c_\mu}{c_\kappa}\beta_{\kappa\mu} = \psi_{\kappa/\mu}
        = \frac{G_0(\mu_1 - b) G_0(a - \mu_1)}{G_0(a - b)}
          \frac{G_1(\mu_1 - s) G_1(a - \mu_2)}{G_1(\mu_1 - \mu_2) G_1(a - s)}
          \frac{G_0(\mu_2 - s) G_0(b - \mu_2)}{G_0(b - s)}
          \Big[\frac{F_{\ell-1}(\mu_1 - 1) F_{\ell-2}(\mu_2 - 1)}{F_{\ell-1}(a - 1) F_{\ell-2}(b - 1)}\Big]

    (``F_l(u) = (2u + l + 1)/(2u + l + 2)``; the bracket only when ``c >= 1`` and the last row is
    kept, ``c' = c``): the boxes of rows 1 and 2 in columns the strip leaves alone, grouped by
    their legs (0 beyond column ``b``, 1 in columns ``2..b``, ``ℓ − 1`` and ``ℓ − 2`` in column 1).
    One row: ``ψ = G_0(μ_1) G_0(a − μ_1) / G_0(a)``.  The ``G`` are large rationals and ``β`` is
    small, so only the first ``β`` of each run ``μ_2 = μ_2^{min}, …, b`` (fixed ``μ_1`` and ``c'``)
    is formed from them; the others follow by the ratio of consecutive terms (:func:`_step`).

    Returns ``(same, fewer)``: lists of ``(index of μ, β)`` with ``ℓ(μ) = ℓ(κ)`` and ``ℓ(κ) − 1``.
    """
    a, b, c = shape
    same, fewer = [], []
    if b == 0:
        head = c_kappa / G0[a]
        for m1 in range(a):
            i = index[(m1, 0, 0)]
            (fewer if m1 == 0 else same).append((i, head * G0[m1] * G0[a - m1] * inv_c[i]))
        return same, fewer
    s = 1 if c else 0
    ell = 2 + c
    head = c_kappa / (G0[a - b] * G1[a - s] * G0[b - s])
    kept_head = head / (_f(ell - 1, a - 1) * _f(ell - 2, b - 1)) if c else head

    def first(m1, m2, kept, i):
        beta = (kept_head if kept else head) * G0[m1 - b] * G0[a - m1] * G1[m1 - s]
        beta = beta * G0[m2 - s] * G0[b - m2] * G1[a - m2] * inv_c[i] / G1[m1 - m2]
        if kept and c:
            beta = beta * _f(ell - 1, m1 - 1) * _f(ell - 2, m2 - 1)
        return beta

    for m1 in range(b, a + 1):
        if not c:
            i = index[(m1, 0, 0)]
            fewer.append((i, first(m1, 0, False, i)))
        runs = [(same, c, True, ell)] + ([(fewer, c - 1, False, ell - 1)] if c else [])
        for out, c_mu, kept, ell_mu in runs:
            i = index[(m1, 1, c_mu)]
            beta = first(m1, 1, kept, i)
            for m2 in range(1, b + 1):
                if m2 > 1:
                    beta = beta * _step(a, b, m1, m2 - 1, s, ell, ell_mu, kept and c > 0)
                if (m1, m2, kept) != (a, b, True):
                    out.append((index[(m1, m2, c_mu)], beta))
    return same, fewer


def _step(a, b, m1, m2, s, ell, ell_mu, kept_column):
    r"""``β_{κμ'} / β_{κμ}`` for ``μ = (μ_1, μ_2, 1^{c'})`` and ``μ' = (μ_1, μ_2 + 1, 1^{c'})``.

    From the factorisation of :func:`_branching_weights` (each ``G`` ratio is one ``F``) and

    .. math::
        c_{(a, b, 1^{\ell - 2})} = (2a + \ell - 2)\, \frac{2^{b-1}(a-1)!}{(a-b)!}\,(2a - 2b - 1)!!\,
            (2b + \ell - 3)\,(2b - 3)!!\,(\ell - 2)!  \qquad (b >= 1)

    (rows 1, 2 and column 1 of the hooks ``2 a(s) + l(s) + 1``), with ``ℓ' = ℓ(μ)``:
    ``c_{μ'}/c_μ = 2(μ_1 − μ_2)(2μ_2 + ℓ' − 1)(2μ_2 − 1) / ((2μ_1 − 2μ_2 − 1)(2μ_2 + ℓ' − 3))``.
    The product is
    ``F_0(μ_2 − s) F_1(μ_1 − μ_2 − 1) / (F_0(b − μ_2 − 1) F_1(a − μ_2 − 1)) · c_μ/c_{μ'}``, times
    ``F_{ℓ−2}(μ_2) / F_{ℓ−2}(μ_2 − 1)`` when column 1 keeps its last box.
    """
    num = ((2 * m2 - 2 * s + 1) * (2 * b - 2 * m2) * (2 * a - 2 * m2 + 1) * (2 * m1 - 2 * m2 - 1)
           * (2 * m2 + ell_mu - 3))
    den = ((2 * m2 - 2 * s + 2) * (2 * m1 - 2 * m2 + 1) * (2 * b - 2 * m2 - 1) * (2 * a - 2 * m2)
           * (2 * m2 + ell_mu - 1) * (2 * m2 - 1))
    if kept_column:
        num *= (2 * m2 + ell - 1) * (2 * m2 + ell - 2)
        den *= (2 * m2 + ell) * (2 * m2 + ell - 3)
    return flint.fmpq(num, den)


class _ShapeTable:
    """The shapes with at most ``J`` boxes and ``d`` rows, and ``θ_κ = theta_num[κ] / theta_den[|κ|]``.

    ``shapes`` is ordered by size, so the table for ``J`` is a prefix of the table for any larger
    ``J``; ``count[j]`` is the number of shapes with at most ``j`` boxes.
    """

    def __init__(self, J: int, d: int):
        self.J, self.d = J, d
        self.shapes = _family(J, d)
        self.index = {s: i for i, s in enumerate(self.shapes)}
        self.sizes = [_size(s) for s in self.shapes]
        self.lengths = [_length(s) for s in self.shapes]
        self.count = {}
        for i, j in enumerate(self.sizes):
            self.count[j] = i + 1
        thetas = [Fraction(0)] + [_theta(s) for s in self.shapes[1:]]
        self.theta_den = [1] * (J + 1)
        for t, j in zip(thetas, self.sizes):
            self.theta_den[j] = math.lcm(self.theta_den[j], t.denominator)
        self.theta_num = [flint.fmpz(t.numerator * (self.theta_den[j] // t.denominator))
                          for t, j in zip(thetas, self.sizes)]
        self._m_polynomials = None

    def m_polynomials(self) -> list:
        """``Π_{s∈κ} (1 + h(s) x)`` for every shape (``fmpz_poly`` in ``x = 1/m``), kept once built."""
        if self._m_polynomials is None:
            weight = _content_tables(self.J, lambda h: flint.fmpz_poly([1, h]))
            self._m_polynomials = [weight(s) for s in self.shapes]
        return self._m_polynomials


class _Shapes(_ShapeTable):
    """The shape table with the branching weights: per shape ``(L_κ, same_idx, same_N, fewer_idx,
    fewer_N)``, ``β_{κμ} = N / L_κ`` for each source ``μ`` (``ℓ(μ) = ℓ(κ)`` or ``ℓ(κ) − 1``)."""

    def __init__(self, J: int, d: int):
        super().__init__(J, d)
        c = [_lower_hook_product(s) for s in self.shapes]
        inv_c = [flint.fmpq(1, v) for v in c]
        G0, G1 = _g_table(0, J), _g_table(1, J)
        self.branching = [None]
        for k, shape in enumerate(self.shapes[1:], start=1):
            same, fewer = _branching_weights(shape, self.index, inv_c, G0, G1, flint.fmpz(c[k]))
            L = flint.fmpz(1)
            for _, beta in same + fewer:
                L = L.lcm(beta.q)
            self.branching.append((L, [i for i, _ in same], [(beta * L).p for _, beta in same],
                                   [i for i, _ in fewer], [(beta * L).p for _, beta in fewer]))


_SHAPES: dict[int, _Shapes] = {}
# Weights are kept between calls up to this many boxes (at d = 10 about 30 MB at J = 40, 80 MB at
# J = 48; at J = 80 they take about 1 GB and are rebuilt each call).
_CACHE_MAX_J = 48


def _shapes(J: int, d: int) -> _Shapes:
    """The shape data for ``J`` boxes and ``d`` rows (a cached larger one serves by its prefix)."""
    cached = _SHAPES.get(d)
    if cached is not None and cached.J >= J:
        return cached
    data = _Shapes(J, d)
    if J <= _CACHE_MAX_J:
        _SHAPES[d] = data
    return data


@lru_cache(maxsize=64)
def _pair_counts(J: int, d: int) -> tuple[int, int]:
    """(strip pairs of the weights, multiply-adds of the evaluation with ``d`` variables).

    ``(a)`` has ``a`` sources; ``(a, b)`` has ``(a − b + 1)(b + 1) − 1``; ``(a, b, 1^c)``, ``c >= 1``,
    has ``(a − b + 1) b`` with ``ℓ(μ) = ℓ(κ) − 1`` and one fewer with ``ℓ(μ) = ℓ(κ)``.  With ``d``
    variables a shape of length ``ℓ`` is updated ``d − ℓ + 1`` times, all sources but the last
    ``ℓ − 1`` time only ``ℓ(μ) = ℓ(κ) − 1``.
    """
    weights = evaluation = 0
    for shape in _family(J, d)[1:]:
        a, b, c = shape
        ell = _length(shape)
        if b == 0:
            fewer, same = 1, a - 1
        elif c == 0:
            fewer, same = a - b + 1, (a - b + 1) * b - 1
        else:
            fewer, same = (a - b + 1) * b, (a - b + 1) * b - 1
        weights += fewer + same
        evaluation += (d - ell + 1) * fewer + (d - ell) * (same + 1)
    return weights, evaluation


# --------------------------------------------------------------------------------------------
# Jack polynomials of the spectrum


def _jack_numerators(sh: _Shapes, J: int, ys, vs, divide):
    r"""``K_κ = V^{|κ|} J_κ(y_1/v_1, …, y_r/v_r)`` for every shape of size ``<= J``, ``V = Π v_i``.

    One variable at a time: with ``Y = y_r V_{r-1}``, ``v = v_r`` and ``M = J``,

    .. math::
        K^{(r)}_\kappa = \sum_\mu \beta_{\kappa\mu} Y^{|\kappa| - |\mu|} v^{|\mu|} K^{(r-1)}_\mu
        = \frac{1}{L_\kappa Y^{M - |\kappa|}} \sum_\mu N_{\kappa\mu} H_\mu,
        \qquad H_\mu = Y^{M - |\mu|} v^{|\mu|} K^{(r-1)}_\mu,

    one dot product per shape and variable (``μ = κ`` included, ``N = L_κ``).  ``divide(x, q)``
    is exact division (integers) or ball division (arb).  Every ``y_r`` is nonzero.
    """
    n = sh.count[J]
    sizes, lengths, branching = sh.sizes, sh.lengths, sh.branching
    zero = flint.fmpz(0)
    K = [flint.fmpz(1)] + [zero] * (n - 1)
    V = flint.fmpz(1)
    for r, (y, v) in enumerate(zip(ys, vs), start=1):
        Y = y * V
        pY = [flint.fmpz(1)]
        pv = [flint.fmpz(1)]
        for _ in range(J):
            pY.append(pY[-1] * Y)
            pv.append(pv[-1] * v)
        H = [pY[J - sizes[i]] * pv[sizes[i]] * K[i] if lengths[i] < r else zero for i in range(n)]
        new = [K[0]] + [zero] * (n - 1)
        for k in range(1, n):
            ell = lengths[k]
            if ell > r:
                continue
            L, same_idx, same_N, fewer_idx, fewer_N = branching[k]
            total = sum(map(mul, fewer_N, [H[i] for i in fewer_idx]))
            if ell < r:
                total += L * H[k] + sum(map(mul, same_N, [H[i] for i in same_idx]))
            new[k] = divide(total, L * pY[J - sizes[k]])
        K = new
        V *= v
    return K, V


def _exact_division(x, q):
    quotient, remainder = divmod(x, q)
    if remainder != 0:
        raise AssertionError("a Jack polynomial of integers is not an integer: the branching is wrong")
    return quotient


def _ball_division(x, q):
    return x / q


# --------------------------------------------------------------------------------------------
# The spectrum of Γ^{-1}Σ, exactly


# The zonal route's reach: the shapes (a, b, 1^c) at 2k boxes number about (2k)³/12 and their data
# about 1 GB at k = 40 (two minutes of CPU at d = 10); far beyond, nothing would finish.
ZONAL_K_MAX = 200


def _within_reach(k: int) -> None:
    if k > ZONAL_K_MAX:
        raise ValueError(f"k = {k} is beyond the finite-m trace's reach (k <= {ZONAL_K_MAX}: the shape data "
                         "grows like k³); theory.error_bracket gives certified bounds at larger k")


def _validated(train_cov, n, k, test_cov):
    G = gamma_exact(train_cov, n)
    if test_cov is None:
        sigma = as_exact_covariance(train_cov, "train_cov")
    else:
        sigma = as_exact_covariance(test_cov, "test_cov")
        same_dimension(G, sigma, "train_cov", "test_cov")
    k = positive_int(k, "k", minimum=0)
    return G, sigma, k


def _spectrum_factors(G, sigma):
    """Primitive integer irreducible factors (with multiplicity) of the characteristic polynomial
    of ``Γ^{-1}Σ``, zero roots left out."""
    A = exact_solve(G, sigma, "Γ")
    d = A.shape[0]
    mat = flint.fmpq_mat(d, d, [flint.fmpq(v.numerator, v.denominator) for v in A.flat])
    chi = mat.charpoly()
    den = math.lcm(*(int(c.q) for c in chi.coeffs()))
    integer = flint.fmpz_poly([int(c.p) * (den // int(c.q)) for c in chi.coeffs()])
    _, factors = integer.factor()
    return [(f, e) for f, e in factors if f != flint.fmpz_poly([0, 1])]


class _Spectrum:
    """The nonzero eigenvalues of ``Γ^{-1}Σ``: rational ``(y_i, v_i)`` pairs, or ``D`` and the
    integer monic polynomials whose roots are ``D ω_i`` (when some are irrational)."""

    def __init__(self, G, sigma):
        factors = _spectrum_factors(G, sigma)
        self.rational = all(f.degree() == 1 for f, _ in factors)
        if self.rational:
            # f = v x + c0: ω = −c0 / v, written in lowest terms with v > 0
            roots = [flint.fmpq(-f[0], f[1]) for f, e in factors for _ in range(e)]
            self.ys = [r.p for r in roots]
            self.vs = [r.q for r in roots]
            self.omega = [Fraction(int(r.p), int(r.q)) for r in roots]
            return
        D = flint.fmpz(1)
        for f, _ in factors:
            D = D.lcm(abs(f[f.degree()]))
        self.D = D
        # ρ = D ω is a root of the monic integer Σ_i f_i D^{e−i} x^i / f_e
        self.monic = []
        for f, e in factors:
            deg, lead = f.degree(), f[f.degree()]
            coeffs = [f[i] * D ** (deg - i) // lead for i in range(deg + 1)]
            self.monic.append((flint.fmpz_poly(coeffs), e))

    @property
    def rank(self) -> int:
        """The number of nonzero eigenvalues, with multiplicity."""
        if self.rational:
            return len(self.ys)
        return sum(f.degree() * e for f, e in self.monic)

    def root_balls(self) -> list:
        """Real balls for ``ρ_i = D ω_i`` at the current working precision."""
        out = []
        for f, e in self.monic:
            for root, mult in f.complex_roots():
                out += [root.real] * (mult * e)
        return out


def _integer_jacks(sh: _Shapes, J: int, spec: _Spectrum):
    """``(I, V)`` with ``J_κ(ω) = I_κ / V^{|κ|}``, ``I_κ`` integers, for every shape of size ``<= J``."""
    if spec.rational:
        return _jack_numerators(sh, J, spec.ys, spec.vs, _exact_division)
    n = sh.count[J]
    r = spec.rank
    # J_κ(ρ) <= ρ_max^{|κ|} J_κ(1^r) (nonnegative coefficients), J_κ(1^r) = Π_s (r + content(s))
    with flint.ctx.workprec(64):
        top = max(abs(x).upper() for x in spec.root_balls())
    log_top = max(0.0, math.log2(float(top)))
    at_r = _content_tables(J, lambda h: max(1, r + h))
    bits = max(sh.sizes[i] * log_top + math.log2(at_r(sh.shapes[i])) for i in range(n))
    prec = int(bits) + 64
    while True:
        with flint.ctx.workprec(prec):
            K, _ = _ball_jacks(sh, J, spec)
            ints = [x.unique_fmpz() if isinstance(x, flint.arb) else x for x in K]
        if all(v is not None for v in ints):
            return ints, spec.D
        prec *= 2


def _ball_jacks(sh: _Shapes, J: int, spec: _Spectrum):
    """``(K, V)`` with ``J_κ(ω) ∈ K_κ / V^{|κ|}``: arb balls at the current working precision."""
    if spec.rational:
        return _jack_numerators(sh, J, [flint.arb(y) for y in spec.ys], [flint.arb(v) for v in spec.vs],
                                _ball_division)
    balls = spec.root_balls()
    K, _ = _jack_numerators(sh, J, balls, [flint.fmpz(1)] * len(balls), _ball_division)
    return K, spec.D


# --------------------------------------------------------------------------------------------
# Assembly


class _Jacks:
    """``J_κ(ω) = I_κ / V^{|κ|}`` for the shapes with at most ``J`` boxes and ``ℓ <= rank``.

    Exact integers ``I_κ`` by default; with ``balls=True`` arb enclosures at the current working
    precision (everything computed from them must run at that precision too).
    """

    def __init__(self, G, sigma, J: int, balls: bool = False, spec=None):
        self.d, self.J = G.shape[0], J
        spec = _Spectrum(G, sigma) if spec is None else spec
        self.rank = spec.rank
        if self.rank == 0 or J == 0:
            self.sh = None
            return
        self.sh = _shapes(J, self.rank)
        self.I, self.V = (_ball_jacks if balls else _integer_jacks)(self.sh, J, spec)

    def sums(self, weights) -> list:
        r"""``Σ_{κ ⊢ j} θ_κ I_κ w_κ`` times ``Θ_j`` (the common denominator of the ``θ_κ``), ``j = 0..J``.

        ``weights[i]`` is ``w_κ`` for the ``i``-th shape.
        """
        by_size = [0] * (self.J + 1)
        sh, I = self.sh, self.I
        for i in range(1, sh.count[self.J]):
            by_size[sh.sizes[i]] += sh.theta_num[i] * I[i] * weights[i]
        return by_size

    def m_values(self, m: int) -> list:
        """``Π_{s∈κ} (m + h(s))`` for every shape up to ``J`` boxes."""
        weight = _content_tables(self.J, lambda h: m + h)
        return [weight(s) for s in self.sh.shapes[:self.sh.count[self.J]]]

    def trace(self, k: int, by_size, scale):
        r"""``(num, den)`` with ``num / den = d + Σ_{j=1}^{2k} C(2k, j)(−1)^j by_size[j] / (Θ_j (s V)^j)``.

        ``scale`` is ``s``: ``m`` when ``by_size`` holds ``Π_s (m + h)`` weights (the value at ``m``),
        ``1`` for the ``1/m`` polynomial.
        """
        J = 2 * k
        if self.sh is None or k == 0:
            return self.d, 1
        theta_den = self.sh.theta_den
        lcm = math.lcm(*theta_den[1:J + 1])
        base = self.V * scale
        total = 0
        for j in range(1, J + 1):
            c = comb(J, j) * (lcm // theta_den[j]) * base ** (J - j)
            total += (-c if j % 2 else c) * by_size[j]
        den = lcm * base ** J
        return total + self.d * den, den


def _traces(G, sigma, k: int, m: int) -> list[Fraction]:
    """``T_0(m), …, T_k(m)`` exactly, from one evaluation of the Jack polynomials."""
    jacks = _Jacks(G, sigma, 2 * k)
    if jacks.sh is None:
        return [Fraction(G.shape[0])] * (k + 1)
    by_size = jacks.sums(jacks.m_values(m))
    out = []
    for kk in range(k + 1):
        num, den = jacks.trace(kk, by_size, m)
        out.append(Fraction(int(num), int(den)))
    return out


def _trace_bounds(G, sigma, k: int, m: int, spec=None) -> list[tuple[Fraction, Fraction]]:
    """Rigorous ``(lower, upper)`` for ``T_0(m), …, T_k(m)``, from arb balls (no exact integers).

    The precision starts at ``128 + 2k`` bits and doubles until ``T_k`` is known to a relative 2^-50
    (the alternating sum over ``j`` cancels, more so as ``k`` grows: at ``k = 40``, ``d = 10`` it
    loses about 78 bits; the Jack recursion itself has no cancellation).
    """
    spec = _Spectrum(G, sigma) if spec is None else spec
    d = G.shape[0]
    if spec.rank == 0 or k == 0:
        return [(Fraction(d), Fraction(d))] * (k + 1)
    prec = 128 + 2 * k
    while True:
        with flint.ctx.workprec(prec):
            jacks = _Jacks(G, sigma, 2 * k, balls=True, spec=spec)
            by_size = jacks.sums(jacks.m_values(m))
            balls = []
            for kk in range(k + 1):
                num, den = jacks.trace(kk, by_size, m)
                balls.append(flint.arb(num) / den)
            last = balls[-1]
            if last > 0 and last.rad() <= last.mid() * flint.arb(2) ** -50:
                return [(_arb_lower(x), _arb_upper(x)) for x in balls]
        prec *= 2


def _arb_upper(x) -> Fraction:
    """An exact ``Fraction`` ``>=`` every point of the arb ball ``x``."""
    mantissa, exponent = x.upper().man_exp()
    return Fraction(int(mantissa)) * Fraction(2) ** int(exponent)


def _arb_lower(x) -> Fraction:
    """An exact ``Fraction`` ``<=`` every point of the arb ball ``x``."""
    mantissa, exponent = x.lower().man_exp()
    return Fraction(int(mantissa)) * Fraction(2) ** int(exponent)


# --------------------------------------------------------------------------------------------
# Cost, the top eigenvalue, and the isotropic trace (used by theory.bracket)

# Measured on one core of the reference machine (a shared 2-core machine at a load average of 7–9,
# CPU seconds, d = 10): building the weights costs about (1.4 + 0.035 J) µs per strip pair at J
# boxes; one exact multiply-add of the evaluation 0.32 + 0.033 x + 0.00083 x² µs for integers of
# x thousand bits (about 2k times the bits per box: 0.4 µs at x = 2.4, 1.4 at 21, 3.2 at 42); one
# in 128–256-bit balls about 0.45 µs.
_WEIGHT_SECONDS = (1.4e-6, 3.5e-8)
_PAIR_SECONDS = (3.2e-7, 3.3e-8, 8.3e-10)
_BALL_PAIR_SECONDS = 4.5e-7


def _profile(spec: _Spectrum) -> tuple[int, int, bool]:
    """``(rank, bits per box, ball arithmetic)`` of a spectrum, for the cost estimate."""
    if spec.rational:
        return spec.rank, sum(int(v).bit_length() for v in spec.vs), False
    return spec.rank, int(spec.D).bit_length() + 8, True


def _zonal_cost(k: int, profile, balls: bool = False) -> float:
    """Estimated CPU seconds of ``T_0(m), …, T_k(m)``: exact, or as balls (:func:`_trace_bounds`).

    The weights count when they are not cached.  Exact values of an irrational spectrum come from
    balls at the precision of the integers, taken as twice the cost of integers of that size.
    """
    rank, bits, irrational = profile
    if k == 0 or rank == 0:
        return 0.0
    J = 2 * k
    weights, evaluation = _pair_counts(J, rank)
    cached = _SHAPES.get(rank)
    build = 0.0
    if cached is None or cached.J < J:
        build = weights * (_WEIGHT_SECONDS[0] + _WEIGHT_SECONDS[1] * J)
    if balls:
        return build + evaluation * _BALL_PAIR_SECONDS
    x = J * bits / 1000
    per_pair = (_PAIR_SECONDS[0] + _PAIR_SECONDS[1] * x + _PAIR_SECONDS[2] * x * x) * (2.0 if irrational else 1.0)
    return build + evaluation * per_pair


def _top_eigenvalue_bounds(spec: _Spectrum) -> tuple[Fraction, Fraction]:
    """Rationals ``β̲ <= λ_max(Γ^{-1}Σ) <= ω̄`` (equal when the spectrum is rational; 0 when it is 0)."""
    if spec.rank == 0:
        return Fraction(0), Fraction(0)
    if spec.rational:
        top = max(spec.omega)
        return top, top
    with flint.ctx.workprec(128):
        balls = spec.root_balls()
        low = max(_arb_lower(x) for x in balls)
        high = max(_arb_upper(x) for x in balls)
    return max(low, Fraction(0)) / int(spec.D), high / int(spec.D)


# Closed-form θ and content products cost about this much per shape (CPU seconds).
_ISOTROPIC_SECONDS_PER_SHAPE = 2e-5


def _isotropic_trace(d: int, k: int, m: int, w: Fraction, budget: float) -> Fraction | None:
    r"""``E tr(w W/m − I)^{2k}`` for ``W ~ W_d(m, I)``, exactly; ``None`` over the budget.

    .. math::
        \sum_{j=0}^{2k} \binom{2k}{j}(-1)^j \frac{w^j}{m^j} \sum_{\kappa \vdash j}
            \theta_\kappa \prod_{s\in\kappa}(d + h(s)) \prod_{s\in\kappa}(m + h(s))

    (``J_κ(w 1^d) = w^{|κ|} Π_s (d + h(s))``, ``h`` the contents): no Jack recursion.
    """
    J = 2 * k
    shapes = len(_family(J, d))
    if shapes * _ISOTROPIC_SECONDS_PER_SHAPE > budget:
        return None
    table = _ShapeTable(J, d)
    at_d = _content_tables(J, lambda h: d + h)
    at_m = _content_tables(J, lambda h: m + h)
    by_size = [0] * (J + 1)
    for i in range(1, len(table.shapes)):
        shape = table.shapes[i]
        by_size[table.sizes[i]] += int(table.theta_num[i]) * at_d(shape) * at_m(shape)
    p, q = w.numerator, w.denominator
    lcm = math.lcm(*table.theta_den[1:])
    total = d * lcm * (q * m) ** J
    for j in range(1, J + 1):
        total += comb(J, j) * (-1) ** j * (lcm // table.theta_den[j]) * p ** j * (q * m) ** (J - j) * by_size[j]
    return Fraction(total, lcm * (q * m) ** J)


def finite_m_trace_cost(train_cov, n, k, test_cov=None) -> float:
    """Estimated CPU seconds of :func:`finite_m_trace` at finite ``m`` on the reference machine.

    From the number of (shape, strip) pairs at ``2k`` boxes and the bit size of the spectrum,
    calibrated on the reference machine (shared, loaded; ``bench/bench_trace.py``): a guide, not a
    promise; :func:`theory.bracket.error_bracket` uses the same model for its ball computation.
    """
    G, sigma, k = _validated(train_cov, n, k, test_cov)
    _within_reach(k)
    return _zonal_cost(k, _profile(_Spectrum(G, sigma)))


# --------------------------------------------------------------------------------------------
# Public API


def finite_m_trace(train_cov, n, k, test_cov=None, m=None) -> Fraction:
    r"""Remark 4.1's trace at test length ``m``, exactly: ``E tr N̂^{2k}``.

    .. math::
        T_k(m) = \mathbb E \operatorname{tr}\big(I - \Gamma^{-1}\hat S_m\big)^{2k}
        = \sum_{j=0}^{2k}\binom{2k}{j}(-1)^j \sum_{\kappa \vdash j} \theta_\kappa J_\kappa(\omega)
          \prod_{(i,t)\in\kappa}\Big(1 + \frac{2(t-1) - (i-1)}{m}\Big),

    with ``ω`` the eigenvalues of ``Γ^{-1}Σ`` (zonal polynomials; see the module docstring).  It is
    the lower end of the prompt-by-prompt bracket
    ``tr N̂^{2k} <= ‖M̂^k‖_F² <= ½(κ(Γ) + 1/κ(Γ)) tr N̂^{2k}`` (:func:`theory.bracket.error_bracket`).

    Parameters
    ----------
    train_cov : array_like
        Λ, symmetric PSD and nonzero, or 1-D eigenvalues; floats are converted exactly.
    n : int
        Training prompt length, ``n >= 1``.
    k : int
        Number of LSA passes, ``k >= 0``.
    test_cov : array_like, optional
        Σ (default Λ).
    m : int, optional
        Test prompt length, ``m >= 1``; ``None`` is ``m = ∞``, where the value is ``tr N^{2k}``
        (:func:`theory.overthinking.remark41_trace_exact`).

    Returns
    -------
    Fraction
        The exact value.

    Notes
    -----
    Cost: about ``d k^4 / 2`` products of integers that grow to about ``2k`` times the bits of the
    eigenvalues (see ``bench/bench_trace.py`` and the README for measured times); the shape data
    (``θ_κ``, branching weights) up to ``2k = 48`` boxes is cached between calls.
    """
    G, sigma, k = _validated(train_cov, n, k, test_cov)
    if m is None:
        return remark41_trace_exact(train_cov, n, train_cov if test_cov is None else test_cov, k)
    m = positive_int(m, "m")
    _within_reach(k)
    return _traces(G, sigma, k, m)[k]


def finite_m_trace_poly(train_cov, n, k, test_cov=None) -> ErrorPoly:
    r"""Remark 4.1's trace as an exact polynomial in ``1/m``: the coefficients of ``T_k(m)``.

    .. math::
        T_k(m) = \mathbb E \operatorname{tr} \hat N^{2k} = \sum_{r=0}^{2k-1} c_r\, m^{-r},
        \qquad c_0 = \operatorname{tr} N^{2k} = \sum_i (1 - \omega_i)^{2k}

    (see :func:`finite_m_trace`; the same parameters without ``m``).  The coefficient of ``m^{-r}``
    collects, for each shape, the ``r``-th elementary symmetric function of its contents
    ``2(t − 1) − (i − 1)``.

    Returns
    -------
    ErrorPoly
        ``coefficients = (c_0, ..., c_{2k-1})`` as exact ``Fraction`` (``(d,)`` when ``k = 0``);
        ``evaluate(m)`` gives :func:`finite_m_trace`.
    """
    G, sigma, k = _validated(train_cov, n, k, test_cov)
    _within_reach(k)
    jacks = _Jacks(G, sigma, 2 * k)
    size = max(1, 2 * k)
    if jacks.sh is None or k == 0:
        return ErrorPoly((Fraction(G.shape[0]),) + (Fraction(0),) * (size - 1), k)
    by_size = jacks.sums(jacks.sh.m_polynomials())
    num, den = jacks.trace(k, by_size, 1)
    den = int(den)
    return ErrorPoly(tuple(Fraction(int(num[r]), den) for r in range(size)), k)
