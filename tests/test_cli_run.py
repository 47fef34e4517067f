"""`python -m fedcore run` end to end on real data: summary.json, determinism, seeds, faults."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fedcore.cli import main
from fedcore.store import is_complete

ROOT = Path(__file__).resolve().parents[1]
TIMING_KEYS = {"wall_seconds", "seconds"}
SMALL = ["--data", "mnist_5k", "--scenario", "rotation", "--clients", "8", "--groups", "2",
         "--samples", "60", "--rounds", "4", "--quiet"]


def run_cli(tmp_path, name, *args):
    out = tmp_path / name
    code = main(["run", *SMALL, *args, "--out", str(out)])
    assert code == 0
    return json.loads((out / "summary.json").read_text())


def without_timing(obj):
    if isinstance(obj, dict):
        return {k: without_timing(v) for k, v in obj.items() if k not in TIMING_KEYS}
    if isinstance(obj, list):
        return [without_timing(v) for v in obj]
    return obj


def test_summary_has_the_documented_fields_and_recovers_rotation(tmp_path):
    s = run_cli(tmp_path, "kmeans", "--method", "kmeans", "--param", "n_clusters=2",
                "--param", "warmup_rounds=2")
    for key in ("method", "n_clients", "ari", "mean_client_accuracy", "assignments",
                "true_groups", "rounds", "wall_seconds", "config", "seeds", "versions",
                "dataset_fingerprint"):
        assert key in s, key
    assert s["method"] == "kmeans" and s["n_clients"] == 8 and len(s["rounds"]) == 4
    assert s["ari"] == 1.0
    assert set(s["assignments"]) == set(s["true_groups"])
    fedavg = run_cli(tmp_path, "fedavg", "--method", "fedavg")
    assert fedavg["ari"] == 0.0  # one cluster for two true groups
    assert s["mean_client_accuracy"] > fedavg["mean_client_accuracy"]


def test_same_config_and_seed_give_identical_summary(tmp_path):
    a = run_cli(tmp_path, "a", "--method", "ifca", "--param", "n_clusters=2", "--seed", "3")
    b = run_cli(tmp_path, "b", "--method", "ifca", "--param", "n_clusters=2", "--seed", "3")
    assert without_timing(a) == without_timing(b)


def test_data_seed_and_model_seed_are_separate_settings(tmp_path):
    base = run_cli(tmp_path, "base", "--method", "fedavg", "--seed", "0", "--data-seed", "0")
    model = run_cli(tmp_path, "model", "--method", "fedavg", "--seed", "1", "--data-seed", "0")
    data = run_cli(tmp_path, "data", "--method", "fedavg", "--seed", "0", "--data-seed", "1")
    assert model["dataset_fingerprint"] == base["dataset_fingerprint"]
    assert model["client_accuracy"] != base["client_accuracy"]
    assert data["dataset_fingerprint"] != base["dataset_fingerprint"]
    assert data["seeds"] == {"data_seed": 1, "model_seed": 0}


def test_diverging_clients_are_reported_per_client_not_averaged(tmp_path, capsys):
    s = run_cli(tmp_path, "nan", "--method", "fedavg", "--lr", "1e6", "--rounds", "2")
    clients = (tmp_path / "nan" / "clients.csv").read_text()
    assert s["errors"] and "diverged" in s["errors"][0]
    assert max(r["n_nonfinite"] for r in s["rounds"]) > 0
    assert "True" in clients  # the nonfinite column names the diverged clients
    assert "warning: round" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--data", "no_such_file.csv", "--method", "fedavg"], "no_such_file.csv"),
    (["--data", "mnist_5k", "--scenario", "rotation", "--method", "nope"], "unknown method"),
    (["--data", "mnist_5k", "--scenario", "rotation", "--method", "ifca", "--param", "k=2"],
     "unknown parameter"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, args, message):
    assert main(["run", *args, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x" / "summary.json").exists()


def start_run(tmp_path, out):
    """Start a run that stops after round 1 at an explicit barrier (a file it creates)."""
    barrier = tmp_path.parent / f"{tmp_path.name}.barrier"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1",
           "FEDLENS_TEST_BARRIER": str(barrier)}
    cmd = [sys.executable, "-m", "fedcore", "run", *SMALL[:-3], "--rounds", "4",
           "--method", "fedavg", "--out", str(out)]
    # Ctrl-C as at a terminal: a suite started in the background (no job control) inherits an
    # IGNORED SIGINT, which Python then never turns into KeyboardInterrupt.
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while not barrier.exists():
        assert proc.poll() is None, proc.stderr.read()[-500:]
        assert time.monotonic() < deadline, "the run never reached round 1"
        time.sleep(0.05)
    return proc


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_interrupted_run_leaves_no_complete_looking_result(tmp_path, sig):
    out = tmp_path / "run"
    proc = start_run(tmp_path, out)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "interrupted" in err
    assert not (out / "summary.json").exists() and not is_complete(out)


def test_hidden_zero_exits_2_with_one_line(tmp_path, capsys):
    args = ["run", "--data", "digits", "--scenario", "iid", "--method", "fedavg",
            "--hidden", "0", "--out", str(tmp_path / "x")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "--hidden '0'" in err and len(err.splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("damage", ["missing", "truncated", "garbage"])
@pytest.mark.parametrize("command", ["report", "explain"])
def test_report_and_explain_on_a_damaged_run_exit_2(tmp_path, capsys, damage, command):
    from test_store import save_fake

    run, _ = save_fake(tmp_path / "run")
    npz = run / "result.npz"
    if damage == "missing":
        npz.unlink()
    elif damage == "truncated":
        npz.write_bytes(npz.read_bytes()[: npz.stat().st_size // 2])
    else:
        npz.write_bytes(b"not an npz")
    assert main([command, str(run)]) == 2
    err = capsys.readouterr().err.strip()
    assert "result.npz" in err and len(err.splitlines()) == 1 and "Traceback" not in err
