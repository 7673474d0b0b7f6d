"""Widgets: render model snapshots; never fetch."""
