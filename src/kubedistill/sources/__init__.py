"""Sources of (instruction, manifest) pairs: teachers and the two ways of asking them."""
