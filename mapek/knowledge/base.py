"""``KnowledgeBase``: the one object the rest of mapek uses to record, read, follow and search.

The event log is the truth and is written synchronously; the vector index is a projection kept
up to date in the background and opened only when first needed, so a command that only reads
the log never imports chromadb.

>>> with KnowledgeBase.open(workspace) as kb:                        # doctest: +SKIP
...     kb.record("run-1", "question", "cfo", {"text": "What does the migration cost?"})
...     kb.search("migration cost", run="run-1")
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from mapek.config import Settings, Workspace
from mapek.knowledge._filelock import FileLock
from mapek.knowledge._pg_schema import is_postgres_url
from mapek.knowledge.log import EventLog, Follow, RunInfo
from mapek.knowledge.projector import IndexProjector
from mapek.knowledge.sqlite_log import SQLiteEventLog
from mapek.knowledge.vectors import (
    ChromaIndex,
    Filter,
    SearchHit,
    VectorIndex,
    parse_chroma_url,
    set_aside_embedded,
)
from mapek.knowledge.verify import VerifyReport
from mapek.models import SEMANTIC_KINDS, Event, EventDraft

__all__ = ["KnowledgeBase", "open_log"]

logger = logging.getLogger(__name__)


def open_log(url: str | None, workspace: Workspace, *, create: bool = True) -> EventLog:
    """The event log a URL names: ``None`` for the workspace's own SQLite file,
    ``sqlite:///PATH``, or a PostgreSQL database (``postgresql://`` or ``postgres://``, see
    :class:`~mapek.knowledge.pg_log.PostgresEventLog`). Every process of a run opens its log
    here; its appends are anchored in the workspace (``anchor.key``, ``anchors.jsonl``:
    :mod:`mapek.knowledge.anchor`), a PostgreSQL log's in the workspace of each machine that
    appends."""
    if url is None:
        return SQLiteEventLog(workspace.log_path, create=create, anchors=workspace.root)
    if url.startswith("sqlite:///"):
        return SQLiteEventLog(Path(url.removeprefix("sqlite:///")).expanduser(), create=create,
                              anchors=workspace.root)
    if is_postgres_url(url):
        try:
            from mapek.knowledge.pg_log import PostgresEventLog  # imports psycopg
        except ImportError as exc:
            from mapek.errors import ConfigError

            raise ConfigError(f"log URL {url.split('://', 1)[0]}://...: a PostgreSQL log needs "
                              f"psycopg ({exc}); pip install 'mapek[postgres]'") from None
        return PostgresEventLog(url, create=create, anchors=workspace.root)
    from mapek.errors import ConfigError

    raise ConfigError(f"log URL {url!r}: the event log is SQLite (sqlite:///PATH, or unset for "
                      "the workspace's own file) or PostgreSQL (postgresql://...)")


def _embedding(setting: str) -> Any:
    """The embedding a search scores in memory with: the hashing one without chromadb (the
    same vectors the index stores), any other through ``make_embedding``."""
    if setting.strip().partition(":")[0] == "hashing":
        from mapek.knowledge._hashing import HashingEmbedding, hashing_dim

        return HashingEmbedding(hashing_dim(setting))
    from mapek.knowledge.embeddings import make_embedding  # imports chromadb

    return make_embedding(setting)


class KnowledgeBase:
    """The event log plus the vector index derived from it."""

    def __init__(
        self,
        log: EventLog,
        open_index: Callable[[], VectorIndex],
        *,
        index_on_record: bool = True,
        index_lock: FileLock | None = None,
        index_path: Path | None = None,
        **projector_options: Any,
    ):
        """Wrap a log. ``open_index`` opens the vector index when it is first needed.

        ``index_lock`` keeps an embedded index to one process at a time; ``index_path`` is
        that index's folder (a broken one is set aside by :meth:`reindex`). With
        ``index_on_record=False`` recording never touches the index (for a front end beside a
        worker); ``search`` still sees every event. ``projector_options`` go to
        :class:`IndexProjector` (``batch_size``, ``max_delay``, ``hold``, ``lock_timeout``,
        ``embedding``, ``memory_size``, ``take_in``); :meth:`open` passes the workspace's
        ``embedding``.
        """
        self.log = log
        self._open_index = open_index
        self._index_on_record = index_on_record
        self._index_lock = index_lock
        self._index_path = index_path
        self.index_set_aside: Path | None = None
        """Where :meth:`reindex` moved a broken embedded index (None: it did not)."""
        self._projector_options = projector_options
        self._projector: IndexProjector | None = None
        self._closed = False

    @classmethod
    def open(
        cls,
        source: Settings | Workspace | Path | str | None = None,
        *,
        create: bool = True,
        settings: Settings | None = None,
        **options: Any,
    ) -> KnowledgeBase:
        """Open the knowledge base of a workspace (given as settings, a workspace or a folder;
        by default ``Settings().home``). ``create=False`` refuses a missing workspace or log.
        ``settings`` supplies the embedding and Chroma server when ``source`` is not settings.
        """
        if isinstance(source, Settings):
            settings = source
        settings = settings or Settings()
        if settings.chroma_url:
            parse_chroma_url(settings.chroma_url)  # a bad address fails now, not at first search
        if isinstance(source, Workspace):
            workspace = source
        elif source is None or isinstance(source, Settings):
            workspace = settings.workspace(create=create)
        else:
            workspace = Workspace.open(source, create=create)
        log = open_log(settings.log_url, workspace, create=create)
        lock = None if settings.chroma_url else FileLock(workspace.root / "chroma.lock")
        return cls(log, lambda: ChromaIndex.open(settings, workspace), index_lock=lock,
                   index_path=None if settings.chroma_url else workspace.chroma_path,
                   **{"embedding": functools.partial(_embedding, settings.embedding),
                      **options})

    @property
    def projector(self) -> IndexProjector:
        """The index projector, created on first use (the index itself opens later still)."""
        if self._projector is None:
            self._projector = IndexProjector(self.log, self._open_index, lock=self._index_lock,
                                             **self._projector_options)
        return self._projector

    def record(
        self,
        run_id: str,
        kind: str,
        actor: str = "system",
        payload: dict[str, Any] | None = None,
        parent: int | None = None,
        *,
        key: str | None = None,
    ) -> Event:
        """Append one event to the log (durable when this returns) and queue it for the index
        if it is semantic. ``key`` makes the append idempotent within the run."""
        return self.append(EventDraft(run_id=run_id, kind=kind, actor=actor,
                                      payload=payload or {}, parent=parent, key=key))

    def append(self, draft: EventDraft) -> Event:
        """Append a draft (see :meth:`record`)."""
        event = self.log.append(draft)
        if self._index_on_record and event.kind in SEMANTIC_KINDS:
            self.projector.notify()
        return event

    def record_many(self, drafts: Iterable[EventDraft], *,
                    anchor_each: bool = False) -> list[Event]:
        """Append several events in one transaction; queue the semantic ones for the index.
        ``anchor_each``: see :meth:`EventLog.append_many`."""
        events = self.log.append_many(drafts, anchor_each=anchor_each) if anchor_each \
            else self.log.append_many(drafts)
        semantic = sum(1 for ev in events if ev.kind in SEMANTIC_KINDS)
        if self._index_on_record and semantic:
            self.projector.notify(semantic)
        return events

    def search(
        self,
        query: str,
        n: int = 5,
        run: Filter = None,
        persona: Filter = None,
        kind: Filter = None,
    ) -> list[SearchHit]:
        """The ``n`` semantic events closest to ``query`` among everything logged so far (by
        any process). Filters take one value or several (any of them). A search filtered by
        run is exact, over the run's events kept embedded in memory; others query the index
        and score what it has not caught up with yet in memory (see
        :meth:`IndexProjector.search`)."""
        return self.projector.search(query, n, run=run, persona=persona, kind=kind)

    def events(
        self,
        run_id: str | None = None,
        after: int = 0,
        kinds: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        """Events of a run after ``seq`` (or of all runs after a log position)."""
        return self.log.events(run_id, after, kinds, limit)

    def get(self, run_id: str, seq: int) -> Event | None:
        """One event, or None."""
        return self.log.get(run_id, seq)

    def follow(self, run_id: str | None = None, after: int = 0, **options: Any) -> Follow:
        """Follow the log as it grows; see :meth:`EventLog.follow`."""
        return self.log.follow(run_id, after, **options)

    def runs(self) -> list[RunInfo]:
        """Every run in the log."""
        return self.log.runs()

    def verify(self, run_id: str | None = None, *, raise_on_error: bool = False) -> VerifyReport:
        """Check the hash chains; see :meth:`EventLog.verify`."""
        return self.log.verify(run_id, raise_on_error=raise_on_error)

    def reindex(self, run_id: str | None = None) -> int:
        """Rebuild the vector index (or one run's entries) from the log; return entries written.

        An embedded index that cannot be opened, read or written (a corrupt Chroma folder) is
        moved aside (``chroma.broken-TIME``, kept for a look; :attr:`index_set_aside` says
        where) and the whole index rebuilt from nothing: it is derived from the log, which
        keeps every event. A failure to embed, or an index another process holds, is raised
        as it is: the folder is not the problem then."""
        from mapek.errors import VectorIndexError

        self.index_set_aside = None
        try:
            return self.projector.reindex(run_id)
        except VectorIndexError as exc:
            path = self._index_path
            why = str(exc)
            if path is None or why.startswith(("cannot embed", "the embedded vector index is "
                                                                "in use")):
                raise
            logger.info("the vector index at %s is broken (%s): setting it aside", path, why)

            def discard() -> None:
                self.index_set_aside = set_aside_embedded(path)

            return self.projector.rebuild(discard)

    def flush(self) -> int:
        """Index every semantic event logged so far, now; raises ``VectorIndexError`` on failure.
        Does nothing (and opens nothing) if this knowledge base has not touched the index."""
        return self._projector.flush() if self._projector is not None else 0

    def close(self, *, flush: bool = True) -> None:
        """Flush the index (unless another process has it: then that one catches up from the
        log), stop its thread and close everything. A flush failure is raised after everything
        is closed; the log keeps every event either way.

        ``flush=False``: leave the index behind the log. It is a projection that may lag:
        every search scores the log's not-yet-indexed tail itself (and indexes a long one
        first), and the next catch-up of any process, from the index's recorded position,
        indexes what this one left. A session's worker closes so: with a fast model the whole
        session's entries would otherwise be indexed at its end, a Chroma start and an upsert
        on the session's path that no search needs."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._projector is not None and flush:
                self._projector.flush(wait=False)
        finally:
            if self._projector is not None:
                self._projector.close()
            self.log.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if et is None:
            self.close()
            return
        try:
            self.close()
        except Exception as exc:  # do not hide the error already on its way out
            logger.error("closing the knowledge base failed: %s", exc)
