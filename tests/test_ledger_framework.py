"""The ledger framework (theory.ledger): parts and outcomes, the one headline rule, route agreement,
claims and their registry, and running a claim.

Every test builds its own small claims in a fresh registry, so nothing here depends on the paper's
claims; ``checks/`` test those.
"""

import math

import pytest

from theory import ledger
from theory._tex import MASK, tex


@pytest.fixture
def registry(monkeypatch):
    """A fresh, empty claim registry (``registered`` then lists only the claims a test makes)."""
    ledger.registered()  # import the paper's claims first, so that they do not land in the fresh registry
    fresh = {}
    monkeypatch.setattr(ledger, "_REGISTRY", fresh)
    return fresh


def _claim(claim_id="c.x", **kw):
    args = dict(title="A claim", statement="a statement", source="[paper]", convention="a convention",
                checks="checks/test_c_x_topic.py")
    args.update(kw)
    return ledger.Claim(claim_id, **args)


def _st(role, verdict, part_id="p"):
    return ledger.Statement("c", part_id, role, verdict, tex("text"), tex("evidence"))


def _cx(confirmed=True):
    return ledger.Counterexample(tex("instance «v»", v=3), lambda: confirmed, "second route")


# --- the headline rule ---------------------------------------------------------------------------

C, D, F = ledger.CLAIM, ledger.CONDITION, ledger.FINDING
H, X, U = ledger.HOLDS, ledger.FAILS, ledger.OPEN


@pytest.mark.parametrize("parts, verdict", [
    ([(C, H)], ledger.CONFIRMED),
    ([(C, H), (C, H), (D, X), (F, X), (F, U)], ledger.CONFIRMED),   # only claim parts decide "confirmed"
    ([(C, X), (D, H)], ledger.CONDITIONAL),
    ([(C, H), (C, X), (D, X), (D, H)], ledger.CONDITIONAL),          # one holding condition suffices
    ([(C, X)], ledger.REFUTED),
    ([(C, X), (D, X), (D, U)], ledger.REFUTED),                       # conditions that do not hold
    ([(C, X), (F, H)], ledger.REFUTED),                               # a finding never rescues a claim
    ([(C, X), (C, U), (D, H)], ledger.CONDITIONAL),                   # a failure outranks an open part
    ([(C, X), (C, U)], ledger.REFUTED),
    ([(C, U)], ledger.UNDECIDED),
    ([(C, H), (C, U), (D, H)], ledger.UNDECIDED),                     # nothing fails: not conditional
    ([(C, U), (F, X)], ledger.UNDECIDED),                             # a failing finding is no failure of the claim
])
def test_headline_rule(parts, verdict):
    statements = [_st(role, v, f"p{i}") for i, (role, v) in enumerate(parts)]
    assert ledger.headline(statements) == verdict
    assert ledger.headline(list(reversed(statements))) == verdict  # the order of the parts is irrelevant


def test_headline_needs_a_claim_part():
    with pytest.raises(ValueError, match="role 'claim'"):
        ledger.headline([_st(D, H), _st(F, H)])
    with pytest.raises(ValueError):
        ledger.headline([])


# --- outcomes --------------------------------------------------------------------------------------

def test_outcome_constructors():
    h = ledger.holds("plain $x$")
    assert (h.verdict, h.evidence.render(), h.counterexample, h.known) == (H, "plain $x$", None, None)
    f = ledger.fails(tex("value «v»", v=2), _cx())
    assert f.verdict == X and f.evidence.render() == "value 2" and f.counterexample.route == "second route"
    u = ledger.undecided("evidence", "in $[0, 1]$")
    assert u.verdict == U and u.known.render() == "in $[0, 1]$"
    kept = tex("kept «v»", v=1)
    assert ledger.holds(kept).evidence is kept  # a template is used as it is, not re-wrapped


def test_outcome_validation():
    with pytest.raises(ValueError, match="verdict must be one of"):
        ledger.Outcome("confirmed", tex("e"))
    with pytest.raises(ValueError, match="counterexample"):
        ledger.Outcome(X, tex("e"))
    with pytest.raises(ValueError, match="what is known"):
        ledger.Outcome(U, tex("e"))
    assert ledger.Outcome(H, tex("e")).verdict == H


def test_decide():
    built = []

    def build():
        built.append(1)
        return _cx()
    ok = ledger.decide(True, "fine", build)
    assert ok.verdict == H and ok.evidence.render() == "fine" and not built  # no counterexample built
    bad = ledger.decide(False, "broken", build)
    assert bad.verdict == X and bad.counterexample.route == "second route" and built == [1]
    with pytest.raises(ledger.RouteDisagreement, match="without a counterexample"):
        ledger.decide(False, "broken")
    assert ledger.decide(True, "no builder needed").verdict == H
    for not_bool in (1, 0, None, "yes"):
        with pytest.raises(TypeError, match="bool"):
            ledger.decide(not_bool, "e", build)


# --- running a part ----------------------------------------------------------------------------

def test_part_run_records_the_outcome(registry):
    c = _claim()
    seen = []

    @c.part("a", C, "text of a")
    def a(full):
        seen.append(full)
        return ledger.fails("it fails", _cx(confirmed=True))

    s = c.get_part("a").run(True)
    assert seen == [True]
    assert (s.claim_id, s.id, s.role, s.verdict) == ("c.x", "a", C, X)
    assert (s.text, s.evidence, s.counterexample, s.counterexample_route) == (
        "text of a", "it fails", "instance 3", "second route")
    assert s.known is None


def test_part_run_unconfirmed_counterexample_is_a_route_disagreement(registry):
    c = _claim()
    c.part("a", C, "t")(lambda full: ledger.fails("it fails", _cx(confirmed=False)))
    with pytest.raises(ledger.RouteDisagreement) as info:
        c.get_part("a").run(False)
    assert "counterexample to c.x/a" in str(info.value)
    assert info.value.routes == (("first route", "fails"), ("second route", "does not confirm it"))


def test_part_run_holds_and_undecided(registry):
    c = _claim()
    c.part("h", C, "t")(lambda full: ledger.holds("ok"))
    c.part("u", F, "t")(lambda full: ledger.undecided("open", tex("at least «k»", k=4)))
    h, u = c.get_part("h").run(False), c.get_part("u").run(False)
    assert h.verdict == H and h.counterexample is None and h.counterexample_route is None and h.known is None
    assert u.verdict == U and u.known == "at least 4" and u.counterexample is None


def test_part_must_return_an_outcome(registry):
    c = _claim()
    c.part("a", C, "t")(lambda full: True)
    with pytest.raises(TypeError, match="c.x/a returned bool"):
        c.get_part("a").run(False)


# --- statements ----------------------------------------------------------------------------------

def test_statement_texts_and_dict():
    s = ledger.Statement("c", "p", C, X, tex("text «a»", a=1), tex("evidence «b»", b=2),
                         tex("instance «c»", c=3), "a route", None)
    assert s.qualified_id == "c/p"
    assert s.texts() == {"text": "text 1", "evidence": "evidence 2", "counterexample": "instance 3"}
    assert s.texts(mask=True) == {"text": f"text {MASK}", "evidence": f"evidence {MASK}",
                                  "counterexample": f"instance {MASK}"}
    assert s.as_dict() == {"id": "p", "role": C, "verdict": X, "text": "text 1", "evidence": "evidence 2",
                           "counterexample": "instance 3", "counterexample_route": "a route"}
    plain = ledger.Statement("c", "q", D, U, tex("t"), tex("e"), known_tex=tex("known «k»", k=5))
    assert plain.as_dict() == {"id": "q", "role": D, "verdict": U, "text": "t", "evidence": "e", "known": "known 5"}
    assert plain.texts(mask=True)["known"] == f"known {MASK}"
    assert (plain.counterexample, plain.known) == (None, "known 5")


# --- route agreement -----------------------------------------------------------------------------

def test_agree_exact():
    ledger.agree("x", ("a", 3), ("b", 3))
    ledger.agree("xs", ("a", [1, 2]), ("b", (1, 2)))
    with pytest.raises(ledger.RouteDisagreement) as info:
        ledger.agree("the value", ("route A", 1), ("route B", 2))
    assert str(info.value) == "routes disagree on the value: route A: 1; route B: 2"
    assert info.value.what == "the value" and info.value.routes == (("route A", 1), ("route B", 2))
    with pytest.raises(ledger.RouteDisagreement):
        ledger.agree("xs", ("a", [1, 2]), ("b", [1, 2, 3]))   # lengths differ
    with pytest.raises(ledger.RouteDisagreement):
        ledger.agree("xs", ("a", [1, 2]), ("b", [1, 3]))      # one element differs
    with pytest.raises(ledger.RouteDisagreement):
        ledger.agree("x", ("a", 1.0), ("b", 1.0 + 1e-15))    # exact means exact


def test_agree_tolerances():
    # relative to the larger magnitude: |1 - 1.1| = 0.1 <= 0.095 * 1.1 but not <= 0.095 * 1
    ledger.agree("x", ("a", 1.0), ("b", 1.1), rtol=0.095)
    ledger.agree("x", ("a", 1.1), ("b", 1.0), rtol=0.095)
    with pytest.raises(ledger.RouteDisagreement):
        ledger.agree("x", ("a", 1.0), ("b", 1.1), rtol=0.09)
    ledger.agree("x", ("a", 0.0), ("b", 0.5), rtol=0.0, atol=0.5)      # the bound itself is accepted
    with pytest.raises(ledger.RouteDisagreement):
        ledger.agree("x", ("a", 0.0), ("b", 0.5), rtol=0.0, atol=0.4)
    ledger.agree("x", ("a", 10.0), ("b", 10.5), rtol=0.01, atol=0.4)   # 0.5 <= 0.4 + 0.01 * 10.5
    with pytest.raises(ledger.RouteDisagreement):
        ledger.agree("x", ("a", 10.0), ("b", 10.6), rtol=0.01, atol=0.4)
    for bad in (math.nan, math.inf):
        with pytest.raises(ledger.RouteDisagreement):
            ledger.agree("x", ("a", bad), ("b", bad), rtol=1.0)       # a non-finite value never agrees
        with pytest.raises(ledger.RouteDisagreement):
            ledger.agree("x", ("a", 1.0), ("b", bad), rtol=1.0)


def test_require_z():
    assert ledger.require_z("z", [0.5, -2.0, 1.0]) == 2.0
    assert ledger.require_z("z", [ledger.Z_LIMIT]) == ledger.Z_LIMIT       # the limit itself passes
    assert ledger.Z_LIMIT == 5.0
    with pytest.raises(ledger.RouteDisagreement, match="max |z|"):
        ledger.require_z("z", [0.0, -5.01])                                # |z|, not z
    with pytest.raises(ledger.RouteDisagreement):
        ledger.require_z("z", [3.5], limit=3.0)
    assert ledger.require_z("z", [3.5], limit=4.0) == 3.5
    for bad in ([], [math.nan], [1.0, math.inf]):
        with pytest.raises(ledger.RouteDisagreement):
            ledger.require_z("z", bad)


def test_route_values_are_shortened_in_messages():
    err = ledger.RouteDisagreement("w", [("long", "x" * 300), ("exact", "y" * 200)])
    shown = str(err)
    assert "long: " + "x" * 197 + "..." in shown and "x" * 198 not in shown
    assert "exact: " + "y" * 200 in shown and "y" * 200 + "..." not in shown
    assert err.routes[0] == ("long", "x" * 300)  # the full value is kept on the exception


# --- claims and the registry ---------------------------------------------------------------------

def test_claim_registration(registry):
    c = _claim("c.one", extra_reproduce=("tts extra",))
    assert registry == {"c.one": c}
    assert c.statement.render() == "a statement" and c.convention.render() == "a convention"
    assert c.reproduce == ("pytest checks/test_c_x_topic.py", "tts verify --only c.one", "tts extra")

    def fn(full):
        return ledger.holds("e")
    assert c.part("a", C, "t")(fn) is fn  # the decorator returns the function itself
    c.part("b", D, "t")(fn)
    assert [p.id for p in c.parts] == ["a", "b"] and c.get_part("b").role == D
    with pytest.raises(ValueError, match="registered twice"):
        c.part("a", F, "t")
    with pytest.raises(ValueError, match="role must be one of"):
        c.part("z", "assumption", "t")
    with pytest.raises(ValueError, match="no part 'zz'; parts: a, b"):
        c.get_part("zz")
    with pytest.raises(ValueError, match="registered twice"):
        _claim("c.one")

    def derivation():
        return []
    assert c.derives(derivation) is derivation and c.derivation is derivation


def test_registered_order_and_get(registry):
    made = {i: _claim(i) for i in ("zzz", "rem4.1", "aaa", "gamma", "hard")}
    # the paper's order first, then the others by id
    assert [c.id for c in ledger.registered()] == ["gamma", "hard", "rem4.1", "aaa", "zzz"]
    assert ledger.get("hard") is made["hard"]
    with pytest.raises(ValueError, match="unknown claim id 'nope'; known: gamma, hard"):
        ledger.get("nope")


# --- running a claim -----------------------------------------------------------------------------

def _three_part_claim(fail_b=False, broken=False):
    c = _claim("c.run", convention=tex("conv «n»", n=7))
    c.part("a", C, "t")(lambda full: ledger.fails("no", _cx()) if fail_b else ledger.holds("yes"))
    c.part("b", D, "t")(lambda full: ledger.holds("yes"))

    def f(full):
        if broken:
            raise ledger.RouteDisagreement("the thing", [("A", 1), ("B", 2)])
        return ledger.holds(tex("full «f»", f=str(full)))
    c.part("f", F, "t")(f)
    return c


def test_run_claim(registry):
    _three_part_claim(fail_b=True)
    r = ledger.run_claim("c.run")
    assert r.error is None and r.verdict == ledger.CONDITIONAL
    assert [s.id for s in r.statements] == ["a", "b", "f"]
    assert r.evidence == "a (claim): fails; b (condition): holds; f (finding): holds"
    assert r.convention == "conv 7" and r.statement == "a statement" and r.seconds >= 0
    assert r.reproduce == ("pytest checks/test_c_x_topic.py", "tts verify --only c.run")
    assert r.statements[2].evidence == "full False"
    assert ledger.run_claim("c.run", full=True).statements[2].evidence == "full True"


def test_run_claim_subset(registry):
    _three_part_claim()
    only_b = ledger.run_claim("c.run", only=["b"])
    assert only_b.verdict == "partial" and [s.id for s in only_b.statements] == ["b"]
    with_claim = ledger.run_claim("c.run", only=["f", "a"])
    assert with_claim.verdict == ledger.CONFIRMED and [s.id for s in with_claim.statements] == ["f", "a"]
    with pytest.raises(ValueError, match="no part 'zz'"):  # a wrong part id is the caller's error
        ledger.run_claim("c.run", only=["zz"])


def test_run_claim_that_could_not_run(registry):
    _three_part_claim(broken=True)
    r = ledger.run_claim("c.run")
    assert r.verdict == ledger.COULD_NOT_RUN and r.statements == ()
    assert r.error == "theory.ledger.RouteDisagreement: routes disagree on the thing: A: 1; B: 2"
    assert r.evidence == r.error


def test_claim_result_dict(registry):
    _three_part_claim()
    r = ledger.run_claim("c.run")
    d = ledger.ClaimResult(**{**r.__dict__, "seconds": 1.23456}).as_dict()
    assert d["seconds"] == 1.235 and d["verdict"] == ledger.CONFIRMED and d["error"] is None
    assert d["statements"] == [s.as_dict() for s in r.statements]
    assert d["evidence"] == r.evidence and d["reproduce"] == list(r.reproduce)
    assert set(d) == {"id", "title", "statement", "source", "convention", "verdict", "evidence", "statements",
                      "reproduce", "seconds", "error"}


