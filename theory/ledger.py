"""The claims ledger: every paper claim, how it is verified, and its verdict.

Each claim lives in a module of :mod:`theory.claims` and registers a function with :func:`claim`.
The function runs the claim's routes (an exact derivation and an independent computation) and
returns a :class:`Verdict`.  ``tts verify`` runs them all; ``checks/`` tests the same routes in
detail and asserts that the computed verdict is the one recorded in ``paper_notes.md``.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

CONFIRMED = "confirmed"
CONDITIONAL = "confirmed under stated conditions"
REFUTED = "refuted"
UNDECIDED = "undecided"
VERDICTS = (CONFIRMED, CONDITIONAL, REFUTED, UNDECIDED)

# Order of the report: the paper's order.  Claims not listed here come last, by id.
ORDER = ("gamma", "thm3.1", "prop3.2", "thm3.3", "hard", "cor3.5", "tradeoff",
         "rem4.1", "rmt", "qp", "prop4.3")


@dataclass(frozen=True)
class Verdict:
    """What a claim's verification concluded, with the numbers behind it."""

    verdict: str
    evidence: str

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


@dataclass(frozen=True)
class ClaimSpec:
    id: str
    statement: str
    source: str
    run: Callable[[bool], Verdict]


@dataclass(frozen=True)
class ClaimResult:
    """One row of the ``tts verify`` report. ``error`` is set when the check could not run."""

    id: str
    statement: str
    source: str
    verdict: str
    evidence: str
    seconds: float
    error: str | None = None

    def as_dict(self) -> dict:
        return {"id": self.id, "statement": self.statement, "source": self.source,
                "verdict": self.verdict, "evidence": self.evidence,
                "seconds": round(self.seconds, 3), "error": self.error}


_REGISTRY: dict[str, ClaimSpec] = {}


def claim(id: str, statement: str, source: str):
    """Register ``fn(full: bool) -> Verdict`` as the verification of claim ``id``.

    ``statement`` is the paper's claim in one line, ``source`` its label (proofs/math.md §1)
    (``[poster]``, ``[paper]``, ``[derived]``, ...).
    """
    def register(fn: Callable[[bool], Verdict]):
        if id in _REGISTRY and _REGISTRY[id].run.__module__ != fn.__module__:
            raise ValueError(f"claim id {id!r} registered twice")
        _REGISTRY[id] = ClaimSpec(id, statement, source, fn)
        return fn
    return register


def _sort_key(claim_id: str):
    return (ORDER.index(claim_id) if claim_id in ORDER else len(ORDER), claim_id)


def registered() -> list[ClaimSpec]:
    """All claims, in the paper's order (imports every module of :mod:`theory.claims`)."""
    import theory.claims as pkg
    for info in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{pkg.__name__}.{info.name}")
    return [_REGISTRY[i] for i in sorted(_REGISTRY, key=_sort_key)]


def get(claim_id: str) -> ClaimSpec:
    specs = {s.id: s for s in registered()}
    if claim_id not in specs:
        raise ValueError(f"unknown claim id {claim_id!r}; known: {', '.join(specs)}")
    return specs[claim_id]


def run_claim(claim_id: str, full: bool = False) -> ClaimResult:
    """Run one claim's verification; an exception becomes ``error`` instead of propagating."""
    spec = get(claim_id)
    start = time.perf_counter()
    try:
        result = spec.run(full)
        if not isinstance(result, Verdict):
            raise TypeError(f"claim {claim_id!r} returned {type(result).__name__}, not Verdict")
        return ClaimResult(spec.id, spec.statement, spec.source, result.verdict, result.evidence,
                           time.perf_counter() - start)
    except Exception as exc:  # the report must list a broken check, not crash
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return ClaimResult(spec.id, spec.statement, spec.source, "could not run", tb,
                           time.perf_counter() - start, error=tb)


_SECTION = re.compile(r"^## `([^`]+)`", re.M)
_VERDICT = re.compile(r"^- \*\*Verdict\*\*:\s*(.+?)\s*$", re.M)


def recorded_verdicts(notes: str | Path) -> dict[str, str]:
    """Map claim id → verdict as recorded in a ``paper_notes.md`` file."""
    text = Path(notes).read_text(encoding="utf-8")
    heads = list(_SECTION.finditer(text))
    out = {}
    for i, head in enumerate(heads):
        body = text[head.end(): heads[i + 1].start() if i + 1 < len(heads) else len(text)]
        found = _VERDICT.search(body)
        if found:
            out[head.group(1)] = found.group(1).split(" — ")[0].strip()
    return out
