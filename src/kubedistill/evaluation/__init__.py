"""Evaluation of a student: full-pass@1, failures by level, repair, reports, ablations and benchmarks."""
