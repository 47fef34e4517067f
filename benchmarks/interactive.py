"""How fast is interactive re-clustering compared with retraining?

Run: ``python benchmarks/interactive.py [--clients 100 1000] [--dims 159010] [--no-engine]``

For each client count, a synthetic ``weights`` representation (4 blobs in a
``--dims``-dimensional weight space; 159,010 = the MNIST MLP 784-200-10) is cached once
(distances, linkage trees, PCA coordinates, PCA embedding) and then a sequence of
slider moves is timed. One move = re-cluster + align colours + rebuild the Clusters page
figures (embedding scatter with new colours from the cached embedding, dendrogram with
the new cut, ordered similarity heatmap, quality metrics + table). The baseline is one
training round of the same clients with the vectorised engine (MLP 784-200-10, 40
samples per client) when :mod:`fedcore.engine` is importable, else a numpy estimate.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Before any test imports TensorFlow directly (see fedcore/__init__.py for why).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from fedcore.clustering import (  # noqa: E402
    cut_height_for,
    get_cache,
    label_alignment,
    recluster,
)
from fedcore.embeddings import embed  # noqa: E402
from fedcore.metrics import cluster_quality  # noqa: E402
from fedcore.plots import (  # noqa: E402
    dendrogram_figure,
    embedding_scatter,
    quality_table,
    similarity_heatmap,
)
from fedcore.results import Representation  # noqa: E402

MOVES = [
    ("agglomerative", {"linkage": "ward", "n_clusters": k}) for k in (2, 3, 4, 5, 6, 8)
] + [
    ("agglomerative", {"linkage": "average", "n_clusters": k}) for k in (3, 4)
] + [
    ("kmeans", {"n_clusters": k, "n_init": 4}) for k in (3, 4, 5)
] + [
    ("spectral", {"n_clusters": k}) for k in (3, 4)
] + [
    ("hdbscan", {"min_cluster_size": m}) for m in (5, 10)
]


def synthetic_weights(n_clients: int, dims: int, n_groups: int = 4, seed: int = 0):
    """Blobs around a shared initialisation, like client weights after local training."""
    rng = np.random.default_rng(seed)
    groups = np.arange(n_clients) % n_groups
    init = rng.standard_normal(dims, dtype=np.float32) * 0.05
    centres = rng.standard_normal((n_groups, dims), dtype=np.float32) * 0.01
    X = rng.standard_normal((n_clients, dims), dtype=np.float32) * 0.008
    X += init
    X += centres[groups]
    return Representation("weights", X=X, description="synthetic"), groups


def build_cache(rep: Representation) -> tuple[object, dict]:
    times = {}
    start = time.perf_counter()
    cache = get_cache(rep)
    cache.distance("euclidean")
    times["distances"] = time.perf_counter() - start
    t = time.perf_counter()
    cache.distance("cosine")
    for link in ("ward", "average"):
        cache.linkage(link, "euclidean")
    times["linkages"] = time.perf_counter() - t
    t = time.perf_counter()
    _ = cache.coords
    emb, _info = embed(cache, "pca")
    times["pca_embedding"] = time.perf_counter() - t
    times["total"] = time.perf_counter() - start
    return cache, times, emb


def slider_move(cache, emb, name, params, previous, client_ids, groups):
    """Everything the Clusters page recomputes when a clustering slider moves."""
    labels = recluster(cache, name, params)
    labels = label_alignment(labels, previous)
    df = emb.assign(cluster=labels, true_group=groups, client=client_ids)
    scatter = embedding_scatter(df)
    link = params.get("linkage", "ward")
    Z = cache.linkage(link, "euclidean")
    cut = cut_height_for(Z, params["n_clusters"]) if name == "agglomerative" else None
    tree = dendrogram_figure(Z, labels, client_ids, cut)
    dist = cache.distance("euclidean")
    heat = similarity_heatmap(dist, np.argsort(labels, kind="stable"), labels, client_ids)
    quality = cluster_quality(labels, dist, groups, metric="precomputed")
    table = quality_table(quality)
    return labels, (scatter, tree, heat, table), quality


def time_moves(n_clients: int, dims: int) -> dict:
    t = time.perf_counter()
    rep, groups = synthetic_weights(n_clients, dims)
    make = time.perf_counter() - t
    cache, build, emb = build_cache(rep)
    client_ids = [f"client_{i:04d}" for i in range(n_clients)]
    previous, seconds, last_quality = None, [], None
    slider_move(cache, emb, *MOVES[0], None, client_ids, groups)  # first dendrogram layout
    for name, params in MOVES:
        start = time.perf_counter()
        previous, _figs, last_quality = slider_move(cache, emb, name, params, previous,
                                                    client_ids, groups)
        seconds.append(time.perf_counter() - start)
    return {"make_data": make, "build": build, "moves": seconds, "quality": last_quality,
            "counts": dict(cache.compute_counts)}


def engine_round(n_clients: int, samples: int = 40, seed: int = 0) -> tuple[float, float, str]:
    """(first round seconds incl. tracing, steady round seconds, what was timed)."""
    try:
        from fedcore.config import FitConfig, ModelSpec
        from fedcore.dataset import FederatedDataset
        from fedcore.engine import VectorisedEngine
    except Exception as exc:  # the engine is optional for this benchmark
        return _numpy_estimate(n_clients, samples), float("nan"), f"numpy estimate ({exc})"
    rng = np.random.default_rng(seed)
    xs = [rng.random((samples, 784), dtype=np.float32) for _ in range(n_clients)]
    ys = [rng.integers(0, 10, samples) for _ in range(n_clients)]
    ds = FederatedDataset(client_ids=[f"c{i}" for i in range(n_clients)], x_train=xs,
                          y_train=ys, x_test=[x[:8] for x in xs], y_test=[y[:8] for y in ys],
                          feature_names=[f"p{i}" for i in range(784)],
                          label_names=[str(i) for i in range(10)], input_shape=(784,))
    engine = VectorisedEngine(ds, ModelSpec("mlp", (200,)), seed=seed)
    start = np.tile(engine.initial_weights(), (n_clients, 1))
    clients = np.arange(n_clients)
    fit = FitConfig(local_epochs=1, batch_size=32, lr=0.05)
    t = time.perf_counter()
    engine.fit(start, clients, fit, round_seed=1)
    first = time.perf_counter() - t
    t = time.perf_counter()
    engine.fit(start, clients, fit, round_seed=2)
    steady = time.perf_counter() - t
    return first, steady, f"VectorisedEngine.fit, MLP 784-200-10 ({engine.n_params} params), " \
                          f"{samples} samples/client, 1 epoch, batch 32"


def _numpy_estimate(n_clients: int, samples: int) -> float:
    """Forward+backward FLOPs of the MLP for one epoch, timed as numpy matmuls."""
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((784, 200), dtype=np.float32)
    x = rng.random((samples * n_clients, 784), dtype=np.float32)
    t = time.perf_counter()
    for _ in range(3):  # forward, grad wrt inputs and weights
        _ = x @ w1
    return time.perf_counter() - t


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--dims", type=int, default=159_010)
    parser.add_argument("--no-engine", action="store_true")
    args = parser.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    print(f"slider moves timed: {len(MOVES)} (agglomerative ward/average, k-means, spectral, "
          "HDBSCAN); each = recluster + align + 4 figures + quality")
    for n in args.clients:
        res = time_moves(n, args.dims)
        b = res["build"]
        med, worst = statistics.median(res["moves"]), max(res["moves"])
        print(f"\n== {n} clients x {args.dims} dims (load average now "
              f"{os.getloadavg()[0]:.1f}) ==")
        print(f"synthetic data: {res['make_data']:.2f} s")
        print(f"cache once: {b['total']:.2f} s (distances {b['distances']:.2f} s, cosine + 2 "
              f"linkages {b['linkages']:.2f} s, PCA coords + embedding {b['pca_embedding']:.2f} s)")
        print(f"compute counts after all moves: {res['counts']}")
        print(f"re-cluster + figures per move: median {med:.3f} s, max {worst:.3f} s "
              f"(target < 0.3 s) -> {'OK' if med < 0.3 else 'SLOW'}")
        by_name = {}
        for (name, _), sec in zip(MOVES, res["moves"]):
            by_name.setdefault(name, []).append(sec)
        print("  median by clusterer: " + ", ".join(
            f"{k} {statistics.median(v):.3f} s" for k, v in by_name.items()))
        print(f"last move quality: ari={res['quality']['ari']:.3f}, "
              f"clusters={res['quality']['n_clusters']}")
        if not args.no_engine:
            first, steady, what = engine_round(n)
            print(f"one training round: {what}")
            print(f"  first call (incl. tracing) {first:.2f} s, steady {steady:.2f} s")
            base = steady if np.isfinite(steady) else first
            print(f"  ratio round / slider move: {base / med:.0f}x (median move)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
