"""mapek: run LLM agents the way distributed systems are run.

``import mapek`` is cheap: heavy modules (litellm, chromadb, langgraph) load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mapek._lazy import lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it; loaded lazily so that `import mapek` stays fast.
_EXPORTS: dict[str, str] = {
    "Session": "mapek.api",
    "Batch": "mapek.batch.api",
    "SessionResult": "mapek.api",
    "runs_table": "mapek.api",
    "Settings": "mapek.config",
    "Workspace": "mapek.config",
    "Event": "mapek.models",
    "EventDraft": "mapek.models",
    "Persona": "mapek.models",
    "Model": "mapek.llm.spec",
    "ModelSpec": "mapek.llm.spec",
    "MCPServer": "mapek.safety.mcp",
    "tool": "mapek.safety.tools",
    "Tool": "mapek.safety.tools",
    "RuntimeSpec": "mapek.runtime",
    "MapekError": "mapek.errors",
    "UserError": "mapek.errors",
    "RuntimeFailure": "mapek.errors",
    "ControlSignal": "mapek.errors",
    "Envelope": "mapek.evidence",
    "EvidenceChecker": "mapek.evidence",
    "EvidenceCollector": "mapek.evidence",
    "Quorum": "mapek.evidence",
}

__all__ = ["__version__", *sorted(_EXPORTS)]

if TYPE_CHECKING:  # pragma: no cover
    from mapek.api import Session, SessionResult, runs_table
    from mapek.batch.api import Batch
    from mapek.config import Settings, Workspace
    from mapek.errors import ControlSignal, MapekError, RuntimeFailure, UserError
    from mapek.evidence import Envelope, EvidenceChecker, EvidenceCollector, Quorum
    from mapek.llm.spec import Model, ModelSpec
    from mapek.models import Event, EventDraft, Persona
    from mapek.runtime import RuntimeSpec
    from mapek.safety.mcp import MCPServer
    from mapek.safety.tools import Tool, tool


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
