"""Alert rules: the grammar, the engine and their delivery."""
