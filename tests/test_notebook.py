"""The marimo notebook runs headless, as a plain script, at its default settings."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("marimo", reason="the `notebook` extra (marimo) is not installed")
pytest.importorskip("matplotlib", reason="the `notebook` extra (matplotlib) is not installed")

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "explore.py"


def test_runs_as_a_script_with_the_monte_carlo_overlay():
    proc = subprocess.run([sys.executable, str(NOTEBOOK), "--mc"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr


def test_cells_compute_what_they_show(monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(NOTEBOOK)])  # no --mc: the overlay stays off
    spec = importlib.util.spec_from_file_location("explore_notebook", NOTEBOOK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _, defs = module.app.run()
    from theory.overthinking import OverthinkingReport
    from theory.selection import Selection
    assert defs["mc"] is None
    assert isinstance(defs["report"], OverthinkingReport)
    # Default settings: finite m, so the exact engine ran over its window and the m = ∞ curve is complete.
    assert len(defs["exact"]) == defs["k_exact"].value
    assert len(defs["limit"]) == defs["k_max"].value
    assert isinstance(defs["shown"], Selection) and defs["shown"].certified
    assert abs(float(sum(defs["pi"])) - 1.0) < 1e-9
    # The result objects render themselves in the notebook.
    assert "<table" in defs["report"]._repr_html_()
