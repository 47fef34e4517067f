"""k-means one-shot clustering of the clients' local weights after FedAvg warm-up.

The one-shot baseline of the standard CFL comparisons (e.g. Ghosh, Chung, Yin, Ramchandran
(2020), "An Efficient Framework for Clustered Federated Learning", NeurIPS; Long et al. (2023),
"Multi-center federated learning", World Wide Web journal): after ``warmup_rounds`` of FedAvg
the server runs k-means (10 seeded k-means++ restarts) on the clients' local model weights and
then FedAvg inside each cluster.
"""

from __future__ import annotations

from .oneshot import OneShotClustering


class KMeansOneShot(OneShotClustering):
    """k-means on the clients' local weights after warm-up (standard CFL comparison)."""

    name = "kmeans"
    color = "#009E73"
    paper = "k-means one-shot baseline (e.g. Ghosh et al., NeurIPS 2020)"
    param_schema = {
        **OneShotClustering.param_schema,
        "clusterer": OneShotClustering.param_schema["clusterer"].with_(default="kmeans"),
        "representation": OneShotClustering.param_schema["representation"].with_(
            default="weights"),
    }
