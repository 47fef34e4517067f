"""scikit-learn style clusterers that also work on precomputed distances.

* :class:`LinkageClustering` -- agglomerative clustering through scipy linkage trees
  (Müllner 2011, arXiv:1109.2378), cut by number of clusters or by height.
* :class:`SpectralDistanceClustering` -- normalised spectral clustering on a Gaussian
  affinity of a distance matrix (Ng, Jordan & Weiss 2002, "On spectral clustering:
  analysis and an algorithm"; von Luxburg 2007, "A tutorial on spectral clustering").

Hyper-parameters live in ``__init__``; ``fit(X)`` returns ``self`` and sets ``labels_``.
``metric="precomputed"`` means ``X`` is an (N, N) distance matrix.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import linkage as scipy_linkage
from scipy.spatial.distance import pdist, squareform
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.utils.validation import validate_data

from fedcore.clustering.linalg import (
    limited_threads,
    spectral_basis_from_distance,
)
from fedcore.clustering.linkage import canonical_labels, cut_linkage
from fedcore.errors import ConfigError


def _distance_matrix(estimator, X) -> np.ndarray:
    """Validate ``X`` as scikit-learn does (sets ``n_features_in_``) and return distances."""
    metric = estimator.metric
    if metric not in ("euclidean", "cosine", "precomputed"):
        raise ConfigError(f"unknown metric {metric!r}; use euclidean, cosine or precomputed")
    X = validate_data(estimator, X, dtype=np.float64, ensure_min_samples=2)
    if metric == "precomputed":
        if X.shape[0] != X.shape[1]:
            raise ValueError(f"a precomputed distance matrix must be square, got {X.shape}")
        return X
    return squareform(pdist(X, metric=metric))


class _DistanceClusterer(ClusterMixin, BaseEstimator):
    """Shared tags: with ``metric="precomputed"`` the input is a pairwise distance matrix."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.metric == "precomputed"
        return tags


def kmeans_on_rows(Y: np.ndarray, n_clusters: int, n_init: int, seed: int) -> np.ndarray:
    """k-means labels of the rows of ``Y`` with ``n_clusters`` capped at the row count."""
    k = int(max(1, min(n_clusters, Y.shape[0])))
    km = KMeans(n_clusters=k, n_init=int(n_init), random_state=int(seed))
    # One thread: on a busy machine OpenMP spin-waiting made a 50 ms fit take 1-3 s.
    with limited_threads():
        return canonical_labels(km.fit(Y).labels_)


def spectral_labels(basis: np.ndarray, n_clusters: int, n_init: int, seed: int) -> np.ndarray:
    """Ng-Jordan-Weiss step: row-normalise the leading eigenvectors, then k-means."""
    k = int(max(1, min(n_clusters, basis.shape[0])))
    rows = basis[:, :k]
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return kmeans_on_rows(rows / norms, k, n_init, seed)


class LinkageClustering(_DistanceClusterer):
    """Agglomerative clustering via a scipy linkage tree.

    Parameters
    ----------
    linkage : {"ward", "average", "complete", "single", "weighted"}
    metric : {"euclidean", "cosine", "precomputed"}
        ``ward`` requires euclidean distances.
    n_clusters : int or None
    distance_threshold : float or None
        When set, the tree is cut at this height and ``n_clusters`` is ignored.

    Attributes
    ----------
    labels_ : ndarray of int, shape (N,)
    linkage_matrix_ : ndarray of shape (N-1, 4)
    """

    def __init__(self, linkage="average", metric="euclidean", n_clusters=2,
                 distance_threshold=None):
        self.linkage = linkage
        self.metric = metric
        self.n_clusters = n_clusters
        self.distance_threshold = distance_threshold

    def fit(self, X, y=None):
        if self.linkage == "ward" and self.metric != "euclidean":
            raise ConfigError("ward linkage needs metric='euclidean'")
        d = _distance_matrix(self, X)
        self.linkage_matrix_ = scipy_linkage(squareform(d, checks=False), method=self.linkage)
        self.labels_ = cut_linkage(self.linkage_matrix_, self.n_clusters,
                                   self.distance_threshold)
        return self


class SpectralDistanceClustering(_DistanceClusterer):
    """Normalised spectral clustering on ``exp(-d^2 / (2 sigma^2))``.

    Parameters
    ----------
    n_clusters : int
    metric : {"euclidean", "cosine", "precomputed"}
    sigma_scale : float
        Kernel width as a multiple of the median pairwise distance.
    n_init : int
    random_state : int
    """

    def __init__(self, n_clusters=2, metric="euclidean", sigma_scale=1.0, n_init=10,
                 random_state=0):
        self.n_clusters = n_clusters
        self.metric = metric
        self.sigma_scale = sigma_scale
        self.n_init = n_init
        self.random_state = random_state

    def fit(self, X, y=None):
        d = _distance_matrix(self, X)
        basis = spectral_basis_from_distance(d, self.sigma_scale, int(self.n_clusters))
        self.labels_ = spectral_labels(basis, self.n_clusters, self.n_init, self.random_state)
        return self
