"""How similar clients are: the geometry every strategy and the Clusters page share.

* Cosine similarities of update vectors (CFL: Sattler, Müller, Samek 2021; FedGroup: Duan et
  al. 2021), via :func:`sklearn.metrics.pairwise.cosine_similarity`.
* Example-weighted means of client vectors (FedAvg's ``sum_i n_i w_i / sum_i n_i``).
* Squared Euclidean distances and k-means++ D^2 seeding (Arthur & Vassilvitskii 2007) on a
  numpy ``Generator``, as FeSEM (Xie et al. 2023) seeds its centres.
* Principal data subspaces of clients and the principal angles between them (PACFL: Vahidian et
  al., AAAI 2023; Björck & Golub 1973): per-client bases from the raw training features, and
  the vectorised (N, N) proximity matrix in degrees that PACFL clusters and that the dashboard
  offers as the ``principal_angles`` representation.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics.pairwise import cosine_similarity

_EPS = 1e-12
_EIG_TOL = 1e-12


def cosine_similarity_matrix(rows: np.ndarray, others: np.ndarray | None = None) -> np.ndarray:
    """Cosine similarity of every row with every row of ``others`` (default: ``rows``).

    A zero row is similar to nothing (0).
    """
    a = np.asarray(rows, dtype=np.float64)
    b = None if others is None else np.asarray(others, dtype=np.float64)
    return np.clip(cosine_similarity(a, b), -1.0, 1.0)


def weighted_mean(rows: np.ndarray, num_examples: np.ndarray) -> np.ndarray:
    """``sum_i n_i row_i / sum_i n_i`` in float64."""
    n = np.asarray(num_examples, dtype=np.float64)
    return n @ np.asarray(rows, dtype=np.float64) / max(n.sum(), _EPS)


def squared_distances(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances (n_points, n_centres), in float64 and never negative."""
    p = np.asarray(points, dtype=np.float64)
    c = np.asarray(centres, dtype=np.float64)
    d2 = (p * p).sum(1)[:, None] + (c * c).sum(1)[None, :] - 2.0 * p @ c.T
    return np.maximum(d2, 0.0)


def kmeans_plus_plus(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Row indices of ``k`` seeds picked by k-means++ D^2 sampling (Arthur & Vassilvitskii 2007)."""
    n = len(points)
    chosen = [int(rng.integers(n))]
    for _ in range(1, min(k, n)):
        d2 = squared_distances(points, points[chosen]).min(1)
        total = d2.sum()
        if total <= 0:  # every point coincides with a seed: nothing left to separate
            remaining = np.setdiff1d(np.arange(n), chosen)
            chosen.append(int(rng.choice(remaining)))
            continue
        chosen.append(int(rng.choice(n, p=d2 / total)))
    return np.asarray(chosen, dtype=np.int64)



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


def proximity_matrix(bases: list[list[np.ndarray]], measure: str = "smallest") -> np.ndarray:
    """Symmetric (N, N) proximity in degrees of clients described by sets of class subspaces.

    ``smallest``: the smallest principal angle over all pairs of the two clients' blocks (the
    paper's smallest principal angle, between the closest pair of class subspaces).
    ``mean``: every block is matched to the other client's block of smallest mean principal
    angle; these means are averaged, symmetrically (a Chamfer distance between the two sets).
    With one block per client both reduce to the usual smallest / mean principal angle.

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


def class_matched_proximity(x_train: list[np.ndarray], y_train: list[np.ndarray],
                            n_basis: int = 3, measure: str = "smallest") -> np.ndarray:
    """(N, N) proximity in degrees comparing class ``c``'s subspace only with class ``c``'s.

    For every class two clients share, the principal angles between their class-``c``
    subspaces give one angle (the smallest, or the mean with ``measure="mean"``); the
    proximity is the mean over the shared classes (90 degrees when none is shared). Unlike
    :func:`proximity_matrix`, which takes the closest pair over ALL pairs of class subspaces,
    this keeps class identity, so a label swap (class 3 of one group looks like class 5 of
    the other) changes the proximity.
    """
    n = len(x_train)
    total, count = np.zeros((n, n)), np.zeros((n, n))
    classes = np.unique(np.concatenate([np.asarray(y) for y in y_train])) if n else []
    for c in classes:
        owners = [i for i in range(n) if (np.asarray(y_train[i]) == c).any()]
        if not owners:
            continue
        d = np.asarray(x_train[owners[0]]).shape[1]
        blocks = [client_basis(np.asarray(x_train[i])[np.asarray(y_train[i]) == c], None,
                               n_basis) for i in owners]
        bases = [b[0] if b else np.zeros((d, 0)) for b in blocks]
        p = max(1, max(b.shape[1] for b in bases))
        padded, rank = np.zeros((len(owners), p, d)), np.array([b.shape[1] for b in bases])
        for k, b in enumerate(bases):
            padded[k, :b.shape[1]] = b.T
        tiles = np.einsum("apd,bqd->abpq", padded, padded)
        cos = np.linalg.svd(tiles, compute_uv=False)  # (m, m, p), descending
        angles = np.arccos(np.clip(cos, -1.0, 1.0))
        r = np.minimum(rank[:, None], rank[None, :])
        valid = np.arange(p)[None, None, :] < r[..., None]
        if measure == "smallest":
            value = np.where(valid, angles, np.inf).min(-1)
        else:
            value = np.where(valid, angles, 0).sum(-1) / np.maximum(r, 1)
        value = np.where(r > 0, value, np.pi / 2)
        idx = np.ix_(owners, owners)
        total[idx] += np.degrees(value)
        count[idx] += 1
    out = np.where(count > 0, total / np.maximum(count, 1), 90.0)
    np.fill_diagonal(out, 0.0)
    return out
