"""Cutting linkage trees and keeping cluster ids stable between re-clusterings.

Cuts use scipy's ``fcluster`` (O(N) once the tree exists). Stable ids use the
Hungarian algorithm (Kuhn 1955, "The Hungarian method for the assignment problem")
on the contingency table between the new labels and the previous ones, so cluster
colours do not jump when a slider moves.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster
from scipy.optimize import linear_sum_assignment

from fedcore.errors import ConfigError


def canonical_labels(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 0..K-1 in order of first appearance; noise (-1) stays -1."""
    labels = np.asarray(labels).astype(np.int64)
    out = np.full(labels.shape, -1, dtype=np.int64)
    mapping: dict[int, int] = {}
    for i, lab in enumerate(labels):
        if lab < 0:
            continue
        if lab not in mapping:
            mapping[lab] = len(mapping)
        out[i] = mapping[lab]
    return out


def cut_linkage(Z: np.ndarray, n_clusters: int | None = None,
                distance_threshold: float | None = None) -> np.ndarray:
    """Flat clusters from a scipy linkage matrix, by number of clusters or by height.

    Parameters
    ----------
    Z : ndarray of shape (N-1, 4)
    n_clusters : int, optional
        Cut to at most this many clusters (scipy ``maxclust``).
    distance_threshold : float, optional
        Cut at this height (scipy ``distance``: merges above it are undone). Used when set.

    Returns
    -------
    labels : ndarray of int64, shape (N,), clusters numbered 0..K-1 by first appearance.
    """
    Z = np.asarray(Z, dtype=np.float64)
    if distance_threshold is not None:
        if not np.isfinite(distance_threshold) or distance_threshold < 0:
            raise ConfigError(f"distance_threshold must be >= 0, got {distance_threshold}")
        raw = fcluster(Z, t=float(distance_threshold), criterion="distance")
    elif n_clusters is not None:
        if int(n_clusters) < 1:
            raise ConfigError(f"n_clusters must be >= 1, got {n_clusters}")
        raw = fcluster(Z, t=int(n_clusters), criterion="maxclust")
    else:
        raise ConfigError("give n_clusters or distance_threshold to cut the tree")
    return canonical_labels(raw)


def cut_height_for(Z: np.ndarray, n_clusters: int) -> float:
    """Height of a horizontal line that cuts the tree into ``n_clusters`` clusters.

    Halfway between the last merge kept and the first merge undone; 0 for N clusters.
    """
    Z = np.asarray(Z, dtype=np.float64)
    n = Z.shape[0] + 1
    k = int(np.clip(n_clusters, 1, n))
    heights = np.sort(Z[:, 2])
    if k >= n:
        return float(heights[0] / 2) if heights.size else 0.0
    if k == 1:
        return float(heights[-1] * 1.05) if heights.size else 0.0
    lower, upper = heights[n - k - 1], heights[n - k]
    return float((lower + upper) / 2)


def label_alignment(labels: np.ndarray, reference: np.ndarray | None) -> np.ndarray:
    """Renumber ``labels`` so they agree as much as possible with ``reference``.

    Each new cluster is matched to at most one reference cluster maximising the number
    of shared clients (Hungarian algorithm); unmatched clusters get fresh ids above the
    largest reference id. Noise (-1) stays -1 in both.

    Parameters
    ----------
    labels, reference : ndarray of int, shape (N,)

    Returns
    -------
    ndarray of int64, shape (N,)
    """
    labels = np.asarray(labels).astype(np.int64)
    if reference is None:
        return canonical_labels(labels)
    reference = np.asarray(reference).astype(np.int64)
    if reference.shape != labels.shape:
        return canonical_labels(labels)
    new_ids = np.unique(labels[labels >= 0])
    ref_ids = np.unique(reference[reference >= 0])
    out = np.full(labels.shape, -1, dtype=np.int64)
    if new_ids.size == 0:
        return out
    mapping: dict[int, int] = {}
    if ref_ids.size:
        overlap = np.zeros((new_ids.size, ref_ids.size), dtype=np.int64)
        new_pos = np.searchsorted(new_ids, labels)
        ref_pos = np.searchsorted(ref_ids, reference)
        both = (labels >= 0) & (reference >= 0)
        np.add.at(overlap, (new_pos[both], ref_pos[both]), 1)
        rows, cols = linear_sum_assignment(-overlap)
        for r, c in zip(rows, cols):
            if overlap[r, c] > 0:
                mapping[int(new_ids[r])] = int(ref_ids[c])
    next_id = int(ref_ids.max()) + 1 if ref_ids.size else 0
    for lab in new_ids:
        if int(lab) not in mapping:
            mapping[int(lab)] = next_id
            next_id += 1
    for lab, target in mapping.items():
        out[labels == lab] = target
    return out
