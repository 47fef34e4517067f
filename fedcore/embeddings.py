"""2-D maps of clients from a cached representation.

* UMAP -- McInnes, Healy & Melville 2018, "UMAP: Uniform Manifold Approximation and
  Projection for Dimension Reduction", arXiv:1802.03426 (umap-learn).
* t-SNE -- van der Maaten & Hinton 2008, "Visualizing Data using t-SNE", JMLR 9.
* PCA -- Pearson 1901; here the exact scores from the cache's Gram eigendecomposition.
* MDS -- classical (Torgerson 1952) on the cached distance matrix, optionally refined
  by metric SMACOF (de Leeuw 1977).

An embedding depends on the representation and on its own parameters only, never on
the clustering, so it is memoised in the :class:`RepresentationCache` under
``(method, params, seed)``: moving a clustering slider only recolours points.

``import umap`` pulls numba and TensorFlow (4-19 s) and the first fit JIT-compiles
(~13 s), so umap is imported lazily and :func:`warm_up_umap` pays that cost once (the
UI calls it from a background thread).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fedcore.clustering.linalg import limited_threads
from fedcore.clustering.representation_cache import RepresentationCache, get_cache
from fedcore.errors import ConfigError
from fedcore.params import Param, defaults, validate
from fedcore.results import Representation

_UMAP_LOCK = threading.Lock()
_UMAP_WARM = threading.Event()

_METRIC_PARAM = Param(str, "euclidean", choices=("euclidean", "cosine", "precomputed"),
                      help="Distance the map preserves; cosine and precomputed use the cached "
                           "exact distance matrix.")


@dataclass(frozen=True)
class EmbedderEntry:
    """One 2-D embedding method: ``run(cache, seed, **params) -> (coords (N, 2), info)``."""

    name: str
    label: str
    run: Callable
    params: dict
    supports_precomputed: bool
    description: str = ""

    def defaults(self) -> dict:
        return defaults(self.params)


def _pad2(coords: np.ndarray) -> np.ndarray:
    coords = np.asarray(coords, dtype=np.float64)
    if coords.ndim != 2:
        coords = coords.reshape(len(coords), -1)
    if coords.shape[1] >= 2:
        return coords[:, :2]
    return np.hstack([coords, np.zeros((coords.shape[0], 2 - coords.shape[1]))])


def _pca(cache: RepresentationCache, seed: int = 0) -> tuple[np.ndarray, dict]:
    coords = cache.coords
    var = cache.coords_variance
    info = {"used": "pca" if cache.has_vectors else "mds"}
    if cache.has_vectors and var.size:
        total = float(np.trace(cache.gram()[0])) or 1.0
        info["explained_variance_ratio"] = [float(v / total) for v in var[:2]]
    return _pad2(coords), info


def _mds(cache: RepresentationCache, seed: int = 0, metric: str = "euclidean",
         smacof: bool = False) -> tuple[np.ndarray, dict]:
    from fedcore.clustering.linalg import classical_mds

    metric = cache.resolve_metric(metric)
    d = cache.distance(metric)
    coords = _pad2(classical_mds(d, 2)[0])
    info = {"used": "mds", "metric": metric, "variant": "classical"}
    if smacof and cache.n_clients > 2:
        from sklearn.manifold import smacof as run_smacof

        coords, stress = run_smacof(d, metric=True, n_components=2, init=coords, n_init=1,
                                    random_state=seed, normalized_stress=False)[:2]
        info.update(variant="smacof", stress=float(stress))
    return coords, info


def _fallback(cache: RepresentationCache, reason: str) -> tuple[np.ndarray, dict]:
    coords, info = _pca(cache)
    info["fallback_reason"] = reason
    return coords, info


def _tsne(cache: RepresentationCache, seed: int = 0, perplexity: float = 30.0,
          metric: str = "euclidean") -> tuple[np.ndarray, dict]:
    from sklearn.manifold import TSNE

    n = cache.n_clients
    if n < 5:
        return _fallback(cache, f"t-SNE needs at least 5 clients, got {n}; showing "
                                f"{'PCA' if cache.has_vectors else 'MDS'} instead")
    metric = cache.resolve_metric(metric)
    capped = float(min(perplexity, max(1.0, (n - 1) / 3)))
    info = {"used": "tsne", "metric": metric, "perplexity": capped}
    if capped < perplexity:
        info["note"] = f"perplexity capped from {perplexity} to {capped:.1f} (N={n})"
    if metric == "euclidean":
        model = TSNE(n_components=2, perplexity=capped, init="pca", random_state=seed)
        coords = model.fit_transform(cache.features)
    else:
        model = TSNE(n_components=2, perplexity=capped, metric="precomputed",
                     init="random", random_state=seed)
        coords = model.fit_transform(cache.distance(metric))
    return coords, info


def _umap(cache: RepresentationCache, seed: int = 0, n_neighbors: int = 15,
          min_dist: float = 0.1, metric: str = "euclidean") -> tuple[np.ndarray, dict]:
    n = cache.n_clients
    if n < 10 or n <= n_neighbors + 1:
        return _fallback(cache, f"UMAP needs more than n_neighbors+1={n_neighbors + 1} and at "
                                f"least 10 clients, got {n}; showing "
                                f"{'PCA' if cache.has_vectors else 'MDS'} instead")
    import umap  # lazy: pulls numba/TensorFlow (seconds)

    metric = cache.resolve_metric(metric)
    model = umap.UMAP(n_components=2, n_neighbors=int(n_neighbors), min_dist=float(min_dist),
                      random_state=int(seed), n_jobs=1,
                      metric="euclidean" if metric == "euclidean" else "precomputed")
    data = cache.features if metric == "euclidean" else cache.distance(metric)
    coords = model.fit_transform(data)
    _UMAP_WARM.set()
    return coords, {"used": "umap", "metric": metric, "n_neighbors": int(n_neighbors),
                    "min_dist": float(min_dist)}


EMBEDDERS: dict[str, EmbedderEntry] = {
    "umap": EmbedderEntry(
        "umap", "UMAP", _umap,
        {"n_neighbors": Param(int, 15, 2, 200, step=1,
                              help="Neighbourhood size: small = local detail, large = global "
                                   "shape."),
         "min_dist": Param(float, 0.1, 0.0, 0.99, help="How tightly points may pack.",
                           step=0.01),
         "metric": _METRIC_PARAM},
        True, "Non-linear map preserving neighbourhoods (first use compiles, ~15 s)."),
    "tsne": EmbedderEntry(
        "tsne", "t-SNE", _tsne,
        {"perplexity": Param(float, 30.0, 2.0, 100.0, step=1.0,
                             help="Effective number of neighbours (capped below N/3)."),
         "metric": _METRIC_PARAM},
        True, "Non-linear map preserving local neighbourhoods."),
    "pca": EmbedderEntry("pca", "PCA", _pca, {}, True,
                         "First two principal components (linear, exact)."),
    "mds": EmbedderEntry(
        "mds", "MDS", _mds,
        {"metric": _METRIC_PARAM,
         "smacof": Param(bool, False, help="Refine classical MDS with metric SMACOF "
                                           "(slower, lower stress).")},
        True, "Classical MDS of the cached distance matrix."),
}


def _validate(method: str, params: dict) -> dict:
    if method not in EMBEDDERS:
        raise ConfigError(f"unknown embedding {method!r}; choose one of {sorted(EMBEDDERS)}")
    return validate(EMBEDDERS[method].params, params, f"embedding '{method}'")


def embed(cache_or_representation: RepresentationCache | Representation, method: str = "pca",
          seed: int = 0, **params) -> tuple[pd.DataFrame, dict]:
    """2-D coordinates of every client, memoised per (representation, method, params, seed).

    Parameters
    ----------
    cache_or_representation : RepresentationCache or Representation
    method : str
        Key of :data:`EMBEDDERS`.
    seed : int
    **params
        Method parameters (see ``EMBEDDERS[method].params``).

    Returns
    -------
    df : DataFrame with columns ``client_index, x, y``
    info : dict
        ``method`` requested, ``used`` (what actually ran), ``fallback_reason`` when a
        simpler method replaced it, ``cached`` (True when served from the memo), ``seconds``.
    """
    import time

    cache = get_cache(cache_or_representation)
    p = _validate(method, params)
    key = (method, tuple(sorted(p.items())), int(seed))
    with cache._lock:
        hit = cache.embeddings.get(key)
    if hit is not None:
        df, info = hit
        return df.copy(), {**info, "cached": True}
    start = time.perf_counter()
    if cache.n_clients < 3:
        coords, info = _fallback(cache, f"only {cache.n_clients} client(s)") \
            if method != "pca" else _pca(cache)
    else:
        with limited_threads():
            coords, info = EMBEDDERS[method].run(cache, seed=int(seed), **p)
    coords = _pad2(coords)
    df = pd.DataFrame({"client_index": np.arange(cache.n_clients), "x": coords[:, 0],
                       "y": coords[:, 1]})
    info = {"method": method, "params": p, "seed": int(seed), **info,
            "seconds": time.perf_counter() - start}
    with cache._lock:
        cache.embeddings[key] = (df, info)
    return df.copy(), {**info, "cached": False}


def umap_is_warm() -> bool:
    """Whether umap has been imported and JIT-compiled in this process."""
    return _UMAP_WARM.is_set()


def warm_up_umap(seed: int = 0) -> float:
    """Import umap and fit a tiny map once so later fits skip numba compilation.

    Safe to call from a background thread and more than once. Returns seconds spent.
    """
    import time

    start = time.perf_counter()
    with _UMAP_LOCK:
        if _UMAP_WARM.is_set():
            return 0.0
        import umap

        rng = np.random.default_rng(seed)
        umap.UMAP(n_neighbors=5, n_components=2, random_state=seed, n_jobs=1,
                  n_epochs=20).fit_transform(rng.normal(size=(30, 4)))
        _UMAP_WARM.set()
    return time.perf_counter() - start
