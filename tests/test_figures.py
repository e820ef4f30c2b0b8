"""``tts figures``: every figure is written (PNG and PDF) and is not blank; matplotlib is optional."""

import sys

import numpy as np
import pytest

from theory.cli import main

pytest.importorskip("matplotlib", reason="the `plot` extra (matplotlib) is not installed")

from theory import figures  # noqa: E402  (after the skip: the module needs matplotlib to draw)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    return out, figures.write_figures(out, quick=True)


def test_every_figure_is_written_as_png_and_pdf(written):
    out, paths = written
    assert sorted(p.name for p in paths) == sorted(f"{name}.{ext}" for name in figures.FIGURES
                                                     for ext in ("png", "pdf"))
    for path in paths:
        assert path.parent == out
        # A figure with axes, curves and labels is tens of kB; an empty canvas is about 2 kB.
        assert path.stat().st_size > 15_000, f"{path.name} looks empty ({path.stat().st_size} bytes)"


def test_png_is_not_blank(written):
    from matplotlib.image import imread
    out, _ = written
    for name in figures.FIGURES:
        img = imread(out / f"{name}.png")
        # More than one colour and a real share of non-white pixels: something was drawn.
        assert img.std() > 0.05
        assert np.mean(img[..., :3].min(axis=-1) < 0.9) > 0.02


def test_cli_only_and_unknown_names(tmp_path, capsys, monkeypatch):
    # The drawing itself is covered above; here only the command's plumbing, with a stand-in figure.
    from matplotlib.figure import Figure

    def tiny(**_):
        fig = Figure(figsize=(2, 2))
        fig.subplots().plot([0, 1], [1, 0])
        return fig

    monkeypatch.setitem(figures._BUILDERS, "selection", tiny)
    assert main(["figures", "--out", str(tmp_path), "--only", "selection", "--quick"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["selection.pdf", "selection.png"]
    assert main(["figures", "--out", str(tmp_path), "--only", "nope"]) == 2
    assert "unknown figure(s) nope" in capsys.readouterr().err


def test_mismatched_test_spectrum():
    lam = figures.skewed_spectrum(5)
    assert np.allclose(figures.mismatched_test(lam, 0.0), lam)
    iso = figures.mismatched_test(lam, 1.0)
    assert np.allclose(iso, iso[0]) and np.isclose(iso.sum(), lam.sum())
    anti = figures.mismatched_test(lam, 2.0)
    assert np.isclose(anti.sum(), lam.sum()) and np.all(np.diff(anti) > 0)


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"tts-theory\[plot\]"):
        figures.figure_selection()
