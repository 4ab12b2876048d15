"""Generation backends, verdicts and the validate-and-repair loop, shared by eval, generate and serve."""
