"""``tts report``: the whole report in one folder, the derivations typeset with their figures.

Writes into ``DIR`` (default ``report/``) the LaTeX of ``tts derive`` (``derivations.tex``,
``sections/``, ``references.bib``), the figures of ``tts figures`` (``figures/*.pdf``), and compiles
the PDF next to them (pdflatex, bibtex, pdflatex twice). By default the claims' committed records
(``proofs/ledger``) are rendered as they are; ``--recompute`` runs the claims afresh (fast tier) into
``DIR/ledger`` and renders those, leaving the committed files alone. Running the claims is the
expensive part; the figures take under a minute (seconds with ``--quick``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

NAME = "report"
HELP = ("the whole report in one folder: the derivations, their figures and the compiled PDF "
        "(needs pdflatex and bibtex)")


def configure(p):
    p.add_argument("--out", metavar="DIR", default="report", help="output directory (default: report/)")
    p.add_argument("--quick", action="store_true",
                   help="figures with coarser grids and fewer Monte Carlo prompts (seconds; a preview)")
    p.add_argument("--recompute", action="store_true",
                   help="run the claims afresh (fast tier) into DIR/ledger instead of rendering the "
                        "committed records")
    p.add_argument("--records", metavar="DIR", default="proofs/ledger",
                   help="the claims' records to render (default: proofs/ledger; ignored with --recompute)")


def run(args) -> int:
    from theory.commands._paths import writable_directory
    from theory.derive import FIGURE_DIR, compile_pdf, missing_tex_tools, write_derivations
    missing = missing_tex_tools()
    if missing:
        raise ValueError(f"{' and '.join(missing)} not found on PATH; install TeX Live (Debian: "
                         "texlive-latex-base texlive-latex-recommended texlive-fonts-recommended)")
    try:
        from theory.figures import _figure_class, write_figures
        _figure_class()
    except ImportError as exc:
        raise ValueError(str(exc)) from None
    out = writable_directory(args.out, "--out")  # the prerequisites and the paths before any work
    if not args.recompute and not Path(args.records).is_dir():
        raise ValueError(f"--records: no such directory {args.records!r}")
    start = time.perf_counter()
    records = Path(args.records)
    if args.recompute:
        from theory.commands.derive import recompute_records
        records = out / "ledger"
        recompute_records(records)
    print("tts report: rendering the derivations ...", file=sys.stderr, flush=True)
    write_derivations(out, records, quick=args.quick)
    write_figures(out / FIGURE_DIR, quick=args.quick,
                  progress=lambda name: print(f"figure {name} ...", file=sys.stderr, flush=True))
    print("tts report: compiling (pdflatex, bibtex, pdflatex x2) ...", file=sys.stderr, flush=True)
    try:
        build = compile_pdf(out)
    except RuntimeError as exc:
        print(f"tts report: {exc}", file=sys.stderr)
        return 1
    print(build.pdf)
    print(f"tts report: {build.pages} pages in {time.perf_counter() - start:.0f} s; "
          f"{len(build.overfull)} overfull lines, {len(build.undefined)} unresolved citations or "
          f"references (log: {build.pdf.with_suffix('.log')})", file=sys.stderr)
    return 1 if build.undefined else 0
