"""Shared helpers of the dashboard tests (tiny synthetic federated data, AppTest setup)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from fedcore.dataset import FederatedDataset

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
os.environ.setdefault("FEDLENS_UMAP_WARMUP", "0")  # UMAP's ~13 s JIT is not under test here
# Finished runs and the dataset choice are auto-saved under the runs root: never into the
# checkout or the user's data directory during tests.
if "FEDLENS_RUNS" not in os.environ:
    import tempfile
    os.environ["FEDLENS_RUNS"] = tempfile.mkdtemp(prefix="fedlens_test_runs_")


def two_group_table(n_clients: int = 6, rows: int = 40, seed: int = 0) -> pd.DataFrame:
    """Long table ``client, x1, x2, x3, label``: clients of group 1 have flipped labels and
    shifted features, so any sensible clustering finds the two groups."""
    rng = np.random.default_rng(seed)
    frames = []
    for c in range(n_clients):
        group = int(c >= n_clients // 2)
        x = rng.normal(size=(rows, 3))
        x[:, 2] += 3.0 * group
        y = ((x[:, 0] + x[:, 1] > 0) ^ bool(group)).astype(int)
        frames.append(pd.DataFrame({"client": f"site{c}", "x1": x[:, 0], "x2": x[:, 1],
                                    "x3": x[:, 2], "label": y}))
    return pd.concat(frames, ignore_index=True)


def two_group_dataset(n_clients: int = 6, rows: int = 40, seed: int = 0) -> FederatedDataset:
    """The same two groups as a ready FederatedDataset (true groups known)."""
    df = two_group_table(n_clients, rows, seed)
    xs_tr, ys_tr, xs_te, ys_te, ids = [], [], [], [], []
    for cid, part in df.groupby("client", sort=True):
        X = part[["x1", "x2", "x3"]].to_numpy(np.float32)
        y = part["label"].to_numpy(np.int64)
        cut = int(0.75 * len(y))
        ids.append(str(cid))
        xs_tr.append(X[:cut]), ys_tr.append(y[:cut]), xs_te.append(X[cut:]), ys_te.append(y[cut:])
    groups = np.array([int(i >= n_clients // 2) for i in range(n_clients)])
    return FederatedDataset(ids, xs_tr, ys_tr, xs_te, ys_te, ["x1", "x2", "x3"], ["no", "yes"],
                            (3,), true_groups=groups, name="two groups",
                            provenance={"source": "test"})


def install_dataset(at, ds: FederatedDataset) -> None:
    """Put ``ds`` into an AppTest session as the loaded dataset (before the first run)."""
    at.session_state["fl.dataset"] = ds
    at.session_state["fl.dataset_source"] = {"kind": "test"}
    at.session_state["fl.dataset_fingerprint"] = ds.fingerprint()


def simulated_session(ds: FederatedDataset, methods: list[str], rounds: int = 2,
                      model: str = "logreg", numbers: dict | None = None,
                      timeout: float = 120):
    """An AppTest session with ``ds`` loaded and ``methods`` run on the Simulate page.

    ``numbers`` sets further number inputs of the form by key (e.g. a method parameter).
    The caller checks the session for exceptions and errors.
    """
    from streamlit.testing.v1 import AppTest
    app = AppTest.from_file(APP, default_timeout=timeout)
    install_dataset(app, ds)
    app.run()
    app.switch_page("pages/simulate.py").run()
    app.number_input(key="w.sim.rounds").set_value(rounds)
    app.selectbox(key="w.sim.kind").set_value(model)
    app.multiselect(key="w.sim.methods").set_value(list(methods))
    for key, value in (numbers or {}).items():
        app.number_input(key=key).set_value(value)
    app.form_submit_button[0].click().run()
    return app


def chart_specs(at) -> list[dict]:
    """The plotly JSON specs of every chart on the current page."""
    import json
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def embedding_spec(at) -> dict:
    """The client-map figure (the scatter with one trace per cluster)."""
    for spec in chart_specs(at):
        if spec.get("layout", {}).get("meta", {}).get("name") == "embedding_scatter":
            return spec
    raise AssertionError("no embedding_scatter figure on the page")


def plotly_array(value) -> np.ndarray:
    """A plotly JSON array, plain list or base64 typed array (``{"dtype", "bdata"}``)."""
    import base64
    if isinstance(value, dict) and "bdata" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        return arr.reshape(value["shape"]) if "shape" in value and isinstance(
            value["shape"], list) else arr
    return np.asarray(value)


def trace_clusters(spec: dict) -> dict[str, int]:
    """Cluster name -> number of clients, read from the embedding figure's traces."""
    return {t["name"]: int(plotly_array(t["x"]).size) for t in spec["data"]
            if t.get("legendgroup") != "truth"}  # legend-only true-group symbol keys


def fake_result(n_clients: int = 12, rounds: int = 3, seed: int = 0, method: str = "ifca"):
    """A SimulationResult with two well-separated groups in its representations and
    assignments that change across rounds (no training needed)."""
    from fedcore.results import Representation, SimulationResult

    rng = np.random.default_rng(seed)
    groups = np.arange(n_clients) % 2
    centres = np.array([[0.0] * 8, [6.0] * 8])
    X = centres[groups] + rng.normal(scale=0.5, size=(n_clients, 8))
    history = np.stack([np.zeros(n_clients, int)] + [groups] * (rounds - 1))
    ids = [f"c{i:02d}" for i in range(n_clients)]
    acc = 0.6 + 0.3 * rng.random(n_clients)
    metrics = pd.DataFrame({"client": ids, "cluster": groups, "accuracy": acc,
                            "loss": 1 - acc, "n_train": 30, "n_test": 10, "nonfinite": False,
                            "true_group": groups})
    rounds_df = pd.DataFrame({"round": np.arange(1, rounds + 1),
                              "mean_accuracy": np.linspace(0.5, acc.mean(), rounds),
                              "worst_accuracy": np.linspace(0.3, acc.min(), rounds),
                              "mean_loss": 1.0, "train_loss": 1.0, "n_clusters": 2,
                              "n_nonfinite": 0, "seconds": 0.1})
    reps = {"updates": Representation("updates", X=X.astype(np.float32),
                                      description="synthetic updates"),
            "principal_angles": Representation(
                "principal_angles", distance=np.abs(np.subtract.outer(groups, groups)) * 40.0
                + rng.random((n_clients, n_clients)) * 0, description="synthetic angles")}
    return SimulationResult(method=method, params={}, config={}, client_ids=ids,
                            true_groups=groups, assignments=groups, assignment_history=history,
                            rounds=rounds_df, client_metrics=metrics, representations=reps,
                            dataset_fingerprint="fake")
