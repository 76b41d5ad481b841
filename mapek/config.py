"""Settings: environment variables with the prefix ``MAPEK_``, and the workspace layout.

``Settings`` is read once per front end; every field can be set as ``MAPEK_<FIELD>``.
The workspace (``MAPEK_HOME``, default ``./.mapek``) holds everything a run writes:

::

    .mapek/
      log.sqlite3        the append-only, hash-chained event log (source of truth)
      chroma/            the embedded vector index (a projection of the log)
      checkpoints.sqlite3  LangGraph checkpoints
      anchor.key         the key that signs the log's anchors (0600; never in the database)
      anchors.jsonl      signed checkpoints of every run's chain head (mapek.knowledge.anchor)
      runs/<run_id>/     per-run artefacts (synthesis, post-mortems)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from mapek.errors import WorkspaceError
from mapek.private import private_dir

__all__ = ["Settings", "Workspace", "OFFLINE_MODEL"]

OFFLINE_MODEL = "mapek/offline"
"""The model string of the built-in offline model: deterministic, no network, no key."""


class Settings(BaseSettings):
    """Everything configurable from the environment (prefix ``MAPEK_``)."""

    model_config = SettingsConfigDict(env_prefix="MAPEK_", extra="ignore")

    home: Path = Field(default=Path(".mapek"))
    """Workspace folder. ``MAPEK_HOME``."""
    model: str = OFFLINE_MODEL
    """Default litellm model string for every agent. ``MAPEK_MODEL``."""
    api_base: str | None = None
    """Base URL of the server the model strings go to (an OpenAI-compatible server:
    ``http://127.0.0.1:8000/v1``); unset means litellm's default for each provider, which may
    come from the provider's own variables (``OPENAI_API_BASE``). ``MAPEK_API_BASE``."""
    api_key_env: str | None = None
    """The NAME of the environment variable holding the API key (``OPENAI_API_KEY``), never the
    key itself; unset means litellm's own look-up for the provider. ``MAPEK_API_KEY_ENV``."""
    structured_output: Literal["auto", "json_schema", "prompt"] = "auto"
    """How structured calls ask for their JSON schema, besides the prompt: ``auto`` (as
    ``response_format`` where the provider supports it or is an OpenAI-compatible server),
    ``json_schema`` (always) or ``prompt`` (never). ``MAPEK_STRUCTURED_OUTPUT``.
    (:meth:`mapek.llm.spec.ModelSpec.from_settings` makes a model spec of these.)"""
    log_url: str | None = None
    """The event log: unset for the workspace's ``log.sqlite3``, ``sqlite:///PATH``, or a
    PostgreSQL database, ``postgresql://user:password@host:port/database`` (then LangGraph's
    checkpoints go there too). ``MAPEK_LOG_URL``."""
    chroma_url: str | None = None
    """A Chroma server (``http://host:port``); unset means the embedded persistent client."""
    embedding: str = "hashing"
    """Embedding function: ``hashing`` (offline, no download), ``sentence-transformers:<name>``,
    ``litellm:<model>`` or ``chroma-default`` (downloads ONNX weights at first use)."""
    personas: Path | None = None
    """A user folder of persona YAML files; overrides packaged personas of the same name."""
    request_timeout: float = 60.0
    """Per-call model timeout in seconds."""
    max_retries: int = 2
    """Retries on transient model errors (timeouts, connection drops, 429, 5xx)."""
    repair_attempts: int = 2
    """Re-asks when a model's structured output does not validate."""
    watchdog_respawn: float = Field(default=5.0, ge=0)
    """Seconds a watched worker waits, paused with no watchdog heartbeat, before it starts a
    watchdog for itself (and between two it starts); 0: never. ``MAPEK_WATCHDOG_RESPAWN``."""
    orphan_after: float = Field(default=15.0, gt=0)
    """Seconds a watched worker may stay paused with no watchdog before ``mapek runs list``
    shows its run ``paused: no watchdog`` and ``mapek resume`` may take it over.
    ``MAPEK_ORPHAN_AFTER``."""

    otlp_endpoint: str | None = None
    """An OTLP/HTTP endpoint (``http://127.0.0.1:4318``) every run's trace is exported to when
    its worker ends, or after a trip (:mod:`mapek.otel`; needs ``mapek[otel]``); unset: no
    export. ``mapek runs export RUN --otlp URL`` exports any past run. ``MAPEK_OTLP_ENDPOINT``."""

    def workspace(self, *, create: bool = True) -> Workspace:
        return Workspace.open(self.home, create=create)


@dataclass(frozen=True)
class Workspace:
    """Paths inside one workspace folder."""

    root: Path
    """The workspace folder itself."""

    @classmethod
    def open(cls, root: Path | str, *, create: bool = True) -> Workspace:
        root = Path(root).expanduser()
        if root.exists() and not root.is_dir():
            raise WorkspaceError(f"workspace {root} exists but is not a folder", path=str(root))
        if not root.exists():
            if not create:
                raise WorkspaceError(
                    f"workspace {root} does not exist (set MAPEK_HOME or run a session first)",
                    path=str(root),
                )
            try:
                private_dir(root)
            except OSError as exc:
                raise WorkspaceError(f"cannot create workspace {root}: {exc.strerror}",
                                     path=str(root)) from exc
        if not os.access(root, os.R_OK | os.W_OK | os.X_OK):
            raise WorkspaceError(f"workspace {root} is not readable and writable", path=str(root))
        return cls(root.resolve())

    @property
    def log_path(self) -> Path:
        return self.root / "log.sqlite3"

    @property
    def chroma_path(self) -> Path:
        return self.root / "chroma"

    @property
    def checkpoints_path(self) -> Path:
        return self.root / "checkpoints.sqlite3"

    def run_dir(self, run_id: str) -> Path:
        return private_dir(self.root / "runs" / run_id)
