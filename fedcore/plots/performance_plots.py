"""Figures comparing methods: learning curves, per-client accuracy, gains, worst clients.

Inputs are the tidy tables of :mod:`fedcore.metrics`. Reporting the distribution over
clients (not only the mean) and the worst client follows the fairness view of federated
evaluation (Li et al. 2020, "Fair Resource Allocation in Federated Learning", ICLR).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from fedcore.plots.theme import PALETTE, cluster_color, finish

_METRIC_TITLES = {"mean_accuracy": "mean client accuracy", "worst_accuracy": "worst client "
                  "accuracy", "mean_loss": "mean client loss", "train_loss": "training loss",
                  "n_clusters": "clusters"}


def _method_colors(methods) -> dict[str, str]:
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(methods)}


def learning_curves(rounds: pd.DataFrame, metric: str = "mean_accuracy",
                    title: str | None = None) -> go.Figure:
    """One line per method of ``metric`` against ``round``.

    Parameters
    ----------
    rounds : DataFrame
        ``SimulationResult.rounds`` tables stacked with a ``method`` column.
    """
    fig = go.Figure()
    methods = list(dict.fromkeys(rounds["method"]))
    colors = _method_colors(methods)
    for method in methods:
        part = rounds[rounds["method"] == method].sort_values("round")
        fig.add_trace(go.Scatter(
            x=part["round"].to_numpy(), y=part[metric].to_numpy(), mode="lines+markers",
            name=str(method), line={"color": colors[method], "width": 2},
            marker={"size": 5},
            hovertemplate=f"{method}<br>round %{{x}}: %{{y:.3f}}<extra></extra>"))
    label = _METRIC_TITLES.get(metric, metric)
    fig.update_xaxes(title_text="round")
    fig.update_yaxes(title_text=label)
    return finish(fig, f"learning_curves_{metric}", title or f"{label.capitalize()} per round",
                  legend_title_text="Method")


def accuracy_box_strip(table: pd.DataFrame, color: str = "cluster",
                       title: str | None = "Client accuracy by method") -> go.Figure:
    """Box + points of per-client accuracy per method, grouped and coloured by ``color``.

    Parameters
    ----------
    table : DataFrame
        :func:`fedcore.metrics.client_accuracy_table` output (``method, client, cluster,
        accuracy, true_group``).
    color : str
        ``cluster`` or ``true_group``.
    """
    fig = go.Figure()
    data = table.copy()
    data[color] = data[color].fillna(-1).astype(int)
    for label, part in data.groupby(color, sort=True):
        fig.add_trace(go.Box(
            x=part["method"].astype(str).to_numpy(), y=part["accuracy"].to_numpy(),
            name=f"{color.replace('_', ' ')} {label}" if label >= 0 else "unknown/noise",
            marker={"color": cluster_color(label), "size": 5}, line={"width": 1},
            boxpoints="all", jitter=0.4, pointpos=0, customdata=part[["client"]].to_numpy(),
            hovertemplate="client %{customdata[0]}<br>accuracy %{y:.3f}<extra></extra>"))
    fig.update_yaxes(title_text="client accuracy")
    fig.update_xaxes(title_text="method")
    return finish(fig, "accuracy_box_strip", title, boxmode="group",
                  legend_title_text=color.replace("_", " "))


def gain_plot(gains: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Per-client accuracy gain over the baseline, one box with points per method.

    Parameters
    ----------
    gains : DataFrame
        :func:`fedcore.metrics.gains_over` output (``method, client, gain`` and ``baseline``).
    """
    baseline = str(gains["baseline"].iloc[0]) if "baseline" in gains and len(gains) else "baseline"
    methods = list(dict.fromkeys(gains["method"]))
    colors = _method_colors(methods)
    fig = go.Figure()
    for method in methods:
        part = gains[gains["method"] == method]
        fig.add_trace(go.Box(
            y=part["gain"].to_numpy(), name=str(method), boxpoints="all", jitter=0.4,
            pointpos=0, marker={"color": colors[method], "size": 5}, line={"width": 1},
            customdata=part[["client"]].to_numpy(),
            hovertemplate="client %{customdata[0]}<br>gain %{y:+.3f}<extra></extra>"))
    fig.add_hline(y=0, line={"color": "#444444", "width": 1, "dash": "dot"})
    fig.update_yaxes(title_text=f"accuracy gain over {baseline}")
    return finish(fig, f"gain_over_{baseline}", title or f"Per-client gain over {baseline}",
                  showlegend=False)


def worst_client_bar(summary: pd.DataFrame,
                     title: str | None = "Worst and 10th-percentile client accuracy") -> go.Figure:
    """Grouped bars of worst, 10th-percentile and mean client accuracy per method.

    Parameters
    ----------
    summary : DataFrame
        :func:`fedcore.metrics.method_summary` output.
    """
    fig = go.Figure()
    bars = [("worst_accuracy", "worst client", "#D55E00"),
            ("p10_accuracy", "10th percentile", "#E69F00"),
            ("mean_accuracy", "mean", "#0072B2")]
    for col, name, color in bars:
        if col in summary:
            fig.add_trace(go.Bar(x=summary["method"].astype(str).to_numpy(),
                                 y=summary[col].to_numpy(), name=name,
                                 marker={"color": color},
                                 hovertemplate=f"%{{x}}<br>{name}: %{{y:.3f}}<extra></extra>"))
    fig.update_yaxes(title_text="client accuracy", range=[0, 1.02])
    return finish(fig, "worst_client_bar", title, barmode="group")
