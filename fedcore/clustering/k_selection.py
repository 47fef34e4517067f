"""How many clusters: ONE estimator of K shared by every method that otherwise needs K given.

A method that needs K (``flhc``, ``kmeans``, ``ifca``, ``fesem``, ``fedgroup``) with
``estimate_k=True`` calls :class:`SilhouetteK` on its OWN representation of the clients (their
local updates or weights after the warm-up), never on true groups.

Rule
----
1. Candidate partitions for ``k = 2 .. max_clusters`` are cuts of one Ward tree (Ward 1963) on
   the rows; each is scored by the mean silhouette (Rousseeuw 1987, "Silhouettes: a graphical
   aid to the interpretation and validation of cluster analysis", J. Comput. Appl. Math. 20).
   The best-scoring ``k`` is the candidate.
2. K = 1 is a hypothesis the silhouette cannot score, so the candidate must beat a null model,
   as the gap statistic does (Tibshirani, Walther, Hastie 2001, "Estimating the number of
   clusters in a data set via the gap statistic", JRSS-B 63(2); reference data aligned with the
   principal components): ``n_null`` seeded data sets are drawn from ONE Gaussian with the
   data's own principal-component variances, and the candidate is kept only if its silhouette
   exceeds the null's best silhouettes by ``z`` standard deviations (mean + z * std) and the
   floor ``min_silhouette``. Otherwise K = 1.

Why this and not a fixed silhouette cut-off (Kaufman & Rousseeuw's "0.25 = no substantial
structure"): the silhouette of noise depends on the dimension and the number of points — one
2-D Gaussian blob cut in two scores about 0.35, the same blob in 100 dimensions about 0.05 —
and client updates live in thousands of dimensions with a few dozen clients. Calibrating
against a one-cluster null with the same spectrum makes the rule scale-free and
dimension-aware. Cost: ``n_null + 1`` Ward trees on an ``(n, n)`` problem (the rows are first
projected onto their own span, which keeps every Euclidean distance), milliseconds for 100
clients.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist, squareform
from sklearn.base import BaseEstimator

from ..params import Param
from .linkage import canonical_labels


def span_coordinates(X: np.ndarray) -> np.ndarray:
    """Rows of ``X`` centred and expressed in their own principal axes: (n, r<=n-1), exact
    Euclidean distances, whatever the number of columns (a 159k-parameter model included)."""
    X = np.asarray(X, dtype=np.float64)
    centred = X - X.mean(0)
    gram = centred @ centred.T
    w, v = np.linalg.eigh(gram)
    order = np.argsort(w)[::-1]
    w, v = w[order], v[:, order]
    keep = w > 1e-12 * max(float(w[0]) if len(w) else 0.0, np.finfo(float).tiny)
    return v[:, keep] * np.sqrt(w[keep])


def mean_silhouette(distance: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette (Rousseeuw 1987) from a square distance matrix, vectorised; a point
    alone in its cluster scores 0 (as in scikit-learn's ``silhouette_score``)."""
    _, lab = np.unique(labels, return_inverse=True)
    onehot = np.eye(lab.max() + 1)[lab]
    counts = onehot.sum(0)
    sums = distance @ onehot  # (n, K): total distance of each point to each cluster
    own = counts[lab]
    a = sums[np.arange(len(lab)), lab] / np.maximum(own - 1, 1)
    other = np.where(onehot.astype(bool), np.inf, sums / counts)
    b = other.min(1)
    s = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
    return float(s.mean())


def silhouettes_by_k(Y: np.ndarray, max_clusters: int) -> tuple[dict[int, float], dict]:
    """Mean silhouette of the Ward cut into ``k`` clusters, k = 2..min(max_clusters, n-1)."""
    n = len(Y)
    d = pdist(Y)
    Z = linkage(d, method="ward")
    square = squareform(d)
    scores, labels = {}, {}
    for k in range(2, min(int(max_clusters), n - 1) + 1):
        lab = fcluster(Z, t=k, criterion="maxclust")
        if len(np.unique(lab)) < 2:
            continue
        scores[k] = mean_silhouette(square, lab)
        labels[k] = canonical_labels(lab)
    return scores, labels


class SilhouetteK(BaseEstimator):
    """Estimate the number of clusters K (1..max_clusters) of the rows of ``X``.

    Parameters
    ----------
    max_clusters : int
        Largest K considered (capped at n-1).
    n_null : int
        Reference data sets drawn from the one-cluster Gaussian null.
    z : float
        The candidate's silhouette must exceed the null mean by ``z`` null standard deviations.
    min_silhouette : float
        Absolute floor for a K > 1.
    random_state : int
        Seed of the null draws (same data and seed, same K).

    Attributes
    ----------
    n_clusters_ : int
    labels_ : ndarray of int, shape (n,)
        The Ward partition into ``n_clusters_`` (all zeros when K = 1).
    scores_ : dict of int to float
        Silhouette per candidate k.
    null_threshold_ : float
        The silhouette the candidate had to exceed.
    """

    def __init__(self, max_clusters=10, n_null=20, z=2.0, min_silhouette=0.1, random_state=0):
        self.max_clusters = max_clusters
        self.n_null = n_null
        self.z = z
        self.min_silhouette = min_silhouette
        self.random_state = random_state

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=np.float64)
        n = len(X)
        self.n_clusters_, self.labels_ = 1, np.zeros(n, dtype=np.int64)
        self.scores_, self.null_threshold_ = {}, float("nan")
        if n < 3 or int(self.max_clusters) < 2 or not np.isfinite(X).all():
            return self
        Y = span_coordinates(X)
        if Y.shape[1] == 0:  # every row identical
            return self
        scores, labels = silhouettes_by_k(Y, self.max_clusters)
        if not scores:
            return self
        best = max(scores, key=lambda k: (scores[k], -k))
        self.scores_ = scores
        self.null_threshold_ = max(self._null_threshold(Y), float(self.min_silhouette))
        if scores[best] > self.null_threshold_:
            self.n_clusters_, self.labels_ = best, labels[best]
        return self

    def _null_threshold(self, Y: np.ndarray) -> float:
        """mean + z * std of the best silhouette on Gaussian data with Y's PC variances."""
        rng = np.random.default_rng(self.random_state)
        scale = Y.std(axis=0)  # Y's columns are uncorrelated principal axes
        best = []
        for _ in range(int(self.n_null)):
            ref = rng.normal(size=Y.shape) * scale
            scores, _ = silhouettes_by_k(ref, self.max_clusters)
            best.append(max(scores.values()) if scores else 0.0)
        best = np.asarray(best)
        return float(best.mean() + float(self.z) * best.std())


def estimate_n_clusters(X: np.ndarray, max_clusters: int = 10, seed: int = 0) -> SilhouetteK:
    """The fitted shared estimator (see :class:`SilhouetteK`) with the project's defaults."""
    return SilhouetteK(max_clusters=max_clusters, random_state=seed).fit(X)


#: The two parameters every method that needs K declares (names fixed for the grid's
#: ``--k estimated``); ``n_clusters`` is ignored while ``estimate_k`` is on.
K_ESTIMATION_PARAMS = {
    "estimate_k": Param(bool, False,
                        help="estimate K from the method's own client representation "
                             "(silhouette of Ward cuts vs a one-cluster null; n_clusters "
                             "ignored)"),
    "max_clusters": Param(int, 10, 2, 50, help="largest K considered when estimate_k is on"),
}
