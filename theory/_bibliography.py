"""The bibliography of the LaTeX report, written as ``references.bib`` by ``tts derive``.

One entry per work the report cites: the paper under study, the work its model and its chain of
thought build on, and the mathematics the derivations use (Isserlis' theorem behind the moment
lemma, Stein's identity behind the exact engine, Wishart distributions, Jack and zonal polynomials,
the Marchenko–Pastur law) and the Monte Carlo diagnostics. The keys are the ones the report's
``\\cite`` commands use; ``tests/test_derive.py`` checks that every cited key has an entry here and
that bibtex resolves them all.
"""

from __future__ import annotations

# Each entry: (BibTeX type, key, fields in print order). Titles keep their capitals with braces.
ENTRIES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("inproceedings", "javanmard2026", (
        ("author", "Javanmard, Adel and Mirzasoleiman, Baharan and Mirrokni, Vahab"),
        ("title", "Understanding the Role of Training Data in Test-Time Scaling"),
        ("booktitle", "International Conference on Learning Representations ({ICLR})"),
        ("year", "2026"),
        ("note", "arXiv:2510.03605 (2025)"),
    )),
    ("misc", "javanmard2026sibling", (
        ("author", "Javanmard, Adel and Mirzasoleiman, Baharan and Mirrokni, Vahab"),
        ("title", "Theoretical Perspectives on Data Quality and Synergistic Effects in Pre- and "
                  "Post-Training Reasoning Models"),
        ("howpublished", "arXiv:2603.01293"),
        ("year", "2026"),
    )),
    ("article", "zhang2024", (
        ("author", "Zhang, Ruiqi and Frei, Spencer and Bartlett, Peter L."),
        ("title", "Trained Transformers Learn Linear Models In-Context"),
        ("journal", "Journal of Machine Learning Research"),
        ("volume", "25"),
        ("number", "49"),
        ("pages", "1--55"),
        ("year", "2024"),
        ("note", "Preprint arXiv:2306.09927 (2023)"),
    )),
    ("inproceedings", "huang2025", (
        ("author", "Huang, Jianhao and Wang, Zixuan and Lee, Jason D."),
        ("title", "Transformers Learn to Implement Multi-step Gradient Descent with Chain of Thought"),
        ("booktitle", "International Conference on Learning Representations ({ICLR})"),
        ("year", "2025"),
        ("note", "arXiv:2502.21212"),
    )),
    ("misc", "takanami2026", (
        ("author", "Takanami, Kaito and Pehlevan, Cengiz"),
        ("title", "An Asymptotic Theory of Chain-of-Thought in In-Context Learning"),
        ("howpublished", "arXiv:2606.03217"),
        ("year", "2026"),
    )),
    ("article", "isserlis1918", (
        ("author", "Isserlis, L."),
        ("title", "On a Formula for the Product-Moment Coefficient of any Order of a Normal Frequency "
                  "Distribution in any Number of Variables"),
        ("journal", "Biometrika"),
        ("volume", "12"),
        ("number", "1/2"),
        ("pages", "134--139"),
        ("year", "1918"),
    )),
    ("article", "stein1981", (
        ("author", "Stein, Charles M."),
        ("title", "Estimation of the Mean of a Multivariate Normal Distribution"),
        ("journal", "The Annals of Statistics"),
        ("volume", "9"),
        ("number", "6"),
        ("pages", "1135--1151"),
        ("year", "1981"),
    )),
    ("book", "muirhead1982", (
        ("author", "Muirhead, Robb J."),
        ("title", "Aspects of Multivariate Statistical Theory"),
        ("publisher", "Wiley"),
        ("address", "New York"),
        ("year", "1982"),
    )),
    ("article", "stanley1989", (
        ("author", "Stanley, Richard P."),
        ("title", "Some Combinatorial Properties of {J}ack Symmetric Functions"),
        ("journal", "Advances in Mathematics"),
        ("volume", "77"),
        ("number", "1"),
        ("pages", "76--115"),
        ("year", "1989"),
    )),
    ("article", "knop1997", (
        ("author", "Knop, Friedrich and Sahi, Siddhartha"),
        ("title", "A Recursion and a Combinatorial Formula for {J}ack Polynomials"),
        ("journal", "Inventiones Mathematicae"),
        ("volume", "128"),
        ("number", "1"),
        ("pages", "9--22"),
        ("year", "1997"),
    )),
    ("article", "koev2006", (
        ("author", "Koev, Plamen and Edelman, Alan"),
        ("title", "The Efficient Evaluation of the Hypergeometric Function of a Matrix Argument"),
        ("journal", "Mathematics of Computation"),
        ("volume", "75"),
        ("number", "254"),
        ("pages", "833--846"),
        ("year", "2006"),
    )),
    ("article", "marchenko1967", (
        ("author", "Marchenko, Vladimir A. and Pastur, Leonid A."),
        ("title", "Distribution of Eigenvalues for Some Sets of Random Matrices"),
        ("journal", "Matematicheskii Sbornik (N.S.)"),
        ("volume", "72(114)"),
        ("number", "4"),
        ("pages", "507--536"),
        ("year", "1967"),
        ("note", "English translation: Mathematics of the USSR-Sbornik 1(4):457--483"),
    )),
    ("article", "gine1997", (
        ("author", "Gin{\\'e}, Evarist and G{\\\"o}tze, Friedrich and Mason, David M."),
        ("title", "When is the {S}tudent $t$-statistic Asymptotically Standard Normal?"),
        ("journal", "The Annals of Probability"),
        ("volume", "25"),
        ("number", "3"),
        ("pages", "1514--1531"),
        ("year", "1997"),
    )),
    ("article", "owen2000", (
        ("author", "Owen, Art and Zhou, Yi"),
        ("title", "Safe and Effective Importance Sampling"),
        ("journal", "Journal of the American Statistical Association"),
        ("volume", "95"),
        ("number", "449"),
        ("pages", "135--143"),
        ("year", "2000"),
    )),
)

KEYS = tuple(key for _, key, _ in ENTRIES)


def bibtex() -> str:
    """``references.bib``: every entry of :data:`ENTRIES`, in order."""
    blocks = []
    for kind, key, fields in ENTRIES:
        width = max(len(name) for name, _ in fields)
        body = ",\n".join(f"  {name:<{width}} = {{{value}}}" for name, value in fields)
        blocks.append(f"@{kind}{{{key},\n{body}\n}}\n")
    return "% Generated by `tts derive` (theory/_bibliography.py); do not edit.\n\n" + "\n".join(blocks)
