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


# --- certified bands ------------------------------------------------------------------------------
# Small settings (d = 4: the exact engine reaches k = 8 in about a second) so that every band can be
# compared with the exact engine's value at the same k.

from fractions import Fraction  # noqa: E402

from theory import bracket  # noqa: E402
from theory.error import cot_error, cot_error_poly  # noqa: E402

SMALL = dict(d=4, ns=(10,), k_max=8, m=15, exact_budget=0.01, samples=200)  # exact for k <= 4


def _drawn_band(ax):
    """The band drawn on ``ax`` as {k: (lower, upper)}, read back from the fill's polygon."""
    (fill,) = [c for c in ax.collections if c.get_gid() == "band"]
    vertices = np.concatenate([path.vertices for path in fill.get_paths()])
    out = {}
    for k in np.unique(vertices[:, 0]):
        ys = vertices[vertices[:, 0] == k, 1]
        out[int(round(k))] = (ys.min(), ys.max())
    return out


def _drawn_exact(ax):
    (line,) = [ln for ln in ax.lines if ln.get_gid() == "exact"]
    return dict(zip(np.asarray(line.get_xdata(), dtype=int), line.get_ydata()))


def test_band_contains_the_exact_value_where_both_exist():
    lam = figures.skewed_spectrum(SMALL["d"])
    reach = figures.exact_reach(SMALL["d"], SMALL["k_max"], SMALL["exact_budget"])
    assert reach == 4
    fig = figures.figure_tradeoff(**SMALL)
    ax_m = fig.axes[1]
    drawn, exact_line = _drawn_band(ax_m), _drawn_exact(ax_m)
    assert sorted(exact_line) == list(range(1, reach + 1))
    assert sorted(drawn) == list(range(reach, SMALL["k_max"] + 1))  # the band starts at the last exact point
    for k in range(1, SMALL["k_max"] + 1):
        value = cot_error(lam, 10, k, m=SMALL["m"])  # the exact engine, rounded once
        if k <= reach:
            assert exact_line[k] == pytest.approx(value, rel=1e-12)
        if k > reach:
            low, high = drawn[k]
            assert low < high, k
            # rtol 1e-12: the bounds are exact fractions rounded once to floats, the value too
            assert low * (1 - 1e-12) <= value <= high * (1 + 1e-12), (k, low, value, high)


def test_band_bounds_come_from_the_bracket(monkeypatch):
    """The drawn band is error_bracket_curve's: widen its brackets and the figure's band follows."""
    real = bracket.error_bracket_curve
    fig = figures.figure_tradeoff(**SMALL)
    before = _drawn_band(fig.axes[1])

    def widened(*args, **kwargs):
        out = []
        for b in real(*args, **kwargs):
            if b.exact is None:
                b = bracket.ErrorBracket(b.k, b.m, b.lower / 4, b.upper * 4, None, "test", "test", ())
            out.append(b)
        return tuple(out)

    monkeypatch.setattr(bracket, "error_bracket_curve", widened)
    after = _drawn_band(figures.figure_tradeoff(**SMALL).axes[1])
    assert sorted(after) == sorted(before)
    for k in before:
        if k == min(before):  # the last exact point, where the band is anchored
            assert after[k] == pytest.approx(before[k], rel=1e-12)
        else:
            assert after[k][0] == pytest.approx(before[k][0] / 4, rel=1e-12)
            assert after[k][1] == pytest.approx(before[k][1] * 4, rel=1e-12)


def _exact_k_star(lam, n, m, k_max):
    polys = [cot_error_poly(lam, n, k) for k in range(1, k_max + 1)]
    errors = [p.evaluate(m) for p in polys]
    return 1 + int(np.argmin(errors)), errors


def test_k_star_intervals_contain_the_exact_k_star():
    """beyond (b): every certified interval holds the exact k* (over k <= 8, the exact engine);
    where it says k* is decided, it is the exact argmin, and nothing past k = 8 is excluded wrongly."""
    ms = (3, 6, 12, 25)
    data = figures.beyond_data(d=4, ns=(5, 20), k_max=8, ms=ms, exact_budget=0.01)
    lam = figures.skewed_spectrum(4)
    seen_interval = seen_decided = False
    for n, row in data.items():
        for m, (curve, star) in zip(ms, row):
            assert curve.exact_up_to == 4
            k_exact, errors = _exact_k_star(lam, n, m, 8)
            assert k_exact in star.candidates, (n, m, k_exact, star)
            if star.beyond_excluded:
                # excluded beyond k = 8: the exact minimum over k <= 8 is then the minimum over all k
                assert star.low <= k_exact <= star.high
            elif 8 in star.candidates:  # k* may sit at k = 8 or beyond
                assert star.high is None and star.text() == f"k* \u2265 {star.low}"
            if star.decided:
                seen_decided = True
                assert star.low == k_exact
            else:
                seen_interval = True
            for k, b in enumerate(curve.brackets[1:], start=1):
                assert b.contains(Fraction(errors[k - 1])), (n, m, k)
    assert seen_interval and seen_decided, "the settings must show both kinds of k*"


def test_certified_k_star_rules():
    """Exclusion below k_max by the least upper bound, beyond it by log-convexity of the trace."""
    def fake(bounds):
        brackets = [bracket.ErrorBracket(0, 5, Fraction(4), Fraction(4), Fraction(4), "", "", ())]
        for k, (lo, hi) in enumerate(bounds, start=1):
            lo, hi = Fraction(lo), Fraction(hi)
            brackets.append(bracket.ErrorBracket(k, 5, lo, hi, lo if lo == hi else None, "", "", ()))
        return figures.Band(np.arange(1, len(bounds) + 1), np.array([float(b.lower) for b in brackets[1:]]),
                            np.array([float(b.upper) for b in brackets[1:]]),
                            np.array([b.exact is not None for b in brackets[1:]]), tuple(brackets))

    curve = fake([(3, 3), (2, 2), (1, 2.5), (1.5, 4), (5, 9)])  # least upper bound 2 (k = 2)
    star = figures.certified_k_star([1.0], 1, curve, m=5, traces=(Fraction(2), Fraction(5)))
    assert star.candidates == (2, 3, 4) and star.beyond_excluded  # T_5 (T_5/T_4) = 12.5 > 2
    assert star.text() == "k* \u2208 [2, 4]" and not star.decided
    star = figures.certified_k_star([1.0], 1, curve, m=5, traces=(Fraction(5), Fraction(5)))
    assert not star.beyond_excluded and star.high == 4 and star.text() == "k* \u2208 [2, 4] among k \u2264 5"
    reaching = fake([(3, 3), (2, 2), (1, 2.5), (1.5, 4), (1.9, 9)])  # k_max = 5 is a candidate
    star = figures.certified_k_star([1.0], 1, reaching, m=5, traces=(Fraction(5), Fraction(5)))
    assert star.high is None and star.text() == "k* \u2265 2"
    star = figures.certified_k_star([1.0], 1, reaching, m=5, traces=(Fraction(2), Fraction(5)))
    assert star.beyond_excluded and star.text() == "k* \u2208 [2, 5]"
    curve = fake([(3, 3), (1, 1), (2, 2)])
    star = figures.certified_k_star([1.0], 1, curve, m=5, traces=(Fraction(1), Fraction(2)))
    assert star.decided and star.text() == "k* = 2"  # T_3 (T_3/T_2) = 4 > 1
    star = figures.certified_k_star([1.0], 1, curve, m=5, traces=(Fraction(1), Fraction(1, 2)))
    assert not star.beyond_excluded  # the trace falls: nothing past k = 3 is excluded
    assert not star.decided and star.text() == "k* = 2 among k \u2264 3"


def test_caption_and_title_state_the_same_exact_reach():
    fig = figures.figure_tradeoff(**SMALL)
    reach = figures.exact_reach(SMALL["d"], SMALL["k_max"], SMALL["exact_budget"])
    assert f"exact to k = {reach}," in fig.axes[1].get_title()
    for quick in (False, True):
        s = figures.settings("tradeoff", quick=quick)
        full_reach = figures.exact_reach(s["d"], s["k_max"], s["exact_budget"])
        assert rf"$k \le {full_reach}$" in figures.caption("tradeoff", quick=quick)
        assert rf"$k = 1, \dots, {s['k_max']}$" in figures.caption("tradeoff", quick=quick)


def test_with_exact_brackets_hold_the_exact_fraction():
    """The exact window's floats, bracketed as rounded once: the exact rational value lies inside."""
    lam = figures.skewed_spectrum(3)
    curve = figures.band(lam, 8, 6, m=9, exact_budget=0)  # the zonal trace's brackets only
    floats = [cot_error(lam, 8, k, m=9) for k in (1, 2, 3)]
    merged = figures.with_exact(curve, floats)
    assert list(merged.exact) == [True] * 3 + [False] * 3 and merged.exact_up_to == 3
    assert np.array_equal(merged.lower[:3], floats) and np.array_equal(merged.upper[3:], curve.upper[3:])
    for k in (1, 2, 3):
        value = cot_error_poly(lam, 8, k).evaluate(9)  # exact Fraction
        b = merged.brackets[k]
        assert b.lower < value < b.upper and (b.upper - b.lower) / value < Fraction(1, 2 ** 50)
    with pytest.raises(ValueError, match="exact"):
        figures.with_exact(curve, [1.0] * 7)
