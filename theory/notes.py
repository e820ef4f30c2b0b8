r"""The ledger on disk: one JSON record per claim, and ``paper_notes.md`` rendered from them.

``tts derive`` runs every claim (fast tier) and writes ``proofs/ledger/<id>.json``, the record of
what the computation concluded: the headline verdict and every part with its verdict, evidence,
counterexample and what is known.  ``paper_notes.md`` and the LaTeX sections are rendered from these
records, so no number in them is typed by hand; ``checks/`` recompute every part and fail when the
computation no longer matches its record (the records are the expected values, with the claim
modules as their recipe).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

RECORD_DIR = Path("proofs") / "ledger"
NOTES = Path("paper_notes.md")
RECORD_FIELDS = ("id", "title", "statement", "source", "convention", "verdict", "statements", "reproduce")


def record_filename(claim_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", claim_id) + ".json"


def record(result) -> dict:
    """The stable part of a :class:`theory.ledger.ClaimResult` (no timings)."""
    if result.error:
        raise ValueError(f"claim {result.id!r} could not run, nothing to record: {result.error}")
    data = result.as_dict()
    return {key: data[key] for key in RECORD_FIELDS}


def dumps(rec: dict) -> str:
    return json.dumps(rec, indent=1, ensure_ascii=False) + "\n"


def write_record(result, directory: str | Path = RECORD_DIR) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / record_filename(result.id)
    path.write_text(dumps(record(result)), encoding="utf-8")
    return path


def read_record(claim_id: str, directory: str | Path = RECORD_DIR) -> dict:
    path = Path(directory) / record_filename(claim_id)
    if not path.is_file():
        raise ValueError(f"no ledger record for claim {claim_id!r} ({path}): run `tts derive`")
    return json.loads(path.read_text(encoding="utf-8"))


def read_records(directory: str | Path = RECORD_DIR) -> list[dict]:
    """Every record, in the paper's order."""
    from theory.ledger import _sort_key
    recs = [json.loads(p.read_text(encoding="utf-8")) for p in Path(directory).glob("*.json")]
    return sorted(recs, key=lambda r: _sort_key(r["id"]))


# ---------------------------------------------------------------------------------------------
# paper_notes.md

_INTRO = """\
# Claims ledger

Every claim of arXiv 2510.03605 that this project verifies: the statement, its source label, the
mapping to our conventions, the verdict, and the sub-statements it is made of, each with the
verdict the computation reached and its evidence (an exact derivation and an independent
computation). **This file is generated** by `tts derive` from the claims' computations
(`theory/claims/`, records in `proofs/ledger/`); do not edit it by hand. `pytest checks/` recomputes
every sub-statement and fails when it no longer agrees with its record.

How a verdict follows from the sub-statements (one rule, `theory.ledger.headline`): a claim is
*confirmed* when every sub-statement of role `claim` (a reading of the paper's statement as made)
holds; otherwise, when one of them fails, it is *confirmed under stated conditions* if a
sub-statement of role `condition` holds, and *refuted* if none does; with no failure but an open
sub-statement it is *undecided*. Sub-statements of role `finding` are facts established beyond the
paper and do not move the verdict. A failing sub-statement carries a counterexample re-verified by
a second route; a disagreement between two routes is an error of the check, never a verdict.

Source labels: [poster] stated in the paper's poster; [paper] the paper's statement as reported
(wording may differ); [sibling] the same authors' arXiv 2603.01293; [derived] derived in this
project; [open] not stated by the paper, settled or assumed here.

## Conventions

- Features $x \\sim N(0, \\Lambda)$ (training) and $N(0, \\Sigma)$ (test), $w \\sim N(0, I_d)$,
  $y = \\langle w, x\\rangle$, no noise.
- $\\Gamma = (1 + 1/n)\\Lambda + (\\operatorname{tr}\\Lambda/n) I$,
  $\\mathrm{Hard}(\\Lambda) = \\operatorname{tr}\\Lambda/\\lambda_{\\min}(\\Lambda)$.
- $w_0 = 0$; $k$ counts LSA forward passes, so $k = 1$ is direct in-context learning and
  $\\mathrm{err}_k = \\mathbb E\\|w_k - w\\|^2$. The paper's $w_{k+1}$ "after $k$ steps" (counted from
  $w_1 = 0$) is our $w_k$.
- $m$ is the test prompt length ($\\rho = m$ at test time, $\\rho = n$ in training); $m = \\infty$ is the
  limit $\\hat S_m \\to \\Sigma$.
"""


def _verdict_table(records: list[dict]) -> str:
    rows = ["| claim | verdict | sub-statements (holds / fails / undecided) |", "|---|---|---|"]
    for r in records:
        counts = {v: sum(s["verdict"] == v for s in r["statements"]) for v in ("holds", "fails", "undecided")}
        rows.append(f"| [`{r['id']}`](#{_anchor(r)}) | {r['verdict']} | "
                    f"{counts['holds']} / {counts['fails']} / {counts['undecided']} |")
    return "\n".join(rows)


def _anchor(r: dict) -> str:
    """GitHub's anchor of the section heading ``## `id` — title``."""
    heading = f"{r['id']} — {r['title']}".lower()
    heading = re.sub(r"[^\w\- ]", "", heading)
    return heading.replace(" ", "-")


def _section(r: dict) -> str:
    out = [f"## `{r['id']}` — {r['title']}", "",
           f"- **Statement**: {r['statement']}",
           f"- **Source**: {r['source']}",
           f"- **Convention**: {r['convention']}",
           f"- **Verdict**: {r['verdict']}",
           "- **Sub-statements**:"]
    for s in r["statements"]:
        out.append(f"  - `{s['id']}` ({s['role']}) — **{s['verdict']}**: {s['text']}")
        out.append(f"    - *Evidence*: {s['evidence']}")
        if "counterexample" in s:
            out.append(f"    - *Counterexample* (confirmed by {s['counterexample_route']}): {s['counterexample']}")
        if "known" in s:
            out.append(f"    - *What is known*: {s['known']}")
    out.append("- **Reproduce**: " + ", ".join(f"`{c}`" for c in r["reproduce"]))
    return "\n".join(out)


def render_notes(records: list[dict]) -> str:
    """``paper_notes.md`` from the records."""
    if not records:
        raise ValueError("no ledger records to render")
    return (_INTRO + "\n## Verdicts\n\n" + _verdict_table(records) + "\n\n"
            + "\n\n".join(_section(r) for r in records) + "\n")
