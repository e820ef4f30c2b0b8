"""``tts verify``: progress on stderr, per-claim timing, table / JSON / Markdown reports."""

import json

import pytest

from theory import ledger
from theory.cli import main


def _fake_claims(monkeypatch):
    monkeypatch.setattr(ledger, "_REGISTRY", {})
    one = ledger.Claim("c.one", "First", "first claim", "[paper]", "a convention", "checks/test_c_one_x.py")
    two = ledger.Claim("c.two", "Second", "second claim", "[derived]", "", "checks/test_c_two_x.py")

    @one.part("bound", ledger.CLAIM, "the bound $x \\le 1$")
    def _(full):
        if full:
            return ledger.undecided("max error 0 | exact", "somewhere in $[0, 1]$")
        return ledger.holds("max error 0 | exact")

    @two.part("broken", ledger.CLAIM, "anything")
    def _(full):
        raise ledger.RouteDisagreement("a value", [("route A", 1), ("route B", 2)])

    monkeypatch.setattr(ledger, "registered", lambda: [one, two])


def test_table_progress_and_exit_status(monkeypatch, capsys):
    _fake_claims(monkeypatch)
    assert main(["verify"]) == 1  # c.two could not run
    out, err = capsys.readouterr()
    assert "[1/2] c.one ... confirmed (" in err and "[2/2] c.two ... could not run (" in err
    assert "could not run: c.two" in err
    assert "c.one — CONFIRMED" in out and "  source:   [paper]" in out
    assert "HOLDS     bound (claim): the bound x ≤ 1" in out
    assert "routes disagree on a value: route A: 1; route B: 2" in out
    assert "2 claims: 1 confirmed, 1 could not run;" in out and "(fast tier)" in out


def test_json_keys_and_full_tier(monkeypatch, capsys):
    _fake_claims(monkeypatch)
    assert main(["verify", "--full", "--json", "--only", "c.one"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["c.one"]
    assert set(rows[0]) == {"id", "title", "statement", "source", "convention", "verdict", "evidence",
                            "statements", "reproduce", "seconds", "error"}
    assert rows[0]["verdict"] == ledger.UNDECIDED and rows[0]["error"] is None
    (part,) = rows[0]["statements"]
    assert part == {"id": "bound", "role": "claim", "verdict": "undecided", "text": "the bound $x \\le 1$",
                    "evidence": "max error 0 | exact", "known": "somewhere in $[0, 1]$"}


def test_markdown_report(monkeypatch, tmp_path, capsys):
    _fake_claims(monkeypatch)
    md = tmp_path / "report.md"
    main(["verify", "--markdown", str(md)])
    text = md.read_text(encoding="utf-8")
    assert "| claim | statement | source | verdict | evidence | seconds |" in text
    assert "| `c.one` | first claim | [paper] | **confirmed** | bound (claim): holds |" in text
    assert "(fast tier)" in text.splitlines()[0]


def test_unknown_claim_is_one_clean_error(monkeypatch, capsys):
    _fake_claims(monkeypatch)
    assert main(["verify", "--only", "nope"]) == 2
    assert "unknown claim id(s) nope" in capsys.readouterr().err


def test_fast_and_full_are_exclusive(monkeypatch):
    _fake_claims(monkeypatch)
    with pytest.raises(SystemExit):
        main(["verify", "--fast", "--full"])


def test_a_long_counterexample_route_keeps_the_text_readable(monkeypatch, capsys):
    monkeypatch.setattr(ledger, "_REGISTRY", {})
    one = ledger.Claim("c.one", "First", "first claim", "[paper]", "", "checks/test_c_one_x.py")
    route = "every error recomputed by a second route with a long name (theory.some.module.function)"

    @one.part("bound", ledger.CLAIM, "the bound")
    def _(full):
        return ledger.fails("it fails", ledger.Counterexample(ledger.tex("a counterexample " * 12), lambda: True, route))

    monkeypatch.setattr(ledger, "registered", lambda: [one])
    assert main(["verify"]) == 0
    out = capsys.readouterr().out
    start = out.index("counterexample (")
    block = out[start:].splitlines()
    assert block[0].startswith(f"counterexample ({route}): a")
    # continuation lines hang under the evidence (14 + 10 columns) and carry whole words
    assert all(line.startswith(" " * 24) and line.strip().startswith(("a", "counterexample")) for line in block[1:4])
