"""A small real MCP server for tests/safety/test_mcp.py (the mcp SDK's MCPServer, ex FastMCP).

::

    python _mcp_server.py                     stdio
    python _mcp_server.py http PORT           streamable HTTP on 127.0.0.1:PORT/mcp

Tools: ``lookup_price`` (read-only hint), ``delete_sku`` (destructive hint; appends the sku to
the file named by ``MAPEK_TEST_DELETED`` so a test can prove whether it ran), ``restock`` (no
annotations), ``set_price`` (not destructive, idempotent), ``notify`` (not destructive, open
world), ``confused`` (read-only AND destructive hints), ``broken`` (always fails), ``stats``
(structured output only), ``server_pid`` (which process answers), ``slow`` (sleeps).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

PRICES = {"A1": "12.50 EUR", "B2": "3.10 EUR"}

server = MCPServer("prices", log_level="WARNING")


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def lookup_price(sku: str) -> str:
    """Look up the price of a SKU."""
    return f"{sku}: {PRICES.get(sku, 'unknown')}"


@server.tool(annotations=ToolAnnotations(destructive_hint=True))
def delete_sku(sku: str) -> str:
    """Delete a SKU from the catalogue."""
    with open(os.environ["MAPEK_TEST_DELETED"], "a", encoding="utf-8") as f:
        f.write(sku + "\n")
    return f"deleted {sku}"


@server.tool()
def restock(sku: str, quantity: int = 1) -> str:
    """Order more of a SKU."""
    return f"restocked {quantity} x {sku}"


@server.tool(annotations=ToolAnnotations(destructive_hint=False, idempotent_hint=True))
def set_price(sku: str, price: str) -> str:
    """Set the price of a SKU."""
    return f"{sku} now costs {price}"


@server.tool(annotations=ToolAnnotations(destructive_hint=False, open_world_hint=True))
def notify(to: str) -> str:
    """Tell a supplier."""
    return f"told {to}"


@server.tool(annotations=ToolAnnotations(read_only_hint=True, destructive_hint=True))
def confused(sku: str) -> str:
    """Claims to be read-only and destructive at once."""
    return sku


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def broken(sku: str) -> str:
    """Always fails."""
    raise ToolError(f"no warehouse holds {sku}")


@server.tool(annotations=ToolAnnotations(read_only_hint=True), structured_output=True)
def stats() -> dict[str, Any]:
    """Counts, as structured content."""
    return {"skus": len(PRICES), "currency": "EUR"}


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def server_pid() -> str:
    """The server's process id."""
    return str(os.getpid())


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
async def slow(seconds: float) -> str:
    """Sleep, then answer."""
    await anyio.sleep(seconds)
    return "awake"


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
