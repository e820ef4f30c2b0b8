"""The ledger itself: one home per claim id, every number computed, the rendered notes in step.

* Every registered claim has exactly one module (``theory/claims/<id>.py``, dots as underscores),
  one check file (``checks/test_<id>_<topic>.py``) and one record (``proofs/ledger/<id>.json``).
* No number in the ledger is typed by hand: each part's text, evidence, counterexample and what is
  known, and each claim's convention, are rendered with every computed value masked, and what is
  left may hold digits only as formula constants (see ``_violations``).
* ``paper_notes.md`` is exactly what ``theory.notes.render_notes`` makes of the records.
"""

import re
from pathlib import Path

import pytest

from checks.conftest import RECORDS, ROOT, claim_result
from theory import ledger, notes

CLAIM_IDS = [c.id for c in ledger.registered()]
SPLIT = [c.id for c in ledger.registered() if c.parts]


def _stem(claim_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", claim_id)


@pytest.mark.parametrize("claim_id", CLAIM_IDS)
def test_one_module_one_check_file(claim_id):
    stem = _stem(claim_id)
    assert (ROOT / "theory" / "claims" / f"{stem}.py").is_file()
    checks = sorted(p.name for p in (ROOT / "checks").glob(f"test_{stem}_*.py"))
    assert len(checks) == 1, f"`{claim_id}` needs exactly one checks/test_{stem}_<topic>.py, found {checks}"


@pytest.mark.parametrize("claim_id", SPLIT)
def test_one_record_and_its_check_file_named_in_it(claim_id):
    assert (RECORDS / notes.record_filename(claim_id)).is_file()
    spec = ledger.get(claim_id)
    assert (ROOT / spec.checks).is_file(), spec.checks
    assert Path(spec.checks).name.startswith(f"test_{_stem(claim_id)}_")


# Outside math, digits may only belong to a reference to the paper's numbering, an arXiv id, or a
# claim id in backticks (`cor3.5`).
_REFERENCE = re.compile(r"(?:Theorem|Corollary|Proposition|Remark|Lemma|Section|Eq\.|§)\s*\d+(?:\.\d+)*"
                        r"|arXiv\s*\d{4}\.\d{4,5}|`(?:" + "|".join(re.escape(i) for i in CLAIM_IDS) + ")`")
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.S)
_COMPARISON = re.compile(r"(?:=|<|>|\\le|\\ge|\\leq|\\geq|\\approx|\\ne)\s*$")


def _violations(text: str) -> list[str]:
    """Digits in a masked ledger text that are not formula constants.

    Inside math a digit is a formula constant when it stands alone (an exponent, an index, a
    coefficient such as ``2k`` or ``1/m``) and, after a comparison, is 0, 1 or 2 (``> 0``, ``\\ge 1``,
    the threshold ``> 2``).  A number of two or more digits, a decimal, or another digit after a
    comparison is a value and must come from the computation.  Outside math only references to
    the paper's numbering may hold digits.
    """
    bad = []
    pieces = []
    last = 0
    for m in _MATH.finditer(text):
        pieces.append((False, text[last:m.start()]))
        pieces.append((True, m.group(0)))
        last = m.end()
    pieces.append((False, text[last:]))
    for is_math, piece in pieces:
        if not is_math:
            stripped = _REFERENCE.sub("", piece)
            bad += [f"{d!r} in text {piece.strip()[:80]!r}" for d in re.findall(r"\d+", stripped)]
            continue
        for m in re.finditer(r"\d+(?:\.\d+)?", piece):
            number = m.group(0)
            before = piece[:m.start()]
            if before.endswith("\\tfrac{") or before.endswith("\\frac{") or re.search(r"\\tfrac\{\d\}\{$", before):
                if len(number) == 1:
                    continue
            if len(number) > 1:
                bad.append(f"{number!r} in math {piece[:80]!r}")
            elif _COMPARISON.search(before) and number not in "012":
                bad.append(f"{number!r} after a comparison in {piece[:80]!r}")
    return bad


def test_violations_rule():
    assert _violations(r"$f^{2k}$ at $m = \infty$, $\tfrac{1}{2}$, $\lambda > 2$, Theorem 3.3") == []
    assert _violations(r"$k^* = 3$") and _violations(r"$\mathrm{err} = 0.25$") and _violations("seen 12 times")
    assert _violations(r"$d \le 10$")


@pytest.mark.parametrize("claim_id", SPLIT)
def test_no_hand_typed_number(claim_id):
    result = claim_result(claim_id)
    assert result.error is None, result.error
    spec = ledger.get(claim_id)
    found = [f"convention: {v}" for v in _violations(spec.convention.render(mask=True))]
    for s in result.statements:
        for key, text in s.texts(mask=True).items():
            found += [f"{s.id} {key}: {v}" for v in _violations(text)]
    assert not found, f"`{claim_id}` has numbers that are not computed:\n" + "\n".join(found)
