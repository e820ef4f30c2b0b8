"""References between files: everything a reader is pointed to lies inside the repository.

Scanned: every file git tracks (or would track: untracked files that are not ignored), read as
text. Markdown, LaTeX, shell and TOML files are prose throughout; in Python files the prose is the
docstrings, the comments and the Markdown cells of the notebook (string arguments of marimo's
``md``), not the code, whose string literals name temporary files and outputs.

* No text, code included, names the outside documents listed in ``FORBIDDEN``.
* Every file name or relative path cited in prose (``*.md``, ``*.py``, ``*.tex``, ...) exists: a path
  with a directory relative to the citing file or to the repository root, a bare name as the name
  of some tracked file. Placeholders (files a command writes or a user supplies) are listed below.
* A cited test (a Python file, ``::`` and a name) names a function or class of that file.
* Every ``proofs/math.md §N`` names an existing section of the mathematical notes, and so does every
  ``§N`` inside the notes; every ``(#anchor)`` link of the notes resolves to a heading.
"""

from __future__ import annotations

import ast
import fnmatch
import io
import os
import re
import subprocess
import tokenize
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTES = "proofs/math.md"

# Written in two pieces so that this file does not match itself.
FORBIDDEN = ("MATH" ".md", "../" "shared", "seed/" "poster.md")

# File names cited as placeholders: (citing file, name) -> what the name stands for.
PLACEHOLDERS = {
    ("README.md", "report.md"): "the file `tts verify --markdown` writes",
    ("README.md", "tasks.json"): "the user's task list for `tts select`",
    ("README.md", "reproduce_explore.py"): "the script the notebook's download button saves",
    ("README.md", "report/derivations.pdf"): "the PDF `tts report` writes",
    ("bench/README.md", "gpu_mc.json"): "written by bench/gpu.py into $OUT",
    ("bench/README.md", "gpu_mc.md"): "written by bench/gpu.py into $OUT",
    ("bench/gpu.py", "gpu_mc.json"): "written by this script into $OUT",
    ("bench/gpu.py", "gpu_mc.md"): "written by this script into $OUT",
    # The claims' figures, drawn next to the LaTeX by `tts report` (proofs/ compiles without them).
    ("proofs/sections/cor3_5.tex", "figures/beyond.pdf"): "drawn by `tts report`",
    ("proofs/sections/tradeoff.tex", "figures/tradeoff.pdf"): "drawn by `tts report`",
    ("proofs/sections/rem4_1.tex", "figures/overthinking.pdf"): "drawn by `tts report`",
    ("proofs/sections/prop4_3.tex", "figures/selection.pdf"): "drawn by `tts report`",
    ("bench/README.md", "slice.json"): "the results `bench/mutation.py --json` writes",
    ("bench/README.md", "other.json"): "the results `bench/mutation.py --json` writes",
    ("bench/mutation.py", "slice.json"): "the results `--json` writes",
    ("bench/mutation.py", "other.json"): "the results `--json` writes",
}

_EXTENSIONS = "md|py|tex|toml|json|npy|txt|csv|cfg|ini|ya?ml|ipynb|sh|rst|png|pdf|svg"
# A file name, optionally with directories, ../ or an absolute root; not the tail of a longer word.
_FILE = re.compile(rf"(?<![\w/.\-])((?:\.\.?/|/)?(?:[\w.\-]+/)*[\w\-][\w.\-]*\.(?:{_EXTENSIONS}))(?![\w\-/])")
_TEST_REF = re.compile(r"(?<![\w/.\-])((?:[\w.\-]+/)*[\w\-]+\.py)::(\w+)")
_URL = re.compile(r"\w+://\S+")
# The notes' name and the run of section numbers after it ("§2, §3 and §5 to §7"), also when the
# name is a Markdown link to the file.
_NOTES_REF = re.compile(r"proofs/math\.md(?:`?\]\(proofs/math\.md\))?"
                        r"((?:(?:\s*,\s*|\s+and\s+|\s*[\u2013-]\s*|\s+to\s+|\s*)§\s*\d+)*)")
_NOTES_REF_WORDED = re.compile(r"proofs/math\.md,?\s+sections?\s+\d")
_SECTION = re.compile(r"^## (\d+)\. (.+?)\s*$", re.M)


def _git_files() -> list[str] | None:
    """Repository-relative paths of the files git tracks or would track; None without git."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return sorted({p for p in out.decode().split("\0") if p and (ROOT / p).is_file()})


def _walked_files() -> list[str]:
    """The same list by walking the tree (an unpacked source archive has no git).

    Leaves out what ``.gitignore`` ignores; its patterns are plain names, ``*`` globs and ``dir/``.
    """
    ignore = [line.strip() for line in (ROOT / ".gitignore").read_text().splitlines()
              if line.strip() and not line.startswith("#")]

    def ignored(name: str, is_dir: bool) -> bool:
        return name == ".git" or any(fnmatch.fnmatch(name, pat.rstrip("/"))
                                     for pat in ignore if is_dir or not pat.endswith("/"))

    files = []
    for here, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not ignored(d, True)]
        files.extend(Path(here, name).relative_to(ROOT).as_posix()
                     for name in names if not ignored(name, False))
    return sorted(files)


def _tracked_files() -> list[str]:
    files = _git_files()
    return _walked_files() if files is None else files


def _read(path: str) -> str | None:
    """The file as text, or None for a binary file."""
    try:
        return (ROOT / path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


def _python_prose(text: str) -> list[str]:
    """Docstrings, comments and marimo Markdown cells of a Python source."""
    pieces = [tok.string for tok in tokenize.generate_tokens(io.StringIO(text).readline)
              if tok.type == tokenize.COMMENT]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                pieces.append(doc)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "md" and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            pieces.append(node.args[0].value)
    return pieces


def _prose(path: str, text: str) -> str:
    """The reader-facing text of a file, with URLs removed and LaTeX escapes and line-break hints
    undone."""
    body = "\n".join(_python_prose(text)) if path.endswith(".py") else text
    if path.endswith(".tex"):
        body = body.replace(r"\_", "_").replace(r"\S{}", "§").replace(r"\allowbreak{}", "")
    return _URL.sub(" ", body)


def missing_citations(path: str, prose: str, tracked: set[str]) -> list[str]:
    """Problems with the file names cited in ``prose``, which is the text of the file ``path``."""
    basenames = {PurePosixPath(p).name for p in tracked}
    here = PurePosixPath(path).parent
    problems = []
    for name in _FILE.findall(prose):
        if (path, name) in PLACEHOLDERS:
            continue
        if name.startswith("/"):
            problems.append(f"{path}: absolute path {name!r}")
            continue
        if "/" not in name:
            if name not in basenames:
                problems.append(f"{path}: no file named {name!r} in the repository")
            continue
        candidates = {os.path.normpath(str(here / name)), os.path.normpath(name)}
        inside = {c for c in candidates if not c.startswith("..")}
        if not inside:
            problems.append(f"{path}: {name!r} points outside the repository")
        elif not inside & tracked:
            problems.append(f"{path}: {name!r} does not exist")
    return problems


def missing_tests(path: str, prose: str, tracked: set[str]) -> list[str]:
    """Problems with the cited tests (``<file>::<name>``) in ``prose``."""
    problems = []
    for file, name in _TEST_REF.findall(prose):
        target = next((c for c in (os.path.normpath(str(PurePosixPath(path).parent / file)), file)
                       if c in tracked), None)
        if target is None:
            continue  # reported by missing_citations
        defined = re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{name}\b", _read(target) or "", re.M)
        if not defined:
            problems.append(f"{path}: {file}::{name} is not defined in {target}")
    return problems


def forbidden_mentions(path: str, text: str) -> list[str]:
    return [f"{path}: mentions {bad!r}" for bad in FORBIDDEN if bad in text]


def notes_sections(text: str) -> dict[int, str]:
    """The numbered ``## N. Title`` sections of the notes."""
    return {int(n): title for n, title in _SECTION.findall(text)}


def bad_section_references(path: str, text: str, sections: dict[int, str]) -> list[str]:
    """``proofs/math.md §N`` (and, inside the notes, any ``§N``) naming a missing section."""
    problems = [f"{path}: {m.group(0)!r}: cite sections as '§N'" for m in _NOTES_REF_WORDED.finditer(text)]
    runs = [m.group(1) for m in _NOTES_REF.finditer(text)]
    if path == NOTES:
        runs.append(text)
    for run in runs:
        for n in re.findall(r"§\s*(\d+)", run):
            if int(n) not in sections:
                problems.append(f"{path}: cites proofs/math.md §{n}, which does not exist")
    return problems


def slug(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


@pytest.fixture(scope="module")
def corpus() -> dict[str, str]:
    texts = {p: _read(p) for p in _tracked_files()}
    return {p: t for p, t in texts.items() if t is not None}


@pytest.fixture(scope="module")
def sections(corpus) -> dict[int, str]:
    return notes_sections(corpus[NOTES])


def test_no_file_refers_outside_the_repository(corpus):
    problems = [p for path, text in corpus.items() for p in forbidden_mentions(path, text)]
    assert not problems, "\n".join(problems)


def test_every_cited_file_exists(corpus):
    tracked = set(corpus)
    problems = [p for path, text in corpus.items()
                for p in missing_citations(path, _prose(path, text), tracked)]
    assert not problems, "\n".join(problems)


def test_every_cited_test_exists(corpus):
    tracked = set(corpus)
    problems = [p for path, text in corpus.items()
                for p in missing_tests(path, _prose(path, text), tracked)]
    assert not problems, "\n".join(problems)


def test_notes_are_numbered_one_to_n(corpus, sections):
    numbers = [int(n) for n, _ in _SECTION.findall(corpus[NOTES])]
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    assert "References" in sections.values() and any("Sources" in t for t in sections.values())


def test_every_section_reference_exists(corpus, sections):
    problems = [p for path, text in corpus.items()
                for p in bad_section_references(path, _prose(path, text), sections)]
    assert not problems, "\n".join(problems)


def test_notes_anchor_links_resolve(corpus):
    text = corpus[NOTES]
    anchors = {slug(f"{n}. {title}") for n, title in _SECTION.findall(text)}
    links = re.findall(r"\]\(#([^)]+)\)", text)
    assert links, "the notes have no table of contents"
    assert not sorted(set(links) - anchors), anchors


def test_tree_walk_lists_what_git_lists():
    # The walk stands in for git where there is none; here both exist, and they must agree.
    files = _git_files()
    if files is None:
        pytest.skip("git is not available: nothing to compare the tree walk with")
    assert _walked_files() == files


def test_checkers_report_planted_mistakes():
    # Each checker on text with deliberate mistakes, so that a checker that sees nothing fails here.
    tracked = {"README.md", "proofs/math.md", "tests/test_a.py", "theory/x.py"}
    prose = (f"see {FORBIDDEN[0]}, theory/x.py, ../x.py, missing.py, docs/gone.md, /abs/file.txt, "
             "https://example.org/page.py and README.md")
    assert missing_citations("theory/y.md", _prose("theory/y.md", prose), tracked) == [
        f"theory/y.md: no file named {FORBIDDEN[0]!r} in the repository",
        "theory/y.md: '../x.py' does not exist",
        "theory/y.md: no file named 'missing.py' in the repository",
        "theory/y.md: 'docs/gone.md' does not exist",
        "theory/y.md: absolute path '/abs/file.txt'",
    ]
    assert missing_citations("a/b.md", "see ../../../outside.md", tracked) == [
        "a/b.md: '../../../outside.md' points outside the repository"]
    assert forbidden_mentions("f.md", f"x {FORBIDDEN[1]}/y") == [f"f.md: mentions {FORBIDDEN[1]!r}"]
    this = "tests/test_references.py"
    assert missing_tests("f.md", f"{this}::slug and {this}::no_such_test", {this}) == [
        f"f.md: {this}::no_such_test is not defined in {this}"]
    sections = {1: "Sources", 2: "References"}
    assert bad_section_references("f.py", "proofs/math.md §1, §2 and §9", sections) == [
        "f.py: cites proofs/math.md §9, which does not exist"]
    assert bad_section_references("f.md", "[`proofs/math.md`](proofs/math.md) §3", sections) == [
        "f.md: cites proofs/math.md §3, which does not exist"]
    assert bad_section_references("f.py", "proofs/math.md section 2", sections) == [
        "f.py: 'proofs/math.md section 2': cite sections as '§N'"]
    assert bad_section_references(NOTES, "as in §2; see §12", sections) == [
        f"{NOTES}: cites proofs/math.md §12, which does not exist"]
    assert slug("15. The isotropic model and the Marchenko-Pastur limit") == \
        "15-the-isotropic-model-and-the-marchenko-pastur-limit"
    assert slug('18. Proposition 4.3 and the readings of "hard"') == \
        "18-proposition-43-and-the-readings-of-hard"
