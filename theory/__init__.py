"""tts-theory: a verifier for the theory of test-time scaling (arXiv 2510.03605).

Data flows one way: covariance spec → Γ and trained parameters → CoT recurrence →
exact error / Monte Carlo → verdicts, LaTeX, figures.
"""

from theory.covariance import gamma, gamma_exact, hardness
from theory.lsa import cot_rollout, embed_prompt, lsa_forward, read_estimate, trained_parameters

__all__ = [
    "gamma", "gamma_exact", "hardness",
    "embed_prompt", "lsa_forward", "read_estimate", "trained_parameters", "cot_rollout",
]
