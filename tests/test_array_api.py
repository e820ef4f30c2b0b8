"""The Monte Carlo kernels stay inside the array API standard: they run on array-api-strict (which
rejects every call outside the standard) and give there exactly what they give on NumPy; on a GPU
(marker ``gpu``) the CuPy path agrees with NumPy statistically and with itself bit for bit."""

from __future__ import annotations

import math

import array_api_strict
import numpy as np
import pytest
from array_api_compat import array_namespace

from theory._backend import get_backend
from theory.montecarlo import _log_errors, _shifted_power_sums, _whitened_frame, mc_cot_error
from theory.covariance import gamma

LAM3 = np.array([[2.0, 1.0, 0.0], [1.0, 2.0, 1.0], [0.0, 1.0, 2.0]]) / 4
SIG3 = np.diag([1.0, 0.5, 0.25])
FIELDS = ("mean", "stderr", "log_mean", "log_stderr", "se_rel_se", "tail_share", "log_max")


@pytest.mark.parametrize("sampler, m, tilt", [("direct", 7, 1.0), ("bartlett", 7, 1.0),
                                              ("bartlett", 2, 1.0), ("direct", 7, 1.2)])
def test_strict_namespace_gives_the_numpy_bits(sampler, m, tilt):
    """Same streams (the strict backend draws with NumPy and converts), same standard operations:
    the two namespaces must agree exactly, not just statistically."""
    kw = dict(m=m, test_cov=SIG3, samples=1500, seed=9, batch=400, sampler=sampler, tilt=tilt)
    ref = mc_cot_error(LAM3, 10, [0, 1, 2, 5], **kw)
    strict = mc_cot_error(LAM3, 10, [0, 1, 2, 5], backend="array_api_strict", workers=1, **kw)
    assert strict.backend == "array_api_strict"
    for name in FIELDS:
        assert np.array_equal(getattr(ref, name), getattr(strict, name)), name
    assert np.array_equal(ref.trustworthy, strict.trustworthy) and ref.reasons == strict.reasons


def test_strict_block_draw_is_the_numpy_block_draw():
    """Block b of the strict backend is block b of NumPy, converted, in any order of blocks."""
    numpy_be, strict_be = get_backend("numpy"), get_backend("array_api_strict")
    for b in (3, 0, 1):
        a = numpy_be.block_draw(7, b, 20, 3, 5, "bartlett")
        s = strict_be.block_draw(7, b, 20, 3, 5, "bartlett")
        assert array_namespace(s) is array_api_strict
        assert np.array_equal(a, strict_be.to_host(s))
    assert get_backend("numpy").block_draw(7, 1, 20, 3, 5, "direct").shape == (20, 3, 5)


def test_kernels_return_arrays_of_the_input_namespace():
    be = get_backend("array_api_strict")
    xp = be.xp
    gam = gamma(LAM3, 10)
    sqrt_sigma, g, g_inv = (be.asarray(x) for x in _whitened_frame(gam, SIG3))
    factor = be.sampler(0)(50, 3, 4, "bartlett")
    assert array_namespace(factor) is array_api_strict
    log_v = _log_errors(xp, factor, sqrt_sigma, g, g_inv, [1, 3], 4, 1.5)
    assert array_namespace(log_v) is array_api_strict and log_v.shape == (2, 50)
    sums = _shifted_power_sums(xp, log_v, be.asarray(np.array([[3.0], [9.0]])),
                               be.asarray(np.array([[0.25], [0.25]])))
    assert array_namespace(sums) is array_api_strict and sums.shape == (4, 2)
    assert np.all(np.isfinite(be.to_host(sums)))


@pytest.mark.gpu
def test_cupy_is_reproducible_and_agrees_with_numpy():
    """CuPy draws its own (Philox) streams, so it agrees with NumPy only statistically: |z| <= 5
    on every k both call trustworthy; and a re-run on the GPU repeats its own bits."""
    kw = dict(m=20, test_cov=SIG3, samples=200_000, seed=1, sampler="bartlett")
    gpu = mc_cot_error(LAM3, 10, [1, 2, 3], backend="cupy", **kw)
    again = mc_cot_error(LAM3, 10, [1, 2, 3], backend="cupy", batch=gpu.batch, **kw)
    assert all(np.array_equal(getattr(gpu, f), getattr(again, f)) for f in FIELDS)
    cpu = mc_cot_error(LAM3, 10, [1, 2, 3], **kw)
    both = gpu.trustworthy & cpu.trustworthy
    assert both[:2].all()
    z = (gpu.mean - cpu.mean) / np.hypot(gpu.stderr, cpu.stderr)
    assert np.all(np.abs(z[both]) <= 5), z
    assert math.isfinite(gpu.log_mean[0])
