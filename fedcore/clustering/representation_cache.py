"""Everything re-clustering needs, computed once per client representation.

The dashboard re-clusters on every slider move, so the expensive parts -- pairwise
distances over up to ~10^5-10^6 weight dimensions, linkage trees, spectral bases,
low-dimensional coordinates -- are computed once per :class:`Representation` and
memoised here; a slider move then costs one ``fcluster`` cut or one small k-means.

Choices (documented because they change numbers):

* **Scaling** (``scale="auto"``): descriptor-like representations with at most
  ``SMALL_D`` = 50 columns (data summaries, loss profiles) are z-scored, because their
  columns have mixed units; wider ones (weights, updates, last layer) are used as they
  are, because all columns share one unit and z-scoring would blow up near-constant
  weights, and because cosine similarity of raw updates is what CFL (Sattler et al.
  2020) clusters on.
* **Distances are exact**: euclidean and cosine distances come from the full-width Gram
  matrix (accumulated in float64 over column chunks, so a 1000 x 159,010 float32 matrix
  needs ~130 MB of extra memory, not a second copy).
* **Coordinates** (``coords``) are PCA scores obtained from the eigendecomposition of the
  centred Gram matrix (exact PCA, at most ``MAX_COMPONENTS`` = 50 components). For a
  distance-only representation (e.g. PACFL principal angles) they are classical
  (Torgerson) MDS coordinates of the given distances.
* **Features** used by k-means, t-SNE and UMAP: the scaled columns themselves when
  there are at most 50 of them, otherwise the <= 50 PCA scores.

Linkage trees follow scipy's ``linkage`` on condensed distances (Müllner 2011,
"Modern hierarchical, agglomerative clustering algorithms", arXiv:1109.2378).
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter

import numpy as np
from scipy.cluster.hierarchy import linkage as scipy_linkage
from scipy.spatial.distance import squareform

from fedcore.clustering.linalg import (
    classical_mds,
    gram_centred,
    limited_threads,
    spectral_basis_from_distance,
    top_eigen_coords,
)
from fedcore.errors import ConfigError, DataError
from fedcore.results import Representation

SMALL_D = 50
MAX_COMPONENTS = 50
#: scipy linkage methods offered everywhere (``weighted`` is WPGMA, PACFL's reference linkage).
LINKAGES = ("ward", "average", "complete", "single", "weighted")


def _clean_distance(distance: np.ndarray) -> np.ndarray:
    d = np.asarray(distance, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise DataError(f"precomputed distance must be square, got shape {d.shape}")
    if not np.all(np.isfinite(d)):
        raise DataError("precomputed distance contains NaN or infinite entries")
    d = np.maximum((d + d.T) / 2, 0.0)
    np.fill_diagonal(d, 0.0)
    return d


class RepresentationCache:
    """Memoised distances, linkages and coordinates of one :class:`Representation`.

    Parameters
    ----------
    representation : Representation
    scale : {"auto", "standard", "none"}
        See the module docstring.

    Attributes
    ----------
    n_clients : int
    metrics : tuple of str
        Distance metrics available: ``euclidean`` and ``cosine`` when vectors are known,
        ``precomputed`` when the representation carries a distance matrix.
    compute_counts : Counter
        How many times each expensive quantity was computed (for tests and benchmarks).
    embeddings : dict
        Embedding memo filled by :func:`fedcore.embeddings.embed`.
    """

    def __init__(self, representation: Representation, scale: str = "auto"):
        if representation.X is None and representation.distance is None:
            raise DataError(f"representation {representation.name!r} has neither vectors "
                            "nor a distance matrix")
        if scale not in ("auto", "standard", "none"):
            raise ConfigError(f"unknown scale {scale!r}; use auto, standard or none")
        # Only a weak reference to the Representation: get_cache() drops this cache when
        # the representation is garbage collected.
        self._representation_ref = weakref.ref(representation)
        self.name = representation.name
        self.description = representation.description
        self.compute_counts: Counter = Counter()
        self.embeddings: dict = {}
        self._memo: dict = {}
        self._lock = threading.RLock()
        self._X = None
        if representation.X is not None:
            X = np.asarray(representation.X)
            if X.ndim != 2:
                raise DataError(f"representation {self.name!r}: X must be 2-D, got {X.shape}")
            if not np.all(np.isfinite(X)):
                raise DataError(f"representation {self.name!r} has NaN or infinite values "
                                "(a client diverged?)")
            use_standard = scale == "standard" or (scale == "auto" and X.shape[1] <= SMALL_D)
            self.scale = "standard" if use_standard else "none"
            if use_standard:
                std = X.std(axis=0)
                std[std == 0] = 1.0
                X = (X - X.mean(axis=0)) / std
            self._X = X
            self.n_clients = X.shape[0]
        else:
            self.scale = "none"
            self.n_clients = representation.distance.shape[0]
        self._given = (None if representation.distance is None
                       else _clean_distance(representation.distance))
        if self._given is not None and self._given.shape[0] != self.n_clients:
            raise DataError(f"representation {self.name!r}: distance is "
                            f"{self._given.shape} but X has {self.n_clients} rows")
        metrics = ("euclidean", "cosine") if self._X is not None else ()
        self.metrics = metrics + (("precomputed",) if self._given is not None else ())

    @property
    def representation(self) -> Representation | None:
        """The representation this cache was built from (None once it was collected)."""
        return self._representation_ref()

    # -- memo helper -----------------------------------------------------------------
    def _get(self, key, compute):
        with self._lock:
            if key not in self._memo:
                self.compute_counts[key[0]] += 1
                with limited_threads():
                    self._memo[key] = compute()
            return self._memo[key]

    @property
    def has_vectors(self) -> bool:
        return self._X is not None

    def default_metric(self) -> str:
        return self.metrics[0]

    def resolve_metric(self, metric: str | None) -> str:
        """Map a requested metric onto an available one (distance-only -> precomputed)."""
        if metric in (None, "auto"):
            return self.default_metric()
        if metric in self.metrics:
            return metric
        if not self.has_vectors:
            return "precomputed"
        raise ConfigError(f"metric {metric!r} is not available for representation "
                          f"{self.name!r}; choose one of {list(self.metrics)}")

    # -- Gram-based quantities ------------------------------------------------------
    def gram(self):  # centred Gram matrix and X @ mean (memoised), shared with embeddings
        return self._get(("gram",), lambda: gram_centred(self._X))

    def distance(self, metric: str = "euclidean") -> np.ndarray:
        """Exact pairwise distance matrix (N, N) float64 for ``metric``; memoised."""
        metric = self.resolve_metric(metric)
        return self._get(("distance", metric), lambda: self._compute_distance(metric))

    def _compute_distance(self, metric: str) -> np.ndarray:
        if metric == "precomputed":
            return self._given
        gram, x_dot_mean = self.gram()
        if metric == "euclidean":
            sq = np.diag(gram)
            d2 = sq[:, None] + sq[None, :] - 2 * gram
            d = np.sqrt(np.maximum(d2, 0.0))
        else:
            # Uncentred Gram from the centred one, with x_dot_mean = X m and
            # ||m||^2 = mean_i(x_i . m):  X X^T = C C^T + (X m) 1^T + 1 (X m)^T - ||m||^2.
            mean_norm2 = float(np.mean(x_dot_mean))
            raw = gram + x_dot_mean[:, None] + x_dot_mean[None, :] - mean_norm2
            norms = np.sqrt(np.maximum(np.diag(raw), 0.0))
            norms[norms == 0] = 1.0
            d = 1.0 - raw / np.outer(norms, norms)
            d = np.clip(d, 0.0, 2.0)
        d = (d + d.T) / 2
        np.fill_diagonal(d, 0.0)
        return d

    @property
    def coords(self) -> np.ndarray:
        """PCA scores (vectors) or classical MDS coordinates (distance only), <= 50 columns."""
        return self._get(("coords",), self._compute_coords)[0]

    @property
    def coords_variance(self) -> np.ndarray:
        """Eigenvalues behind :attr:`coords` (variance explained per component x N)."""
        return self._get(("coords",), self._compute_coords)[1]

    def _compute_coords(self):
        if self.has_vectors:
            return top_eigen_coords(self.gram()[0], MAX_COMPONENTS)
        return classical_mds(self._given, MAX_COMPONENTS)

    @property
    def features(self) -> np.ndarray:
        """Vectors for k-means / t-SNE / UMAP: scaled columns if <= 50, else PCA scores."""
        if self.has_vectors and self._X.shape[1] <= SMALL_D:
            return np.asarray(self._X, dtype=np.float64)
        return self.coords

    @property
    def features_description(self) -> str:
        if self.has_vectors and self._X.shape[1] <= SMALL_D:
            scaled = "z-scored" if self.scale == "standard" else "raw"
            return f"{self._X.shape[1]} {scaled} columns (exact)"
        if self.has_vectors:
            return f"{self.coords.shape[1]} PCA components of {self._X.shape[1]} columns"
        return f"{self.coords.shape[1]} classical-MDS coordinates of the distance matrix"

    # -- trees and spectral bases ---------------------------------------------------
    def linkage(self, method: str = "average", metric: str = "euclidean") -> np.ndarray:
        """scipy linkage matrix (N-1, 4) for ``method`` on ``metric`` distances; memoised."""
        if method not in LINKAGES:
            raise ConfigError(f"unknown linkage {method!r}; choose one of {list(LINKAGES)}")
        metric = self.resolve_metric(metric)
        if method == "ward" and metric != "euclidean":
            raise ConfigError("ward linkage needs euclidean distances; choose average, "
                              f"complete or single linkage for metric {metric!r}")
        if self.n_clients < 2:
            raise DataError("hierarchical clustering needs at least 2 clients")

        def compute():
            condensed = squareform(self.distance(metric), checks=False)
            return scipy_linkage(condensed, method=method)

        return self._get(("linkage", method, metric), compute)

    def spectral_basis(self, metric: str, sigma_scale: float, n_vectors: int) -> np.ndarray:
        """Leading eigenvectors (N, n_vectors) of the normalised Gaussian affinity; memoised.

        The affinity is ``exp(-d^2 / (2 sigma^2))`` with ``sigma = sigma_scale x`` the
        median off-diagonal distance. Cached per (metric, sigma_scale); ``n_vectors``
        grows the cached basis when needed.
        """
        metric = self.resolve_metric(metric)
        key = ("spectral", metric, round(float(sigma_scale), 6))
        with self._lock:
            cached = self._memo.get(key)
            if cached is not None and cached.shape[1] >= n_vectors:
                return cached[:, :n_vectors]
            self.compute_counts["spectral"] += 1
            with limited_threads():
                basis = spectral_basis_from_distance(self.distance(metric), sigma_scale,
                                                     max(n_vectors, 10))
            self._memo[key] = basis
            return basis[:, :n_vectors]

# -- one cache per live Representation object ----------------------------------------------
_CACHES: dict[int, tuple[weakref.ref, RepresentationCache]] = {}
_CACHES_LOCK = threading.Lock()


def get_cache(representation: Representation | RepresentationCache) -> RepresentationCache:
    """Return the shared cache of ``representation``, building it on first use.

    The cache is tied to the object's identity and dropped when the representation is
    garbage collected; a :class:`RepresentationCache` is returned as is.
    """
    if isinstance(representation, RepresentationCache):
        return representation
    with _CACHES_LOCK:
        ident = id(representation)
        entry = _CACHES.get(ident)
        if entry is not None and entry[0]() is representation:
            return entry[1]
        cache = RepresentationCache(representation)
        forget = lambda _r, k=ident, memo=_CACHES: memo.pop(k, None)  # noqa: E731
        _CACHES[ident] = (weakref.ref(representation, forget), cache)
        return cache
