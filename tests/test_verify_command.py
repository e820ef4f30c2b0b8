"""``tts verify``: progress on stderr, per-claim timing, table / JSON / Markdown reports."""

import json

import pytest

from theory import ledger
from theory.cli import main


def _fake_claims(monkeypatch):
    def good(full):
        return ledger.Verdict(ledger.REFUTED if full else ledger.CONFIRMED, "max error 0 | exact")

    def broken(full):
        raise RuntimeError("boom")

    specs = [ledger.ClaimSpec("c.one", "first claim", "[paper]", good),
             ledger.ClaimSpec("c.two", "second claim", "[derived]", broken)]
    monkeypatch.setattr(ledger, "registered", lambda: specs)


def test_table_progress_and_exit_status(monkeypatch, capsys):
    _fake_claims(monkeypatch)
    assert main(["verify"]) == 1  # c.two could not run
    out, err = capsys.readouterr()
    assert "[1/2] c.one ... confirmed (" in err and "[2/2] c.two ... could not run (" in err
    assert "could not run: c.two" in err
    assert "c.one — CONFIRMED" in out and "  source:   [paper]" in out
    assert "2 claims: 1 confirmed, 1 could not run;" in out and "(fast tier)" in out


def test_json_keys_and_full_tier(monkeypatch, capsys):
    _fake_claims(monkeypatch)
    assert main(["verify", "--full", "--json", "--only", "c.one"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["c.one"]
    assert set(rows[0]) == {"id", "statement", "source", "verdict", "evidence", "seconds", "error"}
    assert rows[0]["verdict"] == ledger.REFUTED and rows[0]["error"] is None


def test_markdown_report(monkeypatch, tmp_path, capsys):
    _fake_claims(monkeypatch)
    md = tmp_path / "report.md"
    main(["verify", "--markdown", str(md)])
    text = md.read_text(encoding="utf-8")
    assert "| claim | statement | source | verdict | evidence | seconds |" in text
    assert "| `c.one` | first claim | [paper] | **confirmed** | max error 0 \\| exact |" in text
    assert "(fast tier)" in text.splitlines()[0]


def test_unknown_claim_is_one_clean_error(monkeypatch, capsys):
    _fake_claims(monkeypatch)
    assert main(["verify", "--only", "nope"]) == 2
    assert "unknown claim id(s) nope" in capsys.readouterr().err


def test_fast_and_full_are_exclusive(monkeypatch):
    _fake_claims(monkeypatch)
    with pytest.raises(SystemExit):
        main(["verify", "--fast", "--full"])
