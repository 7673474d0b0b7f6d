"""Polled quotes: Yahoo chart (default) and Cboe delayed quotes (fallback)."""
