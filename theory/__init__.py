"""tts-theory: a verifier for the theory of test-time scaling (arXiv 2510.03605).

Data flows one way: covariance spec → Γ and trained parameters → CoT recurrence →
exact error / Monte Carlo → verdicts, LaTeX, figures.
"""

from theory.bracket import ErrorBracket, error_bracket, error_bracket_curve
from theory.covariance import gamma, gamma_exact, hardness
from theory.error import (DivergenceError, ErrorPoly, cot_error, cot_error_poly, cot_error_poly_symbolic,
                          cot_log_error, precond_error, precond_error_poly, precond_log_error)
from theory.finite_trace import finite_m_trace, finite_m_trace_cost, finite_m_trace_poly
from theory.lsa import cot_rollout, embed_prompt, lsa_forward, read_estimate, trained_parameters
from theory.moments import monte_carlo_sas, wishart_sas
from theory.montecarlo import MCResult, mc_cot_error
from theory.overthinking import (LSAExperiment, OverthinkingReport, StepGain, divergence_onset,
                                 eventual_growth_exact, infinite_m_error_exact, lsa_experiment, overthinking_report,
                                 remark41_bracket, remark41_trace_exact, step_gain)
from theory.pseudo_newton import cot_closed_form, cot_recurrence
from theory.rmt import (MPPhase, critical_nu, isotropic_cot_error, mp_cot_error, mp_cot_error_quad, mp_phase,
                        proportional_expansion, wishart_trace_moment)
from theory.scaling import (OptimalSteps, Thm33Terms, contraction_factors, cor35_bound, cor35_log_bound,
                            cot_error_d1, divergence_log_lower_bound, k1_error_coefficients, k_min,
                            limit_log_error, n_min, n_min_cor35, optimal_steps, slowest_contraction,
                            thm33_bound, thm33_terms)
from theory.selection import (Selection, hard_task_mass, mixture_cot_error, mixture_preconditioner,
                              qp_vs_true_error, qp_vs_uniform, select_tasks, select_tasks_by_enumeration,
                              selection_qp, task_type_experiment, task_type_pool, true_optimal_selection)
from theory.training import gd_population, gd_step_threshold, joint_limit, population_loss, sgd_lsa

__all__ = [
    "gamma", "gamma_exact", "hardness",
    "cot_error", "cot_log_error", "cot_error_poly", "cot_error_poly_symbolic", "ErrorPoly", "DivergenceError",
    "precond_error", "precond_error_poly", "precond_log_error",
    "finite_m_trace", "finite_m_trace_poly", "finite_m_trace_cost", "error_bracket", "error_bracket_curve", "ErrorBracket",
    "embed_prompt", "lsa_forward", "read_estimate", "trained_parameters", "cot_rollout",
    "wishart_sas", "monte_carlo_sas", "cot_recurrence", "cot_closed_form",
    "population_loss", "gd_population", "gd_step_threshold", "joint_limit", "sgd_lsa",
    "mc_cot_error", "MCResult",
    "Selection", "select_tasks", "select_tasks_by_enumeration", "selection_qp", "hard_task_mass",
    "mixture_preconditioner", "mixture_cot_error", "true_optimal_selection", "qp_vs_true_error",
    "qp_vs_uniform", "task_type_experiment", "task_type_pool",
    "overthinking_report", "OverthinkingReport", "infinite_m_error_exact", "remark41_trace_exact", "remark41_bracket",
    "eventual_growth_exact", "divergence_onset", "step_gain", "StepGain", "lsa_experiment", "LSAExperiment",
    "wishart_trace_moment", "isotropic_cot_error", "proportional_expansion", "mp_cot_error", "mp_cot_error_quad",
    "mp_phase", "MPPhase", "critical_nu",
    "thm33_bound", "thm33_terms", "Thm33Terms", "k1_error_coefficients", "contraction_factors",
    "slowest_contraction", "cor35_bound", "cor35_log_bound", "limit_log_error", "cot_error_d1",
    "divergence_log_lower_bound", "optimal_steps", "OptimalSteps", "n_min", "n_min_cor35", "k_min",
]
