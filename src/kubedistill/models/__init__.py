"""Base models: a registry of short names, offline weights from the package registry, and conversion."""
