"""lockstep's benchmark suite (performance.md §3): ``python -m bench``.

The real app runs against the simulated market on 127.0.0.1, either under a
pseudo-terminal (pyte reads the screen, every byte is counted) or headless
(``App.run_test`` with a frame counter and an event-loop lag probe). The BTC price
encodes the message number, so a price read off the screen gives back its send time.
"""
