"""bench/mutation.py: the rewritten copy behaves as the repository, and the score is counted as stated.

The mutation run itself is a script (it takes hours); these tests cover what its numbers rest on:
the decorator rewrite that lets mutmut mutate the claims' parts, and the score formula.
"""

import importlib.util
import sys
import types
from pathlib import Path

import pytest

from theory import ledger

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_mutation", ROOT / "bench" / "mutation.py")
mutation = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutation)


@pytest.mark.parametrize("path", mutation.DEFAULT_SCOPE)
def test_rewrite_keeps_every_other_line_in_place(path):
    source = (ROOT / path).read_text(encoding="utf-8")
    out = mutation.reapply_decorators(source).split("\n")
    lines = source.split("\n")
    changed = [i for i, (a, b) in enumerate(zip(lines, out)) if a != b]
    assert changed, "nothing was rewritten"
    assert all(out[i] == "" for i in changed)  # decorator lines become blank lines, nothing else moves
    left = [line.strip() for line in out[:len(lines)] if line.strip().startswith("@")]
    assert not any(d.startswith(("@lru_cache", "@property")) or ".part(" in d for d in left), left


@pytest.mark.parametrize("claim_id, path", [("hard", "theory/claims/hard.py"), ("cor3.5", "theory/claims/cor3_5.py"),
                                            ("tradeoff", "theory/claims/tradeoff.py"),
                                            ("rem4.1", "theory/claims/rem4_1.py")])
def test_rewritten_claim_registers_the_same_parts_in_order(monkeypatch, claim_id, path):
    original = ledger.get(claim_id)
    monkeypatch.setattr(ledger, "_REGISTRY", {})
    module = types.ModuleType(f"rewritten_{claim_id}")
    exec(compile(mutation.reapply_decorators((ROOT / path).read_text(encoding="utf-8")), path, "exec"),
         module.__dict__)
    rewritten = ledger._REGISTRY[claim_id]
    assert [(p.id, p.role, p.text.render()) for p in rewritten.parts] == [
        (p.id, p.role, p.text.render()) for p in original.parts]
    assert [p.compute.__name__ for p in rewritten.parts] == [p.compute.__name__ for p in original.parts]
    def cached(namespace):
        return sorted(name for name, value in namespace.items() if callable(getattr(value, "cache_clear", None)))
    real = importlib.import_module(f"theory.claims.{Path(path).stem}")
    assert cached(vars(module)) == cached(vars(real)) != []


def test_rewritten_ledger_keeps_its_properties(monkeypatch):
    module = types.ModuleType("rewritten_ledger")
    monkeypatch.setitem(sys.modules, module.__name__, module)  # dataclasses look their module up
    namespace = module.__dict__
    exec(compile(mutation.reapply_decorators((ROOT / "theory/ledger.py").read_text(encoding="utf-8")),
                 "theory/ledger.py", "exec"), namespace)
    s = namespace["Statement"]("c", "p", "claim", "holds", ledger.tex("t"), ledger.tex("e"))
    assert (s.qualified_id, s.text, s.evidence, s.counterexample, s.known) == ("c/p", "t", "e", None, None)
    assert isinstance(vars(namespace["Statement"])["text"], property)


def test_score_counts_as_stated():
    results = {"a": "killed", "b": "timeout", "c": "error", "d": "survived", "e": "survived", "f": "no tests",
               "g": "skipped", "h": "not checked"}
    s = mutation.summarise(results, {"e": "does nothing", "a": "listed but killed"})
    # killed a, b, c; equivalent e; skipped g; h was not run: 3 / (7 - 1 - 1)
    assert (s["killed"], s["total"], s["equivalent"], s["skipped"]) == (3, 7, 1, 1)
    assert s["score"] == 3 / 5 and s["stale_equivalent"] == ["a"]
