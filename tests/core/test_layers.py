"""Layers point one way: front ends (mapek.cli, apps/tui) -> mapek.batch -> mapek.api ->
mapek.loop -> knowledge, llm, safety, breaker; and no import cycles. (mapek.batch drives many
sessions through :class:`mapek.api.Session`, as a front end drives one.)

The graph is read from the source (``tests/core/_imports.py``), at module granularity, with every
import counted: at module top, inside functions (a lazy import is a dependency all the same) and
under ``if TYPE_CHECKING:``. A failure names each offending import as ``file:line``.

What a front end may use of mapek (the rule for mapek.cli and mapek_tui):

- public modules only: no ``_``-prefixed part in the module path (a front end's own package
  aside: the CLI's ``mapek.cli._common``);
- public names only: every name it imports is in that module's ``__all__`` (the names each
  module documents, see tests/core/test_exported_members.py);
- of the loop, only what a front end plays a part in: ``mapek.loop.human`` (the human channels a
  front end implements), ``mapek.loop.questions`` (the questions, folded from the log) and
  ``mapek.loop.triage`` (the observer's classifier, for ``mapek triage``). The loop itself (its
  graph, state, nodes and worker) is reached through :class:`mapek.api.Session` only;
- no private attribute of another object (``session._proc``): what a front end needs of a
  session is a public method or property of :class:`~mapek.api.Session`;
- neither front end imports the other: the CLI knows the terminal app by an import string
  (``mapek.cli.discuss.TERMINAL_APP``), so the mapek package never imports mapek_tui.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _imports import REPO, Edge, build, cycles  # noqa: E402

GRAPH = build()

LOWER = ("mapek.knowledge", "mapek.llm", "mapek.safety", "mapek.breaker", "mapek.ledger",
         "mapek.config", "mapek.models", "mapek.errors")
"""Below the loop: they never import the loop, the API or a front end."""
UPPER = ("mapek.loop", "mapek.api", "mapek.batch", "mapek.cli", "mapek_tui")
FRONT_ENDS = ("mapek.cli", "mapek_tui")
LOOP_FOR_FRONT_ENDS = ("mapek.loop.human", "mapek.loop.questions", "mapek.loop.triage")
OVER_THE_API = ("mapek.batch",)
"""Between the front ends and the API: it uses sessions through the API, front ends use it."""


def _in(module: str, packages: tuple[str, ...] | str) -> bool:
    packages = (packages,) if isinstance(packages, str) else packages
    return any(module == p or module.startswith(p + ".") for p in packages)


def _where(edges: list[Edge]) -> list[str]:
    return sorted({f"{GRAPH.modules[e.src].relative_to(REPO)}:{e.line} imports {e.dst} "
                   f"({e.kind})" for e in edges})


def _front_end(module: str) -> str | None:
    return next((f for f in FRONT_ENDS if _in(module, f)), None)


# -- the reader itself ---------------------------------------------------------------------------

def test_the_graph_holds_every_kind_of_import() -> None:
    assert len(GRAPH.modules) > 100 and "mapek.api" in GRAPH.modules
    edges = {(e.src, e.dst, e.kind) for e in GRAPH.edges}
    assert ("mapek.api", "mapek.loop.worker", "top") in edges
    assert ("mapek.cli.runs", "mapek.api", "function") in edges
    assert ("mapek.evidence", "mapek.loop.human", "type") in edges
    assert ("mapek.cli", "mapek.cli.discuss", "top") in edges  # the submodule, not the package
    assert ("mapek", "mapek.api", "type") in edges and ("mapek", "mapek._lazy", "top") in edges


def test_a_cycle_through_a_function_level_import_is_found(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text('_EXPORTS: dict[str, str] = {"X": "pkg.a"}\n')
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from pkg.a import X\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                              "    from pkg import d\n")
    (pkg / "d.py").write_text("from . import c\n")
    (pkg / "e.py").write_text("import pkg.a\n")
    (pkg / "f.py").write_text("from pkg import X\n")  # lazy: from the module that defines it
    g = build({"pkg": pkg})
    assert cycles(g) == [["pkg.a", "pkg.sub.b"], ["pkg.c", "pkg.d"]]
    assert cycles(g, kinds=("top",)) == []
    assert {(e.src, e.dst, e.kind) for e in g.edges} >= {
        ("pkg.sub.b", "pkg.a", "function"), ("pkg.c", "pkg.d", "type"), ("pkg.d", "pkg.c", "top"),
        ("pkg.e", "pkg.a", "top"), ("pkg.f", "pkg.a", "top")}
    assert [e.names for e in g.edges if e.src == "pkg.f"] == [("X",)]


# -- the rules -----------------------------------------------------------------------------------

def test_no_import_cycles_among_mapek_modules() -> None:
    found = cycles(GRAPH)
    detail = [f"{' <-> '.join(c)}: " + "; ".join(
        _where([e for e in GRAPH.edges if e.src in c and e.dst in c])) for c in found]
    assert not found, "\n".join(detail)


def test_lower_layers_do_not_import_the_loop_the_api_or_a_front_end() -> None:
    bad = [e for e in GRAPH.edges if _in(e.src, LOWER) and _in(e.dst, UPPER)]
    assert not bad, _where(bad)


def test_the_loop_does_not_import_the_api_or_a_front_end() -> None:
    bad = [e for e in GRAPH.edges if _in(e.src, "mapek.loop")
           and _in(e.dst, ("mapek.api", *OVER_THE_API, *FRONT_ENDS))]
    assert not bad, _where(bad)


def test_the_api_does_not_import_what_sits_over_it() -> None:
    bad = [e for e in GRAPH.edges if _in(e.src, "mapek.api") and _in(e.dst, OVER_THE_API)]
    assert not bad, _where(bad)


def test_what_sits_over_the_api_reaches_the_loop_through_it() -> None:
    bad = [e for e in GRAPH.edges if _in(e.src, OVER_THE_API) and _in(e.dst, "mapek.loop")
           and not _in(e.dst, LOOP_FOR_FRONT_ENDS)]
    assert not bad, _where(bad)


def test_only_front_ends_import_the_api_and_nothing_imports_a_front_end() -> None:
    bad = [e for e in GRAPH.edges if _in(e.dst, "mapek.api")
           and not (_front_end(e.src) or _in(e.src, OVER_THE_API)
                    or e.src == "mapek")]  # mapek: the lazy `from mapek import`
    bad += [e for e in GRAPH.edges if _front_end(e.dst) and _front_end(e.dst) != _front_end(e.src)]
    assert not bad, _where(bad)


def test_the_mapek_package_never_imports_the_terminal_app() -> None:
    bad = [e for e in GRAPH.edges if _in(e.src, "mapek") and _in(e.dst, "mapek_tui")]
    assert not bad, _where(bad)
    tree = ast.parse(GRAPH.modules["mapek.cli.discuss"].read_text())
    assert any(isinstance(n, ast.Constant) and n.value == "mapek_tui:MapekApp"
               for n in ast.walk(tree))  # `mapek tui` still finds it, by name


def test_front_ends_use_public_modules_and_names_only() -> None:
    bad: list[str] = []
    for e in GRAPH.edges:
        own = _front_end(e.src)
        if own is None or _in(e.dst, own) or not _in(e.dst, "mapek"):
            continue
        where = _where([e])[0]
        if any(part.startswith("_") for part in e.dst.split(".")):
            bad.append(f"{where}: a private module")
        elif _in(e.dst, "mapek.loop") and not _in(e.dst, LOOP_FOR_FRONT_ENDS):
            bad.append(f"{where}: the loop is reached through mapek.api")
        else:
            public = set(getattr(importlib.import_module(e.dst), "__all__", ()))
            hidden = [n for n in e.names if n not in public]
            if hidden:
                bad.append(f"{where}: {', '.join(hidden)} not in its __all__")
    assert not bad, "\n".join(bad)


def _private(name: object) -> bool:
    return isinstance(name, str) and name.startswith("_") and not name.startswith("__")


def _own(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def test_front_ends_touch_no_private_attribute_of_another_object() -> None:
    bad = []
    for mod, path in GRAPH.modules.items():
        if _front_end(mod) is None:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Attribute) and _private(node.attr) and not _own(node.value):
                bad.append(f"{where}: .{node.attr}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("getattr", "setattr", "hasattr", "delattr") \
                    and len(node.args) > 1 and not _own(node.args[0]) \
                    and isinstance(node.args[1], ast.Constant) and _private(node.args[1].value):
                bad.append(f"{where}: {node.func.id}(..., {node.args[1].value!r})")
    assert not bad, "\n".join(bad)
