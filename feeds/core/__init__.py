"""The engines every domain shares.

Clock, decode, text, backoff, polling, websockets, store and health.
"""
