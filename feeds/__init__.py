"""Everything that is true without a screen: feeds, parsers, model, math, store.

Nothing in this package imports textual, rich, widgets or tui; a test and an
import-linter contract enforce it.
"""
