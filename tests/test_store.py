"""The on-disk run store: lossless round-trip, atomic writes, listing."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fedcore import store
from fedcore.errors import ConfigError, DataError
from fedcore.results import Representation, SimulationResult


def fake_result(seed: int = 0, n_clients: int = 6, rounds: int = 3, method: str = "ifca"):
    """A small hand-built SimulationResult with every field populated."""
    rng = np.random.default_rng(seed)
    ids = [f"c{i:02d}" for i in range(n_clients)]
    truth = np.arange(n_clients) % 2
    history = rng.integers(0, 2, size=(rounds, n_clients))
    acc = rng.uniform(0.5, 1.0, n_clients)
    rounds_df = pd.DataFrame({
        "round": np.arange(1, rounds + 1), "mean_accuracy": rng.uniform(0, 1, rounds),
        "worst_accuracy": rng.uniform(0, 1, rounds), "mean_loss": rng.uniform(0, 2, rounds),
        "train_loss": rng.uniform(0, 2, rounds), "n_clusters": np.full(rounds, 2),
        "n_nonfinite": np.zeros(rounds, dtype=np.int64), "seconds": rng.uniform(0, 1, rounds)})
    clients_df = pd.DataFrame({
        "client": ids, "cluster": history[-1], "accuracy": acc,
        "loss": rng.uniform(0, 2, n_clients), "n_train": rng.integers(10, 50, n_clients),
        "n_test": rng.integers(3, 9, n_clients), "nonfinite": np.zeros(n_clients, dtype=bool),
        "true_group": truth})
    reps = {
        "weights": Representation("weights", X=rng.normal(size=(n_clients, 7)).astype(np.float32),
                                  description="final local weights"),
        "principal_angles": Representation("principal_angles",
                                           distance=rng.uniform(size=(n_clients, n_clients)),
                                           description="PACFL angles"),
    }
    diagnostics = [{"round": r, "loss_matrix": rng.normal(size=(2, n_clients)).astype(np.float32),
                    "norms": {0: 1.5, 1: float(r)}, "big": rng.normal(size=5000),
                    "note": "ok", "split": [1, 2]} for r in range(rounds)]
    return SimulationResult(
        method=method, params={"k": 2}, config={"rounds": rounds, "seed": seed},
        client_ids=ids, true_groups=truth, assignments=history[-1],
        assignment_history=history, rounds=rounds_df, client_metrics=clients_df,
        diagnostics=diagnostics, representations=reps,
        models={0: rng.normal(size=11).astype(np.float32),
                1: rng.normal(size=11).astype(np.float32)},
        model_spec={"kind": "mlp", "hidden": [4]}, dataset_fingerprint=f"fp{seed}",
        wall_seconds=1.25, errors=["client c03: non-finite update skipped"])


def fake_spec(seed: int = 0, method: str = "ifca", scenario: str = "rotation") -> dict:
    return {"data": "digits", "method": method, "scenario": scenario, "n_clients": 6,
            "n_groups": 2, "samples_per_client": 20, "data_seed": seed, "scenario_params": {},
            "method_params": {"n_clusters": 2}, "config": {"rounds": 3, "seed": seed}}


def fake_summary(result: SimulationResult, spec: dict) -> dict:
    acc = result.client_metrics["accuracy"].to_numpy()
    return {"method": result.method, "data": spec["data"], "scenario": spec["scenario"],
            "n_clients": result.n_clients, "ari": 0.5,
            "mean_client_accuracy": float(acc.mean()), "worst_client_accuracy": float(acc.min()),
            "n_clusters": int(len(np.unique(result.assignments))),
            "wall_seconds": result.wall_seconds, "spec": spec,
            "dataset_fingerprint": result.dataset_fingerprint,
            "seeds": {"data_seed": spec["data_seed"], "model_seed": spec["config"]["seed"]}}


def save_fake(path, seed=0, method="ifca", scenario="rotation"):
    res = fake_result(seed, method=method)
    spec = fake_spec(seed, method, scenario)
    return store.save_run(path, spec, fake_summary(res, spec), res), res


def assert_results_equal(a: SimulationResult, b: SimulationResult) -> None:
    for name in ("method", "params", "config", "client_ids", "model_spec",
                 "dataset_fingerprint", "wall_seconds", "errors"):
        assert getattr(a, name) == getattr(b, name), name
    for name in ("true_groups", "assignments", "assignment_history"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    pd.testing.assert_frame_equal(a.rounds, b.rounds)
    pd.testing.assert_frame_equal(a.client_metrics, b.client_metrics)
    assert a.representations.keys() == b.representations.keys()
    for key, rep in a.representations.items():
        other = b.representations[key]
        assert (rep.name, rep.description) == (other.name, other.description)
        for attr in ("X", "distance"):
            x, y = getattr(rep, attr), getattr(other, attr)
            assert (x is None) == (y is None)
            if x is not None:
                assert x.dtype == y.dtype
                np.testing.assert_array_equal(x, y)
    assert a.models.keys() == b.models.keys()
    for k in a.models:
        assert a.models[k].dtype == b.models[k].dtype
        np.testing.assert_array_equal(a.models[k], b.models[k])
    assert len(a.diagnostics) == len(b.diagnostics)
    for da, db in zip(a.diagnostics, b.diagnostics):
        assert da.keys() == db.keys()
        for key in da:
            if isinstance(da[key], np.ndarray):
                assert da[key].dtype == db[key].dtype
                np.testing.assert_array_equal(da[key], db[key])
            else:
                assert da[key] == db[key], key


def test_round_trip_is_lossless(tmp_path):
    out, res = save_fake(tmp_path / "run1")
    spec, summary, back = store.load_run(out)
    assert spec == fake_spec(0)
    assert summary["mean_client_accuracy"] == pytest.approx(res.mean_client_accuracy)
    assert_results_equal(res, back)
    assert back.diagnostics[2]["norms"] == {0: 1.5, 1: 2.0}  # int keys survive JSON


def test_layout_and_no_pickles(tmp_path):
    out, res = save_fake(tmp_path / "run1")
    names = {p.name for p in out.iterdir()}
    assert {"spec.json", "summary.json", "result.npz", "rounds.csv", "clients.csv",
            "diagnostics.json", "result.json"} <= names
    with np.load(out / "result.npz", allow_pickle=False) as npz:
        files = set(npz.files)
    assert {"assignments", "assignment_history", "true_groups", "rep__weights__X",
            "rep__principal_angles__distance", "model__0", "model__1"} <= files
    diag = json.loads((out / "diagnostics.json").read_text())
    assert diag[0]["big"] == {"$npz": "diag__0"}  # 5000 floats went to the npz
    assert isinstance(diag[0]["loss_matrix"], list)
    assert len(pd.read_csv(out / "clients.csv")) == res.n_clients


def test_overwrite_replaces_previous_run(tmp_path):
    save_fake(tmp_path / "run", seed=0)
    (tmp_path / "run" / "figures").mkdir()
    out, res = save_fake(tmp_path / "run", seed=1)
    _, _, back = store.load_run(out)
    assert back.dataset_fingerprint == "fp1"
    assert not (out / "figures").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no temp dirs left


def test_refuses_foreign_directory(tmp_path):
    (tmp_path / "thesis.tex").write_text("precious")
    with pytest.raises(ConfigError, match="not a FedLens run"):
        save_fake(tmp_path)
    assert (tmp_path / "thesis.tex").read_text() == "precious"


def test_interrupted_save_leaves_no_complete_run(tmp_path, monkeypatch):
    real = store.write_json

    def failing(path, obj):
        if path.name == "summary.json":
            raise KeyboardInterrupt  # as if Ctrl-C arrived just before the marker
        real(path, obj)

    monkeypatch.setattr(store, "write_json", failing)
    with pytest.raises(KeyboardInterrupt):
        save_fake(tmp_path / "run")
    assert not (tmp_path / "run").exists()
    assert list(tmp_path.iterdir()) == []
    assert store.list_runs(tmp_path).empty
    with pytest.raises(DataError, match="not a complete"):
        store.load_run(tmp_path / "run")


def test_interrupted_overwrite_keeps_previous_run(tmp_path, monkeypatch):
    save_fake(tmp_path / "run", seed=0)

    def failing(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", failing)
    with pytest.raises(OSError):
        save_fake(tmp_path / "run", seed=1)
    _, _, back = store.load_run(tmp_path / "run")
    assert back.dataset_fingerprint == "fp0"


def test_list_runs_finds_complete_runs_only(tmp_path, monkeypatch):
    save_fake(tmp_path / "a", seed=0, method="fedavg", scenario="iid")
    save_fake(tmp_path / "grid" / "cells" / "x", seed=1, method="ifca")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "spec.json").write_text("{}")
    (tmp_path / ".a.tmp-123").mkdir()
    (tmp_path / ".a.tmp-123" / "summary.json").write_text("{}")
    df = store.list_runs(tmp_path)
    assert list(df.columns) == store.LIST_COLUMNS
    assert sorted(df["run_id"]) == ["a", "grid/cells/x"]
    row = df.set_index("run_id").loc["a"]
    assert (row["method"], row["data"], row["scenario"]) == ("fedavg", "digits", "iid")
    monkeypatch.setenv("FEDLENS_RUNS", str(tmp_path))
    assert len(store.list_runs()) == 2
    assert store.list_runs(tmp_path / "missing").empty


def fake_run_spec(spec: dict):
    """Deterministic stand-in for the runner: (spec, summary, result) from the spec alone.

    Used as the grid/bundle backend ``"test_store:fake_run_spec"``; method ``"boom"`` fails.
    """
    if spec["method"] == "boom":
        raise RuntimeError("boom: this method always fails")
    from fedcore.grid.spec import spec_hash
    seed = int(spec_hash(spec), 16) % 2**32
    result = fake_result(seed, n_clients=spec["n_clients"], method=spec["method"])
    result.dataset_fingerprint = f"fp-{spec['data']}-{spec['scenario']}-{spec['data_seed']}"
    return spec, fake_summary(result, spec), result


def test_large_representations_can_be_left_out(tmp_path):
    result = fake_result()
    sizes = {n: sum(np.size(a) for a in (r.X, r.distance) if a is not None)
             for n, r in result.representations.items()}
    limit = sorted(sizes.values())[-1] - 1  # drops exactly the largest
    out = store.save_run(tmp_path / "run", {"method": "x"}, {"method": "x"}, result,
                   max_representation_floats=limit)
    _, _, loaded = store.load_run(out)
    kept = {n for n, s in sizes.items() if s <= limit}
    assert set(loaded.representations) == kept and len(kept) < len(sizes)
    meta = json.loads((out / "result.json").read_text())
    assert set(meta["dropped_representations"]) == set(sizes) - kept
