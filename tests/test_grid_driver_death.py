"""``kill -9`` of a grid driver: its pool workers exit instead of blocking forever.

Synchronised on an explicit barrier: each worker writes its pid to a file in the barrier
folder and then blocks; the test kills the driver only once both workers are running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
DRIVER = r"""
import sys
sys.path.insert(0, sys.argv[3])
from fedcore.grid.executors import run_cells
from fedcore.grid.spec import GridCell
cells = [GridCell(f"c{i}", None, "x", i, {"barrier": sys.argv[2]}) for i in range(2)]
run_cells(cells, sys.argv[1], workers=2, backend="test_grid_driver_death:blocking_backend")
"""


def blocking_backend(spec: dict):
    """Grid backend for this test: announce this worker's pid, then never return."""
    path = Path(spec["barrier"]) / f"{os.getpid()}.pid"
    path.with_suffix(".part").write_text(str(os.getpid()))
    os.replace(path.with_suffix(".part"), path)
    while True:
        time.sleep(1)


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return "State:\tZ" in state  # a zombie waiting for init to reap it has exited


def test_workers_exit_when_the_driver_is_killed(tmp_path):
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path / "grid"),
                               str(barrier), str(HERE)], cwd=HERE.parent)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 180
        while len(workers) < 2:
            assert driver.poll() is None, "driver ended early"
            assert time.monotonic() < deadline, "workers never reached the barrier"
            time.sleep(0.1)
            workers = [int(p.stem) for p in barrier.glob("*.pid")]
        assert all(not gone(pid) for pid in workers)
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait(timeout=30)
        deadline = time.monotonic() + 30
        while not all(gone(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert all(gone(pid) for pid in workers), f"workers still alive: {workers}"
    finally:
        for pid in workers:  # never leave a blocked worker behind, even on failure
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if driver.poll() is None:
            driver.kill()
