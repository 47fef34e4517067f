"""Local-only training: every client keeps its own model and never communicates.

The lower baseline of personalised FL (see e.g. Ghosh et al., 2020, and Sattler et al., 2020,
who report it next to FedAvg): it measures what federation gains over no federation.
"""

from __future__ import annotations

import numpy as np

from .base import ServerState, Strategy


class LocalOnly(Strategy):
    """Client ``i`` is its own cluster ``i``; its model is its latest local model."""

    name = "local"
    color = "#E69F00"
    paper = "baseline (no federation)"
    param_schema: dict = {}

    def initialize(self, ctx) -> ServerState:
        n = ctx.dataset.n_clients
        return ServerState(models={i: ctx.initial_weights.copy() for i in range(n)},
                           assignments=np.arange(n, dtype=np.int64))

    def aggregate_fit(self, server_round, state, plan, fit_out, ctx) -> ServerState:
        for i, w, ok in zip(plan.clients, fit_out.weights, fit_out.finite):
            if ok:
                state.models[int(i)] = w.astype(np.float32, copy=True)
        return state
