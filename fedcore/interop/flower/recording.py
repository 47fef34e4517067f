"""Direction (a): record any Flower strategy into the FedLens exchange format."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from flwr.common import (
    Parameters,
    parameters_to_ndarrays,
)
from flwr.server.client_manager import ClientManager
from flwr.server.strategy import Strategy as FlowerStrategy

from ..recorder import ExchangeRecorder
from ._arrays import flatten, natural_order


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
        self.clients.sort(key=natural_order)
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
        self.clients.sort(key=natural_order)  # the recorder's order
        groups = None if true_groups is None else [int(true_groups[c]) for c in self.clients]
        examples = [self.num_examples.get(c, 0) for c in self.clients]
        return self.recorder().save(path, true_groups=groups, num_examples=examples, **kwargs)
