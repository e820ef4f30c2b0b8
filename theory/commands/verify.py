"""``tts verify``: run every claim's verification and print the ledger.

Progress goes to stderr while the checks run (one line per claim, with its time); the report
goes to stdout as a table (default) or JSON (``--json``), and optionally to a Markdown file
(``--markdown FILE``). The exit status is 1 when some check could not run, 0 otherwise: a
refuted claim is a finding, not a failure of the tool.
"""

from __future__ import annotations

import sys
import textwrap
from collections import Counter

NAME = "verify"
HELP = "run every claim's checks and print claim, statement, verdict and evidence"

_WIDTH = 100


def configure(p):
    tier = p.add_mutually_exclusive_group()
    tier.add_argument("--fast", dest="full", action="store_false", default=False,
                      help="quick tier (default): every claim in seconds")
    tier.add_argument("--full", dest="full", action="store_true",
                      help="heavier tier: more samples, larger cases (minutes)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON list of objects (id, title, statement, source, convention, verdict, statements, reproduce, seconds, error); statements: id, role, verdict, text, evidence and, where present, counterexample and known")
    p.add_argument("--markdown", metavar="FILE", help="also write the report as a Markdown table to FILE")
    p.add_argument("--only", metavar="IDS", help="comma-separated claim ids to run")


def _summary(results, full: bool) -> str:
    from theory.ledger import VERDICTS
    counts = Counter(r.verdict for r in results)
    # The ledger's verdict order (confirmed first), then anything else (a check that could not run).
    order = list(VERDICTS) + sorted(set(counts) - set(VERDICTS))
    parts = ", ".join(f"{counts[v]} {v}" for v in order if counts[v])
    total = sum(r.seconds for r in results)
    return (f"{len(results)} claim{'s' if len(results) != 1 else ''}: {parts}; "
            f"{total:.1f} s ({'full' if full else 'fast'} tier)")


def _markdown(results, full: bool) -> str:
    rows = [f"**tts verify** — {_summary(results, full)}", "",
            "| claim | statement | source | verdict | evidence | seconds |",
            "|---|---|---|---|---|---:|"]
    for r in results:
        cells = [f"`{r.id}`", r.statement, r.source, f"**{r.verdict}**", r.evidence, f"{r.seconds:.1f}"]
        rows.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def _wrapped(label: str, text: str, indent: int, hang: int | None = None) -> str:
    from theory._tex import plain
    pad = " " * indent
    rest = pad + " " * (len(label) if hang is None else hang)
    return textwrap.fill(plain(text), _WIDTH, initial_indent=pad + label, subsequent_indent=rest)


def _table(results, full: bool) -> str:
    width = max([len("claim")] + [len(r.id) for r in results])
    vwidth = max([len("verdict")] + [len(r.verdict) for r in results])
    lines = [f"{'claim':<{width}}  {'verdict':<{vwidth}}  {'time':>7}"]
    lines += [f"{r.id:<{width}}  {r.verdict:<{vwidth}}  {r.seconds:>5.1f} s" for r in results]
    lines += ["", _summary(results, full), ""]
    for r in results:
        lines.append(f"{r.id} — {r.verdict.upper()}")
        lines.append(_wrapped("claim:    ", r.statement, 2))
        lines.append(_wrapped("source:   ", r.source, 2))
        if r.error or not r.statements:
            lines.append(_wrapped("evidence: ", r.evidence, 2))
        for s in r.statements:
            lines.append(_wrapped(f"{s.verdict.upper():<9} {s.id} ({s.role}): ", s.text, 2, hang=12))
            lines.append(_wrapped("evidence: ", s.evidence, 14))
            if s.counterexample:
                # the route can be long: continue under the evidence, not under the label
                lines.append(_wrapped(f"counterexample ({s.counterexample_route}): ", s.counterexample, 14,
                                      hang=len("evidence: ")))
            if s.known:
                lines.append(_wrapped("known: ", s.known, 14))
    return "\n".join(lines)


def run(args) -> int:
    from theory import ledger
    from theory.commands._paths import writable_file
    if args.markdown is not None:
        writable_file(args.markdown, "--markdown")  # before any check runs
    specs = ledger.registered()
    if args.only is not None:
        wanted = [s.strip() for s in args.only.split(",") if s.strip()]
        if not wanted:
            raise ValueError(f"--only: no claim ids given ({args.only!r}); omit --only to run every claim")
        known = [s.id for s in specs]
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise ValueError(f"--only: unknown claim id(s) {', '.join(unknown)}; known: {', '.join(known)}")
        specs = [s for s in specs if s.id in wanted]
    if not specs:
        raise ValueError("no claims are registered (theory/claims/ is empty)")
    results = []
    for i, spec in enumerate(specs, 1):
        print(f"[{i}/{len(specs)}] {spec.id} ...", end="", file=sys.stderr, flush=True)
        r = ledger.run_claim(spec.id, full=args.full)
        print(f" {r.verdict} ({r.seconds:.1f} s)", file=sys.stderr, flush=True)
        results.append(r)
    if args.json:
        from theory.commands._json import dumps
        print(dumps([r.as_dict() for r in results]))
    else:
        print(_table(results, args.full))
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as fh:
            fh.write(_markdown(results, args.full))
        print(f"tts verify: wrote {args.markdown}", file=sys.stderr)
    failed = [r.id for r in results if r.error]
    if failed:
        print(f"tts verify: could not run: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
