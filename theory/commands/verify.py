"""``tts verify``: run every claim's verification and print the ledger."""

from __future__ import annotations

import json
import sys

NAME = "verify"
HELP = "run every claim's checks and print claim, statement, verdict and evidence"


def configure(p):
    tier = p.add_mutually_exclusive_group()
    tier.add_argument("--fast", dest="full", action="store_false", default=False,
                      help="quick tier (default)")
    tier.add_argument("--full", dest="full", action="store_true",
                      help="heavier tier: more samples, larger cases")
    p.add_argument("--json", action="store_true", help="print a JSON list of objects (id, verdict, evidence, ...)")
    p.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown to FILE")
    p.add_argument("--only", metavar="IDS", help="comma-separated claim ids to run")


def _markdown(results) -> str:
    rows = ["| claim | statement | verdict | evidence | seconds |", "|---|---|---|---|---|"]
    for r in results:
        cells = [f"`{r.id}`", r.statement, r.verdict, r.evidence, f"{r.seconds:.1f}"]
        rows.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def _table(results) -> str:
    import textwrap
    lines = []
    for r in results:
        lines.append(f"{r.id:<10} {r.verdict.upper()}  ({r.seconds:.1f} s)")
        lines.append(textwrap.fill(r.statement, 100, initial_indent="  claim:    ", subsequent_indent=" " * 12))
        lines.append(textwrap.fill(r.evidence, 100, initial_indent="  evidence: ", subsequent_indent=" " * 12))
    return "\n".join(lines)


def run(args) -> int:
    from theory import ledger
    specs = ledger.registered()
    if args.only:
        wanted = [s.strip() for s in args.only.split(",") if s.strip()]
        known = {s.id for s in specs}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise ValueError(f"--only: unknown claim id(s) {', '.join(unknown)}; known: {', '.join(known)}")
        specs = [s for s in specs if s.id in wanted]
    results = []
    for i, spec in enumerate(specs, 1):
        print(f"[{i}/{len(specs)}] {spec.id} ...", end="", file=sys.stderr, flush=True)
        r = ledger.run_claim(spec.id, full=args.full)
        print(f" {r.verdict} ({r.seconds:.1f} s)", file=sys.stderr, flush=True)
        results.append(r)
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        print(_table(results))
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as fh:
            fh.write(_markdown(results))
    failed = [r.id for r in results if r.error]
    if failed:
        print(f"tts verify: could not run: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
