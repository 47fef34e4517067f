"""Figures and tables of the Clusters page: client map (with a layout choice), members of
every cluster, dendrogram, distance matrix, assignment flow.

The 2-D layout is memoised in the representation cache, apart from the clustering, so a
clustering slider recolours the points without moving them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from . import cached

#: Below this many clients UMAP's neighbourhood graph is meaningless: PCA/MDS by default.
MIN_CLIENTS_FOR_UMAP = 10
#: Layouts offered on the page (keys of fedcore.embeddings.EMBEDDERS) and axis names.
LAYOUTS = {"umap": "UMAP", "tsne": "t-SNE", "pca": "PCA", "mds": "MDS"}
AUTO = "auto"


def default_layout(cache) -> str:
    """UMAP once warm with enough clients; PCA (MDS for distance-only data) otherwise."""
    if cache.n_clients >= MIN_CLIENTS_FOR_UMAP and cached.umap_ready():
        return "umap"
    return "pca" if cache.has_vectors else "mds"


def layout_choice(cache, prefix: str) -> str:
    """Select box over UMAP / t-SNE / PCA / MDS (plus "auto"); returns the key chosen."""
    options = [AUTO] + [k for k in LAYOUTS if k != "pca" or cache.has_vectors]
    auto = LAYOUTS[default_layout(cache)]
    return st.selectbox("Layout of the client map", options, key=f"{prefix}.layout",
                        format_func=lambda k: f"automatic ({auto})" if k == AUTO else LAYOUTS[k],
                        help="UMAP and t-SNE keep neighbourhoods; PCA is linear and exact; "
                             "MDS keeps the representation's distances. UMAP's first use "
                             "compiles for ~15 s.")


def layout_coords(cache, method: str) -> tuple[np.ndarray, dict]:
    """2-D coordinates by ``method`` (pure; memoised in the cache) and the embed info."""
    from fedcore.embeddings import embed

    n = cache.n_clients
    params = {}
    if method == "umap":
        params["n_neighbors"] = max(2, min(15, n - 2))
    elif method == "tsne":
        params["perplexity"] = float(max(2.0, min(30.0, (n - 1) / 3)))
    df, info = embed(cache, method=method, seed=0, **params)
    return df[["x", "y"]].to_numpy(dtype=float), info


def embedding(cache, layout: str = AUTO) -> tuple[np.ndarray, str, str]:
    """2-D coordinates, a note saying which method drew them, and the method's axis name."""
    method = default_layout(cache) if layout == AUTO else layout
    if method == "umap" and not cached.umap_ready():
        with st.spinner("Computing the UMAP layout (first use compiles, ~15 s)…"):
            coords, info = layout_coords(cache, method)
    else:
        coords, info = layout_coords(cache, method)
    used = str(info.get("used", info.get("method", method)))
    note = embedding_note(used, cache.n_clients, info.get("fallback_reason"),
                          automatic=layout == AUTO)
    return coords, note, LAYOUTS.get(used, used.upper())


def embedding_note(used: str, n_clients: int, fallback_reason: str | None = None,
                   automatic: bool = True) -> str:
    if fallback_reason:
        return f"Layout: {fallback_reason}."
    name = LAYOUTS.get(used, used.upper())
    if used == "umap" or not automatic:
        return f"Layout: {name}."
    if n_clients < MIN_CLIENTS_FOR_UMAP:
        return f"Layout: {name} (too few clients for UMAP)."
    return f"Layout: {name} — UMAP is still warming up in the background (~15 s)."


def client_frame(result, labels: np.ndarray, coords: np.ndarray, dataset=None) -> pd.DataFrame:
    """Tidy per-client table behind the embedding plot (hover data included): the
    client's score is its primary metric, named by its label (``accuracy``, ``RMSE``)."""
    from .task_metrics import metric_for

    metric = metric_for({"r": result})
    cm = result.client_metrics.set_index("client").reindex(result.client_ids)
    df = pd.DataFrame({"client": result.client_ids, "x": coords[:, 0],
                       "y": coords[:, 1] if coords.shape[1] > 1 else 0.0,
                       "cluster": np.asarray(labels).astype(int),
                       metric.label: cm[metric.name].to_numpy(dtype=float),
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


#: Score columns :func:`client_frame` may hold (the primary metric's label per task).
SCORE_COLUMNS = ("accuracy", "RMSE")


def embedding_figure(frame: pd.DataFrame, axis_name: str = "Component"):
    from fedcore.plots.cluster_plots import embedding_scatter
    scores = tuple(c for c in SCORE_COLUMNS if c in frame.columns)
    extra = tuple(c for c in frame.columns
                  if c not in ("client", "x", "y", "cluster", "size", "true_group") + scores)
    return embedding_scatter(frame, hover=("client", "size") + scores + extra,
                             x_title=f"{axis_name} 1", y_title=f"{axis_name} 2")


def members_table(result, labels: np.ndarray) -> pd.DataFrame:
    """One row per cluster: its size, member clients by name, mean accuracy or, for a
    regression run, mean RMSE (and the true groups it holds, when known)."""
    from .task_metrics import metric_for

    metric = metric_for({"r": result})
    ids = np.asarray(result.client_ids, dtype=object)
    labels = np.asarray(labels).astype(int)
    acc = result.client_metrics.set_index("client").reindex(result.client_ids)[metric.name]
    acc = acc.to_numpy(dtype=float)
    truth = None if result.true_groups is None else np.asarray(result.true_groups)
    rows = []
    for c in sorted(set(labels.tolist())):
        at = labels == c
        row = {"Cluster": "noise" if c < 0 else f"cluster {c}", "Clients": int(at.sum()),
               "Members": ", ".join(str(i) for i in ids[at]),
               f"Mean {metric.label}": round(float(np.nanmean(acc[at])), 4)}
        if truth is not None:
            row["True groups"] = ", ".join(str(int(g)) for g in sorted(set(truth[at].tolist())))
        rows.append(row)
    return pd.DataFrame(rows)


def dendrogram_figure(cache, clusterer: str | None, params: dict, labels: np.ndarray,
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
                       title="Average-linkage tree, coloured by the clusters shown")


def distance_figure(cache, labels: np.ndarray, client_ids: list[str]):
    """Pairwise client DISTANCES ordered by cluster; returns ``(figure, tidy data)``."""
    from fedcore.plots.cluster_plots import similarity_heatmap

    metric = cache.default_metric()
    D = cache.distance(metric)
    order = np.argsort(labels, kind="stable")
    name = "distance" if metric == "precomputed" else f"{metric} distance"
    fig = similarity_heatmap(D, order, labels, list(client_ids), value_name=name,
                             title=f"Client distance ({name}; dark = close)")
    data = pd.DataFrame(D, index=pd.Index(client_ids, name="client"), columns=client_ids)
    return fig, data.reset_index()


def sankey_figure(result):
    """Sankey of assignments across rounds (rounds numbered 1..R), or None when they never
    changed."""
    from fedcore.metrics import assignment_flows
    from fedcore.plots.cluster_plots import assignment_sankey

    hist = np.asarray(result.assignment_history)
    if hist.ndim != 2 or hist.shape[0] < 2 or (hist == hist[:1]).all():
        return None
    rows = _sankey_rounds(hist.shape[0])
    flows = assignment_flows(hist, rows)
    # assignment_flows numbers rows from 0; everywhere else rounds are 1..R.
    flows = flows.assign(round_from=flows["round_from"] + 1, round_to=flows["round_to"] + 1)
    return assignment_sankey(flows)


def _sankey_rounds(n_rounds: int, max_steps: int = 8) -> list[int]:
    # More than ~8 columns make a Sankey unreadable: sample rounds evenly, keep the last.
    if n_rounds <= max_steps:
        return list(range(n_rounds))
    return sorted(set(np.linspace(0, n_rounds - 1, max_steps).round().astype(int).tolist()))


def no_flow_note(name: str, result) -> str:
    """Why there is no Sankey: true for iterative and one-shot methods alike."""
    rounds = len(np.asarray(result.assignment_history))
    return (f"{name}: no client changed cluster over the {rounds} recorded round(s), so "
            "there is no flow to show.")
