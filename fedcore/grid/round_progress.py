"""Round-by-round progress of lockstep grid batches, from the workers to the driver.

A lockstep batch finishes all its cells at once, at its end: a 276-cell grid in four batches
would move its progress bar four times in six minutes. So every batch reports each finished
round ``(batch index, rounds done, rounds in the batch)``, and the driver turns those reports
into the share of the grid's cell-rounds done (:class:`GridShare`).

How a report travels depends on where the batch runs:

* in the driver's process (``workers=0``): a direct call;
* in a local pool worker: a ``multiprocessing.SimpleQueue`` inherited through the pool's
  initializer (:func:`worker_init`; a queue cannot be passed as a task argument), written by
  :func:`to_driver`. Its ``put`` writes to the pipe before returning (no feeder thread), so a
  batch's round reports are readable before its results are;
* as a Ray task: a :class:`ray.util.queue.Queue` actor, written by :func:`to_ray_queue`.

The driver empties the queue between waits for finished batches, and before it stores a
finished batch's cells (:func:`drain`). Progress is advisory: a report that cannot be sent is
dropped; it never fails a batch.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

#: The pool worker's end of the driver's queue (set by :func:`worker_init`).
_QUEUE = None


def worker_init(report_queue) -> None:
    """Pool initializer part: remember the driver's queue in this worker."""
    global _QUEUE
    _QUEUE = report_queue


def to_driver(batch: int, done: int, total: int) -> None:
    """``on_round`` of a batch in a pool worker: send the report to the driver's queue."""
    if _QUEUE is not None:
        try:
            _QUEUE.put((batch, done, total))
        except Exception:  # noqa: BLE001 - progress is advisory
            pass


def to_ray_queue(report_queue, batch: int, done: int, total: int) -> None:
    """``on_round`` of a batch running as a Ray task."""
    try:
        report_queue.put_nowait((batch, done, total))
    except Exception:  # noqa: BLE001 - progress is advisory
        pass


def drain(report_queue, on_round: Callable[[int, int, int], None]) -> None:
    """Deliver every report waiting in ``report_queue`` to ``on_round(batch, done, total)``."""
    if report_queue is None:
        return
    while True:
        try:  # both queues: empty() is exact for the one reader, get() then cannot block
            if report_queue.empty():
                return
            item = report_queue.get()
        except Exception:  # noqa: BLE001 - a queue whose other end went away: no more reports
            return
        on_round(*item)


class GridShare:
    """Share of a grid's cells done, counting the finished rounds of running batches.

    Parameters
    ----------
    total : int
        Cells in the grid.
    skipped : int
        Cells already stored before this invocation (done).
    batches : list of list of str
        Cell ids of each batch, in batch-index order.
    """

    def __init__(self, total: int, skipped: int, batches: list[list[str]]):
        self.total = max(int(total), 1)
        self.finished = int(skipped)
        self._batch_of = {cid: b for b, ids in enumerate(batches) for cid in ids}
        self._open = [len(ids) for ids in batches]  # cells of each batch not yet finished
        self._rounds = [0.0] * len(batches)  # share of each batch's rounds done

    def round(self, batch: int, done: int, total: int) -> None:
        if 0 <= batch < len(self._rounds) and total > 0:
            self._rounds[batch] = max(self._rounds[batch], min(done / total, 1.0))

    def cell(self, cell_id: str) -> None:
        self.finished += 1
        batch = self._batch_of.get(cell_id)
        if batch is not None:
            self._open[batch] = max(self._open[batch] - 1, 0)

    @property
    def fraction(self) -> float:
        running = sum(n * r for n, r in zip(self._open, self._rounds))
        return min((self.finished + running) / self.total, 1.0)


class CounterProgress:
    """``[grid] 3/12 done (41% of all rounds), 1 failed, 2 skipped | last cfl__seed0 (4.1 s)``.

    On a terminal the line is rewritten in place at every report. In a log (not a terminal)
    every stored cell gets a line, but a round report only when the grid has advanced by
    another :attr:`LOG_STEP` since the last line, so long grids do not flood the log.
    """

    LOG_STEP = 0.1

    def __init__(self, stream=None, enabled: bool = True):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self._logged = 0.0

    def __call__(self, done: int, total: int, failed: int, skipped: int, last: str,
                 seconds: float, fraction: float | None = None) -> None:
        if not self.enabled:
            return
        tty = getattr(self.stream, "isatty", lambda: False)()
        fraction = done / max(total, 1) if fraction is None else fraction
        if not tty and not last and fraction < self._logged + self.LOG_STEP - 1e-9:
            return
        self._logged = fraction
        line = (f"[grid] {done}/{total} done ({fraction:.0%} of all rounds), {failed} failed, "
                f"{skipped} skipped"
                + (f" | last {last} ({seconds:.1f} s)" if last else ""))
        self.stream.write(("\r" + line + " " * 8) if tty else line + "\n")
        if tty and done == total:
            self.stream.write("\n")
        self.stream.flush()
