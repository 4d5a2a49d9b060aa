"""gridtape: US power-market ticks from seven ISOs, streamed through AWS (or its emulator)."""

__version__ = "0.1.0"
