"""Shared machinery of the claim checks.

Every claim runs once per test session (fast tier) and its parts are compared with the record that
``tts derive`` wrote in ``proofs/ledger/<id>.json``: the verdict of every part, and its evidence
(drift).  The records are the expected values; the claim modules are their recipe.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from theory import ledger, notes

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / notes.RECORD_DIR
_RESULTS: dict[str, ledger.ClaimResult] = {}


def claim_result(claim_id: str) -> ledger.ClaimResult:
    """The claim's fast-tier result, computed once per session."""
    if claim_id not in _RESULTS:
        _RESULTS[claim_id] = ledger.run_claim(claim_id)
    return _RESULTS[claim_id]


def recorded(claim_id: str) -> dict:
    return notes.read_record(claim_id, RECORDS)


def part_ids(claim_id: str) -> list[str]:
    """The recorded part ids (for ``pytest.mark.parametrize`` at collection time)."""
    return [s["id"] for s in recorded(claim_id)["statements"]]


def check_headline(claim_id: str) -> None:
    result = claim_result(claim_id)
    assert result.error is None, f"`{claim_id}` could not run: {result.error}"
    rec = recorded(claim_id)
    assert [s.id for s in result.statements] == [s["id"] for s in rec["statements"]], (
        f"`{claim_id}`: the parts changed; run `tts derive` and commit proofs/ and paper_notes.md")
    assert result.verdict == rec["verdict"], (
        f"`{claim_id}`: computed verdict {result.verdict!r}, recorded {rec['verdict']!r}")


def check_part(claim_id: str, part_id: str) -> None:
    """The part's computed verdict is the recorded one, and so is its evidence (no drift)."""
    result = claim_result(claim_id)
    assert result.error is None, f"`{claim_id}` could not run: {result.error}"
    got = {s.id: s for s in result.statements}.get(part_id)
    assert got is not None, f"`{claim_id}` no longer has the part `{part_id}`"
    rec = {s["id"]: s for s in recorded(claim_id)["statements"]}[part_id]
    assert got.verdict == rec["verdict"], (
        f"`{claim_id}/{part_id}`: computed {got.verdict!r}, recorded {rec['verdict']!r}; "
        f"evidence: {got.evidence}")
    assert got.as_dict() == rec, (
        f"`{claim_id}/{part_id}`: the evidence drifted from proofs/ledger (run `tts derive`):\n"
        f"computed: {got.as_dict()}\nrecorded: {rec}")


def run_part(claim_id: str, part_id: str) -> ledger.ClaimResult:
    """Run one part alone (fresh, not the session cache): for tests that patch a route."""
    return ledger.run_claim(claim_id, only=[part_id])


def assert_could_not_run(claim_id: str, part_id: str, *, mentions: str = "routes disagree") -> ledger.ClaimResult:
    result = run_part(claim_id, part_id)
    assert result.verdict == ledger.COULD_NOT_RUN and result.error, (
        f"`{claim_id}/{part_id}` should not have run, got {result.verdict!r}")
    assert mentions in result.error, result.error
    return result


@pytest.fixture
def clear_caches():
    """Clear the claims' lru caches before and after a test that patches a route."""
    import functools
    import gc

    def clear():
        for obj in gc.get_objects():
            if isinstance(obj, functools._lru_cache_wrapper) and obj.__module__.startswith("theory.claims"):
                obj.cache_clear()
    clear()
    yield
    clear()
