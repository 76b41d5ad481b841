"""Every public name is listed in ``__all__`` and importable (after httpx's test of the same
name)."""

from __future__ import annotations

import importlib
import pkgutil

import mapek


def test_all_exports_resolve() -> None:
    for name in mapek.__all__:
        assert getattr(mapek, name) is not None, name


def test_every_module_declares_all() -> None:
    missing = []
    for info in pkgutil.walk_packages(mapek.__path__, "mapek."):
        if info.name.rsplit(".", 1)[-1].startswith("_") or ".testing" in info.name:
            continue
        module = importlib.import_module(info.name)
        if not hasattr(module, "__all__"):
            missing.append(info.name)
        else:
            for name in module.__all__:
                assert hasattr(module, name), f"{info.name}.__all__ lists missing {name}"
    assert not missing, f"modules without __all__: {missing}"
