"""Figures comparing methods: learning curves, per-client accuracy, gains, worst clients.

Inputs are the tidy tables of :mod:`fedcore.metrics`. Reporting the distribution over
clients (not only the mean) and the worst client follows the fairness view of federated
evaluation (Li et al. 2020, "Fair Resource Allocation in Federated Learning", ICLR).
"""

from __future__ import annotations

import functools
import zlib

import pandas as pd
import plotly.graph_objects as go

from fedcore.plots.theme import cluster_color, finish

#: Colours of methods that are not registered (or registered without a colour); the
#: registered methods' colours live on the strategy registry (``Strategy.color``).
SPARE_COLORS = ["#44AA99", "#AA4499", "#117733", "#CC6677", "#88CCEE", "#DDCC77"]
#: Legends with more entries than this are hidden (e.g. local-only has one cluster per client).
MAX_LEGEND_ENTRIES = 12

_METRIC_TITLES = {"mean_accuracy": "mean client accuracy", "worst_accuracy": "worst client "
                  "accuracy", "mean_loss": "mean client loss", "train_loss": "training loss",
                  "n_clusters": "clusters", "mean_rmse": "mean client RMSE",
                  "worst_rmse": "worst client RMSE (largest)", "mean_mae": "mean client MAE",
                  "mean_r2": "mean client R²"}


def _base_method(method: str) -> str:
    """``"ifca (n_clusters=2) · oracle K"`` / ``"ifca @ run"`` -> ``"ifca"``."""
    base = str(method)
    for sep in (" @ ", " (", " · ", " ["):
        base = base.split(sep)[0]
    return base.strip().lower()


@functools.cache
def _registered() -> tuple[tuple[str, ...], dict[str, str | None]]:
    """Registered methods in registry order (a method keeps its colour and line style in
    every figure and session, whatever subset a figure shows) and their colours."""
    from fedcore.registries import method_colors

    colors = method_colors()
    return tuple(colors), colors


def _method_index(method: str) -> int:
    base = _base_method(method)
    known, _ = _registered()
    if base in known:
        return known.index(base)
    return len(known) + zlib.crc32(base.encode()) % 97


def method_color(method: str) -> str:
    """Stable colour of a method (``"ifca"`` and ``"ifca @ run-id"`` share it)."""
    known, colors = _registered()
    i = _method_index(method)
    if i < len(known) and colors[known[i]]:
        return colors[known[i]]
    return SPARE_COLORS[(i - len(known)) % len(SPARE_COLORS)]


_DASHES = ("solid", "dash", "dot", "dashdot")
_MARKERS = ("circle", "square", "diamond", "triangle-up", "x", "star")


def method_style(method: str) -> tuple[str, str]:
    """Stable ``(dash, marker symbol)`` of a method: methods whose curves coincide (e.g. a
    CFL run that never split, and FedAvg) stay visible as different line patterns."""
    i = _method_index(method)
    return _DASHES[i % len(_DASHES)], _MARKERS[i % len(_MARKERS)]


#: Round metrics that only take integer values (their axis gets integer ticks).
INTEGER_METRICS = ("n_clusters", "n_nonfinite")


def distinct_styles(methods) -> dict[str, tuple[str, str]]:
    """``(dash, marker)`` per curve: the method's own style, moved on to the next free one
    when another curve of the same colour already uses it (two IFCA runs, say), so curves
    that coincide stay distinguishable."""
    used, out = set(), {}
    for m in methods:
        dash, symbol = method_style(m)
        i = _DASHES.index(dash)
        j = _MARKERS.index(symbol)
        for step in range(len(_DASHES) * len(_MARKERS)):
            cand = (_DASHES[(i + step) % len(_DASHES)], _MARKERS[(j + step) % len(_MARKERS)])
            if (method_color(m), cand[0]) not in used:
                break
        used.add((method_color(m), cand[0]))
        out[m] = cand
    return out


def integer_axis(fig: go.Figure, axis: str, values=None) -> None:
    """Integer ticks only (no 2.5 rounds or 1.5 clusters)."""
    import math
    top = 1.0
    if values is not None:
        v = pd.to_numeric(pd.Series(values), errors="coerce").dropna()
        top = float(v.max()) if len(v) else 1.0
    dtick = max(1, math.ceil(top / 10))
    update = fig.update_xaxes if axis == "x" else fig.update_yaxes
    update(tickformat="d", dtick=dtick, tick0=0 if axis == "y" else 1)


def _method_colors(methods) -> dict[str, str]:
    return {m: method_color(m) for m in methods}


#: A regression run's per-round counterpart of each accuracy metric (its rounds have no
#: accuracy): a figure asked for ``mean_accuracy`` of a regression run draws ``mean_rmse``.
REGRESSION_COUNTERPART = {"mean_accuracy": "mean_rmse", "worst_accuracy": "worst_rmse"}


def learning_curves(rounds: pd.DataFrame, metric: str = "mean_accuracy",
                    title: str | None = None) -> go.Figure:
    """One line per method of ``metric`` against ``round``.

    Parameters
    ----------
    rounds : DataFrame
        ``SimulationResult.rounds`` tables stacked with a ``method`` column. Regression
        rounds have ``mean_rmse``/``worst_rmse`` in place of the accuracy columns
        (:data:`REGRESSION_COUNTERPART`).
    """
    if metric not in rounds and REGRESSION_COUNTERPART.get(metric) in rounds:
        metric = REGRESSION_COUNTERPART[metric]
    fig = go.Figure()
    methods = list(dict.fromkeys(rounds["method"]))
    colors = _method_colors(methods)
    styles = distinct_styles(methods)
    for method in methods:
        part = rounds[rounds["method"] == method].sort_values("round")
        dash, symbol = styles[method]
        fig.add_trace(go.Scatter(
            x=part["round"].to_numpy(), y=part[metric].to_numpy(), mode="lines+markers",
            name=str(method), line={"color": colors[method], "width": 2, "dash": dash},
            marker={"size": 7, "symbol": symbol},
            hovertemplate=f"{method}<br>round %{{x}}: %{{y:.3f}}<extra></extra>"))
    label = _METRIC_TITLES.get(metric, metric)
    integer_axis(fig, "x", rounds["round"] if "round" in rounds else None)
    fig.update_xaxes(title_text="round")
    fig.update_yaxes(title_text=label)
    if metric in INTEGER_METRICS:
        integer_axis(fig, "y", rounds[metric])
    return finish(fig, f"learning_curves_{metric}", title or f"{label.capitalize()} per round",
                  legend_title_text="Method")


def accuracy_box_strip(table: pd.DataFrame, color: str = "cluster",
                       title: str | None = "Client accuracy by method",
                       metric: str = "accuracy", label: str = "accuracy") -> go.Figure:
    """One box of per-client ``metric`` (accuracy; RMSE on a regression task) per method,
    with every client as a point coloured by ``color``.

    Parameters
    ----------
    table : DataFrame
        :func:`fedcore.metrics.client_accuracy_table` output (``method, client, cluster,
        accuracy, true_group``).
    metric, label : str
        The score column shown and how axes and hovers name it (``rmse``, ``RMSE``).
    color : str
        ``cluster`` or ``true_group``. Cluster ids are per method (cluster 0 of one method
        is unrelated to cluster 0 of another); true groups are shared by all methods.
    """
    if metric == "accuracy" and "accuracy" not in table and "rmse" in table:
        metric, label = "rmse", "RMSE"  # a regression run's clients (lower is better)
        if title == "Client accuracy by method":
            title = "Client RMSE by method (lower is better)"
    score_label = label
    fig = go.Figure()
    data = table.copy()
    data[color] = data[color].fillna(-1).astype(int)
    methods = data["method"].astype(str)
    fig.add_trace(go.Box(
        x=methods.to_numpy(), y=data[metric].to_numpy(), name="all clients",
        boxpoints=False, fillcolor="rgba(0,0,0,0.04)", line={"color": "#555555", "width": 1},
        hoverinfo="skip", showlegend=False))
    groups = list(data.groupby(color, sort=True))
    show_legend = len(groups) <= MAX_LEGEND_ENTRIES
    word = color.replace("_", " ")
    for label, part in groups:
        name = f"{word} {label}" if label >= 0 else "unknown/noise"
        if show_legend:  # the point boxes are invisible, so their legend swatch would be too
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name,
                                     legendgroup=name, hoverinfo="skip",
                                     marker={"color": cluster_color(label), "size": 9}))
        fig.add_trace(go.Box(
            x=part["method"].astype(str).to_numpy(), y=part[metric].to_numpy(),
            name=name, legendgroup=name, showlegend=False,
            marker={"color": cluster_color(label), "size": 6,
                    "line": {"width": 0.5, "color": "white"}},
            line={"width": 0}, fillcolor="rgba(0,0,0,0)", boxpoints="all", jitter=0.5,
            pointpos=0, hoveron="points",
            customdata=part[["client"]].to_numpy(),
            hovertemplate=(f"client %{{customdata[0]}}<br>{word} {label}<br>"
                           f"{score_label} %{{y:.3f}}<extra>%{{x}}</extra>")))
    fig.update_yaxes(title_text=f"client {score_label}")
    fig.update_xaxes(title_text="method")
    legend_title = word + ("<br><sup>ids are per method</sup>" if color == "cluster" else "")
    if not show_legend and title:
        title = f"{title} (points coloured by {word}; {len(groups)} values, no legend)"
    return finish(fig, "accuracy_box_strip", title, boxmode="overlay",
                  legend_title_text=legend_title)


def gain_plot(gains: pd.DataFrame, title: str | None = None,
              label: str = "accuracy") -> go.Figure:
    """Per-client gain over the baseline, one box with points per method.

    A gain is positive when the method is better (for RMSE: the baseline's RMSE minus the
    method's, :func:`fedcore.metrics.gains_over`); ``label`` names the metric.

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
    better = " (RMSE reduction)" if label == "RMSE" else ""
    fig.update_yaxes(title_text=f"{label} gain over {baseline}{better}")
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
    regression = "worst_rmse" in summary
    bars = [("worst_accuracy", "worst client", "#D55E00"),
            ("p10_accuracy", "10th percentile", "#E69F00"),
            ("mean_accuracy", "mean", "#0072B2")]
    if regression:  # the worst client has the LARGEST error; the tail is the 90th percentile
        bars = [("worst_rmse", "worst client (largest RMSE)", "#D55E00"),
                ("p90_rmse", "90th percentile", "#E69F00"), ("mean_rmse", "mean", "#0072B2")]
        if title == "Worst and 10th-percentile client accuracy":
            title = "Worst and 90th-percentile client RMSE (lower is better)"
    for col, name, color in bars:
        if col in summary:
            fig.add_trace(go.Bar(x=summary["method"].astype(str).to_numpy(),
                                 y=summary[col].to_numpy(), name=name,
                                 marker={"color": color},
                                 hovertemplate=f"%{{x}}<br>{name}: %{{y:.3f}}<extra></extra>"))
    if regression:
        fig.update_yaxes(title_text="client RMSE (lower is better)", rangemode="tozero")
    else:
        fig.update_yaxes(title_text="client accuracy", range=[0, 1.02])
    return finish(fig, "worst_client_bar", title, barmode="group")
