"""End to end: the notebook served by ``marimo run``, driven in headless Chromium through playwright.

The page must render without an error cell, every control must show its value, and moving a
control must change the figure and the numbers to what the library computes for the new setting;
the "copy as code" block, run as a script, must print the numbers on the page.

Needs the system Chromium (Debian package ``chromium``; ``.ci/run`` installs it) and the
``playwright`` Python package (its own browser downloads are not used). Skips cleanly without them.
"""

import math
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("marimo", reason="the `notebook` extra (marimo) is not installed")
pytest.importorskip("matplotlib", reason="the `notebook` extra (matplotlib) is not installed")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the `test` extra)")

import theory  # noqa: E402  (after the skips: without the extras there is nothing to drive)

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "explore.py"
CHROMIUM = Path("/usr/bin/chromium")
# No network, no GPU, no first-run or sync traffic: the machine's network is closed.
CHROMIUM_ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
if hasattr(os, "geteuid") and os.geteuid() == 0:
    CHROMIUM_ARGS.append("--no-sandbox")  # Chromium refuses to start its sandbox as root
WAIT_MS = 30_000          # every wait on the page is bounded by this
SERVER_START_S = 60       # marimo's server answers HTTP within this
# The page prints 4 significant digits: a displayed value is within half a unit of the 4th digit,
# i.e. within 5e-4 relative, of the value it rounds.
DISPLAY_RTOL = 5e-4

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason=f"no system Chromium at {CHROMIUM} (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """``marimo run`` on a free local port; killed at the end of the test."""
    port = _free_port()
    log = open(tmp_path / "marimo.log", "w+")
    # --no-token: no login prompt; --headless: no browser of its own; --show-tracebacks: an error
    # cell is rendered (as `.marimo-cell.has-error`) instead of being hidden from the app view.
    proc = subprocess.Popen(
        [sys.executable, "-m", "marimo", "run", str(NOTEBOOK), "--headless", "--host", "127.0.0.1",
         "--port", str(port), "--no-token", "--no-sandbox", "--show-tracebacks"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "MARIMO_SKIP_UPDATE_CHECK": "1"})
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"marimo run exited with {proc.returncode}:\n{log.read()[-3000:]}")
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"marimo run did not answer on {url} within {SERVER_START_S} s")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


_SUPERSCRIPTS = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
_NUMBER = re.compile(r"(−?\d+(?:\.\d+)?)(?: × 10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+))?")


def _number(text: str) -> float:
    """The first number in a displayed text (``1.865``, ``−0.2``, ``3.1 × 10⁵``)."""
    match = _NUMBER.search(text)
    assert match, f"no number in {text!r}"
    value = float(match.group(1).replace("−", "-"))
    return value * 10.0 ** int(match.group(2).translate(_SUPERSCRIPTS)) if match.group(2) else value


def _slider(page, label: str):
    return page.locator(f"marimo-slider[data-label*='{label}']")


def _slider_state(page, label: str) -> tuple[int, str]:
    """The slider's value (``aria-valuenow``) and the text it shows beside its track."""
    host = _slider(page, label)
    value = int(host.get_by_role("slider").get_attribute("aria-valuenow"))
    shown = host.evaluate("e => e.shadowRoot.textContent")
    return value, shown


def _cell_text(page, row: str, column: int = 1) -> str:
    return page.locator("tr", has_text=row).first.locator("td").nth(column).inner_text()


def _page_numbers(page) -> dict:
    """err_k at m = ∞ and at m (exact) from the chosen-k table, λ_max(Γ⁻¹Σ) from the verdict."""
    _assert_no_error_cells(page)  # an error cell hides its table: say so rather than time out
    return {"limit": _number(_cell_text(page, "m = ∞ (closed form)")),
            "exact": _number(_cell_text(page, "exact (rational arithmetic")),
            "max_eig": _number(_cell_text(page, "λmax(Γ⁻¹Σ)")),
            "lower": _number(_cell_text(page, "certified bracket")),
            "upper": _number(_cell_text(page, "certified bracket").split(",", 1)[1])}


def _library_numbers(n: int, m: int, k: int) -> dict:
    """What the page must show at the default covariances (d = 6, λᵢ = 1/i, isotropic Σ with
    tr Σ = tr Λ), computed here from the library, not by the notebook."""
    lam = 1.0 / np.arange(1, 7)
    sigma = np.ones(6) * (lam.sum() / 6)
    b = theory.error_bracket(lam, n, k, sigma, m, exact_budget=0)  # the zonal trace's bracket
    return {"limit": math.exp(theory.limit_log_error(lam, n, k, test_cov=sigma)),
            "exact": theory.cot_error(lam, n, k, test_cov=sigma, m=m),
            "max_eig": theory.overthinking_report(lam, n, sigma).max_eig,
            "lower": b.lower_float, "upper": b.upper_float}


def _assert_close(shown: dict, expected: dict):
    for key, value in expected.items():
        assert shown[key] == pytest.approx(value, rel=DISPLAY_RTOL), (key, shown[key], value)


def _figure_src(page) -> str | None:
    """The error figure's PNG (a data URL); None while its cell re-renders."""
    figure = page.locator(".marimo-cell", has_text="Monte Carlo overlay").locator("img[src^='data:image/png']")
    return figure.first.get_attribute("src") if figure.count() else None


def _wait_until(predicate, describe):
    """Poll ``predicate`` (cells re-render one after another) for at most WAIT_MS; ``describe()``
    says what was awaited, when it never came."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {describe()}"
        time.sleep(0.2)


def _assert_no_error_cells(page):
    errors = page.locator(".marimo-cell.has-error")
    assert errors.count() == 0, [errors.nth(i).inner_text()[:500] for i in range(errors.count())]


def test_notebook_in_a_browser(server, tmp_path):
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 2000})
        try:
            context.set_default_timeout(WAIT_MS)
            page = context.new_page()
            page.goto(server, timeout=WAIT_MS)
            # the last cells to render: the selection certificate and the reproduction code
            page.get_by_text(re.compile("^(Certified optimal|Not certified)")).wait_for()
            code_block = page.locator("pre", has_text="import theory").first
            code_block.wait_for()
            page.get_by_role("heading", name="The error at k = 3").wait_for()
            _assert_no_error_cells(page)

            # Every slider shows its value, and the summary line states the same settings.
            for label, value in [("d: dimension", 6), ("n: training prompt length", 50),
                                 ("m: test prompt length", 60), ("k: CoT steps", 3),
                                 ("curve drawn up to k", 20), ("exact engine up to k", 7)]:
                now, shown = _slider_state(page, label)
                assert now == value and shown.endswith(str(value)), (label, now, shown)
            summary_cell = page.locator(".marimo-cell", has_text="Now showing:")
            summary = summary_cell.inner_text()
            for fact in ["d = 6", "n = 50", "m = 60", "chosen k = 3", "exact engine up to k = 7",
                         "certified bands to k = 20", "Monte Carlo off"]:
                assert fact in summary, (fact, summary)
            before = _page_numbers(page)
            _assert_close(before, _library_numbers(50, 60, 3))
            figure_before = _figure_src(page)
            assert figure_before is not None, "no error figure on the page"

            # Move n with the keyboard: PageUp is ten steps of the slider.
            _slider(page, "n: training prompt length").get_by_role("slider").press("PageUp")
            sync_api.expect(summary_cell).to_contain_text("; n = 60;", timeout=WAIT_MS)
            _wait_until(lambda: _figure_src(page) not in (None, figure_before), lambda: "the figure to change")
            now, shown = _slider_state(page, "n: training prompt length")
            assert now == 60 and shown.endswith("60"), (now, shown)
            expected = _library_numbers(60, 60, 3)
            assert all(abs(expected[key] / before[key] - 1) > 10 * DISPLAY_RTOL for key in expected), \
                "n = 50 and n = 60 would look the same: the check would prove nothing"
            seen = {}

            def _shows_expected():
                seen.update(_page_numbers(page))
                return all(seen[key] == pytest.approx(value, rel=DISPLAY_RTOL) for key, value in expected.items())

            _wait_until(_shows_expected, lambda: f"the numbers for n = 60: {expected} (the page shows {seen})")
            after = dict(seen)
            _assert_no_error_cells(page)

            # The "copy as code" block reproduces what the page shows.
            code = code_block.inner_text()
            assert "n, m = 60, 60" in code
            script = tmp_path / "reproduce_explore.py"
            script.write_text(code)
            run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
            assert run.returncode == 0, run.stderr[-3000:]
            printed = dict(line.split(": ", 1) for line in run.stdout.splitlines() if ": " in line)
            assert _number(printed["err_3 at m = ∞"]) == pytest.approx(after["limit"], rel=DISPLAY_RTOL)
            assert _number(printed["err_3 at m = 60 (exact)"]) == pytest.approx(after["exact"], rel=DISPLAY_RTOL)
            low, high = printed["err_3 at m = 60 (certified bracket)"].split(",")
            assert _number(low) == pytest.approx(after["lower"], rel=DISPLAY_RTOL)
            assert _number(high) == pytest.approx(after["upper"], rel=DISPLAY_RTOL)

            # The m = ∞ checkbox says what it is set to, and the exact column goes away.
            box = page.locator("marimo-checkbox[data-label*='m = ∞ instead']").get_by_role("checkbox")
            assert box.get_attribute("aria-checked") == "false"
            box.click()
            sync_api.expect(summary_cell).to_contain_text("; m = ∞;", timeout=WAIT_MS)
            assert box.get_attribute("aria-checked") == "true"
            page.locator("tr", has_text="exact (rational arithmetic").wait_for(state="detached")
            _assert_no_error_cells(page)
        finally:
            context.close()
