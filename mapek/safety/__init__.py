"""Blast radius: what a tool may do, and what a plan intends, checked before anything runs.

::

    tools.py       Tool, @tool(effect=...), ToolRegistry: every tool declares its worst case
    screening.py   screen_plan / screen_text: destructive intent in structured plans and prose
    rules/         the rule families screening runs: shell, sql, cloud, code, saas, prose
    catalogue.py   the failure catalogue (knowledge/failure-catalogue.yaml) every reason cites
    gateway.py     ToolGateway: every tool call (read-only by default, grants, approvals)
    grants.py      write grants and resource provenance, folded from the log
    content.py     tool-output (injection) and pre-human (secrets) screening
    injection.py   injected instructions found by structure (addressed to the AI, role markers, ...)
    normalise.py   disguises undone first: NFKC, look-alikes, zero-width, encodings, split fields
    policy.py      what a failed check does at each of the four interception points
    mcp.py         MCPServer, mcp_tools: an MCP server's tools as mapek tools (hints untrusted)

Importing this package is cheap: the screening rules compile on first use, and the ``mcp``
SDK is imported only when a server is connected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mapek._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "Effect": "mapek.safety.tools",
    "Tool": "mapek.safety.tools",
    "ToolRegistry": "mapek.safety.tools",
    "tool": "mapek.safety.tools",
    "Plan": "mapek.safety.screening",
    "ScreenContext": "mapek.safety.screening",
    "Screener": "mapek.safety.screening",
    "Verdict": "mapek.safety.screening",
    "screen_plan": "mapek.safety.screening",
    "screen_text": "mapek.safety.screening",
    "CatalogueEntry": "mapek.safety.catalogue",
    "FailureCatalogue": "mapek.safety.catalogue",
    "default_catalogue": "mapek.safety.catalogue",
    "ToolGateway": "mapek.safety.gateway",
    "CallResult": "mapek.safety.gateway",
    "CallCheck": "mapek.safety.gateway",
    "ApprovalRequest": "mapek.safety.gateway",
    "Grant": "mapek.safety.grants",
    "ProvenanceBook": "mapek.safety.grants",
    "ContentVerdict": "mapek.safety.content",
    "screen_output": "mapek.safety.content",
    "screen_for_human": "mapek.safety.content",
    "CheckSetting": "mapek.safety.policy",
    "ScreeningPolicy": "mapek.safety.policy",
    "MCPServer": "mapek.safety.mcp",
    "mcp_tools": "mapek.safety.mcp",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from mapek.safety.catalogue import CatalogueEntry, FailureCatalogue, default_catalogue
    from mapek.safety.content import ContentVerdict, screen_for_human, screen_output
    from mapek.safety.gateway import ApprovalRequest, CallCheck, CallResult, ToolGateway
    from mapek.safety.grants import Grant, ProvenanceBook
    from mapek.safety.mcp import MCPServer, mcp_tools
    from mapek.safety.policy import CheckSetting, ScreeningPolicy
    from mapek.safety.screening import (
        Plan,
        ScreenContext,
        Screener,
        Verdict,
        screen_plan,
        screen_text,
    )
    from mapek.safety.tools import Effect, Tool, ToolRegistry, tool

__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
