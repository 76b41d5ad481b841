"""mapek's terminal app (Textual): watch, steer and stop a peer discussion."""

from mapek_tui.app import MapekApp

__all__ = ["MapekApp"]
