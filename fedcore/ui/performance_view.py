"""Performance page controller: methods side by side, per cluster and per client."""

from __future__ import annotations

import numpy as np
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
    "mean_rmse": ("Mean RMSE", "Mean test RMSE over clients (each client counts once; lower "
                               "is better)."),
    "worst_rmse": ("Worst client RMSE", "RMSE of the worst client (the largest)."),
    "p90_rmse": ("90th percentile RMSE", "90th percentile of client RMSE (the worst-off "
                                         "tenth of the clients)."),
    "mean_mae": ("Mean MAE", "Mean absolute error averaged over clients."),
    "mean_r2": ("Mean R²", "Coefficient of determination averaged over clients (1 = perfect, "
                           "0 = no better than the client's own mean)."),
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


#: How the persistence forecast is named in every table and figure of the page.
PERSISTENCE_LABEL = "persistence (last value)"


def persistence_of(dataset) -> pd.DataFrame | None:
    """Per-client scores of the persistence forecast on ``dataset``'s test windows (None
    when the dataset was not made by the forecasting scenario). The page computes it once
    and hands it to the table and figures below."""
    if dataset is None or not getattr(dataset, "is_regression", False) or \
            "forecasting" not in (dataset.provenance or {}):
        return None
    from fedcore.forecast_baseline import persistence_baseline
    return persistence_baseline(dataset)


def with_persistence(summary: pd.DataFrame, scores: pd.DataFrame | None) -> pd.DataFrame:
    """``summary`` plus a row for the persistence forecast (needs no training, so no
    clusters, ARI or time) when there are persistence ``scores`` (:func:`persistence_of`)."""
    if scores is None or "mean_rmse" not in summary:
        return summary
    rmse = scores["rmse"].to_numpy(float)
    rmse = rmse[np.isfinite(rmse)]
    if not rmse.size:
        return summary
    row = {"method": PERSISTENCE_LABEL, "mean_rmse": rmse.mean(), "std": rmse.std(),
           "worst_rmse": rmse.max(), "p90_rmse": np.percentile(rmse, 90),
           "mean_mae": np.nanmean(scores["mae"]), "mean_r2": np.nanmean(scores["r2"])}
    frame = pd.DataFrame([row]).reindex(columns=summary.columns)
    return pd.concat([summary, frame.round(4)], ignore_index=True)


def headline(summary: pd.DataFrame, results: dict) -> list[tuple[str, str, str]]:
    """``(label, value, run)`` of the headline metrics: the best mean and the best worst
    client on the task's primary metric (lowest RMSE for regression)."""
    from .task_metrics import metric_for

    metric = metric_for(results)
    ascending = not metric.higher_is_better
    best = summary.sort_values(f"mean_{metric.name}", ascending=ascending).iloc[0]
    fair = summary.sort_values(f"worst_{metric.name}", ascending=ascending).iloc[0]
    word = "lowest" if ascending else "best"
    return [(f"Best mean {metric.label}" + (" (lowest)" if ascending else ""),
             f"{best[f'mean_{metric.name}']:.3f}", str(best["method"])),
            (f"Best worst-client {metric.label}" + (f" ({word})" if ascending else ""),
             f"{fair[f'worst_{metric.name}']:.3f}", str(fair["method"]))]


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """Column names for people: ``mean_accuracy`` -> ``Mean accuracy`` (tables on screen)."""
    names = {c: READABLE.get(c, str(c).replace("_", " ").capitalize()) for c in frame.columns}
    return frame.rename(columns=names)


READABLE = {"ari": "ARI", "p10_accuracy": "P10 accuracy", "n_clusters": "Clusters",
            "wall_seconds": "Seconds", "std": "Std of accuracy", "method": "Run",
            "n_train": "Training samples", "mean_mae": "Mean MAE", "mean_rmse": "Mean RMSE",
            "worst_rmse": "Worst RMSE (largest)", "mean_r2": "Mean R²",
            "p90_rmse": "P90 RMSE"}


def add_persistence_level(fig, scores: pd.DataFrame, word: str, reduce) -> None:
    """Draw ``reduce`` of the persistence forecast's client RMSE as a dashed level."""
    fig.add_hline(y=float(reduce(scores["rmse"])), line={"dash": "dash", "color": "#444444"},
                  annotation_text=f"{PERSISTENCE_LABEL}: {word} client RMSE",
                  annotation_position="top left")


def show_accuracy(results: dict, persistence: pd.DataFrame | None = None) -> None:
    """Box + strip of client accuracy (RMSE for regression) per method, coloured by
    cluster or true group; the persistence forecast's mean RMSE as a level when given."""
    from fedcore.metrics import client_accuracy_table
    from fedcore.plots import accuracy_box_strip

    from .task_metrics import direction, metric_for

    metric = metric_for(results)
    table = client_accuracy_table(results)
    has_truth = table["true_group"].notna().any()
    # True groups first when known: they mean the same for every method, cluster ids do not.
    options = ["true_group", "cluster"] if has_truth else ["cluster"]
    state.keep_valid("w.perf.color", options)
    if len(options) > 1:
        color = st.radio("Colour clients by", options, horizontal=True, key="w.perf.color",
                         format_func=lambda o: o.replace("_", " "),
                         help=f"Each point is one client's test {metric.label}; the box "
                              "summarises all clients of the method. Cluster ids are per "
                              "method.")
    else:
        color = options[0]
        st.caption("Clients coloured by their cluster (ids are per method; no true groups "
                   "are known).")
    title = f"Client {metric.label} by method ({direction(metric)})"
    fig = accuracy_box_strip(table, color=color, title=title, metric=metric.name,
                             label=metric.label)
    if persistence is not None and not metric.higher_is_better:
        add_persistence_level(fig, persistence, "mean", np.nanmean)
    show_figure(fig, f"client {metric.label}", table, key="acc_box")


def show_worst(summary: pd.DataFrame) -> None:
    from fedcore.plots import worst_client_bar
    what = "worst client RMSE" if "worst_rmse" in summary else "worst client accuracy"
    show_figure(worst_client_bar(summary), what, summary, key="worst")


def show_gains(results: dict) -> None:
    """Gain of every client over FedAvg and over local-only, when those were run."""
    from fedcore.metrics import gains_over
    from fedcore.plots import gain_plot

    from .task_metrics import metric_for

    metric = metric_for(results)
    if not metric.higher_is_better:
        st.caption(f"Gain = the baseline's {metric.label} minus the method's: positive means "
                   "the method's error is lower than the baseline's.")
    shown = False
    for baseline in BASELINES:
        # The first run of the baseline method (runs are keyed by their readable name).
        name = next((k for k, r in results.items() if r.method == baseline), None)
        if name is not None and len(results) > 1:
            gains = gains_over(results, baseline=name)
            show_figure(gain_plot(gains, label=metric.label), f"gain over {name}", gains,
                        key=f"gain_{baseline}")
            shown = True
    if not shown:
        st.info("Run fedavg and/or local together with other methods to see per-client "
                "gains over them.")


#: The persistence forecast's counterpart of a round metric (a per-client reduction of its RMSE).
PERSISTENCE_ROUND_LINES = {"mean_rmse": ("mean", np.nanmean), "worst_rmse": ("worst", np.nanmax)}


def show_rounds(results: dict, persistence: pd.DataFrame | None = None) -> None:
    """Mean and worst client accuracy (RMSE for regression) over rounds; the persistence
    forecast's mean / worst RMSE is drawn as a level line when given."""
    from fedcore.metrics import results_task
    from fedcore.plots import learning_curves

    from .results_view import rounds_frame
    from .task_metrics import round_metrics

    data = rounds_frame(results)
    if data.empty:
        return
    choices = round_metrics(results_task(results))  # one task (a clear error otherwise)
    state.keep_valid("w.perf.metric", list(choices))
    metric = st.radio("Metric over rounds", list(choices), horizontal=True,
                      format_func=choices.get, key="w.perf.metric")
    fig = learning_curves(data, metric=metric)
    if persistence is not None and metric in PERSISTENCE_ROUND_LINES:
        add_persistence_level(fig, persistence, *PERSISTENCE_ROUND_LINES[metric])
    show_figure(fig, f"{metric} over rounds", data, key="rounds")


def per_cluster_table(results: dict) -> pd.DataFrame:
    """Size, member clients and mean/worst accuracy of every cluster of every run; for
    regression mean MAE, mean and worst (largest) RMSE and mean R²."""
    from fedcore.metrics import client_accuracy_table

    from .task_metrics import metric_for

    metric = metric_for(results)
    table = client_accuracy_table(results)
    if metric.higher_is_better:
        scores = {"mean_accuracy": ("accuracy", "mean"), "worst_accuracy": ("accuracy", "min")}
    else:
        scores = {"mean_mae": ("mae", "mean"), "mean_rmse": ("rmse", "mean"),
                  "worst_rmse": ("rmse", "max"), "mean_r2": ("r2", "mean")}
    out = table.groupby(["method", "cluster"], sort=False).agg(
        clients=("client", "count"), members=("client", lambda c: ", ".join(map(str, c))),
        **scores).reset_index()
    return readable(out.round(4))
