"""IFCA: Iterative Federated Clustering Algorithm.

Ghosh, Chung, Yin, Ramchandran (2020). "An Efficient Framework for Clustered Federated
Learning". NeurIPS. The server keeps K models; every round each client evaluates all K on its
own training data, joins the one with the lowest loss, trains it locally, and the server averages
the local models of each cluster ("model averaging" variant of the paper, Algorithm 2).
"""

from __future__ import annotations

import numpy as np

from ..params import Param
from .base import FitPlan, ServerState, Strategy, sample_clients, with_assignments


class IFCA(Strategy):
    """K models with distinct seeded initialisations; clients pick the lowest-loss model."""

    name = "ifca"
    color = "#000000"
    paper = "Ghosh, Chung, Yin, Ramchandran, NeurIPS 2020"
    param_schema = {
        "n_clusters": Param(int, 4, 1, 50, help="number of cluster models K"),
    }

    def initialize(self, ctx) -> ServerState:
        k = int(self.params["n_clusters"])
        # Distinct random initialisations break the symmetry between the K models (the paper
        # initialises them randomly); model 0 is the run's shared initial model.
        models = {0: ctx.initial_weights.copy()}
        for j in range(1, k):
            models[j] = ctx.engine.initial_weights(seed=int(ctx.rng.integers(2**31 - 1)))
        return ServerState(models=models,
                           assignments=np.zeros(ctx.dataset.n_clients, dtype=np.int64))

    def configure_fit(self, server_round, state, ctx) -> FitPlan:
        clients = sample_clients(ctx)
        keys = np.array(sorted(state.models), dtype=np.int64)
        stacked = np.stack([state.models[int(k)] for k in keys])
        loss, _ = ctx.engine.evaluate_matrix(stacked, clients=clients, split="train")
        # A model whose loss is NaN (diverged) must never win the argmin.
        loss = np.where(np.isfinite(loss), loss, np.inf)
        choice = keys[np.argmin(loss, axis=0)]
        return FitPlan(clients=clients, start_keys=choice,
                       diagnostics={"loss_matrix": loss, "clients": clients})

    def aggregate_fit(self, server_round, state, plan, fit_out, ctx) -> ServerState:
        # Every participant joins the model it chose (and trained) this round.
        state = with_assignments(state, plan.clients, plan.start_keys)
        return super().aggregate_fit(server_round, state, plan, fit_out, ctx)
