"""Shared fixtures of the claim checks."""

from pathlib import Path

import pytest

from theory import ledger

NOTES = Path(__file__).resolve().parent.parent / "paper_notes.md"


@pytest.fixture(scope="session")
def recorded_verdicts() -> dict[str, str]:
    """Verdicts as recorded in paper_notes.md, by claim id."""
    return ledger.recorded_verdicts(NOTES)


def assert_ledger_verdict(claim_id: str, recorded: dict[str, str]) -> ledger.ClaimResult:
    """Run a claim's verification (fast tier) and require the verdict recorded in paper_notes.md."""
    result = ledger.run_claim(claim_id, full=False)
    assert result.error is None, result.error
    assert claim_id in recorded, f"paper_notes.md has no section for `{claim_id}`"
    assert result.verdict == recorded[claim_id], (
        f"`{claim_id}`: computed verdict {result.verdict!r} but paper_notes.md records "
        f"{recorded[claim_id]!r}; evidence: {result.evidence}")
    return result
