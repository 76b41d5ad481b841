"""Every error mapek raises, in one tree.

::

    MapekError                      root: catch this to catch everything of ours
    ├── UserError                   the user's mistake: one clear line, non-zero exit, no traceback
    │   ├── ConfigError             a bad setting, flag or environment variable
    │   ├── PersonaError            a persona file that does not validate, or an unknown persona
    │   ├── WorkspaceError          a workspace folder that is missing, unreadable or not ours
    │   ├── UnknownRunError         a run id that is not in the log
    │   ├── UnknownModelError       a model string litellm cannot route
    │   ├── EvidenceError           an evidence envelope, key or requirement file that cannot be
    │   │                           read
    │   └── IdempotencyKeyCollision one effect key presented with another tool or other arguments
    ├── RuntimeFailure              something broke while running; state is kept
    │   ├── StorageError            the event log's database failed (sqlite translated here)
    │   │   └── CheckpointCorrupt   the checkpoint file cannot be read: resume --from-log
    │   ├── LogIntegrityError       the hash chain is broken: an edited, deleted, inserted or
    │   │                           reordered event
    │   ├── VectorIndexError        the vector index failed (chromadb translated here)
    │   └── ModelError              a model call failed (litellm translated here)
    │       ├── ModelTimeoutError   the call took longer than its timeout, after retries
    │       ├── ModelConnectionError the server could not be reached or dropped the connection
    │       └── ModelOutputError    the model's output could not be repaired into the schema
    └── ControlSignal               not a failure: the run must stop or wait
        ├── BudgetExceeded          a call would go over a token or USD budget
        ├── EvidenceRejected        an evidence envelope failed its checks, or its verdict is stop
        └── EffectInDoubt           a call may have happened (its process died): a human must say

    WorkerStopped (BaseException)   the watchdog or a person stops a worker: deliberately outside
                                    MapekError and Exception, like KeyboardInterrupt, so that no
                                    ``except Exception`` in a tool or a library swallows it

Each class carries typed attributes so callers never parse messages.
"""

from __future__ import annotations

__all__ = [
    "MapekError",
    "WorkerStopped",
    "UserError",
    "ConfigError",
    "PersonaError",
    "WorkspaceError",
    "UnknownRunError",
    "UnknownModelError",
    "EvidenceError",
    "IdempotencyKeyCollision",
    "RuntimeFailure",
    "StorageError",
    "CheckpointCorrupt",
    "LogIntegrityError",
    "VectorIndexError",
    "ModelError",
    "ModelTimeoutError",
    "ModelConnectionError",
    "ModelOutputError",
    "ControlSignal",
    "BudgetExceeded",
    "EvidenceRejected",
    "EffectInDoubt",
]


class MapekError(Exception):
    """Root of every error mapek raises."""

    exit_code: int = 1


class UserError(MapekError):
    """A mistake the user can fix: printed as one line, exit code 2."""

    exit_code = 2


class ConfigError(UserError):
    """A bad setting, flag, environment variable or config file."""


class PersonaError(UserError):
    """A persona file that does not validate, or a persona name that does not exist."""

    def __init__(self, message: str, *, path: str | None = None, field: str | None = None):
        super().__init__(message)
        self.path = path
        self.field = field


class WorkspaceError(UserError):
    """The workspace folder is missing, unreadable, or holds something that is not ours."""

    def __init__(self, message: str, *, path: str | None = None):
        super().__init__(message)
        self.path = path


class UnknownRunError(UserError):
    """A run id that the log does not know."""

    def __init__(self, run_id: str):
        super().__init__(f"no run {run_id!r} in this workspace (see `mapek runs list`)")
        self.run_id = run_id


class UnknownModelError(UserError):
    """A model string litellm cannot route to a provider."""

    def __init__(self, model: str, detail: str = ""):
        msg = f"unknown model {model!r}"
        super().__init__(f"{msg}: {detail}" if detail else msg)
        self.model = model


class EvidenceError(UserError):
    """An evidence envelope, run key or requirement file that cannot be read or does not
    validate."""

    def __init__(self, message: str, *, path: str | None = None):
        super().__init__(message)
        self.path = path


class IdempotencyKeyCollision(UserError):
    """One idempotency key presented with another tool or other arguments than it was recorded
    with: nothing runs (the key names one effect, and that effect is not this call)."""

    def __init__(self, key: str, *, tool: str, recorded_tool: str, digest: str,
                 recorded_digest: str):
        what = f"tool {tool!r}, recorded for {recorded_tool!r}" if tool != recorded_tool else \
            f"arguments {digest[:12]}, recorded with {recorded_digest[:12]}"
        super().__init__(f"idempotency key collision: key {key[:24]} presented with {what}; "
                         "nothing was run")
        self.key = key
        self.tool = tool
        self.recorded_tool = recorded_tool
        self.digest = digest
        self.recorded_digest = recorded_digest


class RuntimeFailure(MapekError):
    """Something failed while running. The log and state are kept."""

    exit_code = 1


class StorageError(RuntimeFailure):
    """The event log's storage failed."""


class CheckpointCorrupt(StorageError):
    """The checkpoint file cannot be read (random bytes, a torn page): the run goes on from its
    event log instead (``mapek resume RUN --from-log``), which holds every turn."""

    def __init__(self, path: str, run_id: str | None, reason: str):
        run = run_id or "RUN"
        super().__init__(f"the checkpoint file {path} is corrupt ({reason}); continue the run "
                         f"from its event log: mapek resume {run} --from-log")
        self.path = path
        self.run_id = run_id
        self.reason = reason


class LogIntegrityError(RuntimeFailure):
    """The hash chain of a run is broken.

    ``run_id`` and ``seq`` name the first bad event; ``problem`` says what is wrong with it.
    """

    exit_code = 3

    def __init__(self, run_id: str, seq: int, problem: str):
        super().__init__(f"log integrity broken in run {run_id} at event #{seq}: {problem}")
        self.run_id = run_id
        self.seq = seq
        self.problem = problem


class VectorIndexError(RuntimeFailure):
    """The vector index failed."""


class ModelError(RuntimeFailure):
    """A model call failed."""

    def __init__(self, message: str, *, model: str | None = None, status_code: int | None = None):
        super().__init__(message)
        self.model = model
        self.status_code = status_code
        """HTTP status of the provider's error answer, when there was one (429, 500, ...)."""


class ModelTimeoutError(ModelError):
    """The model did not answer within its timeout (after bounded retries)."""


class ModelConnectionError(ModelError):
    """The model server could not be reached or dropped the connection (after retries)."""


class ModelOutputError(ModelError):
    """The model's output could not be repaired into the requested schema after N re-asks."""

    def __init__(
        self, message: str, *, model: str | None = None, attempts: int = 0, last_output: str = ""
    ):
        super().__init__(message, model=model)
        self.attempts = attempts
        self.last_output = last_output


class ControlSignal(MapekError):
    """Not a failure: the run must stop or wait."""

    exit_code = 5


class BudgetExceeded(ControlSignal):
    """A call would take a budget over its limit; raised before the call is made."""

    def __init__(self, budget: str, limit: float, used: float, requested: float):
        super().__init__(
            f"{budget} budget would be exceeded: used {used:g} + requested {requested:g} "
            f"> limit {limit:g}"
        )
        self.budget = budget
        self.limit = limit
        self.used = used
        self.requested = requested


class EvidenceRejected(ControlSignal):
    """A verdict whose evidence did not hold (or whose own verdict is stop): the circuit stops.

    ``reasons`` lists each failed check; ``seq`` is the ``evidence.rejected`` event, if recorded.
    """

    def __init__(self, message: str, *, run_id: str, task: str, producer: str,
                 reasons: list[str], seq: int | None = None):
        super().__init__(message)
        self.run_id = run_id
        self.task = task
        self.producer = producer
        self.reasons = reasons
        self.seq = seq


class EffectInDoubt(ControlSignal):
    """A call with an intent and no result (its process died mid-call), not declared idempotent:
    it may have happened, so it is not run again until a human answers ``happened`` or ``run``."""

    def __init__(self, run_id: str, key: str, tool: str, args: dict[str, object]):
        super().__init__(f"run {run_id}: {tool} may already have happened (the process died "
                         f"during the call; key {key[:16]}); answer with `mapek workflow answer "
                         f"{run_id} {key[:16]} --happened` or `--run`")
        self.run_id = run_id
        self.key = key
        self.tool = tool
        self.call_args = args
        """The call's exact arguments (``args`` is the exception's own)."""


class WorkerStopped(BaseException):  # noqa: N818 - a control signal, like KeyboardInterrupt
    """The watchdog (or a person) asked the worker to stop; it exits without writing more."""

