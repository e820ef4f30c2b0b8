"""``tts derive``: recompute the ledger and regenerate what is rendered from it.

Runs every claim (fast tier), writes one record per claim to ``proofs/ledger/<id>.json``, renders
``paper_notes.md`` from the records, and writes the LaTeX derivations (``proofs/`` by default):
``derivations.tex``, ``sections/<claim>.tex`` and ``references.bib``. The figures are not drawn here
(``tts report`` draws them and compiles the PDF).
"""

from __future__ import annotations

import sys
from pathlib import Path

NAME = "derive"
HELP = "recompute the claims ledger and regenerate paper_notes.md and the LaTeX derivations from it"


def configure(p):
    p.add_argument("--out", metavar="DIR", default="proofs",
                   help="output directory of the LaTeX (default: proofs/); the master document is "
                        "DIR/derivations.tex and the ledger records go to DIR/ledger/")
    p.add_argument("--notes", metavar="FILE", default="paper_notes.md",
                   help="the claims ledger to write (default: paper_notes.md)")
    p.add_argument("--only", metavar="IDS", help="recompute only these claims' records (comma-separated)")
    p.add_argument("--render-only", action="store_true",
                   help="do not recompute: render paper_notes.md and the LaTeX from the existing records")


def recompute_records(records: Path, only: str | None = None) -> None:
    """Run the claims (all, or the comma-separated ``only``) and write their
    records to ``records``; progress on stderr. A claim that cannot run leaves its record alone
    and stops the run."""
    from theory import ledger, notes
    specs = ledger.registered()
    if only is not None:
        wanted = [s.strip() for s in only.split(",") if s.strip()]
        if not wanted:
            raise ValueError("--only: no claim ids given")
        unknown = sorted(set(wanted) - {c.id for c in specs})
        if unknown:
            raise ValueError(f"--only: unknown claim id(s) {', '.join(unknown)}")
        specs = [c for c in specs if c.id in wanted]
    for i, spec in enumerate(specs, 1):
        print(f"[{i}/{len(specs)}] {spec.id} ...", end="", file=sys.stderr, flush=True)
        result = ledger.run_claim(spec.id)
        print(f" {result.verdict} ({result.seconds:.1f} s)", file=sys.stderr, flush=True)
        if result.error:
            raise RuntimeError(f"claim {spec.id} could not run, its record is unchanged: {result.error}")
        notes.write_record(result, records)


def run(args) -> int:
    from theory import notes
    from theory.commands._paths import writable_directory, writable_file
    from theory.derive import write_derivations
    out = writable_directory(args.out, "--out")
    writable_file(args.notes, "--notes")
    records = out / "ledger"
    if not args.render_only:
        recompute_records(records, args.only)
    elif not any(records.glob("*.json")):
        raise ValueError(f"--render-only: no ledger records to render in {records} (the records live in "
                         f"--out's ledger/; run without --render-only to compute them)")
    Path(args.notes).write_text(notes.render_notes(notes.read_records(records)), encoding="utf-8")
    print(f"tts derive: wrote {args.notes}", file=sys.stderr)
    written = write_derivations(out, records)
    for path in written:
        print(path)
    print(f"tts derive: wrote {len(written)} files; compile with `cd {out} && pdflatex derivations.tex "
          f"&& bibtex derivations && pdflatex derivations.tex && pdflatex derivations.tex`, or run "
          f"`tts report` for the PDF with its figures", file=sys.stderr)
    return 0
