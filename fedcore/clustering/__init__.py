"""Re-clustering clients from cached representations, without retraining.

``CLUSTERERS`` maps a name to a :class:`ClustererEntry`: an sklearn-style estimator
factory, the parameter schema the UI turns into sliders, whether the method works on a
precomputed distance, and a fast path that reuses a :class:`RepresentationCache` so a
slider move costs one tree cut or one small k-means.

Algorithms: agglomerative (Müllner 2011, arXiv:1109.2378), k-means (Lloyd 1982; Arthur
& Vassilvitskii 2007), spectral (Ng, Jordan & Weiss 2002), DBSCAN (Ester et al. 1996),
HDBSCAN (Campello, Moulavi & Sander 2013).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import DBSCAN, HDBSCAN, KMeans

from fedcore.clustering.estimators import (
    LinkageClustering,
    SpectralDistanceClustering,
    kmeans_on_rows,
    spectral_labels,
)
from fedcore.clustering.linalg import limited_threads
from fedcore.clustering.linkage import (
    canonical_labels,
    cut_height_for,
    cut_linkage,
    label_alignment,
)
from fedcore.clustering.representation_cache import LINKAGES, RepresentationCache, get_cache
from fedcore.errors import ConfigError
from fedcore.params import Param, defaults, validate
from fedcore.results import Representation

__all__ = [
    "CLUSTERERS", "ClustererEntry", "RepresentationCache", "get_cache", "recluster",
    "label_alignment", "cut_linkage", "cut_height_for", "schema_for",
    "validate_params", "canonical_labels", "LinkageClustering",
    "SpectralDistanceClustering",
]

METRICS = ("euclidean", "cosine", "precomputed")


_N_CLUSTERS = Param(int, 3, 1, 50, help="Number of clusters.", step=1)
_SEED = Param(int, 0, 0, 2**31 - 1, help="Random seed (k-means initialisation).", step=1)
_METRIC = Param(str, "euclidean", choices=METRICS,
                help="Distance between client vectors; 'precomputed' uses the "
                     "representation's own distance matrix (e.g. principal angles).")


@dataclass(frozen=True)
class ClustererEntry:
    """One re-clustering method.

    Attributes
    ----------
    name, label, description : str
    factory : callable
        ``factory(**params) -> estimator`` with ``fit(X) -> self`` and ``labels_``; for
        ``metric="precomputed"`` X is a distance matrix.
    params : dict of str to Param
        The method's parameters (:mod:`fedcore.params`).
    supports_precomputed : bool
    fit_cached : callable
        ``fit_cached(cache, params) -> labels`` reusing the cache's distances and trees.
    """

    name: str
    label: str
    factory: Callable
    params: dict
    supports_precomputed: bool
    fit_cached: Callable
    description: str = ""

    def defaults(self) -> dict:
        return defaults(self.params)


# -- fast paths -----------------------------------------------------------------------
def _agglomerative_cached(cache: RepresentationCache, p: dict) -> np.ndarray:
    metric = cache.resolve_metric(p["metric"])
    Z = cache.linkage(p["linkage"], metric)
    if p["cut"] == "distance_threshold":
        return cut_linkage(Z, distance_threshold=p["distance_threshold"])
    return cut_linkage(Z, n_clusters=p["n_clusters"])


def _kmeans_cached(cache: RepresentationCache, p: dict) -> np.ndarray:
    return kmeans_on_rows(cache.features, p["n_clusters"], p["n_init"], p["seed"])


def _spectral_cached(cache: RepresentationCache, p: dict) -> np.ndarray:
    if cache.n_clients < 2:
        return np.zeros(cache.n_clients, dtype=np.int64)
    basis = cache.spectral_basis(p["metric"], p["sigma_scale"], p["n_clusters"])
    return spectral_labels(basis, p["n_clusters"], p["n_init"], p["seed"])


def _dbscan_cached(cache: RepresentationCache, p: dict) -> np.ndarray:
    d = cache.distance(p["metric"])
    model = DBSCAN(eps=p["eps"], min_samples=p["min_samples"], metric="precomputed")
    with limited_threads():
        return canonical_labels(model.fit(d).labels_)


def _hdbscan_cached(cache: RepresentationCache, p: dict) -> np.ndarray:
    if cache.n_clients < 3:
        return np.full(cache.n_clients, -1, dtype=np.int64)
    d = cache.distance(p["metric"])
    size = int(min(p["min_cluster_size"], cache.n_clients))
    model = HDBSCAN(min_cluster_size=max(2, size), metric="precomputed", copy=True)
    with limited_threads():
        return canonical_labels(model.fit(d).labels_)


# -- factories (sklearn-style, used outside the cache and in tests) ---------------------
def _agglomerative_factory(linkage="average", metric="euclidean", cut="n_clusters",
                           n_clusters=3, distance_threshold=1.0):
    threshold = distance_threshold if cut == "distance_threshold" else None
    return LinkageClustering(linkage=linkage, metric=metric, n_clusters=n_clusters,
                             distance_threshold=threshold)


def _kmeans_factory(n_clusters=3, n_init=10, seed=0):
    return KMeans(n_clusters=n_clusters, n_init=n_init, random_state=seed)


def _spectral_factory(n_clusters=3, metric="euclidean", sigma_scale=1.0, n_init=10, seed=0):
    return SpectralDistanceClustering(n_clusters=n_clusters, metric=metric,
                                      sigma_scale=sigma_scale, n_init=n_init, random_state=seed)


def _dbscan_factory(eps=0.5, min_samples=3, metric="euclidean"):
    return DBSCAN(eps=eps, min_samples=min_samples, metric=metric)


def _hdbscan_factory(min_cluster_size=5, metric="euclidean"):
    return HDBSCAN(min_cluster_size=min_cluster_size, metric=metric, copy=True)


CLUSTERERS: dict[str, ClustererEntry] = {
    "agglomerative": ClustererEntry(
        "agglomerative", "Agglomerative (hierarchical)", _agglomerative_factory,
        {"linkage": Param(str, "average", choices=LINKAGES,
                          help="How cluster distances are merged; ward needs euclidean "
                               "distances."),
         "metric": _METRIC,
         "cut": Param(str, "n_clusters", choices=("n_clusters", "distance_threshold"),
                      help="Cut the tree into a number of clusters or at a height."),
         "n_clusters": _N_CLUSTERS,
         "distance_threshold": Param(float, 1.0, 0.0, None, step=0.01,
                                     help="Height at which the tree is cut (used when "
                                          "cut = distance_threshold).")},
        True, _agglomerative_cached,
        "Builds the full merge tree once; moving the cut is instant."),
    "kmeans": ClustererEntry(
        "kmeans", "k-means", _kmeans_factory,
        {"n_clusters": _N_CLUSTERS,
         "n_init": Param(int, 10, 1, 50, help="Number of k-means++ restarts.", step=1),
         "seed": _SEED},
        True, _kmeans_cached,
        "k-means on PCA scores (<= 50 dims) or on classical-MDS coordinates of a distance."),
    "spectral": ClustererEntry(
        "spectral", "Spectral", _spectral_factory,
        {"n_clusters": _N_CLUSTERS, "metric": _METRIC,
         "sigma_scale": Param(float, 1.0, 0.05, 5.0, step=0.05,
                              help="Gaussian kernel width as a multiple of the median "
                                   "pairwise distance."),
         "n_init": Param(int, 10, 1, 50, help="k-means restarts on the spectral embedding.",
                         step=1),
         "seed": _SEED},
        True, _spectral_cached,
        "Normalised spectral clustering on exp(-d^2 / 2 sigma^2)."),
    "dbscan": ClustererEntry(
        "dbscan", "DBSCAN", _dbscan_factory,
        {"eps": Param(float, 0.5, 0.0, None, help="Neighbourhood radius in distance units.",
                      step=0.01),
         "min_samples": Param(int, 3, 1, 100, help="Neighbours needed to be a core client.",
                              step=1),
         "metric": _METRIC},
        True, _dbscan_cached,
        "Density clusters; clients in sparse regions are noise (-1)."),
    "hdbscan": ClustererEntry(
        "hdbscan", "HDBSCAN", _hdbscan_factory,
        {"min_cluster_size": Param(int, 5, 2, 200, help="Smallest group counted as a cluster.",
                                   step=1),
         "metric": _METRIC},
        True, _hdbscan_cached,
        "Hierarchical density clusters over all radii; noise is -1."),
}


def validate_params(clusterer_name: str, params: dict | None) -> dict:
    """Defaults filled in, types coerced, ranges and choices checked (ConfigError)."""
    if clusterer_name not in CLUSTERERS:
        raise ConfigError(f"unknown clusterer {clusterer_name!r}; choose one of "
                          f"{sorted(CLUSTERERS)}")
    return validate(CLUSTERERS[clusterer_name].params, params, f"clusterer '{clusterer_name}'")


def schema_for(clusterer_name: str, cache: RepresentationCache | Representation) -> dict:
    """The parameter schema adapted to one representation (for UI sliders).

    Metric choices are restricted to what the representation offers; ward is dropped
    for distance-only representations; ``distance_threshold`` and ``eps`` get ranges and
    defaults in the units of the data; ``n_clusters`` is capped at N.
    """
    validate_params(clusterer_name, {})
    cache = get_cache(cache)
    schema = dict(CLUSTERERS[clusterer_name].params)

    def adapt(name: str, **changes) -> None:
        if name in schema:
            schema[name] = schema[name].with_(**changes)

    adapt("metric", choices=tuple(cache.metrics), default=cache.default_metric())
    if not cache.has_vectors:
        adapt("linkage", choices=tuple(x for x in LINKAGES if x != "ward"))
    adapt("n_clusters", max=int(max(1, min(50, cache.n_clients))),
          default=int(min(3, cache.n_clients)))
    metric = cache.default_metric()
    if "distance_threshold" in schema and cache.n_clients >= 2:
        top = float(cache.linkage(schema["linkage"].default, metric)[-1, 2])
        adapt("distance_threshold", max=top * 1.05 or 1.0, default=top / 2,
              step=max(top / 200, 1e-6))
    if "eps" in schema and cache.n_clients >= 2:
        d = cache.distance(metric)
        k = min(max(1, schema["min_samples"].default), cache.n_clients - 1)
        knn = np.sort(d, axis=1)[:, k]
        adapt("eps", max=float(d.max()) or 1.0, default=float(np.median(knn)),
              step=max(float(d.max()) / 200, 1e-6))
    adapt("min_cluster_size", max=int(max(2, cache.n_clients)),
          default=int(min(5, max(2, cache.n_clients // 4))))
    return schema


def recluster(representation: Representation | RepresentationCache, clusterer_name: str,
              params: dict | None = None,
              cache: RepresentationCache | None = None) -> np.ndarray:
    """Cluster clients from a representation, reusing its cache.

    Parameters
    ----------
    representation : Representation or RepresentationCache
    clusterer_name : str
        Key of :data:`CLUSTERERS`.
    params : dict, optional
        Overrides of the schema defaults.
    cache : RepresentationCache, optional
        Defaults to the shared cache of ``representation`` (built on first use).

    Returns
    -------
    labels : ndarray of int64, shape (N,)
        Clusters numbered 0..K-1 by first appearance; -1 marks noise (DBSCAN/HDBSCAN).
    """
    p = validate_params(clusterer_name, params)
    cache = cache if cache is not None else get_cache(representation)
    if cache.n_clients == 0:
        return np.zeros(0, dtype=np.int64)
    if cache.n_clients == 1:
        return np.zeros(1, dtype=np.int64)
    with limited_threads():
        return CLUSTERERS[clusterer_name].fit_cached(cache, p)
