"""Test-suite tiers shared by ``tests/`` and ``checks/``.

* Hypothesis profiles: ``ci`` (default; deterministic: derandomize, no database, no deadline) and
  ``heavy`` (many more examples), chosen with ``HYPOTHESIS_PROFILE``.
* ``slow`` tests run only with ``pytest -m slow`` (or any ``-m`` expression naming slow) or ``TTS_FULL=1``.
* ``gpu`` tests run only where CuPy imports and sees a CUDA device.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("heavy", derandomize=False, database=None, deadline=None, max_examples=500,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _gpu_available() -> bool:
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    run_slow = os.environ.get("TTS_FULL") == "1" or "slow" in (config.option.markexpr or "")
    gpu = None
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(pytest.mark.skip(reason="slow tier: run with `pytest -m slow` or TTS_FULL=1"))
        if "gpu" in item.keywords:
            if gpu is None:
                gpu = _gpu_available()
            if not gpu:
                item.add_marker(pytest.mark.skip(reason="needs CuPy and a CUDA device (extra `gpu`)"))
