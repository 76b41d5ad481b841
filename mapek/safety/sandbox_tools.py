"""Sandbox implementations of file and database tools: a folder rooted in a temporary copy, and
a copy of a SQLite database. Paths cannot leave the root; nothing touches the originals."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mapek.safety.tools import ToolRegistry, tool

__all__ = ["sandbox_tools"]


def sandbox_tools(root: Path, db: Path | None = None) -> ToolRegistry:
    """``fs_list``, ``fs_read`` (read), ``fs_write`` (write), ``fs_delete`` (destructive),
    ``sql_query`` (read) and ``sql_exec`` (write) bound to ``root`` and ``db``."""
    root = root.resolve()

    def inside(path: str) -> Path:
        p = (root / path).resolve()
        if p != root and root not in p.parents:
            raise PermissionError(f"{path!r} is outside the sandbox")
        return p

    @tool(effect="read", resource="files", target="path")
    def fs_list(path: str = ".") -> str:
        """List a folder."""
        return "\n".join(sorted(str(p.relative_to(root)) for p in inside(path).rglob("*")
                                if p.is_file()))

    @tool(effect="read", resource="files", target="path")
    def fs_read(path: str) -> str:
        """Read a file."""
        return inside(path).read_text(encoding="utf-8")

    @tool(effect="write", resource="files", target="path")
    def fs_write(path: str, text: str) -> str:
        """Write a file (creates folders)."""
        p = inside(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        return f"wrote {len(text)} characters to {path}"

    @tool(effect="destructive", resource="files", target="path")
    def fs_delete(path: str) -> str:
        """Delete a file."""
        inside(path).unlink()
        return f"deleted {path}"

    def connect() -> sqlite3.Connection:
        if db is None:
            raise FileNotFoundError("this workflow has no database")
        return sqlite3.connect(db)

    @tool(effect="read", resource="database")
    def sql_query(sql: str) -> str:
        """Run a SELECT; rows as tab-separated lines."""
        if not sql.lstrip().lower().startswith(("select", "with")):
            raise PermissionError("sql_query runs SELECT only; use sql_exec to write")
        with connect() as conn:
            return "\n".join("\t".join(map(str, row)) for row in conn.execute(sql))

    @tool(effect="write", resource="database", target="table")
    def sql_exec(sql: str, table: str = "") -> str:
        """Run a statement that writes (INSERT, UPDATE, CREATE)."""
        conn = connect()
        try:
            cur = conn.execute(sql)
            conn.commit()
            return f"{cur.rowcount} rows"
        finally:
            conn.close()

    reg = ToolRegistry()
    for t in (fs_list, fs_read, fs_write, fs_delete, sql_query, sql_exec):
        reg.register(t)
    return reg
