"""Process entry points (``python -m mapek.loop.worker``, ``python -m mapek.breaker.watchdog``,
``python -m mapek.workflow``) as one-command typer programs.

These processes are started by :class:`mapek.api.Session` (or by scripts) with a fixed argv;
they are not user commands, so they stay out of the ``mapek`` app and out of :mod:`mapek.cli`
(whose import would load every command). Each ``main()`` imports typer when it runs, so that
importing its module (``mapek.api`` imports the worker's) stays light.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

__all__ = ["run_program"]


def run_program(command: Callable[..., int | None], argv: list[str] | None, *,
                prog: str) -> int:
    """Run ``command`` (a function with typer parameters) on ``argv`` (default: the process's
    arguments) and return the exit code: the function's result (``None``: 0), a
    :class:`typer.Exit`'s code, or 2 after printing the usage mistake (``--help``: 0).
    Other exceptions propagate to the caller."""
    import typer

    from mapek.private import use_private_umask

    use_private_umask()  # a worker's, watchdog's... files in the workspace: 0600, folders 0700
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(command)
    try:
        rv: Any = app(args=sys.argv[1:] if argv is None else argv, prog_name=prog,
                      standalone_mode=False)
    except typer.TyperException as exc:  # a usage mistake (typer vendors click's exceptions)
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            print(f"{prog}: error: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2))
    return rv if isinstance(rv, int) else 0
