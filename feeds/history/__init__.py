"""Daily history.

The SQLite store and writer, backfill, all-time highs and the BTC-vs-small-caps divergence.
"""
