"""Direction (b): FedLens strategies as Flower strategies."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from flwr.common import (
    EvaluateIns,
    FitIns,
    Parameters,
    ndarrays_to_parameters,
    parameters_to_ndarrays,
)
from flwr.server.client_manager import ClientManager
from flwr.server.strategy import Strategy as FlowerStrategy

from ...engine.protocol import FitOutput
from ._arrays import flatten, unflatten


def _context(dataset, engine, config):
    """The FedLens SimulationContext the hooks expect (seeded exactly like the simulator)."""
    from ...strategies.base import SimulationContext
    return SimulationContext.create(dataset, engine, config)


class FedLensStrategy(FlowerStrategy):
    """A FedLens strategy (``fedcore.strategies``) driving a Flower federation.

    Parameters
    ----------
    method : str
        Registry name (``fedavg``, ``ifca``, ``cfl``, ...).
    params : dict, optional
        Its hyper-parameters (same as in the dashboard / ``--param``).
    client_ids : sequence of str
        The federation's client ids, in the order of ``dataset.client_ids`` (Flower ``cid``).
    dataset, engine :
        The server's view the FedLens hooks use: client count (and true groups for
        ``oracle``), initial weights, and for methods that score models on client data
        (IFCA/FeSEM losses, PACFL subspaces) the engine's ``evaluate_matrix`` and
        the dataset's arrays. Methods that use only fit results (fedavg, local, flhc,
        kmeans, cfl, fedgroup) need just ``n_clients`` and ``initial_weights``.
    config : SimulationConfig
        ``seed`` and ``fraction_fit`` (client sampling), as in the simulator.
    shapes : list of tuple, optional
        Tensor shapes of the clients' models (default: one flat array).
    """

    def __init__(self, method: str, params: dict | None = None, *, client_ids,
                 dataset, engine, config, shapes=None):
        from ...runner import make_strategy
        self.fedlens = make_strategy(method, dict(params or {}))
        self.client_ids = [str(c) for c in client_ids]
        self.shapes = shapes
        self.ctx = _context(dataset, engine, config)
        self.state = None
        self.plan = None
        self.history: list[np.ndarray] = []
        self.diagnostics: list[dict] = []

    def __repr__(self) -> str:
        return f"FedLensStrategy({self.fedlens.name})"

    def _params(self, key: int) -> Parameters:
        return ndarrays_to_parameters(unflatten(self.state.models[int(key)], self.shapes))

    def cluster_assignments(self) -> dict[str, int]:
        """Current cluster of every client (what :class:`RecordingStrategy` records)."""
        return {c: int(k) for c, k in zip(self.client_ids, self.state.assignments)}

    def initialize_parameters(self, client_manager: ClientManager):
        self.state = self.fedlens.initialize(self.ctx)
        return self._params(min(self.state.models))

    def _proxies(self, client_manager: ClientManager) -> dict:
        n = len(self.client_ids)
        client_manager.wait_for(n)
        proxies = client_manager.all()
        missing = [c for c in self.client_ids if c not in proxies]
        if missing:
            raise RuntimeError(f"clients {missing[:5]} are not connected")
        return proxies

    def configure_fit(self, server_round: int, parameters: Parameters,
                      client_manager: ClientManager):
        proxies = self._proxies(client_manager)
        self.state = replace(self.state, diagnostics={})  # as fedcore.rounds.begin_round
        self.plan = self.fedlens.configure_fit(server_round, self.state, self.ctx)
        return [(proxies[self.client_ids[int(i)]],
                 FitIns(self._params(k), {"server_round": server_round, "cluster": int(k)}))
                for i, k in zip(self.plan.clients, self.plan.start_keys)]

    def aggregate_fit(self, server_round: int, results, failures):
        plan = self.plan
        row = {self.client_ids[int(i)]: j for j, i in enumerate(plan.clients)}
        start = np.stack([self.state.models[int(k)] for k in plan.start_keys])
        weights = start.copy()
        n = np.array([self.ctx.dataset.train_sizes()[int(i)] for i in plan.clients]
                     if hasattr(self.ctx.dataset, "train_sizes") else np.ones(len(row)),
                     dtype=np.int64)
        loss = np.full(len(row), np.nan)
        finite = np.zeros(len(row), dtype=bool)  # no result = excluded, like a diverged client
        for proxy, res in results:
            j = row[str(proxy.cid)]
            weights[j] = flatten(parameters_to_ndarrays(res.parameters))
            n[j] = int(res.num_examples)
            metrics = res.metrics or {}
            loss[j] = float(metrics.get("train_loss", np.nan))
            finite[j] = bool(metrics.get("finite", True)) and np.isfinite(weights[j]).all()
        out = FitOutput(weights=weights, num_examples=n, train_loss=loss, finite=finite)
        self.state = self.fedlens.aggregate_fit(server_round, self.state, plan, out, self.ctx)
        self.history.append(self.state.assignments.copy())
        self.diagnostics.append({"round": server_round, **plan.diagnostics,
                                 **self.state.diagnostics})
        keys = np.unique(self.state.assignments)
        return self._params(keys[0]), {"n_clusters": int(len(keys))}

    def configure_evaluate(self, server_round: int, parameters: Parameters,
                           client_manager: ClientManager):
        proxies = self._proxies(client_manager)
        return [(proxies[c], EvaluateIns(self._params(k), {"server_round": server_round,
                                                            "cluster": int(k)}))
                for c, k in zip(self.client_ids, self.state.assignments)]

    def aggregate_evaluate(self, server_round: int, results, failures):
        if not results:
            return None, {}
        n = np.array([r.num_examples for _, r in results], dtype=np.float64)
        loss = np.array([r.loss for _, r in results], dtype=np.float64)
        acc = np.array([r.metrics.get("accuracy", np.nan) for _, r in results], dtype=float)
        return float(n @ loss / max(n.sum(), 1)), {"mean_accuracy": float(np.nanmean(acc))}

    def evaluate(self, server_round: int, parameters: Parameters):
        return None


class EngineClient:
    """A Flower ``NumPyClient`` training ONE FedLens client with the FedLens engine.

    The reference client of :class:`FedLensStrategy` tests: local training and evaluation
    are exactly the simulator's (same engine, same per-round seed), so a Flower run and a
    FedLens run of the same method agree.
    """

    def __init__(self, engine, index: int, config, shapes=None):
        from flwr.client import NumPyClient

        from ...rounds import round_seed

        outer = self

        class _Client(NumPyClient):
            def fit(self, parameters, cfg):
                return outer.fit(parameters, cfg)

            def evaluate(self, parameters, cfg):
                return outer.evaluate(parameters, cfg)

        self.engine, self.index, self.config, self.shapes = engine, int(index), config, shapes
        self._round_seed = round_seed
        self.numpy_client = _Client()

    def to_client(self):
        return self.numpy_client.to_client()

    def fit(self, parameters, cfg):
        start = flatten(parameters)[None, :]
        seed = self._round_seed(self.config.seed, int(cfg["server_round"]))
        out = self.engine.fit(start, np.array([self.index]), self.config.fit, seed)
        loss = float(out.train_loss[0])
        return (unflatten(out.weights[0], self.shapes), int(out.num_examples[0]),
                {"train_loss": loss, "finite": bool(out.finite[0])})

    def evaluate(self, parameters, cfg):
        w = flatten(parameters)[None, :]
        loss, acc = self.engine.evaluate_matrix(w, clients=np.array([self.index]), split="test")
        n = int(self.engine.dataset.test_sizes()[self.index])
        return float(loss[0, 0]), n, {"accuracy": float(acc[0, 0])}
