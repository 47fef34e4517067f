"""The one-shot clustering template shared by ``flhc`` (:mod:`.flhc`) and ``kmeans``
(:mod:`.kmeans_oneshot`): FedAvg for ``warmup_rounds``, then the server clusters the clients
once on their local models (Briggs, Fan, Andras, IJCNN 2020, generalised) and runs independent
FedAvg inside each cluster. Not registered itself; each method file sets its defaults.

Any clusterer of :data:`fedcore.clustering.CLUSTERERS` and any representation
(``weights``, ``updates``, ``last_layer``) can be combined through the parameters.

``warmup_rounds = N`` means N full FedAvg rounds; in round N+1 every client trains from the
N-round global model and the server clusters those local models (N = 0: cluster the first
round's updates from the initial model). The same counting holds for FeSEM, CFL, IFCA and
FedGroup.

``estimate_k=True`` (named variant for comparisons without the true K) replaces
``n_clusters`` by :func:`fedcore.clustering.k_selection.estimate_n_clusters` on the same
client representation; the estimate is recorded as ``estimated_k`` in the diagnostics. A
density clusterer (DBSCAN/HDBSCAN) finds its own K and ignores it.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics.pairwise import euclidean_distances

from ..clustering import CLUSTERERS, canonical_labels
from ..clustering.estimators import LinkageClustering
from ..clustering.k_selection import K_ESTIMATION_PARAMS, estimate_n_clusters
from ..clustering.linalg import span_coordinates
from ..params import Param
from .base import FitPlan, ServerState, Strategy, weighted_average_by_key, with_assignments


def client_representation(kind: str, local: np.ndarray, start: np.ndarray,
                          last_layer: slice) -> np.ndarray:
    """Rows describing each client: its local ``weights``, its ``updates`` or its ``last_layer``."""
    if kind == "weights":
        return local
    if kind == "updates":
        return local - start
    if kind == "last_layer":
        return local[:, last_layer]
    raise ValueError(f"unknown representation {kind!r}")


def cut_height(X: np.ndarray, clusterer: str, relative_threshold: float,
               linkage: str) -> float:
    """The absolute threshold a relative one stands for.

    Agglomerative: a fraction of the tree's TOP merge height (1.0 = one cluster), the same
    height the Clusters page's ``distance_threshold`` cut shows in absolute units; this keeps
    one setting meaningful across update scales, which differ by orders of magnitude between
    models and learning rates. Otherwise (DBSCAN's ``eps``, a radius): a fraction of the
    largest pairwise Euclidean distance.
    """
    if clusterer == "agglomerative":
        tree = LinkageClustering(linkage=linkage, metric="euclidean", n_clusters=1).fit(X)
        top = float(tree.linkage_matrix_[-1, 2])
    else:
        top = float(euclidean_distances(X).max())
    return max(top * relative_threshold, 1e-12)


def cluster_rows(X: np.ndarray, clusterer: str, n_clusters: int, relative_threshold: float,
                 linkage: str, seed: int) -> tuple[np.ndarray, float]:
    """Cluster rows of ``X`` with an estimator of :data:`fedcore.clustering.CLUSTERERS`.

    Returns the labels (numbered by first client) and the absolute threshold used (see
    :func:`cut_height`). DBSCAN/HDBSCAN noise points (-1) become singleton clusters so that
    every client still gets a model.
    """
    X = np.asarray(X, dtype=np.float64)
    n = len(X)
    if n < 2:
        return np.zeros(n, dtype=np.int64), 0.0
    threshold = cut_height(X, clusterer, relative_threshold, linkage)
    k = max(min(n_clusters, n), 1)
    entry = CLUSTERERS[clusterer]
    # Translate the strategy's few settings into whichever the chosen estimator takes.
    offered = {"n_clusters": k, "cut": "n_clusters" if n_clusters > 0 else "distance_threshold",
               "distance_threshold": threshold, "eps": threshold, "linkage": linkage,
               "metric": "euclidean", "min_samples": 2, "min_cluster_size": 2, "n_init": 10,
               "seed": seed}
    est = entry.factory(**{name: offered[name] for name in entry.params if name in offered})
    if clusterer == "kmeans" and X.shape[1] > n:
        # Same clustering in <= n span coordinates (exact distances) instead of ~10^5
        # columns: ~1 s less per cell. sklearn's tolerance is per mean column variance, so it
        # is rescaled to keep the same absolute stopping threshold.
        Z = span_coordinates(X)
        est.set_params(tol=est.tol * Z.shape[1] / X.shape[1])
        X = Z
    labels = np.asarray(est.fit(X).labels_, dtype=np.int64)
    noise = labels < 0
    labels[noise] = labels.max() + 1 + np.arange(noise.sum())
    return canonical_labels(labels), threshold


class OneShotClustering(Strategy):
    """FedAvg for ``warmup_rounds``, cluster once on the local models, then per-cluster FedAvg."""

    name = "oneshot"
    paper = "Briggs et al., IJCNN 2020"
    param_schema = {
        "warmup_rounds": Param(int, 3, 0, 50,
                               help="full FedAvg rounds before the clustering round"),
        "clusterer": Param(str, "agglomerative", choices=tuple(CLUSTERERS),
                           help="clusterer of fedcore.clustering (as on the Clusters page)"),
        "representation": Param(str, "updates", choices=("updates", "weights", "last_layer"),
                                help="what describes a client"),
        "n_clusters": Param(int, 4, 0, 50,
                            help="number of clusters (0 = cut by the distance threshold)"),
        "distance_threshold": Param(float, 0.5, 0.01, 1.0,
                                    help="agglomerative: cut height as a fraction of the "
                                         "tree's top merge height (1 = one cluster); DBSCAN: "
                                         "eps as a fraction of the largest pairwise distance"),
        "linkage": Param(str, "ward", choices=("ward", "average", "complete", "single"),
                         help="agglomerative linkage"),
        **K_ESTIMATION_PARAMS,
    }

    def clustering_round(self, ctx) -> int:
        """The round whose local models are clustered: the first after ``warmup_rounds`` full
        FedAvg rounds (the last one if the run is shorter)."""
        return min(int(self.params["warmup_rounds"]) + 1, int(ctx.config.rounds))

    def configure_fit(self, server_round, state, ctx) -> FitPlan:
        if server_round != self.clustering_round(ctx):
            return super().configure_fit(server_round, state, ctx)
        # Everybody takes part in the clustering round, so every client gets a cluster.
        clients = np.arange(ctx.dataset.n_clients)
        return FitPlan(clients=clients, start_keys=state.assignments[clients].copy())

    def aggregate_fit(self, server_round, state, plan, fit_out, ctx) -> ServerState:
        if server_round != self.clustering_round(ctx):
            return super().aggregate_fit(server_round, state, plan, fit_out, ctx)
        start = np.stack([state.models[int(k)] for k in plan.start_keys])
        finite = fit_out.finite
        X = client_representation(self.params["representation"], fit_out.weights[finite],
                                  start[finite], ctx.engine.last_layer_slice())
        labels = np.zeros(len(plan.clients), dtype=np.int64)
        seed = int(ctx.rng.integers(2**31 - 1))
        n_clusters, estimated = int(self.params["n_clusters"]), None
        if self.params["estimate_k"]:
            n_clusters = estimated = estimate_n_clusters(
                X, self.params["max_clusters"], seed).n_clusters_
        labels[finite], threshold = cluster_rows(
            X, self.params["clusterer"], n_clusters, self.params["distance_threshold"],
            self.params["linkage"], seed)
        # A diverged client has no usable update; it joins cluster 0 and is reported per client.
        global_model = state.models[0]
        models = weighted_average_by_key(labels, fit_out.weights, fit_out.num_examples,
                                         finite, previous={})
        for key in np.unique(labels):
            models.setdefault(int(key), global_model.copy())
        return with_assignments(state, plan.clients, labels, models=models,
                                diagnostics={"clustered": True,
                                             "n_clusters": int(labels.max() + 1),
                                             "distance_threshold": threshold,
                                             "estimated_k": estimated})
