"""Figures of a clustering's structure: dendrogram and ordered similarity heatmap.

The dendrogram is drawn from scipy's ``dendrogram(no_plot=True)`` coordinates (the
classic U-link layout of hierarchical clustering, Müllner 2011, arXiv:1109.2378).
"""

from __future__ import annotations

import sys
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go
from scipy.cluster.hierarchy import dendrogram

from fedcore.plots import theme


@lru_cache(maxsize=16)
def _dendrogram_layout(z_bytes: bytes, n: int):
    Z = np.frombuffer(z_bytes, dtype=np.float64).reshape(n - 1, 4)
    # scipy walks the tree recursively; chained (single-linkage) trees are N levels deep.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4 * n + 1000))
    try:
        tree = dendrogram(Z, no_plot=True, link_color_func=lambda k: str(k))
    finally:
        sys.setrecursionlimit(limit)
    nodes = np.array([int(c) for c in tree["color_list"]], dtype=np.int64)
    return (np.asarray(tree["icoord"]), np.asarray(tree["dcoord"]), nodes,
            np.asarray(tree["leaves"], dtype=np.int64))


def _node_labels(Z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Cluster of every tree node, or -2 when its leaves belong to different clusters."""
    n = labels.size
    node = np.empty(2 * n - 1, dtype=np.int64)
    node[:n] = labels
    for j, (a, b) in enumerate(Z[:, :2].astype(np.int64)):
        node[n + j] = node[a] if node[a] == node[b] else -2
    return node


def dendrogram_figure(linkage: np.ndarray, labels: np.ndarray, client_ids: list[str],
                      cut_height: float | None = None,
                      title: str | None = "Hierarchical clustering") -> go.Figure:
    """Dendrogram coloured by the current clusters, with the cut as a dashed line.

    Parameters
    ----------
    linkage : ndarray (N-1, 4)
        scipy linkage matrix.
    labels : ndarray of int (N,)
        Current clusters (any clusterer); a link whose leaves all share one cluster gets
        that cluster's colour, other links are grey.
    client_ids : list of str
    cut_height : float or None
        Height of the cut line (see :func:`fedcore.clustering.cut_height_for`).
    """
    Z = np.ascontiguousarray(linkage, dtype=np.float64)
    labels = np.asarray(labels).astype(np.int64)
    n = labels.size
    icoord, dcoord, nodes, leaves = _dendrogram_layout(Z.tobytes(), n)
    link_label = _node_labels(Z, labels)[nodes]
    fig = go.Figure()
    traces = []
    for label in np.unique(link_label):
        rows = link_label == label
        pad = np.full((int(rows.sum()), 1), np.nan)
        mixed = label == -2
        traces.append({
            "type": "scatter", "mode": "lines", "hoverinfo": "skip",
            "x": np.hstack([icoord[rows], pad]).ravel(),
            "y": np.hstack([dcoord[rows], pad]).ravel(),
            "line": {"color": theme.MIXED_COLOR if mixed else theme.cluster_color(label),
                     "width": 1.2},
            "name": "between clusters" if mixed else theme.cluster_name(label),
            "legendgroup": str(label), "showlegend": not mixed})
    leaf_x = 5.0 + 10.0 * np.arange(n)
    leaf_labels = labels[leaves]
    ids = np.asarray(client_ids, dtype=object)[leaves]
    with_links = {int(lab) for lab in np.unique(link_label) if lab != -2}
    for label in np.unique(leaf_labels):
        at = leaf_labels == label
        # A cluster of one client owns no link: its leaf marker carries the legend entry.
        alone = int(label) not in with_links
        traces.append({
            "type": "scatter", "mode": "markers",
            "name": theme.cluster_name(label) if alone else "clients", "showlegend": alone,
            "legendgroup": str(label), "x": leaf_x[at], "y": np.zeros(int(at.sum())),
            "marker": {"color": theme.cluster_color(label), "size": 8 if n <= 30 else (
                6 if n <= 200 else 3),
                       "line": {"width": 0}},
            "customdata": ids[at],
            "hovertemplate": (f"client %{{customdata}}<br>{theme.cluster_name(label)}"
                              "<extra></extra>")})
    theme.add_fast_traces(fig, traces)
    if cut_height is not None:
        fig.add_trace(go.Scatter(
            x=[0.0, 10.0 * n], y=[cut_height, cut_height], mode="lines", name="cut",
            showlegend=False, line={"color": "#222222", "width": 1.2, "dash": "dash"},
            hovertemplate=f"cut at {cut_height:.4g}<extra></extra>"))
    if n <= theme.MAX_TICK_LABELS:
        fig.update_xaxes(tickvals=leaf_x, ticktext=list(ids), tickangle=-90,
                         tickfont={"size": 10})
    else:
        fig.update_xaxes(showticklabels=False, ticks="")
    fig.update_xaxes(showgrid=False, title_text=f"clients ({n})", range=[0, 10.0 * n])
    fig.update_yaxes(title_text="merge distance", rangemode="tozero")
    return theme.finish(fig, "dendrogram", title, legend_title_text="Cluster")


def _block_average(M: np.ndarray, factor: int) -> np.ndarray:
    starts = np.arange(0, M.shape[0], factor)
    sizes = np.diff(np.append(starts, M.shape[0]))
    summed = np.add.reduceat(np.add.reduceat(M, starts, axis=0), starts, axis=1)
    return summed / np.outer(sizes, sizes)


def similarity_heatmap(matrix: np.ndarray, order: np.ndarray, labels: np.ndarray,
                       client_ids: list[str], value_name: str = "distance",
                       max_size: int = 400,
                       title: str | None = None) -> go.Figure:
    """Client x client matrix ordered by cluster, with cluster boundaries drawn.

    Parameters
    ----------
    matrix : ndarray (N, N)
        Distances or similarities (``value_name`` says which, for the colour bar).
    order : ndarray of int (N,)
        Display order of clients (e.g. ``np.argsort(labels, kind="stable")`` or dendrogram
        leaves).
    labels : ndarray of int (N,)
    client_ids : list of str
    max_size : int
        Above this many clients, consecutive (ordered) clients are block-averaged so the
        figure stays light; the title says so.
    """
    if title is None:  # named for what it plots: a distance or a similarity
        title = ("Client distance" if "distance" in value_name.lower()
                 else "Client similarity")
    order = np.asarray(order, dtype=np.int64)
    M = np.asarray(matrix, dtype=np.float64)[np.ix_(order, order)]
    ordered = np.asarray(labels).astype(np.int64)[order]
    ids = np.asarray(client_ids, dtype=object)[order]
    n = order.size
    factor = int(np.ceil(n / max_size)) if n > max_size else 1
    if factor > 1:
        M = _block_average(M, factor)
        title = f"{title} ({factor} x {factor} client blocks averaged)" if title else title
    size = M.shape[0]
    heat = {"type": "heatmap", "z": M, "x": np.arange(size), "y": np.arange(size),
            # Similar clients bright, whatever the distance is called ("cosine distance").
            "colorscale": "Viridis_r" if "distance" in value_name.lower() else "Viridis",
            "colorbar": {"title": {"text": value_name}, "thickness": 12}}
    if factor == 1 and n <= 150:
        heat.update(customdata=np.dstack(np.meshgrid(ids, ids)),
                    hovertemplate="%{customdata[1]} vs %{customdata[0]}: %{z:.3g}<extra></extra>")
    fig = theme.add_fast_traces(go.Figure(), [heat])
    change = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    shapes = []
    for pos in change / factor - 0.5:
        shapes.append({"type": "line", "x0": pos, "x1": pos, "y0": -0.5, "y1": size - 0.5,
                       "line": {"color": "white", "width": 1.5}})
        shapes.append({"type": "line", "y0": pos, "y1": pos, "x0": -0.5, "x1": size - 0.5,
                       "line": {"color": "white", "width": 1.5}})
    fig.update_layout(shapes=shapes)
    if factor == 1 and n <= theme.MAX_TICK_LABELS:
        fig.update_xaxes(tickvals=np.arange(n), ticktext=list(ids), tickangle=-90,
                         tickfont={"size": 10})
        fig.update_yaxes(tickvals=np.arange(n), ticktext=list(ids), tickfont={"size": 10})
    else:
        fig.update_xaxes(showticklabels=False, ticks="")
        fig.update_yaxes(showticklabels=False, ticks="")
    # constrain="domain": the square shrinks its axes with it, so the tick labels stay
    # next to the matrix instead of at the far edge of the figure.
    fig.update_xaxes(showgrid=False, showline=False, title_text="clients (ordered by cluster)",
                     constrain="domain")
    fig.update_yaxes(showgrid=False, showline=False, autorange="reversed",
                     scaleanchor="x", scaleratio=1, constrain="domain")
    return theme.finish(fig, "similarity_heatmap", title)
