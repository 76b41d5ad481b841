"""The vector index: a projection of the semantic events of the log, for search by similarity.

Each entry is one event whose kind is in ``SEMANTIC_KINDS``: its id is the event's id
(``run#seq``), its document is ``payload["text"]``, and its metadata links it back to the event
(run, seq, kind, actor, persona, time). Writes are upserts, so indexing an event twice is
harmless. The index remembers its *position*: every semantic event up to that log position is
in it, which lets any process catch it up from the log (see ``projector``). A stored position
may lag what the index holds (it is written lazily), never lead it.

``ChromaIndex`` is the Chroma backend: the embedded ``PersistentClient`` in the workspace by
default, a Chroma server when ``MAPEK_CHROMA_URL`` is set. The embedded client must have one
writer process at a time (Chroma's own rule); the log has no such limit. chromadb is imported
only when an index is opened.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, computed_field

from mapek.config import Settings, Workspace
from mapek.errors import ConfigError, VectorIndexError
from mapek.models import SEMANTIC_KINDS, Event, canonical_json

__all__ = ["ChromaIndex", "Filter", "SearchHit", "VectorIndex", "indexable", "parse_chroma_url",
           "set_aside_embedded"]

logger = logging.getLogger(__name__)

Filter = str | Collection[str] | None
"""A search filter: one value, any of several values, or None for no filter."""
_BLANKS = " \t\n\r"
_MAX_IDS = 5000
"""Above this many candidate ids, filter with Chroma's metadata ``where`` instead."""


class SearchHit(BaseModel):
    """One search result, pointing back at its event in the log."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    """``run_id#seq``, the id of the event (and of its index entry)."""
    run_id: str
    seq: int
    persona: str
    """Who said it: the event's actor."""
    kind: str
    text: str
    distance: float
    """Cosine distance to the query (0 is identical; smaller is closer)."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def score(self) -> float:
        """Cosine similarity, ``1 - distance`` (1 is identical)."""
        return 1.0 - self.distance


class VectorIndex(ABC):
    """A vector index over semantic events: the plug-in point for index backends."""

    @abstractmethod
    def upsert(self, events: Sequence[Event], position: int | None = None) -> None:
        """Add or replace the entries of ``events``; then, if given, record that every semantic
        event up to log ``position`` is indexed."""

    @abstractmethod
    def position(self) -> int:
        """The log position up to which the index is complete (0 when empty)."""

    @abstractmethod
    def query(
        self, text: str, n: int = 5, *, run: Filter = None, persona: Filter = None,
        kind: Filter = None, ids: Sequence[str] | None = None,
    ) -> list[SearchHit]:
        """The ``n`` entries closest to ``text``, closest first, matching every filter given.

        ``ids``, if given, are the entries that match the filters (worked out from the log,
        which is faster than a metadata filter on a large index); the search stays among them.
        """

    @abstractmethod
    def delete(self, run_id: str | None = None) -> None:
        """Remove one run's entries, or (``None``) everything, resetting the position to 0."""

    def embed(self, texts: Sequence[str]) -> Sequence[Any]:
        """The vectors this index would store for ``texts`` (its own embedding), so that events
        it has not indexed yet can be scored like its entries. NotImplementedError (the
        default) if it cannot say: a search then catches the index up before querying it."""
        raise NotImplementedError

    def close(self) -> None:  # noqa: B027 - optional hook: the default releases nothing
        """Release the client. The default does nothing."""


def set_aside_embedded(path: Path) -> Path | None:
    """Move an embedded Chroma folder aside (``<name>.broken-TIME``) so that the next open
    starts an empty one, and drop this process's cached Chroma system for it; returns where it
    went (None: there was no folder). For a folder no process has open."""
    forget = getattr(_shared_system_client(), "_identifier_to_system", None)
    if isinstance(forget, dict):
        system = forget.pop(str(path), None)
        refs = getattr(_shared_system_client(), "_identifier_to_refcount", None)
        if isinstance(refs, dict):
            refs.pop(str(path), None)
        if system is not None:
            try:
                system.stop()
            except Exception as exc:  # noqa: BLE001 - a broken system may not stop cleanly
                logger.debug("stopping the broken Chroma system: %s", exc)
    if not path.exists():
        return None
    aside = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
    os.replace(path, aside)
    return aside


def _shared_system_client() -> Any:
    """Chroma's cache of embedded systems, by folder (one per process)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    return SharedSystemClient


def parse_chroma_url(url: str) -> tuple[str, int, bool]:
    """``(host, port, ssl)`` of a ``MAPEK_CHROMA_URL``; ConfigError if it is not one."""
    try:
        parts = urlparse(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"MAPEK_CHROMA_URL={url!r} is not a valid address: {exc}") from exc
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"MAPEK_CHROMA_URL={url!r} is not an http(s)://host:port address")
    ssl = parts.scheme == "https"
    return parts.hostname, port or (443 if ssl else 8000), ssl


def indexable(ev: Event) -> bool:
    """Whether an event has an index entry: a semantic kind whose ``payload["text"]`` is a
    string with more than blanks (the log's ``semantic_seqs`` applies the same rule)."""
    text = ev.payload.get("text")
    return ev.kind in SEMANTIC_KINDS and isinstance(text, str) and bool(text.strip(_BLANKS))


def _metadata(ev: Event) -> dict[str, Any]:
    return {"run_id": ev.run_id, "seq": ev.seq, "kind": ev.kind, "actor": ev.actor,
            "persona": ev.actor, "ts": ev.ts}


def _where(**filters: Filter) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = [
        {field: value} if isinstance(value, str) else {field: {"$in": list(value)}}
        for field, value in filters.items()
        if value is not None
    ]
    return None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}


class ChromaIndex(VectorIndex):
    """A Chroma collection holding the semantic events of one log."""

    def __init__(self, client: Any, embedding: Any, *, name: str | None = None,
                 position_every: float = 5.0):
        """``position_every``: at most one position write per this many seconds (and one at
        ``close``); see :meth:`upsert`."""
        self.client, self.embedding = client, embedding
        if name is None:  # one collection per embedding: vectors of different spaces never mix
            digest = hashlib.sha1(canonical_json(embedding.get_config()).encode()).hexdigest()
            name = re.sub(r"[^a-zA-Z0-9_-]", "-", f"events-{embedding.name()}-{digest[:8]}")
        self.name = name
        self.position_every = position_every
        self._position = self._stored = 0
        self._stored_at = time.monotonic()
        self._collection = self._open()

    @classmethod
    def open(cls, settings: Settings, workspace: Workspace) -> ChromaIndex:
        """The index a workspace's settings name (embedded, or the server at ``chroma_url``)."""
        from mapek.knowledge.embeddings import make_embedding

        embedding = make_embedding(settings.embedding)
        try:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False)
            if settings.chroma_url:
                host, port, ssl = parse_chroma_url(settings.chroma_url)
                client = chromadb.HttpClient(host=host, port=port, ssl=ssl,
                                             settings=chroma_settings)
            else:
                client = chromadb.PersistentClient(path=str(workspace.chroma_path),
                                                   settings=chroma_settings)
        except ConfigError:
            raise
        except Exception as exc:
            where = settings.chroma_url or workspace.chroma_path
            raise VectorIndexError(f"cannot open the vector index at {where}: {exc}") from exc
        return cls(client, embedding)

    def _open(self) -> Any:
        try:
            collection = self.client.get_or_create_collection(
                self.name, embedding_function=self.embedding,
                metadata={"mapek_position": 0})
        except Exception as exc:
            raise VectorIndexError(f"cannot open the vector collection {self.name}: {exc}") \
                from exc
        self._position = self._stored = int((collection.metadata or {}).get("mapek_position", 0))
        self._stored_at = time.monotonic()
        return collection

    def upsert(self, events: Sequence[Event], position: int | None = None) -> None:
        """Write the entries; then take ``position`` as this index's position at once, and
        write it into the collection's metadata lazily: at most every ``position_every``
        seconds, and on :meth:`close`. Another opener may so read a position that lags (after
        a crash, say): its catch-up upserts a few entries again, which is harmless. A position
        is written only after the entries it covers, so it never runs ahead of them."""
        try:
            if events:
                self._collection.upsert(
                    ids=[ev.id for ev in events], documents=[ev.text for ev in events],
                    metadatas=[_metadata(ev) for ev in events])
        except Exception as exc:
            raise VectorIndexError(f"cannot write to the vector index: {exc}") from exc
        if position is not None:
            self._position = position
            if time.monotonic() - self._stored_at >= self.position_every:
                self.store_position()

    def store_position(self) -> None:
        """Write the position into the collection's metadata now, if it moved."""
        if self._position == self._stored:
            return
        position = self._position
        try:
            self._collection.modify(metadata={"mapek_position": position})
        except Exception as exc:
            raise VectorIndexError(f"cannot write to the vector index: {exc}") from exc
        self._stored, self._stored_at = position, time.monotonic()

    def position(self) -> int:
        return self._position

    def embed(self, texts: Sequence[str]) -> Sequence[Any]:
        try:
            return list(self.embedding(list(texts))) if texts else []
        except Exception as exc:
            raise VectorIndexError(f"cannot embed for the vector index: {exc}") from exc

    def query(
        self, text: str, n: int = 5, *, run: Filter = None, persona: Filter = None,
        kind: Filter = None, ids: Sequence[str] | None = None,
    ) -> list[SearchHit]:
        if ids is not None and not ids:
            return []
        where = _where(run_id=run, persona=persona, kind=kind)
        include = ["documents", "metadatas", "distances"]
        try:
            res = None
            if ids is not None and len(ids) <= _MAX_IDS:
                try:  # among known entries: much faster than ``where`` on a large index
                    res = self._collection.query(query_texts=[text], n_results=max(1, n),
                                                 ids=list(ids), include=include)
                except Exception as exc:  # an id the index lacks: fall back to ``where``
                    logger.warning("search by ids failed, filtering by metadata: %s", exc)
            if res is None:
                res = self._collection.query(query_texts=[text], n_results=max(1, n),
                                             where=where, include=include)
        except Exception as exc:
            raise VectorIndexError(f"vector search failed: {exc}") from exc
        ids, docs = res["ids"][0], (res["documents"] or [[]])[0]
        metas, dists = (res["metadatas"] or [[]])[0], (res["distances"] or [[]])[0]
        return [
            SearchHit(event_id=i, run_id=str(m["run_id"]), seq=int(m["seq"]),
                      persona=str(m["persona"]), kind=str(m["kind"]), text=d or "",
                      distance=float(dist))
            for i, d, m, dist in zip(ids, docs, metas, dists, strict=True)
        ][:n]

    def delete(self, run_id: str | None = None) -> None:
        try:
            if run_id is not None:
                self._collection.delete(where={"run_id": run_id})
                return
            from chromadb.errors import NotFoundError

            try:
                self.client.delete_collection(self.name)
            except NotFoundError:
                pass  # already gone: rebuilding it is what the caller wants
        except Exception as exc:
            raise VectorIndexError(f"cannot delete from the vector index: {exc}") from exc
        self._collection = self._open()

    def close(self) -> None:
        """Close the client: with the last client of an embedded index, Chroma stops and its
        files are released (the next open reads them afresh). The position is written first;
        if that fails, the next opener catches up from an older one (harmless)."""
        try:
            self.store_position()
        except VectorIndexError as exc:
            logger.warning("the vector index position was not saved (the next catch-up "
                           "re-indexes a few events): %s", exc)
        close = getattr(self.client, "close", None)
        if close is not None:
            try:
                close()
            except Exception as exc:
                raise VectorIndexError(f"cannot close the vector index: {exc}") from exc

    def count(self) -> int:
        """Number of entries."""
        try:
            return int(self._collection.count())
        except Exception as exc:
            raise VectorIndexError(f"cannot count the vector index: {exc}") from exc

    def entries(self) -> dict[str, Any]:
        """Every entry with its document, metadata and embedding (for checks and tests)."""
        out: dict[str, list[Any]] = {"ids": [], "documents": [], "metadatas": [],
                                     "embeddings": []}
        try:
            while True:  # in pages: Chroma refuses very large single reads
                page = self._collection.get(include=["documents", "metadatas", "embeddings"],
                                            limit=5000, offset=len(out["ids"]))
                for key in out:
                    out[key].extend(page[key])
                if len(page["ids"]) < 5000:
                    return out
        except Exception as exc:
            raise VectorIndexError(f"cannot read the vector index: {exc}") from exc
