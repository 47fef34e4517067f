"""IFCA: Iterative Federated Clustering Algorithm.

Ghosh, Chung, Yin, Ramchandran (2020). "An Efficient Framework for Clustered Federated
Learning". NeurIPS (arXiv:2006.04088). The server keeps K models with distinct random
initialisations; every round each client evaluates all K on its own TRAINING data, joins the
one with the lowest loss, trains it locally, and the server averages the local models of each
cluster ("model averaging" variant, Algorithm 2) with a plain mean (``weighting="uniform"``,
default, as the paper); ``weighting="examples"`` (named variant) weights by sample counts.

Named variants
--------------
``n_init > 1``: random restarts of the initialisation. IFCA has known bad local minima (on
label-swap a whole random start can leave two groups sharing a model). ``n_init`` candidate
sets of K seeded models each run ``restart_rounds`` pilot IFCA rounds (every client) before
round 1; the candidate whose models end with the lowest TRAINING loss (mean over clients of
the loss under their best model, the quantity IFCA minimises) is kept, and the run starts from
its initial models. Scoring right at initialisation would favour a set in which one model
fits everybody, i.e. the collapse restarts are meant to avoid. Cost: ``n_init *
restart_rounds`` extra rounds of local training and ``K``-model evaluations, paid once.

``estimate_k=True``: ``warmup_rounds`` full FedAvg rounds with one model; in the next round
every client trains from the global model, K is estimated from those updates by
:func:`fedcore.clustering.k_selection.estimate_n_clusters` (recorded as ``estimated_k``),
and IFCA starts from K fresh seeded models exactly as with a given K. ``warmup_rounds`` is
ignored while K is given (the paper has no warm-up).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..clustering.k_selection import K_ESTIMATION_PARAMS, estimate_n_clusters
from ..params import Param
from .base import (
    FitPlan,
    ServerState,
    Strategy,
    sample_clients,
    weighted_average_by_key,
    with_assignments,
)


def train_loss_matrix(models: dict, clients: np.ndarray, ctx) -> tuple[np.ndarray, np.ndarray]:
    """(model keys, K x clients TRAIN loss matrix); a NaN loss (diverged) becomes +inf."""
    keys = np.array(sorted(models), dtype=np.int64)
    loss, _ = ctx.engine.evaluate_matrix(np.stack([models[int(k)] for k in keys]),
                                         clients=clients, split="train")
    return keys, np.where(np.isfinite(loss), loss, np.inf)


@dataclass(frozen=True)
class IFCAState:
    """IFCA's private memory: K once known (None while it is still to be estimated)."""

    n_clusters: int | None = None


class IFCA(Strategy):
    """K models with distinct seeded initialisations; clients pick the lowest-loss model."""

    name = "ifca"
    color = "#000000"
    paper = "Ghosh, Chung, Yin, Ramchandran, NeurIPS 2020"
    param_schema = {
        "n_clusters": Param(int, 4, 1, 50, help="number of cluster models K"),
        "n_init": Param(int, 1, 1, 50,
                        help="random restarts of the K initial models; the set with the "
                             "lowest training loss is kept (1 = paper)"),
        "restart_rounds": Param(int, 3, 1, 50,
                                help="pilot IFCA rounds that score each restart (n_init > 1)"),
        "weighting": Param(str, "uniform", choices=("uniform", "examples"),
                           help="cluster model = plain mean of its local models (paper) or "
                                "weighted by sample counts"),
        "warmup_rounds": Param(int, 1, 0, 100,
                               help="with estimate_k: full FedAvg rounds before K is "
                                    "estimated (ignored when K is given)"),
        **K_ESTIMATION_PARAMS,
    }

    def initialize(self, ctx) -> ServerState:
        n = ctx.dataset.n_clients
        if self.params["estimate_k"]:
            return ServerState(models={0: ctx.initial_weights.copy()},
                               assignments=np.zeros(n, dtype=np.int64), private=IFCAState())
        k = int(self.params["n_clusters"])
        return ServerState(models=self._initial_models(k, ctx),
                           assignments=np.zeros(n, dtype=np.int64), private=IFCAState(k))

    def _initial_models(self, k: int, ctx) -> dict:
        """K distinct seeded models (model 0 = the run's initial model); with ``n_init > 1``
        the candidate whose pilot rounds reach the lowest training loss."""
        candidates = []
        for attempt in range(int(self.params["n_init"])):
            # The paper initialises the K models randomly; distinct draws break the symmetry.
            models = {0: ctx.initial_weights.copy()} if attempt == 0 else {}
            for j in range(len(models), k):
                models[j] = ctx.engine.initial_weights(seed=int(ctx.rng.integers(2**31 - 1)))
            candidates.append(models)
        if len(candidates) == 1:
            return candidates[0]
        scores = [self._pilot_loss(models, ctx) for models in candidates]
        return candidates[int(np.argmin(scores))]

    def _pilot_loss(self, models: dict, ctx) -> float:
        """Mean best-model training loss after ``restart_rounds`` IFCA rounds from ``models``."""
        everybody = np.arange(ctx.dataset.n_clients)
        for r in range(int(self.params["restart_rounds"])):
            keys, loss = train_loss_matrix(models, everybody, ctx)
            choice = keys[np.argmin(loss, axis=0)]
            start = np.stack([models[int(c)] for c in choice])
            out = ctx.engine.fit(start, everybody, ctx.config.fit,
                                 int(np.random.default_rng([ctx.config.seed, 2**20, r])
                                     .integers(2**31 - 1)))
            models = self._average(choice, out, models)
        _, loss = train_loss_matrix(models, everybody, ctx)
        return float(np.mean(loss.min(axis=0)))

    def _average(self, keys, fit_out, previous) -> dict:
        n = (np.ones(len(keys)) if self.params["weighting"] == "uniform"
             else fit_out.num_examples)
        return weighted_average_by_key(keys, fit_out.weights, n, fit_out.finite, previous)

    def _measuring(self, server_round, state) -> bool:
        return state.private.n_clusters is None and server_round > self.params["warmup_rounds"]

    def configure_fit(self, server_round, state, ctx) -> FitPlan:
        if state.private.n_clusters is None:  # estimate_k: FedAvg, everybody in the K round
            clients = (np.arange(ctx.dataset.n_clients) if self._measuring(server_round, state)
                       else sample_clients(ctx))
            return FitPlan(clients=clients, start_keys=np.zeros(len(clients), dtype=np.int64))
        clients = sample_clients(ctx)
        keys, loss = train_loss_matrix(state.models, clients, ctx)
        choice = keys[np.argmin(loss, axis=0)]
        return FitPlan(clients=clients, start_keys=choice,
                       diagnostics={"loss_matrix": loss, "clients": clients})

    def aggregate_fit(self, server_round, state, plan, fit_out, ctx) -> ServerState:
        if state.private.n_clusters is None:  # estimate_k: FedAvg warm-up, then K
            if self._measuring(server_round, state) and fit_out.finite.any():
                return self._start_with_estimated_k(state, plan, fit_out, ctx)
            return super().aggregate_fit(server_round, state, plan, fit_out, ctx)
        # Every participant joins the model it chose (and trained) this round.
        state = with_assignments(state, plan.clients, plan.start_keys)
        return replace(state, models=self._average(plan.start_keys, fit_out, state.models))

    def _start_with_estimated_k(self, state, plan, fit_out, ctx) -> ServerState:
        ok = np.asarray(fit_out.finite, dtype=bool)
        updates = fit_out.weights[ok].astype(np.float64) - state.models[0]
        k = estimate_n_clusters(updates, self.params["max_clusters"],
                                int(ctx.rng.integers(2**31 - 1))).n_clusters_
        models = self._initial_models(k, ctx)
        everybody = np.arange(ctx.dataset.n_clients)
        keys, loss = train_loss_matrix(models, everybody, ctx)
        return ServerState(models=models, assignments=keys[np.argmin(loss, axis=0)],
                           private=IFCAState(k),
                           diagnostics={"estimated_k": k, "loss_matrix": loss,
                                        "clients": everybody})
