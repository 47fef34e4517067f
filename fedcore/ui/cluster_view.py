"""Clusters page controller: pick a result, a representation and a clusterer; re-cluster live.

A slider move re-clusters the *cached* representation (:class:`RepresentationCache`: distances
and linkage trees computed once) and never retrains. The 2-D embedding is cached separately
from the clustering, so moving a slider recolours points without moving them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from . import cached, state
from .forms import schema_widgets

#: Below this many clients UMAP's neighbourhood graph is meaningless: use PCA/MDS.
MIN_CLIENTS_FOR_UMAP = 10


def choose_result(results: dict) -> str:
    """Select box over results; defaults to the last selection or the last run."""
    keys = list(results)
    prev = state.selection().get("result")
    index = keys.index(prev) if prev in keys else len(keys) - 1
    return st.selectbox("Result (method)", keys, index=index, key="cl.result",
                        help="Any finished simulation; re-clustering never retrains it.")


def choose_representation(key: str, result) -> str:
    names = [n for n, r in result.representations.items()
             if r.X is not None or r.distance is not None]
    prev = state.selection().get("representation")
    index = names.index(prev) if prev in names else (names.index("updates")
                                                      if "updates" in names else 0)
    return st.selectbox("Representation", names, index=index, key=f"cl.rep.{key}",
                        format_func=lambda n: n.replace("_", " "),
                        help="What describes a client: its weights, its last update, its "
                             "loss profile, its data summary, ...")


def representation_cache(key: str, result, rep_name: str):
    """The memoised distances/trees of one representation of one result (built once)."""
    from fedcore.clustering import RepresentationCache
    rep = result.representations[rep_name]
    art = (key, "cache", rep_name)
    cache = state.artefact(art, lambda: RepresentationCache(rep))
    if not isinstance(cache, RepresentationCache):
        # Built by an older import of fedcore.clustering (Streamlit re-imports edited
        # modules): the new code would not recognise it, so build it again.
        state.forget_artefact(art)
        cache = state.artefact(art, lambda: RepresentationCache(rep))
    return cache


def default_n_clusters(result) -> int | None:
    """The starting number of clusters of the sliders: the method's own count when it
    clustered at all (2..N-1), else the number of true groups when known."""
    n = len(result.client_ids)
    own = len(set(np.asarray(result.assignments).tolist()))
    if 2 <= own < n:
        return own
    if result.true_groups is not None:
        return len(set(np.asarray(result.true_groups).tolist()))
    return None


def clustering_controls(cache, prefix: str, n_clusters: int | None = None) -> tuple[str, dict]:
    """Clusterer select box + its parameters as live sliders (adapted to ``cache``).

    ``n_clusters`` (e.g. :func:`default_n_clusters`) replaces the schema's default number
    of clusters, so the first view is comparable with the method's own clustering.
    """
    from fedcore.clustering import CLUSTERERS, schema_for

    names = list(CLUSTERERS)
    # A fixed default: a default that varies between runs would change the widget's
    # identity and reset the user's choice.
    name = st.selectbox("Clustering", names, index=0, format_func=lambda n: CLUSTERERS[n].label,
                        key=f"{prefix}.clusterer",
                        help="Re-clusters the cached representation; no retraining.")
    st.caption(CLUSTERERS[name].description)
    schema = _fit_to_clients(schema_for(name, cache), cache.n_clients, n_clusters)
    choices = {k: v for k, v in schema.items() if v.kind == "choice"}
    params = schema_widgets(choices, f"{prefix}.{name}")
    skip = set(choices)
    if "cut" in params:
        skip.add("distance_threshold" if params["cut"] == "n_clusters" else "n_clusters")
    for hidden in ("n_init", "seed"):
        skip.add(hidden)
    numeric = {k: v for k, v in schema.items() if k not in skip}
    params.update(schema_widgets(numeric, f"{prefix}.{name}", sliders=True))
    return name, params


def _fit_to_clients(schema: dict, n_clients: int, n_clusters: int | None) -> dict:
    """Counts of clients never exceed N; the number of clusters starts at ``n_clusters``."""
    out = dict(schema)
    for name, spec in schema.items():
        if name in ("min_samples", "min_cluster_size") and spec.max is not None:
            top = max(int(spec.min or 1), min(int(spec.max), n_clients))
            out[name] = spec.with_(max=top, default=min(int(spec.default), top))
        if name == "n_clusters" and n_clusters is not None and spec.max is not None:
            out[name] = spec.with_(default=int(min(max(n_clusters, spec.min or 1), spec.max)))
    return out


def recluster(representation, cache, clusterer: str, params: dict) -> np.ndarray:
    """Labels of ``clusterer`` on the cached representation (no retraining)."""
    from fedcore.clustering import recluster as _recluster
    return _recluster(representation, clusterer, params, cache=cache)


def embedding(cache) -> tuple[np.ndarray, str]:
    """2-D coordinates of the clients and a note saying which method drew them.

    UMAP once it is warm and there are enough clients; PCA (or MDS for distance-only
    representations) otherwise. Memoised in the representation cache, so a clustering
    slider never moves the points.
    """
    from fedcore.embeddings import embed

    n = cache.n_clients
    if n >= MIN_CLIENTS_FOR_UMAP and cached.umap_ready():
        df, info = embed(cache, method="umap", seed=0, n_neighbors=min(15, n - 2))
    else:
        df, info = embed(cache, method="pca" if cache.has_vectors else "mds", seed=0)
    used = str(info.get("used", info.get("method", "pca")))
    return df[["x", "y"]].to_numpy(dtype=float), embedding_note(used, n,
                                                              info.get("fallback_reason"))


def embedding_note(used: str, n_clients: int, fallback_reason: str | None = None) -> str:
    if fallback_reason:
        return f"Layout: {fallback_reason}."
    if used == "umap":
        return "Layout: UMAP."
    if n_clients < MIN_CLIENTS_FOR_UMAP:
        return f"Layout: {used.upper()} (too few clients for UMAP)."
    return f"Layout: {used.upper()} — UMAP is still warming up in the background (~15 s)."


def client_frame(result, labels: np.ndarray, coords: np.ndarray, dataset=None) -> pd.DataFrame:
    """Tidy per-client table behind the embedding plot (hover data included)."""
    cm = result.client_metrics.set_index("client").reindex(result.client_ids)
    df = pd.DataFrame({"client": result.client_ids, "x": coords[:, 0],
                       "y": coords[:, 1] if coords.shape[1] > 1 else 0.0,
                       "cluster": labels.astype(int),
                       "accuracy": cm["accuracy"].to_numpy(dtype=float),
                       "size": cm["n_train"].to_numpy()})
    if result.true_groups is not None:
        df["true_group"] = np.asarray(result.true_groups).astype(int)
    meta = getattr(dataset, "metadata", None)
    if meta is not None and dataset is not None and list(dataset.client_ids) == list(
            result.client_ids):
        meta = meta.reindex(result.client_ids)
        for col in meta.columns[:4]:
            if col not in df.columns:
                df[col] = meta[col].to_numpy()
    return df


def embedding_figure(frame: pd.DataFrame):
    from fedcore.plots.cluster_plots import embedding_scatter
    extra = tuple(c for c in frame.columns
                  if c not in ("client", "x", "y", "cluster", "size", "accuracy", "true_group"))
    return embedding_scatter(frame, hover=("client", "size", "accuracy") + extra)


def dendrogram_figure(cache, clusterer: str, params: dict, labels: np.ndarray,
                      client_ids: list[str]):
    """The merge tree with the current cut (agglomerative) or coloured by any clustering."""
    from fedcore.clustering import cut_height_for
    from fedcore.plots.cluster_plots import dendrogram_figure as _dendrogram

    if clusterer == "agglomerative":
        Z = cache.linkage(params["linkage"], params["metric"])
        cut = (params["distance_threshold"] if params.get("cut") == "distance_threshold"
               else cut_height_for(Z, int(params["n_clusters"])))
        return _dendrogram(Z, labels, list(client_ids), cut_height=cut)
    Z = cache.linkage("average", cache.default_metric())
    return _dendrogram(Z, labels, list(client_ids), cut_height=None,
                       title="Average-linkage tree, coloured by the current clusters")


def similarity_figure(cache, labels: np.ndarray, client_ids: list[str]):
    """Pairwise distances ordered by cluster; returns ``(figure, tidy data)``."""
    from fedcore.plots.cluster_plots import similarity_heatmap

    metric = cache.default_metric()
    D = cache.distance(metric)
    order = np.argsort(labels, kind="stable")
    fig = similarity_heatmap(D, order, labels, list(client_ids),
                             value_name=f"{metric} distance")
    data = pd.DataFrame(D, index=pd.Index(client_ids, name="client"), columns=client_ids)
    return fig, data.reset_index()


def sankey_figure(result):
    """Sankey of assignments across rounds, or None when they never changed."""
    from fedcore.metrics import assignment_flows
    from fedcore.plots.cluster_plots import assignment_sankey

    hist = np.asarray(result.assignment_history)
    if hist.ndim != 2 or hist.shape[0] < 2 or (hist == hist[:1]).all():
        return None
    rows = _sankey_rounds(hist.shape[0])
    return assignment_sankey(assignment_flows(hist, rows))


def _sankey_rounds(n_rounds: int, max_steps: int = 8) -> list[int]:
    # More than ~8 columns make a Sankey unreadable: sample rounds evenly, keep the last.
    if n_rounds <= max_steps:
        return list(range(n_rounds))
    return sorted(set(np.linspace(0, n_rounds - 1, max_steps).round().astype(int).tolist()))


def quality(cache, labels: np.ndarray, true_groups) -> dict:
    """ARI/AMI/NMI vs true groups (when known), silhouette, Davies-Bouldin, clusters found."""
    from fedcore.metrics import cluster_quality
    if cache.has_vectors:
        return cluster_quality(labels, cache.features, true_groups=true_groups,
                               metric="euclidean")
    return cluster_quality(labels, cache.distance("precomputed"), true_groups=true_groups,
                           metric="precomputed")


QUALITY_LABELS = {"n_clusters": "Clusters found", "ari": "ARI", "ami": "AMI", "nmi": "NMI",
                  "silhouette": "Silhouette", "davies_bouldin": "DB index",
                  "n_noise": "Noise"}


def show_quality(q: dict, method_agreement: float | None = None) -> None:
    """The quality numbers as a row of ``st.metric`` (None shown as "—")."""
    keys = [k for k in QUALITY_LABELS if k in q and not (k == "n_noise" and not q[k])]
    for col, k in zip(st.columns(len(keys)), keys):
        v = q[k]
        text = "—" if v is None else (str(int(v)) if k in ("n_clusters", "n_noise")
                                      else f"{float(v):.3f}")
        col.metric(QUALITY_LABELS[k], text, help=_QUALITY_HELP.get(k))
    notes = []
    if all(q.get(k) is None for k in ("ari", "ami", "nmi")):
        notes.append("ARI/AMI/NMI need known true groups (a synthetic scenario, or "
                     "`true groups` in the natural scenario's parameters).")
    if method_agreement is not None:
        notes.append(f"Agreement with the method's own clusters: ARI {method_agreement:.3f}.")
    if notes:
        st.caption(" ".join(notes))


def method_agreement(result, labels: np.ndarray) -> float | None:
    """ARI between this re-clustering and the clusters the method itself used."""
    from sklearn.metrics import adjusted_rand_score
    own = np.asarray(result.assignments)
    if own.shape != np.asarray(labels).shape:
        return None
    return float(adjusted_rand_score(own, labels))


_QUALITY_HELP = {
    "ari": "Adjusted Rand index vs the true groups (1 = identical, 0 = chance).",
    "ami": "Adjusted mutual information vs the true groups.",
    "nmi": "Normalised mutual information vs the true groups.",
    "silhouette": "Mean silhouette on the representation (higher = better separated).",
    "davies_bouldin": "Davies-Bouldin index (lower = better separated).",
    "n_clusters": "Clusters of this re-clustering (noise excluded).",
    "n_noise": "Clients a density clusterer (DBSCAN/HDBSCAN) left unassigned (-1, grey).",
}
