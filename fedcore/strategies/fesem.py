"""FeSEM: federated stochastic expectation maximisation over K model centres.

Xie, Long, Zhou, Jiang, Wang, Zhang, Shen, Jiang (2021). "Multi-Center Federated Learning:
Clients Clustering for Better Personalization". World Wide Web journal 26 (2023); arXiv
2005.01026 (2020). The server keeps K centre models. Every round each client trains from its
centre; then the E-step assigns every participating client to the centre nearest (L2) to its
*local* weights, and the M-step sets each centre to the mean of its clients' local weights; a
centre nobody chose keeps its previous weights.

Initialisation: the paper, like FlexCFL's FeSEM (github.com/morningD/FlexCFL), starts from K
freshly initialised centre models (``init="fresh"``, default: K distinct seeded draws of the
model initialiser). Named variants start the centres from the clients' local models of the
seeding round: k-means run to convergence (``init="kmeans"``, 10 seeded restarts -- this makes
FeSEM "one-shot k-means plus EM refinement"), k-means++ seeds (``init="kmeans++"``) or K random
clients (``init="random_clients"``). ``warmup_rounds = N`` means N full FedAvg rounds; the
centres are seeded in round N+1, from whose local models the first E-step assigns clients.

Deviation, stated: clients restart from their centre every round (as FlexCFL does) instead of
keeping a personal model regularised towards the centre. From fresh centres a client's local
model is often nearest to one centre for everybody (the centres are far from the trained
global model); that collapse is the paper's behaviour, not a bug, and the k-means variants
avoid it.

``estimate_k=True`` (named variant): K is estimated by
:func:`fedcore.clustering.k_selection.estimate_n_clusters` from the seeding round's updates
(local model minus the global model), recorded as ``estimated_k``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from sklearn.cluster import KMeans

from ..clustering.geometry import kmeans_plus_plus, squared_distances
from ..clustering.k_selection import K_ESTIMATION_PARAMS, estimate_n_clusters
from ..params import Param
from .base import FitPlan, ServerState, Strategy, sample_clients, weighted_average_by_key


def e_step(local: np.ndarray, centres: dict[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centre of every local model: (keys (n,), distance matrix (n, K) in L2)."""
    keys = np.array(sorted(centres), dtype=np.int64)
    dist = np.sqrt(squared_distances(local, np.stack([centres[int(k)] for k in keys])))
    return keys[np.argmin(dist, axis=1)], dist


def m_step(keys: np.ndarray, local: np.ndarray, num_examples: np.ndarray,
           previous: dict[int, np.ndarray], weighting: str) -> dict[int, np.ndarray]:
    """Centre = (weighted) mean of its clients' local models; unchosen centres stay put."""
    n = np.ones(len(keys)) if weighting == "uniform" else np.asarray(num_examples)
    return weighted_average_by_key(keys, local, n, np.ones(len(keys), dtype=bool), previous)


@dataclass(frozen=True)
class FeSEMState:
    """FeSEM's private memory: the round whose local models seeded the centres."""

    seeded_round: int | None = None


class FeSEM(Strategy):
    """Multi-center FL: K centres, L2 E-step on local models, mean M-step."""

    name = "fesem"
    color = "#332288"
    paper = "Xie et al., Multi-Center Federated Learning, WWW journal 2023 (arXiv 2005.01026)"
    param_schema = {
        "n_clusters": Param(int, 4, 1, 50, help="number of centre models K"),
        "warmup_rounds": Param(int, 1, 0, 100,
                               help="FedAvg rounds before the centres are seeded"),
        "init": Param(str, "fresh", choices=("fresh", "kmeans", "kmeans++", "random_clients"),
                      help="fresh: K freshly initialised centre models (paper, FlexCFL); "
                           "variants from the first local models: k-means (EM run to "
                           "convergence), k-means++ seeds, K random clients"),
        "weighting": Param(str, "uniform", choices=("uniform", "examples"),
                           help="M-step mean: plain (as the paper) or by client sample counts"),
        **K_ESTIMATION_PARAMS,
    }

    def initialize(self, ctx) -> ServerState:
        return replace(super().initialize(ctx), private=FeSEMState())

    def _seed_round(self) -> int:
        return int(self.params["warmup_rounds"]) + 1

    def _seeding(self, server_round, state) -> bool:
        """Whether this round seeds the centres (retried if every client diverged)."""
        return server_round >= self._seed_round() and state.private.seeded_round is None

    def configure_fit(self, server_round, state, ctx) -> FitPlan:
        # Every client takes part in the seeding round, so every client gets a centre.
        if self._seeding(server_round, state):
            clients = np.arange(ctx.dataset.n_clients)
        else:
            clients = sample_clients(ctx)
        return FitPlan(clients=clients, start_keys=state.assignments[clients].copy())

    def aggregate_fit(self, server_round, state, plan, fit_out, ctx) -> ServerState:
        if server_round < self._seed_round():
            state = super().aggregate_fit(server_round, state, plan, fit_out, ctx)
            return replace(state, diagnostics={"phase": "warmup"})
        ok = np.asarray(fit_out.finite, dtype=bool)
        clients = np.asarray(plan.clients)[ok]
        local = fit_out.weights[ok]
        n_ex = np.asarray(fit_out.num_examples)[ok]
        if len(clients) == 0:
            return replace(state, diagnostics={"phase": "em", "clients": clients})
        centres, private = state.models, state.private
        seeded = None
        seeding = self._seeding(server_round, state)
        estimated = None
        if seeding:
            k = int(self.params["n_clusters"])
            if self.params["estimate_k"]:
                start = np.stack([state.models[int(j)] for j in plan.start_keys])[ok]
                k = estimated = estimate_n_clusters(
                    local - start, self.params["max_clusters"],
                    int(ctx.rng.integers(2**31 - 1))).n_clusters_
            seeded, centres = self._seed(local, k, ctx)
            private = FeSEMState(seeded_round=server_round)
        keys, dist = e_step(local, centres)
        models = m_step(keys, local, n_ex, centres, self.params["weighting"])
        assignments = state.assignments.copy()
        assignments[clients] = keys
        if seeding:
            # Clients whose training diverged in the seeding round still need a valid centre.
            stale = ~np.isin(assignments, list(models))
            assignments[stale] = min(models)
        diag = {"phase": "em", "clients": clients, "distance": dist,
                "centre_keys": np.array(sorted(centres)),
                "seed_clients": None if seeded is None else clients[seeded],
                "n_clusters": int(len(np.unique(keys))), "estimated_k": estimated}
        return replace(state, models=models, assignments=assignments, private=private,
                       diagnostics=diag)

    def _seed(self, local: np.ndarray, k: int, ctx):
        """Initial centres: (seed rows or None, centres dict)."""
        rng = ctx.rng
        init = self.params["init"]
        if init == "fresh":
            return None, {j: ctx.engine.initial_weights(seed=int(rng.integers(2**31 - 1)))
                          for j in range(k)}
        k = min(k, len(local))
        if init == "kmeans":
            # Full EM (Lloyd) on the seeding round's models: FeSEM's objective run to a fixed
            # point once, several seeded restarts; later rounds take one E and one M step.
            est = KMeans(n_clusters=k, n_init=10, random_state=int(rng.integers(2**31 - 1)))
            est.fit(np.asarray(local, dtype=np.float64))
            return None, {j: c.astype(np.float32) for j, c in enumerate(est.cluster_centers_)}
        if init == "random_clients":
            rows = np.sort(rng.choice(len(local), size=k, replace=False))
        else:
            rows = kmeans_plus_plus(np.asarray(local, dtype=np.float64), k, rng)
        return rows, {j: local[i].astype(np.float32).copy() for j, i in enumerate(rows)}
