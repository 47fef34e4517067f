"""Kills during :func:`fedcore.store.save_run`: nothing stale survives the next save, and the
previous run is never left only in a hidden ``.old`` directory.

Each child process stops at an explicit barrier (it creates a file, then waits forever) so
the kill lands exactly where the test wants it, however loaded the machine is.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_store import save_fake

from fedcore import store

HERE = Path(__file__).parent
CHILD = r"""
import os, sys, time
sys.path.insert(0, sys.argv[3])
from fedcore import store
from test_store import save_fake

out, barrier, where = sys.argv[1], sys.argv[2], sys.argv[4]

def wait_here():
    open(barrier, "w").close()
    while True:
        time.sleep(1)

if where == "before-marker":
    real = store.write_json
    def write_json(path, obj):
        if path.name == "summary.json":
            wait_here()
        real(path, obj)
    store.write_json = write_json
else:  # between the two renames of the fallback (no atomic exchange)
    store._exchange = lambda a, b: False
    real_replace = os.replace
    def replace(src, dst):
        real_replace(src, dst)
        if str(dst).endswith("/run") and ".old-" in str(dst):
            wait_here()
    store.os.replace = replace
save_fake(out, seed=1)
"""


def kill_at(barrier_point: str, out: Path, tmp_path: Path) -> None:
    barrier = tmp_path / "barrier"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(out), str(barrier), str(HERE),
                             barrier_point], cwd=HERE.parent)
    deadline = time.monotonic() + 120
    while not barrier.exists():
        assert proc.poll() is None, "child ended before the barrier"
        assert time.monotonic() < deadline, "child never reached the barrier"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    barrier.unlink()


def hidden(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith("."))


def test_killed_save_leaves_temp_dir_that_next_save_removes(tmp_path):
    runs = tmp_path / "runs"
    kill_at("before-marker", runs / "a", tmp_path)
    assert [n.split(".tmp-")[0] for n in hidden(runs)] == [".a"]  # the killed writer's
    assert not (runs / "a").exists() and store.list_runs(runs).empty
    save_fake(runs / "a", seed=2)
    assert hidden(runs) == []
    assert store.load_run(runs / "a")[2].dataset_fingerprint == "fp2"


def test_kill_between_renames_never_loses_previous_run(tmp_path):
    runs = tmp_path / "runs"
    save_fake(runs / "a", seed=0)
    kill_at("between-renames", runs / "a", tmp_path)
    assert not (runs / "a").exists()  # the window the atomic exchange closes on Linux
    # the next access repairs it: load, list and the grid's resume check all see the run
    assert store.is_complete(runs / "a")
    assert store.load_run(runs / "a")[2].dataset_fingerprint == "fp0"
    save_fake(runs / "a", seed=3)
    assert hidden(runs) == []
    assert store.load_run(runs / "a")[2].dataset_fingerprint == "fp3"


def test_list_runs_repairs_an_interrupted_replacement(tmp_path):
    save_fake(tmp_path / "a", seed=0)
    parked = tmp_path / ".a.old-999999999-x"
    parked.mkdir()
    os.rename(tmp_path / "a", parked / "run")
    assert list(store.list_runs(tmp_path)["run_id"]) == ["a"]
    assert hidden(tmp_path) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux-only")
def test_replacement_is_one_atomic_exchange_on_linux(tmp_path, monkeypatch):
    save_fake(tmp_path / "a", seed=0)
    calls = []
    real = store._exchange
    monkeypatch.setattr(store, "_exchange", lambda a, b: calls.append(real(a, b)) or calls[-1])
    monkeypatch.setattr(store.os, "replace", lambda *a: pytest.fail("two-rename fallback"))
    save_fake(tmp_path / "a", seed=1)
    assert calls == [True]
    assert store.load_run(tmp_path / "a")[2].dataset_fingerprint == "fp1"
    assert hidden(tmp_path) == []


def test_default_runs_root_is_per_user_not_the_checkout(monkeypatch, tmp_path):
    monkeypatch.delenv("FEDLENS_RUNS", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert store.default_runs_root() == tmp_path / "xdg" / "fedlens" / "runs"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert store.default_runs_root() == tmp_path / "home" / ".local/share/fedlens/runs"
    monkeypatch.setenv("FEDLENS_RUNS", str(tmp_path / "mine"))
    assert store.default_runs_root() == tmp_path / "mine"
    checkout = Path(__file__).resolve().parents[1]
    monkeypatch.delenv("FEDLENS_RUNS")
    assert checkout not in store.default_runs_root().resolve().parents
