"""Conformance of the parsers against real recorded responses (tests/data/real)."""
