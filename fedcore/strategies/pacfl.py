"""PACFL: one-shot clustering by principal angles between the clients' data subspaces.

Vahidian, Morafah, Wang, Kungurtsev, Chen, Shah, Lin (2023). "Efficient Distribution Similarity
Identification in Clustered Federated Learning via Principal Angles Between Client Data
Subspaces". AAAI 2023 (arXiv:2209.10526). Reference code: github.com/MMorafah/PACFL.

Before any training, every client sends a few principal vectors of its raw training data: the
top ``n_basis`` left singular vectors of ``X^T`` (features x samples), per class as in the
reference code or for the whole local set. The server computes the proximity matrix of
principal angles between these subspaces (in degrees) and clusters it hierarchically, cutting
the tree at ``threshold`` degrees (or into ``n_clusters`` clusters); then FedAvg runs inside
each cluster. No update or model is needed for the clustering.

``measure="smallest"`` is the paper's proximity (the smallest principal angle);
``measure="mean"`` averages all principal angles, which is less sensitive to one shared
direction (e.g. the mean image every class of a rotated digit set has in common). The reference
code approximates the smallest angle by the smallest ``arccos`` entry of ``U_i^T U_j`` (stacked
class bases); here exact principal angles are computed (singular values of ``U_a^T U_b``)
between every pair of class subspaces, see
:func:`fedcore.clustering.geometry.proximity_matrix`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..clustering.estimators import LinkageClustering
from ..clustering.geometry import principal_angle_matrix
from ..errors import DataError
from ..params import Param
from ..representations import principal_angles_representation
from .base import ServerState, Strategy


def cluster_by_angles(angles: np.ndarray, threshold: float, n_clusters: int,
                      method: str) -> np.ndarray:
    """Hierarchical clustering of the angle matrix, cut at ``threshold`` degrees (or into
    ``n_clusters``) by the project's one linkage cut, as on the Clusters page; labels numbered
    by first client."""
    if len(angles) < 2:
        return np.zeros(len(angles), dtype=np.int64)
    tree = LinkageClustering(linkage=method, metric="precomputed",
                             n_clusters=min(n_clusters, len(angles)) if n_clusters > 0 else None,
                             distance_threshold=None if n_clusters > 0 else threshold)
    return tree.fit(angles).labels_


@dataclass(frozen=True)
class PACFLState:
    """PACFL's private memory: the proximity matrix (degrees) and the one-shot clusters."""

    principal_angles: np.ndarray
    clusters: np.ndarray


class PACFL(Strategy):
    """One-shot principal-angle clustering, then FedAvg within each cluster."""

    name = "pacfl"
    color = "#56B4E9"
    paper = "Vahidian et al., AAAI 2023"
    param_schema = {
        "n_basis": Param(int, 3, 1, 50, help="p: principal vectors per class (or per client)"),
        "per_class": Param(str, "yes", choices=("yes", "no"),
                           help="one subspace per class (reference code) or per client"),
        "measure": Param(str, "smallest", choices=("smallest", "mean"),
                         help="proximity: smallest principal angle (paper) or mean angle"),
        "threshold": Param(float, 15.0, 0.0, 90.0,
                           help="beta: cut the dendrogram at this angle (degrees)"),
        "n_clusters": Param(int, 0, 0, 50,
                            help="number of clusters (0 = cut by the threshold)"),
        "linkage": Param(str, "average", choices=("average", "complete", "single", "weighted"),
                         help="hierarchical linkage (the reference's 'average' is 'weighted')"),
    }

    def __init__(self, **params):
        if isinstance(params.get("per_class"), bool):
            params["per_class"] = "yes" if params["per_class"] else "no"
        super().__init__(**params)

    def initialize(self, ctx) -> ServerState:
        ds = ctx.dataset
        for i in range(ds.n_clients):
            if len(ds.x_train[i]) == 0:
                raise DataError(f"pacfl: client {ds.client_ids[i]!r} has no training samples")
        per_class = self.params["per_class"] == "yes"
        angles = principal_angle_matrix(ds.x_train, ds.y_train if per_class else None,
                                        int(self.params["n_basis"]), self.params["measure"])
        labels = cluster_by_angles(angles, float(self.params["threshold"]),
                                   int(self.params["n_clusters"]), self.params["linkage"])
        return ServerState(models={int(k): ctx.initial_weights.copy() for k in np.unique(labels)},
                           assignments=labels.copy(),
                           private=PACFLState(principal_angles=angles, clusters=labels.copy()))

    def aggregate_fit(self, server_round, state, plan, fit_out, ctx) -> ServerState:
        state = super().aggregate_fit(server_round, state, plan, fit_out, ctx)
        diagnostics = {"n_clusters": len(state.models)}
        if server_round == 1:
            diagnostics.update(principal_angles=state.private.principal_angles,
                               clusters=state.private.clusters)
        return replace(state, diagnostics=diagnostics)

    def representations(self, state, ctx) -> dict:
        """The principal angles this run clustered on (its own basis size, classes, measure)."""
        return {"principal_angles": principal_angles_representation(
            state.private.principal_angles)}
