r"""The claims ledger: every paper claim as a set of computed sub-statements.

A claim (one module of :mod:`theory.claims`) is a :class:`Claim`: the paper's statement, its source
label and our convention, and a list of *parts*, each an atomic proposition with a role and a
function that computes whether it holds:

* ``holds`` — the computation established it;
* ``fails`` — with a :class:`Counterexample` that a second, independent route re-verifies;
* ``undecided`` — with what is known (an interval, a window).

Roles say how a part bears on the paper: ``claim`` (a reading of the paper's statement as made),
``condition`` (the statement restricted by a condition we state), ``finding`` (a related fact the
project established; it does not move the headline).  The headline verdict follows from the parts
by one rule, :func:`headline`:

* ``confirmed`` when every ``claim`` part holds;
* otherwise, when some ``claim`` part fails, ``confirmed under stated conditions`` if at least one
  ``condition`` part holds, else ``refuted``;
* otherwise (nothing fails, something is undecided) ``undecided``.

A disagreement between two routes of the same check is never a verdict: the part raises
:class:`RouteDisagreement`, the claim *could not run*, and ``tts verify`` exits 1.  So does a
``fails`` whose counterexample the second route does not confirm.

``tts derive`` runs every claim (fast tier) and writes one record per claim to
``proofs/ledger/<id>.json`` and, from them, ``paper_notes.md`` and the LaTeX sections; ``checks/`` recompute each part and require the verdict
and the evidence recorded there.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

from theory._tex import Tex, tex

# Headline verdicts of a claim.
CONFIRMED = "confirmed"
CONDITIONAL = "confirmed under stated conditions"
REFUTED = "refuted"
UNDECIDED = "undecided"
VERDICTS = (CONFIRMED, CONDITIONAL, REFUTED, UNDECIDED)
COULD_NOT_RUN = "could not run"

# Verdicts of a part.
HOLDS = "holds"
FAILS = "fails"
OPEN = "undecided"
PART_VERDICTS = (HOLDS, FAILS, OPEN)

# Roles of a part.
CLAIM = "claim"
CONDITION = "condition"
FINDING = "finding"
ROLES = (CLAIM, CONDITION, FINDING)

# Order of the report: the paper's order.  Claims not listed here come last, by id.
ORDER = ("gamma", "thm3.1", "prop3.2", "thm3.3", "hard", "cor3.5", "tradeoff",
         "rem4.1", "rmt", "qp", "prop4.3")

# Monte Carlo agreement: |z| above this is a disagreement between routes.  For a correct estimator
# with a trustworthy standard error, P(|z| > 5) ≈ 5.7e-7 per comparison, so over the few hundred
# comparisons of a ledger run a false alarm is negligible, while a wrong formula of the size the
# checks are built to catch (a missing 1/m term) shows up at |z| in the tens.
Z_LIMIT = 5.0


class RouteDisagreement(RuntimeError):
    """Two routes of one check disagree: the check could not run (never a verdict on the paper)."""

    def __init__(self, what: str, routes):
        self.what = what
        self.routes = tuple(routes)
        shown = "; ".join(f"{name}: {_short(value)}" for name, value in self.routes)
        super().__init__(f"routes disagree on {what}: {shown}")


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


def agree(what: str, a: tuple[str, object], b: tuple[str, object], *, rtol: float | None = None,
          atol: float = 0.0) -> None:
    """Require two routes' values to agree: exactly (``rtol=None``) or within ``rtol``/``atol``.

    Sequences are compared element by element.  Raises :class:`RouteDisagreement` naming both
    routes and both values.
    """
    va, vb = a[1], b[1]
    seq_a = list(va) if isinstance(va, (list, tuple)) else [va]
    seq_b = list(vb) if isinstance(vb, (list, tuple)) else [vb]
    if len(seq_a) != len(seq_b):
        raise RouteDisagreement(what, [a, b])
    for x, y in zip(seq_a, seq_b):
        if rtol is None:
            ok = x == y
        else:
            x, y = float(x), float(y)
            ok = math.isfinite(x) and math.isfinite(y) and abs(x - y) <= atol + rtol * max(abs(x), abs(y))
        if not ok:
            raise RouteDisagreement(what, [a, b])


def require_z(what: str, z_values, *, limit: float = Z_LIMIT) -> float:
    """Require every Monte Carlo z-score to satisfy ``|z| <= limit``; return ``max |z|``."""
    z = [float(v) for v in z_values]
    if not z or not all(math.isfinite(v) for v in z):
        raise RouteDisagreement(what, [("Monte Carlo z-scores", z)])
    worst = max(abs(v) for v in z)
    if worst > limit:
        raise RouteDisagreement(what, [("Monte Carlo vs exact, max |z|", worst), ("limit", limit)])
    return worst


# ---------------------------------------------------------------------------------------------
# Parts and their outcomes


@dataclass(frozen=True)
class Counterexample:
    """An explicit instance on which a proposition fails, with its second-route confirmation.

    ``description`` shows the instance (matrices as matrices); ``confirm`` recomputes the failure by
    a route independent of the one that found it and returns True when it confirms it; ``route``
    names that route.
    """

    description: Tex
    confirm: Callable[[], bool]
    route: str


@dataclass(frozen=True)
class Outcome:
    """What a part's computation concluded."""

    verdict: str
    evidence: Tex
    counterexample: Counterexample | None = None
    known: Tex | None = None

    def __post_init__(self):
        if self.verdict not in PART_VERDICTS:
            raise ValueError(f"verdict must be one of {PART_VERDICTS}, got {self.verdict!r}")
        if self.verdict == FAILS and self.counterexample is None:
            raise ValueError("a failing part needs a counterexample")
        if self.verdict == OPEN and self.known is None:
            raise ValueError("an undecided part must say what is known")


def _as_tex(text) -> Tex:
    return text if isinstance(text, Tex) else tex(text)


def holds(evidence) -> Outcome:
    return Outcome(HOLDS, _as_tex(evidence))


def fails(evidence, counterexample: Counterexample) -> Outcome:
    return Outcome(FAILS, _as_tex(evidence), counterexample=counterexample)


def undecided(evidence, known) -> Outcome:
    return Outcome(OPEN, _as_tex(evidence), known=_as_tex(known))


def decide(ok: bool, evidence, counterexample: Callable[[], Counterexample] | None = None) -> Outcome:
    """``holds`` when ``ok``, else ``fails`` with the counterexample that ``counterexample()`` builds."""
    if not isinstance(ok, bool):
        raise TypeError(f"decide needs a bool, got {type(ok).__name__}")
    if ok:
        return holds(evidence)
    if counterexample is None:
        raise RouteDisagreement("a failing part without a counterexample", [("outcome", "fails")])
    return fails(evidence, counterexample())


@dataclass(frozen=True)
class Statement:
    """A part's result: the proposition and what the computation concluded, as rendered text.

    The ``*_tex`` fields keep the templates, so that the ledger can be rendered with every
    computed value masked (:data:`theory._tex.MASK`).
    """

    claim_id: str
    id: str
    role: str
    verdict: str
    text_tex: Tex
    evidence_tex: Tex
    counterexample_tex: Tex | None = None
    counterexample_route: str | None = None
    known_tex: Tex | None = None

    @property
    def qualified_id(self) -> str:
        return f"{self.claim_id}/{self.id}"

    @property
    def text(self) -> str:
        return self.text_tex.render()

    @property
    def evidence(self) -> str:
        return self.evidence_tex.render()

    @property
    def counterexample(self) -> str | None:
        return None if self.counterexample_tex is None else self.counterexample_tex.render()

    @property
    def known(self) -> str | None:
        return None if self.known_tex is None else self.known_tex.render()

    def texts(self, mask: bool = False) -> dict[str, str]:
        """Every text field rendered (masked: computed values replaced by the mask)."""
        out = {"text": self.text_tex.render(mask), "evidence": self.evidence_tex.render(mask)}
        if self.counterexample_tex is not None:
            out["counterexample"] = self.counterexample_tex.render(mask)
        if self.known_tex is not None:
            out["known"] = self.known_tex.render(mask)
        return out

    def as_dict(self) -> dict:
        out = {"id": self.id, "role": self.role, "verdict": self.verdict, **self.texts()}
        if self.counterexample_route is not None:
            out["counterexample_route"] = self.counterexample_route
        return out


@dataclass(frozen=True)
class Part:
    claim_id: str
    id: str
    role: str
    text: Tex
    compute: Callable[[bool], Outcome]

    def run(self, full: bool) -> Statement:
        outcome = self.compute(full)
        if not isinstance(outcome, Outcome):
            raise TypeError(f"part {self.claim_id}/{self.id} returned {type(outcome).__name__}, not Outcome")
        cx = outcome.counterexample
        if outcome.verdict == FAILS:
            if not cx.confirm():
                raise RouteDisagreement(f"the counterexample to {self.claim_id}/{self.id}",
                                        [("first route", "fails"), (cx.route, "does not confirm it")])
        return Statement(self.claim_id, self.id, self.role, outcome.verdict, self.text, outcome.evidence,
                         None if cx is None else cx.description, None if cx is None else cx.route,
                         outcome.known)


def headline(statements) -> str:
    """The claim's verdict from its parts (the one rule; see the module docstring)."""
    claim = [s for s in statements if s.role == CLAIM]
    if not claim:
        raise ValueError("a claim needs at least one part with role 'claim'")
    if all(s.verdict == HOLDS for s in claim):
        return CONFIRMED
    if any(s.verdict == FAILS for s in claim):
        if any(s.role == CONDITION and s.verdict == HOLDS for s in statements):
            return CONDITIONAL
        return REFUTED
    return UNDECIDED


# ---------------------------------------------------------------------------------------------
# Claims


@dataclass
class Claim:
    """One paper claim: its text and its parts (registered with :meth:`part`, run in order)."""

    id: str
    title: str
    statement: Tex
    source: str
    convention: Tex
    checks: str
    extra_reproduce: tuple[str, ...] = ()
    parts: list[Part] = field(default_factory=list)
    derivation: Callable[[], list] | None = None

    def __post_init__(self):
        self.statement = _as_tex(self.statement)
        self.convention = _as_tex(self.convention)
        if self.id in _REGISTRY and _REGISTRY[self.id] is not self:
            raise ValueError(f"claim id {self.id!r} registered twice")
        _REGISTRY[self.id] = self

    def part(self, part_id: str, role: str, text):
        """Register ``fn(full: bool) -> Outcome`` as the part ``part_id`` of this claim."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        if any(p.id == part_id for p in self.parts):
            raise ValueError(f"part {self.id}/{part_id} registered twice")

        def register(fn: Callable[[bool], Outcome]):
            self.parts.append(Part(self.id, part_id, role, _as_tex(text), fn))
            return fn
        return register

    def derives(self, fn: Callable[[], list]):
        """Register the claim's symbolic derivation (a list of steps for the LaTeX report)."""
        self.derivation = fn
        return fn

    def get_part(self, part_id: str) -> Part:
        for p in self.parts:
            if p.id == part_id:
                return p
        raise ValueError(f"claim {self.id!r} has no part {part_id!r}; parts: {', '.join(p.id for p in self.parts)}")

    @property
    def reproduce(self) -> tuple[str, ...]:
        return (f"pytest {self.checks}", f"tts verify --only {self.id}") + self.extra_reproduce


@dataclass(frozen=True)
class ClaimResult:
    """One row of the ``tts verify`` report. ``error`` is set when the check could not run."""

    id: str
    title: str
    statement: str
    source: str
    convention: str
    verdict: str
    statements: tuple[Statement, ...]
    seconds: float
    reproduce: tuple[str, ...] = ()
    error: str | None = None

    @property
    def evidence(self) -> str:
        """One line per part: ``id (role): verdict``, or the error."""
        if self.error:
            return self.error
        return "; ".join(f"{s.id} ({s.role}): {s.verdict}" for s in self.statements)

    def as_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "statement": self.statement, "source": self.source,
                "convention": self.convention, "verdict": self.verdict, "evidence": self.evidence,
                "statements": [s.as_dict() for s in self.statements], "reproduce": list(self.reproduce),
                "seconds": round(self.seconds, 3), "error": self.error}


_REGISTRY: dict[str, Claim] = {}


def _sort_key(claim_id: str):
    return (ORDER.index(claim_id) if claim_id in ORDER else len(ORDER), claim_id)


def registered() -> list[Claim]:
    """All claims, in the paper's order (imports every module of :mod:`theory.claims`)."""
    import theory.claims as pkg
    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{pkg.__name__}.{info.name}")
    return [_REGISTRY[i] for i in sorted(_REGISTRY, key=_sort_key)]


def get(claim_id: str) -> Claim:
    claims = {c.id: c for c in registered()}
    if claim_id not in claims:
        raise ValueError(f"unknown claim id {claim_id!r}; known: {', '.join(claims)}")
    return claims[claim_id]


def run_claim(claim_id: str, full: bool = False, only=None) -> ClaimResult:
    """Run a claim's parts (``only``: a subset of part ids); any exception means *could not run*."""
    spec = get(claim_id)
    start = time.perf_counter()
    parts = spec.parts if only is None else [spec.get_part(p) for p in only]
    try:
        statements = tuple(p.run(full) for p in parts)
        verdict = headline(statements) if only is None else _partial_verdict(statements)
        error = None
    except Exception as exc:  # the report must list a broken check, not crash
        statements, verdict = (), COULD_NOT_RUN
        error = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return ClaimResult(spec.id, spec.title, spec.statement.render(), spec.source, spec.convention.render(),
                       verdict, statements, time.perf_counter() - start, spec.reproduce, error)


def _partial_verdict(statements) -> str:
    """A subset of parts has no headline of its own unless it holds a 'claim' part."""
    return headline(statements) if any(s.role == CLAIM for s in statements) else "partial"
