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
between every pair of class subspaces, see :func:`subspace_set_angle`.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from ..errors import DataError
from ..params import Param
from .base import ServerState, Strategy

_EIG_TOL = 1e-12


def client_basis(x: np.ndarray, y: np.ndarray | None, n_basis: int) -> list[np.ndarray]:
    """A client's principal data subspaces: one orthonormal (n_features, r<=p) block per class.

    Each block holds the top ``n_basis`` left singular vectors of a class's ``X_c^T`` (reference
    code); with ``y=None`` there is one block for the whole local set. Blocks are kept apart
    rather than re-orthonormalised together: near-duplicate directions of two classes would
    otherwise turn sampling noise into full basis vectors.
    """
    x = np.asarray(x, dtype=np.float64)
    groups = [x] if y is None else [x[np.asarray(y) == c] for c in np.unique(y)]
    blocks = [top_left_singular_vectors(xs.T, n_basis) for xs in groups if len(xs)]
    return [b for b in blocks if b.shape[1]]


def top_left_singular_vectors(a: np.ndarray, p: int) -> np.ndarray:
    """Orthonormal top-``p`` left singular vectors of ``a`` (d, n), numerically-zero ones dropped.

    Eigen-decomposes the smaller Gram matrix (``a^T a`` when n < d) instead of a full SVD:
    an order of magnitude faster for a few hundred samples of a few hundred features.
    """
    d, n = a.shape
    small_side = a.T @ a if n < d else a @ a.T
    w, v = np.linalg.eigh(small_side)
    order = np.argsort(w)[::-1][:p]
    w = w[order]
    # Eigenvalues are squared singular values: 1e-12 relative = 1e-6 relative singular value.
    keep = w > _EIG_TOL * max(w.max(initial=0.0), np.finfo(float).tiny)
    if n < d:
        u = a @ v[:, order[keep]] / np.sqrt(w[keep])
    else:
        u = v[:, order[keep]]
    if u.shape[1] == 0:
        return u
    q, _ = np.linalg.qr(u)  # removes the rounding of the Gram route; same span
    return q


def principal_angles(qa: np.ndarray, qb: np.ndarray) -> np.ndarray:
    """Principal angles (radians, ascending) between the spans of two orthonormal bases."""
    if qa.shape[1] == 0 or qb.shape[1] == 0:
        return np.array([np.pi / 2])
    cos = np.linalg.svd(qa.T @ qb, compute_uv=False)
    return np.arccos(np.clip(cos, -1.0, 1.0))


def subspace_set_angle(blocks_a: list[np.ndarray], blocks_b: list[np.ndarray],
                       measure: str = "smallest") -> float:
    """Proximity (radians) of two clients described by sets of class subspaces.

    ``smallest``: the smallest principal angle over all pairs of blocks, i.e. the paper's
    smallest principal angle, taken between the closest pair of class subspaces.
    ``mean``: every block is matched to the other client's block of smallest mean principal
    angle; these means are averaged, symmetrically (a Chamfer distance between the two sets).
    With one block per client both reduce to the usual smallest / mean principal angle.
    """
    if not blocks_a or not blocks_b:
        return float(np.pi / 2)
    # One product for all block pairs; each pair's cosines are the singular values of a tile.
    gram = np.hstack(blocks_a).T @ np.hstack(blocks_b)
    ea = np.cumsum([0] + [b.shape[1] for b in blocks_a])
    eb = np.cumsum([0] + [b.shape[1] for b in blocks_b])
    smallest = np.empty((len(blocks_a), len(blocks_b)))
    mean = np.empty_like(smallest)
    for i in range(len(blocks_a)):
        for j in range(len(blocks_b)):
            cos = np.linalg.svd(gram[ea[i]:ea[i + 1], eb[j]:eb[j + 1]], compute_uv=False)
            angles = np.arccos(np.clip(cos, -1.0, 1.0))
            smallest[i, j], mean[i, j] = angles.min(), angles.mean()
    if measure == "smallest":
        return float(smallest.min())
    return float((mean.min(1).mean() + mean.min(0).mean()) / 2)


def proximity_matrix(bases: list[list[np.ndarray]], measure: str = "smallest") -> np.ndarray:
    """Symmetric (N, N) matrix of :func:`subspace_set_angle` proximities in degrees.

    Vectorised: all class blocks are zero-padded to ``p`` columns and every client's tiles
    against all others go through one batched SVD. Padding only appends zero singular values,
    so the first ``min(r_a, r_b)`` singular values of a padded tile are the exact cosines.
    """
    n = len(bases)
    if n == 0:
        return np.zeros((0, 0))
    d = next((b.shape[0] for blocks in bases for b in blocks), 1)
    n_blocks = max(1, max(len(blocks) for blocks in bases))
    p = max(1, max((b.shape[1] for blocks in bases for b in blocks), default=1))
    padded = np.zeros((n, n_blocks, p, d))
    rank = np.zeros((n, n_blocks), dtype=np.int64)
    for i, blocks in enumerate(bases):
        for c, b in enumerate(blocks):
            padded[i, c, :b.shape[1]] = b.T
            rank[i, c] = b.shape[1]
    flat = padded.reshape(n * n_blocks * p, d)
    out = np.zeros((n, n))
    q = np.arange(p)
    for i in range(n - 1):
        tiles = (flat[i * n_blocks * p:(i + 1) * n_blocks * p] @ flat[(i + 1) * n_blocks * p:].T)
        tiles = tiles.reshape(n_blocks, p, n - 1 - i, n_blocks, p).transpose(2, 0, 3, 1, 4)
        cos = np.linalg.svd(tiles, compute_uv=False)  # (m, A, B, p), descending
        angles = np.arccos(np.clip(cos, -1.0, 1.0))
        k = np.minimum(rank[i][None, :, None], rank[i + 1:][:, None, :])  # (m, A, B)
        valid = q[None, None, None, :] < k[..., None]
        if measure == "smallest":
            row = np.where(valid, angles, np.inf).min(axis=(1, 2, 3))
        else:
            tile_mean = np.where(valid, angles, 0).sum(-1) / np.maximum(k, 1)
            tile_mean = np.where(k > 0, tile_mean, np.inf)
            a_ok, b_ok = rank[i] > 0, rank[i + 1:] > 0  # (A,), (m, B)
            best_a = np.where(a_ok[None, :], tile_mean.min(2), 0).sum(1) / max(a_ok.sum(), 1)
            best_b = np.where(b_ok, tile_mean.min(1), 0).sum(1) / np.maximum(b_ok.sum(1), 1)
            row = (best_a + best_b) / 2
            row[~b_ok.any(1) | ~a_ok.any()] = np.inf
        row = np.where(np.isfinite(row), row, np.pi / 2)
        out[i, i + 1:] = out[i + 1:, i] = np.degrees(row)
    return out


def principal_angle_matrix(x_train: list[np.ndarray], y_train: list[np.ndarray] | None = None,
                           n_basis: int = 3, measure: str = "smallest") -> np.ndarray:
    """PACFL's (N, N) proximity in degrees straight from per-client training features.

    With ``y_train`` the subspaces are per class (reference code), otherwise per client.
    Clients without samples are 90 degrees from everybody.
    """
    ys = [None] * len(x_train) if y_train is None else y_train
    bases = [client_basis(x, y, n_basis) if len(x) else [] for x, y in zip(x_train, ys)]
    return proximity_matrix(bases, measure)


def cluster_by_angles(angles: np.ndarray, threshold: float, n_clusters: int,
                      method: str) -> np.ndarray:
    """Hierarchical clustering of a precomputed angle matrix; labels numbered by first client."""
    n = len(angles)
    if n < 2:
        return np.zeros(n, dtype=np.int64)
    z = linkage(squareform(angles, checks=False), method=method)
    if n_clusters > 0:
        raw = fcluster(z, t=min(n_clusters, n), criterion="maxclust")
    else:
        raw = fcluster(z, t=threshold, criterion="distance")
    _, first, inverse = np.unique(raw, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))  # cluster ids in order of their first client
    return order[inverse].astype(np.int64)


class PACFL(Strategy):
    """One-shot principal-angle clustering, then FedAvg within each cluster."""

    name = "pacfl"
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
        state = ServerState(models={int(k): ctx.initial_weights.copy() for k in np.unique(labels)},
                            assignments=labels.copy())
        state.extra["principal_angles"] = angles
        state.extra["clusters"] = labels.copy()
        return state

    def aggregate_fit(self, server_round, state, plan, fit_out, ctx) -> ServerState:
        state = super().aggregate_fit(server_round, state, plan, fit_out, ctx)
        state.diagnostics = {"n_clusters": len(state.models)}
        if server_round == 1:
            state.diagnostics.update(principal_angles=state.extra["principal_angles"],
                                     clusters=state.extra["clusters"])
        return state
