"""Array backends and Wishart samplers for the Monte Carlo of :mod:`theory.montecarlo`.

Notation (proofs/math.md §19):

* ``W = F Fᵀ ~ W_d(m, I)``, a standard Wishart matrix with ``m`` degrees of freedom, given by a
  *factor* ``F`` of shape ``(d, r)``;
* ``direct`` sampler: ``F = Z``, ``r = m``, ``Z_ij ~ N(0, 1)`` (``d·m`` normals per prompt);
* ``bartlett`` sampler: ``F = L``, ``r = min(d, m)``, ``L`` lower trapezoidal with
  ``L_ii = sqrt(χ²_{m−i})`` (0-based ``i < r``) and ``L_ij ~ N(0, 1)`` for ``i > j``
  (``r(r−1)/2 + (d−r)r`` normals and ``r`` chi-squares per prompt).

The array standard has no random numbers, so each backend brings its own sampler; everything after
the draw (:mod:`theory.montecarlo`) is written against the array API and runs unchanged on NumPy,
CuPy and array-api-strict.

Bartlett for ``m < d``: the Wishart matrix is singular (rank ``m``).  The construction above is
still exact there: it is the LQ decomposition ``Z = L Q`` of a ``d × m`` Gaussian matrix, row by
row.  Row ``i`` of ``Z``, rotated by the orthogonal map that triangularised the rows above it (which
is independent of row ``i``), is again ``N(0, I_m)``; its first ``min(i, m)`` coordinates are the
off-diagonal entries, and the squared norm of the rest is ``χ²_{m−i}`` while ``i < m``.  Rows
``i >= m`` have no remaining coordinates: they are ``m`` plain normals.  So no fallback is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

SAMPLERS = ("direct", "bartlett")
BACKENDS = ("numpy", "cupy", "array_api_strict")

GPU_EXTRA_HINT = 'install the `gpu` extra: pip install "tts-theory[gpu]"'


def factor_width(d: int, m: int, sampler: str) -> int:
    """Number of columns ``r`` of the Wishart factor drawn by ``sampler``."""
    return m if sampler == "direct" else min(d, m)


def normals_per_prompt(d: int, m: int, sampler: str) -> int:
    """Standard normals one prompt costs (Bartlett also draws ``min(d, m)`` chi-squares)."""
    if sampler == "direct":
        return d * m
    r = min(d, m)
    return r * (r - 1) // 2 + (d - r) * r


def draw_factor(module, rng, batch: int, d: int, m: int, sampler: str):
    r"""Draw ``batch`` Wishart factors ``F`` (shape ``(batch, d, r)``) with ``F Fᵀ ~ W_d(m, I)``.

    ``module`` is ``numpy`` or ``cupy`` and ``rng`` a generator of that module (both expose
    ``standard_normal`` and ``standard_gamma`` with NumPy's signature); the draws happen in a fixed
    order (normals, then chi-squares), so one seed gives one result.

    .. math::
        W = L L^\top, \quad L_{ii} = \sqrt{\chi^2_{m-i}},\ L_{ij} \sim N(0, 1)\ (i > j)

    (Bartlett decomposition; see the module docstring for ``m < d``.)
    """
    if sampler == "direct":
        return rng.standard_normal((batch, d, m))
    r = min(d, m)
    lower_i, lower_j = np.tril_indices(d, k=-1, m=r)
    factor = module.zeros((batch, d, r))
    if lower_i.size:
        factor[:, module.asarray(lower_i), module.asarray(lower_j)] = rng.standard_normal(
            (batch, lower_i.size))
    # χ²_ν = 2 Gamma(ν/2): the same draw NumPy's chisquare makes, written once for both modules.
    half_dof = module.asarray((m - np.arange(r)) / 2.0)
    diag = module.arange(r)
    factor[:, diag, diag] = module.sqrt(2.0 * rng.standard_gamma(half_dof, size=(batch, r)))
    return factor


@dataclass(frozen=True)
class Backend:
    """An array namespace, its random streams and its way back to host memory.

    Attributes
    ----------
    name : str
        ``"numpy"``, ``"cupy"`` or ``"array_api_strict"``.
    xp : module
        The array-API namespace the kernels use.
    sampler : callable
        ``sampler(seed) -> draw`` where ``draw(batch, d, m, sampler_name)`` returns the next
        ``batch`` Wishart factors (shape ``(batch, d, r)``) of one stream seeded by ``seed``,
        drawn in turn.
    to_host : callable
        ``to_host(x) -> numpy.ndarray``.
    block_draw : callable or None
        ``block_draw(seed, block, size, d, m, sampler_name)``: ``size`` Wishart factors from the
        stream of block ``block`` alone (the ``block``-th child of ``SeedSequence(seed)``), so that
        any block can be drawn in any order, on any thread.  ``None`` where the backend has only
        the one stream of ``sampler`` (CuPy).
    """

    name: str
    xp: Any
    sampler: Callable[[int], Callable[..., Any]]
    to_host: Callable[[Any], np.ndarray]
    block_draw: Callable[..., Any] | None = None

    def asarray(self, host_array: np.ndarray):
        """A float64 constant (matrix, vector) on the backend's device."""
        return self.xp.asarray(np.asarray(host_array, dtype=np.float64), dtype=self.xp.float64)


def block_stream(seed: int, block: int) -> np.random.Generator:
    """The PCG64 stream of block ``block``: the ``block``-th child of ``SeedSequence(seed)``
    (``SeedSequence(seed, spawn_key=(block,))``, what ``SeedSequence(seed).spawn`` hands out
    ``block``-th), fixed by ``(seed, block)`` alone."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))


def _numpy_block_draw(seed, block, size, d, m, sampler):
    return draw_factor(np, block_stream(seed, block), size, d, m, sampler)


def _numpy_sampler(seed: int):
    """Consecutive calls draw from consecutive blocks' streams (call ``b`` from block ``b``)."""
    counter = iter(range(2**63))

    def draw(batch, d, m, sampler):
        return _numpy_block_draw(seed, next(counter), batch, d, m, sampler)

    return draw


def get_backend(name: str) -> Backend:
    """The :class:`Backend` called ``name``.

    ``"cupy"`` needs CuPy (the ``gpu`` extra) and raises ``ImportError`` saying so when it is
    missing. ``"array_api_strict"`` draws with NumPy (the same streams as ``"numpy"``) and
    converts: it exists so that the test suite can run the kernels on an implementation that
    rejects every call outside the array standard.
    """
    if name == "numpy":
        from array_api_compat import numpy as xp_numpy

        return Backend("numpy", xp_numpy, _numpy_sampler, np.asarray, _numpy_block_draw)
    if name == "array_api_strict":
        import array_api_strict as xp_strict

        def strict_sampler(seed):
            draw_numpy = _numpy_sampler(seed)
            return lambda *args: xp_strict.asarray(draw_numpy(*args))

        def strict_block_draw(*args):
            return xp_strict.asarray(_numpy_block_draw(*args))

        # DLPack is the standard's way out of an array library.
        return Backend("array_api_strict", xp_strict, strict_sampler, np.from_dlpack,
                       strict_block_draw)
    if name == "cupy":
        try:
            import cupy
            from array_api_compat import cupy as xp_cupy
        except ImportError as exc:
            raise ImportError(f'backend="cupy" needs CuPy: {GPU_EXTRA_HINT} ({exc})') from exc

        def cupy_sampler(seed):
            # One Philox stream for the whole run, batches drawn in turn.  Not one stream per batch
            # as on NumPy: CuPy seeds cuRAND with 32 bits of the SeedSequence, so per-batch seeds
            # would collide with probability ~ batches² / 2³³ (1e-4 at 1000 batches).
            rng = cupy.random.Generator(cupy.random.Philox4x3210(np.random.SeedSequence(seed)))
            return lambda batch, d, m, sampler: draw_factor(cupy, rng, batch, d, m, sampler)

        return Backend("cupy", xp_cupy, cupy_sampler, cupy.asnumpy)
    raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
