"""Flower both ways: record a Flower run (in-process, no Ray) and open it in FedLens; run
FedLens strategies as Flower strategies and get the simulator's assignments."""

from __future__ import annotations

import numpy as np
import pytest

flwr = pytest.importorskip("flwr")  # CI installs it (requirements-interop.txt)

from app_support import APP, two_group_dataset  # noqa: E402
from flwr.client import NumPyClient  # noqa: E402
from flwr.server.strategy import FedAvg  # noqa: E402

from fedcore.interop import import_exchange  # noqa: E402
from fedcore.interop.flower import (  # noqa: E402
    EngineClient,
    FedLensStrategy,
    RecordingStrategy,
    run_in_process,
)

N = 6
GROUPS = {f"c{i}": int(i >= N // 2) for i in range(N)}


class LogisticClient(NumPyClient):
    """Plain NumPy logistic regression; group 1 has flipped labels (two obvious groups)."""

    def __init__(self, cid: str):
        rng = np.random.default_rng(int(cid[1:]))
        self.x = rng.normal(size=(80, 4))
        self.y = ((self.x[:, 0] > 0) ^ bool(GROUPS[cid])).astype(float)

    def _acc(self, w):
        return float((((self.x @ w) > 0) == self.y).mean())

    def fit(self, parameters, config):
        w = parameters[0].copy()
        for _ in range(5):
            p = 1 / (1 + np.exp(-self.x @ w))
            w -= 0.5 * self.x.T @ (p - self.y) / len(self.y)
        return [w], len(self.y), {"train_loss": 0.0}

    def evaluate(self, parameters, config):
        w = parameters[0]
        p = np.clip(1 / (1 + np.exp(-self.x @ w)), 1e-7, 1 - 1e-7)
        loss = float(-np.mean(self.y * np.log(p) + (1 - self.y) * np.log(1 - p)))
        return loss, len(self.y), {"accuracy": self._acc(w)}


def flower_fedavg_run(tmp_path):
    from flwr.common import ndarrays_to_parameters
    inner = FedAvg(min_fit_clients=N, min_available_clients=N, min_evaluate_clients=N,
                   initial_parameters=ndarrays_to_parameters([np.zeros(4)]))
    strategy = RecordingStrategy(inner, params={"lr": 0.5, "local_steps": 5})
    clients = {cid: LogisticClient(cid) for cid in GROUPS}
    history = run_in_process(clients, strategy, num_rounds=3)
    path = strategy.save(tmp_path / "flower.npz", true_groups=GROUPS)
    return strategy, clients, history, path


def test_recorded_flower_run_imports_with_its_own_numbers(tmp_path):
    strategy, clients, history, path = flower_fedavg_run(tmp_path)
    out, result, _ = import_exchange(path, tmp_path / "run")
    assert result.method == "flower-fedavg" and result.client_ids == list(GROUPS)
    assert (result.assignment_history == 0).all()  # FedAvg: one global model
    np.testing.assert_array_equal(result.true_groups, list(GROUPS.values()))
    assert list(result.client_metrics["n_train"]) == [80] * N
    assert len(result.rounds) == 3
    # the recorded losses are Flower's own evaluation: same weighted mean as its History
    flower_loss = [loss for _, loss in history.losses_distributed]
    np.testing.assert_allclose(result.rounds["mean_loss"], flower_loss, rtol=1e-9)
    # updates separate the flipped-label group: k-means on them recovers the true groups
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score
    X = result.representations["updates"].X
    labels = KMeans(2, n_init=10, random_state=0).fit(X).labels_
    assert adjusted_rand_score(list(GROUPS.values()), labels) == 1.0
    # weights - start = update, for the last round's global model
    assert result.representations["weights"].X.shape == (N, 4)


def test_recorded_flower_run_opens_in_the_dashboard(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("FEDLENS_RUNS", str(tmp_path))  # the Runs page stays inside its root
    _, _, _, path = flower_fedavg_run(tmp_path)
    out, result, _ = import_exchange(path, tmp_path / "runs" / "flower")
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/runs.py").run()
    at.text_input(key="w.runs.root").set_value(str(tmp_path / "runs")).run()
    at.selectbox(key="runs.pick").set_value("flower").run()
    at.button(key="runs.load").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.switch_page("pages/clusters.py").run()
    assert not at.exception
    # FedAvg's own assignment is one cluster (ARI 0); re-clustering its updates finds the groups.
    assert {m.label: m.value for m in at.metric}["ARI"] == "0.000"
    key = at.selectbox(key="cl.result").value
    at.radio(key=f"w.cl.{key}.view").set_value("what-if").run()
    assert {m.label: m.value for m in at.metric}["ARI"] == "1.000"
    at.switch_page("pages/performance.py").run()
    assert not at.exception
    row = at.dataframe[0].value.set_index("method").loc["flower-fedavg"]
    assert row["mean_accuracy"] == pytest.approx(result.mean_client_accuracy, abs=1e-4)


@pytest.mark.parametrize("method,params", [("ifca", {"n_clusters": 2}), ("cfl", {}),
                                           ("fedavg", {})])
def test_adapter_matches_fedlens_simulator(method, params):
    from fedcore.config import FitConfig, ModelSpec, SimulationConfig
    from fedcore.engine import VectorisedEngine
    from fedcore.runner import make_strategy
    from fedcore.simulation import run_simulation

    ds = two_group_dataset(n_clients=6, rows=60)
    config = SimulationConfig(rounds=4, model=ModelSpec(kind="logreg"), seed=3,
                              fit=FitConfig(local_epochs=2, lr=0.1, batch_size=16))
    engine = VectorisedEngine(ds, config.model, seed=config.seed)
    own = run_simulation(ds, make_strategy(method, params), config, engine=engine)

    adapter = FedLensStrategy(method, params, client_ids=ds.client_ids, dataset=ds,
                              engine=engine, config=config)
    recorder = RecordingStrategy(adapter)
    clients = {c: EngineClient(engine, i, config) for i, c in enumerate(ds.client_ids)}
    run_in_process(clients, recorder, num_rounds=config.rounds)

    np.testing.assert_array_equal(np.stack(adapter.history), own.assignment_history)
    ex = recorder.recorder().to_exchange()
    np.testing.assert_array_equal(ex.assignments, own.assignment_history)
    np.testing.assert_allclose(ex.accuracy[-1], own.client_metrics["accuracy"], atol=1e-6)
    for k, w in own.models.items():
        np.testing.assert_allclose(adapter.state.models[k], w, atol=1e-5)
