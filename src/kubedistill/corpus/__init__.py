"""The corpus builder: raw pairs -> verified, canonical, deduplicated, leak-free splits with a dataset card."""
