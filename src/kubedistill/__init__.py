"""kubedistill: distil small language models into Kubernetes-manifest specialists.

The verifier (``kubedistill.verify``) is the foundation: it filters the corpus, scores the student,
drives the repair loop and validates manifests in CI on its own.
"""

__version__ = "0.1.0"
