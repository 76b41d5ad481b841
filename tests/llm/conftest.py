"""Shared fixtures of the model-gateway tests."""

from __future__ import annotations

from typing import Any

import pytest

from mapek.llm import offline


@pytest.fixture(autouse=True)
def _builtin_scripts() -> Any:
    """These tests are about the engine's own scripts: a loop test earlier in the same process
    may have installed the loop's (``mapek.loop.scripts.install``); put the built-ins back, and
    the registry as it was afterwards."""
    with offline._scripts_lock:
        saved = dict(offline._scripts)
    offline._install_builtin_scripts()
    yield
    with offline._scripts_lock:
        offline._scripts.clear()
        offline._scripts.update(saved)
