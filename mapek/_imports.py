"""Import strings (``package.module:name``): how a user's objects travel to other processes.

A worker, a watchdog or a resumed worker rebuilds a session's tools and notifiers from the import
strings in its runtime spec (:mod:`mapek.runtime`); :func:`import_string` makes one from a
module-level object and refuses, with the way out, what another process could not import.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from mapek.errors import ConfigError

__all__ = ["import_object", "import_string"]


# -- import strings ----------------------------------------------------------------------------

def import_object(ref: str, *, what: str = "object") -> Any:
    """The object an import string ``package.module:attr.path`` names; ConfigError (naming the
    string and the cause) when it cannot be imported."""
    mod_name, _, attr = ref.partition(":")
    if not mod_name or not attr:
        raise ConfigError(f"{what} {ref!r}: an import string is package.module:name")
    try:
        obj: Any = importlib.import_module(mod_name)
    except Exception as exc:  # noqa: BLE001 - any failure to import is the user's to fix
        raise ConfigError(f"{what} {ref!r} cannot be imported: {type(exc).__name__}: {exc}"
                          ) from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigError(f"{what} {ref!r} cannot be imported: module {mod_name!r} has no "
                              f"{attr!r}") from None
    return obj


_WAY_OUT = ("make it importable (a module-level name in a module on the path), or pass "
            "in_process=True to run the session in this process with the objects as they are")


def import_string(obj: Any, *, what: str = "tool") -> str:
    """The import string of a module-level object, checked to lead back to the same object; a
    ConfigError saying why and what to do when another process could not import it.

    A function (or a tool, by its function) is looked up in the module that defined it; any
    other object (a registry, a list of tools) in the modules imported so far."""
    target = getattr(obj, "fn", obj)  # a Tool: its function tells where it was defined
    qual = getattr(target, "__qualname__", None)
    label = getattr(obj, "name", None) or qual or type(obj).__name__
    if qual is not None and ("<lambda>" in qual or "<locals>" in qual):
        kind = "a lambda" if "<lambda>" in qual else "defined inside a function (a closure)"
        raise ConfigError(f"{what} {label!r} is {kind}: another process cannot import it; "
                          + _WAY_OUT)
    if qual is not None:
        module = getattr(target, "__module__", None) or ""
        candidates = [(module, sys.modules.get(module))]
    else:
        candidates = list(sys.modules.items())
    for name, mod in candidates:
        if mod is None or name == "__main__" or name.startswith("_"):
            continue
        for attr, value in list(vars(mod).items()):
            if value is obj:
                return f"{name}:{attr}"
    where = "__main__ (a script or a notebook)" if any(
        value is obj for value in vars(sys.modules.get("__main__", sys)).values()) \
        else "no importable module"
    raise ConfigError(f"{what} {label!r} is defined in {where}: another process cannot import "
                      "it; " + _WAY_OUT)
