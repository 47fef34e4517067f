"""The Flower bridge, both directions (the ONLY FedLens module importing ``flwr``).

* :class:`RecordingStrategy` wraps ANY Flower ``Strategy`` and records every round's client
  fit results (parameters -> flattened updates and weights, ``num_examples``, metrics), the
  clients' evaluation accuracy/loss and the cluster each client is in, into the FedLens
  exchange format (:mod:`fedcore.interop.exchange`). The cluster comes from, in order: the
  wrapped strategy's ``cluster_assignments()`` (dict client id -> cluster), a ``"cluster"``
  entry of the ``FitIns`` config the strategy sent the client, a ``"cluster"`` fit metric the
  client reported, else 0 (one global model).
* :class:`FedLensStrategy` exposes a FedLens strategy (``fedcore.strategies.STRATEGIES``) as a
  Flower ``Strategy``: its ``configure_fit``/``aggregate_fit`` hooks run unchanged on the
  server, and each client's ``FitIns``/``EvaluateIns`` carry the model of ITS cluster.
* :func:`run_in_process` runs Flower's own server loop (``flwr.server.Server``) over
  in-process clients, without Ray -- what the tests and quick experiments use; the strategies
  above work the same under ``flwr.simulation`` or a real deployment.

Flower 1.42 (``requirements-interop.txt``). Parameters travel as Flower ``Parameters``
(a list of arrays); FedLens works on one flat float32 vector per model: ``shapes`` says how to
cut it back into the clients' tensors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
from flwr.common import (
    DisconnectRes,
    EvaluateIns,
    FitIns,
    Parameters,
    ndarrays_to_parameters,
    parameters_to_ndarrays,
)
from flwr.server import Server
from flwr.server.client_manager import ClientManager, SimpleClientManager
from flwr.server.client_proxy import ClientProxy
from flwr.server.strategy import Strategy as FlowerStrategy

from .recorder import ExchangeRecorder


def flatten(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """A Flower parameter list -> one flat float32 vector (FedLens's layout)."""
    return np.concatenate([np.ravel(a).astype(np.float32) for a in arrays]) if arrays else \
        np.zeros(0, np.float32)


def unflatten(flat: np.ndarray, shapes: Sequence[tuple] | None) -> list[np.ndarray]:
    """One flat vector -> arrays of ``shapes`` (one flat array when ``shapes`` is None)."""
    flat = np.asarray(flat, dtype=np.float32)
    if shapes is None:
        return [flat]
    out, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(flat[start:start + size].reshape(shape))
        start += size
    if start != flat.size:
        raise ValueError(f"shapes hold {start} values but the model has {flat.size}")
    return out


# ---- direction (a): record any Flower strategy ---------------------------------------------

class RecordingStrategy(FlowerStrategy):
    """Wrap a Flower strategy; record each round for FedLens (:meth:`save`).

    Parameters
    ----------
    strategy : flwr.server.strategy.Strategy
        Any strategy; every hook is delegated unchanged.
    method : str, optional
        Name shown in FedLens (default: ``flower-<class name>``).
    params : dict, optional
        Free-form hyper-parameters to record.
    keep : {"last", "all"}
        Keep each client's latest vectors only, or every round's.
    accuracy_key : str
        Evaluation metric holding a client's accuracy (``EvaluateRes.metrics``).
    """

    def __init__(self, strategy: FlowerStrategy, method: str | None = None,
                 params: dict | None = None, keep: str = "last",
                 accuracy_key: str = "accuracy"):
        self.strategy = strategy
        self.method = method or f"flower-{type(strategy).__name__.lower()}"
        self.params = dict(params or {})
        self.keep, self.accuracy_key = keep, accuracy_key
        self.clients: list[str] = []
        self.rounds: dict[int, dict] = {}
        self._start: dict[str, np.ndarray] = {}
        self._sent_cluster: dict[str, int] = {}
        self._assign: dict[str, int] = {}
        self.num_examples: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"RecordingStrategy({self.strategy!r})"

    def _round(self, r: int) -> dict:
        return self.rounds.setdefault(r, {"updates": {}, "weights": {}, "accuracy": {},
                                          "loss": {}, "fit_accuracy": {}, "assign": {}})

    def _see(self, cid: str) -> None:
        if cid not in self._assign:
            self.clients.append(cid)
            self._assign[cid] = 0

    # -- delegated hooks, with recording --
    def initialize_parameters(self, client_manager: ClientManager):
        return self.strategy.initialize_parameters(client_manager)

    def configure_fit(self, server_round: int, parameters: Parameters,
                      client_manager: ClientManager):
        instructions = self.strategy.configure_fit(server_round, parameters, client_manager)
        for proxy, ins in instructions:
            cid = str(proxy.cid)
            self._see(cid)
            self._start[cid] = flatten(parameters_to_ndarrays(ins.parameters))
            if "cluster" in (ins.config or {}):
                self._sent_cluster[cid] = int(ins.config["cluster"])
        return instructions

    def aggregate_fit(self, server_round: int, results, failures):
        rec = self._round(server_round)
        reported = {}
        for proxy, res in results:
            cid = str(proxy.cid)
            self._see(cid)
            local = flatten(parameters_to_ndarrays(res.parameters))
            rec["weights"][cid] = local
            start = self._start.get(cid)
            if start is not None and start.shape == local.shape:
                rec["updates"][cid] = local - start
            self.num_examples[cid] = int(res.num_examples)
            metrics = res.metrics or {}
            if "cluster" in metrics:
                reported[cid] = int(metrics["cluster"])
            if self.accuracy_key in metrics:
                rec["fit_accuracy"][cid] = float(metrics[self.accuracy_key])
        out = self.strategy.aggregate_fit(server_round, results, failures)
        exposed = getattr(self.strategy, "cluster_assignments", None)
        if callable(exposed):
            self._assign.update({str(k): int(v) for k, v in exposed().items()})
        else:
            self._assign.update({c: k for c, k in self._sent_cluster.items()})
            self._assign.update(reported)
        for cid in self._assign:
            self._see(cid)
        rec["assign"] = dict(self._assign)
        return out

    def configure_evaluate(self, server_round: int, parameters: Parameters,
                           client_manager: ClientManager):
        return self.strategy.configure_evaluate(server_round, parameters, client_manager)

    def aggregate_evaluate(self, server_round: int, results, failures):
        rec = self._round(server_round)
        for proxy, res in results:
            cid = str(proxy.cid)
            self._see(cid)
            rec["loss"][cid] = float(res.loss)
            if self.accuracy_key in (res.metrics or {}):
                rec["accuracy"][cid] = float(res.metrics[self.accuracy_key])
        return self.strategy.aggregate_evaluate(server_round, results, failures)

    def evaluate(self, server_round: int, parameters: Parameters):
        return self.strategy.evaluate(server_round, parameters)

    # -- output --
    def recorder(self) -> ExchangeRecorder:
        """The recorded rounds as an :class:`ExchangeRecorder` (clients sorted by id,
        numbers numerically: Flower samples clients in random order).

        A client's accuracy in a round is its evaluation metric, else the one it reported
        with its fit result, else missing (NaN).
        """
        self.clients.sort(key=_natural)
        rec = ExchangeRecorder(self.clients, method=self.method, params=self.params,
                               framework="flower", keep=self.keep)
        last: dict[str, int] = {}
        for r in sorted(self.rounds):
            d = self.rounds[r]
            last.update(d["assign"])
            # a client first seen later belongs, before that, to its first known cluster
            first = {c: d["assign"].get(c, self._assign.get(c, 0)) for c in self.clients}
            assign = {c: last.get(c, first[c]) for c in self.clients}
            acc = {**d["fit_accuracy"], **d["accuracy"]}
            kwargs = {k: d[k] for k in ("updates", "weights") if d[k]}
            rec.record_round(assign, acc, loss=d["loss"], server_round=r, **kwargs)
        return rec

    def save(self, path, true_groups: Mapping[str, int] | None = None, **kwargs):
        """Write the exchange record (``.npz`` file or directory) for ``python -m fedcore
        import``; ``true_groups`` maps client id -> known group; other keyword arguments
        (``client_data``, ``data_options``, ``description``) go to
        :meth:`ExchangeRecorder.to_exchange`."""
        self.clients.sort(key=_natural)  # the recorder's order
        groups = None if true_groups is None else [int(true_groups[c]) for c in self.clients]
        examples = [self.num_examples.get(c, 0) for c in self.clients]
        return self.recorder().save(path, true_groups=groups, num_examples=examples, **kwargs)


def _natural(cid: str):
    """Sort key: ``c2`` before ``c10``; numeric node ids numerically."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", cid)]


# ---- in-process runs (no Ray) --------------------------------------------------------------

class InProcessClientProxy(ClientProxy):
    """A ``ClientProxy`` calling a Flower ``Client`` in this process."""

    def __init__(self, cid: str, client):
        super().__init__(cid)
        self.client = client.to_client() if hasattr(client, "to_client") else client

    def get_properties(self, ins, timeout, group_id):
        return self.client.get_properties(ins)

    def get_parameters(self, ins, timeout, group_id):
        return self.client.get_parameters(ins)

    def fit(self, ins, timeout, group_id):
        return self.client.fit(ins)

    def evaluate(self, ins, timeout, group_id):
        return self.client.evaluate(ins)

    def reconnect(self, ins, timeout, group_id):
        return DisconnectRes(reason="")


def run_in_process(clients: Mapping[str, object], strategy: FlowerStrategy, num_rounds: int):
    """Run Flower's server loop over in-process clients (``cid -> NumPyClient/Client``).

    Returns Flower's ``History``. Clients are registered in the mapping's order.
    """
    manager = SimpleClientManager()
    for cid, client in clients.items():
        manager.register(InProcessClientProxy(str(cid), client))
    server = Server(client_manager=manager, strategy=strategy)
    history, _elapsed = server.fit(num_rounds=num_rounds, timeout=None)
    return history


# ---- direction (b): FedLens strategies as Flower strategies --------------------------------

def _context(dataset, engine, config):
    """The FedLens SimulationContext the hooks expect (seeded exactly like the simulator).

    Thin on purpose: the only place that knows the current hook API, so the planned
    ``run_round``/engine-Protocol refactor changes this function, not the adapter.
    """
    from ..strategies.base import SimulationContext
    return SimulationContext(dataset=dataset, engine=engine, config=config,
                             rng=np.random.default_rng([config.seed, 7]),
                             initial_weights=engine.initial_weights())


class _FitResults:
    """FedLens's FitOutput built from Flower fit results (same fields as the engine's)."""

    def __init__(self, weights, num_examples, train_loss, finite):
        self.weights, self.num_examples = weights, num_examples
        self.train_loss, self.finite = train_loss, finite


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
        from ..runner import make_strategy
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
        self.state.diagnostics = {}
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
        out = _FitResults(weights, n, loss, finite)
        self.state = self.fedlens.aggregate_fit(server_round, self.state, plan, out, self.ctx)
        self.history.append(self.state.assignments.copy())
        self.diagnostics.append({"round": server_round, **self.state.diagnostics})
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

        from ..simulation import round_seed

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


__all__ = ["RecordingStrategy", "FedLensStrategy", "EngineClient", "run_in_process",
           "InProcessClientProxy", "flatten", "unflatten"]
