"""One-shot server-side clustering after warm-up rounds of FedAvg.

* ``flhc`` — FL+HC: Briggs, Fan, Andras (2020), "Federated learning with hierarchical
  clustering of local updates to improve training on non-IID data", IJCNN. Agglomerative
  (Ward, Euclidean) clustering of the clients' local updates after ``warmup_rounds`` of FedAvg,
  then independent FedAvg inside each cluster.
* ``kmeans`` — k-means on the clients' local model weights, the one-shot baseline of the
  standard CFL comparisons (e.g. Ghosh et al., 2020; Long et al., 2023, "Multi-center federated
  learning", WWW journal).

Any scikit-learn clusterer from :data:`CLUSTERER_FACTORIES` and any representation
(``weights``, ``updates``, ``last_layer``) can be combined through the parameters.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import DBSCAN, HDBSCAN, AgglomerativeClustering, KMeans, SpectralClustering

from ..params import Param
from .base import FitPlan, ServerState, Strategy, sample_clients, weighted_average_by_key


def _agglomerative(n_clusters, threshold, linkage, seed):
    if n_clusters > 0:
        return AgglomerativeClustering(n_clusters=n_clusters, linkage=linkage)
    return AgglomerativeClustering(n_clusters=None, distance_threshold=threshold, linkage=linkage)


#: name -> factory(n_clusters, distance_threshold, linkage, seed) -> sklearn estimator.
CLUSTERER_FACTORIES = {
    "agglomerative": _agglomerative,
    "kmeans": lambda k, t, link, seed: KMeans(n_clusters=max(k, 1), n_init=10, random_state=seed),
    "spectral": lambda k, t, link, seed: SpectralClustering(
        n_clusters=max(k, 2), affinity="nearest_neighbors", random_state=seed),
    "dbscan": lambda k, t, link, seed: DBSCAN(eps=t, min_samples=2),
    "hdbscan": lambda k, t, link, seed: HDBSCAN(min_cluster_size=2),
}


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


def cluster_rows(X: np.ndarray, clusterer: str, n_clusters: int, relative_threshold: float,
                 linkage: str, seed: int) -> np.ndarray:
    """Cluster rows of ``X``; thresholds are relative to the largest pairwise distance.

    A relative threshold keeps one setting meaningful across models and learning rates,
    whose update scales differ by orders of magnitude. DBSCAN/HDBSCAN noise points (-1)
    become singleton clusters so that every client still gets a model.
    """
    X = np.asarray(X, dtype=np.float64)
    n = len(X)
    if n < 2:
        return np.zeros(n, dtype=np.int64)
    sq = np.einsum("ij,ij->i", X, X)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0)
    threshold = float(np.sqrt(d2.max())) * relative_threshold
    k = min(n_clusters, n)
    est = CLUSTERER_FACTORIES[clusterer](k, max(threshold, 1e-12), linkage, seed)
    labels = np.asarray(est.fit(X).labels_, dtype=np.int64)
    noise = labels < 0
    labels[noise] = labels.max() + 1 + np.arange(noise.sum())
    _, labels = np.unique(labels, return_inverse=True)
    return labels.astype(np.int64)


class OneShotClustering(Strategy):
    """FedAvg for ``warmup_rounds``, cluster once on the local models, then per-cluster FedAvg."""

    name = "oneshot"
    paper = "Briggs et al., IJCNN 2020"
    param_schema = {
        "warmup_rounds": Param(int, 3, 1, 50,
                               help="FedAvg rounds before the clients are clustered"),
        "clusterer": Param(str, "agglomerative", choices=tuple(CLUSTERER_FACTORIES),
                           help="scikit-learn clusterer"),
        "representation": Param(str, "updates", choices=("updates", "weights", "last_layer"),
                                help="what describes a client"),
        "n_clusters": Param(int, 4, 0, 50,
                            help="number of clusters (0 = cut by the distance threshold)"),
        "distance_threshold": Param(float, 0.5, 0.01, 1.0,
                                    help="cut height / DBSCAN eps, relative to the largest "
                                         "pairwise distance"),
        "linkage": Param(str, "ward", choices=("ward", "average", "complete", "single"),
                         help="agglomerative linkage"),
    }

    def clustering_round(self, ctx) -> int:
        """The round whose local models are clustered (the last one if the run is shorter)."""
        return min(int(self.params["warmup_rounds"]), int(ctx.config.rounds))

    def configure_fit(self, server_round, state, ctx) -> FitPlan:
        # Everybody takes part in the clustering round, so every client gets a cluster.
        if server_round == self.clustering_round(ctx):
            clients = np.arange(ctx.dataset.n_clients)
        else:
            clients = sample_clients(ctx)
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
        labels[finite] = cluster_rows(X, self.params["clusterer"], self.params["n_clusters"],
                                      self.params["distance_threshold"], self.params["linkage"],
                                      seed)
        # A diverged client has no usable update; it joins cluster 0 and is reported per client.
        state.assignments[plan.clients] = labels
        global_model = state.models[0]
        state.models = weighted_average_by_key(labels, fit_out.weights, fit_out.num_examples,
                                               finite, previous={})
        for key in np.unique(labels):
            state.models.setdefault(int(key), global_model.copy())
        state.diagnostics = {"clustered": True, "n_clusters": int(labels.max() + 1)}
        return state


class FLHC(OneShotClustering):
    """FL+HC (Briggs et al., 2020): agglomerative clustering of local updates."""

    name = "flhc"
    paper = "Briggs, Fan, Andras, IJCNN 2020"


class KMeansOneShot(OneShotClustering):
    """k-means on the clients' local weights after warm-up (standard CFL comparison)."""

    name = "kmeans"
    paper = "k-means one-shot baseline (e.g. Ghosh et al., NeurIPS 2020)"
    param_schema = {
        **OneShotClustering.param_schema,
        "clusterer": OneShotClustering.param_schema["clusterer"].with_(default="kmeans"),
        "representation": OneShotClustering.param_schema["representation"].with_(
            default="weights"),
    }
