"""Test doubles shipped with mapek: use them in your own tests.

- :class:`FunctionModel`, :class:`ScriptedModel`: models answering from Python, no litellm.
- :func:`~mapek.testing.discussion.discussion_model`: a :class:`FunctionModel` that answers a
  whole discussion as the offline model does, with one persona's first turn or any answer
  changed (import it from ``mapek.testing.discussion``; it imports the loop's scripts).
- :class:`~mapek.testing.openai_server.OpenAIStandIn`: an OpenAI-compatible HTTP server on
  127.0.0.1 for the real model path (import it from ``mapek.testing.openai_server``).
"""

from __future__ import annotations

from mapek.testing.models import FunctionModel, ScriptedModel

__all__ = ["FunctionModel", "ScriptedModel"]
