"""Run grid cells: in-process, on a local process pool, or as Ray tasks.

Workers only compute; the driver process writes every finished cell with
:func:`fedcore.store.save_run` (atomic), so results land in one store even when Ray runs on
other machines, and an interrupted grid resumes where it stopped: a cell whose directory
holds ``summary.json`` is skipped. A failing cell writes ``cells/<id>/error.txt`` and the
others go on (it is retried on the next invocation).

The process pool uses the ``spawn`` start method because TensorFlow is not fork-safe.
Pool workers watch their driver: when it dies (even by ``kill -9``, which runs no cleanup)
they exit within about a second instead of waiting forever on a queue nobody writes to.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import inspect
import multiprocessing as mp
import os
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from ..errors import ConfigError
from ..store import is_complete, save_run
from ..store_atomic import write_text_atomic
from . import round_progress
from .batches import plan_batches
from .round_progress import CounterProgress, GridShare
from .spec import GridCell

__all__ = ["CounterProgress", "DEFAULT_BACKEND", "EXECUTORS", "GridReport", "execute_batch",
           "execute_cell", "resolve_backend", "run_cells", "run_spec"]

#: "module:function" computing (spec_dict, summary, SimulationResult) from a spec dict.
DEFAULT_BACKEND = "fedcore.grid.executors:run_spec"
EXECUTORS = ("local", "ray")


def run_spec(spec_dict: dict, on_round: Callable | None = None):
    """The real backend: :func:`fedcore.runner.run_experiment` + ``summary_dict``;
    ``on_round(done, total)`` after every round."""
    from ..runner import ExperimentSpec, run_experiment, summary_dict
    spec = ExperimentSpec.from_dict(spec_dict)
    progress = None if on_round is None else (lambda r, total, _metrics: on_round(r, total))
    dataset, result = run_experiment(spec, progress=progress)
    return spec.to_dict(), summary_dict(spec, dataset, result), result


def _run_spec_batch(spec_dicts: list[dict], max_representation_floats: int | None = None,
                    on_round: Callable | None = None) -> list:
    """Lockstep batch of the real backend (:mod:`fedcore.grid.lockstep`)."""
    from .lockstep import run_specs_lockstep
    return run_specs_lockstep(spec_dicts, max_representation_floats, on_round=on_round)


#: A backend with a ``batch`` attribute computes a whole batch of cells together:
#: ``batch(spec_dicts, max_representation_floats, on_round=None) -> [(spec, summary, result)
#: or error text, ...]``; it may skip representations larger than the grid stores, and calls
#: ``on_round(rounds done, rounds in the batch)`` after every round.
run_spec.batch = _run_spec_batch


def resolve_backend(backend: str) -> Callable:
    module, _, name = backend.partition(":")
    return getattr(importlib.import_module(module), name)


def execute_cell(cell_id: str, spec: dict, backend: str = DEFAULT_BACKEND,
                 on_round: Callable | None = None) -> dict:
    """Compute one cell (in any process); never raises for a failing experiment.

    ``on_round`` reaches backends that take it (the real one does).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start = time.perf_counter()
    try:
        fn = resolve_backend(backend)
        reports = on_round is not None and "on_round" in inspect.signature(fn).parameters
        spec_out, summary, result = fn(spec, on_round=on_round) if reports else fn(spec)
        return {"cell_id": cell_id, "ok": True, "spec": spec_out, "summary": summary,
                "result": result, "seconds": time.perf_counter() - start}
    except Exception:  # noqa: BLE001 - recorded in error.txt, the grid goes on
        return {"cell_id": cell_id, "ok": False, "error": traceback.format_exc(),
                "seconds": time.perf_counter() - start}


def execute_batch(cells: list[tuple[str, dict]], backend: str = DEFAULT_BACKEND,
                  max_representation_floats: int | None = None,
                  on_round: Callable | None = None) -> list[dict]:
    """Compute a batch of ``(cell_id, spec)`` (one task); one :func:`execute_cell` dict each.

    With a backend that has a ``batch`` function the cells run in lockstep (one engine call
    per round for all of them); otherwise (or for one cell) one after another.
    ``on_round(done, total)`` follows the batch's rounds (one cell's rounds, if alone; see
    :mod:`fedcore.grid.round_progress`). Never raises.
    """
    fn = resolve_backend(backend)
    if getattr(fn, "batch", None) is None or len(cells) == 1:
        alone = on_round if len(cells) == 1 else None
        return [execute_cell(cell_id, spec, backend, alone) for cell_id, spec in cells]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start = time.perf_counter()
    try:
        outs = fn.batch([spec for _, spec in cells], max_representation_floats,
                        on_round=on_round)
    except Exception:  # noqa: BLE001 - every cell of the batch records the error
        outs = [traceback.format_exc()] * len(cells)
    seconds = (time.perf_counter() - start) / len(cells)  # a shared batch: equal parts
    return [{"cell_id": cell_id, "ok": False, "error": out, "seconds": seconds}
            if isinstance(out, str) else
            {"cell_id": cell_id, "ok": True, "spec": out[0], "summary": out[1],
             "result": out[2], "seconds": seconds}
            for (cell_id, _), out in zip(cells, outs)]


@dataclass
class GridReport:
    """What one invocation did."""

    total: int = 0
    skipped: int = 0
    computed: int = 0
    failed: list = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


#: Grid cells keep representations up to this many floats (4 MB): per-client weight vectors
#: of every cell would make an 80-cell MNIST grid 1.7 GB instead of ~0.3 GB.
GRID_REPRESENTATION_FLOATS = 1_000_000


def _record(out_dir: Path, outcome: dict, max_representation_floats: int | None) -> None:
    cell_dir = out_dir / "cells" / outcome["cell_id"]
    if outcome["ok"]:
        save_run(cell_dir, outcome["spec"], outcome["summary"], outcome["result"],
                 max_representation_floats=max_representation_floats)
        return
    cell_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(cell_dir / "error.txt", outcome["error"])


#: Seconds between two checks of a pool worker that its driver is still alive.
PARENT_POLL_SECONDS = 0.5


#: Seconds the driver waits for a finished batch before it forwards round reports.
ROUND_POLL_SECONDS = 0.5


def _worker_init(driver_pid: int, report_queue) -> None:
    """Pool initializer: watch the driver, and keep its round-report queue."""
    _exit_when_orphaned(driver_pid)
    round_progress.worker_init(report_queue)


def _exit_when_orphaned(driver_pid: int) -> None:
    """Pool initializer: a daemon thread ends this worker once ``driver_pid`` is gone.

    A dead driver's children are re-parented, so ``os.getppid()`` changes. (Linux's
    ``PR_SET_PDEATHSIG`` is not used: it fires when the *thread* that started the worker
    ends, which in a dashboard is any finished script run.)
    """
    def watch():
        while os.getppid() == driver_pid:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(70)  # no cleanup: the driver that would receive results is gone

    threading.Thread(target=watch, name="fedlens-driver-watch", daemon=True).start()


def _tasks(batches: list[list[GridCell]]) -> list[list[tuple[str, dict]]]:
    return [[(c.cell_id, c.spec) for c in batch] for batch in batches]


def _iter_local(batches: list[list[GridCell]], workers: int, backend: str, floats: int | None,
                on_round: Callable):
    if workers <= 0:  # in-process (tests, debugging)
        for i, task in enumerate(_tasks(batches)):
            yield from execute_batch(task, backend, floats, partial(on_round, i))
        return
    context = mp.get_context("spawn")
    reports = context.SimpleQueue()
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                  initializer=_worker_init, initargs=(os.getpid(), reports))
    finished = False
    try:
        waiting = {pool.submit(execute_batch, task, backend, floats,
                               partial(round_progress.to_driver, i))
                   for i, task in enumerate(_tasks(batches))}
        while waiting:
            done, waiting = cf.wait(waiting, timeout=ROUND_POLL_SECONDS,
                                    return_when=cf.FIRST_COMPLETED)
            round_progress.drain(reports, on_round)
            for fut in done:
                yield from fut.result()
        finished = True
    finally:
        # On Ctrl-C (or a failing save) do not wait for queued cells: they were not stored,
        # so the next invocation computes them.
        pool.shutdown(wait=finished, cancel_futures=not finished)


def run_cells(cells: list[GridCell], out_dir: str | Path, executor: str = "local",
              workers: int | None = None, ray_address: str | None = None,
              backend: str = DEFAULT_BACKEND, progress: Callable | None = None,
              max_representation_floats: int | None = GRID_REPRESENTATION_FLOATS,
              batch_cells: int | None = None) -> GridReport:
    """Compute every cell not yet stored under ``out_dir/cells/`` and store it.

    Parameters
    ----------
    cells : list of GridCell
    out_dir : path
        Grid directory.
    executor : {"local", "ray"}
    workers : int, optional
        Processes (local; default = CPU cores; 0 = in this process) or Ray CPUs for a
        local Ray instance.
    ray_address : str, optional
        Existing Ray cluster (``ray.init(address=...)``); default starts a local one.
    backend : str
        ``"module:function"`` mapping a spec dict to (spec, summary, result).
    progress : callable, optional
        ``progress(done, total, failed, skipped, last_cell_id, seconds, fraction)``, called
        when a cell is stored and after every round of a running batch (then with
        ``last_cell_id=""``); ``fraction`` is the share of the grid done, counting the
        finished rounds of running batches.
    batch_cells : int, optional
        Most cells per task, run in lockstep (:mod:`fedcore.grid.lockstep`; each cell's
        numbers equal its run alone); 1 runs cells one by one; default: automatic.
    """
    if executor not in EXECUTORS:
        raise ConfigError(f"--executor must be one of {', '.join(EXECUTORS)}, not {executor!r}")
    out_dir = Path(out_dir)
    (out_dir / "cells").mkdir(parents=True, exist_ok=True)
    workers = (os.cpu_count() or 1) if workers is None else int(workers)
    start = time.perf_counter()
    pending = [c for c in cells if not is_complete(out_dir / "cells" / c.cell_id)]
    report = GridReport(total=len(cells), skipped=len(cells) - len(pending))
    progress = progress or (lambda *a: None)
    if not pending:
        progress(report.total, report.total, 0, report.skipped, "", 0.0, 1.0)
        return report
    if batch_cells is not None and int(batch_cells) < 1:
        raise ConfigError(f"--batch-cells must be >= 1 (got {batch_cells})")
    batches = plan_batches(pending, batch_cells, workers=max(workers, 1))
    workers = min(workers, len(batches)) if workers > 0 else 0
    floats = max_representation_floats
    share = GridShare(report.total, report.skipped, [[c.cell_id for c in b] for b in batches])

    def tell(last: str, seconds: float) -> None:
        progress(report.skipped + report.computed + len(report.failed), report.total,
                 len(report.failed), report.skipped, last, seconds, share.fraction)

    def on_round(batch: int, done: int, total: int) -> None:
        share.round(batch, done, total)
        tell("", 0.0)

    from .ray_tasks import iter_ray
    outcomes = (iter_ray(_tasks(batches), workers, backend, ray_address, floats, on_round)
                if executor == "ray" else _iter_local(batches, workers, backend, floats, on_round))
    for outcome in outcomes:
        _record(out_dir, outcome, max_representation_floats)
        if outcome["ok"]:
            report.computed += 1
        else:
            report.failed.append(outcome["cell_id"])
        share.cell(outcome["cell_id"])
        tell(outcome["cell_id"], outcome["seconds"])
    report.seconds = time.perf_counter() - start
    return report
