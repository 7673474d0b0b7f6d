"""The app: wiring, CLI, config and styles."""
