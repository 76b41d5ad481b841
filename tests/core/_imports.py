"""mapek's import graph, read from the source with :mod:`ast` (nothing is imported).

Every ``import`` counts: at module top, inside functions (a lazy import is still a dependency)
and under ``if TYPE_CHECKING:`` (kind ``type``). ``from P import name`` is an edge to the
submodule ``P.name`` when there is one, to the module a lazy package (``_EXPORTS``, see
``mapek._lazy``) names for ``name``, else to ``P``. Importing ``P.Q`` is not counted as an import
of ``P``'s ``__init__`` (Python runs it first, but a child importing its own package is how every
package works).

``python tests/core/_imports.py`` prints the cycles.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Edge", "Graph", "build", "cycles"]

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    line: int
    kind: str
    """``top`` (runs on import), ``function`` (runs when called) or ``type`` (TYPE_CHECKING)."""
    names: tuple[str, ...] = ()
    """The names taken from ``dst`` (``from dst import a, b``); empty for the module itself."""


@dataclass
class Graph:
    modules: dict[str, Path]
    edges: list[Edge]

    def deps(self, src: str, kinds: tuple[str, ...] = ("top", "function", "type")) -> set[str]:
        return {e.dst for e in self.edges if e.src == src and e.kind in kinds}


def _modules(roots: dict[str, Path]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for pkg, path in roots.items():
        for f in sorted(path.rglob("*.py")):
            parts = list(f.relative_to(path.parent).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = f
        assert pkg in out, pkg
    return out


def _lazy_exports(tree: ast.Module) -> dict[str, str]:
    """A lazy package's ``_EXPORTS`` table: public name -> the module that defines it."""
    for node in tree.body:
        target: ast.expr
        value: ast.expr | None
        if isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id == "_EXPORTS" and \
                isinstance(value, ast.Dict):
            return {ast.literal_eval(k): ast.literal_eval(v)
                    for k, v in zip(value.keys, value.values, strict=True) if k is not None}
    return {}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
    """Every import statement with its kind."""
    def walk(node: ast.AST, kind: str) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, kind
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                yield from walk(child, "type" if kind == "type" else "function")
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    yield from walk(ast.Module(body=[stmt], type_ignores=[]), "type")
                for stmt in child.orelse:
                    yield from walk(ast.Module(body=[stmt], type_ignores=[]), kind)
            else:
                yield from walk(child, kind)
    yield from walk(tree, "top")


def build(roots: dict[str, Path] | None = None) -> Graph:
    """The import graph among the modules of ``roots`` (package name -> folder; default mapek
    and the terminal app's mapek_tui)."""
    roots = roots or {"mapek": REPO / "mapek", "mapek_tui": REPO / "apps" / "tui" / "mapek_tui"}
    modules = _modules(roots)
    trees = {m: ast.parse(p.read_text(encoding="utf-8"), str(p)) for m, p in modules.items()}
    lazy = {m: _lazy_exports(t) for m, t in trees.items() if modules[m].name == "__init__.py"}
    edges: list[Edge] = []
    for mod, tree in trees.items():
        is_pkg = modules[mod].name == "__init__.py"
        for node, kind in _imports(tree):
            if isinstance(node, ast.Import):
                targets = [(a.name, "") for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    parent = mod.split(".")[: len(mod.split(".")) - node.level + is_pkg]
                    base = ".".join(parent + ([base] if base else []))
                targets = []
                for a in node.names:
                    if f"{base}.{a.name}" in modules:
                        targets.append((f"{base}.{a.name}", ""))
                    elif a.name in lazy.get(base, {}):
                        targets.append((lazy[base][a.name], a.name))
                    else:
                        targets.append((base, a.name))
            found: dict[str, list[str]] = {}
            for t, name in targets:
                while t and t not in modules and "." in t:
                    t = t.rsplit(".", 1)[0]  # import a.b.c where c is a name: a.b
                if t in modules and t != mod:
                    found.setdefault(t, [])
                    if name:
                        found[t].append(name)
            edges.extend(Edge(mod, t, node.lineno, kind, tuple(names))
                         for t, names in found.items())
    return Graph(modules, edges)


def cycles(graph: Graph, kinds: tuple[str, ...] = ("top", "function", "type")) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    adj: dict[str, set[str]] = {m: set() for m in graph.modules}
    for e in graph.edges:
        if e.kind in kinds:
            adj[e.src].add(e.dst)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(adj)))

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in adj[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(adj):
        if v not in index:
            visit(v)
    return sorted(out)


if __name__ == "__main__":  # pragma: no cover
    g = build()
    for comp in cycles(g):
        print(" <-> ".join(comp))
        for e in g.edges:
            if e.src in comp and e.dst in comp:
                print(f"    {e.src}:{e.line} -> {e.dst} ({e.kind})")
