r"""High-precision Monte Carlo of the CoT test error, on NumPy or CuPy through the array API.

Notation (arXiv 2510.03605; proofs/math.md §5 and §19):

* training covariance ``Λ`` (``train_cov``), training prompt length ``n``,
  ``Γ = (1 + 1/n) Λ + (tr Λ / n) I``;
* test covariance ``Σ`` (``test_cov``; ``Σ = Λ`` by default), test prompt length ``m``,
  ``Ŝ = (1/m) X Xᵀ`` with ``m`` columns ``x_a ~ N(0, Σ)``;
* CoT with ``w_0 = 0`` and ``k`` LSA passes (``k = 1`` is direct in-context learning):
  ``w_k − w = −(I − Γ^{-1}Ŝ)^k w``, ``w ~ N(0, I_d)``;
* ``err_k = E‖w_k − w‖² = E‖(I − Γ^{-1}Ŝ)^k‖_F²`` (the expectation over ``w`` done exactly);
* ``B = Γ^{-1/2} Ŝ Γ^{-1/2}``, ``C_k = (I − B)^k``, so that ``‖(I − Γ^{-1}Ŝ)^k‖_F² =
  tr(C_k Γ^{-1} C_k Γ)``: one symmetric eigendecomposition of ``B`` per prompt gives every ``k``.

The kernels are written against the array API standard (via ``array_api_compat``); only the
random draw is backend-specific (:mod:`theory._backend`).  Batch sums are combined exactly, values
beyond float64 are carried as logarithms, a diagnostic per ``k`` says whether the normal interval
can be trusted (:class:`MCResult`), and an importance-sampling option (``tilt``) samples the heavy
tail where plain sampling misses it.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from array_api_compat import device

from theory._exact import log_fraction
from theory._backend import SAMPLERS, factor_width, get_backend
from theory._repr import RichRepr
from theory._validate import as_covariance, positive_int, same_dimension
from theory.covariance import gamma

#: The normal interval of ``mean`` is called trustworthy when the estimated relative standard error
#: of ``stderr`` itself is at most this (a "5 SE" bound then means 4.75 to 5.25 true standard
#: errors; in the calibration of :class:`MCResult` 0.1 admits ``|z| = 3.71``, 0.05 at most 2.58) ...
SE_REL_SE_MAX = 0.05
#: ... and the single most extreme prompt carries at most this share of ``Σ (v − v̄)²``
#: (it then moves the mean by at most ``sqrt(0.03) ≈ 0.17`` standard errors) ...
TAIL_SHARE_MAX = 0.03
#: ... and, with ``certify``, the interval ``mean ± CERTIFY_Z·stderr`` meets the certified bracket
#: ``[lower, upper]`` of ``err_k``.  5 is the project's z limit: for a normal mean a false alarm has
#: probability 6e-7, while a sample that missed the tail sits many standard errors below ``lower``.
CERTIFY_Z = 5.0
#: Budget of :func:`theory.bracket.error_bracket` (exact engine and zonal trace alike, in its
#: estimated CPU seconds) when ``certify``: a cost per call, not per prompt, of 0.1 to 0.6 s for
#: k = 1..10 at ``d = 10`` (``bench/bench_mc.py`` measures it).
CERTIFY_BUDGET = 0.05

#: Prompts per random stream and per float reduction on NumPy (see :func:`block_size`): fixed, so
#: that no result depends on ``batch``, ``workers`` or the other ``ks``.
BLOCK = 1024
_BLOCK_ELEMENTS = 2**23

#: ``sampler="auto"`` uses Bartlett when ``m >= BARTLETT_MIN_RATIO * d`` (measured by
#: ``bench/bench_mc.py``: from there on Bartlett is faster; near ``m = d`` the scatter into the
#: triangular factor costs about what the saved normals would).
BARTLETT_MIN_RATIO = 2

# Working-set budget of one CuPy batch, in float64 elements (1 GiB).
_CUPY_BATCH_ELEMENTS = 2**27
# progress=None shows a bar on an interactive stderr from this many samples on.
_AUTO_PROGRESS_SAMPLES = 10**7
_LN2 = math.log(2.0)


# --------------------------------------------------------------------------------------------
# Result


#: ``tilt`` is refused where the log importance ratio spreads (like ``(tilt − 1)·sqrt(dm/2)``) beyond
#: this: the weights would span more than e^10000, and the exact bookkeeping of such logs is unbounded.
MAX_TILT_SPREAD = 1e4


def _readonly(values, dtype) -> np.ndarray:
    arr = np.array(values, dtype=dtype)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class MCResult(RichRepr):
    r"""Monte Carlo estimate of ``err_k`` for several ``k`` from one set of prompts.

    Attributes
    ----------
    ks : numpy.ndarray of int
        The numbers of CoT steps, in the order asked.
    mean : numpy.ndarray
        Sample mean of ``‖(I − Γ^{-1}Ŝ)^k‖_F²`` per ``k`` (``inf`` where ``overflow``).
    stderr : numpy.ndarray
        Its standard error ``s / sqrt(samples)`` (``inf`` where ``overflow``).
    log_mean, log_stderr : numpy.ndarray
        Natural logarithms of the two, finite even where the values overflow float64.
    samples : int
        Number of prompts.
    se_rel_se : numpy.ndarray
        Estimated relative standard error of ``stderr`` itself,
        ``½ sqrt((κ̂ − (N−3)/(N−1)) / N)`` with ``κ̂`` the sample kurtosis.
    log_max : numpy.ndarray
        Natural log of the largest per-prompt error seen (the edge of the explored tail).
    tail_share : numpy.ndarray
        Share of the sum of squared deviations ``Σ (v − v̄)²`` carried by the single most extreme
        prompt; its square root is that prompt's pull on ``mean`` in standard errors.
    log_lower_bound, log_upper_bound : numpy.ndarray
        Natural logs of the rigorous bracket ``lower <= err_k <= upper`` the estimate was checked
        against (:func:`theory.bracket.error_bracket` within ``CERTIFY_BUDGET``; equal where the
        exact engine was that cheap); ``-inf`` and ``inf`` where none was computed (``k = 0``,
        ``certify=False``) or none was found within the budget.
    trustworthy : numpy.ndarray of bool
        ``se_rel_se <= SE_REL_SE_MAX`` (0.05) and ``tail_share <= TAIL_SHARE_MAX`` (0.03) and no
        overflow, and the interval ``mean ± 5·stderr`` meets the certified bracket (a sample that
        sits below a proven lower bound has missed the prompts that carry the mean).
    reasons : tuple of str
        Per ``k``, why the estimate is not trustworthy (every rule that failed, with its numbers
        and, for the bracket, the bound, its value and how it was proven); ``""`` where it is.
    certificates : tuple of str
        Per ``k``, the bracket used and how each end was proven (or why there is none).
    certified : bool
        Whether the bracket check ran (``certify``).
    overflow : numpy.ndarray of bool
        ``mean`` or ``stderr`` is beyond float64; read ``log_mean`` and ``log_stderr``.
    d, m, n : int
        Dimension, test prompt length, training prompt length.
    sampler, backend : str
        The sampler actually used (``"auto"`` resolved) and the array backend.
    seed, batch, block, workers : int
        Root seed, prompts per unit of work, prompts per random stream and threads used.  On
        NumPy ``seed``, ``samples`` and ``sampler`` fix each ``k``'s result bit for bit (not
        ``batch``, ``workers`` or the other ``ks``); on CuPy ``batch`` does too.
    tilt : float
        Importance-sampling tilt (``1``: plain Monte Carlo; see :func:`mc_cot_error`).

    Notes
    -----
    Why a diagnostic.  The per-prompt error ``v = ‖(I − Γ^{-1}Ŝ)^k‖_F²`` grows like
    ``λ_max(B)^{2k}`` and ``λ_max(B)`` has a gamma-like tail, so ``v`` has a stretched-exponential
    tail ``P(v > x) ≈ exp(−c x^{1/(2k)})``: every moment is finite, but at large ``k`` and small
    ``m`` a sample of any practical size looks like a power-law sample with a small tail index.
    Such a sample has typically not yet met the prompts that carry the mean: its mean is low and
    its standard error too small, so ``|mean − err_k| / stderr`` is far from normal.

    The rule checks the two things a normal interval rests on.

    * The standard error must be known: ``Var(s²) ≈ (μ₄ − σ⁴)/N``, so the sample's own kurtosis
      gives the relative error of ``stderr``, ``se_rel_se``.  At 0.05 a "5 SE" bound means 4.75 to
      5.25 true standard errors.
    * No single prompt may dominate: for i.i.d. samples ``max_s (v_s − v̄)² / Σ_s (v_s − v̄)² → 0``
      in probability exactly when ``v`` lies in the domain of attraction of the normal law (the
      Student statistic is then asymptotically normal; Giné, Götze & Mason 1997).  A large
      ``tail_share`` is the finite-``N`` sign of the opposite.

    Calibration against exact values (``test_diagnostic_calibration_d1`` in
    ``tests/test_montecarlo.py``, slow tier: ``d = 1`` closed form, ``m`` from 2 to 50,
    ``k = 1..10``, 20 seeds, ``N = 10⁴``, ``certify=False``): the two rules trust 145 of 2400
    estimates, whose largest ``|z|`` is 2.58 (mean ``z`` −0.17: the skew of a heavy-tailed mean is
    still faintly visible), while ``se_rel_se <= 0.1`` alone admits ``|z| = 3.71``.  No diagnostic
    can see a tail the sample never reached: a trustworthy flag is evidence, not proof.  Such
    cases are caught by the certified bracket where it is cheap: at ``d = 10``, ``λ_i ∝ 1/i``,
    ``n = 10``, ``m = 31``, ``k = 20`` samples of 4·10⁴ prompts pass both rules with
    ``0.045 ± 0.0002`` at 10 of the seeds 0..11, while ``err_20 >= 1.354`` is proven (top
    eigen-direction, :mod:`theory.bracket`).  Where the flag is down, ``tilt > 1`` (importance
    sampling) usually restores it.
    """

    ks: np.ndarray
    mean: np.ndarray
    stderr: np.ndarray
    log_mean: np.ndarray
    log_stderr: np.ndarray
    samples: int
    se_rel_se: np.ndarray
    log_max: np.ndarray
    tail_share: np.ndarray
    log_lower_bound: np.ndarray
    trustworthy: np.ndarray
    overflow: np.ndarray
    d: int
    m: int
    n: int
    sampler: str
    backend: str
    seed: int
    batch: int
    reasons: tuple
    log_upper_bound: np.ndarray
    certificates: tuple
    certified: bool
    block: int
    workers: int
    tilt: float = 1.0

    def zscores(self, reference) -> np.ndarray:
        """``(mean − reference) / stderr`` per ``k`` (``reference``: one value per ``k``)."""
        reference = np.asarray(reference, dtype=float)
        if reference.shape != self.mean.shape:
            raise ValueError(f"reference must have one value per k ({self.mean.shape[0]}), "
                             f"got shape {reference.shape}")
        return (self.mean - reference) / self.stderr

    def summary(self) -> str:
        """A plain-text table: one row per ``k``."""
        head = (f"Monte Carlo err_k: d = {self.d}, n = {self.n}, m = {self.m}, "
                f"{self.samples} prompts, sampler {self.sampler}, backend {self.backend}, "
                f"seed {self.seed}, batch {self.batch}, block {self.block}, workers {self.workers}"
                + (f", tilt {self.tilt:g}" if self.tilt != 1.0 else ""))
        rows = [head, f"{'k':>5} {'mean':>14} {'stderr':>11} {'rel.SE':>9} "
                      f"{'SE rel.SE':>9} {'tail':>7}  trustworthy"]
        for i, k in enumerate(self.ks):
            if self.overflow[i]:
                mean = f"e^{self.log_mean[i]:.6g}"
                se = f"e^{self.log_stderr[i]:.4g}"
            else:
                mean = f"{self.mean[i]:.8g}"
                se = f"{self.stderr[i]:.3g}"
            rel = math.exp(self.log_stderr[i] - self.log_mean[i])
            flag = "yes" if self.trustworthy[i] else "no"
            rows.append(f"{int(k):>5} {mean:>14} {se:>11} {rel:>9.2e} "
                        f"{self.se_rel_se[i]:>9.3f} {self.tail_share[i]:>7.3f}  {flag}")
        rows += [f"k = {int(k)}: {why}" for k, why in zip(self.ks, self.reasons) if why]
        return "\n".join(rows)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (f"MCResult(d={self.d}, n={self.n}, m={self.m}, ks={self.ks.tolist()}, "
                f"samples={self.samples}, sampler={self.sampler!r}, backend={self.backend!r}, "
                f"trustworthy={self.trustworthy.tolist()})")


def _log_add(a: float, b: float) -> float:
    """``log(e^a + e^b)`` without overflow."""
    hi, lo = max(a, b), min(a, b)
    return hi if lo == -math.inf else hi + math.log1p(math.exp(lo - hi))


def _certificates(lam, n, ks, m, sigma) -> list[tuple]:
    """Per ``k``: ``(log lower, log upper, how lower, how upper, record)`` of the rigorous bracket
    on ``err_k`` (:mod:`theory.bracket` within :data:`CERTIFY_BUDGET`).  Every ``k`` up to the
    largest in one pass (:func:`theory.bracket.error_bracket_curve`) where that is not much more
    work than the ``ks`` asked for, else one :func:`theory.bracket.error_bracket` per ``k``."""
    from theory.bracket import CURVE_SECONDS, _curve_tail_seconds, error_bracket, error_bracket_curve
    budgets = dict(exact_budget=CERTIFY_BUDGET, trace_budget=CERTIFY_BUDGET)
    curve = None
    if 1 <= max(ks) <= 4 * len(ks) and _curve_tail_seconds(lam.shape[0], max(ks), m) <= CURVE_SECONDS:
        try:
            curve = error_bracket_curve(lam, n, max(ks), test_cov=sigma, m=m, **budgets)
        except OverflowError:
            curve = None  # the per-k route says for which k
    out = []
    for k in ks:
        if k == 0:
            # err_0 = d exactly, and every prompt gives d up to rounding: nothing to certify
            # (the standard error is itself rounding, so a comparison would test the rounding).
            out.append((-math.inf, math.inf, "", "", "none: err_0 = d exactly"))
            continue
        try:
            br = curve[k] if curve is not None else error_bracket(lam, n, k, test_cov=sigma, m=m,
                                                                  **budgets)
        except OverflowError as exc:
            # error_bracket formats a bound beyond float64 into its record with float(): no
            # bracket then, and the record says so rather than claiming one.
            out.append((-math.inf, math.inf, "", "",
                        f"none: theory.bracket.error_bracket failed ({exc})"))
            continue
        if br.exact is not None:
            record = f"exact {_show(br.log_lower)} ({br.lower_method})"
        else:
            record = (f"lower {_show(br.log_lower)} ({br.lower_method}); upper "
                      + (f"{_show(br.log_upper)} ({br.upper_method})" if br.upper is not None
                         else f"none ({br.upper_method})"))
        out.append((br.log_lower, br.log_upper, br.lower_method, br.upper_method, record))
    return out


def _distrust(stat: dict, log_lower: float, log_upper: float, lower_how: str,
              upper_how: str) -> str:
    """Why the normal interval of one ``k`` cannot be trusted; ``""`` when it can."""
    why = []
    if stat["overflow"]:
        why.append("the mean or its standard error is beyond float64 (read log_mean, log_stderr)")
    if stat["se_rel_se"] > SE_REL_SE_MAX:
        why.append(f"the standard error is itself uncertain: its relative error "
                   f"{stat['se_rel_se']:.3g} > {SE_REL_SE_MAX}")
    if stat["tail_share"] > TAIL_SHARE_MAX:
        why.append(f"one prompt carries a share {stat['tail_share']:.3g} > {TAIL_SHARE_MAX} of "
                   f"the squared deviations")
    log_top = _log_add(stat["log_mean"], math.log(CERTIFY_Z) + stat["log_stderr"])
    band = f"mean {_show(stat['log_mean'])} ± {CERTIFY_Z:g}·{_show(stat['log_stderr'])}"
    if log_top < log_lower:
        why.append(f"{band} lies below the certified lower bound {_show(log_lower)} ({lower_how})")
    elif not stat["overflow"] and stat["mean"] - CERTIFY_Z * stat["stderr"] > 0 \
            and math.log(stat["mean"] - CERTIFY_Z * stat["stderr"]) > log_upper:
        why.append(f"{band} lies above the certified upper bound {_show(log_upper)} ({upper_how})")
    return "; ".join(why)


def _show(log_x: float) -> str:
    """A positive number given by its log, in 4 significant digits (``e^...`` beyond float64)."""
    if log_x == -math.inf:
        return "0"
    return f"{math.exp(log_x):.4g}" if log_x < 709 else f"e^{log_x:.6g}"


# --------------------------------------------------------------------------------------------
# Kernels (array API only)


def _log_errors(xp, factor, sqrt_sigma, g, g_inv, ks, m, tilt=1.0):
    r"""Per-prompt ``log ‖(I − Γ^{-1}Ŝ)^k‖_F²`` for a batch, shape ``(len(ks), batch)``.

    Works in the eigenbasis ``V`` of ``Σ̃ = Γ^{-1/2} Σ Γ^{-1/2} = V D Vᵀ``, where
    ``B ≅ D^{1/2} (F Fᵀ / m) D^{1/2}`` (orthogonally similar, so its eigenvalues ``β`` are those of
    ``B``) and ``Γ`` reads ``G = Vᵀ Γ V``.  With ``B = U diag(β) Uᵀ``, ``P = Uᵀ G^{-1} U``,
    ``Q = Uᵀ G U`` and ``t = 1 − β``:

    .. math::
        \operatorname{tr}(C_k \Gamma^{-1} C_k \Gamma) = \sum_{ij} t_i^k t_j^k P_{ij} Q_{ij}
        = M^{2k}\, \hat c^\top (P \circ Q)\, \hat c, \qquad
        \hat c = (t / M)^k,\ M = \max_i |t_i|

    The factor ``M^{2k}`` is kept as a logarithm, so no power overflows; ``P ∘ Q`` is positive
    definite (Schur product theorem), so the quadratic form is ``>= 1/κ(Γ) > 0``.

    With ``tilt = c > 1`` the first half of the block (batch) is drawn from ``W_d(m, cI)``
    (``F → sqrt(c) F``), the rest from ``W_d(m, I)``, and every value is weighted by the
    likelihood ratio of ``W_d(m, I)`` to that mixture at ``W = F Fᵀ`` (deterministic-mixture,
    "balance heuristic" importance sampling; Owen & Zhou 2000), with ``α`` the tilted share:

    .. math::
        w = \frac{p_I(W)}{(1-\alpha)\,p_I(W) + \alpha\,p_{cI}(W)}
          = \Bigl(1 - \alpha + \alpha\, c^{-dm/2}
            e^{(1 - c^{-1}) \operatorname{tr} W / 2}\Bigr)^{-1} \le \frac{1}{1-\alpha}

    (the same ratio for the Gaussian ``d × m`` factor and for the Bartlett factor, whose ``dm``
    normal and chi-square degrees of freedom scale alike).
    """
    batch, d = factor.shape[0], factor.shape[1]
    tilted = batch // 2 if tilt != 1.0 else 0
    log_w = None
    if tilted:
        dev = device(factor)
        scale = xp.concat([xp.full((tilted, 1, 1), math.sqrt(tilt), dtype=xp.float64, device=dev),
                           xp.ones((batch - tilted, 1, 1), dtype=xp.float64, device=dev)])
        factor = scale * factor
        trace_w = xp.sum(xp.sum(factor * factor, axis=-1), axis=-1)
        alpha = tilted / batch
        log_w = -xp.logaddexp(
            xp.full_like(trace_w, math.log(1 - alpha)),
            math.log(alpha) - (d * m / 2) * math.log(tilt) + 0.5 * (1 - 1 / tilt) * trace_w)
    scaled = sqrt_sigma * factor
    b = (scaled @ xp.matrix_transpose(scaled)) / m
    beta, u = xp.linalg.eigh(b)
    u_t = xp.matrix_transpose(u)
    h = (u_t @ g_inv @ u) * (u_t @ g @ u)
    t = 1.0 - beta
    big = xp.max(xp.abs(t), axis=-1, keepdims=True)
    big = xp.where(big > 0, big, xp.ones_like(big))  # t = 0 exactly: every power is 0 anyway
    t_hat = t / big
    log_big = xp.log(big[..., 0])
    rows = []
    # One k at a time, each by the same operations on arrays of the same shape whatever the other
    # ks are: a k's values are then the same bits whichever other ks are asked for.
    for k in ks:
        c_hat = _power(xp, t_hat, k)  # (batch, d)
        quad = xp.sum(c_hat * (h @ xp.expand_dims(c_hat, axis=-1))[..., 0], axis=-1)
        rows.append(xp.log(quad) + (2.0 * k) * log_big)  # h is symmetric
    log_v = xp.stack(rows)  # (K, batch), contiguous rows: the per-k sums run along memory
    if log_w is not None:
        log_v = log_v + xp.reshape(log_w, (1, batch))
    return log_v


def _power(xp, x, k: int):
    """``x**k`` elementwise by binary powering: a recipe fixed by ``k`` alone, about ``2 log2 k``
    multiplications instead of a ``pow`` per element (ten times faster at ``d = 10``), with a
    relative error of at most about ``k`` units in the last place (``2e-11`` at ``k = 10^5``)."""
    if k == 0:
        return xp.ones_like(x)
    result, base = None, x
    while True:
        if k & 1:
            result = base if result is None else result * base
        k >>= 1
        if not k:
            return result
        base = base * base


def _shifted_power_sums(xp, log_v, log_scale, shift):
    """``Σ_s ((v_s − shift_k·2^{e_k}) / 2^{e_k})^p`` for ``p = 1..4``, shape ``(4, K)``.

    ``log_scale`` holds ``e_k ln 2`` and ``shift`` the shifts already divided by ``2^{e_k}``;
    ``e_k`` is chosen on the host so that every term lies in ``[-1, 1]``.
    """
    dev = xp.exp(log_v - log_scale) - shift
    dev2 = dev * dev
    return xp.stack([xp.sum(dev, axis=-1), xp.sum(dev2, axis=-1),
                     xp.sum(dev2 * dev, axis=-1), xp.sum(dev2 * dev2, axis=-1)])


# --------------------------------------------------------------------------------------------
# Exact bookkeeping on the host


def _fraction_from_log(log_x: float) -> Fraction:
    """``exp(log_x)`` as an exact Fraction ``f·2^e`` of the float mantissa, without overflow."""
    e = math.floor(log_x / _LN2)
    return Fraction(math.exp(log_x - e * _LN2)) * Fraction(2) ** e


def _dyadic(x: float, exp: int) -> Fraction:
    """``x · 2^exp`` as an exact Fraction (shifting integers, no rounding)."""
    num, den = x.as_integer_ratio()
    return Fraction(num << exp, den) if exp >= 0 else Fraction(num, den << -exp)


def _float_dyadic(x: float, exp: int) -> tuple[int, int]:
    """``x · 2^exp`` as ``(num, e)`` with value ``num · 2^e`` exactly (``num`` odd or 0)."""
    num, den = x.as_integer_ratio()
    return num, exp - (den.bit_length() - 1)


class _DyadicSum:
    """An exact running sum of dyadic rationals ``num · 2^e`` in one Python integer (far cheaper
    than ``Fraction``, which reduces by a gcd at every step)."""

    __slots__ = ("num", "exp")

    def __init__(self):
        self.num, self.exp = 0, 0

    def add(self, num: int, exp: int) -> None:
        if exp >= self.exp:
            self.num += num << (exp - self.exp)
        else:
            self.num = (self.num << (self.exp - exp)) + num
            self.exp = exp

    def add_fraction(self, x: Fraction) -> None:
        """Add a dyadic ``Fraction`` (its denominator a power of two)."""
        self.add(x.numerator, -(x.denominator.bit_length() - 1))

    def value(self) -> Fraction:
        if self.exp >= 0:
            return Fraction(self.num << self.exp)
        return Fraction(self.num, 1 << -self.exp)


class _Moments:
    """Exact running power sums ``T_p = Σ (v − R)^p`` (``p = 0..4``) about a fixed reference R.

    ``R`` is block 0's mean (rounded to a float mantissa); every later block forms its float sums
    of ``((v − s)/2^e)^p`` about the shift ``s = R`` (``R/2^e`` is exact in float64 unless it falls
    below the float range; then ``s ≠ R`` and the sums are re-centred on ``R`` by the binomial
    expansion).  Everything after the float sums is exact, so the only rounding is inside each
    block, and the combination does not depend on the order of the blocks (they are folded in
    block order all the same).
    """

    def __init__(self):
        self.reference: tuple[int, int] | None = None
        self.count = 0
        self.power_sums = [_DyadicSum() for _ in range(4)]
        self.log_max = -math.inf
        self.log_min = math.inf

    @property
    def sums(self) -> list[Fraction]:
        return [Fraction(self.count)] + [t.value() for t in self.power_sums]

    @property
    def reference_value(self) -> Fraction:
        num, exp = self.reference
        return Fraction(num << exp) if exp >= 0 else Fraction(num, 1 << -exp)

    def add(self, count: int, shift_scaled: float, scale_exp: int, power_sums, log_max: float,
            log_min: float) -> None:
        self.log_max, self.log_min = max(self.log_max, log_max), min(self.log_min, log_min)
        shift = _float_dyadic(shift_scaled, scale_exp)
        if self.reference is None:
            self.reference = shift
        self.count += count
        if shift == self.reference:
            for p, (t, x) in enumerate(zip(self.power_sums, power_sums), start=1):
                t.add(*_float_dyadic(float(x), p * scale_exp))
            return
        local = [Fraction(count)] + [_dyadic(float(x), p * scale_exp)
                                     for p, x in enumerate(power_sums, start=1)]
        delta = _dyadic(shift_scaled, scale_exp) - self.reference_value
        powers = [Fraction(1)]
        for _ in range(4):
            powers.append(powers[-1] * delta)
        for p, t in enumerate(self.power_sums, start=1):
            t.add_fraction(sum(math.comb(p, j) * powers[p - j] * local[j] for j in range(p + 1)))


def _to_float(x: Fraction) -> float:
    try:
        return float(x)
    except OverflowError:
        return math.inf


def _finish(acc: _Moments) -> dict:
    """Mean, standard error and tail diagnostics of one ``k`` from its exact power sums."""
    count, s1, s2, s3, s4 = acc.sums
    a = s1 / count
    mean = acc.reference_value + a
    m2 = s2 / count - a * a
    m4 = s4 / count - 4 * a * s3 / count + 6 * a * a * s2 / count - 3 * a ** 4
    n = int(count)
    se2 = m2 / (n - 1)  # (m2 · N/(N−1)) / N
    log_mean = log_fraction(mean)
    log_se = 0.5 * log_fraction(se2) if se2 > 0 else -math.inf
    mean_f = _to_float(mean)
    se_f = math.sqrt(_to_float(se2)) if se2 > 0 else 0.0
    if m2 > 0 and m4 > 0:
        kurtosis = m4 / (m2 * m2)
        se_rel_se = 0.5 * math.sqrt(max(float(kurtosis - Fraction(n - 3, n - 1)), 0.0) / n)
        extreme = max(abs(_fraction_from_log(acc.log_max) - mean),
                      abs(mean - _fraction_from_log(acc.log_min)))
        tail_share = float(extreme ** 2 / (count * m2))
    else:  # every prompt gave the same value: the mean is exact
        se_rel_se, tail_share = 0.0, 0.0
    overflow = not (math.isfinite(mean_f) and math.isfinite(se_f))
    return {"mean": mean_f, "stderr": se_f, "log_mean": log_mean, "log_stderr": log_se,
            "se_rel_se": se_rel_se, "log_max": acc.log_max, "tail_share": min(tail_share, 1.0), "overflow": overflow}


# --------------------------------------------------------------------------------------------
# Progress bar


class _Progress:
    """A one-line progress bar on stderr, redrawn at most twice a second."""

    def __init__(self, total: int):
        self.total = total
        self.start = self.last = time.monotonic()

    def update(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.5 and done < self.total:
            return
        self.last = now
        frac = done / self.total
        elapsed = now - self.start
        left = elapsed * (1 - frac) / frac if frac > 0 else math.inf
        bar = "#" * int(30 * frac)
        sys.stderr.write(f"\rmc_cot_error [{bar:<30}] {100 * frac:5.1f}%  {done:.3g}/{self.total:.3g}"
                         f" prompts  {elapsed:.0f} s, ~{left:.0f} s left ")
        if done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


# --------------------------------------------------------------------------------------------
# Public function


def _as_ks(ks) -> list[int]:
    if isinstance(ks, numbers.Integral) and not isinstance(ks, (bool, np.bool_)):
        ks = [ks]
    try:
        values = list(np.asarray(ks, dtype=object).ravel()) if not isinstance(ks, range) else list(ks)
    except Exception:
        raise ValueError(f"ks must be a non-empty sequence of integers >= 0, got {ks!r}") from None
    if len(values) == 0:
        raise ValueError("ks must be a non-empty sequence of integers >= 0, got an empty one")
    return [positive_int(k, "ks", minimum=0) for k in values]


def _whitened_frame(gam: np.ndarray, sigma: np.ndarray):
    """``(sqrt(D), G, G^{-1})`` with ``Γ^{-1/2} Σ Γ^{-1/2} = V D Vᵀ``, ``G = VᵀΓV``."""
    g_eig, g_vec = np.linalg.eigh(gam)
    g_inv_half = (g_vec / np.sqrt(g_eig)) @ g_vec.T
    sigma_w = g_inv_half @ sigma @ g_inv_half
    d_eig, v = np.linalg.eigh((sigma_w + sigma_w.T) / 2)
    # Σ is PSD up to as_covariance's tolerance: clip the rounding-level negatives.
    sqrt_sigma = np.sqrt(np.clip(d_eig, 0.0, None)).reshape(-1, 1)
    g = v.T @ gam @ v
    g_inv = v.T @ ((g_vec / g_eig) @ g_vec.T) @ v
    return sqrt_sigma, (g + g.T) / 2, (g_inv + g_inv.T) / 2


def resolve_sampler(sampler: str, d: int, m: int) -> str:
    """The sampler ``"auto"`` stands for at ``(d, m)``; other names are checked and returned."""
    if sampler == "auto":
        return "bartlett" if m >= BARTLETT_MIN_RATIO * d else "direct"
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be 'auto', 'direct' or 'bartlett', got {sampler!r}")
    return sampler


def block_size(d: int, m: int, sampler: str) -> int:
    """Prompts per random stream and per float reduction: :data:`BLOCK`, halved only while one
    block's working set would pass ``2^23`` float64 elements (64 MiB; from ``d`` about 45 on)."""
    r = factor_width(d, m, sampler)
    size = BLOCK
    while size > 16 and size * (2 * d * r + 7 * d * d) > _BLOCK_ELEMENTS:
        size //= 2
    return size


def default_batch(d: int, m: int, n_ks: int, sampler: str, backend: str) -> int:
    """Prompts per batch: one block on NumPy (a thread's unit of work), and on CuPy as many as
    keep one batch's arrays within the device's memory budget."""
    if backend != "cupy":
        return block_size(d, m, sampler)
    r = factor_width(d, m, sampler)
    per_prompt = 2 * d * r + 7 * d * d + 4 * n_ks
    return max(16, _CUPY_BATCH_ELEMENTS // per_prompt)


def mc_cot_error(train_cov, n, ks, *, m, test_cov=None, samples, seed=0, batch=None,
                 backend="numpy", sampler="auto", progress=None, tilt=1.0, workers=None,
                 certify=True) -> MCResult:
    r"""Monte Carlo estimate of the CoT test error ``err_k`` for several ``k`` at once.

    .. math::
        \mathrm{err}_k = \mathbb E\,\|w_k - w\|^2
        = \mathbb E_{\hat S}\,\bigl\|(I - \Gamma^{-1}\hat S)^k\bigr\|_F^2
        = \mathbb E_{\hat S} \operatorname{tr}\bigl(C_k \Gamma^{-1} C_k \Gamma\bigr),
        \qquad C_k = (I - \Gamma^{-1/2}\hat S\,\Gamma^{-1/2})^k

    the test error of Proposition 3.2's CoT iteration ``w_{i+1} = w_i − Γ^{-1}Ŝ(w_i − w)`` with
    ``w_0 = 0`` (our ``w_k`` is the paper's ``w_{k+1}``), ``w ~ N(0, I)`` integrated out exactly,
    test features ``N(0, Σ)``; the quantity bounded by Theorem 3.3 (``k = 1``) and Corollary 3.5.

    Parameters
    ----------
    train_cov : array_like
        Λ, ``(d, d)`` symmetric PSD, or 1-D eigenvalues.
    n : int
        Training prompt length (enters through Γ), ``n >= 1``.
    ks : int or sequence of int
        Numbers of CoT steps, each ``>= 0``; all come from the same prompts (one ``eigh`` each).
    m : int
        Test prompt length, ``m >= 1`` (``m < d`` is allowed: ``Ŝ`` is then singular).
    test_cov : array_like, optional
        Σ; defaults to Λ. Need not commute with Λ.
    samples : int
        Number of test prompts, ``>= 2``.
    seed : int
        Root of the ``numpy.random.SeedSequence`` the streams are spawned from.
    batch : int, optional
        On NumPy: prompts per unit of work handed to a thread (rounded up to whole blocks; it
        does not change the result).  On CuPy: prompts per kernel call (memory is
        ``O(batch · d · max(d, m))``).  Default: :func:`default_batch`.
    backend : {"numpy", "cupy", "array_api_strict"}
        Array library. ``"cupy"`` needs the ``gpu`` extra (``pip install "tts-theory[gpu]"``);
        ``"array_api_strict"`` runs the kernels on the strict reference implementation (tests).
    sampler : {"auto", "direct", "bartlett"}
        ``"direct"`` draws the ``d × m`` features; ``"bartlett"`` draws the Wishart matrix from its
        Bartlett factor (about ``d²/2`` normals and ``d`` chi-squares per prompt, exact for every
        ``m``, see :mod:`theory._backend`); ``"auto"`` uses Bartlett when ``m >= 2d``.
    progress : bool, optional
        Progress bar on stderr; default: on for ``samples >= 10**7`` on an interactive terminal.
    tilt : float
        Importance sampling: half of every block (CuPy: batch) draws the whitened Wishart
        matrix from ``W_d(m, tilt·I)``, half from ``W_d(m, I)``, and each prompt is weighted by
        the likelihood ratio to the mixture (defensive importance sampling; weights ``<= 2``, see
        :func:`_log_errors`).  ``1`` (default) is plain Monte Carlo.  With ``tilt > 1`` the
        weighted per-prompt error is bounded (a polynomial in ``tr W`` times
        ``exp(−(1 − 1/tilt) tr W / 2)`` in the tail), so the heavy tail that makes plain Monte Carlo
        untrustworthy at small ``m`` and large ``k`` is sampled instead of missed.  The useful
        tilt shrinks as ``d·m`` grows (the log-ratio spreads like ``(tilt − 1)·sqrt(dm/2)``);
        ``trustworthy`` says whether a given tilt worked.  The standard error is then that of
        i.i.d. draws from the mixture, an upper bound for the half-and-half allocation.
    workers : int, optional
        Threads evaluating blocks at once on NumPy (LAPACK's batched ``eigh`` and NumPy's array
        loops release the GIL); default ``os.cpu_count()``.  It does not change the result.  CuPy
        runs its one stream in order on one thread, whatever ``workers`` says.
    certify : bool
        Compare each ``k >= 1`` with a rigorous bracket ``lower <= err_k <= upper``
        (:func:`theory.bracket.error_bracket` at a small budget, :data:`CERTIFY_BUDGET`; exact
        when the exact engine is that cheap): an interval ``mean ± 5·stderr`` wholly below
        ``lower`` or above ``upper`` is not trustworthy, and ``MCResult.reasons`` says so with
        the bound and its value.  ``False`` skips it (the heavy-tail rules alone then decide).

    Returns
    -------
    MCResult
        Means, standard errors and a heavy-tail diagnostic per ``k`` (``trustworthy``).

    Notes
    -----
    *Reproducibility.* On NumPy the prompts come in blocks of :func:`block_size` prompts
    (:data:`BLOCK` = 1024 unless ``d`` is large), block ``b`` drawn from its own stream, the
    ``b``-th child of ``SeedSequence(seed)`` (:func:`theory._backend.block_stream`); every ``k`` is
    evaluated on the same prompts by operations that do not mix one ``k`` with another, and each
    block's float sums are combined exactly, in block order.  So the estimate for a given ``k`` is a
    function of ``(seed, samples, sampler, d, m, n, Λ, Σ, tilt)`` alone: bit for bit the same
    whichever other ``ks`` are asked for, whatever ``batch`` and ``workers``.  The ``"numpy"`` and
    ``"array_api_strict"`` backends draw the same numbers and give identical results.  CuPy draws
    one Philox stream per run (see :mod:`theory._backend`), batch after batch, so there the result
    also depends on ``batch`` and agrees with NumPy only statistically.

    *Accuracy of the reduction.* Per block and per ``k`` the power sums ``Σ (v − s)^p``,
    ``p = 1..4``, about a shift ``s`` (block 0's mean, the same for every block) are formed in
    float64 after scaling by a power of two (so that no term exceeds 1); the block sums are then
    combined *exactly* as rationals, in block order, and the mean, variance and fourth moment
    are rounded once at the end.  Values beyond float64 (divergent regimes: large ``k`` with an
    eigenvalue of ``Γ^{-1}Σ`` above 2, or heavy ``Ŝ`` tails at small ``m``) are therefore still
    computed: ``log_mean`` and ``log_stderr`` stay finite, ``overflow`` flags them, and a
    ``RuntimeWarning`` says so.

    *Heavy tails.* At small ``m`` and large ``k`` the per-prompt error has a very heavy tail and the
    normal interval ``mean ± z·stderr`` cannot be trusted; ``MCResult.trustworthy`` says where (the
    rule and its rationale are in :class:`MCResult`).
    """
    lam = as_covariance(train_cov, "train_cov")
    gam = gamma(lam, n)
    n = positive_int(n, "n")
    sigma = lam if test_cov is None else as_covariance(test_cov, "test_cov")
    same_dimension(lam, sigma, "train_cov", "test_cov")
    ks = _as_ks(ks)
    m = positive_int(m, "m")
    samples = positive_int(samples, "samples", minimum=2)
    seed = positive_int(seed, "seed", minimum=0)
    if not isinstance(sampler, str):
        raise ValueError(f"sampler must be 'auto', 'direct' or 'bartlett', got {sampler!r}")
    if not isinstance(backend, str):
        raise ValueError(f"backend must be 'numpy', 'cupy' or 'array_api_strict', got {backend!r}")
    if isinstance(tilt, (bool, np.bool_)) or not isinstance(tilt, numbers.Real) \
            or not (math.isfinite(tilt) and tilt >= 1):
        raise ValueError(f"tilt must be a finite number >= 1, got {tilt!r}")
    tilt = float(tilt)
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise ValueError(f"progress must be True, False or None, got {progress!r}")
    if workers is None:
        workers = os.cpu_count() or 1
    workers = positive_int(workers, "workers")
    if not isinstance(certify, (bool, np.bool_)):
        raise ValueError(f"certify must be True or False, got {certify!r}")
    d = lam.shape[0]
    spread = (tilt - 1) * math.sqrt(d * m / 2)
    if spread > MAX_TILT_SPREAD:
        raise ValueError(f"tilt = {tilt:g}: the importance weights' log-ratio spreads like "
                         f"(tilt − 1)·sqrt(dm/2) = {spread:.3g}, over {MAX_TILT_SPREAD:g}: one prompt would carry "
                         f"all the weight; use a tilt closer to 1")
    sampler = resolve_sampler(sampler, d, m)
    be = get_backend(backend)
    batch = (min(default_batch(d, m, len(ks), sampler, be.name), samples) if batch is None
             else positive_int(batch, "batch"))
    if progress is None:
        progress = samples >= _AUTO_PROGRESS_SAMPLES and sys.stderr.isatty()

    xp = be.xp
    frame = tuple(be.asarray(x) for x in _whitened_frame(gam, sigma))

    def evaluate(factor, reference) -> tuple:
        """One block: per ``k`` its largest and smallest log value, scale exponent, shift and
        the four shifted power sums (host arrays).  ``reference`` is ``None`` for block 0 (its own
        mean becomes the shift) and block 0's ``(shift, scale exponent)`` for every other."""
        log_v = _log_errors(xp, factor, *frame, ks, m, tilt)
        extremes = be.to_host(xp.stack([xp.max(log_v, axis=-1), xp.min(log_v, axis=-1)]))
        if not np.all(np.isfinite(extremes[0])):
            raise FloatingPointError(f"non-finite per-prompt error (log values "
                                     f"{extremes[0].tolist()}); please report this input")
        # Scale each k by a power of two 2^e >= max(block maximum, reference): every term of the
        # power sums is then in [-1, 1], whatever the magnitude of err_k.
        if reference is None:
            scale_exp = np.ceil(extremes[0] / _LN2).astype(int)
        else:
            ref_shift, ref_exp = reference
            log_ref = np.log(ref_shift) + ref_exp * _LN2
            scale_exp = np.ceil(np.maximum(extremes[0], log_ref) / _LN2).astype(int)
        log_scale = be.asarray(scale_exp[:, None] * _LN2)
        if reference is None:
            shift = be.to_host(xp.mean(xp.exp(log_v - log_scale), axis=-1))
        else:
            shift = np.ldexp(ref_shift, ref_exp - scale_exp)  # exact unless it underflows
        sums = be.to_host(_shifted_power_sums(xp, log_v, log_scale, be.asarray(shift[:, None])))
        return extremes, scale_exp, shift, sums

    accs = [_Moments() for _ in ks]
    bar = _Progress(samples) if progress else None
    done = 0

    def fold(size, result) -> None:
        nonlocal done
        extremes, scale_exp, shift, sums = result
        for i, acc in enumerate(accs):
            acc.add(size, float(shift[i]), int(scale_exp[i]), sums[:, i], float(extremes[0, i]),
                    float(extremes[1, i]))
        done += size
        if bar is not None:
            bar.update(done)

    if be.block_draw is not None:
        block = block_size(d, m, sampler)
        sizes = [min(block, samples - start) for start in range(0, samples, block)]
        first = evaluate(be.block_draw(seed, 0, sizes[0], d, m, sampler), None)
        fold(sizes[0], first)
        reference = (first[2], first[1])  # block 0's shifts and scale exponents
        per_task = max(1, -(-batch // block))
        tasks = [range(start, min(start + per_task, len(sizes)))
                 for start in range(1, len(sizes), per_task)]

        def run(blocks) -> list:
            return [evaluate(be.block_draw(seed, b, sizes[b], d, m, sampler), reference)
                    for b in blocks]

        if workers == 1 or len(tasks) <= 1:
            results = map(run, tasks)
            for blocks, out in zip(tasks, results):
                for b, result in zip(blocks, out):
                    fold(sizes[b], result)
        else:
            pool = ThreadPoolExecutor(max_workers=min(workers, len(tasks)))
            try:
                # map hands the results back in task order: the fold runs in block order.
                for blocks, out in zip(tasks, pool.map(run, tasks)):
                    for b, result in zip(blocks, out):
                        fold(sizes[b], result)
            finally:
                # on an error or an interrupt, drop the blocks not yet started
                pool.shutdown(wait=True, cancel_futures=True)
    else:
        block, workers = batch, 1
        draw = be.sampler(seed)
        reference = None
        while done < samples:
            size = min(batch, samples - done)
            result = evaluate(draw(size, d, m, sampler), reference)
            reference = reference or (result[2], result[1])
            fold(size, result)
    stats = [_finish(acc) for acc in accs]
    out = {key: _readonly([s[key] for s in stats], bool if key == "overflow" else float)
           for key in stats[0]}
    if certify:
        brackets = _certificates(lam, n, ks, m, sigma)
    else:
        brackets = [(-math.inf, math.inf, "", "", "none: certify=False") for _ in ks]
    reasons = tuple(_distrust(s, *br[:4]) for s, br in zip(stats, brackets))
    if np.any(out["overflow"]):
        bad = [k for k, o in zip(ks, out["overflow"]) if o]
        warnings.warn(f"mc_cot_error: err_k exceeds float64 for k = {bad}; mean/stderr are inf "
                      f"there, log_mean/log_stderr hold the values", RuntimeWarning, stacklevel=2)
    return MCResult(ks=_readonly(ks, np.int64), samples=samples,
                    trustworthy=_readonly([not r for r in reasons], bool), reasons=reasons,
                    log_lower_bound=_readonly([br[0] for br in brackets], float),
                    log_upper_bound=_readonly([br[1] for br in brackets], float),
                    certificates=tuple(br[4] for br in brackets), certified=bool(certify),
                    d=d, m=m, n=n, sampler=sampler, backend=be.name, seed=seed, batch=batch,
                    block=block, workers=workers, tilt=tilt, **out)
