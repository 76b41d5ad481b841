"""Cells as Ray tasks: ``mapek batch run --executor ray [--ray-address HOST:PORT]``.

Each cell is one Ray task, :func:`_cell_task`, which calls :func:`~mapek.batch.executor.
drive_cell`: it starts the session's worker (and its watchdog) on the node Ray picked and
follows the log until the cell ends. Ray retries a task whose worker process or node was lost
(``max_retries``); the retry calls the same function, which reads from the log how far the lost
attempt got: a session worker that outlived it is followed, a cell whose worker died with it
resumes from its last checkpoint, an ended cell is left alone. Nothing is written twice: the
cells' events carry idempotency keys, and a worker is only started where none lives.

The nodes share the workspace: its folder at the same path on every node, and for more than
one machine a shared log (``MAPEK_LOG_URL=postgresql://...``, which holds the checkpoints too).
The driver's ``MAPEK_*`` settings travel with each task. Ray itself is imported here only,
when this executor is made (``pip install 'mapek[ray]'``).
"""

from __future__ import annotations

import os
import socket
from dataclasses import asdict
from typing import Any

from mapek.batch.executor import CellDone, CellJob, Executor
from mapek.errors import ConfigError

__all__ = ["RayExecutor", "connect_ray"]

CONNECT_TIMEOUT = 5.0
"""Seconds to reach a Ray address before ``--executor ray`` gives up with one line (Ray itself
would keep trying for minutes)."""


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("--executor ray needs Ray, which is not installed: "
                          "pip install 'mapek[ray]'") from None
    return ray


def _probe(address: str) -> None:
    """Fail at once, in one line, when nothing listens at ``host:port`` (``ray://`` too)."""
    target = address.split("://", 1)[1] if "://" in address else address
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ConfigError(f"--ray-address {address!r} is not HOST:PORT (or ray://HOST:PORT, "
                          "auto)")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise ConfigError(f"cannot reach the Ray cluster at {address}: "
                          f"{exc.strerror or exc}") from None


def connect_ray(address: str | None, **init: Any) -> bool:
    """Connect this process to Ray: the cluster at ``address``, or a Ray started here when
    there is none (``auto``: the one ``RAY_ADDRESS`` or this machine's ``ray start`` names).
    True when this call started or joined it (and so :meth:`RayExecutor.close` leaves it);
    False when the process was connected already (``ray.init`` by the caller)."""
    import logging

    ray = _import_ray()
    if ray.is_initialized():
        return False
    if address and address not in ("auto", "local"):
        _probe(address)
    try:
        ray.init(address=address or None, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.WARNING, **init)
    except ConnectionError as exc:
        hint = ""
        if address and os.environ.get("RAY_AUTH_MODE") != "token":
            hint = (" (a cluster with token authentication, Ray's default, also needs "
                    "RAY_AUTH_MODE=token here and its token in ~/.ray/auth_token or "
                    "RAY_AUTH_TOKEN)")
        raise ConfigError(f"cannot reach the Ray cluster at {address or 'auto'}: "
                          f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc}"
                          f"{hint}") from None
    return True


def _cell_task(job: dict[str, Any], env: dict[str, str]) -> str:
    """One cell, on whatever node Ray runs it (and again on a retry). ``ray.cancel`` (the
    driver stopping the batch) stops the cell's worker in order; the cell keeps its state."""
    os.environ.update(env)
    from mapek.batch.executor import drive_cell

    try:
        return drive_cell(CellJob(**job), interrupted="the batch's driver stopped the cell")
    except KeyboardInterrupt:  # cancelled before the cell's session was open: nothing ran
        return "cancelled"


class RayExecutor(Executor):
    """Cells as Ray tasks on a Ray cluster (``address``) or on a Ray started here.

    ``cpus_per_cell``: the CPUs Ray reserves for each cell's task (a cell's worker mostly
    waits on its model: less than 1 lets a node run more cells than it has cores);
    ``max_retries``: how often Ray runs a cell again whose worker process or node was lost."""

    name = "ray"

    def __init__(self, address: str | None = None, *, cpus_per_cell: float = 1.0,
                 max_retries: int = 3, **init: Any) -> None:
        if cpus_per_cell < 0:
            raise ConfigError(f"cpus_per_cell is 0 or more; got {cpus_per_cell}")
        self.address = address
        self._owns = connect_ray(address, **init)
        import ray

        self._ray = ray
        self._task = ray.remote(num_cpus=cpus_per_cell, max_retries=max_retries,
                                retry_exceptions=False)(_cell_task)
        self._refs: dict[str, Any] = {}
        self._env = {k: v for k, v in os.environ.items() if k.startswith("MAPEK_")}

    def submit(self, job: CellJob) -> None:
        if job.run_id in self._refs:
            raise RuntimeError(f"cell {job.run_id} is already running here")
        self._refs[job.run_id] = self._task.remote(asdict(job), self._env)

    def active(self) -> set[str]:
        return set(self._refs)

    def reap(self) -> list[CellDone]:
        if not self._refs:
            return []
        ray = self._ray
        ready, _ = ray.wait(list(self._refs.values()), num_returns=len(self._refs), timeout=0)
        finished = set(ready)
        out: list[CellDone] = []
        for run_id, ref in list(self._refs.items()):
            if ref not in finished:
                continue
            del self._refs[run_id]
            try:
                out.append(CellDone(run_id, str(ray.get(ref))))
            except ray.exceptions.TaskCancelledError:
                out.append(CellDone(run_id, "cancelled"))
            except Exception as exc:  # noqa: BLE001 - retries spent, or the task raised
                cause = getattr(exc, "cause", None) or exc
                lines = str(cause).strip().splitlines()
                out.append(CellDone(run_id, "error",
                                    f"{type(cause).__name__}: {lines[0] if lines else ''}"[:500]))
        return out

    def stop(self, run_id: str, reason: str) -> None:
        ref = self._refs.get(run_id)
        if ref is None:
            return
        self._ray.cancel(ref)  # a task not begun is dropped; a running one stops its cell
        self._ray.wait([ref], timeout=60)

    def stop_all(self, reason: str) -> None:
        refs = list(self._refs.values())
        for ref in refs:
            self._ray.cancel(ref)
        if refs:
            self._ray.wait(refs, num_returns=len(refs), timeout=120)

    def close(self) -> None:
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()
        self._owns = False
