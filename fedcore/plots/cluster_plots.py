"""Figures of the Clusters page: embedding map, quality table, cluster flows and sizes.
Tidy inputs in, plotly figures out; colours from the theme. The dendrogram and the
similarity heatmap live in :mod:`fedcore.plots.hierarchy_plots` (re-exported here).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from fedcore.plots.hierarchy_plots import dendrogram_figure, similarity_heatmap
from fedcore.plots.theme import (
    MAX_TICK_LABELS,
    MIXED_COLOR,
    add_fast_traces,
    cluster_color,
    cluster_name,
    finish,
    group_symbol,
)

__all__ = ["embedding_scatter", "dendrogram_figure", "similarity_heatmap", "quality_table",
           "assignment_history_heatmap",
           "assignment_sankey", "cluster_size_bar", "MAX_TICK_LABELS", "MAX_POINT_LABELS"]

#: The client map writes client names next to the points up to this many clients.
MAX_POINT_LABELS = 12


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
                 "mode": "markers", "name": cluster_name(label), "marker": marker,
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
        node={"label": [cluster_name(c) for _, c in nodes],
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
        x=[cluster_name(c) for c in sizes["cluster"]], y=sizes["n_clients"].to_numpy(),
        marker={"color": [cluster_color(c) for c in sizes["cluster"]]},
        hovertemplate="%{x}: %{y} clients<extra></extra>"))
    fig.update_yaxes(title_text="clients")
    return finish(fig, "cluster_size_bar", title, showlegend=False)


def _cluster_scale(labels: np.ndarray) -> dict:
    """Discrete heatmap colours: cluster k gets its stable FedLens colour."""
    k = int(max(labels.max(), 0)) + 1
    scale = []
    for i in range(k):
        scale += [[i / k, cluster_color(i)], [(i + 1) / k, cluster_color(i)]]
    return {"colorscale": scale, "zmin": -0.5, "zmax": k - 0.5,
            "colorbar": {"title": {"text": "cluster"}, "tickvals": list(range(k)), "dtick": 1}}


def assignment_history_heatmap(history: pd.DataFrame) -> go.Figure:
    """Cluster of every client (rows, in order of appearance) in every round (columns).

    Parameters
    ----------
    history : DataFrame
        ``round, client, cluster`` (one row per client and round).
    """
    clients = pd.unique(history["client"])
    z = history.pivot(index="client", columns="round", values="cluster").loc[clients]
    fig = go.Figure(go.Heatmap(z=z.to_numpy(), x=z.columns.to_numpy(), y=list(clients),
                               **_cluster_scale(history["cluster"].to_numpy())))
    fig.update_xaxes(title_text="round", dtick=1)
    fig.update_yaxes(title_text="client")
    return finish(fig, "assignment_history", None)
