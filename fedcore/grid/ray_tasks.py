"""Grid batches as Ray tasks: one task = one lockstep batch, on a local or remote cluster.

A local instance stays on the loopback and sends no telemetry; round reports of running
batches come back through a CPU-less :class:`ray.util.queue.Queue` actor
(:mod:`fedcore.grid.round_progress`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import partial

from . import round_progress
from .executors import ROUND_POLL_SECONDS, execute_batch


def ray_init(address: str | None, workers: int) -> bool:
    """Connect to Ray; returns whether we started (and must stop) a local instance."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no telemetry over the network
    import ray
    if ray.is_initialized():
        return False
    if address:
        ray.init(address=address, log_to_driver=False)
        return True
    # A local instance on the loopback only: Ray otherwise advertises the machine's network
    # address (resolving 127.0.0.1 to it). Its "no cluster" mode keeps every socket on
    # 127.0.0.1; the constant is read at call time, the variable by Ray's child processes.
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    from ray._private import ray_constants
    ray_constants.ENABLE_RAY_CLUSTER = False
    # Workers import fedcore (and test backends) via the driver's sys.path.
    path = os.pathsep.join(p for p in sys.path if p)
    ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False,
             _node_ip_address="127.0.0.1",
             runtime_env={"env_vars": {"PYTHONPATH": path, "TF_CPP_MIN_LOG_LEVEL": "2",
                                       "RAY_USAGE_STATS_ENABLED": "0",
                                       "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}})
    return True


def iter_ray(tasks: list[list[tuple[str, dict]]], workers: int, backend: str,
             address: str | None, floats: int | None, on_round: Callable):
    """Run every task (a lockstep batch of ``(cell_id, spec)``) as one Ray task; yield the
    :func:`~fedcore.grid.executors.execute_batch` outcomes of each batch as it finishes,
    forwarding its round reports to ``on_round(batch, done, total)`` first."""
    import ray
    from ray.util.queue import Queue
    started = ray_init(address, workers)
    try:
        # A CPU-less actor: it must not take a slot the batches need.
        reports = Queue(actor_options={"num_cpus": 0})
        # One task = one lockstep batch of cells.
        remote = ray.remote(num_cpus=1, max_retries=0)(execute_batch)
        refs = [remote.remote(task, backend, floats,
                              partial(round_progress.to_ray_queue, reports, i))
                for i, task in enumerate(tasks)]
        while refs:
            ready, refs = ray.wait(refs, num_returns=1, timeout=ROUND_POLL_SECONDS)
            round_progress.drain(reports, on_round)
            if ready:
                yield from ray.get(ready[0])
    finally:
        if started:
            ray.shutdown()
