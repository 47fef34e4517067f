"""Figures describing how data is spread over clients: label mix and client sizes.

Label-distribution skew is the standard lens on non-IID federated data (Kairouz et al.
2021, "Advances and Open Problems in Federated Learning", Sec. 3.1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from fedcore.plots.theme import MAX_TICK_LABELS, cluster_color, finish


def label_distribution_heatmap(counts: pd.DataFrame, normalize: bool = True,
                               order: list | None = None,
                               title: str | None = "Label distribution per client") -> go.Figure:
    """Clients (rows) x labels (columns) heatmap of counts or per-client fractions.

    Parameters
    ----------
    counts : DataFrame
        ``FederatedDataset.label_counts()``: index = client id, columns = label names.
    normalize : bool
        Show each client's label fractions (rows sum to 1) instead of counts.
    order : list, optional
        Client ids in display order (e.g. sorted by cluster).
    """
    if order is not None:
        counts = counts.loc[list(order)]
    values = counts.to_numpy(dtype=np.float64)
    if normalize:
        totals = values.sum(axis=1, keepdims=True)
        totals[totals == 0] = 1.0
        values = values / totals
    clients = [str(c) for c in counts.index]
    n = len(clients)
    fig = go.Figure(go.Heatmap(
        z=values, x=[str(c) for c in counts.columns], y=np.arange(n), colorscale="Viridis",
        customdata=np.repeat(np.asarray(clients, dtype=object)[:, None], values.shape[1], 1),
        colorbar={"title": {"text": "fraction" if normalize else "samples"}, "thickness": 12},
        hovertemplate="client %{customdata}<br>label %{x}: %{z:.3g}<extra></extra>"))
    if n <= MAX_TICK_LABELS:
        fig.update_yaxes(tickvals=np.arange(n), ticktext=clients, tickfont={"size": 10})
    else:
        fig.update_yaxes(showticklabels=False, ticks="")
    fig.update_yaxes(autorange="reversed", title_text=f"clients ({n})", showgrid=False)
    fig.update_xaxes(title_text="label", showgrid=False, type="category")
    return finish(fig, "label_distribution_heatmap", title)


def client_size_bar(df: pd.DataFrame, size: str = "n_train", color: str | None = "cluster",
                    title: str | None = "Samples per client") -> go.Figure:
    """Bar of each client's sample count, coloured by cluster when a ``cluster`` column exists.

    Parameters
    ----------
    df : DataFrame
        ``client`` and ``size`` columns (e.g. ``FederatedDataset.summary()``), optional ``color``.
    """
    clients = df["client"].astype(str).to_numpy()
    colors = None
    if color is not None and color in df.columns:
        colors = [cluster_color(v) for v in df[color].fillna(-1).astype(int)]
    fig = go.Figure(go.Bar(
        x=clients, y=df[size].to_numpy(), marker={"color": colors or "#0072B2"},
        hovertemplate="client %{x}<br>%{y} samples<extra></extra>"))
    fig.update_yaxes(title_text=size.replace("_", " "))
    fig.update_xaxes(title_text=f"clients ({len(clients)})", type="category",
                     showticklabels=len(clients) <= MAX_TICK_LABELS)
    return finish(fig, "client_size_bar", title, showlegend=False)


def target_distribution_box(targets: pd.DataFrame, label: str = "target",
                            title: str | None = "Target distribution per client") -> go.Figure:
    """One box per client of a continuous target (a regression task's label mix).

    Parameters
    ----------
    targets : DataFrame
        ``client, split, value`` rows (:func:`fedcore.figure_sources.target_frame`);
        train and test are drawn side by side so a shift between them is visible.
    label : str
        The target's name (axis title).
    """
    fig = go.Figure()
    clients = list(dict.fromkeys(targets["client"].astype(str)))
    for split, color in (("train", "#0072B2"), ("test", "#E69F00")):
        part = targets[targets["split"] == split]
        if part.empty:
            continue
        fig.add_trace(go.Box(
            x=part["client"].astype(str).to_numpy(), y=part["value"].to_numpy(float),
            name=split, marker={"color": color, "size": 3}, boxpoints="outliers",
            hovertemplate=f"client %{{x}}<br>{split}: %{{y:.3g}}<extra></extra>"))
    fig.update_yaxes(title_text=label)
    fig.update_xaxes(title_text=f"clients ({len(clients)})", type="category",
                     categoryorder="array", categoryarray=clients,
                     showticklabels=len(clients) <= MAX_TICK_LABELS)
    return finish(fig, "target_distribution_box", title, boxmode="group",
                  legend_title_text="split")

