"""A grid on a real two-node Ray cluster (head + worker node on the loopback) equals local.

The test starts both nodes with ``ray start --block`` in their own process groups, waits
until the cluster reports two live nodes (an explicit readiness check, not a sleep), runs a
tiny real grid whose cells are dispatched as lockstep BATCHES (one Ray task per batch) and
compares every cell with the same grid run by the local executor. Teardown terminates the
process groups it started (``ray stop`` would stop every Ray instance on the machine).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from fedcore.config import FitConfig, ModelSpec, SimulationConfig
from fedcore.grid import GridSpec, run_cells
from fedcore.store import load_run

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
RAY = Path(sys.executable).with_name("ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_nodes(address: str, n: int, timeout: float = 90.0) -> None:
    """Connect the driver and block until ``n`` nodes are alive (or fail)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if not ray.is_initialized():
                ray.init(address=address, log_to_driver=False)
            if sum(node["Alive"] for node in ray.nodes()) >= n:
                return
        except Exception:  # noqa: BLE001 - the head may not accept connections yet
            if ray.is_initialized():
                ray.shutdown()
        if time.monotonic() > deadline:
            raise TimeoutError(f"Ray cluster at {address} did not reach {n} nodes")
        time.sleep(0.5)


@pytest.fixture
def two_node_cluster(monkeypatch):
    if not RAY.exists():
        pytest.skip("ray command line not installed")
    from ray._private import ray_constants
    # Another test's local instance may have switched this process to single-node mode.
    monkeypatch.setattr(ray_constants, "ENABLE_RAY_CLUSTER", True)
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="rayh16_", dir="/tmp")  # short: Ray's socket paths
    env = dict(os.environ, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="1", RAY_USAGE_STATS_ENABLED="0",
               TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests"),
                                           os.environ.get("PYTHONPATH", "")]))
    common = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--block",
              "--disable-usage-stats"]
    procs = []

    def start(args):
        procs.append(subprocess.Popen([str(RAY), "start", *args, *common], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True))

    address = f"127.0.0.1:{port}"
    try:
        start(["--head", "--port", str(port), "--include-dashboard", "false",
               "--temp-dir", temp])
        _wait_for_nodes(address, 1)
        start(["--address", address])
        _wait_for_nodes(address, 2)
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        for proc in reversed(procs):  # only the process groups this fixture started
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        shutil.rmtree(temp, ignore_errors=True)


def test_two_node_ray_cluster_runs_lockstep_batches_like_local(two_node_cluster, tmp_path):
    grid = GridSpec(data="digits", scenarios=["rotation"], methods=["fedavg", "ifca"],
                    seeds=[0, 1], n_clients=4, n_groups=2, samples_per_client=16,
                    config=SimulationConfig(rounds=2, model=ModelSpec("mlp", (8,)),
                                            fit=FitConfig(batch_size=8, lr=0.1)).to_dict())
    cells = grid.cells()
    run_cells(cells, tmp_path / "local", workers=0, batch_cells=2)
    calls = []
    report = run_cells(cells, tmp_path / "ray", executor="ray", ray_address=two_node_cluster,
                       workers=2, batch_cells=2, progress=lambda *a: calls.append(a))
    assert report.computed == 4 and not report.failed
    # Each batch's two rounds came back through the Ray queue, before its cells.
    assert [c[6] for c in calls] == sorted(c[6] for c in calls) and calls[-1][6] == 1.0
    assert sum(c[4] == "" for c in calls) == 2 * 2 and 0 < calls[0][6] < 1 and calls[0][4] == ""
    nodes = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    assert len(nodes) == 2
    for cell in cells:
        _, local, res_local = load_run(tmp_path / "local" / "cells" / cell.cell_id)
        _, remote, res_remote = load_run(tmp_path / "ray" / "cells" / cell.cell_id)
        assert local["assignments"] == remote["assignments"]
        np.testing.assert_allclose(res_remote.rounds["mean_accuracy"],
                                   res_local.rounds["mean_accuracy"], atol=1e-6)
        for key, model in res_local.models.items():
            np.testing.assert_allclose(res_remote.models[key], model, atol=1e-6)
