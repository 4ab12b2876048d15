"""The end-to-end pipeline: sources, corpus, training, evaluation and report as one cached command."""
