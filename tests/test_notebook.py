"""The marimo notebook headless: as a plain script, and cell by cell through ``app.run``.

What a cell shows must be readable (no dataclass or array repr on the page), and the "copy as
code" cell must print a script that reproduces, bit for bit, the numbers the notebook computes.
The notebook in a real browser: tests/test_notebook_browser.py.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

mo = pytest.importorskip("marimo", reason="the `notebook` extra (marimo) is not installed")
pytest.importorskip("matplotlib", reason="the `notebook` extra (matplotlib) is not installed")

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "explore.py"
# What a raw repr of the result objects or of numpy values looks like on a page.
RAW_REPRS = ("array(", "np.float64", "Certificate(", "SelectionQP(", "Selection(", "OverthinkingReport(",
             "Curve(", "MCResult(", "object at 0x")


@pytest.fixture
def notebook(monkeypatch):
    """The notebook as a module (its top-level functions, and ``app``); no ``--mc`` on the command line."""
    monkeypatch.setattr(sys, "argv", [str(NOTEBOOK)])
    spec = importlib.util.spec_from_file_location("explore_notebook", NOTEBOOK)
    module = importlib.util.module_from_spec(spec)
    # marimo reads each top-level class's source through its module: register it first
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def _value(v):
    """A stand-in for a control: the cells read only its ``.value``."""
    return SimpleNamespace(value=v)


class _Upload:
    """A stand-in for ``mo.ui.file`` holding one uploaded file."""

    def __init__(self, filename: str, data: bytes):
        self.value, self._filename, self._data = (filename,), filename, data

    def name(self) -> str:
        return self._filename

    def contents(self) -> bytes:
        return self._data


def _npy(array) -> bytes:
    import io
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, dtype=float))
    return buffer.getvalue()


def _steps(n=50, m=60, m_infinite=False, k=3, k_max=20, k_exact=7) -> dict:
    """Definitions replacing the cell of the prompt-length and step controls."""
    return {"n": _value(n), "m": _value(m), "m_infinite": _value(m_infinite), "k": _value(k),
            "k_max": _value(k_max), "k_exact": _value(k_exact)}


def _covariances(d=6, train="power", test="isotropic", same_trace=True) -> dict:
    """Definitions replacing the cell of the covariance controls (no uploads)."""
    return {"d": _value(d), "train_shape": _value(train), "test_shape": _value(test),
            "same_trace": _value(same_trace), "train_file": _value(()), "test_file": _value(())}


def test_runs_as_a_script_with_the_monte_carlo_overlay():
    proc = subprocess.run([sys.executable, str(NOTEBOOK), "--mc"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr


def test_cells_compute_what_they_show(notebook):
    outputs, defs = notebook.app.run()
    from theory.overthinking import OverthinkingReport
    from theory.selection import Selection
    curve = defs["curve"]
    assert defs["mc"] is None
    assert isinstance(curve.report, OverthinkingReport) and isinstance(curve.finite_report, OverthinkingReport)
    # Default settings: finite m, so the exact engine ran over its window and the m = ∞ curve is complete.
    assert len(curve.exact) == defs["k_exact"].value == len(curve.seconds)
    assert len(curve.limit) == defs["k_max"].value
    assert isinstance(defs["selection"], Selection) and defs["selection"].certified
    assert abs(float(sum(defs["selection"].pi)) - 1.0) < 1e-9
    # What reaches the page is readable: no repr of a dataclass or an array in any cell's output.
    for output in outputs:
        if output is None:
            continue
        page = mo.as_html(output).text
        assert not any(raw in page for raw in RAW_REPRS), [raw for raw in RAW_REPRS if raw in page]


def test_the_default_page_says_what_it_computed(notebook):
    outputs, defs = notebook.app.run()
    page = "\n".join(mo.as_html(o).text for o in outputs if o is not None)
    curve, fmt = defs["curve"], notebook.fmt
    assert "d = 6; Λ: power law λᵢ ∝ i^(−1); Σ: isotropic, rescaled to tr Σ = tr Λ; n = 50; m = 60" in page
    assert f">{fmt(curve.limit[2])}</td>" in page and f">{fmt(curve.exact[2])}</td>" in page
    # the curve runs to k = 20 with certified bands; the chosen k's bracket holds its exact value
    assert len(curve.ks) == 20 and len(curve.brackets) == 21 and curve.band is not None
    bracket = curve.brackets[3]
    assert bracket.exact is None and bracket.lower_float <= curve.exact[2] <= bracket.upper_float
    assert f"[{fmt(bracket.lower_float)}, {fmt(bracket.upper_float)}]" in page
    assert "certified bands to k = 20" in page
    assert f"Certified over all k from the brackets: <b>{curve.k_star.text()}</b>" in page
    assert fmt(curve.report.max_eig) in page
    assert "Certified optimal" in page


def test_fmt_reads_like_a_number(notebook):
    fmt = notebook.fmt
    assert fmt(0.52881) == "0.5288"
    assert fmt(7.0434) == "7.043"
    assert fmt(98766.0) == "9.877 × 10⁴"
    assert fmt(9999.7) == "1 × 10⁴"          # rounding carries into the exponent
    assert fmt(-2.2e-17, 2) == "−2.2 × 10⁻¹⁷"
    assert fmt(0.0) == "0" and fmt(float("inf")) == "∞"
    assert fmt(0.001234) == "0.001234"


def test_array_code_reads_back_bit_for_bit(notebook):
    rng = np.random.default_rng(np.random.SeedSequence(7))
    A = rng.standard_normal((5, 5))
    for array in (A @ A.T / 3, 1.0 / np.arange(1, 8), np.array([1e-300, 2.5e300, -0.0])):
        back = eval(notebook.array_code(array), {"np": np})
        assert back.shape == array.shape and np.array_equal(back, array)


def _reproduce(code: str) -> dict:
    namespace = {"__name__": "__main__"}
    exec(compile(code, "reproduce_explore.py", "exec"), namespace)
    return namespace


def _assert_reproduced(defs):
    """The printed code, run on its own, rebuilds the notebook's numbers bit for bit."""
    got, curve = _reproduce(defs["code"]), defs["curve"]
    assert np.array_equal(got["limit"], curve.limit)
    assert got["report"].max_eig == curve.report.max_eig and got["report"].k_star == curve.report.k_star
    assert got["report"].err_star == curve.report.err_star
    if curve.m is None:
        assert "exact" not in got and "brackets" not in got
    else:
        assert np.array_equal(got["exact"], curve.exact)
        # the bracket call: the same brackets, the same band and certified k*
        assert got["brackets"] == curve.brackets
        assert np.array_equal(got["lower"], [b.lower_float for b in curve.brackets[1:]])
        assert np.array_equal(got["upper"], [b.upper_float for b in curve.brackets[1:]])
        assert np.array_equal(got["band"].lower, curve.band.lower)
        assert np.array_equal(got["band"].upper, curve.band.upper)
        assert got["k_star"] == curve.k_star
        if curve.finite_report is not None:
            assert got["finite_report"].k_star == curve.finite_report.k_star
            assert got["finite_report"].err_star == curve.finite_report.err_star
    if defs["mc"] is None:
        assert "mc" not in got
    else:
        assert np.array_equal(got["mc"].mean, defs["mc"].mean)
        assert np.array_equal(got["mc"].stderr, defs["mc"].stderr)
    assert np.array_equal(np.asarray(got["selection"].pi, dtype=float),
                          np.asarray(defs["selection"].pi, dtype=float))


def test_copy_as_code_reproduces_the_default_page(notebook):
    _, defs = notebook.app.run()
    _assert_reproduced(defs)
    # It is plain Python: it runs as a script and prints the numbers the page shows.
    proc = subprocess.run([sys.executable, "-c", defs["code"]], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    curve = defs["curve"]
    assert f"err_3 at m = 60 (exact): {curve.exact[2]:.4g}" in proc.stdout
    b = curve.brackets[3]
    assert f"err_3 at m = 60 (certified bracket): [{b.lower_float:.4g}, {b.upper_float:.4g}]" in proc.stdout
    assert f"m = 60, certified over all k: {curve.k_star.text()}" in proc.stdout


def test_the_figure_draws_the_bracket(notebook, monkeypatch):
    """The notebook's band is error_bracket_curve's: widen its brackets and the drawn band follows."""
    import theory
    from theory import bracket
    _, defs = notebook.app.run()
    curve = defs["curve"]

    def drawn(fig):
        (fill,) = [c for c in fig.axes[0].collections if c.get_gid() == "band"]
        return np.concatenate([p.vertices for p in fill.get_paths()])[:, 1]

    before = drawn(notebook.error_figure(curve, 3, None, "t"))
    real = bracket.error_bracket_curve

    def widened(*args, **kwargs):
        return tuple(bracket.ErrorBracket(b.k, b.m, b.lower / 8, b.upper * 8, None, "", "", ())
                     if b.exact is None else b for b in real(*args, **kwargs))

    monkeypatch.setattr(theory, "error_bracket_curve", widened)
    wide = notebook.curve_data(defs["train_cov"], defs["test_cov"], 50, 60, 20, 7)
    after = drawn(notebook.error_figure(wide, 3, None, "t"))
    window = len(curve.exact)
    # the drawn fill spans the band from the last exact point on, before and after
    for ys, c in ((before, curve), (after, wide)):
        assert ys.min() == c.band.lower[window - 1:].min() and ys.max() == c.band.upper[window - 1:].max()
    # and beyond the exact window every bound moved by the factor 8
    assert np.allclose(wide.band.lower[window:], curve.band.lower[window:] / 8, rtol=1e-12)
    assert np.allclose(wide.band.upper[window:], curve.band.upper[window:] * 8, rtol=1e-12)
    assert np.array_equal(wide.band.lower[:window], curve.band.lower[:window])  # the exact window stays


@pytest.mark.parametrize("settings", [
    # finite m, the chosen k beyond the exact window, a spiked Λ with Σ = Λ, the paper's pool
    {**_steps(n=20, m=15, k=6, k_max=9, k_exact=4), **_covariances(d=4, train="spiked", test="same"),
     "pool": _value("paper"), "target": _value("isotropic")},
    # m = ∞, Σ a power law not rescaled, the chosen k past the curve's range
    {**_steps(n=200, m_infinite=True, k=15, k_max=10), **_covariances(d=5, test="power", same_trace=False)},
    # the Monte Carlo overlay on
    {**_steps(n=30, m=25, k=2, k_max=5, k_exact=3), "run_mc": _value(True), "mc_samples": _value(400)},
    # Λ a full matrix uploaded as .npy, Σ = Λ
    {**_steps(n=10, m=8, k=2, k_max=4, k_exact=3), **_covariances(train="file", test="same"),
     "train_file": _Upload("cov.npy", _npy([[2.0, 0.5, 0.0], [0.5, 1.0, 0.25], [0.0, 0.25, 0.5]]))},
])
def test_copy_as_code_reproduces_other_settings(notebook, settings):
    _, defs = notebook.app.run(defs=settings)
    assert (defs["mc"] is not None) == ("run_mc" in settings)
    if isinstance(settings.get("train_file"), _Upload):
        assert defs["train_cov"].shape == (3, 3) and "Λ from cov.npy" in defs["covariances_about"]
    _assert_reproduced(defs)
