"""Performance page controller: methods side by side, per cluster and per client."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from . import state
from .figures import show_figure

BASELINES = ("fedavg", "local")
ROUND_METRICS = {"mean_accuracy": "mean client accuracy", "worst_accuracy": "worst client accuracy",
                 "mean_loss": "mean client loss", "n_clusters": "number of clusters"}
#: Display names and meanings of the summary table's columns.
SUMMARY_COLUMNS = {
    "method": ("Run", "Method and the settings telling its runs apart ('oracle K': the "
                      "number of clusters was set from the known true groups)."),
    "mean_accuracy": ("Mean accuracy", "Mean test accuracy over clients (each client counts "
                                       "once)."),
    "std": ("Std", "Standard deviation of client accuracy."),
    "worst_accuracy": ("Worst client", "Accuracy of the worst client."),
    "p10_accuracy": ("10th percentile", "10th percentile of client accuracy."),
    "ari": ("ARI", "Adjusted Rand index of the method's clusters vs the true groups."),
    "n_clusters": ("Clusters", "Clusters the method ended with."),
    "wall_seconds": ("Seconds", "Wall-clock time of the run."),
}


def column_config(frame: pd.DataFrame) -> dict:
    """Readable headers (with explanations) for :func:`summary_table` columns."""
    return {c: st.column_config.Column(label, help=text)
            for c, (label, text) in SUMMARY_COLUMNS.items() if c in frame.columns}


def current_results(results: dict) -> tuple[dict, list[str]]:
    """Results computed on the loaded dataset keyed by their readable run name (the
    ``method`` column of every table and legend), and the run ids left out because stale."""
    fresh = {k: r for k, r in results.items() if not state.is_stale(r)}
    return state.named(fresh), [k for k in results if k not in fresh]


def summary_table(results: dict) -> pd.DataFrame:
    from fedcore.metrics import method_summary
    return method_summary(results).round(4)


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """Column names for people: ``mean_accuracy`` -> ``Mean accuracy`` (tables on screen)."""
    names = {c: READABLE.get(c, str(c).replace("_", " ").capitalize()) for c in frame.columns}
    return frame.rename(columns=names)


READABLE = {"ari": "ARI", "p10_accuracy": "P10 accuracy", "n_clusters": "Clusters",
            "wall_seconds": "Seconds", "std": "Std of accuracy", "method": "Run",
            "n_train": "Training samples"}


def show_accuracy(results: dict) -> None:
    """Box + strip of client accuracy per method, coloured by cluster or true group."""
    from fedcore.metrics import client_accuracy_table
    from fedcore.plots import accuracy_box_strip

    table = client_accuracy_table(results)
    has_truth = table["true_group"].notna().any()
    # True groups first when known: they mean the same for every method, cluster ids do not.
    options = ["true_group", "cluster"] if has_truth else ["cluster"]
    state.keep_valid("w.perf.color", options)
    if len(options) > 1:
        color = st.radio("Colour clients by", options, horizontal=True, key="w.perf.color",
                         format_func=lambda o: o.replace("_", " "),
                         help="Each point is one client's test accuracy; the box summarises "
                              "all clients of the method. Cluster ids are per method.")
    else:
        color = options[0]
        st.caption("Clients coloured by their cluster (ids are per method; no true groups "
                   "are known).")
    show_figure(accuracy_box_strip(table, color=color), "client accuracy", table,
                key="acc_box")


def show_worst(summary: pd.DataFrame) -> None:
    from fedcore.plots import worst_client_bar
    show_figure(worst_client_bar(summary), "worst client accuracy", summary, key="worst")


def show_gains(results: dict) -> None:
    """Gain of every client over FedAvg and over local-only, when those were run."""
    from fedcore.metrics import gains_over
    from fedcore.plots import gain_plot

    shown = False
    for baseline in BASELINES:
        # The first run of the baseline method (runs are keyed by their readable name).
        name = next((k for k, r in results.items() if r.method == baseline), None)
        if name is not None and len(results) > 1:
            gains = gains_over(results, baseline=name)
            show_figure(gain_plot(gains), f"gain over {name}", gains,
                        key=f"gain_{baseline}")
            shown = True
    if not shown:
        st.info("Run fedavg and/or local together with other methods to see per-client "
                "gains over them.")


def show_rounds(results: dict) -> None:
    """Mean and worst client accuracy over rounds."""
    from fedcore.plots import learning_curves

    from .simulate_view import rounds_frame

    data = rounds_frame(results)
    if data.empty:
        return
    metric = st.radio("Metric over rounds", list(ROUND_METRICS), horizontal=True,
                      format_func=ROUND_METRICS.get, key="w.perf.metric")
    show_figure(learning_curves(data, metric=metric), f"{metric} over rounds", data,
                key="rounds")


def per_cluster_table(results: dict) -> pd.DataFrame:
    """Size, member clients and mean/min accuracy of every cluster of every run."""
    from fedcore.metrics import client_accuracy_table

    table = client_accuracy_table(results)
    out = table.groupby(["method", "cluster"], sort=False).agg(
        clients=("client", "count"), members=("client", lambda c: ", ".join(map(str, c))),
        mean_accuracy=("accuracy", "mean"), worst_accuracy=("accuracy", "min")).reset_index()
    return readable(out.round(4))
