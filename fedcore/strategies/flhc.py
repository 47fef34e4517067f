"""FL+HC: federated learning with hierarchical clustering of local updates.

Briggs, Fan, Andras (2020). "Federated learning with hierarchical clustering of local updates
to improve training on non-IID data". IJCNN 2020 (arXiv:2004.11791). After ``warmup_rounds``
of FedAvg every client trains once more; the server clusters their local updates
agglomeratively (Ward linkage, Euclidean distance) and from then on runs independent FedAvg
inside each cluster. The paper cuts the tree at a distance threshold; here the default cuts
into ``n_clusters`` (set ``n_clusters=0`` for the paper's threshold cut). The threshold is a
fraction of the tree's TOP merge height (the paper gives an absolute Euclidean height, whose
scale depends on the model and learning rate): 1.0 always gives one cluster, 0.5 cuts every
merge above half the top one -- the same cut as the Clusters page's ``distance_threshold``
at ``0.5 x`` the top height, see :func:`.oneshot.cut_height`. With ``estimate_k=True``
(named variant) K comes from :mod:`fedcore.clustering.k_selection` on the same updates.
"""

from __future__ import annotations

from .oneshot import OneShotClustering


class FLHC(OneShotClustering):
    """FL+HC (Briggs et al., 2020): agglomerative clustering of local updates."""

    name = "flhc"
    color = "#CC79A7"
    paper = "Briggs, Fan, Andras, IJCNN 2020"
