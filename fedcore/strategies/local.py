"""Local-only training: every client keeps its own model and never communicates.

The lower baseline of personalised FL, reported next to FedAvg by e.g. Ghosh, Chung, Yin,
Ramchandran (2020), "An Efficient Framework for Clustered Federated Learning", NeurIPS, and
Sattler, Müller, Samek (2021), "Clustered Federated Learning", IEEE TNNLS: it measures what
federation gains over no federation. No departure: there is nothing to aggregate.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .base import ServerState, Strategy


class LocalOnly(Strategy):
    """Client ``i`` is its own cluster ``i``; its model is its latest local model.

    No private state: the models and the assignments are all it remembers. A client whose
    local training diverged keeps its previous model.
    """

    name = "local"
    color = "#E69F00"
    paper = "baseline (no federation)"
    param_schema: dict = {}

    def initialize(self, ctx) -> ServerState:
        n = ctx.dataset.n_clients
        return ServerState(models={i: ctx.initial_weights.copy() for i in range(n)},
                           assignments=np.arange(n, dtype=np.int64))

    def aggregate_fit(self, server_round, state, plan, fit_out, ctx) -> ServerState:
        models = dict(state.models)
        for i, w, ok in zip(plan.clients, fit_out.weights, fit_out.finite):
            if ok:
                models[int(i)] = w.astype(np.float32, copy=True)
        return replace(state, models=models)
