"""Figures of the Clusters page: embedding map, dendrogram, similarity heatmap, quality
table, cluster flows. Tidy inputs in, plotly figures out; colours from the theme.

The dendrogram is drawn from scipy's ``dendrogram(no_plot=True)`` coordinates (the
classic U-link layout of hierarchical clustering, Müllner 2011, arXiv:1109.2378).
"""

from __future__ import annotations

import sys
from functools import lru_cache

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy.cluster.hierarchy import dendrogram

from fedcore.plots.theme import (
    MIXED_COLOR,
    add_fast_traces,
    cluster_color,
    finish,
    group_symbol,
)

MAX_TICK_LABELS = 60
#: The client map writes client names next to the points up to this many clients.
MAX_POINT_LABELS = 12


def _cluster_name(label: int) -> str:
    return "noise" if int(label) < 0 else f"cluster {int(label)}"


def embedding_scatter(df: pd.DataFrame, color: str = "cluster", symbol: str | None = "true_group",
                      hover: tuple[str, ...] = ("client", "size", "accuracy"),
                      title: str | None = "Client map", x_title: str = "",
                      y_title: str = "") -> go.Figure:
    """2-D map of clients, one trace per cluster, marker symbol per true group.

    Parameters
    ----------
    df : DataFrame
        Columns ``x, y, cluster`` and optionally ``true_group`` and hover columns
        (``client, size, accuracy`` or any metadata column named in ``hover``).
    """
    fig = go.Figure()
    has_symbol = symbol is not None and symbol in df.columns and df[symbol].notna().any()
    hover_cols = [c for c in hover if c in df.columns and c != color]
    if has_symbol and symbol not in hover_cols:
        hover_cols.append(symbol)
    lines = [f"{c}: %{{customdata[{i}]}}" for i, c in enumerate(hover_cols)]
    template = "<br>".join([f"{color}: %{{meta}}"] + lines) + "<extra></extra>"
    traces = []
    size = 11 if len(df) <= 50 else (8 if len(df) <= 300 else 6)
    for label, part in df.groupby(color, sort=True):
        marker = {"color": cluster_color(label), "size": size,
                  "line": {"width": 0.5, "color": "white"}}
        if has_symbol:
            groups = part[symbol].fillna(-1).astype(int).to_numpy()
            marker["symbol"] = [group_symbol(g) for g in groups]
        trace = {"type": "scatter", "x": part["x"].to_numpy(), "y": part["y"].to_numpy(),
                 "mode": "markers", "name": _cluster_name(label), "marker": marker,
                 "meta": str(label), "hovertemplate": template}
        if "client" in part.columns and len(df) <= MAX_POINT_LABELS:
            # cliponaxis=False + padded ranges below: names near the edge stay whole.
            trace.update(mode="markers+text", text=part["client"].astype(str).to_numpy(),
                         textposition="top center", textfont={"size": 11, "color": "#444444"},
                         cliponaxis=False)
        if hover_cols:
            trace["customdata"] = part[hover_cols].to_numpy()
        traces.append(trace)
    if has_symbol:
        # Legend-only entries explaining the symbols (the cluster traces mix them).
        for g in sorted(int(v) for v in df[symbol].dropna().unique()):
            traces.append({"type": "scatter", "x": [None], "y": [None], "mode": "markers",
                           "name": f"true group {g}", "legendgroup": "truth",
                           "legendgrouptitle": {"text": "True group (symbol)"},
                           "marker": {"color": MIXED_COLOR, "size": size,
                                      "symbol": group_symbol(g)},
                           "hoverinfo": "skip"})
    add_fast_traces(fig, traces)
    labelled = "client" in df.columns and len(df) <= MAX_POINT_LABELS
    fig.update_xaxes(title_text=x_title, showticklabels=bool(x_title),
                     range=_padded(df["x"], 0.08 + (0.10 if labelled else 0.0)))
    fig.update_yaxes(title_text=y_title, showticklabels=bool(y_title),
                     range=_padded(df["y"], 0.08, top=0.14 if labelled else 0.08))
    legend_title = "Cluster" + (" (colour)" if has_symbol else "")
    return finish(fig, "embedding_scatter", title, legend_title_text=legend_title)


def _padded(values, pad: float, top: float | None = None) -> list[float] | None:
    """Axis range with ``pad`` (fraction of the span) below and ``top`` above: markers and
    their name labels never touch or cross the plot edge."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(dtype=float)
    if not v.size:
        return None
    lo, hi = float(v.min()), float(v.max())
    span = hi - lo or max(abs(hi), 1.0)
    return [lo - pad * span, hi + (pad if top is None else top) * span]


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
            "line": {"color": MIXED_COLOR if mixed else cluster_color(label), "width": 1.2},
            "name": "between clusters" if mixed else _cluster_name(label),
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
            "name": _cluster_name(label) if alone else "clients", "showlegend": alone,
            "legendgroup": str(label), "x": leaf_x[at], "y": np.zeros(int(at.sum())),
            "marker": {"color": cluster_color(label), "size": 8 if n <= 30 else (
                6 if n <= 200 else 3),
                       "line": {"width": 0}},
            "customdata": ids[at],
            "hovertemplate": f"client %{{customdata}}<br>{_cluster_name(label)}<extra></extra>"})
    add_fast_traces(fig, traces)
    if cut_height is not None:
        fig.add_trace(go.Scatter(
            x=[0.0, 10.0 * n], y=[cut_height, cut_height], mode="lines", name="cut",
            showlegend=False, line={"color": "#222222", "width": 1.2, "dash": "dash"},
            hovertemplate=f"cut at {cut_height:.4g}<extra></extra>"))
    if n <= MAX_TICK_LABELS:
        fig.update_xaxes(tickvals=leaf_x, ticktext=list(ids), tickangle=-90,
                         tickfont={"size": 10})
    else:
        fig.update_xaxes(showticklabels=False, ticks="")
    fig.update_xaxes(showgrid=False, title_text=f"clients ({n})", range=[0, 10.0 * n])
    fig.update_yaxes(title_text="merge distance", rangemode="tozero")
    return finish(fig, "dendrogram", title, legend_title_text="Cluster")


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
    fig = add_fast_traces(go.Figure(), [heat])
    change = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    shapes = []
    for pos in change / factor - 0.5:
        shapes.append({"type": "line", "x0": pos, "x1": pos, "y0": -0.5, "y1": size - 0.5,
                       "line": {"color": "white", "width": 1.5}})
        shapes.append({"type": "line", "y0": pos, "y1": pos, "x0": -0.5, "x1": size - 0.5,
                       "line": {"color": "white", "width": 1.5}})
    fig.update_layout(shapes=shapes)
    if factor == 1 and n <= MAX_TICK_LABELS:
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
    return finish(fig, "similarity_heatmap", title)


_QUALITY_LABELS = {"n_clusters": "clusters", "n_noise": "noise clients", "ari": "ARI vs truth",
                   "ami": "AMI vs truth", "nmi": "NMI vs truth", "silhouette": "silhouette",
                   "davies_bouldin": "Davies-Bouldin"}


def quality_table(quality: dict | pd.DataFrame,
                  title: str | None = "Cluster quality") -> go.Figure:
    """Table figure of :func:`fedcore.metrics.cluster_quality` (dict) or any small DataFrame."""
    if isinstance(quality, dict):
        names = [_QUALITY_LABELS.get(k, k) for k in quality]
        values = ["n/a" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))
                  for v in quality.values()]
        columns, cells = ["metric", "value"], [names, values]
    else:
        columns = [str(c) for c in quality.columns]
        cells = [[f"{v:.3f}" if isinstance(v, float) else str(v) for v in quality[c]]
                 for c in quality.columns]
    fig = go.Figure(go.Table(
        header={"values": columns, "align": "left", "fill": {"color": "#EEEEEE"},
                "font": {"size": 13}},
        cells={"values": cells, "align": "left", "font": {"size": 12}, "height": 24}))
    return finish(fig, "quality_table", title, margin={"l": 10, "r": 10, "t": 40, "b": 10})


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def assignment_sankey(flows: pd.DataFrame,
                      title: str | None = "Cluster assignments over rounds") -> go.Figure:
    """Sankey of clients moving between clusters.

    Parameters
    ----------
    flows : DataFrame
        :func:`fedcore.metrics.assignment_flows` output.
    """
    left = flows[["round_from", "cluster_from"]].to_numpy()
    right = flows[["round_to", "cluster_to"]].to_numpy()
    nodes = sorted({tuple(map(int, r)) for r in np.vstack([left, right])}) if len(flows) else []
    index = {node: i for i, node in enumerate(nodes)}
    rounds = sorted({r for r, _ in nodes})
    span = max(1, len(rounds) - 1)
    x_of = {r: 0.001 + 0.998 * i / span for i, r in enumerate(rounds)}
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        # Short node names (the round is the column header) in dark text without the
        # default white halo: readable in every column, also in print.
        textfont={"size": 12, "color": "#222222", "shadow": "none"},
        node={"label": [_cluster_name(c) for _, c in nodes],
              "customdata": [f"round {r}" for r, _ in nodes],
              "hovertemplate": "%{customdata}, %{label}: %{value} clients<extra></extra>",
              "color": [cluster_color(c) for _, c in nodes], "pad": 8, "thickness": 12,
              "x": [x_of[r] for r, _ in nodes]},
        link={"source": [index[tuple(map(int, r))] for r in left],
              "target": [index[tuple(map(int, r))] for r in right],
              "value": flows["n_clients"].to_numpy(),
              "color": [_rgba(cluster_color(c), 0.35) for c in flows["cluster_from"]]}))
    for r in rounds:
        fig.add_annotation(text=f"Round {r}", x=x_of[r], y=1.0, xref="paper", yref="paper",
                           yanchor="bottom", showarrow=False, font={"size": 12},
                           xanchor="left" if r == rounds[0] else (
                               "right" if r == rounds[-1] else "center"))
    return finish(fig, "assignment_sankey", title, margin={"t": 70})


def cluster_size_bar(sizes: pd.DataFrame, title: str | None = "Cluster sizes") -> go.Figure:
    """Bar of clients per cluster (input: :func:`fedcore.metrics.cluster_sizes`)."""
    fig = go.Figure(go.Bar(
        x=[_cluster_name(c) for c in sizes["cluster"]], y=sizes["n_clients"].to_numpy(),
        marker={"color": [cluster_color(c) for c in sizes["cluster"]]},
        hovertemplate="%{x}: %{y} clients<extra></extra>"))
    fig.update_yaxes(title_text="clients")
    return finish(fig, "cluster_size_bar", title, showlegend=False)
